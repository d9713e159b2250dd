//! What goes out after a change: each template's notification timer, its runs of restarts
//! and signals, and the render that takes in what pygen's own actions changed.
//!
//! A run goes through a [`Notifier`]: the daemon's in production, a recorder in the loop's
//! tests, which observe when the timers fire without a daemon to act on.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::actions::{self, OwnActions, Reach};
use crate::docker::raw::RawClient;
use crate::dockergen::jobs as docker_gen;
use crate::metrics::Metrics;
use crate::model::{Container, Swarm};
use crate::report::describe;
use crate::swarm::Workers;

use super::super::job::Notification;
use super::Generator;

/// Runs one template's notifications once its timer fired.
pub(super) trait Notifier: Send + Sync {
    /// The run, as a task of its own: it must not hold back renders.
    fn run(&self, run: Run) -> BoxFuture<'static, ()>;
}

/// One notification run, with everything it may reach.
pub(super) struct Run {
    /// What runs.
    pub plan: Notification,
    /// The client of the current connection.
    pub client: RawClient,
    /// The running containers, as the cache holds them: the targets.
    pub running: Vec<Arc<Container>>,
    /// The workers, with `--swarm-manager`.
    pub workers: Option<Arc<Workers>>,
    /// Where the containers acted on are noted.
    pub own: OwnActions,
    /// The Swarm as the last listing saw it.
    pub swarm: Option<Arc<Swarm>>,
    /// Counts the actions.
    pub metrics: Arc<Metrics>,
}

/// Acts through the daemon (and the Swarm workers): pygen's restarts and signals, or a
/// docker-gen config's notifications.
pub(super) struct DaemonNotifier;

impl Notifier for DaemonNotifier {
    fn run(&self, run: Run) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            match run.plan {
                Notification::Actions(plan) => {
                    let reach = Reach {
                        services: Some(&run.client),
                        workers: run.workers.as_deref().map(|w| w as &dyn actions::Forward),
                        own: Some(&run.own),
                        swarm: run.swarm.as_deref(),
                    };
                    actions::run_plan(&run.client, &run.running, &plan, reach, &run.metrics).await;
                }
                Notification::DockerGen(options) => {
                    docker_gen::notify(&run.client, &options, &run.metrics).await;
                }
            }
        })
    }
}

impl Generator {
    /// Runs what the timers that are due ask for: notification runs and repeats.
    pub(super) fn timers_fired(&mut self) {
        let now = tokio::time::Instant::now();
        for i in 0..self.jobs.len() {
            if self.jobs[i].timer.take_due(now) {
                self.notify(i);
            }
            let repeat_due = self.jobs[i]
                .repeat
                .as_mut()
                .is_some_and(|repeat| repeat.take_due(now));
            if repeat_due {
                tracing::debug!(template = %self.jobs[i].spec.name, "repeating the generation");
                self.request_one(i);
            }
            let job = &mut self.jobs[i];
            if job.debounce.as_mut().is_some_and(|d| d.take_due(now)) {
                self.request_one(i);
            }
            let job = &mut self.jobs[i];
            if let Some(tick) = job.tick.as_mut().filter(|t| t.next <= now) {
                tick.next = now + tick.every;
                job.notify_anyway = true;
                self.request_one(i);
            }
        }
    }

    /// A notification run ended: if it restarted or signalled a local container, renders what
    /// that changed (a start time, an address) unless a render is owed anyway, and marks that
    /// render so its change does not act again ([`OwnActions`] holds back the actions' own
    /// events).
    pub(super) fn notified(&mut self, finished: Result<(u64, usize), tokio::task::JoinError>) {
        if self.own.take_acted() {
            self.request_own_render();
        }
        match finished {
            Ok((generation, index)) => {
                if generation != self.generation {
                    return;
                }
                let Some(job) = self.jobs.get_mut(index) else {
                    return;
                };
                job.notifying = false;
                if std::mem::take(&mut job.notify_again) {
                    self.notify(index);
                }
            }
            Err(err) => {
                tracing::error!(error = %describe(&err), "the notification task failed");
                // The job of a failed task is unknown: free every job whose run is over.
                let running = self.notifications.len();
                if running == 0 {
                    for job in &mut self.jobs {
                        job.notifying = false;
                    }
                }
            }
        }
    }

    /// Asks for a render whose change does not act (see [`Generator::notified`]), unless a
    /// render is owed anyway.
    pub(super) fn request_own_render(&mut self) {
        if !self.pacer.is_pending() {
            self.request_all();
            self.own_render = Some(self.pacer.requests());
        }
    }

    /// Starts a notification run of template `index`, or notes that one must follow the run
    /// in progress.
    pub(super) fn notify(&mut self, index: usize) {
        let job = &mut self.jobs[index];
        if job.notifying {
            job.notify_again = true;
            return;
        }
        let Some(client) = self.watch.client().cloned() else {
            tracing::warn!(template = %job.spec.name, "Docker daemon unreachable; notifications skipped");
            return;
        };
        job.notifying = true;
        let run = self.notifier.run(Run {
            plan: job.plan.clone(),
            client,
            running: self.watch.cache().running(),
            workers: self.workers.clone(),
            own: self.own.clone(),
            swarm: self.swarm.snapshot(),
            metrics: Arc::clone(&self.metrics),
        });
        let generation = self.generation;
        self.notifications.spawn(async move {
            run.await;
            (generation, index)
        });
    }
}
