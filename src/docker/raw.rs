//! Raw JSON requests to the daemon, for what bollard's typed models cannot carry faithfully.
//!
//! bollard's `Task` model has no `NetworksAttachments` (the task addresses templates need), and
//! a service update must send back the service's spec exactly as the daemon gave it, fields
//! unknown to bollard included, or settings would be lost (docker-pygen's `test_restart_retains_
//! settings`). So the Swarm listings and the service update go through this small client, which
//! reaches the same endpoint as the bollard client ([`super::connect::plan`]) and speaks the
//! API version bollard negotiated.
//!
//! Unix sockets and plain HTTP share a pool of kept-alive connections like the bollard client
//! does; TLS goes through reqwest with the docker CLI's certificate files.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::connect::{Endpoint, REQUEST_TIMEOUT, TlsFiles, Transport};

/// How long an idle pooled connection stays open.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// Errors of a raw request.
///
/// [`Error::Tls`] is a configuration problem found when the client is built; the others are
/// per request and recoverable by retrying later.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TLS files could not be read or used.
    #[error("Docker at {address}: cannot set up TLS with {path}")]
    Tls {
        /// The daemon's address.
        address: String,
        /// The file at fault.
        path: std::path::PathBuf,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The request could not be sent or its answer not read.
    #[error("Docker at {address}: {method} {path} failed")]
    Request {
        /// The daemon's address.
        address: String,
        /// The request method.
        method: Method,
        /// The path asked for.
        path: String,
        /// What went wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The daemon took longer than [`REQUEST_TIMEOUT`] to answer.
    #[error("Docker at {address}: {method} {path} timed out after {timeout:?}")]
    Timeout {
        /// The daemon's address.
        address: String,
        /// The request method.
        method: Method,
        /// The path asked for.
        path: String,
        /// The limit that passed.
        timeout: Duration,
    },
    /// The daemon answered with an error status.
    #[error("Docker at {address}: {method} {path} answered {status}: {message}")]
    Status {
        /// The daemon's address.
        address: String,
        /// The request method.
        method: Method,
        /// The path asked for.
        path: String,
        /// The status.
        status: StatusCode,
        /// The daemon's message (its JSON `message`, else the body).
        message: String,
    },
}

impl Error {
    /// The HTTP status the daemon answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A request body.
type Body = Full<Cursor<Vec<u8>>>;

/// How requests travel.
#[derive(Clone)]
enum Channel {
    /// A unix socket, pooled.
    Unix {
        /// The pooled client.
        client: Client<hyperlocal::UnixConnector, Body>,
        /// The socket file.
        socket: Arc<Path>,
    },
    /// Plain HTTP, pooled.
    Http {
        /// The pooled client.
        client: Client<HttpConnector, Body>,
        /// `host:port`.
        authority: String,
    },
    /// HTTPS with client certificates.
    Tls {
        /// The client, holding the certificates.
        client: reqwest::Client,
        /// `https://host:port`.
        base: String,
    },
}

/// A client for raw JSON requests to one daemon, at one API version. Cheap to clone.
#[derive(Clone)]
pub struct RawClient {
    /// How requests travel.
    channel: Channel,
    /// `/v<major>.<minor>`, the version prefix of every path.
    prefix: String,
    /// The daemon's address, for messages.
    address: String,
}

impl std::fmt::Debug for RawClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawClient")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RawClient {
    /// A client for `endpoint` speaking API `version` (as bollard negotiated it).
    pub fn new(endpoint: &Endpoint, version: &bollard::ClientVersion) -> Result<RawClient, Error> {
        let address = endpoint.to_string();
        let channel = match &endpoint.transport {
            Transport::Unix { path } => Channel::Unix {
                client: Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(POOL_IDLE)
                    .build(hyperlocal::UnixConnector),
                socket: Arc::from(path.as_path()),
            },
            Transport::Http { authority } => {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                Channel::Http {
                    client: Client::builder(TokioExecutor::new())
                        .pool_idle_timeout(POOL_IDLE)
                        .build(connector),
                    authority: authority.clone(),
                }
            }
            Transport::Tls { authority, files } => Channel::Tls {
                client: tls_client(&address, files)?,
                base: format!("https://{authority}"),
            },
        };
        Ok(RawClient {
            channel,
            prefix: format!("/v{}.{}", version.major_version, version.minor_version),
            address,
        })
    }

    /// `GET path` (without the version prefix); the body of a 2xx answer.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, Error> {
        self.send(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body; the body of a 2xx answer.
    pub async fn post_json(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Sends one request and waits at most [`REQUEST_TIMEOUT`] for the whole answer.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        let full_path = format!("{}{path}", self.prefix);
        let answer = tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.exchange(method.clone(), &full_path, body),
        )
        .await;
        let request_error = |source| Error::Request {
            address: self.address.clone(),
            method: method.clone(),
            path: path.to_owned(),
            source,
        };
        let (status, bytes) = match answer {
            Err(_) => {
                return Err(Error::Timeout {
                    address: self.address.clone(),
                    method,
                    path: path.to_owned(),
                    timeout: REQUEST_TIMEOUT,
                });
            }
            Ok(Err(source)) => return Err(request_error(source)),
            Ok(Ok(answer)) => answer,
        };
        if status.is_success() {
            return Ok(bytes);
        }
        Err(Error::Status {
            address: self.address.clone(),
            method,
            path: path.to_owned(),
            status,
            message: daemon_message(&bytes),
        })
    }

    /// One request/answer exchange over the channel.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Vec<u8>), Box<dyn std::error::Error + Send + Sync>> {
        let is_json = body.is_some();
        let body = body.unwrap_or_default();
        match &self.channel {
            Channel::Unix { client, socket } => {
                let uri: axum::http::Uri = hyperlocal::Uri::new(&**socket, path).into();
                let request = build_request(method, uri, "docker", body, is_json)?;
                let response = client.request(request).await?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                Ok((status, bytes.to_vec()))
            }
            Channel::Http { client, authority } => {
                let uri: axum::http::Uri = format!("http://{authority}{path}").parse()?;
                let request = build_request(method, uri, authority, body, is_json)?;
                let response = client.request(request).await?;
                let status = response.status();
                let bytes = response.into_body().collect().await?.to_bytes();
                Ok((status, bytes.to_vec()))
            }
            Channel::Tls { client, base } => {
                let mut request = client.request(method, format!("{base}{path}"));
                if is_json {
                    request = request
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(body);
                }
                let response = request.send().await?;
                let status = response.status();
                let bytes = response.bytes().await?;
                Ok((status, bytes.to_vec()))
            }
        }
    }
}

