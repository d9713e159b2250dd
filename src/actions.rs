//! Restart and signal actions, run when the target changed.
//!
//! Targets are matched against the running containers with [`MatchPolicy::Action`]: exact ID,
//! name, `pygen.target` label, `PYGEN_TARGET` env, Compose or Swarm service name, and an ID
//! prefix of at least four characters only when nothing else matched. A failure on one
//! container is logged and counted; the other containers and targets are still handled.

use std::sync::Arc;
use std::time::{Duration, Instant};

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
        act_on_target(
            docker,
            running,
            target,
            ActionKind::Restart,
            metrics,
            &mut report,
        )
        .await;
    }
    for spec in &plan.signals {
        let kind = ActionKind::Signal(&spec.signal);
        act_on_target(docker, running, &spec.target, kind, metrics, &mut report).await;
    }
    report
}

/// Restarts or signals every running container that `target` matches. A failure is logged
/// and counted, and the next container is still handled.
async fn act_on_target(
    docker: &Docker,
    running: &[Arc<Container>],
    target: &str,
    kind: ActionKind<'_>,
    metrics: &Metrics,
    report: &mut Report,
) {
    let (verb, done) = match kind {
        ActionKind::Signal(_) => ("signal", "signalled container"),
        _ => ("restart", "restarted container"),
    };
    let matched = match_containers(running, target, MatchPolicy::Action);
    if matched.is_empty() {
        tracing::warn!(target = %target, "{verb}: no running container matches");
        metrics.action_finished(kind, target, Outcome::NoMatch, Duration::ZERO);
        report.unmatched += 1;
        return;
    }
    for container in matched {
        let started = Instant::now();
        let result = match kind {
            ActionKind::Signal(signal) => {
                let options = KillContainerOptions {
                    signal: signal.to_owned(),
                };
                docker.kill_container(container.id(), Some(options)).await
            }
            _ => docker.restart_container(container.id(), None).await,
        };
        let signal = match kind {
            ActionKind::Signal(signal) => signal,
            _ => "",
        };
        let outcome = match result {
            Ok(()) => {
                tracing::info!(target = %target, container = %container.name(), signal, "{done}");
                report.ok += 1;
                Outcome::Ok
            }
            Err(err) => {
                tracing::error!(target = %target, container = %container.name(), signal, error = %err, "{verb} failed");
                report.failed += 1;
                Outcome::Error
            }
        };
        metrics.action_finished(kind, target, outcome, started.elapsed());
    }
}
