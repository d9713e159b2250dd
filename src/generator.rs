//! The loop that ties pygen together: events in, renders, atomic writes, batched notifications.
//!
//! One task owns everything mutable (the state cache, the template, the timers), so there are no
//! locks and no two renders or two notification runs at once. Renders (and the write that
//! follows) run on the blocking pool, off the runtime that serves the event stream, `/metrics`
//! and the Swarm endpoints: a slow template, a big `read_config` file or a slow disk delays
//! the target, never those. Notifications run in their own task so a slow restart never holds
//! back renders.
//!
//! When the template reads `services`, `all_services` or `nodes`, the Swarm state is listed
//! before a render only when something marked it dirty (a service or node event, an event of a
//! task's container, a request on the manager endpoint, a reconnect), so a render costs at most
//! one `/tasks` call; a poll (`--swarm-poll`, sooner while tasks are settling) catches the task
//! state changes Swarm sends no event for, and renders only when the listing changed.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::Docker;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::actions::{self, Plan, Reach};
use crate::config::{Config, Intervals};
use crate::docker::events::{self, Effect, Feed};
use crate::docker::raw::RawClient;
use crate::docker::state::StateCache;
use crate::docker::swarm::{Role, SwarmCache, Wants};
use crate::metrics::Metrics;
use crate::model::Snapshot;
use crate::output::{self, WriteOutcome};
use crate::pacer::RenderRequests;
use crate::template::{self, LoadOptions, Source, Template};
use crate::timer::NotificationTimer;
use crate::{docker, ownid};

