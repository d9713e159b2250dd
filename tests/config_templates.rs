//! Many templates from one process (`--config`), against the real daemon: one event stream and
//! one inspect serve every template, a broken template leaves the others working, a refused
//! check keeps the old file and runs no action, per-item files follow their containers, an
//! edited template renders again at once, and SIGHUP re-reads the config file.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::watcher::{metric_value, scrape};
use common::*;

/// How long a test waits for pygen to react to something.
const REACT: Duration = Duration::from_secs(20);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(25);

/// A pygen process run from a config file in a fresh folder.
struct Run {
    process: PygenProcess,
    dir: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Run {
    /// Writes `templates` (the `[[template]]` entries, paths relative to the folder) under a
    /// header that sets the metrics port and, when given, the daemon address; starts pygen.
    fn start(docker: Option<&str>, templates: &str) -> Run {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("items")).expect("items folder");
        Run::start_with(dir, docker, templates)
    }

    /// [`Run::start`] in a folder the test prepared (template files).
    fn start_in(dir: tempfile::TempDir, templates: &str) -> Run {
        Run::start_with(dir, None, templates)
    }

    fn start_with(dir: tempfile::TempDir, docker: Option<&str>, templates: &str) -> Run {
        let port = free_port();
        let config = dir.path().join("pygen.toml");
        fs::write(&config, config_text(port, docker, templates)).expect("write config");
        let process = PygenProcess::spawn(["--config", config.to_str().unwrap_or_default()]);
        Run {
            process,
            dir: dir.path().to_path_buf(),
            port,
            _dir: dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.path(name), text).expect("write file");
    }

    fn metric(&self, series: &str) -> f64 {
        metric_value(&scrape(self.port), series)
    }

    /// Waits until `condition` holds, or fails with `what` and pygen's log.
    fn wait_for(&self, what: &str, condition: impl FnMut() -> bool) -> Duration {
        let started = Instant::now();
        let ok = wait_until(REACT, POLL, condition);
        assert!(
            ok,
            "{what}: not within {REACT:?}; stderr:\n{}",
            self.process.stderr()
        );
        started.elapsed()
    }
}

fn config_text(port: u16, docker: Option<&str>, templates: &str) -> String {
    let docker = docker.map_or_else(String::new, |address| {
        format!("[docker]\naddress = \"{address}\"\n\n")
    });
    format!(
        "events = [\"start\", \"stop\", \"die\"]\n\n{docker}[metrics]\naddress = \"127.0.0.1\"\nport = {port}\n\n{templates}"
    )
}

/// An nginx-like upstream list, a JSON file and one file per labelled container, all over the
/// containers carrying `label`.
fn three_templates(label: &str) -> String {
    format!(
        r#"
[[template]]
name = "upstreams"
inline = "{{% for c in containers if c.labels['{label}'] %}}server {{{{ c.name }}}};\n{{% endfor %}}"
target = "upstreams.conf"
interval = 0

[[template]]
name = "json"
inline = "{{{{ containers | selectattr('labels.{label}') | map(attribute='name') | list | tojson }}}}"
target = "targets.json"
interval = 0

[[template]]
name = "per-item"
inline = "item {{{{ item_name }}}}:{{% for c in containers %}} {{{{ c.name }}}}{{% endfor %}}"
target = "items/{{name}}.conf"
per_item = "label:{label}"
interval = 0
"#
    )
}

