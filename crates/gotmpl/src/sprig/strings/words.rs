//! goutils' word functions as sprig uses them: `abbrev`/`abbrevboth`, `initials`, `swapcase`
//! and `wrap`/`wrapWith`, byte-indexed where goutils is.

use super::{is_go_space, lower_rune, upper_rune};

/// goutils' `AbbreviateFull` (byte-indexed, like Go's slicing).
pub(super) fn abbreviate_full(s: &str, offset: i64, max: i64) -> String {
    let b = s.as_bytes();
    let len = b.len() as i64;
    if s.is_empty() || max < 4 {
        return String::new();
    }
    if len <= max {
        return s.to_owned();
    }
    let lossy = |x: &[u8]| String::from_utf8_lossy(x).into_owned();
    let mut offset = offset.min(len);
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    if offset <= 4 {
        return lossy(&b[..(max - 3) as usize]) + "...";
    }
    if max < 7 {
        return String::new();
    }
    if offset + max - 3 < len {
        return "...".to_owned() + &abbreviate_full(&lossy(&b[offset as usize..]), 0, max - 3);
    }
    "...".to_owned() + &lossy(&b[(len - (max - 3)) as usize..])
}

/// goutils' `Initials`: the first byte of each whitespace-separated word (bytes taken as
/// Latin-1 runes, as goutils does).
pub(super) fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for &b in s.as_bytes() {
        let ch = char::from(b);
        if is_go_space(ch) {
            gap = true;
        } else if gap {
            out.push(ch);
            gap = false;
        }
    }
    out
}

/// goutils' `SwapCase`: upper to lower, lower to upper, and a lower-case letter after
/// whitespace to title case.
pub(super) fn swapcase(s: &str) -> String {
    let mut ws = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                ws = false;
                lower_rune(c)
            } else if c.is_lowercase() {
                let u = upper_rune(c);
                ws = false;
                u
            } else {
                ws = is_go_space(c);
                c
            }
        })
        .collect()
}

/// goutils' `WrapCustom` (byte-indexed).
pub(super) fn wrap_custom(s: &str, width: i64, newline: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::with_capacity(len + 8);
    while len - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        let space = b[offset..end].iter().rposition(|c| *c == b' ');
        if let Some(sp) = space {
            out.extend_from_slice(&b[offset..offset + sp]);
            out.extend_from_slice(newline.as_bytes());
            offset += sp + 1;
        } else if long_words {
            out.extend_from_slice(&b[offset..offset + width]);
            out.extend_from_slice(newline.as_bytes());
            offset += width;
        } else {
            let end = width + offset;
            match b[end..].iter().position(|c| *c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(i) => {
                    out.extend_from_slice(&b[offset..end + i]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = end + i + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_helpers_follow_goutils() {
        assert_eq!(
            wrap_custom(
                "Here is one line of text that is going to be wrapped after 20 columns.",
                20,
                "\n",
                false
            ),
            "Here is one line of\ntext that is going\nto be wrapped after\n20 columns."
        );
        assert_eq!(
            wrap_custom(
                "Click here, https://commons.apache.org, to jump",
                20,
                "\n",
                true
            ),
            "Click here,\nhttps://commons.apac\nhe.org, to jump"
        );
        assert_eq!(abbreviate_full("abcdefghijklmno", 5, 10), "...fghi...");
        assert_eq!(abbreviate_full("abcdefghijklmno", 12, 10), "...ijklmno");
        assert_eq!(swapcase("This Is A Test"), "tHIS iS a tEST");
        assert_eq!(initials("Ben John Lee"), "BJL");
    }
}
