//! Carrying out a [`plan`]: the bollard client over a pooled unix-socket, HTTP or
//! TLS transport, version negotiation, and the plain message for a daemon that is not there.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{Endpoint, Env, Error, REQUEST_TIMEOUT, Transport, plan};

/// Builds the Docker client for `address` (see the module documentation for what is accepted).
///
/// No request is sent: a daemon that is down is noticed by the first call, except for a unix
/// socket file that does not exist, which bollard reports here. Call
/// [`connect_negotiated`] (or `negotiate_version`) before talking to a daemon older than
/// bollard's API version.
pub fn connect(address: Option<&str>) -> Result<Docker, Error> {
    let endpoint = plan(address, &Env::from_process())?;
    build(&endpoint)
}

/// [`connect`], then one `/version` request to step the client down to the daemon's API version
/// when the daemon is older than bollard.
pub async fn connect_negotiated(address: Option<&str>) -> Result<Docker, Error> {
    let endpoint = plan(address, &Env::from_process())?;
    build(&endpoint)?
        .negotiate_version()
        .await
        .map_err(|source| match unreachable(&endpoint, &source) {
            Some(reason) => Error::Unreachable {
                address: endpoint.address.clone(),
                reason,
            },
            None => Error::Negotiate {
                address: endpoint.address.clone(),
                source,
            },
        })
}

/// The plain reason the daemon at `endpoint` cannot be reached, when `err` is one of the usual
/// ones (no socket, nothing listening, no permission, no route); `None` for anything else.
pub fn unreachable(endpoint: &Endpoint, err: &bollard::errors::Error) -> Option<String> {
    let (place, is_socket) = match &endpoint.transport {
        Transport::Unix { path } => (path.display().to_string(), true),
        _ => (endpoint.address.clone(), false),
    };
    if let bollard::errors::Error::SocketNotFoundError(_) = err {
        return Some(format!("no such socket {place}"));
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let io = loop {
        let current = cause?;
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            break io;
        }
        cause = current.source();
    };
    use std::io::ErrorKind;
    Some(match io.kind() {
        ErrorKind::NotFound if is_socket => format!("no such socket {place}"),
        ErrorKind::PermissionDenied if is_socket => format!(
            "permission denied on {place} — add the user to the docker group (or run as root)"
        ),
        ErrorKind::PermissionDenied => format!("permission denied connecting to {place}"),
        ErrorKind::ConnectionRefused => format!("nothing listens at {place}: connection refused"),
        ErrorKind::TimedOut => format!("no answer from {place}: connection timed out"),
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
            format!("cannot reach {place}: {io}")
        }
        _ => return None,
    })
}

/// Carries out a plan made by [`plan`].
pub fn build(endpoint: &Endpoint) -> Result<Docker, Error> {
    let timeout = REQUEST_TIMEOUT.as_secs();
    let client_error = |source| match unreachable(endpoint, &source) {
        Some(reason) => Error::Unreachable {
            address: endpoint.address.clone(),
            reason,
        },
        None => Error::Client {
            address: endpoint.address.clone(),
            source,
        },
    };
    match &endpoint.transport {
        Transport::Unix { path } => pooled_unix(path, timeout).map_err(client_error),
        Transport::Http { authority } => pooled_http(authority, timeout).map_err(client_error),
        Transport::Tls { authority, files } => {
            // bollard reads the key only during the handshake and then silently sends no client
            // certificate when it is missing: check all three files now, to name the culprit.
            for (role, path) in files.with_roles() {
                std::fs::File::open(path).map_err(|source| Error::CertFile {
                    address: endpoint.address.clone(),
                    role,
                    path: path.to_owned(),
                    source,
                })?;
            }
            // rustls needs one process-wide provider; bollard uses ring. Installing fails only
            // when one is already installed, which is what we want anyway.
            let _ = rustls::crypto::ring::default_provider().install_default();
            Docker::connect_with_ssl(
                authority,
                &files.key,
                &files.cert,
                &files.ca,
                timeout,
                API_DEFAULT_VERSION,
            )
            .map_err(client_error)
        }
    }
}

/// How long an idle pooled connection to the daemon stays open.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// A client whose requests share a pool of kept-alive connections to one unix socket.
///
/// bollard's own unix and HTTP clients open a new connection for every request; a full sync
/// of a few hundred containers then pays a connect per inspect. This transport keeps
/// connections open and reuses them.
fn pooled_unix(path: &Path, timeout: u64) -> Result<Docker, bollard::errors::Error> {
    if !path.exists() {
        return Err(bollard::errors::Error::SocketNotFoundError(
            path.to_string_lossy().into_owned(),
        ));
    }
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(hyperlocal::UnixConnector);
    let socket: Arc<Path> = Arc::from(path);
    let transport = move |mut request: BollardRequest| {
        let client = client.clone();
        let path_and_query = request
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        *request.uri_mut() = hyperlocal::Uri::new(&*socket, &path_and_query).into();
        async move {
            client
                .request(request)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some("http://localhost"),
        timeout,
        API_DEFAULT_VERSION,
    )
}

/// A client whose requests share a pool of kept-alive plain HTTP connections to `authority`.
fn pooled_http(authority: &str, timeout: u64) -> Result<Docker, bollard::errors::Error> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector);
    let transport = move |request: BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(request)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some(format!("http://{authority}")),
        timeout,
        API_DEFAULT_VERSION,
    )
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::connect::tests::env;
    use crate::docker::connect::{Env, plan};

    #[test]
    fn a_missing_socket_is_an_error_naming_the_address() {
        let endpoint = plan(Some("unix:///nonexistent/docker.sock"), &env()).unwrap();
        let message = build(&endpoint).expect_err("missing socket").to_string();
        assert_eq!(message, "no such socket /nonexistent/docker.sock");
    }

    #[tokio::test]
    async fn nothing_listening_is_said_plainly() {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let err = connect_negotiated(Some("tcp://127.0.0.1:1"))
            .await
            .expect_err("nothing listens");
        assert_eq!(
            crate::report::describe(&err),
            "nothing listens at tcp://127.0.0.1:1: connection refused"
        );
    }

    #[test]
    fn a_missing_cert_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "").unwrap();
        std::fs::write(dir.path().join("cert.pem"), "").unwrap();
        let env = Env {
            cert_path: Some(dir.path().to_string_lossy().into_owned()),
            ..env()
        };
        let endpoint = plan(Some("https://h:2376"), &env).unwrap();
        let err = build(&endpoint).expect_err("key.pem is missing");
        let key = dir.path().join("key.pem");
        assert!(
            matches!(&err, Error::CertFile { path, role: "client key", .. } if *path == key),
            "{err:?}"
        );
        assert!(err.to_string().contains(&key.display().to_string()));
    }

    #[test]
    fn tls_with_readable_files_builds_a_client() {
        // Files are read lazily by bollard except the CA, which must parse as PEM (an empty
        // file holds no certificate and is accepted): no panic over the crypto provider.
        let dir = tempfile::tempdir().unwrap();
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let env = Env {
            cert_path: Some(dir.path().to_string_lossy().into_owned()),
            ..env()
        };
        let endpoint = plan(Some("https://127.0.0.1:1"), &env).unwrap();
        assert!(build(&endpoint).is_ok());
    }
}
