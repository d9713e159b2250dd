//! Command-line parsing through the library API: docker-pygen's `test_cli.py` cases, plus the
//! subcommands and the flags pygen adds.

use std::time::Duration;

use clap::Parser;
use clap::error::ErrorKind;
use pygen::cli::{Cli, Command};
use pygen::config::{Config, Mode};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("pygen").chain(args.iter().copied()))
}

fn must_parse(args: &[&str]) -> Cli {
    parse(args).unwrap_or_else(|error| panic!("{args:?} should parse: {error}"))
}

fn must_fail(args: &[&str]) -> clap::Error {
    match parse(args) {
        Ok(cli) => panic!("{args:?} should fail, got {cli:?}"),
        Err(error) => error,
    }
}

#[test]
fn parse_arguments() {
    let cli = must_parse(&[
        "--template",
        "test.template",
        "--target",
        "/etc/target.file",
    ]);
    assert!(cli.command.is_none());
    assert_eq!(cli.run.template.as_deref(), Some("test.template"));
    assert_eq!(
        cli.run.target.as_deref(),
        Some(std::path::Path::new("/etc/target.file"))
    );
}

#[test]
fn parse_arguments_defaults() {
    let cli = must_parse(&["--template", "test.template"]);
    let run = &cli.run;
    assert_eq!(run.target, None);
    assert!(run.restart.is_empty());
    assert!(run.signal.is_empty());
    assert_eq!(
        run.interval,
        [Duration::from_millis(500), Duration::from_secs(2)]
    );
    assert_eq!(run.repeat, Duration::ZERO);
    assert_eq!(run.events.events, ["start", "stop", "die", "health_status"]);
    assert!(!run.swarm_manager);
    assert!(run.workers.is_empty());
    assert_eq!(run.retries, 0);
    assert!(!run.fetch.no_ssl_check);
    assert!(!run.one_shot);
    assert_eq!(run.docker.docker_address, None);
    assert_eq!(run.metrics, 9413);
    assert!(!run.logging.debug);
    assert_eq!(run.metrics_address.to_string(), "0.0.0.0");
    assert_eq!(run.fetch.template_timeout, Duration::from_secs(30));
    assert_eq!(run.swarm_manager_port, 9411);
    assert_eq!(run.manager_address.to_string(), "0.0.0.0");
    assert_eq!(run.swarm_poll, Duration::from_secs(5));
    assert_eq!(run.auth.swarm_secret_file, None);
    assert!(!run.auth.insecure_no_auth);
}

#[test]
fn parse_empty_arguments() {
    // No arguments at all: the whole help, with the subcommands, not only a usage line.
    let error = must_fail(&[]);
    assert_eq!(
        error.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let text = error.to_string();
    assert!(text.contains("--template"), "{error}");
    assert!(text.contains("worker") && text.contains("state"), "{error}");
    assert_eq!(error.exit_code(), 2);
    // Arguments without --template: the usual error.
    let error = must_fail(&["--one-shot"]);
    assert_eq!(error.kind(), ErrorKind::MissingRequiredArgument);
}

#[test]
fn prints_help() {
    let error = must_fail(&["--help"]);
    assert_eq!(error.kind(), ErrorKind::DisplayHelp);
    assert_eq!(error.exit_code(), 0);
    let help = error.to_string();
    assert!(
        help.contains("Template generator based on Docker runtime information"),
        "{help}"
    );
    for flag in [
        "--template",
        "--target",
        "--restart",
        "--signal",
        "--interval",
        "--repeat",
        "--events",
        "--swarm-manager",
        "--workers",
        "--retries",
        "--no-ssl-check",
        "--one-shot",
        "--docker-address",
        "--metrics",
        "--debug",
        "--metrics-address",
        "--template-timeout",
        "--swarm-manager-port",
        "--manager-address",
        "--swarm-poll",
        "--swarm-secret-file",
        "--insecure-no-auth",
    ] {
        assert!(help.contains(flag), "help lacks {flag}: {help}");
    }
    // Help is wrapped to the terminal width: compare with whitespace collapsed.
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "The base Jinja2 template: a file, an http(s):// URL, or an inline template as \
             string if it starts with \"#\""
        ),
        "{help}"
    );
}

#[test]
fn restart_argument() {
    let cli = must_parse(&["--template", "t", "--restart", "target-container"]);
    assert_eq!(cli.run.restart, ["target-container"]);
    let cli = must_parse(&[
        "--template",
        "t",
        "--restart",
        "target-container",
        "--restart",
        "second-container",
    ]);
    assert_eq!(cli.run.restart, ["target-container", "second-container"]);
}

#[test]
fn signal_argument() {
    let cli = must_parse(&["--template", "t", "--signal", "target-container", "HUP"]);
    assert_eq!(
        cli.run.signal_pairs(),
        [("target-container".to_string(), "HUP".to_string())]
    );
    let cli = must_parse(&[
        "--template",
        "t",
        "--signal",
        "target-container",
        "HUP",
        "--signal",
        "second-container",
        "INT",
    ]);
    assert_eq!(
        cli.run.signal_pairs(),
        [
            ("target-container".to_string(), "HUP".to_string()),
            ("second-container".to_string(), "INT".to_string())
        ]
    );
}

