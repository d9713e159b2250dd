//! Jinja2's whitespace rules that minijinja's lexer does not have, applied to a template's
//! source before it compiles:
//!
//! - `\r\n` and `\r` become `\n` everywhere (Jinja2's `newline_sequence`), in text, string
//!   literals and raw blocks alike;
//! - the newline right after `{% raw %}` is kept (Jinja2's `trim_blocks` does not remove it,
//!   minijinja's does): it is doubled so one survives.

/// The source as Jinja2's lexer sees it.
pub(crate) fn normalize(text: String) -> String {
    let text = if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    };
    keep_newline_after_raw(text)
}

/// Doubles the newline after each `{% raw %}` tag that does not end with `-%}`.
fn keep_newline_after_raw(text: String) -> String {
    if !text.contains("raw") {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text.as_str();
    while let Some(at) = rest.find("{%") {
        let (before, tag) = rest.split_at(at);
        out.push_str(before);
        let inner = tag[2..].trim_start_matches(['-', '+']).trim_start();
        let is_raw = inner.strip_prefix("raw").is_some_and(|after| {
            let after = after.trim_start();
            after.starts_with("%}") || after.starts_with("+%}")
        });
        if is_raw {
            // The tag ends at the first `%}`, which the check above found.
            let end = tag.find("%}").map_or(tag.len(), |e| e + 2);
            out.push_str(&tag[..end]);
            rest = &tag[end..];
            if rest.starts_with('\n') {
                out.push('\n');
            }
            // Nothing inside the raw block is a tag: copy it up to `{% endraw`.
            let body_end = find_endraw(rest).unwrap_or(rest.len());
            out.push_str(&rest[..body_end]);
            rest = &rest[body_end..];
        } else {
            out.push_str("{%");
            rest = &tag[2..];
        }
    }
    out.push_str(rest);
    out
}

/// Where the `{% endraw %}` tag (with any trim markers) starts in `text`.
fn find_endraw(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find("{%").map(|i| i + from) {
        let inner = text[at + 2..].trim_start_matches(['-', '+']).trim_start();
        if inner.starts_with("endraw") {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_raw() {
        assert_eq!(normalize("a\r\nb\rc\n".to_owned()), "a\nb\nc\n");
        assert_eq!(
            normalize("{% raw %}\n{% raw %}\n{% endraw %}\n".to_owned()),
            "{% raw %}\n\n{% raw %}\n{% endraw %}\n"
        );
        assert_eq!(
            normalize("{% raw -%}\nx{% endraw %}".to_owned()),
            "{% raw -%}\nx{% endraw %}"
        );
        assert_eq!(normalize("{%- raw %}\nx".to_owned()), "{%- raw %}\n\nx");
        assert_eq!(normalize("{% if x %}\n".to_owned()), "{% if x %}\n");
    }
}
