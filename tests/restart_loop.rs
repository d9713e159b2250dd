//! pygen's own actions do not trigger themselves again: a template that lists the container
//! `--restart` restarts would otherwise change on the events of every restart and restart it
//! again, endlessly (issue 15). (A signal the container handles changes nothing a template
//! reads; its recognition is unit-tested in `actions`.)

mod common;

use std::fs;
use std::path::Path;

use common::watcher::{POLL, REACT, Watcher, metric_value, scrape};
use common::*;

/// The series counting successful restarts.
const RESTARTS: &str = "pygen_actions_total{kind=\"restart\",outcome=\"ok\"}";

/// Writes a template listing the running containers that carry `label`, with their start time
/// (which every restart changes).
fn listing_template(dir: &Path, label: &str) -> String {
    let path = dir.join("list.tmpl");
    fs::write(
        &path,
        format!(
            "{{% for c in containers if c.labels['{label}'] %}}{{{{ c.name }}}} {{{{ c.raw.State.StartedAt }}}}\n{{% endfor %}}"
        ),
    )
    .expect("write template");
    path.to_string_lossy().into_owned()
}

/// When the container last started, as the daemon says.
fn started_at(container: &TestContainer) -> String {
    container.inspect()["State"]["StartedAt"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until `series` reaches `at_least`; panics with pygen's log if it does not.
fn wait_metric(watcher: &Watcher, series: &str, at_least: f64) {
    let ok = wait_until(REACT, POLL, || watcher.metric(series) >= at_least);
    assert!(
        ok,
        "{series} stayed below {at_least}; stderr:\n{}",
        watcher.process.stderr()
    );
}

/// Makes one real change (a new listed container), waits until pygen wrote it and then until
/// the action it triggers, the `number`-th, has run.
fn real_change(watcher: &Watcher, label: &str, series: &str, number: f64) -> TestContainer {
    let added = TestContainer::builder().label(label, "1").start();
    watcher.wait_for("the new container is listed", |c| c.contains(added.name()));
    wait_metric(watcher, series, number);
    added
}

/// Waits until the target shows the proxy's current start time: the render that takes in
/// what the last restart changed has run.
fn wait_settled(watcher: &Watcher, proxy: &TestContainer) {
    let started = started_at(proxy);
    watcher.wait_for("the target shows the restarted proxy", |c| {
        c.contains(&format!("{} {started}", proxy.name()))
    });
}

/// Starts an unlisted container and waits until pygen rendered for it: every event before it,
/// the ones of the last restart included, has then been handled. Returns the container and
/// whether that render changed the target.
fn fence(watcher: &Watcher) -> (TestContainer, bool) {
    let renders = watcher.metric("pygen_renders_total");
    // The content, not the write counter: a write that landed just before may be counted
    // only after the file was replaced.
    let before = watcher.content();
    let other = TestContainer::start_default();
    wait_metric(watcher, "pygen_renders_total", renders + 1.0);
    let wrote = watcher.content() != before;
    (other, wrote)
}

#[test]
fn a_restarted_container_in_the_template_is_restarted_once_per_change() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("loop");
    let proxy = TestContainer::builder().label(&label, "1").start();
    let before = started_at(&proxy);
    // The first write is a change: it restarts the proxy once.
    let watcher = Watcher::start(
        &listing_template(dir.path(), &label),
        &["--restart", proxy.name(), "--interval", "0", "--debug"],
    );
    wait_metric(&watcher, RESTARTS, 1.0);
    let _first = real_change(&watcher, &label, RESTARTS, 2.0);
    let _second = real_change(&watcher, &label, RESTARTS, 3.0);
    wait_settled(&watcher, &proxy);
    let (_other, wrote) = fence(&watcher);
    let stderr = watcher.process.stderr();
    assert!(
        !wrote,
        "an unlisted container changed the target:\n{stderr}"
    );
    assert_eq!(
        watcher.metric(RESTARTS),
        3.0,
        "one restart per real change:\n{stderr}"
    );
    assert_ne!(started_at(&proxy), before, "the proxy was restarted");
    assert!(
        stderr.contains("event caused by pygen's own action: no render"),
        "the restart's events are recognised:\n{stderr}"
    );
    assert!(
        stderr.contains("the target changed by pygen's own actions: no notification"),
        "the restart's own change is written without acting again:\n{stderr}"
    );
}

/// The same loop through a `--swarm-manager` and its worker on this node: the manager forwards
/// the restart, the worker restarts the container, and both see its events (the manager in its
/// own event stream, the worker in its own, which it would report to the manager). Neither may
/// turn them into another restart: the worker holds them back and says when its action settled,
/// the manager holds back the events of the local containers it forwarded an action for.
#[test]
fn a_restart_through_a_worker_is_not_triggered_again_by_its_own_events() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("loop");
    let proxy = TestContainer::builder().label(&label, "1").start();
    let before = started_at(&proxy);
    let (worker_port, worker_metrics, manager_port) = (free_port(), free_port(), free_port());
    let worker = PygenProcess::spawn([
        "worker",
        "--manager",
        &format!("127.0.0.1:{manager_port}"),
        "--worker-address",
        "127.0.0.1",
        "--worker-port",
        &worker_port.to_string(),
        "--metrics",
        &worker_metrics.to_string(),
        "--metrics-address",
        "127.0.0.1",
        "--insecure-no-auth",
        "--debug",
    ]);
    let listening = wait_until(REACT, POLL, || {
        std::net::TcpStream::connect(("127.0.0.1", worker_port)).is_ok()
    });
    assert!(listening, "the worker did not start:\n{}", worker.stderr());
    let watcher = Watcher::start(
        &listing_template(dir.path(), &label),
        &[
            "--restart",
            proxy.name(),
            "--interval",
            "0",
            "--swarm-manager",
            "--manager-address",
            "127.0.0.1",
            "--swarm-manager-port",
            &manager_port.to_string(),
            "--workers",
            &format!("127.0.0.1:{worker_port}"),
            "--insecure-no-auth",
            "--debug",
        ],
    );
    let context = || {
        format!(
            "manager stderr:\n{}\nworker stderr:\n{}",
            watcher.process.stderr(),
            worker.stderr()
        )
    };
    let worker_restarts = || metric_value(&scrape(worker_metrics), RESTARTS);
    let wait_restarts = |n: f64| {
        let ok = wait_until(REACT, POLL, || worker_restarts() >= n);
        assert!(ok, "the worker's restarts stayed below {n}\n{}", context());
    };
    // The first write is a change: the worker restarts the proxy once.
    wait_restarts(1.0);
    wait_settled(&watcher, &proxy);
    let (_other, _) = fence(&watcher);
    assert_eq!(
        worker_restarts(),
        1.0,
        "restarted by its own events\n{}",
        context()
    );
    // A real change restarts it once more, and only once.
    let added = TestContainer::builder().label(&label, "1").start();
    watcher.wait_for("the new container is listed", |c| c.contains(added.name()));
    wait_restarts(2.0);
    wait_settled(&watcher, &proxy);
    let (_another, _) = fence(&watcher);
    assert_eq!(
        worker_restarts(),
        2.0,
        "one restart per real change\n{}",
        context()
    );
    assert_ne!(started_at(&proxy), before, "the proxy was restarted");
    let worker_log = worker.stderr();
    assert!(
        worker_log.contains("event caused by pygen's own action: no render"),
        "the worker holds back its action's events\n{}",
        context()
    );
    assert!(
        watcher
            .process
            .stderr()
            .contains("a worker's own actions settled"),
        "the worker said its action settled\n{}",
        context()
    );
}
