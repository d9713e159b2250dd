//! Workers that come late: a worker whose address appears after the manager sent a change's
//! actions (its task was not in `tasks.<service>` yet when the manager resolved the name, as
//! happens while a stack starts) still gets them, for the containers that started before the
//! change (see [`super::wire::Request`]).
//!
//! For [`WINDOW`] after it sent an action, the manager looks the worker names up again every
//! [`EVERY`] and sends the action to each address it did not reach before, marked
//! `started_before` the change. A container that started after the change read the new file
//! when it started and is left alone; one that started before (nginx started before the first
//! render, say) gets its signal or restart. docker-pygen sent to the addresses of the moment
//! only, so such a container kept its old configuration until the next change.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::client::{Peer, Sender};
use super::wire::Request;
use crate::actions::Action;
use crate::metrics::Metrics;

/// How long after an action late workers still get it.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How often the worker names are looked up again meanwhile.
pub const EVERY: Duration = Duration::from_secs(2);

/// An action sent recently, and where it went.
#[derive(Debug)]
struct Sent {
    /// When the manager sent it, in Unix milliseconds (the change's time).
    at: i64,
    /// The addresses that got it (or were given it to retry).
    reached: HashSet<SocketAddr>,
    /// Until when late addresses get it.
    until: Instant,
}

/// The recent actions and whether the task that follows them up runs.
#[derive(Debug, Default)]
struct State {
    /// The last sending of each distinct action.
    sent: HashMap<Action, Sent>,
    /// Whether the follow-up task runs.
    running: bool,
}

/// Looks a worker name up: [`Sender::lookup`], or a test's stand-in.
pub type Lookup = Arc<dyn Fn(Peer) -> BoxFuture<'static, Vec<SocketAddr>> + Send + Sync>;

/// Follows up the manager's recent actions for worker addresses that appear late.
pub struct CatchUp {
    /// The recent actions.
    state: Mutex<State>,
    /// The `--workers` names.
    peers: Vec<Peer>,
    /// How worker names are looked up.
    lookup: Lookup,
    /// Sends the late actions.
    sender: Sender,
    /// Where the deliveries are counted.
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for CatchUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchUp")
            .field("state", &self.state)
            .field("peers", &self.peers)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch now.
fn unix_millis_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl CatchUp {
    /// A catch-up for the workers `peers`, sending with `sender` and counting in `metrics`.
    pub fn new(peers: Vec<Peer>, sender: Sender, metrics: Arc<Metrics>) -> CatchUp {
        let lookup: Lookup =
            Arc::new(|peer: Peer| Box::pin(async move { Sender::lookup(&peer).await }));
        CatchUp::with_lookup(peers, sender, metrics, lookup)
    }

    /// [`CatchUp::new`] that looks worker names up with `lookup`.
    pub fn with_lookup(
        peers: Vec<Peer>,
        sender: Sender,
        metrics: Arc<Metrics>,
        lookup: Lookup,
    ) -> CatchUp {
        CatchUp {
            state: Mutex::default(),
            peers,
            lookup,
            sender,
            metrics,
        }
    }

    /// Notes that `action` was just sent to `reached`; starts the follow-up task if it does
    /// not run.
    pub fn sent(self: &Arc<Self>, action: &Action, reached: &[SocketAddr]) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sent.insert(
            action.clone(),
            Sent {
                at: unix_millis_now(),
                reached: reached.iter().copied().collect(),
                until: Instant::now() + WINDOW,
            },
        );
        if !state.running {
            state.running = true;
            tokio::spawn(Arc::clone(self).follow_up());
        }
    }

    /// Every [`EVERY`] while some action is recent: looks the workers up and sends each
    /// recent action to the addresses it did not reach.
    async fn follow_up(self: Arc<Self>) {
        loop {
            tokio::time::sleep(EVERY).await;
            if !self.expire(Instant::now()) {
                return;
            }
            let mut found: Vec<(&Peer, Vec<SocketAddr>)> = Vec::with_capacity(self.peers.len());
            for peer in &self.peers {
                found.push((peer, (self.lookup)(peer.clone()).await));
            }
            for (addr, label, request) in self.late(&found) {
                tracing::info!(
                    worker = %label,
                    %addr,
                    action = request.action.name(),
                    target = request.action.target(),
                    "a worker became reachable after a change: sending it the change's action \
                     for its containers that started before the change"
                );
                self.sender
                    .send_request(addr, label, &request, &self.metrics);
            }
        }
    }

    /// Drops the actions whose window ended by `now`; whether some are left (if none, the
    /// follow-up task ends and the next action starts a new one).
    fn expire(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.sent.retain(|_, sent| sent.until > now);
        state.running = !state.sent.is_empty();
        state.running
    }

