//! The watch loop: events in, renders, atomic writes, batched notifications.
//!
//! One task owns everything mutable (the state cache, the template, the timers), so there are no
//! locks and no two renders or two notification runs at once. Renders (and the write that
//! follows) run on the blocking pool, off the runtime that serves the event stream, `/metrics`
//! and the Swarm endpoints: a slow template, a big `read_config` file or a slow disk delays
//! the target, never those. Notifications run in their own task so a slow restart never holds
//! back renders.
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
use tokio::task::JoinHandle;

use crate::actions::{self, OwnActions, Plan, Reach};
use crate::config::{Config, Intervals};
use crate::docker::events;
use crate::docker::swarm::{Role, SwarmCache};
use crate::docker::watch::{Change, Synced, Watch};
use crate::metrics::Metrics;
use crate::pacer::RenderRequests;
use crate::report::describe;
use crate::shutdown::Shutdown;
use crate::template::Template;
use crate::timer::NotificationTimer;

use super::{Error, check_target_folder, kept, load_template, plan, render_and_write, swarm_wants};

/// The long-running generator: watches events until `shutdown`. Each message on
/// `reload` (SIGHUP) re-reads the template source and renders at once.
pub async fn watch(
    config: Config,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
    mut reload: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let template = load_template(&config).await?;
    check_target_folder(&config.templates[0].target)?;
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
    let wants = swarm_wants(&template);
    let mut generator = Generator {
        plan: plan(&config),
        timer: NotificationTimer::new(config.templates[0].intervals),
        repeat: config.templates[0].repeat.map(|every| {
            NotificationTimer::new(Intervals {
                min: every,
                max: every,
            })
        }),
        config,
        template: Arc::new(template),
        rendering: None,
        watch,
        metrics,
        pacer: RenderRequests::new(),
        render_from_event: false,
        awaiting: HashSet::new(),
        notifying: None,
        notify_again: false,
        swarm: SwarmCache::new(wants),
        workers,
        updates,
        poll_at: None,
        quick_polls: QUICK_POLLS,
        own: OwnActions::default(),
        own_render: None,
        own_awaiting: HashSet::new(),
    };
    loop {
        // A render starts as soon as one is owed: never on a timer. Events that arrive while a
        // render runs wait in the feed and are all served by the next one.
        let render_due = generator.watch.clients().is_some()
            && generator.pacer.is_pending()
            && generator.rendering.is_none();
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
            Some(()) = reload.recv() => generator.reload().await,
            Some(()) = recv_opt(generator.updates.as_mut()) => generator.update_requested(),
            () = sleep_until_opt(generator.poll_at) => generator.poll().await,
            () = std::future::ready(()), if render_due => {
                // Take every event that is already waiting, so one render serves them all.
                while let Some(change) = generator.watch.try_next() {
                    generator.handle_change(change);
                }
                generator.update().await;
            }
            finished = join_opt(generator.rendering.as_mut().map(|r| &mut r.task)) => {
                generator.rendered(finished);
            }
            () = generator.timer.fired() => generator.notify(),
            () = fired_opt(generator.repeat.as_mut()) => {
                tracing::debug!("repeating the generation");
                generator.pacer.request();
            }
            finished = join_opt(generator.notifying.as_mut()) => {
                generator.notifying = None;
                generator.own_actions_done();
                if let Err(err) = finished {
                    tracing::error!(error = %describe(&err), "the notification task failed");
                }
                if std::mem::take(&mut generator.notify_again) {
                    generator.notify();
                }
            }
        }
    }
    if let Some(task) = generator.notifying.take() {
        task.abort();
    }
    // A render in progress ends on its own (it cannot be interrupted) and its atomic write
    // either lands whole or not at all; the process does not wait for it longer than the
    // runtime's shutdown allows.
    drop(generator.rendering.take());
    Ok(())
}

