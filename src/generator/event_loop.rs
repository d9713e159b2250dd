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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::actions::{self, OwnActions, Reach};
use crate::config::Config;
use crate::docker::events;
use crate::docker::swarm::{Role, SwarmCache};
use crate::docker::watch::{Change, Synced, Watch};
use crate::metrics::Metrics;
use crate::pacer::RenderRequests;
use crate::report::describe;
use crate::shutdown::Shutdown;

use super::edits::{self, Files};
use super::job::{Job, Rendering, kept, render_job};
use super::{Error, check_target_folders, load_template, swarm_wants};

/// The long-running generator: watches events until `shutdown`. Each message on
/// `reload` (SIGHUP) re-reads every template source and renders at once.
pub async fn watch(
    config: Config,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
    mut reload: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let mut jobs = Vec::with_capacity(config.templates.len());
    for spec in &config.templates {
        let template = load_template(&config, spec).await?;
        metrics.template_configured(&spec.name);
        jobs.push(Job::new(spec.clone(), template));
    }
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
    let (workers, updates) = match manager {
        Some(m) => (Some(m.workers), Some(m.updates)),
        None => (None, None),
    };
    let wants = swarm_wants(jobs.iter().map(|j| &*j.template));
    let files = jobs
        .iter()
        .map(|j| Files::new(j.template.files()))
        .collect();
    let mut generator = Generator {
        config,
        jobs,
        files,
        renders: JoinSet::new(),
        notifications: JoinSet::new(),
        watch,
        metrics,
        pacer: RenderRequests::new(),
        render_from_event: false,
        awaiting: HashSet::new(),
        swarm: SwarmCache::new(wants),
        workers,
        updates,
        poll_at: None,
        quick_polls: QUICK_POLLS,
        own: OwnActions::default(),
        own_render: None,
        own_awaiting: HashSet::new(),
    };
    let mut edit_poll = tokio::time::interval(edits::POLL);
    edit_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // A render starts as soon as one is owed: never on a timer. Events that arrive while
        // renders run wait in the feed and are all served by the next ones.
        let render_due = generator.watch.clients().is_some() && generator.render_owed();
        let watches_files = generator.files.iter().any(|f| !f.is_empty());
        let timers_at = generator.next_deadline();
        tokio::select! {
            biased;
            () = shutdown.recv() => {
                tracing::info!("shutting down");
                break;
            }
            change = generator.watch.next() => match change {
                Some(change) => generator.handle_change(change),
                None => {
                    tracing::error!("the event feed stopped");
                    break;
                }
            },
            Some(()) = reload.recv() => generator.reload_all().await,
            Some(()) = recv_opt(generator.updates.as_mut()) => generator.update_requested(),
            () = sleep_until_opt(generator.poll_at) => generator.poll().await,
            () = std::future::ready(()), if render_due => {
                // Take every event that is already waiting, so one render serves them all.
                while let Some(change) = generator.watch.try_next() {
                    generator.handle_change(change);
                }
                generator.update().await;
            }
            Some(finished) = generator.renders.join_next(), if !generator.renders.is_empty() => {
                generator.rendered(finished);
            }
            () = sleep_until_opt(timers_at) => generator.timers_fired(),
            Some(finished) = generator.notifications.join_next(), if !generator.notifications.is_empty() => {
                generator.notified(finished);
            }
            _ = edit_poll.tick(), if watches_files => generator.look_for_edits().await,
        }
    }
    generator.notifications.abort_all();
    // A render in progress ends on its own (it cannot be interrupted) and its atomic write
    // either lands whole or not at all; the process does not wait for it longer than the
    // runtime's shutdown allows.
    generator.renders.detach_all();
    Ok(())
}

