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

use minijinja::machinery::ast::{Expr, Stmt};
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;

mod visit;
mod walker;

use visit::visit_stmt;
use walker::Walker;

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
