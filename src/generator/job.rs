//! One template's part of a run: its spec, its compiled template, its notification timer, and
//! the render that turns a snapshot into its target (one file, standard output, or one file
//! per item).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use std::time::Duration;

use crate::actions::Plan;
use crate::config::docker_gen::DockerGenOptions;
use crate::config::{EventFilter, Intervals, PerItem, TemplateSpec};
use crate::docker::events::{self, Event, EventType};
use crate::dockergen::jobs as docker_gen;
use crate::metrics::Metrics;
use crate::model::Snapshot;
use crate::output::{self, WriteOptions, WriteOutcome};
use crate::report::describe;
use crate::template::{Item, Source, Template, go};
use crate::timer::NotificationTimer;

use super::Error;

/// A template with everything the watch loop keeps for it.
#[derive(Debug)]
pub(crate) struct Job {
    /// The settings from the command line or the config file; shared with the render tasks.
    pub spec: Arc<TemplateSpec>,
    /// The template in use; replaced only by a successful reload (a render in progress keeps
    /// the one it started with). `None` while a template that failed to load at startup has
    /// not been fixed: the job renders nothing, and its file is watched for the fix.
    pub template: Option<Arc<Template>>,
    /// What runs after a change.
    pub plan: Notification,
    /// Batches the notifications (`interval`).
    pub timer: NotificationTimer,
    /// The `repeat` re-render, when configured.
    pub repeat: Option<NotificationTimer>,
    /// Debounces the renders events ask for (docker-gen's `-wait`); `None` renders at once.
    pub debounce: Option<NotificationTimer>,
    /// Renders that notify whether or not the target changed (docker-gen's `-interval`).
    pub tick: Option<Tick>,
    /// Whether the next render notifies even when its target did not change (a tick).
    pub notify_anyway: bool,
    /// Whether a render is owed to this template.
    pub due: bool,
    /// The render in flight, if any: never two of one template at once.
    pub rendering: Option<Rendering>,
    /// Whether a notification run of this template is in progress.
    pub notifying: bool,
    /// Whether the timer fired during that run, so another follows it.
    pub notify_again: bool,
}

/// What started a render in flight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rendering {
    /// Whether a watched event asked for it (it then schedules `repeat`).
    pub from_event: bool,
    /// Whether only the end of a notification run asked for it: a change then runs no action.
    pub absorb: bool,
    /// Whether it notifies even when the target did not change (a tick asked for it).
    pub notify_anyway: bool,
}

/// What runs after a job's target changed.
#[derive(Debug, Clone)]
pub(crate) enum Notification {
    /// pygen's restarts and signals.
    Actions(Plan),
    /// A docker-gen config's `-notify` command and signals.
    DockerGen(Arc<DockerGenOptions>),
}

impl Notification {
    /// Whether nothing runs.
    pub fn is_empty(&self) -> bool {
        match self {
            Notification::Actions(plan) => plan.is_empty(),
            Notification::DockerGen(options) => options.job.notify.is_empty(),
        }
    }
}

/// A periodic render.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick {
    /// The period.
    pub every: Duration,
    /// When the next one is due.
    pub next: tokio::time::Instant,
}

/// What one render reads: the state cache's snapshot, or a docker-gen job's context (its
/// daemon-side list, `.Docker` from the daemon).
pub(crate) enum Input {
    /// The snapshot every pygen template renders.
    Snapshot(Arc<Snapshot>),
    /// A docker-gen job's context, and the job's options.
    DockerGen {
        /// The template data.
        context: Box<go::Context>,
        /// The config (dest, blank lines, notify command for the log).
        options: Arc<DockerGenOptions>,
    },
}

impl Job {
    /// A job for `spec` with its loaded template (`None`: it failed to load), nothing owed
    /// yet.
    pub fn new(spec: TemplateSpec, template: Option<Template>) -> Job {
        let docker_gen = spec.docker_gen.clone();
        Job {
            plan: match &docker_gen {
                Some(options) => Notification::DockerGen(Arc::clone(options)),
                None => Notification::Actions(Plan {
                    restarts: spec.restart.clone(),
                    signals: spec.signal.clone(),
                }),
            },
            debounce: docker_gen
                .as_ref()
                .and_then(|o| o.wait())
                .map(NotificationTimer::new),
            tick: docker_gen
                .as_ref()
                .and_then(|o| o.interval())
                .map(|every| Tick {
                    every,
                    next: tokio::time::Instant::now() + every,
                }),
            notify_anyway: false,
            timer: NotificationTimer::new(spec.intervals),
            repeat: spec.repeat.map(|every| {
                NotificationTimer::new(Intervals {
                    min: every,
                    max: every,
                })
            }),
            template: template.map(Arc::new),
            spec: Arc::new(spec),
            due: false,
            rendering: None,
            notifying: false,
            notify_again: false,
        }
    }

