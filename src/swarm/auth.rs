//! Authentication of manager-worker requests with a shared secret.
//!
//! docker-pygen's endpoints took any request from anyone who could reach them (weaknesses
//! B.3, B.4). pygen signs every request with HMAC-SHA256 over its method, path, timestamp,
//! nonce and body, and the receiver checks the signature in constant time, refuses timestamps
//! more than [`MAX_SKEW`] away from its clock, and refuses a nonce it has already seen. The
//! wire format is in the README (section "Wire format"):
//!
//! ```text
//! X-Pygen-Timestamp: <seconds since the epoch>
//! X-Pygen-Nonce: <32 lowercase hex digits, random>
//! X-Pygen-Signature: <64 lowercase hex digits>
//!   = hex(HMAC-SHA256(secret, "pygen-swarm-v1\n" METHOD "\n" PATH "\n" TIMESTAMP "\n" NONCE "\n" BODY))
//! ```
//!
//! Running without a secret needs `--insecure-no-auth`, logged as a warning.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

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
const SCHEME: &str = "pygen-swarm-v1";

/// How far a request's timestamp may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(60);

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
    /// The timestamp is too far from the receiver's clock.
    #[error("timestamp too far from the receiver's clock")]
    Stale,
    /// The nonce was seen before.
    #[error("request already seen (replay)")]
    Replayed,
    /// The nonce memory is full.
    #[error("too many requests in the replay window")]
    Busy,
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
                Auth::from_secret(&bytes, &origin_of(path))
            }
            SwarmAuth::InsecureNoAuth => Ok(Auth::Insecure),
            SwarmAuth::Unconfigured => match env {
                Some(value) => Auth::from_secret(value.as_bytes(), SECRET_ENV),
                None => Err(Error::NoSecret { role }),
            },
        }
    }

    /// Authentication with `secret`; surrounding whitespace (the newline `echo` adds when a
    /// Docker secret is made) is not part of it.
    pub fn from_secret(secret: &[u8], origin: &str) -> Result<Auth, Error> {
        let secret = secret.trim_ascii();
        if secret.is_empty() {
            return Err(Error::Empty {
                origin: origin.to_owned(),
            });
        }
        Ok(Auth::Secret(Box::new(Keyring {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            seen: Mutex::default(),
            random: SystemRandom::new(),
        })))
    }

    /// Whether requests are signed and checked.
    pub fn is_secure(&self) -> bool {
        matches!(self, Auth::Secret(_))
    }

    /// The headers for a request, `None` without a secret.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> Option<Signature> {
        let Auth::Secret(keyring) = self else {
            return None;
        };
        let mut nonce = [0u8; NONCE_BYTES];
        // The system's random source does not fail on Linux once booted; should it ever, the
        // zero nonce is still unique per second only, and a collision is refused as a replay.
        let _ = keyring.random.fill(&mut nonce);
        Some(keyring.sign_at(method, path, body, unix_now(), &hex(&nonce)))
    }

    /// Checks a request's headers against its method, path and body.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        headers: Option<(&str, &str, &str)>,
        body: &[u8],
    ) -> Result<(), Rejection> {
        match self {
            Auth::Insecure => Ok(()),
            Auth::Secret(keyring) => keyring.verify_at(method, path, headers, body, unix_now()),
        }
    }
}

/// How a secret file is named in messages.
fn origin_of(path: &Path) -> String {
    format!("--swarm-secret-file {}", path.display())
}

impl Keyring {
    /// Signs with the given time and nonce.
    fn sign_at(&self, method: &str, path: &str, body: &[u8], now: u64, nonce: &str) -> Signature {
        let timestamp = now.to_string();
        let tag = hmac::sign(&self.key, &message(method, path, &timestamp, nonce, body));
        Signature {
            timestamp,
            nonce: nonce.to_owned(),
            signature: hex(tag.as_ref()),
        }
    }

    /// Checks a request at time `now`: headers well formed, signature valid (checked before
    /// anything that depends on the sender's honesty), timestamp fresh, nonce new.
    fn verify_at(
        &self,
        method: &str,
        path: &str,
        headers: Option<(&str, &str, &str)>,
        body: &[u8],
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
        hmac::verify(
            &self.key,
            &message(method, path, timestamp, nonce, body),
            &tag,
        )
        .map_err(|_| Rejection::Forged)?;
        if sent.abs_diff(now) > MAX_SKEW.as_secs() {
            return Err(Rejection::Stale);
        }
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(nonce, now)
    }
}

