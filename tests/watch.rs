//! Watch mode against the real daemon: events keep the target current, notifications reach
//! their containers, bursts end exact with no render held back, a blocked render holds back
//! nothing else, the daemon can go away, and `/metrics` parses.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use std::path::Path;
use std::time::{Duration, Instant};

use common::watcher::Watcher;
use common::*;

/// How long a test waits for pygen to react to something.
const REACT: Duration = Duration::from_secs(20);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(50);

/// Writes a template file listing the running containers that carry `label`.
fn names_template(dir: &Path, label: &str) -> String {
    let path = dir.join("names.tmpl");
    fs::write(
        &path,
        format!(
            "{{% for c in containers if c.labels['{label}'] %}}{{{{ c.name }}}} {{{{ c.health }}}}\n{{% endfor %}}"
        ),
    )
    .expect("write template");
    path.to_string_lossy().into_owned()
}

#[test]
fn containers_appear_and_disappear_and_health_rerenders() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("watch");
    let watcher = Watcher::start(&names_template(dir.path(), &label), &["--interval", "0"]);
    let web = TestContainer::builder()
        .label(&label, "1")
        .health_check("true", Duration::from_secs(1))
        .shell("sleep 100000")
        .start();
    watcher.wait_for("started container listed", |c| c.contains(web.name()));
    watcher.wait_for("health turned healthy", |c| {
        c.contains(&format!("{} healthy", web.name()))
    });
    web.stop();
    watcher.wait_for("stopped container gone", |c| !c.contains(web.name()));
}

/// A busybox container that writes `Signalled` to /got when it receives SIGHUP.
fn trapping_container(label: (&str, &str)) -> TestContainer {
    TestContainer::builder()
        .label(label.0, label.1)
        .shell("trap 'echo Signalled >> /got' HUP; while true; do sleep 0.1; done")
        .start()
}

/// What the container wrote to /got.
fn got(container: &TestContainer) -> String {
    String::from_utf8_lossy(&container.exec(["cat", "/got"]).stdout).into_owned()
}

#[test]
fn signal_reaches_a_trapping_container() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("sig");
    let target_name = unique_name("sigtarget");
    let receiver = trapping_container(("pygen.target", &target_name));
    let watcher = Watcher::start(
        &names_template(dir.path(), &label),
        &["--interval", "0", "--signal", &target_name, "HUP"],
    );
    let _trigger = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    let ok = wait_until(REACT, POLL, || got(&receiver).contains("Signalled"));
    assert!(
        ok,
        "no SIGHUP arrived; pygen said:\n{}",
        watcher.process.stderr()
    );
}

