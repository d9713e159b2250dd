//! What every template engine provides to pygen, and the one error type of templates: a
//! [`Dialect`] compiles a [`Unit`] into a [`Compiled`] template, which renders a [`Snapshot`]
//! of the model. Dialects (`jinja`, and any other) depend on this file only; the rest of pygen
//! holds a `Template`, which wraps one of them.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use crate::model::{Container, Snapshot};

/// The error a template engine reports, kept as the source of [`Error::Syntax`] and
/// [`Error::Render`].
pub type EngineError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of loading and rendering templates.
///
/// Each message is complete on its own (`{}` prints the path or URL and the cause, or
/// `name:line:column: message`); the underlying error stays reachable as the source.
///
/// Loading errors ([`Error::Read`], [`Error::Fetch`], [`Error::Status`], [`Error::Client`],
/// [`Error::Syntax`]) may clear up when the file or server is fixed, so a reload can retry.
/// [`Error::Render`] depends on the data and template together; the next render may pass.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template file cannot be read (missing, unreadable, not UTF-8).
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        /// The path as given (made absolute).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The template URL cannot be fetched (unreachable, timeout, TLS).
    #[error("cannot fetch template {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// The cause in short (e.g. `timed out after 5s`, `Connection refused`).
        reason: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered the template URL with a non-2xx status.
    #[error("cannot fetch template {url}: HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The HTTP client could not be set up (TLS configuration).
    #[error("cannot set up the HTTP client: {source}")]
    Client {
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The template does not compile.
    #[error("{}: {message}", location(name, *line, *column))]
    Syntax {
        /// Name of the template with the error (file name, URL, `inline`, or an include).
        name: String,
        /// 1-based line of the error.
        line: Option<usize>,
        /// 1-based column of the error.
        column: Option<usize>,
        /// What is wrong.
        message: String,
        /// The engine's error.
        #[source]
        source: EngineError,
    },
    /// Rendering failed (undefined attribute of an undefined value, unknown filter, a
    /// missing include, an error raised by a function).
    #[error("{}: {message}", location(name, *line, *column))]
    Render {
        /// Name of the template where it failed (may be an included one).
        name: String,
        /// 1-based line of the failing expression.
        line: Option<usize>,
        /// 1-based column of the failing expression.
        column: Option<usize>,
        /// What went wrong.
        message: String,
        /// The engine's error.
        #[source]
        source: EngineError,
    },
}

impl crate::report::Blame for Error {
    /// A template that cannot be read, compiled or rendered is the user's input; a URL that
    /// does not answer is the world.
    fn fault(&self) -> crate::report::Fault {
        use crate::report::Fault;
        match self {
            Error::Read { .. } | Error::Syntax { .. } | Error::Render { .. } => Fault::Input,
            Error::Fetch { .. } | Error::Status { .. } | Error::Client { .. } => Fault::World,
        }
    }
}

/// `name:line:column`, leaving out what is unknown.
fn location(name: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{name}:{line}:{column}"),
        (Some(line), None) => format!("{name}:{line}"),
        _ => name.to_owned(),
    }
}

/// What a dialect compiles: a template's text, its names, and where its includes come from.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Name of the template in error messages (file name, URL, `inline`).
    pub name: String,
    /// Where the template came from, for logs (the path, the URL, `inline template`).
    pub description: String,
    /// The template text.
    pub text: String,
    /// The folder includes resolve in; `None` when the template cannot include others.
    pub folder: Option<PathBuf>,
}

/// A template language: compiles text into templates that render the model.
pub trait Dialect: Send + Sync {
    /// Compiles `unit`; a template that does not compile is an [`Error::Syntax`].
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, Error>;
}

/// A compiled template of some dialect.
pub trait Compiled: Send + Sync + std::fmt::Debug {
    /// Renders a snapshot of the model. Synchronous and CPU-bound: async callers run it off
    /// their runtime. Fails with [`Error::Render`] (or [`Error::Syntax`] for an include that
    /// does not compile).
    fn render(&self, snapshot: &Snapshot) -> Result<String, Error>;

    /// Whether the template may read the part of the snapshot named `variable`
    /// (`all_containers`, `services`, `all_services`, `nodes`), so that callers fetch or build
    /// only what is read. When unsure, true.
    fn reads(&self, variable: &str) -> bool;

    /// Renders the file of one item (`per_item`). The render sees the snapshot with only the
    /// item's containers as its running containers; a dialect may show the item itself too
    /// (the Jinja dialect's `item` and `item_name`).
    fn render_item(&self, snapshot: &Snapshot, item: &Item) -> Result<String, Error> {
        self.render(&item.scope(snapshot))
    }

    /// The files the template was read from so far (the main file, and the includes a render
    /// loaded), for watching them for edits; empty for inline and URL templates.
    fn files(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// The template itself, for callers that know its dialect.
    fn as_any(&self) -> &dyn Any;
}

/// One item of a per-item render: a running container, or a label value with the running
/// containers that carry it.
#[derive(Debug, Clone)]
pub struct Item {
    /// What `{name}` in the target becomes: the container's name (without its `/`), or the
    /// label's value.
    pub name: String,
    /// The container, when the items are containers.
    pub container: Option<Arc<Container>>,
    /// The item's containers: the one container, or every running container with the label
    /// value.
    pub containers: Vec<Arc<Container>>,
}

impl Item {
    /// `snapshot` with the item's containers as its only containers (Swarm state and the own
    /// container id kept).
    pub fn scope(&self, snapshot: &Snapshot) -> Snapshot {
        Snapshot {
            containers: self.containers.clone(),
            own_container_id: snapshot.own_container_id.clone(),
            swarm: snapshot.swarm.clone(),
        }
    }
}
