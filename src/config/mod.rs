//! Validated configuration: what the rest of pygen runs on, built from the raw command line in
//! [`crate::cli`].
//!
//! clap checks each flag value on its own (not empty, a number of seconds) with the parsers of
//! [`crate::cli::values`]. What needs more than one value or domain knowledge is checked here,
//! once, at startup, and reported as one line that names the flag and the bad value (the
//! binary exits with status 2, as for any usage error). A config file (`--config`, read in `file`) is checked the same way,
//! with every problem reported as `FILE:LINE: KEY: message`. The types below hold only valid
//! values: durations instead of float seconds, normalized signal names, an [`EventFilter`]
//! instead of a list of strings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap_complete::Shell;

use crate::cli::{Cli, Command, HealthcheckArgs, RenderArgs, RunArgs, StateArgs, WorkerArgs};

pub mod docker_gen;
mod file;
mod template;
mod values;

pub use crate::docker::connect::TlsSettings;
pub use template::{Check, Dialect, PerItem, TemplateSpec};
pub use values::{EventFilter, Intervals, SignalSpec};

/// A usage error: a flag value that cannot work.
///
/// None is recoverable: each means the command line must change, so the binary reports it and
/// exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--insecure-no-auth` on an address other than loopback, without the second flag.
    #[error(
        "--insecure-no-auth: the endpoint would listen on {listen}, open to other hosts; give \
         --insecure-no-auth-on-network too if that is meant, listen on 127.0.0.1, or use a \
         shared secret (--swarm-secret-file or PYGEN_SWARM_SECRET)"
    )]
    InsecureOnNetwork {
        /// The endpoint's address.
        listen: SocketAddr,
    },
    /// `--interval` got more than two values.
    #[error("{flag} takes MIN and an optional MAX, got {count} values: {values}")]
    TooManyIntervals {
        /// The flag (or config file key) the values were given to.
        flag: &'static str,
        /// How many values were given.
        count: usize,
        /// The values as typed, for the message.
        values: String,
    },
    /// `--interval` MIN is greater than MAX.
    #[error("{flag}: MIN {min} is greater than MAX {max}")]
    IntervalOrder {
        /// The flag (or config file key) the values were given to.
        flag: &'static str,
        /// The MIN value given.
        min: f64,
        /// The MAX value given.
        max: f64,
    },
    /// `--swarm-manager` together with `--one-shot`.
    #[error("Swarm manager is not available in one-shot mode (--swarm-manager with --one-shot)")]
    SwarmManagerInOneShot,
    /// `--signal` with a signal that is neither a known name nor a number in 1..=64.
    #[error(
        "--signal {target} {signal}: unknown signal {signal:?} (expected a name such as HUP or \
         SIGHUP, or a number from 1 to 64)"
    )]
    UnknownSignal {
        /// The container target of the pair.
        target: String,
        /// The signal as given.
        signal: String,
    },
    /// A flag value that must not be empty was empty.
    #[error("{flag}: the value must not be empty")]
    EmptyValue {
        /// The flag with the empty value.
        flag: &'static str,
    },
    /// The main command ran without `--template` (clap normally rejects this first).
    #[error("No template is defined: --template is required")]
    MissingTemplate,
    /// The config file cannot be read.
    #[error("cannot read the config file {}: {source}", path.display())]
    ReadFile {
        /// The config file.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// One problem in the config file: a syntax error, an unknown key, a value of the wrong
    /// type or out of range, two entries that clash.
    #[error("{}", file::locate(path, *line, key, message))]
    File {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the key or value at fault; `None` for the file as a whole.
        line: Option<usize>,
        /// The key at fault, as a dotted path (`template[2].interval`, entries counted from
        /// 1); empty for a syntax error.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Several problems of the config file, in file order; never empty.
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several {
        /// Each problem, an [`Error::File`] or [`Error::ReadFile`].
        problems: Vec<Error>,
    },
}

impl crate::report::Blame for Error {
    /// Every configuration error is the user's input.
    fn fault(&self) -> crate::report::Fault {
        crate::report::Fault::Input
    }
}

impl Error {
    /// The single problems this error holds: the problems of [`Error::Several`], or itself.
    pub fn problems(&self) -> Vec<&Error> {
        match self {
            Error::Several { problems } => problems.iter().collect(),
            other => vec![other],
        }
    }

    /// One error for a list of problems (not empty): the problem itself when there is one.
    pub fn from_problems(mut problems: Vec<Error>) -> Error {
        if problems.len() == 1 {
            problems.remove(0)
        } else {
            Error::Several { problems }
        }
    }
}

/// What the process does, with its validated configuration: the main generator or one of the
/// subcommands.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The generator (no subcommand).
    Run(Config),
    /// `pygen worker`.
    Worker(WorkerConfig),
    /// `pygen state`.
    State(StateConfig),
    /// `pygen render`.
    Render(RenderConfig),
    /// `pygen healthcheck`.
    Healthcheck(HealthcheckConfig),
    /// `pygen completions`: the shell to print the completion script for.
    Completions(Shell),
    /// `pygen check`: the config file to check (read and reported by the check itself).
    Check(PathBuf),
}

