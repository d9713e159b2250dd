//! How a request reaches the daemon, kept apart from what is asked of it.
//!
//! Every transport goes through the same pooled hyper-util client, so a unix socket, plain HTTP
//! and TLS keep connections alive the same way (a full sync of a few hundred containers would
//! otherwise pay a connect, and over TLS a handshake, per inspect) and answer with the same
//! response type. TLS is rustls set up once per client from the docker CLI's certificate files:
//! the CA in them is the only one trusted, and a file that cannot be used is named when the
//! client is built, not at the first request.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, Request, Uri, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::Error;
use crate::docker::connect::{Endpoint, TlsFiles, Transport};

/// How long an idle pooled connection stays open.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// A request body.
type Body = Full<Cursor<Vec<u8>>>;

/// Any error of sending a request or reading its answer.
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How requests travel, each way with its own pool (shared by a client's clones).
pub(super) enum Channel {
    /// A unix socket.
    Unix {
        /// The pooled client.
        client: Client<hyperlocal::UnixConnector, Body>,
        /// The socket file.
        socket: Arc<Path>,
    },
    /// Plain HTTP.
    Http {
        /// The pooled client.
        client: Client<HttpConnector, Body>,
        /// `host:port`.
        authority: String,
    },
    /// HTTPS with a client certificate.
    Tls {
        /// The pooled client, holding the TLS set-up.
        client: Client<HttpsConnector<HttpConnector>, Body>,
        /// `host:port`; the host is the name (or IP address) the server's certificate must show.
        authority: String,
    },
}

impl Channel {
    /// The way to `endpoint`, whose address is `address` in messages. Sends nothing; TLS files
    /// are read now.
    pub(super) fn new(endpoint: &Endpoint, address: &str) -> Result<Channel, Error> {
        Ok(match &endpoint.transport {
            Transport::Unix { path } => Channel::Unix {
                client: pooled(hyperlocal::UnixConnector),
                socket: Arc::from(path.as_path()),
            },
            Transport::Http { authority } => Channel::Http {
                client: pooled(tcp()),
                authority: authority.clone(),
            },
            Transport::Tls { authority, files } => {
                let mut tcp = tcp();
                // The scheme is https; the TLS layer above checks it, not the TCP connector.
                tcp.enforce_http(false);
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls_config(address, files)?)
                    .https_only()
                    .enable_http1()
                    .wrap_connector(tcp);
                Channel::Tls {
                    client: pooled(connector),
                    authority: authority.clone(),
                }
            }
        })
    }

    /// Sends one request; the answer with its body still to read. `body`, when given, is JSON.
    pub(super) async fn open(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<hyper::Response<Incoming>, BoxError> {
        let (uri, host): (Uri, &str) = match self {
            Channel::Unix { socket, .. } => {
                (hyperlocal::Uri::new(&**socket, path).into(), "docker")
            }
            Channel::Http { authority, .. } => {
                (format!("http://{authority}{path}").parse()?, authority)
            }
            Channel::Tls { authority, .. } => {
                (format!("https://{authority}{path}").parse()?, authority)
            }
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, host);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(Cursor::new(body.unwrap_or_default())))?;
        let answer = match self {
            Channel::Unix { client, .. } => client.request(request),
            Channel::Http { client, .. } => client.request(request),
            Channel::Tls { client, .. } => client.request(request),
        };
        Ok(answer.await?)
    }
}

/// A pooled client over `connector`.
fn pooled<C>(connector: C) -> Client<C, Body>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector)
}

/// A TCP connector that sends small requests at once.
fn tcp() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector
}

/// The TLS set-up of `files`: their CA is the only one trusted, their certificate is shown.
fn tls_config(address: &str, files: &TlsFiles) -> Result<rustls::ClientConfig, Error> {
    let fault = |path: &Path, source: BoxError| Error::Tls {
        address: address.to_owned(),
        path: path.to_path_buf(),
        source,
    };
    let mut roots = rustls::RootCertStore::empty();
    for ca in certificates(&files.ca).map_err(|e| fault(&files.ca, e))? {
        roots.add(ca).map_err(|e| fault(&files.ca, e.into()))?;
    }
    let chain = certificates(&files.cert).map_err(|e| fault(&files.cert, e))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| fault(&files.key, found(e, "PEM private key")))?;
    crate::tls::use_ring();
    // Fails when the key is not one the provider can use, or not the certificate's.
    rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| fault(&files.key, e.into()))
}

/// The certificates of the PEM file at `path`, at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, BoxError> {
    let certificates = CertificateDer::pem_file_iter(path)?.collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err(found(pem::Error::NoItemsFound, "PEM certificate"));
    }
    Ok(certificates)
}

/// A PEM error, naming what was looked for (`kind`) when none was found.
fn found(error: pem::Error, kind: &str) -> BoxError {
    match error {
        pem::Error::NoItemsFound => format!("the file holds no {kind}").into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tls_files_are_named() {
        let files = TlsFiles {
            ca: "/nonexistent/ca.pem".into(),
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let err = tls_config("https://h:2376", &files).expect_err("no files");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
