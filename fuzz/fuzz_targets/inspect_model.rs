//! Arbitrary bytes as a container's inspect JSON: building the model must return a value or an
//! error, never panic, and a model that was built must render every property of the context.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pygen::model::{Container, Snapshot};
use pygen::template::Template;

/// Templates that, between them, read every property of a container and of the lists. Separate
/// templates, so that an error in one (a value that cannot be printed) does not hide the rest.
const TEMPLATES: &[&str] = &[
    "{% for c in all_containers %}{{ c.id }} {{ c.short_id }} {{ c.name }} {{ c.image }} \
     {{ c.image_id }} {{ c.status }} {{ c.health }} {{ c.hostname }} {{ c.created }} \
     {{ c.started_at }}{% endfor %}",
    "{% for c in all_containers %}{% for k, v in c.labels|items %}{{ k }}={{ v }};{% endfor %}\
     {% for k, v in c.env|items %}{{ k }}={{ v }};{% endfor %}{{ c.labels.get('a') }}\
     {{ c.env.get('PATH', 'none') }}{{ c.labels|length }}{% endfor %}",
    "{% for c in all_containers %}{% for n in c.networks %}{{ n }}{% for k in n %}{{ k }}={{ n[k] }}\
     {% endfor %}{% endfor %}{{ c.networks.first }}{{ c.networks.first_value }}\
     {{ c.networks.last }}{% endfor %}",
    "{% for c in all_containers %}{{ c.ports }}{% for p in c.ports %}{{ p }}{% endfor %}\
     {% for p in c.published_ports %}{{ p }}{% for k in p %}{{ p[k] }}{% endfor %}{% endfor %}\
     {% for m in c.mounts %}{{ m }}{% for k in m %}{{ m[k] }}{% endfor %}{% endfor %}{% endfor %}",
    "{% for c in all_containers %}{{ c.raw }}{{ c|tojson }}{{ c }}{% endfor %}",
    "{{ containers|length }} {{ containers.healthy|length }} {{ containers.first }} \
     {{ containers.last }} {{ containers.first_value }} {{ all_containers.matching('x') }} \
     {{ all_containers.not_matching('x') }} {{ all_containers.with_health('healthy') }} \
     {{ own_container_id }} {{ all_containers.self }}",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(container) = Container::from_inspect_json(text) else {
        return;
    };
    // Every accessor, outside the template layer too.
    let _ = (
        container.id(),
        container.short_id(),
        container.name(),
        container.status(),
        container.health(),
        container.image(),
        container.label("a"),
        container.env_var("PATH"),
        container.networks().len(),
        container.published_ports().len(),
        container.mounts().len(),
        container.is_running(),
    );
    let own = Some(container.id().to_owned());
    let snapshot = Snapshot {
        containers: vec![Arc::new(container)],
        own_container_id: own,
        swarm: None,
    };
    // The dump must read back.
    let dump = snapshot.to_dump();
    if let Err(err) = Snapshot::from_dump(&dump) {
        panic!("a dump of a built model does not read back: {err}\n{dump}");
    }
    for text in TEMPLATES {
        // The templates are fixed and valid: compiling them cannot fail.
        let template = Template::from_text("fuzz", (*text).to_owned()).expect("valid template");
        let _ = template.render_snapshot(&snapshot);
    }
});
