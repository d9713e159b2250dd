//! Go's `fmt` printing of template values: `Sprint`, `Sprintln` and `Sprintf` with fmt's verbs,
//! flags, width and precision, `%v` of lists (`[a b]`), maps (`map[a:1 b:2]`), nil (`<nil>`),
//! records and times, and floats formatted as Go's `strconv` does (shortest representation for
//! `%v`, two-digit exponents `1e+06`). Printing is separate from the engine, as in Go.

use std::fmt::Write as _;

use crate::value::{Value, duration_string};

/// Go's `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a
/// string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, arg) in args.iter().enumerate() {
        let is_str = matches!(arg, Value::String(_));
        if i > 0 && !is_str && !matches!(args[i - 1], Value::String(_)) {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
    }
    p.buf
}

/// Go's `fmt.Sprintln`: operands printed with `%v`, always space-separated, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// Formatting flags of one verb.
#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
}

fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e000}'..='\u{f8ff}')
}

fn quote_rune_into(out: &mut String, c: char, q: char, ascii: bool) {
    if c == q || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if (!ascii || c.is_ascii()) && is_printable(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

fn quote_with(s: &str, q: char, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        quote_rune_into(&mut out, c, q, ascii);
    }
    out.push(q);
    out
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !c.is_control()))
}

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

impl Printer {
    fn pad_with(&mut self, s: &str, zero_ok: bool) {
        let Some(wid) = self.f.wid else {
            self.buf.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= wid {
            self.buf.push_str(s);
            return;
        }
        let fill = wid - n;
        if self.f.minus {
            self.buf.push_str(s);
            self.buf.extend(std::iter::repeat_n(' ', fill));
        } else {
            let c = if self.f.zero && zero_ok { '0' } else { ' ' };
            self.buf.extend(std::iter::repeat_n(c, fill));
            self.buf.push_str(s);
        }
    }

    fn pad(&mut self, s: &str) {
        self.pad_with(s, true);
    }

    fn bad_verb(&mut self, v: &Value, verb: char) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        if v.is_nil() {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(&v.type_name());
            self.buf.push('=');
            let saved = self.f;
            self.f = Flags::default();
            self.print_value(v, 'v', 0);
            self.f = saved;
        }
        self.buf.push(')');
    }

