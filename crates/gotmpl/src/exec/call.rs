//! Function calls: looking a function up, checking the argument count, evaluating and
//! converting each argument to its parameter's kind, and the builtins, with `and` and `or`
//! evaluating their arguments only as far as Go does.

use crate::builtins;
use crate::fmt::quote;
use crate::funcs::{Function, Param};
use crate::node::Arg;
use crate::value::Value;

use super::{At, ExecError, R, State, last_evaluated};

impl<'a> State<'a> {
    pub(super) fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'a Arg,
        name: &str,
        at: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        if let Some(f) = self.tmpl.funcs.get(name) {
            let f = f.clone();
            return self.eval_call(dot, ident, &f, name, at, args, fin);
        }
        if builtins::NAMES.contains(&name) {
            return self.eval_builtin(dot, ident, name, at, args, fin);
        }
        Err(self.errorf(
            At::Arg(ident),
            format!("{} is not a defined function", quote(name)),
        ))
    }

    fn arg_count_error(
        &self,
        ident: &Arg,
        name: &str,
        fixed: usize,
        variadic: bool,
        args: usize,
        num_in: usize,
    ) -> Option<ExecError> {
        if variadic {
            if num_in < fixed {
                return Some(self.errorf(
                    At::Arg(ident),
                    format!("wrong number of args for {name}: want at least {fixed} got {args}"),
                ));
            }
        } else if num_in != fixed {
            return Some(self.errorf(
                At::Arg(ident),
                format!("wrong number of args for {name}: want {fixed} got {num_in}"),
            ));
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Value,
        ident: &'a Arg,
        f: &Function,
        name: &str,
        at: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let sig = &f.sig;
        let num_in = args.len() + usize::from(fin.is_some());
        let fixed = sig.params.len();
        if let Some(e) = self.arg_count_error(
            ident,
            name,
            fixed,
            sig.variadic.is_some(),
            args.len(),
            num_in,
        ) {
            return Err(e);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let p = if i < fixed {
                sig.params[i]
            } else {
                sig.variadic.unwrap_or(Param::Any)
            };
            argv.push(self.eval_arg(dot, p, a)?);
        }
        if let Some(x) = fin {
            let p = if sig.variadic.is_some() && num_in > fixed {
                sig.variadic.unwrap_or(Param::Any)
            } else {
                sig.params.get(num_in - 1).copied().unwrap_or(Param::Any)
            };
            argv.push(self.validate_type(at, x, p)?);
        }
        f.call(&argv)
            .map_err(|e| self.errorf(at, format!("error calling {name}: {e}")))
    }

    fn eval_builtin(
        &mut self,
        dot: &Value,
        ident: &'a Arg,
        name: &str,
        at: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let (fixed, variadic) = builtins::arity(name);
        let num_in = args.len() + usize::from(fin.is_some());
        if let Some(e) = self.arg_count_error(ident, name, fixed, variadic, args.len(), num_in) {
            return Err(e);
        }
        if name == "and" || name == "or" {
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, Param::Any, a)?;
                if v.is_truthy() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(x) = fin {
                v = x;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let p = if name == "printf" && i == 0 {
                Param::String
            } else {
                Param::Any
            };
            self.last_boxed = matches!(a, Arg::Dot { .. }) && self.dot_boxed;
            let v = self.eval_arg(dot, p, a)?;
            if name == "len"
                && v.is_nil()
                && self.last_boxed
                && matches!(
                    a,
                    Arg::Field { .. } | Arg::Variable { .. } | Arg::Dot { .. }
                )
            {
                // A nil list or map element is Go's nil interface, not a missing value.
                return Err(self.errorf(at, "error calling len: len of nil pointer"));
            }
            argv.push(v);
        }
        if let Some(x) = fin {
            let p = if name == "printf" && num_in == 1 {
                Param::String
            } else {
                Param::Any
            };
            argv.push(self.validate_type(at, x, p)?);
        }
        builtins::call(name, &argv)
            .map_err(|e| self.errorf(at, format!("error calling {name}: {e}")))
    }

    pub(super) fn eval_arg(&mut self, dot: &Value, p: Param, arg: &'a Arg) -> R<Value> {
        let at = At::Arg(arg);
        let v = match arg {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match p {
                    Param::Any | Param::List | Param::StringList | Param::Map => {
                        self.validate_type(at, Value::Nil, p)
                    }
                    _ => Err(self.errorf(at, format!("cannot assign nil to {}", p.go_type()))),
                };
            }
            Arg::Field { idents, .. } => {
                self.last_boxed = self.dot_boxed;
                self.eval_field_chain(
                    dot,
                    dot.clone(),
                    at,
                    idents,
                    std::slice::from_ref(arg),
                    None,
                )?
            }
            Arg::Variable { idents, .. } => self.eval_variable(dot, arg, idents, &[], None)?,
            Arg::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            Arg::Identifier { name, .. } => self.eval_function(dot, arg, name, at, &[], None)?,
            Arg::Chain { node, fields, .. } => {
                self.eval_chain(dot, arg, node, fields, &[], None)?
            }
            Arg::Bool { val, .. } => {
                return match p {
                    Param::Bool | Param::Any => Ok(Value::Bool(*val)),
                    _ => Err(self.literal_mismatch(arg, p)),
                };
            }
            Arg::Number { num, .. } => {
                return match p {
                    Param::Any => self.ideal_constant(arg, num),
                    Param::Int | Param::Int64 if num.is_int => Ok(Value::Int(num.int)),
                    Param::Float64 if num.is_float => Ok(Value::Float(num.float)),
                    _ => Err(self.literal_mismatch(arg, p)),
                };
            }
            Arg::String { text, .. } => {
                return match p {
                    Param::String | Param::Any => Ok(Value::from(text.as_str())),
                    _ => Err(self.literal_mismatch(arg, p)),
                };
            }
        };
        // Go checks the type at the last node it evaluated: inside a parenthesised pipeline,
        // its last argument.
        let at = match arg {
            Arg::Pipe(pipe) => last_evaluated(pipe),
            Arg::Chain { node, .. } => match &**node {
                Arg::Pipe(pipe) => last_evaluated(pipe),
                other => At::Arg(other),
            },
            _ => at,
        };
        self.validate_type(at, v, p)
    }

    fn literal_mismatch(&self, arg: &Arg, p: Param) -> ExecError {
        let what = match p {
            Param::Bool => "bool",
            Param::Float64 => "float",
            Param::Int | Param::Int64 => "integer",
            Param::String => "string",
            _ => {
                return self.errorf(
                    At::Arg(arg),
                    format!("can't handle {arg} for arg of type {}", p.go_type()),
                );
            }
        };
        self.errorf(At::Arg(arg), format!("expected {what}; found {arg}"))
    }

    fn validate_type(&self, at: At<'_>, v: Value, p: Param) -> R<Value> {
        let ok = match (&v, p) {
            (_, Param::Any) => true,
            (Value::Nil, Param::List | Param::StringList) => return Ok(Value::list(Vec::new())),
            (Value::Nil, Param::Map) => return Ok(Value::map(Default::default())),
            (Value::Nil, _) => {
                return Err(self.errorf(at, format!("invalid value; expected {}", p.go_type())));
            }
            (Value::String(_), Param::String)
            | (Value::Int(_), Param::Int | Param::Int64)
            | (Value::Float(_), Param::Float64)
            | (Value::Bool(_), Param::Bool)
            | (Value::List(_), Param::List)
            | (Value::Map(_), Param::Map)
            | (Value::Time(_), Param::Time) => true,
            (Value::Record(r), Param::List) if r.items.is_some() => {
                return Ok(v.as_list_like());
            }
            (Value::List(l), Param::StringList) => {
                l.borrow().iter().all(|e| matches!(e, Value::String(_)))
            }
            _ => false,
        };
        if ok {
            Ok(v)
        } else {
            Err(self.errorf(
                at,
                format!(
                    "wrong type for value; expected {}; got {}",
                    p.go_type(),
                    v.type_name()
                ),
            ))
        }
    }
}
