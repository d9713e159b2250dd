//! The executor: walks a tree over data with a variable stack, as Go's `text/template/exec.go`:
//! field and key access, function calls with argument checking, `if`/`with`/`range` (lists,
//! sorted maps, integers) with `break`/`continue`, `template` calls, variable declaration and
//! assignment scoping, `missingkey`, and Go's execution error shape
//! `template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG`.

use std::fmt::Display;

use crate::builtins;
use crate::fmt::{quote, sprint};
use crate::funcs::{Function, Param};
use crate::node::{Arg, Branch, Command, List, Node, Number, Pipe};
use crate::parse::Tree;
use crate::template::{MissingKey, Template};
use crate::value::{Record, Time, Value};

/// An execution error, as Go prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExecError(pub String);

/// How a walk ends early: an error, or `{{break}}`/`{{continue}}` travelling to their range.
enum Ctl {
    Break,
    Continue,
    Err(ExecError),
}

impl From<ExecError> for Ctl {
    fn from(e: ExecError) -> Self {
        Ctl::Err(e)
    }
}

type R<T> = Result<T, ExecError>;

/// The node an error is reported at.
#[derive(Clone, Copy)]
enum At<'n> {
    Arg(&'n Arg),
    Cmd(&'n Command),
    Pipe(&'n Pipe),
    Node(&'n Node),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::Arg(a) => a.pos(),
            At::Cmd(c) => c.pos,
            At::Pipe(p) => p.pos,
            At::Node(n) => match n {
                Node::Text { pos, .. }
                | Node::Action { pos, .. }
                | Node::Template { pos, .. }
                | Node::Break { pos, .. }
                | Node::Continue { pos, .. } => *pos,
                Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
            },
        }
    }

    fn context(&self) -> String {
        match self {
            At::Arg(a) => a.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Node(n) => n.to_string(),
        }
    }
}

/// A variable: its name, value, and whether Go sees the value through an `interface{}` (an
/// element of a list or map, e.g. a range variable), which changes some error texts.
struct Var {
    name: String,
    value: Value,
    boxed: bool,
}

struct State<'a> {
    tmpl: &'a Template,
    tree: &'a Tree,
    vars: Vec<Var>,
    depth: usize,
    out: &'a mut String,
    /// Whether dot is a list or map element (Go's static type `interface{}`).
    dot_boxed: bool,
    /// Whether the last field chain or variable evaluated to a list or map element.
    last_boxed: bool,
    /// Nodes walked and range iterations so far, shared with called templates.
    steps: u64,
}

fn var(name: &str, value: Value) -> Var {
    Var {
        name: name.to_string(),
        value,
        boxed: false,
    }
}

/// Runs `tree` of the set `tmpl` over `data`, appending to `out`.
pub(crate) fn execute(tmpl: &Template, tree: &Tree, out: &mut String, data: &Value) -> R<()> {
    let mut s = State {
        tmpl,
        tree,
        vars: vec![var("$", data.clone())],
        depth: 0,
        out,
        dot_boxed: false,
        last_boxed: false,
        steps: 0,
    };
    match s.walk_list(data, &tree.root) {
        Ok(()) => Ok(()),
        Err(Ctl::Err(e)) => Err(e),
        // The parser only allows break/continue inside a range, which consumes them.
        Err(Ctl::Break | Ctl::Continue) => Ok(()),
    }
}

enum IterEnd {
    Done,
    Broke,
}

impl<'a> State<'a> {
    fn errorf(&self, at: At<'_>, msg: impl Display) -> ExecError {
        let pos = at.pos().min(self.tree.text.len());
        let text = &self.tree.text[..pos];
        let line = 1 + text.matches('\n').count();
        let col = match text.rfind('\n') {
            Some(i) => pos - i - 1,
            None => pos,
        };
        let context = at.context();
        ExecError(format!(
            "template: {}:{}:{}: executing {} at <{}>: {}",
            self.tree.parse_name,
            line,
            col,
            quote(&self.tree.name),
            context,
            msg
        ))
    }