#[test]
fn three_templates_share_one_event_stream_and_one_inspect() {
    require_docker();
    let proxy = UnixProxy::start();
    let label = unique_name("many");
    let run = Run::start(Some(&proxy.address()), &three_templates(&label));
    run.wait_for("first writes", || {
        run.path("upstreams.conf").exists() && run.path("targets.json").exists()
    });

    let since = unix_now();
    let web = TestContainer::builder()
        .label(&label, "web")
        .shell("sleep 100000")
        .start();
    let name = web.name().to_owned();
    run.wait_for("all three targets show the container", || {
        run.read("upstreams.conf")
            .contains(&format!("server {name};"))
            && run.read("targets.json").contains(&name)
            && run.read("items/web.conf") == format!("item web: {name}")
    });
    let inspects = proxy.count_requests("GET", &format!("/containers/{}/json", web.id()));
    // The watch inspects a container once per event that may change it (create, network
    // connect, start), coalescing events that arrive during an inspect: never once per
    // template.
    let events = events_naming(web.id(), &since);
    assert!(
        (1..=events).contains(&inspects),
        "{inspects} inspects for {events} events of the container with three templates; requests:\n{}",
        proxy.requests().join("\n")
    );
    assert_eq!(
        proxy
            .requests()
            .iter()
            .filter(|r| r.contains("/events"))
            .count(),
        1,
        "one event stream"
    );

    drop(web);
    run.wait_for("the per-item file of the removed container is gone", || {
        !run.path("items/web.conf").exists()
    });
    run.wait_for("the other targets dropped it", || {
        !run.read("upstreams.conf").contains(&name) && !run.read("targets.json").contains(&name)
    });
    // Only files pygen wrote are removed: a foreign file in the folder stays.
    run.write("items/mine.conf", "hand-written");
    let other = TestContainer::builder()
        .label(&label, "db")
        .shell("sleep 100000")
        .start();
    run.wait_for("a new item file", || run.path("items/db.conf").exists());
    drop(other);
    run.wait_for("the new item file is removed", || {
        !run.path("items/db.conf").exists()
    });
    assert_eq!(run.read("items/mine.conf"), "hand-written");
}

#[test]
fn a_broken_template_leaves_the_others_working() {
    require_docker();
    let label = unique_name("broken");
    let templates = format!(
        r#"
[[template]]
name = "good-one"
inline = "{{% for c in containers if c.labels['{label}'] %}}{{{{ c.name }}}}\n{{% endfor %}}"
target = "one.txt"
interval = 0

[[template]]
name = "broken"
inline = "{{% for c in containers if c.labels['{label}'] %}}{{{{ c.name | no_such_filter }}}}{{% endfor %}}"
target = "broken.txt"
interval = 0

[[template]]
name = "unparsable"
source = "unparsable.j2"
target = "unparsable.txt"
interval = 0

[[template]]
name = "good-two"
inline = "{{{{ containers | selectattr('labels.{label}') | list | length }}}}"
target = "two.txt"
interval = 0
"#
    );
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("unparsable.j2"), "{% if %}").expect("write");
    let run = Run::start_in(dir, &templates);
    run.wait_for("first writes", || {
        run.path("one.txt").exists() && run.path("two.txt").exists()
    });
    assert!(
        run.process
            .stderr()
            .contains("renders nothing until it is fixed"),
        "a template that does not load is reported:\n{}",
        run.process.stderr()
    );
    let web = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    run.wait_for("both good templates updated", || {
        run.read("one.txt").contains(web.name()) && run.read("two.txt") == "1"
    });
    run.wait_for("the broken one's error is counted under its name", || {
        run.metric("pygen_render_errors_total{template=\"broken\"}") >= 1.0
    });
    assert_eq!(
        run.read("broken.txt"),
        "",
        "the broken template keeps its last good (empty) target"
    );
    assert_eq!(
        run.metric("pygen_render_errors_total{template=\"good-one\"}"),
        0.0
    );
    assert!(
        run.process.stderr().contains("broken"),
        "the error names the template"
    );
}

