//! The Swarm manager and worker roles: a manager pygen (`--swarm-manager`) renders from the
//! Swarm's services and acts on containers of every node through worker pygens
//! (`pygen worker`), one per node, which tell it about their local events.
//!
//! ```text
//!  worker (every node)                         manager (one, on a manager node)
//!  local events ── POST :9411 (signed, empty) ──▶ marks the Swarm state dirty, renders
//!  POST :9412 {"action":…,"args":[…]} (signed) ◀── restart / signal on change
//!  └▶ restarts / signals its local containers
//! ```
//!
//! Layout: [`auth`] (shared-secret signatures), [`wire`] (action bodies), [`server`] (both
//! endpoints), [`client`] (sending with retries), [`catchup`] (actions for workers that come
//! late), [`worker`] (the `pygen worker` process).
//! The manager's side lives in the generator ([`start_manager`] starts its endpoint) and in
//! [`crate::actions`]. The wire format is documented in the README (section "Wire format").

pub mod auth;
pub mod catchup;
pub mod client;
pub mod server;
pub mod wire;
pub mod worker;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::actions::{self, Action};
use crate::config::ManagerConfig;
use crate::metrics::Metrics;
use auth::Auth;
use catchup::CatchUp;
use client::{Handoff, Peer, Sender};

/// Port of the manager endpoint (docker-pygen's fixed `Manager.manager_port`).
pub const MANAGER_PORT: u16 = 9411;
/// Port of the worker endpoint (docker-pygen's fixed `Manager.worker_port`).
pub const WORKER_PORT: u16 = 9412;

/// Which endpoint, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The manager endpoint (`--swarm-manager`).
    Manager,
    /// The worker endpoint (`pygen worker`).
    Worker,
}