/// A request for the pooled hyper clients.
fn build_request(
    method: Method,
    uri: axum::http::Uri,
    host: &str,
    body: Vec<u8>,
    is_json: bool,
) -> Result<Request<Body>, axum::http::Error> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, host);
    if is_json {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder.body(Full::new(Cursor::new(body)))
}

/// The daemon's error message: the `message` of its JSON answer, else the text.
fn daemon_message(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).trim().to_owned())
}

/// A reqwest client that trusts the CA of `files` only and shows their client certificate.
fn tls_client(address: &str, files: &TlsFiles) -> Result<reqwest::Client, Error> {
    let tls_error = |path: &Path, source: Box<dyn std::error::Error + Send + Sync>| Error::Tls {
        address: address.to_owned(),
        path: path.to_path_buf(),
        source,
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| tls_error(path, Box::new(e)));
    let ca = reqwest::Certificate::from_pem(&read(&files.ca)?)
        .map_err(|e| tls_error(&files.ca, Box::new(e)))?;
    let mut identity = read(&files.cert)?;
    identity.push(b'\n');
    identity.extend(read(&files.key)?);
    let identity =
        reqwest::Identity::from_pem(&identity).map_err(|e| tls_error(&files.cert, Box::new(e)))?;
    // rustls needs one process-wide provider; the rest of pygen uses ring too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .identity(identity)
        .pool_idle_timeout(POOL_IDLE)
        .build()
        .map_err(|e| tls_error(&files.ca, Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_messages() {
        assert_eq!(
            daemon_message(br#"{"message":"service not found"}"#),
            "service not found"
        );
        assert_eq!(daemon_message(b"plain text\n"), "plain text");
    }

    #[test]
    fn version_prefix() {
        let endpoint = Endpoint {
            address: "unix:///x.sock".into(),
            transport: Transport::Unix {
                path: "/x.sock".into(),
            },
        };
        let version = bollard::ClientVersion {
            major_version: 1,
            minor_version: 41,
        };
        let client = RawClient::new(&endpoint, &version).expect("a unix client");
        assert_eq!(client.prefix, "/v1.41");
    }

    #[test]
    fn missing_tls_files_are_named() {
        let files = TlsFiles {
            ca: "/nonexistent/ca.pem".into(),
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let err = tls_client("https://h:2376", &files).expect_err("no files");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
