//! Restart and signal actions, run when the target changed.
//!
//! Targets are matched against the running containers with [`MatchPolicy::Action`]: exact ID,
//! name, `pygen.target` label, `PYGEN_TARGET` env, Compose or Swarm service name, and an ID
//! prefix of at least four characters only when nothing else matched. A failure on one
//! container is logged and counted; the other containers and targets are still handled.
//!
//! In a Swarm (docker-pygen's execution strategies, features.md §9):
//!
//! | action | plain | `--swarm-manager` |
//! |---|---|---|
//! | restart | services that match are force-updated (when the daemon is a Swarm manager); else local containers restart | services that match are force-updated; else every worker restarts its matching containers |
//! | signal | local containers | every worker signals its matching containers (a worker must run on the manager's node too) |
//!
//! A restart or signal makes the daemon send events about its container (`kill`, `die`,
//! `stop`, `start`, `restart`). When the template lists that container, those events would
//! change the target and trigger the same action again, endlessly. [`OwnActions`] remembers
//! which containers pygen is acting on, so the watch loop can tell these events from real
//! changes (see its documentation for why this mechanism).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::SignalSpec;
use crate::docker::raw::RawClient;
use crate::docker::swarm::{force_update, list_services};
use crate::metrics::{ActionKind, Metrics, Outcome, Strategy};
use crate::model::{Container, MatchPolicy, Service, Swarm, match_containers, match_services};
use crate::report::describe;

mod forward;
mod own;

pub use forward::{Action, Forward, Queued};
pub use own::{FORWARDED, OwnActions, SETTLE, as_before};

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
    /// Containers or services acted on successfully, or worker addresses the action was queued
    /// for (the delivery goes on after the run, logged and counted in the metrics).
    pub ok: usize,
    /// Containers or services whose action failed, or worker names that resolved to no
    /// address.
    pub failed: usize,
    /// Targets that matched nothing.
    pub unmatched: usize,
}

/// Where actions reach beyond the local containers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reach<'a> {
    /// A client for Swarm services: a restart force-updates the services it matches, if the
    /// daemon is a Swarm manager.
    pub services: Option<&'a RawClient>,
    /// The workers of a `--swarm-manager`: container restarts and signals go to them instead
    /// of the local daemon.
    pub workers: Option<&'a dyn Forward>,
    /// Where the local containers acted on are noted, so that their events are recognised as
    /// pygen's own.
    pub own: Option<&'a OwnActions>,
    /// The Swarm as the render that caused this run saw it: a service pygen force-updates is
    /// noted in `own` as it was there, so that renders read it so until its update ended.
    pub swarm: Option<&'a Swarm>,
}

/// Runs every restart, then every signal, against the given running containers (no Swarm).
pub async fn run(
    docker: &RawClient,
    running: &[Arc<Container>],
    plan: &Plan,
    metrics: &Metrics,
) -> Report {
    run_plan(docker, running, plan, Reach::default(), metrics).await
}

/// Runs every restart, then every signal, reaching Swarm services and workers as `reach`
/// allows.
pub async fn run_plan(
    docker: &RawClient,
    running: &[Arc<Container>],
    plan: &Plan,
    reach: Reach<'_>,
    metrics: &Metrics,
) -> Report {
    let mut report = Report::default();
    tracing::debug!("Sending notifications");
    // Listed at the first restart, once per run (docker-pygen listed them per target).
    let mut services: Option<Vec<Arc<Service>>> = None;
    for target in &plan.restarts {
        let started = Instant::now();
        let strategy = if reach.workers.is_some() {
            Strategy::Manager
        } else {
            Strategy::Local
        };
        if let Some(raw) = reach.services {
            let listed = match &services {
                Some(listed) => listed,
                None => services.insert(match list_services(raw).await {
                    Ok(listed) => listed,
                    Err(err) => {
                        tracing::error!(error = %describe(&err), "cannot list the Swarm services; restarting containers");
                        Vec::new()
                    }
                }),
            };
            let matched = match_services(listed, target, MatchPolicy::Action);
            if !matched.is_empty() {
                update_services(raw, target, &matched, reach, metrics, &mut report).await;
                metrics.action_strategy(strategy, started.elapsed());
                continue;
            }
        }
        match reach.workers {
            Some(workers) => {
                note_forwarded(reach.own, running, target);
                let action = Action::Restart {
                    target: target.clone(),
                };
                forward(workers, &action, ActionKind::Restart, metrics, &mut report).await;
            }
            None => {
                act_locally(
                    docker,
                    running,
                    target,
                    ActionKind::Restart,
                    reach.own,
                    metrics,
                    &mut report,
                )
                .await
            }
        }
        metrics.action_strategy(strategy, started.elapsed());
    }
    for spec in &plan.signals {
        let started = Instant::now();
        match reach.workers {
            Some(workers) => {
                note_forwarded(reach.own, running, &spec.target);
                let action = Action::Signal {
                    target: spec.target.clone(),
                    signal: spec.signal.clone(),
                };
                forward(
                    workers,
                    &action,
                    ActionKind::Signal(&spec.signal),
                    metrics,
                    &mut report,
                )
                .await;
                metrics.action_strategy(Strategy::Worker, started.elapsed());
            }
            None => {
                let kind = ActionKind::Signal(&spec.signal);
                act_locally(
                    docker,
                    running,
                    &spec.target,
                    kind,
                    reach.own,
                    metrics,
                    &mut report,
                )
                .await;
                metrics.action_strategy(Strategy::Local, started.elapsed());
            }
        }
    }
    report
}

