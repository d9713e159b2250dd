//! Arbitrary template text compiled and rendered over a fixed snapshot (the recorded sample
//! containers): compiling and rendering return output or an error, never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pygen::model::Snapshot;
use pygen::template::Template;

/// The recorded dump of a few real containers (networks, ports, health, Compose labels).
const DUMP: &str = include_str!("../../tests/data/sample-dump.json");

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    // The dump is a file of the repository, checked by the test suite.
    SNAPSHOT.get_or_init(|| Snapshot::from_dump(DUMP).expect("the sample dump reads"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(template) = Template::from_text("fuzz", text.to_owned()) else {
        return;
    };
    let _ = template.render_snapshot(snapshot());
});
