//! The command line as the user types it: every flag of docker-pygen's `cli.py` and
//! `swarm_worker.py` with the same names, argument shapes and defaults, plus pygen's own
//! subcommands (`worker`, `state`, `render`, `healthcheck`, `completions`).
//!
//! These types are raw: they hold what clap parsed and nothing more. Checks that need more than
//! one value or domain knowledge (interval order, signal names, one-shot versus Swarm) live in
//! [`crate::config`], which turns a [`Cli`] into validated configuration. Flags are read from
//! the command line only, never from the environment.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

mod config_flags;

pub use config_flags::{FLAGS_IN_THE_CONFIG_FILE, config_conflict_hint, config_key_of_flag};

/// Event actions watched when `--events` is not given (docker-pygen's default).
pub const DEFAULT_EVENTS: [&str; 4] = ["start", "stop", "die", "health_status"];

/// The whole command line: the main generator's flags, or one subcommand.
///
/// The main command's flags and a subcommand exclude each other, and `--template` is required
/// only when no subcommand is given.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "pygen",
    version,
    about = "Template generator based on Docker runtime information",
    long_about = None,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true,
    override_usage = "pygen [OPTIONS] --template <TEMPLATE>\n       \
                      pygen --config <FILE> [--debug]\n       \
                      pygen <COMMAND>"
)]
pub struct Cli {
    /// The subcommand, when one is given; `None` runs the generator with [`Cli::run`].
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The generator's flags (docker-pygen's `cli.py`), used when no subcommand is given.
    #[command(flatten)]
    pub run: RunArgs,
}

impl Cli {
    /// Whether debug logging was asked for, whatever the command: the binary needs this to set
    /// up logging before the configuration is validated.
    pub fn debug(&self) -> bool {
        match &self.command {
            None => self.run.logging.debug,
            Some(Command::Worker(args)) => args.logging.debug,
            Some(Command::State(args)) => args.logging.debug,
            Some(Command::Render(args)) => args.logging.debug,
            Some(Command::Healthcheck(_))
            | Some(Command::Completions(_))
            | Some(Command::Check(_)) => false,
        }
    }
}

/// The logging flags, shared by every command that logs.
#[derive(Debug, Clone, Copy, Args)]
pub struct LoggingArgs {
    /// Log at debug level.
    #[arg(long, help = "Enable debug log messages")]
    pub debug: bool,
}

