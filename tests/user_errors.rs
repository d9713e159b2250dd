//! What a new user reads when something is wrong (issue 15): one exit status rule (2: the
//! user's input is wrong; 1: the world failed), plain words for an unreachable daemon in
//! one-shot and watch mode, and template errors that point at the user's text.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Command;

use common::watcher::{POLL, REACT, metric_value, scrape};
use common::*;

/// Runs pygen to its end; returns its exit status and standard error.
fn run(args: &[&str]) -> (i32, String) {
    let output = run_pygen(args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Asserts that `args` exit with `status` and that the last line names `needle`.
fn exits(status: i32, args: &[&str], needle: &str) {
    let (code, stderr) = run(args);
    assert_eq!(code, status, "pygen {args:?}:\n{stderr}");
    assert!(
        stderr.contains(needle),
        "pygen {args:?}: no {needle:?} in:\n{stderr}"
    );
}

#[test]
fn the_user_s_input_exits_2() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().to_str().unwrap_or_default();
    let one_shot = |template: &'static str| ["--template", template, "--one-shot"];
    exits(2, &one_shot("#{{ x "), "syntax error");
    exits(2, &one_shot("#{{ 1 | nosuchfilter }}"), "nosuchfilter");
    exits(2, &one_shot("#{{ x.y.z }}"), "undefined");
    exits(
        2,
        &one_shot("/no/such/template.tmpl"),
        "/no/such/template.tmpl",
    );
    exits(
        2,
        &["--template", "#x", "--target", folder, "--one-shot"],
        "is a directory",
    );
    exits(
        2,
        &[
            "--template",
            "#x",
            "--target",
            "/no/such/folder/x",
            "--one-shot",
        ],
        "/no/such/folder",
    );
    exits(
        2,
        &[
            "--template",
            "#x",
            "--docker-address",
            "ftp://h",
            "--one-shot",
        ],
        "unsupported scheme",
    );
    exits(2, &["--template", "#x", "--no-such-flag"], "--no-such-flag");
    // Watch mode stops at the same errors before it starts watching.
    exits(2, &["--template", "#{{ x "], "syntax error");
}

#[test]
fn the_world_failing_exits_1() {
    require_docker();
    exits(
        1,
        &[
            "--template",
            "#x",
            "--signal",
            "nosuch",
            "HUP",
            "--one-shot",
        ],
        "1 target(s) matched no running container",
    );
    exits(
        1,
        &["--template", "#x", "--restart", "nosuch", "--one-shot"],
        "matched no running container",
    );
    exits(
        1,
        &[
            "--template",
            "#x",
            "--docker-address",
            "tcp://127.0.0.1:1",
            "--one-shot",
        ],
        "pygen: nothing listens at tcp://127.0.0.1:1: connection refused\n",
    );
    exits(
        1,
        &[
            "--template",
            "#x",
            "--docker-address",
            "/x/docker.sock",
            "--one-shot",
        ],
        "pygen: no such socket /x/docker.sock\n",
    );
    // /proc takes no new files: the write fails.
    exits(
        1,
        &[
            "--template",
            "#x",
            "--target",
            "/proc/pygen-target",
            "--one-shot",
        ],
        "cannot create a temporary file in /proc",
    );
    let url = format!("http://127.0.0.1:{}/t.tmpl", free_port());
    exits(
        1,
        &["--template", &url, "--one-shot"],
        "cannot fetch template",
    );
}

#[test]
fn a_socket_the_user_may_not_open_says_which_group() {
    require_docker();
    // /proc/self belongs to the process's effective user.
    let euid = fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid());
    if euid != 0 {
        eprintln!("skipped: needs root to run pygen as another user");
        return;
    }
    // A copy nobody may run, outside folders it cannot enter.
    let dir = tempfile::tempdir().expect("temp dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let binary = dir.path().join("pygen");
    fs::copy(pygen_bin(), &binary).expect("copy pygen");
    let socket = docker_socket_path();
    let output = Command::new(&binary)
        .args(["--template", "#x", "--one-shot", "--docker-address"])
        .arg(&socket)
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run pygen as nobody");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "pygen: permission denied on {} — add the user to the docker group",
            socket.display()
        )),
        "{stderr}"
    );
}

#[test]
fn watch_mode_says_why_the_daemon_is_unreachable_and_counts_the_attempts() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out");
    let process = PygenProcess::spawn([
        "--template",
        "#x",
        "--target",
        target.to_str().unwrap_or_default(),
        "--docker-address",
        "tcp://127.0.0.1:1",
        "--metrics",
        &port.to_string(),
        "--metrics-address",
        "127.0.0.1",
    ]);
    let retried = wait_until(REACT, POLL, || {
        metric_value(&scrape(port), "pygen_docker_connect_failures_total") >= 4.0
    });
    assert!(retried, "no retries counted; stderr:\n{}", process.stderr());
    let stderr = process.stderr();
    let causes = stderr
        .lines()
        .filter(|l| {
            l.contains("Docker daemon unreachable: nothing listens at tcp://127.0.0.1:1: connection refused; retrying in")
        })
        .count();
    assert!(causes >= 3, "the cause at every new delay:\n{stderr}");
    let text = scrape(port);
    assert!(metric_value(&text, "pygen_docker_connect_attempts_total") >= 4.0);
    assert_eq!(metric_value(&text, "pygen_docker_connected"), 0.0);
    assert!(!target.exists(), "nothing rendered without a daemon");
}

#[test]
fn a_render_error_before_any_write_says_no_target_was_written() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.conf");
    let process = PygenProcess::spawn([
        "--template",
        "#{{ 1 | nosuchfilter }}",
        "--target",
        target.to_str().unwrap_or_default(),
    ]);
    let logged = wait_until(REACT, POLL, || process.stderr().contains("unknown filter"));
    let stderr = process.stderr();
    assert!(logged, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no target written yet ({} does not exist)",
            target.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("keeping the last good target"), "{stderr}");
}

#[test]
fn an_unclosed_block_points_at_its_tag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("open.tmpl");
    fs::write(
        &path,
        "head\n  {% for c in containers %}\n{{ c.name }}\n\ntail\n",
    )
    .expect("write");
    let (code, stderr) = run(&[
        "--template",
        path.to_str().unwrap_or_default(),
        "--one-shot",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "open.tmpl:2:3: syntax error: unexpected end of input, expected end of block: the `{% for %}` here is never closed (expected `{% endfor %}`)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_method_on_a_missing_value_names_the_expression() {
    require_docker();
    let label = unique_name("method");
    let _listed = TestContainer::builder().label(&label, "1").start();
    let template = format!(
        "#{{% for c in containers if c.labels['{label}'] %}}{{{{ c.labels.get('nope').upper() }}}}{{% endfor %}}"
    );
    let (code, stderr) = run(&["--template", &template, "--one-shot"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("none has no method named upper (`c.labels.get('nope')` is none)"),
        "{stderr}"
    );
}
