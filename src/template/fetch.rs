//! Downloading a template from an `http://` or `https://` URL.
//!
//! TLS uses rustls with the ring provider (the one the Docker client uses too; rustls wants
//! exactly one per process). Certificates are checked by the platform verifier reqwest
//! uses by default, which on Linux reads the system CA store (`/etc/ssl/certs`, or the files
//! named by `SSL_CERT_FILE`/`SSL_CERT_DIR`): an image without a CA store needs one copied
//! in or named that way. `--no-ssl-check` really turns checking off (it was a no-op in
//! docker-pygen, B1).

use std::error::Error as _;
use std::time::Duration;

use super::{Error, LoadOptions};

/// Fetches `url` and returns its body as text.
pub(crate) async fn fetch(url: &str, options: &LoadOptions) -> Result<String, Error> {
    crate::tls::use_ring();
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .tls_danger_accept_invalid_certs(options.no_ssl_check)
        .build()
        .map_err(|source| Error::Client { source })?;
    let fetch_error = |source: reqwest::Error| Error::Fetch {
        url: url.to_owned(),
        reason: reason(&source, options.timeout),
        source,
    };
    let response = client.get(url).send().await.map_err(fetch_error)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Status {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    response.text().await.map_err(fetch_error)
}

/// A short cause for the error message: the timeout, or the chain of causes below
/// reqwest's own message (which only repeats the URL).
fn reason(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timed out after {timeout:?}");
    }
    let mut causes = Vec::new();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // hyper and reqwest sometimes nest the same message; keep it once.
        if causes.last() != Some(&text) {
            causes.push(text);
        }
        next = cause.source();
    }
    if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    }
}
