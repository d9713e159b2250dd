//! The config file from the command line: `pygen --config FILE` and `pygen check --config
//! FILE` run as a user runs them. A good file passes; each class of problem is reported with
//! the file, line and key; every problem is listed at once; a flag next to `--config` is
//! refused in the file's terms; one-shot mode renders from a file (the daemon is needed for
//! that test only).

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// Runs pygen to its end; returns its exit status, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = run_pygen(args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes `text` as `pygen.toml` in `dir` and returns its path as a string.
fn config_file(dir: &Path, text: &str) -> String {
    let path = dir.join("pygen.toml");
    fs::write(&path, text).expect("write the config file");
    path.to_str().expect("a UTF-8 temp path").to_owned()
}

/// A file with three templates: nginx with a check, a JSON file, one file per container in
/// docker-gen's dialect. Template paths are relative to the file.
const THREE: &str = r#"
events = ["start", "stop", "die"]

[metrics]
address = "127.0.0.1"
port = 0

[[template]]
name = "nginx"
source = "templates/nginx.conf.j2"
target = "out/nginx.conf"
check = "test -s {file}"
signal = [["proxy", "HUP"]]
interval = [1, 5]

[[template]]
name = "inventory"
inline = '''
{{ containers | map(attribute="name") | list | tojson }}
'''
target = "out/inventory.json"
mode = "0640"

[[template]]
name = "per-container"
source = "templates/item.tmpl"
dialect = "go"
target = "out/items/{name}.conf"
per_item = "containers"
"#;

/// Writes the templates `THREE` reads into `dir`.
fn write_templates(dir: &Path) {
    fs::create_dir_all(dir.join("templates")).expect("templates folder");
    fs::write(
        dir.join("templates/nginx.conf.j2"),
        "{% for c in containers %}server {{ c.name }};\n{% endfor %}",
    )
    .expect("write nginx.conf.j2");
    fs::write(
        dir.join("templates/item.tmpl"),
        "{{ range $ }}{{ .Name }} {{ .IP }}\n{{ end }}{{ $x := groupByMulti $ \"Env.VIRTUAL_HOST\" \",\" }}",
    )
    .expect("write item.tmpl");
}

#[test]
fn check_passes_a_good_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_templates(dir.path());
    let file = config_file(dir.path(), THREE);
    let (code, stdout, stderr) = run(&["check", "--config", &file]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout, "3 templates OK\n");
}

#[test]
fn check_lists_every_problem_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_templates(dir.path());
    let text = THREE
        .replace("port = 0", "port = 0\nbind = \"x\"")
        .replace("interval = [1, 5]", "interval = [5, 1]");
    let file = config_file(dir.path(), &text);
    let (code, stdout, stderr) = run(&["check", "--config", &file]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{file}:7: metrics.bind: unknown key (expected one of: address, port)"),
            format!("{file}:15: template[1].interval: MIN 5 is greater than MAX 1"),
        ],
        "{stdout}"
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
}

#[test]
fn check_compiles_every_template() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_templates(dir.path());
    fs::write(
        dir.path().join("templates/nginx.conf.j2"),
        "ok\n{% for c in containers %}\n",
    )
    .expect("break the Jinja template");
    fs::write(
        dir.path().join("templates/item.tmpl"),
        "{{ range $ }}\n{{ nosuchfunction . }}{{ end }}",
    )
    .expect("break the Go template");
    let file = config_file(dir.path(), THREE);
    let (code, stdout, stderr) = run(&["check", "--config", &file]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("{file}: template \"nginx\": nginx.conf.j2:2")),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{file}: template \"per-container\": item.tmpl:2: function \"nosuchfunction\" not defined"
        )),
        "{stdout}"
    );
}

