//! Render pacing: when a render runs after an event.
//!
//! An event renders at once, so a container start reaches the target in milliseconds, and so
//! do events that come one at a time, even several per second. Only a burst (at least
//! [`BURST_EVENTS`] events within [`BURST_WINDOW`]: a stack deployment, dozens of
//! `docker run` at once) is paced: each render of the burst waits a hold-off that grows
//! fourfold per render, from [`HOLDOFF_START`] up to [`HOLDOFF_CAP`], and every event that
//! arrives meanwhile is served by that one render. On this kind of machine the daemon needs
//! 15 to 30 seconds to start 200 containers; such a burst then costs about ten renders instead
//! of one per event, and the last event of a burst reaches the target at most [`HOLDOFF_CAP`]
//! after it arrived. Notifications (restart, signal) are batched separately by
//! [`crate::timer`].

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// This many events within [`BURST_WINDOW`] make a burst.
pub const BURST_EVENTS: usize = 3;
/// The window in which [`BURST_EVENTS`] events make a burst.
pub const BURST_WINDOW: Duration = Duration::from_millis(600);
/// The hold-off after the first paced render of a burst.
pub const HOLDOFF_START: Duration = Duration::from_millis(250);
/// The longest hold-off between two renders of a burst.
pub const HOLDOFF_CAP: Duration = Duration::from_secs(5);
/// How fast the hold-off grows from one render of a burst to the next.
const HOLDOFF_GROWTH: u32 = 4;

/// Decides when the next render runs.
#[derive(Debug, Default)]
pub struct RenderPacer {
    /// Whether something asked for a render that has not run yet.
    pending: bool,
    /// When the recent requests came (at most [`BURST_EVENTS`], within [`BURST_WINDOW`]).
    recent: VecDeque<Instant>,
    /// Whether the requests come in a burst, so renders are paced.
    in_burst: bool,
    /// When the previous render started; `None` before the first one.
    last_render: Option<Instant>,
    /// The current wait between two renders; zero outside bursts.
    holdoff: Duration,
}

impl RenderPacer {
    /// A pacer with nothing pending.
    pub fn new() -> RenderPacer {
        RenderPacer::default()
    }

    /// Asks for a render because something changed.
    pub fn request(&mut self) {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|at| now.duration_since(*at) > BURST_WINDOW)
        {
            self.recent.pop_front();
        }
        if self.recent.len() == BURST_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        self.in_burst = self.recent.len() >= BURST_EVENTS;
        if !self.in_burst {
            self.holdoff = Duration::ZERO;
        } else if self.holdoff.is_zero() {
            // The event that reveals a burst already waits: the events right behind it join it.
            self.holdoff = HOLDOFF_START;
        }
        self.pending = true;
    }

    /// Asks for a render that must not wait for a burst to calm down (reload, reconnect).
    pub fn request_now(&mut self) {
        self.holdoff = Duration::ZERO;
        self.pending = true;
    }

    /// When the pending render may start, or `None` when nothing is pending.
    pub fn due(&self) -> Option<Instant> {
        if !self.pending {
            return None;
        }
        let now = Instant::now();
        match self.last_render {
            Some(last) if !self.holdoff.is_zero() => Some((last + self.holdoff).max(now)),
            _ => Some(now),
        }
    }

    /// Records that the pending render starts now, and sets the hold-off for the next one.
    pub fn started(&mut self) {
        self.holdoff = if self.in_burst {
            (self.holdoff * HOLDOFF_GROWTH).clamp(HOLDOFF_START, HOLDOFF_CAP)
        } else {
            Duration::ZERO
        };
        self.last_render = Some(Instant::now());
        self.pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates events at the given offsets (ms) and returns the render start offsets (ms).
    async fn simulate(events_ms: &[u64]) -> Vec<u64> {
        let origin = Instant::now();
        let mut pacer = RenderPacer::new();
        let mut renders = Vec::new();
        let mut events = events_ms.iter().peekable();
        loop {
            let next_event = events.peek().map(|ms| origin + Duration::from_millis(**ms));
            match (next_event, pacer.due()) {
                (None, None) => break,
                (Some(ev), Some(due)) if ev <= due => {
                    tokio::time::sleep_until(ev).await;
                    events.next();
                    pacer.request();
                }
                (Some(ev), None) => {
                    tokio::time::sleep_until(ev).await;
                    events.next();
                    pacer.request();
                }
                (_, Some(due)) => {
                    tokio::time::sleep_until(due).await;
                    pacer.started();
                    renders.push(origin.elapsed().as_millis() as u64);
                }
            }
        }
        renders
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_event_renders_at_once() {
        assert_eq!(simulate(&[100]).await, vec![100]);
    }

    #[tokio::test(start_paused = true)]
    async fn events_one_at_a_time_render_at_once() {
        // docker run one after the other: an event every half second.
        let events: Vec<u64> = (0..20).map(|i| i * 500).collect();
        assert_eq!(simulate(&events).await, events);
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_costs_few_renders_and_ends_with_one() {
        // 200 events, one every 140 ms: a 28 second burst, as 200 parallel starts give here.
        let events: Vec<u64> = (0..200).map(|i| i * 140).collect();
        let renders = simulate(&events).await;
        assert!(
            renders.len() <= 10,
            "{} renders: {renders:?}",
            renders.len()
        );
        assert_eq!(renders[0], 0, "the first event renders at once");
        let last_event = *events.last().unwrap_or(&0);
        let last_render = *renders.last().unwrap_or(&0);
        assert!(last_render >= last_event, "the last event is rendered");
        assert!(last_render - last_event <= HOLDOFF_CAP.as_millis() as u64);
    }

    #[tokio::test(start_paused = true)]
    async fn holdoff_grows_then_resets() {
        let renders = simulate(&[0, 10, 20, 30, 40, 2000]).await;
        assert_eq!(
            renders,
            vec![0, 10, 260, 2000],
            "quiet period resets the hold-off"
        );
    }
}
