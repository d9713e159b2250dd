//! The `/metrics` HTTP endpoint.
//!
//! Binding is separate from serving so that a port already in use is reported at startup, before
//! anything else runs, and so tests can bind `127.0.0.1:0` and learn the port. Serving goes
//! through [`crate::endpoint`], whose limits (header and request timeouts, connection cap,
//! bounded shutdown) hold for this endpoint as for the Swarm ones. The serving loop counts the
//! connections it drops through [`endpoint::DropCounter`], which [`Metrics`] implements here,
//! for every endpoint.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use super::{Error, Metrics};
use crate::endpoint;

/// The content type of the OpenMetrics text format that [`Metrics::encode`] produces.
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Opens the listening socket of the metrics endpoint.
///
/// # Errors
///
/// [`Error::Bind`] naming `addr` when the address is in use, not local, or not allowed.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// Serves `GET /metrics` on `listener` until `shutdown` completes; every other path is a 404.
///
/// After `shutdown` completes, no new connection is accepted and the function returns once the
/// requests in flight are answered, or after [`crate::endpoint::SHUTDOWN_GRACE`].
///
/// # Errors
///
/// None today: accept errors (out of file descriptors) are logged and retried. The result stays
/// so that callers handle a stopped endpoint in one place.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Arc::clone(&metrics));
    endpoint::serve(
        endpoint::Name::Metrics,
        listener,
        app,
        endpoint::Limits::standard(),
        metrics,
        shutdown,
    )
    .await;
    Ok(())
}

impl endpoint::DropCounter for Metrics {
    fn dropped(&self, endpoint: endpoint::Name, reason: endpoint::Dropped) {
        self.connection_dropped(endpoint.as_str(), reason.as_str());
    }
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(CONTENT_TYPE, CONTENT_TYPE_OPENMETRICS)], metrics.encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Sends one HTTP/1.1 request over a fresh connection and returns the raw response.
    async fn get_raw(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_metrics_over_tcp() {
        let metrics = Arc::new(Metrics::new());
        metrics.event_taken();
        metrics.event_taken();
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, Arc::clone(&metrics), async {
            let _ = stopped.await;
        }));

        let response = get_raw(addr, "/metrics").await;
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("\r\nconnection: close"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase().contains(
                "\r\ncontent-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"
            ),
            "{head}"
        );
        assert!(body.contains("\npygen_events_taken_total 2\n"), "{body}");
        assert!(body.ends_with("# EOF\n"), "{body}");

        // Metrics move between scrapes: the body is encoded per request.
        metrics.event_taken();
        let again = get_raw(addr, "/metrics").await;
        assert!(again.contains("\npygen_events_taken_total 3\n"), "{again}");

        let missing = get_raw(addr, "/").await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        let missing = get_raw(addr, "/metrics/extra").await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    }

    #[tokio::test]
    async fn port_in_use_is_a_clear_error() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let err = bind(addr).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("metrics endpoint: cannot listen on {addr}")
        );
        let source = std::error::Error::source(&err).unwrap();
        let io = source.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
        let Error::Bind { addr: a, .. } = err;
        assert_eq!(a, addr);
    }
}
