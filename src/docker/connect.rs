//! Building the Docker client: the one place that turns an address (the `--docker-address` flag,
//! or `DOCKER_HOST`/`DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` like the docker CLI, or a config
//! file's `[docker]` table, whose TLS settings take precedence over the variables) into the
//! [`RawClient`](super::raw::RawClient) every call to the daemon goes through.
//!
//! The decision (which transport, which files) is a pure function, [`plan`], of the address and
//! a snapshot of the environment ([`Env`]), so it is unit-tested without a daemon; [`connect`]
//! only carries out the plan (in `client`).
//!
//! Accepted addresses:
//!
//! | address | transport |
//! |---|---|
//! | none | `DOCKER_HOST` if set and non-empty, else `unix:///var/run/docker.sock` |
//! | `unix:///PATH`, or a bare `/PATH` | the unix socket at `PATH` |
//! | `tcp://HOST[:PORT]`, or a bare `HOST:PORT` | plain HTTP, or TLS when `DOCKER_TLS_VERIFY` is set (not empty, not `0`); default port 2375, 2376 with TLS |
//! | `http://HOST[:PORT]` | plain HTTP (default port 2375) |
//! | `https://HOST[:PORT]` | TLS (default port 2376) |
//!
//! TLS uses the docker CLI's files `ca.pem`, `cert.pem` and `key.pem` in `DOCKER_CERT_PATH`
//! (default `~/.docker`); all three must exist.
//!
//! The client's request timeout ([`REQUEST_TIMEOUT`]) bounds a whole answer, but only the wait
//! for the headers of the event stream, whose body is read for as long as the daemon sends it.
//!
//! A new client does not know the daemon's API version: it speaks the newest pygen knows, which
//! older daemons refuse. [`connect_negotiated`] asks the daemon once and steps the client down.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::OnceLock;

mod client;

pub use client::{build, connect, connect_negotiated, unreachable};

/// The address used when neither the caller nor `DOCKER_HOST` names one.
pub const DEFAULT_ADDRESS: &str = "unix:///var/run/docker.sock";

/// How long a request may wait for the daemon's answer (the headers only, for the event
/// stream). The docker CLI's habit of two minutes: long enough for a slow `docker rm -f` under
/// load, short enough that a hung daemon is noticed. Streamed bodies (events) are not bounded by
/// it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Default port of a plain-HTTP daemon, as the docker CLI uses it.
const DEFAULT_HTTP_PORT: u16 = 2375;

/// Default port of a TLS daemon, as the docker CLI uses it.
const DEFAULT_TLS_PORT: u16 = 2376;

/// What can go wrong while building the client.
///
/// Every variant names the address it concerns. [`Error::Client`] with a missing socket is
/// recoverable by retrying later (the daemon may come back); the others are configuration
/// mistakes that retrying does not fix. [`Error::Negotiate`] means the daemon did not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address has a scheme other than `unix`, `tcp`, `http` or `https`.
    #[error(
        "Docker address {address:?}: unsupported scheme {scheme:?} (use unix://, tcp://, http:// or https://)"
    )]
    UnsupportedScheme {
        /// The address as given.
        address: String,
        /// The scheme found before `://`.
        scheme: String,
    },
    /// The address has a known scheme but cannot be used (empty path, bad port, ...).
    #[error("Docker address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it, for the user.
        reason: String,
    },
    /// TLS is needed but there is no folder to take the certificates from.
    #[error(
        "Docker address {address:?} needs TLS certificates, but neither DOCKER_CERT_PATH nor HOME is set"
    )]
    NoCertPath {
        /// The address as given.
        address: String,
    },
    /// A TLS certificate or key file cannot be read.
    #[error("Docker address {address:?} needs TLS, but cannot read the {role} file {path}")]
    CertFile {
        /// The address as given.
        address: String,
        /// Which file this is: "CA certificate", "client certificate" or "client key".
        role: &'static str,
        /// The file that could not be read.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The client could not be built (certificates that cannot be used, ...).
    #[error("cannot connect to Docker at {address:?}")]
    Client {
        /// The address as given.
        address: String,
        /// The client's reason.
        #[source]
        source: Box<super::raw::Error>,
    },
    /// The daemon cannot be reached for a usual reason, said plainly: nothing listens at the
    /// address, the socket does not exist, or the user may not open it.
    #[error("{reason}")]
    Unreachable {
        /// The address as given.
        address: String,
        /// What is wrong, for the user (`nothing listens at tcp://127.0.0.1:1: connection
        /// refused`, `no such socket /x/docker.sock`, ...).
        reason: String,
    },
    /// The daemon did not answer the version request made to negotiate the API version, for
    /// another reason than [`Error::Unreachable`]: it answered something that is not Docker's
    /// answer, or the connection failed in an unusual way.
    #[error("Docker at {address:?} did not answer the API version request")]
    Negotiate {
        /// The address as given.
        address: String,
        /// The request's reason.
        #[source]
        source: Box<super::raw::Error>,
    },
}

