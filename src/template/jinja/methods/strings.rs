//! Python's `str` methods on template strings: case and character-class checks, searching,
//! stripping, padding and the rest of what `str` offers, dispatched by name.

use minijinja::Error;
use minijinja::value::{Tuple, Value};

use crate::template::jinja::percent::type_name;
use crate::template::jinja::python::entries;

use super::format::{format, format_with};
use super::split::{split, splitlines};
use super::{arity, err, int_arg, named, opt_str, str_arg, tuple};

/// Python's whitespace (`str.isspace`).
pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

/// A `(start, end)` slice of a string in characters, clamped as Python's slices are.
pub(super) fn char_range(
    len: usize,
    start: Option<&Value>,
    end: Option<&Value>,
) -> Result<(usize, usize), Error> {
    let clamp = |v: Option<&Value>, default: usize| -> Result<usize, Error> {
        match v {
            None => Ok(default),
            Some(v) if v.is_none() => Ok(default),
            Some(v) => {
                let i = int_arg(v)?;
                Ok(if i < 0 {
                    (i + len as i64).max(0) as usize
                } else {
                    (i as usize).min(len)
                })
            }
        }
    };
    Ok((clamp(start, 0)?, clamp(end, len)?))
}

/// Byte offset of character `i` of `s` (or `s.len()`).
fn byte_at(s: &str, i: usize) -> usize {
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}
/// Python's string methods; `None` for a method not handled here.
pub(super) fn str_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    Some(match method {
        "format" => format(s, args).map(Value::from),
        "format_map" => arity(method, args, 1, 1)
            .and_then(|()| format_with(s, &[], &entries(&args[0])?).map(Value::from)),
        "split" | "rsplit" => split(s, method, args),
        "splitlines" => named(args, &["keepends"]).map(|a| {
            let keep = a[0].as_ref().is_some_and(Value::is_true);
            Value::from(splitlines(s, keep))
        }),
        "strip" | "lstrip" | "rstrip" => arity(method, args, 0, 1).and_then(|()| {
            let chars = opt_str(method, args.first())?;
            let matches = |c: char| chars.map_or(is_py_space(c), |set| set.contains(c));
            Ok(Value::from(match method {
                "strip" => s.trim_matches(matches),
                "lstrip" => s.trim_start_matches(matches),
                _ => s.trim_end_matches(matches),
            }))
        }),
        "startswith" | "endswith" => arity(method, args, 1, 3).and_then(|()| {
            let len = s.chars().count();
            let (start, end) = char_range(len, args.get(1), args.get(2))?;
            let part = if start > end {
                None
            } else {
                Some(&s[byte_at(s, start)..byte_at(s, end)])
            };
            let affixes: Vec<Value> = match args[0].downcast_object_ref::<Tuple>() {
                Some(_) => args[0].try_iter()?.collect(),
                None => vec![args[0].clone()],
            };
            let mut found = false;
            for a in &affixes {
                let a = a.as_str().ok_or_else(|| {
                    err(format!(
                        "{method} first arg must be str or a tuple of str, not {}",
                        type_name(a)
                    ))
                })?;
                if let Some(part) = part {
                    found |= if method == "startswith" {
                        part.starts_with(a)
                    } else {
                        part.ends_with(a)
                    };
                }
            }
            Ok(Value::from(found))
        }),
        "replace" => arity(method, args, 2, 3).and_then(|()| {
            let old = str_arg(method, &args[0])?;
            let new = str_arg(method, &args[1])?;
            let count = match args.get(2) {
                Some(c) => int_arg(c)?,
                None => -1,
            };
            Ok(Value::from(if count < 0 {
                s.replace(old, new)
            } else {
                s.replacen(old, new, count as usize)
            }))
        }),
        "lower" => arity(method, args, 0, 0).map(|()| Value::from(s.to_lowercase())),
        "upper" => arity(method, args, 0, 0).map(|()| Value::from(s.to_uppercase())),
        "casefold" => arity(method, args, 0, 0).map(|()| Value::from(s.to_lowercase())),
        "swapcase" => arity(method, args, 0, 0).map(|()| {
            Value::from(
                s.chars()
                    .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
                        if c.is_uppercase() {
                            Box::new(c.to_lowercase())
                        } else {
                            Box::new(c.to_uppercase())
                        }
                    })
                    .collect::<String>(),
            )
        }),
        "title" => arity(method, args, 0, 0).map(|()| Value::from(title(s))),
        "capitalize" => arity(method, args, 0, 0).map(|()| {
            let mut chars = s.chars();
            Value::from(match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.as_str().to_lowercase().chars())
                    .collect::<String>(),
                None => String::new(),
            })
        }),
        "find" | "rfind" | "index" | "rindex" | "count" => find(s, method, args),
        "join" => arity(method, args, 1, 1).and_then(|()| {
            let mut parts = Vec::new();
            for (i, item) in args[0].try_iter()?.enumerate() {
                match item.as_str() {
                    Some(p) => parts.push(p.to_owned()),
                    None => {
                        return Err(err(format!(
                            "sequence item {i}: expected str instance, {} found",
                            type_name(&item)
                        )));
                    }
                }
            }
            Ok(Value::from(parts.join(s)))
        }),
        "zfill" => arity(method, args, 1, 1).and_then(|()| {
            let width = int_arg(&args[0])?.max(0) as usize;
            let len = s.chars().count();
            if len >= width {
                return Ok(Value::from(s));
            }
            let (sign, rest) = match s.chars().next() {
                Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                _ => (String::new(), s),
            };
            Ok(Value::from(format!(
                "{sign}{}{rest}",
                "0".repeat(width - len)
            )))
        }),
        "ljust" | "rjust" | "center" => arity(method, args, 1, 2).and_then(|()| {
            let width = int_arg(&args[0])?.max(0) as usize;
            let fill = match args.get(1) {
                Some(f) => {
                    let f = str_arg(method, f)?;
                    let mut it = f.chars();
                    match (it.next(), it.next()) {
                        (Some(c), None) => c,
                        _ => {
                            return Err(err(
                                "The fill character must be exactly one character long",
                            ));
                        }
                    }
                }
                None => ' ',
            };
            let len = s.chars().count();
            if len >= width {
                return Ok(Value::from(s));
            }
            let marg = width - len;
            let left = match method {
                "ljust" => 0,
                "rjust" => marg,
                _ => marg / 2 + (marg & width & 1),
            };
            let pad = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
            Ok(Value::from(format!("{}{s}{}", pad(left), pad(marg - left))))
        }),
        "partition" | "rpartition" => arity(method, args, 1, 1).and_then(|()| {
            let sep = str_arg(method, &args[0])?;
            if sep.is_empty() {
                return Err(err("empty separator"));
            }
            let found = if method == "partition" {
                s.find(sep)
            } else {
                s.rfind(sep)
            };
            Ok(match found {
                Some(i) => tuple(vec![
                    Value::from(&s[..i]),
                    Value::from(sep),
                    Value::from(&s[i + sep.len()..]),
                ]),
                None if method == "partition" => {
                    tuple(vec![Value::from(s), Value::from(""), Value::from("")])
                }
                None => tuple(vec![Value::from(""), Value::from(""), Value::from(s)]),
            })
        }),
        "removeprefix" | "removesuffix" => arity(method, args, 1, 1).and_then(|()| {
            let a = str_arg(method, &args[0])?;
            Ok(Value::from(if method == "removeprefix" {
                s.strip_prefix(a).unwrap_or(s)
            } else {
                s.strip_suffix(a).unwrap_or(s)
            }))
        }),
        "isdigit" | "isdecimal" | "isnumeric" | "isalpha" | "isalnum" | "isspace" | "isascii"
        | "islower" | "isupper" | "istitle" | "isidentifier" | "isprintable" => {
            arity(method, args, 0, 0).map(|()| Value::from(is_check(s, method)))
        }
        "expandtabs" => named(args, &["tabsize"]).and_then(|a| {
            let size = match &a[0] {
                Some(v) => int_arg(v)?.max(0) as usize,
                None => 8,
            };
            let mut out = String::new();
            let mut col = 0;
            for c in s.chars() {
                match c {
                    '\t' => {
                        if size > 0 {
                            let n = size - col % size;
                            out.extend(std::iter::repeat_n(' ', n));
                            col += n;
                        }
                    }
                    '\n' | '\r' => {
                        out.push(c);
                        col = 0;
                    }
                    c => {
                        out.push(c);
                        col += 1;
                    }
                }
            }
            Ok(Value::from(out))
        }),
        _ => return None,
    })
}

