//! sprig's string functions: Go's `strings` package (argument order switched so the subject
//! comes last, for pipelines), goutils' word functions (`abbrev`, `wrap`, `initials`,
//! `swapcase`), xstrings' case conversions (`snakecase`, `camelcase`, `kebabcase`, `shuffle`),
//! `split` into a map of `_0`, `_1`..., `quote`/`cat`/`toString`, `join` and `sortAlpha`.
//!
//! goutils' word functions are in `words`, xstrings' case conversions in `case`.

use std::collections::BTreeMap;

use super::{FuncError, Value, int, strval, text};
use crate::funcs::{FuncMap, Param, Signature};

mod case;
mod words;

use case::{camelcase, to_lower_case};
use words::{abbreviate_full, initials, swapcase, wrap_custom};

/// Go's `unicode.IsSpace`.
pub(super) fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `unicode.ToUpper` for one rune (simple case mapping: no expansion to several runes).
pub(super) fn upper_rune(c: char) -> char {
    let mut it = c.to_uppercase();
    match (it.next(), it.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower` for one rune.
pub(super) fn lower_rune(c: char) -> char {
    if c == '\u{130}' {
        // Go maps the dotted capital I to a plain i (no combining dot).
        return 'i';
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn go_upper(s: &str) -> String {
    s.chars().map(upper_rune).collect()
}

fn go_lower(s: &str) -> String {
    s.chars().map(lower_rune).collect()
}

/// `strings.Title`: upper-cases the first letter of each word; words are split by anything
/// but letters, digits and `_`.
fn title(s: &str) -> String {
    let is_sep = |r: char| {
        if r.is_ascii() {
            !(r.is_ascii_alphanumeric() || r == '_')
        } else if r.is_alphabetic() || r.is_numeric() {
            false
        } else {
            is_go_space(r)
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|r| {
            let out = if is_sep(prev) { upper_rune(r) } else { r };
            prev = r;
            out
        })
        .collect()
}

/// goutils' `Uncapitalize`: the first rune of each whitespace-separated word lower-cased.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if is_go_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                lower_rune(c)
            } else {
                c
            }
        })
        .collect()
}

/// sprig's `substr`: byte offsets, `start < 0` means from 0, `end < 0` or past the end means
/// to the end; bounds Go rejects are Go's slice panic.
fn substr(start: i64, end: i64, s: &str) -> Result<String, FuncError> {
    let len = s.len() as i64;
    let (a, b) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if b < 0 || b > len {
        return Err(FuncError(format!(
            "runtime error: slice bounds out of range [:{b}] with length {len}"
        )));
    }
    if a > b {
        return Err(FuncError(format!(
            "runtime error: slice bounds out of range [{a}:{b}]"
        )));
    }
    Ok(String::from_utf8_lossy(&s.as_bytes()[a as usize..b as usize]).into_owned())
}

/// sprig's `trunc`: a byte prefix of `c` bytes, or for negative `c` the last `-c` bytes.
fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    let b = s.as_bytes();
    let slice = if c < 0 && len + c > 0 {
        &b[(len + c) as usize..]
    } else if c >= 0 && len > c {
        &b[..c as usize]
    } else {
        b
    };
    String::from_utf8_lossy(slice).into_owned()
}

/// `strings.Split`: an empty separator splits into UTF-8 runes.
pub(super) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if chars.len() <= limit {
            return chars;
        }
        let head_bytes: usize = chars[..limit - 1].iter().map(String::len).sum();
        let mut out = chars[..limit - 1].to_vec();
        out.push(s[head_bytes..].to_owned());
        return out;
    }
    s.splitn(limit, sep).map(str::to_owned).collect()
}

fn split_map(parts: Vec<String>) -> Value {
    let map: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::from(p)))
        .collect();
    Value::map(map)
}

/// sprig's `strslice` (`toStrings`): lists become their non-nil elements as strings, nil an
/// empty list, anything else a one-element list.
pub(super) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .borrow()
            .iter()
            .filter(|e| !e.is_nil())
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

fn string_list(items: Vec<String>) -> Value {
    Value::list(items.into_iter().map(Value::from).collect())
}

/// Go's `%q` of a string.
fn go_quote(s: &str) -> String {
    crate::fmt::quote(s)
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, Int, String as Str};
    let s1 = || Signature::fixed(&[Str]);
    let s2 = || Signature::fixed(&[Str, Str]);
    let ok = |s: String| Ok(Value::from(s));

    m.insert("hello", Signature::fixed(&[]), |_| Ok(Value::str("Hello!")));
    m.insert("trim", s1(), move |a| {
        ok(text(&a[0]).trim_matches(is_go_space).to_owned())
    });
    m.insert("upper", s1(), move |a| ok(go_upper(text(&a[0]))));
    m.insert("lower", s1(), move |a| ok(go_lower(text(&a[0]))));
    m.insert("title", s1(), move |a| ok(title(text(&a[0]))));
    m.insert("untitle", s1(), move |a| ok(untitle(text(&a[0]))));
    m.insert("substr", Signature::fixed(&[Int, Int, Str]), |a| {
        substr(int(&a[0]), int(&a[1]), text(&a[2])).map(Value::from)
    });
    m.insert("repeat", Signature::fixed(&[Int, Str]), |a| {
        let n = int(&a[0]);
        if n < 0 {
            return Err(FuncError::new("strings: negative Repeat count"));
        }
        let s = text(&a[1]);
        if s.len()
            .checked_mul(n as usize)
            .is_none_or(|total| total > super::MAX_OUTPUT)
        {
            return Err(FuncError::new("strings: Repeat count causes overflow"));
        }
        Ok(Value::from(s.repeat(n as usize)))
    });
    for name in ["trimall", "trimAll"] {
        m.insert(name, s2(), move |a| {
            let cut = text(&a[0]);
            ok(text(&a[1]).trim_matches(|c| cut.contains(c)).to_owned())
        });
    }
    m.insert("trimSuffix", s2(), move |a| {
        let (suf, s) = (text(&a[0]), text(&a[1]));
        ok(s.strip_suffix(suf).unwrap_or(s).to_owned())
    });
    m.insert("trimPrefix", s2(), move |a| {
        let (pre, s) = (text(&a[0]), text(&a[1]));
        ok(s.strip_prefix(pre).unwrap_or(s).to_owned())
    });
    m.insert("nospace", s1(), move |a| {
        // goutils walks bytes, taking each as a Latin-1 rune.
        ok(text(&a[0])
            .bytes()
            .map(char::from)
            .filter(|c| !is_go_space(*c))
            .collect())
    });
    m.insert("initials", s1(), move |a| ok(initials(text(&a[0]))));
    m.insert("swapcase", s1(), move |a| ok(swapcase(text(&a[0]))));
    m.insert("shuffle", s1(), move |a| {
        let mut chars: Vec<char> = text(&a[0]).chars().collect();
        for i in (1..chars.len()).rev() {
            let j = super::random::below(i as u64 + 1) as usize;
            chars.swap(i, j);
        }
        ok(chars.into_iter().collect())
    });
    m.insert("snakecase", s1(), move |a| {
        ok(to_lower_case(text(&a[0]), '_'))
    });
    m.insert("kebabcase", s1(), move |a| {
        ok(to_lower_case(text(&a[0]), '-'))
    });
    m.insert("camelcase", s1(), move |a| ok(camelcase(text(&a[0]))));
    m.insert("wrap", Signature::fixed(&[Int, Str]), move |a| {
        ok(wrap_custom(text(&a[1]), int(&a[0]), "", false))
    });
    m.insert("wrapWith", Signature::fixed(&[Int, Str, Str]), move |a| {
        ok(wrap_custom(text(&a[2]), int(&a[0]), text(&a[1]), true))
    });
    m.insert("contains", s2(), |a| {
        Ok(Value::Bool(text(&a[1]).contains(text(&a[0]))))
    });
    m.insert("hasPrefix", s2(), |a| {
        Ok(Value::Bool(text(&a[1]).starts_with(text(&a[0]))))
    });
    m.insert("hasSuffix", s2(), |a| {
        Ok(Value::Bool(text(&a[1]).ends_with(text(&a[0]))))
    });
    m.insert("quote", Signature::variadic(&[], Any), move |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| go_quote(&strval(v)))
            .collect();
        ok(parts.join(" "))
    });
    m.insert("squote", Signature::variadic(&[], Any), move |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        ok(parts.join(" "))
    });
    m.insert("cat", Signature::variadic(&[], Any), move |a| {
        let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(strval).collect();
        ok(parts.join(" "))
    });
    m.insert("indent", Signature::fixed(&[Int, Str]), move |a| {
        let pad = spaces(int(&a[0]))?;
        ok(format!(
            "{pad}{}",
            text(&a[1]).replace('\n', &format!("\n{pad}"))
        ))
    });
    m.insert("nindent", Signature::fixed(&[Int, Str]), move |a| {
        let pad = spaces(int(&a[0]))?;
        ok(format!(
            "\n{pad}{}",
            text(&a[1]).replace('\n', &format!("\n{pad}"))
        ))
    });
    m.insert("replace", Signature::fixed(&[Str, Str, Str]), move |a| {
        ok(go_replace(text(&a[2]), text(&a[0]), text(&a[1])))
    });
    m.insert("plural", Signature::fixed(&[Str, Str, Int]), |a| {
        Ok(if int(&a[2]) == 1 {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    m.insert("trunc", Signature::fixed(&[Int, Str]), move |a| {
        ok(trunc(int(&a[0]), text(&a[1])))
    });
    m.insert("abbrev", Signature::fixed(&[Int, Str]), move |a| {
        let (w, s) = (int(&a[0]), text(&a[1]));
        ok(if w < 4 {
            s.to_owned()
        } else {
            abbreviate_full(s, 0, w)
        })
    });
    m.insert("abbrevboth", Signature::fixed(&[Int, Int, Str]), move |a| {
        let (l, r, s) = (int(&a[0]), int(&a[1]), text(&a[2]));
        ok(if r < 4 || (l > 0 && r < 7) {
            s.to_owned()
        } else {
            abbreviate_full(s, l, r)
        })
    });
    m.insert("split", s2(), |a| {
        Ok(split_map(go_split(text(&a[1]), text(&a[0]), -1)))
    });
    m.insert("splitList", s2(), |a| {
        Ok(string_list(go_split(text(&a[1]), text(&a[0]), -1)))
    });
    m.insert("splitn", Signature::fixed(&[Str, Int, Str]), |a| {
        Ok(split_map(go_split(text(&a[2]), text(&a[0]), int(&a[1]))))
    });
    m.insert("toStrings", Signature::fixed(&[Any]), |a| {
        Ok(string_list(strslice(&a[0])))
    });
    m.insert("toString", Signature::fixed(&[Any]), move |a| {
        ok(strval(&a[0]))
    });
    m.insert("join", Signature::fixed(&[Str, Any]), move |a| {
        ok(strslice(&a[1]).join(text(&a[0])))
    });
    m.insert("sortAlpha", Signature::fixed(&[Any]), |a| {
        let mut items = match &a[0] {
            Value::List(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        items.sort();
        Ok(string_list(items))
    });
    super::random::register(m);
}

/// The padding of `indent`: `n` spaces; a negative count is `strings.Repeat`'s panic.
fn spaces(n: i64) -> Result<String, FuncError> {
    if n < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    if n as u64 > super::MAX_OUTPUT as u64 {
        return Err(FuncError::new("strings: Repeat count causes overflow"));
    }
    Ok(" ".repeat(n as usize))
}

/// `strings.Replace(s, old, new, -1)`: an empty `old` inserts `new` around every rune.
pub(super) fn go_replace(s: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        let mut out = String::with_capacity(s.len() + new.len() * (s.len() + 1));
        out.push_str(new);
        for c in s.chars() {
            out.push(c);
            out.push_str(new);
        }
        return out;
    }
    s.replace(old, new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_and_trunc_use_byte_offsets() {
        assert_eq!(substr(1, 3, "abcdef"), Ok("bc".into()));
        assert!(substr(4, 2, "abcdef").is_err());
        assert_eq!(trunc(-2, "abcdef"), "ef");
        assert_eq!(go_split("a,b,c", ",", 2), vec!["a", "b,c"]);
        assert_eq!(go_split("abc", "", -1), vec!["a", "b", "c"]);
        assert_eq!(go_replace("ab", "", "-"), "-a-b-");
    }
}