impl Mode {
    /// Validates the command line, whichever command it holds.
    pub fn from_cli(cli: &Cli) -> Result<Mode, Error> {
        Ok(match &cli.command {
            None => match &cli.run.config {
                Some(path) => {
                    let mut config = Config::from_file(path).map_err(Error::from_problems)?;
                    // `--debug` is the one flag allowed with `--config`.
                    config.debug |= cli.run.logging.debug;
                    Mode::Run(config)
                }
                None => Mode::Run(Config::from_args(&cli.run)?),
            },
            Some(Command::Worker(args)) => Mode::Worker(WorkerConfig::from_args(args)?),
            Some(Command::State(args)) => Mode::State(StateConfig::from_args(args)),
            Some(Command::Render(args)) => Mode::Render(RenderConfig::from_args(args)),
            Some(Command::Healthcheck(args)) => {
                Mode::Healthcheck(HealthcheckConfig::from_args(args))
            }
            Some(Command::Completions(args)) => Mode::Completions(args.shell),
            Some(Command::Check(args)) => Mode::Check(args.config.clone()),
        })
    }

    /// Whether the command logs at debug level (`--debug`, or `debug = true` in the config
    /// file).
    pub fn debug(&self) -> bool {
        match self {
            Mode::Run(config) => config.debug,
            Mode::Worker(config) => config.debug,
            Mode::State(config) => config.debug,
            Mode::Render(config) => config.debug,
            Mode::Healthcheck(_) | Mode::Completions(_) | Mode::Check(_) => false,
        }
    }
}

/// Configuration of the generator (the main command).
#[derive(Debug, Clone)]
pub struct Config {
    /// The templates, each with its target and notifications; never empty. The command line
    /// gives one, a config file any number.
    pub templates: Vec<TemplateSpec>,
    /// The config file the templates came from (`--config`), re-read on SIGHUP; `None` when
    /// they came from the command line.
    pub config_file: Option<PathBuf>,
    /// Timeout of template downloads.
    pub template_timeout: Duration,
    /// Skip TLS certificate checks for `https://` templates.
    pub no_ssl_check: bool,
    /// Event actions that trigger an update.
    pub events: EventFilter,
    /// Render once, run the actions if needed, and exit.
    pub one_shot: bool,
    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    pub docker_address: Option<String>,
    /// TLS settings of the daemon connection over `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`
    /// (a config file's `[docker]` table; empty from the command line). Installed once at
    /// startup with [`crate::docker::connect::install_tls_settings`].
    pub docker_tls: TlsSettings,
    /// Where the Prometheus endpoint listens; `None` when `--metrics 0` turned it off.
    pub metrics: Option<SocketAddr>,
    /// Log at debug level.
    pub debug: bool,
    /// Interval of the Swarm service/task polling while the daemon is a Swarm manager and the
    /// template reads Swarm variables (task state changes raise no event); `None` when turned
    /// off.
    pub swarm_poll: Option<Duration>,
    /// Swarm manager settings; `None` without `--swarm-manager` (then `--workers` and
    /// `--retries` are ignored, as in docker-pygen).
    pub swarm: Option<ManagerConfig>,
}

impl Config {
    /// Validates the main command's flags. A command line holding a subcommand has no
    /// `--template`, so it fails with [`Error::MissingTemplate`]; use [`Mode::from_cli`] to
    /// handle every command.
    pub fn from_cli(cli: &Cli) -> Result<Config, Error> {
        Config::from_args(&cli.run)
    }

