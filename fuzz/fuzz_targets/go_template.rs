//! Arbitrary Go template text parsed and executed by the gotmpl crate over the shared fixture's
//! data, with the builtins and a few sprig functions: parsing and execution return output or an
//! error, never panic, and never hang (bounded template depth, output and steps).
#![no_main]

use std::sync::OnceLock;

use gotmpl::{FuncMap, Limits, Template, Value};
use libfuzzer_sys::fuzz_target;

/// The data of the shared Go template cases (lists, maps, nested maps, nil, strings).
const CASES: &str = include_str!("../../crates/gotmpl/tests/cases/fixture.json");

/// Sprig functions whose cost is bounded by their input size (no `repeat`, `until`, `bcrypt`).
const SAFE: &[&str] = &[
    "dict", "set", "list", "append", "add", "default", "upper", "trim", "hasKey", "toJson", "fail",
];

fn funcs() -> &'static FuncMap {
    static FUNCS: OnceLock<FuncMap> = OnceLock::new();
    FUNCS.get_or_init(|| {
        let sprig = gotmpl::sprig::funcs();
        let mut m = FuncMap::new();
        for name in SAFE {
            if let Some(f) = sprig.get(name) {
                m.insert_function(name, f.clone());
            }
        }
        m
    })
}

fn data() -> &'static serde_json::Value {
    static DATA: OnceLock<serde_json::Value> = OnceLock::new();
    // The fixture is a file of the repository, read by the crate's tests.
    DATA.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(CASES).expect("the fixture is JSON");
        v["data"].clone()
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&mode, rest)) = bytes.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let limits = Limits {
        max_depth: 50,
        max_output: Some(1 << 20),
        max_steps: Some(100_000),
    };
    let mut t = Template::new("fuzz").funcs(funcs().clone()).limits(limits);
    t = match mode % 4 {
        0 => t,
        1 => t.option("missingkey=zero").expect("a known option"),
        2 => t.option("missingkey=error").expect("a known option"),
        _ => t.delims("[[", "]]"),
    };
    if t.parse(text).is_err() {
        return;
    }
    let _ = t.execute(&Value::from(data().clone()));
});
