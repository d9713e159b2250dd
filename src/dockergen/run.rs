//! The docker-gen run: one pass over every job (one-shot), or the watch loop that serves every
//! job from one [`Watch`] (one event feed, one state cache: one inspect per changed container
//! however many jobs), with docker-gen's `-wait` debounce, `-interval` ticks and SIGHUP.
//!
//! A pass reads `/version` (once per connection), `/info` and `/networks` once for all jobs,
//! and one filtered `/containers/json` per job (the daemon applies docker-gen's filters); the
//! containers themselves come from the cache. A template error is logged with Go's location and
//! keeps the last good file; the next pass tries again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::EventMessage;
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::time::Instant as TokioInstant;

use super::settings::{Filters, Job, Settings, Wait};
use super::{Error, context, notify};
use crate::docker::raw::RawClient;
use crate::docker::state::StateCache;
use crate::docker::watch::{Change, Watch};
use crate::metrics::Metrics;
use crate::model::Container;
use crate::output::{self, WriteOutcome};
use crate::report::describe;
use crate::shutdown::Shutdown;
use crate::template::go::{self, RenderOptions};

/// What every job of one pass shares: `.Docker`, the internal networks, the cached containers.
struct Pass {
    docker: go::data::Docker,
    internal: HashSet<String>,
    containers: HashMap<String, Arc<Container>>,
}

async fn get_json(raw: &RawClient, path: &str) -> Result<Json, Error> {
    let body = raw.get(path).await.map_err(|e| Error::Daemon {
        what: path.to_owned(),
        reason: describe(&e),
    })?;
    serde_json::from_slice(&body).map_err(|e| Error::Daemon {
        what: path.to_owned(),
        reason: e.to_string(),
    })
}

impl Pass {
    async fn read(raw: &RawClient, version: &Json, cache: &StateCache) -> Result<Pass, Error> {
        let info = get_json(raw, "/info").await?;
        let networks = get_json(raw, "/networks").await?;
        let snapshot = cache.snapshot();
        Ok(Pass {
            docker: context::docker(version, &info, snapshot.own_container_id.as_deref()),
            internal: context::internal_networks(&networks),
            containers: snapshot
                .containers
                .into_iter()
                .map(|c| (c.id().to_owned(), c))
                .collect(),
        })
    }

    /// The job's context: the containers its filters let through, in the daemon's order.
    async fn context(&self, raw: &RawClient, filters: &Filters) -> Result<go::Context, Error> {
        let ids = notify::list_ids(raw, filters, true)
            .await
            .map_err(|reason| Error::Daemon {
                what: "/containers/json".to_owned(),
                reason,
            })?;
        let containers = ids
            .iter()
            .filter_map(|id| self.containers.get(id))
            .filter_map(|c| serde_json::from_str::<Json>(c.raw_json()).ok())
            .map(|inspect| context::runtime_container(&inspect, &self.internal))
            .collect();
        Ok(context::context(self.docker.clone(), containers))
    }
}