    /// Validates the generator's flags.
    pub fn from_args(args: &RunArgs) -> Result<Config, Error> {
        // clap refuses empty values and bad numbers of seconds.
        let template = args.template.clone().ok_or(Error::MissingTemplate)?;
        let target = args.target.clone();
        let signal = args
            .signal_pairs()
            .into_iter()
            .map(|(target, signal)| SignalSpec::new(target, &signal))
            .collect::<Result<Vec<_>, _>>()?;

        let mut intervals = Intervals::from_values(&args.interval)?;
        let mut repeat = zero_is_off(args.repeat);
        if args.one_shot {
            if args.swarm_manager {
                return Err(Error::SwarmManagerInOneShot);
            }
            intervals = Intervals::IMMEDIATE;
            repeat = None;
        }

        let swarm = if args.swarm_manager {
            Some(ManagerConfig {
                workers: args.workers.clone(),
                retries: args.retries,
                listen: SocketAddr::new(args.manager_address, args.swarm_manager_port),
                auth: SwarmAuth::from_flags(
                    &args.auth,
                    SocketAddr::new(args.manager_address, args.swarm_manager_port),
                )?,
            })
        } else {
            None
        };

        Ok(Config {
            templates: vec![TemplateSpec {
                name: TemplateSpec::default_name(target.as_ref()),
                source: template,
                dialect: Dialect::Jinja,
                target,
                restart: args.restart.clone(),
                signal,
                intervals,
                repeat,
                check: None,
                per_item: None,
                mode: None,
                docker_gen: None,
            }],
            config_file: None,
            template_timeout: args.fetch.template_timeout,
            no_ssl_check: args.fetch.no_ssl_check,
            events: EventFilter::new("--events", &args.events.events)?,
            one_shot: args.one_shot,
            docker_address: args.docker.docker_address.clone(),
            docker_tls: TlsSettings::default(),
            metrics: listen_addr(args.metrics_address, args.metrics),
            debug: args.logging.debug,
            swarm_poll: zero_is_off(args.swarm_poll),
            swarm,
        })
    }
}

/// Settings of the Swarm manager role (`--swarm-manager`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerConfig {
    /// Worker hostnames that receive actions; each resolves to every task's address.
    pub workers: Vec<String>,
    /// Extra attempts per worker address.
    pub retries: u32,
    /// Where the manager endpoint listens.
    pub listen: SocketAddr,
    /// How manager and workers authenticate each other.
    pub auth: SwarmAuth,
}

/// Configuration of `pygen worker`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Manager hostnames that receive the events.
    pub managers: Vec<String>,
    /// Extra attempts per manager.
    pub retries: u32,
    /// Event actions forwarded to the managers.
    pub events: EventFilter,
    /// Where the worker's Prometheus endpoint listens; `None` when turned off.
    pub metrics: Option<SocketAddr>,
    /// Log at debug level.
    pub debug: bool,
    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    pub docker_address: Option<String>,
    /// Where the worker's action endpoint listens.
    pub listen: SocketAddr,
    /// How manager and workers authenticate each other.
    pub auth: SwarmAuth,
    /// `--allow-label`: labels (`(key, value)`, value `None` for any) every container an action
    /// touches must carry; empty allows every container.
    pub allow_labels: Vec<(String, Option<String>)>,
}

impl WorkerConfig {
    /// Validates the worker's flags.
    pub fn from_args(args: &WorkerArgs) -> Result<WorkerConfig, Error> {
        Ok(WorkerConfig {
            managers: args.manager.clone(),
            retries: args.retries,
            events: EventFilter::new("--events", &args.events.events)?,
            metrics: listen_addr(args.metrics_address, args.metrics),
            debug: args.logging.debug,
            docker_address: args.docker.docker_address.clone(),
            listen: SocketAddr::new(args.worker_address, args.worker_port),
            auth: SwarmAuth::from_flags(
                &args.auth,
                SocketAddr::new(args.worker_address, args.worker_port),
            )?,
            allow_labels: args.allow_label.clone(),
        })
    }
}

/// How the Swarm manager and workers authenticate their requests.
///
/// The policy for [`SwarmAuth::Unconfigured`] (refuse to start, or run open with a warning) is
/// the Swarm endpoints' decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwarmAuth {
    /// Shared secret read from this file (`--swarm-secret-file`).
    SecretFile(PathBuf),
    /// No authentication, explicitly asked for (`--insecure-no-auth`).
    InsecureNoAuth,
    /// Neither flag given.
    Unconfigured,
}