/// Force-updates every matched service, so Swarm replaces its tasks.
async fn update_services(
    raw: &RawClient,
    target: &str,
    matched: &[Arc<Service>],
    reach: Reach<'_>,
    metrics: &Metrics,
    report: &mut Report,
) {
    for service in matched {
        let started = Instant::now();
        // Its update changes its tasks (and through them the render) for a while: renders
        // read it as the render that caused the update saw it until the update ended.
        let seen = reach
            .swarm
            .and_then(|swarm| swarm.services().iter().find(|s| s.id() == service.id()));
        if let (Some(own), Some(seen)) = (reach.own, seen) {
            own.begin_service(seen);
        }
        let outcome = match force_update(raw, service.id()).await {
            Ok(force) => {
                tracing::info!(target = %target, service = %service.name(), force_update = force, "service restarted");
                report.ok += 1;
                Outcome::Ok
            }
            Err(err) => {
                if let Some(own) = reach.own {
                    own.service_failed(service.id());
                }
                tracing::error!(target = %target, service = %service.name(), error = %describe(&err), "failed to restart service");
                report.failed += 1;
                Outcome::Error
            }
        };
        metrics.action_finished(
            ActionKind::ServiceUpdate,
            target,
            outcome,
            started.elapsed(),
        );
    }
}

/// Notes the local containers `target` matches as acted on through the workers (the worker on
/// this node will act on them; see [`OwnActions`]).
fn note_forwarded(own: Option<&OwnActions>, running: &[Arc<Container>], target: &str) {
    if let Some(own) = own {
        for container in match_containers(running, target, MatchPolicy::Action) {
            own.forwarded(&container);
        }
    }
}

/// Queues an action for every worker address; a worker that does not answer delays only its
/// own queue, not this run.
async fn forward(
    workers: &dyn Forward,
    action: &Action,
    kind: ActionKind<'_>,
    metrics: &Metrics,
    report: &mut Report,
) {
    let started = Instant::now();
    let handoff = workers.forward(action).await;
    report.ok += handoff.queued;
    report.failed += handoff.failed;
    let outcome = if handoff.failed > 0 {
        Outcome::Error
    } else if handoff.queued == 0 {
        Outcome::NoMatch
    } else {
        Outcome::Ok
    };
    metrics.action_finished(kind, action.target(), outcome, started.elapsed());
}

/// Restarts or signals every running container that `target` matches, noting each in `own`.
/// A failure is logged and counted, and the next container is still handled.
pub async fn act_locally(
    docker: &RawClient,
    running: &[Arc<Container>],
    target: &str,
    kind: ActionKind<'_>,
    own: Option<&OwnActions>,
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
        if let Some(own) = own {
            own.begin(&container);
        }
        let (result, signal) = match kind {
            ActionKind::Signal(signal) => (docker.kill(container.id(), signal).await, signal),
            _ => (docker.restart(container.id(), None).await, ""),
        };
        if let Some(own) = own {
            own.end(container.id());
        }
        let outcome = match result {
            Ok(()) => {
                tracing::info!(target = %target, container = %container.name(), signal, "{done}");
                report.ok += 1;
                Outcome::Ok
            }
            Err(err) => {
                tracing::error!(target = %target, container = %container.name(), signal, error = %describe(&err), "{verb} failed");
                report.failed += 1;
                Outcome::Error
            }
        };
        metrics.action_finished(kind, target, outcome, started.elapsed());
    }
}
