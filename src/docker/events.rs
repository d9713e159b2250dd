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
//!
//! The daemon's events are read into pygen's own small [`Event`]: only what pygen reads, and
//! leniently (a type pygen does not know is kept as its name, fields it does not read are
//! ignored), so a newer daemon's events never break the stream.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::sync::mpsc;

use super::raw::{self, RawClient, StreamBody};
use crate::report::describe;

/// First wait after a failed connection attempt.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// Longest wait between two connection attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// How far back a new subscription reaches, to cover the gap between subscribing and listing.
const SUBSCRIBE_OVERLAP: Duration = Duration::from_secs(1);
/// How often a daemon that stays unreachable is logged again, once the retry delay stopped
/// growing and the cause stays the same.
pub const STILL_UNREACHABLE_EVERY: Duration = Duration::from_secs(60);

/// The event types pygen subscribes to. Service and node events (sent only by Swarm managers)
/// tell that the Swarm changed.
const SUBSCRIBED: &str = r#"{"type":["container","network","service","node"]}"#;

/// One daemon event: what pygen reads of the daemon's `/events` objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// What the event is about (`Type`).
    #[serde(rename = "Type", default)]
    pub typ: Option<EventType>,
    /// What happened (`Action`): `start`, `health_status: healthy`, `connect`, ...
    #[serde(rename = "Action", default)]
    pub action: Option<String>,
    /// The object concerned (`Actor`).
    #[serde(rename = "Actor", default)]
    pub actor: Option<Actor>,
    /// `local` or `swarm`.
    #[serde(default)]
    pub scope: Option<String>,
    /// When, in seconds since the epoch.
    #[serde(default)]
    pub time: Option<i64>,
    /// When, in nanoseconds since the epoch.
    #[serde(rename = "timeNano", default)]
    pub time_nano: Option<i64>,
}

/// The object an [`Event`] is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Actor {
    /// Its ID (`ID`): a container's full ID, a network's, a service's, ...
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
    /// Its attributes (`Attributes`): a container's labels, `name` and `image`; a network
    /// event's `container`; ...
    #[serde(rename = "Attributes", default)]
    pub attributes: Option<HashMap<String, String>>,
}

/// The `Type` of an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `container`.
    Container,
    /// `network`.
    Network,
    /// `service` (Swarm managers only).
    Service,
    /// `node` (Swarm managers only).
    Node,
    /// Any other type, by its name (`image`, `volume`, ...).
    Other(String),
}

impl EventType {
    /// The type as the daemon names it.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::Container => "container",
            EventType::Network => "network",
            EventType::Service => "service",
            EventType::Node => "node",
            EventType::Other(name) => name,
        }
    }

    /// The type the daemon names `name`.
    pub fn from_name(name: &str) -> EventType {
        match name {
            "container" => EventType::Container,
            "network" => EventType::Network,
            "service" => EventType::Service,
            "node" => EventType::Node,
            other => EventType::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(EventType::from_name(&name))
    }
}

/// Why the event stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stream could not be read (the daemon went away, ...).
    #[error(transparent)]
    Read(#[from] raw::Error),
    /// The daemon sent something that is not a JSON event object.
    #[error("the Docker event stream sent invalid JSON")]
    Json(#[source] serde_json::Error),
}

/// The daemon's event stream: JSON objects, one after the other, as the daemon sends them.
#[derive(Debug)]
pub struct EventStream {
    /// The answer's body.
    body: StreamBody,
    /// Bytes received and not yet read as an event.
    pending: Vec<u8>,
}

impl EventStream {
    /// The events in `body`.
    pub(super) fn new(body: StreamBody) -> EventStream {
        EventStream {
            body,
            pending: Vec::new(),
        }
    }

    /// The next event; `None` when the daemon ended the stream.
    pub async fn next(&mut self) -> Option<Result<Event, Error>> {
        loop {
            match take_event(&mut self.pending) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => {}
                Err(err) => return Some(Err(Error::Json(err))),
            }
            match self.body.chunk().await {
                Ok(Some(chunk)) => self.pending.extend_from_slice(&chunk),
                Ok(None) => return None,
                Err(err) => return Some(Err(err.into())),
            }
        }
    }
}

