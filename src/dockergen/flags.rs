//! docker-gen's command line, parsed as Go's `flag` package parses it: `-flag` and `--flag`,
//! `-flag=value` and `-flag value`, booleans only as `-flag` or `-flag=false`, parsing stops at
//! the first argument that is not a flag (or after `--`). clap cannot take single-dash long
//! flags, hence this small parser of its own. Every error names the flag.

use std::fmt::Write as _;

/// Every docker-gen 0.17.2 flag, plus pygen's own (`-metrics`, `-notify-timeout`), as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `-version`.
    pub version: bool,
    /// `-help`, `-h`.
    pub help: bool,
    /// `-watch`.
    pub watch: bool,
    /// `-wait min[:max]`.
    pub wait: Option<String>,
    /// `-config FILE`, repeatable.
    pub config: Vec<String>,
    /// `-keep-blank-lines`.
    pub keep_blank_lines: bool,
    /// `-only-exposed`.
    pub only_exposed: bool,
    /// `-only-published`.
    pub only_published: bool,
    /// `-include-stopped`.
    pub include_stopped: bool,
    /// `-container-filter key=value`, repeatable.
    pub container_filter: Vec<String>,
    /// `-notify "cmd"`.
    pub notify: Option<String>,
    /// `-notify-output`.
    pub notify_output: bool,
    /// `-interval N` (seconds).
    pub interval: i64,
    /// `-notify-sighup ID`, repeatable.
    pub notify_sighup: Vec<String>,
    /// `-notify-container ID`, repeatable.
    pub notify_container: Vec<String>,
    /// `-notify-signal N`; `None` when not given (1, SIGHUP).
    pub notify_signal: Option<i64>,
    /// `-notify-filter key=value`, repeatable.
    pub notify_filter: Vec<String>,
    /// `-endpoint`.
    pub endpoint: Option<String>,
    /// `-tlscert`.
    pub tlscert: Option<String>,
    /// `-tlskey`.
    pub tlskey: Option<String>,
    /// `-tlscacert`.
    pub tlscacert: Option<String>,
    /// `-tlsverify`; `None` when not given (then `DOCKER_TLS_VERIFY` decides).
    pub tlsverify: Option<bool>,
    /// `-event-filter key=value`, repeatable.
    pub event_filter: Vec<String>,
    /// pygen: `-metrics ADDR` turns the Prometheus endpoint on (off by default in this mode).
    pub metrics: Option<String>,
    /// pygen: `-notify-timeout DURATION` bounds the `-notify` command (default 60s).
    pub notify_timeout: Option<String>,
    /// The positional arguments: `template [dest]`.
    pub args: Vec<String>,
}

/// A command line Go's `flag` package would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// An unknown flag.
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    /// A flag that takes a value was last.
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    /// A value of the wrong type.
    #[error("invalid value {value:?} for flag -{flag}: {reason}")]
    Invalid {
        /// The flag.
        flag: String,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `---x` and the like.
    #[error("bad flag syntax: {0}")]
    Syntax(String),
}

/// The kind of value a flag takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Str,
    List,
}