impl SwarmAuth {
    /// The authentication of an endpoint listening on `listen`. Without authentication, an
    /// address other than loopback needs the second flag: the endpoint is then open to every
    /// host that reaches it.
    fn from_flags(auth: &crate::cli::AuthArgs, listen: SocketAddr) -> Result<SwarmAuth, Error> {
        if auth.insecure_no_auth && !auth.insecure_no_auth_on_network && !listen.ip().is_loopback()
        {
            return Err(Error::InsecureOnNetwork { listen });
        }
        // clap already rejects a secret file together with --insecure-no-auth, and an empty
        // path.
        Ok(match &auth.swarm_secret_file {
            Some(path) => SwarmAuth::SecretFile(path.clone()),
            None if auth.insecure_no_auth => SwarmAuth::InsecureNoAuth,
            None => SwarmAuth::Unconfigured,
        })
    }
}

/// Configuration of `pygen state`.
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    pub docker_address: Option<String>,
    /// Write environment values as `<redacted>` (`--redact-env`).
    pub redact_env: bool,
    /// Log at debug level.
    pub debug: bool,
}

impl StateConfig {
    /// Takes over the `state` flags (nothing to check).
    pub fn from_args(args: &StateArgs) -> StateConfig {
        StateConfig {
            docker_address: args.docker.docker_address.clone(),
            redact_env: args.redact_env,
            debug: args.logging.debug,
        }
    }
}

/// Configuration of `pygen render`.
#[derive(Debug, Clone)]
pub struct RenderConfig {
    /// State file written by `pygen state`.
    pub state: PathBuf,
    /// Template source, as for the main command.
    pub template: String,
    /// File to write; `None` prints to standard output.
    pub target: Option<PathBuf>,
    /// Skip TLS certificate checks for `https://` templates.
    pub no_ssl_check: bool,
    /// Timeout of the template download.
    pub template_timeout: Duration,
    /// Log at debug level.
    pub debug: bool,
    /// The template language (`--dialect`).
    pub dialect: crate::cli::RenderDialect,
}

impl RenderConfig {
    /// Takes over the `render` flags (clap checked them).
    pub fn from_args(args: &RenderArgs) -> RenderConfig {
        // clap refuses empty values and a timeout that is not above zero.
        RenderConfig {
            state: args.state.clone(),
            template: args.template.clone(),
            target: args.target.clone(),
            no_ssl_check: args.fetch.no_ssl_check,
            template_timeout: args.fetch.template_timeout,
            debug: args.logging.debug,
            dialect: args.dialect,
        }
    }
}

/// Configuration of `pygen healthcheck`.
#[derive(Debug, Clone)]
pub struct HealthcheckConfig {
    /// URL that must answer with a 2xx status.
    pub url: String,
    /// How long to wait for the answer.
    pub timeout: Duration,
}

impl HealthcheckConfig {
    /// Takes over the `healthcheck` flags (clap checked them).
    pub fn from_args(args: &HealthcheckArgs) -> HealthcheckConfig {
        HealthcheckConfig {
            url: args.url.clone(),
            timeout: args.timeout,
        }
    }
}

/// A socket address for an endpoint, `None` when its port is 0 (turned off).
fn listen_addr(ip: std::net::IpAddr, port: u16) -> Option<SocketAddr> {
    (port != 0).then(|| SocketAddr::new(ip, port))
}

