//! The watch loop: events in, renders, atomic writes, batched notifications, for every
//! template of the run over one event stream and one state cache.
//!
//! One task owns everything mutable (the state cache, the templates, the timers), so there are
//! no locks, no two renders of one template and no two notification runs of one template at
//! once. Renders (and the writes that follow) run on the blocking pool, one task per template,
//! off the runtime that serves the event stream, `/metrics` and the Swarm endpoints: a slow
//! template, a big `read_config` file or a slow disk delays its own target, never those and
//! never another template's. Notifications run in their own tasks so a slow restart never
//! holds back renders. A template whose files change on disk is reloaded and rendered at once
//! (see [`super::edits`]).
//!
//! Each job says which events render it, whether those renders wait for a quiet period, whether
//! it also renders on a period (notifying then even when nothing changed), and what runs after
//! a change: pygen's actions, or a docker-gen config's notifications ([`crate::dockergen::jobs`],
//! whose configs render from their own daemon-side container lists, read here before their
//! render tasks start).
//!
//! A render never waits for a container read: the watch inspects a changed container in the
//! background, and a watched event asks for its render only when that inspect lands. A render
//! that starts meanwhile (for another change) renders what the cache holds; the late container
//! is served by the render after its inspect. A `destroy` renders at once.
//!
//! When the template reads `services`, `all_services` or `nodes`, the Swarm state is listed
//! before a render only when something marked it dirty (a service or node event, an event of a
//! task's container, a request on the manager endpoint, a reconnect), so a render costs at most
//! one `/tasks` call; a poll (`--swarm-poll`, sooner while tasks are settling) catches the task
//! state changes Swarm sends no event for, and renders only when the listing changed.
//!
//! [`watch`] sets the loop up against the daemon; the loop itself (`Generator::run`) takes
//! an already-built [`Watch`] and runs its notifications through a `Notifier`, so its unit
//! tests run the very same loop over containers served from memory, with paused time.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::actions::OwnActions;
use crate::config::Config;
use crate::docker::swarm::SwarmCache;
use crate::docker::watch::Watch;
use crate::dockergen::jobs::Feed;
use crate::metrics::Metrics;
use crate::pacer::RenderRequests;
use crate::report::describe;
use crate::shutdown::Shutdown;

mod intake;
mod notify;
mod reload;
mod renders;

use super::edits::{self, Files};
use super::job::Job;
use super::{Error, check_target_folders, load_template, swarm_wants};
use notify::{DaemonNotifier, Notifier};
use renders::RenderDone;

/// The long-running generator: watches events until `shutdown`. Each message on
/// `reload` (SIGHUP) re-reads every template source and renders at once.
pub async fn watch(
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
    reload: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let jobs = load_jobs(&config, &metrics).await?;
    check_target_folders(&config)?;
    let watch = Watch::start(config.docker_address.clone(), Arc::clone(&metrics))?;
    // The manager endpoint stops with the process's shutdown, which the caller triggers
    // however the watch ends.
    let manager = match &config.swarm {
        Some(swarm) => Some(
            crate::swarm::start_manager(swarm, Arc::clone(&metrics), shutdown.clone().wait())
                .await?,
        ),
        None => None,
    };
    let mut generator = Generator::new(config, jobs, watch, metrics, Arc::new(DaemonNotifier));
    if let Some(manager) = manager {
        generator.workers = Some(manager.workers);
        generator.updates = Some(manager.updates);
        generator.settled = Some(manager.settled);
    }
    generator.run(shutdown, reload).await;
    Ok(())
}

/// Loads every template of `config` into its job. A template that does not load stops the
/// start only when none does: the others run, and its file is watched for the fix.
/// docker-gen configs never stop it (a template error there keeps the process going, as
/// docker-gen mode documents).
async fn load_jobs(config: &Config, metrics: &Metrics) -> Result<Vec<Job>, Error> {
    let docker_gen = config.templates.iter().any(|s| s.docker_gen.is_some());
    let mut jobs = Vec::with_capacity(config.templates.len());
    let mut first_error = None;
    for spec in &config.templates {
        metrics.template_configured(&spec.name);
        let template = match load_template(config, spec).await {
            Ok(template) => Some(template),
            Err(err) if config.templates.len() > 1 || docker_gen => {
                tracing::error!(template = %spec.name, "{}; this template renders nothing until it is fixed", describe(&err));
                metrics.template_unloadable(&spec.name);
                first_error.get_or_insert(err);
                None
            }
            Err(err) => return Err(err.into()),
        };
        jobs.push(Job::new(spec.clone(), template));
    }
    let none_loaded = jobs.iter().all(|j| j.template.is_none());
    if let (Some(err), true) = (first_error, none_loaded && !docker_gen) {
        return Err(err.into());
    }
    Ok(jobs)
}

