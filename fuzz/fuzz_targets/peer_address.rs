//! Arbitrary `--workers` / `--manager` values through the peer parser: an address or an error,
//! never a panic; an address has a non-empty host found in the value and a port from 1 to
//! 65535, and the address written back as `HOST:PORT` (`[HOST]:PORT` for IPv6) parses to the
//! same host and port.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pygen::swarm::client::Peer;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let default_port = 9412;
    let Ok(peer) = Peer::parse("--workers", spec, default_port) else {
        return;
    };
    assert!(!peer.host.is_empty(), "{spec:?} -> {peer:?}");
    assert_ne!(peer.port, 0, "{spec:?} -> {peer:?}");
    assert!(spec.contains(&peer.host), "{spec:?} -> {peer:?}");
    assert_eq!(peer.label, spec);
    let written = if peer.host.contains(':') {
        format!("[{}]:{}", peer.host, peer.port)
    } else {
        format!("{}:{}", peer.host, peer.port)
    };
    // A host with ']' or ':' in odd places may not round-trip through the bracket form; the
    // plain forms must.
    if !peer.host.contains(']') && !peer.host.contains('[') {
        let back = Peer::parse("--workers", &written, default_port)
            .unwrap_or_else(|e| panic!("{spec:?} -> {written:?} does not parse: {e}"));
        assert_eq!((back.host.as_str(), back.port), (peer.host.as_str(), peer.port), "{spec:?}");
    }
});
