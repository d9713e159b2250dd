//! The config file parser: each key, its default, each class of problem with its line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::super::{Check, Config, Dialect, Error, Intervals, PerItem, SignalSpec, SwarmAuth};

const FILE: &str = "/etc/pygen/pygen.toml";

fn parse(text: &str) -> Result<Config, Vec<Error>> {
    Config::from_text(Path::new(FILE), text)
}

fn ok(text: &str) -> Config {
    parse(text).unwrap_or_else(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("valid file expected:\n{}", lines.join("\n"))
    })
}

/// Every problem as `LINE KEY: message` (line 0 for the whole file).
fn problems(text: &str) -> Vec<String> {
    let problems = parse(text).expect_err("problems expected");
    problems
        .iter()
        .map(|problem| match problem {
            Error::File {
                path,
                line,
                key,
                message,
            } => {
                assert_eq!(path, Path::new(FILE));
                format!("{} {key}: {message}", line.unwrap_or(0))
            }
            other => panic!("unexpected error {other:?}"),
        })
        .collect()
}

/// The one problem of `text`, which must start with `start`.
fn problem(text: &str, start: &str) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with(start), "{found:#?}");
}

const ONE: &str = "[[template]]\nsource = \"t.j2\"\n";

#[test]
fn defaults_are_the_command_line_s() {
    let config = ok(ONE);
    let cli = Config::from_args(&super::defaults()).expect("defaults are valid");
    assert_eq!(config.events, cli.events);
    assert_eq!(config.template_timeout, Duration::from_secs(30));
    assert_eq!(config.metrics, Some("0.0.0.0:9413".parse().unwrap()));
    assert_eq!(config.swarm_poll, Some(Duration::from_secs(5)));
    assert!(config.swarm.is_none());
    assert!(!config.one_shot && !config.debug && !config.no_ssl_check);
    assert_eq!(config.docker_address, None);
    assert!(config.docker_tls.is_empty());
    assert_eq!(config.config_file, Some(PathBuf::from(FILE)));
    let [template] = config.templates.as_slice() else {
        panic!("one template expected");
    };
    assert_eq!(template.name, "stdout");
    assert_eq!(template.source, "/etc/pygen/t.j2");
    assert_eq!(template.target, None);
    assert_eq!(template.dialect, Dialect::Jinja);
    assert_eq!(template.intervals, cli.templates[0].intervals);
    assert_eq!(template.repeat, None);
    assert!(template.restart.is_empty() && template.signal.is_empty());
    assert_eq!(
        (&template.check, &template.per_item, template.mode),
        (&None, &None, None)
    );
}

