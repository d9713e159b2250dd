//! The source pre-pass: Python semantics minijinja's operators do not have, routed to
//! functions that decide at render time, by rewriting the template text with the spans of
//! minijinja's own parser.
//!
//! - `a % b` becomes `__pygen_mod(a, b)`: printf formatting when `a` is a string, Python's
//!   modulo on numbers (minijinja has no `%` on strings).
//! - `a ** b` becomes `__pygen_pow(a, b)`: integers beyond 128 bits print in full, as
//!   Python's big integers do.
//! - `a in b` / `a not in b` become `__pygen_in(a, b)` / `not __pygen_in(a, b)`: Python's
//!   `in`, exact on the model's dicts (whose subscripts fall back to a default as
//!   docker-pygen's do, so minijinja's `in`, which looks the key up, would always be true).
//! - When the template calls a mutating method (`append`, `update`, …), list and dict
//!   literals become `__pygen_list([…])` / `__pygen_dict({…})`: mutable values, so
//!   `{% set _ = xs.append(x) %}` changes `xs` as in Jinja2.
//! - `{% with a = x, b = y %}` binds `(a, b) = (x, y)`: every value in the outer scope.
//! - A unary `+` (which minijinja's parser lacks) becomes `--` before its operand.
//!
//! Nothing else changes: no newline is added, so lines stay; [`OffsetMap`] maps byte offsets
//! of the rewritten text back to the original for error columns. A template that does not
//! parse is left as it is (minijinja then reports the syntax error at its place).

use std::borrow::Cow;

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::{Span, parse};
use minijinja::syntax::SyntaxConfig;

/// Name of the function `%` is routed to.
pub(crate) const MOD_FN: &str = "__pygen_mod";
/// Name of the function `in` is routed to.
pub(crate) const IN_FN: &str = "__pygen_in";
/// Name of the function list literals are wrapped in.
pub(crate) const LIST_FN: &str = "__pygen_list";
/// Name of the function dict literals are wrapped in.
pub(crate) const DICT_FN: &str = "__pygen_dict";

/// Methods that change their list or dict in Python.
const MUTATING: &[&str] = &[
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "popitem",
    "update",
    "setdefault",
    "clear",
];

/// Maps byte offsets of a rewritten template back to its original text.
#[derive(Debug, Clone, Default)]
pub(crate) struct OffsetMap {
    /// `(rewritten offset, original offset)` at the end of each edit, ascending.
    anchors: Vec<(usize, usize)>,
}

impl OffsetMap {
    /// The original offset of `offset` in the rewritten text (text inserted by the pre-pass
    /// maps to where it was inserted).
    pub(crate) fn original(&self, offset: usize) -> usize {
        let at = self
            .anchors
            .partition_point(|&(rewritten, _)| rewritten <= offset);
        match at.checked_sub(1).map(|i| self.anchors[i]) {
            Some((rewritten, original)) => original + (offset - rewritten),
            None => offset,
        }
    }
}

/// One change of the text: `original[start..end]` replaced by `text`.
#[derive(Debug)]
struct Edit {
    /// Start in the original text.
    start: usize,
    /// End in the original text (equal to `start` for an insertion).
    end: usize,
    /// The new text.
    text: Cow<'static, str>,
    /// Ordering among insertions at the same offset (opening ones outer first, closing
    /// ones inner first).
    order: i64,
}

/// The text to compile for template `source`, and the map of its offsets back.
pub(crate) fn prepare(source: &str) -> (String, OffsetMap) {
    rewrite(source, SyntaxConfig::default())
        .unwrap_or_else(|| (source.to_owned(), OffsetMap::default()))
}

/// The rewritten text of `source` and the offset map back; `None` when nothing changes.
pub(crate) fn rewrite(source: &str, syntax: SyntaxConfig) -> Option<(String, OffsetMap)> {
    if !source.contains('%')
        && !source.contains(" in")
        && !source.contains("**")
        && !source.contains('+')
    {
        return None;
    }
    // minijinja has no unary `+`: the parser reads the text with each one blanked (so every
    // span stays where it is), and each becomes `--` before its operand (identity on
    // numbers, an error on anything else, as Python's `+`).
    let pluses = unary_pluses(source);
    let parsed: Cow<'_, str> = if pluses.is_empty() {
        Cow::Borrowed(source)
    } else {
        let mut bytes = source.as_bytes().to_vec();
        for &at in &pluses {
            bytes[at] = b' ';
        }
        // Only ASCII `+` bytes were replaced by ASCII spaces: still UTF-8.
        Cow::Owned(String::from_utf8(bytes).expect("ASCII for ASCII keeps UTF-8"))
    };
    let stmt = parse(&parsed, "<pre-pass>", syntax).ok()?;
    let mut walker = Walker {
        source: &parsed,
        edits: Vec::new(),
        seq: 0,
        mutable_literals: false,
    };
    walker.mutable_literals = mutates(&stmt);
    walker.stmt(&stmt);
    for &at in &pluses {
        // The `--` goes after the `+`, inside any call the walker opens at the operand.
        walker.edits.push(Edit {
            start: at,
            end: at + 1,
            text: Cow::Borrowed(""),
            order: 0,
        });
        walker.edits.push(Edit {
            start: at + 1,
            end: at + 1,
            text: Cow::Borrowed("--"),
            order: i64::MAX,
        });
    }
    if walker.edits.is_empty() {
        return None;
    }
    Some(apply(source, walker.edits))
}

