//! What a docker-gen run does, validated once at startup: the global settings (endpoint, event
//! filters, metrics) and one [`Job`] per template, built from the command line or from the
//! `[[config]]` entries of TOML files ([`super::tomlfile`]). docker-gen's defaults and quirks
//! are decided here, each one named in the README.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::flags::Flags;
use crate::config::Intervals;
use crate::config::docker_gen::{Filters, Job, Notify};

/// A settings error: names the flag or the config entry and the value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad `-wait` value.
    #[error("{what}: invalid wait {value:?}: {reason}")]
    Wait {
        /// The flag or config entry.
        what: String,
        /// The value given.
        value: String,
        /// Why it is wrong.
        reason: String,
    },
    /// A bad duration.
    #[error("{what}: invalid duration {value:?}")]
    Duration {
        /// The flag.
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// Neither a template nor `-config`.
    #[error("no template given: usage is `docker-gen [options] template [dest]` or -config FILE")]
    NoTemplate,
    /// A bad `-metrics` address.
    #[error("-metrics: invalid address {0:?}: expected host:port, e.g. 0.0.0.0:9100")]
    Metrics(String),
    /// A negative `-interval`.
    #[error("{what}: the interval must be 0 or more seconds, got {value}")]
    Interval {
        /// The flag or config entry.
        what: String,
        /// The value given.
        value: i64,
    },
    /// An unreadable or invalid config file.
    #[error("config file {path}: {reason}")]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An `-event-filter` the daemon would refuse.
    #[error("-event-filter {item}: {reason}")]
    EventFilter {
        /// The `key=value` item.
        item: String,
        /// Why it is refused.
        reason: String,
    },
    /// TLS files that pygen cannot take as given.
    #[error("{0}")]
    Tls(String),
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `-endpoint`, else `DOCKER_HOST`, else the local socket.
    pub endpoint: Option<String>,
    /// The events that trigger a render: `event=start,stop,die,health_status` plus
    /// `-event-filter`.
    pub events: Filters,
    /// The templates.
    pub jobs: Vec<Job>,
    /// `-metrics`.
    pub metrics: Option<SocketAddr>,
    /// The `-notify` command's time limit.
    pub notify_timeout: Duration,
    /// Environment variables to set before connecting (`-tlscert` and friends).
    pub env: Vec<(String, String)>,
    /// Startup warnings (ignored flags, quirks fixed), logged once logging runs.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Whether the run keeps going after the first pass.
    pub fn is_long_running(&self) -> bool {
        self.jobs.iter().any(|j| j.watch || j.interval.is_some())
    }
}

/// Parses a Go duration: `300ms`, `1.5s`, `1m30s`, `2h`; `0` alone is zero.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// docker-gen's `ParseWait`: `min[:max]`, max defaults to 4×min; empty or `min` 0 is no wait.
pub fn parse_wait(what: &str, value: &str) -> Result<Option<Intervals>, Error> {
    let err = |reason: &str| Error::Wait {
        what: what.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    if value.trim().is_empty() {
        return Ok(None);
    }
    let (min, max) = match value.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (value, None),
    };
    let min = parse_go_duration(min).ok_or_else(|| err("MIN is not a duration such as 500ms"))?;
    let max = match max {
        Some(b) => parse_go_duration(b).ok_or_else(|| err("MAX is not a duration such as 2s"))?,
        None => min
            .checked_mul(4)
            .ok_or_else(|| err("MIN is too long (4×MIN is the default MAX)"))?,
    };
    if max < min {
        return Err(err("MAX is less than MIN"));
    }
    Ok(if min.is_zero() {
        None
    } else {
        Some(Intervals { min, max })
    })
}

/// Adds `key=value` items to `filters`; items without `=` are dropped as docker-gen drops them,
/// with a warning.
pub fn add_filters(
    filters: &mut Filters,
    items: &[String],
    what: &str,
    warnings: &mut Vec<String>,
) {
    for item in items {
        match item.split_once('=') {
            Some((k, v)) => filters.entry(k.to_owned()).or_default().push(v.to_owned()),
            None => warnings.push(format!(
                "{what} {item:?} has no '=': ignored (docker-gen ignores it too)"
            )),
        }
    }
}

