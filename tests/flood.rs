//! The worker endpoint under a flood of unauthenticated requests from a local load generator
//! (loopback only, bounded in count and time): unsigned, forged, oversized, slow and garbage
//! requests over raw TCP. The worker's memory stays bounded, signed requests sent during the
//! flood are still served, and nothing of the flood runs: the target container, which records
//! every signal it gets, receives exactly the signed requests' signals.
//!
//! Two more floods need no daemon (the worker queues an action until its daemon is reachable,
//! and answers at once): hundreds of connections holding unfinished oversized headers, and more
//! idle connections than the worker has file descriptors for. Memory stays bounded and a
//! signed request is still served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use pygen::swarm::Role;
use pygen::swarm::auth::{Auth, NONCE_HEADER, SIGNATURE_HEADER, Signed, TIMESTAMP_HEADER};

/// The secret of the worker and of the signed requests.
const SECRET: &str = "flood-secret-7d2a";
/// Load generator threads.
const THREADS: usize = 8;
/// Requests per thread at most.
const PER_THREAD: usize = 1000;
/// The flood stops after this long even if requests are left.
const FLOOD_TIME: Duration = Duration::from_secs(40);
/// Slow connections that trickle their headers.
const SLOW: usize = 6;
/// Signed requests sent during the flood.
const SIGNED: usize = 5;
/// How much the worker's resident memory may grow over the flood.
const RSS_BOUND_KIB: u64 = 20 * 1024;
/// How long a test waits for the worker to react.
const REACT: Duration = Duration::from_secs(30);

/// A container that appends a line to `/tmp/got` on every trappable signal it receives.
fn trapping_target(label: &str) -> TestContainer {
    TestContainer::builder()
        .label("pygen.target", label)
        .shell(
            "for s in HUP INT QUIT USR1 USR2 TERM; do trap \"echo $s >> /tmp/got\" $s; done; \
             while true; do sleep 1 & wait; done",
        )
        .start()
}

