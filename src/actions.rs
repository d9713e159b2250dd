//! Restart and signal actions, run when the target changed.
//!
//! Targets are matched against the running containers with [`MatchPolicy::Action`]: exact ID,
//! name, `pygen.target` label, `PYGEN_TARGET` env, Compose or Swarm service name, and an ID
//! prefix of at least four characters only when nothing else matched. A failure on one
//! container is logged and counted; the other containers and targets are still handled.

use std::sync::Arc;
use std::time::Instant;

use bollard::Docker;
use bollard::query_parameters::KillContainerOptions;

use crate::config::SignalSpec;
use crate::metrics::{ActionKind, Metrics, Outcome};
use crate::model::{Container, MatchPolicy, match_containers};

/// The actions configured on the command line, in flag order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// `--restart` targets.
    pub restarts: Vec<String>,
    /// `--signal` targets with their signals.
    pub signals: Vec<SignalSpec>,
}

impl Plan {
    /// Whether nothing is configured, so notifications can be skipped entirely.
    pub fn is_empty(&self) -> bool {
        self.restarts.is_empty() && self.signals.is_empty()
    }
}

/// What one run of the plan did, for the caller's logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Containers acted on successfully.
    pub ok: usize,
    /// Containers whose action failed.
    pub failed: usize,
    /// Targets that matched no running container.
    pub unmatched: usize,
}

/// Runs every restart, then every signal, against the given running containers.
pub async fn run(
    docker: &Docker,
    running: &[Arc<Container>],
    plan: &Plan,
    metrics: &Metrics,
) -> Report {
    let mut report = Report::default();
    tracing::info!("Sending notifications");
    for target in &plan.restarts {
        let started = Instant::now();
        let matched = match_containers(running, target, MatchPolicy::Action);
        if matched.is_empty() {
            tracing::warn!(target = %target, "restart: no running container matches");
            metrics.action_finished(
                ActionKind::Restart,
                target,
                Outcome::NoMatch,
                started.elapsed(),
            );
            report.unmatched += 1;
            continue;
        }
        for container in matched {
            let started = Instant::now();
            let outcome = match docker.restart_container(container.id(), None).await {
                Ok(()) => {
                    tracing::info!(target = %target, container = %container.name(), "restarted container");
                    report.ok += 1;
                    Outcome::Ok
                }
                Err(err) => {
                    tracing::error!(target = %target, container = %container.name(), error = %err, "failed to restart container");
                    report.failed += 1;
                    Outcome::Error
                }
            };
            metrics.action_finished(ActionKind::Restart, target, outcome, started.elapsed());
        }
    }
    for spec in &plan.signals {
        let started = Instant::now();
        let matched = match_containers(running, &spec.target, MatchPolicy::Action);
        if matched.is_empty() {
            tracing::warn!(target = %spec.target, "signal: no running container matches");
            metrics.action_finished(
                ActionKind::Signal(&spec.signal),
                &spec.target,
                Outcome::NoMatch,
                started.elapsed(),
            );
            report.unmatched += 1;
            continue;
        }
        for container in matched {
            let started = Instant::now();
            let options = KillContainerOptions {
                signal: spec.signal.clone(),
            };
            let outcome = match docker.kill_container(container.id(), Some(options)).await {
                Ok(()) => {
                    tracing::info!(target = %spec.target, container = %container.name(), signal = %spec.signal, "signalled container");
                    report.ok += 1;
                    Outcome::Ok
                }
                Err(err) => {
                    tracing::error!(target = %spec.target, container = %container.name(), signal = %spec.signal, error = %err, "failed to signal container");
                    report.failed += 1;
                    Outcome::Error
                }
            };
            metrics.action_finished(
                ActionKind::Signal(&spec.signal),
                &spec.target,
                outcome,
                started.elapsed(),
            );
        }
    }
    report
}