/// docker-gen's CLI defaults for the container list: `-only-published`, `-only-exposed` and
/// the `status` filter, each only when the user did not filter on that key.
pub fn apply_cli_list_defaults(filters: &mut Filters, flags: &Flags) {
    if flags.only_published && !filters.contains_key("publish") {
        filters.insert("publish".into(), vec!["1-65535".into()]);
    } else if flags.only_exposed && !filters.contains_key("expose") {
        filters.insert("expose".into(), vec!["1-65535".into()]);
    }
    if !filters.contains_key("status") {
        let status: &[&str] = if flags.include_stopped {
            &[
                "created",
                "restarting",
                "running",
                "removing",
                "paused",
                "exited",
                "dead",
            ]
        } else {
            &["running"]
        };
        filters.insert(
            "status".into(),
            status.iter().map(|s| (*s).to_owned()).collect(),
        );
    }
}

/// Builds the settings from the command line (and the config files it names).
pub fn from_flags(flags: &Flags, env_filters: Option<&str>) -> Result<Settings, Error> {
    let mut warnings = Vec::new();
    let mut events = Filters::new();
    events.insert(
        "event".into(),
        ["start", "stop", "die", "health_status"]
            .map(String::from)
            .to_vec(),
    );
    add_filters(
        &mut events,
        &flags.event_filter,
        "-event-filter",
        &mut warnings,
    );
    warnings.extend(super::eventfilter::check(&events)?);
    let metrics = match &flags.metrics {
        None => None,
        Some(a) => Some(a.parse().map_err(|_| Error::Metrics(a.clone()))?),
    };
    let notify_timeout = match &flags.notify_timeout {
        None => Duration::from_secs(60),
        Some(v) => parse_go_duration(v).ok_or_else(|| Error::Duration {
            what: "-notify-timeout",
            value: v.clone(),
        })?,
    };
    let jobs = if flags.config.is_empty() {
        vec![job_from_flags(flags, env_filters, &mut warnings)?]
    } else {
        if !flags.args.is_empty() || flags.watch || flags.notify.is_some() || flags.wait.is_some() {
            warnings.push(
                "-config is given: the template arguments and per-template flags are ignored, \
                 as docker-gen ignores them"
                    .to_owned(),
            );
        }
        super::tomlfile::load_all(&flags.config, &mut warnings)?
    };
    Ok(Settings {
        endpoint: flags.endpoint.clone(),
        events,
        jobs,
        metrics,
        notify_timeout,
        env: tls_env(flags)?,
        warnings,
    })
}

