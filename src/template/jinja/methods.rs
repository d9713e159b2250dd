//! Python's methods on template values (`s.split(',')`, `'{:>8}'.format(x)`,
//! `d.items()`, `xs.index(x)`), with Python's arguments, results and errors, for values
//! that are not pygen objects with methods of their own. What is not handled here goes to
//! minijinja-contrib's `pycompat`; an unknown method stays an error, as in Jinja2.

use minijinja::value::{Tuple, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::percent::type_name;
use super::pyrepr::{float_repr, py_repr, py_str};
use super::python::{PyDict, PyList, entries, split_kwargs};

/// The environment's unknown-method callback.
pub(crate) fn unknown_method(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let handled = match value.kind() {
        ValueKind::String => str_method(value.as_str().unwrap_or_default(), method, args),
        ValueKind::Map => map_method(value, method, args),
        ValueKind::Seq if matches!(method, "index" | "count" | "copy") => {
            Some(seq_method(value, method, args))
        }
        _ => None,
    };
    match handled {
        Some(result) => result,
        None => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

/// An error Python raises as `TypeError`, `ValueError`, `IndexError` or `KeyError`.
fn err(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Checks the count of positional arguments.
fn arity(method: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    if args.len() < min {
        return Err(err(format!(
            "{method}() takes at least {min} argument{} ({} given)",
            if min == 1 { "" } else { "s" },
            args.len()
        )));
    }
    if args.len() > max {
        return Err(err(format!(
            "{method}() takes at most {max} argument{} ({} given)",
            if max == 1 { "" } else { "s" },
            args.len()
        )));
    }
    Ok(())
}

/// A string argument.
fn str_arg<'a>(method: &str, v: &'a Value) -> Result<&'a str, Error> {
    v.as_str().ok_or_else(|| {
        err(format!(
            "{method}() argument must be str, not {}",
            type_name(v)
        ))
    })
}

/// An optional string argument (`None` or absent means the default).
fn opt_str<'a>(method: &str, v: Option<&'a Value>) -> Result<Option<&'a str>, Error> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => str_arg(method, v).map(Some),
    }
}

/// An integer argument.
fn int_arg(v: &Value) -> Result<i64, Error> {
    if v.kind() == ValueKind::Bool {
        return Ok(i64::from(v.is_true()));
    }
    if !v.is_integer() {
        return Err(err(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(v)
        )));
    }
    i64::try_from(v.clone())
}

/// Arguments with keywords merged in by name, in the method's parameter order.
fn named(args: &[Value], names: &[&str]) -> Result<Vec<Option<Value>>, Error> {
    let (positional, kwargs) = split_kwargs(args);
    let mut out: Vec<Option<Value>> = names.iter().map(|_| None).collect();
    for (i, v) in positional.iter().enumerate() {
        match out.get_mut(i) {
            Some(slot) => *slot = Some(v.clone()),
            None => return Err(err("too many arguments")),
        }
    }
    for (k, v) in kwargs {
        let k = k.as_str().unwrap_or_default().to_owned();
        match names.iter().position(|n| *n == k) {
            Some(i) => out[i] = Some(v),
            None => return Err(err(format!("'{k}' is an invalid keyword argument"))),
        }
    }
    Ok(out)
}

/// Python's whitespace (`str.isspace`).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

/// A `(start, end)` slice of a string in characters, clamped as Python's slices are.
fn char_range(
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

/// A tuple value.
fn tuple(items: Vec<Value>) -> Value {
    Value::from_object(Tuple::from(items))
}

/// Python's string methods; `None` for a method not handled here.
fn str_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
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
fn find(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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

/// `split` and `rsplit`.
fn split(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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
fn splitlines(s: &str, keep: bool) -> Vec<String> {
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

/// Python's dict methods on plain maps; `None` for others.
fn map_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    Some(match method {
        "copy" => arity(method, args, 0, 0).and_then(|()| Ok(PyDict::value(entries(value)?))),
        "items" => arity(method, args, 0, 0).and_then(|()| {
            Ok(Value::from(
                entries(value)?
                    .into_iter()
                    .map(|(k, v)| tuple(vec![k, v]))
                    .collect::<Vec<_>>(),
            ))
        }),
        "keys" => arity(method, args, 0, 0)
            .and_then(|()| Ok(Value::from(value.try_iter()?.collect::<Vec<_>>()))),
        "values" => arity(method, args, 0, 0).and_then(|()| {
            Ok(Value::from(
                entries(value)?
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            ))
        }),
        "get" => arity(method, args, 1, 2).and_then(|()| {
            let found = entries(value)?
                .into_iter()
                .find(|(k, _)| *k == args[0])
                .map(|(_, v)| v);
            Ok(found.unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::from(()))))
        }),
        _ => return None,
    })
}

/// Python's list methods on plain sequences; `None` for others.
pub(crate) fn seq_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    let items = || -> Result<Vec<Value>, Error> { Ok(value.try_iter()?.collect()) };
    match method {
        "index" => {
            arity(method, args, 1, 3)?;
            let all = items()?;
            let (start, end) = char_range(all.len(), args.get(1), args.get(2))?;
            all.iter()
                .enumerate()
                .skip(start)
                .take(end.saturating_sub(start))
                .find(|(_, x)| *x == &args[0])
                .map(|(i, _)| Value::from(i))
                .ok_or_else(|| err(format!("{} is not in list", py_repr(&args[0]))))
        }
        "count" => {
            arity(method, args, 1, 1)?;
            Ok(Value::from(
                items()?.iter().filter(|x| *x == &args[0]).count(),
            ))
        }
        "copy" => {
            arity(method, args, 0, 0)?;
            Ok(PyList::value(items()?))
        }
        _ => Err(Error::new(
            ErrorKind::UnknownMethod,
            format!("{} object has no attribute '{method}'", type_name(value)),
        )),
    }
}