/// The generator's flags: docker-pygen's `cli.py` plus a few of pygen's own.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Config file with the settings and any number of templates, instead of the flags below.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = FLAGS_IN_THE_CONFIG_FILE,
        help = "Read the settings and any number of templates from this TOML file instead of \
                the flags (see \"Config file\" in the README); only --debug may be given with it"
    )]
    pub config: Option<PathBuf>,

    /// Template source: a file path, an `http(s)://` URL, or an inline template after `#`.
    #[arg(
        long,
        value_name = "TEMPLATE",
        required_unless_present = "config",
        help = "The base Jinja2 template: a file, an http(s):// URL, or an inline template as \
                string if it starts with \"#\""
    )]
    pub template: Option<String>,

    /// Output file; `None` prints every render to standard output.
    #[arg(
        long,
        value_name = "TARGET",
        help = "The target to save the generated file (printed to standard output by default)"
    )]
    pub target: Option<PathBuf>,

    /// Containers to restart when the target changes, in flag order.
    #[arg(
        long,
        value_name = "CONTAINER",
        action = clap::ArgAction::Append,
        help = "Restart the target container, can be: ID, short ID, name, Compose service name, \
                label [\"pygen.target\"] or environment variable [\"PYGEN_TARGET\"]"
    )]
    pub restart: Vec<String>,

    /// `(container, signal)` pairs to signal when the target changes, flattened in flag order;
    /// see [`RunArgs::signal_pairs`].
    #[arg(
        long,
        num_args = 2,
        value_names = ["CONTAINER", "SIGNAL"],
        action = clap::ArgAction::Append,
        help = "Signal the target container, in <container> <signal> format. The <container> \
                argument can be one of the attributes described in --restart"
    )]
    pub signal: Vec<String>,

    /// Notification batching, MIN and optional MAX in seconds (validated in `config`).
    #[arg(
        long,
        num_args = 1..=2,
        value_names = ["MIN", "MAX"],
        default_values_t = [0.5, 2.0],
        hide_default_value = true,
        allow_negative_numbers = true,
        help = "Minimum and maximum intervals for sending notifications. If there is only one \
                argument it will be used for both MIN and MAX. The defaults are: 0.5 and 2 seconds."
    )]
    pub interval: Vec<f64>,

    /// Seconds after an event-driven update to render once more; 0 means never.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0.0,
        hide_default_value = true,
        allow_negative_numbers = true,
        help = "Optional interval in seconds to re-run the target generation after an event and \
                execute the action if the target has changed. Defaults to 0 meaning the \
                generation will not be repeated."
    )]
    pub repeat: f64,

    /// Event actions that trigger an update (`none` alone disables them).
    #[arg(
        long,
        num_args = 1..,
        value_name = "EVENT",
        default_values = DEFAULT_EVENTS,
        hide_default_value = true,
        help = "Docker events to watch and trigger updates for (default: start, stop, die, \
                health_status)"
    )]
    pub events: Vec<String>,

    /// Run the Swarm manager endpoint and send actions through workers.
    #[arg(
        long,
        help = "Enable the Swarm manager HTTP endpoint (on port 9411 unless --swarm-manager-port \
                says otherwise)"
    )]
    pub swarm_manager: bool,

    /// Hostnames of the workers that receive actions (only with `--swarm-manager`).
    #[arg(
        long,
        num_args = 1..,
        value_name = "TARGET",
        help = "The target hostname of PyGen workers listening on port 9412 (use \
                \"tasks.service_name\" for Swarm workers; HOST:PORT for another port)"
    )]
    pub workers: Vec<String>,

    /// Extra attempts per worker address when sending an action.
    #[arg(
        long,
        value_name = "RETRIES",
        default_value_t = 0,
        help = "Number of retries for sending an action to a Swarm worker"
    )]
    pub retries: u32,

    /// Skip TLS certificate checks when fetching an `https://` template.
    #[arg(
        long,
        help = "Disable SSL verification when loading templates over HTTPS (not secure)"
    )]
    pub no_ssl_check: bool,

    /// Render once, run the actions if the target changed, and exit.
    #[arg(
        long,
        help = "Run the update once and exit, also execute actions if the target changes"
    )]
    pub one_shot: bool,

    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    #[arg(
        long,
        value_name = "ADDRESS",
        help = "Alternative address (URL) for the Docker daemon connection"
    )]
    pub docker_address: Option<String>,

    /// Port of the Prometheus endpoint; 0 turns it off.
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 9413,
        hide_default_value = true,
        help = "HTTP port number for exposing Prometheus metrics (default: 9413, 0 disables the \
                endpoint)"
    )]
    pub metrics: u16,

    /// Logging.
    #[command(flatten)]
    pub logging: LoggingArgs,

    /// Address the Prometheus endpoint binds to (docker-pygen always used every interface).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "0.0.0.0",
        help = "Address to bind the Prometheus metrics endpoint to (all interfaces by \
                default; use 127.0.0.1 to keep it local)"
    )]
    pub metrics_address: IpAddr,

    /// Timeout in seconds of the template download (docker-pygen used a fixed 60 s).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30.0,
        allow_negative_numbers = true,
        help = "Timeout in seconds for loading the template over HTTP(S)"
    )]
    pub template_timeout: f64,

    /// Port of the Swarm manager endpoint (fixed at 9411 in docker-pygen).
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 9411,
        help = "Port of the Swarm manager HTTP endpoint enabled by --swarm-manager"
    )]
    pub swarm_manager_port: u16,

    /// Address the Swarm manager endpoint binds to.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "0.0.0.0",
        help = "Address to bind the Swarm manager HTTP endpoint to (all \
                interfaces by default)"
    )]
    pub manager_address: IpAddr,

    /// Seconds between polls of Swarm services and tasks; 0 turns polling off.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 5.0,
        allow_negative_numbers = true,
        help = "Seconds between two polls of Swarm services and tasks, while the daemon is a \
                Swarm manager and the template reads them (task state changes raise no Docker \
                event); 0 disables polling"
    )]
    pub swarm_poll: f64,

    /// How manager/worker requests are authenticated.
    #[command(flatten)]
    pub auth: AuthArgs,
}

impl RunArgs {
    /// The `--signal` values as `(container, signal)` pairs, in flag order.
    ///
    /// clap guarantees exactly two values per flag occurrence, so the list has an even length.
    pub fn signal_pairs(&self) -> Vec<(String, String)> {
        self.signal
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect()
    }
}

/// pygen's subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Swarm worker: forwards watched events to the manager and runs the actions it receives
    /// (docker-pygen's `swarm_worker.py`).
    Worker(WorkerArgs),
    /// Dump the state of the Docker daemon as JSON to standard output (input for `render`).
    ///
    /// The dump holds every container's environment, which often carries passwords and tokens:
    /// use --redact-env before sharing it.
    State(StateArgs),
    /// Render a template offline from a state file written by `pygen state`.
    Render(RenderArgs),
    /// Check that a running pygen answers on its metrics endpoint (for container health checks).
    Healthcheck(HealthcheckArgs),
    /// Validate a config file and compile every template in it, without the Docker daemon.
    ///
    /// Prints every problem found, one per line, and exits with status 1 if there is any;
    /// prints "N templates OK" and exits with status 0 otherwise.
    Check(CheckArgs),
    /// Print a shell completion script to standard output.
    Completions(CompletionsArgs),
}

