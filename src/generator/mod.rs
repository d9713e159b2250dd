//! The generator: the daemon's state in, rendered targets out, notifications scheduled. This
//! module holds what its two modes share (the run's errors, loading the template, rendering a
//! snapshot into the target); [`watch`] is the long-running loop and [`one_shot`] the single
//! pass of `--one-shot`.

mod event_loop;
mod once;

use std::path::PathBuf;
use std::time::Instant;

use bollard::Docker;

use crate::actions::Plan;
use crate::config::Config;
use crate::docker;
use crate::docker::raw::RawClient;
use crate::docker::swarm::Wants;
use crate::metrics::Metrics;
use crate::model::Snapshot;
use crate::output::{self, WriteOutcome};
use crate::template::{self, LoadOptions, Source, Template};

pub use event_loop::watch;
pub use once::one_shot;

/// Errors that end a generator run.
///
/// In watch mode only startup errors end the run; everything after startup is logged, counted
/// and retried. In one-shot mode every error ends the run. Which exit status each gives is
/// decided in [`crate::report`].
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
    /// The client for raw state reads could not be built (TLS files).
    #[error(transparent)]
    Raw(#[from] Box<crate::docker::raw::Error>),
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

/// Loads the template named on the command line.
pub(crate) async fn load_template(config: &Config) -> Result<Template, template::Error> {
    let options = LoadOptions {
        no_ssl_check: config.no_ssl_check,
        timeout: config.template_timeout,
    };
    Template::load(&Source::parse(&config.templates[0].source), &options).await
}

/// Checks that the target's folder exists, so a typo fails at startup and not at the first write.
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

/// What a failed render leaves in place, for its log line: the last good target, or none
/// yet (a template that fails from the start never wrote one).
pub(crate) fn kept(target: Option<&PathBuf>) -> String {
    match target {
        None => "nothing printed".to_owned(),
        Some(path) if path.exists() => format!("keeping the last good target {}", path.display()),
        Some(path) => format!("no target written yet ({} does not exist)", path.display()),
    }
}

/// The notifications configured on the command line.
pub(crate) fn plan(config: &Config) -> Plan {
    Plan {
        restarts: config.templates[0].restart.clone(),
        signals: config.templates[0].signal.clone(),
    }
}

/// What the template reads from the Swarm.
pub(crate) fn swarm_wants(template: &Template) -> Wants {
    Wants {
        services: template.uses_variable("services") || template.uses_variable("all_services"),
        nodes: template.uses_variable("nodes"),
    }
}

/// The client for the state reads (containers, Swarm listings): the daemon's own JSON over
/// kept-alive connections, speaking the API version `docker` negotiated.
pub(crate) fn raw_client(address: Option<&str>, docker: &Docker) -> Result<RawClient, Error> {
    let endpoint = docker::connect::plan(address, &docker::connect::Env::from_process())?;
    RawClient::new(&endpoint, &docker.client_version()).map_err(|err| Error::Raw(Box::new(err)))
}

/// Renders the snapshot and writes (or prints) the result. Returns whether the target changed;
/// in stdout mode every render counts as a change.
pub(crate) fn render_and_write(
    template: &Template,
    snapshot: &Snapshot,
    target: Option<&PathBuf>,
    metrics: &Metrics,
) -> Result<bool, Error> {
    let started = Instant::now();
    let rendered = template.render_snapshot(snapshot);
    let render_time = started.elapsed();
    metrics.render_finished(render_time, rendered.is_ok());
    let content = rendered?;
    let changed = match target {
        None => {
            tracing::debug!("Printing generated content to stdout");
            output::print_stdout(&content)?;
            true
        }
        Some(path) => match output::write_if_changed(path, &content)
            .inspect_err(|_| metrics.write_failed())?
        {
            WriteOutcome::Unchanged => {
                tracing::debug!(target = %path.display(), "Skip updating target file, contents have not changed");
                false
            }
            WriteOutcome::Written { bytes, in_place } => {
                metrics.write_done();
                tracing::info!(
                    target = %path.display(),
                    bytes,
                    render_ms = format_args!("{:.2}", render_time.as_secs_f64() * 1e3),
                    in_place,
                    "Target file updated"
                );
                true
            }
        },
    };
    metrics.target_updated(started.elapsed());
    Ok(changed)
}
