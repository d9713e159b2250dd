//! Carrying out a [`plan`]: the [`RawClient`] for the endpoint, version negotiation, and the
//! plain message for a daemon that is not there.

use super::{Endpoint, Env, Error, Transport, plan};
use crate::docker::raw::{ApiVersion, RawClient};

/// Builds the Docker client for `address` (see the module documentation for what is accepted).
///
/// No request is sent: a daemon that is down is noticed by the first call, except for a unix
/// socket file that does not exist, which is reported here. The client speaks
/// [`ApiVersion::NEWEST`]; call [`connect_negotiated`] (or [`RawClient::negotiate`]) before
/// talking to an older daemon.
pub fn connect(address: Option<&str>) -> Result<RawClient, Error> {
    let endpoint = plan(address, &Env::from_process())?;
    build(&endpoint)
}

/// [`connect`], then one `/version` request to step the client down to the daemon's API version
/// when the daemon is older.
pub async fn connect_negotiated(address: Option<&str>) -> Result<RawClient, Error> {
    let endpoint = plan(address, &Env::from_process())?;
    build(&endpoint)?
        .negotiate()
        .await
        .map_err(|source| match unreachable(&endpoint, &source) {
            Some(reason) => Error::Unreachable {
                address: endpoint.address.clone(),
                reason,
            },
            None => Error::Negotiate {
                address: endpoint.address.clone(),
                source: Box::new(source),
            },
        })
}

/// The plain reason the daemon at `endpoint` cannot be reached, when `err` is one of the usual
/// ones (no socket, nothing listening, no permission, no route); `None` for anything else.
pub fn unreachable(endpoint: &Endpoint, err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let (place, is_socket) = match &endpoint.transport {
        Transport::Unix { path } => (path.display().to_string(), true),
        _ => (endpoint.address.clone(), false),
    };
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

/// Carries out a plan made by [`plan`]: one client, with its connection pool and (for TLS) its
/// certificates, for every call to the daemon.
pub fn build(endpoint: &Endpoint) -> Result<RawClient, Error> {
    match &endpoint.transport {
        Transport::Unix { path } if !path.exists() => {
            return Err(Error::Unreachable {
                address: endpoint.address.clone(),
                reason: format!("no such socket {}", path.display()),
            });
        }
        Transport::Tls { files, .. } => {
            // Check all three files first, to name the one that cannot be read.
            for (role, path) in files.with_roles() {
                std::fs::File::open(path).map_err(|source| Error::CertFile {
                    address: endpoint.address.clone(),
                    role,
                    path: path.to_owned(),
                    source,
                })?;
            }
        }
        _ => {}
    }
    RawClient::new(endpoint, ApiVersion::NEWEST).map_err(|source| Error::Client {
        address: endpoint.address.clone(),
        source: Box::new(source),
    })
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
    fn tls_files_that_hold_no_certificate_are_refused_at_once() {
        // The files are read and parsed when the client is built, not at the first handshake:
        // files that hold no certificate or key are an error naming the address and a file.
        let dir = tempfile::tempdir().unwrap();
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let env = Env {
            cert_path: Some(dir.path().to_string_lossy().into_owned()),
            ..env()
        };
        let endpoint = plan(Some("https://127.0.0.1:1"), &env).unwrap();
        let err = build(&endpoint).expect_err("empty files");
        assert!(matches!(err, Error::Client { .. }), "{err:?}");
        let message = crate::report::describe(&err);
        assert!(message.contains("https://127.0.0.1:1"), "{message}");
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
    }
}