#[test]
fn empty_values_are_usage_errors() {
    // Paths: clap's own check.
    for args in [
        &["--template", "t", "--target", ""][..],
        &["--template", "t", "--swarm-secret-file", ""],
        &["render", "--template", "t", "--state", ""],
    ] {
        let error = must_fail(args);
        assert_eq!(error.kind(), ErrorKind::InvalidValue, "{args:?}: {error}");
        assert_eq!(error.exit_code(), 2);
    }
    // Names, templates and URLs: pygen's check, through clap.
    for (args, flag) in [
        (&["--template", ""][..], "--template <TEMPLATE>"),
        (
            &["--template", "t", "--restart", ""],
            "--restart <CONTAINER>",
        ),
        (
            &["--template", "t", "--workers", "a", ""],
            "--workers <TARGET>...",
        ),
        (&["worker", "--manager", ""], "--manager <HOSTNAME>..."),
        (
            &["render", "--state", "s", "--template", ""],
            "--template <TEMPLATE>",
        ),
        (&["healthcheck", "--url", ""], "--url <URL>"),
    ] {
        let error = must_fail(args);
        assert_eq!(
            error.kind(),
            ErrorKind::ValueValidation,
            "{args:?}: {error}"
        );
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(
            text.contains(&format!("for '{flag}': the value must not be empty")),
            "{args:?}: {text}"
        );
    }
    let error = must_fail(&["worker", "--manager", "m", "--allow-label", "=v"]);
    assert!(
        error.to_string().contains(
            "invalid value '=v' for '--allow-label <KEY[=VALUE]>': the label key must not be empty"
        ),
        "{error}"
    );
}

#[test]
fn seconds_are_checked_by_clap() {
    for (args, message) in [
        (
            &["--template", "t", "--repeat", "-1"][..],
            "invalid value '-1' for '--repeat <SECONDS>': invalid number of seconds -1",
        ),
        (
            &["--template", "t", "--swarm-poll", "nan"],
            "invalid value 'nan' for '--swarm-poll <SECONDS>': invalid number of seconds NaN",
        ),
        (
            &["--template", "t", "--interval", "inf"],
            "invalid value 'inf' for '--interval <MIN> [MAX]': invalid number of seconds inf",
        ),
        (
            &["--template", "t", "--template-timeout", "0"],
            "invalid value '0' for '--template-timeout <SECONDS>': the number of seconds must \
             be greater than 0",
        ),
        (
            &["healthcheck", "--timeout", "soon"],
            "invalid value 'soon' for '--timeout <SECONDS>': \"soon\" is not a number of seconds",
        ),
    ] {
        let error = must_fail(args);
        assert_eq!(
            error.kind(),
            ErrorKind::ValueValidation,
            "{args:?}: {error}"
        );
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains(message), "{args:?}: {error}");
    }
    let cli = must_parse(&["--template", "t", "--repeat", "1.5", "--swarm-poll", "0"]);
    assert_eq!(cli.run.repeat, Duration::from_millis(1500));
    assert_eq!(cli.run.swarm_poll, Duration::ZERO);
}

#[test]
fn signal_needs_exactly_two_values() {
    must_fail(&["--template", "t", "--signal", "only-container"]);
    must_fail(&["--template", "t", "--signal", "c", "HUP", "extra"]);
}

#[test]
fn multi_value_flags() {
    let cli = must_parse(&[
        "--template",
        "t",
        "--interval",
        "1",
        "--events",
        "start",
        "health_status",
        "--workers",
        "tasks.a",
        "tasks.b",
        "--one-shot",
    ]);
    assert_eq!(cli.run.interval, [Duration::from_secs(1)]);
    assert_eq!(cli.run.events.events, ["start", "health_status"]);
    assert_eq!(cli.run.workers, ["tasks.a", "tasks.b"]);
    assert!(cli.run.one_shot);
    // A third value is not taken (argparse took it and failed later): the error shows the
    // flag's two values.
    let error = must_fail(&["--template", "t", "--interval", "1", "2", "3"]);
    assert!(
        error.to_string().contains("--interval <MIN> [MAX]"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 2);
    // A negative value is taken as the flag's value (not as a flag) and refused by clap,
    // which names the flag.
    let error = must_fail(&["--template", "t", "--interval", "0.5", "-1"]);
    assert_eq!(error.kind(), ErrorKind::ValueValidation);
    assert!(
        error
            .to_string()
            .contains("invalid value '-1' for '--interval <MIN> [MAX]'"),
        "{error}"
    );
    // MIN above MAX needs both values: the validation in `config` says so.
    let cli = must_parse(&["--template", "t", "--interval", "2", "1"]);
    assert!(
        Config::from_cli(&cli)
            .unwrap_err()
            .to_string()
            .starts_with("--interval")
    );
}

#[test]
fn bad_numbers_are_usage_errors() {
    for args in [
        ["--template", "t", "--metrics", "70000"],
        ["--template", "t", "--retries", "many"],
        ["--template", "t", "--interval", "soon"],
        ["--template", "t", "--metrics-address", "everywhere"],
    ] {
        let error = must_fail(&args);
        assert_eq!(
            error.kind(),
            ErrorKind::ValueValidation,
            "{args:?}: {error}"
        );
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains(args[2]), "{error}");
    }
}

