//! The executor: walks a tree over data with a variable stack, as Go's `text/template/exec.go`:
//! field and key access, function calls with argument checking, `if`/`with`/`range` (lists,
//! sorted maps, integers) with `break`/`continue`, `template` calls, variable declaration and
//! assignment scoping, `missingkey`, and Go's execution error shape
//! `template: NAME:LINE:COL: executing "NAME" at <NODE>: MSG`.
//!
//! This file holds the walk over control nodes and the variable stack; evaluating pipelines
//! and operands is in `eval`, function calls in `call`.

use std::fmt::Display;

use crate::fmt::{quote, sprint};
use crate::node::{Arg, Branch, Command, List, Node, Pipe};
use crate::parse::Tree;
use crate::template::Template;
use crate::value::Value;

mod call;
mod eval;

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
