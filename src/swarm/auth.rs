//! Authentication of manager-worker requests with a shared secret.
//!
//! docker-pygen's endpoints took any request from anyone who could reach them (weaknesses
//! B.3, B.4). pygen signs every request with HMAC-SHA256 over the role of the endpoint it is
//! meant for, the destination as the sender addressed it, its method, path, timestamp, nonce
//! and body. The receiver checks the signature in constant time, refuses a request meant for
//! the other role or another destination (so a request captured on its way to one worker does
//! not run on another, nor on the manager), refuses timestamps more than [`MAX_SKEW`] away from
//! its clock or earlier than its own start (less [`START_SKEW`]: the nonce memory does not
//! survive a restart, so a request from before the start could be a replay), and refuses a
//! nonce it has already seen. The wire format is in the README (section "Wire format"):
//!
//! ```text
//! Host: <destination: HOST:PORT as the sender addressed it>
//! X-Pygen-Timestamp: <seconds since the epoch>
//! X-Pygen-Nonce: <32 lowercase hex digits, random>
//! X-Pygen-Signature: <64 lowercase hex digits>
//!   = hex(HMAC-SHA256(secret, "pygen-swarm-v2\n" ROLE "\n" DESTINATION "\n" METHOD "\n"
//!                             PATH "\n" TIMESTAMP "\n" NONCE "\n" BODY))
//! ```
//!
//! ROLE is `manager` or `worker`, the endpoint the request is for. Secrets shorter than
//! [`MIN_SECRET_LEN`] bytes are refused. Running without a secret needs `--insecure-no-auth`,
//! logged as a warning.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::Role;
use crate::config::SwarmAuth;

/// Environment variable holding the shared secret when no file is given.
pub const SECRET_ENV: &str = "PYGEN_SWARM_SECRET";

/// Header holding the request time, in seconds since the epoch.
pub const TIMESTAMP_HEADER: &str = "x-pygen-timestamp";
/// Header holding the request's random nonce.
pub const NONCE_HEADER: &str = "x-pygen-nonce";
/// Header holding the request's signature.
pub const SIGNATURE_HEADER: &str = "x-pygen-signature";

/// First line of every signed message: names the scheme, so a signature of this protocol is
/// never valid for anything else made with the same secret.
const SCHEME: &str = "pygen-swarm-v2";

/// How far a request's timestamp may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(60);

/// How much earlier than the receiver's start a request may be signed: the clocks of two hosts
/// differ a little, and a request sent just before a restart is retried after it.
pub const START_SKEW: Duration = Duration::from_secs(5);

/// Shortest secret accepted, in bytes after trimming surrounding whitespace: a short secret
/// can be guessed offline from one captured request.
pub const MIN_SECRET_LEN: usize = 16;

/// How many nonces the receiver remembers at most. Only requests with a valid signature are
/// remembered, so only a holder of the secret can fill this; when it is full, new requests are
/// refused until old nonces expire rather than forgetting a nonce that could be replayed.
pub const MAX_NONCES: usize = 100_000;

/// Length of a nonce in bytes (hex-encoded on the wire).
const NONCE_BYTES: usize = 16;

/// Errors of setting up authentication. All are configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither a secret nor `--insecure-no-auth` was given.
    #[error(
        "{role}: a shared secret is required: give --swarm-secret-file FILE (e.g. a Docker \
         secret) or set {SECRET_ENV}; --insecure-no-auth runs without authentication (not secure)"
    )]
    NoSecret {
        /// Which endpoint needs it: `--swarm-manager` or `worker`.
        role: &'static str,
    },
    /// The secret file could not be read.
    #[error("--swarm-secret-file {path}: cannot read it")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The secret is empty (or only whitespace).
    #[error("the shared secret from {origin} is empty")]
    Empty {
        /// Where it came from: the file or the variable.
        origin: String,
    },
    /// The secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error(
        "the shared secret from {origin} is {len} bytes long; at least {MIN_SECRET_LEN} are \
         required (e.g. `openssl rand -hex 32`)"
    )]
    TooShort {
        /// Where it came from: the file or the variable.
        origin: String,
        /// Its length after trimming.
        len: usize,
    },
}