/// The `StartedAt` of a container.
fn started_at(container: &TestContainer) -> String {
    container.inspect()["State"]["StartedAt"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn restart_finds_targets_by_label_env_and_compose_service() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("rst");
    let by_label_target = unique_name("rst-label");
    let by_env_target = unique_name("rst-env");
    let compose_service = unique_name("rst-compose");
    let quick_stop =
        |b: TestContainerBuilder| b.shell("trap 'exit 0' TERM; while true; do sleep 0.1; done");
    let by_label =
        quick_stop(TestContainer::builder().label("pygen.target", &by_label_target)).start();
    let by_env = quick_stop(TestContainer::builder().env("PYGEN_TARGET", &by_env_target)).start();
    let by_compose =
        quick_stop(TestContainer::builder().label("com.docker.compose.service", &compose_service))
            .start();
    let bystander = quick_stop(TestContainer::builder()).start();
    let before: Vec<String> = [&by_label, &by_env, &by_compose, &bystander]
        .iter()
        .map(|c| started_at(c))
        .collect();
    let watcher = Watcher::start(
        &names_template(dir.path(), &label),
        &[
            "--interval",
            "0",
            "--restart",
            &by_label_target,
            "--restart",
            &by_env_target,
            "--restart",
            &compose_service,
        ],
    );
    let _trigger = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    for (container, before) in [&by_label, &by_env, &by_compose].iter().zip(&before) {
        let ok = wait_until(REACT, POLL, || started_at(container) != *before);
        assert!(
            ok,
            "{} was not restarted:\n{}",
            container.name(),
            watcher.process.stderr()
        );
    }
    assert_eq!(
        started_at(&bystander),
        before[3],
        "an unrelated container was restarted"
    );
}

#[test]
fn a_burst_of_starts_ends_exact_and_no_render_waits_on_a_timer() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("burst");
    let watcher = Watcher::start(&names_template(dir.path(), &label), &["--interval", "0"]);
    let containers: Vec<TestContainer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let label = label.clone();
                scope.spawn(move || {
                    TestContainer::builder()
                        .label(&label, "1")
                        .shell("sleep 100000")
                        .start()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("start thread"))
            .collect()
    });
    let mut expected: Vec<String> = containers
        .iter()
        .map(|k| format!("{} unknown", k.name()))
        .collect();
    expected.sort();
    // The file must end exact without any further event: the last start is served by the
    // render that follows it, not by a later timer.
    watcher.wait_for("exactly the 50 started containers", |c| {
        let mut lines: Vec<&str> = c.lines().collect();
        lines.sort_unstable();
        lines == expected
    });
    // Every update started as soon as the one before it ended: none waited a hold-off. An
    // update takes milliseconds; a second is far above it even on a loaded machine, and far
    // below the hold-offs a paced burst waits.
    let metrics = watcher.metrics();
    let updates = common::watcher::metric_value(&metrics, "pygen_render_wait_seconds_count");
    let within_a_second =
        common::watcher::metric_value(&metrics, "pygen_render_wait_seconds_bucket{le=\"1.0\"}");
    assert!(updates >= 1.0, "no update counted:\n{metrics}");
    assert_eq!(
        within_a_second, updates,
        "an update waited more than a second for its turn:\n{metrics}"
    );
}

#[test]
fn an_unchanged_render_writes_and_notifies_nothing() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("same");
    let target_name = unique_name("same-target");
    let receiver = trapping_container(("pygen.target", &target_name));
    let watcher = Watcher::start(
        &names_template(dir.path(), &label),
        &["--interval", "0", "--signal", &target_name, "HUP"],
    );
    // Wait for the startup notification (the first write is a change) to land.
    let _ = wait_until(REACT, POLL, || got(&receiver).contains("Signalled"));
    std::thread::sleep(Duration::from_millis(500));
    let signals_before = got(&receiver).lines().count();
    let writes_before = watcher.metric("pygen_writes_total");
    let renders_before = watcher.metric("pygen_renders_total");
    let inode_before = fs::metadata(&watcher.target)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .ok();
    // A container without the label: an event, a render, the same content.
    let _other = TestContainer::builder().shell("sleep 100000").start();
    let rendered = wait_until(REACT, POLL, || {
        watcher.metric("pygen_renders_total") > renders_before
    });
    assert!(rendered, "the start event did not render");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        watcher.metric("pygen_writes_total"),
        writes_before,
        "an unchanged render wrote"
    );
    let inode_after = fs::metadata(&watcher.target)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .ok();
    assert_eq!(inode_before, inode_after);
    assert_eq!(
        got(&receiver).lines().count(),
        signals_before,
        "an unchanged render notified"
    );
}

#[test]
fn a_cut_daemon_connection_is_survived_and_changes_made_meanwhile_appear() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("cut");
    let mut proxy = UnixProxy::start();
    let address = proxy.address();
    let mut watcher = Watcher::start(
        &names_template(dir.path(), &label),
        &["--interval", "0", "--docker-address", &address],
    );
    let before = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    watcher.wait_for("first container", |c| c.contains(before.name()));
    proxy.cut();
    let during = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    before.stop();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        watcher.process.is_running(),
        "pygen exited when the daemon went away"
    );
    proxy.restore();
    watcher.wait_for("changes made while cut", |c| {
        c.contains(during.name()) && !c.contains(before.name())
    });
    let reconnects = watcher.metric("pygen_docker_reconnects_total");
    assert!(reconnects >= 1.0, "reconnects metric: {reconnects}");
}

