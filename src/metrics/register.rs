//! Registering every metric with its name, help text and unit, and creating at zero the
//! series whose label values are all known in advance.

use std::sync::Arc;

use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Unit;

use super::app::{app_version, built_at};
use super::series::{ActionKind, ActionLabels, ActionOutcomeLabels, Outcome};
use super::state_age::StateAgeCollector;
use super::{Metrics, process};

impl Metrics {
    /// Creates the counters whose label values are all known in advance, at zero, so that their
    /// rate is defined from the first scrape instead of from the first action.
    pub(super) fn precreate_fixed_series(&self) {
        let kinds = [
            ActionKind::Restart,
            ActionKind::ServiceUpdate,
            ActionKind::Signal(""),
        ];
        for kind in kinds {
            for outcome in [Outcome::Ok, Outcome::Error, Outcome::NoMatch] {
                let labels = ActionOutcomeLabels {
                    kind: kind.as_str(),
                    outcome: outcome.as_str(),
                };
                // Only the creation matters; the read guard is released at once.
                let _ = self.actions.get_or_create(&labels);
            }
            let labels = ActionLabels {
                action: kind.as_str(),
            };
            let _ = self.action_errors.get_or_create(&labels);
        }
    }

    pub(super) fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "pygen_app",
            "pygen version",
            Info::new(vec![("version".to_owned(), app_version())]),
        );
        r.register(
            "pygen_app_built_at",
            "Build time of pygen in seconds since the epoch, 0 if unknown",
            ConstGauge::new(built_at()),
        );
        r.register_with_unit(
            "pygen_generation",
            "Time to render the template",
            Unit::Seconds,
            self.generation.clone(),
        );
        r.register_with_unit(
            "pygen_target_update",
            "Time of a whole update of the target: render, compare, write",
            Unit::Seconds,
            self.target_update.clone(),
        );
        r.register_with_unit(
            "pygen_render_wait",
            "Time from the first change an update serves to the start of that update",
            Unit::Seconds,
            self.render_wait.clone(),
        );
        r.register(
            "pygen_template_errors",
            "Failed updates of the target, render or write",
            self.template_errors.clone(),
        );
        r.register(
            "pygen_renders",
            "Template renders attempted",
            self.renders.clone(),
        );
        r.register(
            "pygen_render_errors",
            "Template renders that failed",
            self.render_errors.clone(),
        );
        r.register(
            "pygen_writes",
            "Target file writes after a change of the output",
            self.writes.clone(),
        );
        r.register(
            "pygen_write_errors",
            "Target file writes that failed",
            self.write_errors.clone(),
        );
        r.register(
            "pygen_check_failures",
            "New target contents that the template's check command refused",
            self.check_failures.clone(),
        );
        r.register(
            "pygen_events_received",
            "Docker events received, by action",
            self.events_received.clone(),
        );
        r.register(
            "pygen_events_taken",
            "Docker events that matched --events",
            self.events_taken.clone(),
        );
        r.register_with_unit(
            "pygen_api_containers",
            "Time to list and inspect containers",
            Unit::Seconds,
            self.api_containers.clone(),
        );
        r.register_with_unit(
            "pygen_api_services",
            "Time to list services and their tasks",
            Unit::Seconds,
            self.api_services.clone(),
        );
        r.register_with_unit(
            "pygen_api_nodes",
            "Time to list Swarm nodes",
            Unit::Seconds,
            self.api_nodes.clone(),
        );
        r.register_with_unit(
            "pygen_action_execution_strategy",
            "Time to execute an action, by where it ran",
            Unit::Seconds,
            self.strategies.clone(),
        );
        r.register_with_unit(
            "pygen_restart_action",
            "Time of restart actions, by target",
            Unit::Seconds,
            self.restarts.clone(),
        );
        r.register_with_unit(
            "pygen_signal_action",
            "Time of signal actions, by target and signal",
            Unit::Seconds,
            self.signals.clone(),
        );
        r.register(
            "pygen_actions",
            "Actions executed, by kind and outcome",
            self.actions.clone(),
        );
        r.register(
            "pygen_action_errors",
            "Actions that failed, by kind",
            self.action_errors.clone(),
        );
        r.register(
            "pygen_manager_request",
            "Requests received by the Swarm manager endpoint, by client address",
            self.manager.requests.clone(),
        );
        r.register(
            "pygen_manager_send",
            "Requests sent by the manager to workers, by worker and HTTP status (-1: no answer)",
            self.manager.sends.clone(),
        );
        r.register(
            "pygen_manager_actions_dropped",
            "Actions the manager dropped unsent because the worker's queue was full, by worker",
            self.manager.dropped.clone(),
        );
        r.register(
            "pygen_worker_request",
            "Requests received by the Swarm worker endpoint, by client address",
            self.worker.requests.clone(),
        );
        r.register(
            "pygen_worker_send",
            "Requests sent by the worker to managers, by manager and HTTP status (-1: no answer)",
            self.worker.sends.clone(),
        );
        r.register(
            "pygen_http_connections_dropped",
            "Connections closed by an endpoint's limits, by endpoint and reason",
            self.connections_dropped.clone(),
        );
        r.register(
            "pygen_swarm_requests_refused",
            "Swarm manager/worker requests refused, by endpoint and reason",
            self.requests_refused.clone(),
        );
        r.register(
            "pygen_docker_reconnects",
            "Reconnections to the Docker event stream",
            self.reconnects.clone(),
        );
        r.register(
            "pygen_docker_connect_attempts",
            "Attempts to connect to the Docker daemon (the first one included)",
            self.connect_attempts.clone(),
        );
        r.register(
            "pygen_docker_connect_failures",
            "Attempts to connect to the Docker daemon that failed",
            self.connect_failures.clone(),
        );
        r.register(
            "pygen_docker_connected",
            "1 while the Docker event stream is connected",
            self.connected.clone(),
        );
        r.register_collector(Box::new(StateAgeCollector(Arc::clone(&self.state))));
        r.register_collector(Box::new(process::ProcessCollector));
    }
}