    /// The recent actions for the addresses in `found` they did not reach, each marked as
    /// reached now.
    fn late<'p>(
        &self,
        found: &[(&'p Peer, Vec<SocketAddr>)],
    ) -> Vec<(SocketAddr, &'p str, Request)> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut late = Vec::new();
        for (action, sent) in &mut state.sent {
            for (peer, addresses) in found {
                for addr in addresses {
                    if sent.reached.insert(*addr) {
                        let request = Request {
                            action: action.clone(),
                            started_before: Some(sent.at),
                        };
                        late.push((*addr, peer.label.as_str(), request));
                    }
                }
            }
        }
        late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(name: &str) -> Peer {
        Peer::parse("--workers", name, 9412).unwrap()
    }

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 1, last], 9412))
    }

    /// A worker whose name resolves to nothing when the action is sent, and to a real worker
    /// endpoint a little later, gets the action marked with the time it was sent.
    #[tokio::test]
    async fn a_worker_that_appears_late_gets_the_action() {
        use super::super::auth::Auth;
        use super::super::{Role, server};
        use std::sync::atomic::{AtomicUsize, Ordering};

        let auth = Arc::new(Auth::Insecure);
        let metrics = Arc::new(Metrics::new());
        let listener = server::bind(Role::Worker, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let worker = listener.local_addr().unwrap();
        let (tx, mut received) = tokio::sync::mpsc::channel(8);
        tokio::spawn(server::serve_worker(
            listener,
            Arc::clone(&auth),
            Arc::clone(&metrics),
            tx,
            std::future::pending(),
        ));
        let lookups = Arc::new(AtomicUsize::new(0));
        let lookup: Lookup = Arc::new({
            let lookups = Arc::clone(&lookups);
            move |_| {
                let n = lookups.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move { if n == 0 { Vec::new() } else { vec![worker] } })
            }
        });
        let sender = Sender::new(auth, 0);
        let catch_up = Arc::new(CatchUp::with_lookup(
            vec![peer("tasks.worker")],
            sender,
            Arc::clone(&metrics),
            lookup,
        ));
        let hup = Action::Signal {
            target: "nginx".into(),
            signal: "SIGHUP".into(),
        };
        let before = unix_millis_now();
        catch_up.sent(&hup, &[]);
        let request = tokio::time::timeout(EVERY * 3, received.recv())
            .await
            .expect("the late worker got the action in time")
            .expect("a request");
        assert_eq!(request.action, hup);
        let at = request
            .started_before
            .expect("marked with the change's time");
        assert!((before..=unix_millis_now()).contains(&at), "{at}");
        assert!(lookups.load(Ordering::SeqCst) >= 2);
        // Once is enough: the next lookups find the address reached.
        tokio::time::sleep(EVERY + EVERY / 2).await;
        assert!(received.try_recv().is_err());
    }

    #[test]
    fn late_addresses_get_each_recent_action_once() {
        let catch_up = CatchUp::new(
            vec![peer("tasks.worker")],
            Sender::new(Arc::new(super::super::auth::Auth::Insecure), 0),
            Arc::new(Metrics::new()),
        );
        let hup = Action::Signal {
            target: "nginx".into(),
            signal: "SIGHUP".into(),
        };
        let restart = Action::Restart {
            target: "reloader".into(),
        };
        let now = Instant::now();
        {
            let mut state = catch_up.state.lock().unwrap();
            for action in [&hup, &restart] {
                state.sent.insert(
                    action.clone(),
                    Sent {
                        at: 1_000,
                        reached: [addr(2)].into(),
                        until: now + WINDOW,
                    },
                );
            }
            state.running = true;
        }
        let workers = peer("tasks.worker");
        let found = vec![(&workers, vec![addr(2), addr(3)])];
        let mut late = catch_up.late(&found);
        late.sort_by_key(|(_, _, r)| r.action.name());
        assert_eq!(late.len(), 2, "{late:?}");
        for (to, label, request) in &late {
            assert_eq!((*to, *label), (addr(3), "tasks.worker"));
            assert_eq!(request.started_before, Some(1_000));
        }
        assert_eq!(late[0].2.action, restart);
        assert_eq!(late[1].2.action, hup);
        assert!(
            catch_up.late(&found).is_empty(),
            "an address gets an action once"
        );

        assert!(catch_up.expire(now + WINDOW - Duration::from_millis(1)));
        assert!(!catch_up.expire(now + WINDOW), "the window ends");
        assert!(catch_up.late(&[(&workers, vec![addr(4)])]).is_empty());
    }
}