/// Everything the watch loop owns.
struct Generator {
    /// The validated configuration.
    config: Config,
    /// The templates, in configuration order.
    jobs: Vec<Job>,
    /// The files each template was read from, watched for edits (same order as `jobs`).
    files: Vec<Files>,
    /// The renders on the blocking pool: each yields its job's generation and index and
    /// whether its target changed.
    renders: JoinSet<RenderDone>,
    /// The notification runs: each yields its job's generation and index.
    notifications: JoinSet<(u64, usize)>,
    /// Counts the config file reloads that replaced `jobs`: a render or notification run of
    /// an earlier generation refers to a job that is gone.
    generation: u64,
    /// The event feed, the containers kept current from it, and the daemon's clients.
    watch: Watch,
    /// The metrics shared with the endpoint.
    metrics: Arc<Metrics>,
    /// Runs the notifications (the daemon's restarts and signals; a recorder in the tests).
    notifier: Arc<dyn Notifier>,
    /// Counts render requests and measures how long they wait.
    pacer: RenderRequests,
    /// Whether the pending render was asked for by a watched event (it then schedules `repeat`).
    render_from_event: bool,
    /// Containers whose watched event waits for their inspect, with the templates the event
    /// selected: their render comes when it lands, and renders in between (for other changes)
    /// do not wait for it.
    awaiting: HashMap<String, BTreeSet<usize>>,
    /// The daemon-side data docker-gen configs render from; reads nothing for pygen's
    /// templates.
    feed: Feed,
    /// Services, tasks and nodes, listed when a template reads them.
    swarm: SwarmCache,
    /// The workers, with `--swarm-manager`: container actions go to them.
    workers: Option<Arc<crate::swarm::Workers>>,
    /// Update requests from workers, with `--swarm-manager`.
    updates: Option<mpsc::Receiver<()>>,
    /// Notices that a worker's own actions settled, with `--swarm-manager`.
    settled: Option<mpsc::Receiver<()>>,
    /// When the Swarm is polled next; `None` when it is not polled.
    poll_at: Option<tokio::time::Instant>,
    /// How many quick polls may still follow while tasks settle; renewed by every change, so
    /// a task that never settles (unschedulable, failing image) does not keep pygen polling
    /// every second.
    quick_polls: u32,
    /// The containers the notifications act on: their events do not render.
    own: OwnActions,
    /// The render request made when a notification run ended (its number in the pacer): a
    /// render that serves it and nothing else takes in what the actions changed without
    /// acting again.
    own_render: Option<u64>,
    /// Containers acted on by pygen whose inspect (after the action's own events) is in
    /// flight: when it lands, a render that does not act shows their new state.
    own_awaiting: HashSet<String>,
}

/// How many quick polls follow a change of the Swarm at most.
const QUICK_POLLS: u32 = 30;

impl Generator {
    /// A loop over `jobs` and `watch`, nothing owed yet, without Swarm workers.
    fn new(
        config: Config,
        jobs: Vec<Job>,
        watch: Watch,
        metrics: Arc<Metrics>,
        notifier: Arc<dyn Notifier>,
    ) -> Generator {
        let wants = swarm_wants(Job::templates(&jobs));
        let files = jobs.iter().map(|j| Files::new(j.files())).collect();
        Generator {
            config,
            jobs,
            files,
            renders: JoinSet::new(),
            notifications: JoinSet::new(),
            generation: 0,
            watch,
            metrics,
            notifier,
            pacer: RenderRequests::new(),
            render_from_event: false,
            awaiting: HashMap::new(),
            feed: Feed::default(),
            swarm: SwarmCache::new(wants),
            workers: None,
            updates: None,
            settled: None,
            poll_at: None,
            quick_polls: QUICK_POLLS,
            own: OwnActions::default(),
            own_render: None,
            own_awaiting: HashSet::new(),
        }
    }