/// Why a request was refused. Each maps to a 4xx status; the request ran nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A header is missing or malformed.
    #[error("missing or malformed authentication headers")]
    Unsigned,
    /// The signature does not match.
    #[error("bad signature")]
    Forged,
    /// The timestamp is too far from the receiver's clock, or earlier than its start.
    #[error("timestamp too far from the receiver's clock, or earlier than its start")]
    Stale,
    /// Signed for the other role, or for another destination than this endpoint.
    #[error("request meant for another endpoint")]
    Misdirected,
    /// The nonce was seen before.
    #[error("request already seen (replay)")]
    Replayed,
    /// The nonce memory is full.
    #[error("too many requests in the replay window")]
    Busy,
}

impl Rejection {
    /// The reason as the `reason` label of `pygen_swarm_requests_refused_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Unsigned => "unsigned",
            Rejection::Forged => "forged",
            Rejection::Stale => "stale",
            Rejection::Misdirected => "misdirected",
            Rejection::Replayed => "replayed",
            Rejection::Busy => "busy",
        }
    }
}

/// How requests are authenticated: with a secret, or (explicitly) not at all.
#[derive(Debug)]
pub enum Auth {
    /// Sign and check every request.
    Secret(Box<Keyring>),
    /// `--insecure-no-auth`: send unsigned requests and accept any.
    Insecure,
}

/// The signing key and the memory of nonces seen.
pub struct Keyring {
    /// The HMAC-SHA256 key made from the secret.
    key: hmac::Key,
    /// Nonces of accepted requests, within the replay window.
    seen: Mutex<SeenNonces>,
    /// Source of nonces.
    random: SystemRandom,
    /// When this process started checking (seconds since the epoch): earlier requests may be
    /// replays the nonce memory, new with the process, cannot recognise.
    started: u64,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring { .. }")
    }
}

/// Accepted nonces, each forgotten once a replay of its request would be stale anyway.
#[derive(Debug, Default)]
struct SeenNonces {
    /// The nonces, for lookups.
    set: HashSet<String>,
    /// The nonces with the time they may be forgotten, in acceptance order (which is also
    /// expiry order, since every entry lives equally long).
    order: VecDeque<(u64, String)>,
}

impl SeenNonces {
    /// Records `nonce` accepted at `now`; refuses one already there, or a full memory.
    fn admit(&mut self, nonce: &str, now: u64) -> Result<(), Rejection> {
        while let Some((expiry, _)) = self.order.front() {
            if *expiry > now {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        if self.set.contains(nonce) {
            return Err(Rejection::Replayed);
        }
        if self.set.len() >= MAX_NONCES {
            return Err(Rejection::Busy);
        }
        // A request is accepted within MAX_SKEW of its timestamp, so a replay is refused as
        // stale at the latest 2 × MAX_SKEW after the first acceptance.
        let expiry = now + 2 * MAX_SKEW.as_secs() + 1;
        self.set.insert(nonce.to_owned());
        self.order.push_back((expiry, nonce.to_owned()));
        Ok(())
    }
}

/// The three authentication headers of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `X-Pygen-Timestamp`.
    pub timestamp: String,
    /// `X-Pygen-Nonce`.
    pub nonce: String,
    /// `X-Pygen-Signature`.
    pub signature: String,
}

/// What a signature covers besides its own headers: the request as the sender addressed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The endpoint the request is for.
    pub role: Role,
    /// `HOST:PORT` as the sender addressed it (the `Host` header).
    pub destination: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The path and query.
    pub path: &'a str,
    /// The body.
    pub body: &'a [u8],
}

impl Auth {
    /// Sets up authentication from the flags and the environment; `role` names the endpoint in
    /// messages. A secret file wins over [`SECRET_ENV`]; `--insecure-no-auth` wins over the
    /// variable (the caller warns about it).
    pub fn from_config(auth: &SwarmAuth, role: &'static str) -> Result<Auth, Error> {
        Auth::resolve(auth, std::env::var(SECRET_ENV).ok(), role)
    }

