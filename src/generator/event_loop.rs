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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::actions::OwnActions;
use crate::config::Config;
use crate::config::TemplateSpec;
use crate::docker::swarm::SwarmCache;
use crate::docker::watch::{Synced, Watch};
use crate::dockergen::jobs::{DockerGenOptions, Feed};
use crate::metrics::Metrics;
use crate::model::{Service, Snapshot, Swarm};
use crate::pacer::RenderRequests;
use crate::report::describe;
use crate::shutdown::Shutdown;
use crate::template::Template;

mod intake;
mod notify;
mod reload;

use super::edits::{self, Files};
use super::job::{Input, Job, Rendering, kept, render_input};
use super::{Error, check_target_folders, load_template, swarm_wants};

/// The long-running generator: watches events until `shutdown`. Each message on
/// `reload` (SIGHUP) re-reads every template source and renders at once.
pub async fn watch(
    config: Config,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
    mut reload: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    // A template that does not load stops the start only when none does: the others run,
    // and its file is watched for the fix. docker-gen configs never stop it (a template
    // error there keeps the process going, as docker-gen mode documents).
    let docker_gen = config.templates.iter().any(|s| s.docker_gen.is_some());
    let mut jobs = Vec::with_capacity(config.templates.len());
    let mut first_error = None;
    for spec in &config.templates {
        metrics.template_configured(&spec.name);
        let template = match load_template(&config, spec).await {
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
    let (workers, updates, settled) = match manager {
        Some(m) => (Some(m.workers), Some(m.updates), Some(m.settled)),
        None => (None, None, None),
    };
    let wants = swarm_wants(Job::templates(&jobs));
    let files = jobs.iter().map(|j| Files::new(j.files())).collect();
    let mut generator = Generator {
        config,
        jobs,
        files,
        renders: JoinSet::new(),
        notifications: JoinSet::new(),
        generation: 0,
        watch,
        metrics,
        pacer: RenderRequests::new(),
        render_from_event: false,
        awaiting: HashMap::new(),
        feed: Feed::default(),
        swarm: SwarmCache::new(wants),
        workers,
        updates,
        settled,
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
        let render_due = generator.watch.client().is_some() && generator.render_owed();
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
            Some(()) = recv_opt(generator.settled.as_mut()) => generator.workers_settled(),
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

/// What a render task yields: its job's generation and index, whether its target changed, and
/// (for a render with a baseline) whether the baseline differs from the target it replaced.
type RenderDone = (u64, usize, Result<bool, Error>, Option<bool>);

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
        // Containers pygen is restarting, and services it force-updated, read as they were
        // before: their state in the middle of the action must not trigger it again (see
        // `OwnActions`). So does a container whose action ended while the inspect that
        // reads its new state is in flight: the cache holds it half-way.
        let listed = self.swarm.snapshot();
        let own = self
            .own
            .render_view(listed.as_deref(), |id| self.own_awaiting.contains(id));
        crate::actions::as_before(&mut snapshot.containers, &own.held);
        snapshot.swarm = before_services(listed.as_ref(), &own.held_services);
        // A render that takes in what pygen's finished actions changed does not act on that,
        // but acts on a real change that came with it: its baseline is the state with those
        // actions undone, and a target whose baseline render differs from the file on disk
        // changed for another reason too.
        let baseline = own.baseline.then(|| {
            let mut baseline = snapshot.clone();
            crate::actions::as_before(&mut baseline.containers, &own.settled);
            baseline.swarm = before_services(listed.as_ref(), &own.baseline_services);
            Arc::new(baseline)
        });
        let snapshot = Arc::new(snapshot);
        let Some(mut inputs) = self.docker_gen_inputs(&starting, &snapshot).await else {
            return;
        };
        for i in starting {
            let job = &mut self.jobs[i];
            let Some(template) = job.template.clone() else {
                continue;
            };
            let input = match inputs.remove(&i) {
                Some(Some(input)) => input,
                // A docker-gen config whose list failed (logged): rendered at its next event.
                Some(None) => continue,
                None => Input::Snapshot(Arc::clone(&snapshot)),
            };
            job.rendering = Some(Rendering {
                from_event,
                absorb,
                notify_anyway: std::mem::take(&mut job.notify_anyway),
            });
            let spec = Arc::clone(&job.spec);
            let metrics = Arc::clone(&self.metrics);
            let generation = self.generation;
            // Only a template with actions has an action to hold back.
            let baseline = baseline.clone().filter(|_| !job.plan.is_empty());
            self.renders.spawn_blocking(move || {
                let baseline_differs =
                    baseline.and_then(|b| baseline_differs(&spec, &template, &input, &b));
                (
                    generation,
                    i,
                    render_input(&spec, &template, &input, &metrics),
                    baseline_differs,
                )
            });
        }
    }

    /// The inputs of the docker-gen configs among `starting` (the others render the snapshot),
    /// by index; `None` for a config whose list failed. `None` in all when the daemon's data
    /// cannot be read (logged): those renders wait for the next request.
    async fn docker_gen_inputs(
        &mut self,
        starting: &[usize],
        snapshot: &Snapshot,
    ) -> Option<HashMap<usize, Option<Input>>> {
        let wanted: Vec<(usize, Arc<DockerGenOptions>)> = starting
            .iter()
            .filter(|&&i| self.jobs[i].template.is_some())
            .filter_map(|&i| Some((i, Arc::clone(self.jobs[i].spec.docker_gen.as_ref()?))))
            .collect();
        if wanted.is_empty() {
            return Some(HashMap::new());
        }
        let raw = self.watch.client()?.clone();
        let options: Vec<&DockerGenOptions> = wanted.iter().map(|(_, o)| &**o).collect();
        let contexts = match self.feed.contexts(&raw, snapshot, &options).await {
            Ok(contexts) => contexts,
            Err(err) => {
                tracing::error!("{}; keeping the files as they are", describe(&err));
                return None;
            }
        };
        Some(
            wanted
                .into_iter()
                .zip(contexts)
                .map(|((i, options), context)| {
                    let input = context.map(|context| Input::DockerGen {
                        context: Box::new(context),
                        options,
                    });
                    (i, input)
                })
                .collect(),
        )
    }

    /// A template's render finished: on change, schedules its notifications; a failure keeps
    /// its last good target.
    fn rendered(&mut self, finished: Result<RenderDone, tokio::task::JoinError>) {
        let (generation, index, result, baseline_differs) = match finished {
            Ok(done) => done,
            Err(err) => {
                // A panicking render: which template is unknown here, so none is blocked
                // for good: every template marked as rendering that is not is released.
                tracing::error!(error = %describe(&err), "a render task failed");
                return;
            }
        };
        if generation != self.generation {
            // A render of the configuration before the last reload: its job is gone, but it
            // may have written a target after the new configuration's render did. One more
            // render of every template puts the current content back.
            self.request_all();
            return;
        }
        let Some(job) = self.jobs.get_mut(index) else {
            return;
        };
        let Some(Rendering {
            from_event,
            absorb,
            notify_anyway,
        }) = job.rendering.take()
        else {
            return;
        };
        match result {
            Ok(changed) => {
                // With a baseline the own change is told from a real one; without one, the
                // own render (requested when the action ended) is taken as own.
                let own_only = baseline_differs.map_or(absorb, |differs| !differs);
                if changed && own_only {
                    tracing::debug!(template = %job.spec.name, "the target changed by pygen's own actions: no notification");
                } else if (changed || notify_anyway) && !job.plan.is_empty() {
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
    }
}

/// The Swarm listing with `held` services as they were before pygen's own update.
fn before_services(listed: Option<&Arc<Swarm>>, held: &[Arc<Service>]) -> Option<Arc<Swarm>> {
    match listed {
        Some(swarm) if !held.is_empty() => Some(Arc::new(swarm.as_before(held))),
        listed => listed.cloned(),
    }
}

/// Whether the render of `baseline` (the state with pygen's finished actions undone) differs
/// from the target on disk: then the target changed for another reason than those actions.
/// Only a pygen template with one target file can tell (`None` for the others: their render
/// requested when the actions ended is taken as own, see `OwnActions`).
fn baseline_differs(
    spec: &TemplateSpec,
    template: &Template,
    input: &Input,
    baseline: &Snapshot,
) -> Option<bool> {
    let (Input::Snapshot(_), Some(path), None) = (input, &spec.target, &spec.per_item) else {
        return None;
    };
    let rendered = template.render_snapshot(baseline).ok()?;
    // No target yet: nothing was written before the action, any content is a change.
    let on_disk = std::fs::read(path).unwrap_or_default();
    Some(rendered.as_bytes() != on_disk.as_slice())
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
mod tests {
    use super::*;
    use crate::model::Container;

    fn container(name: &str, started: &str) -> Arc<Container> {
        Arc::new(
            Container::from_inspect_json(&format!(
                r#"{{"Id": "{name}", "Name": "/{name}", "State": {{"Running": true, "Status": "running", "StartedAt": "{started}"}}}}"#
            ))
            .expect("a container"),
        )
    }

    /// The own render after a restart acts only when its baseline (the restart undone) differs
    /// from the target on disk: a real change came with it.
    #[test]
    fn an_own_render_acts_on_a_real_change_that_came_with_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("target");
        let spec = TemplateSpec::new(String::new(), Some(target.clone()));
        let template = Template::from_text(
            "t",
            "{% for c in containers %}{{ c.name }} {{ c.raw.State.StartedAt }}\n{% endfor %}"
                .into(),
        )
        .expect("a template");
        let proxy_before = container("proxy", "2026-12-03T08:00:00Z");
        let proxy_after = container("proxy", "2026-12-03T08:00:05Z");
        let other = container("other", "2026-12-03T07:00:00Z");
        let snapshot = |containers: Vec<Arc<Container>>| Snapshot {
            containers,
            ..Snapshot::default()
        };
        // The target as written before the restart.
        let written = template
            .render_snapshot(&snapshot(vec![Arc::clone(&proxy_before)]))
            .expect("render");
        std::fs::write(&target, written).expect("write");
        let input = Input::Snapshot(Arc::new(snapshot(vec![Arc::clone(&proxy_after)])));

        // Only the restart changed the state: the baseline is the target.
        let baseline = snapshot(vec![Arc::clone(&proxy_before)]);
        assert_eq!(
            baseline_differs(&spec, &template, &input, &baseline),
            Some(false)
        );
        // Another container came at the same time: a real change.
        let baseline = snapshot(vec![Arc::clone(&proxy_before), other]);
        assert_eq!(
            baseline_differs(&spec, &template, &input, &baseline),
            Some(true)
        );
        // Standard output cannot tell.
        let stdout = TemplateSpec::new(String::new(), None);
        assert_eq!(
            baseline_differs(&stdout, &template, &input, &baseline),
            None
        );
    }
}
