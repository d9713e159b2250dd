//! One watch of a daemon: the event feed, the state cache it keeps current, and the client of
//! the current connection, with reconnects that resync the whole state.
//!
//! The generator and the Swarm worker both need exactly this (connect, learn about changes,
//! keep the containers current, recover from a lost daemon); each adds only what it does with a
//! change. Any number of templates can share one [`Watch`]: it holds one cache and one event
//! stream, and a change costs one inspect of the container it names however many readers follow.
//!
//! Those inspects run as background tasks, a bounded number at once, and each answer lands in the
//! cache when it returns ([`Change::Inspected`]). Nothing waits for them: the daemon answers the
//! inspect of a container it is still starting only once the start is done, which can take
//! seconds, and meanwhile the events keep flowing and the other containers' answers land. An
//! event that arrives for a container whose inspect is in flight asks for one more inspect after
//! it, unless the answer already shows what the event says (a start: see `watch/inspects.rs`); a
//! `destroy` drops the answer of any inspect in flight, so a removed container never comes back.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::connect;
use super::events::{self, Effect, Event, Feed};
use super::raw::RawClient;
use super::state::{self, StateCache, StateSource, SyncStats};
use crate::metrics::Metrics;
use crate::model::Container;
use crate::ownid;
use crate::report::describe;

mod inspects;

use inspects::{Cause, Inspects, Landed};

/// What [`Watch::next`] saw, after applying it to the cache.
#[derive(Debug)]
pub enum Change {
    /// A (re)connection: the whole state is read again by the next [`Watch::bring_current`].
    Connected,
    /// The connection was lost; the cache keeps its last state until the reconnect.
    Disconnected,
    /// A daemon event, already applied to the cache (an inspect of the container it names may
    /// have started: see [`Watch::inspecting`]).
    Event(Event),
    /// The inspect of a container returned and its answer is in the cache (no further inspect of
    /// it is in flight). `ok` is false when the inspect failed: the next
    /// [`Watch::bring_current`] then reads the whole state again.
    Inspected {
        /// The container's full ID.
        id: String,
        /// Whether the inspect succeeded.
        ok: bool,
    },
}

/// How [`Watch::bring_current`] brought the cache up to date.
#[derive(Debug, Clone, Copy)]
pub enum Synced {
    /// Every container was listed and inspected (after a connect, or a read that failed).
    Full(SyncStats),
    /// No full read was owed; the inspects in flight land on their own.
    Current,
}

impl Synced {
    /// The statistics of the API calls made, if any.
    pub fn stats(&self) -> Option<SyncStats> {
        match self {
            Synced::Full(stats) => Some(*stats),
            Synced::Current => None,
        }
    }
}

/// The event feed, the state cache and the current client.
#[derive(Debug)]
pub struct Watch {
    /// The feed task's output: connections, events, losses.
    feed: mpsc::Receiver<Feed>,
    /// The containers, kept current from events.
    cache: StateCache,
    /// The client of the current connection; `None` while the daemon is unreachable.
    client: Option<RawClient>,
    /// What lists and inspects the containers; `None` while the daemon is unreachable.
    source: Option<Arc<dyn StateSource>>,
    /// The source that serves every connection's reads instead of its client (a test's
    /// containers in memory); `None` reads through the connection's client.
    serves: Option<Arc<dyn StateSource>>,
    /// The inspects in flight.
    inspects: Inspects,
    /// Whether the cache must be rebuilt from scratch before it is used (after a connect, or a
    /// resync that failed).
    needs_sync: bool,
    /// Whether a connection was ever made, so the next one counts as a reconnect.
    was_connected: bool,
    /// Connection state and event counts.
    metrics: Arc<Metrics>,
}

impl Watch {
    /// Starts watching the daemon at `address`. A malformed address is an error now, not an
    /// endless retry; a daemon that is down is waited for.
    pub fn start(address: Option<String>, metrics: Arc<Metrics>) -> Result<Watch, connect::Error> {
        connect::plan(address.as_deref(), &connect::Env::from_process())?;
        let feed_metrics = Arc::clone(&metrics);
        let feed = events::spawn(move || {
            let address = address.clone();
            let metrics = Arc::clone(&feed_metrics);
            async move {
                let connected = connect::connect_negotiated(address.as_deref()).await;
                metrics.connect_attempted(connected.is_ok());
                connected.map_err(|e| describe(&e))
            }
        });
        Ok(Watch::with(feed, None, ownid::detect(), metrics))
    }