/// Byte offsets of the unary `+` signs in the expressions and tags of `source`: a `+` where an
/// operand is expected (at the start of an expression, after an operator, an opening bracket,
/// a comma, a colon, `=` or one of the words `if`, `elif`, `else`, `not`, `and`, `or`, `in`,
/// `do`). Strings, comments, `{% raw %}` blocks and the whitespace markers `{{+`/`+%}` are
/// left alone.
fn unary_pluses(source: &str) -> Vec<usize> {
    const WORDS: &[&str] = &["if", "elif", "else", "not", "and", "or", "in", "do"];
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(open) = source.get(at..).and_then(|r| r.find('{')).map(|i| at + i) {
        let close = match bytes.get(open + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => {
                at = source[open..]
                    .find("#}")
                    .map_or(source.len(), |i| open + i + 2);
                continue;
            }
            _ => {
                at = open + 1;
                continue;
            }
        };
        let mut i = open + 2;
        if matches!(bytes.get(i), Some(b'-' | b'+' | b'~')) {
            i += 1;
        }
        let tag_words = source[i..].trim_start();
        if close == "%}"
            && (tag_words.starts_with("raw ")
                || tag_words.starts_with("raw%")
                || tag_words.starts_with("raw-"))
        {
            at = source[i..]
                .find("endraw")
                .map_or(source.len(), |e| i + e + "endraw".len());
            continue;
        }
        let mut operand_expected = true;
        while i < bytes.len() {
            let c = bytes[i];
            if source[i..].starts_with(close) {
                i += 2;
                break;
            }
            match c {
                b'+' => {
                    let marker = source[i + 1..].starts_with(close);
                    if operand_expected && !marker {
                        found.push(i);
                    }
                    operand_expected = true;
                    i += 1;
                }
                b'\'' | b'"' => {
                    let mut j = i + 1;
                    while j < bytes.len() && bytes[j] != c {
                        j += if bytes[j] == b'\\' { 2 } else { 1 };
                    }
                    i = j + 1;
                    operand_expected = false;
                }
                c if c.is_ascii_alphanumeric() || c == b'_' => {
                    let mut j = i;
                    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_')
                    {
                        j += 1;
                    }
                    operand_expected = WORDS.contains(&&source[i..j]);
                    i = j;
                }
                b')' | b']' | b'}' => {
                    operand_expected = false;
                    i += 1;
                }
                c if c.is_ascii_whitespace() => i += 1,
                _ => {
                    operand_expected = true;
                    i += 1;
                }
            }
        }
        at = i.min(source.len());
    }
    found
}

/// Applies non-overlapping edits.
fn apply(source: &str, mut edits: Vec<Edit>) -> (String, OffsetMap) {
    edits.sort_by_key(|e| (e.start, e.end != e.start, e.order));
    let mut out = String::with_capacity(source.len() + edits.len() * 12);
    let mut anchors = Vec::with_capacity(edits.len());
    let mut at = 0;
    for edit in edits {
        if edit.start < at {
            // Overlap cannot come from the walker; skip rather than corrupt the text.
            continue;
        }
        out.push_str(&source[at..edit.start]);
        out.push_str(&edit.text);
        at = edit.end;
        anchors.push((out.len(), at));
    }
    out.push_str(&source[at..]);
    (out, OffsetMap { anchors })
}

/// Whether the template calls a method that mutates a list or dict.
fn mutates(stmt: &Stmt<'_>) -> bool {
    let mut found = false;
    visit_stmt(stmt, &mut |expr| {
        if let Expr::Call(call) = expr
            && let Expr::GetAttr(attr) = &call.expr
            && MUTATING.contains(&attr.name)
        {
            found = true;
        }
    });
    found
}

/// Collects the edits of a template.
struct Walker<'s> {
    /// The original text.
    source: &'s str,
    /// The edits so far.
    edits: Vec<Edit>,
    /// Pre-order number of the expression being rewritten.
    seq: i64,
    /// Whether list and dict literals are wrapped.
    mutable_literals: bool,
}

