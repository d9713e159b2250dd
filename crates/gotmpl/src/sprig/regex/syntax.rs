//! Go's RE2 dialect on the `regex` crate: Go's parse error texts for the common mistakes, and
//! Go's ASCII-only `\d`, `\w`, `\s` and `\b` rewritten for the Unicode-aware crate.

/// A counted repetition `{n}`, `{n,}` or `{n,m}` at the start of `s`: (min, max, length).
/// Anything else starting with `{` is a literal brace in Go.
fn counted_repeat(s: &str) -> Option<(u64, Option<u64>, usize)> {
    let body = s.strip_prefix('{')?;
    let end = body.find('}')?;
    let inner = &body[..end];
    let num = |t: &str| -> Option<u64> {
        (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().unwrap_or(u64::MAX))
    };
    let (min, max) = match inner.split_once(',') {
        None => {
            let n = num(inner)?;
            (n, Some(n))
        }
        Some((a, "")) => (num(a)?, None),
        Some((a, b)) => (num(a)?, Some(num(b)?)),
    };
    Some((min, max, end + 2))
}

/// One member of a bracket class at `i`: its character (None for a class escape such as
/// `\d`) and its length in bytes.
fn class_member(pat: &str, i: usize) -> Option<(Option<char>, usize)> {
    let c = pat[i..].chars().next()?;
    if c != '\\' {
        return Some((Some(c), c.len_utf8()));
    }
    let e = pat[i + 1..].chars().next()?;
    let ch = match e {
        'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'p' | 'P' => None,
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'f' => Some('\u{c}'),
        'v' => Some('\u{b}'),
        'a' => Some('\u{7}'),
        e => Some(e),
    };
    Some((ch, 1 + e.len_utf8()))
}

/// Go's error text for the patterns Go rejects with a message of its own (unbalanced
/// parentheses and brackets, bad repetitions and ranges, Perl syntax RE2 lacks,
/// backreferences), or None.
pub(super) fn go_syntax_error(pat: &str) -> Option<String> {
    let err = |code: &str, expr: &str| Some(format!("error parsing regexp: {code}: `{expr}`"));
    let b = pat.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the previous item can be repeated, and where the last repetition began.
    let mut can_repeat = false;
    let mut last_repeat: Option<usize> = None;
    while i < b.len() {
        let mut repeat_len = 0;
        match b[i] {
            b'\\' => {
                let Some(e) = pat[i + 1..].chars().next() else {
                    return err("trailing backslash at end of expression", "");
                };
                if e == 'Q' {
                    // Literal text up to \E (or the end).
                    i = pat[i + 2..].find("\\E").map_or(b.len(), |p| i + 2 + p + 2);
                    can_repeat = true;
                    last_repeat = None;
                    continue;
                }
                let octal = ('1'..='7').contains(&e) && matches!(b.get(i + 2), Some(b'0'..=b'7'));
                if ('1'..='9').contains(&e) && !octal {
                    return err("invalid escape sequence", &pat[i..i + 2]);
                }
                i += 1 + e.len_utf8();
                can_repeat = true;
                last_repeat = None;
                continue;
            }
            b'[' => {
                let start = i;
                i += 1;
                if b.get(i) == Some(&b'^') {
                    i += 1;
                }
                let mut first = true;
                loop {
                    match b.get(i) {
                        None => return err("missing closing ]", &pat[start..]),
                        Some(b']') if !first => break,
                        Some(b'[') if b.get(i + 1) == Some(&b':') && pat[i..].contains(":]") => {
                            i += pat[i..].find(":]").map_or(1, |p| p + 2);
                        }
                        Some(_) => {
                            let Some((lo, len)) = class_member(pat, i) else {
                                return err("missing closing ]", &pat[start..]);
                            };
                            let lo_start = i;
                            i += len;
                            if b.get(i) == Some(&b'-') && !matches!(b.get(i + 1), None | Some(b']'))
                            {
                                let Some((hi, len2)) = class_member(pat, i + 1) else {
                                    return err("missing closing ]", &pat[start..]);
                                };
                                if let (Some(l), Some(h)) = (lo, hi)
                                    && h < l
                                {
                                    let range = &pat[lo_start..i + 1 + len2];
                                    return err("invalid character class range", range);
                                }
                                i += 1 + len2;
                            }
                        }
                    }
                    first = false;
                }
                can_repeat = true;
            }
            b'(' => {
                let rest = &pat[i..];
                if rest.starts_with("(?") && !rest.starts_with("(?P<") {
                    // Flags: "(?i)" sets them, "(?i:" opens a group; anything else is
                    // Perl syntax RE2 does not have.
                    let mut j = i + 2;
                    let mut negated = false;
                    let mut saw_flag = false;
                    loop {
                        let Some(c) = pat[j..].chars().next() else {
                            return err("missing closing )", pat);
                        };
                        j += c.len_utf8();
                        match c {
                            'i' | 'm' | 's' | 'U' => saw_flag = true,
                            '-' if !negated => {
                                negated = true;
                                saw_flag = false;
                            }
                            ':' | ')' if !negated || saw_flag => {
                                if c == ':' {
                                    depth += 1;
                                }
                                break;
                            }
                            _ => return err("invalid or unsupported Perl syntax", &pat[i..j]),
                        }
                    }
                    i = j;
                    can_repeat = false;
                    last_repeat = None;
                    continue;
                }
                depth += 1;
                can_repeat = false;
                if rest.starts_with("(?P<") {
                    // The group's name is no pattern text.
                    match rest.find('>') {
                        Some(end) => i += end,
                        None => return err("invalid named capture", rest),
                    }
                }
            }
            b')' => {
                if depth == 0 {
                    return err("unexpected )", pat);
                }
                depth -= 1;
                can_repeat = true;
            }
            b'*' | b'+' | b'?' => repeat_len = 1,
            b'{' => match counted_repeat(&pat[i..]) {
                Some((min, max, len)) => {
                    if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
                        return err("invalid repeat count", &pat[i..i + len]);
                    }
                    repeat_len = len;
                }
                None => can_repeat = true,
            },
            b'|' | b'^' => can_repeat = b[i] == b'^',
            _ => can_repeat = true,
        }
        if repeat_len > 0 {
            let len = repeat_len + usize::from(b.get(i + repeat_len) == Some(&b'?'));
            if let Some(start) = last_repeat {
                return err("invalid nested repetition operator", &pat[start..i + len]);
            }
            if !can_repeat {
                return err("missing argument to repetition operator", &pat[i..i + len]);
            }
            last_repeat = Some(i);
            i += len;
            can_repeat = false;
            continue;
        }
        last_repeat = None;
        i += pat[i..].chars().next().map_or(1, char::len_utf8);
    }
    if depth > 0 {
        return err("missing closing )", pat);
    }
    None
}