#[test]
fn one_shot_main_command() {
    let cli = must_parse(&["--template", "x", "--one-shot"]);
    assert!(matches!(Mode::from_cli(&cli), Ok(Mode::Run(config)) if config.one_shot));
}

#[test]
fn swarm_worker_arguments() {
    must_fail(&["worker"]);
    must_fail(&["worker", "--debug"]);

    let cli = must_parse(&[
        "worker",
        "--manager",
        "manager-host",
        "--retries",
        "12",
        "--debug",
    ]);
    let Some(Command::Worker(worker)) = &cli.command else {
        panic!("worker expected: {cli:?}");
    };
    assert_eq!(worker.manager, ["manager-host"]);
    assert_eq!(worker.retries, 12);
    assert_eq!(
        worker.events.events,
        ["start", "stop", "die", "health_status"]
    );
    assert!(worker.logging.debug);
    assert_eq!(worker.metrics, 9414);
    assert_eq!(worker.worker_port, 9412);
    assert_eq!(worker.worker_address.to_string(), "0.0.0.0");

    let cli = must_parse(&[
        "worker",
        "--manager",
        "manager1",
        "manager2",
        "--events",
        "start",
        "stop",
    ]);
    let Some(Command::Worker(worker)) = &cli.command else {
        panic!("worker expected: {cli:?}");
    };
    assert_eq!(worker.manager, ["manager1", "manager2"]);
    assert_eq!(worker.events.events, ["start", "stop"]);
    assert!(!worker.logging.debug);
}

#[test]
fn worker_does_not_need_a_template() {
    let cli = must_parse(&["worker", "--manager", "m"]);
    assert!(cli.run.template.is_none());
    assert!(matches!(Mode::from_cli(&cli), Ok(Mode::Worker(_))));
}

#[test]
fn main_flags_and_subcommands_exclude_each_other() {
    let error = must_fail(&["--template", "t", "worker", "--manager", "m"]);
    assert_eq!(error.exit_code(), 2);
}

#[test]
fn swarm_auth_flags_conflict() {
    let error = must_fail(&[
        "--template",
        "t",
        "--swarm-secret-file",
        "/s",
        "--insecure-no-auth",
    ]);
    assert_eq!(error.kind(), ErrorKind::ArgumentConflict);
    let error = must_fail(&[
        "worker",
        "--manager",
        "m",
        "--swarm-secret-file",
        "/s",
        "--insecure-no-auth",
    ]);
    assert_eq!(error.kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn state_subcommand() {
    let cli = must_parse(&["state", "--docker-address", "tcp://h:2375", "--debug"]);
    let Some(Command::State(state)) = &cli.command else {
        panic!("state expected: {cli:?}");
    };
    assert_eq!(state.docker.docker_address.as_deref(), Some("tcp://h:2375"));
    assert!(cli.debug());
}

#[test]
fn render_subcommand() {
    must_fail(&["render", "--template", "t"]);
    must_fail(&["render", "--state", "s.json"]);
    let cli = must_parse(&[
        "render",
        "--state",
        "s.json",
        "--template",
        "t.j2",
        "--target",
        "out",
        "--no-ssl-check",
        "--template-timeout",
        "3",
    ]);
    let Some(Command::Render(render)) = &cli.command else {
        panic!("render expected: {cli:?}");
    };
    assert_eq!(render.state.to_str(), Some("s.json"));
    assert_eq!(render.template, "t.j2");
    assert_eq!(
        render.target.as_deref().and_then(|p| p.to_str()),
        Some("out")
    );
    assert!(render.fetch.no_ssl_check);
    assert_eq!(render.fetch.template_timeout, Duration::from_secs(3));
}

#[test]
fn healthcheck_and_completions_subcommands() {
    let cli = must_parse(&["healthcheck", "--url", "http://127.0.0.1:9414/metrics"]);
    let Some(Command::Healthcheck(check)) = &cli.command else {
        panic!("healthcheck expected: {cli:?}");
    };
    assert_eq!(check.url, "http://127.0.0.1:9414/metrics");

    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let cli = must_parse(&["completions", shell]);
        assert!(
            matches!(cli.command, Some(Command::Completions(_))),
            "{shell}"
        );
    }
    must_fail(&["completions", "tcsh"]);
    must_fail(&["completions"]);
}
