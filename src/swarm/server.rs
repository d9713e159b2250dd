//! The manager and worker HTTP endpoints.
//!
//! Both take `POST /` and answer `200 OK\n` once the request is accepted, like docker-pygen's,
//! but they serve requests concurrently (docker-pygen's server was single-threaded, B6), and a
//! request runs nothing before it passed every check, in this order:
//!
//! | check | answer |
//! |---|---|
//! | method and path | 405 / 404 |
//! | body at most 64 KiB | 413 |
//! | signature, role and destination, timestamp, nonce (unless `--insecure-no-auth`) | 401 (503 when the nonce memory is full) |
//! | manager: the body is empty | 400 |
//! | worker: the body is a known action with a non-empty target and a known signal | 400 |
//! | worker: room in the action queue | 503 |
//!
//! The destination is the `Host` header, which the sender signs: a request is addressed here
//! when it names this endpoint's own address and port (as the connection arrived), or a host
//! name with this endpoint's port (workers reach their manager through a service name; the
//! manager always addresses a worker by IP address, so a request captured on its way to one
//! worker is refused by every other). Refused requests are counted
//! (`pygen_swarm_requests_refused_total`) and logged at most once per
//! [`endpoint::LOG_INTERVAL`], with the number left out.
//!
//! Connections are served by [`crate::endpoint`] with its timeouts and connection cap.
//!
//! The manager's answer means "an update is scheduled", the worker's "the action is queued":
//! neither waits for the work, so a slow restart never holds the sender (docker-pygen's
//! manager regenerated inside the request, and its worker ran the action there).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::auth::{Auth, NONCE_HEADER, Rejection, SIGNATURE_HEADER, Signed, TIMESTAMP_HEADER};
use super::wire::{MAX_BODY, Request};
use super::{Error, Role};
use crate::endpoint::{self, LocalAddr, LogLimiter};
use crate::metrics::Metrics;

/// Where the manager endpoint puts the workers' notices. Each channel needs room for one
/// token: a waiting token already asks for what a new notice asks.
#[derive(Debug, Clone)]
pub struct Updates {
    /// Something changed on a worker's node: render, and act on a change.
    pub changed: mpsc::Sender<()>,
    /// A worker's own actions settled ([`SETTLED_BODY`]): render, but a change from that
    /// alone runs no action.
    pub settled: mpsc::Sender<()>,
}

/// The body of a worker's notice that the containers it restarted settled: the manager renders
/// what the restart changed (a new start time, a new address) without acting on it again,
/// which would loop. Any other notice has an empty body.
pub const SETTLED_BODY: &[u8] = br#"{"settled":true}"#;

/// What an endpoint does with an accepted request.
#[derive(Debug, Clone)]
enum Duty {
    /// Manager: schedule an update (several requests before the update runs are served by one
    /// update).
    Update(Updates),
    /// Worker: queue the action.
    Act(mpsc::Sender<Request>),
}

/// What the handler shares.
#[derive(Debug, Clone)]
struct Shared {
    /// How requests are authenticated.
    auth: Arc<Auth>,
    /// Counts the requests.
    metrics: Arc<Metrics>,
    /// What to do with an accepted request.
    duty: Duty,
    /// Rate limit of the log lines about refused requests.
    refusals: Arc<LogLimiter>,
}

/// Opens the listening socket of an endpoint.
pub async fn bind(role: Role, addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { role, addr, source })
}

/// Serves the manager endpoint on `listener` until `shutdown`: each accepted request puts a
/// token in `updates` (capacity 1 is enough: a waiting token already asks for an update).
pub async fn serve_manager(
    listener: TcpListener,
    auth: Arc<Auth>,
    metrics: Arc<Metrics>,
    updates: Updates,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(listener, auth, metrics, Duty::Update(updates), shutdown).await
}

/// Serves the worker endpoint on `listener` until `shutdown`: each accepted request's action
/// goes to `actions`.
pub async fn serve_worker(
    listener: TcpListener,
    auth: Arc<Auth>,
    metrics: Arc<Metrics>,
    actions: mpsc::Sender<Request>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(listener, auth, metrics, Duty::Act(actions), shutdown).await
}