    /// The files to watch for edits: the template's files, or the template file itself while
    /// it failed to load.
    pub fn files(&self) -> Vec<PathBuf> {
        match &self.template {
            Some(template) => template.files(),
            None => {
                let absolute = |path: PathBuf| std::path::absolute(&path).unwrap_or(path);
                match (&self.spec.docker_gen, Source::parse(&self.spec.source)) {
                    (Some(options), _) => options
                        .job
                        .templates
                        .iter()
                        .cloned()
                        .map(absolute)
                        .collect(),
                    (None, Source::File(path)) => vec![absolute(path)],
                    (None, _) => Vec::new(),
                }
            }
        }
    }

    /// The loaded templates of `jobs`.
    pub fn templates(jobs: &[Job]) -> impl Iterator<Item = &Template> {
        jobs.iter().filter_map(|j| j.template.as_deref())
    }

    /// The earliest instant one of this job's timers fires.
    pub fn next_deadline(&self) -> Option<tokio::time::Instant> {
        [
            self.timer.deadline(),
            self.repeat.as_ref().and_then(NotificationTimer::deadline),
            self.debounce.as_ref().and_then(NotificationTimer::deadline),
            self.tick.map(|t| t.next),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether Docker events render this job at all (a docker-gen config without `-watch`
    /// does not listen).
    pub fn listens(&self) -> bool {
        self.spec.docker_gen.as_ref().is_none_or(|o| o.listens())
    }

    /// Whether the job is a docker-gen config that watches: its scripts wait for docker-gen's
    /// `Watching docker events` line each time the event listener is (re)registered.
    pub fn announces_listener(&self) -> bool {
        self.spec.docker_gen.as_ref().is_some_and(|o| o.listens())
    }

    /// Whether `event` asks for a render of this job: for pygen's templates a container event
    /// whose action `events` (`--events`) holds, for a docker-gen config its event filters.
    pub fn selects(&self, event: &Event, events: &EventFilter) -> bool {
        match &self.spec.docker_gen {
            Some(options) => docker_gen::selects(options, event),
            None => {
                event.typ == Some(EventType::Container)
                    && events.matches(event.action.as_deref().unwrap_or_default())
            }
        }
    }

    /// Logs an event this job selected, in the job's style (docker-gen's
    /// `Received event ...` line, or pygen's debug line).
    pub fn log_event(&self, event: &Event) {
        match &self.spec.docker_gen {
            Some(_) => docker_gen::log_event(event),
            None => tracing::debug!(
                "Received {} event from {}",
                event.action.as_deref().unwrap_or_default(),
                events::actor_name(event)
            ),
        }
    }
}

/// Renders `template` over `input` and writes the target(s) of `spec` (see [`render_job`]; a
/// docker-gen job's context renders as docker-gen renders it). Runs on the blocking pool.
pub(crate) fn render_input(
    spec: &TemplateSpec,
    template: &Template,
    input: &Input,
    metrics: &Metrics,
) -> Result<bool, Error> {
    match input {
        Input::Snapshot(snapshot) => render_job(spec, template, snapshot, metrics),
        Input::DockerGen { context, options } => Ok(docker_gen::render(
            spec, options, template, context, metrics,
        )?),
    }
}

/// What a failed render leaves in place, for its log line: the last good target, or none yet
/// (a template that fails from the start never wrote one).
pub(crate) fn kept(spec: &TemplateSpec) -> String {
    match &spec.target {
        None => "nothing printed".to_owned(),
        Some(_) if spec.per_item.is_some() => "keeping the last good files".to_owned(),
        Some(path) if path.exists() => format!("keeping the last good target {}", path.display()),
        Some(path) => format!("no target written yet ({} does not exist)", path.display()),
    }
}

/// Renders `template` over `snapshot` and writes its target(s). Returns whether anything
/// changed (in stdout mode every render counts as a change). Runs on the blocking pool.
pub(crate) fn render_job(
    spec: &TemplateSpec,
    template: &Template,
    snapshot: &Snapshot,
    metrics: &Metrics,
) -> Result<bool, Error> {
    let started = Instant::now();
    let changed = match (&spec.per_item, &spec.target) {
        (Some(per), Some(pattern)) => {
            render_items(spec, per, pattern, template, snapshot, metrics)?
        }
        _ => render_one(spec, template, snapshot, metrics)?,
    };
    metrics.target_updated(started.elapsed());
    Ok(changed)
}

/// The write options of `spec`.
fn write_options(spec: &TemplateSpec) -> WriteOptions<'_> {
    WriteOptions {
        mode: spec.mode,
        check: spec.check.as_ref(),
    }
}

/// Counts a failed write: a refused check, or another write error.
fn count_write_error(metrics: &Metrics, name: &str, err: &output::Error) {
    if matches!(err, output::Error::Check { .. }) {
        metrics.check_failed(name);
    } else {
        metrics.write_failed(name);
    }
}

/// One target (a file or standard output).
fn render_one(
    spec: &TemplateSpec,
    template: &Template,
    snapshot: &Snapshot,
    metrics: &Metrics,
) -> Result<bool, Error> {
    let started = Instant::now();
    let rendered = template.render_snapshot(snapshot);
    let render_time = started.elapsed();
    metrics.render_finished(&spec.name, render_time, rendered.is_ok());
    let content = rendered?;
    let Some(path) = &spec.target else {
        tracing::debug!(template = %spec.name, "Printing generated content to stdout");
        output::print_stdout(&content)?;
        return Ok(true);
    };
    let outcome = output::write_file(path, &content, &write_options(spec))
        .inspect_err(|err| count_write_error(metrics, &spec.name, err))?;
    Ok(match outcome {
        WriteOutcome::Unchanged => {
            tracing::debug!(template = %spec.name, target = %path.display(), "Skip updating target file, contents have not changed");
            false
        }
        WriteOutcome::Written { bytes, in_place } => {
            metrics.write_done(&spec.name);
            tracing::info!(
                template = %spec.name,
                target = %path.display(),
                bytes,
                render_ms = format_args!("{:.2}", render_time.as_secs_f64() * 1e3),
                in_place,
                "Target file updated"
            );
            true
        }
    })
}

/// The items of `per` among the running containers, by name (sorted, so files are written in
/// a stable order).
pub(crate) fn items(per: &PerItem, snapshot: &Snapshot) -> Vec<Item> {
    let running = snapshot.running();
    match per {
        PerItem::Containers => running
            .into_iter()
            .map(|c| Item {
                name: c.name().to_owned(),
                container: Some(Arc::clone(c)),
                containers: vec![Arc::clone(c)],
            })
            .collect(),
        PerItem::Label(key) => {
            let mut groups: BTreeMap<&str, Vec<Arc<_>>> = BTreeMap::new();
            for c in running {
                if let Some(value) = c.label(key) {
                    groups.entry(value).or_default().push(Arc::clone(c));
                }
            }
            groups
                .into_iter()
                .map(|(value, containers)| Item {
                    name: value.to_owned(),
                    container: None,
                    containers,
                })
                .collect()
        }
    }
}

/// One file per item under the target pattern; files of items that went away are removed.
/// An item whose render fails keeps its last good file (and is not removed); the other items
/// are written anyway.
fn render_items(
    spec: &TemplateSpec,
    per: &PerItem,
    pattern: &Path,
    template: &Template,
    snapshot: &Snapshot,
    metrics: &Metrics,
) -> Result<bool, Error> {
    let started = Instant::now();
    let mut contents = BTreeMap::new();
    let mut failed = 0usize;
    let mut first_error = None;
    for item in items(per, snapshot) {
        match template.render_item(snapshot, &item) {
            Ok(content) => {
                contents.insert(item.name, content);
            }
            Err(err) => {
                failed += 1;
                tracing::error!(
                    template = %spec.name,
                    item = %item.name,
                    "{}; keeping its last good file",
                    describe(&err)
                );
                first_error.get_or_insert(err);
            }
        }
    }
    let render_time = started.elapsed();
    metrics.render_finished(&spec.name, render_time, failed == 0);
    if let (Some(err), true) = (first_error, contents.is_empty()) {
        // Nothing rendered: every item failed, the files stay as they are.
        return Err(err.into());
    }
    let mut outcome = if failed == 0 {
        output::per_item::write_items(pattern, &contents, &write_options(spec))
    } else {
        // Items whose render failed are not in `contents`; writing now would remove their
        // files as if the items had gone. Their files stay until the next good render.
        output::per_item::write_items_keeping(pattern, &contents, &write_options(spec))
    }
    .inspect_err(|_| metrics.write_failed(&spec.name))?;
    for (path, err) in outcome.failed.drain(..) {
        count_write_error(metrics, &spec.name, &err);
        tracing::error!(template = %spec.name, file = %path.display(), "{}; keeping the last good file", describe(&err));
    }
    for path in &outcome.written {
        metrics.write_done(&spec.name);
        tracing::info!(template = %spec.name, target = %path.display(), "Target file updated");
    }
    for path in &outcome.removed {
        tracing::info!(template = %spec.name, target = %path.display(), "Target file removed: its item is gone");
    }
    Ok(outcome.changed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dialect;

    fn container(id: &str, name: &str, labels: serde_json::Value) -> Arc<crate::model::Container> {
        let json = serde_json::json!({
            "Id": id, "Name": format!("/{name}"), "Created": "2024-01-01T00:00:00Z",
            "State": {"Status": "running"}, "Config": {"Labels": labels},
        });
        Arc::new(crate::model::Container::from_inspect_json(&json.to_string()).expect("valid"))
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            containers: vec![
                container("a1", "web-1", serde_json::json!({"app": "web"})),
                container("b2", "web-2", serde_json::json!({"app": "web"})),
                container("c3", "db", serde_json::json!({"app": "db"})),
                container("d4", "plain", serde_json::json!({})),
            ],
            ..Snapshot::default()
        }
    }

    fn spec(target: PathBuf, per_item: PerItem) -> TemplateSpec {
        TemplateSpec {
            name: "t".to_owned(),
            source: String::new(),
            dialect: Dialect::Jinja,
            target: Some(target),
            restart: Vec::new(),
            signal: Vec::new(),
            intervals: Intervals::IMMEDIATE,
            repeat: None,
            check: None,
            per_item: Some(per_item),
            mode: None,
            docker_gen: None,
        }
    }

    /// A docker-gen config's job, from its command line.
    fn docker_gen_job(args: &[&str]) -> Job {
        let flags = crate::dockergen::flags::parse(args.iter().copied()).expect("valid flags");
        let settings = crate::dockergen::settings::from_flags(&flags, None).expect("valid");
        let spec = crate::dockergen::jobs::config(&settings)
            .templates
            .remove(0);
        Job::new(spec, None)
    }

    #[tokio::test(start_paused = true)]
    async fn a_docker_gen_wait_debounces_with_its_min_and_max() {
        use std::time::Duration;
        let ms = Duration::from_millis;
        let mut job = docker_gen_job(&["-watch", "-wait", "100ms:250ms", "t"]);
        let t0 = tokio::time::Instant::now();
        let debounce = job.debounce.as_mut().expect("-wait debounces");
        debounce.schedule();
        assert_eq!(debounce.deadline(), Some(t0 + ms(100)));
        tokio::time::advance(ms(80)).await;
        debounce.schedule();
        assert_eq!(
            debounce.deadline(),
            Some(t0 + ms(180)),
            "quiet period restarts"
        );
        tokio::time::advance(ms(120)).await;
        debounce.schedule();
        assert_eq!(
            debounce.deadline(),
            Some(t0 + ms(250)),
            "never past the cap"
        );
        assert_eq!(job.next_deadline(), Some(t0 + ms(250)));
        assert!(matches!(job.plan, Notification::DockerGen(_)));

        // No -wait: events render at once; -interval ticks; no -watch: events are not heard.
        let job = docker_gen_job(&["-interval", "2", "t"]);
        assert!(job.debounce.is_none() && !job.listens());
        let tick = job.tick.expect("-interval ticks");
        assert_eq!(tick.every, Duration::from_secs(2));
        assert_eq!(job.next_deadline(), Some(tick.next));
    }

    #[test]
    fn label_items_group_the_containers_by_value() {
        let items = items(&PerItem::Label("app".to_owned()), &snapshot());
        let names: Vec<(&str, usize)> = items
            .iter()
            .map(|i| (i.name.as_str(), i.containers.len()))
            .collect();
        assert_eq!(names, [("db", 1), ("web", 2)]);
    }

    #[test]
    fn per_item_files_see_their_item_and_only_its_containers() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pattern = dir.path().join("{name}.conf");
        let template = Template::from_text(
            "t",
            "{{ item_name }}:{% for c in containers %} {{ c.name }}{% endfor %}".to_owned(),
        )
        .expect("compiles");
        let metrics = Metrics::new();
        let spec = spec(pattern.clone(), PerItem::Label("app".to_owned()));
        let changed = render_job(&spec, &template, &snapshot(), &metrics).expect("renders");
        assert!(changed);
        let web = std::fs::read_to_string(dir.path().join("web.conf")).expect("web file");
        assert_eq!(web, "web: web-1 web-2");
        let db = std::fs::read_to_string(dir.path().join("db.conf")).expect("db file");
        assert_eq!(db, "db: db");

        let again = render_job(&spec, &template, &snapshot(), &metrics).expect("renders");
        assert!(!again, "an unchanged pass reports no change");
    }

    #[test]
    fn a_container_item_is_the_container_object() {
        let dir = tempfile::tempdir().expect("temp dir");
        let template = Template::from_text("t", "{{ item.name }}={{ item.labels.app }}".to_owned())
            .expect("compiles");
        let spec = spec(dir.path().join("{name}"), PerItem::Containers);
        render_job(&spec, &template, &snapshot(), &Metrics::new()).expect("renders");
        let web = std::fs::read_to_string(dir.path().join("web-1")).expect("file");
        assert_eq!(web, "web-1=web");
        assert!(dir.path().join("plain").exists());
    }
}
