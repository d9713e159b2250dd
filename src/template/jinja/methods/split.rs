//! Python's `str.split`, `str.rsplit` and `str.splitlines`, with Python's whitespace rules and
//! `maxsplit`.

use minijinja::Error;
use minijinja::value::Value;

use super::strings::is_py_space;
use super::{err, int_arg, named, opt_str};

/// `split` and `rsplit`.
pub(super) fn split(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let a = named(args, &["sep", "maxsplit"])?;
    let sep = opt_str(method, a[0].as_ref())?;
    let max = match &a[1] {
        Some(v) => int_arg(v)?,
        None => -1,
    };
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let right = method == "rsplit";
    let parts: Vec<String> = match sep {
        Some("") => return Err(err("empty separator")),
        Some(sep) => {
            if right {
                let mut v: Vec<String> = s
                    .rsplitn(max.saturating_add(1), sep)
                    .map(str::to_owned)
                    .collect();
                v.reverse();
                v
            } else {
                s.splitn(max.saturating_add(1), sep)
                    .map(str::to_owned)
                    .collect()
            }
        }
        None => split_whitespace(s, max, right),
    };
    Ok(Value::from(parts))
}

/// Python's `split()`/`rsplit()` without a separator.
fn split_whitespace(s: &str, max: usize, right: bool) -> Vec<String> {
    let mut out = Vec::new();
    if right {
        let mut rest = s.trim_end_matches(is_py_space);
        while !rest.is_empty() {
            if out.len() == max {
                out.push(rest.to_owned());
                break;
            }
            match rest.rfind(is_py_space) {
                Some(i) => {
                    let c = rest[i..].chars().next().map_or(1, char::len_utf8);
                    out.push(rest[i + c..].to_owned());
                    rest = rest[..i].trim_end_matches(is_py_space);
                }
                None => {
                    out.push(rest.to_owned());
                    break;
                }
            }
        }
        out.reverse();
    } else {
        let mut rest = s.trim_start_matches(is_py_space);
        while !rest.is_empty() {
            if out.len() == max {
                out.push(rest.to_owned());
                break;
            }
            match rest.find(is_py_space) {
                Some(i) => {
                    out.push(rest[..i].to_owned());
                    rest = rest[i..].trim_start_matches(is_py_space);
                }
                None => {
                    out.push(rest.to_owned());
                    break;
                }
            }
        }
    }
    out
}

/// Python's `splitlines`.
pub(super) fn splitlines(s: &str, keep: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !brk {
            line.push(c);
            continue;
        }
        let mut ending = c.to_string();
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
            ending.push('\n');
        }
        if keep {
            line.push_str(&ending);
        }
        out.push(std::mem::take(&mut line));
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}
