//! Python's format-spec mini-language (`[[fill]align][sign][#][0][width][,][.precision][type]`)
//! applied to one value: strings, integers and floats as Python prints them.

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use crate::template::jinja::percent::{self, type_name};
use crate::template::jinja::pyrepr::{float_repr, py_str};

use super::err;

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
pub(super) fn format_value(value: &Value, spec: &str) -> Result<String, Error> {
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
                    let s = percent::exp_form(ax, f.precision.unwrap_or(6), f.alt);
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
        percent::exp_form(x, p - 1, alt)
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