#[test]
fn check_usage_and_missing_files() {
    let (code, _, stderr) = run(&["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--config"), "{stderr}");
    let (code, stdout, stderr) = run(&["check", "--config", "/no/such/pygen.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.starts_with("cannot read the config file /no/such/pygen.toml:"),
        "{stdout}"
    );
}

/// Runs the main command on a file holding `text` (templates written beside it) and returns
/// the problems it reports, which must end the run with status 2.
fn refused(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    write_templates(dir.path());
    let file = config_file(dir.path(), text);
    let (code, stdout, stderr) = run(&["--config", &file]);
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    stderr
        .lines()
        .map(|line| {
            let rest = line
                .strip_prefix(&format!("pygen: {file}"))
                .unwrap_or_else(|| panic!("not a problem of {file}: {line}"));
            rest.to_owned()
        })
        .collect()
}

#[test]
fn each_class_of_problem_names_its_line_and_key() {
    let one = "[[template]]\nsource = \"templates/nginx.conf.j2\"\n";
    let cases = [
        (
            "debug = true\nx = \n".to_owned(),
            ":2: string values must be quoted",
        ),
        (
            format!("colour = \"blue\"\n{one}"),
            ":1: colour: unknown key",
        ),
        (
            format!("debug = \"yes\"\n{one}"),
            ":1: debug: expected true or false, found string",
        ),
        (
            format!("{one}repeat = -1\n"),
            ":3: template[1].repeat: invalid number of seconds -1",
        ),
        (
            format!("{one}target = \"/tmp/a\"\n{one}target = \"/tmp/b/../a\"\n"),
            ":4: template[2].target: writes /tmp/a like the entry on line 1",
        ),
        (
            format!("{one}name = \"n\"\n{one}name = \"n\"\n"),
            ":4: template[2].name: the name \"n\" is used by the entry on line 1 too",
        ),
        (
            format!("{one}per_item = \"containers\"\ntarget = \"/tmp/a.conf\"\n"),
            ":3: template[1].per_item: the target /tmp/a.conf must hold {name}",
        ),
        (
            "template = []\n".to_owned(),
            ":1: template: no [[template]] entry",
        ),
    ];
    for (text, expected) in cases {
        let problems = refused(&text);
        assert_eq!(problems.len(), 1, "{text}: {problems:#?}");
        assert!(problems[0].starts_with(expected), "{text}: {problems:#?}");
    }
}

#[test]
fn the_main_command_reports_every_problem() {
    let problems = refused("colour = 1\n[metrics]\nport = \"x\"\n");
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with(":1: colour: "), "{problems:#?}");
    assert!(
        problems[1].starts_with(":3: metrics.port: expected an integer"),
        "{problems:#?}"
    );
    assert!(
        problems[2].starts_with(": template: no [[template]] entry"),
        "{problems:#?}"
    );
}

#[test]
fn a_flag_next_to_config_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = config_file(dir.path(), "[[template]]\nsource = \"#x\"\n");
    let (code, _, stderr) = run(&["--config", &file, "--target", "/tmp/x"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "pygen: --target cannot be used with --config: set `target` in a [[template]] entry of \
         the config file instead\n"
    );
    let (code, _, stderr) = run(&["--metrics", "0", "--config", &file]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--metrics cannot be used with --config"),
        "{stderr}"
    );
    assert!(stderr.contains("`port` in the [metrics] table"), "{stderr}");
}

#[test]
fn one_shot_renders_from_the_config_file() {
    require_docker();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = config_file(
        dir.path(),
        "one_shot = true\n\n[metrics]\nport = 0\n\n[[template]]\n\
         inline = \"{{ containers | length >= 0 }}\"\ntarget = \"out.txt\"\n",
    );
    let (code, stdout, stderr) = run(&["--config", &file, "--debug"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let written = fs::read_to_string(dir.path().join("out.txt")).expect("the target is written");
    assert_eq!(written.trim(), "True");
    assert!(
        stderr.contains("DEBUG"),
        "--debug works with --config: {stderr}"
    );
}

#[test]
fn the_readme_example_passes_the_check() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read the README");
    let section = readme
        .split_once("\n## Config file\n")
        .expect("a Config file section")
        .1;
    let example = section
        .split_once("```toml\n")
        .and_then(|(_, rest)| rest.split_once("\n```\n"))
        .expect("a toml block in the section")
        .0;
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(dir.path().join("templates")).expect("templates folder");
    fs::write(
        dir.path().join("templates/nginx.conf.j2"),
        "{% for c in containers %}server {{ c.name }};\n{% endfor %}",
    )
    .expect("write nginx.conf.j2");
    fs::write(
        dir.path().join("templates/backend.tmpl"),
        "{{ range $ }}{{ .Name }}\n{{ end }}",
    )
    .expect("write backend.tmpl");
    let file = config_file(dir.path(), example);
    let (code, stdout, stderr) = run(&["check", "--config", &file]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout, "3 templates OK\n");
}

#[test]
fn docker_tls_settings_take_precedence_over_the_environment() {
    // No daemon is reached: the TLS files are checked before any connection is made, and
    // nothing listens on port 1.
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = dir.path().join("no-certs-here");
    let file = config_file(
        dir.path(),
        "one_shot = true\n\n[docker]\naddress = \"tcp://127.0.0.1:1\"\ntls_verify = true\n\
         cert_path = \"no-certs-here\"\n\n[[template]]\ninline = \"x\"\n",
    );
    let output = run_pygen_with_env(["--config", file.as_str()], &[("DOCKER_TLS_VERIFY", "")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&certs.join("ca.pem").display().to_string()),
        "TLS from the file, certificates from cert_path: {stderr}"
    );

    let file = config_file(
        dir.path(),
        "one_shot = true\n\n[docker]\naddress = \"tcp://127.0.0.1:1\"\ntls_verify = false\n\n\
         [[template]]\ninline = \"x\"\n",
    );
    let output = run_pygen_with_env(
        ["--config", file.as_str()],
        &[
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/nonexistent"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("nothing listens at tcp://127.0.0.1:1"),
        "plain TCP despite DOCKER_TLS_VERIFY: {stderr}"
    );
}