    fn write(&mut self, at: At<'_>, s: &str) -> R<()> {
        if let Some(max) = self.tmpl.limits.max_output
            && self.out.len() + s.len() > max
        {
            return Err(self.errorf(at, format!("output exceeds the limit of {max} bytes")));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'a List) -> Result<(), Ctl> {
        for n in &list.nodes {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn step(&mut self, at: At<'_>) -> R<()> {
        self.steps += 1;
        if let Some(max) = self.tmpl.limits.max_steps
            && self.steps > max
        {
            return Err(self.errorf(at, format!("execution exceeds the limit of {max} steps")));
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, node: &'a Node) -> Result<(), Ctl> {
        self.step(At::Node(node))?;
        match node {
            Node::Text { text, .. } => self.write(At::Node(node), text)?,
            Node::Action { pipe, .. } => {
                // Variables declared by an action persist until the enclosing end.
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print_value(At::Node(node), &v)?;
                }
            }
            Node::If(b) => self.walk_if_or_with(dot, b, false)?,
            Node::With(b) => self.walk_if_or_with(dot, b, true)?,
            Node::Range(b) => self.walk_range(dot, b)?,
            Node::Template { name, pipe, .. } => {
                self.walk_template(dot, node, name, pipe.as_ref())?
            }
            Node::Break { .. } => return Err(Ctl::Break),
            Node::Continue { .. } => return Err(Ctl::Continue),
        }
        Ok(())
    }

    fn print_value(&mut self, at: At<'_>, v: &Value) -> R<()> {
        match v {
            Value::Nil => self.write(at, "<no value>"),
            Value::String(s) => self.write(at, s),
            Value::Func(_) => Err(self.errorf(
                at,
                format!("can't print {} of type {}", at.context(), v.type_name()),
            )),
            _ => {
                let s = sprint(std::slice::from_ref(v));
                self.write(at, &s)
            }
        }
    }

    fn walk_if_or_with(&mut self, dot: &Value, b: &'a Branch, with: bool) -> Result<(), Ctl> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.is_truthy() {
                if with {
                    {
                        let saved = std::mem::replace(&mut self.dot_boxed, false);
                        let r = self.walk_list(&val, &b.list);
                        self.dot_boxed = saved;
                        r
                    }
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Value, b: &'a Branch) -> Result<(), Ctl> {
        let outer = self.vars.len();
        let r = self.walk_range_inner(dot, b);
        self.vars.truncate(outer);
        r
    }

    fn walk_range_inner(&mut self, dot: &Value, b: &'a Branch) -> Result<(), Ctl> {
        let val = self.eval_pipeline(dot, &b.pipe)?.as_list_like();
        let mark = self.vars.len();
        // Go reports a range error at the last node the pipeline evaluated.
        let at = last_evaluated(&b.pipe);
        let ran = match &val {
            Value::List(l) => {
                let items: Vec<Value> = l.borrow().clone();
                let any = !items.is_empty();
                for (i, e) in items.into_iter().enumerate() {
                    if let IterEnd::Broke = self.one_iteration(b, mark, Value::Int(i as i64), e)? {
                        break;
                    }
                }
                any
            }
            Value::Map(m) => {
                let entries: Vec<(String, Value)> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let any = !entries.is_empty();
                for (k, v) in entries {
                    if let IterEnd::Broke = self.one_iteration(b, mark, Value::from(k), v)? {
                        break;
                    }
                }
                any
            }
            Value::Int(_) | Value::Uint(_) => {
                if b.pipe.decl.len() > 1 {
                    let shown = sprint(std::slice::from_ref(&val));
                    return Err(Ctl::Err(self.errorf(
                        at,
                        format!("can't use {shown} to iterate over more than one variable"),
                    )));
                }
                let n: u64 = match val {
                    Value::Int(i) => u64::try_from(i).unwrap_or(0),
                    Value::Uint(u) => u,
                    _ => 0,
                };
                for i in 0..n {
                    let e = match val {
                        Value::Uint(_) => Value::Uint(i),
                        _ => Value::Int(i as i64),
                    };
                    if let IterEnd::Broke = self.one_iteration(b, mark, Value::Nil, e)? {
                        break;
                    }
                }
                n > 0
            }
            Value::Nil => false,
            other => {
                let shown = sprint(std::slice::from_ref(other));
                return Err(Ctl::Err(
                    self.errorf(at, format!("range can't iterate over {shown}")),
                ));
            }
        };
        if !ran && let Some(e) = &b.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn one_iteration(
        &mut self,
        b: &'a Branch,
        mark: usize,
        index: Value,
        elem: Value,
    ) -> Result<IterEnd, Ctl> {
        let decl = &b.pipe.decl;
        let at = At::Pipe(&b.pipe);
        self.step(at)?;
        if !decl.is_empty() {
            if b.pipe.is_assign {
                let v = if decl.len() > 1 {
                    index.clone()
                } else {
                    elem.clone()
                };
                self.set_var(at, &decl[0].1, v)?;
            } else {
                self.set_top_var(1, elem.clone(), true);
            }
        }
        if decl.len() > 1 {
            if b.pipe.is_assign {
                self.set_var(at, &decl[1].1, elem.clone())?;
            } else {
                self.set_top_var(2, index, false);
            }
        }
        let saved = std::mem::replace(&mut self.dot_boxed, true);
        let r = self.walk_list(&elem, &b.list);
        self.dot_boxed = saved;
        self.vars.truncate(mark);
        match r {
            Ok(()) | Err(Ctl::Continue) => Ok(IterEnd::Done),
            Err(Ctl::Break) => Ok(IterEnd::Broke),
            Err(e) => Err(e),
        }
    }

    fn walk_template(
        &mut self,
        dot: &Value,
        node: &'a Node,
        name: &str,
        pipe: Option<&'a Pipe>,
    ) -> Result<(), Ctl> {
        let Some(tree) = self.tmpl.tree(name) else {
            return Err(Ctl::Err(self.errorf(
                At::Node(node),
                format!("template {} not defined", quote(name)),
            )));
        };
        if self.depth >= self.tmpl.limits.max_depth {
            return Err(Ctl::Err(self.errorf(
                At::Node(node),
                format!(
                    "exceeded maximum template depth ({})",
                    self.tmpl.limits.max_depth
                ),
            )));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        let tree: &Tree = tree;
        let mut sub = State {
            tmpl: self.tmpl,
            tree,
            vars: vec![var("$", new_dot.clone())],
            depth: self.depth + 1,
            out: self.out,
            dot_boxed: false,
            last_boxed: false,
            steps: self.steps,
        };
        let r = sub.walk_list(&new_dot, &tree.root);
        self.steps = sub.steps;
        match r {
            Ok(()) | Err(Ctl::Break | Ctl::Continue) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn set_var(&mut self, at: At<'_>, name: &str, v: Value) -> R<()> {
        for slot in self.vars.iter_mut().rev() {
            if slot.name == name {
                slot.value = v;
                slot.boxed = false;
                return Ok(());
            }
        }
        Err(self.errorf(at, format!("undefined variable: {name}")))
    }

    fn set_top_var(&mut self, n: usize, v: Value, boxed: bool) {
        let len = self.vars.len();
        if let Some(slot) = self.vars.get_mut(len.wrapping_sub(n)) {
            slot.value = v;
            slot.boxed = boxed;
        }
    }

    fn var_value(&self, at: At<'_>, name: &str) -> R<(Value, bool)> {
        for v in self.vars.iter().rev() {
            if v.name == name {
                return Ok((v.value.clone(), v.boxed));
            }
        }
        Err(self.errorf(at, format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
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

    fn ideal_constant(&self, at: &Arg, n: &Number) -> R<Value> {
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

    fn eval_variable(
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

    fn eval_chain(
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

    fn eval_field_chain(
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

    fn eval_function(
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

    fn eval_arg(&mut self, dot: &Value, p: Param, arg: &'a Arg) -> R<Value> {
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

/// The node Go's executor last marked while evaluating `pipe` without error: the last
/// argument of its last command (looking into parenthesised pipelines).
fn last_evaluated(pipe: &Pipe) -> At<'_> {
    let Some(cmd) = pipe.cmds.last() else {
        return At::Pipe(pipe);
    };
    match cmd.args.last() {
        Some(Arg::Pipe(p)) => last_evaluated(p),
        Some(a) => At::Arg(a),
        None => At::Cmd(cmd),
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
