//! Arbitrary bytes as the `swarm` part of a state dump (`{"services": [..], "tasks": [..],
//! "nodes": [..]}`, the daemon's own objects): reading the dump, `Swarm::from_items` on the same
//! lists, and the `services`, `all_services` and `nodes` objects templates see must return a
//! value or an error, never panic; a dump that was read writes a dump that reads back.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pygen::model::{Snapshot, Swarm};
use pygen::template::Template;

/// Templates that, between them, read every key of every service, task and node, nested values
/// included, and serialize them. Separate templates, so that an error in one does not hide the
/// rest.
const TEMPLATES: &[&str] = &[
    "{% for s in all_services %}{% for k in s %}{{ k }}={{ s[k] }};{% endfor %}\
     {% for t in s.tasks %}{% for k in t %}{{ k }}={{ t[k] }};{% endfor %}{% endfor %}{% endfor %}",
    "{% for s in services %}{{ s.name }} {{ s.labels.get('a') }} {{ s.labels|length }}\
     {% for p in s.ports %}{% for k in p %}{{ p[k] }}{% endfor %}{% endfor %}\
     {% for n in s.networks %}{{ n }}{% endfor %}{{ s.tasks|length }}\
     {% for t in s.tasks %}{{ t.node }}{{ t.status }}{{ t.networks }}\
     {% for n in t.networks %}{% for k in n %}{{ n[k] }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    "{% for n in nodes %}{% for k in n %}{{ k }}={{ n[k] }};{% endfor %}{% endfor %}\
     {{ nodes.first }} {{ nodes.last }} {{ services.first }} {{ all_services.last }}",
    "{{ all_services|tojson }}{{ nodes|tojson }}{% for s in all_services %}{{ s.raw }}\
     {% for t in s.tasks %}{{ t.raw }}{{ t|tojson }}{% endfor %}{% endfor %}",
    "{{ services.matching('a') }} {{ all_services.not_matching('a') }} {{ services.self }}",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The same lists straight into the model.
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        let list = |key: &str| match map.get(key) {
            Some(serde_json::Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        let _ = Swarm::from_items(&list("services"), &list("tasks"), &list("nodes"));
    }
    let dump = format!(r#"{{"version": 1, "containers": [], "swarm": {text}}}"#);
    let Ok(snapshot) = Snapshot::from_dump(&dump) else {
        return;
    };
    let again = snapshot.to_dump();
    if let Err(err) = Snapshot::from_dump(&again) {
        panic!("a dump of a read dump does not read back: {err}\n{again}");
    }
    let snapshot = Snapshot {
        swarm: snapshot.swarm.clone().or_else(|| Some(Arc::new(Swarm::default()))),
        ..snapshot
    };
    for text in TEMPLATES {
        // The templates are fixed and valid: compiling them cannot fail.
        let template = Template::from_text("fuzz", (*text).to_owned()).expect("valid template");
        let _ = template.render_snapshot(&snapshot);
    }
});
