//! Arbitrary requests through the real manager and worker endpoints (their axum routers, called
//! in process, as if on 127.0.0.1:9412): method, path, authentication headers, extra headers and
//! body all come from the input, and the target signs some of them correctly with the fixed
//! secret (for the endpoint's role or, on request, the other one) so that the checks after the
//! signature (role, destination, timestamp, nonce, replay, body) are reached too.
//!
//! Never a panic, and nothing runs unless it should: an action (worker) or update (manager)
//! comes out of the endpoint exactly when the answer is `200`, a `200` needs a request this
//! target signed for this endpoint's role, fresh, not from before the endpoint started, on
//! `POST /`, within the body limit, with an empty body (manager) or a valid action (worker),
//! and such a request is always accepted once, never twice.
//!
//! Input: a flag byte, an offset byte, then NUL-separated fields
//! `method, path, timestamp, nonce, signature, headers ("name: value" lines), body`.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use pygen::metrics::Metrics;
use pygen::endpoint::LocalAddr;
use pygen::swarm::auth::{
    Auth, MAX_SKEW, NONCE_HEADER, SIGNATURE_HEADER, START_SKEW, TIMESTAMP_HEADER,
};
use pygen::swarm::server::{SETTLED_BODY, Updates, manager_router, worker_router};
use pygen::swarm::wire::{MAX_BODY, Request as ActionRequest};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// The shared secret of every request.
const SECRET: &[u8] = b"fuzz-secret-0123456789";
/// Where the endpoints listen, as far as the requests know.
const DESTINATION: &str = "127.0.0.1:9412";

/// Flag bits of the first input byte.
const MANAGER: u8 = 1 << 2;
const SIGN: u8 = 1 << 3;
const FRESH_TIME: u8 = 1 << 4;
const TWICE: u8 = 1 << 5;
const GOOD_NONCE: u8 = 1 << 6;
const OVERSIZE: u8 = 1 << 7;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds")
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signature of the README's wire format, computed here rather than through pygen's
/// signer, so the timestamp and nonce can be anything.
fn sign(role: &str, method: &str, path: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
    let mut message = format!(
        "pygen-swarm-v2\n{role}\n{DESTINATION}\n{method}\n{path}\n{timestamp}\n{nonce}\n"
    )
    .into_bytes();
    message.extend_from_slice(body);
    hex(ring::hmac::sign(&key, &message).as_ref())
}

