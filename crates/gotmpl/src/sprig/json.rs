//! sprig's JSON functions, written to match Go's `encoding/json` byte for byte: `toJson`
//! (HTML-safe escaping of `<`, `>`, `&`, sorted map keys, Go's float format), `toPrettyJson`
//! (two-space indent, `{}`/`[]` kept compact), `toRawJson` (no HTML escaping), their `must`
//! forms, and `fromJson`/`mustFromJson`, whose parser reports Go's syntax error texts and
//! decodes every number as float64, as `json.Unmarshal` into `interface{}` does.
//!
//! This file holds the encoder; the parser behind `fromJson` is in `decode`.

use super::{FuncError, Value, text};
use crate::funcs::{FuncMap, Param, Signature};
use crate::timefmt;

mod decode;

use decode::from_json;

/// How to encode: Go's `json.Marshal` (HTML-escaped) or an encoder with HTML escaping off.
#[derive(Clone, Copy)]
struct Style {
    escape_html: bool,
}

fn encode_string(out: &mut String, s: &str, style: Style) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if style.escape_html => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
            c if (c as u32) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's JSON float format: shortest digits, `e` notation outside `[1e-6, 1e21)`.
pub(super) fn format_float(f: f64) -> Result<String, FuncError> {
    if !f.is_finite() {
        let name = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(FuncError(format!("json: unsupported value: {name}")));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        // Go pads the exponent to two digits, then JSON trims "e-07" back to "e-7".
        let digits = if sign == '-' || digits.len() >= 2 {
            digits.to_owned()
        } else {
            format!("0{digits}")
        };
        return Ok(format!("{mant}e{sign}{digits}"));
    }
    Ok(format!("{f}"))
}

fn encode(out: &mut String, v: &Value, style: Style, depth: usize) -> Result<(), FuncError> {
    if depth > super::MAX_DEPTH {
        // Only cyclic data nests this deep; Go's encoder reports the cycle the same way.
        return Err(FuncError(format!(
            "json: unsupported value: encountered a cycle via {}",
            v.type_name()
        )));
    }
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Duration(d) => out.push_str(&d.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)?),
        Value::String(s) => encode_string(out, s, style),
        Value::Time(t) => {
            let s = timefmt::format(
                "2006-01-02T15:04:05.999999999Z07:00",
                t.secs,
                t.nanos,
                t.offset,
                &t.zone,
            );
            encode_string(out, &s, style);
        }
        Value::List(l) => {
            out.push('[');
            for (i, e) in l.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode(out, e, style, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, e)) in m.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_string(out, k, style);
                out.push(':');
                encode(out, e, style, depth + 1)?;
            }
            out.push('}');
        }
        Value::Record(r) => {
            out.push('{');
            for (i, (k, e)) in r.fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_string(out, k, style);
                out.push(':');
                encode(out, e, style, depth + 1)?;
            }
            out.push('}');
        }
        Value::Func(_) => {
            return Err(FuncError(format!(
                "json: unsupported type: {}",
                v.type_name()
            )));
        }
    }
    Ok(())
}

/// Go's `json.Indent(dst, src, "", "  ")` over compact JSON.
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                if matches!(chars.peek(), Some('}' | ']')) {
                    if let Some(close) = chars.next() {
                        out.push(close);
                    }
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

/// `json.Marshal` (or the non-HTML-escaping encoder) of a value.
pub(super) fn to_json(v: &Value, escape_html: bool) -> Result<String, FuncError> {
    let mut out = String::new();
    encode(&mut out, v, Style { escape_html }, 0)?;
    Ok(out)
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::Any;
    let one = || Signature::fixed(&[Any]);
    m.insert("toJson", one(), |a| {
        Ok(Value::from(to_json(&a[0], true).unwrap_or_default()))
    });
    m.insert("mustToJson", one(), |a| {
        to_json(&a[0], true).map(Value::from)
    });
    m.insert("toPrettyJson", one(), |a| {
        Ok(Value::from(
            to_json(&a[0], true).map(|s| indent(&s)).unwrap_or_default(),
        ))
    });
    m.insert("mustToPrettyJson", one(), |a| {
        to_json(&a[0], true).map(|s| Value::from(indent(&s)))
    });
    m.insert("toRawJson", one(), |a| {
        to_json(&a[0], false).map(Value::from)
    });
    m.insert("mustToRawJson", one(), |a| {
        to_json(&a[0], false).map(Value::from)
    });
    m.insert("fromJson", Signature::fixed(&[Param::String]), |a| {
        Ok(from_json(text(&a[0])).unwrap_or(Value::Nil))
    });
    m.insert("mustFromJson", Signature::fixed(&[Param::String]), |a| {
        from_json(text(&a[0])).map_err(FuncError)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go() {
        let f = |x: f64| format_float(x).expect("finite");
        assert_eq!(f(1.0), "1");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-10), "1.5e-10");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(-0.0), "-0");
        assert!(format_float(f64::NAN).is_err());
    }

    #[test]
    fn indents_like_go() {
        assert_eq!(
            indent(r#"{"a":[1,{}],"b":[]}"#),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}"
        );
        assert_eq!(indent(r#""a,b:{""#), r#""a,b:{""#);
    }
}
