//! Arbitrary text as `/proc/self/cgroup`, `/proc/self/mountinfo` and `/etc/hostname`: the
//! own-container-id parsers return an id or nothing, never panic, and an id they return is
//! lowercase hex of a container id's length (64, or 12 to 64 for a hostname) found in the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pygen::ownid::{from_cgroup, from_hostname, from_mountinfo};

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (what, id) in [("cgroup", from_cgroup(text)), ("mountinfo", from_mountinfo(text))] {
        if let Some(id) = id {
            assert_eq!(id.len(), 64, "{what}: {id:?} from {text:?}");
            assert!(is_lower_hex(&id), "{what}: {id:?} from {text:?}");
            assert!(text.contains(&id), "{what}: {id:?} not in {text:?}");
        }
    }
    if let Some(id) = from_hostname(text) {
        assert!((12..=64).contains(&id.len()), "hostname: {id:?}");
        assert!(is_lower_hex(&id), "hostname: {id:?}");
        assert_eq!(id, text.trim(), "hostname: {id:?} from {text:?}");
    }
});
