//! Sending manager-worker requests: actions from the manager to every worker address, and
//! event notices from a worker to its managers, signed, retried with backoff, and bounded by
//! an overall deadline.
//!
//! docker-pygen sent to one worker address after the other, retried at once without backoff,
//! had no overall limit (up to `(retries+1) × 35 s` per address), resolved IPv4 only and
//! de-duplicated addresses per host name only. pygen resolves each `--workers` name to all its
//! addresses (`tasks.<service>` gives one per task), sends to every distinct address at once,
//! and gives up on an address after `--retries` retries or when the deadline passes.
//!
//! Actions go through one ordered queue per worker address, drained by its own task: the
//! manager hands an action to the queues and goes on, so a worker that stopped answering
//! delays only the actions meant for itself, and the actions to one address keep their order.
//! A queue holds at most [`QUEUE_CAPACITY`] actions; when it is full the oldest is dropped
//! (logged and counted in `pygen_manager_actions_dropped_total`).
//!
//! This file sends and retries; the queues are in `queue`, the peer addresses in `peer`.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::io::Cursor;

use axum::http::{Request, Uri, header};
use futures_util::future::join_all;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;
use tokio::time::Instant;

mod peer;
mod queue;

use super::Role;
use super::auth::{Auth, NONCE_HEADER, SIGNATURE_HEADER, Signed, TIMESTAMP_HEADER};
use super::wire;
use crate::actions::Action;
use crate::metrics::Metrics;

pub use peer::{Peer, PeerError};
pub use queue::Handoff;
use queue::{Job, Queues, Tally};

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take, answer included. Workers answer once the action is queued,
/// managers once the update is scheduled, so this is generous.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one delivery to all peers may take in all, retries included.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// First wait before a retry; doubles each time.
const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest wait between two attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// How many actions may wait for one worker address; a new one beyond that drops the oldest.
pub const QUEUE_CAPACITY: usize = 32;
/// How long the task of an address with nothing to send stays; the next action starts a new one.
const QUEUE_IDLE: Duration = Duration::from_secs(600);

/// Which side sends, for the metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The manager sending actions to workers.
    Manager,
    /// A worker notifying its managers.
    Worker,
}

/// What one delivery achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Addresses that accepted the request.
    pub delivered: usize,
    /// Addresses (or names that resolved to none) given up on.
    pub failed: usize,
}

/// The addresses of a lookup, each once, in the resolver's order.
fn distinct(found: impl Iterator<Item = SocketAddr>) -> Vec<SocketAddr> {
    let mut addresses: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    addresses
}

/// How one attempt ended.
enum Attempt {
    /// A 2xx answer.
    Accepted,
    /// An answer that retrying will not change (4xx other than 408 and 429).
    Refused(u16),
    /// No answer, or one worth retrying; the reason for the log.
    Failed(String),
}

/// Sends signed requests to managers or workers.
#[derive(Clone)]
pub struct Sender {
    /// The HTTP client: plain HTTP (the overlay network is the transport), so no TLS stack and
    /// no CA store is involved, which a `FROM scratch` image does not have.
    http: Client<HttpConnector, Full<Cursor<Vec<u8>>>>,
    /// Signs requests.
    auth: Arc<Auth>,
    /// Extra attempts per address (`--retries`).
    retries: u32,
    /// The overall limit of one delivery.
    deadline: Duration,
    /// The action queues of the worker addresses (manager side).
    queues: Queues,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("retries", &self.retries)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender that signs with `auth` and retries each address `retries` times.
    pub fn new(auth: Arc<Auth>, retries: u32) -> Sender {
        Sender::with_deadline(auth, retries, DEADLINE)
    }

    /// [`Sender::new`] with another overall deadline.
    pub fn with_deadline(auth: Arc<Auth>, retries: u32, deadline: Duration) -> Sender {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Sender {
            http,
            auth,
            retries,
            deadline,
            queues: Queues::default(),
        }
    }