impl crate::report::Blame for Error {
    /// An address, a scheme or TLS files that cannot work are the user's input; a daemon that
    /// does not answer is the world.
    fn fault(&self) -> crate::report::Fault {
        use crate::report::Fault;
        match self {
            Error::UnsupportedScheme { .. }
            | Error::InvalidAddress { .. }
            | Error::NoCertPath { .. }
            | Error::CertFile { .. } => Fault::Input,
            Error::Client { .. } | Error::Unreachable { .. } | Error::Negotiate { .. } => {
                Fault::World
            }
        }
    }
}

/// The environment variables that choose the connection, read once so that [`plan`] stays pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `DOCKER_HOST`: the address used when the caller gives none.
    pub docker_host: Option<String>,
    /// `DOCKER_TLS_VERIFY`: turns `tcp://` into TLS when set, non-empty and not `0`.
    pub tls_verify: Option<String>,
    /// `DOCKER_CERT_PATH`: the folder holding `ca.pem`, `cert.pem` and `key.pem`.
    pub cert_path: Option<String>,
    /// `HOME`: the certificate folder defaults to `$HOME/.docker`.
    pub home: Option<PathBuf>,
}

impl Env {
    /// Reads the variables from the process environment, then applies the TLS settings
    /// installed by [`install_tls_settings`] (a config file's `[docker]` table), which take
    /// precedence. A variable that is not valid UTF-8 counts as unset.
    pub fn from_process() -> Self {
        let env = Self {
            docker_host: std::env::var("DOCKER_HOST").ok(),
            tls_verify: std::env::var("DOCKER_TLS_VERIFY").ok(),
            cert_path: std::env::var("DOCKER_CERT_PATH").ok(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        };
        match TLS_SETTINGS.get() {
            Some(tls) => env.with_tls(tls),
            None => env,
        }
    }

    /// This environment with `tls` over it: each setting `tls` gives replaces the variable's
    /// value, the others stay.
    pub fn with_tls(mut self, tls: &TlsSettings) -> Self {
        if let Some(verify) = tls.verify {
            self.tls_verify = Some(if verify { "1" } else { "0" }.to_owned());
        }
        if let Some(path) = &tls.cert_path {
            self.cert_path = Some(path.clone());
        }
        self
    }

    /// Whether `DOCKER_TLS_VERIFY` asks for TLS, as the docker CLI reads it.
    fn wants_tls(&self) -> bool {
        self.tls_verify
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "0")
    }
}

/// TLS settings that take precedence over `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (the
/// `[docker]` table of pygen's config file). `None` leaves the variable in charge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// Whether `tcp://` addresses use TLS, as `DOCKER_TLS_VERIFY` set (true) or unset (false).
    pub verify: Option<bool>,
    /// The folder holding `ca.pem`, `cert.pem` and `key.pem`, as `DOCKER_CERT_PATH`.
    pub cert_path: Option<String>,
}

impl TlsSettings {
    /// Whether no setting is given (the environment decides alone).
    pub fn is_empty(&self) -> bool {
        self.verify.is_none() && self.cert_path.is_none()
    }
}

/// The process-wide TLS settings of [`Env::from_process`]: set once at startup, before any
/// connection, by [`install_tls_settings`]. A global because the connection is planned in
/// several places (the watch, the raw client, one-shot) that all read the environment the
/// same way; the settings are part of that environment.
static TLS_SETTINGS: OnceLock<TlsSettings> = OnceLock::new();

/// Installs the TLS settings every later [`Env::from_process`] applies. Only the first call
/// counts (settings do not change while pygen runs); returns false when settings were already
/// installed and differ from `tls`, so the caller can say that a restart is needed.
pub fn install_tls_settings(tls: TlsSettings) -> bool {
    *TLS_SETTINGS.get_or_init(|| tls.clone()) == tls
}

