//! The event feed: one long-lived task that keeps a subscription to the daemon's event stream,
//! reconnecting with capped exponential backoff whenever the daemon goes away.
//!
//! Each (re)connection is announced with a fresh client before its events, so the consumer
//! resyncs the whole state and then applies the events that follow. The subscription asks for
//! events since a moment before the announcement, so nothing that happens between the
//! subscription and the consumer's listing is lost.
//!
//! While the daemon cannot be reached, [`Outage`] decides what is logged: the cause (plainly:
//! `nothing listens at tcp://127.0.0.1:1: connection refused`) at the first failure, whenever
//! the delay before the next attempt grows, and whenever the cause changes; then a `still
//! unreachable` line every [`STILL_UNREACHABLE_EVERY`]; and one line when it is back. The
//! attempts are counted by the caller's `connect` (`pygen_docker_connect_attempts_total`).

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::report::describe;
use bollard::Docker;
use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// First wait after a failed connection attempt.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// Longest wait between two connection attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// How far back a new subscription reaches, to cover the gap between subscribing and listing.
const SUBSCRIBE_OVERLAP: Duration = Duration::from_secs(1);
/// How often a daemon that stays unreachable is logged again, once the retry delay stopped
/// growing and the cause stays the same.
pub const STILL_UNREACHABLE_EVERY: Duration = Duration::from_secs(60);

/// What one failed attempt is worth logging.
#[derive(Debug, PartialEq, Eq)]
enum OutageLog {
    /// The cause, with the next delay: first failure, a longer delay, or a new cause.
    Cause,
    /// The periodic reminder.
    Still,
    /// Nothing: said recently.
    Quiet,
}

/// A run of failed connection attempts, and what of it was already logged.
#[derive(Debug)]
struct Outage {
    /// When the first attempt failed (or the stream was lost).
    since: Instant,
    /// Failed attempts so far.
    failures: u64,
    /// The cause logged last.
    cause: String,
    /// The delay logged last.
    delay: Duration,
    /// When a line was last logged.
    logged: Instant,
}

impl Outage {
    /// An outage that starts now (nothing logged yet).
    fn new(now: Instant) -> Outage {
        Outage {
            since: now,
            failures: 0,
            cause: String::new(),
            delay: Duration::ZERO,
            logged: now,
        }
    }

    /// Notes a failed attempt with its cause and the delay before the next one; says what to
    /// log.
    fn failed(&mut self, cause: &str, delay: Duration, now: Instant) -> OutageLog {
        self.failures += 1;
        let log = if self.failures == 1 || delay != self.delay || cause != self.cause {
            OutageLog::Cause
        } else if now.duration_since(self.logged) >= STILL_UNREACHABLE_EVERY {
            OutageLog::Still
        } else {
            OutageLog::Quiet
        };
        if log != OutageLog::Quiet {
            self.logged = now;
        }
        self.cause = cause.to_owned();
        self.delay = delay;
        log
    }

    /// Logs a failed attempt as [`Outage::failed`] decides.
    fn report(&mut self, cause: &str, delay: Duration) {
        let now = Instant::now();
        match self.failed(cause, delay, now) {
            OutageLog::Cause => tracing::warn!(
                attempts = self.failures,
                "Docker daemon unreachable: {cause}; retrying in {delay:?}"
            ),
            OutageLog::Still => tracing::warn!(
                attempts = self.failures,
                "Docker daemon still unreachable after {} s: {cause}; retrying every {delay:?}",
                now.duration_since(self.since).as_secs()
            ),
            OutageLog::Quiet => {}
        }
    }
}

/// What the feed tells its consumer.
#[derive(Debug)]
pub enum Feed {
    /// A (re)connection: the consumer must resync its whole state with this client.
    Connected(Docker),
    /// One daemon event about a container, a container's network attachment, or (on a Swarm
    /// manager) a service or node.
    Event(EventMessage),
    /// The connection was lost; a reconnect follows.
    Disconnected(String),
}

