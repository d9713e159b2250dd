//! The Jinja dialect: docker-pygen's template language on minijinja, and the objects its
//! templates see (case-insensitive dicts, the list helpers, containers, services, tasks, nodes,
//! the context, `read_config`). Everything minijinja-specific lives under this folder.

pub(crate) mod container;
pub(crate) mod context;
pub(crate) mod dict;
pub(crate) mod environment;
pub(crate) mod list;
pub(crate) mod object;
pub(crate) mod read_config;
pub(crate) mod resource;
pub(crate) mod swarm;
pub(crate) mod template;

pub use template::{Jinja, JinjaTemplate};