#[test]
fn every_template_key() {
    let config = ok(r##"
        [[template]]
        name = "nginx"
        source = "templates/../nginx.j2"
        target = "out/nginx.conf"
        dialect = "go"
        restart = ["web", "api"]
        signal = [["proxy", "hup"], ["other", "9"]]
        interval = [1, 3.5]
        repeat = 2
        check = "nginx -t -c {file}"
        check_timeout = 5
        mode = "0640"

        [[template]]
        inline = "{{ 1 }}"
        target = "-"
        interval = 0

        [[template]]
        source = "https://example.com/t.j2"
        target = "/srv/conf.d/{name}.conf"
        per_item = "label:app"
        mode = 0o600

        [[template]]
        source = "#inline {{ 2 }}"
        target = "/srv/items/{name}"
        per_item = "containers"
    "##);
    let [nginx, inline, url, items] = config.templates.as_slice() else {
        panic!("four templates expected");
    };
    assert_eq!(nginx.name, "nginx");
    assert_eq!(nginx.source, "/etc/pygen/nginx.j2");
    assert_eq!(
        nginx.target,
        Some(PathBuf::from("/etc/pygen/out/nginx.conf"))
    );
    assert_eq!(nginx.dialect, Dialect::Go);
    assert_eq!(nginx.restart, ["web", "api"]);
    assert_eq!(
        nginx.signal,
        [
            SignalSpec {
                target: "proxy".into(),
                signal: "SIGHUP".into()
            },
            SignalSpec {
                target: "other".into(),
                signal: "9".into()
            },
        ]
    );
    assert_eq!(
        nginx.intervals,
        Intervals {
            min: Duration::from_secs(1),
            max: Duration::from_millis(3500)
        }
    );
    assert_eq!(nginx.repeat, Some(Duration::from_secs(2)));
    assert_eq!(
        nginx.check,
        Some(Check {
            command: "nginx -t -c {file}".into(),
            timeout: Duration::from_secs(5)
        })
    );
    assert_eq!(nginx.mode, Some(0o640));
    assert_eq!(inline.source, "#{{ 1 }}");
    assert_eq!(inline.target, None);
    assert_eq!(inline.name, "stdout");
    assert!(inline.intervals.is_immediate());
    assert_eq!(url.source, "https://example.com/t.j2");
    assert_eq!(url.per_item, Some(PerItem::Label("app".into())));
    assert_eq!(url.mode, Some(0o600));
    assert_eq!(items.source, "#inline {{ 2 }}");
    assert_eq!(items.per_item, Some(PerItem::Containers));
    assert_eq!(items.name, "{name}");
}

#[test]
fn a_check_without_a_timeout_has_the_default() {
    let config = ok("[[template]]\nsource = \"t\"\ntarget = \"/x\"\ncheck = \"true\"\n");
    let check = config.templates[0].check.as_ref().expect("a check");
    assert_eq!(check.timeout, Check::DEFAULT_TIMEOUT);
}

#[test]
fn every_global_key() {
    let config = ok(r#"
        events = ["start", "health_status"]
        template_timeout = 2.5
        no_ssl_check = true
        debug = true
        swarm_poll = 0

        [docker]
        address = "tcp://10.0.0.1:2376"
        tls_verify = true
        cert_path = "certs"

        [metrics]
        address = "127.0.0.1"
        port = 9000

        [swarm_manager]
        workers = ["tasks.worker"]
        retries = 3
        address = "127.0.0.1"
        port = 8000
        secret_file = "/run/secrets/pygen"

        [[template]]
        source = "/abs/t.j2"
    "#);
    assert_eq!(config.events.items(), ["start", "health_status"]);
    assert_eq!(config.template_timeout, Duration::from_millis(2500));
    assert!(config.no_ssl_check && config.debug && !config.one_shot);
    assert_eq!(config.swarm_poll, None);
    assert_eq!(
        config.docker_address.as_deref(),
        Some("tcp://10.0.0.1:2376")
    );
    assert_eq!(config.docker_tls.verify, Some(true));
    assert_eq!(
        config.docker_tls.cert_path.as_deref(),
        Some("/etc/pygen/certs")
    );
    assert_eq!(config.metrics, Some("127.0.0.1:9000".parse().unwrap()));
    let swarm = config.swarm.expect("a manager");
    assert_eq!(swarm.workers, ["tasks.worker"]);
    assert_eq!(swarm.retries, 3);
    assert_eq!(swarm.listen, "127.0.0.1:8000".parse().unwrap());
    assert_eq!(
        swarm.auth,
        SwarmAuth::SecretFile("/run/secrets/pygen".into())
    );
    assert_eq!(config.templates[0].source, "/abs/t.j2");
}

#[test]
fn metrics_port_zero_and_empty_events_turn_things_off() {
    let config = ok(&format!("events = []\n[metrics]\nport = 0\n{ONE}"));
    assert!(config.events.is_empty());
    assert_eq!(config.metrics, None);
    let config = ok(&format!("events = [\"none\"]\n{ONE}"));
    assert!(config.events.is_empty());
}

#[test]
fn one_shot_runs_actions_at_once() {
    let config = ok("one_shot = true\n[[template]]\nsource = \"t\"\ninterval = 5\nrepeat = 3\n");
    assert!(config.one_shot);
    assert_eq!(config.templates[0].intervals, Intervals::IMMEDIATE);
    assert_eq!(config.templates[0].repeat, None);
    problem(
        &format!("one_shot = true\n[swarm_manager]\n{ONE}"),
        "2 swarm_manager: the Swarm manager is not available in one-shot mode",
    );
}

#[test]
fn swarm_manager_authentication() {
    let manager = |keys: &str| format!("[swarm_manager]\n{keys}\n{ONE}");
    let config = ok(&manager("insecure_no_auth = true\naddress = \"::1\""));
    assert_eq!(
        config.swarm.expect("a manager").auth,
        SwarmAuth::InsecureNoAuth
    );
    let config = ok(&manager(""));
    let swarm = config.swarm.expect("a manager");
    assert_eq!(swarm.auth, SwarmAuth::Unconfigured);
    assert_eq!(swarm.listen, "0.0.0.0:9411".parse().unwrap());
    problem(
        &manager("insecure_no_auth = true"),
        "1 swarm_manager: insecure_no_auth: the endpoint would listen on 0.0.0.0:9411",
    );
    problem(
        &manager("insecure_no_auth_on_network = true"),
        "1 swarm_manager: insecure_no_auth_on_network needs insecure_no_auth = true",
    );
    let both =
        manager("secret_file = \"s\"\ninsecure_no_auth = true\ninsecure_no_auth_on_network = true");
    problem(
        &both,
        "1 swarm_manager: secret_file and insecure_no_auth = true exclude each other",
    );
    problem(
        &manager("port = 0"),
        "2 swarm_manager.port: 0 is out of range (expected 1 to 65535)",
    );
    problem(
        &manager("retries = -1"),
        "2 swarm_manager.retries: -1 is out of range",
    );
    problem(
        &manager("workers = [\"\"]"),
        "2 swarm_manager.workers: the value must not be empty",
    );
}

#[test]
fn syntax_errors_name_their_line() {
    let found = problems("events = [\"start\"]\n\nx = [1,\n");
    assert!(!found.is_empty());
    assert!(
        found[0].starts_with("3 : ") || found[0].starts_with("4 : "),
        "{found:#?}"
    );
}

#[test]
fn unknown_keys_are_problems_everywhere() {
    problem(
        &format!("colour = 1\n{ONE}"),
        "1 colour: unknown key (expected one of: events,",
    );
    problem(
        &format!("[docker]\nhost = \"x\"\n{ONE}"),
        "2 docker.host: unknown key",
    );
    problem(
        &format!("[metrics]\nbind = \"x\"\n{ONE}"),
        "2 metrics.bind: unknown key",
    );
    problem(
        &format!("[swarm_manager]\nworker = []\n{ONE}"),
        "2 swarm_manager.worker: unknown key",
    );
    problem(
        &format!("{ONE}sauce = \"t\"\n"),
        "3 template[1].sauce: unknown key (expected one of: name, source,",
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    problem(
        &format!("debug = \"yes\"\n{ONE}"),
        "1 debug: expected true or false, found string",
    );
    problem(
        &format!("events = \"start\"\n{ONE}"),
        "1 events: expected an array of strings, found string",
    );
    problem(
        &format!("template_timeout = \"5s\"\n{ONE}"),
        "1 template_timeout: expected a number of seconds, found string",
    );
    problem(
        &format!("docker = 1\n{ONE}"),
        "1 docker: expected a table, found integer",
    );
    problem(
        &format!("[metrics]\naddress = \"localhost\"\n{ONE}"),
        "2 metrics.address: \"localhost\" is not an IP address",
    );
    problem(
        &format!("{ONE}restart = \"web\"\n"),
        "3 template[1].restart: expected an array of strings",
    );
    problem(
        &format!("{ONE}target = 5\n"),
        "3 template[1].target: expected a string, found integer",
    );
    problem(
        "[template]\nsource = \"t\"\n",
        "1 template: expected [[template]] entries, found table",
    );
}

#[test]
fn bad_values_reuse_the_command_line_s_checks() {
    let entry = |line: &str| format!("{ONE}{line}\n");
    problem(
        &entry("interval = [2, 1]"),
        "3 template[1].interval: MIN 2 is greater than MAX 1",
    );
    problem(
        &entry("interval = [1, 2, 3]"),
        "3 template[1].interval: expected [MIN] or [MIN, MAX], found 3 value(s)",
    );
    problem(
        &entry("interval = -1"),
        "3 template[1].interval: invalid number of seconds -1",
    );
    problem(
        &entry("repeat = nan"),
        "3 template[1].repeat: invalid number of seconds NaN",
    );
    problem(
        &entry("check_timeout = 0\ncheck = \"true\"\ntarget = \"/x\""),
        "3 template[1].check_timeout: the number of seconds must be greater than 0",
    );
    problem(
        &entry("signal = [[\"web\", \"HUPP\"]]"),
        "3 template[1].signal: unknown signal \"HUPP\" for \"web\"",
    );
    problem(
        &entry("signal = [[\"web\"]]"),
        "3 template[1].signal: expected a [\"CONTAINER\", \"SIGNAL\"] pair, found 1 value(s)",
    );
    problem(
        &entry("signal = [\"web\", \"HUP\"]"),
        "3 template[1].signal: expected a [\"CONTAINER\", \"SIGNAL\"] pair, found string",
    );
    problem(
        &entry("dialect = \"python\""),
        "3 template[1].dialect: unknown dialect \"python\"",
    );
    problem(
        &entry("mode = 644\ntarget = \"/x\""),
        "3 template[1].mode: write the mode in octal, as \"0644\" or 0o644",
    );
    problem(
        &entry("mode = \"0x1\"\ntarget = \"/x\""),
        "3 template[1].mode: expected permission bits in octal",
    );
    problem(
        &entry("mode = \"17777\"\ntarget = \"/x\""),
        "3 template[1].mode: expected permission bits in octal",
    );
    problem(
        &entry("per_item = \"services\"\ntarget = \"/{name}\""),
        "3 template[1].per_item: unknown per_item \"services\"",
    );
    problem(
        &entry("name = \"\""),
        "3 template[1].name: the value must not be empty",
    );
    problem(
        &format!("events = [\"\"]\n{ONE}"),
        "1 events: the value must not be empty",
    );
    problem(
        &format!("[docker]\naddress = \"tcp://h:0\"\n{ONE}"),
        "2 docker.address: Docker address \"tcp://h:0\": the port \"0\" is not a number",
    );
}

#[test]
fn settings_that_need_a_target_file() {
    let entry = |lines: &str| format!("[[template]]\nsource = \"t\"\n{lines}\n");
    problem(
        &entry("per_item = \"containers\""),
        "3 template[1].per_item: per_item needs a `target` file pattern",
    );
    problem(
        &entry("per_item = \"containers\"\ntarget = \"/x.conf\""),
        "3 template[1].per_item: the target /x.conf must hold {name}",
    );
    problem(
        &entry("per_item = \"containers\"\ntarget = \"/{name}/x.conf\""),
        "3 template[1].per_item: the target /{name}/x.conf must hold {name} in its file name",
    );
    problem(
        &entry("check = \"true\"\ntarget = \"-\""),
        "3 template[1].check: check needs a `target` file; this entry prints to stdout",
    );
    problem(
        &entry("mode = \"0644\""),
        "3 template[1].mode: mode needs a `target` file",
    );
    problem(
        &entry("check_timeout = 5"),
        "3 template[1].check_timeout: check_timeout without a `check` command",
    );
}

#[test]
fn an_entry_needs_exactly_one_source() {
    problem(
        "[[template]]\ntarget = \"/x\"\n",
        "1 template[1]: no template: give `source` (a file or URL) or `inline`",
    );
    problem(
        "[[template]]\nsource = \"a\"\ninline = \"b\"\n",
        "3 template[1].inline: give either `source` or `inline`, not both",
    );
    problem(
        "[[template]]\nsource = \"\"\n",
        "2 template[1].source: the value must not be empty",
    );
}

#[test]
fn a_file_without_templates_is_refused() {
    let found = problems("debug = true\n");
    assert_eq!(
        found,
        ["0 template: no [[template]] entry: the file needs at least one"]
    );
    problem("template = []\n", "1 template: no [[template]] entry");
}

#[test]
fn entries_must_not_clash() {
    let found = problems(
        "[[template]]\nsource = \"a\"\ntarget = \"out/a.conf\"\n\n\
         [[template]]\nsource = \"b\"\ntarget = \"/etc/pygen/out/./x/../a.conf\"\n\n\
         [[template]]\nname = \"a.conf\"\nsource = \"c\"\n\n\
         [[template]]\nsource = \"d\"\n[[template]]\nsource = \"e\"\n",
    );
    assert_eq!(
        found,
        [
            "5 template[2].target: writes /etc/pygen/out/a.conf like the entry on line 1: two \
             entries cannot write the same file",
            "9 template[3].name: the name \"a.conf\" is used by the entry on line 1 too",
            "15 template[5].name: the name \"stdout\" is used by the entry on line 13 too (taken \
             from the target's file name; set `name` to tell them apart)",
        ]
    );
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let found = problems(
        "template_timeout = 0\ncolour = 1\n[[template]]\nsource = \"t\"\ninterval = [3, 1]\n\
         [[template]]\ntarget = \"/x\"\n",
    );
    let lines: Vec<&str> = found
        .iter()
        .map(|p| p.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(lines, ["1", "2", "5", "6"], "{found:#?}");
}

#[test]
fn problems_print_file_line_and_key() {
    let err = parse("colour = 1\n").expect_err("problems");
    let text = Error::from_problems(err).to_string();
    assert_eq!(
        text,
        format!(
            "{FILE}:1: colour: unknown key (expected one of: events, template_timeout, \
             no_ssl_check, one_shot, debug, swarm_poll, docker, metrics, swarm_manager, \
             template)\n{FILE}: template: no [[template]] entry: the file needs at least one"
        )
    );
}

#[test]
fn a_missing_file_is_named() {
    let problems = Config::from_file(Path::new("/no/such/pygen.toml")).expect_err("no file");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .starts_with("cannot read the config file /no/such/pygen.toml:"),
        "{}",
        problems[0]
    );
}

#[test]
fn relative_paths_resolve_against_the_file_s_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pygen.toml");
    std::fs::write(
        &path,
        "[docker]\ncert_path = \"../certs\"\n[[template]]\nsource = \"t/a.j2\"\ntarget = \"a\"\n",
    )
    .expect("write the file");
    let config = Config::from_file(&path).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        config.templates[0].source,
        dir.path().join("t/a.j2").to_str().unwrap()
    );
    assert_eq!(config.templates[0].target, Some(dir.path().join("a")));
    let parent = dir.path().parent().expect("a parent").join("certs");
    assert_eq!(config.docker_tls.cert_path.as_deref(), parent.to_str());
    assert_eq!(config.config_file, Some(path));
}
