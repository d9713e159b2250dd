//! `Printf`'s walk over a format string: flags, width and precision (`*` included),
//! explicit argument indexes (`%[2]d`), and Go's `%!` error forms for missing, extra and bad
//! arguments.

use crate::value::Value;

use super::{Flags, Printer};

impl Printer {
    pub(super) fn do_printf(&mut self, format: &str, args: &[Value]) {
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