    /// Queues `action` for every address of every worker (manager side) and returns once it
    /// is queued; each address's task delivers it after the actions queued before it. Names
    /// resolve to all their addresses; an address (and port) gets the action once even if
    /// several names give it. The outcome is logged when every address is done.
    pub async fn send_action(
        &self,
        workers: &[Peer],
        action: &Action,
        metrics: &Arc<Metrics>,
    ) -> Handoff {
        let deadline = Instant::now() + self.deadline;
        let body: Arc<[u8]> = action.encode().into();
        let (tx, done) = oneshot::channel();
        let tally = Arc::new(Tally {
            action: action.name(),
            target: action.target().to_owned(),
            counts: Mutex::default(),
            done: Some(tx),
        });
        let resolved =
            join_all(workers.iter().map(|worker| async move {
                (worker, self.resolve(worker, deadline, metrics).await)
            }))
            .await;
        let mut claimed: HashSet<SocketAddr> = HashSet::new();
        let (mut queued, mut failed) = (0, 0);
        for (worker, addresses) in resolved {
            let Some(addresses) = addresses else {
                tally.record(false);
                failed += 1;
                continue;
            };
            for addr in addresses {
                if claimed.insert(addr) {
                    let job = Job {
                        label: worker.label.clone(),
                        body: Arc::clone(&body),
                        deadline,
                        tally: Arc::clone(&tally),
                    };
                    self.enqueue(addr, job, metrics);
                    queued += 1;
                }
            }
        }
        tracing::debug!(
            action = action.name(),
            target = action.target(),
            queued,
            failed,
            "action queued for the workers"
        );
        Handoff {
            queued,
            failed,
            addresses: claimed.into_iter().collect(),
            done,
        }
    }

    /// Queues `request` for the one address `addr` of the worker named `label` (a worker that
    /// became reachable late, see [`super::catchup`]).
    pub fn send_request(
        &self,
        addr: SocketAddr,
        label: &str,
        request: &wire::Request,
        metrics: &Arc<Metrics>,
    ) {
        let tally = Arc::new(Tally {
            action: request.action.name(),
            target: request.action.target().to_owned(),
            counts: Mutex::default(),
            done: None,
        });
        let job = Job {
            label: label.to_owned(),
            body: request.encode().into(),
            deadline: Instant::now() + self.deadline,
            tally,
        };
        self.enqueue(addr, job, metrics);
    }