/// Python's `str.format(*args, **kwargs)`.
pub(crate) fn format(s: &str, args: &[Value]) -> Result<String, Error> {
    let (positional, kwargs) = split_kwargs(args);
    format_with(s, positional, &kwargs)
}

/// `str.format` with the arguments split.
fn format_with(s: &str, positional: &[Value], kwargs: &[(Value, Value)]) -> Result<String, Error> {
    let mut auto: Option<usize> = Some(0);
    let mut manual = false;
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(err("Single '}' encountered in format string")),
            '{' => {
                let mut field = String::new();
                let mut depth = 1;
                loop {
                    let Some(c) = chars.next() else {
                        return Err(err("expected '}' before end of string"));
                    };
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    field.push(c);
                }
                let (name_conv, spec) = match field.find(':') {
                    Some(i) if !field[..i].contains('[') || field[..i].contains(']') => {
                        (&field[..i], &field[i + 1..])
                    }
                    _ => (field.as_str(), ""),
                };
                let (name, conv) = match name_conv.rsplit_once('!') {
                    Some((n, c)) => (n, Some(c)),
                    None => (name_conv, None),
                };
                let value = lookup_field(name, positional, kwargs, &mut auto, &mut manual)?;
                let value = match conv {
                    None => value,
                    Some("s") => Value::from(py_str(&value)),
                    Some("r") => Value::from(py_repr(&value)),
                    Some("a") => Value::from(
                        py_repr(&value)
                            .chars()
                            .flat_map(|c| {
                                if c.is_ascii() {
                                    vec![c]
                                } else {
                                    format!("\\u{:04x}", c as u32).chars().collect()
                                }
                            })
                            .collect::<String>(),
                    ),
                    Some(other) => {
                        return Err(err(format!("Unknown conversion specifier {other}")));
                    }
                };
                let spec = if spec.contains('{') {
                    format_with(spec, positional, kwargs)?
                } else {
                    spec.to_owned()
                };
                out.push_str(&format_value(&value, &spec)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The value of a replacement field name (`0`, `name`, `name.attr`, `name[key]`, or empty).
fn lookup_field(
    name: &str,
    positional: &[Value],
    kwargs: &[(Value, Value)],
    auto: &mut Option<usize>,
    manual: &mut bool,
) -> Result<Value, Error> {
    let end = name.find(['.', '[']).unwrap_or(name.len());
    let (head, mut rest) = name.split_at(end);
    let mut value = if head.is_empty() {
        if *manual {
            return Err(err(
                "cannot switch from manual field specification to automatic field numbering",
            ));
        }
        let i = auto.ok_or_else(|| err("cannot switch"))?;
        *auto = Some(i + 1);
        positional.get(i).cloned().ok_or_else(|| {
            err(format!(
                "Replacement index {i} out of range for positional args tuple"
            ))
        })?
    } else if let Ok(i) = head.parse::<usize>() {
        if auto.is_some_and(|n| n > 0) {
            return Err(err(
                "cannot switch from automatic field numbering to manual field specification",
            ));
        }
        *manual = true;
        positional.get(i).cloned().ok_or_else(|| {
            err(format!(
                "Replacement index {i} out of range for positional args tuple"
            ))
        })?
    } else {
        kwargs
            .iter()
            .find(|(k, _)| k.as_str() == Some(head))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| err(format!("KeyError: '{head}'")))?
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let attr = &after[..end];
            let next = value.get_attr(attr)?;
            if next.is_undefined() {
                return Err(err(format!(
                    "'{}' object has no attribute '{attr}'",
                    type_name(&value)
                )));
            }
            value = next;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after
                .find(']')
                .ok_or_else(|| err("Missing ']' in format string"))?;
            let key = &after[..close];
            let key = match key.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => Value::from(key),
            };
            let next = value.get_item(&key)?;
            if next.is_undefined() {
                return Err(err(format!("KeyError: {}", py_repr(&key))));
            }
            value = next;
            rest = &after[close + 1..];
        } else {
            return Err(err(
                "Only '.' or '[' may follow ']' in format field specifier",
            ));
        }
    }
    Ok(value)
}