fn job_from_flags(
    flags: &Flags,
    env_filters: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Job, Error> {
    let Some(template) = flags.args.first() else {
        return Err(Error::NoTemplate);
    };
    if flags.args.len() > 2 {
        warnings.push(format!(
            "extra arguments after template and dest are ignored: {}",
            flags.args[2..].join(" ")
        ));
    }
    let mut filters = Filters::new();
    if flags.container_filter.is_empty() {
        let items: Vec<String> = env_filters
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        add_filters(&mut filters, &items, "DOCKER_CONTAINER_FILTERS", warnings);
    } else {
        add_filters(
            &mut filters,
            &flags.container_filter,
            "-container-filter",
            warnings,
        );
    }
    apply_cli_list_defaults(&mut filters, flags);
    if flags.interval < 0 {
        return Err(Error::Interval {
            what: "-interval".into(),
            value: flags.interval,
        });
    }
    let signal = flags.notify_signal.unwrap_or(1);
    let mut containers: Vec<(String, i64)> =
        flags.notify_sighup.iter().map(|c| (c.clone(), 1)).collect();
    containers.extend(flags.notify_container.iter().map(|c| (c.clone(), signal)));
    let mut notify_filter = Filters::new();
    add_filters(
        &mut notify_filter,
        &flags.notify_filter,
        "-notify-filter",
        warnings,
    );
    Ok(Job {
        templates: template.split(';').map(PathBuf::from).collect(),
        dest: flags.args.get(1).map(PathBuf::from),
        watch: flags.watch,
        wait: parse_wait("-wait", flags.wait.as_deref().unwrap_or_default())?,
        notify: Notify {
            command: flags.notify.clone().filter(|c| !c.is_empty()),
            output: flags.notify_output,
            containers,
            filter: notify_filter,
            filter_signal: signal,
        },
        filters,
        interval: (flags.interval > 0).then(|| Duration::from_secs(flags.interval as u64)),
        keep_blank_lines: flags.keep_blank_lines,
    })
}

/// `-tlsverify`, `-tlscert`, `-tlskey`, `-tlscacert` as the environment pygen's connection
/// reads: the three files must be `ca.pem`, `cert.pem` and `key.pem` of one folder.
fn tls_env(flags: &Flags) -> Result<Vec<(String, String)>, Error> {
    let mut env = Vec::new();
    match flags.tlsverify {
        Some(true) => env.push(("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned())),
        // `-tlsverify=false` overrides the environment, as in docker-gen.
        Some(false) => env.push(("DOCKER_TLS_VERIFY".to_owned(), "0".to_owned())),
        None => {}
    }
    let files = [
        ("-tlscacert", &flags.tlscacert, "ca.pem"),
        ("-tlscert", &flags.tlscert, "cert.pem"),
        ("-tlskey", &flags.tlskey, "key.pem"),
    ];
    let mut folder: Option<PathBuf> = None;
    for (flag, path, want) in files {
        let Some(path) = path else { continue };
        let path = PathBuf::from(path);
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        if path.file_name().and_then(|n| n.to_str()) != Some(want)
            || folder.as_ref().is_some_and(|f| *f != dir)
        {
            return Err(Error::Tls(format!(
                "{flag} {}: pygen reads the TLS files as ca.pem, cert.pem and key.pem of one \
                 folder; give paths named so in one folder (or set DOCKER_CERT_PATH)",
                path.display()
            )));
        }
        folder = Some(dir);
    }
    if let Some(dir) = folder {
        env.push(("DOCKER_CERT_PATH".to_owned(), dir.display().to_string()));
        if flags.tlsverify.is_none() {
            env.push(("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned()));
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::super::flags::parse;
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("1x"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn wait_rules() {
        let w = parse_wait("-wait", "500ms:2s")
            .expect("valid")
            .expect("some");
        assert_eq!(
            (w.min, w.max),
            (Duration::from_millis(500), Duration::from_secs(2))
        );
        let w = parse_wait("-wait", "1s").expect("valid").expect("some");
        assert_eq!(w.max, Duration::from_secs(4), "max is 4×min");
        assert_eq!(parse_wait("-wait", "").expect("valid"), None);
        assert_eq!(parse_wait("-wait", "0s:1s").expect("valid"), None);
        let e = parse_wait("-wait", "2s:1s").unwrap_err().to_string();
        assert!(
            e.contains("-wait") && e.contains("MAX is less than MIN"),
            "{e}"
        );
        assert!(parse_wait("-wait", "soon").is_err());
        // 4×MIN past the longest duration: an error, not an overflow.
        let e = parse_wait("-wait", "5000000000000000000s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("too long"), "{e}");
    }

    #[test]
    fn cli_defaults_and_filters() {
        let f = parse([
            "-only-exposed",
            "-container-filter",
            "label=a",
            "-container-filter",
            "bad",
            "t",
        ])
        .expect("valid");
        let s = from_flags(&f, Some("label=env")).expect("valid");
        let job = &s.jobs[0];
        assert_eq!(
            job.filters["label"],
            ["a"],
            "the env var is ignored with the flag"
        );
        assert_eq!(job.filters["expose"], ["1-65535"]);
        assert_eq!(job.filters["status"], ["running"]);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert_eq!(s.events["event"], ["start", "stop", "die", "health_status"]);

        let f = parse(["-only-published", "-include-stopped", "t"]).expect("valid");
        let s = from_flags(&f, Some("label=x, name=y")).expect("valid");
        let job = &s.jobs[0];
        assert_eq!(job.filters["publish"], ["1-65535"]);
        assert!(!job.filters.contains_key("expose"));
        assert_eq!(job.filters["status"].len(), 7);
        assert_eq!(job.filters["label"], ["x"]);
        assert_eq!(job.filters["name"], ["y"]);

        let f = parse([
            "-container-filter",
            "status=exited",
            "-include-stopped",
            "t",
        ])
        .expect("valid");
        let s = from_flags(&f, None).expect("valid");
        assert_eq!(
            s.jobs[0].filters["status"],
            ["exited"],
            "the user's status wins"
        );
    }

    #[test]
    fn notify_targets_and_signals() {
        let f = parse([
            "-notify-sighup",
            "a",
            "-notify-container",
            "b",
            "-notify-signal",
            "-1",
            "-notify-filter",
            "label=x",
            "-event-filter",
            "event=connect",
            "t",
            "d",
        ])
        .expect("valid");
        let s = from_flags(&f, None).expect("valid");
        let job = &s.jobs[0];
        assert_eq!(
            job.notify.containers,
            [("a".to_owned(), 1), ("b".to_owned(), -1)]
        );
        assert_eq!(job.notify.filter_signal, -1);
        assert_eq!(job.dest, Some(PathBuf::from("d")));
        assert_eq!(
            s.events["event"],
            ["start", "stop", "die", "health_status", "connect"]
        );
    }

    #[test]
    fn usage_errors() {
        let f = parse::<[&str; 0], &str>([]).expect("valid");
        assert!(matches!(from_flags(&f, None), Err(Error::NoTemplate)));
        let f = parse(["-metrics", "nope", "t"]).expect("valid");
        assert!(
            from_flags(&f, None)
                .unwrap_err()
                .to_string()
                .contains("-metrics")
        );
        let f = parse(["-event-filter", "scope=local", "t"]).expect("valid");
        let s = from_flags(&f, None).expect("valid");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert_eq!(s.events["scope"], ["local"]);
        let f = parse([
            "-event-filter",
            "event=connect",
            "-event-filter",
            "colour=red",
            "t",
        ])
        .expect("valid");
        let err = from_flags(&f, None).expect_err("an unknown key");
        assert!(
            err.to_string()
                .starts_with("-event-filter colour=red: unknown filter key"),
            "{err}"
        );
        let f = parse(["-event-filter", "type=volume", "t"]).expect("valid");
        let s = from_flags(&f, None).expect("valid");
        assert!(s.warnings[0].contains("type=volume"), "{:?}", s.warnings);
        let f = parse(["-interval", "-3", "t"]).expect("valid");
        assert!(
            from_flags(&f, None)
                .unwrap_err()
                .to_string()
                .contains("-interval")
        );
    }

    #[test]
    fn tls_flags_become_the_environment() {
        let f = parse(["-tlscert", "/c/cert.pem", "-tlskey", "/c/key.pem", "t"]).expect("valid");
        let s = from_flags(&f, None).expect("valid");
        assert!(
            s.env
                .contains(&("DOCKER_CERT_PATH".to_owned(), "/c".to_owned()))
        );
        assert!(
            s.env
                .contains(&("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned()))
        );
        let f = parse(["-tlsverify=false", "t"]).expect("valid");
        let s = from_flags(&f, None).expect("valid");
        assert_eq!(s.env, [("DOCKER_TLS_VERIFY".to_owned(), "0".to_owned())]);
        let f = parse(["-tlscert", "/c/client.pem", "t"]).expect("valid");
        assert!(
            from_flags(&f, None)
                .unwrap_err()
                .to_string()
                .contains("-tlscert")
        );
    }
}
