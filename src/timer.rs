//! Batching of notifications: after the target changes, the actions (restart, signal) wait for
//! a quiet period so that a burst of changes costs one notification, but never longer than a
//! cap counted from the first change of the burst.
//!
//! This is docker-pygen's `NotificationTimer` (features.md §7) with its arithmetic kept and its
//! threads gone: the timer is a plain value owned by the generator's async loop, which calls
//! [`NotificationTimer::schedule`] after each change and awaits
//! [`NotificationTimer::fired`] in its `tokio::select!`. There is no lock, no second thread and
//! so no race between a firing and a new schedule (docker-pygen's B20): a firing happens only
//! when the loop polls it, and the loop runs the actions before it schedules again.
//!
//! The same type serves `--repeat` (features.md §8) with MIN = MAX = the repeat delay.

use std::future;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::config::Intervals;

/// A notification timer: debounce with quiet period `min`, capped at `max` after the first
/// schedule of a batch.
///
/// Rules, as in docker-pygen:
/// - `schedule()` with no batch pending (or after the cap of the pending batch has passed)
///   starts a new batch: fire at `now + min`, cap at `now + max`;
/// - `schedule()` while a batch is pending moves the firing to `now + min`, but never past the
///   cap: fire at `now + min(min, cap - now)`;
/// - with `min` zero every schedule fires at once.
///
/// After [`NotificationTimer::fired`] resolves, no batch is pending and the next schedule
/// starts a new one.
#[derive(Debug, Clone)]
pub struct NotificationTimer {
    /// The quiet period and the cap.
    intervals: Intervals,
    /// The batch waiting to fire, if any.
    pending: Option<Batch>,
}

/// A scheduled batch of changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Batch {
    /// When the notification fires (never after `due`).
    fire_at: Instant,
    /// The cap: `max` after the first schedule of the batch (docker-pygen's `due_time`).
    due: Instant,
}

/// A stand-in for "never" when an interval does not fit in an `Instant` (about 30 years, as
/// tokio uses for the same purpose).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl NotificationTimer {
    /// A timer with nothing scheduled.
    pub fn new(intervals: Intervals) -> NotificationTimer {
        NotificationTimer {
            intervals,
            pending: None,
        }
    }

    /// The quiet period and cap this timer uses.
    pub fn intervals(&self) -> Intervals {
        self.intervals
    }

    /// Records a change now: starts a batch or moves the pending one (see the type's rules).
    pub fn schedule(&mut self) {
        self.schedule_at(Instant::now());
    }

    fn schedule_at(&mut self, now: Instant) {
        let Intervals { min, max } = self.intervals;
        if min.is_zero() {
            self.pending = Some(Batch {
                fire_at: now,
                due: now,
            });
            return;
        }
        match &mut self.pending {
            // docker-pygen: `time_to_start = due_time - now`, a pending timer and
            // `time_to_start >= 0` keep the batch and its cap.
            Some(batch) if now <= batch.due => {
                let left = batch.due - now;
                batch.fire_at = later(now, min.min(left));
            }
            // Nothing pending, or the cap has already passed: a new batch.
            _ => {
                self.pending = Some(Batch {
                    fire_at: later(now, min),
                    due: later(now, max),
                });
            }
        }
    }

    /// When the pending batch fires; `None` when nothing is scheduled.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.map(|batch| batch.fire_at)
    }

    /// Whether a batch is waiting to fire.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Resolves when the pending batch is due, and clears it; never resolves while nothing is
    /// scheduled.
    ///
    /// Cancel-safe: dropping the future before it resolves changes nothing, so it can sit in a
    /// `tokio::select!` that is re-entered after every other branch (which may `schedule()`).
    pub async fn fired(&mut self) {
        match self.pending {
            None => future::pending::<()>().await,
            Some(batch) => {
                sleep_until(batch.fire_at).await;
                // Only reached once the sleep completed; nothing awaits after this point.
                self.pending = None;
            }
        }
    }

    /// Clears and reports the pending batch when it is due at `now`: the polling form of
    /// [`NotificationTimer::fired`], for a caller that waits on many timers' earliest
    /// [`NotificationTimer::deadline`].
    pub fn take_due(&mut self, now: Instant) -> bool {
        match self.pending {
            Some(batch) if batch.fire_at <= now => {
                self.pending = None;
                true
            }
            _ => false,
        }
    }

    /// Drops the pending batch without firing (e.g. at shutdown).
    pub fn cancel(&mut self) {
        self.pending = None;
    }
}

