//! The one client pygen talks to the daemon with: JSON reads, the event stream, kill, restart,
//! service updates and the API version negotiation all go through [`RawClient`].
//!
//! It answers with the daemon's bytes and leaves their reading to the caller: a Swarm task's
//! `NetworksAttachments` and a service update that must send back the service's spec exactly as
//! the daemon gave it, fields unknown to pygen included (docker-pygen's `test_restart_retains_
//! settings`), both need the JSON as it is. It reaches the endpoint [`super::connect::plan`]
//! chose and speaks the API version [`RawClient::negotiate`] agreed with the daemon.
//!
//! How the requests travel is `raw/transport.rs`'s part: one pooled hyper-util client per daemon,
//! over a unix socket, plain HTTP or TLS with the docker CLI's certificate files, set up once.
//! Clones share the pool.

mod transport;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::connect::{Endpoint, REQUEST_TIMEOUT};
use transport::{BoxError, Channel};

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
    /// The daemon's `/version` answer names no API version pygen can read.
    #[error("Docker at {address}: the /version answer names no API version")]
    NoApiVersion {
        /// The daemon's address.
        address: String,
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

/// A Docker Engine API version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// The major version (1 for every Docker release so far).
    pub major: u32,
    /// The minor version.
    pub minor: u32,
}

impl ApiVersion {
    /// The newest version pygen asks for; [`RawClient::negotiate`] steps down to an older
    /// daemon's. (1.53, the version pygen spoke when it used bollard 0.21.)
    pub const NEWEST: ApiVersion = ApiVersion {
        major: 1,
        minor: 53,
    };

    /// Reads `major.minor` as the daemon writes it (`"1.41"`).
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A client for raw JSON requests to one daemon, at one API version. Cheap to clone.
#[derive(Clone)]
pub struct RawClient {
    /// How requests travel (shared by clones: one pool).
    channel: Arc<Channel>,
    /// `/v<major>.<minor>`, the version prefix of every path.
    prefix: String,
    /// The API version of `prefix`.
    version: ApiVersion,
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
    /// A client for `endpoint` speaking API `version`. Sends nothing; TLS files are read now.
    pub fn new(endpoint: &Endpoint, version: ApiVersion) -> Result<RawClient, Error> {
        let address = endpoint.to_string();
        let channel = Channel::new(endpoint, &address)?;
        Ok(RawClient {
            channel: Arc::new(channel),
            prefix: format!("/v{version}"),
            version,
            address,
        })
    }

