//! docker-gen mode: `pygen docker-gen [options] template [dest]`, or the binary started under
//! the name `docker-gen`, is a drop-in for docker-gen 0.17.2: its command line ([`flags`]), its
//! TOML config files ([`tomlfile`]), its template data built from pygen's state cache
//! ([`crate::template::go::context`], rendered by [`crate::template::go`], the code path of the
//! recorded fixtures), its notifications ([`notify`]) and its watch behaviour, with pygen's
//! atomic writes, reconnects with backoff, and template errors that never end the process.
//!
//! This module sits below the generator: it turns docker-gen's input into configs, and its
//! configs into jobs ([`jobs`]) that the generator's event loop runs; the watch mode itself is
//! started by [`crate::generator::docker_gen`].
//!
//! Layout: `flags` (argv) → `settings` (validated jobs; `tomlfile` for `-config`, `eventfilter`
//! for `-event-filter`) → `pass` (one render pass; the one-shot run) and `jobs` (every config a
//! job of the generator's event loop) using `cache` (the daemon-side data kept between renders)
//! and `notify`; `offline` is `pygen render --state --dialect go`.

pub mod cache;
pub mod eventfilter;
pub mod flags;
pub mod jobs;
pub mod notify;
pub mod offline;
pub mod pass;
pub mod settings;
pub mod tomlfile;

use std::path::{Path, PathBuf};

pub use pass::one_shot;
pub use settings::Settings;

/// The docker-gen version whose behaviour this mode follows.
pub const DOCKER_GEN_VERSION: &str = "0.17.2";

/// What `-version` prints.
pub fn version_line() -> String {
    format!(
        "docker-gen {DOCKER_GEN_VERSION}-compatible (pygen {})",
        env!("CARGO_PKG_VERSION")
    )
}

/// Errors of a docker-gen run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line cannot be parsed.
    #[error(transparent)]
    Flags(#[from] flags::FlagError),
    /// The settings are invalid.
    #[error(transparent)]
    Settings(#[from] settings::Error),
    /// The daemon cannot be reached or configured.
    #[error(transparent)]
    Connect(#[from] crate::docker::connect::Error),
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] crate::docker::state::Error),
    /// A daemon request failed.
    #[error("Docker {what}: {reason}")]
    Daemon {
        /// The request.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A template file cannot be read.
    #[error("Unable to parse template: open {path}: {reason}")]
    TemplateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A job without a template.
    #[error("no template given")]
    NoTemplate,
    /// The template failed (Go's message, with its location).
    #[error("Template error: {0}")]
    Render(String),
    /// A state dump cannot be read.
    #[error("state dump {path}: {reason}")]
    StateDump {
        /// The dump file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The dest could not be written.
    #[error("Unable to write {0}")]
    Write(String),
}

impl Error {
    /// Whether the error is the user's input (exit status 2) rather than a runtime failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Flags(_)
                | Error::Settings(_)
                | Error::StateDump { .. }
                | Error::TemplateFile { .. }
        )
    }
}

impl crate::report::Blame for Error {
    /// docker-gen mode keeps its own split (`is_usage`): flags, config and template files are
    /// the user's input; a template that fails to render exits 1 there, as docker-gen does.
    fn fault(&self) -> crate::report::Fault {
        if self.is_usage() {
            crate::report::Fault::Input
        } else {
            crate::report::Fault::World
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    /// Print this (usage or version) and exit 0.
    Print(String),
    /// Run.
    Run(Settings),
}

/// Whether the program was started under the name `docker-gen`.
pub fn invoked_as_docker_gen(argv0: &str) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|n| n == "docker-gen")
}

/// Parses docker-gen's arguments (those after the program or subcommand name).
pub fn prepare(program: &str, args: Vec<String>) -> Result<Request, Error> {
    let flags = flags::parse(args)?;
    if flags.help {
        return Ok(Request::Print(flags::usage(program)));
    }
    if flags.version {
        return Ok(Request::Print(format!("{}\n", version_line())));
    }
    let env_filters = std::env::var("DOCKER_CONTAINER_FILTERS").ok();
    Ok(Request::Run(settings::from_flags(
        &flags,
        env_filters.as_deref(),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_version() {
        assert!(invoked_as_docker_gen("/usr/local/bin/docker-gen"));
        assert!(invoked_as_docker_gen("docker-gen"));
        assert!(!invoked_as_docker_gen("/usr/bin/pygen"));
        let v = version_line();
        assert!(
            v.contains("docker-gen 0.17.2") && v.contains("pygen"),
            "{v}"
        );
        match prepare("docker-gen", vec!["-version".into()]) {
            Ok(Request::Print(text)) => assert_eq!(text.trim(), v),
            other => panic!("{other:?}"),
        }
        assert!(
            prepare("docker-gen", vec!["-x".into()])
                .unwrap_err()
                .is_usage()
        );
    }
}