/// Every flag: name, kind, help.
const FLAGS: &[(&str, Kind, &str)] = &[
    (
        "config",
        Kind::List,
        "config files with template directives; repeatable",
    ),
    (
        "container-filter",
        Kind::List,
        "container filter key=value for inclusion (the Docker API's filters); repeatable",
    ),
    (
        "endpoint",
        Kind::Str,
        "docker api endpoint (tcp|unix://..). Default unix:///var/run/docker.sock",
    ),
    (
        "event-filter",
        Kind::List,
        "additional event filter key=value, added to event=start,stop,die,health_status; repeatable",
    ),
    ("include-stopped", Kind::Bool, "include stopped containers"),
    ("interval", Kind::Int, "notify command interval (secs)"),
    (
        "keep-blank-lines",
        Kind::Bool,
        "keep blank lines in the output file",
    ),
    (
        "metrics",
        Kind::Str,
        "pygen: serve Prometheus metrics on ADDR (host:port); off by default",
    ),
    (
        "notify",
        Kind::Str,
        "run command after template is regenerated (e.g. `restart xyz`)",
    ),
    (
        "notify-container",
        Kind::List,
        "send -notify-signal signal (defaults to 1 / HUP) to container; repeatable",
    ),
    (
        "notify-filter",
        Kind::List,
        "container filter for notification (e.g -notify-filter name=foo); repeatable",
    ),
    (
        "notify-output",
        Kind::Bool,
        "log the output(stdout/stderr) of notify command",
    ),
    (
        "notify-sighup",
        Kind::List,
        "send HUP signal to container; repeatable",
    ),
    (
        "notify-signal",
        Kind::Int,
        "signal to send to the notify-container and notify-filter; -1 restarts the container",
    ),
    (
        "notify-timeout",
        Kind::Str,
        "pygen: time limit of the -notify command (Go duration, default 60s)",
    ),
    (
        "only-exposed",
        Kind::Bool,
        "only include containers with exposed ports",
    ),
    (
        "only-published",
        Kind::Bool,
        "only include containers with published ports (implies -only-exposed)",
    ),
    (
        "tlscacert",
        Kind::Str,
        "path to TLS CA certificate file (default $DOCKER_CERT_PATH/ca.pem)",
    ),
    (
        "tlscert",
        Kind::Str,
        "path to TLS client certificate file (default $DOCKER_CERT_PATH/cert.pem)",
    ),
    (
        "tlskey",
        Kind::Str,
        "path to TLS client key file (default $DOCKER_CERT_PATH/key.pem)",
    ),
    (
        "tlsverify",
        Kind::Bool,
        "verify docker daemon's TLS certificate (default $DOCKER_TLS_VERIFY set)",
    ),
    ("version", Kind::Bool, "show version"),
    (
        "wait",
        Kind::Str,
        "minimum and maximum durations to wait (e.g. \"500ms:2s\") before triggering generate",
    ),
    ("watch", Kind::Bool, "watch for container changes"),
];

/// The usage text, Go style.
pub fn usage(program: &str) -> String {
    let mut out = format!(
        "Usage: {program} [options] template [dest]\n\n\
         Generate files from docker container meta-data\n\n\
         Options:\n"
    );
    for (name, kind, help) in FLAGS {
        let arg = match kind {
            Kind::Bool => "",
            Kind::Int => " int",
            Kind::Str | Kind::List => " value",
        };
        let _ = writeln!(out, "  -{name}{arg}\n    \t{help}");
    }
    out.push_str(
        "\nArguments:\n  template - path to a template to generate\n  \
         dest - path to write the template to. If not specified, STDOUT is used\n\n\
         Environment Variables:\n  \
         DOCKER_HOST - default value for -endpoint\n  \
         DOCKER_CERT_PATH - directory path containing key.pem, cert.pem and ca.pem\n  \
         DOCKER_TLS_VERIFY - enable client TLS verification\n  \
         DOCKER_CONTAINER_FILTERS - comma separated list of container filters for inclusion \
         by docker-gen.\n                             Filters supplied through this variable \
         are ignored if -container-filter is provided.\n",
    );
    out
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses the arguments after the program name.
pub fn parse<I, S>(args: I) -> Result<Flags, FlagError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut it = args.into_iter().map(Into::into).peekable();
    let mut flags = Flags::default();
    while let Some(arg) = it.next() {
        if arg == "--" {
            break;
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            flags.args.push(arg);
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(FlagError::Syntax(arg.clone()));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (body.to_owned(), None),
        };
        if name == "h" || name == "help" {
            flags.help = true;
            continue;
        }
        let Some(&(_, kind, _)) = FLAGS.iter().find(|(n, _, _)| *n == name) else {
            return Err(FlagError::Unknown(name));
        };
        if kind == Kind::Bool {
            let value = match inline {
                None => true,
                Some(v) => parse_bool(&v).ok_or(FlagError::Invalid {
                    flag: name.clone(),
                    value: v,
                    reason: "parse error",
                })?,
            };
            set_bool(&mut flags, &name, value);
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .ok_or_else(|| FlagError::MissingValue(name.clone()))?,
        };
        if kind == Kind::Int {
            let n = value.parse::<i64>().map_err(|_| FlagError::Invalid {
                flag: name.clone(),
                value: value.clone(),
                reason: "parse error",
            })?;
            match name.as_str() {
                "interval" => flags.interval = n,
                _ => flags.notify_signal = Some(n),
            }
            continue;
        }
        set_value(&mut flags, &name, value);
    }
    flags.args.extend(it);
    Ok(flags)
}