/// The lines of `/tmp/got` in container `id`.
fn got(id: &str) -> Vec<String> {
    let out = docker(["exec", id, "cat", "/tmp/got"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// VmRSS of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// Writes `request` on a fresh connection and returns the status code of the answer (0 when
/// there is none: the server may close on garbage or before an oversized body is sent).
fn exchange(addr: SocketAddr, request: &[u8]) -> u16 {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = stream.write_all(request);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A raw HTTP/1.1 request (to the worker at `WORKER_HOST` unless `headers` name a host).
fn request(method: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} / HTTP/1.1\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str("Host: worker\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The `n`th request of the flood: every kind an attacker without the secret can send.
fn flood_request(n: usize, body: &[u8]) -> Vec<u8> {
    let length = || ("Content-Length", body.len().to_string());
    match n % 8 {
        // Unsigned, with and without a body.
        0 => request("POST", &[length()], body),
        1 => request("POST", &[("Content-Length", "0".into())], b""),
        // Forged signature, fresh-looking headers.
        2 => request(
            "POST",
            &[
                length(),
                (TIMESTAMP_HEADER, "1700000000".into()),
                (NONCE_HEADER, format!("{n:032x}")),
                (SIGNATURE_HEADER, "0".repeat(64)),
            ],
            body,
        ),
        // Oversized: declared and sent (256 KiB), and declared huge but never sent.
        3 => {
            let big = vec![b'x'; 256 * 1024];
            request("POST", &[("Content-Length", big.len().to_string())], &big)
        }
        4 => request("POST", &[("Content-Length", "1073741824".into())], b"{"),
        // Chunked without an end.
        5 => request(
            "POST",
            &[("Transfer-Encoding", "chunked".into())],
            b"10\r\n{\"action\"",
        ),
        // Other methods, and garbage.
        6 => request("GET", &[], b""),
        _ => {
            let mut junk = Vec::with_capacity(4096);
            let mut x = n as u32 | 1;
            for _ in 0..4096 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                junk.push(x as u8);
            }
            junk
        }
    }
}

#[test]
fn an_unauthenticated_flood_runs_nothing_and_does_not_starve_signed_requests() {
    require_docker();
    let marker = unique_name("flood");
    let target = trapping_target(&marker);
    let port = free_port();
    let metrics = free_port();
    let worker = PygenProcess::spawn_with_env(
        [
            "worker",
            "--manager",
            &format!("127.0.0.1:{}", free_port()),
            "--worker-address",
            "127.0.0.1",
            "--worker-port",
            &port.to_string(),
            "--metrics",
            &metrics.to_string(),
            "--metrics-address",
            "127.0.0.1",
            "--events",
            "none",
        ],
        &[("PYGEN_SWARM_SECRET", SECRET)],
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    assert!(
        wait_until(REACT, Duration::from_millis(20), || TcpStream::connect(
            addr
        )
        .is_ok()),
        "the worker does not listen; stderr:\n{}",
        worker.stderr()
    );
    let context = || format!("worker stderr (tail):\n{}", tail(&worker.stderr()));

    // The signal the flood asks for, and the one signed requests ask for.
    let kill = format!(r#"{{"action": "signal", "args": ["{marker}", "KILL"]}}"#).into_bytes();
    let usr1 = format!(r#"{{"action": "signal", "args": ["{marker}", "USR1"]}}"#).into_bytes();
    let hup = format!(r#"{{"action": "signal", "args": ["{marker}", "HUP"]}}"#).into_bytes();
    let auth = Auth::from_secret(SECRET.as_bytes(), "test").expect("a non-empty secret");
    let destination = addr.to_string();
    let signed = |body: &[u8]| {
        let s = auth
            .sign(&Signed {
                role: Role::Worker,
                destination: &destination,
                method: "POST",
                path: "/",
                body,
            })
            .expect("a secret signs");
        request(
            "POST",
            &[
                ("Host", destination.clone()),
                ("Content-Length", body.len().to_string()),
                (TIMESTAMP_HEADER, s.timestamp),
                (NONCE_HEADER, s.nonce),
                (SIGNATURE_HEADER, s.signature),
            ],
            body,
        )
    };
    // Warm up (first request, first action), then measure.
    assert_eq!(exchange(addr, &signed(&hup)), 200, "{}", context());
    assert!(
        wait_until(REACT, Duration::from_millis(100), || got(target.id()).len()
            == 1),
        "the warm-up signal did not arrive\n{}",
        context()
    );
    let before = rss_kib(worker.pid());

    let deadline = Instant::now() + FLOOD_TIME;
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for t in 0..THREADS {
        let (statuses, sent) = (statuses.clone(), sent.clone());
        let bodies = [kill.clone(), usr1.clone()];
        load.push(thread::spawn(move || {
            for i in 0..PER_THREAD {
                if Instant::now() >= deadline {
                    break;
                }
                let n = t * PER_THREAD + i;
                let status = exchange(addr, &flood_request(n, &bodies[n % 2]));
                sent.fetch_add(1, Ordering::Relaxed);
                *statuses
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(status)
                    .or_default() += 1;
            }
        }));
    }
    // Slow connections: headers one byte every 200 ms, at most 10 s each.
    let slow: Vec<_> = (0..SLOW)
        .map(|_| {
            thread::spawn(move || {
                let Ok(mut stream) = TcpStream::connect(addr) else {
                    return;
                };
                let head = b"POST / HTTP/1.1\r\nHost: worker\r\nContent-Length: 40\r\nX-Slow: ";
                let until = Instant::now() + Duration::from_secs(10);
                for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if Instant::now() >= until || stream.write_all(&[*byte]).is_err() {
                        break;
                    }
                    thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();

    // Signed requests in the middle of the flood.
    let mut served = Vec::new();
    for _ in 0..SIGNED {
        thread::sleep(Duration::from_millis(300));
        served.push(exchange(addr, &signed(&hup)));
    }
    let during = rss_kib(worker.pid());
    for handle in load.into_iter().chain(slow) {
        handle.join().expect("a load thread panicked");
    }
    let after = rss_kib(worker.pid());
    let statuses = statuses.lock().unwrap_or_else(|e| e.into_inner()).clone();
    eprintln!(
        "flood: {} requests from {THREADS} threads + {SLOW} slow connections; answers {statuses:?}; \
         worker VmRSS {before} KiB before, {during} KiB during, {after} KiB after",
        sent.load(Ordering::Relaxed)
    );

    assert_eq!(
        served,
        vec![200; SIGNED],
        "signed requests during the flood\n{}",
        context()
    );
    assert!(
        after <= before + RSS_BOUND_KIB && during <= before + RSS_BOUND_KIB,
        "the worker grew from {before} KiB to {during} KiB (during) and {after} KiB (after)"
    );
    assert!(
        !statuses.contains_key(&200),
        "a flood request was accepted: {statuses:?}"
    );
    // The signed signals arrive; nothing else does (the flood asked for KILL and USR1).
    let ok = wait_until(REACT, Duration::from_millis(100), || {
        got(target.id()).len() > SIGNED
    });
    assert!(ok, "got {:?}\n{}", got(target.id()), context());
    thread::sleep(Duration::from_secs(1));
    assert_eq!(got(target.id()), vec!["HUP"; SIGNED + 1], "{}", context());
    assert!(target.is_running(), "the flood's KILL ran");
}

/// The last lines of a log, for messages (the flood makes the worker's log long).
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Connections that each send [`PAD`] bytes of headers and never finish them.
const HEAVY: usize = 500;
/// Bytes of unfinished headers per heavy connection (under hyper's own default limit of about
/// 400 KiB, so only pygen's limit stops them).
const PAD: usize = 400 * 1000;
/// Idle connections that send nothing.
const IDLE: usize = 300;
/// How much the worker's resident memory may grow while the connections are held.
const HEADER_FLOOD_BOUND_KIB: u64 = 64 * 1024;

/// A worker whose daemon is unreachable, with at most `open_files` file descriptors; its
/// endpoint address.
fn lone_worker(open_files: u32) -> (PygenProcess, SocketAddr) {
    let port = free_port();
    let bin = pygen_bin();
    let worker = PygenProcess::spawn_program(
        "sh",
        [
            "-c",
            &format!("ulimit -n {open_files} && exec \"$0\" \"$@\""),
            bin.to_str().expect("a UTF-8 path to the binary"),
            "worker",
            "--manager",
            &format!("127.0.0.1:{}", free_port()),
            "--worker-address",
            "127.0.0.1",
            "--worker-port",
            &port.to_string(),
            "--metrics",
            "0",
            "--events",
            "none",
            "--docker-address",
            "tcp://127.0.0.1:1",
        ],
        &[("PYGEN_SWARM_SECRET", SECRET)],
    );
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    assert!(
        wait_until(REACT, Duration::from_millis(20), || TcpStream::connect(
            addr
        )
        .is_ok()),
        "the worker does not listen; stderr:\n{}",
        worker.stderr()
    );
    (worker, addr)
}

/// A signed action request for the worker at `addr`.
fn signed_request(addr: SocketAddr) -> Vec<u8> {
    let auth = Auth::from_secret(SECRET.as_bytes(), "test").expect("a long enough secret");
    let body = br#"{"action": "restart", "args": ["pygen-flood-nothing"]}"#;
    let destination = addr.to_string();
    let s = auth
        .sign(&Signed {
            role: Role::Worker,
            destination: &destination,
            method: "POST",
            path: "/",
            body,
        })
        .expect("a secret signs");
    request(
        "POST",
        &[
            ("Host", destination.clone()),
            ("Content-Length", body.len().to_string()),
            (TIMESTAMP_HEADER, s.timestamp),
            (NONCE_HEADER, s.nonce),
            (SIGNATURE_HEADER, s.signature),
        ],
        body,
    )
}

/// Sends a signed request; its status and how long the answer took.
fn timed_signed(addr: SocketAddr) -> (u16, Duration) {
    let started = Instant::now();
    let status = exchange(addr, &signed_request(addr));
    (status, started.elapsed())
}

/// Opens `count` connections from 4 threads; each sends `head` (possibly never finishing it)
/// and stays open until the returned streams are dropped.
fn hold_connections(addr: SocketAddr, count: usize, head: Arc<Vec<u8>>) -> Vec<TcpStream> {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let head = head.clone();
            thread::spawn(move || {
                let mut held = Vec::new();
                for _ in (t..count).step_by(4) {
                    let Ok(mut stream) = TcpStream::connect(addr) else {
                        continue;
                    };
                    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                    // The worker may close the connection before all of it is written.
                    let _ = stream.write_all(&head);
                    held.push(stream);
                }
                held
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("a connecting thread panicked"))
        .collect()
}

#[test]
fn unfinished_oversized_headers_keep_memory_bounded() {
    let (worker, addr) = lone_worker(1024);
    let (status, _) = timed_signed(addr);
    assert_eq!(status, 200, "warm-up; stderr:\n{}", tail(&worker.stderr()));
    let before = rss_kib(worker.pid());
    let mut head = b"POST / HTTP/1.1\r\nHost: worker\r\nX-Pad: ".to_vec();
    head.resize(head.len() + PAD, b'a');
    let held = hold_connections(addr, HEAVY, Arc::new(head));
    let during = rss_kib(worker.pid());
    let (status, took) = timed_signed(addr);
    drop(held);
    thread::sleep(Duration::from_secs(1));
    let after = rss_kib(worker.pid());
    eprintln!(
        "header flood: {HEAVY} connections x {PAD} bytes of unfinished headers; worker VmRSS \
         {before} KiB before, {during} KiB with the connections held, {after} KiB after; a \
         signed request answered {status} in {took:?}"
    );
    assert_eq!(status, 200, "stderr:\n{}", tail(&worker.stderr()));
    assert!(
        during <= before + HEADER_FLOOD_BOUND_KIB && after <= before + HEADER_FLOOD_BOUND_KIB,
        "the worker grew from {before} KiB to {during} KiB (during) and {after} KiB (after)"
    );
}

#[test]
fn more_idle_connections_than_file_descriptors_do_not_starve_a_signed_request() {
    let (worker, addr) = lone_worker(256);
    let held = hold_connections(addr, IDLE, Arc::new(Vec::new()));
    // Time for the worker to accept what it can.
    thread::sleep(Duration::from_millis(500));
    let (status, took) = timed_signed(addr);
    eprintln!(
        "{IDLE} idle connections against 256 file descriptors: a signed request answered \
         {status} in {took:?}"
    );
    drop(held);
    assert_eq!(status, 200, "stderr:\n{}", tail(&worker.stderr()));
}
