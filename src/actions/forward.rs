//! What a `--swarm-manager` hands to its workers: the action they run, and the trait that
//! sends it.
//!
//! A manager forwards container restarts and signals to the worker pygens, and each worker runs
//! them here, on its own containers. The sending belongs to the Swarm transport
//! ([`crate::swarm::Workers`] implements [`Forward`]) and the Swarm worker runs this module's
//! actions, so the action and the trait live here and the transport depends on them, not the
//! other way round. How an action travels (its JSON body) is the transport's:
//! `crate::swarm::wire`.

use std::fmt;

use futures_util::future::BoxFuture;

/// An action a manager asks a worker to run on its local containers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Restart the matching containers.
    Restart {
        /// The target, matched like `--restart`.
        target: String,
    },
    /// Signal the matching containers.
    Signal {
        /// The target, matched like `--signal`.
        target: String,
        /// The normalized signal (`SIGHUP`, `9`).
        signal: String,
    },
}

impl Action {
    /// The action's name, on the wire and in logs.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Restart { .. } => "restart",
            Action::Signal { .. } => "signal",
        }
    }

    /// The target of the action.
    pub fn target(&self) -> &str {
        match self {
            Action::Restart { target } | Action::Signal { target, .. } => target,
        }
    }
}

/// What handing an action to the workers achieved; the deliveries go on after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queued {
    /// Worker addresses the action was queued for.
    pub queued: usize,
    /// Worker names that resolved to no address (given up on at once).
    pub failed: usize,
}

/// Sends actions to the workers of a `--swarm-manager`.
pub trait Forward: fmt::Debug + Send + Sync {
    /// Queues `action` for every worker and returns without waiting for its delivery.
    fn forward<'a>(&'a self, action: &'a Action) -> BoxFuture<'a, Queued>;
}