fn set_bool(flags: &mut Flags, name: &str, value: bool) {
    match name {
        "version" => flags.version = value,
        "watch" => flags.watch = value,
        "keep-blank-lines" => flags.keep_blank_lines = value,
        "only-exposed" => flags.only_exposed = value,
        "only-published" => flags.only_published = value,
        "include-stopped" => flags.include_stopped = value,
        "notify-output" => flags.notify_output = value,
        _ => flags.tlsverify = Some(value),
    }
}

fn set_value(flags: &mut Flags, name: &str, value: String) {
    match name {
        "wait" => flags.wait = Some(value),
        "config" => flags.config.push(value),
        "container-filter" => flags.container_filter.push(value),
        "notify" => flags.notify = Some(value),
        "notify-sighup" => flags.notify_sighup.push(value),
        "notify-container" => flags.notify_container.push(value),
        "notify-filter" => flags.notify_filter.push(value),
        "endpoint" => flags.endpoint = Some(value),
        "tlscert" => flags.tlscert = Some(value),
        "tlskey" => flags.tlskey = Some(value),
        "tlscacert" => flags.tlscacert = Some(value),
        "event-filter" => flags.event_filter.push(value),
        "metrics" => flags.metrics = Some(value),
        _ => flags.notify_timeout = Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_proxy_command_line() {
        let f = parse([
            "-watch",
            "-wait",
            "100ms:500ms",
            "-event-filter",
            "event=connect",
            "-event-filter",
            "event=disconnect",
            "-notify",
            "nginx -s reload",
            "/app/nginx.tmpl",
            "/etc/nginx/conf.d/default.conf",
        ])
        .expect("valid");
        assert!(f.watch);
        assert_eq!(f.wait.as_deref(), Some("100ms:500ms"));
        assert_eq!(f.event_filter, ["event=connect", "event=disconnect"]);
        assert_eq!(f.notify.as_deref(), Some("nginx -s reload"));
        assert_eq!(
            f.args,
            ["/app/nginx.tmpl", "/etc/nginx/conf.d/default.conf"]
        );
    }

    #[test]
    fn every_go_form() {
        let f = parse([
            "--watch",
            "-only-exposed=true",
            "-keep-blank-lines=false",
            "--wait=1s",
            "-notify-sighup=a",
            "--notify-sighup",
            "b",
            "-notify-signal=-1",
            "-interval",
            "5",
            "-tlsverify=0",
            "t",
        ])
        .expect("valid");
        assert!(f.watch && f.only_exposed && !f.keep_blank_lines);
        assert_eq!(f.wait.as_deref(), Some("1s"));
        assert_eq!(f.notify_sighup, ["a", "b"]);
        assert_eq!(f.notify_signal, Some(-1));
        assert_eq!(f.interval, 5);
        assert_eq!(f.tlsverify, Some(false));
        assert_eq!(f.args, ["t"]);
    }

    #[test]
    fn a_bool_flag_does_not_take_the_next_argument() {
        let f = parse(["-watch", "false", "x"]).expect("valid");
        assert!(f.watch);
        assert_eq!(f.args, ["false", "x"]);
    }

    #[test]
    fn parsing_stops_at_the_first_argument() {
        let f = parse(["t.tmpl", "-watch"]).expect("valid");
        assert!(!f.watch);
        assert_eq!(f.args, ["t.tmpl", "-watch"]);
        let f = parse(["--", "-watch"]).expect("valid");
        assert_eq!(f.args, ["-watch"]);
        let f = parse(["-", "x"]).expect("valid");
        assert_eq!(f.args, ["-", "x"]);
    }

    #[test]
    fn errors_name_the_flag() {
        assert_eq!(
            parse(["-nope"]).unwrap_err().to_string(),
            "flag provided but not defined: -nope"
        );
        assert_eq!(
            parse(["-wait"]).unwrap_err().to_string(),
            "flag needs an argument: -wait"
        );
        assert_eq!(
            parse(["-interval", "x"]).unwrap_err().to_string(),
            "invalid value \"x\" for flag -interval: parse error"
        );
        assert_eq!(
            parse(["-watch=maybe"]).unwrap_err().to_string(),
            "invalid value \"maybe\" for flag -watch: parse error"
        );
        assert!(matches!(parse(["---watch"]), Err(FlagError::Syntax(_))));
    }

    #[test]
    fn help_and_usage() {
        assert!(parse(["-h"]).expect("valid").help);
        assert!(parse(["--help"]).expect("valid").help);
        let text = usage("docker-gen");
        for (name, _, _) in FLAGS {
            assert!(text.contains(&format!("  -{name}")), "{name}");
        }
    }
}
