//! sprig's arithmetic and number conversions: integer math over cast's `ToInt64` (`add`,
//! `sub`, `mul`, `div`, `mod`, `max`, `min`...), the decimal float math of `addf`, `subf`,
//! `mulf`, `divf`, `add1f` (shopspring/decimal: exact decimal sums and products, quotients
//! rounded half away from zero at 16 places), `floor`/`ceil`/`round`, `int`/`int64`/`float64`/
//! `atoi`/`toDecimal`, and the sequences `until`, `untilStep` and `seq`.

use super::{FuncError, Value, int, strval, to_float64, to_int64};
use crate::funcs::{FuncMap, Param, Signature};

/// The most elements `until`/`untilStep`/`seq` build (Go would try to allocate any size).
const MAX_SEQUENCE: usize = 1_000_000;

/// A decimal `mant × 10^-scale`, as shopspring/decimal holds one (within i128).
#[derive(Clone, Copy, Debug)]
struct Decimal {
    mant: i128,
    scale: u32,
}

impl Decimal {
    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f}");
        let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
        let digits = format!("{int_part}{frac}");
        Some(Decimal {
            mant: digits.parse().ok()?,
            scale: frac.len() as u32,
        })
    }

    fn rescale(self, scale: u32) -> Option<i128> {
        self.mant
            .checked_mul(10i128.checked_pow(scale - self.scale)?)
    }

    fn add(self, o: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(o.scale);
        Some(Decimal {
            mant: self.rescale(scale)?.checked_add(o.rescale(scale)?)?,
            scale,
        })
    }

    fn sub(self, o: Decimal) -> Option<Decimal> {
        self.add(Decimal {
            mant: o.mant.checked_neg()?,
            scale: o.scale,
        })
    }

    fn mul(self, o: Decimal) -> Option<Decimal> {
        Some(Decimal {
            mant: self.mant.checked_mul(o.mant)?,
            scale: self.scale + o.scale,
        })
    }

    /// `Div`: 16 decimal places, the last rounded half away from zero.
    fn div(self, o: Decimal) -> Option<Decimal> {
        const PREC: u32 = 16;
        let num = self.mant.checked_mul(10i128.checked_pow(o.scale + PREC)?)?;
        let den = o.mant.checked_mul(10i128.checked_pow(self.scale)?)?;
        let mut q = num / den;
        let r = num % den;
        if r.unsigned_abs() * 2 >= den.unsigned_abs() {
            q += if (num < 0) != (den < 0) { -1 } else { 1 };
        }
        Some(Decimal {
            mant: q,
            scale: PREC,
        })
    }

    fn to_f64(self) -> f64 {
        let digits = self.mant.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (i, f) = padded.split_at(padded.len() - scale);
        let sign = if self.mant < 0 { "-" } else { "" };
        format!("{sign}{i}.{f}0").parse().unwrap_or(0.0)
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// sprig's `execDecimalOp`: folds the operands left to right in decimal arithmetic.
fn decimal_fold(first: &Value, rest: &[Value], op: Op) -> Result<Value, FuncError> {
    let mut acc_f = to_float64(first);
    let mut acc = Decimal::from_f64(acc_f);
    for v in rest {
        let x = to_float64(v);
        if matches!(op, Op::Div) && x == 0.0 {
            return Err(FuncError::new("decimal division by 0"));
        }
        let d = Decimal::from_f64(x);
        acc = match (acc, d) {
            (Some(a), Some(b)) => match op {
                Op::Add => a.add(b),
                Op::Sub => a.sub(b),
                Op::Mul => a.mul(b),
                Op::Div => a.div(b),
            },
            _ => None,
        };
        // Out of i128's range, plain float arithmetic stands in for big decimals.
        acc_f = match op {
            Op::Add => acc_f + x,
            Op::Sub => acc_f - x,
            Op::Mul => acc_f * x,
            Op::Div => acc_f / x,
        };
        if let Some(a) = acc {
            acc_f = a.to_f64();
        }
    }
    Ok(Value::Float(acc.map_or(acc_f, Decimal::to_f64)))
}

/// Go's `math.Max`/`math.Min` NaN rule: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// sprig's `untilStep`.
fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FuncError> {
    let mut v = Vec::new();
    let push = |v: &mut Vec<i64>, i: i64| {
        if v.len() >= MAX_SEQUENCE {
            return Err(FuncError::new("sequence too long"));
        }
        v.push(i);
        Ok(())
    };
    if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        let mut i = start;
        while i > stop {
            push(&mut v, i)?;
            match i.checked_add(step) {
                Some(n) => i = n,
                None => break,
            }
        }
        return Ok(v);
    }
    if step <= 0 {
        return Ok(v);
    }
    let mut i = start;
    while i < stop {
        push(&mut v, i)?;
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    Ok(v)
}

fn int_list(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

/// sprig's `seq`, like the Unix command: `seq END`, `seq START END`, `seq START STEP END`.
fn seq(p: &[i64]) -> Result<String, FuncError> {
    let list = match *p {
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step(1, end.wrapping_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(start, end.wrapping_add(step), step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(String::new());
                }
            }
            until_step(start, end.wrapping_add(inc), step)?
        }
        _ => Vec::new(),
    };
    Ok(list
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" "))
}

