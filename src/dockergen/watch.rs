//! The watch loop: every job served from one [`Watch`] (one event feed, one state cache: one
//! inspect per changed container however many jobs), with docker-gen's event filters, its
//! `-wait` debounce, `-interval` ticks (which always notify) and SIGHUP. An event renders once
//! the background inspect of its container has landed in the cache. Each job's
//! notifications run in a task of their own, so a slow `-notify` holds back no render.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;

use super::cache::{DaemonData, Templates};
use super::pass::{Pass, run_job};
use super::settings::{Filters, Job, Settings, Wait};
use super::{Error, eventfilter, notify};
use crate::docker::events::{self, Effect};
use crate::docker::raw::RawClient;
use crate::docker::watch::{Change, Watch};
use crate::metrics::Metrics;
use crate::report::describe;
use crate::shutdown::Shutdown;

/// docker-gen's debounce: every event restarts the quiet period, the first of a burst starts
/// the cap; whichever ends first fires.
#[derive(Debug, Default)]
struct Debounce {
    fire_at: Option<TokioInstant>,
    cap: Option<TokioInstant>,
}

impl Debounce {
    fn schedule(&mut self, wait: Wait, now: TokioInstant) {
        let cap = *self.cap.get_or_insert(now + wait.max);
        self.fire_at = Some((now + wait.min).min(cap));
    }
}

/// One job in the watch loop.
struct JobState {
    job: Job,
    debounce: Debounce,
    next_tick: Option<TokioInstant>,
    pending: bool,
    force_notify: bool,
    notifier: mpsc::UnboundedSender<(Docker, RawClient)>,
}

/// Serves one job's notifications, one run at a time; requests that arrive during a run are
/// merged into one more run.
fn spawn_notifier(
    job: &Job,
    timeout: Duration,
    metrics: &Arc<Metrics>,
) -> mpsc::UnboundedSender<(Docker, RawClient)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Docker, RawClient)>();
    let plan = job.notify.clone();
    let metrics = Arc::clone(metrics);
    tokio::spawn(async move {
        while let Some(mut clients) = rx.recv().await {
            while let Ok(newer) = rx.try_recv() {
                clients = newer;
            }
            notify::notify(&clients.0, &clients.1, &plan, timeout, &metrics).await;
        }
    });
    tx
}

/// The watch loop until `shutdown`: every job renders after each (re)connect, watched jobs on
/// docker-gen's events (debounced by their `wait`), jobs with an interval on their ticks
/// (always notifying), all of them on SIGHUP.
pub async fn watch(
    settings: Settings,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
    mut hangup: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let mut watch = Watch::start(settings.endpoint.clone(), Arc::clone(&metrics))?;
    let any_watch = settings.jobs.iter().any(|j| j.watch);
    let now = TokioInstant::now();
    let mut jobs: Vec<JobState> = settings
        .jobs
        .iter()
        .map(|job| JobState {
            job: job.clone(),
            debounce: Debounce::default(),
            next_tick: job.interval.map(|i| now + i),
            pending: false,
            force_notify: false,
            notifier: spawn_notifier(job, settings.notify_timeout, &metrics),
        })
        .collect();
    let mut kept = Kept::default();
    // Containers whose event asked for a render that waits for their inspect to land.
    let mut awaiting: HashSet<String> = HashSet::new();
    let seen = Seen {
        filters: &settings.events,
        any_watch,
        metrics: &metrics,
    };
    loop {
        let due = jobs
            .iter()
            .flat_map(|j| [j.debounce.fire_at, j.next_tick])
            .flatten()
            .min();
        let render_due = watch.clients().is_some() && jobs.iter().any(|j| j.pending);
        tokio::select! {
            biased;
            () = shutdown.recv() => break,
            change = watch.next() => match change {
                Some(change) => {
                    seen.handle(change, &watch, &mut jobs, &mut kept.daemon, &mut awaiting);
                }
                None => {
                    tracing::error!("the event feed stopped");
                    break;
                }
            },
            Some(()) = hangup.recv() => {
                if any_watch {
                    tracing::info!("Received signal: hangup");
                    jobs.iter_mut().for_each(|j| j.pending = true);
                }
            }
            () = sleep_until_opt(due) => {
                let now = TokioInstant::now();
                for j in &mut jobs {
                    if j.debounce.fire_at.is_some_and(|t| t <= now) {
                        j.debounce = Debounce::default();
                        j.pending = true;
                    }
                    if let (Some(t), Some(every)) = (j.next_tick, j.job.interval)
                        && t <= now
                    {
                        j.next_tick = Some(now + every);
                        j.pending = true;
                        j.force_notify = true;
                    }
                }
            }
            () = std::future::ready(()), if render_due => {
                while let Some(change) = watch.try_next() {
                    seen.handle(change, &watch, &mut jobs, &mut kept.daemon, &mut awaiting);
                }
                pass(&mut watch, &mut jobs, &mut kept, &metrics).await;
            }
        }
    }
    Ok(())
}

