//! `wordwrap` with Python's `textwrap` rules: chunking at whitespace and hyphens, breaking
//! long words, and the line filling `TextWrapper` does.

use minijinja::value::{Rest, Value, ValueOrKwargs};
use minijinja::{Error, ErrorKind};

use crate::template::jinja::filters::{Args, string_of};

use super::{is_py_space, is_word, splitlines};

/// Python's `textwrap` chunks of one line: whitespace runs and words, words split after
/// hyphens between letters when `on_hyphens` (its `wordsep_re`), else at whitespace only.
fn wrap_chunks(line: &str, on_hyphens: bool) -> Vec<String> {
    const WS: [char; 6] = ['\t', '\n', '\u{b}', '\u{c}', '\r', ' '];
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let is_ws = |i: usize| i < n && WS.contains(&chars[i]);
    let letter = |i: usize| i < n && is_word(chars[i]) && !chars[i].is_numeric();
    let word_punct = |i: usize| i < n && (is_word(chars[i]) || "!\"'&.,?".contains(chars[i]));
    // At `at`: two or more dashes followed by a word character.
    let em_dash_at = |at: usize| {
        let mut j = at;
        while j < n && chars[j] == '-' {
            j += 1;
        }
        (j - at >= 2 && j < n && is_word(chars[j])).then_some(j)
    };
    let mut chunks = Vec::new();
    let mut i = 0;
    while i < n {
        let start = i;
        if is_ws(i) {
            while is_ws(i) {
                i += 1;
            }
        } else if !on_hyphens {
            while i < n && !is_ws(i) {
                i += 1;
            }
        } else if let Some(end) = (start > 0 && word_punct(start - 1))
            .then(|| em_dash_at(start))
            .flatten()
        {
            i = end;
        } else {
            // The shortest run of non-whitespace ending at a hyphen between letters, at
            // whitespace or the end, or before an em dash.
            let mut j = start + 1;
            loop {
                if j >= n || is_ws(j) {
                    break;
                }
                if chars[j] == '-' && j >= 1 {
                    let behind = (j >= 2 && letter(j - 2) && letter(j - 1))
                        || (j >= 3 && letter(j - 3) && chars[j - 2] == '-' && letter(j - 1));
                    let ahead = letter(j + 1)
                        && (letter(j + 2) || (j + 2 < n && chars[j + 2] == '-' && letter(j + 3)));
                    if behind && ahead {
                        j += 1;
                        break;
                    }
                }
                if word_punct(j - 1) && em_dash_at(j).is_some() {
                    break;
                }
                j += 1;
            }
            i = j;
        }
        chunks.push(chars[start..i].iter().collect());
    }
    chunks
}

/// Python's `textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False, ...)`.
fn wrap_line(line: &str, width: usize, break_long: bool, on_hyphens: bool) -> Vec<String> {
    let len = |s: &String| s.chars().count();
    let blank = |s: &String| s.chars().all(is_py_space);
    let mut chunks = wrap_chunks(line, on_hyphens);
    chunks.reverse();
    let mut lines = Vec::new();
    while !chunks.is_empty() {
        let mut current: Vec<String> = Vec::new();
        let mut current_len = 0;
        if chunks.last().is_some_and(blank) && !lines.is_empty() {
            chunks.pop();
        }
        while let Some(chunk) = chunks.last() {
            let l = len(chunk);
            if current_len + l <= width {
                current_len += l;
                current.extend(chunks.pop());
            } else {
                break;
            }
        }
        if chunks.last().is_some_and(|c| len(c) > width) {
            let space_left = if width < 1 { 1 } else { width - current_len };
            if break_long {
                // Checked by `is_some_and` just above.
                let chunk: Vec<char> = chunks
                    .pop()
                    .map(|c| c.chars().collect())
                    .unwrap_or_default();
                let mut end = space_left;
                if on_hyphens && chunk.len() > space_left {
                    if let Some(hyphen) = chunk[..space_left].iter().rposition(|c| *c == '-') {
                        if hyphen > 0 && chunk[..hyphen].iter().any(|c| *c != '-') {
                            end = hyphen + 1;
                        }
                    }
                }
                current.push(chunk[..end].iter().collect());
                chunks.push(chunk[end..].iter().collect());
            } else if current.is_empty() {
                current.extend(chunks.pop());
            }
        }
        if current.last().is_some_and(blank) {
            current.pop();
        }
        if !current.is_empty() {
            lines.push(current.concat());
        }
    }
    lines
}

/// `wordwrap(width=79, break_long_words=true, wrapstring='\n', break_on_hyphens=true)`:
/// each line wrapped with Python's `textwrap`, joined with `wrapstring`.
pub(super) fn wordwrap(value: &Value, args: Rest<ValueOrKwargs>) -> Result<String, Error> {
    let args = Args::bind(
        "wordwrap",
        &args.into_values(),
        &[
            "width",
            "break_long_words",
            "wrapstring",
            "break_on_hyphens",
        ],
    )?;
    let s = string_of(value)?;
    let width = args.int(0, "wordwrap", 79)?;
    if width <= 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("invalid width {width} (must be > 0)"),
        ));
    }
    let width = usize::try_from(width).unwrap_or(usize::MAX);
    let wrapstring = match args.get(2).filter(|w| !w.is_none()) {
        Some(w) => string_of(w)?,
        None => "\n".to_owned(),
    };
    let break_long = args.flag(1, true);
    let on_hyphens = args.flag(3, true);
    Ok(splitlines(&s)
        .into_iter()
        .map(|line| wrap_line(line, width, break_long, on_hyphens).join(&wrapstring))
        .collect::<Vec<_>>()
        .join(&wrapstring))
}
