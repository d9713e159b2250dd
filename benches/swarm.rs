//! Times a full Swarm render beyond the API calls: from the bodies of `GET /services`,
//! `GET /tasks` and `GET /nodes` (synthetic, made from the recorded sample) to the rendered
//! text: JSON parsing, building the services with their tasks, the context, and a template
//! that reads every service, task and network. Run with `cargo bench --bench swarm`; prints
//! figures, asserts nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pygen::model::{Snapshot, Swarm};
use pygen::template::Template;

const SERVICES: &str = include_str!("../tests/data/swarm/services.json");
const TASKS: &str = include_str!("../tests/data/swarm/tasks.json");
const NODES: &str = include_str!("../tests/data/swarm/nodes.json");

/// An nginx-style template over every service, task and network, plus the nodes.
const TEMPLATE: &str = r#"{% for s in services %}
upstream {{ s.name }} { # {{ s.id }} {{ s.image }} v{{ s.version }} {{ s.labels.svc }}
{% for t in s.tasks.with_status('running') %}{% for n in t.networks.not_matching('ingress') %}{% for ip in n.ip_addresses %}
    server {{ ip }}:{{ s.ports.tcp.first_value }}; # {{ t.name }} {{ t.node_id }} {{ t.labels['com.docker.swarm.service.name'] }} {{ t.env.PYGEN_ENV_KEY }}
{% endfor %}{% endfor %}{% endfor %}
}
{% for n in s.networks %}# network {{ n.name }} gateway {{ n.gateway }} {{ n.ip_addresses|join(',') }}
{% endfor %}# ingress {{ s.ingress.gateway }} {{ s.ingress.ports.tcp|join(',') }} {{ s.ingress.ip_addresses|length }} addresses
{% endfor %}
{% for n in nodes %}# node {{ n.name }} {{ n.role }} {{ n.state }} {{ n.platform.os }}
{% endfor %}{{ services.matching('svc-25')|length }} {{ all_services|length }}"#;

/// The bodies of `/services`, `/tasks`, `/nodes` for `services` services of `tasks` tasks.
fn synthetic(services: usize, tasks: usize) -> (String, String, String) {
    let service_items: Vec<serde_json::Value> = serde_json::from_str(SERVICES).expect("valid");
    let task_items: Vec<serde_json::Value> = serde_json::from_str(TASKS).expect("valid");
    // The replicated sample service, on its own overlay network and the ingress.
    let base_service = service_items
        .iter()
        .find(|s| s["Spec"]["Name"] == "ptest-a")
        .expect("the sample has ptest-a")
        .clone();
    let base_task = task_items
        .iter()
        .find(|t| t["ServiceID"] == base_service["ID"])
        .expect("ptest-a has tasks")
        .clone();
    let mut out_services = Vec::new();
    let mut out_tasks = Vec::new();
    for i in 0..services {
        let id = format!("svc{i:022}");
        let mut s = base_service.clone();
        s["ID"] = id.clone().into();
        s["Spec"]["Name"] = format!("svc-{i}").into();
        s["Endpoint"]["VirtualIPs"][0]["Addr"] = format!("10.0.{}.{}/16", i / 200, i % 200).into();
        s["Endpoint"]["VirtualIPs"][1]["Addr"] = format!("10.1.{}.{}/16", i / 200, i % 200).into();
        out_services.push(s);
        for slot in 1..=tasks {
            let mut t = base_task.clone();
            t["ID"] = format!("task{i:04}{slot:04}{}", "x".repeat(13)).into();
            t["ServiceID"] = id.clone().into();
            t["Slot"] = slot.into();
            t["Status"]["ContainerStatus"]["ContainerID"] = format!("{i:032x}{slot:032x}").into();
            t["NetworksAttachments"][0]["Addresses"][0] =
                format!("10.0.{}.{}/16", 100 + i / 50, (i * 4 + slot) % 250).into();
            t["NetworksAttachments"][1]["Addresses"][0] =
                format!("10.1.{}.{}/16", 100 + i / 50, (i * 4 + slot) % 250).into();
            out_tasks.push(t);
        }
    }
    (
        serde_json::to_string(&out_services).expect("serializes"),
        serde_json::to_string(&out_tasks).expect("serializes"),
        NODES.to_owned(),
    )
}

/// Parses the three bodies into the Swarm state, as a refresh does after its API calls.
fn parse(services: &str, tasks: &str, nodes: &str) -> Swarm {
    let items = |body: &str| -> Vec<serde_json::Value> {
        serde_json::from_str(body).expect("the bodies are JSON arrays")
    };
    Swarm::from_items(&items(services), &items(tasks), &items(nodes))
}

/// Runs `f` `rounds` times and returns (min, median).
fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    samples.sort();
    (samples[0], samples[samples.len() / 2])
}

fn report(what: &str, (min, median): (Duration, Duration)) {
    println!(
        "{what:<58} min {:>9.3} ms   median {:>9.3} ms",
        ms(min),
        ms(median)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let template =
        Template::from_text("swarm", TEMPLATE.to_owned()).expect("the template compiles");
    for (services, tasks) in [(50, 4), (200, 4)] {
        let (s, t, n) = synthetic(services, tasks);
        println!(
            "--- {services} services x {tasks} tasks ({} KiB /services, {} KiB /tasks)",
            s.len() / 1024,
            t.len() / 1024
        );
        report(
            "parse the bodies into services, tasks, nodes",
            time(20, || parse(&s, &t, &n)),
        );
        let swarm = std::sync::Arc::new(parse(&s, &t, &n));
        let snapshot = Snapshot {
            containers: Vec::new(),
            own_container_id: None,
            swarm: Some(swarm),
        };
        let rendered = template.render_snapshot(&snapshot).expect("renders");
        report(
            "context + render (every service, task, network)",
            time(20, || template.render_snapshot(&snapshot).expect("renders")),
        );
        report(
            "full render beyond the API calls (parse + render)",
            time(20, || {
                let snapshot = Snapshot {
                    containers: Vec::new(),
                    own_container_id: None,
                    swarm: Some(std::sync::Arc::new(parse(&s, &t, &n))),
                };
                template.render_snapshot(&snapshot).expect("renders")
            }),
        );
        println!(
            "{:<58} {} lines, {} KiB",
            "output",
            rendered.lines().count(),
            rendered.len() / 1024
        );
    }
}
