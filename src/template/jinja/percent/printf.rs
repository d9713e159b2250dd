//! printf-style formatting, the string side of `%`: the format walk (keys, flags, width,
//! precision, `*`), each conversion, and Python's padding, sign and float rules.

use minijinja::value::{Tuple, Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::template::jinja::pyrepr::{py_repr, py_str};

use super::{int_of, number_of, type_error, type_name};

/// The right-hand side of `%`.
enum Args<'a> {
    /// A tuple: its items in order.
    Tuple(Vec<Value>, usize),
    /// One value (anything but a tuple).
    Single(&'a Value, bool),
}

impl Args<'_> {
    /// The next positional argument.
    fn next(&mut self) -> Result<Value, Error> {
        match self {
            Args::Tuple(items, at) => {
                let v = items
                    .get(*at)
                    .cloned()
                    .ok_or_else(|| type_error("not enough arguments for format string"))?;
                *at += 1;
                Ok(v)
            }
            Args::Single(v, used) => {
                if *used {
                    return Err(type_error("not enough arguments for format string"));
                }
                *used = true;
                Ok((*v).clone())
            }
        }
    }
}

/// Python's `format % args`.
pub(super) fn printf(format: &str, args: &Value) -> Result<String, Error> {
    let mut args_state = match args.downcast_object_ref::<Tuple>() {
        Some(_) => Args::Tuple(args.try_iter()?.collect(), 0),
        None => Args::Single(args, false),
    };
    let is_mapping =
        matches!(args.kind(), ValueKind::Map) && args.downcast_object_ref::<Tuple>().is_none();
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.char_indices().peekable();
    let mut used_mapping = false;
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // `%(key)`
        let mut source: Option<Value> = None;
        if chars.peek().map(|&(_, c)| c) == Some('(') {
            chars.next();
            let mut depth = 1;
            let mut key = String::new();
            loop {
                let Some((_, c)) = chars.next() else {
                    return Err(type_error("incomplete format key"));
                };
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                key.push(c);
            }
            if !is_mapping {
                return Err(type_error("format requires a mapping"));
            }
            used_mapping = true;
            let value = args.get_item(&Value::from(key.as_str()))?;
            if value.is_undefined() {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("KeyError: {}", str_key(&key)),
                ));
            }
            source = Some(value);
        }
        // Flags.
        let mut spec = Spec::default();
        while let Some(&(_, c)) = chars.peek() {
            match c {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        // Width.
        if chars.peek().map(|&(_, c)| c) == Some('*') {
            chars.next();
            let w = star(args_state.next()?)?;
            if w < 0 {
                spec.left = true;
            }
            spec.width = w.unsigned_abs() as usize;
        } else {
            spec.width = digits(&mut chars);
        }
        // Precision.
        if chars.peek().map(|&(_, c)| c) == Some('.') {
            chars.next();
            if chars.peek().map(|&(_, c)| c) == Some('*') {
                chars.next();
                spec.precision = Some(star(args_state.next()?)?.max(0) as usize);
            } else {
                spec.precision = Some(digits(&mut chars));
            }
        }
        while matches!(chars.peek().map(|&(_, c)| c), Some('h' | 'l' | 'L')) {
            chars.next();
        }
        let Some((at, conv)) = chars.next() else {
            return Err(Error::new(ErrorKind::InvalidOperation, "incomplete format"));
        };
        if conv == '%' {
            out.push('%');
            continue;
        }
        let value = match source {
            Some(v) => v,
            None => args_state.next()?,
        };
        let text = convert(conv, at, &value, &spec)?;
        pad(&mut out, &text, &spec, conv);
    }
    let unconverted = match &args_state {
        Args::Tuple(items, at) => *at < items.len(),
        Args::Single(v, used) => {
            !*used && !used_mapping && !matches!(v.kind(), ValueKind::Map | ValueKind::Seq)
        }
    };
    if unconverted {
        return Err(type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

/// A key in a `KeyError` message (Python's repr of the key).
fn str_key(key: &str) -> String {
    py_repr(&Value::from(key))
}

/// Flags, width and precision of one conversion.
#[derive(Debug, Default)]
struct Spec {
    /// `-`
    left: bool,
    /// `+`
    plus: bool,
    /// ` `
    space: bool,
    /// `#`
    alt: bool,
    /// `0`
    zero: bool,
    /// Minimum width.
    width: usize,
    /// Precision.
    precision: Option<usize>,
}

/// Reads a decimal number (0 when none).
pub(super) fn digits(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> usize {
    let mut n: usize = 0;
    while let Some(&(_, c)) = chars.peek() {
        let Some(d) = c.to_digit(10) else { break };
        n = n.saturating_mul(10).saturating_add(d as usize);
        chars.next();
    }
    n
}

/// A `*` width or precision argument.
fn star(v: Value) -> Result<i64, Error> {
    match int_of(&v) {
        Some(n) => i64::try_from(n).map_err(|_| type_error("width too big")),
        None => Err(type_error("* wants int")),
    }
}

/// Formats one value for conversion `conv` (no padding yet).
fn convert(conv: char, at: usize, value: &Value, spec: &Spec) -> Result<String, Error> {
    match conv {
        's' | 'r' | 'a' => {
            let mut s = if conv == 's' {
                py_str(value)
            } else {
                let r = py_repr(value);
                if conv == 'a' { ascii(&r) } else { r }
            };
            if let Some(p) = spec.precision
                && let Some((cut, _)) = s.char_indices().nth(p)
            {
                s.truncate(cut);
            }
            Ok(s)
        }
        'd' | 'i' | 'u' => {
            let n = match int_of(value) {
                Some(n) => n,
                None => match number_of(value) {
                    Some(x) if x.is_finite() => x.trunc() as i128,
                    Some(x) => {
                        return Err(type_error(if x.is_nan() {
                            "cannot convert float NaN to integer"
                        } else {
                            "cannot convert float infinity to integer"
                        }));
                    }
                    None => {
                        return Err(type_error(format!(
                            "%{conv} format: a real number is required, not {}",
                            type_name(value)
                        )));
                    }
                },
            };
            Ok(signed(
                n < 0,
                &zero_extend(n.unsigned_abs().to_string(), spec.precision),
                spec,
            ))
        }
        'x' | 'X' | 'o' => {
            let Some(n) = int_of(value) else {
                return Err(type_error(format!(
                    "%{conv} format: an integer is required, not {}",
                    type_name(value)
                )));
            };
            let abs = n.unsigned_abs();
            let body = match conv {
                'x' => format!("{abs:x}"),
                'X' => format!("{abs:X}"),
                _ => format!("{abs:o}"),
            };
            let body = zero_extend(body, spec.precision);
            let prefix = match (spec.alt, conv) {
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                (true, _) => "0o",
                _ => "",
            };
            Ok(signed(n < 0, &format!("{prefix}{body}"), spec))
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let Some(x) = number_of(value) else {
                return Err(type_error(format!(
                    "must be real number, not {}",
                    type_name(value)
                )));
            };
            let body = float_body(x.abs(), conv, spec.precision.unwrap_or(6), spec.alt);
            Ok(signed(x.is_sign_negative() && !x.is_nan(), &body, spec))
        }
        'c' => match value.as_str() {
            Some(s) if s.chars().count() == 1 => Ok(s.to_owned()),
            Some(_) => Err(type_error("%c requires int or char")),
            None => match int_of(value) {
                Some(n) => u32::try_from(n)
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
                    .ok_or_else(|| type_error("%c arg not in range(0x110000)")),
                None => Err(type_error("%c requires int or char")),
            },
        },
        other => Err(type_error(format!(
            "unsupported format character '{other}' (0x{:x}) at index {at}",
            other as u32
        ))),
    }
}

/// `repr` with non-ASCII characters escaped (`%a`).
fn ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xff => out.push_str(&format!("\\x{n:02x}")),
            n @ 0x100..=0xffff => out.push_str(&format!("\\u{n:04x}")),
            n => out.push_str(&format!("\\U{n:08x}")),
        }
    }
    out
}

/// Left-pads digits with zeros to `precision` digits.
fn zero_extend(digits: String, precision: Option<usize>) -> String {
    match precision {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    }
}

/// Prefixes the sign: `-`, or `+`/space by flag. Marks the sign with a NUL so
/// [`pad`] can put zero padding after it.
fn signed(negative: bool, body: &str, spec: &Spec) -> String {
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    format!("{sign}\u{0}{body}")
}

/// Appends `text` padded to the width. Numbers (marked by [`signed`]) take zero padding
/// between the sign (and `0x` prefix) and the digits.
fn pad(out: &mut String, text: &str, spec: &Spec, conv: char) {
    let (sign, body) = match text.split_once('\u{0}') {
        Some((sign, body)) if !matches!(conv, 's' | 'r' | 'a' | 'c') => (sign, body),
        _ => ("", text),
    };
    let len = sign.chars().count() + body.chars().count();
    let fill = spec.width.saturating_sub(len);
    let numeric = !matches!(conv, 's' | 'r' | 'a' | 'c');
    if spec.left {
        out.push_str(sign);
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && numeric {
        out.push_str(sign);
        let (prefix, digits) = match body.get(..2) {
            Some(p @ ("0x" | "0X" | "0o")) => (p, &body[2..]),
            _ => ("", body),
        };
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(sign);
        out.push_str(body);
    }
}

/// A non-negative float with `e`, `f` or `g` rules (upper case for `E F G`).
fn float_body(x: f64, conv: char, precision: usize, alt: bool) -> String {
    let upper = conv.is_ascii_uppercase();
    if !x.is_finite() {
        let s = if x.is_nan() { "nan" } else { "inf" };
        return if upper {
            s.to_uppercase()
        } else {
            s.to_owned()
        };
    }
    let s = match conv.to_ascii_lowercase() {
        'e' => exp_form(x, precision, alt),
        'f' => {
            let mut s = format!("{x:.precision$}");
            if alt && precision == 0 {
                s.push('.');
            }
            s
        }
        _ => {
            let p = precision.max(1);
            let sci = format!("{:.*e}", p - 1, x);
            let exp: i32 = sci
                .split_once('e')
                .and_then(|(_, e)| e.parse().ok())
                .unwrap_or(0);
            let mut s = if exp < -4 || exp >= p as i32 {
                exp_form(x, p - 1, alt)
            } else {
                let decimals = (p as i32 - 1 - exp).max(0) as usize;
                let mut s = format!("{x:.decimals$}");
                if alt && !s.contains('.') {
                    s.push('.');
                }
                s
            };
            if !alt {
                s = strip_zeros(&s);
            }
            s
        }
    };
    if upper { s.to_uppercase() } else { s }
}

/// `d.ddde±xx` with `precision` decimals.
pub(crate) fn exp_form(x: f64, precision: usize, alt: bool) -> String {
    let sci = format!("{x:.precision$e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let dot = if alt && precision == 0 { "." } else { "" };
    format!(
        "{mantissa}{dot}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// Drops trailing zeros of the fraction (and the point) of a `%g` result.
fn strip_zeros(s: &str) -> String {
    let (mantissa, exp) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{exp}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(format: &str, args: Value) -> String {
        printf(format, &args).unwrap_or_else(|e| format!("ERR {}", e.detail().unwrap_or("")))
    }

    fn tuple(items: Vec<Value>) -> Value {
        Value::from_object(Tuple::from(items))
    }

    #[test]
    fn printf_forms() {
        let t = tuple(vec![Value::from("a"), Value::from(80)]);
        assert_eq!(fmt("%s:%d", t), "a:80");
        assert_eq!(fmt("%05.2f", Value::from(1.23456)), "01.23");
        assert_eq!(fmt("%-5s|", Value::from("ab")), "ab   |");
        assert_eq!(
            fmt("%+d % d", tuple(vec![Value::from(5), Value::from(5)])),
            "+5  5"
        );
        assert_eq!(
            fmt(
                "%#x %#o %X",
                tuple(vec![Value::from(255), Value::from(8), Value::from(255)])
            ),
            "0xff 0o10 FF"
        );
        assert_eq!(fmt("%08.3e", Value::from(12345.678)), "1.235e+04");
        assert_eq!(
            fmt(
                "%g %g %g",
                tuple(vec![
                    Value::from(1e-5),
                    Value::from(123456789.0),
                    Value::from(0.5)
                ])
            ),
            "1e-05 1.23457e+08 0.5"
        );
        assert_eq!(
            fmt("%r %s", tuple(vec![Value::from("x"), Value::from(())])),
            "'x' None"
        );
        assert_eq!(
            fmt(
                "%*d|%-*d|",
                tuple(vec![
                    Value::from(4),
                    Value::from(1),
                    Value::from(3),
                    Value::from(2)
                ])
            ),
            "   1|2  |"
        );
        assert_eq!(
            fmt(
                "%.2s %c %c %%",
                tuple(vec![Value::from("abc"), Value::from(65), Value::from("z")])
            ),
            "ab A z %"
        );
        assert_eq!(fmt("%d", Value::from(-3.7)), "-3");
        assert_eq!(fmt("%05d", Value::from(-42)), "-0042");
        assert_eq!(fmt("%#06x", Value::from(255)), "0x00ff");
        assert_eq!(fmt("%s", Value::from(vec![1, 2])), "[1, 2]");
        assert_eq!(
            fmt("%s %s", Value::from(1)),
            "ERR not enough arguments for format string"
        );
        assert_eq!(
            fmt("x", Value::from(1)),
            "ERR not all arguments converted during string formatting"
        );
        assert_eq!(fmt("x", Value::from(vec![1])), "x");
        assert!(fmt("%d", Value::from("a")).starts_with("ERR %d format"));
    }
}
