//! One-shot mode against the real daemon: every container property and helper rendered and
//! checked against `docker inspect`, change detection, the state dump, and the exit statuses of
//! bad input.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use common::*;

/// Runs pygen once with an inline template to stdout and returns stdout; fails on a non-zero exit.
fn render_inline(template: &str) -> String {
    let output = run_pygen(["--template", template, "--one-shot"]);
    assert!(
        output.status.success(),
        "pygen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The value of `key=` on its own line of `text`.
fn line_value<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no line {key}= in:\n{text}"))
}

#[test]
fn every_container_property_matches_docker_inspect() {
    require_docker();
    let front = TestNetwork::new();
    let back = TestNetwork::new();
    let marker = unique_name("prop");
    let web = TestContainer::builder()
        .label("virtual-host", "www.example.com")
        .label("pygen.target", &marker)
        .label("items", "label named like a dict method")
        .label("Tier", "frontend")
        .env("GENERATOR", "pygen")
        .env("WITH_EQUALS", "e=mc^2")
        .expose("9002")
        .expose("9800/udp")
        .publish("127.0.0.1::9002")
        .network(front.name())
        .health_check("true", Duration::from_secs(1))
        .shell("sleep 100000")
        .start();
    docker_ok(["network", "connect", back.name(), web.name()]);
    let peer = TestContainer::builder()
        .env("PYGEN_TARGET", &format!("{marker}-peer"))
        .network(back.name())
        .shell("sleep 100000")
        .start();
    let stopped = TestContainer::builder()
        .label("pygen.target", &format!("{marker}-stopped"))
        .shell("sleep 100000")
        .start();
    stopped.stop();
    assert!(
        wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
            web.health_status().as_deref() == Some("healthy")
        }),
        "the health check never passed"
    );

    let template = format!(
        r#"#{{% set c = containers.matching('{marker}').first %}}
{{% set p = containers.matching('{marker}-peer').first %}}
id={{{{ c.id }}}}
short_id={{{{ c.short_id }}}}
name={{{{ c.name }}}}
image={{{{ c.image }}}}
status={{{{ c.status }}}}
health={{{{ c.health }}}}
label={{{{ c.labels['virtual-host'] }}}}
label_attr={{{{ c.labels.tier }}}}
label_missing=[{{{{ c.labels.missing }}}}]
label_items={{{{ c.labels['items'] }}}}
has_label={{{{ 'virtual-host' in c.labels }}}}/{{{{ 'nope' in c.labels }}}}
env={{{{ c.env.GENERATOR }}}}
env_ci={{{{ c.env.generator }}}}
env_eq={{{{ c.env.with_equals }}}}
env_items={{% for k, v in c.env.items() if k == 'GENERATOR' %}}{{{{ k }}}}=>{{{{ v }}}}{{% endfor %}}.
tcp={{{{ c.ports.tcp|join(',') }}}}
udp={{{{ c.ports.udp|join(',') }}}}
tcp_first={{{{ c.ports.tcp.first_value }}}}
nets={{% for n in c.networks %}}{{{{ n.name }}}}:{{{{ n.id }}}}:{{{{ n.ip_address }}}};{{% endfor %}}.
shared={{{{ c.networks.matching(p).first.name }}}}
by_name={{{{ c.networks.matching('{front}').first.id }}}}
published={{% for pp in c.published_ports %}}{{{{ pp.port }}}}/{{{{ pp.protocol }}}}->{{{{ pp.host_ip }}}}:{{{{ pp.host_port }}}};{{% endfor %}}.
hostname={{{{ c.hostname }}}}
raw_id={{{{ c.raw.Id }}}}
healthy_has={{{{ containers.healthy.matching('{marker}')|length }}}}
with_health={{{{ containers.with_health('HEALTHY').matching('{marker}')|length }}}}
peer_by_env={{{{ p.name }}}}
running_has_stopped={{{{ containers.matching('{marker}-stopped')|length }}}}
all_has_stopped={{{{ all_containers.matching('{marker}-stopped')|length }}}}
stopped_status={{{{ all_containers.matching('{marker}-stopped').first.status }}}}
not_matching={{{{ containers|length - containers.not_matching('{marker}')|length }}}}
missing_attr={{{{ c.no_such_property }}}}
self={{{{ containers.self }}}}
services={{{{ services|length }}}}/{{{{ all_services|length }}}}/{{{{ nodes|length }}}}
"#,
        front = front.name()
    );
    let out = render_inline(&template);
    let inspect = web.inspect();

    assert_eq!(line_value(&out, "id"), web.id());
    assert_eq!(line_value(&out, "short_id"), &web.id()[..12]);
    assert_eq!(line_value(&out, "name"), web.name());
    assert_eq!(
        line_value(&out, "image"),
        inspect["Config"]["Image"].as_str().unwrap_or_default()
    );
    assert_eq!(line_value(&out, "status"), "running");
    assert_eq!(line_value(&out, "health"), "healthy");
    assert_eq!(line_value(&out, "label"), "www.example.com");
    assert_eq!(line_value(&out, "label_attr"), "frontend");
    assert_eq!(line_value(&out, "label_missing"), "[]");
    assert_eq!(
        line_value(&out, "label_items"),
        "label named like a dict method"
    );
    assert_eq!(line_value(&out, "has_label"), "True/False");
    assert_eq!(line_value(&out, "env"), "pygen");
    assert_eq!(line_value(&out, "env_ci"), "pygen");
    assert_eq!(line_value(&out, "env_eq"), "e=mc^2");
    assert_eq!(line_value(&out, "env_items"), "GENERATOR=>pygen.");
    assert_eq!(line_value(&out, "tcp"), "9002");
    assert_eq!(line_value(&out, "udp"), "9800");
    assert_eq!(line_value(&out, "tcp_first"), "9002");

    // Networks: sorted by name, with the IDs and addresses inspect reports.
    let networks = inspect["NetworkSettings"]["Networks"]
        .as_object()
        .expect("inspect has networks");
    let mut expected_nets: Vec<String> = networks
        .iter()
        .map(|(name, n)| {
            format!(
                "{name}:{}:{};",
                n["NetworkID"].as_str().unwrap_or_default(),
                n["IPAddress"].as_str().unwrap_or_default()
            )
        })
        .collect();
    expected_nets.sort();
    assert_eq!(
        line_value(&out, "nets"),
        format!("{}.", expected_nets.concat())
    );
    assert_eq!(line_value(&out, "shared"), back.name());
    assert_eq!(line_value(&out, "by_name"), front.id());

    let binding = &inspect["NetworkSettings"]["Ports"]["9002/tcp"][0];
    assert_eq!(
        line_value(&out, "published"),
        format!(
            "9002/tcp->{}:{};.",
            binding["HostIp"].as_str().unwrap_or_default(),
            binding["HostPort"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(
        line_value(&out, "hostname"),
        inspect["Config"]["Hostname"].as_str().unwrap_or_default()
    );
    assert_eq!(line_value(&out, "raw_id"), web.id());
    assert_eq!(line_value(&out, "healthy_has"), "1");
    assert_eq!(line_value(&out, "with_health"), "1");
    assert_eq!(line_value(&out, "peer_by_env"), peer.name());
    assert_eq!(line_value(&out, "running_has_stopped"), "0");
    assert_eq!(line_value(&out, "all_has_stopped"), "1");
    assert_eq!(line_value(&out, "stopped_status"), "exited");
    assert_eq!(line_value(&out, "not_matching"), "1");
    assert_eq!(line_value(&out, "missing_attr"), "None");
    assert_eq!(
        line_value(&out, "self"),
        "None",
        "pygen runs outside a container here"
    );
    assert_eq!(line_value(&out, "services"), "0/0/0");
}

#[test]
fn own_container_is_detected_inside_a_container() {
    require_docker();
    // The test binary is dynamically linked: lend the container the host's libraries.
    let bin = pygen_bin();
    let mut args = vec![
        "run".to_owned(),
        "--rm".to_owned(),
        "--label".to_owned(),
        format!("{TEST_LABEL}=1"),
        "--name".to_owned(),
        unique_name("selfcheck"),
        "-v".to_owned(),
        format!("{}:/pygen:ro", bin.display()),
        "-v".to_owned(),
        format!("{}:/var/run/docker.sock", docker_socket_path().display()),
    ];
    for lib in ["/lib", "/lib64", "/usr/lib"] {
        if std::path::Path::new(lib).exists() {
            args.push("-v".to_owned());
            args.push(format!("{lib}:{lib}:ro"));
        }
    }
    args.extend(
        [
            TEST_IMAGE,
            "/pygen",
            "--template",
            "#own={{ own_container_id }}\nself={{ containers.self.name }}\nself_id={{ containers.self.id }}",
            "--one-shot",
        ]
        .map(str::to_owned),
    );
    let name = unique_name("selfcheck");
    args[5] = name.clone();
    let output = docker(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pygen in a container failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let own = line_value(&stdout, "own");
    assert_eq!(own.len(), 64, "a full container ID: {stdout}");
    assert_eq!(line_value(&stdout, "self_id"), own);
    assert_eq!(line_value(&stdout, "self"), name);
}

#[test]
fn target_is_written_only_when_the_content_changes() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.conf");
    let marker = unique_name("change");
    let template = format!(
        "#{{% for c in containers.matching('{marker}') %}}{{{{ c.name }}}}\n{{% endfor %}}"
    );
    let run = || {
        let output = run_pygen([
            "--template",
            &template,
            "--target",
            target.to_str().unwrap_or_default(),
            "--one-shot",
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run();
    assert_eq!(fs::read_to_string(&target).expect("target written"), "");
    let container = TestContainer::builder()
        .label("pygen.target", &marker)
        .shell("sleep 100000")
        .start();
    run();
    let first = fs::metadata(&target).expect("target exists");
    assert_eq!(
        fs::read_to_string(&target).unwrap_or_default(),
        format!("{}\n", container.name())
    );
    run();
    let second = fs::metadata(&target).expect("target exists");
    assert_eq!(
        first.ino(),
        second.ino(),
        "an unchanged render must not replace the file"
    );
    assert_eq!(first.mtime_nsec(), second.mtime_nsec());
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "out.conf")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn state_dump_renders_offline_like_the_live_daemon() {
    require_docker();
    let marker = unique_name("dump");
    let _web = TestContainer::builder()
        .label("virtual-host", &format!("{marker}.example.com"))
        .expose("8080")
        .shell("sleep 100000")
        .start();
    let dir = tempfile::tempdir().expect("temp dir");
    let template = dir.path().join("t.conf");
    fs::write(
        &template,
        // Only this test's container: other tests change the daemon's state meanwhile.
        format!(
            "{{% for c in containers if c.labels['virtual-host'] == '{marker}.example.com' %}}{{{{ c.name }}}} {{{{ c.labels['virtual-host'] }}}} {{{{ c.ports.tcp.first }}}} {{{{ c.networks.first.ip_address }}}}\n{{% endfor %}}"
        ),
    )
    .expect("write template");
    let template = template.to_str().unwrap_or_default();
    let live = render_inline_file(template);
    let state = run_pygen(["state"]);
    assert!(
        state.status.success(),
        "{}",
        String::from_utf8_lossy(&state.stderr)
    );
    let dump = dir.path().join("state.json");
    fs::write(&dump, &state.stdout).expect("write dump");
    let offline = run_pygen([
        "render",
        "--state",
        dump.to_str().unwrap_or_default(),
        "--template",
        template,
    ]);
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&offline.stdout), live);
    assert!(
        live.contains(&format!("{marker}.example.com 8080 ")),
        "{live}"
    );
}

/// Renders a template file once to stdout.
fn render_inline_file(path: &str) -> String {
    let output = run_pygen(["--template", path, "--one-shot"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs pygen expecting failure; returns (exit code, stderr).
fn run_failing(args: &[&str]) -> (i32, String) {
    let output = run_pygen(args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_input_exits_with_a_clear_line() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.tmpl");
    fs::write(&broken, "line one\n{% for c in containers %}\n{{ c.name \n").expect("write");
    let broken = broken.to_str().unwrap_or_default();

    let (code, err) = run_failing(&["--template", "/no/such/template.tmpl", "--one-shot"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/no/such/template.tmpl"), "{err}");

    let (code, err) = run_failing(&["--template", broken, "--one-shot"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("broken.tmpl:3:"),
        "names file:line:column: {err}"
    );

    let (code, err) = run_failing(&[
        "--template",
        "#x",
        "--docker-address",
        "unix:///no/such/docker.sock",
        "--one-shot",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("/no/such/docker.sock"), "{err}");

    let (code, err) = run_failing(&[
        "--template",
        "#x",
        "--target",
        "/no/such/folder/out.conf",
        "--one-shot",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/no/such/folder"), "{err}");

    let (code, err) = run_failing(&["--template", "#x", "--no-such-flag"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--no-such-flag"), "{err}");

    let (code, err) = run_failing(&["--template", "#x", "--interval", "1", "2", "3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--interval"), "{err}");

    let (code, err) = run_failing(&["--template", "http://127.0.0.1:9/t.tmpl", "--one-shot"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("http://127.0.0.1:9/t.tmpl"), "{err}");
}

#[test]
fn a_render_error_exits_2_and_keeps_the_target() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.conf");
    fs::write(&target, "last good\n").expect("write");
    let (code, err) = run_failing(&[
        "--template",
        "#{{ containers|no_such_filter }}",
        "--target",
        target.to_str().unwrap_or_default(),
        "--one-shot",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no_such_filter"), "{err}");
    let (code, err) = run_failing(&[
        "--template",
        "#{% for c in containers %}{{ c.name }}{% endfor %}{{ range(3) | join(1, 2, 3) }}",
        "--target",
        target.to_str().unwrap_or_default(),
        "--one-shot",
    ]);
    // The template is wrong for the data: the user's input (see the README's exit statuses).
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        fs::read_to_string(&target).unwrap_or_default(),
        "last good\n"
    );
}

#[test]
fn one_shot_without_target_always_runs_the_actions() {
    require_docker();
    let target_name = unique_name("oneshot-restart");
    let container = TestContainer::builder()
        .label("pygen.target", &target_name)
        .start();
    let before = container.inspect()["State"]["StartedAt"].clone();
    let output = run_pygen(["--template", "#ok", "--restart", &target_name, "--one-shot"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok\n");
    let after = container.inspect()["State"]["StartedAt"].clone();
    assert_ne!(before, after, "the target container was not restarted");
}