/// Everything the watch loop owns.
struct Generator {
    /// The validated configuration.
    config: Config,
    /// The templates, in configuration order.
    jobs: Vec<Job>,
    /// The files each template was read from, watched for edits (same order as `jobs`).
    files: Vec<Files>,
    /// The renders on the blocking pool: each yields its job's index and whether its target
    /// changed.
    renders: JoinSet<(usize, Result<bool, Error>)>,
    /// The notification runs: each yields its job's index.
    notifications: JoinSet<usize>,
    /// The event feed, the containers kept current from it, and the daemon's clients.
    watch: Watch,
    /// The metrics shared with the endpoint.
    metrics: Arc<Metrics>,
    /// Counts render requests and measures how long they wait.
    pacer: RenderRequests,
    /// Whether the pending render was asked for by a watched event (it then schedules `repeat`).
    render_from_event: bool,
    /// Containers whose watched event waits for their inspect: the render comes when it lands,
    /// and renders in between (for other changes) do not wait for it.
    awaiting: HashSet<String>,
    /// Services, tasks and nodes, listed when a template reads them.
    swarm: SwarmCache,
    /// The workers, with `--swarm-manager`: container actions go to them.
    workers: Option<Arc<crate::swarm::Workers>>,
    /// Update requests from workers, with `--swarm-manager`.
    updates: Option<mpsc::Receiver<()>>,
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

/// How soon the Swarm is polled again while some task is on its way to its desired state.
const SETTLING_POLL: Duration = Duration::from_secs(1);

/// How many quick polls follow a change of the Swarm at most.
const QUICK_POLLS: u32 = 30;

impl Generator {
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

    /// Whether some template owes a render and is not rendering now.
    fn render_owed(&self) -> bool {
        self.jobs.iter().any(|j| j.due && j.rendering.is_none())
    }

    /// The earliest instant a notification or repeat timer fires.
    fn next_deadline(&self) -> Option<tokio::time::Instant> {
        self.jobs.iter().filter_map(Job::next_deadline).min()
    }

    /// Reacts to one change the watch saw (already applied to its cache).
    fn handle_change(&mut self, change: Change) {
        match change {
            Change::Connected => {
                // The full sync before the next render reads every container.
                self.awaiting.clear();
                self.own_awaiting.clear();
                self.swarm.mark_dirty();
                self.request_all();
            }
            Change::Inspected { id, ok } => {
                let own = self.own_awaiting.remove(&id);
                if self.awaiting.remove(&id) || !ok {
                    self.render_from_event = true;
                    self.request_all();
                } else if own {
                    // The state an action of pygen's left (a restarted container running
                    // again) reaches the target, without acting again.
                    self.request_own_render();
                }
            }
            Change::Disconnected => {
                self.poll_at = None;
            }
            Change::Event(event) => self.handle_event(&event),
        }
    }

    /// Reacts to one Docker event.
    fn handle_event(&mut self, event: &bollard::models::EventMessage) {
        let action = event.action.as_deref().unwrap_or_default();
        if events::touches_swarm(event) {
            self.swarm.mark_dirty();
            let is_swarm_object = matches!(
                event.typ,
                Some(
                    bollard::models::EventMessageTypeEnum::SERVICE
                        | bollard::models::EventMessageTypeEnum::NODE
                )
            );
            if is_swarm_object && self.swarm.wants().any() {
                tracing::debug!(action, "Swarm event");
                self.request_all();
            }
        }
        let is_container = matches!(
            event.typ,
            Some(bollard::models::EventMessageTypeEnum::CONTAINER)
        );
        let is_own = is_container && self.own.is_own(event);
        if is_own {
            // Not rendered for now, but the container's inspect in flight is: the render
            // after the action must not read the state before it landed.
            if let events::Effect::Dirty(id) = events::effect(event) {
                if self.watch.inspecting(id) {
                    self.own_awaiting.insert(id.to_owned());
                }
            }
        }
        if is_container && self.config.events.matches(action) && !is_own {
            self.metrics.event_taken();
            tracing::debug!("Received {action} event from {}", events::actor_name(event));
            match events::effect(event) {
                // Rendered when the inspect lands, not before: until then the cache holds
                // nothing new about this container.
                events::Effect::Dirty(id) if self.watch.inspecting(id) => {
                    self.awaiting.insert(id.to_owned());
                }
                events::Effect::Removed(id) => {
                    self.awaiting.remove(id);
                    self.render_from_event = true;
                    self.request_all();
                }
                _ => {
                    self.render_from_event = true;
                    self.request_all();
                }
            }
        }
    }

