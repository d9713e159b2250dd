//! Values printed as Python prints them: `str()` for output and `%s`, `repr()` for what is
//! nested in lists, tuples and dicts and for `%r`.
//!
//! Python's rules kept here: `None`, `True`/`False`; floats in the shortest form that reads
//! back (`0.30000000000000004`), with `.0` on whole numbers and the exponent form outside
//! `1e-4 <= |x| < 1e16` (`1e+20`, `2.5e+100`, `1e-05`), `inf`/`nan`; strings inside
//! containers quoted with `'` unless they hold a `'` and no `"`, with Python's escapes;
//! tuples with `(x,)`; dicts as `{'k': v}` in their own order.

use std::fmt::Write as _;

use minijinja::value::{ObjectRepr, Tuple, Value, ValueKind};
use minijinja::{Error, Output, State};

use super::filters_seq::GroupTuple;

/// The environment's formatter: `{{ x }}` prints `str(x)`, undefined prints nothing.
pub(crate) fn formatter(out: &mut Output, _state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        return Ok(());
    }
    if let Some(s) = value.as_str() {
        return Ok(out.write_str(s)?);
    }
    Ok(out.write_str(&py_str(value))?)
}

/// Python's `str(value)`.
pub(crate) fn py_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        ValueKind::Undefined => String::new(),
        _ => py_repr(value),
    }
}

/// Python's `repr(value)`.
pub(crate) fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value, 0);
    out
}

/// Python's `repr` of a float.
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // Shortest round-trip digits, as `d.ddde±x`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        let mut s = String::from(sign);
        if exp < 0 {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            s.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                s.push_str(&digits);
                s.extend(std::iter::repeat_n('0', int_len - digits.len()));
                s.push_str(".0");
            } else {
                s.push_str(&digits[..int_len]);
                s.push('.');
                s.push_str(&digits[int_len..]);
            }
        }
        s
    } else {
        let mut s = String::from(sign);
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let _ = write!(s, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
        s
    }
}

/// Python's `repr` of a string: quoted and escaped.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) || c == '\u{ad}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if !printable(c) => {
                if (c as u32) > 0xffff {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                } else {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Whether Python's `str.isprintable` holds for a character above U+00A0 (separators other
/// than the space and format characters are not printable).
fn printable(c: char) -> bool {
    !matches!(c as u32,
        0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f
        | 0x3000 | 0xfeff | 0xfff9..=0xfffb | 0xd800..=0xdfff | 0xe000..=0xf8ff
        | 0x180e | 0x061c | 0x0600..=0x0605 | 0x06dd | 0x070f | 0xe0001 | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff)
}

/// Containers deeper than this print as `...` (Python would recurse until it fails).
const MAX_DEPTH: usize = 64;

/// Appends `repr(value)`.
fn write_repr(out: &mut String, value: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match value.kind() {
        ValueKind::Undefined => out.push_str("Undefined"),
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::String => out.push_str(&str_repr(value.as_str().unwrap_or_default())),
        ValueKind::Number => match f64_of_float(value) {
            Some(x) => out.push_str(&float_repr(x)),
            None => {
                let _ = write!(out, "{value}");
            }
        },
        ValueKind::Bytes => {
            let _ = write!(out, "{value:?}");
        }
        ValueKind::Seq => {
            let is_tuple = value.downcast_object_ref::<Tuple>().is_some()
                || value.downcast_object_ref::<GroupTuple>().is_some();
            let items: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            out.push(if is_tuple { '(' } else { '[' });
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item, depth + 1);
            }
            if is_tuple && items.len() == 1 {
                out.push(',');
            }
            out.push(if is_tuple { ')' } else { ']' });
        }
        ValueKind::Map if is_plain_map(value) => {
            // minijinja's namespace type is private; its debug form names it.
            let namespace = value.as_object().is_some_and(|o| {
                let mut name = String::new();
                let _ = write!(name, "{o:?}");
                name.starts_with("Namespace")
            });
            if namespace {
                out.push_str("<Namespace ");
            }
            out.push('{');
            if let Ok(keys) = value.try_iter() {
                for (i, key) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key, depth + 1);
                    out.push_str(": ");
                    let item = value.get_item(&key).unwrap_or_default();
                    write_repr(out, &item, depth + 1);
                }
            }
            out.push('}');
            if namespace {
                out.push('>');
            }
        }
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

/// Whether a map value prints as a dict (not a callable, macro or namespace-like object
/// with its own display).
fn is_plain_map(value: &Value) -> bool {
    value
        .as_object()
        .is_none_or(|o| matches!(o.repr(), ObjectRepr::Map))
}

/// The float inside a number value, if it is a float (not an integer).
pub(crate) fn f64_of_float(value: &Value) -> Option<f64> {
    if value.is_integer() {
        return None;
    }
    f64::try_from(value.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python() {
        for (x, s) in [
            (0.1 + 0.2, "0.30000000000000004"),
            (1e20, "1e+20"),
            (2.0, "2.0"),
            (2.5e100, "2.5e+100"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (-1.5, "-1.5"),
            (123.456, "123.456"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(float_repr(x), s);
        }
    }

    #[test]
    fn containers_as_python() {
        let v = Value::from(vec![
            Value::from("it's"),
            Value::from("a\"b'c"),
            Value::from(()),
            Value::from(true),
            Value::from(1.0),
            Value::from_object(Tuple::from(vec![Value::from(1)])),
        ]);
        assert_eq!(py_str(&v), r#"["it's", 'a"b\'c', None, True, 1.0, (1,)]"#);
        assert_eq!(str_repr("a\nb\u{1}\u{e9}"), r"'a\nb\x01é'");
    }
}
