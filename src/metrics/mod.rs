//! Every Prometheus metric pygen exposes, and the `/metrics` endpoint.
//!
//! Call sites never spell out a metric name or label: they call a [`Metrics`] method named for
//! what happened (`render_finished`, `action_finished`, `reconnected`, …), and this module
//! decides which series move. One [`Metrics`] value is created at startup and shared as
//! `Arc<Metrics>`; there is no global registry.
//!
//! Names follow the current Prometheus conventions, which changes docker-pygen's names in two
//! ways: counters end in `_total` (`pygen_template_errors` is now `pygen_template_errors_total`),
//! and the former summaries are histograms in seconds (prometheus-client has no summary; a
//! histogram also aggregates across instances). The exposition is OpenMetrics text, which is why
//! histograms and process times carry a `# UNIT` line and `pygen_app_info` is of type `info`.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `pygen_app_info` | info (=1) | `version`: package version, `+GIT_COMMIT` if set at build time |
//! | `pygen_app_built_at` | gauge | — (`BUILD_TIMESTAMP` at build time, seconds since the epoch, else 0) |
//! | `pygen_generation_seconds` | histogram | — |
//! | `pygen_target_update_seconds` | histogram | — |
//! | `pygen_render_wait_seconds` | histogram | — |
//! | `pygen_template_errors_total` | counter | `template` (bounded) |
//! | `pygen_renders_total`, `pygen_render_errors_total` | counter | `template` (bounded) |
//! | `pygen_writes_total`, `pygen_write_errors_total` | counter | `template` (bounded) |
//! | `pygen_check_failures_total` | counter | `template` (bounded) |
//! | `pygen_events_received_total` | counter | `action`: a known Docker action or `other` |
//! | `pygen_events_taken_total` | counter | — |
//! | `pygen_api_containers_seconds` | histogram | `list_all`: `0`/`1` |
//! | `pygen_api_services_seconds` | histogram | `desired_state`: `running`/empty |
//! | `pygen_api_nodes_seconds` | histogram | — |
//! | `pygen_action_execution_strategy_seconds` | histogram | `strategy`: `local`/`worker`/`manager` |
//! | `pygen_restart_action_seconds` | histogram | `target` (bounded) |
//! | `pygen_signal_action_seconds` | histogram | `target`, `signal` (bounded) |
//! | `pygen_actions_total` | counter | `kind`: `restart`/`signal`/`service_update`, `outcome`: `ok`/`error`/`no_match` |
//! | `pygen_action_errors_total` | counter | `action`: same words as `kind` |
//! | `pygen_manager_request_total` | counter | `client` (IP address, bounded) |
//! | `pygen_manager_send_total` | counter | `target` (bounded), `code` (HTTP status or `-1`, bounded) |
//! | `pygen_manager_actions_dropped_total` | counter | `target` (worker, bounded) |
//! | `pygen_worker_request_total` | counter | `client` (IP address, bounded) |
//! | `pygen_worker_send_total` | counter | `target` (bounded), `code` (bounded) |
//! | `pygen_http_connections_dropped_total` | counter | `endpoint`: `manager`/`worker`/`metrics`, `reason`: `header_timeout`/`too_large`/`malformed`/`lifetime`/`evicted`/`shutdown` |
//! | `pygen_swarm_requests_refused_total` | counter | `endpoint`: `manager`/`worker`, `reason`: `unsigned`/`forged`/`stale`/`replayed`/`misdirected`/`busy`/`bad_request` |
//! | `pygen_docker_reconnects_total` | counter | — |
//! | `pygen_docker_connect_attempts_total`, `pygen_docker_connect_failures_total` | counter | — |
//! | `pygen_docker_connected` | gauge | — (0/1) |
//! | `pygen_state_age_seconds` | gauge | — (computed at scrape) |
//! | `process_cpu_seconds_total`, `process_start_time_seconds`, `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` | counter/gauges | — (read from `/proc` at scrape) |
//!
//! `template` is the template's name (a config file entry's `name`, else its target's file name,
//! else `stdout`); with one template from the command line it is that target's file name.
//!
//! Bounds: `template`, `target`, `client` and `signal` keep at most [`MAX_TARGETS`] distinct values per metric
//! family and `code` at most [`MAX_CODES`]; later values are reported as `other` (see
//! [`BoundedLabels`]); every free label value is cut to [`MAX_LABEL_LEN`] bytes. All other labels
//! take values from fixed lists. A labelled series appears at its first observation, except
//! `pygen_actions_total` and `pygen_action_errors_total`, whose label values are all known and
//! which start at 0, and the per-template series, which start at 0 for every configured
//! template.
//!
//! This file holds [`Metrics`] and its methods; the label sets are in `series`, their
//! registration in `register`, the Swarm traffic counters in `peer`, the state age in
//! `state_age`, the version and build time in `app`.

mod app;
mod http;
mod labels;
mod peer;
mod process;
mod register;
mod series;
mod state_age;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use http::{CONTENT_TYPE_OPENMETRICS, bind, serve};
pub use labels::{BoundedLabels, MAX_LABEL_LEN, OVERFLOW, event_action};
pub use series::{ActionKind, Outcome, Strategy};