    /// Brings the cache up to date and starts a render of every template that owes one and
    /// is not rendering.
    async fn update(&mut self) {
        if let Some(wait) = self.pacer.start() {
            self.metrics.update_started(wait);
        }
        let starting: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| self.jobs[i].due && self.jobs[i].rendering.is_none())
            .collect();
        for &i in &starting {
            self.jobs[i].due = false;
        }
        match self.watch.bring_current().await {
            Ok(None) => return,
            Ok(Some(synced)) => {
                if let Synced::Full(stats) = synced {
                    // The sync dropped the inspects in flight; this render reads their
                    // containers as the sync found them.
                    self.awaiting.clear();
                    self.own_awaiting.clear();
                    tracing::info!(
                        containers = stats.inspected,
                        ms = format_args!("{:.1}", stats.duration.as_secs_f64() * 1e3),
                        "state synced"
                    );
                }
                if let Some(stats) = synced.stats() {
                    self.metrics.api_containers(stats.duration, true);
                }
                self.metrics.state_refreshed();
            }
            Err(err) => {
                tracing::error!("{}; keeping the targets as they are", describe(&err));
                return;
            }
        }
        if self.swarm.needs_refresh() {
            self.refresh_swarm().await;
        }
        let from_event = std::mem::take(&mut self.render_from_event);
        let absorb = self.own_render.take() == Some(self.pacer.requests());
        let mut snapshot = self.watch.cache().snapshot();
        snapshot.swarm = self.swarm.snapshot();
        let snapshot = Arc::new(snapshot);
        for i in starting {
            let job = &mut self.jobs[i];
            job.rendering = Some(Rendering { from_event, absorb });
            let template = Arc::clone(&job.template);
            let spec = job.spec.clone();
            let snapshot = Arc::clone(&snapshot);
            let metrics = Arc::clone(&self.metrics);
            self.renders
                .spawn_blocking(move || (i, render_job(&spec, &template, &snapshot, &metrics)));
        }
    }

    /// A template's render finished: on change, schedules its notifications; a failure keeps
    /// its last good target.
    fn rendered(&mut self, finished: Result<(usize, Result<bool, Error>), tokio::task::JoinError>) {
        let (index, result) = match finished {
            Ok(done) => done,
            Err(err) => {
                // A panicking render: which template is unknown here, so none is blocked
                // for good: every template marked as rendering that is not is released.
                tracing::error!(error = %describe(&err), "a render task failed");
                return;
            }
        };
        let Some(job) = self.jobs.get_mut(index) else {
            return;
        };
        let Some(Rendering { from_event, absorb }) = job.rendering.take() else {
            return;
        };
        match result {
            Ok(changed) => {
                if changed && absorb {
                    tracing::debug!(template = %job.spec.name, "the target changed by pygen's own actions: no notification");
                } else if changed && !job.plan.is_empty() {
                    job.timer.schedule();
                }
                if from_event {
                    if let Some(repeat) = job.repeat.as_mut() {
                        repeat.schedule();
                    }
                }
            }
            Err(err) => {
                tracing::error!(template = %job.spec.name, "{}; {}", describe(&err), kept(&job.spec));
            }
        }
        // A render loads includes the first time it reaches them: watch those too.
        if let Some(files) = self.files.get_mut(index) {
            files.add(job.template.files());
        }
    }

