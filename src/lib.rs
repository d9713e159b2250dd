//! pygen: turns the live state of a Docker host into configuration files through Jinja2
//! templates, and tells the programs that read those files when they change.
//!
//! # Layout
//!
//! Modules in data-flow order, from the command line to the written file:
//!
//! - [`cli`]: the command line, every docker-pygen flag with its name and default.
//! - [`config`]: the validated configuration built from the command line or a config file.
//! - [`docker`]: the connection to the daemon, the state cache kept current from events.
//! - [`ownid`]: detection of the container pygen itself runs in.
//! - [`model`]: typed, engine-free data built from the daemon's JSON; matching and ordering.
//! - [`template`]: the template-engine seam, loading (file, URL, inline), the Jinja dialect.
//! - [`output`]: change detection and atomic writes of the target file.
//! - [`pacer`]: whether a render is owed: renders start at once, never on a timer.
//! - [`timer`]: the min/max batching of notifications.
//! - [`actions`]: restart and signal actions and their target matching.
//! - [`swarm`]: the Swarm manager and worker endpoints, their wire protocol and authentication.
//! - [`dockergen`]: docker-gen mode, a drop-in for docker-gen 0.17 (its flags, config files,
//!   template data and notifications), its configs run as jobs of the generator's watch loop
//!   in pygen's Go template dialect.
//! - [`generator`]: the loop that ties them together (docker-gen's watch mode included), and
//!   the one-shot pass.
//!
//! Beside the loop, the other ways in:
//!
//! - [`check`]: `pygen check`, a config file and its templates checked without the daemon.
//! - [`offline`]: `pygen state` and `pygen render --state`: the same renders from a saved state.
//!
//! Shared by the rooms above:
//!
//! - [`metrics`]: every Prometheus metric and the `/metrics` endpoint.
//! - [`endpoint`]: the HTTP serving loop of every endpoint, with its timeouts and caps.
//! - [`shutdown`]: the one shutdown signal every task holds.
//! - [`report`]: the one printer for an error and its causes, and whose fault an error is.
//! - [`tls`]: the one choice of TLS crypto provider.
//!
//! No module depends on itself through others (`tests/layout.rs` checks it).
#![deny(missing_docs)]

pub mod actions;
pub mod check;
pub mod cli;
pub mod config;
pub mod docker;
pub mod dockergen;
pub mod endpoint;
pub mod generator;
pub mod metrics;
pub mod model;
pub mod offline;
pub mod output;
pub mod ownid;
pub mod pacer;
pub mod report;
pub mod shutdown;
pub mod swarm;
pub mod template;
pub mod timer;
pub mod tls;
