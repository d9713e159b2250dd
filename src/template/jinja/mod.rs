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