/// The worker endpoint's routes without a listener: each accepted request's action goes to
/// `actions`. [`serve_worker`] serves it; a test or fuzz target can call it directly (it needs
/// the client's address as a [`ConnectInfo<SocketAddr>`] request extension).
pub fn worker_router(
    auth: Arc<Auth>,
    metrics: Arc<Metrics>,
    actions: mpsc::Sender<Request>,
) -> Router {
    router(auth, metrics, Duty::Act(actions))
}

/// The manager endpoint's routes without a listener: each accepted request puts a token in
/// `updates`. [`serve_manager`] serves it; see [`worker_router`] for calling it directly.
pub fn manager_router(auth: Arc<Auth>, metrics: Arc<Metrics>, updates: Updates) -> Router {
    router(auth, metrics, Duty::Update(updates))
}

/// `POST /` with `duty`, the body limit first.
fn router(auth: Arc<Auth>, metrics: Arc<Metrics>, duty: Duty) -> Router {
    Router::new()
        .route("/", post(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Shared {
            auth,
            metrics,
            duty,
            refusals: Arc::new(LogLimiter::new(endpoint::LOG_INTERVAL)),
        })
}

/// Serves `POST /` with `duty`.
async fn serve(
    listener: TcpListener,
    auth: Arc<Auth>,
    metrics: Arc<Metrics>,
    duty: Duty,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let name = match duty {
        Duty::Update(_) => endpoint::Name::Manager,
        Duty::Act(_) => endpoint::Name::Worker,
    };
    let app = router(auth, Arc::clone(&metrics), duty);
    endpoint::serve(
        name,
        listener,
        app,
        endpoint::Limits::standard(),
        metrics,
        shutdown,
    )
    .await;
    Ok(())
}

/// Whether `destination` (a `Host` header) names the endpoint that `local` (the address the
/// connection came in on) belongs to: that address itself, or a host name with its port.
pub fn addressed_here(destination: &str, local: SocketAddr) -> bool {
    let same_ip = |ip: std::net::IpAddr| ip.to_canonical() == local.ip().to_canonical();
    if let Ok(addr) = destination.parse::<SocketAddr>() {
        return same_ip(addr.ip()) && addr.port() == local.port();
    }
    let Some((host, port)) = destination.rsplit_once(':') else {
        return false;
    };
    let is_name = !host.is_empty()
        && host.parse::<std::net::IpAddr>().is_err()
        && !host.starts_with('[')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    is_name && port.parse::<u16>() == Ok(local.port())
}

/// A plain-text answer.
fn answer(status: StatusCode, text: &str) -> Response {
    (status, format!("{text}\n")).into_response()
}

/// The authentication headers, when all three are there and are text.
fn auth_headers(headers: &HeaderMap) -> Option<(&str, &str, &str)> {
    let get = |name: &str| headers.get(name)?.to_str().ok();
    Some((
        get(TIMESTAMP_HEADER)?,
        get(NONCE_HEADER)?,
        get(SIGNATURE_HEADER)?,
    ))
}

impl Shared {
    /// Counts a refused request and logs it within the rate limit.
    fn refused(&self, role: Role, client: SocketAddr, reason: &'static str, detail: &str) {
        self.metrics.request_refused(role.as_str(), reason);
        if let Some(held) = self.refusals.allow() {
            tracing::warn!(
                client = %client.ip(),
                endpoint = %role,
                reason,
                detail,
                "refused a request; {held} more refused since the last such message (at most \
                 one message every {}s; pygen_swarm_requests_refused_total counts them all)",
                endpoint::LOG_INTERVAL.as_secs()
            );
        }
    }
}

/// Handles one `POST /` (the body limit is checked before this runs).
async fn handle(
    State(shared): State<Shared>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    local: Option<Extension<LocalAddr>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let role = match shared.duty {
        Duty::Update(_) => Role::Manager,
        Duty::Act(_) => Role::Worker,
    };
    let destination = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    // Without the connection's address (a router called in process), nothing is addressed here.
    let here = local.is_some_and(|Extension(LocalAddr(local))| addressed_here(destination, local));
    let request = Signed {
        role,
        destination,
        method: method.as_str(),
        path,
        body: &body,
    };
    if let Err(rejection) = shared.auth.verify(&request, auth_headers(&headers), here) {
        shared.refused(role, client, rejection.as_str(), &rejection.to_string());
        let status = match rejection {
            Rejection::Busy => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        return answer(status, &rejection.to_string());
    }
    match &shared.duty {
        Duty::Update(_) if !body.is_empty() && body != SETTLED_BODY => {
            let text = "the manager endpoint takes no body";
            shared.refused(role, client, "bad_request", text);
            answer(StatusCode::BAD_REQUEST, text)
        }
        Duty::Update(updates) => {
            shared.metrics.manager_request_received(client.ip());
            // Full means an update is already pending, which serves this request too.
            if body.is_empty() {
                tracing::debug!(client = %client.ip(), "update requested by a worker");
                let _ = updates.changed.try_send(());
            } else {
                tracing::debug!(client = %client.ip(), "a worker's own actions settled");
                let _ = updates.settled.try_send(());
            }
            answer(StatusCode::OK, "OK")
        }
        Duty::Act(actions) => {
            let request = match Request::decode(&body) {
                Ok(request) => request,
                Err(err) => {
                    shared.refused(role, client, "bad_request", &err.to_string());
                    return answer(StatusCode::BAD_REQUEST, &err.to_string());
                }
            };
            shared.metrics.worker_request_received(client.ip());
            // INFO: an action changes a container of this node, once per notification batch,
            // not once per event.
            let action = &request.action;
            // `started_before_ms`: a late action, for containers started before that time.
            tracing::info!(client = %client.ip(), action = action.name(), target = action.target(), started_before_ms = ?request.started_before, "action received");
            match actions.try_send(request) {
                Ok(()) => answer(StatusCode::OK, "OK"),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    answer(StatusCode::SERVICE_UNAVAILABLE, "too many actions queued")
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    answer(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Sends a raw HTTP/1.1 request and returns the status code and body.
    async fn raw(addr: SocketAddr, request: Vec<u8>) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }

    fn post(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    /// A secret long enough to be accepted.
    const SECRET: &[u8] = b"0123456789abcdef-s3cret";

    fn signed(auth: &Auth, role: Role, to: SocketAddr, body: &[u8]) -> Vec<(&'static str, String)> {
        let destination = to.to_string();
        let request = Signed {
            role,
            destination: &destination,
            method: "POST",
            path: "/",
            body,
        };
        let s = auth.sign(&request).expect("a secret");
        vec![
            (TIMESTAMP_HEADER, s.timestamp),
            (NONCE_HEADER, s.nonce),
            (SIGNATURE_HEADER, s.signature),
        ]
    }

    async fn worker(auth: Arc<Auth>, capacity: usize) -> (SocketAddr, mpsc::Receiver<Request>) {
        let listener = bind(Role::Worker, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel(capacity);
        tokio::spawn(serve_worker(
            listener,
            auth,
            Arc::new(Metrics::new()),
            tx,
            std::future::pending(),
        ));
        (addr, rx)
    }

    #[tokio::test]
    async fn worker_checks_everything_before_queueing() {
        let auth = Arc::new(Auth::from_secret(SECRET, "test").unwrap());
        let (addr, mut rx) = worker(auth.clone(), 8).await;
        let body = br#"{"action": "signal", "args": ["web", "HUP"]}"#;

        let (status, text) = raw(
            addr,
            post(addr, "/", &signed(&auth, Role::Worker, addr, body), body),
        )
        .await;
        assert_eq!((status, text.as_str()), (200, "OK\n"));
        assert_eq!(
            rx.try_recv().map(|r| r.action),
            Ok(Action::Signal {
                target: "web".into(),
                signal: "SIGHUP".into()
            })
        );

        // Unsigned, forged, replayed, another secret.
        assert_eq!(raw(addr, post(addr, "/", &[], body)).await.0, 401);
        let mut forged = signed(&auth, Role::Worker, addr, body);
        forged[2].1 = "0".repeat(64);
        assert_eq!(raw(addr, post(addr, "/", &forged, body)).await.0, 401);
        let once = signed(&auth, Role::Worker, addr, body);
        assert_eq!(raw(addr, post(addr, "/", &once, body)).await.0, 200);
        assert!(rx.try_recv().is_ok());
        let (status, text) = raw(addr, post(addr, "/", &once, body)).await;
        assert_eq!(status, 401);
        assert!(text.contains("replay"), "{text}");
        let other = Auth::from_secret(b"another-secret-of-length", "test").unwrap();
        assert_eq!(
            raw(
                addr,
                post(addr, "/", &signed(&other, Role::Worker, addr, body), body)
            )
            .await
            .0,
            401
        );
        // A body other than the signed one.
        let evil = br#"{"action": "signal", "args": ["db", "KILL"]}"#;
        assert_eq!(
            raw(
                addr,
                post(addr, "/", &signed(&auth, Role::Worker, addr, body), evil)
            )
            .await
            .0,
            401
        );

        // Signed but wrong: 400.
        for bad in [
            &b"not json"[..],
            br#"{"action": "exec", "args": ["x"]}"#,
            br#"{"action": "signal", "args": ["", "KILL"]}"#,
            br#"{"action": "signal", "args": ["web", "NOPE"]}"#,
        ] {
            let (status, _) = raw(
                addr,
                post(addr, "/", &signed(&auth, Role::Worker, addr, bad), bad),
            )
            .await;
            assert_eq!(status, 400, "{}", String::from_utf8_lossy(bad));
        }

        // Too large, even when signed: 413.
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(
            raw(
                addr,
                post(addr, "/", &signed(&auth, Role::Worker, addr, &big), &big)
            )
            .await
            .0,
            413
        );
        // Other methods and paths.
        let get = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        assert_eq!(raw(addr, get.into_bytes()).await.0, 405);
        assert_eq!(
            raw(
                addr,
                post(addr, "/x", &signed(&auth, Role::Worker, addr, body), body)
            )
            .await
            .0,
            404
        );

        // Nothing of the refused requests was queued.
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_request_for_one_worker_is_refused_by_another() {
        let auth = Arc::new(Auth::from_secret(SECRET, "test").unwrap());
        let (one, mut rx_one) = worker(auth.clone(), 8).await;
        let (two, mut rx_two) = worker(auth.clone(), 8).await;
        let body = br#"{"action": "restart", "args": ["web"]}"#;
        let headers = signed(&auth, Role::Worker, one, body);
        // Replayed unchanged (its Host names worker one) to worker two.
        let (status, text) = raw(two, post(one, "/", &headers, body)).await;
        assert_eq!(
            (status, text.as_str()),
            (401, "request meant for another endpoint\n")
        );
        assert!(rx_two.try_recv().is_err());
        // Worker one still takes it: the refusal did not use up its nonce.
        assert_eq!(raw(one, post(one, "/", &headers, body)).await.0, 200);
        assert!(rx_one.try_recv().is_ok());
        // A name with the right port counts as addressed here (a manager's service name).
        let named: SocketAddr = ([127, 0, 0, 1], one.port()).into();
        assert!(addressed_here(
            &format!("pygen-manager:{}", one.port()),
            named
        ));
    }

    #[test]
    fn destinations() {
        let local: SocketAddr = "10.0.0.5:9412".parse().unwrap();
        assert!(addressed_here("10.0.0.5:9412", local));
        assert!(!addressed_here("10.0.0.6:9412", local));
        assert!(!addressed_here("10.0.0.5:9413", local));
        assert!(!addressed_here("10.0.0.5", local));
        assert!(!addressed_here("", local));
        assert!(addressed_here("tasks.pygen-worker:9412", local));
        assert!(!addressed_here("tasks.pygen-worker:9411", local));
        assert!(!addressed_here(":9412", local));
        assert!(!addressed_here("a b:9412", local));
        let mapped: SocketAddr = "[::ffff:10.0.0.5]:9412".parse().unwrap();
        assert!(addressed_here("10.0.0.5:9412", mapped));
        let v6: SocketAddr = "[fd00::5]:9412".parse().unwrap();
        assert!(addressed_here("[fd00::5]:9412", v6));
        assert!(!addressed_here("[fd00::6]:9412", v6));
    }

    #[tokio::test]
    async fn refusals_are_counted() {
        let auth = Arc::new(Auth::from_secret(SECRET, "test").unwrap());
        let listener = bind(Role::Worker, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let metrics = Arc::new(Metrics::new());
        tokio::spawn(serve_worker(
            listener,
            auth.clone(),
            metrics.clone(),
            tx,
            std::future::pending(),
        ));
        let body = br#"{"action": "restart", "args": ["web"]}"#;
        for _ in 0..3 {
            assert_eq!(raw(addr, post(addr, "/", &[], body)).await.0, 401);
        }
        let bad = b"not json";
        let headers = signed(&auth, Role::Worker, addr, bad);
        assert_eq!(raw(addr, post(addr, "/", &headers, bad)).await.0, 400);
        let text = metrics.encode();
        for line in [
            "pygen_swarm_requests_refused_total{endpoint=\"worker\",reason=\"unsigned\"} 3",
            "pygen_swarm_requests_refused_total{endpoint=\"worker\",reason=\"bad_request\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
    }

    #[tokio::test]
    async fn a_slow_client_does_not_hold_others_back() {
        // docker-pygen's server handled one request at a time (B6): a client that sends its
        // request slowly blocked every other one.
        let (addr, _rx) = worker(Arc::new(Auth::Insecure), 8).await;
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        let body = br#"{"action": "restart", "args": ["web"]}"#;
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            raw(addr, post(addr, "/", &[], body)),
        )
        .await
        .expect("answered while the slow request is pending");
        assert_eq!(answer.0, 200);
        drop(slow);
    }

    #[tokio::test]
    async fn a_full_queue_answers_503() {
        let (addr, _rx) = worker(Arc::new(Auth::Insecure), 1).await;
        let body = br#"{"action": "restart", "args": ["web"]}"#;
        assert_eq!(raw(addr, post(addr, "/", &[], body)).await.0, 200);
        assert_eq!(raw(addr, post(addr, "/", &[], body)).await.0, 503);
    }

    #[tokio::test]
    async fn manager_schedules_one_update_for_many_requests() {
        let auth = Arc::new(Auth::from_secret(SECRET, "test").unwrap());
        let listener = bind(Role::Manager, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = mpsc::channel(1);
        let (settled_tx, mut settled) = mpsc::channel(1);
        let metrics = Arc::new(Metrics::new());
        let updates = Updates {
            changed: tx,
            settled: settled_tx,
        };
        tokio::spawn(serve_manager(
            listener,
            auth.clone(),
            metrics.clone(),
            updates,
            std::future::pending(),
        ));
        for _ in 0..3 {
            let headers = signed(&auth, Role::Manager, addr, b"");
            let (status, text) = raw(addr, post(addr, "/", &headers, b"")).await;
            assert_eq!((status, text.as_str()), (200, "OK\n"));
        }
        assert_eq!(raw(addr, post(addr, "/", &[], b"")).await.0, 401);
        // A body the manager does not expect, even signed.
        let body = br#"{"action": "restart", "args": ["web"]}"#;
        let headers = signed(&auth, Role::Manager, addr, body);
        assert_eq!(raw(addr, post(addr, "/", &headers, body)).await.0, 400);
        // A request signed for a worker.
        let headers = signed(&auth, Role::Worker, addr, b"");
        let (status, text) = raw(addr, post(addr, "/", &headers, b"")).await;
        assert_eq!(
            (status, text.as_str()),
            (401, "request meant for another endpoint\n")
        );
        assert!(rx.try_recv().is_ok());
        assert!(rx.try_recv().is_err(), "one pending update serves all");
        assert!(settled.try_recv().is_err(), "no notice said settled");
        // The settled notice is the one body the manager takes.
        let headers = signed(&auth, Role::Manager, addr, SETTLED_BODY);
        let (status, _) = raw(addr, post(addr, "/", &headers, SETTLED_BODY)).await;
        assert_eq!(status, 200);
        assert!(settled.try_recv().is_ok());
        assert!(
            rx.try_recv().is_err(),
            "a settled notice asks for no acting update"
        );
        // Three update requests and the settled notice.
        assert!(
            metrics
                .encode()
                .contains("pygen_manager_request_total{client=\"127.0.0.1\"} 4"),
            "{}",
            metrics.encode()
        );
    }
}