/// `str.isX()` checks.
fn is_check(s: &str, method: &str) -> bool {
    let cased = |c: char| c.is_lowercase() || c.is_uppercase();
    match method {
        "isdigit" | "isdecimal" | "isnumeric" => !s.is_empty() && s.chars().all(char::is_numeric),
        "isalpha" => !s.is_empty() && s.chars().all(char::is_alphabetic),
        "isalnum" => !s.is_empty() && s.chars().all(char::is_alphanumeric),
        "isspace" => !s.is_empty() && s.chars().all(is_py_space),
        "isascii" => s.is_ascii(),
        "islower" => s.chars().any(cased) && !s.chars().any(char::is_uppercase),
        "isupper" => s.chars().any(cased) && !s.chars().any(char::is_lowercase),
        "istitle" => {
            let mut prev_cased = false;
            let mut any = false;
            for c in s.chars() {
                if c.is_uppercase() {
                    if prev_cased {
                        return false;
                    }
                    prev_cased = true;
                    any = true;
                } else if c.is_lowercase() {
                    if !prev_cased {
                        return false;
                    }
                    prev_cased = true;
                    any = true;
                } else {
                    prev_cased = false;
                }
            }
            any
        }
        "isidentifier" => {
            let mut chars = s.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        }
        _ => s.chars().all(|c| !c.is_control()),
    }
}