/// Errors that end a generator run.
///
/// In watch mode only startup errors end the run; everything after startup is logged, counted
/// and retried. In one-shot mode every error ends the run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The template could not be loaded (missing file, syntax error, unreachable URL).
    #[error(transparent)]
    Template(#[from] template::Error),
    /// The target's folder does not exist or is not a folder.
    #[error("target {path}: folder {folder} does not exist")]
    TargetFolder {
        /// The target file given with `--target`.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
    /// The Docker daemon could not be reached or configured.
    #[error(transparent)]
    Connect(#[from] docker::connect::Error),
    /// Reading the daemon's state failed.
    #[error(transparent)]
    State(#[from] docker::state::Error),
    /// Writing the target failed.
    #[error(transparent)]
    Output(#[from] output::Error),
    /// The metrics endpoint could not start.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::Error),
    /// The Swarm manager role could not start.
    #[error(transparent)]
    Swarm(#[from] crate::swarm::Error),
    /// The client for raw state reads could not be built (TLS files).
    #[error(transparent)]
    Raw(#[from] Box<crate::docker::raw::Error>),
    /// Listing the Swarm's services, tasks or nodes failed.
    #[error(transparent)]
    SwarmState(crate::docker::swarm::Error),
    /// A state dump could not be read.
    #[error("state dump {path}: {source}")]
    StateDump {
        /// The dump file.
        path: PathBuf,
        /// What was wrong with it.
        #[source]
        source: StateDumpError,
    },
}

/// Why a state dump could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateDumpError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not a state dump.
    #[error(transparent)]
    Model(#[from] crate::model::Error),
}

impl Error {
    /// Whether the error is the user's configuration (exit status 2) rather than a runtime
    /// failure (exit status 1).
    pub fn is_configuration(&self) -> bool {
        match self {
            Error::Template(err) => matches!(
                err,
                template::Error::Read { .. } | template::Error::Syntax { .. }
            ),
            Error::TargetFolder { .. } | Error::StateDump { .. } => true,
            Error::Swarm(err) => err.is_configuration(),
            Error::Connect(_)
            | Error::State(_)
            | Error::SwarmState(_)
            | Error::Raw(_)
            | Error::Output(_)
            | Error::Metrics(_) => false,
        }
    }
}

/// One line for an error and its causes, for logs and the final message. A cause whose text
/// the line already holds is left out (many errors here already name their cause), and so is
/// minijinja's `(in name:line)` suffix when the location is already given.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(current) = cause {
        let text = current.to_string();
        let core = match text.rfind(" (in ") {
            Some(at) if text.ends_with(')') => &text[..at],
            _ => text.as_str(),
        };
        if !line.contains(core) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = current.source();
    }
    line
}

/// Loads the template named on the command line.
async fn load_template(config: &Config) -> Result<Template, template::Error> {
    let options = LoadOptions {
        no_ssl_check: config.no_ssl_check,
        timeout: config.template_timeout,
    };
    Template::load(&Source::parse(&config.template), &options).await
}

/// Checks that the target's folder exists, so a typo fails at startup and not at the first write.
fn check_target_folder(target: &Option<PathBuf>) -> Result<(), Error> {
    let Some(path) = target else { return Ok(()) };
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if folder.is_dir() {
        Ok(())
    } else {
        Err(Error::TargetFolder {
            path: path.clone(),
            folder,
        })
    }
}

/// The notifications configured on the command line.
fn plan(config: &Config) -> Plan {
    Plan {
        restarts: config.restart.clone(),
        signals: config.signal.clone(),
    }
}

/// What the template reads from the Swarm.
fn swarm_wants(template: &Template) -> Wants {
    Wants {
        services: template.uses_variable("services") || template.uses_variable("all_services"),
        nodes: template.uses_variable("nodes"),
    }
}

/// The client for the state reads (containers, Swarm listings): the daemon's own JSON over
/// kept-alive connections, speaking the API version `docker` negotiated.
fn raw_client(address: Option<&str>, docker: &Docker) -> Result<RawClient, Error> {
    let endpoint = docker::connect::plan(address, &docker::connect::Env::from_process())?;
    RawClient::new(&endpoint, &docker.client_version()).map_err(|err| Error::Raw(Box::new(err)))
}

/// Renders once from the daemon, writes the target if it changed, runs the actions if it did
/// (always in stdout mode, as docker-pygen does), and returns.
pub async fn one_shot(config: &Config) -> Result<(), Error> {
    let template = load_template(config).await?;
    check_target_folder(&config.target)?;
    let docker = docker::connect::connect_negotiated(config.docker_address.as_deref()).await?;
    let raw = raw_client(config.docker_address.as_deref(), &docker)?;
    let mut cache = StateCache::new(ownid::detect());
    let stats = cache.full_sync(&raw).await?;
    tracing::debug!(
        containers = stats.inspected,
        ms = stats.duration.as_secs_f64() * 1e3,
        "state read"
    );
    let metrics = Metrics::new();
    let mut snapshot = cache.snapshot();
    let mut swarm = SwarmCache::new(swarm_wants(&template));
    if swarm.needs_refresh() {
        swarm
            .refresh(&raw, &metrics)
            .await
            .map_err(Error::SwarmState)?;
        snapshot.swarm = swarm.snapshot();
    }
    let changed = render_and_write(&template, &snapshot, config.target.as_ref(), &metrics)?;
    let plan = plan(config);
    if changed && !plan.is_empty() {
        let reach = Reach {
            services: Some(&raw),
            workers: None,
        };
        actions::run_plan(&docker, &cache.running(), &plan, reach, &metrics).await;
    }
    Ok(())
}

/// Renders the snapshot and writes (or prints) the result. Returns whether the target changed;
/// in stdout mode every render counts as a change.
fn render_and_write(
    template: &Template,
    snapshot: &Snapshot,
    target: Option<&PathBuf>,
    metrics: &Metrics,
) -> Result<bool, Error> {
    let started = Instant::now();
    let rendered = template.render_snapshot(snapshot);
    let render_time = started.elapsed();
    metrics.render_finished(render_time, rendered.is_ok());
    let content = rendered?;
    let changed = match target {
        None => {
            tracing::debug!("Printing generated content to stdout");
            output::print_stdout(&content)?;
            true
        }
        Some(path) => match output::write_if_changed(path, &content)
            .inspect_err(|_| metrics.write_failed())?
        {
            WriteOutcome::Unchanged => {
                tracing::debug!(target = %path.display(), "Skip updating target file, contents have not changed");
                false
            }
            WriteOutcome::Written { bytes, in_place } => {
                metrics.write_done();
                tracing::info!(
                    target = %path.display(),
                    bytes,
                    render_ms = format_args!("{:.2}", render_time.as_secs_f64() * 1e3),
                    in_place,
                    "Target file updated"
                );
                true
            }
        },
    };
    metrics.target_updated(started.elapsed());
    Ok(changed)
}

/// The long-running generator: watches events until `shutdown` resolves. Each message on
/// `reload` (SIGHUP) re-reads the template source and renders at once.
pub async fn watch(
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
    mut reload: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let template = load_template(&config).await?;
    check_target_folder(&config.target)?;
    // Check the address once so a malformed one is a startup error, not an endless retry; a
    // daemon that is down is waited for.
    docker::connect::plan(
        config.docker_address.as_deref(),
        &docker::connect::Env::from_process(),
    )?;
    let address = config.docker_address.clone();
    let mut feed = events::spawn(move || {
        let address = address.clone();
        async move {
            docker::connect::connect_negotiated(address.as_deref())
                .await
                .map_err(|e| e.to_string())
        }
    });
    // Stops the manager endpoint when the watch ends, however it ends.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let manager = match &config.swarm {
        Some(swarm) => {
            let mut stop = stop_rx.clone();
            let endpoint = crate::swarm::start_manager(swarm, Arc::clone(&metrics), async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await?;
            Some(endpoint)
        }
        None => None,
    };
    let (workers, updates, endpoint_task) = match manager {
        Some(m) => (Some(m.workers), Some(m.updates), Some(m.task)),
        None => (None, None, None),
    };
    let wants = swarm_wants(&template);
    let mut generator = Generator {
        plan: plan(&config),
        timer: NotificationTimer::new(config.intervals),
        repeat: config.repeat.map(|every| {
            NotificationTimer::new(Intervals {
                min: every,
                max: every,
            })
        }),
        config,
        template: Arc::new(template),
        rendering: None,
        cache: StateCache::new(ownid::detect()),
        docker: None,
        was_connected: false,
        needs_sync: false,
        metrics,
        pacer: RenderRequests::new(),
        render_from_event: false,
        notifying: None,
        notify_again: false,
        swarm: SwarmCache::new(wants),
        raw: None,
        workers,
        updates,
        poll_at: None,
        quick_polls: QUICK_POLLS,
    };
    tokio::pin!(shutdown);
    loop {
        // A render starts as soon as one is owed: never on a timer. Events that arrive while a
        // render runs wait in the feed and are all served by the next one.
        let render_due = generator.docker.is_some()
            && generator.pacer.is_pending()
            && generator.rendering.is_none();
        tokio::select! {
            biased;
            () = &mut shutdown => {
                tracing::info!("shutting down");
                break;
            }
            item = feed.recv() => match item {
                Some(item) => generator.handle_feed(item),
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
                while let Ok(item) = feed.try_recv() {
                    generator.handle_feed(item);
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
                if let Err(err) = finished {
                    tracing::error!(error = %err, "the notification task failed");
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
    let _ = stop_tx.send(true);
    if let Some(task) = endpoint_task {
        let _ = task.await;
    }
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
    /// The containers, kept current from events.
    cache: StateCache,
    /// The current daemon client; `None` while the daemon is unreachable.
    docker: Option<Docker>,
    /// Whether a connection was ever made, so the next one counts as a reconnect.
    was_connected: bool,
    /// Whether the cache must be rebuilt from scratch before the next render (a reconnect whose
    /// sync failed).
    needs_sync: bool,
    /// The metrics shared with the endpoint.
    metrics: Arc<Metrics>,
    /// Whether a render is owed.
    pacer: RenderRequests,
    /// Whether the pending render was asked for by a watched event (it then schedules `--repeat`).
    render_from_event: bool,
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
    /// The client for the Swarm listings and service updates; `None` while disconnected.
    raw: Option<RawClient>,
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
}

/// How soon the Swarm is polled again while some task is on its way to its desired state.
const SETTLING_POLL: Duration = Duration::from_secs(1);

/// How many quick polls follow a change of the Swarm at most.
const QUICK_POLLS: u32 = 30;

impl Generator {
    /// Applies one item of the event feed.
    fn handle_feed(&mut self, item: Feed) {
        match item {
            Feed::Connected(docker) => {
                if self.was_connected {
                    self.metrics.reconnected();
                }
                self.was_connected = true;
                self.raw = match raw_client(self.config.docker_address.as_deref(), &docker) {
                    Ok(raw) => Some(raw),
                    Err(err) => {
                        tracing::error!("{}; the state cannot be read", describe(&err));
                        None
                    }
                };
                self.docker = Some(docker);
                self.needs_sync = true;
                self.swarm.mark_dirty();
                self.metrics.set_connected(true);
                self.pacer.request();
            }
            Feed::Disconnected(_) => {
                self.docker = None;
                self.raw = None;
                self.poll_at = None;
                self.metrics.set_connected(false);
            }
            Feed::Event(event) => {
                let action = event.action.as_deref().unwrap_or_default();
                self.metrics.event_received(action);
                match events::effect(&event) {
                    Effect::Dirty(id) => self.cache.mark_dirty(id),
                    Effect::Removed(id) => self.cache.remove(id),
                    Effect::None => {}
                }
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
                if is_container && self.config.events.matches(action) {
                    self.metrics.event_taken();
                    tracing::info!(
                        "Received {action} event from {}",
                        events::actor_name(&event)
                    );
                    self.render_from_event = true;
                    self.pacer.request();
                }
            }
        }
    }

    /// Brings the cache up to date and renders; on change, schedules the notifications.
    async fn update(&mut self) {
        if let Some(wait) = self.pacer.start() {
            self.metrics.update_started(wait);
        }
        let Some(raw) = self.raw.clone() else {
            return;
        };
        let synced = if self.needs_sync {
            let synced = self.cache.full_sync(&raw).await;
            if let Ok(stats) = &synced {
                self.needs_sync = false;
                tracing::info!(
                    containers = stats.inspected,
                    ms = format_args!("{:.1}", stats.duration.as_secs_f64() * 1e3),
                    "state synced"
                );
            }
            synced
        } else if self.cache.is_dirty() {
            self.cache.refresh(&raw).await
        } else {
            Ok(crate::docker::state::SyncStats {
                inspected: 0,
                removed: 0,
                duration: Duration::ZERO,
            })
        };
        match synced {
            Ok(stats) => {
                self.metrics.api_containers(stats.duration, true);
                self.metrics.state_refreshed();
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot read the Docker state; keeping the target as it is");
                return;
            }
        }
        if self.swarm.needs_refresh() {
            self.refresh_swarm().await;
        }
        let from_event = std::mem::take(&mut self.render_from_event);
        let mut snapshot = self.cache.snapshot();
        snapshot.swarm = self.swarm.snapshot();
        let template = Arc::clone(&self.template);
        let target = self.config.target.clone();
        let metrics = Arc::clone(&self.metrics);
        let task = tokio::task::spawn_blocking(move || {
            render_and_write(&template, &snapshot, target.as_ref(), &metrics)
        });
        self.rendering = Some(Rendering { task, from_event });
    }

    /// A render finished: on change, schedules the notifications; a failure keeps the last good
    /// target.
    fn rendered(&mut self, finished: Result<Result<bool, Error>, tokio::task::JoinError>) {
        let Some(Rendering { from_event, .. }) = self.rendering.take() else {
            return;
        };
        match finished {
            Ok(Ok(changed)) => {
                if changed && !self.plan.is_empty() {
                    self.timer.schedule();
                }
                if from_event {
                    if let Some(repeat) = self.repeat.as_mut() {
                        repeat.schedule();
                    }
                }
            }
            Ok(Err(err)) => {
                tracing::error!("{}; keeping the last good target", describe(&err));
            }
            Err(err) => {
                tracing::error!("{}; keeping the last good target", describe(&err));
            }
        }
    }

    /// Starts a notification run, or notes that one must follow the run in progress.
    fn notify(&mut self) {
        if self.notifying.is_some() {
            self.notify_again = true;
            return;
        }
        let Some(docker) = self.docker.clone() else {
            tracing::warn!("Docker daemon unreachable; notifications skipped");
            return;
        };
        let running = self.cache.running();
        let plan = self.plan.clone();
        let metrics = Arc::clone(&self.metrics);
        let raw = self.raw.clone();
        let workers = self.workers.clone();
        self.notifying = Some(tokio::spawn(async move {
            let reach = Reach {
                services: raw.as_ref(),
                workers: workers.as_deref(),
            };
            actions::run_plan(&docker, &running, &plan, reach, &metrics).await;
        }));
    }

    /// Lists the Swarm again (a render is due, or a poll), then plans the next poll. Returns
    /// whether the listing changed. A failure keeps the previous listing.
    async fn refresh_swarm(&mut self) -> bool {
        let Some(raw) = self.raw.clone() else {
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
                tracing::error!(error = %err, "cannot list the Swarm services; keeping the last listing");
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
        if self.docker.is_none() {
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

/// `pygen state`: the daemon state that renders read, as JSON (with the Swarm's services,
/// tasks and nodes when the daemon is a Swarm manager).
pub async fn dump_state(docker_address: Option<&str>) -> Result<String, Error> {
    let docker = docker::connect::connect_negotiated(docker_address).await?;
    let raw = raw_client(docker_address, &docker)?;
    let mut cache = StateCache::new(ownid::detect());
    cache.full_sync(&raw).await?;
    let mut snapshot = cache.snapshot();
    let mut swarm = SwarmCache::new(Wants {
        services: true,
        nodes: true,
    });
    swarm
        .refresh(&raw, &Metrics::new())
        .await
        .map_err(Error::SwarmState)?;
    snapshot.swarm = swarm.snapshot();
    Ok(snapshot.to_dump())
}

/// `pygen render`: renders a template from a state dump, with no daemon at all.
pub async fn render_offline(
    state: &std::path::Path,
    source: &str,
    options: &LoadOptions,
    target: Option<&PathBuf>,
) -> Result<(), Error> {
    let template = Template::load(&Source::parse(source), options).await?;
    let dump_error = |source: StateDumpError| Error::StateDump {
        path: state.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(state).map_err(|e| dump_error(e.into()))?;
    let snapshot = Snapshot::from_dump(&text).map_err(|e| dump_error(e.into()))?;
    check_target_folder(&target.cloned())?;
    render_and_write(&template, &snapshot, target, &Metrics::new())?;
    Ok(())
}