/// A duration where zero means "off" (`--repeat`, `--swarm-poll`).
pub(crate) fn zero_is_off(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config, Error> {
        let cli = Cli::try_parse_from(std::iter::once("pygen").chain(args.iter().copied()))
            .expect("test command lines parse");
        Config::from_cli(&cli)
    }

    fn ok(args: &[&str]) -> Config {
        config(args).expect("valid configuration")
    }

    fn err(args: &[&str]) -> String {
        config(args).expect_err("invalid configuration").to_string()
    }

    /// clap's refusal of a command line: a value checked on its own, before `config`.
    fn clap_err(args: &[&str]) -> clap::Error {
        Cli::try_parse_from(std::iter::once("pygen").chain(args.iter().copied()))
            .expect_err("clap refuses the value")
    }

    /// Asserts that clap refuses `args` with a message naming `flag` (as clap prints it) and
    /// saying `message`, with exit status 2.
    fn refused(args: &[&str], flag: &str, message: &str) {
        let error = clap_err(args);
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::ValueValidation,
            "{error}"
        );
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(text.contains(&format!("for '{flag}': {message}")), "{text}");
    }

    fn items(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults() {
        let config = ok(&["--template", "t.j2"]);
        assert_eq!(config.templates[0].source, "t.j2");
        assert_eq!(config.templates[0].target, None);
        assert_eq!(
            config.templates[0].intervals,
            Intervals {
                min: Duration::from_millis(500),
                max: Duration::from_secs(2)
            }
        );
        assert_eq!(config.templates[0].repeat, None);
        assert_eq!(
            config.events.items(),
            ["start", "stop", "die", "health_status"]
        );
        assert_eq!(config.metrics, Some("0.0.0.0:9413".parse().unwrap()));
        assert_eq!(config.template_timeout, Duration::from_secs(30));
        assert!(config.swarm.is_none());
        assert!(!config.one_shot);
    }

    #[test]
    fn intervals_like_docker_pygen() {
        // test_pygen::test_intervals: [1,2,3] and [2,1] fail, [12,40] is kept.
        // [1,2,3] fails already on the command line: the flag takes two values at most.
        assert!(
            Cli::try_parse_from(["pygen", "--template", "t", "--interval", "1", "2", "3"]).is_err()
        );
        let message = err(&["--template", "t", "--interval", "2", "1"]);
        assert!(message.contains("--interval"), "{message}");
        assert!(message.contains("MIN 2"), "{message}");
        let config = ok(&["--template", "t", "--interval", "12", "40"]);
        assert_eq!(config.templates[0].intervals.min, Duration::from_secs(12));
        assert_eq!(config.templates[0].intervals.max, Duration::from_secs(40));
    }

    #[test]
    fn one_interval_is_min_and_max() {
        let config = ok(&["--template", "t", "--interval", "1.5"]);
        assert_eq!(
            config.templates[0].intervals.min,
            Duration::from_millis(1500)
        );
        assert_eq!(
            config.templates[0].intervals.max,
            Duration::from_millis(1500)
        );
        assert!(!config.templates[0].intervals.is_immediate());
        let config = ok(&["--template", "t", "--interval", "0"]);
        assert!(config.templates[0].intervals.is_immediate());
    }

    #[test]
    fn bad_interval_values() {
        let flag = "--interval <MIN> [MAX]";
        for (bad, shown) in [("-1", "-1"), ("NaN", "NaN"), ("inf", "inf")] {
            refused(
                &["--template", "t", "--interval", bad],
                flag,
                &format!("invalid number of seconds {shown}: expected a finite number >= 0"),
            );
        }
        refused(
            &["--template", "t", "--interval", "0.5", "-2"],
            flag,
            "invalid number of seconds -2",
        );
        refused(
            &["--template", "t", "--interval", "soon"],
            flag,
            "\"soon\" is not a number of seconds",
        );
    }

    #[test]
    fn one_shot_forces_immediate_actions() {
        let config = ok(&[
            "--template",
            "t",
            "--one-shot",
            "--interval",
            "3",
            "5",
            "--repeat",
            "2",
        ]);
        assert_eq!(config.templates[0].intervals, Intervals::IMMEDIATE);
        assert_eq!(config.templates[0].repeat, None);
        assert!(config.one_shot);
    }

    #[test]
    fn repeat_values() {
        assert_eq!(
            ok(&["--template", "t", "--repeat", "2"]).templates[0].repeat,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            ok(&["--template", "t", "--repeat", "0"]).templates[0].repeat,
            None
        );
        let flag = "--repeat <SECONDS>";
        refused(
            &["--template", "t", "--repeat", "-1"],
            flag,
            "invalid number of seconds -1",
        );
        refused(
            &["--template", "t", "--repeat", "nan"],
            flag,
            "invalid number of seconds NaN",
        );
        refused(
            &["--template", "t", "--swarm-poll", "-0.5"],
            "--swarm-poll <SECONDS>",
            "invalid number of seconds -0.5",
        );
    }

    #[test]
    fn swarm_manager_not_in_one_shot() {
        let message = err(&["--template", "t", "--swarm-manager", "--one-shot"]);
        assert!(
            message.starts_with("Swarm manager is not available in one-shot mode"),
            "{message}"
        );
    }

    #[test]
    fn swarm_manager_settings() {
        let config = ok(&[
            "--template",
            "t",
            "--swarm-manager",
            "--workers",
            "tasks.w",
            "other",
            "--retries",
            "3",
            "--swarm-poll",
            "0",
            "--insecure-no-auth",
            "--insecure-no-auth-on-network",
        ]);
        let swarm = config.swarm.expect("manager configured");
        assert_eq!(swarm.workers, ["tasks.w", "other"]);
        assert_eq!(swarm.retries, 3);
        assert_eq!(swarm.listen, "0.0.0.0:9411".parse().unwrap());
        assert_eq!(config.swarm_poll, None);
        assert_eq!(swarm.auth, SwarmAuth::InsecureNoAuth);

        let config = ok(&[
            "--template",
            "t",
            "--swarm-manager",
            "--swarm-manager-port",
            "8000",
            "--manager-address",
            "127.0.0.1",
            "--swarm-secret-file",
            "/run/secrets/pygen",
        ]);
        let swarm = config.swarm.expect("manager configured");
        assert_eq!(swarm.listen, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(config.swarm_poll, Some(Duration::from_secs(5)));
        assert_eq!(
            swarm.auth,
            SwarmAuth::SecretFile(PathBuf::from("/run/secrets/pygen"))
        );

        // Without --swarm-manager, the worker list is ignored as in docker-pygen.
        assert!(ok(&["--template", "t", "--workers", "w"]).swarm.is_none());
    }

    #[test]
    fn signals_are_normalized() {
        let cases = [
            ("HUP", "SIGHUP"),
            ("hup", "SIGHUP"),
            ("SIGhup", "SIGHUP"),
            ("sigusr1", "SIGUSR1"),
            ("SIGTERM", "SIGTERM"),
            ("winch", "SIGWINCH"),
            ("1", "1"),
            ("09", "9"),
            ("64", "64"),
            ("RTMIN", "SIGRTMIN"),
            ("sigrtmin+3", "SIGRTMIN+3"),
            ("RTMIN+15", "SIGRTMIN+15"),
            ("RTMAX-14", "SIGRTMAX-14"),
            ("rtmax", "SIGRTMAX"),
        ];
        for (given, normalized) in cases {
            let spec = SignalSpec::new("web".into(), given).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(spec.signal, normalized, "for {given}");
            assert_eq!(spec.target, "web");
        }
    }

    #[test]
    fn unknown_signals_are_rejected() {
        for bad in [
            "",
            "0",
            "65",
            "300",
            "-1",
            "FOO",
            "SIG",
            "SIGSIGHUP",
            "HUP ",
            "RTMIN+0",
            "RTMIN+16",
            "RTMAX-15",
            "RTMIN+01",
            "RTMIN-1",
            "1.0",
        ] {
            let error = SignalSpec::new("web".into(), bad).expect_err(bad);
            let message = error.to_string();
            assert!(message.starts_with("--signal web "), "{message}");
        }
        let message = err(&["--template", "t", "--signal", "proxy", "HUPP"]);
        assert!(message.contains("proxy"), "{message}");
        assert!(message.contains("HUPP"), "{message}");
    }

    #[test]
    fn signal_pairs_are_validated_in_order() {
        let config = ok(&[
            "--template",
            "t",
            "--signal",
            "a",
            "hup",
            "--signal",
            "b",
            "15",
        ]);
        assert_eq!(
            config.templates[0].signal,
            [
                SignalSpec {
                    target: "a".into(),
                    signal: "SIGHUP".into()
                },
                SignalSpec {
                    target: "b".into(),
                    signal: "15".into()
                }
            ]
        );
    }

    #[test]
    fn empty_values_are_rejected() {
        let empty = "the value must not be empty";
        refused(
            &["--template", "t", "--restart", ""],
            "--restart <CONTAINER>",
            empty,
        );
        refused(&["--template", ""], "--template <TEMPLATE>", empty);
        refused(
            &["--template", "t", "--workers", ""],
            "--workers <TARGET>...",
            empty,
        );
        refused(
            &["worker", "--manager", ""],
            "--manager <HOSTNAME>...",
            empty,
        );
        refused(
            &["worker", "--manager", "m", "--allow-label", "=x"],
            "--allow-label <KEY[=VALUE]>",
            "the label key must not be empty",
        );
        refused(
            &["render", "--state", "s", "--template", ""],
            "--template <TEMPLATE>",
            empty,
        );
        refused(&["healthcheck", "--url", ""], "--url <URL>", empty);
        // Paths: clap's own check refuses an empty one.
        for args in [
            &["--template", "t", "--target", ""][..],
            &["--template", "t", "--swarm-secret-file", ""],
            &["render", "--state", "", "--template", "t"],
            &["render", "--state", "s", "--template", "t", "--target", ""],
        ] {
            let error = clap_err(args);
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::InvalidValue,
                "{error}"
            );
        }
        // A signal pair and the events are checked here (the config file shares the checks).
        assert!(err(&["--template", "t", "--signal", "", "HUP"]).starts_with("--signal:"));
        assert!(err(&["--template", "t", "--events", ""]).starts_with("--events:"));
    }

    #[test]
    fn allow_labels() {
        let cli = Cli::try_parse_from([
            "pygen",
            "worker",
            "--manager",
            "m",
            "--allow-label",
            "a=b",
            "--allow-label",
            "c",
        ])
        .unwrap();
        let Mode::Worker(worker) = Mode::from_cli(&cli).unwrap() else {
            panic!("worker mode expected");
        };
        assert_eq!(
            worker.allow_labels,
            [
                ("a".to_owned(), Some("b".to_owned())),
                ("c".to_owned(), None)
            ]
        );
    }

    #[test]
    fn metrics_port_zero_turns_the_endpoint_off() {
        assert_eq!(ok(&["--template", "t", "--metrics", "0"]).metrics, None);
        assert_eq!(
            ok(&[
                "--template",
                "t",
                "--metrics",
                "9000",
                "--metrics-address",
                "127.0.0.1"
            ])
            .metrics,
            Some("127.0.0.1:9000".parse().unwrap())
        );
    }

    #[test]
    fn template_timeout_must_be_positive() {
        assert_eq!(
            ok(&["--template", "t", "--template-timeout", "2.5"]).template_timeout,
            Duration::from_millis(2500)
        );
        let zero = "the number of seconds must be greater than 0, got 0";
        refused(
            &["--template", "t", "--template-timeout", "0"],
            "--template-timeout <SECONDS>",
            zero,
        );
        refused(
            &[
                "render",
                "--state",
                "s",
                "--template",
                "t",
                "--template-timeout",
                "0",
            ],
            "--template-timeout <SECONDS>",
            zero,
        );
        refused(
            &["healthcheck", "--timeout", "0"],
            "--timeout <SECONDS>",
            zero,
        );
        refused(
            &["healthcheck", "--timeout", "-1"],
            "--timeout <SECONDS>",
            "invalid number of seconds -1",
        );
    }

    #[test]
    fn event_filter_prefix_rule() {
        let filter = EventFilter::new("--events", &items(&["start", "health_status"])).unwrap();
        assert!(filter.matches("start"));
        assert!(filter.matches("health_status"));
        assert!(filter.matches("health_status: healthy"));
        assert!(filter.matches("health_status:x"));
        assert!(!filter.matches("health_status:"));
        assert!(!filter.matches("health_statusx"));
        assert!(!filter.matches("restart"));
        assert!(!filter.matches("starting"));
        assert!(!filter.matches("Start"));
        assert!(!filter.matches("stop"));
        assert!(!filter.matches(""));
    }

    #[test]
    fn event_filter_items_are_not_patterns() {
        let filter = EventFilter::new("--events", &items(&["exec_.*"])).unwrap();
        assert!(!filter.matches("exec_start: sh"));
        assert!(filter.matches("exec_.*"));
        assert!(filter.matches("exec_.*: sh"));
    }

    #[test]
    fn event_filter_none() {
        let filter = EventFilter::new("--events", &items(&["none"])).unwrap();
        assert!(filter.is_empty());
        assert!(!filter.matches("none"));
        assert!(!filter.matches("start"));
        // Only "none" alone disables; next to other items it is a plain name.
        let filter = EventFilter::new("--events", &items(&["none", "start"])).unwrap();
        assert!(filter.matches("none"));
        assert!(filter.matches("start"));
    }

    #[test]
    fn no_auth_on_the_network_needs_a_second_flag() {
        let manager = |extra: &[&str]| {
            let mut args = vec![
                "pygen",
                "--template",
                "t",
                "--swarm-manager",
                "--insecure-no-auth",
            ];
            args.extend_from_slice(extra);
            Mode::from_cli(&Cli::try_parse_from(args).unwrap())
        };
        let err = manager(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--insecure-no-auth: the endpoint would listen on 0.0.0.0:9411, open to other hosts; \
             give --insecure-no-auth-on-network too if that is meant, listen on 127.0.0.1, or \
             use a shared secret (--swarm-secret-file or PYGEN_SWARM_SECRET)"
        );
        assert!(manager(&["--manager-address", "127.0.0.1"]).is_ok());
        assert!(manager(&["--manager-address", "::1"]).is_ok());
        assert!(manager(&["--insecure-no-auth-on-network"]).is_ok());
        let worker = |extra: &[&str]| {
            let mut args = vec!["pygen", "worker", "--manager", "m", "--insecure-no-auth"];
            args.extend_from_slice(extra);
            Mode::from_cli(&Cli::try_parse_from(args).unwrap())
        };
        assert!(matches!(
            worker(&["--worker-address", "10.0.0.5"]),
            Err(Error::InsecureOnNetwork { .. })
        ));
        assert!(worker(&["--worker-address", "127.0.0.1"]).is_ok());
        assert!(worker(&["--insecure-no-auth-on-network"]).is_ok());
        // The second flag alone means nothing.
        assert!(
            Cli::try_parse_from([
                "pygen",
                "worker",
                "--manager",
                "m",
                "--insecure-no-auth-on-network"
            ])
            .is_err()
        );
    }

    #[test]
    fn worker_config() {
        let cli = Cli::try_parse_from([
            "pygen",
            "worker",
            "--manager",
            "m1",
            "m2",
            "--events",
            "none",
            "--worker-port",
            "9999",
            "--metrics",
            "0",
        ])
        .unwrap();
        let Mode::Worker(worker) = Mode::from_cli(&cli).unwrap() else {
            panic!("worker mode expected");
        };
        assert_eq!(worker.managers, ["m1", "m2"]);
        assert!(worker.events.is_empty());
        assert_eq!(worker.listen, "0.0.0.0:9999".parse().unwrap());
        assert_eq!(worker.metrics, None);
        assert_eq!(worker.retries, 0);
        assert_eq!(worker.auth, SwarmAuth::Unconfigured);

        let cli = Cli::try_parse_from(["pygen", "worker", "--manager", "m"]).unwrap();
        let Mode::Worker(worker) = Mode::from_cli(&cli).unwrap() else {
            panic!("worker mode expected");
        };
        assert_eq!(worker.metrics, Some("0.0.0.0:9414".parse().unwrap()));
        assert!(worker.events.matches("health_status: unhealthy"));
    }

    #[test]
    fn render_config() {
        let cli = Cli::try_parse_from([
            "pygen",
            "render",
            "--state",
            "state.json",
            "--template",
            "#{{ 1 }}",
        ])
        .unwrap();
        let Mode::Render(render) = Mode::from_cli(&cli).unwrap() else {
            panic!("render mode expected");
        };
        assert_eq!(render.state, PathBuf::from("state.json"));
        assert_eq!(render.template, "#{{ 1 }}");
        assert_eq!(render.target, None);
        assert_eq!(render.template_timeout, Duration::from_secs(30));
    }

    #[test]
    fn mode_from_a_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pygen.toml");
        std::fs::write(&path, "[[template]]\nsource = \"#x\"\n").unwrap();
        let file = path.to_str().unwrap();
        let mode = |args: &[&str]| Mode::from_cli(&Cli::try_parse_from(args).unwrap());
        let Ok(Mode::Run(config)) = mode(&["pygen", "--config", file]) else {
            panic!("run mode expected");
        };
        assert_eq!(config.templates[0].source, "#x");
        assert_eq!(config.config_file.as_deref(), Some(path.as_path()));
        assert!(!config.debug);
        let Ok(Mode::Run(config)) = mode(&["pygen", "--config", file, "--debug"]) else {
            panic!("run mode expected");
        };
        assert!(config.debug);
        std::fs::write(&path, "debug = 1\nx = 2\n").unwrap();
        let err = mode(&["pygen", "--config", file]).expect_err("three problems");
        assert_eq!(err.problems().len(), 3, "{err}");
        assert!(matches!(
            mode(&["pygen", "check", "--config", file]),
            Ok(Mode::Check(p)) if p == path
        ));
    }

    #[test]
    fn mode_of_the_main_command() {
        let cli = Cli::try_parse_from(["pygen", "--template", "t", "--one-shot"]).unwrap();
        assert!(matches!(Mode::from_cli(&cli), Ok(Mode::Run(c)) if c.one_shot));
        let cli = Cli::try_parse_from(["pygen", "healthcheck"]).unwrap();
        let Mode::Healthcheck(check) = Mode::from_cli(&cli).unwrap() else {
            panic!("healthcheck mode expected");
        };
        assert_eq!(check.url, "http://127.0.0.1:9413/metrics");
        assert_eq!(check.timeout, Duration::from_secs(5));
    }
}
