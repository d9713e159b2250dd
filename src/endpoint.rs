//! The HTTP serving loop of every pygen endpoint (Swarm manager, Swarm worker, `/metrics`), with
//! the limits that hold whatever a client sends, or fails to send.
//!
//! Anyone who reaches a port can open connections, so these limits need no secret to matter:
//!
//! | limit | value | what happens |
//! |---|---|---|
//! | header size | [`MAX_HEADER_BYTES`] | `431`, connection closed |
//! | headers complete | [`HEADER_TIMEOUT`] after the connection opened | connection closed |
//! | body read and answer | [`REQUEST_TIMEOUT`] | `408` |
//! | connection lifetime | [`CONNECTION_LIFETIME`], answer written included | connection closed |
//! | open connections | [`connection_cap`] per endpoint | the oldest one is closed to admit the new one |
//! | shutdown | [`SHUTDOWN_GRACE`] for requests in flight | the rest are cut |
//!
//! Connections are not kept alive: each serves one request (as docker-pygen's HTTP/1.0 server
//! did), so an idle connection is one that sends no header, and the header timeout closes it.
//! Closing the oldest connection at the cap, rather than refusing the newest, keeps a short
//! legitimate request served while slow clients hold every slot: the slow ones are the old ones.
//!
//! Dropped connections are counted (`pygen_http_connections_dropped_total`) and logged at most
//! once per [`LOG_INTERVAL`] per endpoint, with the number of drops the log left out. They are
//! counted through [`DropCounter`], which the metrics implement: the `/metrics` endpoint serves
//! through this loop too, so the loop reports to the metrics without knowing them.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// Longest time from a connection's opening to the end of its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time to read a request's body and answer it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of a connection, from opening to the last byte of the answer.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);
/// Largest request head (request line and headers). The endpoints need a few hundred bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// How long requests in flight may take to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Least time between two log lines about dropped connections of one endpoint.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// Most connections one endpoint keeps open, whatever the file-descriptor limit allows.
pub const MAX_CONNECTIONS: usize = 512;
/// File descriptors left to everything else (the Docker connections, files, the other
/// endpoints' listeners) when the cap is derived from the process limit.
const RESERVED_FDS: u64 = 64;
/// Endpoints that may share the process's file descriptors (worker or manager, and metrics,
/// with room for one more).
const ENDPOINTS_PER_PROCESS: u64 = 3;
/// The least cap, even under a very low file-descriptor limit.
const MIN_CONNECTIONS: usize = 8;

/// Which endpoint, for logs and the metrics' `endpoint` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Name {
    /// The Swarm manager endpoint.
    Manager,
    /// The Swarm worker endpoint.
    Worker,
    /// The Prometheus `/metrics` endpoint.
    Metrics,
}

impl Name {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Name::Manager => "manager",
            Name::Worker => "worker",
            Name::Metrics => "metrics",
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a connection ended before its request was answered, for the log and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dropped {
    /// The headers did not arrive within [`HEADER_TIMEOUT`].
    HeaderTimeout,
    /// The headers were larger than [`MAX_HEADER_BYTES`].
    TooLarge,
    /// Not HTTP/1.
    Malformed,
    /// [`CONNECTION_LIFETIME`] passed.
    Lifetime,
    /// Closed to make room under the connection cap.
    Evicted,
    /// Cut at shutdown after [`SHUTDOWN_GRACE`].
    Shutdown,
}

impl Dropped {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::HeaderTimeout => "header_timeout",
            Dropped::TooLarge => "too_large",
            Dropped::Malformed => "malformed",
            Dropped::Lifetime => "lifetime",
            Dropped::Evicted => "evicted",
            Dropped::Shutdown => "shutdown",
        }
    }
}

/// Where an endpoint counts the connections it dropped: the daemon's metrics
/// (`pygen_http_connections_dropped_total`).
pub trait DropCounter: Send + Sync {
    /// `endpoint` closed a connection for `reason`.
    fn dropped(&self, endpoint: Name, reason: Dropped);
}

/// The address a connection came in on (the server's side), as a request extension: the Swarm
/// endpoints check that a signed request was addressed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr(pub SocketAddr);