    fn print_arg(&mut self, v: &Value, verb: char) {
        if verb == 'T' {
            let t = v.type_name();
            self.fmt_string(&t, 's');
            return;
        }
        if v.is_nil() {
            match verb {
                'v' => self.pad("<nil>"),
                _ => self.bad_verb(v, verb),
            }
            return;
        }
        self.print_value(v, verb, 0);
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        match v {
            Value::Nil => {
                if depth > 0 && self.f.sharp_v {
                    self.buf.push_str("interface {}(nil)");
                } else if verb == 'v' {
                    self.pad("<nil>");
                } else {
                    self.bad_verb(v, verb);
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(v, verb),
            },
            Value::Int(i) => self.fmt_int(v, i.unsigned_abs(), *i < 0, true, verb),
            Value::Uint(u) => self.fmt_int(v, *u, false, false, verb),
            Value::Duration(d) => match verb {
                'v' | 's' | 'q' | 'x' | 'X' if !self.f.sharp_v => {
                    let s = duration_string(*d);
                    self.fmt_string(&s, verb);
                }
                _ => self.fmt_int(v, d.unsigned_abs(), *d < 0, true, verb),
            },
            Value::Float(x) => self.fmt_float(v, *x, verb),
            Value::String(s) => self.fmt_string_verb(v, s, verb),
            Value::Time(t) => match verb {
                'v' if self.f.sharp_v => {
                    let c = t.civil();
                    const MONTHS: [&str; 12] = [
                        "January",
                        "February",
                        "March",
                        "April",
                        "May",
                        "June",
                        "July",
                        "August",
                        "September",
                        "October",
                        "November",
                        "December",
                    ];
                    let zone = if t.offset == 0 && &*t.zone == "UTC" {
                        "time.UTC".to_string()
                    } else {
                        format!("time.Location({})", quote(&t.zone))
                    };
                    let s = format!(
                        "time.Date({}, time.{}, {}, {}, {}, {}, {}, {})",
                        c.year,
                        MONTHS[(c.month as usize).saturating_sub(1) % 12],
                        c.day,
                        c.hour,
                        c.minute,
                        c.second,
                        t.nanos,
                        zone
                    );
                    self.buf.push_str(&s);
                }
                'v' | 's' | 'q' | 'x' | 'X' => {
                    let s = t.to_string();
                    self.fmt_string(&s, verb);
                }
                _ => self.bad_verb(v, verb),
            },
            Value::List(l) => {
                if self.f.sharp_v {
                    self.buf.push_str("[]interface {}{");
                    for (i, e) in l.borrow().iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_value(e, verb, depth + 1);
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push('[');
                for (i, e) in l.borrow().iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_value(e, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                if self.f.sharp_v {
                    self.buf.push_str("map[string]interface {}{");
                } else {
                    self.buf.push_str("map[");
                }
                for (i, (k, e)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        self.buf.push_str(if self.f.sharp_v { ", " } else { " " });
                    }
                    self.fmt_string_verb(&Value::str(k), k, verb);
                    self.buf.push(':');
                    self.print_value(e, verb, depth + 1);
                }
                self.buf.push(if self.f.sharp_v { '}' } else { ']' });
            }
            Value::Record(r) if r.items.is_some() && !self.f.sharp_v => {
                let list = v.as_list_like();
                self.print_value(&list, verb, depth);
            }
            Value::Record(r) => {
                if self.f.sharp_v {
                    self.buf.push_str(&r.type_name);
                }
                self.buf.push('{');
                for (i, (k, e)) in r.fields.iter().enumerate() {
                    if i > 0 {
                        self.buf.push_str(if self.f.sharp_v { ", " } else { " " });
                    }
                    if self.f.plus_v || self.f.sharp_v {
                        self.buf.push_str(k);
                        self.buf.push(':');
                    }
                    self.print_value(e, verb, depth + 1);
                }
                self.buf.push('}');
            }
            Value::Func(f) => match verb {
                'v' | 'p' => {
                    let addr = std::rc::Rc::as_ptr(f) as *const () as usize;
                    let s = format!("{addr:#x}");
                    self.pad(&s);
                }
                _ => self.bad_verb(v, verb),
            },
        }
    }

    fn fmt_string_verb(&mut self, v: &Value, s: &str, verb: char) {
        match verb {
            'v' if self.f.sharp_v => {
                let q = quote(s);
                self.pad(&q);
            }
            'v' | 's' | 'q' | 'x' | 'X' => self.fmt_string(s, verb),
            _ => self.bad_verb(v, verb),
        }
    }

    /// Strings with %v %s %q %x %X, precision truncating.
    fn fmt_string(&mut self, s: &str, verb: char) {
        let s: &str = match self.f.prec {
            Some(p) if verb != 'x' && verb != 'X' => match s.char_indices().nth(p) {
                Some((i, _)) => &s[..i],
                None => s,
            },
            _ => s,
        };
        match verb {
            'q' => {
                let out = if self.f.sharp && can_backquote(s) {
                    format!("`{s}`")
                } else {
                    quote_with(s, '"', self.f.plus)
                };
                self.pad(&out);
            }
            'x' | 'X' => {
                let bytes = s.as_bytes();
                let n = match self.f.prec {
                    Some(p) => p.min(bytes.len()),
                    None => bytes.len(),
                };
                let mut out = String::new();
                for (i, b) in bytes[..n].iter().enumerate() {
                    if self.f.space && i > 0 {
                        out.push(' ');
                    }
                    if self.f.sharp && (self.f.space || i == 0) {
                        out.push_str(if verb == 'x' { "0x" } else { "0X" });
                    }
                    if verb == 'x' {
                        let _ = write!(out, "{b:02x}");
                    } else {
                        let _ = write!(out, "{b:02X}");
                    }
                }
                self.pad(&out);
            }
            _ => self.pad(s),
        }
    }

    fn fmt_int(&mut self, v: &Value, mag: u64, neg: bool, signed: bool, verb: char) {
        match verb {
            'v' if self.f.sharp_v && !signed => self.fmt_integer(mag, neg, 16, true, 'x'),
            'v' | 'd' => self.fmt_integer(mag, neg, 10, false, 'd'),
            'b' => self.fmt_integer(mag, neg, 2, false, 'b'),
            'o' | 'O' => self.fmt_integer(mag, neg, 8, false, verb),
            'x' => self.fmt_integer(mag, neg, 16, false, 'x'),
            'X' => self.fmt_integer(mag, neg, 16, false, 'X'),
            'c' | 'q' | 'U' => {
                let code = if neg {
                    u32::MAX
                } else {
                    u32::try_from(mag).unwrap_or(u32::MAX)
                };
                let c = char::from_u32(code).unwrap_or('\u{fffd}');
                match verb {
                    'c' => self.pad(&c.to_string()),
                    'q' => {
                        let mut out = String::from("'");
                        if self.f.sharp && c != '\'' && is_printable(c) && c != '\\' {
                            out.push(c);
                        } else {
                            quote_rune_into(&mut out, c, '\'', self.f.plus);
                        }
                        out.push('\'');
                        self.pad(&out);
                    }
                    _ => {
                        let mut out = format!("U+{:04X}", if neg { 0 } else { mag });
                        if self.f.sharp && is_printable(c) {
                            let _ = write!(out, " '{c}'");
                        }
                        self.pad_with(&out, false);
                    }
                }
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => self.bad_verb(v, verb),
            _ => self.bad_verb(v, verb),
        }
    }

    /// Go's fmtInteger: precision is a minimum digit count, the zero flag pads after the sign.
    fn fmt_integer(&mut self, mag: u64, neg: bool, base: u32, force_sharp: bool, verb: char) {
        let mut digits = match base {
            2 => format!("{mag:b}"),
            8 => format!("{mag:o}"),
            16 if verb == 'X' => format!("{mag:X}"),
            16 => format!("{mag:x}"),
            _ => mag.to_string(),
        };
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            if p == 0 && mag == 0 {
                let saved = self.f.zero;
                self.f.zero = false;
                self.pad("");
                self.f.zero = saved;
                return;
            }
            prec = p;
        } else if self.f.zero
            && !self.f.minus
            && let Some(w) = self.f.wid
        {
            prec = w;
            if neg || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        if digits.len() < prec {
            digits = "0".repeat(prec - digits.len()) + &digits;
        }
        let mut prefix = String::new();
        if self.f.sharp || force_sharp {
            match base {
                2 => prefix.push_str("0b"),
                8 if !digits.starts_with('0') => prefix.push('0'),
                16 => prefix.push_str(if verb == 'X' { "0X" } else { "0x" }),
                _ => {}
            }
        }
        if verb == 'O' {
            prefix = "0o".into();
        }
        let sign = if neg {
            "-"
        } else if self.f.plus {
            "+"
        } else if self.f.space {
            " "
        } else {
            ""
        };
        let out = format!("{sign}{prefix}{digits}");
        let saved = self.f.zero;
        self.f.zero = false;
        self.pad(&out);
        self.f.zero = saved;
    }

    fn fmt_float(&mut self, v: &Value, x: f64, verb: char) {
        let (verb, prec) = match verb {
            'v' => ('g', None),
            'b' | 'x' | 'X' => (verb, None),
            'g' | 'G' => (verb, self.f.prec),
            'e' | 'E' | 'f' | 'F' => (verb, Some(self.f.prec.unwrap_or(6))),
            _ => {
                self.bad_verb(v, verb);
                return;
            }
        };
        let s = format_float(x, verb, prec);
        let mut num = if s.starts_with('-') || s.starts_with('+') {
            s
        } else {
            format!("+{s}")
        };
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        if num[1..].starts_with('I') || num[1..].starts_with('N') {
            if num[1..].starts_with('N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            let saved = self.f.zero;
            self.f.zero = false;
            self.pad(&num);
            self.f.zero = saved;
            return;
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero
                && !self.f.minus
                && let Some(w) = self.f.wid
                && w > num.len()
            {
                self.buf.push_str(&num[..1]);
                self.buf.extend(std::iter::repeat_n('0', w - num.len()));
                self.buf.push_str(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let bytes = format.as_bytes();
        let end = bytes.len();
        let mut arg_num = 0usize;
        let mut reordered = false;
        let mut i = 0usize;
        while i < end {
            let lasti = i;
            while i < end && bytes[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.buf.push_str(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // skip '%'
            self.f = Flags::default();
            // Flags.
            while i < end {
                match bytes[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => break,
                }
                i += 1;
            }
            // Argument index and width.
            let mut good_arg_num = true;
            (arg_num, i, reordered, good_arg_num) =
                arg_number(arg_num, format, i, args.len(), reordered, good_arg_num);
            if i < end && bytes[i] == b'*' {
                i += 1;
                let (w, ok) = int_from_arg(args, arg_num);
                arg_num += 1;
                match w {
                    Some(w) if ok => {
                        if w < 0 {
                            self.f.minus = true;
                            self.f.zero = false;
                        }
                        self.f.wid = Some(w.unsigned_abs() as usize);
                    }
                    _ => self.buf.push_str("%!(BADWIDTH)"),
                }
                reordered = false;
            } else {
                let (n, ni) = parse_num(format, i);
                if let Some(n) = n {
                    self.f.wid = Some(n);
                    if reordered {
                        good_arg_num = false;
                    }
                }
                i = ni;
            }
            // Precision.
            if i < end && bytes[i] == b'.' {
                i += 1;
                if reordered {
                    good_arg_num = false;
                }
                (arg_num, i, reordered, good_arg_num) =
                    arg_number(arg_num, format, i, args.len(), reordered, good_arg_num);
                if i < end && bytes[i] == b'*' {
                    i += 1;
                    let (p, ok) = int_from_arg(args, arg_num);
                    arg_num += 1;
                    match p {
                        Some(p) if ok && p >= 0 => self.f.prec = Some(p as usize),
                        Some(_) if ok => self.f.prec = None,
                        _ => self.buf.push_str("%!(BADPREC)"),
                    }
                    reordered = false;
                } else {
                    let (n, ni) = parse_num(format, i);
                    self.f.prec = Some(n.unwrap_or(0));
                    i = ni;
                }
            }
            if !reordered {
                (arg_num, i, reordered, good_arg_num) =
                    arg_number(arg_num, format, i, args.len(), reordered, good_arg_num);
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            // The verb is one character (UTF-8 aware).
            let verb = format[i..].chars().next().unwrap_or('%');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
                continue;
            }
            if !good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
                continue;
            }
            if arg_num >= args.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
                continue;
            }
            if verb == 'v' {
                if self.f.sharp {
                    self.f.sharp = false;
                    self.f.sharp_v = true;
                }
                if self.f.plus {
                    self.f.plus = false;
                    self.f.plus_v = true;
                }
            }
            if verb == 'w' {
                self.bad_verb(&args[arg_num], verb);
                arg_num += 1;
                continue;
            }
            self.print_arg(&args[arg_num], verb);
            arg_num += 1;
        }
        if !reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if a.is_nil() {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(&a.type_name());
                    self.buf.push('=');
                    self.print_arg(a, 'v');
                }
            }
            self.buf.push(')');
        }
    }
}

/// A decimal number at `i`, if any, and the index after it.
fn parse_num(s: &str, mut i: usize) -> (Option<usize>, usize) {
    let b = s.as_bytes();
    let start = i;
    let mut n: usize = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        n = n
            .saturating_mul(10)
            .saturating_add(usize::from(b[i] - b'0'));
        if n > 1_000_000 {
            return (None, b.len());
        }
        i += 1;
    }
    if i == start { (None, i) } else { (Some(n), i) }
}

/// An explicit argument index `[n]` at `i`: returns (arg_num, new i, reordered, ok).
fn arg_number(
    arg_num: usize,
    format: &str,
    i: usize,
    num_args: usize,
    reordered: bool,
    good: bool,
) -> (usize, usize, bool, bool) {
    let b = format.as_bytes();
    if i >= b.len() || b[i] != b'[' {
        return (arg_num, i, reordered, good);
    }
    let Some(close) = format[i..].find(']') else {
        return (arg_num, i + 1, true, false);
    };
    let inner = &format[i + 1..i + close];
    match inner.parse::<usize>() {
        Ok(n) if n >= 1 && inner.bytes().all(|c| c.is_ascii_digit()) && n <= num_args => {
            (n - 1, i + close + 1, true, good)
        }
        _ => (arg_num, i + close + 1, true, false),
    }
}

/// An int argument for `*` width or precision.
fn int_from_arg(args: &[Value], n: usize) -> (Option<i64>, bool) {
    match args.get(n) {
        Some(Value::Int(i)) if i.unsigned_abs() <= 1_000_000 => (Some(*i), true),
        Some(Value::Uint(u)) if *u <= 1_000_000 => (Some(*u as i64), true),
        _ => (None, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

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

    #[test]
    fn sprint_spacing() {
        assert_eq!(
            sprint(&[s("a"), Value::Int(1), Value::Int(2), s("b")]),
            "a1 2b"
        );
        assert_eq!(sprintln(&[s("x"), Value::Int(1)]), "x 1\n");
        assert_eq!(sprint(&[Value::Nil, Value::Nil]), "<nil> <nil>");
    }

    #[test]
    fn verbs_flags_and_widths() {
        let l = Value::list(vec![Value::Int(1), s("a"), Value::Nil]);
        let mut m = BTreeMap::new();
        m.insert("b".to_string(), Value::Int(2));
        m.insert("a".to_string(), Value::Float(1.5));
        let m = Value::map(m);
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            (
                "%5s|%-4d|%03d",
                vec![s("ab"), Value::Int(7), Value::Int(5)],
                "   ab|7   |005",
            ),
            (
                "%v %v",
                vec![l.clone(), m.clone()],
                "[1 a <nil>] map[a:1.5 b:2]",
            ),
            (
                "%q %x %X %o %b",
                vec![
                    s("q\n"),
                    Value::Int(255),
                    s("hi"),
                    Value::Int(8),
                    Value::Int(5),
                ],
                "\"q\\n\" ff 6869 10 101",
            ),
            ("%d %s", vec![s("x")], "%!d(string=x) %!s(MISSING)"),
            ("%d", vec![Value::Int(1), s("x")], "1%!(EXTRA string=x)"),
            (
                "%+d % d %x",
                vec![Value::Int(3), Value::Int(3), Value::Int(-255)],
                "+3  3 -ff",
            ),
            (
                "%08.3f|%-8.2e|%G",
                vec![Value::Float(-1.5), Value::Float(1234.5), Value::Float(1e-7)],
                "-001.500|1.23e+03|1E-07",
            ),
            (
                "%c %U %#U %q",
                vec![
                    Value::Int(65),
                    Value::Int(0x1F600),
                    Value::Int(65),
                    Value::Int(65),
                ],
                "A U+1F600 U+0041 'A' 'A'",
            ),
            (
                "%T %T %T %T",
                vec![Value::Int(1), l.clone(), m.clone(), Value::Nil],
                "int []interface {} map[string]interface {} <nil>",
            ),
            (
                "%t %v",
                vec![Value::Bool(true), Value::Bool(false)],
                "true false",
            ),
            ("%.2s|%5.1q", vec![s("abc"), s("xyz")], "ab|  \"x\""),
            ("%[2]d %[1]d", vec![Value::Int(1), Value::Int(2)], "2 1"),
            (
                "%*d|%-*d|",
                vec![Value::Int(4), Value::Int(7), Value::Int(3), Value::Int(1)],
                "   7|1  |",
            ),
            (
                "%#v %#v",
                vec![s("a"), l],
                "\"a\" []interface {}{1, \"a\", interface {}(nil)}",
            ),
            ("%%|%", vec![], "%|%!(NOVERB)"),
            ("%d", vec![Value::Nil], "%!d(<nil>)"),
            (
                "%x %#x % x",
                vec![s("ab"), Value::Int(10), s("ab")],
                "6162 0xa 61 62",
            ),
            (
                "%6.2f|%v|%v",
                vec![
                    Value::Float(f64::INFINITY),
                    Value::Float(f64::NAN),
                    Value::Float(-0.0),
                ],
                "  +Inf|NaN|-0",
            ),
        ];
        for (f, args, want) in cases {
            assert_eq!(sprintf(f, &args), want, "format {f:?}");
        }
    }

    #[test]
    fn quote_escapes() {
        assert_eq!(quote("a\"b\\\u{1}é\u{2028}"), "\"a\\\"b\\\\\\x01é\\u2028\"");
    }
}
