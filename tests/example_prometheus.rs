//! The Prometheus example (`examples/prometheus-file-sd/`) on the real daemon: the rendered
//! file_sd target list parses as JSON and holds exactly one group per labelled container, with
//! the address Docker gives it and the labels the template documents.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

/// The example's template.
fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus-file-sd/targets.json.tmpl")
}

/// The target group of container `name` in the rendered list, if any.
fn group_of<'a>(groups: &'a [Value], name: &str) -> Option<&'a Value> {
    groups.iter().find(|g| g["labels"]["container"] == name)
}

#[test]
fn file_sd_targets_match_the_labelled_containers() {
    require_docker();
    let network = TestNetwork::new();
    let other = TestNetwork::new();
    let plain = TestContainer::builder()
        .label("prometheus.port", "9100")
        .network(network.name())
        .start();
    let tuned = TestContainer::builder()
        .label("prometheus.port", "8080")
        .label("prometheus.job", "frontend")
        .label("prometheus.path", "/internal/metrics")
        .network(network.name())
        .start();
    // Two networks: the label picks the second one's address.
    let picky = TestContainer::builder()
        .label("prometheus.port", "9200")
        .label("prometheus.network", other.name())
        .network(network.name())
        .network(other.name())
        .start();
    let unlabelled = TestContainer::builder().network(network.name()).start();
    let stopped = TestContainer::builder()
        .label("prometheus.port", "9300")
        .start();
    stopped.stop();

    let target = tempfile::tempdir().expect("temporary folder");
    let file = target.path().join("targets.json");
    let output = run_pygen([
        "--template".as_ref(),
        template().as_os_str(),
        "--target".as_ref(),
        file.as_os_str(),
        "--one-shot".as_ref(),
    ]);
    assert!(
        output.status.success(),
        "pygen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&file).expect("pygen wrote the target");
    // The whole file is one JSON array, whatever else runs on the daemon.
    let groups: Vec<Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the target is not a JSON array: {e}\n{text}"));

    let ip = |c: &TestContainer, net: &TestNetwork| {
        c.ip_address(net.name())
            .unwrap_or_else(|| panic!("{} has no address on {}", c.name(), net.name()))
    };
    let expected = [
        (
            &plain,
            json!({
                "targets": [format!("{}:9100", ip(&plain, &network))],
                "labels": {
                    "job": plain.name(),
                    "container": plain.name(),
                    "image": TEST_IMAGE,
                    "__metrics_path__": "/metrics",
                },
            }),
        ),
        (
            &tuned,
            json!({
                "targets": [format!("{}:8080", ip(&tuned, &network))],
                "labels": {
                    "job": "frontend",
                    "container": tuned.name(),
                    "image": TEST_IMAGE,
                    "__metrics_path__": "/internal/metrics",
                },
            }),
        ),
        (
            &picky,
            json!({
                "targets": [format!("{}:9200", ip(&picky, &other))],
                "labels": {
                    "job": picky.name(),
                    "container": picky.name(),
                    "image": TEST_IMAGE,
                    "__metrics_path__": "/metrics",
                },
            }),
        ),
    ];
    for (container, group) in &expected {
        assert_eq!(
            group_of(&groups, container.name()),
            Some(group),
            "{}:\n{text}",
            container.name()
        );
    }
    assert_ne!(ip(&picky, &network), ip(&picky, &other));
    for absent in [&unlabelled, &stopped] {
        assert_eq!(
            group_of(&groups, absent.name()),
            None,
            "{} must not be a target:\n{text}",
            absent.name()
        );
    }
    // Every group has the file_sd shape, also those of containers this test did not start.
    for group in &groups {
        let targets = group["targets"].as_array().expect("targets is a list");
        assert_eq!(targets.len(), 1, "{group}");
        assert!(
            targets[0].as_str().is_some_and(|t| t.contains(':')),
            "{group}"
        );
        assert!(group["labels"].is_object(), "{group}");
    }
}
