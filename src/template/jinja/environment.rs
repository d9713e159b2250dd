//! The minijinja environment every template runs in, set up to behave like docker-pygen's
//! Jinja2 environment (features.md §3, api.md §1):
//!
//! - `trim_blocks` and `lstrip_blocks` on, loop controls (`break`/`continue`) available;
//! - no auto-escaping for any file name (minijinja would escape `.html` and turn `.json`
//!   output into JSON strings);
//! - lenient undefined values (print as nothing, iterate as empty);
//! - one trailing newline of the template dropped (Jinja2's `keep_trailing_newline=False`);
//! - Python methods on values (`items()`, `get()`, `startswith()`, …);
//! - the filters `any` and `all` (Python's builtins);
//! - `read_config` as a global, so it also works with a context of the caller's own;
//! - output of `none` as `None` and booleans as `True`/`False`, like Python's `str`.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, UndefinedBehavior};

/// A fresh environment with pygen's settings and no templates.
pub(crate) fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(false)
        .build();
    match syntax {
        Ok(syntax) => env.set_syntax(syntax),
        // Only custom delimiters can make this fail, and the defaults are used.
        Err(e) => tracing::error!("template syntax configuration rejected: {e}"),
    }
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.add_filter("any", any);
    env.add_filter("all", all);
    env.add_global("read_config", super::read_config::function());
    super::filters::register(&mut env);
    super::python::register(&mut env);
    env
}

/// `xs|any`: whether some item is truthy (Python's `any`).
fn any(value: &Value) -> Result<bool, Error> {
    Ok(value.try_iter()?.any(|item| item.is_true()))
}

/// `xs|all`: whether every item is truthy (Python's `all`; true when empty).
fn all(value: &Value) -> Result<bool, Error> {
    Ok(value.try_iter()?.all(|item| item.is_true()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn render(template: &str, ctx: Value) -> String {
        new_environment()
            .render_str(template, ctx)
            .unwrap_or_else(|e| format!("ERROR {e}"))
    }

    #[test]
    fn prints_like_python() {
        assert_eq!(
            render(
                "{{ none }}|{{ true }}|{{ false }}|{{ nope }}|{{ 1.5 }}|{{ [1, 'a'] }}",
                context! {}
            ),
            "None|True|False||1.5|[1, 'a']"
        );
    }

    #[test]
    fn any_and_all() {
        let ctx = context! { xs => vec![Value::from(0), Value::from(""), Value::from(3)], none_ => Vec::<i32>::new() };
        assert_eq!(
            render(
                "{{ xs|any }} {{ xs|all }} {{ none_|any }} {{ none_|all }}",
                ctx.clone()
            ),
            "True False False True"
        );
        assert_eq!(
            render(
                "{{ xs|map('string')|any }} {{ [1, 2]|all }} {{ nope|any }}",
                ctx
            ),
            "True True False"
        );
        assert!(render("{{ 5|any }}", context! {}).starts_with("ERROR"));
    }

    #[test]
    fn trims_blocks_and_drops_one_trailing_newline() {
        let template =
            "{% for x in xs %}\n    {% if x %}\n{{ x }}\n    {% endif %}\n{% endfor %}\n";
        assert_eq!(render(template, context! { xs => vec![1, 0, 2] }), "1\n2\n");
        assert_eq!(render("a\n\n", context! {}), "a\n");
    }

    #[test]
    fn printf_format_and_loop_controls() {
        assert_eq!(
            render(
                "{{ '%s__%s'|format('api.site.com', '/rest')|replace('/', '_') }}",
                context! {}
            ),
            "api.site.com___rest"
        );
        assert_eq!(
            render(
                "{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
                context! {}
            ),
            "13"
        );
        // `continue` in a for-else continues the outer loop, as nginx.example relies on.
        assert_eq!(
            render(
                "{% for x in [1, 2] %}<{% for y in [] %}{% else %}{% continue %}{% endfor %}>{% endfor %}",
                context! {}
            ),
            "<<"
        );
    }

    #[test]
    fn python_methods_and_no_auto_escape() {
        let env = new_environment();
        let out = env
            .template_from_named_str(
                "x.html",
                "{{ s.startswith('<a') }} {{ s }} {{ d.items()|list|length }}",
            )
            .and_then(|t| t.render(context! { s => "<a>&", d => context! { k => 1 } }))
            .expect("renders");
        assert_eq!(out, "True <a>& 1");
        let out = env
            .template_from_named_str("x.json", "{{ s }}")
            .and_then(|t| t.render(context! { s => "plain" }))
            .expect("renders");
        assert_eq!(out, "plain");
    }

    #[test]
    fn undefined_is_lenient_but_attributes_of_undefined_fail() {
        assert_eq!(
            render(
                "[{{ nope }}]{% for x in nope %}x{% endfor %}{{ nope|length }}",
                context! {}
            ),
            "[]0"
        );
        assert!(render("{{ nope.attr }}", context! {}).starts_with("ERROR undefined value"));
        assert_eq!(render("[{{ none.attr }}]", context! {}), "[]");
    }
}
