//! The command line as the user types it: every flag of docker-pygen's `cli.py` and
//! `swarm_worker.py` with the same names, argument shapes and defaults, plus pygen's own
//! subcommands (`worker`, `state`, `render`, `healthcheck`, `completions`).
//!
//! clap checks each value on its own (not empty, a number of seconds as a [`Duration`]) with the
//! parsers in [`values`], which the config file shares. Checks that need more than one value or
//! domain knowledge (interval order, signal names, one-shot versus Swarm) live in
//! [`crate::config`], which turns a [`Cli`] into validated configuration. Flags are read from
//! the command line only, never from the environment.
//!
//! This file holds the whole command and the main command's flags; the groups several commands
//! share are in `groups`, the subcommands' own flags in `subcommands`.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

mod config_flags;
mod groups;
mod subcommands;
pub mod values;

pub use config_flags::{FLAGS_IN_THE_CONFIG_FILE, config_conflict_hint, config_key_of_flag};
pub use groups::{AuthArgs, DockerArgs, EventArgs, FetchArgs, LoggingArgs};
pub use subcommands::{
    CheckArgs, CompletionsArgs, HealthcheckArgs, RenderArgs, RenderDialect, StateArgs, WorkerArgs,
};

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
        value_parser = values::non_empty,
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
        value_parser = values::non_empty,
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

    /// Notification batching, MIN and optional MAX (their order is checked in `config`).
    #[arg(
        long,
        num_args = 1..=2,
        value_names = ["MIN", "MAX"],
        value_parser = values::seconds,
        default_values = ["0.5", "2"],
        hide_default_value = true,
        allow_negative_numbers = true,
        help = "Minimum and maximum intervals for sending notifications. If there is only one \
                argument it will be used for both MIN and MAX. The defaults are: 0.5 and 2 seconds."
    )]
    pub interval: Vec<Duration>,

    /// Seconds after an event-driven update to render once more; 0 means never.
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = values::seconds,
        default_value = "0",
        hide_default_value = true,
        allow_negative_numbers = true,
        help = "Optional interval in seconds to re-run the target generation after an event and \
                execute the action if the target has changed. Defaults to 0 meaning the \
                generation will not be repeated."
    )]
    pub repeat: Duration,

    /// Event actions that trigger an update.
    #[command(flatten)]
    pub events: EventArgs,

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
        value_parser = values::non_empty,
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

    /// How templates are fetched over HTTP(S).
    #[command(flatten)]
    pub fetch: FetchArgs,

    /// Render once, run the actions if the target changed, and exit.
    #[arg(
        long,
        help = "Run the update once and exit, also execute actions if the target changes"
    )]
    pub one_shot: bool,

    /// Which Docker daemon to talk to.
    #[command(flatten)]
    pub docker: DockerArgs,

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
        value_parser = values::seconds,
        default_value = "5",
        allow_negative_numbers = true,
        help = "Seconds between two polls of Swarm services and tasks, while the daemon is a \
                Swarm manager and the template reads them (task state changes raise no Docker \
                event); 0 disables polling"
    )]
    pub swarm_poll: Duration,

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
