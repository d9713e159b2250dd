//! Evaluation of pipelines and their operands: commands, variables, field and key chains, and
//! the zero-argument methods of `time.Time` that templates call as fields.

use crate::fmt::quote;
use crate::funcs::Param;
use crate::node::{Arg, Command, Number, Pipe};
use crate::template::MissingKey;
use crate::value::{Record, Time, Value};

use super::{At, R, State, var};

impl<'a> State<'a> {
    pub(super) fn eval_pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for (_, name) in &pipe.decl {
            if pipe.is_assign {
                self.set_var(At::Pipe(pipe), name, value.clone())?;
            } else {
                self.vars.push(var(name, value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(
                At::Arg(&args[0]),
                format!("can't give argument to non-function {}", args[0]),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'a Command, fin: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.last_boxed = self.dot_boxed;
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    At::Arg(first),
                    idents,
                    &cmd.args,
                    fin,
                );
            }
            Arg::Chain { node, fields, .. } => {
                return self.eval_chain(dot, first, node, fields, &cmd.args, fin);
            }
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args[1..], fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { idents, .. } => {
                return self.eval_variable(dot, first, idents, &cmd.args, fin);
            }
            _ => {}
        }
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf(At::Arg(first), "nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(first, num),
            Arg::String { text, .. } => Ok(Value::from(text.as_str())),
            _ => Err(self.errorf(
                At::Arg(first),
                format!("can't evaluate command {}", quote(&first.to_string())),
            )),
        }
    }

    pub(super) fn ideal_constant(&self, at: &Arg, n: &Number) -> R<Value> {
        if n.is_complex {
            return Err(self.errorf(
                At::Arg(at),
                format!("complex constant {} is not supported", n.text),
            ));
        }
        let lower = n.text.to_ascii_lowercase();
        let body = lower.trim_start_matches(['+', '-']);
        let hex_int = body.starts_with("0x") && !body.contains('p');
        let rune = n.text.starts_with('\'');
        if n.is_float && !hex_int && !rune && n.text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.errorf(At::Arg(at), format!("{} overflows int", n.text)));
        }
        Ok(Value::Float(n.float))
    }

    pub(super) fn eval_variable(
        &mut self,
        dot: &Value,
        node: &'a Arg,
        idents: &'a [String],
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let (v, boxed) = self.var_value(At::Arg(node), &idents[0])?;
        self.last_boxed = boxed;
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(v);
        }
        self.eval_field_chain(dot, v, At::Arg(node), &idents[1..], args, fin)
    }

    pub(super) fn eval_chain(
        &mut self,
        dot: &Value,
        chain: &'a Arg,
        node: &'a Arg,
        fields: &'a [String],
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        if let Arg::Nil { .. } = node {
            return Err(self.errorf(
                At::Arg(chain),
                format!("indirection through explicit nil in {chain}"),
            ));
        }
        let recv = self.eval_arg(dot, Param::Any, node)?;
        self.last_boxed = false;
        self.eval_field_chain(dot, recv, At::Arg(chain), fields, args, fin)
    }

    pub(super) fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut recv: Value,
        at: At<'a>,
        idents: &'a [String],
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        // The receiver's boxing arrives in last_boxed; each step leaves the result's there.
        let n = idents.len();
        for ident in &idents[..n - 1] {
            recv = self.eval_field(dot, ident, at, &[], None, recv)?;
        }
        self.eval_field(dot, &idents[n - 1], at, args, fin, recv)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        at: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
        recv: Value,
    ) -> R<Value> {
        let has_args = args.len() > 1 || fin.is_some();
        let boxed = std::mem::replace(&mut self.last_boxed, false);
        match &recv {
            Value::Nil if boxed => {
                // A nil element of a list or map: Go's nil interface, not a missing key.
                Err(self.errorf(at, format!("nil pointer evaluating interface {{}}.{name}")))
            }
            Value::Nil => {
                if self.tmpl.missing_key == MissingKey::Error {
                    return Err(
                        self.errorf(at, format!("nil data; no entry for key {}", quote(name)))
                    );
                }
                Ok(Value::Nil)
            }
            Value::Map(m) => {
                if has_args {
                    return Err(
                        self.errorf(at, format!("{name} is not a method but has arguments"))
                    );
                }
                let got = m.borrow().get(name).cloned();
                match got {
                    Some(v) => {
                        self.last_boxed = true;
                        Ok(v)
                    }
                    None => {
                        match self.tmpl.missing_key {
                            MissingKey::Default | MissingKey::Zero => Ok(Value::Nil),
                            MissingKey::Error => Err(self
                                .errorf(at, format!("map has no entry for key {}", quote(name)))),
                        }
                    }
                }
            }
            Value::Record(r) => self.eval_record_field(dot, r, name, at, args, fin),
            Value::Time(t) => {
                if let Some(v) = time_method(t, name) {
                    if has_args {
                        let want = 0;
                        let got = args.len().saturating_sub(1) + usize::from(fin.is_some());
                        return Err(self.errorf(
                            at,
                            format!("wrong number of args for {name}: want {want} got {got}"),
                        ));
                    }
                    return Ok(v);
                }
                Err(self.errorf(at, format!("can't evaluate field {name} in type time.Time")))
            }
            other => {
                let t = if boxed {
                    "interface {}".to_string()
                } else {
                    other.type_name()
                };
                Err(self.errorf(at, format!("can't evaluate field {name} in type {t}")))
            }
        }
    }

    fn eval_record_field(
        &mut self,
        dot: &Value,
        r: &Record,
        name: &str,
        at: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let Some(v) = r.field(name) else {
            return Err(self.errorf(
                at,
                format!("can't evaluate field {name} in type {}", r.type_name),
            ));
        };
        if let Value::Func(f) = v {
            // A function-valued record field acts as a method: it is called with the arguments.
            let mut argv = Vec::new();
            for a in args.iter().skip(1) {
                argv.push(self.eval_arg(dot, Param::Any, a)?);
            }
            if let Some(x) = fin {
                argv.push(x);
            }
            return f(&argv).map_err(|e| self.errorf(at, format!("error calling {name}: {e}")));
        }
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(
                at,
                format!("{name} has arguments but cannot be invoked as function"),
            ));
        }
        Ok(v.clone())
    }
}

/// The methods of Go's `time.Time` that take no arguments and return plain values.
fn time_method(t: &Time, name: &str) -> Option<Value> {
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
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    let c = t.civil();
    Some(match name {
        "Unix" => Value::Int(t.secs),
        "UnixMilli" => Value::Int(t.secs * 1000 + i64::from(t.nanos / 1_000_000)),
        "UnixNano" => Value::Int(
            t.secs
                .wrapping_mul(1_000_000_000)
                .wrapping_add(i64::from(t.nanos)),
        ),
        "Year" => Value::Int(c.year),
        "Month" => Value::str(MONTHS[(c.month as usize).saturating_sub(1) % 12]),
        "Day" => Value::Int(i64::from(c.day)),
        "Hour" => Value::Int(i64::from(c.hour)),
        "Minute" => Value::Int(i64::from(c.minute)),
        "Second" => Value::Int(i64::from(c.second)),
        "Nanosecond" => Value::Int(i64::from(t.nanos)),
        "YearDay" => Value::Int(i64::from(c.yday)),
        "Weekday" => Value::str(DAYS[c.weekday as usize % 7]),
        "String" => Value::from(t.to_string()),
        "IsZero" => Value::Bool(t.secs == -62_135_596_800 && t.nanos == 0),
        "UTC" => Value::Time(Time::utc(t.secs, t.nanos)),
        _ => return None,
    })
}