/// How an event changes the state cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect<'a> {
    /// The container must be re-inspected.
    Dirty(&'a str),
    /// The container is gone.
    Removed(&'a str),
    /// Nothing pygen keeps changed.
    None,
}

/// Container actions that never change what inspect reports, so they never cost a re-inspect.
/// Health checks alone emit three exec events per container and interval.
const NO_STATE_CHANGE: &[&str] = &[
    "attach",
    "detach",
    "resize",
    "top",
    "export",
    "commit",
    "copy",
    "archive-path",
    "extract-to-dir",
];

/// The effect of one event on the state cache.
pub fn effect(event: &EventMessage) -> Effect<'_> {
    let action = event.action.as_deref().unwrap_or_default();
    let actor = event.actor.as_ref();
    match event.typ {
        Some(EventMessageTypeEnum::CONTAINER) => {
            let Some(id) = actor.and_then(|a| a.id.as_deref()) else {
                return Effect::None;
            };
            if action == "destroy" {
                Effect::Removed(id)
            } else if action.starts_with("exec_") || NO_STATE_CHANGE.contains(&action) {
                Effect::None
            } else {
                Effect::Dirty(id)
            }
        }
        Some(EventMessageTypeEnum::NETWORK) if action == "connect" || action == "disconnect" => {
            match actor
                .and_then(|a| a.attributes.as_ref())
                .and_then(|attrs| attrs.get("container"))
            {
                Some(id) => Effect::Dirty(id.as_str()),
                None => Effect::None,
            }
        }
        _ => Effect::None,
    }
}

/// Whether an event may change the Swarm's services or tasks: a service or node event, or a
/// state change of a task's container.
pub fn touches_swarm(event: &EventMessage) -> bool {
    match event.typ {
        Some(EventMessageTypeEnum::SERVICE | EventMessageTypeEnum::NODE) => true,
        Some(EventMessageTypeEnum::CONTAINER) => {
            !matches!(effect(event), Effect::None)
                && event
                    .actor
                    .as_ref()
                    .and_then(|a| a.attributes.as_ref())
                    .is_some_and(|attrs| attrs.contains_key("com.docker.swarm.task.id"))
        }
        _ => false,
    }
}

/// The name of the container an event is about, for the logs.
pub fn actor_name(event: &EventMessage) -> &str {
    event
        .actor
        .as_ref()
        .and_then(|a| a.attributes.as_ref())
        .and_then(|attrs| attrs.get("name"))
        .map(String::as_str)
        .unwrap_or("<?>")
}

/// Starts the feed task. `connect` builds a fresh client for every attempt (a client created
/// while the socket was missing never recovers, so reconnecting means recreating it) and
/// negotiates the API version with the daemon.
pub fn spawn<F, Fut>(connect: F) -> mpsc::Receiver<Feed>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Docker, String>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(run(connect, tx));
    rx
}

/// The feed loop; ends when the consumer drops its receiver.
async fn run<F, Fut>(connect: F, tx: mpsc::Sender<Feed>)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Docker, String>> + Send + 'static,
{
    let mut backoff = BACKOFF_START;
    // Set while the daemon cannot be reached: from the first failure or the lost stream.
    let mut outage: Option<Outage> = None;
    loop {
        let docker = match connect().await {
            Ok(docker) => docker,
            Err(err) => {
                outage
                    .get_or_insert_with(|| Outage::new(Instant::now()))
                    .report(&err, backoff);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_CAP);
                continue;
            }
        };
        let since = SystemTime::now()
            .checked_sub(SUBSCRIBE_OVERLAP)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()));
        // Service and node events (sent only by Swarm managers) tell that the Swarm changed.
        let filters = HashMap::from([(
            "type".to_owned(),
            vec![
                "container".to_owned(),
                "network".to_owned(),
                "service".to_owned(),
                "node".to_owned(),
            ],
        )]);
        let mut stream = docker.events(Some(EventsOptions {
            since,
            until: None,
            filters: Some(filters),
        }));
        if let Some(outage) = outage.take() {
            tracing::info!(
                attempts = outage.failures + 1,
                "Docker daemon reachable again after {} s, resyncing",
                outage.since.elapsed().as_secs()
            );
        }
        backoff = BACKOFF_START;
        if tx.send(Feed::Connected(docker.clone())).await.is_err() {
            return;
        }
        let reason = loop {
            match stream.next().await {
                Some(Ok(event)) => {
                    if tx.send(Feed::Event(event)).await.is_err() {
                        return;
                    }
                }
                Some(Err(err)) => break describe(&err),
                None => break "event stream ended".to_owned(),
            }
        };
        tracing::warn!(reason = %reason, "lost the Docker event stream, reconnecting");
        outage = Some(Outage::new(Instant::now()));
        if tx.send(Feed::Disconnected(reason)).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_CAP);
    }
}

