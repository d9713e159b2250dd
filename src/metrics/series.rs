//! The words and label sets of the series: action kinds, outcomes and execution strategies,
//! the label set of each metric family, and the buckets every `*_seconds` histogram shares.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

/// Histogram buckets for every `*_seconds` histogram: the Prometheus client defaults, so
/// docker-pygen's dashboards (which used `le="0.25"`) keep working.
pub(super) const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

pub(super) fn new_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// A family of histograms sharing [`BUCKETS`].
pub(super) type Histograms<S> = Family<S, Histogram, fn() -> Histogram>;

pub(super) fn histograms<S: Clone + std::hash::Hash + Eq>() -> Histograms<S> {
    Family::new_with_constructor(new_histogram)
}

/// The kind of action that ran, as counted in `pygen_actions_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind<'a> {
    /// A container restart (`--restart`).
    Restart,
    /// A service update forcing its tasks to restart (`--restart` on a Swarm service).
    ServiceUpdate,
    /// A signal sent to containers (`--signal`), with the signal's name as configured.
    Signal(&'a str),
}

impl ActionKind<'_> {
    pub(super) fn as_str(&self) -> &'static str {
        match self {
            ActionKind::Restart => "restart",
            ActionKind::ServiceUpdate => "service_update",
            ActionKind::Signal(_) => "signal",
        }
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every matched container or service was acted on.
    Ok,
    /// The daemon (or a peer) refused or failed at least one of them.
    Error,
    /// The target matched nothing, so nothing was done.
    NoMatch,
}

impl Outcome {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::NoMatch => "no_match",
        }
    }
}

/// Where an action was executed, as docker-pygen's `pygen_action_execution_strategy_seconds`
/// reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// On the local daemon.
    Local,
    /// Forwarded to the Swarm workers.
    Worker,
    /// Forwarded to the Swarm manager.
    Manager,
}

impl Strategy {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Strategy::Local => "local",
            Strategy::Worker => "worker",
            Strategy::Manager => "manager",
        }
    }
}

/// Labels of `pygen_api_containers_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ListAllLabels {
    /// `1` when stopped containers were listed too, else `0`.
    pub(super) list_all: &'static str,
}

/// Labels of `pygen_api_services_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DesiredStateLabels {
    /// `running` when only running tasks were asked for, else empty.
    pub(super) desired_state: &'static str,
}

/// Labels of `pygen_action_execution_strategy_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct StrategyLabels {
    /// Where the action ran: `local`, `worker` or `manager`.
    pub(super) strategy: &'static str,
}

/// Labels of the per-template counters (`pygen_renders_total`, …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TemplateLabels {
    /// The template's name (bounded).
    pub(super) template: String,
}

/// Labels of `pygen_restart_action_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TargetLabels {
    /// The action's target as configured or received (bounded).
    pub(super) target: String,
}

/// Labels of `pygen_signal_action_seconds`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct SignalLabels {
    /// The action's target as configured or received (bounded).
    pub(super) target: String,
    /// The signal name as configured (bounded).
    pub(super) signal: String,
}

/// Labels of `pygen_action_errors_total` and `pygen_events_received_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ActionLabels {
    /// The action kind (`restart`, `signal`, `service_update`) or event action.
    pub(super) action: &'static str,
}

/// Labels of `pygen_actions_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ActionOutcomeLabels {
    /// The action kind: `restart`, `signal` or `service_update`.
    pub(super) kind: &'static str,
    /// How it ended: `ok`, `error` or `no_match`.
    pub(super) outcome: &'static str,
}

/// Labels of `pygen_manager_request_total` and `pygen_worker_request_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ClientLabels {
    /// The client's IP address (bounded).
    pub(super) client: String,
}

/// Labels of `pygen_http_connections_dropped_total` and `pygen_swarm_requests_refused_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RefusalLabels {
    /// The endpoint: `manager`, `worker` or `metrics`.
    pub(super) endpoint: &'static str,
    /// Why, from a fixed list.
    pub(super) reason: &'static str,
}

/// Labels of `pygen_manager_send_total` and `pygen_worker_send_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct SendLabels {
    /// The peer's host name as configured or discovered (bounded).
    pub(super) target: String,
    /// The HTTP status of the answer, `-1` without one (bounded).
    pub(super) code: String,
}
