//! The Jinja dialect: docker-pygen's template language on minijinja, and the objects its
//! templates see (case-insensitive dicts, the list helpers, containers, services, tasks, nodes,
//! the context, `read_config`). Everything minijinja-specific lives under this folder.
//!
//! Jinja2 3.1 fidelity on top of minijinja: the builtin filters, tests and globals with
//! Jinja2's arguments and output, where minijinja's own differ or are missing. Each family
//! lives in its own file and registers through one function called from
//! `new_environment()`.

pub(crate) mod container;
pub(crate) mod context;
pub(crate) mod dict;
pub(crate) mod environment;
pub(crate) mod filters;
pub(crate) mod filters_json;
pub(crate) mod filters_num;
pub(crate) mod filters_seq;
pub(crate) mod filters_text;
pub(crate) mod globals;
pub(crate) mod hints;
pub(crate) mod list;
pub(crate) mod methods;
pub(crate) mod object;
pub(crate) mod percent;
pub(crate) mod predicates;
pub(crate) mod pyrepr;
pub(crate) mod python;
pub(crate) mod read_config;
pub(crate) mod resource;
pub(crate) mod rewrite;
pub(crate) mod swarm;
pub(crate) mod template;
pub(crate) mod whitespace;

pub use template::{Jinja, JinjaTemplate};

/// Renders `text` with `ctx` through the whole Jinja dialect (environment and pre-pass), as
/// templates are rendered, for unit tests whose answer depends on the pre-pass (`in`).
#[cfg(test)]
pub(crate) fn render_for_test(text: &str, ctx: minijinja::Value) -> String {
    JinjaTemplate::compile(crate::template::Unit {
        name: "t".to_owned(),
        description: "inline template".to_owned(),
        text: text.to_owned(),
        folder: None,
    })
    .and_then(|t| t.render(ctx))
    .unwrap_or_else(|e| format!("ERROR {e}"))
}
