//! Floats printed as Go's `strconv.FormatFloat` prints them: shortest round-tripping digits
//! for `%v`/`%g`, fixed precision for `%e`/`%f`, two-digit exponents, and `%b`/`%x`.

use std::fmt::Write as _;

/// Decimal digits of a finite, non-negative float: `digits` without leading/trailing zeros
/// (empty for zero) and the decimal point position `dp` (value = 0.digits × 10^dp).
struct Decimal {
    digits: Vec<u8>,
    dp: i32,
}

/// Parses Rust's `{:e}` output (`d.ddde-7`) into digits and the decimal point position.
fn decimal_from_sci(s: &str) -> Decimal {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return Decimal { digits, dp: 0 };
    }
    Decimal {
        digits,
        dp: exp + 1,
    }
}

/// The shortest digits that read back as `v`.
fn shortest(v: f64) -> Decimal {
    decimal_from_sci(&format!("{:e}", v.abs()))
}

/// `v` rounded to `n` (≥ 1) significant digits.
fn rounded(v: f64, n: usize) -> Decimal {
    decimal_from_sci(&format!("{:.*e}", n.saturating_sub(1), v.abs()))
}

fn digit_at(d: &Decimal, i: i32) -> u8 {
    if i >= 0 && (i as usize) < d.digits.len() {
        d.digits[i as usize]
    } else {
        b'0'
    }
}

/// `%e`: d.ddde±dd with `prec` digits after the point.
fn fmt_e(d: &Decimal, prec: usize, e: char) -> String {
    let mut out = String::new();
    out.push(digit_at(d, 0) as char);
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(digit_at(d, i as i32) as char);
        }
    }
    out.push(e);
    let exp = if d.digits.is_empty() { 0 } else { d.dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        out.push('0');
    }
    let _ = write!(out, "{a}");
    out
}

/// `%f`: ddd.ddd with `prec` digits after the point.
fn fmt_f(d: &Decimal, prec: usize) -> String {
    let mut out = String::new();
    if d.dp > 0 {
        for i in 0..d.dp {
            out.push(digit_at(d, i) as char);
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            out.push(digit_at(d, d.dp + i) as char);
        }
    }
    out
}

/// Go's `strconv.FormatFloat(v, verb, prec, 64)` for the verbs e, E, f, g, G; `prec` None is
/// the shortest representation. The result carries a '-' for negative values only.
pub fn format_float(v: f64, verb: char, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = v.is_sign_negative();
    let body = match verb {
        'b' | 'x' | 'X' => binary_float(v.abs(), verb),
        'e' | 'E' => {
            let e = verb;
            match prec {
                None => {
                    let d = shortest(v);
                    let p = d.digits.len().saturating_sub(1);
                    fmt_e(&d, p, e)
                }
                Some(p) => fmt_e(&rounded(v, p + 1), p, e),
            }
        }
        'f' | 'F' => match prec {
            None => {
                let d = shortest(v);
                let p = (d.digits.len() as i32 - d.dp).max(0) as usize;
                fmt_f(&d, p)
            }
            Some(p) => format!("{:.*}", p, v.abs()),
        },
        _ => {
            let e = if verb == 'G' { 'E' } else { 'e' };
            let (d, mut p, short) = match prec {
                None => {
                    let d = shortest(v);
                    let n = d.digits.len();
                    (d, n, true)
                }
                Some(p) => {
                    let p = p.max(1);
                    (rounded(v, p), p, false)
                }
            };
            let nd = d.digits.len() as i32;
            let mut eprec = p as i32;
            if eprec > nd && nd >= d.dp {
                eprec = nd;
            }
            if short {
                eprec = 6;
            }
            let exp = if d.digits.is_empty() { 0 } else { d.dp - 1 };
            if exp < -4 || exp >= eprec {
                if p as i32 > nd {
                    p = nd.max(1) as usize;
                }
                fmt_e(&d, p.saturating_sub(1), e)
            } else {
                if p as i32 > d.dp {
                    p = nd as usize;
                }
                fmt_f(&d, (p as i32 - d.dp).max(0) as usize)
            }
        }
    };
    if neg { format!("-{body}") } else { body }
}

/// `%b` (`4503599627370496p-52`) and `%x`/`%X` (`0x1.8p+00`, shortest) of a non-negative float.
fn binary_float(v: f64, verb: char) -> String {
    let bits = v.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    if verb == 'b' {
        let (mant, exp) = if raw_exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, raw_exp - 1075)
        };
        let sign = if exp >= 0 { "+" } else { "" };
        return format!("{mant}p{sign}{exp}");
    }
    let (mut frac, mut exp) = (frac, raw_exp - 1023);
    let mut out = String::from("0x");
    if raw_exp == 0 && frac == 0 {
        out.push_str("0p+00");
    } else {
        if raw_exp == 0 {
            // Subnormal: shift the leading one into the implicit bit.
            exp = -1022;
            while frac & (1 << 52) == 0 {
                frac <<= 1;
                exp -= 1;
            }
            frac &= (1 << 52) - 1;
        }
        out.push('1');
        let hex = format!("{frac:013x}");
        let hex = hex.trim_end_matches('0');
        if !hex.is_empty() {
            out.push('.');
            out.push_str(hex);
        }
        out.push('p');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
    if verb == 'X' { out.to_uppercase() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_strconv() {
        let cases: &[(f64, char, Option<usize>, &str)] = &[
            (1.0, 'g', None, "1"),
            (2.5, 'g', None, "2.5"),
            (1e6, 'g', None, "1e+06"),
            (123456.0, 'g', None, "123456"),
            (1234567.0, 'g', None, "1.234567e+06"),
            (0.0001, 'g', None, "0.0001"),
            (0.00001, 'g', None, "1e-05"),
            (1e21, 'g', None, "1e+21"),
            (-0.5, 'g', None, "-0.5"),
            (0.0, 'g', None, "0"),
            (3.25159, 'f', Some(2), "3.25"),
            (3.0, 'e', Some(6), "3.000000e+00"),
            (1234.5678, 'g', Some(3), "1.23e+03"),
            (1.0, 'g', Some(3), "1"),
            (100.0, 'g', Some(3), "100"),
            (0.1, 'f', Some(0), "0"),
            (1e100, 'e', None, "1e+100"),
        ];
        for &(v, verb, prec, want) in cases {
            assert_eq!(format_float(v, verb, prec), want, "{v} {verb} {prec:?}");
        }
    }
}