/// Rewrites Go's ASCII-only Perl classes for the Unicode-aware crate.
pub(super) fn asciify(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len() + 16);
    let mut chars = pat.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                if n == 'Q' && !in_class {
                    // \Q...\E quotes literal text, which the crate spells with escapes.
                    let mut lit = String::new();
                    while let Some(d) = chars.next() {
                        if d == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        lit.push(d);
                    }
                    out.push_str(&regex::escape(&lit));
                    continue;
                }
                let (inside, outside) = match n {
                    'd' => ("0-9", "[0-9]"),
                    'D' => ("", "[^0-9]"),
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                    'W' => ("", "[^0-9A-Za-z_]"),
                    's' => ("\\t\\n\\x0C\\r ", "[\\t\\n\\x0C\\r ]"),
                    'S' => ("", "[^\\t\\n\\x0C\\r ]"),
                    'b' if !in_class => ("", "(?-u:\\b)"),
                    'B' if !in_class => ("", "(?-u:\\B)"),
                    _ => ("", ""),
                };
                if in_class && !inside.is_empty() {
                    out.push_str(inside);
                } else if !in_class && !outside.is_empty() {
                    out.push_str(outside);
                } else {
                    out.push('\\');
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class such as [:alpha:] stays as it is.
                out.push('[');
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str("\\["),
            '{' if !in_class => {
                // Go reads a brace that starts no counted repetition as a literal.
                let rest: String = chars.clone().collect();
                if counted_repeat(&format!("{{{rest}")).is_some() {
                    out.push('{');
                } else {
                    out.push_str("\\{");
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}
#[cfg(test)]
mod tests {
    use super::super::compile;

    #[test]
    fn classes_are_ascii_like_gos() {
        let re = compile(r"^\w+\s\d$").expect("valid");
        assert!(re.is_match("ab_1 2"));
        assert!(!re.is_match("é 2"));
        assert!(compile(r"[\d\s]+").expect("valid").is_match("1 2"));
        assert!(compile(r"\bx\b").expect("valid").is_match("a x b"));
    }

    #[test]
    fn errors_are_gos() {
        let e = |p: &str| compile(p).err().map(|e| e.0);
        assert_eq!(
            e("(").as_deref(),
            Some("error parsing regexp: missing closing ): `(`")
        );
        assert_eq!(
            e("a)").as_deref(),
            Some("error parsing regexp: unexpected ): `a)`")
        );
        assert_eq!(
            e("x[a").as_deref(),
            Some("error parsing regexp: missing closing ]: `[a`")
        );
        assert_eq!(
            e("*a").as_deref(),
            Some("error parsing regexp: missing argument to repetition operator: `*`")
        );
        assert_eq!(
            e("a\\").as_deref(),
            Some("error parsing regexp: trailing backslash at end of expression: ``")
        );
        assert_eq!(
            e("a**").as_deref(),
            Some("error parsing regexp: invalid nested repetition operator: `**`")
        );
        assert!(e("(?i)a(b)|[]a]+?").is_none());
        assert!(e("(?P<first>a+) (?P<x>b?)").is_none());
        assert_eq!(
            e("a(?=b)").as_deref(),
            Some("error parsing regexp: invalid or unsupported Perl syntax: `(?=`")
        );
        assert_eq!(
            e("[z-a]").as_deref(),
            Some("error parsing regexp: invalid character class range: `z-a`")
        );
        assert_eq!(
            e("(a)\\1").as_deref(),
            Some("error parsing regexp: invalid escape sequence: `\\1`")
        );
        assert_eq!(
            e("a{1001}").as_deref(),
            Some("error parsing regexp: invalid repeat count: `{1001}`")
        );
        assert!(compile("a{,2}").expect("literal braces").is_match("a{,2}"));
        assert!(compile("\\Qa.b\\E+").expect("quoted").is_match("a.bb"));
    }
}
