//! `pygen worker`: docker-pygen's `swarm_worker.py`. Watches the local daemon, tells the
//! managers about every watched event, and runs the actions the manager sends on the local
//! containers.
//!
//! Differences from docker-pygen's worker, on purpose: notices to the managers are sent by
//! their own task, so the event loop never waits for a manager (several events while a notice
//! is in flight cost one more notice, not one each: the manager re-reads the whole Swarm
//! anyway); actions run one after the other in their own task; the event stream reconnects
//! instead of ending the worker (B17); SIGHUP sends a notice instead of crashing (B4); every
//! request is signed and checked.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Notify, mpsc};

use super::auth::Auth;
use super::client::{Peer, Sender};
use super::server::SETTLED_BODY;
use super::wire::Request;
use super::{Error, MANAGER_PORT, Role, server, warn_if_insecure};
use crate::actions::{self, Action, OwnActions, Plan, Reach};
use crate::config::{SignalSpec, WorkerConfig};
use crate::docker::events;
use crate::docker::raw::RawClient;
use crate::docker::watch::{Change, Watch};
use crate::metrics::Metrics;
use crate::model::Container;
use crate::report::describe;
use crate::shutdown::Shutdown;

/// How many received actions may wait for their turn; more are refused with 503.
const ACTION_QUEUE: usize = 64;

/// An action with what it runs against.
type Job = (RawClient, Vec<Arc<Container>>, Request);

/// Runs the worker until `shutdown`. Each message on `hangup` (SIGHUP) sends a notice to the
/// managers.
pub async fn run(
    config: WorkerConfig,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
    mut hangup: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let auth = Arc::new(Auth::from_config(&config.auth, "worker")?);
    warn_if_insecure(&auth, Role::Worker);
    let managers = Peer::parse_all("--manager", &config.managers, MANAGER_PORT)?;
    // A malformed address is a startup error, not an endless retry.
    let watch = Watch::start(config.docker_address.clone(), Arc::clone(&metrics))?;
    let listener = server::bind(Role::Worker, config.listen).await?;
    let listen = listener.local_addr().unwrap_or(config.listen);

    let (action_tx, mut actions) = mpsc::channel(ACTION_QUEUE);
    let endpoint = tokio::spawn({
        let (auth, metrics) = (auth.clone(), metrics.clone());
        let stop = shutdown.clone().wait();
        async move {
            if let Err(err) = server::serve_worker(listener, auth, metrics, action_tx, stop).await {
                tracing::error!("the worker endpoint stopped: {}", describe(&err));
            }
        }
    });

    let notices = Arc::new(Notices::default());
    let notifier = tokio::spawn(notify_loop(
        Sender::new(auth, config.retries),
        managers,
        Arc::clone(&notices),
        metrics.clone(),
    ));

    // The containers this worker restarts or signals: their events are its own, held back
    // from the managers (see `actions::OwnActions`).
    let own = OwnActions::default();
    let (job_tx, jobs) = mpsc::channel::<Job>(ACTION_QUEUE);
    let executor = tokio::spawn(execute_loop(
        jobs,
        metrics.clone(),
        config.allow_labels.clone(),
        own.clone(),
        // With `--events none` the managers hear nothing from this worker, settled
        // actions included.
        (!config.events.is_empty()).then(|| Arc::clone(&notices)),
    ));
    if config.allow_labels.is_empty() {
        tracing::info!(
            "no --allow-label: actions from the manager may restart or signal any container \
             of this node"
        );
    }

    tracing::info!(
        listen = %listen,
        managers = ?config.managers,
        events = ?config.events.items(),
        "Swarm worker started"
    );
    let mut state = Local {
        watch,
        waiting: VecDeque::new(),
        jobs: job_tx,
    };
    loop {
        tokio::select! {
            biased;
            () = shutdown.recv() => {
                tracing::info!("shutting down");
                break;
            }
            change = state.watch.next() => match change {
                Some(Change::Connected) => {
                    // Actions that came in before the daemon was reachable.
                    while let Some(action) = state.waiting.pop_front() {
                        state.dispatch(action).await;
                    }
                }
                Some(Change::Disconnected | Change::Inspected { .. }) => {}
                Some(Change::Event(event)) => {
                    let action = event.action.as_deref().unwrap_or_default();
                    let is_container = matches!(event.typ, Some(events::EventType::Container));
                    if is_container && config.events.matches(action) && !own.is_own(&event) {
                        metrics.event_taken();
                        tracing::debug!("Received {action} event from {}", events::actor_name(&event));
                        notices.changed();
                    }
                }
                None => {
                    tracing::error!("the event feed stopped");
                    break;
                }
            },
            Some(()) = hangup.recv() => {
                tracing::info!("SIGHUP: telling the managers");
                notices.changed();
            }
            Some(action) = actions.recv() => state.dispatch(action).await,
        }
    }
    // The endpoint stops with the process's shutdown, which the caller triggers however this
    // loop ends, and waits for.
    drop(endpoint);
    drop(state);
    notifier.abort();
    executor.abort();
    Ok(())
}