    /// Runs what the timers that are due ask for: notification runs and repeats.
    fn timers_fired(&mut self) {
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
        }
    }

    /// A notification run ended: if it restarted or signalled a local container, renders what
    /// that changed (a start time, an address) unless a render is owed anyway, and marks that
    /// render so its change does not act again ([`OwnActions`] holds back the actions' own
    /// events).
    fn notified(&mut self, finished: Result<usize, tokio::task::JoinError>) {
        if self.own.take_acted() {
            self.request_own_render();
        }
        match finished {
            Ok(index) => {
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
    fn request_own_render(&mut self) {
        if !self.pacer.is_pending() {
            self.request_all();
            self.own_render = Some(self.pacer.requests());
        }
    }

    /// Starts a notification run of template `index`, or notes that one must follow the run
    /// in progress.
    fn notify(&mut self, index: usize) {
        let job = &mut self.jobs[index];
        if job.notifying {
            job.notify_again = true;
            return;
        }
        let Some(clients) = self.watch.clients().cloned() else {
            tracing::warn!(template = %job.spec.name, "Docker daemon unreachable; notifications skipped");
            return;
        };
        job.notifying = true;
        let running = self.watch.cache().running();
        let plan = job.plan.clone();
        let metrics = Arc::clone(&self.metrics);
        let workers = self.workers.clone();
        let own = self.own.clone();
        self.notifications.spawn(async move {
            let reach = Reach {
                services: Some(&clients.raw),
                workers: workers.as_deref(),
                own: Some(&own),
            };
            actions::run_plan(&clients.docker, &running, &plan, reach, &metrics).await;
            index
        });
    }

    /// Lists the Swarm again (a render is due, or a poll), then plans the next poll. Returns
    /// whether the listing changed. A failure keeps the previous listing.
    async fn refresh_swarm(&mut self) -> bool {
        let Some(raw) = self.watch.clients().map(|c| c.raw.clone()) else {
            return false;
        };
        let changed = match self.swarm.refresh(&raw, &self.metrics).await {
            Ok(refresh) => {
                tracing::debug!(
                    changed = refresh.changed,
                    ms = format_args!("{:.1}", refresh.duration.as_secs_f64() * 1e3),
                    "Swarm state listed"
                );
                refresh.changed
            }
            Err(err) => {
                tracing::error!(
                    "cannot list the Swarm: {}; keeping the last listing",
                    describe(&err)
                );
                false
            }
        };
        if changed {
            self.quick_polls = QUICK_POLLS;
        }
        self.poll_at = self.next_poll();
        changed
    }

    /// When to poll next: only on a Swarm manager whose services a template reads; soon
    /// while tasks settle (a limited number of times after each change).
    fn next_poll(&mut self) -> Option<tokio::time::Instant> {
        let every = self.config.swarm_poll?;
        if self.swarm.role() != Role::Manager || !self.swarm.wants().any() {
            return None;
        }
        let every = if self.swarm.is_settling() && self.quick_polls > 0 && every > SETTLING_POLL {
            self.quick_polls -= 1;
            SETTLING_POLL
        } else {
            every
        };
        Some(tokio::time::Instant::now() + every)
    }

    /// The poll: lists the Swarm and renders when something changed.
    async fn poll(&mut self) {
        self.poll_at = None;
        if self.watch.clients().is_none() {
            return;
        }
        if self.refresh_swarm().await {
            tracing::debug!("the Swarm changed since the last listing");
            self.request_all();
        }
    }

    /// A worker reported an event: the Swarm changed somewhere, render from a fresh listing.
    fn update_requested(&mut self) {
        self.swarm.mark_dirty();
        self.render_from_event = true;
        self.request_all();
    }

    /// Reloads the templates whose files changed on disk, and renders them.
    async fn look_for_edits(&mut self) {
        for i in 0..self.jobs.len() {
            let changed = self.files[i].changed();
            if changed.is_empty() {
                continue;
            }
            tracing::info!(
                template = %self.jobs[i].spec.name,
                files = %changed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                "template files changed on disk"
            );
            self.reload_one(i).await;
        }
    }

    /// Re-reads every template source (SIGHUP) and renders at once; a broken template keeps
    /// its previous version in use.
    async fn reload_all(&mut self) {
        for i in 0..self.jobs.len() {
            self.reload_one(i).await;
        }
    }

    /// Re-reads template `index` and asks for its render; a broken template keeps the previous
    /// one in use. A file that changed while it was read is read again at the next look.
    async fn reload_one(&mut self, index: usize) {
        let spec = self.jobs[index].spec.clone();
        let before = self.files[index].current();
        let loaded = load_template(&self.config, &spec).await;
        if self.files[index].current() != before {
            tracing::debug!(template = %spec.name, "template files changed while read; reading them again");
            return;
        }
        self.files[index].settle(before);
        match loaded {
            Ok(template) => {
                tracing::info!(template = %spec.name, source = %template.source_description(), "template reloaded");
                self.files[index].add(template.files());
                self.jobs[index].template = Arc::new(template);
                self.swarm
                    .set_wants(swarm_wants(self.jobs.iter().map(|j| &*j.template)));
            }
            Err(err) => {
                tracing::error!(template = %spec.name, "{}; keeping the previous template", describe(&err));
            }
        }
        self.request_one(index);
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
