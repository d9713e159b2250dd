//! Python's `str.format`: replacement fields with positional, automatic and keyword
//! arguments, attribute and index lookups, conversions and nested specs.

use crate::template::jinja::percent::type_name;
use crate::template::jinja::pyrepr::{py_repr, py_str};
use crate::template::jinja::python::split_kwargs;
use minijinja::{Error, value::Value};

use super::err;
use super::format_spec::format_value;

/// Python's `str.format(*args, **kwargs)`.
pub(crate) fn format(s: &str, args: &[Value]) -> Result<String, Error> {
    let (positional, kwargs) = split_kwargs(args);
    format_with(s, positional, &kwargs)
}

/// `str.format` with the arguments split.
pub(super) fn format_with(
    s: &str,
    positional: &[Value],
    kwargs: &[(Value, Value)],
) -> Result<String, Error> {
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
#[cfg(test)]
mod tests {
    use super::*;

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
