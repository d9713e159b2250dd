//! The subcommands' own flags: `pygen worker` (docker-pygen's `swarm_worker.py`), `state`,
//! `render`, `healthcheck`, `check` and `completions`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap_complete::Shell;

use super::{AuthArgs, DockerArgs, EventArgs, FetchArgs, LoggingArgs, values};

/// Flags of the Swarm worker: docker-pygen's `swarm_worker.py` plus a few of pygen's own.
///
/// `--events` is the main command's group; only its help says what the worker does with them.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("events", |arg| arg.help(
    "Docker events to watch and trigger updates for (default: start, stop, die, health_status; \
     \"none\" disables forwarding)"
)))]
pub struct WorkerArgs {
    /// Manager hostnames the worker sends events to.
    #[arg(
        long,
        required = true,
        num_args = 1..,
        value_name = "HOSTNAME",
        value_parser = values::non_empty,
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

    /// Event actions forwarded to the manager.
    #[command(flatten)]
    pub events: EventArgs,

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

    /// Which Docker daemon to talk to.
    #[command(flatten)]
    pub docker: DockerArgs,

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

    /// Labels (`(key, value)`, value `None` for any) a container must carry for the worker to
    /// act on it (all of them).
    #[arg(
        long,
        value_name = "KEY[=VALUE]",
        action = clap::ArgAction::Append,
        value_parser = values::allow_label,
        help = "Only restart or signal containers that carry this label (with this value, if \
                given); repeat for several (all must match). Without it, whoever holds the \
                shared secret may act on any container of this node"
    )]
    pub allow_label: Vec<(String, Option<String>)>,

    /// How manager/worker requests are authenticated.
    #[command(flatten)]
    pub auth: AuthArgs,
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

    /// Which Docker daemon to talk to.
    #[command(flatten)]
    pub docker: DockerArgs,

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
        value_parser = values::non_empty,
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

    /// How templates are fetched over HTTP(S).
    #[command(flatten)]
    pub fetch: FetchArgs,

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
        value_parser = values::non_empty,
        default_value = "http://127.0.0.1:9413/metrics",
        help = "URL to query; healthy when it answers with a 2xx status (use port 9414 for a \
                worker)"
    )]
    pub url: String,

    /// Seconds to wait for the answer.
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = values::positive_seconds,
        default_value = "5",
        allow_negative_numbers = true,
        help = "Seconds to wait for the answer"
    )]
    pub timeout: Duration,
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
