//! Jinja2's number filters with Python's conversions: `int(default=0, base=10)` parses as
//! Python's `int(text, base)` (prefixes, `_` between digits, whitespace) and falls back to
//! `int(float(text))`, then to the default; `float(default=0.0)` parses as Python's
//! `float(text)`; `round(precision=0, method='common')` rounds half to even on the exact
//! value, as Python's `round`.

use minijinja::value::{Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind};

use super::filters::Args;

/// Registers the number filters.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("round", round);
}

/// Python's `int(text, base)`; `None` where Python raises `ValueError`.
pub(crate) fn parse_int(text: &str, base: u32) -> Option<i128> {
    let text = text.trim();
    let (negative, text) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = text.to_ascii_lowercase();
    let prefixed = |p: &str| lower.starts_with(p);
    let (base, digits, had_prefix) = match base {
        0 if prefixed("0x") => (16, &text[2..], true),
        0 if prefixed("0o") => (8, &text[2..], true),
        0 if prefixed("0b") => (2, &text[2..], true),
        0 => (10, text, false),
        16 if prefixed("0x") => (16, &text[2..], true),
        8 if prefixed("0o") => (8, &text[2..], true),
        2 if prefixed("0b") => (2, &text[2..], true),
        b if (2..=36).contains(&b) => (b, text, false),
        _ => return None,
    };
    // After a prefix one `_` may come first (`0x_1f`); elsewhere only between digits.
    let digits = if had_prefix {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude = i128::from_str_radix(&clean, base).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// Python's `float(text)`; `None` where Python raises `ValueError`.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('_') || text.ends_with('_') || text.contains("__") {
        return None;
    }
    let clean: String = if text.contains('_') {
        // `_` only between digits.
        let chars: Vec<char> = text.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if *c == '_'
                && !(chars[i - 1].is_ascii_digit()
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                return None;
            }
        }
        chars.into_iter().filter(|c| *c != '_').collect()
    } else {
        text.to_owned()
    };
    let lower = clean.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return clean.parse().ok();
    }
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    clean.parse().ok()
}

/// An integer value, as small as it fits.
fn int_value(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(n),
    }
}

/// Python's `int(value)` for a non-string; `None` where Python raises.
fn int_of_number(value: &Value) -> Option<i128> {
    match value.kind() {
        ValueKind::Bool => Some(i128::from(value.is_true())),
        ValueKind::Number if value.is_integer() => i128::try_from(value.clone()).ok(),
        ValueKind::Number => {
            let x = f64::try_from(value.clone()).ok()?;
            // `as` saturates; Python's ints are unbounded, so only huge floats differ.
            x.is_finite().then(|| x.trunc() as i128)
        }
        _ => None,
    }
}

/// `int(default=0, base=10)`.
fn int(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("int", &args.into_values(), &["default", "base"])?;
    let default = args.value_or(0, Value::from(0));
    let base = args.int(1, "int", 10)?;
    let parsed = match value.as_str() {
        Some(text) => u32::try_from(base)
            .ok()
            .and_then(|b| parse_int_base(text, b))
            .or_else(|| {
                parse_float(text)
                    .filter(|x| x.is_finite())
                    .map(|x| x.trunc() as i128)
            }),
        None => int_of_number(value),
    };
    Ok(parsed.map_or(default, int_value))
}

/// [`parse_int`] with base 0's rule on leading zeros (`int('010', 0)` fails).
fn parse_int_base(text: &str, base: u32) -> Option<i128> {
    if base == 0 {
        let t = text.trim().trim_start_matches(['+', '-']);
        let digits: String = t.chars().filter(|c| *c != '_').collect();
        if digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.bytes().any(|b| b != b'0')
        {
            return None;
        }
    }
    parse_int(text, base)
}

/// `float(default=0.0)`.
fn float(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("float", &args.into_values(), &["default"])?;
    let parsed = match value.kind() {
        ValueKind::String => parse_float(value.as_str().unwrap_or_default()),
        ValueKind::Bool => Some(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).ok(),
        _ => None,
    };
    Ok(parsed.map_or_else(|| args.value_or(0, Value::from(0.0)), Value::from))
}

/// Python's `round(x, ndigits)` for a float: half to even on the exact binary value.
pub(crate) fn round_float(x: f64, ndigits: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if ndigits >= 0 {
        let digits = usize::try_from(ndigits.min(340)).unwrap_or(340);
        // Rust prints the exactly rounded decimal, ties to even, as CPython's dtoa does.
        format!("{x:.digits$}").parse().unwrap_or(x)
    } else {
        let scale = 10f64.powi(i32::try_from(-ndigits).unwrap_or(400));
        if !scale.is_finite() {
            return 0.0 * x;
        }
        (x / scale).round_ties_even() * scale
    }
}

/// Python's `round(n, ndigits)` for an integer: unchanged for `ndigits >= 0`, else to the
/// nearest multiple of `10**-ndigits`, ties to even.
fn round_int(n: i128, ndigits: i64) -> i128 {
    if ndigits >= 0 {
        return n;
    }
    let Some(scale) = u32::try_from(-ndigits)
        .ok()
        .and_then(|e| 10i128.checked_pow(e))
    else {
        return 0;
    };
    let quotient = n.div_euclid(scale);
    let remainder = n.rem_euclid(scale);
    let rounded = match (2 * remainder).cmp(&scale) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    };
    rounded * scale
}

/// `round(precision=0, method='common')`: `common` is Python's `round`, `ceil`/`floor`
/// round up/down at `precision` digits (always a float).
fn round(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("round", &args.into_values(), &["precision", "method"])?;
    let precision = args.int(0, "round", 0)?;
    let method = args.get(1).map_or("common".to_owned(), |m| m.to_string());
    if !matches!(method.as_str(), "common" | "ceil" | "floor") {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "method must be common, ceil or floor",
        ));
    }
    let integer = value.kind() == ValueKind::Bool || value.is_integer();
    if method == "common" {
        if integer {
            let n = int_of_number(value).unwrap_or(0);
            return Ok(int_value(round_int(n, precision)));
        }
        let x = f64::try_from(value.clone())?;
        return Ok(Value::from(round_float(x, precision)));
    }
    let x = f64::try_from(value.clone())?;
    let scale = 10f64.powi(i32::try_from(precision).unwrap_or(0));
    let scaled = if method == "ceil" {
        (x * scale).ceil()
    } else {
        (x * scale).floor()
    };
    Ok(Value::from(scaled / scale))
}