/// A Docker event for tests: `typ`, `action`, the actor `id` and its `attrs`.
#[cfg(test)]
pub(crate) fn test_event(
    typ: EventMessageTypeEnum,
    action: &str,
    id: &str,
    attrs: &[(&str, &str)],
) -> EventMessage {
    EventMessage {
        typ: Some(typ),
        action: Some(action.to_owned()),
        actor: Some(bollard::models::EventActor {
            id: Some(id.to_owned()),
            attributes: Some(
                attrs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::test_event as event;
    use super::*;

    #[test]
    fn an_outage_logs_the_cause_at_each_new_delay_then_periodically() {
        let start = Instant::now();
        let mut outage = Outage::new(start);
        let refused = "nothing listens at tcp://127.0.0.1:1: connection refused";
        let at = |s: u64| start + Duration::from_secs(s);
        let ms = Duration::from_millis;
        assert_eq!(outage.failed(refused, ms(100), at(0)), OutageLog::Cause);
        assert_eq!(outage.failed(refused, ms(200), at(0)), OutageLog::Cause);
        assert_eq!(outage.failed(refused, BACKOFF_CAP, at(1)), OutageLog::Cause);
        assert_eq!(outage.failed(refused, BACKOFF_CAP, at(6)), OutageLog::Quiet);
        assert_eq!(
            outage.failed(refused, BACKOFF_CAP, at(60)),
            OutageLog::Quiet
        );
        assert_eq!(
            outage.failed(refused, BACKOFF_CAP, at(61)),
            OutageLog::Still
        );
        assert_eq!(
            outage.failed(refused, BACKOFF_CAP, at(66)),
            OutageLog::Quiet
        );
        let gone = "no such socket /var/run/docker.sock";
        assert_eq!(outage.failed(gone, BACKOFF_CAP, at(71)), OutageLog::Cause);
        assert_eq!(outage.failed(gone, BACKOFF_CAP, at(76)), OutageLog::Quiet);
        assert_eq!(outage.failures, 9);
    }

    #[test]
    fn container_events_mark_dirty_or_remove() {
        let start = event(EventMessageTypeEnum::CONTAINER, "start", "abc", &[]);
        assert_eq!(effect(&start), Effect::Dirty("abc"));
        let health = event(
            EventMessageTypeEnum::CONTAINER,
            "health_status: healthy",
            "abc",
            &[],
        );
        assert_eq!(effect(&health), Effect::Dirty("abc"));
        let destroy = event(EventMessageTypeEnum::CONTAINER, "destroy", "abc", &[]);
        assert_eq!(effect(&destroy), Effect::Removed("abc"));
    }

    #[test]
    fn exec_and_attach_events_cost_nothing() {
        for action in [
            "exec_create: true",
            "exec_start: true",
            "exec_die",
            "attach",
            "resize",
        ] {
            let ev = event(EventMessageTypeEnum::CONTAINER, action, "abc", &[]);
            assert_eq!(effect(&ev), Effect::None, "{action}");
        }
    }

    #[test]
    fn network_connect_marks_the_container() {
        let ev = event(
            EventMessageTypeEnum::NETWORK,
            "connect",
            "net1",
            &[("container", "c1")],
        );
        assert_eq!(effect(&ev), Effect::Dirty("c1"));
        let other = event(EventMessageTypeEnum::NETWORK, "create", "net1", &[]);
        assert_eq!(effect(&other), Effect::None);
        let image = event(EventMessageTypeEnum::IMAGE, "pull", "img", &[]);
        assert_eq!(effect(&image), Effect::None);
    }

    #[test]
    fn swarm_relevant_events() {
        let service = event(
            EventMessageTypeEnum::SERVICE,
            "update",
            "s1",
            &[("name", "web")],
        );
        assert!(touches_swarm(&service));
        let node = event(EventMessageTypeEnum::NODE, "update", "n1", &[]);
        assert!(touches_swarm(&node));
        let task = event(
            EventMessageTypeEnum::CONTAINER,
            "start",
            "c1",
            &[("com.docker.swarm.task.id", "t1")],
        );
        assert!(touches_swarm(&task));
        let exec = event(
            EventMessageTypeEnum::CONTAINER,
            "exec_start: sh",
            "c1",
            &[("com.docker.swarm.task.id", "t1")],
        );
        assert!(!touches_swarm(&exec));
        let plain = event(EventMessageTypeEnum::CONTAINER, "start", "c2", &[]);
        assert!(!touches_swarm(&plain));
    }

    #[test]
    fn actor_name_falls_back() {
        let named = event(
            EventMessageTypeEnum::CONTAINER,
            "start",
            "abc",
            &[("name", "web")],
        );
        assert_eq!(actor_name(&named), "web");
        let unnamed = event(EventMessageTypeEnum::CONTAINER, "start", "abc", &[]);
        assert_eq!(actor_name(&unnamed), "<?>");
    }
}