/// The signed message.
fn message(method: &str, path: &str, timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let head = format!("{SCHEME}\n{method}\n{path}\n{timestamp}\n{nonce}\n");
    let mut message = Vec::with_capacity(head.len() + body.len());
    message.extend_from_slice(head.as_bytes());
    message.extend_from_slice(body);
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

    fn keyring(secret: &str) -> Keyring {
        match Auth::from_secret(secret.as_bytes(), "test").expect("a secret") {
            Auth::Secret(k) => *k,
            Auth::Insecure => unreachable!("from_secret gives a keyring"),
        }
    }

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    fn headers(s: &Signature) -> Option<(&str, &str, &str)> {
        Some((&s.timestamp, &s.nonce, &s.signature))
    }

    #[test]
    fn known_answer() {
        // Checked with: printf 'pygen-swarm-v1\nPOST\n/\n1700000000\n<NONCE>\n{}' |
        //   openssl dgst -sha256 -hmac s3cret
        let k = keyring("s3cret");
        let s = k.sign_at("POST", "/", b"{}", 1_700_000_000, NONCE);
        assert_eq!(s.timestamp, "1700000000");
        assert_eq!(s.nonce, NONCE);
        assert_eq!(
            s.signature,
            "228460c32aad577ad9d3fa5971fd51f968e4b4b8201a72d5f419d91e8e35b804"
        );
    }

    #[test]
    fn signed_requests_pass_once() {
        let k = keyring("s3cret");
        let now = 1_700_000_000;
        let s = k.sign_at("POST", "/", b"body", now, NONCE);
        assert_eq!(
            k.verify_at("POST", "/", headers(&s), b"body", now + 5),
            Ok(())
        );
        assert_eq!(
            k.verify_at("POST", "/", headers(&s), b"body", now + 6),
            Err(Rejection::Replayed)
        );
    }

    #[test]
    fn every_signed_part_counts() {
        let k = keyring("s3cret");
        let now = 1_700_000_000;
        let s = k.sign_at("POST", "/", b"body", now, NONCE);
        let forged = |method, path, body: &[u8]| k.verify_at(method, path, headers(&s), body, now);
        assert_eq!(forged("GET", "/", b"body"), Err(Rejection::Forged));
        assert_eq!(forged("POST", "/x", b"body"), Err(Rejection::Forged));
        assert_eq!(forged("POST", "/", b"bodY"), Err(Rejection::Forged));
        let mut other = s.clone();
        other.timestamp = (now + 1).to_string();
        assert_eq!(
            k.verify_at("POST", "/", headers(&other), b"body", now),
            Err(Rejection::Forged)
        );
        let mut other = s.clone();
        other.nonce = NONCE.replace('0', "1");
        assert_eq!(
            k.verify_at("POST", "/", headers(&other), b"body", now),
            Err(Rejection::Forged)
        );
        // Another secret.
        let s2 = keyring("other").sign_at("POST", "/", b"body", now, NONCE);
        assert_eq!(
            k.verify_at("POST", "/", headers(&s2), b"body", now),
            Err(Rejection::Forged)
        );
    }

    #[test]
    fn stale_and_future_timestamps() {
        let k = keyring("s3cret");
        let now = 1_700_000_000;
        let old = k.sign_at("POST", "/", b"", now - 61, NONCE);
        assert_eq!(
            k.verify_at("POST", "/", headers(&old), b"", now),
            Err(Rejection::Stale)
        );
        let future = k.sign_at("POST", "/", b"", now + 61, NONCE);
        assert_eq!(
            k.verify_at("POST", "/", headers(&future), b"", now),
            Err(Rejection::Stale)
        );
        let edge = k.sign_at("POST", "/", b"", now - 60, NONCE);
        assert_eq!(k.verify_at("POST", "/", headers(&edge), b"", now), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        let k = keyring("s3cret");
        let now = 1_700_000_000;
        assert_eq!(
            k.verify_at("POST", "/", None, b"", now),
            Err(Rejection::Unsigned)
        );
        let s = k.sign_at("POST", "/", b"", now, NONCE);
        for bad in [
            ("+1700000000", NONCE, s.signature.as_str()),
            ("abc", NONCE, s.signature.as_str()),
            (s.timestamp.as_str(), "short", s.signature.as_str()),
            (s.timestamp.as_str(), NONCE, "zz"),
            (s.timestamp.as_str(), NONCE, "abc"),
        ] {
            assert_eq!(
                k.verify_at("POST", "/", Some(bad), b"", now),
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
        let auth = Auth::from_secret(b"s3cret\n", "test").unwrap();
        let a = auth.sign("POST", "/", b"").expect("signed");
        let b = auth.sign("POST", "/", b"").expect("signed");
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(a.nonce.len(), 32);
        assert_eq!(auth.verify("POST", "/", headers(&a), b""), Ok(()));
        assert_eq!(auth.verify("POST", "/", headers(&b), b""), Ok(()));
        assert!(Auth::Insecure.sign("POST", "/", b"").is_none());
        assert_eq!(Auth::Insecure.verify("POST", "/", None, b""), Ok(()));
    }

    #[test]
    fn secret_sources() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-file\n").unwrap();
        let from_file = Auth::resolve(&SwarmAuth::SecretFile(file.clone()), None, "worker")
            .expect("file secret");
        let direct = Auth::from_secret(b"from-file", "x").unwrap();
        let s = direct.sign("POST", "/", b"").unwrap();
        assert_eq!(from_file.verify("POST", "/", headers(&s), b""), Ok(()));

        let from_env = Auth::resolve(&SwarmAuth::Unconfigured, Some("env".into()), "worker")
            .expect("env secret");
        assert!(from_env.is_secure());
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
