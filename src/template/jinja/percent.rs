//! Python's `%` operator: printf-style formatting when the left side is a string
//! (`'%s:%d' % (name, port)`, `'%(a)s' % {'a': 1}`, `'%05.2f' % x`), the modulo on numbers
//! (sign of the divisor, as Python), and Python's errors otherwise.
//!
//! Conversions: `s r a d i u x X o e E f F g G c %`, flags `# 0 - + space`, width and
//! precision (also `*`), `%(name)` keys, length modifiers `h l L` ignored — as
//! `printf-style String Formatting` in Python's documentation describes them.
//!
//! This file holds the operators and the number rules; the formatting is in `printf`.

use minijinja::value::{Tuple, Value, ValueKind};
use minijinja::{Error, ErrorKind};

mod printf;

pub(crate) use printf::exp_form;
use printf::printf;

/// `a % b` with Python's meaning.
pub(crate) fn py_mod(a: &Value, b: &Value) -> Result<Value, Error> {
    if let Some(format) = a.as_str() {
        let out = printf(format, b)?;
        return Ok(if a.is_safe() {
            Value::from_safe_string(out)
        } else {
            Value::from(out)
        });
    }
    if a.is_undefined() || b.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "undefined value in `%`",
        ));
    }
    if let (Some(x), Some(y)) = (int_of(a), int_of(b)) {
        if y == 0 {
            return Err(type_error("integer modulo by zero"));
        }
        let r = x % y;
        return Ok(Value::from(if r != 0 && (r < 0) != (y < 0) {
            r + y
        } else {
            r
        }));
    }
    if let (Some(x), Some(y)) = (number_of(a), number_of(b)) {
        if y == 0.0 {
            return Err(type_error("float modulo"));
        }
        let mut r = x % y;
        if r != 0.0 && (r < 0.0) != (y < 0.0) {
            r += y;
        }
        if r == 0.0 {
            r = 0.0f64.copysign(y);
        }
        return Ok(Value::from(r));
    }
    Err(type_error(format!(
        "unsupported operand type(s) for %: '{}' and '{}'",
        type_name(a),
        type_name(b)
    )))
}

/// Python's `a ** b`: exact integers (beyond 128 bits as [`BigInt`]), floats otherwise.
pub(crate) fn py_pow(a: &Value, b: &Value) -> Result<Value, Error> {
    if let (Some(x), Some(y)) = (int_of(a), int_of(b))
        && y >= 0
    {
        let y = u32::try_from(y).map_err(|_| type_error("exponent too large"))?;
        if let Some(r) = x.checked_pow(y) {
            return Ok(Value::from(r));
        }
        return BigInt::pow(x, y).map(Value::from_object);
    }
    match (number_of(a), number_of(b)) {
        (Some(x), Some(y)) => {
            if x == 0.0 && y < 0.0 {
                return Err(type_error("0.0 cannot be raised to a negative power"));
            }
            Ok(Value::from(x.powf(y)))
        }
        _ if a.is_undefined() || b.is_undefined() => Err(Error::new(
            ErrorKind::UndefinedError,
            "undefined value in `**`",
        )),
        _ => Err(type_error(format!(
            "unsupported operand type(s) for ** or pow(): '{}' and '{}'",
            type_name(a),
            type_name(b)
        ))),
    }
}

/// An integer beyond 128 bits, from `**`: prints its digits as Python does; other
/// arithmetic on it fails the render rather than giving a different number.
#[derive(Debug)]
pub(crate) struct BigInt {
    /// The decimal digits, with a leading `-` when negative.
    digits: String,
}

impl BigInt {
    /// Results longer than this many digits are refused.
    const MAX_DIGITS: usize = 100_000;

    /// `base ** exp` for a result that overflows i128.
    fn pow(base: i128, exp: u32) -> Result<BigInt, Error> {
        let magnitude = u64::try_from(base.unsigned_abs())
            .map_err(|_| type_error("integer too large for `**`"))?;
        // Little-endian limbs of nine decimal digits.
        let mut limbs: Vec<u32> = vec![1];
        for _ in 0..exp {
            let mut carry: u128 = 0;
            for limb in &mut limbs {
                let v = u128::from(*limb) * u128::from(magnitude) + carry;
                *limb = (v % 1_000_000_000) as u32;
                carry = v / 1_000_000_000;
            }
            while carry > 0 {
                limbs.push((carry % 1_000_000_000) as u32);
                carry /= 1_000_000_000;
            }
            if limbs.len() * 9 > Self::MAX_DIGITS {
                return Err(type_error("integer result of `**` too large"));
            }
        }
        let mut digits = String::new();
        if base < 0 && exp % 2 == 1 {
            digits.push('-');
        }
        let mut iter = limbs.iter().rev();
        if let Some(first) = iter.next() {
            digits.push_str(&first.to_string());
        }
        for limb in iter {
            digits.push_str(&format!("{limb:09}"));
        }
        Ok(BigInt { digits })
    }
}

impl minijinja::value::Object for BigInt {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Plain
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result
    where
        Self: Sized + 'static,
    {
        f.write_str(&self.digits)
    }
}

/// An error of the kind Python's `TypeError`/`ValueError` map to.
fn type_error(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Python's type name of a value, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "Undefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if v.downcast_object_ref::<Tuple>().is_some() => "tuple",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// An integer (or bool) as i128.
fn int_of(v: &Value) -> Option<i128> {
    match v.kind() {
        ValueKind::Bool => Some(i128::from(v.is_true())),
        ValueKind::Number if v.is_integer() => i128::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// Any number (or bool) as f64.
fn number_of(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Bool => Some(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulo_as_python() {
        let m = |a: Value, b: Value| py_mod(&a, &b).map(|v| v.to_string()).unwrap_or_default();
        assert_eq!(m(Value::from(-7), Value::from(3)), "2");
        assert_eq!(m(Value::from(7), Value::from(-3)), "-2");
        assert_eq!(m(Value::from(7.5), Value::from(2)), "1.5");
        assert_eq!(m(Value::from(-1.0), Value::from(3)), "2.0");
        assert!(py_mod(&Value::from(1), &Value::from(0)).is_err());
        let p = |a: i64, b: i64| py_pow(&Value::from(a), &Value::from(b)).map(|v| v.to_string());
        assert_eq!(
            p(10, 40).ok().as_deref(),
            Some("1".to_owned() + &"0".repeat(40)).as_deref()
        );
        assert_eq!(
            p(-3, 81).ok().as_deref(),
            Some("-443426488243037769948249630619149892803")
        );
        assert_eq!(p(2, 10).ok().as_deref(), Some("1024"));
    }
}
