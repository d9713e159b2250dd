//! Reading minijinja's AST: the children of statements and expressions, expression spans as
//! byte offsets, and the source text around a span (parentheses, call or group).

use minijinja::machinery::ast::{CallArg, Expr, Stmt};
use minijinja::machinery::{Span, ast};

/// The span of an expression.
pub(super) fn expr_span(expr: &Expr<'_>) -> Span {
    match expr {
        Expr::Var(e) => e.span(),
        Expr::Const(e) => e.span(),
        Expr::Slice(e) => e.span(),
        Expr::UnaryOp(e) => e.span(),
        Expr::BinOp(e) => e.span(),
        Expr::Compare(e) => e.span(),
        Expr::IfExpr(e) => e.span(),
        Expr::Filter(e) => e.span(),
        Expr::Test(e) => e.span(),
        Expr::GetAttr(e) => e.span(),
        Expr::GetItem(e) => e.span(),
        Expr::Call(e) => e.span(),
        Expr::List(e) => e.span(),
        Expr::Tuple(e) => e.span(),
        Expr::Map(e) => e.span(),
    }
}

/// Start offset of a span.
pub(super) fn start(span: Span) -> usize {
    span.start_offset as usize
}

/// End offset of a span.
pub(super) fn end(span: Span) -> usize {
    span.end_offset as usize
}

/// Widens `start..end` over grouping parentheses that enclose exactly it (a parenthesised
/// expression's span leaves its parentheses out); the parentheses of a call are not
/// grouping ones.
pub(super) fn extend(source: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    loop {
        let (Some(before), Some(after)) = (source.get(..start), source.get(end..)) else {
            return (start, end);
        };
        let before = before.trim_end();
        let after_trimmed = after.trim_start();
        if before.ends_with('(')
            && after_trimmed.starts_with(')')
            && !is_call(&before[..before.len() - 1])
        {
            start = before.len() - 1;
            end = source.len() - after_trimmed.len() + 1;
        } else {
            return (start, end);
        }
    }
}

/// Whether a `(` after `before` opens the arguments of a call (it follows a name, a
/// closing bracket or a string) rather than a group (after an operator or a keyword).
fn is_call(before: &str) -> bool {
    let before = before.trim_end();
    let Some(last) = before.chars().last() else {
        return false;
    };
    if matches!(last, ')' | ']' | '\'' | '"') {
        return true;
    }
    if !(last.is_alphanumeric() || last == '_') {
        return false;
    }
    let word_start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    !matches!(
        &before[word_start..],
        "in" | "not" | "and" | "or" | "if" | "else" | "is" | "recursive"
    )
}

/// A node below a statement.
pub(super) enum Child<'a, 's> {
    /// A nested statement.
    Stmt(&'a Stmt<'s>),
    /// An expression evaluated for its value.
    Expr(&'a Expr<'s>),
    /// An assignment target.
    Target(&'a Expr<'s>),
}