/// A parsed format spec.
#[derive(Debug, Default)]
struct FormatSpec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

/// Parses `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
fn parse_spec(spec: &str) -> Result<FormatSpec, Error> {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut f = FormatSpec::default();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        f.fill = Some(chars[0]);
        f.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        f.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        f.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'z') {
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        f.alt = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        f.zero = true;
        i += 1;
    }
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        f.width = f.width * 10 + d as usize;
        i += 1;
    }
    if let Some(&c @ (',' | '_')) = chars.get(i) {
        f.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut p = 0;
        let mut any = false;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            p = p * 10 + d as usize;
            i += 1;
            any = true;
        }
        if !any {
            return Err(err("Format specifier missing precision"));
        }
        f.precision = Some(p);
    }
    if let Some(&c) = chars.get(i) {
        f.kind = Some(c);
        i += 1;
    }
    if i != chars.len() {
        return Err(err("Invalid format specifier"));
    }
    Ok(f)
}

/// Python's `format(value, spec)`.
fn format_value(value: &Value, spec: &str) -> Result<String, Error> {
    if spec.is_empty() {
        return Ok(py_str(value));
    }
    let f = parse_spec(spec)?;
    match value.kind() {
        ValueKind::String => {
            if f.sign.is_some() {
                return Err(err("Sign not allowed in string format specifier"));
            }
            if f.align == Some('=') {
                return Err(err("'=' alignment not allowed in string format specifier"));
            }
            if !matches!(f.kind, None | Some('s')) {
                return Err(err(format!(
                    "Unknown format code '{}' for object of type 'str'",
                    f.kind.unwrap_or('s')
                )));
            }
            let mut s = value.as_str().unwrap_or_default().to_owned();
            if let Some(p) = f.precision
                && let Some((cut, _)) = s.char_indices().nth(p)
            {
                s.truncate(cut);
            }
            Ok(align("", &s, &f, '<'))
        }
        ValueKind::Number | ValueKind::Bool => format_number(value, &f),
        _ => Err(err(format!(
            "unsupported format string passed to {}.__format__",
            type_name(value)
        ))),
    }
}

/// Numbers under a format spec.
fn format_number(value: &Value, f: &FormatSpec) -> Result<String, Error> {
    let is_int = value.is_integer() || value.kind() == ValueKind::Bool;
    let kind = f.kind.unwrap_or(if is_int { 'd' } else { '\0' });
    let x: f64 = if value.kind() == ValueKind::Bool {
        f64::from(u8::from(value.is_true()))
    } else {
        f64::try_from(value.clone())?
    };
    let (negative, body) = match kind {
        'd' | 'n' | 'b' | 'o' | 'x' | 'X' | 'c' if is_int => {
            let n: i128 = if value.kind() == ValueKind::Bool {
                i128::from(value.is_true())
            } else {
                i128::try_from(value.clone())?
            };
            let abs = n.unsigned_abs();
            let (digits, prefix, group) = match kind {
                'b' => (format!("{abs:b}"), "0b", 4),
                'o' => (format!("{abs:o}"), "0o", 4),
                'x' => (format!("{abs:x}"), "0x", 4),
                'X' => (format!("{abs:X}"), "0X", 4),
                'c' => {
                    let c = u32::try_from(n)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| err("%c arg not in range(0x110000)"))?;
                    return Ok(align("", &c.to_string(), f, '<'));
                }
                _ => (abs.to_string(), "", 3),
            };
            let digits = group_digits(&digits, f.grouping, group);
            let prefix = if f.alt { prefix } else { "" };
            (n < 0, format!("{prefix}{digits}"))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' | '\0' | 'n' => {
            let neg = x.is_sign_negative() && !x.is_nan();
            let ax = x.abs();
            let body = match kind {
                '%' => {
                    let p = f.precision.unwrap_or(6);
                    format!("{}%", fixed(ax * 100.0, p, f.grouping))
                }
                'f' | 'F' => {
                    let s = fixed(ax, f.precision.unwrap_or(6), f.grouping);
                    if kind == 'F' { s.to_uppercase() } else { s }
                }
                '\0' if f.precision.is_none() => float_repr(ax),
                '\0' => general(ax, f.precision.unwrap_or(6).max(1), f.alt, true),
                'g' | 'G' | 'n' => {
                    let s = general(ax, f.precision.unwrap_or(6).max(1), f.alt, false);
                    if kind == 'G' { s.to_uppercase() } else { s }
                }
                _ => {
                    let s = super::percent::exp_form(ax, f.precision.unwrap_or(6), f.alt);
                    if kind == 'E' { s.to_uppercase() } else { s }
                }
            };
            (neg, body)
        }
        other => {
            return Err(err(format!(
                "Unknown format code '{other}' for object of type '{}'",
                type_name(value)
            )));
        }
    };
    let sign = match (negative, f.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    };
    Ok(align(sign, &body, f, '>'))
}

