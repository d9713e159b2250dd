//! One watch of a daemon: the event feed, the state cache it keeps current, and the clients of
//! the current connection, with reconnects that resync the whole state.
//!
//! The generator and the Swarm worker both need exactly this (connect, learn about changes,
//! keep the containers current, recover from a lost daemon); each adds only what it does with a
//! change. Any number of templates can share one [`Watch`]: it holds one cache and one event
//! stream, and [`Watch::bring_current`] costs one inspect per changed container however many
//! readers follow.

use std::sync::Arc;

use bollard::Docker;
use bollard::models::EventMessage;
use tokio::sync::mpsc;

use super::connect;
use super::events::{self, Effect, Feed};
use super::raw::RawClient;
use super::state::{self, StateCache, SyncStats};
use crate::metrics::Metrics;
use crate::ownid;
use crate::report::describe;

/// The clients of the current connection to the daemon.
#[derive(Debug, Clone)]
pub struct Clients {
    /// bollard's client: events, kill, restart.
    pub docker: Docker,
    /// The pooled client for the state reads (containers, Swarm listings, service updates).
    pub raw: RawClient,
}

/// What [`Watch::next`] saw, after applying it to the cache.
#[derive(Debug)]
pub enum Change {
    /// A (re)connection: the whole state is read again by the next [`Watch::bring_current`].
    Connected,
    /// The connection was lost; the cache keeps its last state until the reconnect.
    Disconnected,
    /// A daemon event, already applied to the cache.
    Event(EventMessage),
}

/// How [`Watch::bring_current`] brought the cache up to date.
#[derive(Debug, Clone, Copy)]
pub enum Synced {
    /// Every container was listed and inspected (after a connect).
    Full(SyncStats),
    /// The containers named by events were inspected again.
    Refreshed(SyncStats),
    /// Nothing had changed.
    Current,
}

impl Synced {
    /// The statistics of the API calls made, if any.
    pub fn stats(&self) -> Option<SyncStats> {
        match self {
            Synced::Full(stats) | Synced::Refreshed(stats) => Some(*stats),
            Synced::Current => None,
        }
    }
}

/// The event feed, the state cache and the current clients.
#[derive(Debug)]
pub struct Watch {
    /// The daemon's address (`None`: the environment's), for the state-read client.
    address: Option<String>,
    /// The feed task's output: connections, events, losses.
    feed: mpsc::Receiver<Feed>,
    /// The containers, kept current from events.
    cache: StateCache,
    /// The clients; `None` while the daemon is unreachable.
    clients: Option<Clients>,
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
        let for_feed = address.clone();
        let feed_metrics = Arc::clone(&metrics);
        let feed = events::spawn(move || {
            let address = for_feed.clone();
            let metrics = Arc::clone(&feed_metrics);
            async move {
                let connected = connect::connect_negotiated(address.as_deref()).await;
                metrics.connect_attempted(connected.is_ok());
                connected.map_err(|e| describe(&e))
            }
        });
        Ok(Watch {
            address,
            feed,
            cache: StateCache::new(ownid::detect()),
            clients: None,
            needs_sync: true,
            was_connected: false,
            metrics,
        })
    }

    /// Waits for the next change and applies it to the cache. `None` when the feed stopped,
    /// which happens only when its task ended. Cancel-safe: nothing is lost when the future is
    /// dropped before it resolves.
    pub async fn next(&mut self) -> Option<Change> {
        let item = self.feed.recv().await?;
        Some(self.apply(item))
    }

    /// The next change that is already waiting, applied to the cache; `None` when none waits.
    pub fn try_next(&mut self) -> Option<Change> {
        let item = self.feed.try_recv().ok()?;
        Some(self.apply(item))
    }

    /// The clients of the current connection; `None` while the daemon is unreachable.
    pub fn clients(&self) -> Option<&Clients> {
        self.clients.as_ref()
    }

    /// The cache, as current as the last [`Watch::bring_current`] left it.
    pub fn cache(&self) -> &StateCache {
        &self.cache
    }

    /// Reads what changed since the last call: everything after a connect, else the containers
    /// events named. `Ok(None)` while the daemon is unreachable.
    pub async fn bring_current(&mut self) -> Result<Option<Synced>, state::Error> {
        let Some(raw) = self.clients.as_ref().map(|c| c.raw.clone()) else {
            return Ok(None);
        };
        if self.needs_sync {
            let stats = self.cache.full_sync(&raw).await?;
            self.needs_sync = false;
            Ok(Some(Synced::Full(stats)))
        } else if self.cache.is_dirty() {
            Ok(Some(Synced::Refreshed(self.cache.refresh(&raw).await?)))
        } else {
            Ok(Some(Synced::Current))
        }
    }

    /// Applies one item of the feed.
    fn apply(&mut self, item: Feed) -> Change {
        match item {
            Feed::Connected(docker) => {
                if self.was_connected {
                    self.metrics.reconnected();
                }
                self.was_connected = true;
                self.clients = match self.raw_client(&docker) {
                    Ok(raw) => Some(Clients { docker, raw }),
                    Err(err) => {
                        tracing::error!("{}; the state cannot be read", describe(&err));
                        None
                    }
                };
                self.needs_sync = true;
                self.metrics.set_connected(true);
                Change::Connected
            }
            Feed::Disconnected(_) => {
                self.clients = None;
                self.metrics.set_connected(false);
                Change::Disconnected
            }
            Feed::Event(event) => {
                self.metrics
                    .event_received(event.action.as_deref().unwrap_or_default());
                match events::effect(&event) {
                    Effect::Dirty(id) => self.cache.mark_dirty(id),
                    Effect::Removed(id) => self.cache.remove(id),
                    Effect::None => {}
                }
                Change::Event(event)
            }
        }
    }

    /// The client for the state reads, speaking the API version `docker` negotiated.
    fn raw_client(&self, docker: &Docker) -> Result<RawClient, RawClientError> {
        let endpoint = connect::plan(self.address.as_deref(), &connect::Env::from_process())?;
        Ok(RawClient::new(&endpoint, &docker.client_version()).map_err(Box::new)?)
    }
}