#[test]
fn a_render_error_keeps_the_old_file_and_is_counted() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("err");
    let path = dir.path().join("err.tmpl");
    fs::write(
        &path,
        format!(
            "{{% for c in containers if c.labels['{label}'] %}}{{% if c.labels['{label}'] == 'boom' %}}{{{{ c.name|no_such_filter }}}}{{% endif %}}{{{{ c.name }}}}\n{{% endfor %}}"
        ),
    )
    .expect("template");
    let watcher = Watcher::start(
        path.to_str().unwrap_or_default(),
        &["--interval", "0", "--debug"],
    );
    let good = TestContainer::builder()
        .label(&label, "ok")
        .shell("sleep 100000")
        .start();
    watcher.wait_for("good container", |c| c.contains(good.name()));
    let before = watcher.content();
    let errors_before = watcher.metric("pygen_render_errors_total");
    let _bad = TestContainer::builder()
        .label(&label, "boom")
        .shell("sleep 100000")
        .start();
    let counted = wait_until(REACT, POLL, || {
        watcher.metric("pygen_render_errors_total") > errors_before
    });
    assert!(
        counted,
        "render error not counted:\n{}",
        watcher.process.stderr()
    );
    assert_eq!(
        watcher.content(),
        before,
        "the last good file must stay; pygen's log:\n{}",
        watcher.process.stderr()
    );
    // The counter moves in the render; the log line follows when the loop hears of the
    // failure, so it is waited for, not expected at once.
    let logged = wait_until(REACT, POLL, || {
        watcher.process.stderr().contains("err.tmpl:1")
    });
    assert!(logged, "{}", watcher.process.stderr());
}

#[test]
fn metrics_endpoint_serves_well_formed_metrics() {
    require_docker();
    let watcher = Watcher::start("#{{ containers|length }}", &["--interval", "0"]);
    let text = watcher.metrics();
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line}"));
        assert!(value.parse::<f64>().is_ok(), "value of {line}");
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "name of {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "labels of {line}");
        }
    }
    for family in [
        "pygen_renders_total",
        "pygen_writes_total",
        "pygen_events_taken_total",
        "pygen_generation_seconds_count",
        "pygen_docker_connected",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(family), "missing {family}:\n{text}");
    }
    assert_eq!(watcher.metric("pygen_docker_connected"), 1.0);
}

#[test]
fn sighup_reloads_the_template_and_sigterm_exits_promptly() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("reload.tmpl");
    fs::write(&path, "version one\n").expect("template");
    let mut watcher = Watcher::start(path.to_str().unwrap_or_default(), &["--interval", "0"]);
    watcher.wait_for("first version", |c| c == "version one");
    fs::write(&path, "version two {% for %}\n").expect("broken template");
    watcher.process.signal("HUP");
    let logged = wait_until(REACT, POLL, || {
        watcher.process.stderr().contains("reload.tmpl:1")
    });
    assert!(
        logged,
        "the broken template's line is reported:\n{}",
        watcher.process.stderr()
    );
    assert_eq!(
        watcher.content(),
        "version one",
        "a broken reload keeps the previous template"
    );
    fs::write(&path, "version three\n").expect("fixed template");
    watcher.process.signal("HUP");
    watcher.wait_for("reloaded", |c| c == "version three");
    let asked = Instant::now();
    watcher.process.signal("TERM");
    let status = watcher.process.wait_exit(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "exit status {status:?}"
    );
    assert!(asked.elapsed() < Duration::from_secs(5));
}

/// The content of `path` and the inode it was read from (one open file, so they match).
fn read_with_inode(path: &Path) -> Option<(u64, String)> {
    use std::io::Read;
    let mut file = fs::File::open(path).ok()?;
    let inode = std::os::unix::fs::MetadataExt::ino(&file.metadata().ok()?);
    let mut content = String::new();
    file.read_to_string(&mut content).ok()?;
    Some((inode, content))
}