/// The worker's view of its daemon, and the actions on their way to the executor.
struct Local {
    /// The event feed, the local containers kept current from it, and the daemon's clients.
    watch: Watch,
    /// Actions received while the daemon was unreachable, run once it is back.
    waiting: VecDeque<Request>,
    /// The executor's queue.
    jobs: mpsc::Sender<Job>,
}

impl Local {
    /// Brings the containers up to date and hands the action to the executor; holds it while
    /// the daemon is unreachable.
    async fn dispatch(&mut self, request: Request) {
        let action = &request.action;
        let Some(docker) = self.watch.client().cloned() else {
            if self.waiting.len() < ACTION_QUEUE {
                tracing::info!(
                    action = action.name(),
                    target = action.target(),
                    "Docker daemon not reachable yet; the action waits"
                );
                self.waiting.push_back(request);
            } else {
                tracing::warn!(
                    action = action.name(),
                    target = action.target(),
                    "Docker daemon unreachable and too many actions waiting; action dropped"
                );
            }
            return;
        };
        if let Err(err) = self.watch.bring_current().await {
            tracing::error!(action = action.name(), "{}; action dropped", describe(&err));
            return;
        }
        if self
            .jobs
            .try_send((docker, self.watch.cache().running(), request))
            .is_err()
        {
            tracing::warn!("too many actions waiting; action dropped");
        }
    }
}

/// The notices due to the managers. Several of a kind before one is sent are one: the manager
/// lists the whole Swarm anyway.
#[derive(Debug, Default)]
struct Notices {
    /// A watched event (or SIGHUP): the managers render and act on a change.
    changed: AtomicBool,
    /// This worker's own actions settled: the managers render what they changed without
    /// acting on it again.
    settled: AtomicBool,
    /// Wakes the sending task.
    wake: Notify,
}