/// What the loop reacts to, and where it counts it.
struct Seen<'a> {
    /// docker-gen's event filters.
    filters: &'a Filters,
    /// Whether some job watches (else events are not listened to, as in docker-gen).
    any_watch: bool,
    metrics: &'a Metrics,
}

impl Seen<'_> {
    /// Reacts to one change the watch applied to its cache. A watched event about a container
    /// whose inspect is in flight renders when the inspect lands, not before: until then the
    /// cache holds nothing new about it.
    fn handle(
        &self,
        change: Change,
        watch: &Watch,
        jobs: &mut [JobState],
        daemon: &mut DaemonData,
        awaiting: &mut HashSet<String>,
    ) {
        match change {
            Change::Connected => {
                if self.any_watch {
                    tracing::info!("Watching docker events");
                }
                daemon.reconnected();
                awaiting.clear();
                jobs.iter_mut().for_each(|j| j.pending = true);
            }
            Change::Disconnected => tracing::warn!("Docker daemon connection interrupted"),
            Change::Inspected { id, ok } => {
                if awaiting.remove(&id) || !ok {
                    schedule_watched(jobs);
                }
            }
            Change::Event(event) => {
                if let Some(typ) = event.typ {
                    daemon.event(typ.as_ref(), event.action.as_deref().unwrap_or_default());
                }
                if !self.any_watch || !eventfilter::matches(self.filters, &event) {
                    return;
                }
                self.metrics.event_taken();
                let id = event
                    .actor
                    .as_ref()
                    .and_then(|a| a.id.as_deref())
                    .unwrap_or_default();
                tracing::info!(
                    "Received event {} for {} {}",
                    event.action.as_deref().unwrap_or_default(),
                    event.typ.map(|t| t.to_string()).unwrap_or_default(),
                    id.get(..12).unwrap_or(id)
                );
                match events::effect(&event) {
                    Effect::Dirty(container) if watch.inspecting(container) => {
                        awaiting.insert(container.to_owned());
                    }
                    Effect::Removed(container) => {
                        awaiting.remove(container);
                        schedule_watched(jobs);
                    }
                    _ => schedule_watched(jobs),
                }
            }
        }
    }
}

/// A render of every watching job, now or after its `-wait`.
fn schedule_watched(jobs: &mut [JobState]) {
    let now = TokioInstant::now();
    for j in jobs.iter_mut().filter(|j| j.job.watch) {
        match j.job.wait {
            Some(wait) => j.debounce.schedule(wait, now),
            None => j.pending = true,
        }
    }
}

/// What the loop keeps between passes: the daemon-side data and the parsed templates.
#[derive(Default)]
struct Kept {
    daemon: DaemonData,
    templates: Arc<Mutex<Templates>>,
}

/// Brings the cache current and renders every pending job.
async fn pass(watch: &mut Watch, jobs: &mut [JobState], kept: &mut Kept, metrics: &Arc<Metrics>) {
    if let Err(err) = watch.bring_current().await {
        tracing::error!("{}; keeping the files as they are", describe(&err));
        return;
    }
    let Some(clients) = watch.clients().cloned() else {
        return;
    };
    let mut shared = match Pass::read(&clients.raw, &mut kept.daemon, watch.cache()).await {
        Ok(p) => p,
        Err(err) => {
            tracing::error!("{}; keeping the files as they are", describe(&err));
            return;
        }
    };
    for j in jobs.iter_mut().filter(|j| j.pending) {
        j.pending = false;
        let changed = run_job(&j.job, &mut shared, &kept.templates, &clients.raw, metrics).await;
        let force = std::mem::take(&mut j.force_notify);
        if (changed || force) && !j.job.notify.is_empty() {
            let _ = j
                .notifier
                .send((clients.docker.clone(), clients.raw.clone()));
        }
    }
    tracing::debug!(
        lists = shared.lists.calls,
        counts = ?kept.daemon.counts(),
        "docker-gen pass done"
    );
}

async fn sleep_until_opt(at: Option<TokioInstant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debounce_has_docker_gen_min_and_max() {
        let wait = Wait {
            min: Duration::from_millis(100),
            max: Duration::from_millis(250),
        };
        let t0 = TokioInstant::now();
        let mut d = Debounce::default();
        d.schedule(wait, t0);
        assert_eq!(d.fire_at, Some(t0 + Duration::from_millis(100)));
        d.schedule(wait, t0 + Duration::from_millis(80));
        assert_eq!(
            d.fire_at,
            Some(t0 + Duration::from_millis(180)),
            "quiet period restarts"
        );
        d.schedule(wait, t0 + Duration::from_millis(200));
        assert_eq!(
            d.fire_at,
            Some(t0 + Duration::from_millis(250)),
            "never past the cap"
        );
    }
}