impl Walker<'_> {
    fn stmt(&mut self, stmt: &Stmt<'_>) {
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
    fn target(&mut self, expr: &Expr<'_>) {
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

    fn expr(&mut self, expr: &Expr<'_>) {
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

/// The span of an expression.
fn expr_span(expr: &Expr<'_>) -> Span {
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
fn start(span: Span) -> usize {
    span.start_offset as usize
}

/// End offset of a span.
fn end(span: Span) -> usize {
    span.end_offset as usize
}

/// Widens `start..end` over grouping parentheses that enclose exactly it (a parenthesised
/// expression's span leaves its parentheses out); the parentheses of a call are not
/// grouping ones.
fn extend(source: &str, mut start: usize, mut end: usize) -> (usize, usize) {
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
enum Child<'a, 's> {
    /// A nested statement.
    Stmt(&'a Stmt<'s>),
    /// An expression evaluated for its value.
    Expr(&'a Expr<'s>),
    /// An assignment target.
    Target(&'a Expr<'s>),
}

/// Calls `f` on every direct child of `stmt`.
fn for_each_child<'a, 's>(stmt: &'a Stmt<'s>, f: &mut dyn FnMut(Child<'a, 's>)) {
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
fn args<'a, 's>(args: &'a [CallArg<'s>], f: &mut dyn FnMut(&'a Expr<'s>)) {
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
fn for_each_expr_child<'a, 's>(expr: &'a Expr<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
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
fn visit_stmt<'a, 's>(stmt: &'a Stmt<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
    fn visit_expr<'a, 's>(expr: &'a Expr<'s>, f: &mut dyn FnMut(&'a Expr<'s>)) {
        f(expr);
        for_each_expr_child(expr, &mut |child| visit_expr(child, f));
    }
    for_each_child(stmt, &mut |child| match child {
        Child::Stmt(s) => visit_stmt(s, f),
        Child::Expr(e) | Child::Target(e) => visit_expr(e, f),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(source: &str) -> String {
        rewrite(source, SyntaxConfig::default())
            .map(|(text, _)| text)
            .unwrap_or_else(|| source.to_owned())
    }

    #[test]
    fn routes_percent_in_and_literals() {
        assert_eq!(run("{{ '%s' % x }}"), "{{ __pygen_mod('%s' , x) }}");
        assert_eq!(
            run("{{ ('%s' % (a, b)) % c }}"),
            "{{ __pygen_mod((__pygen_mod('%s' , (a, b))) , c) }}"
        );
        assert_eq!(
            run("{% if 'a' in x and (b) not in (y) %}{% endif %}"),
            "{% if __pygen_in('a', x) and not __pygen_in((b), (y)) %}{% endif %}"
        );
        assert_eq!(run("{{ f(1 % 2, 3) }}"), "{{ f(__pygen_mod(1 , 2), 3) }}");
        assert_eq!(
            run("{{ f(1 % 2) ~ g(a in b) }}"),
            "{{ f(__pygen_mod(1 , 2)) ~ g(__pygen_in(a, b)) }}"
        );
        assert_eq!(run("{{ x in (y) }}"), "{{ __pygen_in(x, (y)) }}");
        assert_eq!(
            run("{% set xs = [] %}{% set _ = xs.append({'a': [1]}) %}"),
            "{% set xs = __pygen_list([]) %}{% set _ = xs.append(__pygen_dict({'a': __pygen_list([1])})) %}"
        );
        assert_eq!(
            run("{% for x in [1] %}{% endfor %}"),
            "{% for x in [1] %}{% endfor %}"
        );
        assert_eq!(run("{{ x %}"), "{{ x %}");
        assert_eq!(run("{{ 10 ** 100 }}"), "{{ __pygen_pow(10 , 100) }}");
        assert_eq!(
            run("{% for c in s %}{% endfor %}{% for c in [1] %}{% endfor %}"),
            "{% for c in __pygen_iter(s) %}{% endfor %}{% for c in [1] %}{% endfor %}"
        );
        assert_eq!(
            run("{% macro m(a, b=2) %}{{ varargs }}{% endmacro %}x"),
            "{% macro __pygen_vm_m(a, b=2, varargs=(), kwargs={}) %}{{ varargs }}{% endmacro %}{% set m = __pygen_varmacro(__pygen_vm_m, ['a', 'b']) %}x"
        );
    }

    #[test]
    fn maps_offsets_back() {
        let (text, map) =
            rewrite("{{ '%s' % x }}\n{{ y.z }}", SyntaxConfig::default()).expect("rewritten");
        let at = text.find("y.z").expect("kept");
        assert_eq!(map.original(at), "{{ '%s' % x }}\n{{ ".len());
        assert_eq!(map.original(3), 3);
    }
}