/// The limits of one endpoint; [`Limits::standard`] for the values in the module's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// See [`HEADER_TIMEOUT`].
    pub header_timeout: Duration,
    /// See [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// See [`CONNECTION_LIFETIME`].
    pub connection_lifetime: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// See [`SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
}

impl Limits {
    /// The limits of the module's table, the cap from the process's file-descriptor limit.
    pub fn standard() -> Limits {
        Limits {
            header_timeout: HEADER_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            connection_lifetime: CONNECTION_LIFETIME,
            max_connections: connection_cap(open_files_limit()),
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

/// The connection cap of one endpoint under a soft limit of `limit` open files (`None`:
/// unknown): a share of what the limit leaves after [`RESERVED_FDS`], within
/// [`MIN_CONNECTIONS`]..=[`MAX_CONNECTIONS`]. Under the cap, a full endpoint closes its oldest
/// connection instead of failing to accept (which would leave connections queued unanswered).
pub fn connection_cap(limit: Option<u64>) -> usize {
    let Some(limit) = limit else {
        return MAX_CONNECTIONS;
    };
    let share = limit.saturating_sub(RESERVED_FDS) / ENDPOINTS_PER_PROCESS;
    usize::try_from(share)
        .unwrap_or(MAX_CONNECTIONS)
        .clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// The soft limit of open files of this process (`Max open files` in `/proc/self/limits`).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&limits)
}

/// The soft `Max open files` value of a `/proc/PID/limits` text; `None` when unlimited or absent.
fn parse_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Lets one log line through per interval and counts the ones held back, so a flood of bad
/// requests costs a line every few seconds, not one per request.
#[derive(Debug)]
pub struct LogLimiter {
    /// Least time between two lines.
    interval: Duration,
    /// When the last line went out, and how many were held back since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogLimiter {
    /// A limiter that lets a line through at most every `interval`.
    pub fn new(interval: Duration) -> LogLimiter {
        LogLimiter {
            interval,
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(held back since the last line)` when a line may go out now; `None` (and one more
    /// held back) otherwise.
    pub fn allow(&self) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.0 {
            Some(last) if now.duration_since(last) < self.interval => {
                state.1 += 1;
                None
            }
            _ => {
                let held = state.1;
                *state = (Some(now), 0);
                Some(held)
            }
        }
    }
}

/// What every connection task shares.
struct Shared {
    /// The endpoint's name.
    name: Name,
    /// The endpoint's routes.
    router: Router,
    /// The limits.
    limits: Limits,
    /// The HTTP/1 settings (timer, header timeout, buffer size, no keep-alive).
    http: http1::Builder,
    /// Counts dropped connections.
    drops: Arc<dyn DropCounter>,
    /// Rate limit of the log lines about dropped connections.
    log: LogLimiter,
}

impl Shared {
    /// Counts a dropped connection and logs it within the rate limit.
    fn dropped(&self, reason: Dropped, client: SocketAddr) {
        self.drops.dropped(self.name, reason);
        if let Some(held) = self.log.allow() {
            tracing::warn!(
                endpoint = %self.name,
                client = %client.ip(),
                reason = reason.as_str(),
                "closed a connection; {held} more dropped since the last such message \
                 (at most one message every {}s)",
                self.log.interval.as_secs()
            );
        }
    }
}

/// Serves `router` on `listener` with `limits` until `shutdown`, then lets requests in flight
/// finish for [`Limits::shutdown_grace`] and cuts the rest. Requests carry the client's address
/// as [`ConnectInfo<SocketAddr>`] and the server's as [`LocalAddr`]. Dropped connections are
/// counted in `drops`.
pub async fn serve(
    name: Name,
    listener: TcpListener,
    router: Router,
    limits: Limits,
    drops: Arc<dyn DropCounter>,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .keep_alive(false)
        // A client that shuts down its sending side after the request (as `nc -N` and many
        // scripts do) still gets its answer; the connection lifetime bounds such connections.
        .half_close(true);
    let shared = Arc::new(Shared {
        name,
        router,
        limits,
        http,
        drops,
        log: LogLimiter::new(LOG_INTERVAL),
    });
    let fallback = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    // Open connections by age, each with the sender whose drop closes it.
    let open: Arc<Mutex<BTreeMap<u64, oneshot::Sender<()>>>> = Arc::default();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let accept_log = LogLimiter::new(LOG_INTERVAL);
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connection tasks so the set does not grow.
        while tasks.try_join_next().is_some() {}
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, mostly: wait a little rather than spin.
                if let Some(held) = accept_log.allow() {
                    tracing::warn!(endpoint = %name, error = %err, "cannot accept a connection ({held} more failures not logged)");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let id = next_id;
        next_id += 1;
        let (close_tx, close_rx) = oneshot::channel();
        let evicted = {
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            let evicted = if open.len() >= shared.limits.max_connections {
                open.pop_first().map(|(_, oldest)| oldest)
            } else {
                None
            };
            open.insert(id, close_tx);
            evicted
        };
        if let Some(oldest) = evicted {
            // Dropping the sender closes that connection; its task counts the drop.
            drop(oldest);
        }
        let local = stream.local_addr().unwrap_or(fallback);
        let task = connection(
            Arc::clone(&shared),
            stream,
            client,
            local,
            close_rx,
            stop_rx.clone(),
        );
        let open = Arc::clone(&open);
        tasks.spawn(async move {
            task.await;
            open.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(shared.limits.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        let cut = tasks.len();
        for _ in 0..cut {
            shared.drops.dropped(name, Dropped::Shutdown);
        }
        tracing::warn!(endpoint = %name, connections = cut, "shutting down: cut connections still open after {:?}", shared.limits.shutdown_grace);
        tasks.shutdown().await;
    }
}

/// Serves one connection within the limits; ends early when `close` fires (the cap) or its
/// sender is gone, and shuts down gracefully when `stop` turns true.
async fn connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    close: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = {
        let shared = Arc::clone(&shared);
        hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            let shared = Arc::clone(&shared);
            async move {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(client));
                request.extensions_mut().insert(LocalAddr(local));
                let answer = shared.router.clone().oneshot(request);
                match tokio::time::timeout(shared.limits.request_timeout, answer).await {
                    Ok(Ok(response)) => Ok::<_, Infallible>(response),
                    Ok(Err(never)) => match never {},
                    Err(_) => Ok(timed_out()),
                }
            }
        })
    };
    let conn = shared.http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let lifetime = tokio::time::sleep(shared.limits.connection_lifetime);
    tokio::pin!(lifetime);
    tokio::pin!(close);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    let reason = if err.is_timeout() {
                        Some(Dropped::HeaderTimeout)
                    } else if err.is_parse_too_large() {
                        Some(Dropped::TooLarge)
                    } else if err.is_parse() {
                        Some(Dropped::Malformed)
                    } else {
                        // The client went away or the socket failed: nothing to report.
                        None
                    };
                    if let Some(reason) = reason {
                        shared.dropped(reason, client);
                    }
                }
                return;
            }
            _ = &mut close => {
                shared.dropped(Dropped::Evicted, client);
                return;
            }
            () = &mut lifetime => {
                shared.dropped(Dropped::Lifetime, client);
                return;
            }
            changed = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The answer when a request's body or handling took longer than [`REQUEST_TIMEOUT`].
fn timed_out() -> Response<Body> {
    let mut response = Response::new(Body::from("request timed out\n"));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use axum::routing::post;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn quick() -> Limits {
        Limits {
            header_timeout: Duration::from_millis(300),
            request_timeout: Duration::from_millis(300),
            connection_lifetime: Duration::from_secs(5),
            max_connections: 4,
            shutdown_grace: Duration::from_millis(300),
        }
    }

    /// An endpoint answering `POST /` with the client's and the server's address.
    async fn start(
        limits: Limits,
    ) -> (
        SocketAddr,
        Arc<Metrics>,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let router = Router::new().route(
            "/",
            post(
                |ConnectInfo(client): ConnectInfo<SocketAddr>,
                 axum::Extension(LocalAddr(local)): axum::Extension<LocalAddr>,
                 body: axum::body::Bytes| async move {
                    format!("{} {} {}", client.ip(), local, body.len())
                },
            ),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::new());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            Name::Worker,
            listener,
            router,
            limits,
            Arc::<Metrics>::clone(&metrics),
            async {
                let _ = stopped.await;
            },
        ));
        (addr, metrics, stop, task)
    }

    async fn post_to(addr: SocketAddr) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            .await
            .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    }

    /// Reads until the server closes; whether it did within `within`.
    async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
        let mut buf = Vec::new();
        tokio::time::timeout(within, stream.read_to_end(&mut buf))
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn answers_with_both_addresses_and_closes() {
        let (addr, _, stop, task) = start(quick()).await;
        let out = post_to(addr).await;
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(
            out.to_ascii_lowercase().contains("connection: close"),
            "{out}"
        );
        assert!(out.ends_with(&format!("127.0.0.1 {addr} 2")), "{out}");
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn slow_and_silent_headers_time_out() {
        let (addr, metrics, stop, task) = start(quick()).await;
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"POST / HTTP/1.1\r\nX-Slow: a")
            .await
            .unwrap();
        assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
        assert!(closed_within(&mut slow, Duration::from_secs(5)).await);
        let text = metrics.encode();
        assert!(
            text.contains(
                "pygen_http_connections_dropped_total{endpoint=\"worker\",reason=\"header_timeout\"} 2"
            ),
            "{text}"
        );
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn oversized_headers_are_refused() {
        let (addr, metrics, stop, task) = start(quick()).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut head = b"POST / HTTP/1.1\r\nX-Big: ".to_vec();
        head.extend(std::iter::repeat_n(b'a', 2 * MAX_HEADER_BYTES));
        // The server may close before all of it is written.
        let _ = stream.write_all(&head).await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
        let out = String::from_utf8_lossy(&out);
        assert!(out.is_empty() || out.starts_with("HTTP/1.1 431"), "{out}");
        let text = metrics.encode();
        assert!(
            text.contains(
                "pygen_http_connections_dropped_total{endpoint=\"worker\",reason=\"too_large\"} 1"
            ),
            "{text}"
        );
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_slow_body_gets_408() {
        let (addr, _, stop, task) = start(quick()).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
            .await
            .unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut out))
            .await
            .expect("answered")
            .unwrap();
        assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_connection_makes_room() {
        let mut limits = quick();
        limits.header_timeout = Duration::from_secs(30);
        let (addr, metrics, stop, task) = start(limits).await;
        let mut idle = Vec::new();
        for _ in 0..limits.max_connections {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        // Give the server time to accept them all before the request that needs a slot.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let out = post_to(addr).await;
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(closed_within(&mut idle[0], Duration::from_secs(5)).await);
        let text = metrics.encode();
        assert!(
            text.contains(
                "pygen_http_connections_dropped_total{endpoint=\"worker\",reason=\"evicted\"} 1"
            ),
            "{text}"
        );
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn shutdown_is_bounded_by_half_sent_requests() {
        let mut limits = quick();
        limits.header_timeout = Duration::from_secs(30);
        limits.request_timeout = Duration::from_secs(30);
        let (addr, _, stop, task) = start(limits).await;
        let mut half = Vec::new();
        for _ in 0..3 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
                .await
                .unwrap();
            half.push(s);
        }
        let mut headers = TcpStream::connect(addr).await.unwrap();
        headers.write_all(b"POST / HTTP/1.1\r\nX-").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the server stops")
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    }

    #[test]
    fn log_limiter_counts_what_it_holds_back() {
        let log = LogLimiter::new(Duration::from_secs(3600));
        assert_eq!(log.allow(), Some(0));
        assert_eq!(log.allow(), None);
        assert_eq!(log.allow(), None);
        let open = LogLimiter::new(Duration::ZERO);
        assert_eq!(open.allow(), Some(0));
        assert_eq!(open.allow(), Some(0));
    }

    #[test]
    fn cap_follows_the_file_limit() {
        assert_eq!(connection_cap(None), MAX_CONNECTIONS);
        assert_eq!(connection_cap(Some(1_048_576)), MAX_CONNECTIONS);
        assert_eq!(connection_cap(Some(1024)), 320);
        assert_eq!(connection_cap(Some(256)), 64);
        assert_eq!(connection_cap(Some(10)), MIN_CONNECTIONS);
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            256                  4096                 files     \n";
        assert_eq!(parse_open_files(limits), Some(256));
        assert_eq!(
            parse_open_files("Max open files            unlimited            unlimited"),
            None
        );
    }
}