    /// A watch over a feed the caller sends, its containers listed and inspected from `source`
    /// whatever client a [`Feed::Connected`] brings (that client still serves actions, Swarm
    /// and docker-gen reads): the watch loop over a state that is not a daemon's.
    pub fn over(
        feed: mpsc::Receiver<Feed>,
        source: Arc<dyn StateSource>,
        metrics: Arc<Metrics>,
    ) -> Watch {
        Watch::with(feed, Some(source), None, metrics)
    }

    fn with(
        feed: mpsc::Receiver<Feed>,
        serves: Option<Arc<dyn StateSource>>,
        own_id: Option<ownid::OwnId>,
        metrics: Arc<Metrics>,
    ) -> Watch {
        Watch {
            feed,
            cache: StateCache::new(own_id),
            client: None,
            source: None,
            serves,
            inspects: Inspects::new(),
            needs_sync: true,
            was_connected: false,
            metrics,
        }
    }

    /// Waits for the next change (an item of the feed, or an inspect that returned) and applies
    /// it to the cache. `None` when the feed stopped, which happens only when its task ended.
    /// Cancel-safe: nothing is lost when the future is dropped before it resolves.
    pub async fn next(&mut self) -> Option<Change> {
        loop {
            tokio::select! {
                // Events first: a destroy that is already waiting beats the answer of an inspect
                // of the same container.
                biased;
                item = self.feed.recv() => return Some(self.apply(item?)),
                Some(joined) = self.inspects.tasks.join_next() => {
                    if let Some(change) = self.landed(joined) {
                        return Some(change);
                    }
                }
            }
        }
    }

    /// The next change that is already waiting, applied to the cache; `None` when none waits.
    pub fn try_next(&mut self) -> Option<Change> {
        if let Ok(item) = self.feed.try_recv() {
            return Some(self.apply(item));
        }
        while let Some(joined) = self.inspects.tasks.try_join_next() {
            if let Some(change) = self.landed(joined) {
                return Some(change);
            }
        }
        None
    }

    /// Whether an inspect of the container `id` is in flight (its answer will come as a
    /// [`Change::Inspected`]).
    pub fn inspecting(&self, id: &str) -> bool {
        self.inspects.current.contains_key(id)
    }

    /// Whether a connection is up: the cache can be brought current and renders read it.
    pub fn is_connected(&self) -> bool {
        self.source.is_some()
    }

    /// The client of the current connection (kill, restart, Swarm and docker-gen reads);
    /// `None` while the daemon is unreachable.
    pub fn client(&self) -> Option<&RawClient> {
        self.client.as_ref()
    }

    /// The cache, as current as the last [`Watch::bring_current`] left it.
    pub fn cache(&self) -> &StateCache {
        &self.cache
    }

    /// Reads the whole state when it must be (after a connect, or after a read that failed);
    /// else the cache is current but for the inspects in flight, which nobody waits for.
    /// `Ok(None)` while the daemon is unreachable.
    pub async fn bring_current(&mut self) -> Result<Option<Synced>, state::Error> {
        let Some(source) = self.source.clone() else {
            return Ok(None);
        };
        if self.needs_sync {
            // The sync reads every container after this point: an answer of an inspect issued
            // before it is older than what the sync stores and must not land over it.
            self.inspects.clear();
            let stats = self.cache.full_sync(&*source).await?;
            self.needs_sync = false;
            Ok(Some(Synced::Full(stats)))
        } else {
            Ok(Some(Synced::Current))
        }
    }

