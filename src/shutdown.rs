//! The shutdown signal: one type owns it, every task holds a receiver.
//!
//! [`ShutdownController`] is created once (in `main`, which also catches the OS signals); each
//! long-running task (the watch loop, the Swarm endpoints, the metrics endpoint, the worker's
//! loops) gets a [`Shutdown`] from it and stops when that resolves. [`ShutdownController::finish`]
//! triggers the signal and then waits, for a bounded time, until every [`Shutdown`] has been
//! dropped, so the process exits only after its tasks have wound down. A task that ends on its
//! own (an endpoint that fails) simply drops its receiver.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

/// Creates [`Shutdown`] receivers, triggers them, and waits for their holders to finish.
#[derive(Debug)]
pub struct ShutdownController {
    /// Turns true once shutdown is triggered; shared with the [`ShutdownTrigger`]s.
    notify: Arc<watch::Sender<bool>>,
    /// Cloned into every receiver; `finish` drops its own and waits until no clone is left.
    alive: mpsc::Sender<()>,
    /// Ends (yields `None`) once every clone of `alive` is dropped.
    all_done: mpsc::Receiver<()>,
}

/// A handle that can trigger the shutdown from another task (the OS signal handler).
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    /// The controller's signal.
    notify: Arc<watch::Sender<bool>>,
}

/// One task's view of the shutdown signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    /// The signal; true once shutdown is triggered.
    triggered: watch::Receiver<bool>,
    /// Held only so the controller knows this receiver still exists.
    _alive: mpsc::Sender<()>,
}

impl Default for ShutdownController {
    fn default() -> Self {
        Self::new()
    }
}

impl ShutdownController {
    /// A controller whose signal is not triggered yet.
    pub fn new() -> ShutdownController {
        let (notify, _) = watch::channel(false);
        let (alive, all_done) = mpsc::channel(1);
        ShutdownController {
            notify: Arc::new(notify),
            alive,
            all_done,
        }
    }

    /// A receiver for one task.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            triggered: self.notify.subscribe(),
            _alive: self.alive.clone(),
        }
    }

    /// A handle that triggers the shutdown from elsewhere.
    pub fn trigger(&self) -> ShutdownTrigger {
        ShutdownTrigger {
            notify: Arc::clone(&self.notify),
        }
    }

    /// Triggers the shutdown and waits until every receiver is dropped, or `grace` has passed.
    /// Returns whether every task finished in time.
    pub async fn finish(self, grace: Duration) -> bool {
        self.notify.send_replace(true);
        let ShutdownController {
            alive,
            mut all_done,
            ..
        } = self;
        drop(alive);
        tokio::time::timeout(
            grace,
            async move { while all_done.recv().await.is_some() {} },
        )
        .await
        .is_ok()
    }
}

impl ShutdownTrigger {
    /// Triggers the shutdown; every [`Shutdown::recv`] resolves.
    pub fn fire(&self) {
        self.notify.send_replace(true);
    }
}

impl Shutdown {
    /// Resolves once the shutdown is triggered (at once if it already was).
    pub async fn recv(&mut self) {
        // An error means the controller is gone, which also means: stop.
        let _ = self.triggered.wait_for(|triggered| *triggered).await;
    }

    /// Whether the shutdown has been triggered.
    pub fn is_triggered(&self) -> bool {
        *self.triggered.borrow()
    }

    /// The receiver as a future that owns it, for servers that take a shutdown future.
    pub async fn wait(mut self) {
        self.recv().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn finish_waits_for_every_receiver() {
        let controller = ShutdownController::new();
        let mut first = controller.subscribe();
        let second = controller.subscribe();
        assert!(!first.is_triggered());
        let task = tokio::spawn(async move {
            first.recv().await;
            // Winding down takes a while.
            tokio::time::sleep(Duration::from_millis(300)).await;
        });
        let waiter = tokio::spawn(second.wait());
        let started = tokio::time::Instant::now();
        assert!(controller.finish(Duration::from_secs(5)).await);
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(task.await.is_ok());
        assert!(waiter.await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn finish_gives_up_after_the_grace_period() {
        let controller = ShutdownController::new();
        let stuck = controller.subscribe();
        assert!(!controller.finish(Duration::from_secs(2)).await);
        drop(stuck);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trigger_wakes_receivers() {
        let controller = ShutdownController::new();
        let mut receiver = controller.subscribe();
        controller.trigger().fire();
        receiver.recv().await;
        assert!(receiver.is_triggered());
        let late = controller.subscribe();
        assert!(
            late.is_triggered(),
            "a receiver made after the trigger sees it"
        );
    }
}
