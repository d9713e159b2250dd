//! The generator: the daemon's state in, rendered targets out, notifications scheduled. This
//! module holds what its two modes share (the run's errors, loading the template, rendering a
//! snapshot into the target); [`watch`] is the long-running loop and [`one_shot`] the single
//! pass of `--one-shot`. [`docker_gen`] runs docker-gen mode's configs as jobs of that loop.

pub mod docker_gen;
mod edits;
mod event_loop;
mod job;
mod once;

use std::path::PathBuf;

use crate::config::{Config, Dialect, TemplateSpec};
use crate::docker;
use crate::docker::swarm::Wants;
use crate::output;
use crate::report::{Blame, Fault};
use crate::template::{self, LoadOptions, Source, Template};

pub use event_loop::watch;
pub(crate) use job::render_job;
pub use once::one_shot;

/// Errors that end a generator run.
///
/// In watch mode only startup errors end the run; everything after startup is logged, counted
/// and retried. In one-shot mode every error ends the run. Which exit status each gives is
/// decided by its [`Blame`] below.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template could not be loaded (missing file, syntax error, unreachable URL).
    #[error(transparent)]
    Template(#[from] template::Error),
    /// The target's folder does not exist or is not a folder.
    #[error("target {path}: folder {folder} does not exist")]
    TargetFolder {
        /// The target file given with `--target`.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
    /// The Docker daemon could not be reached or configured.
    #[error(transparent)]
    Connect(#[from] docker::connect::Error),
    /// Reading the daemon's state failed.
    #[error(transparent)]
    State(#[from] docker::state::Error),
    /// Writing the target failed.
    #[error(transparent)]
    Output(#[from] output::Error),
    /// The metrics endpoint could not start.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::Error),
    /// The Swarm manager role could not start.
    #[error(transparent)]
    Swarm(#[from] crate::swarm::Error),
    /// Listing the Swarm's services, tasks or nodes failed.
    #[error(transparent)]
    SwarmState(crate::docker::swarm::Error),
    /// In `--one-shot`, an action matched no running container or failed (each is logged).
    #[error(
        "the actions did not all succeed: {unmatched} target(s) matched no running container, {failed} action(s) failed"
    )]
    Actions {
        /// Targets that matched nothing.
        unmatched: usize,
        /// Containers, services or workers whose action failed.
        failed: usize,
    },
    /// A state dump could not be read.
    #[error("state dump {path}: {source}")]
    StateDump {
        /// The dump file.
        path: PathBuf,
        /// What was wrong with it.
        #[source]
        source: StateDumpError,
    },
}

/// Why a state dump could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateDumpError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not a state dump.
    #[error(transparent)]
    Model(#[from] crate::model::Error),
}

impl Blame for Error {
    fn fault(&self) -> Fault {
        match self {
            Error::Template(err) => err.fault(),
            Error::Output(err) => err.fault(),
            Error::Connect(err) => err.fault(),
            Error::Swarm(err) => err.fault(),
            Error::Metrics(err) => err.fault(),
            // A target in a missing folder, a state dump that cannot be read.
            Error::TargetFolder { .. } | Error::StateDump { .. } => Fault::Input,
            Error::State(_) | Error::SwarmState(_) | Error::Actions { .. } => Fault::World,
        }
    }
}

/// Loads the template of `spec`, in its dialect.
pub(crate) async fn load_template(
    config: &Config,
    spec: &TemplateSpec,
) -> Result<Template, template::Error> {
    let options = LoadOptions {
        no_ssl_check: config.no_ssl_check,
        timeout: config.template_timeout,
    };
    if let Some(docker_gen) = &spec.docker_gen {
        // A docker-gen config: its template set, read as docker-gen reads it.
        return crate::dockergen::jobs::load(docker_gen).await;
    }
    let source = Source::parse(&spec.source);
    match spec.dialect {
        Dialect::Jinja => Template::load(&source, &options).await,
        Dialect::Go => Template::load_in(&template::go::GoDialect, &source, &options).await,
    }
}

/// Checks that each target's folder exists, so a typo fails at startup and not at the first
/// write.
pub(crate) fn check_target_folders(config: &Config) -> Result<(), Error> {
    for spec in &config.templates {
        check_target_folder(&spec.target)?;
    }
    Ok(())
}

/// Checks that the target's folder exists.
pub(crate) fn check_target_folder(target: &Option<PathBuf>) -> Result<(), Error> {
    let Some(path) = target else { return Ok(()) };
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if folder.is_dir() {
        Ok(())
    } else {
        Err(Error::TargetFolder {
            path: path.clone(),
            folder,
        })
    }
}

/// What the templates read from the Swarm, together.
pub(crate) fn swarm_wants<'a>(templates: impl IntoIterator<Item = &'a Template>) -> Wants {
    let mut wants = Wants {
        services: false,
        nodes: false,
    };
    for template in templates {
        wants.services |=
            template.uses_variable("services") || template.uses_variable("all_services");
        wants.nodes |= template.uses_variable("nodes");
    }
    wants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_s_input_exits_2_and_the_world_1() {
        let input = Error::Output(output::Error::IsAFolder {
            path: PathBuf::from("/tmp"),
        });
        assert_eq!(input.fault().exit_status(), 2);
        let missing = Error::TargetFolder {
            path: PathBuf::from("/x/y"),
            folder: PathBuf::from("/x"),
        };
        assert_eq!(missing.fault(), Fault::Input);
        let unmatched = Error::Actions {
            unmatched: 1,
            failed: 0,
        };
        assert_eq!(unmatched.fault().exit_status(), 1);
    }
}