#[test]
fn a_removed_container_never_appears_in_the_next_write() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("rmf");
    let watcher = Watcher::start(&names_template(dir.path(), &label), &["--interval", "0"]);
    let keeper = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    watcher.wait_for("keeper", |c| c.contains(keeper.name()));
    for round in 0..20 {
        let doomed = TestContainer::builder()
            .label(&label, "1")
            .shell("sleep 100000")
            .start();
        let name = doomed.name().to_owned();
        watcher.wait_for("doomed listed", |c| c.contains(&name));
        // Every write replaces the file, so a new inode is a new write. The write counter is
        // no clock for this: it moves right after the rename the wait above may already have
        // seen.
        let listed = read_with_inode(&watcher.target);
        let listed_inode = listed.as_ref().map(|(inode, _)| *inode);
        doomed.remove();
        let mut after = None;
        let written = wait_until(REACT, POLL, || {
            after = read_with_inode(&watcher.target);
            after.as_ref().map(|(inode, _)| *inode) != listed_inode
        });
        assert!(written, "round {round}: no write after rm -f");
        let (_, content) = after.unwrap_or_default();
        assert!(
            !content.contains(&name),
            "round {round}: removed container still in the next write:\n{content}"
        );
    }
}

#[test]
fn a_metrics_port_in_use_is_a_clear_startup_error() {
    require_docker();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    let output = run_pygen([
        "--template",
        "#x",
        "--metrics",
        &port,
        "--metrics-address",
        "127.0.0.1",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
}

#[test]
fn sigint_stops_cleanly_too() {
    require_docker();
    let mut watcher = Watcher::start("#{{ containers|length }}", &[]);
    watcher.process.signal("INT");
    let status = watcher.process.wait_exit(Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "exit status {status:?}"
    );
}

#[test]
fn a_render_that_blocks_does_not_hold_back_metrics() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    // A render that reads a named pipe blocks until someone writes into it: a template as slow
    // as the test wants, with no timing involved.
    let pipe = dir.path().join("slow.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let template = dir.path().join("slow.tmpl");
    fs::write(
        &template,
        format!(
            "{{{{ read_config('x', path='{}', single_config=True) }}}}\n",
            pipe.display()
        ),
    )
    .expect("write template");
    let target = dir.path().join("out.conf");
    let port = free_port();
    let process = PygenProcess::spawn([
        "--template",
        template.to_str().unwrap_or_default(),
        "--target",
        target.to_str().unwrap_or_default(),
        "--metrics",
        &port.to_string(),
        "--metrics-address",
        "127.0.0.1",
    ]);
    // Opening the write end without blocking succeeds only once the render holds the read end:
    // from then on the render waits for this test.
    let mut writer = None;
    let blocked = wait_until(REACT, POLL, || {
        writer = std::fs::OpenOptions::new()
            .write(true)
            // O_NONBLOCK (the same value on every Linux architecture pygen builds for).
            .custom_flags(0o4000)
            .open(&pipe)
            .ok();
        writer.is_some()
    });
    assert!(
        blocked,
        "the render never opened the pipe:\n{}",
        process.stderr()
    );
    // The render is stuck, yet the metrics endpoint answers.
    let metrics = scrape_with_timeout(port, Duration::from_secs(10));
    assert!(
        metrics.contains("pygen_renders_total"),
        "/metrics did not answer while a render ran: {metrics:?}\n{}",
        process.stderr()
    );
    assert!(!target.exists(), "the render was not blocked");
    let mut writer = writer.expect("checked above");
    writer.write_all(b"released\n").expect("write to the pipe");
    drop(writer);
    let written = wait_until(REACT, POLL, || {
        fs::read_to_string(&target).is_ok_and(|c| c.contains("released"))
    });
    assert!(written, "the render did not finish:\n{}", process.stderr());
}

/// GET /metrics, giving up after `timeout` (empty answer then).
fn scrape_with_timeout(port: u16, timeout: Duration) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    if stream.set_read_timeout(Some(timeout)).is_err() {
        return String::new();
    }
    let request = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut response = String::new();
    if stream.write_all(request).is_err() {
        return String::new();
    }
    let _ = std::io::Read::read_to_string(&mut stream, &mut response);
    response
}