    /// [`Auth::from_config`] with the variable's value given.
    fn resolve(auth: &SwarmAuth, env: Option<String>, role: &'static str) -> Result<Auth, Error> {
        match auth {
            SwarmAuth::SecretFile(path) => {
                let bytes = std::fs::read(path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                let auth = Auth::from_secret(&bytes, &origin_of(path))?;
                if let Some(warning) = loose_permissions(path) {
                    tracing::warn!("{warning}");
                }
                Ok(auth)
            }
            SwarmAuth::InsecureNoAuth => Ok(Auth::Insecure),
            SwarmAuth::Unconfigured => match env {
                Some(value) => Auth::from_secret(value.as_bytes(), SECRET_ENV),
                None => Err(Error::NoSecret { role }),
            },
        }
    }

    /// Authentication with `secret`; surrounding whitespace (the newline `echo` adds when a
    /// Docker secret is made) is not part of it. It must be [`MIN_SECRET_LEN`] bytes at least.
    /// Requests signed before now (less [`START_SKEW`]) will be refused.
    pub fn from_secret(secret: &[u8], origin: &str) -> Result<Auth, Error> {
        let secret = secret.trim_ascii();
        if secret.is_empty() {
            return Err(Error::Empty {
                origin: origin.to_owned(),
            });
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(Error::TooShort {
                origin: origin.to_owned(),
                len: secret.len(),
            });
        }
        Ok(Auth::Secret(Box::new(Keyring {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            seen: Mutex::default(),
            random: SystemRandom::new(),
            started: unix_now(),
        })))
    }

    /// Whether requests are signed and checked.
    pub fn is_secure(&self) -> bool {
        matches!(self, Auth::Secret(_))
    }

    /// The headers for a request, `None` without a secret.
    pub fn sign(&self, request: &Signed<'_>) -> Option<Signature> {
        let Auth::Secret(keyring) = self else {
            return None;
        };
        let mut nonce = [0u8; NONCE_BYTES];
        // The system's random source does not fail on Linux once booted; should it ever, the
        // zero nonce is still unique per second only, and a collision is refused as a replay.
        let _ = keyring.random.fill(&mut nonce);
        Some(keyring.sign_at(request, unix_now(), &hex(&nonce)))
    }

    /// Checks a request's headers against what it says; `addressed_here` tells whether its
    /// destination names this endpoint (reported as [`Rejection::Misdirected`] only once the
    /// signature is known to be good).
    pub fn verify(
        &self,
        request: &Signed<'_>,
        headers: Option<(&str, &str, &str)>,
        addressed_here: bool,
    ) -> Result<(), Rejection> {
        match self {
            Auth::Insecure => Ok(()),
            Auth::Secret(keyring) => {
                keyring.verify_at(request, headers, addressed_here, unix_now())
            }
        }
    }
}

/// How a secret file is named in messages.
fn origin_of(path: &Path) -> String {
    format!("--swarm-secret-file {}", path.display())
}

/// A warning when the secret file at `path` can be read by its group or by others.
pub fn loose_permissions(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "--swarm-secret-file {}: the secret is readable by {} (mode {:o}); \
             `chmod 600` it (or 400)",
            path.display(),
            match (mode & 0o040 != 0, mode & 0o004 != 0) {
                (true, true) => "its group and every user",
                (true, false) => "its group",
                _ => "every user",
            },
            mode & 0o777
        )
    })
}

impl Keyring {
    /// Signs with the given time and nonce.
    fn sign_at(&self, request: &Signed<'_>, now: u64, nonce: &str) -> Signature {
        let timestamp = now.to_string();
        let tag = hmac::sign(&self.key, &message(request, &timestamp, nonce));
        Signature {
            timestamp,
            nonce: nonce.to_owned(),
            signature: hex(tag.as_ref()),
        }
    }