    /// The loop: takes changes, starts renders, fires timers and runs notifications until
    /// `shutdown` or the end of the watch's feed.
    async fn run(mut self, mut shutdown: Shutdown, mut reload: mpsc::UnboundedReceiver<()>) {
        let mut edit_poll = tokio::time::interval(edits::POLL);
        edit_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // A render starts as soon as one is owed: never on a timer. Events that arrive
            // while renders run wait in the feed and are all served by the next ones.
            let render_due = self.watch.is_connected() && self.render_owed();
            let watches_files = self.files.iter().any(|f| !f.is_empty());
            let timers_at = self.next_deadline();
            tokio::select! {
                biased;
                () = shutdown.recv() => {
                    tracing::info!("shutting down");
                    break;
                }
                change = self.watch.next() => match change {
                    Some(change) => self.handle_change(change),
                    None => {
                        tracing::error!("the event feed stopped");
                        break;
                    }
                },
                Some(()) = reload.recv() => self.reload_all().await,
                Some(()) = recv_opt(self.updates.as_mut()) => self.update_requested(),
                Some(()) = recv_opt(self.settled.as_mut()) => self.workers_settled(),
                () = sleep_until_opt(self.poll_at) => self.poll().await,
                () = std::future::ready(()), if render_due => {
                    // Take every event that is already waiting, so one render serves them all.
                    while let Some(change) = self.watch.try_next() {
                        self.handle_change(change);
                    }
                    self.update().await;
                }
                Some(finished) = self.renders.join_next(), if !self.renders.is_empty() => {
                    self.rendered(finished);
                }
                () = sleep_until_opt(timers_at) => self.timers_fired(),
                Some(finished) = self.notifications.join_next(), if !self.notifications.is_empty() => {
                    self.notified(finished);
                }
                _ = edit_poll.tick(), if watches_files => self.look_for_edits().await,
            }
        }
        self.notifications.abort_all();
        // A render in progress ends on its own (it cannot be interrupted) and its atomic write
        // either lands whole or not at all; the process does not wait for it longer than the
        // runtime's shutdown allows.
        self.renders.detach_all();
    }

    /// Asks for a render of every template.
    fn request_all(&mut self) {
        for job in &mut self.jobs {
            job.due = true;
        }
        self.pacer.request();
    }

    /// Asks for a render of one template (its files changed, its `repeat` fired).
    fn request_one(&mut self, index: usize) {
        if let Some(job) = self.jobs.get_mut(index) {
            job.due = true;
            self.pacer.request();
        }
    }

    /// Asks for a render of the templates an event selected: at once, or after the
    /// template's debounce.
    fn request_for_event(&mut self, indexes: impl IntoIterator<Item = usize>) {
        self.render_from_event = true;
        let mut now = false;
        for index in indexes {
            let Some(job) = self.jobs.get_mut(index) else {
                continue;
            };
            match job.debounce.as_mut() {
                Some(debounce) => debounce.schedule(),
                None => {
                    job.due = true;
                    now = true;
                }
            }
        }
        if now {
            self.pacer.request();
        }
    }

    /// Asks for a render of every template that listens to events, as an event would.
    fn request_listening(&mut self) {
        let listening: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| self.jobs[i].listens())
            .collect();
        self.request_for_event(listening);
    }

    /// Whether some template owes a render and is not rendering now.
    fn render_owed(&self) -> bool {
        self.jobs.iter().any(|j| j.due && j.rendering.is_none())
    }

    /// The earliest instant a notification or repeat timer fires.
    fn next_deadline(&self) -> Option<tokio::time::Instant> {
        self.jobs.iter().filter_map(Job::next_deadline).min()
    }
}

/// Sleeps until the instant, or forever when there is none.
async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Receives from an optional channel, or waits forever when there is none.
async fn recv_opt(rx: Option<&mut mpsc::Receiver<()>>) -> Option<()> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