    /// The API version this client speaks.
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// Asks the daemon its API version (`GET /version`, unversioned, which every daemon answers)
    /// and steps this client down to it when the daemon is older; a newer daemon is spoken to
    /// at this client's version.
    pub async fn negotiate(self) -> Result<RawClient, Error> {
        let body = self.send_at(Method::GET, "/version", false, None).await?;
        let daemon = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| ApiVersion::parse(v.get("ApiVersion")?.as_str()?))
            .ok_or_else(|| Error::NoApiVersion {
                address: self.address.clone(),
            })?;
        if daemon >= self.version {
            return Ok(self);
        }
        Ok(RawClient {
            prefix: format!("/v{daemon}"),
            version: daemon,
            ..self
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

    /// `POST path` without a body, for its effect (kill, restart).
    pub async fn post(&self, path: &str) -> Result<(), Error> {
        self.send(Method::POST, path, None).await.map(drop)
    }

    /// Sends `signal` (a name such as `SIGHUP`, or a number) to the container `id` (or name).
    pub async fn kill(&self, id: &str, signal: &str) -> Result<(), Error> {
        self.post(&format!(
            "/containers/{}/kill?signal={}",
            query_escape(id),
            query_escape(signal)
        ))
        .await
    }

    /// Restarts the container `id` (or name), giving it `timeout` seconds to stop before it is
    /// killed (`None`: the container's own setting).
    pub async fn restart(&self, id: &str, timeout: Option<u32>) -> Result<(), Error> {
        let mut path = format!("/containers/{}/restart", query_escape(id));
        if let Some(t) = timeout {
            path.push_str(&format!("?t={t}"));
        }
        self.post(&path).await
    }

    /// Opens the event stream (`GET /events`) with the daemon's `since` (seconds, fractions
    /// allowed) and JSON `filters`. Waits at most [`REQUEST_TIMEOUT`] for the answer's
    /// headers; the stream itself is not bounded.
    pub async fn events(
        &self,
        since: Option<&str>,
        filters: &str,
    ) -> Result<super::events::EventStream, Error> {
        let mut path = format!("/events?filters={}", query_escape(filters));
        if let Some(since) = since {
            path.push_str(&format!("&since={}", query_escape(since)));
        }
        let full_path = format!("{}{path}", self.prefix);
        let opened = tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.channel.open(Method::GET, &full_path, None),
        )
        .await;
        let response = match opened {
            Err(_) => return Err(self.timeout(Method::GET, &path)),
            Ok(Err(source)) => return Err(self.request_error(Method::GET, &path, source)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let mut body = StreamBody {
            response,
            client: self.clone(),
            path,
        };
        if !status.is_success() {
            let mut bytes = Vec::new();
            while let Some(chunk) = body.chunk().await? {
                bytes.extend_from_slice(&chunk);
            }
            return Err(Error::Status {
                address: self.address.clone(),
                method: Method::GET,
                path: body.path,
                status,
                message: daemon_message(&bytes),
            });
        }
        Ok(super::events::EventStream::new(body))
    }

    /// Sends one request and waits at most [`REQUEST_TIMEOUT`] for the whole answer.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        self.send_at(method, path, true, body).await
    }

    /// [`RawClient::send`], with the version prefix or without it (`versioned` false).
    async fn send_at(
        &self,
        method: Method,
        path: &str,
        versioned: bool,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        let prefix = if versioned { self.prefix.as_str() } else { "" };
        let full_path = format!("{prefix}{path}");
        let answer = tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.exchange(method.clone(), &full_path, body),
        )
        .await;
        let (status, bytes) = match answer {
            Err(_) => return Err(self.timeout(method, path)),
            Ok(Err(source)) => return Err(self.request_error(method, path, source)),
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

    /// [`Error::Timeout`] for `method path`.
    fn timeout(&self, method: Method, path: &str) -> Error {
        Error::Timeout {
            address: self.address.clone(),
            method,
            path: path.to_owned(),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// [`Error::Request`] for `method path`.
    fn request_error(&self, method: Method, path: &str, source: BoxError) -> Error {
        Error::Request {
            address: self.address.clone(),
            method,
            path: path.to_owned(),
            source,
        }
    }

    /// One request/answer exchange over the channel.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Vec<u8>), BoxError> {
        let response = self.channel.open(method, path, body).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes.to_vec()))
    }
}

/// The body of a streamed answer (the event stream), read chunk by chunk as the daemon sends it.
pub struct StreamBody {
    /// The answer.
    response: hyper::Response<Incoming>,
    /// The client it came from, for errors.
    client: RawClient,
    /// The path asked for, for errors.
    path: String,
}

impl std::fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamBody")
            .field("address", &self.client.address)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl StreamBody {
    /// The next chunk of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<hyper::body::Bytes>, Error> {
        loop {
            match self.response.body_mut().frame().await {
                None => return Ok(None),
                Some(Err(err)) => {
                    return Err(self
                        .client
                        .request_error(Method::GET, &self.path, err.into()));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// Percent-encodes a path segment or query value (everything but RFC 3986's unreserved
/// characters).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The daemon's error message: the `message` of its JSON answer, else the text.
fn daemon_message(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::connect::Transport;

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
        let version = ApiVersion::parse("1.41").expect("a version");
        let client = RawClient::new(&endpoint, version).expect("a unix client");
        assert_eq!(client.prefix, "/v1.41");
        assert_eq!(client.version(), version);
    }

    #[test]
    fn api_versions_parse_and_order() {
        assert_eq!(
            ApiVersion::parse("1.41"),
            Some(ApiVersion {
                major: 1,
                minor: 41
            })
        );
        assert_eq!(ApiVersion::parse("1"), None);
        assert_eq!(ApiVersion::parse("x.1"), None);
        assert!(ApiVersion::parse("1.9") < ApiVersion::parse("1.41"));
        assert!(ApiVersion::parse("1.41") < Some(ApiVersion::NEWEST));
    }

    #[test]
    fn escapes() {
        assert_eq!(query_escape("SIGHUP"), "SIGHUP");
        assert_eq!(
            query_escape(r#"{"a":["b c"]}"#),
            "%7B%22a%22%3A%5B%22b%20c%22%5D%7D"
        );
    }
}