fuzz_target!(|data: &[u8]| {
    let [flags, offset, rest @ ..] = data else {
        return;
    };
    let (flags, offset) = (*flags, i64::from(*offset as i8) * 2);
    let mut fields = rest.splitn(7, |&b| b == 0);
    let mut field = || fields.next().unwrap_or_default();
    let (method, path, timestamp, nonce, signature, headers, body) = (
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
    );

    let method = match method {
        b"" => Method::POST,
        b"G" => Method::GET,
        other => match Method::from_bytes(other) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    let path = match String::from_utf8_lossy(path).as_ref() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    let mut body = body.to_vec();
    if flags & OVERSIZE != 0 {
        body.resize(MAX_BODY + 1 + usize::from(flags & 3), b' ');
    }
    let sent_at = now();
    let timestamp = if flags & FRESH_TIME != 0 {
        sent_at.saturating_add_signed(offset).to_string()
    } else {
        String::from_utf8_lossy(timestamp).into_owned()
    };
    let nonce = if flags & GOOD_NONCE != 0 {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        format!("{:032x}", COUNTER.fetch_add(1, Ordering::Relaxed))
    } else {
        String::from_utf8_lossy(nonce).into_owned()
    };
    let manager = flags & MANAGER != 0;
    // The low bits say how far past the limit an oversized body goes; otherwise both set means
    // "sign for the other role".
    let wrong_role = flags & OVERSIZE == 0 && flags & 3 == 3;
    let role = match (manager, wrong_role) {
        (true, false) | (false, true) => "manager",
        _ => "worker",
    };
    let signature = if flags & SIGN != 0 {
        sign(role, method.as_str(), &path, &timestamp, &nonce, &body)
    } else {
        String::from_utf8_lossy(signature).into_owned()
    };

    let mut builder = Request::builder().method(method.clone()).uri(path.as_str());
    builder = builder
        .header("host", DESTINATION)
        .header(TIMESTAMP_HEADER, timestamp.as_str())
        .header(NONCE_HEADER, nonce.as_str())
        .header(SIGNATURE_HEADER, signature.as_str());
    let text = String::from_utf8_lossy(headers);
    let mut plain_headers = true;
    for line in text.lines() {
        if let Some((name, value)) = line.split_once(':') {
            let lower = name.trim().to_ascii_lowercase();
            if lower.starts_with("content")
                || lower.starts_with("transfer")
                || lower.starts_with("host")
                || lower.starts_with("x-pygen")
            {
                plain_headers = false;
            }
            builder = builder.header(name.trim(), value.trim());
        }
    }
    let client: SocketAddr = ([127, 0, 0, 1], 4242).into();
    let Ok(request) = builder
        .extension(ConnectInfo(client))
        .extension(LocalAddr(([127, 0, 0, 1], 9412).into()))
        .body(Body::from(body.clone()))
    else {
        return;
    };
    // The same request again, for the replay check (rebuilt: a request is consumed).
    let (parts, _) = request.into_parts();
    let make = || Request::from_parts(parts.clone(), Body::from(body.clone()));

    let auth = Arc::new(Auth::from_secret(SECRET, "fuzz").expect("a non-empty secret"));
    let metrics = Arc::new(Metrics::new());
    let (act_tx, mut act_rx) = mpsc::channel::<ActionRequest>(8);
    let (upd_tx, mut upd_rx) = mpsc::channel::<()>(8);
    let (settled_tx, mut settled_rx) = mpsc::channel::<()>(8);
    let updates = Updates {
        changed: upd_tx,
        settled: settled_tx,
    };
    let router = if manager {
        manager_router(auth, metrics, updates)
    } else {
        worker_router(auth, metrics, act_tx)
    };

    let sends = if flags & TWICE != 0 { 2 } else { 1 };
    let mut statuses = Vec::new();
    for _ in 0..sends {
        let response = runtime()
            .block_on(router.clone().oneshot(make()))
            .expect("the router's error type is Infallible");
        statuses.push(response.status());
    }
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let mut executed = 0;
    if manager {
        while upd_rx.try_recv().is_ok() || settled_rx.try_recv().is_ok() {
            executed += 1;
        }
    } else {
        while let Ok(request) = act_rx.try_recv() {
            assert_eq!(
                Ok(&request),
                ActionRequest::decode(&body).as_ref(),
                "queued what was sent"
            );
            executed += 1;
        }
    }
    assert_eq!(executed, accepted, "one execution per 200: {statuses:?}");
    assert!(accepted <= 1, "a nonce is accepted once: {statuses:?}");

    let skew = MAX_SKEW.as_secs();
    // The keyring started just before the first send: nothing signed earlier than that less
    // START_SKEW passes.
    let start_skew = START_SKEW.as_secs() as i64;
    let valid_action = if manager {
        body.is_empty() || body == SETTLED_BODY
    } else {
        ActionRequest::decode(&body).is_ok()
    };
    let well_formed = method == Method::POST
        && parts.uri.path() == "/"
        && body.len() <= MAX_BODY
        && nonce.len() == 32
        && nonce.bytes().all(|b| b.is_ascii_hexdigit())
        && valid_action;
    // Signed by this target, with a timestamp clearly inside the window (the clock may tick
    // between signing and checking), and no header that changes how the body is read.
    let must_accept = flags & SIGN != 0
        && !wrong_role
        && flags & FRESH_TIME != 0
        && offset.unsigned_abs() + 2 <= skew
        && offset + start_skew >= 2
        && plain_headers
        && well_formed;
    if must_accept {
        assert_eq!(statuses[0], StatusCode::OK, "a valid request was refused");
    }
    if accepted == 0 {
        return;
    }

    // Accepted: everything had to be right.
    let fresh = timestamp.bytes().all(|b| b.is_ascii_digit())
        && timestamp.parse::<u64>().is_ok_and(|t| {
            t.abs_diff(sent_at) <= skew + 2 && t as i64 + start_skew + 2 >= sent_at as i64
        });
    assert!(flags & SIGN != 0, "accepted without the target's signature");
    assert!(!wrong_role, "accepted a request signed for the other role");
    assert!(well_formed, "accepted a malformed request: {parts:?}");
    assert!(
        fresh,
        "accepted a stale timestamp {timestamp:?} at {sent_at}"
    );
    assert_eq!(
        statuses[0],
        StatusCode::OK,
        "the first of two is the one accepted"
    );
});