/// `now + delay`, or a far-future instant when that does not fit.
fn later(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .or_else(|| now.checked_add(FAR_FUTURE))
        // Instant cannot hold `now + 30 years` only on a clock near its end of range; firing
        // "now" is then the only representable choice.
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::{advance, timeout};

    fn intervals(min_ms: u64, max_ms: u64) -> Intervals {
        Intervals {
            min: Duration::from_millis(min_ms),
            max: Duration::from_millis(max_ms),
        }
    }

    /// Drives a timer the way the generator's loop does: schedule at each of `calls` (ms from
    /// the start) and record when it fires (ms from the start), until nothing is left.
    async fn fire_times(intervals: Intervals, calls: &[u64]) -> Vec<Duration> {
        let start = Instant::now();
        let mut timer = NotificationTimer::new(intervals);
        let mut calls = calls.iter().map(|ms| start + Duration::from_millis(*ms));
        let mut next_call = calls.next();
        let mut fired = Vec::new();
        while next_call.is_some() || timer.is_pending() {
            tokio::select! {
                biased;
                () = timer.fired() => fired.push(start.elapsed()),
                () = sleep_until(next_call.unwrap_or(start)), if next_call.is_some() => {
                    timer.schedule();
                    next_call = calls.next();
                }
            }
        }
        fired
    }

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn timeline_steady_stream_is_capped() {
        // features.md §7: min=0.5, max=2, a schedule every 0.3 s from 0 to 3.3 s.
        let calls: Vec<u64> = (0..=11).map(|i| i * 300).collect();
        assert_eq!(
            fire_times(intervals(500, 2000), &calls).await,
            ms(&[2000, 3800])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn timeline_quiet_period_ends_batches() {
        // features.md §7: min=0.5, max=2, calls at 0, 0.2 and 1.2 s.
        assert_eq!(
            fire_times(intervals(500, 2000), &[0, 200, 1200]).await,
            ms(&[700, 1700])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn timeline_equal_min_max_is_a_fixed_window() {
        // features.md §7: min=max=1, calls every 0.3 s, five times.
        assert_eq!(
            fire_times(intervals(1000, 1000), &[0, 300, 600, 900, 1200]).await,
            ms(&[1000, 2200])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn repeat_fires_once_after_the_first_event() {
        // features.md §8: --repeat 2 is a timer with min=max=2; events inside the window do not
        // postpone the re-render.
        assert_eq!(
            fire_times(intervals(2000, 2000), &[0, 500, 1000, 1900]).await,
            ms(&[2000])
        );
        // An event after the re-render starts a new window.
        assert_eq!(
            fire_times(intervals(2000, 2000), &[0, 1900, 2500]).await,
            ms(&[2000, 4500])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn zero_min_fires_at_once() {
        for timer_intervals in [Intervals::IMMEDIATE, intervals(0, 2000)] {
            let start = Instant::now();
            let mut timer = NotificationTimer::new(timer_intervals);
            timer.schedule();
            assert_eq!(timer.deadline(), Some(start));
            timer.fired().await;
            assert_eq!(Instant::now(), start, "no time may pass");
            assert!(!timer.is_pending());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_scheduled_never_fires() {
        let mut timer = NotificationTimer::new(intervals(500, 2000));
        assert_eq!(timer.deadline(), None);
        assert!(
            timeout(Duration::from_secs(3600), timer.fired())
                .await
                .is_err()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn fired_is_cancel_safe() {
        let start = Instant::now();
        let mut timer = NotificationTimer::new(intervals(500, 2000));
        timer.schedule();
        // Dropped before the deadline: the batch stays.
        assert!(
            timeout(Duration::from_millis(300), timer.fired())
                .await
                .is_err()
        );
        assert_eq!(timer.deadline(), Some(start + Duration::from_millis(500)));
        timer.schedule(); // at 0.3 s: moves the firing to 0.8 s
        timer.fired().await;
        assert_eq!(start.elapsed(), Duration::from_millis(800));
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_drops_the_batch() {
        let mut timer = NotificationTimer::new(intervals(500, 2000));
        timer.schedule();
        assert!(timer.is_pending());
        timer.cancel();
        assert_eq!(timer.deadline(), None);
        assert!(
            timeout(Duration::from_secs(10), timer.fired())
                .await
                .is_err()
        );
        // A schedule after a cancel starts a fresh batch.
        let now = Instant::now();
        timer.schedule();
        assert_eq!(timer.deadline(), Some(now + Duration::from_millis(500)));
    }

    #[tokio::test(start_paused = true)]
    async fn schedule_past_the_cap_of_an_unfired_batch_starts_a_new_batch() {
        // The loop was busy past the cap without polling `fired()`: as in docker-pygen's
        // `time_to_start < 0` branch, the change starts a new batch, which also covers the
        // overdue notification (one firing, not two).
        let start = Instant::now();
        let mut timer = NotificationTimer::new(intervals(500, 2000));
        timer.schedule();
        advance(Duration::from_millis(2100)).await;
        timer.schedule();
        assert_eq!(timer.deadline(), Some(start + Duration::from_millis(2600)));
        timer.fired().await;
        assert_eq!(start.elapsed(), Duration::from_millis(2600));
        assert!(!timer.is_pending());
    }

    #[tokio::test(start_paused = true)]
    async fn schedule_after_an_unpolled_firing_time_keeps_the_cap() {
        // Pending batch whose firing time passed unpolled but whose cap has not: docker-pygen's
        // `else` branch keeps the cap, so the firing is pulled to min(min, cap - now) from now.
        let start = Instant::now();
        let mut timer = NotificationTimer::new(intervals(500, 2000));
        timer.schedule();
        advance(Duration::from_millis(1800)).await;
        timer.schedule();
        assert_eq!(timer.deadline(), Some(start + Duration::from_millis(2000)));
        timer.fired().await;
        assert_eq!(start.elapsed(), Duration::from_millis(2000));
    }

    #[test]
    fn far_intervals_do_not_overflow() {
        let now = Instant::now();
        let huge = Intervals {
            min: Duration::MAX,
            max: Duration::MAX,
        };
        let mut timer = NotificationTimer::new(huge);
        timer.schedule_at(now);
        let deadline = timer.deadline().expect("scheduled");
        assert!(deadline > now + Duration::from_secs(86_400 * 365));
    }
}