/// Fixed notation with grouping of the integer part.
fn fixed(x: f64, precision: usize, grouping: Option<char>) -> String {
    if !x.is_finite() {
        return if x.is_nan() { "nan" } else { "inf" }.to_owned();
    }
    let s = format!("{x:.precision$}");
    match s.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", group_digits(int, grouping, 3)),
        None => group_digits(&s, grouping, 3),
    }
}

/// General format (`g`, or the empty type with a precision when `repr_like`).
fn general(x: f64, p: usize, alt: bool, repr_like: bool) -> String {
    if !x.is_finite() {
        return if x.is_nan() { "nan" } else { "inf" }.to_owned();
    }
    let sci = format!("{:.*e}", p - 1, x);
    let exp: i32 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    // The empty type switches to the exponent one digit earlier than `g`.
    let limit = if repr_like { p as i32 - 1 } else { p as i32 };
    let mut s = if exp < -4 || exp >= limit {
        super::percent::exp_form(x, p - 1, alt)
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        format!("{x:.decimals$}")
    };
    if !alt {
        let (mantissa, e) = match s.find('e') {
            Some(i) => (s[..i].to_owned(), s[i..].to_owned()),
            None => (s.clone(), String::new()),
        };
        let mantissa = if mantissa.contains('.') {
            mantissa
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned()
        } else {
            mantissa
        };
        s = format!("{mantissa}{e}");
    }
    if repr_like && !s.contains('.') && !s.contains('e') {
        s.push_str(".0");
    }
    s
}

/// Inserts `sep` every `every` digits from the right.
fn group_digits(digits: &str, sep: Option<char>, every: usize) -> String {
    let Some(sep) = sep else {
        return digits.to_owned();
    };
    let n = digits.chars().count();
    let mut out = String::with_capacity(n + n / every);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % every == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Pads `sign` + `body` to the width with the spec's fill and alignment.
fn align(sign: &str, body: &str, f: &FormatSpec, default: char) -> String {
    let (fill, align) = match (f.fill, f.align, f.zero) {
        (fill, Some(a), _) => (fill.unwrap_or(if f.zero { '0' } else { ' ' }), a),
        (_, None, true) if default == '>' => ('0', '='),
        (_, None, true) => ('0', default),
        _ => (' ', default),
    };
    let len = sign.chars().count() + body.chars().count();
    let pad = f.width.saturating_sub(len);
    let rep = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    match align {
        '<' => format!("{sign}{body}{}", rep(pad)),
        '^' => format!("{}{sign}{body}{}", rep(pad / 2), rep(pad - pad / 2)),
        '=' => {
            let (prefix, digits) = match body.get(..2) {
                Some(p @ ("0x" | "0X" | "0o" | "0b")) => (p, &body[2..]),
                _ => ("", body),
            };
            format!("{sign}{prefix}{}{digits}", rep(pad))
        }
        _ => format!("{}{sign}{body}", rep(pad)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn str_format() {
        let f = |s: &str, args: &[Value]| format(s, args).unwrap_or_else(|e| format!("ERR {e}"));
        assert_eq!(f("{}-{}", &[Value::from(1), Value::from("a")]), "1-a");
        assert_eq!(
            f("{0:>5}|{0:<5}|{0:^5}", &[Value::from("ab")]),
            "   ab|ab   | ab  "
        );
        assert_eq!(
            f(
                "{:05.2f} {:,} {:x} {:#b}",
                &[
                    Value::from(1.23456),
                    Value::from(1234567),
                    Value::from(255),
                    Value::from(5)
                ]
            ),
            "01.23 1,234,567 ff 0b101"
        );
        assert_eq!(
            f(
                "{!r} {:.3} {}",
                &[Value::from("a"), Value::from(1.23456), Value::from(1.0)]
            ),
            "'a' 1.23 1.0"
        );
        assert_eq!(
            f(
                "{:+d} {:=+6d} {:.1%}",
                &[Value::from(3), Value::from(-3), Value::from(0.256)]
            ),
            "+3 -    3 25.6%"
        );
        assert_eq!(f("{{x}} {:e}", &[Value::from(12345.0)]), "{x} 1.234500e+04");
    }
}
