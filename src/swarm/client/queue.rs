//! The manager's action queues: one ordered queue per worker address, drained by its own
//! task, with the handoff the manager gets back and the tally that sums up an action over all
//! its addresses.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use super::{Delivery, QUEUE_CAPACITY, QUEUE_IDLE, Sender, Side};
use crate::metrics::Metrics;

/// What handing an action to the worker queues achieved; the deliveries go on after it.
#[derive(Debug)]
pub struct Handoff {
    /// Worker addresses the action was queued for.
    pub queued: usize,
    /// Worker names that resolved to no address (given up on at once).
    pub failed: usize,
    /// The addresses the action was queued for.
    pub addresses: Vec<SocketAddr>,
    /// Receives the totals once every queued copy was delivered, given up on or dropped.
    pub(super) done: oneshot::Receiver<Delivery>,
}

impl Handoff {
    /// A handoff to no worker at all.
    pub fn none() -> Handoff {
        let (tx, done) = oneshot::channel();
        // The receiver is alive here, so the send cannot fail; a failure would only mean
        // nobody waits for the totals.
        let _ = tx.send(Delivery::default());
        Handoff {
            queued: 0,
            failed: 0,
            addresses: Vec::new(),
            done,
        }
    }

    /// Waits until every queued copy of the action was delivered, given up on or dropped, and
    /// returns the totals (a dropped copy counts as failed).
    pub async fn finished(self) -> Delivery {
        // The sender side lives in the queued jobs and sends on its drop, so an error cannot
        // happen short of a panic in a queue task; the handoff's own counts are then the best
        // answer left.
        self.done.await.unwrap_or(Delivery {
            delivered: 0,
            failed: self.failed,
        })
    }
}

/// The outcome of one action over all its addresses; logs the summary once the last queued
/// copy is done (when the last job holding it is dropped).
pub(super) struct Tally {
    /// The action's name, for the log.
    pub(super) action: &'static str,
    /// The action's target, for the log.
    pub(super) target: String,
    /// Delivered and failed addresses so far, and how many of the failed were dropped unsent.
    pub(super) counts: Mutex<(Delivery, usize)>,
    /// Where the totals go at the end.
    pub(super) done: Option<oneshot::Sender<Delivery>>,
}

impl Tally {
    /// Counts one address that took the action (`true`) or was given up on (`false`).
    pub(super) fn record(&self, delivered: bool) {
        let mut counts = lock(&self.counts);
        if delivered {
            counts.0.delivered += 1;
        } else {
            counts.0.failed += 1;
        }
    }

    /// Counts one address whose copy was dropped from a full queue.
    pub(super) fn dropped(&self) {
        let mut counts = lock(&self.counts);
        counts.0.failed += 1;
        counts.1 += 1;
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        let (total, dropped) = *self
            .counts
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        tracing::info!(
            action = self.action,
            target = %self.target,
            delivered = total.delivered,
            failed = total.failed,
            dropped,
            "action sent to the workers"
        );
        if let Some(done) = self.done.take() {
            // Nobody waiting for the totals is normal (the manager does not wait).
            let _ = done.send(total);
        }
    }
}

/// One copy of an action waiting for its worker address.
pub(super) struct Job {
    /// The worker name the address came from, for logs and metrics.
    pub(super) label: String,
    /// The signed body.
    pub(super) body: Arc<[u8]>,
    /// When to give up, counted from the handoff.
    pub(super) deadline: Instant,
    /// The action's outcome, shared by its copies.
    pub(super) tally: Arc<Tally>,
}

/// The actions waiting for one worker address, in order.
#[derive(Default)]
pub(super) struct Queue {
    /// The jobs, oldest first.
    pub(super) pending: Mutex<VecDeque<Job>>,
    /// Wakes the address's task when a job arrives.
    pub(super) wake: Notify,
}

/// The queues by worker address.
pub(super) type Queues = Arc<Mutex<HashMap<SocketAddr, Arc<Queue>>>>;

/// Locks `mutex`; a panic elsewhere while holding it leaves data that is still consistent
/// (every change under these locks is a single push, pop or count).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sender {
    /// Adds `job` to the queue of `addr`, starting the queue's task if it has none. A full
    /// queue drops its oldest job first.
    pub(super) fn enqueue(&self, addr: SocketAddr, job: Job, metrics: &Arc<Metrics>) {
        // Lock order everywhere: the map, then a queue.
        let mut queues = lock(&self.queues);
        let queue = match queues.get(&addr) {
            Some(queue) => Arc::clone(queue),
            None => {
                let queue = Arc::new(Queue::default());
                queues.insert(addr, Arc::clone(&queue));
                tokio::spawn(
                    self.clone()
                        .drain(addr, Arc::clone(&queue), Arc::clone(metrics)),
                );
                queue
            }
        };
        let mut pending = lock(&queue.pending);
        if pending.len() >= QUEUE_CAPACITY
            && let Some(oldest) = pending.pop_front()
        {
            tracing::warn!(
                peer = %oldest.label,
                %addr,
                action = oldest.tally.action,
                target = %oldest.tally.target,
                capacity = QUEUE_CAPACITY,
                "the worker's queue is full, dropping its oldest action"
            );
            metrics.manager_action_dropped(&oldest.label);
            oldest.tally.dropped();
        }
        pending.push_back(job);
        drop(pending);
        queue.wake.notify_one();
    }

    /// The task of one worker address: delivers its jobs one after the other, and ends after
    /// [`QUEUE_IDLE`] without any.
    async fn drain(self, addr: SocketAddr, queue: Arc<Queue>, metrics: Arc<Metrics>) {
        let url = format!("http://{addr}/");
        loop {
            let next = lock(&queue.pending).pop_front();
            match next {
                Some(job) => {
                    let delivered = self
                        .deliver(
                            Side::Manager,
                            &job.label,
                            url.clone(),
                            &job.body,
                            job.deadline,
                            &metrics,
                        )
                        .await;
                    job.tally.record(delivered);
                }
                None => {
                    if tokio::time::timeout(QUEUE_IDLE, queue.wake.notified())
                        .await
                        .is_err()
                    {
                        let mut queues = lock(&self.queues);
                        if lock(&queue.pending).is_empty() {
                            queues.remove(&addr);
                            return;
                        }
                    }
                }
            }
        }
    }
}
