//! The verbs for one operand of a given kind: strings (`%s %q %x`), integers (every base,
//! with sign, `#` and zero padding) and floats.

use std::fmt::Write as _;

use crate::value::Value;

use super::quote::{can_backquote, is_printable, quote_rune_into, quote_with};
use super::{Printer, format_float, quote};

impl Printer {
    pub(super) fn fmt_string_verb(&mut self, v: &Value, s: &str, verb: char) {
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
    pub(super) fn fmt_string(&mut self, s: &str, verb: char) {
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

    pub(super) fn fmt_int(&mut self, v: &Value, mag: u64, neg: bool, signed: bool, verb: char) {
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

    pub(super) fn fmt_float(&mut self, v: &Value, x: f64, verb: char) {
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
}