/// Python's `str.title`.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_lowercase() || c.is_uppercase();
    }
    out
}

/// `find`, `rfind`, `index`, `rindex`, `count` with character offsets.
pub(super) fn find(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    arity(method, args, 1, 3)?;
    let sub = str_arg(method, &args[0])?;
    let len = s.chars().count();
    let (start, end) = char_range(len, args.get(1), args.get(2))?;
    if start > end || (start == len && !sub.is_empty() && method != "count") {
        return not_found(method);
    }
    let (from, to) = (byte_at(s, start), byte_at(s, end));
    let part = &s[from..to];
    if method == "count" {
        let n = if sub.is_empty() {
            part.chars().count() + 1
        } else {
            part.matches(sub).count()
        };
        return Ok(Value::from(n));
    }
    let found = if method.starts_with('r') {
        part.rfind(sub)
    } else {
        part.find(sub)
    };
    match found {
        Some(b) => Ok(Value::from(start + part[..b].chars().count())),
        None => not_found(method),
    }
}

/// What `find` and friends give when the substring is not there.
fn not_found(method: &str) -> Result<Value, Error> {
    match method {
        "find" | "rfind" => Ok(Value::from(-1)),
        "count" => Ok(Value::from(0)),
        _ => Err(err("substring not found")),
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::jinja::pyrepr::py_str;

    fn call(s: &str, method: &str, args: &[Value]) -> String {
        match str_method(s, method, args) {
            Some(Ok(v)) => py_str(&v),
            Some(Err(e)) => format!("ERR {}", e.detail().unwrap_or("")),
            None => "UNHANDLED".into(),
        }
    }

    #[test]
    fn string_methods() {
        assert_eq!(call("  a b  c ", "split", &[]), "['a', 'b', 'c']");
        assert_eq!(
            call("a,b,c", "rsplit", &[Value::from(","), Value::from(1)]),
            "['a,b', 'c']"
        );
        assert_eq!(
            call("  a b  c ", "rsplit", &[Value::from(()), Value::from(1)]),
            "['  a b', 'c']"
        );
        assert_eq!(call("a\r\nb\nc", "splitlines", &[]), "['a', 'b', 'c']");
        assert_eq!(call("xxhixx", "strip", &[Value::from("x")]), "hi");
        assert_eq!(call("they're bill's", "title", &[]), "They'Re Bill'S");
        assert_eq!(
            call("abc", "center", &[Value::from(6), Value::from("*")]),
            "*abc**"
        );
        assert_eq!(call("abc", "center", &[Value::from(8)]), "  abc   ");
        assert_eq!(call("-42", "zfill", &[Value::from(6)]), "-00042");
        assert_eq!(
            call("a.b.c", "rpartition", &[Value::from(".")]),
            "('a.b', '.', 'c')"
        );
        assert_eq!(call("héllo", "find", &[Value::from("l")]), "2");
        assert_eq!(
            call(
                "aaa",
                "replace",
                &[Value::from("a"), Value::from("b"), Value::from(2)]
            ),
            "bba"
        );
        assert_eq!(
            call("x", "index", &[Value::from("y")]),
            "ERR substring not found"
        );
    }
}