    /// The addresses `worker` resolves to now, one lookup without retries (empty when it
    /// resolves to none or the lookup fails or takes longer than [`CONNECT_TIMEOUT`]).
    pub async fn lookup(worker: &Peer) -> Vec<SocketAddr> {
        let found = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio::net::lookup_host((worker.host.as_str(), worker.port)),
        )
        .await;
        match found {
            Ok(Ok(found)) => distinct(found),
            _ => Vec::new(),
        }
    }

    /// Tells every manager that something changed (worker side): a signed `POST /` with
    /// `body` (empty, or the settled notice of [`super::server::SETTLED_BODY`]).
    pub async fn notify(&self, managers: &[Peer], body: &[u8], metrics: &Metrics) -> Delivery {
        let deadline = Instant::now() + self.deadline;
        let sent = join_all(managers.iter().map(|manager| {
            let url = match manager.host.parse::<IpAddr>() {
                Ok(ip) => format!("http://{}/", SocketAddr::new(ip, manager.port)),
                Err(_) => format!("http://{}:{}/", manager.host, manager.port),
            };
            self.deliver(Side::Worker, &manager.label, url, body, deadline, metrics)
        }))
        .await;
        let delivered = sent.iter().filter(|ok| **ok).count();
        Delivery {
            delivered,
            failed: sent.len() - delivered,
        }
    }

    /// All addresses of `worker`, retried like a request while the name resolves to none.
    async fn resolve(
        &self,
        worker: &Peer,
        deadline: Instant,
        metrics: &Metrics,
    ) -> Option<Vec<SocketAddr>> {
        let mut backoff = BACKOFF_START;
        for attempt in 0..=self.retries {
            let reason = match tokio::time::timeout_at(
                deadline,
                tokio::net::lookup_host((worker.host.as_str(), worker.port)),
            )
            .await
            {
                Ok(Ok(found)) => {
                    let addresses = distinct(found);
                    if !addresses.is_empty() {
                        return Some(addresses);
                    }
                    "no address".to_owned()
                }
                Ok(Err(err)) => err.to_string(),
                Err(_) => "deadline passed".to_owned(),
            };
            metrics.manager_sent(&worker.label, None);
            let last = attempt == self.retries || Instant::now() >= deadline;
            if last {
                tracing::error!(worker = %worker.label, reason = %reason, "cannot resolve the worker, giving up");
                return None;
            }
            tracing::warn!(worker = %worker.label, reason = %reason, attempt = attempt + 1, "cannot resolve the worker, retrying");
            sleep_before_retry(&mut backoff, deadline).await;
        }
        None
    }

    /// Sends one request to `url` with retries; whether it was accepted.
    async fn deliver(
        &self,
        side: Side,
        label: &str,
        url: String,
        body: &[u8],
        deadline: Instant,
        metrics: &Metrics,
    ) -> bool {
        let mut backoff = BACKOFF_START;
        let attempts = self.retries + 1;
        for attempt in 1..=attempts {
            let role = match side {
                Side::Manager => Role::Worker,
                Side::Worker => Role::Manager,
            };
            let outcome = match tokio::time::timeout_at(deadline, self.post(role, &url, body)).await
            {
                Ok(Ok(status)) => {
                    record(side, metrics, label, Some(status));
                    match status {
                        200..=299 => Attempt::Accepted,
                        408 | 429 => Attempt::Failed(format!("answered {status}")),
                        400..=499 => Attempt::Refused(status),
                        _ => Attempt::Failed(format!("answered {status}")),
                    }
                }
                Ok(Err(reason)) => {
                    record(side, metrics, label, None);
                    Attempt::Failed(reason)
                }
                Err(_) => {
                    record(side, metrics, label, None);
                    Attempt::Failed("deadline passed".to_owned())
                }
            };
            match outcome {
                Attempt::Accepted => {
                    if attempt > 1 {
                        tracing::info!(peer = %label, url = %url, attempt, "delivered after retrying");
                    } else {
                        tracing::debug!(peer = %label, url = %url, "delivered");
                    }
                    return true;
                }
                Attempt::Refused(status) => {
                    tracing::error!(
                        peer = %label,
                        url = %url,
                        status,
                        "refused the request (a 401 means the shared secrets differ or the \
                         clocks are more than a minute apart); not retrying"
                    );
                    return false;
                }
                Attempt::Failed(reason) => {
                    if attempt == attempts || Instant::now() >= deadline {
                        tracing::error!(peer = %label, url = %url, reason = %reason, attempts = attempt, "cannot deliver, giving up");
                        return false;
                    }
                    tracing::warn!(peer = %label, url = %url, reason = %reason, attempt, of = attempts, "cannot deliver, retrying");
                    sleep_before_retry(&mut backoff, deadline).await;
                }
            }
        }
        false
    }

    /// One signed `POST` of `body` to `url` within [`REQUEST_TIMEOUT`]; the answer's status.
    async fn post(&self, role: Role, url: &str, body: &[u8]) -> Result<u16, String> {
        let uri: Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
        // The destination as addressed, signed and sent as the Host header (every URL here
        // names its port, so the authority is HOST:PORT).
        let destination = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| format!("bad URL {url}: no host"))?;
        let mut request = Request::post(uri).header(header::HOST, destination.as_str());
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let signed = Signed {
            role,
            destination: &destination,
            method: "POST",
            path: "/",
            body,
        };
        if let Some(signature) = self.auth.sign(&signed) {
            request = request
                .header(TIMESTAMP_HEADER, signature.timestamp)
                .header(NONCE_HEADER, signature.nonce)
                .header(SIGNATURE_HEADER, signature.signature);
        }
        let request = request
            .body(Full::new(Cursor::new(body.to_vec())))
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(request)).await {
            Err(_) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
            Ok(Err(err)) => Err(describe(&err)),
            // The body ("OK") is not needed; dropping the response releases the connection.
            Ok(Ok(response)) => Ok(response.status().as_u16()),
        }
    }
}

/// Counts one attempt in the side's metrics.
fn record(side: Side, metrics: &Metrics, label: &str, status: Option<u16>) {
    match side {
        Side::Manager => metrics.manager_sent(label, status),
        Side::Worker => metrics.worker_sent(label, status),
    }
}