    /// Checks a request at time `now`: headers well formed, signature valid (checked before
    /// anything that depends on the sender's honesty), meant for this endpoint, timestamp
    /// fresh and not before the start, nonce new.
    fn verify_at(
        &self,
        request: &Signed<'_>,
        headers: Option<(&str, &str, &str)>,
        addressed_here: bool,
        now: u64,
    ) -> Result<(), Rejection> {
        let (timestamp, nonce, signature) = headers.ok_or(Rejection::Unsigned)?;
        let sent: u64 = timestamp
            .parse()
            .ok()
            .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(Rejection::Unsigned)?;
        if nonce.len() != 2 * NONCE_BYTES || unhex(nonce).is_none() {
            return Err(Rejection::Unsigned);
        }
        let tag = unhex(signature).ok_or(Rejection::Unsigned)?;
        if hmac::verify(&self.key, &message(request, timestamp, nonce), &tag).is_err() {
            // Signed with the secret, but for the other role: say so, it helps the operator.
            let other = Signed {
                role: request.role.other(),
                ..*request
            };
            return match hmac::verify(&self.key, &message(&other, timestamp, nonce), &tag) {
                Ok(()) => Err(Rejection::Misdirected),
                Err(_) => Err(Rejection::Forged),
            };
        }
        if !addressed_here {
            return Err(Rejection::Misdirected);
        }
        if sent.abs_diff(now) > MAX_SKEW.as_secs() || sent + START_SKEW.as_secs() < self.started {
            return Err(Rejection::Stale);
        }
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(nonce, now)
    }
}

/// The signed message.
fn message(request: &Signed<'_>, timestamp: &str, nonce: &str) -> Vec<u8> {
    let head = format!(
        "{SCHEME}\n{}\n{}\n{}\n{}\n{timestamp}\n{nonce}\n",
        request.role.as_str(),
        request.destination,
        request.method,
        request.path
    );
    let mut message = Vec::with_capacity(head.len() + request.body.len());
    message.extend_from_slice(head.as_bytes());
    message.extend_from_slice(request.body);
    message
}