/// Reads the job's template files (again at every render, as docker-gen does) and renders.
pub fn render_files(
    templates: &[PathBuf],
    context: &go::Context,
    keep_blank_lines: bool,
) -> Result<String, Error> {
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| Error::TemplateFile {
            path: p.clone(),
            reason: e.to_string(),
        })
    };
    let base = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let first = templates.first().ok_or(Error::NoTemplate)?;
    let text = read(first)?;
    let others = templates[1..]
        .iter()
        .map(|p| Ok((base(p), read(p)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let options = RenderOptions {
        name: base(first),
        keep_blank_lines,
    };
    // Real paths: absolute ones as given, relative ones from the working folder.
    let root = Path::new("/");
    go::render_docker_gen_with(&text, &others, context, root, &options)
        .map_err(|e| Error::Render(e.to_string()))
}

/// Renders one job and writes its dest. Returns whether the file changed (stdout: always).
fn render_and_write(job: &Job, context: &go::Context, metrics: &Metrics) -> Result<bool, Error> {
    let started = Instant::now();
    let rendered = render_files(&job.templates, context, job.keep_blank_lines);
    metrics.render_finished(started.elapsed(), rendered.is_ok());
    let content = rendered?;
    let Some(dest) = &job.dest else {
        output::print_stdout(&content).map_err(|e| Error::Write(describe(&e)))?;
        return Ok(true);
    };
    match output::write_if_changed(dest, &content) {
        Ok(WriteOutcome::Unchanged) => {
            tracing::info!(
                "Contents of {} did not change. Skipping notification '{}'",
                dest.display(),
                job.notify.command.as_deref().unwrap_or_default()
            );
            Ok(false)
        }
        Ok(WriteOutcome::Written { .. }) => {
            metrics.write_done();
            metrics.target_updated(started.elapsed());
            tracing::info!(
                "Generated '{}' from {} containers",
                dest.display(),
                context.containers.len()
            );
            Ok(true)
        }
        Err(e) => {
            metrics.write_failed();
            Err(Error::Write(format!(
                "{}: {}",
                dest.display(),
                describe(&e)
            )))
        }
    }
}

/// One job's render from a pass, off the runtime; errors are logged here.
async fn run_job(job: &Job, pass: &Pass, raw: &RawClient, metrics: &Arc<Metrics>) -> bool {
    let context = match pass.context(raw, &job.filters).await {
        Ok(c) => c,
        Err(err) => {
            tracing::error!("Error listing containers: {}", describe(&err));
            return false;
        }
    };
    let job_copy = job.clone();
    let m = Arc::clone(metrics);
    let result =
        tokio::task::spawn_blocking(move || render_and_write(&job_copy, &context, &m)).await;
    match result {
        Ok(Ok(changed)) => changed,
        Ok(Err(err)) => {
            tracing::error!("{}; keeping the last good file", describe(&err));
            false
        }
        Err(err) => {
            tracing::error!("the render task failed: {err}; keeping the last good file");
            false
        }
    }
}

/// Renders every job once, notifies where the file changed, and returns. A template error
/// fails the run (after the other jobs were served).
pub async fn one_shot(settings: &Settings) -> Result<(), Error> {
    let docker = crate::docker::connect::connect_negotiated(settings.endpoint.as_deref()).await?;
    let endpoint = crate::docker::connect::plan(
        settings.endpoint.as_deref(),
        &crate::docker::connect::Env::from_process(),
    )?;
    let raw = RawClient::new(&endpoint, &docker.client_version()).map_err(|e| Error::Daemon {
        what: "client".into(),
        reason: describe(&e),
    })?;
    let mut cache = StateCache::new(crate::ownid::detect());
    cache.full_sync(&raw).await?;
    let version = get_json(&raw, "/version").await?;
    let pass = Pass::read(&raw, &version, &cache).await?;
    let metrics = Metrics::new();
    let mut failed = None;
    for job in &settings.jobs {
        let context = pass.context(&raw, &job.filters).await?;
        match render_and_write(job, &context, &metrics) {
            Ok(true) => notify::notify(&docker, &raw, &job.notify, settings.notify_timeout).await,
            Ok(false) => {}
            Err(err) => {
                tracing::error!("{}", describe(&err));
                failed.get_or_insert(err);
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Whether `event` passes docker-gen's event filters (what the daemon would have applied).
pub fn event_matches(filters: &Filters, event: &EventMessage) -> bool {
    let action = event.action.as_deref().unwrap_or_default();
    let typ = event.typ.map(|t| t.to_string()).unwrap_or_default();
    let id = event
        .actor
        .as_ref()
        .and_then(|a| a.id.as_deref())
        .unwrap_or_default();
    let attrs = event.actor.as_ref().and_then(|a| a.attributes.as_ref());
    let attr = |k: &str| attrs.and_then(|a| a.get(k)).map(String::as_str);
    filters.iter().all(|(key, values)| {
        values.iter().any(|v| match key.as_str() {
            "event" => action == v || action.split(':').next() == Some(v.as_str()),
            "type" => typ == *v,
            "container" => !v.is_empty() && (id.starts_with(v.as_str()) || attr("name") == Some(v)),
            "image" => attr("image") == Some(v),
            "label" => match v.split_once('=') {
                Some((k, val)) => attr(k) == Some(val),
                None => attr(v).is_some(),
            },
            "network" => id == v || (typ == "network" && attr("name") == Some(v)),
            _ => true,
        })
    })
}

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
fn spawn_notifier(job: &Job, timeout: Duration) -> mpsc::UnboundedSender<(Docker, RawClient)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Docker, RawClient)>();
    let plan = job.notify.clone();
    tokio::spawn(async move {
        while let Some(mut clients) = rx.recv().await {
            while let Ok(newer) = rx.try_recv() {
                clients = newer;
            }
            notify::notify(&clients.0, &clients.1, &plan, timeout).await;
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
            notifier: spawn_notifier(job, settings.notify_timeout),
        })
        .collect();
    let mut version: Option<Json> = None;
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
                Some(change) => handle(change, &settings.events, &mut jobs, &mut version, any_watch),
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
                    handle(change, &settings.events, &mut jobs, &mut version, any_watch);
                }
                pass(&mut watch, &mut jobs, &mut version, &metrics).await;
            }
        }
    }
    Ok(())
}

fn handle(
    change: Change,
    events: &Filters,
    jobs: &mut [JobState],
    version: &mut Option<Json>,
    any_watch: bool,
) {
    match change {
        Change::Connected => {
            if any_watch {
                tracing::info!("Watching docker events");
            }
            *version = None;
            jobs.iter_mut().for_each(|j| j.pending = true);
        }
        Change::Disconnected => tracing::warn!("Docker daemon connection interrupted"),
        Change::Event(event) => {
            if !any_watch || !event_matches(events, &event) {
                return;
            }
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
            let now = TokioInstant::now();
            for j in jobs.iter_mut().filter(|j| j.job.watch) {
                match j.job.wait {
                    Some(wait) => j.debounce.schedule(wait, now),
                    None => j.pending = true,
                }
            }
        }
    }
}

/// Brings the cache current and renders every pending job.
async fn pass(
    watch: &mut Watch,
    jobs: &mut [JobState],
    version: &mut Option<Json>,
    metrics: &Arc<Metrics>,
) {
    if let Err(err) = watch.bring_current().await {
        tracing::error!("{}; keeping the files as they are", describe(&err));
        return;
    }
    let Some(clients) = watch.clients().cloned() else {
        return;
    };
    if version.is_none() {
        match get_json(&clients.raw, "/version").await {
            Ok(v) => *version = Some(v),
            Err(err) => {
                tracing::error!("{}; keeping the files as they are", describe(&err));
                return;
            }
        }
    }
    let Some(v) = version.as_ref() else { return };
    let shared = match Pass::read(&clients.raw, v, watch.cache()).await {
        Ok(p) => p,
        Err(err) => {
            tracing::error!("{}; keeping the files as they are", describe(&err));
            return;
        }
    };
    for j in jobs.iter_mut().filter(|j| j.pending) {
        j.pending = false;
        let changed = run_job(&j.job, &shared, &clients.raw, metrics).await;
        let force = std::mem::take(&mut j.force_notify);
        if (changed || force) && !j.job.notify.is_empty() {
            let _ = j
                .notifier
                .send((clients.docker.clone(), clients.raw.clone()));
        }
    }
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
    use bollard::models::{EventActor, EventMessageTypeEnum};

    fn event(typ: EventMessageTypeEnum, action: &str, attrs: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            typ: Some(typ),
            action: Some(action.to_owned()),
            actor: Some(EventActor {
                id: Some("0123456789abcdef".to_owned()),
                attributes: Some(
                    attrs
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
            }),
            ..Default::default()
        }
    }

    fn filters(items: &[(&str, &[&str])]) -> Filters {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn docker_gen_event_filters() {
        let f = filters(&[(
            "event",
            &["start", "stop", "die", "health_status", "connect"],
        )]);
        assert!(event_matches(
            &f,
            &event(EventMessageTypeEnum::CONTAINER, "start", &[])
        ));
        assert!(event_matches(
            &f,
            &event(
                EventMessageTypeEnum::CONTAINER,
                "health_status: healthy",
                &[]
            )
        ));
        assert!(event_matches(
            &f,
            &event(EventMessageTypeEnum::NETWORK, "connect", &[])
        ));
        assert!(!event_matches(
            &f,
            &event(EventMessageTypeEnum::CONTAINER, "create", &[])
        ));
        let f = filters(&[("event", &["start"]), ("label", &["a=1", "b"])]);
        assert!(event_matches(
            &f,
            &event(EventMessageTypeEnum::CONTAINER, "start", &[("a", "1")])
        ));
        assert!(event_matches(
            &f,
            &event(EventMessageTypeEnum::CONTAINER, "start", &[("b", "")])
        ));
        assert!(!event_matches(
            &f,
            &event(EventMessageTypeEnum::CONTAINER, "start", &[("a", "2")])
        ));
        let f = filters(&[("type", &["container"]), ("container", &["web"])]);
        assert!(event_matches(
            &f,
            &event(EventMessageTypeEnum::CONTAINER, "x", &[("name", "web")])
        ));
        assert!(!event_matches(
            &f,
            &event(EventMessageTypeEnum::NETWORK, "x", &[("name", "web")])
        ));
    }

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
