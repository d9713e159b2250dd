//! Render requests: whether a render is owed, and since when.
//!
//! A render never waits on a timer. A change asks for a render; the loop starts it as soon as no
//! other render runs; every change that arrives while a render runs is served by one render
//! right after it. The number of renders in a burst is therefore bounded by what a render
//! costs, not by a hold-off, and the last change of a burst reaches the target one render after
//! it arrived. Batching belongs to the notifications ([`crate::timer`], `--interval`), which
//! is where programs like nginx pay for a change.
//!
//! The time from the first unserved request to the start of the render that serves it is
//! reported (`pygen_render_wait_seconds`), so "no render waited on a timer" is observable.

use std::time::Duration;

use tokio::time::Instant;

/// Whether a render is owed, and since when.
#[derive(Debug, Default)]
pub struct RenderRequests {
    /// When the oldest request not yet served by a render came; `None` when nothing is owed.
    since: Option<Instant>,
    /// Requests so far, so a caller can tell whether anyone else asked since its own request.
    count: u64,
}

impl RenderRequests {
    /// Nothing owed.
    pub fn new() -> RenderRequests {
        RenderRequests::default()
    }

    /// Asks for a render because something changed.
    pub fn request(&mut self) {
        self.since.get_or_insert_with(Instant::now);
        self.count += 1;
    }

    /// How many requests were made so far.
    pub fn requests(&self) -> u64 {
        self.count
    }

    /// Whether a render is owed.
    pub fn is_pending(&self) -> bool {
        self.since.is_some()
    }

    /// Records that the owed render starts now; returns how long its oldest request waited, or
    /// `None` when nothing was owed.
    pub fn start(&mut self) -> Option<Duration> {
        self.since.take().map(|since| since.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_merge_until_a_render_starts() {
        let mut requests = RenderRequests::new();
        assert!(!requests.is_pending());
        assert_eq!(requests.start(), None);
        requests.request();
        tokio::time::advance(Duration::from_millis(30)).await;
        requests.request();
        assert!(requests.is_pending());
        assert_eq!(requests.requests(), 2);
        assert_eq!(
            requests.start(),
            Some(Duration::from_millis(30)),
            "the wait counts from the oldest request"
        );
        assert!(!requests.is_pending());
        requests.request();
        assert_eq!(requests.start(), Some(Duration::ZERO));
    }
}