#[test]
fn a_refused_check_keeps_the_old_file_and_runs_no_action() {
    require_docker();
    let label = unique_name("check");
    let target_name = unique_name("checktarget");
    let receiver = TestContainer::builder()
        .label("pygen.target", &target_name)
        .shell("trap 'echo Signalled >> /got' HUP; while true; do sleep 0.1; done")
        .start();
    // The check accepts a file that holds no "bad" line.
    let templates = format!(
        r#"
[[template]]
name = "checked"
inline = "ok\n{{% for c in containers if c.labels['{label}'] %}}{{{{ c.labels['{label}'] }}}}\n{{% endfor %}}"
target = "checked.conf"
check = "! grep -q bad {{file}}"
signal = [["{target_name}", "HUP"]]
interval = 0
"#
    );
    let run = Run::start(None, &templates);
    run.wait_for("first write", || run.path("checked.conf").exists());
    let signals = || run.metric("pygen_actions_total{kind=\"signal\",outcome=\"ok\"}");
    run.wait_for("the first write's signal", || signals() >= 1.0);
    let got = || String::from_utf8_lossy(&receiver.exec(["cat", "/got"]).stdout).into_owned();
    run.wait_for("the container got it", || got().lines().count() == 1);
    let before = signals();

    let bad = TestContainer::builder()
        .label(&label, "bad")
        .shell("sleep 100000")
        .start();
    run.wait_for("the check failure is counted", || {
        run.metric("pygen_check_failures_total{template=\"checked\"}") >= 1.0
    });
    assert_eq!(
        run.read("checked.conf"),
        "ok\n",
        "the refused content was written"
    );
    let leftovers: Vec<_> = fs::read_dir(&run.dir)
        .expect("read folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "candidates left behind: {leftovers:?}"
    );
    assert!(
        run.process.stderr().contains("refused"),
        "the refusal is logged"
    );

    let good = TestContainer::builder()
        .label(&label, "fine")
        .shell("sleep 100000")
        .start();
    drop(bad);
    run.wait_for("an accepted change is written", || {
        run.read("checked.conf") == "ok\nfine\n"
    });
    run.wait_for("and signalled", || signals() > before);
    assert_eq!(
        signals(),
        before + 1.0,
        "the refused change ran an action; stderr:\n{}",
        run.process.stderr()
    );
    drop(good);
}

#[test]
fn an_edited_template_renders_again_at_once_and_a_broken_edit_keeps_the_last_good() {
    require_docker();
    let templates = r#"
[[template]]
name = "edited"
source = "main.j2"
target = "out.txt"
interval = 0
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("main.j2"), "v1 {% include 'part.j2' %}").expect("write");
    fs::write(dir.path().join("part.j2"), "p1").expect("write");
    let run = Run::start_in(dir, templates);
    run.wait_for("first write", || run.read("out.txt") == "v1 p1");

    // Give the file stamps a different modification time than the first write's.
    std::thread::sleep(Duration::from_millis(20));
    run.write("main.j2", "v2 {% include 'part.j2' %}");
    let took = run.wait_for("the edit is rendered", || run.read("out.txt") == "v2 p1");
    eprintln!("main template edit -> new target: {took:?}");

    run.write("part.j2", "p2");
    let took = run.wait_for("an include edit is rendered", || {
        run.read("out.txt") == "v2 p2"
    });
    eprintln!("include edit -> new target: {took:?}");

    run.write("main.j2", "v3 {% if %}");
    run.wait_for("the broken edit is reported", || {
        run.process
            .stderr()
            .contains("keeping the previous template")
    });
    assert_eq!(run.read("out.txt"), "v2 p2");
    run.write("main.j2", "v4");
    run.wait_for("a fixed edit is used", || run.read("out.txt") == "v4");
}

#[test]
fn sighup_rereads_the_config_file_and_refuses_a_broken_one() {
    require_docker();
    let label = unique_name("hup");
    let first = format!(
        r#"
[[template]]
name = "a"
inline = "a1{{% for c in containers if c.labels['{label}'] %}} {{{{ c.name }}}}{{% endfor %}}"
target = "a.txt"
interval = 0
"#
    );
    let run = Run::start(None, &first);
    run.wait_for("first write", || run.read("a.txt") == "a1");
    let config = run.path("pygen.toml");
    let port = run.port;

    let second = format!(
        "{}\n[[template]]\nname = \"b\"\ninline = \"b1\"\ntarget = \"b.txt\"\n",
        first.replace("a1{", "a2{")
    );
    fs::write(&config, config_text(port, None, &second)).expect("rewrite config");
    run.process.signal("HUP");
    run.wait_for("the changed and the added template are rendered", || {
        run.read("a.txt") == "a2" && run.read("b.txt") == "b1"
    });

    fs::write(
        &config,
        config_text(port, None, &format!("colour = \"blue\"\n{second}")),
    )
    .expect("break config");
    run.process.signal("HUP");
    run.wait_for("the broken file is refused", || {
        run.process
            .stderr()
            .contains("keeping the running configuration")
    });
    assert!(
        run.process.stderr().contains("colour"),
        "the problem is named:\n{}",
        run.process.stderr()
    );
    let web = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    run.wait_for("the running configuration still renders", || {
        run.read("a.txt") == format!("a2 {}", web.name())
    });
}