/// Flags of the Swarm worker: docker-pygen's `swarm_worker.py` plus a few of pygen's own.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Manager hostnames the worker sends events to.
    #[arg(
        long,
        required = true,
        num_args = 1..,
        value_name = "HOSTNAME",
        help = "The target hostname of PyGen managers listening on port 9411 (HOST:PORT for \
                another port)"
    )]
    pub manager: Vec<String>,

    /// Extra attempts per manager when sending an event.
    #[arg(
        long,
        value_name = "RETRIES",
        default_value_t = 0,
        help = "Number of retries for sending an update to a Swarm manager"
    )]
    pub retries: u32,

    /// Event actions forwarded to the manager (`none` alone disables forwarding).
    #[arg(
        long,
        num_args = 1..,
        value_name = "EVENT",
        default_values = DEFAULT_EVENTS,
        hide_default_value = true,
        help = "Docker events to watch and trigger updates for (default: start, stop, die, \
                health_status; \"none\" disables forwarding)"
    )]
    pub events: Vec<String>,

    /// Port of the worker's Prometheus endpoint; 0 turns it off.
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 9414,
        hide_default_value = true,
        help = "HTTP port number for exposing Prometheus metrics (default: 9414, 0 disables the \
                endpoint)"
    )]
    pub metrics: u16,

    /// Address the worker's Prometheus endpoint binds to.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "0.0.0.0",
        help = "Address to bind the Prometheus metrics endpoint to"
    )]
    pub metrics_address: IpAddr,

    /// Logging.
    #[command(flatten)]
    pub logging: LoggingArgs,

    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    #[arg(
        long,
        value_name = "ADDRESS",
        help = "Alternative address (URL) for the Docker daemon connection"
    )]
    pub docker_address: Option<String>,

    /// Port of the worker's action endpoint (fixed at 9412 in docker-pygen).
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 9412,
        help = "Port of the worker HTTP endpoint that receives actions"
    )]
    pub worker_port: u16,

    /// Address the worker's action endpoint binds to.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "0.0.0.0",
        help = "Address to bind the worker HTTP endpoint to (all interfaces by default)"
    )]
    pub worker_address: IpAddr,

    /// Labels a container must carry for the worker to act on it (all of them).
    #[arg(
        long,
        value_name = "KEY[=VALUE]",
        action = clap::ArgAction::Append,
        help = "Only restart or signal containers that carry this label (with this value, if \
                given); repeat for several (all must match). Without it, whoever holds the \
                shared secret may act on any container of this node"
    )]
    pub allow_label: Vec<String>,

    /// How manager/worker requests are authenticated.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// The authentication flags shared by the manager (main command) and the worker.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// File holding the secret shared by the Swarm manager and its workers.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "insecure_no_auth",
        help = "File holding the secret shared by the Swarm manager and its workers (16 bytes \
                at least, readable by pygen's user only); every request between them is \
                authenticated with it. Without this flag the secret is read from the \
                PYGEN_SWARM_SECRET environment variable"
    )]
    pub swarm_secret_file: Option<PathBuf>,

    /// Explicit opt-in to unauthenticated manager/worker endpoints.
    #[arg(
        long,
        help = "Accept and send Swarm manager/worker requests without authentication (not \
                secure: anyone who reaches the port can trigger actions); only on a loopback \
                address unless --insecure-no-auth-on-network is given too"
    )]
    pub insecure_no_auth: bool,

    /// Second opt-in: `--insecure-no-auth` on an address other than loopback.
    #[arg(
        long,
        requires = "insecure_no_auth",
        help = "With --insecure-no-auth: also run without authentication on an address other \
                than loopback (every host that reaches the port can trigger actions)"
    )]
    pub insecure_no_auth_on_network: bool,
}

/// Flags of `pygen state`.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    /// Replace environment variable values with `<redacted>` (names stay).
    #[arg(
        long,
        help = "Write environment variables as NAME=<redacted>: the dump otherwise holds every \
                container's environment, often passwords and tokens"
    )]
    pub redact_env: bool,

    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    #[arg(
        long,
        value_name = "ADDRESS",
        help = "Alternative address (URL) for the Docker daemon connection"
    )]
    pub docker_address: Option<String>,

    /// Logging.
    #[command(flatten)]
    pub logging: LoggingArgs,
}