/// Waits before the next attempt (never past the deadline) and doubles the wait.
async fn sleep_before_retry(backoff: &mut Duration, deadline: Instant) {
    let wake = (Instant::now() + *backoff).min(deadline);
    tokio::time::sleep_until(wake).await;
    *backoff = (*backoff * 2).min(BACKOFF_CAP);
}

/// A short reason for a failed request: the innermost cause.
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        reason = cause.to_string();
        next = cause.source();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::queue::lock;
    use super::*;

    #[tokio::test]
    async fn unreachable_workers_are_retried_then_given_up() {
        // A port nothing listens on: every attempt fails at once, so only the backoff waits.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let metrics = Arc::new(Metrics::new());
        let sender = Sender::new(Arc::new(Auth::Insecure), 2);
        let workers = [Peer::parse("--workers", &format!("127.0.0.1:{port}"), 9412).unwrap()];
        let action = Action::Restart { target: "x".into() };
        let handoff = sender.send_action(&workers, &action, &metrics).await;
        assert_eq!((handoff.queued, handoff.failed), (1, 0));
        let delivery = handoff.finished().await;
        assert_eq!(
            delivery,
            Delivery {
                delivered: 0,
                failed: 1
            }
        );
        let text = metrics.encode();
        let line = format!("pygen_manager_send_total{{target=\"127.0.0.1:{port}\",code=\"-1\"}} 3");
        assert!(text.contains(&line), "{line} missing in:\n{text}");
    }

    /// A worker stand-in on 127.0.0.1: answers 200 to every request and counts the POSTs,
    /// until a connection sends `STOP`.
    fn counting_worker() -> (u16, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("an address").port();
        let handle = std::thread::spawn(move || {
            let mut posts = 0;
            while let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                if buf[..n].starts_with(b"STOP") {
                    break;
                }
                posts += usize::from(buf[..n].starts_with(b"POST"));
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n",
                );
            }
            posts
        });
        (port, handle)
    }

    #[tokio::test]
    async fn every_address_gets_the_action_once() {
        use std::io::Write;
        let (port_a, a) = counting_worker();
        let (port_b, b) = counting_worker();
        // The same worker named twice, and a second worker on another port of the same host
        // (docker-pygen de-duplicated by host name, and by IP only).
        let workers: Vec<Peer> = [port_a, port_a, port_b]
            .iter()
            .map(|port| Peer::parse("--workers", &format!("127.0.0.1:{port}"), 9412).unwrap())
            .collect();
        let metrics = Arc::new(Metrics::new());
        let sender = Sender::new(Arc::new(Auth::Insecure), 0);
        let action = Action::Restart { target: "x".into() };
        let handoff = sender.send_action(&workers, &action, &metrics).await;
        assert_eq!((handoff.queued, handoff.failed), (2, 0));
        let delivery = handoff.finished().await;
        assert_eq!(
            delivery,
            Delivery {
                delivered: 2,
                failed: 0
            }
        );
        for port in [port_a, port_b] {
            let mut stop = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stop.write_all(b"STOP").expect("write");
        }
        assert_eq!(a.join().expect("worker a"), 1);
        assert_eq!(b.join().expect("worker b"), 1);
    }

    #[tokio::test]
    async fn the_deadline_bounds_a_delivery() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let metrics = Metrics::new();
        let sender =
            Sender::with_deadline(Arc::new(Auth::Insecure), 1000, Duration::from_millis(300));
        let managers = [Peer::parse("--manager", &format!("127.0.0.1:{port}"), 9411).unwrap()];
        let delivery = sender.notify(&managers, &[], &metrics).await;
        assert_eq!(delivery.failed, 1);
        // 1000 retries would have been tried without the deadline; the backoff (250 ms, then
        // 500 ms) leaves room for three attempts in 300 ms.
        let text = metrics.encode();
        let prefix = format!("pygen_worker_send_total{{target=\"127.0.0.1:{port}\",code=\"-1\"}} ");
        let count: u32 = text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{prefix} missing in:\n{text}"));
        assert!((1..=3).contains(&count), "{count} attempts");
    }

    /// A worker stand-in on 127.0.0.1 that answers 200 and passes each request's body on, in
    /// the order received.
    fn reporting_worker() -> (u16, std::sync::mpsc::Receiver<String>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("an address").port();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Ok((mut stream, _)) = listener.accept() {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Reads until the body (announced by Content-Length) is complete.
                let body = loop {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break Some(body.to_owned());
                        }
                    }
                };
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n",
                );
                let Some(body) = body else { break };
                if tx.send(body).is_err() {
                    break;
                }
            }
        });
        (port, rx)
    }

    #[tokio::test]
    async fn a_silent_worker_delays_only_its_own_actions() {
        // Connections to this listener are accepted by the kernel (backlog) but never
        // answered: like a worker on a node that is gone, each request waits for the deadline.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let silent_port = silent.local_addr().expect("an address").port();
        let (live_port, received) = reporting_worker();
        let workers: Vec<Peer> = [silent_port, live_port]
            .iter()
            .map(|port| Peer::parse("--workers", &format!("127.0.0.1:{port}"), 9412).unwrap())
            .collect();
        let metrics = Arc::new(Metrics::new());
        let deadline = Duration::from_secs(20);
        let sender = Sender::with_deadline(Arc::new(Auth::Insecure), 0, deadline);
        let first = Action::Restart { target: "a".into() };
        let second = Action::Signal {
            target: "b".into(),
            signal: "HUP".into(),
        };
        // Both actions must be handed off and both reach the live worker, in order, well
        // before the first action's deadline for the silent address.
        let (mut first_handoff, bodies) = tokio::time::timeout(deadline / 2, async {
            let first_handoff = sender.send_action(&workers, &first, &metrics).await;
            let second_handoff = sender.send_action(&workers, &second, &metrics).await;
            assert_eq!((first_handoff.queued, second_handoff.queued), (2, 2));
            let bodies = tokio::task::spawn_blocking(move || {
                (0..2)
                    .map(|_| received.recv().expect("a request"))
                    .collect::<Vec<_>>()
            })
            .await
            .expect("the receiving thread");
            (first_handoff, bodies)
        })
        .await
        .expect("the live worker got both actions before the silent one's deadline");
        let expected = [first.encode(), second.encode()].map(|b| String::from_utf8(b).unwrap());
        assert_eq!(bodies, expected);
        // The silent address still holds the first action: it is not finished.
        assert!(matches!(
            first_handoff.done.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
        drop(silent);
    }

    #[tokio::test]
    async fn a_full_queue_drops_its_oldest_action() {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("an address").port();
        let workers = [Peer::parse("--workers", &format!("127.0.0.1:{port}"), 9412).unwrap()];
        let metrics = Arc::new(Metrics::new());
        let sender = Sender::with_deadline(Arc::new(Auth::Insecure), 0, Duration::from_secs(30));
        let mut handoffs = Vec::new();
        // One action in flight (taken off the queue by the task), the queue full behind it,
        // and two more that push out the two oldest queued ones.
        for n in 0..QUEUE_CAPACITY + 3 {
            let action = Action::Restart {
                target: n.to_string(),
            };
            handoffs.push(sender.send_action(&workers, &action, &metrics).await);
            if n == 0 {
                // Lets the address's task take the first action before the queue fills.
                while !lock(&sender.queues)
                    .get(&silent.local_addr().expect("an address"))
                    .is_some_and(|q| lock(&q.pending).is_empty())
                {
                    tokio::task::yield_now().await;
                }
            }
        }
        let text = metrics.encode();
        let line = format!("pygen_manager_actions_dropped_total{{target=\"127.0.0.1:{port}\"}} 2");
        assert!(text.contains(&line), "{line} missing in:\n{text}");
        // The dropped ones are the oldest waiting: actions 1 and 2 (0 is in flight).
        let dropped: Vec<usize> = handoffs
            .iter_mut()
            .enumerate()
            .filter_map(|(n, h)| h.done.try_recv().is_ok().then_some(n))
            .collect();
        assert_eq!(dropped, [1, 2]);
        drop(silent);
    }
}