/// `strconv.Atoi` as sprig uses it: errors give 0, out-of-range values clamp.
fn atoi(s: &str) -> i64 {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse::<i64>().unwrap_or(if s.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// sprig's `round`: rounds up when the fraction reaches `round_on` (0.5 by default).
fn round(v: f64, places: f64, round_on: f64) -> f64 {
    let pow = 10f64.powf(places);
    let digit = pow * v;
    let frac = digit.fract();
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    r / pow
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Any, Float64, Int, String as Str};
    let any1 = || Signature::fixed(&[Any]);
    let any2 = || Signature::fixed(&[Any, Any]);
    m.insert("add1", any1(), |a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_add(1)))
    });
    m.insert("add", Signature::variadic(&[], Any), |a| {
        Ok(Value::Int(
            a.iter().fold(0i64, |s, v| s.wrapping_add(to_int64(v))),
        ))
    });
    m.insert("sub", any2(), |a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    m.insert("div", any2(), |a| {
        let (x, y) = (to_int64(&a[0]), to_int64(&a[1]));
        if y == 0 {
            return Err(FuncError::new("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(x.wrapping_div(y)))
    });
    m.insert("mod", any2(), |a| {
        let (x, y) = (to_int64(&a[0]), to_int64(&a[1]));
        if y == 0 {
            return Err(FuncError::new("runtime error: integer divide by zero"));
        }
        Ok(Value::Int(x.wrapping_rem(y)))
    });
    m.insert("mul", Signature::variadic(&[Any], Any), |a| {
        Ok(Value::Int(
            a[1..]
                .iter()
                .fold(to_int64(&a[0]), |p, v| p.wrapping_mul(to_int64(v))),
        ))
    });
    m.insert("add1f", any1(), |a| {
        decimal_fold(&a[0], &[Value::Int(1)], Op::Add)
    });
    m.insert("addf", Signature::variadic(&[], Any), |a| {
        decimal_fold(&Value::Float(0.0), a, Op::Add)
    });
    m.insert("subf", Signature::variadic(&[Any], Any), |a| {
        decimal_fold(&a[0], &a[1..], Op::Sub)
    });
    m.insert("divf", Signature::variadic(&[Any], Any), |a| {
        decimal_fold(&a[0], &a[1..], Op::Div)
    });
    m.insert("mulf", Signature::variadic(&[Any], Any), |a| {
        decimal_fold(&a[0], &a[1..], Op::Mul)
    });
    for name in ["max", "biggest"] {
        m.insert(name, Signature::variadic(&[Any], Any), |a| {
            Ok(Value::Int(a.iter().map(to_int64).max().unwrap_or_default()))
        });
    }
    m.insert("min", Signature::variadic(&[Any], Any), |a| {
        Ok(Value::Int(a.iter().map(to_int64).min().unwrap_or_default()))
    });
    m.insert("maxf", Signature::variadic(&[Any], Any), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), go_max),
        ))
    });
    m.insert("minf", Signature::variadic(&[Any], Any), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_float64)
                .fold(to_float64(&a[0]), go_min),
        ))
    });
    m.insert("floor", any1(), |a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    m.insert("ceil", any1(), |a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    m.insert("round", Signature::variadic(&[Any, Int], Float64), |a| {
        let on = match a.get(2) {
            Some(Value::Float(f)) => *f,
            _ => 0.5,
        };
        Ok(Value::Float(round(
            to_float64(&a[0]),
            int(&a[1]) as f64,
            on,
        )))
    });
    m.insert("atoi", Signature::fixed(&[Str]), |a| {
        Ok(Value::Int(atoi(a[0].as_str().unwrap_or_default())))
    });
    m.insert("int", any1(), |a| Ok(Value::Int(to_int64(&a[0]))));
    m.insert("int64", any1(), |a| Ok(Value::Int(to_int64(&a[0]))));
    m.insert("float64", any1(), |a| Ok(Value::Float(to_float64(&a[0]))));
    m.insert("toDecimal", any1(), |a| {
        let s = strval(&a[0]);
        let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
        let ok = !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
        let v = if ok {
            i64::from_str_radix(&s, 8).unwrap_or(0)
        } else {
            0
        };
        Ok(Value::Int(v))
    });
    m.insert("until", Signature::fixed(&[Int]), |a| {
        let n = int(&a[0]);
        Ok(int_list(until_step(0, n, if n < 0 { -1 } else { 1 })?))
    });
    m.insert("untilStep", Signature::fixed(&[Int, Int, Int]), |a| {
        Ok(int_list(until_step(int(&a[0]), int(&a[1]), int(&a[2]))?))
    });
    m.insert("seq", Signature::variadic(&[], Int), |a| {
        let p: Vec<i64> = a.iter().map(int).collect();
        Ok(Value::from(seq(&p)?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: Result<Value, FuncError>) -> f64 {
        match v {
            Ok(Value::Float(x)) => x,
            _ => f64::NAN,
        }
    }

    #[test]
    fn decimal_math_matches_shopspring() {
        let v = |x: f64| Value::Float(x);
        assert_eq!(f(decimal_fold(&v(0.0), &[v(1.1), v(2.2)], Op::Add)), 3.3);
        assert_eq!(f(decimal_fold(&v(10.0), &[v(0.1), v(0.2)], Op::Sub)), 9.7);
        assert_eq!(f(decimal_fold(&v(1.1), &[Value::Int(3)], Op::Mul)), 3.3);
        assert_eq!(
            f(decimal_fold(&v(1.0), &[v(3.0)], Op::Div)),
            0.3333333333333333
        );
        assert_eq!(
            f(decimal_fold(&v(2.0), &[v(3.0)], Op::Div)),
            0.6666666666666667
        );
        assert!(decimal_fold(&v(1.0), &[v(0.0)], Op::Div).is_err());
    }

    #[test]
    fn sequences() {
        assert_eq!(seq(&[3]).ok().as_deref(), Some("1 2 3"));
        assert_eq!(seq(&[0]).ok().as_deref(), Some("1 0"));
        assert_eq!(seq(&[10, -3, 0]).ok().as_deref(), Some("10 7 4 1"));
        assert_eq!(seq(&[10, 3, 0]).ok().as_deref(), Some(""));
        assert_eq!(until_step(10, 0, -4).ok(), Some(vec![10, 6, 2]));
        assert_eq!(atoi(" 4"), 0);
        assert_eq!(round(123.555555, 3.0, 0.5), 123.556);
    }
}