/// The files a TLS connection authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `ca.pem`: the certificate authority the daemon's certificate must chain to.
    pub ca: PathBuf,
    /// `cert.pem`: the client certificate shown to the daemon.
    pub cert: PathBuf,
    /// `key.pem`: the client certificate's private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The docker CLI's file names inside `dir`.
    fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    /// Each file with the role the error message gives it.
    fn with_roles(&self) -> [(&'static str, &Path); 3] {
        [
            ("CA certificate", &self.ca),
            ("client certificate", &self.cert),
            ("client key", &self.key),
        ]
    }
}

/// How to reach the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A unix socket on this host.
    Unix {
        /// The socket file.
        path: PathBuf,
    },
    /// Plain HTTP over TCP.
    Http {
        /// `host:port` (IPv6 hosts in brackets).
        authority: String,
    },
    /// HTTPS with client certificates.
    Tls {
        /// `host:port` (IPv6 hosts in brackets).
        authority: String,
        /// The certificate and key files.
        files: TlsFiles,
    },
}

/// The outcome of [`plan`]: the address that was chosen and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The address as given or taken from the environment, for messages.
    pub address: String,
    /// The transport the client will use.
    pub transport: Transport,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Unix { path } => write!(f, "unix://{}", path.display()),
            Transport::Http { authority } => write!(f, "http://{authority}"),
            Transport::Tls { authority, .. } => write!(f, "https://{authority}"),
        }
    }
}

/// Chooses the endpoint for `address` (or, when it is `None`, for `DOCKER_HOST` or the default
/// socket), without touching the file system or the network.
pub fn plan(address: Option<&str>, env: &Env) -> Result<Endpoint, Error> {
    let address = match address {
        Some(a) => a.trim().to_owned(),
        None => env
            .docker_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .unwrap_or(DEFAULT_ADDRESS)
            .to_owned(),
    };
    if address.is_empty() {
        return Err(invalid(&address, "the address is empty"));
    }
    let (scheme, rest) = match address.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        // A bare path is a socket, a bare host:port is TCP, as docker-gen and docker-py take them.
        None if address.starts_with('/') => ("unix".to_owned(), address.as_str()),
        None => ("tcp".to_owned(), address.as_str()),
    };
    let transport = match scheme.as_str() {
        "unix" => {
            if rest.is_empty() {
                return Err(invalid(&address, "the socket path is empty"));
            }
            Transport::Unix {
                path: PathBuf::from(rest),
            }
        }
        "tcp" if env.wants_tls() => tls(&address, rest, env)?,
        "tcp" | "http" => Transport::Http {
            authority: authority(&address, rest, DEFAULT_HTTP_PORT)?,
        },
        "https" => tls(&address, rest, env)?,
        _ => {
            return Err(Error::UnsupportedScheme {
                scheme,
                address: address.clone(),
            });
        }
    };
    Ok(Endpoint { address, transport })
}

/// The TLS transport for the part of `address` after the scheme.
fn tls(address: &str, rest: &str, env: &Env) -> Result<Transport, Error> {
    let authority = authority(address, rest, DEFAULT_TLS_PORT)?;
    let dir = match env.cert_path.as_deref().filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => env
            .home
            .as_ref()
            .map(|home| home.join(".docker"))
            .ok_or_else(|| Error::NoCertPath {
                address: address.to_owned(),
            })?,
    };
    Ok(Transport::Tls {
        authority,
        files: TlsFiles::in_dir(&dir),
    })
}

/// Checks `host[:port][/]` and returns `host:port`, adding `default_port` when none is given.
fn authority(address: &str, rest: &str, default_port: u16) -> Result<String, Error> {
    let hostport = rest.strip_suffix('/').unwrap_or(rest);
    if hostport.contains('/') {
        return Err(invalid(address, "a path after host:port is not supported"));
    }
    if hostport.contains('@') {
        return Err(invalid(address, "user credentials are not supported"));
    }
    // An IPv6 host is written in brackets; its colons are not the port separator.
    let (host, port) = if let Some(after_bracket) = hostport.strip_prefix('[') {
        let Some((inside, after)) = after_bracket.split_once(']') else {
            return Err(invalid(address, "an IPv6 host lacks its closing ']'"));
        };
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| {
                invalid(address, "expected ':PORT' after the bracketed IPv6 host")
            })?),
        };
        (format!("[{inside}]"), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (hostport.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(invalid(address, "the host is empty"));
    }
    if host.contains(':') && !host.starts_with('[') {
        return Err(invalid(
            address,
            "write an IPv6 host in brackets: [HOST]:PORT",
        ));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 => n,
            _ => {
                return Err(invalid(
                    address,
                    &format!("the port {p:?} is not a number from 1 to 65535"),
                ));
            }
        },
    };
    Ok(format!("{host}:{port}"))
}

