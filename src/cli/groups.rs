//! The flag groups several commands share, each declared once and flattened into the commands
//! that take it: logging, the Docker daemon, template fetching, event actions and the Swarm
//! manager/worker authentication. A flag keeps one name, default and help everywhere (the
//! worker only rewords the help of `--events`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{DEFAULT_EVENTS, values};

/// The logging flags, shared by every command that logs.
#[derive(Debug, Clone, Copy, Args)]
pub struct LoggingArgs {
    /// Log at debug level.
    #[arg(long, help = "Enable debug log messages")]
    pub debug: bool,
}

/// The Docker daemon connection, shared by every command that talks to the daemon.
#[derive(Debug, Clone, Args)]
pub struct DockerArgs {
    /// Docker daemon address; `None` uses `DOCKER_HOST` or the local socket.
    #[arg(
        long,
        value_name = "ADDRESS",
        help = "Alternative address (URL) for the Docker daemon connection"
    )]
    pub docker_address: Option<String>,
}

/// Fetching a template over HTTP(S), shared by the main command and `pygen render`.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// Skip TLS certificate checks when fetching an `https://` template.
    #[arg(
        long,
        help = "Disable SSL verification when loading templates over HTTPS (not secure)"
    )]
    pub no_ssl_check: bool,

    /// Timeout in seconds of the template download (docker-pygen used a fixed 60 s).
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = values::positive_seconds,
        default_value = "30",
        allow_negative_numbers = true,
        help = "Timeout in seconds for loading the template over HTTP(S)"
    )]
    pub template_timeout: Duration,
}

/// The Docker event actions a command reacts to, shared by the main command and the worker.
#[derive(Debug, Clone, Args)]
pub struct EventArgs {
    /// Event actions (`none` alone disables them): the ones that trigger an update, or that
    /// the worker forwards to its managers.
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