/// Calls `f` on every direct child of `stmt`.
pub(super) fn for_each_child<'a, 's>(stmt: &'a Stmt<'s>, f: &mut dyn FnMut(Child<'a, 's>)) {
    let body = |body: &'a [Stmt<'s>], f: &mut dyn FnMut(Child<'a, 's>)| {
        body.iter().for_each(|s| f(Child::Stmt(s)));
    };
    match stmt {
        Stmt::Template(t) => body(&t.children, f),
        Stmt::EmitExpr(e) => f(Child::Expr(&e.expr)),
        Stmt::EmitRaw(_) | Stmt::Continue(_) | Stmt::Break(_) => {}
        Stmt::ForLoop(l) => {
            f(Child::Target(&l.target));
            f(Child::Expr(&l.iter));
            if let Some(e) = &l.filter_expr {
                f(Child::Expr(e));
            }
            body(&l.body, f);
            body(&l.else_body, f);
        }
        Stmt::IfCond(c) => {
            f(Child::Expr(&c.expr));
            body(&c.true_body, f);
            body(&c.false_body, f);
        }
        Stmt::WithBlock(w) => {
            for (target, value) in &w.assignments {
                f(Child::Target(target));
                f(Child::Expr(value));
            }
            body(&w.body, f);
        }
        Stmt::Set(s) => {
            f(Child::Target(&s.target));
            f(Child::Expr(&s.expr));
        }
        Stmt::SetBlock(s) => {
            f(Child::Target(&s.target));
            if let Some(e) = &s.filter {
                f(Child::Expr(e));
            }
            body(&s.body, f);
        }
        Stmt::AutoEscape(a) => {
            f(Child::Expr(&a.enabled));
            body(&a.body, f);
        }
        Stmt::FilterBlock(b) => {
            f(Child::Expr(&b.filter));
            body(&b.body, f);
        }
        Stmt::Block(b) => body(&b.body, f),
        Stmt::Import(i) => f(Child::Expr(&i.expr)),
        Stmt::FromImport(i) => f(Child::Expr(&i.expr)),
        Stmt::Extends(e) => f(Child::Expr(&e.name)),
        Stmt::Include(i) => f(Child::Expr(&i.name)),
        Stmt::Macro(m) => {
            m.defaults.iter().for_each(|e| f(Child::Expr(e)));
            body(&m.body, f);
        }
        Stmt::CallBlock(c) => {
            call_children(&c.call, &mut |e| f(Child::Expr(e)));
            c.macro_decl.defaults.iter().for_each(|e| f(Child::Expr(e)));
            body(&c.macro_decl.body, f);
        }
        Stmt::Do(d) => call_children(&d.call, &mut |e| f(Child::Expr(e))),
    }
}

/// Calls `f` on the callee and the arguments of a call.
fn call_children<'a, 's>(call: &'a ast::Call<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
    f(&call.expr);
    args(&call.args, f);
}

/// Calls `f` on each argument expression.
pub(super) fn args<'a, 's>(args: &'a [CallArg<'s>], f: &mut dyn FnMut(&'a Expr<'s>)) {
    for arg in args {
        match arg {
            CallArg::Pos(e)
            | CallArg::Kwarg(_, e)
            | CallArg::PosSplat(e)
            | CallArg::KwargSplat(e) => f(e),
        }
    }
}

/// Calls `f` on every direct sub-expression of `expr`.
pub(super) fn for_each_expr_child<'a, 's>(expr: &'a Expr<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
    match expr {
        Expr::Var(_) | Expr::Const(_) => {}
        Expr::Slice(s) => {
            f(&s.expr);
            for e in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                f(e);
            }
        }
        Expr::UnaryOp(u) => f(&u.expr),
        Expr::BinOp(b) => {
            f(&b.left);
            f(&b.right);
        }
        Expr::Compare(c) => {
            f(&c.expr);
            c.ops.iter().for_each(|op| f(&op.expr));
        }
        Expr::IfExpr(i) => {
            f(&i.test_expr);
            f(&i.true_expr);
            if let Some(e) = &i.false_expr {
                f(e);
            }
        }
        Expr::Filter(x) => {
            if let Some(e) = &x.expr {
                f(e);
            }
            args(&x.args, f);
        }
        Expr::Test(t) => {
            f(&t.expr);
            args(&t.args, f);
        }
        Expr::GetAttr(g) => f(&g.expr),
        Expr::GetItem(g) => {
            f(&g.expr);
            f(&g.subscript_expr);
        }
        Expr::Call(c) => call_children(c, f),
        Expr::List(l) => l.items.iter().for_each(f),
        Expr::Tuple(t) => t.items.iter().for_each(f),
        Expr::Map(m) => {
            m.keys.iter().for_each(&mut *f);
            m.values.iter().for_each(f);
        }
    }
}

/// Calls `f` on every expression of a template, depth first.
pub(super) fn visit_stmt<'a, 's>(stmt: &'a Stmt<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
    fn visit_expr<'a, 's>(expr: &'a Expr<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
        f(expr);
        for_each_expr_child(expr, &mut |child| visit_expr(child, f));
    }
    for_each_child(stmt, &mut |child| match child {
        Child::Stmt(s) => visit_stmt(s, f),
        Child::Expr(e) | Child::Target(e) => visit_expr(e, f),
    });
}