impl Role {
    /// The role's name, as signed and as the metrics' `endpoint` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Worker => "worker",
        }
    }

    /// The role at the other end.
    pub fn other(self) -> Role {
        match self {
            Role::Manager => Role::Worker,
            Role::Worker => Role::Manager,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors that stop a manager or worker from starting.
///
/// [`Error::Auth`] and [`Error::Peer`] are configuration errors (exit status 2); the others
/// are runtime failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No usable shared secret.
    #[error(transparent)]
    Auth(#[from] auth::Error),
    /// A `--workers` or `--manager` address is malformed.
    #[error(transparent)]
    Peer(#[from] client::PeerError),
    /// The endpoint's port could not be opened.
    #[error("{role} endpoint: cannot listen on {addr}")]
    Bind {
        /// Which endpoint.
        role: Role,
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Docker address is unusable.
    #[error(transparent)]
    Connect(#[from] crate::docker::connect::Error),
    /// The metrics endpoint could not start.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::Error),
}

impl crate::report::Blame for Error {
    fn fault(&self) -> crate::report::Fault {
        use crate::report::Fault;
        match self {
            Error::Auth(_) | Error::Peer(_) => Fault::Input,
            Error::Connect(err) => err.fault(),
            Error::Metrics(err) => err.fault(),
            Error::Bind { .. } => Fault::World,
        }
    }
}

/// The manager's workers: where container restarts and signals go.
#[derive(Debug)]
pub struct Workers {
    /// The `--workers` names.
    peers: Vec<Peer>,
    /// Sends the actions.
    sender: Sender,
    /// Where the deliveries are counted; they go on after [`Workers::send`] returns.
    metrics: Arc<Metrics>,
    /// Recent actions, for worker addresses that appear late.
    catch_up: Arc<CatchUp>,
}

impl Workers {
    /// The workers named by `specs` (`HOST[:PORT]`, port 9412 by default), reached with
    /// `retries` retries per address, counted in `metrics`.
    pub fn new(
        specs: &[String],
        auth: Arc<Auth>,
        retries: u32,
        metrics: Arc<Metrics>,
    ) -> Result<Workers, Error> {
        let peers = Peer::parse_all("--workers", specs, WORKER_PORT)?;
        let sender = Sender::new(auth, retries);
        let catch_up = Arc::new(CatchUp::new(
            peers.clone(),
            sender.clone(),
            Arc::clone(&metrics),
        ));
        Ok(Workers {
            peers,
            sender,
            metrics,
            catch_up,
        })
    }

    /// Queues `action` for every address of every worker and returns; each address gets it
    /// after the actions queued for it before (see [`client`]). An address that appears
    /// within [`catchup::WINDOW`] gets it too (see [`catchup`]).
    pub async fn send(&self, action: &Action) -> Handoff {
        if self.peers.is_empty() {
            tracing::warn!(
                action = action.name(),
                target = action.target(),
                "no --workers given: the action reaches no container"
            );
            return Handoff::none();
        }
        let handoff = self
            .sender
            .send_action(&self.peers, action, &self.metrics)
            .await;
        self.catch_up.sent(action, &handoff.addresses);
        handoff
    }
}

/// The actions of a `--swarm-manager` reach its workers through here.
impl actions::Forward for Workers {
    fn forward<'a>(&'a self, action: &'a Action) -> BoxFuture<'a, actions::Queued> {
        Box::pin(async move {
            let handoff = self.send(action).await;
            actions::Queued {
                queued: handoff.queued,
                failed: handoff.failed,
            }
        })
    }
}

/// A running manager endpoint.
#[derive(Debug)]
pub struct ManagerEndpoint {
    /// The workers, for the actions.
    pub workers: Arc<Workers>,
    /// One token per pending update request from a worker.
    pub updates: mpsc::Receiver<()>,
    /// One token per pending notice that a worker's own actions settled (see
    /// [`server::SETTLED_BODY`]).
    pub settled: mpsc::Receiver<()>,
    /// Where the endpoint listens (the port is known even when 0 was asked for).
    pub addr: SocketAddr,
}

/// Sets up the manager role: the shared secret (or the logged opt-out), the workers, and the
/// endpoint on `config.listen`, served until `shutdown`.
pub async fn start_manager(
    config: &ManagerConfig,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<ManagerEndpoint, Error> {
    let auth = Arc::new(Auth::from_config(&config.auth, "--swarm-manager")?);
    warn_if_insecure(&auth, Role::Manager);
    let workers = Arc::new(Workers::new(
        &config.workers,
        auth.clone(),
        config.retries,
        Arc::clone(&metrics),
    )?);
    if config.workers.is_empty() {
        tracing::warn!(
            "--swarm-manager without --workers: signals and container restarts reach no container"
        );
    }
    let listener = server::bind(Role::Manager, config.listen).await?;
    let addr = listener.local_addr().unwrap_or(config.listen);
    let (changed, updates) = mpsc::channel(1);
    let (settled_tx, settled) = mpsc::channel(1);
    let channels = server::Updates {
        changed,
        settled: settled_tx,
    };
    // The server runs until `shutdown`; nothing waits for it, so its handle is not kept.
    tokio::spawn(async move {
        if let Err(err) = server::serve_manager(listener, auth, metrics, channels, shutdown).await {
            tracing::error!(error = %crate::report::describe(&err), "the manager endpoint stopped");
        }
    });
    tracing::info!(listen = %addr, workers = ?config.workers, "Swarm manager endpoint started");
    Ok(ManagerEndpoint {
        workers,
        updates,
        settled,
        addr,
    })
}

/// Logs the startup warning of `--insecure-no-auth`, and that `PYGEN_SWARM_SECRET` is ignored
/// when it is set too.
pub(crate) fn warn_if_insecure(auth: &Auth, role: Role) {
    if auth.is_secure() {
        return;
    }
    tracing::warn!(
        endpoint = %role,
        "--insecure-no-auth: manager/worker requests are NOT authenticated; anyone who can \
         reach the port can trigger updates and actions"
    );
    if std::env::var_os(auth::SECRET_ENV).is_some() {
        tracing::warn!(
            "{} is set but ignored because of --insecure-no-auth",
            auth::SECRET_ENV
        );
    }
}
