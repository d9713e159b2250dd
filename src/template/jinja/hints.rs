//! Better places and names for two minijinja errors that mislead a template author: a block
//! tag that is never closed is reported at the end of the template (where minijinja ran out of
//! input), and a method called on `none` names no expression. Both are worked out here from
//! the template's own text.

/// Block tags that need an `end…` tag.
const BLOCKS: &[&str] = &[
    "for",
    "if",
    "macro",
    "call",
    "filter",
    "block",
    "with",
    "autoescape",
    "raw",
];

/// An opening tag left open at the end of the text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unclosed {
    /// The tag's keyword (`for`, `if`, ...).
    pub keyword: String,
    /// 1-based line of the tag's `{%`.
    pub line: usize,
    /// 1-based column of the tag's `{%`.
    pub column: usize,
}

impl Unclosed {
    /// What to add to the engine's message, which is then located at the tag.
    pub fn hint(&self) -> String {
        format!(
            "the `{{% {k} %}}` here is never closed (expected `{{% end{k} %}}`)",
            k = self.keyword
        )
    }
}

/// The innermost block tag of `text` that is never closed, if any. Comments are skipped, and
/// so is the inside of `{% raw %}`; a `{% set x %}` without `=` is a block too.
pub(crate) fn unclosed(text: &str) -> Option<Unclosed> {
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find(['{']) {
        let start = at + found;
        let rest = &text[start..];
        if rest.starts_with("{#") {
            at = start + rest.find("#}").map_or(rest.len(), |end| end + 2);
            continue;
        }
        if !rest.starts_with("{%") {
            at = start + 1;
            continue;
        }
        let end = rest.find("%}").map_or(rest.len(), |end| end + 2);
        let inner = rest[2..end.saturating_sub(2).max(2)].trim_matches(['-', '+', '~']);
        let mut words = inner.split_whitespace();
        let keyword = words.next().unwrap_or_default();
        at = start + end;
        let in_raw = open.last().is_some_and(|(k, _)| k == "raw");
        if in_raw && keyword != "endraw" {
            continue;
        }
        if let Some(closed) = keyword.strip_prefix("end") {
            if open.last().is_some_and(|(k, _)| k == closed) {
                open.pop();
            }
        } else if BLOCKS.contains(&keyword) || (keyword == "set" && !inner.contains('=')) {
            open.push((keyword.to_owned(), start));
        }
    }
    let (keyword, offset) = open.pop()?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Some(Unclosed {
        keyword,
        line,
        column: before[line_start..].chars().count() + 1,
    })
}

/// The expression a method was called on, from the template text before the method's `.`
/// (at byte `offset`): `c.env.NOPE` in `{{ c.env.NOPE.split(",") }}`. `None` when nothing
/// that looks like one is there.
pub(crate) fn receiver(text: &str, offset: usize) -> Option<&str> {
    let before = text.get(..offset)?;
    let before = before.strip_suffix('.').unwrap_or(before);
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || "_.[]()'\",".contains(*c))
        .last()
        .map(|(i, _)| i)?;
    let expr = before[start..].trim_start_matches('.');
    (!expr.is_empty()).then_some(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_open_tag_is_found() {
        let text = "a\n{% for c in containers %}\n  {% if c %}x{% endif %}\n";
        let open = unclosed(text).expect("the for is open");
        assert_eq!(
            open,
            Unclosed {
                keyword: "for".into(),
                line: 2,
                column: 1
            }
        );
        assert_eq!(
            open.hint(),
            "the `{% for %}` here is never closed (expected `{% endfor %}`)"
        );
        let nested = "{% for a in b %}\n  {%- if a %}\n{% endfor %}";
        let open = unclosed(nested).expect("the if is open");
        assert_eq!(
            (open.keyword.as_str(), open.line, open.column),
            ("if", 2, 3)
        );
    }

    #[test]
    fn closed_blocks_comments_raw_and_plain_sets_are_not_open() {
        assert_eq!(
            unclosed("{% for a in b %}{% endfor %}{% set x = 1 %}"),
            None
        );
        assert_eq!(unclosed("{# {% for a in b %} #}"), None);
        assert_eq!(unclosed("{% raw %}{% for %}{% endraw %}"), None);
        let set = unclosed("{% set x %}abc").expect("a block set");
        assert_eq!(set.keyword, "set");
    }

    #[test]
    fn the_receiver_of_a_method_is_named() {
        let text = "{{ c.env.NOPE.split(',') }}";
        let dot = text.find(".split").expect("a dot");
        assert_eq!(receiver(text, dot), Some("c.env.NOPE"));
        assert_eq!(receiver(text, dot + 1), Some("c.env.NOPE"));
        let text = "{{ c.labels['a.b'].upper() }}";
        let dot = text.find(".upper").expect("a dot");
        assert_eq!(receiver(text, dot), Some("c.labels['a.b']"));
        let text = "{{ c.labels.get('nope').upper() }}";
        let dot = text.find(".upper").expect("a dot");
        assert_eq!(receiver(text, dot), Some("c.labels.get('nope')"));
        assert_eq!(receiver("{{ .x() }}", 3), None);
    }
}