    /// Applies what an inspect returned; `None` when the answer is stale (the container was
    /// destroyed, or the connection changed) or another inspect of it follows.
    fn landed(&mut self, joined: Result<Landed, tokio::task::JoinError>) -> Option<Change> {
        let landed = match joined {
            Ok(landed) => landed,
            // Aborted by a reconnect, which reads everything again anyway.
            Err(err) if err.is_cancelled() => return None,
            Err(err) => {
                tracing::error!(
                    "an inspect task failed: {}; reading the whole state again",
                    describe(&err)
                );
                self.needs_sync = true;
                return Some(Change::Inspected {
                    id: String::new(),
                    ok: false,
                });
            }
        };
        if self.inspects.current.get(&landed.id) != Some(&landed.ticket) {
            tracing::debug!(container = %landed.id, "stale inspect answer dropped");
            return None;
        }
        self.inspects.current.remove(&landed.id);
        self.metrics.api_containers(landed.duration, true);
        let answer = landed.result.as_ref().ok().and_then(Option::as_ref);
        let owes_another = self.inspects.owes_another(&landed.id, answer);
        let ok = match landed.result {
            Ok(found) => {
                tracing::debug!(
                    container = %landed.id,
                    running = found.as_ref().map(Container::is_running),
                    ms = format_args!("{:.1}", landed.duration.as_secs_f64() * 1e3),
                    "inspect landed"
                );
                self.cache.update(&landed.id, found);
                true
            }
            Err(err) => {
                tracing::error!("{}; reading the whole state again", describe(&err));
                self.needs_sync = true;
                false
            }
        };
        if owes_another {
            if let Some(source) = &self.source {
                self.inspects.spawn(source, landed.id);
                return None;
            }
        }
        Some(Change::Inspected { id: landed.id, ok })
    }