/// Why the state-read client of a new connection could not be built.
#[derive(Debug, thiserror::Error)]
enum RawClientError {
    /// The address or the TLS settings became invalid.
    #[error(transparent)]
    Address(#[from] connect::Error),
    /// The client could not be built (TLS files).
    #[error(transparent)]
    Client(#[from] Box<super::raw::Error>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{EventActor, EventMessageTypeEnum};

    /// A watch fed by the test instead of a daemon, for the address `tcp://127.0.0.1:1`
    /// (nothing listens there: every read fails at once).
    fn fed_watch() -> (Watch, mpsc::Sender<Feed>, Arc<Metrics>) {
        let (tx, feed) = mpsc::channel(16);
        let metrics = Arc::new(Metrics::new());
        let watch = Watch {
            address: Some("tcp://127.0.0.1:1".to_owned()),
            feed,
            cache: StateCache::new(None),
            clients: None,
            needs_sync: true,
            was_connected: false,
            metrics: Arc::clone(&metrics),
        };
        (watch, tx, metrics)
    }

    fn docker() -> Docker {
        // Builds the client only; nothing connects until a request is made.
        Docker::connect_with_http("http://127.0.0.1:1", 4, bollard::API_DEFAULT_VERSION)
            .expect("a literal, valid address")
    }

    fn container_event(action: &str, id: &str) -> EventMessage {
        EventMessage {
            typ: Some(EventMessageTypeEnum::CONTAINER),
            action: Some(action.to_owned()),
            actor: Some(EventActor {
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
        assert!(watch.clients().is_some());
        assert!(has_line(&metrics, "pygen_docker_connected 1"));

        tx.send(Feed::Event(container_event("start", "abc")))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Event(_))));
        assert!(watch.cache().is_dirty(), "the event marks its container");
        tx.send(Feed::Event(container_event("destroy", "abc")))
            .await
            .expect("open channel");
        assert!(watch.try_next().is_some());
        assert!(
            !watch.cache().is_dirty(),
            "a destroyed container needs no inspect"
        );
        assert!(watch.try_next().is_none());

        tx.send(Feed::Disconnected("gone".to_owned()))
            .await
            .expect("open channel");
        assert!(matches!(watch.next().await, Some(Change::Disconnected)));
        assert!(watch.clients().is_none());
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
}
