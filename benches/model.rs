//! Times the model and template layers over synthetic containers built from the recorded
//! inspect sample: parsing inspect bodies and rendering
//! `nginx.example`. Run with `cargo bench --bench model`; prints figures, asserts nothing.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pygen::model::{Container, Snapshot};
use pygen::template::Template;

const SAMPLE: &str = include_str!("../tests/data/sample-inspect.json");
const NGINX: &str = include_str!("../tests/data/templates/nginx.example");

/// Inspect bodies of `n` distinct containers spread over 50 virtual hosts.
fn synthetic(n: usize) -> Vec<String> {
    let base: serde_json::Value = serde_json::from_str(SAMPLE).expect("the sample is valid JSON");
    (0..n)
        .map(|i| {
            let mut c = base.clone();
            c["Id"] = format!("{i:08x}{}", "ab".repeat(28)).into();
            c["Name"] = format!("/app-{i}").into();
            c["Created"] = format!(
                "2026-01-01T{:02}:{:02}:{:02}.{i}Z",
                i / 3600 % 24,
                i / 60 % 60,
                i % 60
            )
            .into();
            let labels = &mut c["Config"]["Labels"];
            labels["virtual-host"] = format!("site{}.example.com", i % 50).into();
            if i % 3 == 0 {
                labels["context-path"] = format!("/api{}", i % 4).into();
            }
            labels["com.docker.compose.service"] = format!("svc{}", i % 50).into();
            let net = &mut c["NetworkSettings"]["Networks"]["samplenet"];
            net["IPAddress"] =
                format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256).into();
            c.to_string()
        })
        .collect()
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
        Template::from_text("nginx.example", NGINX.to_owned()).expect("nginx.example compiles");
    for n in [300, 1000] {
        let bodies = synthetic(n);
        let bytes: usize = bodies.iter().map(String::len).sum();
        println!(
            "--- {n} containers ({} KiB of compact inspect JSON)",
            bytes / 1024
        );

        report(
            "(reference) parse the bodies into serde_json::Value",
            time(20, || {
                bodies
                    .iter()
                    .map(|b| {
                        serde_json::from_str::<serde_json::Value>(b).expect("bodies are valid JSON")
                    })
                    .collect::<Vec<_>>()
            }),
        );
        report(
            "parse inspect JSON into containers",
            time(20, || {
                bodies
                    .iter()
                    .map(|b| Container::from_inspect_json(b).map(Arc::new))
                    .collect::<Result<Vec<_>, _>>()
                    .expect("bodies parse")
            }),
        );

        let snapshot = Snapshot {
            containers: bodies
                .iter()
                .map(|b| Container::from_inspect_json(b).map(Arc::new))
                .collect::<Result<Vec<_>, _>>()
                .expect("bodies parse"),
            own_container_id: None,
            swarm: None,
        };
        let compact: usize = snapshot.containers.iter().map(|c| c.raw_json().len()).sum();
        let kept: usize = snapshot
            .containers
            .iter()
            .map(|c| c.raw_json_packed_len())
            .sum();
        println!(
            "{:<58} {} KiB ({} KiB compact JSON)",
            "inspect bodies kept, compressed",
            kept / 1024,
            compact / 1024
        );

        report(
            "render nginx.example (objects kept between renders)",
            time(50, || template.render_snapshot(&snapshot).expect("renders")),
        );
        report(
            "parse + context + render nginx.example",
            time(20, || {
                let containers = bodies
                    .iter()
                    .map(|b| Container::from_inspect_json(b).map(Arc::new))
                    .collect::<Result<Vec<_>, _>>()
                    .expect("bodies parse");
                let snapshot = Snapshot {
                    containers,
                    own_container_id: None,
                    swarm: None,
                };
                template.render_snapshot(&snapshot).expect("renders")
            }),
        );
        let output = template.render_snapshot(&snapshot).expect("renders");
        println!("{:<58} {} KiB", "rendered output", output.len() / 1024);
    }
}