use peer::PeerTraffic;
use series::{
    ActionLabels, ActionOutcomeLabels, DesiredStateLabels, Histograms, ListAllLabels,
    RefusalLabels, SignalLabels, StrategyLabels, TargetLabels, TemplateLabels, histograms,
    new_histogram,
};
use state_age::{StateClock, lock};

/// Errors of the metrics endpoint.
///
/// [`Error::Bind`] happens at startup and is a configuration problem (another process holds the
/// port). Once listening, the endpoint logs what goes wrong with single connections and goes
/// on; generation never depends on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error("metrics endpoint: cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the socket could not be opened (address in use, permission denied, …).
        #[source]
        source: std::io::Error,
    },
}

impl crate::report::Blame for Error {
    fn fault(&self) -> crate::report::Fault {
        crate::report::Fault::World
    }
}

/// How many distinct values a `target`, `client` or `signal` label keeps per metric family.
pub const MAX_TARGETS: usize = 64;

/// How many distinct values a `code` label keeps per metric family.
pub const MAX_CODES: usize = 16;

/// Every metric pygen exposes, and the registry that encodes them.
///
/// Create one with [`Metrics::new`], share it as `Arc<Metrics>`, report events through its
/// methods and expose it with [`serve`].
#[derive(Debug)]
pub struct Metrics {
    /// Holds every metric below for encoding.
    registry: Registry,
    /// `pygen_generation_seconds`: time to render the template.
    generation: Histogram,
    /// `pygen_target_update_seconds`: time of a whole update (render, compare, write).
    target_update: Histogram,
    /// `pygen_render_wait_seconds`: how long a change waited for the update that serves it,
    /// so a render held back on purpose would show.
    render_wait: Histogram,
    /// `pygen_template_errors_total`: failed updates, render, check or write.
    template_errors: Family<TemplateLabels, Counter>,
    /// `pygen_renders_total`: renders attempted.
    renders: Family<TemplateLabels, Counter>,
    /// `pygen_render_errors_total`: renders that failed.
    render_errors: Family<TemplateLabels, Counter>,
    /// `pygen_writes_total`: target files written because the output changed.
    writes: Family<TemplateLabels, Counter>,
    /// `pygen_write_errors_total`: target file writes that failed.
    write_errors: Family<TemplateLabels, Counter>,
    /// `pygen_check_failures_total`: new contents a `check` command refused.
    check_failures: Family<TemplateLabels, Counter>,
    /// Bounds the `template` label.
    template_names: BoundedLabels,
    /// `pygen_events_received_total`: every daemon event seen.
    events_received: Family<ActionLabels, Counter>,
    /// `pygen_events_taken_total`: events matching `--events`.
    events_taken: Counter,
    /// `pygen_api_containers_seconds`: listing and inspecting containers.
    api_containers: Histograms<ListAllLabels>,
    /// `pygen_api_services_seconds`: listing services and their tasks.
    api_services: Histograms<DesiredStateLabels>,
    /// `pygen_api_nodes_seconds`: listing Swarm nodes.
    api_nodes: Histogram,
    /// `pygen_action_execution_strategy_seconds`: time per execution strategy.
    strategies: Histograms<StrategyLabels>,
    /// `pygen_restart_action_seconds`: restarts and service updates, per target.
    restarts: Histograms<TargetLabels>,
    /// `pygen_signal_action_seconds`: signal actions, per target and signal.
    signals: Histograms<SignalLabels>,
    /// `pygen_actions_total`: actions by kind and outcome.
    actions: Family<ActionOutcomeLabels, Counter>,
    /// `pygen_action_errors_total`: failed actions by kind.
    action_errors: Family<ActionLabels, Counter>,
    /// Bound on `target` of `pygen_restart_action_seconds`.
    restart_targets: BoundedLabels,
    /// Bound on `target` of `pygen_signal_action_seconds`.
    signal_targets: BoundedLabels,
    /// Bound on `signal` of `pygen_signal_action_seconds`.
    signal_names: BoundedLabels,
    /// `pygen_manager_request_total` and `pygen_manager_send_total`.
    manager: PeerTraffic,
    /// `pygen_worker_request_total` and `pygen_worker_send_total`.
    worker: PeerTraffic,
    /// `pygen_http_connections_dropped_total`: connections closed by the endpoints' limits.
    connections_dropped: Family<RefusalLabels, Counter>,
    /// `pygen_swarm_requests_refused_total`: Swarm requests refused before anything ran.
    requests_refused: Family<RefusalLabels, Counter>,
    /// `pygen_docker_reconnects_total`: event stream reconnections.
    reconnects: Counter,
    /// `pygen_docker_connect_attempts_total`: attempts to connect to the daemon, the first
    /// included.
    connect_attempts: Counter,
    /// `pygen_docker_connect_failures_total`: attempts that failed.
    connect_failures: Counter,
    /// `pygen_docker_connected`: 1 while the event stream is connected.
    connected: Gauge,
    /// Source of `pygen_state_age_seconds`, shared with its collector.
    state: Arc<Mutex<StateClock>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates every metric and registers it, with the process collector.
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::default(),
            generation: new_histogram(),
            target_update: new_histogram(),
            render_wait: new_histogram(),
            template_errors: Family::default(),
            renders: Family::default(),
            render_errors: Family::default(),
            writes: Family::default(),
            write_errors: Family::default(),
            check_failures: Family::default(),
            template_names: BoundedLabels::new(MAX_TARGETS),
            events_received: Family::default(),
            events_taken: Counter::default(),
            api_containers: histograms(),
            api_services: histograms(),
            api_nodes: new_histogram(),
            strategies: histograms(),
            restarts: histograms(),
            signals: histograms(),
            actions: Family::default(),
            action_errors: Family::default(),
            restart_targets: BoundedLabels::new(MAX_TARGETS),
            signal_targets: BoundedLabels::new(MAX_TARGETS),
            signal_names: BoundedLabels::new(MAX_TARGETS),
            manager: PeerTraffic::new(),
            worker: PeerTraffic::new(),
            connections_dropped: Family::default(),
            requests_refused: Family::default(),
            reconnects: Counter::default(),
            connect_attempts: Counter::default(),
            connect_failures: Counter::default(),
            connected: Gauge::default(),
            state: Arc::new(Mutex::new(StateClock::new(Instant::now()))),
        };
        m.register();
        m.precreate_fixed_series();
        m
    }

    /// Encodes every metric in the OpenMetrics text format, ending with `# EOF`; serve it with
    /// [`CONTENT_TYPE_OPENMETRICS`].
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail and none of the collectors returns an error of its own,
        // so an error here would be a bug in the encoder; log it and serve what was written.
        if let Err(err) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %err, "encoding the metrics failed");
        }
        out
    }

    /// A template render finished after `duration`, successfully or not (`ok`).
    ///
    /// Observes `pygen_generation_seconds` and counts `pygen_renders_total`; a failure also
    /// counts `pygen_render_errors_total` and `pygen_template_errors_total`.
    pub fn render_finished(&self, template: &str, duration: Duration, ok: bool) {
        self.generation.observe(duration.as_secs_f64());
        let labels = self.template_labels(template);
        self.renders.get_or_create(&labels).inc();
        if !ok {
            self.render_errors.get_or_create(&labels).inc();
            self.template_errors.get_or_create(&labels).inc();
        }
    }

    /// Makes `template`'s per-template series appear at 0, before its first render, so a
    /// dashboard sees every configured template from the start.
    pub fn template_configured(&self, template: &str) {
        let labels = self.template_labels(template);
        for family in [
            &self.renders,
            &self.render_errors,
            &self.writes,
            &self.write_errors,
            &self.check_failures,
            &self.template_errors,
        ] {
            drop(family.get_or_create(&labels));
        }
    }

    /// A template did not load (at startup, with other templates running): counts
    /// `pygen_render_errors_total` and `pygen_template_errors_total`, with no render time.
    pub fn template_unloadable(&self, template: &str) {
        let labels = self.template_labels(template);
        self.render_errors.get_or_create(&labels).inc();
        self.template_errors.get_or_create(&labels).inc();
    }

    /// The `template` label of `template`'s series.
    fn template_labels(&self, template: &str) -> TemplateLabels {
        TemplateLabels {
            template: self.template_names.admit(template),
        }
    }

    /// A whole update of the target (render, compare, write, scheduling the actions) took
    /// `duration`, whatever its result.
    pub fn target_updated(&self, duration: Duration) {
        self.target_update.observe(duration.as_secs_f64());
    }

    /// An update (refresh, render, write) starts `wait` after the first change it serves.
    pub fn update_started(&self, wait: Duration) {
        self.render_wait.observe(wait.as_secs_f64());
    }

    /// The target file was written because the output changed.
    pub fn write_done(&self, template: &str) {
        self.writes
            .get_or_create(&self.template_labels(template))
            .inc();
    }

    /// A check command refused the template's new content (the target stays as it was).
    /// Counts `pygen_check_failures_total` and `pygen_template_errors_total`.
    pub fn check_failed(&self, template: &str) {
        let labels = self.template_labels(template);
        self.check_failures.get_or_create(&labels).inc();
        self.template_errors.get_or_create(&labels).inc();
    }

    /// Writing the target file failed (the previous file stays in place). Counts
    /// `pygen_write_errors_total` and `pygen_template_errors_total`.
    pub fn write_failed(&self, template: &str) {
        let labels = self.template_labels(template);
        self.write_errors.get_or_create(&labels).inc();
        self.template_errors.get_or_create(&labels).inc();
    }

    /// A Docker event arrived, whatever its type. `action` is the event's `Action` as the daemon
    /// sent it; it is reduced to a known action name or `other` (see [`event_action`]).
    pub fn event_received(&self, action: &str) {
        let labels = ActionLabels {
            action: event_action(action),
        };
        self.events_received.get_or_create(&labels).inc();
    }

    /// A Docker event matched `--events` and will cause an update.
    pub fn event_taken(&self) {
        self.events_taken.inc();
    }

    /// Listing (and inspecting) containers took `duration`; `list_all` is whether stopped
    /// containers were included.
    pub fn api_containers(&self, duration: Duration, list_all: bool) {
        let labels = ListAllLabels {
            list_all: if list_all { "1" } else { "0" },
        };
        self.api_containers
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
    }

    /// Listing services (and their tasks) took `duration`; `running_only` is whether only tasks
    /// whose desired state is `running` were asked for.
    pub fn api_services(&self, duration: Duration, running_only: bool) {
        let labels = DesiredStateLabels {
            desired_state: if running_only { "running" } else { "" },
        };
        self.api_services
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
    }

    /// Listing Swarm nodes took `duration`.
    pub fn api_nodes(&self, duration: Duration) {
        self.api_nodes.observe(duration.as_secs_f64());
    }

    /// Executing an action by `strategy` (locally, or by forwarding it) took `duration`.
    pub fn action_strategy(&self, strategy: Strategy, duration: Duration) {
        let labels = StrategyLabels {
            strategy: strategy.as_str(),
        };
        self.strategies
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
    }

    /// An action on `target` (the target as configured or received) ended with `outcome` after
    /// `duration`.
    ///
    /// Counts `pygen_actions_total{kind,outcome}` and, on [`Outcome::Error`],
    /// `pygen_action_errors_total{action}`; observes `pygen_restart_action_seconds{target}` for
    /// restarts and service updates, `pygen_signal_action_seconds{target,signal}` for signals.
    pub fn action_finished(
        &self,
        kind: ActionKind<'_>,
        target: &str,
        outcome: Outcome,
        duration: Duration,
    ) {
        let seconds = duration.as_secs_f64();
        match kind {
            ActionKind::Restart | ActionKind::ServiceUpdate => {
                let labels = TargetLabels {
                    target: self.restart_targets.admit(target),
                };
                self.restarts.get_or_create(&labels).observe(seconds);
            }
            ActionKind::Signal(signal) => {
                let labels = SignalLabels {
                    target: self.signal_targets.admit(target),
                    signal: self.signal_names.admit(signal),
                };
                self.signals.get_or_create(&labels).observe(seconds);
            }
        }
        let labels = ActionOutcomeLabels {
            kind: kind.as_str(),
            outcome: outcome.as_str(),
        };
        self.actions.get_or_create(&labels).inc();
        if outcome == Outcome::Error {
            let labels = ActionLabels {
                action: kind.as_str(),
            };
            self.action_errors.get_or_create(&labels).inc();
        }
    }

    /// The Swarm manager endpoint received a request from `client`.
    pub fn manager_request_received(&self, client: IpAddr) {
        self.manager.request_received(client);
    }

    /// The manager sent a request to the worker `target`; `status` is the HTTP status of the
    /// answer, `None` if there was none (exposed as `code="-1"`).
    pub fn manager_sent(&self, target: &str, status: Option<u16>) {
        self.manager.sent(target, status);
    }

    /// The manager dropped an action for the worker `target` unsent: its queue was full,
    /// so the oldest pending action made room for a newer one.
    pub fn manager_action_dropped(&self, target: &str) {
        self.manager.dropped(target);
    }

    /// The Swarm worker endpoint received a request from `client`.
    pub fn worker_request_received(&self, client: IpAddr) {
        self.worker.request_received(client);
    }

    /// The worker sent a request to the manager `target`; `status` as in
    /// [`Metrics::manager_sent`].
    pub fn worker_sent(&self, target: &str, status: Option<u16>) {
        self.worker.sent(target, status);
    }

    /// An endpoint (`manager`, `worker`, `metrics`) closed a connection for `reason` (a word
    /// from the fixed list of `pygen_http_connections_dropped_total`).
    pub fn connection_dropped(&self, endpoint: &'static str, reason: &'static str) {
        let labels = RefusalLabels { endpoint, reason };
        self.connections_dropped.get_or_create(&labels).inc();
    }

    /// A Swarm endpoint (`manager`, `worker`) refused a request for `reason` (a word from the
    /// fixed list of `pygen_swarm_requests_refused_total`).
    pub fn request_refused(&self, endpoint: &'static str, reason: &'static str) {
        let labels = RefusalLabels { endpoint, reason };
        self.requests_refused.get_or_create(&labels).inc();
    }

    /// The connection to the Docker event stream was re-established after a loss.
    pub fn reconnected(&self) {
        self.reconnects.inc();
    }

    /// An attempt to connect to the daemon ended: connected (`true`) or failed (`false`).
    pub fn connect_attempted(&self, connected: bool) {
        self.connect_attempts.inc();
        if !connected {
            self.connect_failures.inc();
        }
    }

    /// The Docker event stream is now connected (`true`) or lost (`false`).
    ///
    /// Losing it stops the cached state from being current: `pygen_state_age_seconds` starts
    /// growing. Connecting alone does not make it current again; [`Metrics::state_refreshed`]
    /// after the resync does.
    pub fn set_connected(&self, connected: bool) {
        self.connected.set(i64::from(connected));
        lock(&self.state).set_connected(connected, Instant::now());
    }

    /// The cached state was just brought up to date with the daemon (a full resync, or an event
    /// applied). While connected, the state then counts as current until the connection is lost.
    pub fn state_refreshed(&self) {
        lock(&self.state).refreshed(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::app::{app_version, built_at};
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The sample lines of `text` (no comments), for exact comparisons.
    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    fn assert_line(text: &str, line: &str) {
        assert!(
            text.lines().any(|l| l == line),
            "missing line {line:?} in:\n{text}"
        );
    }

    #[test]
    fn original_series_after_observations() {
        let m = Metrics::new();
        m.render_finished("t", ms(250), true);
        m.render_finished("t", ms(500), false);
        m.target_updated(ms(750));
        m.update_started(ms(3));
        m.api_containers(ms(250), false);
        m.api_containers(ms(3000), true);
        m.api_services(ms(10), true);
        m.api_nodes(ms(50));
        m.action_strategy(Strategy::Local, ms(1));
        m.action_finished(ActionKind::Restart, "sample-restart", Outcome::Ok, ms(100));
        m.action_finished(
            ActionKind::Signal("HUP"),
            "sample-signal",
            Outcome::Error,
            ms(5),
        );
        m.manager_request_received("10.0.0.7".parse().unwrap());
        m.manager_sent("worker-1", Some(200));
        m.manager_sent("worker-1", None);
        m.worker_request_received("::1".parse().unwrap());
        m.worker_sent("manager", Some(503));
        let text = m.encode();

        assert_line(&text, "# TYPE pygen_app info");
        assert_line(
            &text,
            &format!("pygen_app_info{{version=\"{}\"}} 1", app_version()),
        );
        assert_line(&text, "# TYPE pygen_app_built_at gauge");
        assert_line(&text, &format!("pygen_app_built_at {:?}", built_at()));

        assert_line(&text, "# TYPE pygen_generation_seconds histogram");
        assert_line(&text, "# UNIT pygen_generation_seconds seconds");
        assert_line(&text, "pygen_generation_seconds_count 2");
        assert_line(&text, "pygen_generation_seconds_sum 0.75");
        assert_line(&text, "pygen_generation_seconds_bucket{le=\"0.1\"} 0");
        assert_line(&text, "pygen_generation_seconds_bucket{le=\"0.25\"} 1");
        assert_line(&text, "pygen_generation_seconds_bucket{le=\"0.5\"} 2");
        assert_line(&text, "pygen_generation_seconds_bucket{le=\"+Inf\"} 2");
        assert_line(&text, "pygen_target_update_seconds_count 1");
        assert_line(&text, "pygen_target_update_seconds_sum 0.75");
        assert_line(&text, "pygen_render_wait_seconds_bucket{le=\"0.005\"} 1");
        assert_line(&text, "pygen_render_wait_seconds_count 1");

        assert_line(&text, "# TYPE pygen_template_errors counter");
        assert_line(&text, "pygen_template_errors_total{template=\"t\"} 1");
        assert_line(&text, "pygen_renders_total{template=\"t\"} 2");
        assert_line(&text, "pygen_render_errors_total{template=\"t\"} 1");

        assert_line(
            &text,
            "pygen_api_containers_seconds_bucket{le=\"0.25\",list_all=\"0\"} 1",
        );
        assert_line(
            &text,
            "pygen_api_containers_seconds_bucket{le=\"2.5\",list_all=\"1\"} 0",
        );
        assert_line(
            &text,
            "pygen_api_containers_seconds_bucket{le=\"5.0\",list_all=\"1\"} 1",
        );
        assert_line(
            &text,
            "pygen_api_containers_seconds_sum{list_all=\"1\"} 3.0",
        );
        assert_line(
            &text,
            "pygen_api_services_seconds_count{desired_state=\"running\"} 1",
        );
        assert_line(&text, "pygen_api_nodes_seconds_count 1");
        assert_line(
            &text,
            "pygen_action_execution_strategy_seconds_count{strategy=\"local\"} 1",
        );
        assert_line(
            &text,
            "pygen_restart_action_seconds_count{target=\"sample-restart\"} 1",
        );
        assert_line(
            &text,
            "pygen_signal_action_seconds_count{target=\"sample-signal\",signal=\"HUP\"} 1",
        );

        assert_line(&text, "# TYPE pygen_actions counter");
        assert_line(
            &text,
            "pygen_actions_total{kind=\"restart\",outcome=\"ok\"} 1",
        );
        assert_line(
            &text,
            "pygen_actions_total{kind=\"signal\",outcome=\"error\"} 1",
        );
        assert_line(
            &text,
            "pygen_actions_total{kind=\"signal\",outcome=\"ok\"} 0",
        );
        assert_line(&text, "pygen_action_errors_total{action=\"signal\"} 1");
        assert_line(&text, "pygen_action_errors_total{action=\"restart\"} 0");

        assert_line(&text, "pygen_manager_request_total{client=\"10.0.0.7\"} 1");
        assert_line(
            &text,
            "pygen_manager_send_total{target=\"worker-1\",code=\"200\"} 1",
        );
        assert_line(
            &text,
            "pygen_manager_send_total{target=\"worker-1\",code=\"-1\"} 1",
        );
        assert_line(&text, "pygen_worker_request_total{client=\"::1\"} 1");
        assert_line(
            &text,
            "pygen_worker_send_total{target=\"manager\",code=\"503\"} 1",
        );

        assert!(text.ends_with("\n# EOF\n"));
        assert!(!text.contains("_total_total"));
    }

    #[test]
    fn new_series_after_observations() {
        let m = Metrics::new();
        m.event_received("health_status: healthy");
        m.event_received("health_status: unhealthy");
        m.event_received("start");
        m.event_received("pull");
        m.event_received("x\"} 1\nfake_metric 2");
        m.event_taken();
        m.write_done("t");
        m.write_failed("t");
        m.reconnected();
        m.connect_attempted(false);
        m.connect_attempted(false);
        m.connect_attempted(true);
        m.set_connected(true);
        m.state_refreshed();
        m.action_finished(ActionKind::ServiceUpdate, "web", Outcome::NoMatch, ms(1));
        let text = m.encode();

        assert_line(&text, "# TYPE pygen_events_received counter");
        assert_line(
            &text,
            "pygen_events_received_total{action=\"health_status\"} 2",
        );
        assert_line(&text, "pygen_events_received_total{action=\"start\"} 1");
        assert_line(&text, "pygen_events_received_total{action=\"other\"} 2");
        assert!(!text.contains("fake_metric"));
        assert_line(&text, "pygen_events_taken_total 1");
        assert_line(&text, "pygen_writes_total{template=\"t\"} 1");
        assert_line(&text, "pygen_write_errors_total{template=\"t\"} 1");
        assert_line(&text, "pygen_template_errors_total{template=\"t\"} 1");
        assert_line(&text, "pygen_docker_reconnects_total 1");
        assert_line(&text, "pygen_docker_connect_attempts_total 3");
        assert_line(&text, "pygen_docker_connect_failures_total 2");
        assert_line(&text, "pygen_docker_connected 1");
        assert_line(&text, "# TYPE pygen_state_age_seconds gauge");
        assert_line(&text, "pygen_state_age_seconds 0.0");
        assert_line(
            &text,
            "pygen_actions_total{kind=\"service_update\",outcome=\"no_match\"} 1",
        );
        // A service update is a restart action in docker-pygen's terms.
        assert_line(
            &text,
            "pygen_restart_action_seconds_count{target=\"web\"} 1",
        );

        m.set_connected(false);
        let text = m.encode();
        assert_line(&text, "pygen_docker_connected 0");
    }

    #[test]
    fn process_series_are_exposed() {
        let text = Metrics::new().encode();
        for prefix in [
            "process_cpu_seconds_total ",
            "process_start_time_seconds ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
        ] {
            assert!(
                samples(&text).iter().any(|l| l.starts_with(prefix)),
                "{prefix} missing in:\n{text}"
            );
        }
        assert_line(&text, "# TYPE process_cpu_seconds counter");
    }

    #[test]
    fn bounded_targets_fall_back_to_other() {
        let m = Metrics::new();
        for i in 0..MAX_TARGETS + 6 {
            m.action_finished(ActionKind::Restart, &format!("t{i}"), Outcome::Ok, ms(1));
        }
        // Admitted targets keep their own series after the bound is reached.
        m.action_finished(ActionKind::Restart, "t0", Outcome::Ok, ms(1));
        let text = m.encode();
        let series: Vec<_> = samples(&text)
            .into_iter()
            .filter(|l| l.starts_with("pygen_restart_action_seconds_count{"))
            .collect();
        assert_eq!(series.len(), MAX_TARGETS + 1, "{series:#?}");
        assert_line(
            &text,
            "pygen_restart_action_seconds_count{target=\"other\"} 6",
        );
        assert_line(&text, "pygen_restart_action_seconds_count{target=\"t0\"} 2");
        assert_line(
            &text,
            &format!(
                "pygen_restart_action_seconds_count{{target=\"t{}\"}} 1",
                MAX_TARGETS - 1
            ),
        );
        assert!(!text.contains(&format!("target=\"t{}\"", MAX_TARGETS)));
    }

    #[test]
    fn bounded_clients_and_codes() {
        let m = Metrics::new();
        for i in 0..=MAX_TARGETS {
            let client = IpAddr::from([10, 0, 0, i as u8]);
            m.worker_request_received(client);
        }
        for code in 100..(100 + MAX_CODES as u16 + 3) {
            m.worker_sent("manager", Some(code));
        }
        let text = m.encode();
        assert_line(&text, "pygen_worker_request_total{client=\"other\"} 1");
        assert_line(&text, "pygen_worker_request_total{client=\"10.0.0.0\"} 1");
        assert_line(
            &text,
            "pygen_worker_send_total{target=\"manager\",code=\"other\"} 3",
        );
        // The manager's families have bounds of their own.
        m.manager_request_received(IpAddr::from([192, 168, 1, 1]));
        assert_line(
            &m.encode(),
            "pygen_manager_request_total{client=\"192.168.1.1\"} 1",
        );
    }

    // ---- OpenMetrics text validation ----------------------------------------------------------

    /// A strict enough reading of the OpenMetrics text format to catch malformed output: line
    /// syntax, one contiguous block per family with `# TYPE`, sample names matching their family
    /// and type, unique series, `# UNIT` as the name's suffix, cumulative histogram buckets ending
    /// in `+Inf` equal to `_count`, and the final `# EOF`.
    fn validate(text: &str) -> Result<(), String> {
        let body = text
            .strip_suffix("# EOF\n")
            .ok_or("missing final \"# EOF\"")?;
        let mut seen_families = HashSet::new();
        let mut family: Option<(String, Option<String>)> = None;
        let mut series = HashSet::new();
        // Histogram state per (family, labels without le): buckets in order, and _count.
        let mut buckets: HashMap<(String, String), Vec<(f64, f64)>> = HashMap::new();
        let mut counts: HashMap<(String, String), f64> = HashMap::new();

        for (n, line) in body.lines().enumerate() {
            let err = |msg: &str| format!("line {}: {msg}: {line:?}", n + 1);
            if let Some(rest) = line.strip_prefix("# ") {
                let (keyword, rest) = rest.split_once(' ').ok_or_else(|| err("bad comment"))?;
                let (name, arg) = rest.split_once(' ').ok_or_else(|| err("no argument"))?;
                check_metric_name(name).map_err(|e| err(&e))?;
                let same = family.as_ref().is_some_and(|(f, _)| f == name);
                if !same {
                    if family.as_ref().is_some_and(|(_, t)| t.is_none()) {
                        return Err(err("previous family has no TYPE"));
                    }
                    if !seen_families.insert(name.to_owned()) {
                        return Err(err("family appears twice"));
                    }
                    family = Some((name.to_owned(), None));
                }
                let current = family.as_mut().ok_or_else(|| err("no family"))?;
                match keyword {
                    "HELP" => {}
                    "TYPE" => {
                        let known = [
                            "counter",
                            "gauge",
                            "histogram",
                            "info",
                            "summary",
                            "stateset",
                            "gaugehistogram",
                            "unknown",
                        ];
                        if !known.contains(&arg) || current.1.is_some() {
                            return Err(err("bad or repeated TYPE"));
                        }
                        current.1 = Some(arg.to_owned());
                    }
                    "UNIT" => {
                        if !name.ends_with(&format!("_{arg}")) {
                            return Err(err("unit is not the name's suffix"));
                        }
                    }
                    _ => return Err(err("unknown comment keyword")),
                }
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                return Err(err("stray line"));
            }

            let (name, labels, value) = parse_sample(line).map_err(|e| err(&e))?;
            let (fam, kind) = family
                .as_ref()
                .ok_or_else(|| err("sample before any family"))?;
            let kind = kind.as_deref().ok_or_else(|| err("family has no TYPE"))?;
            let suffixes: &[&str] = match kind {
                "counter" => &["_total", "_created"],
                "histogram" => &["_bucket", "_sum", "_count", "_created"],
                "info" => &["_info"],
                "summary" => &["", "_sum", "_count", "_created"],
                _ => &[""],
            };
            let suffix = suffixes
                .iter()
                .find(|s| name.strip_prefix(fam.as_str()) == Some(**s))
                .ok_or_else(|| err("sample name does not belong to its family"))?;
            let mut sorted = labels.clone();
            sorted.sort();
            if !series.insert((name.clone(), sorted.clone())) {
                return Err(err("duplicate series"));
            }
            if kind == "counter" && (value.is_nan() || value < 0.0) {
                return Err(err("counter is negative or NaN"));
            }
            if kind == "histogram" {
                let without_le: Vec<_> = sorted.iter().filter(|(k, _)| k != "le").collect();
                let key = (fam.clone(), format!("{without_le:?}"));
                match *suffix {
                    "_bucket" => {
                        let le = labels
                            .iter()
                            .find(|(k, _)| k == "le")
                            .ok_or_else(|| err("bucket without le"))?;
                        let le = parse_value(&le.1).map_err(|e| err(&e))?;
                        buckets.entry(key).or_default().push((le, value));
                    }
                    "_count" => {
                        counts.insert(key, value);
                    }
                    _ => {}
                }
            }
        }
        if let Some((name, None)) = &family {
            return Err(format!("family {name} has no TYPE"));
        }
        for (key, list) in &buckets {
            let ordered = list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
            let last = list.last().ok_or("empty bucket list")?;
            if !ordered || last.0 != f64::INFINITY || Some(&last.1) != counts.get(key) {
                return Err(format!(
                    "histogram {key:?}: buckets {list:?}, count {:?}",
                    counts.get(key)
                ));
            }
        }
        Ok(())
    }

    fn check_metric_name(name: &str) -> Result<(), String> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
        if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            Ok(())
        } else {
            Err(format!("bad metric name {name:?}"))
        }
    }

    fn parse_value(v: &str) -> Result<f64, String> {
        match v {
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            _ if v.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') => {
                v.parse().map_err(|_| format!("bad value {v:?}"))
            }
            _ => Err(format!("bad value {v:?}")),
        }
    }

    type Labels = Vec<(String, String)>;

    /// Parses `name{label="value",...} value [timestamp]`.
    fn parse_sample(line: &str) -> Result<(String, Labels, f64), String> {
        let name_end = line.find(['{', ' ']).ok_or("no value after the name")?;
        let name = &line[..name_end];
        check_metric_name(name)?;
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(mut inner) = rest.strip_prefix('{') {
            loop {
                if let Some(after) = inner.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let eq = inner.find('=').ok_or("label without =")?;
                let key = &inner[..eq];
                let key_ok = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !key_ok {
                    return Err(format!("bad label name {key:?}"));
                }
                let mut chars = inner[eq + 1..]
                    .strip_prefix('"')
                    .ok_or("unquoted label value")?
                    .char_indices();
                let mut value = String::new();
                let end = loop {
                    match chars.next().ok_or("unterminated label value")? {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            c => return Err(format!("bad escape \\{c}")),
                        },
                        (_, '\n') => return Err("raw newline in label value".into()),
                        (_, c) => value.push(c),
                    }
                };
                if labels.iter().any(|(k, _): &(String, String)| k == key) {
                    return Err(format!("label {key} twice"));
                }
                labels.push((key.to_owned(), value));
                let after = &inner[eq + 1 + 1 + end + 1..];
                inner = match after.strip_prefix(',') {
                    Some(next) if !next.starts_with('}') => next,
                    Some(_) => return Err("trailing comma".into()),
                    None if after.starts_with('}') => after,
                    None => return Err("expected , or }".into()),
                };
            }
        }
        let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
        let mut parts = rest.split(' ');
        let value = parse_value(parts.next().ok_or("no value")?)?;
        if let Some(ts) = parts.next() {
            parse_value(ts)?;
        }
        if parts.next().is_some() {
            return Err("extra fields".into());
        }
        Ok((name.to_owned(), labels, value))
    }

    #[test]
    fn exposition_is_valid_openmetrics() {
        let m = Metrics::new();
        m.render_finished("t", ms(12), true);
        m.render_finished("t", ms(20_000), false);
        m.api_containers(ms(1), true);
        m.api_containers(ms(2), false);
        m.api_services(ms(3), false);
        m.action_strategy(Strategy::Worker, ms(4));
        m.action_strategy(Strategy::Manager, ms(4));
        for target in [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "new\nline",
            "ünïcode ✓",
            "",
        ] {
            m.action_finished(ActionKind::Signal("SIGHUP"), target, Outcome::Ok, ms(1));
            m.action_finished(ActionKind::Restart, target, Outcome::Error, ms(1));
            m.manager_sent(target, Some(200));
        }
        m.worker_request_received("fe80::1".parse().unwrap());
        m.event_received("die");
        m.event_received("garbage \"}\n");
        m.set_connected(true);
        let text = m.encode();
        if let Err(e) = validate(&text) {
            panic!("{e}\n{text}");
        }
        assert_line(
            &text,
            "pygen_signal_action_seconds_count{target=\"new\\nline\",signal=\"SIGHUP\"} 1",
        );
    }

    #[test]
    fn validator_rejects_malformed_text() {
        let ok = "# HELP a x\n# TYPE a counter\na_total 1\n# EOF\n";
        assert_eq!(validate(ok), Ok(()));
        let bad = [
            ("# TYPE a counter\na_total 1\n", "no EOF"),
            ("a_total 1\n# EOF\n", "no TYPE"),
            ("# HELP a x\na_total 1\n# EOF\n", "HELP without TYPE"),
            (
                "# HELP a_total x\n# TYPE a counter\na_total 1\n# EOF\n",
                "HELP of another family",
            ),
            (
                "# TYPE a counter\na_total 1\n# HELP b x\n# EOF\n",
                "last family without TYPE",
            ),
            ("# TYPE a counter\na 1\n# EOF\n", "counter without _total"),
            ("# TYPE a gauge\na_total 1\n# EOF\n", "gauge with a suffix"),
            (
                "# TYPE a counter\na_total{x=\"1} 1\n# EOF\n",
                "unterminated label",
            ),
            (
                "# TYPE a counter\na_total{x=1} 1\n# EOF\n",
                "unquoted label",
            ),
            (
                "# TYPE a counter\na_total{x=\"\\q\"} 1\n# EOF\n",
                "bad escape",
            ),
            (
                "# TYPE a counter\na_total{x=\"1\",} 1\n# EOF\n",
                "trailing comma",
            ),
            ("# TYPE a counter\na_total one\n# EOF\n", "bad value"),
            (
                "# TYPE a counter\na_total 1\na_total 2\n# EOF\n",
                "duplicate series",
            ),
            (
                "# TYPE a counter\n# TYPE b gauge\nb 1\n# TYPE a counter\n# EOF\n",
                "split family",
            ),
            (
                "# TYPE a_seconds gauge\n# UNIT a_seconds bytes\na_seconds 1\n# EOF\n",
                "bad unit",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
                "decreasing buckets",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n# EOF\n",
                "no +Inf bucket",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n# EOF\n",
                "+Inf differs from count",
            ),
        ];
        for (text, why) in bad {
            assert!(validate(text).is_err(), "accepted ({why}): {text:?}");
        }
    }
}
