//! The Swarm manager's and worker's traffic counters: requests received, requests sent and
//! actions dropped, each side with its own label bounds.

use std::net::IpAddr;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::series::{ClientLabels, SendLabels, TargetLabels};
use super::{BoundedLabels, MAX_CODES, MAX_TARGETS};

/// The counters of one side of the Swarm protocol (manager or worker), with their own bounds.
#[derive(Debug)]
pub(super) struct PeerTraffic {
    /// Requests received, by client address.
    pub(super) requests: Family<ClientLabels, Counter>,
    /// Requests sent, by peer and answer.
    pub(super) sends: Family<SendLabels, Counter>,
    /// Actions dropped unsent because the peer's queue was full (manager side only).
    pub(super) dropped: Family<TargetLabels, Counter>,
    /// Bound on `client`.
    pub(super) clients: BoundedLabels,
    /// Bound on `target`.
    pub(super) targets: BoundedLabels,
    /// Bound on `code`.
    pub(super) codes: BoundedLabels,
}

impl PeerTraffic {
    pub(super) fn new() -> Self {
        PeerTraffic {
            requests: Family::default(),
            sends: Family::default(),
            dropped: Family::default(),
            clients: BoundedLabels::new(MAX_TARGETS),
            targets: BoundedLabels::new(MAX_TARGETS),
            codes: BoundedLabels::new(MAX_CODES),
        }
    }

    pub(super) fn request_received(&self, client: IpAddr) {
        let client = self.clients.admit(&client.to_string());
        self.requests.get_or_create(&ClientLabels { client }).inc();
    }

    pub(super) fn sent(&self, target: &str, status: Option<u16>) {
        let code = status.map_or_else(|| "-1".to_owned(), |s| s.to_string());
        let labels = SendLabels {
            target: self.targets.admit(target),
            code: self.codes.admit(&code),
        };
        self.sends.get_or_create(&labels).inc();
    }

    pub(super) fn dropped(&self, target: &str) {
        let labels = TargetLabels {
            target: self.targets.admit(target),
        };
        self.dropped.get_or_create(&labels).inc();
    }
}