/// Flags of `pygen render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// State file written by `pygen state`.
    #[arg(
        long,
        value_name = "FILE",
        help = "State file written by `pygen state` to render the template with"
    )]
    pub state: PathBuf,

    /// Template source, as for the main command.
    #[arg(
        long,
        value_name = "TEMPLATE",
        help = "The base Jinja2 template: a file, an http(s):// URL, or an inline template as \
                string if it starts with \"#\""
    )]
    pub template: String,

    /// Output file; `None` prints to standard output.
    #[arg(
        long,
        value_name = "TARGET",
        help = "The target to save the generated file (printed to standard output by default)"
    )]
    pub target: Option<PathBuf>,

    /// Skip TLS certificate checks when fetching an `https://` template.
    #[arg(
        long,
        help = "Disable SSL verification when loading templates over HTTPS (not secure)"
    )]
    pub no_ssl_check: bool,

    /// Timeout in seconds of the template download.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30.0,
        allow_negative_numbers = true,
        help = "Timeout in seconds for loading the template over HTTP(S)"
    )]
    pub template_timeout: f64,

    /// The template language.
    #[arg(
        long,
        value_enum,
        default_value_t = RenderDialect::Jinja,
        hide_possible_values = true,
        help = "The template language: jinja (pygen's templates) or go (docker-gen's templates, \
                rendered with docker-gen's data and functions)"
    )]
    pub dialect: RenderDialect,

    /// Logging.
    #[command(flatten)]
    pub logging: LoggingArgs,
}

/// The template languages `pygen render` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RenderDialect {
    /// docker-pygen's Jinja2 templates.
    Jinja,
    /// docker-gen's Go templates.
    Go,
}

/// Flags of `pygen healthcheck`.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// URL that must answer with a 2xx status.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:9413/metrics",
        help = "URL to query; healthy when it answers with a 2xx status (use port 9414 for a \
                worker)"
    )]
    pub url: String,

    /// Seconds to wait for the answer.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 5.0,
        allow_negative_numbers = true,
        help = "Seconds to wait for the answer"
    )]
    pub timeout: f64,
}

/// Flags of `pygen check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The config file to check.
    #[arg(
        long,
        value_name = "FILE",
        help = "The config file to check, as given to `pygen --config`"
    )]
    pub config: PathBuf,
}

/// Flags of `pygen completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// Shell to write the completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Writes the completion script of the whole command line for `shell` to `out`.
///
/// The script is generated into memory first: clap_complete panics when its writer fails, and
/// a closed pipe (`pygen completions bash | head`) must be an error, not a panic.
pub fn write_completions(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pygen", &mut script);
    out.write_all(&script)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        // clap checks conflicting names, bad defaults and similar mistakes only here.
        Cli::command().debug_assert();
    }

    #[test]
    fn completions_mention_flags_and_subcommands() {
        let mut out = Vec::new();
        write_completions(Shell::Bash, &mut out).unwrap();
        let script = String::from_utf8(out).unwrap();
        assert!(script.contains("--template"), "{script}");
        assert!(script.contains("worker"), "{script}");
    }

    #[test]
    fn help_says_what_a_new_user_needs() {
        let help = Cli::command().render_long_help().to_string();
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("--interval <MIN> [MAX]"), "{help}");
        assert!(!flat.contains("[MAX]..."), "{help}");
        assert!(flat.contains("http(s):// URL"), "{help}");
        assert!(flat.contains("PYGEN_SWARM_SECRET"), "{help}");
        let mut state = Cli::command();
        let state = state
            .find_subcommand_mut("state")
            .expect("a state subcommand");
        let flat = state.render_long_help().to_string();
        let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("--redact-env"), "{flat}");
        assert!(flat.contains("passwords and tokens"), "{flat}");
        // A bare `pygen` shows the help, subcommands included, not only a usage line.
        let bare = Cli::try_parse_from(["pygen"]).unwrap_err();
        assert_eq!(
            bare.kind(),
            clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        let text = bare.to_string();
        assert!(text.contains("worker") && text.contains("state"), "{text}");
        assert!(
            Cli::try_parse_from(["pygen", "--template", "t", "--interval", "1", "2", "3"]).is_err()
        );
    }

    #[test]
    fn check_takes_a_config_file() {
        let cli = Cli::try_parse_from(["pygen", "check", "--config", "p.toml"]).unwrap();
        assert!(
            matches!(&cli.command, Some(Command::Check(args)) if args.config.as_os_str() == "p.toml")
        );
        assert!(Cli::try_parse_from(["pygen", "check"]).is_err());
    }

    #[test]
    fn debug_is_read_from_the_active_command() {
        let cli = Cli::try_parse_from(["pygen", "worker", "--manager", "m", "--debug"]).unwrap();
        assert!(cli.debug());
        let cli = Cli::try_parse_from(["pygen", "--template", "t"]).unwrap();
        assert!(!cli.debug());
    }
}