/// Seconds since the epoch (0 if the clock is before it).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Bytes of a hex string (either case); `None` for anything else.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret long enough to be accepted.
    const SECRET: &str = "0123456789abcdef-s3cret";

    /// A keyring that started at `started`.
    fn keyring_at(secret: &str, started: u64) -> Keyring {
        match Auth::from_secret(secret.as_bytes(), "test").expect("a secret") {
            Auth::Secret(mut k) => {
                k.started = started;
                *k
            }
            Auth::Insecure => unreachable!("from_secret gives a keyring"),
        }
    }

    fn keyring(secret: &str) -> Keyring {
        keyring_at(secret, 1_600_000_000)
    }

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn headers(s: &Signature) -> Option<(&str, &str, &str)> {
        Some((&s.timestamp, &s.nonce, &s.signature))
    }

    /// A request to the worker at 10.0.0.5:9412.
    fn to_worker(body: &[u8]) -> Signed<'_> {
        Signed {
            role: Role::Worker,
            destination: "10.0.0.5:9412",
            method: "POST",
            path: "/",
            body,
        }
    }

    #[test]
    fn known_answer() {
        // Checked with: printf 'pygen-swarm-v2\nworker\n10.0.0.5:9412\nPOST\n/\n1700000000\n<NONCE>\n{}' |
        //   openssl dgst -sha256 -hmac 0123456789abcdef-s3cret
        let k = keyring(SECRET);
        let s = k.sign_at(&to_worker(b"{}"), 1_700_000_000, NONCE);
        assert_eq!(s.timestamp, "1700000000");
        assert_eq!(s.nonce, NONCE);
        assert_eq!(
            s.signature,
            "ceccbeaead09ac045175ad6c9fc59092c3052b62df4b0d0dc6920d5465945ab1"
        );
    }

    #[test]
    fn signed_requests_pass_once() {
        let k = keyring(SECRET);
        let now = 1_700_000_000;
        let r = to_worker(b"body");
        let s = k.sign_at(&r, now, NONCE);
        assert_eq!(k.verify_at(&r, headers(&s), true, now + 5), Ok(()));
        assert_eq!(
            k.verify_at(&r, headers(&s), true, now + 6),
            Err(Rejection::Replayed)
        );
    }

    #[test]
    fn every_signed_part_counts() {
        let k = keyring(SECRET);
        let now = 1_700_000_000;
        let r = to_worker(b"body");
        let s = k.sign_at(&r, now, NONCE);
        let check = |other: Signed<'_>| k.verify_at(&other, headers(&s), true, now);
        assert_eq!(check(Signed { method: "GET", ..r }), Err(Rejection::Forged));
        assert_eq!(check(Signed { path: "/x", ..r }), Err(Rejection::Forged));
        assert_eq!(check(Signed { body: b"bodY", ..r }), Err(Rejection::Forged));
        assert_eq!(
            check(Signed {
                destination: "10.0.0.6:9412",
                ..r
            }),
            Err(Rejection::Forged)
        );
        // Sent to the manager instead: recognised as meant for another endpoint.
        assert_eq!(
            check(Signed {
                role: Role::Manager,
                ..r
            }),
            Err(Rejection::Misdirected)
        );
        let mut other = s.clone();
        other.timestamp = (now + 1).to_string();
        assert_eq!(
            k.verify_at(&r, headers(&other), true, now),
            Err(Rejection::Forged)
        );
        let mut other = s.clone();
        other.nonce = NONCE.replace('0', "1");
        assert_eq!(
            k.verify_at(&r, headers(&other), true, now),
            Err(Rejection::Forged)
        );
        // Another secret.
        let s2 = keyring("another-secret-of-length").sign_at(&r, now, NONCE);
        assert_eq!(
            k.verify_at(&r, headers(&s2), true, now),
            Err(Rejection::Forged)
        );
    }

    #[test]
    fn a_request_for_another_destination_is_refused_without_using_its_nonce() {
        let k = keyring(SECRET);
        let now = 1_700_000_000;
        let r = to_worker(b"body");
        let s = k.sign_at(&r, now, NONCE);
        assert_eq!(
            k.verify_at(&r, headers(&s), false, now),
            Err(Rejection::Misdirected)
        );
        // Forged requests are forged, wherever they were sent.
        let mut forged = s.clone();
        forged.signature = "0".repeat(64);
        assert_eq!(
            k.verify_at(&r, headers(&forged), false, now),
            Err(Rejection::Forged)
        );
        assert_eq!(k.verify_at(&r, headers(&s), true, now), Ok(()));
    }

    #[test]
    fn stale_and_future_timestamps() {
        let k = keyring(SECRET);
        let now = 1_700_000_000;
        let r = to_worker(b"");
        let old = k.sign_at(&r, now - 61, NONCE);
        assert_eq!(
            k.verify_at(&r, headers(&old), true, now),
            Err(Rejection::Stale)
        );
        let future = k.sign_at(&r, now + 61, NONCE);
        assert_eq!(
            k.verify_at(&r, headers(&future), true, now),
            Err(Rejection::Stale)
        );
        let edge = k.sign_at(&r, now - 60, NONCE);
        assert_eq!(k.verify_at(&r, headers(&edge), true, now), Ok(()));
    }

    #[test]
    fn requests_from_before_the_start_are_refused() {
        // A restart forgets the nonces: a request captured before it must not run after it.
        let now = 1_700_000_000;
        let k = keyring_at(SECRET, now - 10);
        let r = to_worker(b"");
        let before = k.sign_at(&r, now - 16, NONCE);
        assert_eq!(
            k.verify_at(&r, headers(&before), true, now),
            Err(Rejection::Stale)
        );
        // Within the start skew: a sender's clock a little behind.
        let just = k.sign_at(&r, now - 15, NONCE);
        assert_eq!(k.verify_at(&r, headers(&just), true, now), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        let k = keyring(SECRET);
        let now = 1_700_000_000;
        let r = to_worker(b"");
        assert_eq!(k.verify_at(&r, None, true, now), Err(Rejection::Unsigned));
        let s = k.sign_at(&r, now, NONCE);
        for bad in [
            ("+1700000000", NONCE, s.signature.as_str()),
            ("abc", NONCE, s.signature.as_str()),
            (s.timestamp.as_str(), "short", s.signature.as_str()),
            (s.timestamp.as_str(), NONCE, "zz"),
            (s.timestamp.as_str(), NONCE, "abc"),
        ] {
            assert_eq!(
                k.verify_at(&r, Some(bad), true, now),
                Err(Rejection::Unsigned),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn nonces_are_forgotten_after_the_window_and_bounded() {
        let mut seen = SeenNonces::default();
        assert_eq!(seen.admit("a", 100), Ok(()));
        assert_eq!(seen.admit("a", 150), Err(Rejection::Replayed));
        assert_eq!(seen.admit("b", 150), Ok(()));
        // After 2 × 60 s (+1) the first one is forgotten, the second not yet.
        assert_eq!(seen.admit("a", 221), Ok(()));
        assert_eq!(seen.admit("b", 221), Err(Rejection::Replayed));
        assert_eq!(seen.set.len(), seen.order.len());
        let mut full = SeenNonces::default();
        for i in 0..MAX_NONCES {
            full.admit(&i.to_string(), 1000).expect("room");
        }
        assert_eq!(full.admit("one more", 1000), Err(Rejection::Busy));
        assert_eq!(
            full.admit("one more", 2000),
            Ok(()),
            "expired ones made room"
        );
        assert_eq!(full.set.len(), 1);
    }

    #[test]
    fn real_signatures_carry_fresh_nonces() {
        let auth = Auth::from_secret(format!("{SECRET}\n").as_bytes(), "test").unwrap();
        let r = to_worker(b"");
        let a = auth.sign(&r).expect("signed");
        let b = auth.sign(&r).expect("signed");
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(a.nonce.len(), 32);
        assert_eq!(auth.verify(&r, headers(&a), true), Ok(()));
        assert_eq!(auth.verify(&r, headers(&b), true), Ok(()));
        assert!(Auth::Insecure.sign(&r).is_none());
        assert_eq!(Auth::Insecure.verify(&r, None, false), Ok(()));
    }

    #[test]
    fn short_secrets_are_refused() {
        let err = Auth::from_secret(b"  fifteen-bytes!!\n", "PYGEN_SWARM_SECRET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the shared secret from PYGEN_SWARM_SECRET is 15 bytes long; at least 16 are \
             required (e.g. `openssl rand -hex 32`)"
        );
        assert!(Auth::from_secret(b"sixteen-bytes-ok", "x").is_ok());
        assert!(matches!(
            Auth::from_secret(b"x", "x"),
            Err(Error::TooShort { len: 1, .. })
        ));
    }

    #[test]
    fn a_secret_file_others_can_read_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, SECRET).unwrap();
        let chmod = |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode));
        chmod(0o600).unwrap();
        assert_eq!(loose_permissions(&file), None);
        chmod(0o400).unwrap();
        assert_eq!(loose_permissions(&file), None);
        chmod(0o640).unwrap();
        let warning = loose_permissions(&file).expect("group-readable");
        assert!(
            warning.contains("readable by its group (mode 640)"),
            "{warning}"
        );
        chmod(0o644).unwrap();
        let warning = loose_permissions(&file).expect("world-readable");
        assert!(warning.contains("its group and every user"), "{warning}");
        assert!(warning.contains("chmod 600"), "{warning}");
    }

    #[test]
    fn secret_sources() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, format!("{SECRET}\n")).unwrap();
        let from_file = Auth::resolve(&SwarmAuth::SecretFile(file.clone()), None, "worker")
            .expect("file secret");
        let direct = Auth::from_secret(SECRET.as_bytes(), "x").unwrap();
        let r = to_worker(b"");
        let s = direct.sign(&r).unwrap();
        assert_eq!(from_file.verify(&r, headers(&s), true), Ok(()));

        let from_env = Auth::resolve(&SwarmAuth::Unconfigured, Some(SECRET.into()), "worker")
            .expect("env secret");
        assert!(from_env.is_secure());
        assert!(matches!(
            Auth::resolve(&SwarmAuth::Unconfigured, Some("short".into()), "worker"),
            Err(Error::TooShort { len: 5, .. })
        ));
        assert!(matches!(
            Auth::resolve(&SwarmAuth::InsecureNoAuth, Some("env".into()), "worker"),
            Ok(Auth::Insecure)
        ));
        let err = Auth::resolve(&SwarmAuth::Unconfigured, None, "worker").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("worker: a shared secret is required")
        );
        std::fs::write(&file, " \n").unwrap();
        let err = Auth::resolve(&SwarmAuth::SecretFile(file.clone()), None, "worker").unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
        let err =
            Auth::resolve(&SwarmAuth::SecretFile(dir.path().join("nope")), None, "w").unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
        assert_eq!(unhex("0001ABff"), Some(vec![0, 1, 0xab, 0xff]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("0g"), None);
    }
}