impl Notices {
    /// A watched event happened.
    fn changed(&self) {
        self.changed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// The containers of an action settled.
    fn settled(&self) {
        self.settled.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// Sends the due notices to every manager, one at a time. A due change notice covers a due
/// settled one: its render takes in what the action changed too (and may act on it, as for a
/// local action whose render was owed anyway).
async fn notify_loop(
    sender: Sender,
    managers: Vec<Peer>,
    notices: Arc<Notices>,
    metrics: Arc<Metrics>,
) {
    loop {
        notices.wake.notified().await;
        let settled = notices.settled.swap(false, Ordering::AcqRel);
        if notices.changed.swap(false, Ordering::AcqRel) {
            sender.notify(&managers, &[], &metrics).await;
        } else if settled {
            sender.notify(&managers, SETTLED_BODY, &metrics).await;
        }
    }
}

/// Whether `container` carries every label of `allowed` (`--allow-label`); always true when
/// `allowed` is empty.
pub fn allowed(container: &Container, allowed: &[(String, Option<String>)]) -> bool {
    allowed
        .iter()
        .all(|(key, value)| match (container.label(key), value) {
            (Some(_), None) => true,
            (Some(have), Some(want)) => have == want,
            (None, _) => false,
        })
}

/// How much later than the manager's change a container may have started (by its node's clock)
/// and still get a late action: clocks of Swarm nodes differ a little, and one superfluous
/// signal costs less than a missed one.
const CLOCK_SKEW_MS: i64 = 2_000;

/// Whether a late action (`started_before`, see [`Request`]) is meant for `container`: it
/// started before the change, so it has not read what changed. A container whose start time is
/// unknown gets it.
pub fn meant(container: &Container, started_before: Option<i64>) -> bool {
    match (started_before, container.started_unix_millis()) {
        (Some(before), Some(started)) => started < before + CLOCK_SKEW_MS,
        _ => true,
    }
}

/// Runs the received actions one after the other on the local containers that `allow`
/// permits.
async fn execute_loop(
    mut jobs: mpsc::Receiver<Job>,
    metrics: Arc<Metrics>,
    allow: Vec<(String, Option<String>)>,
    own: OwnActions,
    notices: Option<Arc<Notices>>,
) {
    while let Some((docker, running, request)) = jobs.recv().await {
        let running: Vec<Arc<Container>> = running
            .into_iter()
            .filter(|c| allowed(c, &allow) && meant(c, request.started_before))
            .collect();
        let restart = matches!(request.action, Action::Restart { .. });
        let plan = match request.action {
            Action::Restart { target } => Plan {
                restarts: vec![target],
                signals: Vec::new(),
            },
            Action::Signal { target, signal } => Plan {
                restarts: Vec::new(),
                signals: vec![SignalSpec { target, signal }],
            },
        };
        let reach = Reach {
            own: Some(&own),
            ..Reach::default()
        };
        actions::run_plan(&docker, &running, &plan, reach, &metrics).await;
        // What a restart changed for good (a start time, an address) reaches the managers as
        // a settled notice, which renders without acting again: the restart's events were
        // held back, and acting on their change would loop. A signal changes nothing a
        // template reads, and an own render after it could only swallow a real change.
        if own.take_acted()
            && restart
            && let Some(notices) = &notices
        {
            notices.settled();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(labels: &str) -> Container {
        started(labels, "2026-12-03T08:00:00.5Z")
    }

    fn started(labels: &str, at: &str) -> Container {
        Container::from_inspect_json(&format!(
            r#"{{"Id": "{}", "Name": "/c", "Config": {{"Labels": {labels}}}, "State": {{"Running": true, "StartedAt": "{at}"}}}}"#,
            "a".repeat(64)
        ))
        .expect("a container")
    }

    #[test]
    fn late_actions_reach_only_containers_started_before_the_change() {
        // 2026-12-03T08:00:00Z in Unix milliseconds.
        let change = 1_796_284_800_000;
        let early = started("{}", "2026-12-03T07:59:30.25Z");
        let within_skew = started("{}", "2026-12-03T08:00:01.5Z");
        let late = started("{}", "2026-12-03T08:00:05Z");
        let unknown = started("{}", "not a time");
        assert_eq!(early.started_unix_millis(), Some(change - 29_750));
        assert!(meant(&early, Some(change)));
        assert!(meant(&within_skew, Some(change)));
        assert!(!meant(&late, Some(change)));
        assert!(meant(&unknown, Some(change)));
        assert!(
            meant(&late, None),
            "an ordinary action reaches every container"
        );
    }

    #[test]
    fn allow_labels_filter_the_targets() {
        let proxy = container(r#"{"pygen.allow": "yes", "role": "proxy"}"#);
        let db = container(r#"{"role": "db"}"#);
        let key = |k: &str| (k.to_owned(), None);
        let pair = |k: &str, v: &str| (k.to_owned(), Some(v.to_owned()));
        assert!(allowed(&db, &[]));
        assert!(allowed(&proxy, &[key("pygen.allow")]));
        assert!(!allowed(&db, &[key("pygen.allow")]));
        assert!(allowed(&proxy, &[pair("role", "proxy")]));
        assert!(!allowed(&db, &[pair("role", "proxy")]));
        assert!(!allowed(&proxy, &[key("pygen.allow"), pair("role", "db")]));
    }
}