/// Shorthand for [`Error::InvalidAddress`].
fn invalid(address: &str, reason: &str) -> Error {
    Error::InvalidAddress {
        address: address.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn env() -> Env {
        Env {
            home: Some(PathBuf::from("/home/u")),
            ..Env::default()
        }
    }

    fn transport(address: Option<&str>, env: &Env) -> Transport {
        match plan(address, env) {
            Ok(endpoint) => endpoint.transport,
            Err(e) => panic!("plan({address:?}) failed: {e}"),
        }
    }

    fn error(address: Option<&str>, env: &Env) -> String {
        match plan(address, env) {
            Ok(endpoint) => panic!("plan({address:?}) gave {endpoint:?}, expected an error"),
            Err(e) => e.to_string(),
        }
    }

    fn unix(path: &str) -> Transport {
        Transport::Unix {
            path: PathBuf::from(path),
        }
    }

    fn http(authority: &str) -> Transport {
        Transport::Http {
            authority: authority.to_owned(),
        }
    }

    fn tls(authority: &str, dir: &str) -> Transport {
        Transport::Tls {
            authority: authority.to_owned(),
            files: TlsFiles::in_dir(Path::new(dir)),
        }
    }

    #[test]
    fn no_address_and_no_docker_host_is_the_default_socket() {
        let endpoint = plan(None, &env()).unwrap();
        assert_eq!(endpoint.address, DEFAULT_ADDRESS);
        assert_eq!(endpoint.transport, unix("/var/run/docker.sock"));
    }

    #[test]
    fn docker_host_is_used_when_no_address_is_given() {
        let env = Env {
            docker_host: Some("tcp://10.0.0.1:2375".into()),
            ..env()
        };
        assert_eq!(transport(None, &env), http("10.0.0.1:2375"));
    }

    #[test]
    fn an_empty_docker_host_counts_as_unset() {
        let env = Env {
            docker_host: Some("  ".into()),
            ..env()
        };
        assert_eq!(transport(None, &env), unix("/var/run/docker.sock"));
    }

    #[test]
    fn an_explicit_address_wins_over_docker_host() {
        let env = Env {
            docker_host: Some("tcp://10.0.0.1:2375".into()),
            ..env()
        };
        assert_eq!(
            transport(Some("unix:///tmp/d.sock"), &env),
            unix("/tmp/d.sock")
        );
    }

    #[test]
    fn unix_addresses_and_bare_paths() {
        assert_eq!(
            transport(Some("unix:///run/docker.sock"), &env()),
            unix("/run/docker.sock")
        );
        assert_eq!(
            transport(Some("/run/docker.sock"), &env()),
            unix("/run/docker.sock")
        );
        assert!(error(Some("unix://"), &env()).contains("socket path is empty"));
    }

    #[test]
    fn tcp_is_plain_http_without_tls_verify() {
        assert_eq!(
            transport(Some("tcp://docker.local:2375"), &env()),
            http("docker.local:2375")
        );
        assert_eq!(
            transport(Some("tcp://docker.local:2375/"), &env()),
            http("docker.local:2375")
        );
        assert_eq!(
            transport(Some("http://docker.local"), &env()),
            http("docker.local:2375")
        );
        assert_eq!(
            transport(Some("docker.local:4243"), &env()),
            http("docker.local:4243")
        );
    }

    #[test]
    fn tls_verify_turns_tcp_into_tls_with_the_cert_path() {
        let env = Env {
            tls_verify: Some("1".into()),
            cert_path: Some("/certs".into()),
            ..env()
        };
        assert_eq!(
            transport(Some("tcp://docker.local:2376"), &env),
            tls("docker.local:2376", "/certs")
        );
        // Without a port, TLS defaults to the docker CLI's TLS port.
        assert_eq!(
            transport(Some("tcp://docker.local"), &env),
            tls("docker.local:2376", "/certs")
        );
        // An explicit http:// stays plain, an explicit https:// is always TLS.
        assert_eq!(
            transport(Some("http://docker.local:2375"), &env),
            http("docker.local:2375")
        );
    }

    #[test]
    fn tls_verify_empty_or_zero_means_no_tls() {
        for value in ["", "0"] {
            let env = Env {
                tls_verify: Some(value.into()),
                ..env()
            };
            assert_eq!(
                transport(Some("tcp://h:2375"), &env),
                http("h:2375"),
                "DOCKER_TLS_VERIFY={value:?}"
            );
        }
    }

    #[test]
    fn https_uses_home_docker_when_no_cert_path() {
        assert_eq!(
            transport(Some("https://h:2376"), &env()),
            tls("h:2376", "/home/u/.docker")
        );
        let empty_cert_path = Env {
            cert_path: Some(String::new()),
            ..env()
        };
        assert_eq!(
            transport(Some("https://h"), &empty_cert_path),
            tls("h:2376", "/home/u/.docker")
        );
    }

    #[test]
    fn tls_settings_take_precedence_over_the_environment() {
        let from_env = Env {
            tls_verify: Some("1".into()),
            cert_path: Some("/env-certs".into()),
            ..env()
        };
        let off = from_env.clone().with_tls(&TlsSettings {
            verify: Some(false),
            cert_path: None,
        });
        assert_eq!(transport(Some("tcp://h:2375"), &off), http("h:2375"));
        let other_folder = from_env.with_tls(&TlsSettings {
            verify: None,
            cert_path: Some("/file-certs".into()),
        });
        assert_eq!(
            transport(Some("tcp://h"), &other_folder),
            tls("h:2376", "/file-certs")
        );
        let on = env().with_tls(&TlsSettings {
            verify: Some(true),
            cert_path: Some("/c".into()),
        });
        assert_eq!(transport(Some("tcp://h"), &on), tls("h:2376", "/c"));
        // No setting: the environment alone decides.
        assert_eq!(env().with_tls(&TlsSettings::default()), env());
    }

    #[test]
    fn https_without_cert_path_or_home_is_an_error() {
        let message = error(Some("https://h:2376"), &Env::default());
        assert!(message.contains("DOCKER_CERT_PATH"), "{message}");
        assert!(message.contains("https://h:2376"), "{message}");
    }

    #[test]
    fn ipv6_hosts_in_brackets() {
        assert_eq!(
            transport(Some("tcp://[::1]:2375"), &env()),
            http("[::1]:2375")
        );
        assert_eq!(transport(Some("tcp://[::1]"), &env()), http("[::1]:2375"));
        assert!(error(Some("tcp://::1:2375"), &env()).contains("brackets"));
        assert!(error(Some("tcp://[::1:2375"), &env()).contains("closing"));
        assert!(error(Some("tcp://[::1]2375"), &env()).contains("':PORT'"));
    }

    #[test]
    fn unsupported_schemes_name_the_scheme_and_address() {
        let message = error(Some("ssh://user@host"), &env());
        assert!(message.contains("\"ssh\""), "{message}");
        assert!(message.contains("ssh://user@host"), "{message}");
        assert!(error(Some("npipe:////./pipe/docker"), &env()).contains("unsupported scheme"));
    }

    #[test]
    fn an_address_that_cannot_work_is_the_user_s_input() {
        use crate::report::{Blame, Fault};
        let address = plan(Some("ftp://x"), &Env::default()).expect_err("an unsupported scheme");
        assert_eq!(address.fault(), Fault::Input);
    }

    #[test]
    fn bad_hosts_and_ports_are_errors() {
        assert!(error(Some(""), &env()).contains("empty"));
        assert!(error(Some("tcp://"), &env()).contains("host is empty"));
        assert!(error(Some("tcp://:2375"), &env()).contains("host is empty"));
        assert!(error(Some("tcp://h:port"), &env()).contains("\"port\""));
        assert!(error(Some("tcp://h:0"), &env()).contains("1 to 65535"));
        assert!(error(Some("tcp://h:70000"), &env()).contains("1 to 65535"));
        assert!(error(Some("tcp://h:2375/v1.41"), &env()).contains("path"));
        assert!(error(Some("tcp://u:p@h:2375"), &env()).contains("credentials"));
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(transport(Some("TCP://h:1"), &env()), http("h:1"));
    }

    #[test]
    fn endpoint_display_shows_the_resolved_url() {
        let endpoint = plan(Some("h:2375"), &env()).unwrap();
        assert_eq!(endpoint.to_string(), "http://h:2375");
        let endpoint = plan(Some("/s"), &env()).unwrap();
        assert_eq!(endpoint.to_string(), "unix:///s");
    }
}
