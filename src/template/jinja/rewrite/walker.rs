//! The walker that collects a template's edits: for each statement and expression, the
//! rewrite the module documentation lists (`%`, `**`, `in`, mutable literals, `with`, loops
//! over plain values, macros reading `varargs`).

use std::borrow::Cow;

use minijinja::machinery::ast::{self, BinOpKind, Expr, Stmt};

use super::Edit;
use super::visit::{
    Child, end, expr_span, extend, for_each_child, for_each_expr_child, start, visit_stmt,
};

/// Collects the edits of a template.
pub(super) struct Walker<'s> {
    /// The original text.
    pub(super) source: &'s str,
    /// The edits so far.
    pub(super) edits: Vec<Edit>,
    /// Pre-order number of the expression being rewritten.
    pub(super) seq: i64,
    /// Whether list and dict literals are wrapped.
    pub(super) mutable_literals: bool,
}

impl Walker<'_> {
    pub(super) fn stmt(&mut self, stmt: &Stmt<'_>) {
        match stmt {
            Stmt::ForLoop(l) if matches!(l.iter, Expr::Var(_) | Expr::Const(_)) => {
                let span = expr_span(&l.iter);
                self.wrap(start(span), end(span), "__pygen_iter(");
            }
            Stmt::Macro(m) if uses_varargs(&m.body) => self.varargs_macro(m),
            Stmt::WithBlock(w) if w.assignments.len() > 1 => self.with_targets(w),
            _ => {}
        }
        for_each_child(stmt, &mut |child| match child {
            Child::Stmt(s) => self.stmt(s),
            Child::Expr(e) => self.expr(e),
            Child::Target(e) => self.target(e),
        });
    }

    /// `{% with a = x, b = y %}` becomes `{% with (a, b) = (x, y) %}`: Jinja2 evaluates every
    /// value in the outer scope, minijinja one after another (so `c = b` would see the new
    /// `b`); a tuple is evaluated whole before any name is bound. Only plain `name = value`
    /// lists are changed (the text between the values must be `, name =` exactly).
    fn with_targets(&mut self, w: &ast::Spanned<ast::WithBlock<'_>>) {
        let source = self.source;
        let mut names = Vec::with_capacity(w.assignments.len());
        let mut edits = Vec::with_capacity(w.assignments.len() + 1);
        let mut previous_end = None;
        for (target, value) in &w.assignments {
            let Expr::Var(v) = target else {
                return;
            };
            names.push(v.id);
            let target = extend(source, start(v.span()), end(v.span()));
            let value_span = expr_span(value);
            let value = extend(source, start(value_span), end(value_span));
            // Between the previous value and this target: a comma and blanks only; between
            // the target and its value: `=` and blanks only.
            let separator = match previous_end {
                Some(at) => source
                    .get(at..target.0)
                    .is_some_and(|t| t.trim().strip_prefix(',').is_some_and(str::is_empty)),
                None => true,
            };
            let assign = source
                .get(target.1..value.0)
                .is_some_and(|t| t.trim() == "=");
            if !separator || !assign {
                return;
            }
            edits.push(Edit {
                start: previous_end.unwrap_or(target.0),
                end: value.0,
                text: Cow::Borrowed(", "),
                order: 0,
            });
            previous_end = Some(value.1);
        }
        let (Some(first), Some(last)) = (edits.first_mut(), previous_end) else {
            return;
        };
        first.text = Cow::Owned(format!("({}) = (", names.join(", ")));
        edits.push(Edit {
            start: last,
            end: last,
            text: Cow::Borrowed(")"),
            order: i64::MAX,
        });
        self.edits.extend(edits);
    }

    /// A macro whose body reads `varargs` or `kwargs` becomes a hidden macro taking them
    /// as parameters, and the name is bound to a wrapper that collects the extra arguments
    /// (minijinja's macros refuse extra arguments).
    fn varargs_macro(&mut self, m: &ast::Spanned<ast::Macro<'_>>) {
        let span = m.span();
        let source = self.source;
        let Some(rest) = source.get(start(span)..) else {
            return;
        };
        let Some(keyword) = rest.find("macro") else {
            return;
        };
        let after_keyword = start(span) + keyword + "macro".len();
        let Some(name_at) = source[after_keyword..]
            .find(|c: char| !c.is_whitespace())
            .map(|i| after_keyword + i)
        else {
            return;
        };
        if !source[name_at..].starts_with(m.name) {
            return;
        }
        let Some(open) = source[name_at..].find('(').map(|i| name_at + i) else {
            return;
        };
        let last = m
            .args
            .iter()
            .chain(m.defaults.iter())
            .map(|e| end(expr_span(e)))
            .max()
            .unwrap_or(open + 1);
        let Some(close) = source[last..].find(')').map(|i| last + i) else {
            return;
        };
        let Some(tag_end) = source
            .get(end(span)..)
            .and_then(|r| r.find("%}"))
            .map(|i| end(span) + i + 2)
        else {
            return;
        };
        let needs_comma = !m.args.is_empty() && !source[last..close].contains(',');
        let names: Vec<String> = m
            .args
            .iter()
            .filter_map(|a| match a {
                Expr::Var(v) => Some(format!("'{}'", v.id)),
                _ => None,
            })
            .collect();
        self.seq += 1;
        self.edits.push(Edit {
            start: name_at,
            end: name_at,
            text: Cow::Borrowed("__pygen_vm_"),
            order: self.seq,
        });
        self.edits.push(Edit {
            start: close,
            end: close,
            text: Cow::Borrowed(if needs_comma {
                ", varargs=(), kwargs={}"
            } else {
                "varargs=(), kwargs={}"
            }),
            order: self.seq,
        });
        self.edits.push(Edit {
            start: tag_end,
            end: tag_end,
            text: Cow::Owned(format!(
                "{{% set {name} = __pygen_varmacro(__pygen_vm_{name}, [{}]) %}}",
                names.join(", "),
                name = m.name
            )),
            order: self.seq,
        });
    }

    /// An assignment target: only expressions inside it (subscripts) are values.
    pub(super) fn target(&mut self, expr: &Expr<'_>) {
        match expr {
            Expr::Tuple(t) => t.items.iter().for_each(|e| self.target(e)),
            Expr::List(l) => l.items.iter().for_each(|e| self.target(e)),
            Expr::Var(_) => {}
            other => self.expr(other),
        }
    }

    /// Wraps `source[start..end]` in `open` … `)`.
    fn wrap(&mut self, start: usize, end: usize, open: &'static str) {
        self.seq += 1;
        self.edits.push(Edit {
            start,
            end: start,
            text: Cow::Borrowed(open),
            order: self.seq,
        });
        self.edits.push(Edit {
            start: end,
            end,
            text: Cow::Borrowed(")"),
            order: -self.seq,
        });
    }

    pub(super) fn expr(&mut self, expr: &Expr<'_>) {
        match expr {
            Expr::BinOp(op) if matches!(op.op, BinOpKind::Rem) => {
                let span = op.span();
                let (left_end, right_start) = (end(op.left.span()), start(op.right.span()));
                let found = self
                    .source
                    .get(left_end..right_start)
                    .and_then(|between| between.find('%'));
                if let Some(at) = found {
                    self.wrap(start(span), end(span), "__pygen_mod(");
                    self.edits.push(Edit {
                        start: left_end + at,
                        end: left_end + at + 1,
                        text: Cow::Borrowed(","),
                        order: 0,
                    });
                }
            }
            Expr::BinOp(op) if matches!(op.op, BinOpKind::Pow) => {
                let span = op.span();
                let (left_end, right_start) = (end(op.left.span()), start(op.right.span()));
                let found = self
                    .source
                    .get(left_end..right_start)
                    .and_then(|between| between.find("**"));
                if let Some(at) = found {
                    self.wrap(start(span), end(span), "__pygen_pow(");
                    self.edits.push(Edit {
                        start: left_end + at,
                        end: left_end + at + 2,
                        text: Cow::Borrowed(","),
                        order: 0,
                    });
                }
            }
            Expr::BinOp(op) if matches!(op.op, BinOpKind::In) => {
                let (left, right) = (op.left.span(), op.right.span());
                let (from, left_end) = extend(self.source, start(left), end(left));
                let (right_start, to) = extend(self.source, start(right), end(right));
                let words: Vec<&str> = self
                    .source
                    .get(left_end..right_start)
                    .map(|between| between.split_whitespace().collect())
                    .unwrap_or_default();
                let open = match words.as_slice() {
                    ["in"] => Some("__pygen_in("),
                    ["not", "in"] => Some("not __pygen_in("),
                    _ => None,
                };
                if let Some(open) = open {
                    self.wrap(from, to, open);
                    self.edits.push(Edit {
                        start: left_end,
                        end: right_start,
                        text: Cow::Borrowed(", "),
                        order: 0,
                    });
                }
            }
            Expr::List(list) if self.mutable_literals => {
                let span = list.span();
                self.wrap(start(span), end(span), "__pygen_list(");
            }
            Expr::Map(map) if self.mutable_literals => {
                let span = map.span();
                self.wrap(start(span), end(span), "__pygen_dict(");
            }
            _ => {}
        }
        for_each_expr_child(expr, &mut |child| self.expr(child));
    }
}

/// Whether a macro body reads `varargs` or `kwargs`.
fn uses_varargs(body: &[Stmt<'_>]) -> bool {
    let mut found = false;
    for stmt in body {
        visit_stmt(stmt, &mut |expr| {
            if let Expr::Var(v) = expr
                && matches!(v.id, "varargs" | "kwargs")
            {
                found = true;
            }
        });
    }
    found
}
