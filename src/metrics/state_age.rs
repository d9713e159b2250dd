//! `pygen_state_age_seconds`: when the cached Docker state was last known to match the
//! daemon's, and the collector that encodes its age at each scrape.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// When the cached Docker state was last known to match the daemon's.
#[derive(Debug)]
pub(super) struct StateClock {
    /// When the metrics were created: the age before the state was ever current.
    created: Instant,
    /// Whether the event stream is connected.
    connected: bool,
    /// Whether the state is current now: connected, and refreshed since connecting.
    live: bool,
    /// The last moment the state was known current, if ever.
    last_current: Option<Instant>,
}

impl StateClock {
    pub(super) fn new(now: Instant) -> Self {
        StateClock {
            created: now,
            connected: false,
            live: false,
            last_current: None,
        }
    }

    pub(super) fn refreshed(&mut self, now: Instant) {
        self.last_current = Some(now);
        self.live = self.connected;
    }

    pub(super) fn set_connected(&mut self, connected: bool, now: Instant) {
        if !connected && self.live {
            self.last_current = Some(now);
        }
        if !connected {
            self.live = false;
        }
        self.connected = connected;
    }

    pub(super) fn age_at(&self, now: Instant) -> f64 {
        if self.live {
            return 0.0;
        }
        now.saturating_duration_since(self.last_current.unwrap_or(self.created))
            .as_secs_f64()
    }
}

/// Encodes `pygen_state_age_seconds` from the shared [`StateClock`] at each scrape.
#[derive(Debug)]
pub(super) struct StateAgeCollector(pub(super) Arc<Mutex<StateClock>>);

impl Collector for StateAgeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let age = lock(&self.0).age_at(Instant::now());
        let metric = ConstGauge::new(age);
        let unit = Unit::Seconds;
        metric.encode(encoder.encode_descriptor(
            "pygen_state_age",
            "Time since the cached Docker state was last known to match the daemon; \
             0 while the event stream is connected and the state resynced.",
            Some(&unit),
            metric.metric_type(),
        )?)
    }
}

/// Locks the state clock. It holds plain values that every method leaves consistent, so a
/// poisoned lock is still safe to use.
pub(super) fn lock(clock: &Mutex<StateClock>) -> std::sync::MutexGuard<'_, StateClock> {
    clock.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn state_age() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut clock = StateClock::new(t0);
        // Never current: the age counts from startup.
        assert_eq!(clock.age_at(at(5)), 5.0);
        // A refresh without a connection (one-shot) is current only at that moment.
        clock.refreshed(at(6));
        assert_eq!(clock.age_at(at(9)), 3.0);
        // Connected but not yet resynced: still counting.
        clock.set_connected(true, at(10));
        assert_eq!(clock.age_at(at(12)), 6.0);
        // Resynced while connected: current until the connection drops.
        clock.refreshed(at(13));
        assert_eq!(clock.age_at(at(100)), 0.0);
        clock.set_connected(false, at(200));
        assert_eq!(clock.age_at(at(230)), 30.0);
        // Reconnecting alone does not make it current.
        clock.set_connected(true, at(240));
        assert_eq!(clock.age_at(at(250)), 50.0);
        clock.refreshed(at(260));
        assert_eq!(clock.age_at(at(300)), 0.0);
    }
}