/// Everything the watch loop owns.
struct Generator {
    /// The validated command line.
    config: Config,
    /// The template in use; replaced only by a successful reload (a render in progress keeps
    /// the one it started with).
    template: Arc<Template>,
    /// The render running on the blocking pool, if any: never two at once.
    rendering: Option<Rendering>,
    /// The event feed, the containers kept current from it, and the daemon's clients.
    watch: Watch,
    /// The metrics shared with the endpoint.
    metrics: Arc<Metrics>,
    /// Whether a render is owed.
    pacer: RenderRequests,
    /// Whether the pending render was asked for by a watched event (it then schedules `--repeat`).
    render_from_event: bool,
    /// Containers whose watched event waits for their inspect: the render comes when it lands,
    /// and renders in between (for other changes) do not wait for it.
    awaiting: HashSet<String>,
    /// The restarts and signals to run on change.
    plan: Plan,
    /// Batches notifications (`--interval`).
    timer: NotificationTimer,
    /// The `--repeat` re-generation, when configured.
    repeat: Option<NotificationTimer>,
    /// The notification run in progress, if any: never two at once.
    notifying: Option<JoinHandle<()>>,
    /// Whether the timer fired during a notification run, so another run follows it.
    notify_again: bool,
    /// Services, tasks and nodes, listed when the template reads them.
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
    /// Reacts to one change the watch saw (already applied to its cache).
    fn handle_change(&mut self, change: Change) {
        match change {
            Change::Connected => {
                // The full sync before the next render reads every container.
                self.awaiting.clear();
                self.own_awaiting.clear();
                self.swarm.mark_dirty();
                self.pacer.request();
            }
            Change::Inspected { id, ok } => {
                let own = self.own_awaiting.remove(&id);
                if self.awaiting.remove(&id) || !ok {
                    self.render_from_event = true;
                    self.pacer.request();
                } else if own {
                    // The state an action of pygen's left (a restarted container running
                    // again) reaches the target, without acting again.
                    self.request_own_render();
                }
            }
            Change::Disconnected => {
                self.poll_at = None;
            }
            Change::Event(event) => {
                let action = event.action.as_deref().unwrap_or_default();
                if events::touches_swarm(&event) {
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
                        self.pacer.request();
                    }
                }
                let is_container = matches!(
                    event.typ,
                    Some(bollard::models::EventMessageTypeEnum::CONTAINER)
                );
                let is_own = is_container && self.own.is_own(&event);
                if is_own {
                    // Not rendered for now, but the container's inspect in flight is: the
                    // render after the action must not read the state before it landed.
                    if let events::Effect::Dirty(id) = events::effect(&event) {
                        if self.watch.inspecting(id) {
                            self.own_awaiting.insert(id.to_owned());
                        }
                    }
                }
                if is_container && self.config.events.matches(action) && !is_own {
                    self.metrics.event_taken();
                    tracing::debug!(
                        "Received {action} event from {}",
                        events::actor_name(&event)
                    );
                    match events::effect(&event) {
                        // Rendered when the inspect lands, not before: until then the cache
                        // holds nothing new about this container.
                        events::Effect::Dirty(id) if self.watch.inspecting(id) => {
                            self.awaiting.insert(id.to_owned());
                        }
                        events::Effect::Removed(id) => {
                            self.awaiting.remove(id);
                            self.render_from_event = true;
                            self.pacer.request();
                        }
                        _ => {
                            self.render_from_event = true;
                            self.pacer.request();
                        }
                    }
                }
            }
        }
    }

    /// Brings the cache up to date and renders; on change, schedules the notifications.
    async fn update(&mut self) {
        if let Some(wait) = self.pacer.start() {
            self.metrics.update_started(wait);
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
                tracing::error!("{}; keeping the target as it is", describe(&err));
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
        let template = Arc::clone(&self.template);
        let target = self.config.templates[0].target.clone();
        let metrics = Arc::clone(&self.metrics);
        let task = tokio::task::spawn_blocking(move || {
            render_and_write(&template, &snapshot, target.as_ref(), &metrics)
        });
        self.rendering = Some(Rendering {
            task,
            from_event,
            absorb,
        });
    }

    /// A render finished: on change, schedules the notifications; a failure keeps the last good
    /// target.
    fn rendered(&mut self, finished: Result<Result<bool, Error>, tokio::task::JoinError>) {
        let Some(Rendering {
            from_event, absorb, ..
        }) = self.rendering.take()
        else {
            return;
        };
        match finished {
            Ok(Ok(changed)) => {
                if changed && absorb {
                    tracing::debug!("the target changed by pygen's own actions: no notification");
                } else if changed && !self.plan.is_empty() {
                    self.timer.schedule();
                }
                if from_event {
                    if let Some(repeat) = self.repeat.as_mut() {
                        repeat.schedule();
                    }
                }
            }
            Ok(Err(err)) => {
                tracing::error!(
                    "{}; {}",
                    describe(&err),
                    kept(self.config.templates[0].target.as_ref())
                );
            }
            Err(err) => {
                tracing::error!(
                    "{}; {}",
                    describe(&err),
                    kept(self.config.templates[0].target.as_ref())
                );
            }
        }
    }

    /// A notification run ended: if it restarted or signalled a local container, renders what
    /// that changed (a start time, an address) unless a render is owed anyway, and marks that
    /// render so its change does not act again ([`OwnActions`] holds back the actions' own
    /// events).
    fn own_actions_done(&mut self) {
        if self.own.take_acted() {
            self.request_own_render();
        }
    }

    /// Asks for a render whose change does not act (see [`Generator::own_actions_done`]),
    /// unless a render is owed anyway.
    fn request_own_render(&mut self) {
        if !self.pacer.is_pending() {
            self.pacer.request();
            self.own_render = Some(self.pacer.requests());
        }
    }

    /// Starts a notification run, or notes that one must follow the run in progress.
    fn notify(&mut self) {
        if self.notifying.is_some() {
            self.notify_again = true;
            return;
        }
        let Some(clients) = self.watch.clients().cloned() else {
            tracing::warn!("Docker daemon unreachable; notifications skipped");
            return;
        };
        let running = self.watch.cache().running();
        let plan = self.plan.clone();
        let metrics = Arc::clone(&self.metrics);
        let workers = self.workers.clone();
        let own = self.own.clone();
        self.notifying = Some(tokio::spawn(async move {
            let reach = Reach {
                services: Some(&clients.raw),
                workers: workers.as_deref(),
                own: Some(&own),
            };
            actions::run_plan(&clients.docker, &running, &plan, reach, &metrics).await;
        }));
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

    /// When to poll next: only on a Swarm manager whose services the template reads; soon
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
            self.pacer.request();
        }
    }

    /// A worker reported an event: the Swarm changed somewhere, render from a fresh listing.
    fn update_requested(&mut self) {
        self.swarm.mark_dirty();
        self.render_from_event = true;
        self.pacer.request();
    }

    /// Re-reads the template source (SIGHUP) and renders at once; a broken template keeps the
    /// previous one in use.
    async fn reload(&mut self) {
        match load_template(&self.config).await {
            Ok(template) => {
                tracing::info!(template = %template.source_description(), "template reloaded");
                self.swarm.set_wants(swarm_wants(&template));
                self.template = Arc::new(template);
            }
            Err(err) => {
                tracing::error!("{}; keeping the previous template", describe(&err));
            }
        }
        self.pacer.request();
    }
}

/// A render on the blocking pool, and what started it.
struct Rendering {
    /// The render and write; yields whether the target changed.
    task: JoinHandle<Result<bool, Error>>,
    /// Whether a watched event asked for it (it then schedules `--repeat`).
    from_event: bool,
    /// Whether only the end of a notification run asked for it: a change then runs no action.
    absorb: bool,
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

/// Waits for an optional timer, or forever when there is none.
async fn fired_opt(timer: Option<&mut NotificationTimer>) {
    match timer {
        Some(timer) => timer.fired().await,
        None => std::future::pending().await,
    }
}

/// Waits for an optional task, or forever when there is none.
async fn join_opt<T>(task: Option<&mut JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match task {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}