    /// Applies one item of the feed.
    fn apply(&mut self, item: Feed) -> Change {
        match item {
            Feed::Connected(client) => {
                if self.was_connected {
                    self.metrics.reconnected();
                }
                self.was_connected = true;
                self.source = Some(match &self.serves {
                    Some(source) => Arc::clone(source),
                    None => Arc::new(client.clone()),
                });
                self.client = Some(client);
                self.inspects.clear();
                self.needs_sync = true;
                self.metrics.set_connected(true);
                Change::Connected
            }
            Feed::Disconnected(_) => {
                self.client = None;
                self.source = None;
                self.inspects.clear();
                self.metrics.set_connected(false);
                Change::Disconnected
            }
            Feed::Event(event) => {
                self.metrics
                    .event_received(event.action.as_deref().unwrap_or_default());
                match events::effect(&event) {
                    // Before the first full sync (or while the daemon is unreachable) the sync
                    // to come reads this container anyway.
                    Effect::Dirty(id) if !id.is_empty() && !self.needs_sync => {
                        if let Some(source) = &self.source {
                            self.inspects.start(source, id, Cause::of(&event));
                        }
                    }
                    Effect::Dirty(_) | Effect::None => {}
                    Effect::Removed(id) => {
                        self.inspects.forget(id);
                        self.cache.remove(id);
                    }
                }
                Change::Event(event)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::inspects::INSPECTS_IN_FLIGHT;
    use super::*;
    use crate::docker::events::{Actor, EventType};

    /// A watch fed by the test instead of a daemon, for the address `tcp://127.0.0.1:1`
    /// (nothing listens there: every read fails at once).
    fn fed_watch() -> (Watch, mpsc::Sender<Feed>, Arc<Metrics>) {
        let (tx, feed) = mpsc::channel(16);
        let metrics = Arc::new(Metrics::new());
        let watch = Watch::with(feed, None, None, Arc::clone(&metrics));
        (watch, tx, metrics)
    }

    fn docker() -> RawClient {
        // Builds the client only; nothing connects until a request is made.
        connect::connect(Some("tcp://127.0.0.1:1")).expect("a literal, valid address")
    }

    fn container_event(action: &str, id: &str) -> Event {
        Event {
            typ: Some(EventType::Container),
            action: Some(action.to_owned()),
            actor: Some(Actor {
                id: Some(id.to_owned()),
                attributes: None,
            }),
            ..Default::default()
        }
    }

    fn has_line(metrics: &Metrics, line: &str) -> bool {
        metrics.encode().lines().any(|l| l == line)
    }

    #[tokio::test]
    async fn connects_apply_events_and_count_reconnects() {
        let (mut watch, tx, metrics) = fed_watch();
        assert!(
            matches!(watch.bring_current().await, Ok(None)),
            "no client yet"
        );
        tx.send(Feed::Connected(docker()))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Connected)));
        assert!(watch.client().is_some());
        assert!(has_line(&metrics, "pygen_docker_connected 1"));

        tx.send(Feed::Event(container_event("start", "abc")))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Event(_))));
        assert!(
            !watch.inspecting("abc"),
            "before the first full sync, the sync reads the container"
        );
        tx.send(Feed::Event(container_event("destroy", "abc")))
            .await
            .expect("open channel");
        assert!(watch.try_next().is_some());
        assert!(watch.try_next().is_none());

        tx.send(Feed::Disconnected("gone".to_owned()))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Disconnected)));
        assert!(watch.client().is_none());
        assert!(has_line(&metrics, "pygen_docker_connected 0"));
        tx.send(Feed::Connected(docker()))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Connected)));
        assert!(has_line(&metrics, "pygen_docker_reconnects_total 1"));

        drop(tx);
        assert!(watch.next().await.is_none(), "the feed ended");
    }

    #[tokio::test]
    async fn a_failed_resync_is_tried_in_full_again() {
        let (mut watch, tx, _metrics) = fed_watch();
        tx.send(Feed::Connected(docker()))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Connected)));
        assert!(watch.bring_current().await.is_err(), "nothing listens");
        assert!(watch.needs_sync, "the next attempt lists everything again");
    }

    /// Serves inspects from memory: every container answers after its own delay (paused time),
    /// and the calls are counted.
    #[derive(Debug, Default)]
    struct Fake {
        /// Delay per container; others answer at once.
        delays: std::sync::Mutex<HashMap<String, Duration>>,
        /// Inspects started, per container.
        calls: std::sync::Mutex<HashMap<String, usize>>,
        /// Inspects running now, and the most ever at once.
        running: std::sync::Mutex<(usize, usize)>,
        /// The `State.Status` each container answers with; "running" when not set.
        statuses: std::sync::Mutex<HashMap<String, String>>,
    }

    impl Fake {
        fn delay(&self, id: &str, delay: Duration) {
            self.delays
                .lock()
                .expect("no test thread panics holding it")
                .insert(id.to_owned(), delay);
        }

        fn status(&self, id: &str, status: &str) {
            self.statuses
                .lock()
                .expect("no test thread panics holding it")
                .insert(id.to_owned(), status.to_owned());
        }

        fn calls(&self, id: &str) -> usize {
            let calls = self.calls.lock().expect("no test thread panics holding it");
            calls.get(id).copied().unwrap_or(0)
        }
    }

    /// The source handed to the watch: shares the fake with the test.
    #[derive(Debug)]
    struct FakeSource(Arc<Fake>);

    impl StateSource for FakeSource {
        fn list(&self) -> futures_util::future::BoxFuture<'_, Result<Vec<String>, state::Error>> {
            // These tests start past the full sync.
            Box::pin(std::future::ready(Ok(Vec::new())))
        }

        fn inspect(
            &self,
            id: String,
        ) -> futures_util::future::BoxFuture<'_, Result<Option<Container>, state::Error>> {
            let fake = Arc::clone(&self.0);
            Box::pin(async move {
                let delay = {
                    let mut calls = fake.calls.lock().expect("no test thread panics holding it");
                    *calls.entry(id.clone()).or_default() += 1;
                    let delays = fake
                        .delays
                        .lock()
                        .expect("no test thread panics holding it");
                    delays.get(&id).copied().unwrap_or(Duration::ZERO)
                };
                {
                    let mut running = fake
                        .running
                        .lock()
                        .expect("no test thread panics holding it");
                    running.0 += 1;
                    running.1 = running.1.max(running.0);
                }
                tokio::time::sleep(delay).await;
                fake.running
                    .lock()
                    .expect("no test thread panics holding it")
                    .0 -= 1;
                let status = fake
                    .statuses
                    .lock()
                    .expect("no test thread panics holding it")
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| "running".to_owned());
                let running = status != "created" && status != "exited";
                // "restarted": running, after an earlier run ended.
                let (status, finished) = match status.as_str() {
                    "restarted" => ("running", "2026-12-03T10:00:00.5Z"),
                    status => (status, "0001-01-01T00:00:00Z"),
                };
                let json = format!(
                    r#"{{"Id": "{id}", "Name": "/{id}", "State": {{"Status": "{status}", "Running": {running}, "FinishedAt": "{finished}"}}}}"#
                );
                Ok(Some(
                    Container::from_inspect_json(&json).expect("a JSON object always parses"),
                ))
            })
        }
    }

    /// A watch past its first full sync, its inspects served by `fake`.
    fn synced_watch(fake: &Arc<Fake>) -> (Watch, mpsc::Sender<Feed>) {
        let (mut watch, tx, _metrics) = fed_watch();
        watch.source = Some(Arc::new(FakeSource(Arc::clone(fake))));
        watch.needs_sync = false;
        (watch, tx)
    }

    async fn send(tx: &mpsc::Sender<Feed>, action: &str, id: &str) {
        tx.send(Feed::Event(container_event(action, id)))
            .await
            .expect("open channel");
    }

    async fn send_connect(tx: &mpsc::Sender<Feed>, id: &str) {
        let event = Event {
            typ: Some(EventType::Network),
            action: Some("connect".to_owned()),
            actor: Some(Actor {
                id: Some("network-id".to_owned()),
                attributes: Some(HashMap::from([("container".to_owned(), id.to_owned())])),
            }),
            ..Default::default()
        };
        tx.send(Feed::Event(event)).await.expect("open channel");
    }

    /// The ids of the `Inspected` changes among the next `n` changes.
    async fn next_changes(watch: &mut Watch, n: usize) -> Vec<String> {
        let mut seen = Vec::new();
        for _ in 0..n {
            match watch.next().await {
                Some(Change::Inspected { id, ok }) => {
                    assert!(ok, "the fake never fails");
                    seen.push(id);
                }
                Some(Change::Event(_)) => seen.push("event".to_owned()),
                other => panic!("unexpected change {other:?}"),
            }
        }
        seen
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_inspect_holds_back_neither_events_nor_other_containers() {
        let fake = Arc::new(Fake::default());
        fake.delay("slow", Duration::from_secs(5));
        let (mut watch, tx) = synced_watch(&fake);
        send(&tx, "start", "slow").await;
        send(&tx, "start", "fast").await;
        send(&tx, "die", "other").await;
        // Three events, then the fast inspects, all before the slow one returns.
        let seen = next_changes(&mut watch, 5).await;
        assert_eq!(&seen[..3], ["event", "event", "event"]);
        let mut fast = seen[3..].to_vec();
        fast.sort();
        assert_eq!(fast, ["fast", "other"]);
        assert!(watch.cache().contains("fast"));
        assert!(!watch.cache().contains("slow"), "its inspect is in flight");
        assert!(watch.inspecting("slow"));
        let started = tokio::time::Instant::now();
        assert_eq!(next_changes(&mut watch, 1).await, ["slow"]);
        assert!(
            started.elapsed() >= Duration::from_secs(4),
            "it landed when it returned"
        );
        assert!(watch.cache().contains("slow"));
        assert!(!watch.inspecting("slow"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_destroy_beats_the_inspect_in_flight() {
        let fake = Arc::new(Fake::default());
        fake.delay("gone", Duration::from_secs(2));
        let (mut watch, tx) = synced_watch(&fake);
        send(&tx, "start", "gone").await;
        assert_eq!(next_changes(&mut watch, 1).await, ["event"]);
        assert!(watch.inspecting("gone"));
        send(&tx, "destroy", "gone").await;
        assert_eq!(next_changes(&mut watch, 1).await, ["event"]);
        assert!(!watch.inspecting("gone"));
        // The inspect returns; its answer is dropped, and no change reports it.
        send(&tx, "start", "later").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(next_changes(&mut watch, 2).await, ["event", "later"]);
        assert!(watch.try_next().is_none());
        assert!(!watch.cache().contains("gone"), "no resurrection");
        assert_eq!(fake.calls("gone"), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_during_an_inspect_asks_for_one_more_after_it() {
        let fake = Arc::new(Fake::default());
        fake.delay("c", Duration::from_secs(1));
        let (mut watch, tx) = synced_watch(&fake);
        send(&tx, "create", "c").await;
        send(&tx, "start", "c").await;
        send(&tx, "health_status: healthy", "c").await;
        assert_eq!(next_changes(&mut watch, 3).await, ["event"; 3]);
        assert!(watch.inspecting("c"), "one inspect in flight at a time");
        // One change only, after the second inspect: the render it asks for sees the state
        // after the last event.
        assert_eq!(next_changes(&mut watch, 1).await, ["c"]);
        assert_eq!(fake.calls("c"), 2);
        assert!(!watch.inspecting("c"));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(watch.try_next().is_none());
    }

    /// What `docker run` sends: the inspect asked for by the network connect waits for the
    /// start, and returns just after its event.
    #[tokio::test(start_paused = true)]
    async fn an_answer_that_shows_the_start_needs_no_second_inspect() {
        let fake = Arc::new(Fake::default());
        fake.delay("c", Duration::from_secs(1));
        let (mut watch, tx) = synced_watch(&fake);
        send_connect(&tx, "c").await;
        send_connect(&tx, "c").await;
        send(&tx, "start", "c").await;
        assert_eq!(next_changes(&mut watch, 3).await, ["event"; 3]);
        let started = tokio::time::Instant::now();
        assert_eq!(next_changes(&mut watch, 1).await, ["c"]);
        assert!(started.elapsed() < Duration::from_millis(1100));
        assert_eq!(fake.calls("c"), 1);
        assert!(!watch.inspecting("c"));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(watch.try_next().is_none());
    }

    /// Whatever else came during the inspect, or an answer that does not show the container
    /// in its first run, asks for a second inspect.
    #[tokio::test(start_paused = true)]
    async fn only_a_start_shown_running_is_served_by_the_inspect_in_flight() {
        // (events during the inspect, the status it answers with)
        let cases: [(&[&str], &str); 7] = [
            (&["start"], "created"),
            (&["start"], "restarted"),
            (&["start"], "restarting"),
            (&["connect"], "running"),
            (&["start", "connect"], "running"),
            (&["die", "start"], "running"),
            (&["start", "die", "start"], "running"),
        ];
        for (during, status) in cases {
            let fake = Arc::new(Fake::default());
            fake.delay("c", Duration::from_secs(1));
            fake.status("c", status);
            let (mut watch, tx) = synced_watch(&fake);
            send(&tx, "create", "c").await;
            for action in during {
                match *action {
                    "connect" => send_connect(&tx, "c").await,
                    action => send(&tx, action, "c").await,
                }
            }
            let events = vec!["event"; 1 + during.len()];
            assert_eq!(next_changes(&mut watch, events.len()).await, events);
            assert_eq!(
                next_changes(&mut watch, 1).await,
                ["c"],
                "{during:?} {status}"
            );
            assert_eq!(fake.calls("c"), 2, "{during:?} answered {status}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn inspects_in_flight_are_bounded() {
        let fake = Arc::new(Fake::default());
        let ids: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        for id in &ids {
            fake.delay(id, Duration::from_secs(1));
        }
        let (mut watch, tx) = synced_watch(&fake);
        // More events than the feed holds: sent while the watch takes them.
        let to_send = ids.clone();
        let sender = tx.clone();
        tokio::spawn(async move {
            for id in &to_send {
                send(&sender, "start", id).await;
            }
        });
        let seen = next_changes(&mut watch, 80).await;
        assert_eq!(seen.iter().filter(|s| *s != "event").count(), 40);
        let most = fake
            .running
            .lock()
            .expect("no test thread panics holding it")
            .1;
        assert_eq!(most, INSPECTS_IN_FLIGHT);
        assert!(ids.iter().all(|id| watch.cache().contains(id)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconnect_drops_the_inspects_in_flight() {
        let fake = Arc::new(Fake::default());
        fake.delay("c", Duration::from_secs(1));
        let (mut watch, tx) = synced_watch(&fake);
        send(&tx, "start", "c").await;
        assert_eq!(next_changes(&mut watch, 1).await, ["event"]);
        tx.send(Feed::Disconnected("gone".to_owned()))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Disconnected)));
        assert!(!watch.inspecting("c"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(
            watch.try_next().is_none(),
            "the aborted inspect reports nothing"
        );
        assert!(!watch.cache().contains("c"));
    }
}
