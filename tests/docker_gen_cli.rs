//! docker-gen mode against the real daemon: the command line (also under the name `docker-gen`),
//! the one-shot pass with docker-gen's filters, the watch loop (the `Watching docker events`
//! line, events, `-wait`, `-notify`, `-notify-sighup`, SIGHUP, a broken template that keeps
//! the last good file), `-config` files serving several templates from one watch, and what a
//! config gains as a job of pygen's loop (template files watched for edits, per-template
//! metrics, a template missing at startup watched for the fix, one event stream and one
//! inspect per event shared by every config).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::watcher::{metric_value, scrape};
use common::*;

/// How long a test waits for pygen to react to something.
const REACT: Duration = Duration::from_secs(20);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(50);

/// A template listing the containers docker-gen passes: name, image, env var `ROLE`, running.
fn names_template(dir: &Path) -> PathBuf {
    let path = dir.join("names.tmpl");
    fs::write(
        &path,
        "{{ range $ }}{{ .Name }} {{ .Image.Repository }} role={{ .Env.ROLE }} \
         running={{ .State.Running }}\n\n{{ end }}end\n",
    )
    .expect("write template");
    path
}

fn docker_gen(args: &[&str]) -> std::process::Output {
    let mut all = vec!["docker-gen"];
    all.extend_from_slice(args);
    run_pygen(all)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_usage_and_the_docker_gen_name() {
    let out = docker_gen(&["-version"]);
    assert!(out.status.success());
    let version = text(&out.stdout);
    assert!(
        version.starts_with("docker-gen 0.17.2-compatible (pygen "),
        "{version}"
    );

    let out = docker_gen(&["-nope", "t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("flag provided but not defined: -nope"),
        "{}",
        text(&out.stderr)
    );
    let out = docker_gen(&["-wait", "2s:1s", "t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("-wait"), "{}", text(&out.stderr));
    // An event filter key the daemon does not know fails at startup, named.
    let out = docker_gen(&["-watch", "-event-filter", "colour=red", "t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("-event-filter colour=red: unknown filter key"),
        "{}",
        text(&out.stderr)
    );
    let out = docker_gen(&[]);
    assert_eq!(out.status.code(), Some(2), "no template and no -config");

    // The same binary under the name docker-gen.
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("docker-gen");
    std::os::unix::fs::symlink(pygen_bin(), &link).expect("symlink");
    let out = std::process::Command::new(&link)
        .arg("--version")
        .output()
        .expect("run docker-gen");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), version);
}

#[test]
fn one_shot_applies_docker_gen_filters() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgone");
    let exposed = TestContainer::builder()
        .label(&label, "1")
        .env("ROLE", "web")
        .expose("80")
        .shell("sleep 100000")
        .start();
    let plain = TestContainer::builder()
        .label(&label, "1")
        .env("ROLE", "worker")
        .shell("sleep 100000")
        .start();
    let stopped = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    stopped.stop();
    let template = names_template(dir.path());
    let dest = dir.path().join("out.conf");
    let filter = format!("label={label}");
    let args = |extra: &[&str]| {
        let mut a = vec!["-container-filter", &filter];
        a.extend_from_slice(extra);
        a.push(template.to_str().expect("utf-8 path"));
        a.push(dest.to_str().expect("utf-8 path"));
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = docker_gen(&refs);
        assert!(out.status.success(), "{}", text(&out.stderr));
        fs::read_to_string(&dest).expect("dest written")
    };

    let all = run(&[]);
    assert!(
        all.contains(&format!(
            "{} pygen-test-busybox role=web running=true\n",
            exposed.name()
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!("{} pygen-test-busybox role=worker", plain.name())),
        "{all}"
    );
    assert!(
        !all.contains(stopped.name()),
        "running only by default: {all}"
    );
    assert!(!all.contains("\n\n"), "blank lines removed: {all:?}");

    let only = run(&["-only-exposed"]);
    assert!(
        only.contains(exposed.name()) && !only.contains(plain.name()),
        "{only}"
    );

    let with_stopped = run(&["-include-stopped", "-keep-blank-lines"]);
    assert!(
        with_stopped.contains(&format!(
            "{} pygen-test-busybox role=<no value> running=false",
            stopped.name()
        )),
        "{with_stopped}"
    );
    assert!(
        with_stopped.contains("\n\n"),
        "blank lines kept: {with_stopped:?}"
    );

    // Without dest: stdout.
    let out = docker_gen(&[
        "-container-filter",
        &filter,
        template.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(exposed.name()));

    // A broken template fails a one-shot run with Go's message.
    let broken = dir.path().join("broken.tmpl");
    fs::write(&broken, "{{ range $ }}{{ .Nope }}{{ end }}").expect("write");
    let out = docker_gen(&[
        "-container-filter",
        &filter,
        broken.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("broken.tmpl"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn watch_renders_on_events_and_notifies() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgwatch");
    let template = names_template(dir.path());
    let dest = dir.path().join("out.conf");
    let notified = dir.path().join("notified");
    let receiver_name = unique_name("dgrecv");
    let receiver = TestContainer::builder()
        .name(&receiver_name)
        .shell("trap 'echo Signalled >> /got' HUP; while true; do sleep 0.1; done")
        .start();
    let filter = format!("label={label}");
    let notify = format!("echo run >> {}; echo hello", notified.display());
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let mut process = PygenProcess::spawn([
        "docker-gen",
        "-watch",
        "-metrics",
        &metrics_addr,
        "-wait",
        "50ms:300ms",
        "-container-filter",
        &filter,
        "-notify",
        &notify,
        "-notify-output",
        "-notify-sighup",
        &receiver_name,
        template.to_str().expect("utf-8"),
        dest.to_str().expect("utf-8"),
    ]);
    assert!(
        wait_until(REACT, POLL, || process
            .stderr()
            .contains("Watching docker events")),
        "no 'Watching docker events' line: {}",
        process.stderr()
    );
    let web = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    wait_for_file_containing(&dest, web.name(), REACT);
    assert!(
        wait_until(REACT, POLL, || fs::read_to_string(&notified).is_ok()),
        "the notify command did not run"
    );
    assert!(
        wait_until(REACT, POLL, || process
            .stderr()
            .contains(&format!("[{notify}]: hello"))),
        "the notify output was not logged: {}",
        process.stderr()
    );
    assert!(
        wait_until(REACT, POLL, || String::from_utf8_lossy(
            &receiver.exec(["cat", "/got"]).stdout
        )
        .contains("Signalled")),
        "-notify-sighup did not reach the container"
    );
    // The signal is counted as pygen's own mode counts its signals.
    let signals = r#"pygen_actions_total{kind="signal",outcome="ok"}"#;
    assert!(
        wait_until(REACT, POLL, || metric_value(&scrape(metrics_port), signals)
            >= 1.0),
        "-notify-sighup is not counted: {}",
        scrape(metrics_port)
    );

    // A broken template keeps the last good file and the process.
    let good = fs::read_to_string(&dest).expect("dest");
    fs::write(&template, "{{ range $ }}{{ .Nope }}{{ end }}").expect("write");
    process.signal("HUP");
    assert!(
        wait_until(REACT, POLL, || process.stderr().contains("Template error")),
        "{}",
        process.stderr()
    );
    assert!(
        process.is_running(),
        "a template error must not end the process"
    );
    assert_eq!(fs::read_to_string(&dest).expect("dest"), good);
    names_template(dir.path());

    web.stop();
    assert!(
        wait_until(REACT, POLL, || !fs::read_to_string(&dest)
            .unwrap_or_default()
            .contains(web.name())),
        "the stopped container is still listed"
    );
    process.kill();
}

#[test]
fn config_file_serves_several_templates_from_one_watch() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgcfg");
    let template = names_template(dir.path());
    let one = dir.path().join("one.conf");
    let two = dir.path().join("two.conf");
    let config = dir.path().join("docker-gen.cfg");
    fs::write(
        &config,
        format!(
            "[[config]]\ntemplate = \"{t}\"\ndest = \"{one}\"\nwatch = true\n\
             containerfilter = {{ label = [\"{label}\"], status = [\"running\"] }}\n\n\
             [[config]]\ntemplate = \"{t}\"\ndest = \"{two}\"\nwatch = true\nwait = \"50ms\"\n\
             keepblanklines = true\ncontainerfilter = {{ label = [\"{label}=b\"] }}\n",
            t = template.display(),
            one = one.display(),
            two = two.display(),
        ),
    )
    .expect("write config");
    let mut process =
        PygenProcess::spawn(["docker-gen", "-config", config.to_str().expect("utf-8")]);
    assert!(
        wait_until(REACT, POLL, || process
            .stderr()
            .contains("Watching docker events")),
        "{}",
        process.stderr()
    );
    let a = TestContainer::builder()
        .label(&label, "a")
        .shell("sleep 100000")
        .start();
    let b = TestContainer::builder()
        .label(&label, "b")
        .shell("sleep 100000")
        .start();
    let first = wait_for_file_containing(&one, b.name(), REACT);
    assert!(first.contains(a.name()), "{first}");
    let second = wait_for_file_containing(&two, b.name(), REACT);
    assert!(!second.contains(a.name()), "{second}");
    assert!(second.contains("\n\n"), "keepblanklines: {second:?}");
    // Config mode includes stopped containers when the config has no status filter, as
    // docker-gen does.
    b.stop();
    assert!(
        wait_until(REACT, POLL, || fs::read_to_string(&two)
            .unwrap_or_default()
            .contains(&format!(
                "{} pygen-test-busybox role=<no value> running=false",
                b.name()
            ))),
        "{}",
        fs::read_to_string(&two).unwrap_or_default()
    );
    assert!(
        wait_until(REACT, POLL, || !fs::read_to_string(&one)
            .unwrap_or_default()
            .contains(b.name())),
        "status=running config still lists the stopped one"
    );
    process.kill();
}

#[test]
fn render_state_with_the_go_dialect() {
    let dir = tempfile::tempdir().expect("temp dir");
    let template = dir.path().join("hosts.tmpl");
    fs::write(
        &template,
        "{{ range $ }}{{ .Name }} {{ .Image.Repository }}:{{ .Image.Tag }}\
         {{ range .Addresses }} {{ .Port }}/{{ .Proto }}{{ end }}\
         {{ range .Networks }} {{ .Name }}={{ .IP }}{{ end }}\n{{ end }}\
         {{ range $service, $c := groupByLabel $ \"com.docker.compose.service\" }}\
         {{ $service }}={{ len $c }} {{ end }}\n\
         current={{ with $.CurrentContainer }}{{ .Name }}{{ end }}\n",
    )
    .expect("write template");
    let state = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/compose.json");
    let out = run_pygen([
        "render",
        "--dialect",
        "go",
        "--state",
        state.to_str().expect("utf-8"),
        "--template",
        template.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!("render_state_go", text(&out.stdout));

    // A Go template error names the template and the location.
    fs::write(&template, "{{ .Nope }}").expect("write template");
    let out = run_pygen([
        "render",
        "--dialect",
        "go",
        "--state",
        state.to_str().expect("utf-8"),
        "--template",
        template.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("hosts.tmpl:1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn interval_always_notifies_and_notify_filter_signals_matches() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dginterval");
    let receiver = TestContainer::builder()
        .label(&label, "1")
        .shell("trap 'echo Signalled >> /got' HUP; while true; do sleep 0.1; done")
        .start();
    let template = names_template(dir.path());
    let dest = dir.path().join("out.conf");
    let runs = dir.path().join("runs");
    let filter = format!("label={label}");
    let notify = format!("echo run >> {}", runs.display());
    let mut process = PygenProcess::spawn([
        "docker-gen",
        "-interval",
        "1",
        "-container-filter",
        &filter,
        "-notify",
        &notify,
        "-notify-filter",
        &filter,
        template.to_str().expect("utf-8"),
        dest.to_str().expect("utf-8"),
    ]);
    // The file does not change between ticks, yet every tick notifies (docker-gen's rule).
    assert!(
        wait_until(REACT, POLL, || fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count()
            >= 2),
        "the interval did not notify twice: {}",
        process.stderr()
    );
    assert!(
        wait_until(REACT, POLL, || String::from_utf8_lossy(
            &receiver.exec(["cat", "/got"]).stdout
        )
        .contains("Signalled")),
        "-notify-filter did not signal the matching container: {}",
        process.stderr()
    );
    assert!(
        fs::read_to_string(&dest)
            .expect("dest")
            .contains(receiver.name())
    );
    assert!(
        !process.stderr().contains("Watching docker events"),
        "no event listener without -watch"
    );
    process.kill();
}

#[test]
fn network_connect_events_rerender_with_event_filter() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgnet");
    let template = dir.path().join("nets.tmpl");
    fs::write(
        &template,
        "{{ range $ }}{{ .Name }}:{{ range .Networks }} {{ .Name }}={{ .Internal }}{{ end }}\n{{ end }}",
    )
    .expect("write template");
    let dest = dir.path().join("out.conf");
    let filter = format!("label={label}");
    let mut process = PygenProcess::spawn([
        "docker-gen",
        "-watch",
        "-event-filter",
        "event=connect",
        "-event-filter",
        "event=disconnect",
        "-container-filter",
        &filter,
        template.to_str().expect("utf-8"),
        dest.to_str().expect("utf-8"),
    ]);
    assert!(
        wait_until(REACT, POLL, || process
            .stderr()
            .contains("Watching docker events")),
        "{}",
        process.stderr()
    );
    let web = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    wait_for_file_containing(&dest, web.name(), REACT);
    // Created after the first render: its `Internal` flag shows (the network list is read
    // again after a network is created).
    let network = TestNetwork::with_args(&["--internal"]);
    docker_ok(["network", "connect", network.name(), web.name()]);
    wait_for_file_containing(&dest, &format!("{}=true", network.name()), REACT);
    docker_ok(["network", "disconnect", network.name(), web.name()]);
    assert!(
        wait_until(REACT, POLL, || !fs::read_to_string(&dest)
            .unwrap_or_default()
            .contains(network.name())),
        "the disconnect was not seen: {}",
        process.stderr()
    );
    process.kill();
}

#[test]
fn an_edited_template_renders_again_without_an_event_and_is_counted_per_template() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgedit");
    let template = names_template(dir.path());
    let dest = dir.path().join("edited.conf");
    let filter = format!("label={label}");
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let web = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    let mut process = PygenProcess::spawn([
        "docker-gen",
        "-watch",
        "-metrics",
        &metrics_addr,
        "-container-filter",
        &filter,
        template.to_str().expect("utf-8"),
        dest.to_str().expect("utf-8"),
    ]);
    wait_for_file_containing(&dest, web.name(), REACT);
    // A docker-gen config is a job of pygen's loop: its template file is watched, and an edit
    // renders the dest at once, with no event and no SIGHUP.
    fs::write(&template, "{{ range $ }}edited {{ .Name }}\n{{ end }}").expect("edit");
    let edited = wait_for_file_containing(&dest, &format!("edited {}", web.name()), REACT);
    assert_eq!(edited, format!("edited {}\n", web.name()));
    assert!(
        !process.stderr().contains("Received signal: hangup"),
        "{}",
        process.stderr()
    );
    // Per-template metrics, labelled with the dest's file name as pygen's entries are.
    let renders = r#"pygen_renders_total{template="edited.conf"}"#;
    assert!(
        metric_value(&scrape(metrics_port), renders) >= 2.0,
        "{}",
        scrape(metrics_port)
    );
    // A broken edit keeps the last good file, the process, and is counted.
    fs::write(&template, "{{ range $ }}{{ .Nope }}{{ end }}").expect("edit");
    let errors = r#"pygen_template_errors_total{template="edited.conf"}"#;
    assert!(
        wait_until(REACT, POLL, || metric_value(&scrape(metrics_port), errors)
            >= 1.0),
        "{}",
        process.stderr()
    );
    assert!(process.is_running());
    assert_eq!(fs::read_to_string(&dest).expect("dest"), edited);
    process.kill();
}

#[test]
fn a_template_missing_at_startup_is_watched_for_the_fix() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgfix");
    let template = dir.path().join("later.tmpl");
    let dest = dir.path().join("later.conf");
    let filter = format!("label={label}");
    let web = TestContainer::builder()
        .label(&label, "1")
        .shell("sleep 100000")
        .start();
    let mut process = PygenProcess::spawn([
        "docker-gen",
        "-watch",
        "-container-filter",
        &filter,
        template.to_str().expect("utf-8"),
        dest.to_str().expect("utf-8"),
    ]);
    assert!(
        wait_until(REACT, POLL, || process.stderr().contains("later.tmpl")),
        "the missing template is not reported: {}",
        process.stderr()
    );
    assert!(
        process.is_running(),
        "a template error must not end the process"
    );
    fs::write(&template, "{{ range $ }}{{ .Name }}\n{{ end }}").expect("write");
    wait_for_file_containing(&dest, web.name(), REACT);
    process.kill();
}

#[test]
fn three_configs_share_one_event_stream_and_one_inspect_per_event() {
    require_docker();
    let proxy = UnixProxy::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let label = unique_name("dgshare");
    let template = names_template(dir.path());
    let config = dir.path().join("docker-gen.cfg");
    let entry = |dest: &str, filter: &str| {
        format!(
            "[[config]]\ntemplate = \"{}\"\ndest = \"{}\"\nwatch = true\n\
             containerfilter = {{ label = [\"{filter}\"], status = [\"running\"] }}\n\n",
            template.display(),
            dir.path().join(dest).display()
        )
    };
    let entries = [
        entry("a.conf", &label),
        entry("b.conf", &label),
        entry("c.conf", &format!("{label}=web")),
    ];
    fs::write(&config, entries.concat()).expect("write config");
    let address = proxy.address();
    let mut process = PygenProcess::spawn([
        "docker-gen",
        "-endpoint",
        &address,
        "-config",
        config.to_str().expect("utf-8"),
    ]);
    assert!(
        wait_until(REACT, POLL, || process
            .stderr()
            .contains("Watching docker events")),
        "{}",
        process.stderr()
    );
    let since = unix_now();
    let web = TestContainer::builder()
        .label(&label, "web")
        .shell("sleep 100000")
        .start();
    for dest in ["a.conf", "b.conf", "c.conf"] {
        wait_for_file_containing(dir.path().join(dest), web.name(), REACT);
    }
    let inspects = proxy.count_requests("GET", &format!("/containers/{}/json", web.id()));
    let events = events_naming(web.id(), &since);
    // One inspect per event that may change the container at most, however many configs.
    assert!(
        (1..=events).contains(&inspects),
        "{inspects} inspects for {events} events with three configs; requests:\n{}",
        proxy.requests().join("\n")
    );
    assert_eq!(
        proxy.count_requests("GET", "/events"),
        1,
        "one event stream"
    );
    // `.Docker` is read once per connection, not per config or render.
    assert_eq!(
        proxy.count_requests("GET", "/info"),
        1,
        "{:?}",
        proxy.requests()
    );
    process.kill();
}