/// Takes the first whole event out of `pending`; `None` while no whole JSON value is there (an
/// object cut between two chunks waits for the rest). A JSON value that is not an event pygen
/// can read (a field of an unexpected type) is skipped with a warning: one odd event never stops
/// the feed. Bytes that are not JSON at all are an error.
fn take_event(pending: &mut Vec<u8>) -> Result<Option<Event>, serde_json::Error> {
    loop {
        let mut values = serde_json::Deserializer::from_slice(pending)
            .into_iter::<&serde_json::value::RawValue>();
        let (parsed, used) = match values.next() {
            None => {
                pending.clear();
                return Ok(None);
            }
            Some(Err(err)) if err.is_eof() => return Ok(None),
            Some(Err(err)) => return Err(err),
            Some(Ok(raw)) => (
                serde_json::from_str::<Event>(raw.get()),
                values.byte_offset(),
            ),
        };
        pending.drain(..used);
        match parsed {
            Ok(event) => return Ok(Some(event)),
            Err(err) => tracing::warn!("skipped a Docker event pygen cannot read: {err}"),
        }
    }
}

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
    Connected(RawClient),
    /// One daemon event about a container, a container's network attachment, or (on a Swarm
    /// manager) a service or node.
    Event(Event),
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
pub fn effect(event: &Event) -> Effect<'_> {
    let action = event.action.as_deref().unwrap_or_default();
    let actor = event.actor.as_ref();
    match event.typ {
        Some(EventType::Container) => {
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
        Some(EventType::Network) if action == "connect" || action == "disconnect" => {
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
pub fn touches_swarm(event: &Event) -> bool {
    match event.typ {
        Some(EventType::Service | EventType::Node) => true,
        Some(EventType::Container) => {
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
pub fn actor_name(event: &Event) -> &str {
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
    Fut: Future<Output = Result<RawClient, String>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(run(connect, tx));
    rx
}

/// The feed loop; ends when the consumer drops its receiver.
async fn run<F, Fut>(connect: F, tx: mpsc::Sender<Feed>)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<RawClient, String>> + Send + 'static,
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
        let reason = match docker.events(since.as_deref(), SUBSCRIBED).await {
            Err(err) => describe(&err),
            Ok(mut stream) => loop {
                match stream.next().await {
                    Some(Ok(event)) => {
                        if tx.send(Feed::Event(event)).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(err)) => break describe(&err),
                    None => break "event stream ended".to_owned(),
                }
            },
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
pub(crate) fn test_event(typ: EventType, action: &str, id: &str, attrs: &[(&str, &str)]) -> Event {
    Event {
        typ: Some(typ),
        action: Some(action.to_owned()),
        actor: Some(Actor {
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
    fn events_parse_leniently() {
        let start: Event = serde_json::from_str(
            r#"{"status":"start","id":"abc","from":"nginx","Type":"container","Action":"start",
                "Actor":{"ID":"abc","Attributes":{"name":"web","image":"nginx"}},
                "scope":"local","time":1700000000,"timeNano":1700000000123456789}"#,
        )
        .expect("a container event");
        assert_eq!(start.typ, Some(EventType::Container));
        assert_eq!(start.action.as_deref(), Some("start"));
        assert_eq!(actor_name(&start), "web");
        assert_eq!(start.scope.as_deref(), Some("local"));
        assert_eq!(start.time_nano, Some(1_700_000_000_123_456_789));
        let volume: Event = serde_json::from_str(
            r#"{"Type":"volume","Action":"mount","Actor":{"ID":"v","Attributes":null},"new":{"x":1}}"#,
        )
        .expect("an unknown type and field");
        assert_eq!(volume.typ, Some(EventType::Other("volume".to_owned())));
        assert_eq!(volume.typ.map(|t| t.to_string()).as_deref(), Some("volume"));
        let bare: Event = serde_json::from_str("{}").expect("nothing at all");
        assert_eq!(bare, Event::default());
    }

    #[test]
    fn the_stream_is_read_however_it_is_cut() {
        let stream = concat!(
            r#"{"Type":"container","Action":"start","Actor":{"ID":"a"}}"#,
            "\n",
            r#"{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"a"}}}"#,
            r#"{"Type":"container","Action":7}"#,
            "\n",
            r#"{"Type":"container","Action":"die","Actor":{"ID":"b"}}"#,
            "\n"
        );
        // Every way of cutting the stream in two chunks gives the same events; the one whose
        // Action is a number is skipped.
        for cut in 0..stream.len() {
            let mut pending = stream.as_bytes()[..cut].to_vec();
            let mut seen = Vec::new();
            while let Some(event) = take_event(&mut pending).expect("JSON") {
                seen.push(event);
            }
            pending.extend_from_slice(&stream.as_bytes()[cut..]);
            while let Some(event) = take_event(&mut pending).expect("JSON") {
                seen.push(event);
            }
            let actions: Vec<_> = seen.iter().filter_map(|e| e.action.as_deref()).collect();
            assert_eq!(actions, ["start", "connect", "die"], "cut at {cut}");
            assert_eq!(effect(&seen[1]), Effect::Dirty("a"));
            assert!(pending.is_empty());
        }
        let mut garbage = b"not json".to_vec();
        assert!(take_event(&mut garbage).is_err());
    }

    #[test]
    fn container_events_mark_dirty_or_remove() {
        let start = event(EventType::Container, "start", "abc", &[]);
        assert_eq!(effect(&start), Effect::Dirty("abc"));
        let health = event(EventType::Container, "health_status: healthy", "abc", &[]);
        assert_eq!(effect(&health), Effect::Dirty("abc"));
        let destroy = event(EventType::Container, "destroy", "abc", &[]);
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
            let ev = event(EventType::Container, action, "abc", &[]);
            assert_eq!(effect(&ev), Effect::None, "{action}");
        }
    }

    #[test]
    fn network_connect_marks_the_container() {
        let ev = event(
            EventType::Network,
            "connect",
            "net1",
            &[("container", "c1")],
        );
        assert_eq!(effect(&ev), Effect::Dirty("c1"));
        let other = event(EventType::Network, "create", "net1", &[]);
        assert_eq!(effect(&other), Effect::None);
        let image = event(EventType::Other("image".to_owned()), "pull", "img", &[]);
        assert_eq!(effect(&image), Effect::None);
    }

    #[test]
    fn swarm_relevant_events() {
        let service = event(EventType::Service, "update", "s1", &[("name", "web")]);
        assert!(touches_swarm(&service));
        let node = event(EventType::Node, "update", "n1", &[]);
        assert!(touches_swarm(&node));
        let task = event(
            EventType::Container,
            "start",
            "c1",
            &[("com.docker.swarm.task.id", "t1")],
        );
        assert!(touches_swarm(&task));
        let exec = event(
            EventType::Container,
            "exec_start: sh",
            "c1",
            &[("com.docker.swarm.task.id", "t1")],
        );
        assert!(!touches_swarm(&exec));
        let plain = event(EventType::Container, "start", "c2", &[]);
        assert!(!touches_swarm(&plain));
    }

    #[test]
    fn actor_name_falls_back() {
        let named = event(EventType::Container, "start", "abc", &[("name", "web")]);
        assert_eq!(actor_name(&named), "web");
        let unnamed = event(EventType::Container, "start", "abc", &[]);
        assert_eq!(actor_name(&unnamed), "<?>");
    }
}
