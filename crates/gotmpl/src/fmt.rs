//! Go's `fmt` printing of template values: `Sprint`, `Sprintln` and `Sprintf` with fmt's verbs,
//! flags, width and precision, `%v` of lists (`[a b]`), maps (`map[a:1 b:2]`), nil (`<nil>`),
//! records and times, and floats formatted as Go's `strconv` does (shortest representation for
//! `%v`, two-digit exponents `1e+06`). Printing is separate from the engine, as in Go.
//!
//! This file holds the printer and `%v` of every kind; the format-string walk is in `printf`,
//! the other verbs in `verbs`, floats in `float` and quoting in `quote`.

use crate::value::{Value, duration_string};

mod float;
mod printf;
mod quote;
mod verbs;

pub use float::format_float;
pub use quote::quote;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn s(v: &str) -> Value {
        Value::str(v)
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
}
