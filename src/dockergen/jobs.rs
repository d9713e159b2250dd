//! docker-gen configs as jobs of the generator's event loop (started by
//! [`crate::generator::docker_gen`]): one loop, one [`Watch`](crate::docker::watch::Watch) and
//! one state cache for every config, so docker-gen mode has what pygen's templates have
//! (renders on the blocking pool, per-template metrics, template files watched for edits, the
//! last good file kept).
//!
//! Each config becomes a [`TemplateSpec`] carrying its [`DockerGenOptions`]; the loop asks the
//! job, not docker-gen, what to do: which events render it ([`selects`]), its
//! render debounce (`-wait`), its periodic render that always notifies (`-interval`), and its
//! notification plan (docker-gen's [`notify`](mod@super::notify)). What the renders read besides
//! the state cache (`.Docker`, the internal networks, each config's daemon-side container
//! list) comes from a [`Feed`], which reads nothing while no docker-gen job renders.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cache::DaemonData;
use super::pass::{Pass, write_output};
use super::settings::Settings;
use super::{Error, eventfilter, notify};
use crate::config::docker_gen::{DockerGenOptions, Job};
use crate::config::{Config, Dialect, EventFilter, TemplateSpec, TlsSettings};
use crate::docker::events::Event;
use crate::docker::raw::RawClient;
use crate::metrics::Metrics;
use crate::model::Snapshot;
use crate::output;
use crate::report::describe;
use crate::template::engine::Unit;
use crate::template::{self, Template, go};

/// Whether `event` asks for a render of a config: the config watches and the event passes
/// docker-gen's event filters.
pub fn selects(options: &DockerGenOptions, event: &Event) -> bool {
    options.job.watch && eventfilter::matches(&options.events, event)
}

/// docker-gen's line for an event that renders.
pub fn log_event(event: &Event) {
    let id = event
        .actor
        .as_ref()
        .and_then(|a| a.id.as_deref())
        .unwrap_or_default();
    tracing::info!(
        "Received event {} for {} {}",
        event.action.as_deref().unwrap_or_default(),
        event.typ.as_ref().map(|t| t.as_str()).unwrap_or_default(),
        id.get(..12).unwrap_or(id)
    );
}

/// The generator's configuration for a docker-gen run: one template entry per config.
pub fn config(settings: &Settings) -> Config {
    let mut templates: Vec<TemplateSpec> = settings
        .jobs
        .iter()
        .map(|job| spec(job, settings))
        .collect();
    unique_names(&mut templates);
    Config {
        templates,
        config_file: None,
        template_timeout: Duration::from_secs(60),
        no_ssl_check: false,
        // Unused: each job selects its events with docker-gen's filters.
        events: EventFilter::none(),
        one_shot: false,
        docker_address: settings.endpoint.clone(),
        // docker-gen's TLS flags reach the connection through the environment.
        docker_tls: TlsSettings::default(),
        metrics: settings.metrics,
        debug: false,
        swarm_poll: None,
        swarm: None,
    }
}

/// The template entry of one config: named after its dest, as the metrics label it.
fn spec(job: &Job, settings: &Settings) -> TemplateSpec {
    let first = job.templates.first().cloned().unwrap_or_default();
    let mut spec = TemplateSpec::new(first.display().to_string(), job.dest.clone());
    spec.dialect = Dialect::Go;
    spec.docker_gen = Some(Arc::new(DockerGenOptions {
        job: job.clone(),
        events: settings.events.clone(),
        notify_timeout: settings.notify_timeout,
    }));
    spec
}

/// Gives every entry its own name (logs, the metrics' `template` label): the dest's file name,
/// else its whole path when another dest has the same file name, numbered when even that is
/// taken (the same dest twice, several configs printing to stdout).
fn unique_names(specs: &mut [TemplateSpec]) {
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for spec in specs.iter() {
        *counts.entry(spec.name.clone()).or_default() += 1;
    }
    for spec in specs.iter_mut() {
        if counts.get(&spec.name).is_some_and(|&n| n > 1) {
            spec.name = spec.target_description();
        }
    }
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for spec in specs.iter_mut() {
        let n = seen.entry(spec.name.clone()).or_default();
        *n += 1;
        if *n > 1 {
            spec.name = format!("{} #{n}", spec.name);
        }
    }
}

/// Reads a config's template files and parses them as one set (the first is executed).
pub async fn load(options: &DockerGenOptions) -> Result<Template, template::Error> {
    let read = |path: PathBuf| async move {
        let path = std::path::absolute(&path).unwrap_or(path);
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok((path, text)),
            Err(source) => Err(template::Error::Read { path, source }),
        }
    };
    let mut files = Vec::with_capacity(options.job.templates.len());
    for path in &options.job.templates {
        files.push(read(path.clone()).await?);
    }
    if files.is_empty() {
        // Settings never hold a config without a template.
        return Err(template::Error::Read {
            path: PathBuf::new(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no template file given"),
        });
    }
    let (main, text) = files.remove(0);
    let name = main.file_name().map_or_else(
        || main.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let unit = Unit {
        name,
        description: main.display().to_string(),
        text,
        folder: main.parent().map(Path::to_path_buf),
    };
    let set = go::GoSet {
        others: files,
        keep_blank_lines: options.job.keep_blank_lines,
    };
    Template::compile(&set, unit)
}

/// The daemon-side data docker-gen jobs render from, kept between renders (see
/// [`super::cache`]): `.Docker`, the internal networks, each container's template data.
#[derive(Debug, Default)]
pub struct Feed {
    data: DaemonData,
}

impl Feed {
    /// The daemon connection was (re)established: everything is read again.
    pub fn connected(&mut self) {
        self.data.reconnected();
    }

    /// Notes an event (a network created or removed makes the next render read `/networks`).
    pub fn event(&mut self, event: &Event) {
        if let Some(typ) = &event.typ {
            self.data
                .event(typ.as_str(), event.action.as_deref().unwrap_or_default());
        }
    }

    /// The context of each of `jobs` over `snapshot` (the state cache's): one `/containers/json` per distinct
    /// filter set; `None` for a job whose list failed (logged). Reads nothing for no jobs.
    pub async fn contexts(
        &mut self,
        raw: &RawClient,
        snapshot: &Snapshot,
        jobs: &[&DockerGenOptions],
    ) -> Result<Vec<Option<go::Context>>, Error> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut pass = Pass::read(raw, &mut self.data, snapshot).await?;
        let mut contexts = Vec::with_capacity(jobs.len());
        for options in jobs {
            contexts.push(match pass.context(raw, &options.job.filters).await {
                Ok(context) => Some(context),
                Err(err) => {
                    tracing::error!("Error listing containers: {}", describe(&err));
                    None
                }
            });
        }
        tracing::debug!(
            lists = pass.lists.calls,
            counts = ?self.data.counts(),
            "docker-gen contexts built"
        );
        Ok(contexts)
    }
}

/// Renders a docker-gen job over its context and writes its dest, with docker-gen's log lines.
/// Returns whether the file changed (stdout: always). A template error is logged as docker-gen
/// logs it and keeps the last good file (`Ok(false)`); a write error is returned. Runs on the
/// blocking pool.
pub fn render(
    spec: &TemplateSpec,
    options: &DockerGenOptions,
    template: &Template,
    context: &go::Context,
    metrics: &Metrics,
) -> Result<bool, output::Error> {
    let started = Instant::now();
    let rendered = match go::render_context(template, context) {
        Some(result) => result.map_err(|e| e.to_string()),
        None => Err(format!("{} is not a Go template", spec.source)),
    };
    metrics.render_finished(&spec.name, started.elapsed(), rendered.is_ok());
    let content = match rendered {
        Ok(content) => content,
        Err(message) => {
            tracing::error!("Template error: {message}; keeping the last good file");
            return Ok(false);
        }
    };
    write_output(
        &options.job,
        &spec.name,
        &content,
        context.containers.len(),
        started,
        metrics,
    )
}

/// A docker-gen job's notifications after a change (or an `-interval` tick).
pub async fn notify(raw: &RawClient, options: &DockerGenOptions, metrics: &Metrics) {
    notify::notify(raw, &options.job.notify, options.notify_timeout, metrics).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Intervals;

    fn settings(args: &[&str]) -> Settings {
        let flags = super::super::flags::parse(args.iter().copied()).expect("valid flags");
        super::super::settings::from_flags(&flags, None).expect("valid settings")
    }

    #[test]
    fn a_config_is_a_go_entry_with_its_options() {
        let s = settings(&[
            "-watch",
            "-wait",
            "1s:3s",
            "-interval",
            "5",
            "t.tmpl",
            "/x/out.conf",
        ]);
        let config = config(&s);
        let spec = &config.templates[0];
        assert_eq!(spec.name, "out.conf");
        assert_eq!(spec.dialect, Dialect::Go);
        assert_eq!(spec.target, Some(PathBuf::from("/x/out.conf")));
        let options = spec.docker_gen.as_ref().expect("docker-gen options");
        assert!(options.listens());
        assert_eq!(
            options.wait(),
            Some(Intervals {
                min: Duration::from_secs(1),
                max: Duration::from_secs(3)
            })
        );
        assert_eq!(options.interval(), Some(Duration::from_secs(5)));
        assert_eq!(options.events, s.events);
    }

    #[test]
    fn every_entry_gets_its_own_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_file = dir.path().join("dg.toml");
        std::fs::write(
            &config_file,
            "[[config]]\ntemplate = \"t\"\ndest = \"/a/default.conf\"\n\
             [[config]]\ntemplate = \"t\"\ndest = \"/b/default.conf\"\n\
             [[config]]\ntemplate = \"t\"\ndest = \"/c/other.conf\"\n\
             [[config]]\ntemplate = \"t\"\n[[config]]\ntemplate = \"u\"\n",
        )
        .expect("write");
        let s = settings(&["-config", config_file.to_str().expect("utf-8")]);
        let names: Vec<String> = config(&s).templates.into_iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "/a/default.conf",
                "/b/default.conf",
                "other.conf",
                "stdout",
                "stdout #2"
            ]
        );
    }

    #[test]
    fn events_render_only_a_watching_config() {
        use crate::docker::events::EventType::Container;
        use crate::docker::events::test_event;
        let event = test_event(Container, "start", "abc", &[]);
        let watching = settings(&["-watch", "t"]);
        let options = config(&watching).templates[0]
            .docker_gen
            .clone()
            .expect("options");
        assert!(selects(&options, &event));
        let kill = test_event(Container, "kill", "abc", &[]);
        assert!(
            !selects(&options, &kill),
            "kill is not among docker-gen's events"
        );
        let idle = settings(&["-interval", "3", "t"]);
        let options = config(&idle).templates[0]
            .docker_gen
            .clone()
            .expect("options");
        assert!(!options.listens() && !selects(&options, &event));
    }

    #[tokio::test]
    async fn the_template_set_loads_with_its_other_files_and_blank_line_rule() {
        let dir = tempfile::tempdir().expect("temp dir");
        let main = dir.path().join("main.tmpl");
        let part = dir.path().join("part.tmpl");
        std::fs::write(&main, "{{ template \"part.tmpl\" . }}\n\n  \nend\n").expect("write");
        std::fs::write(&part, "part").expect("write");
        let set = format!("{};{}", main.display(), part.display());
        let s = settings(&["-keep-blank-lines", &set]);
        let options = s.jobs.first().cloned().map(|job| DockerGenOptions {
            job,
            events: s.events.clone(),
            notify_timeout: s.notify_timeout,
        });
        let options = options.expect("a job");
        let template = load(&options).await.expect("loads");
        assert_eq!(template.files(), vec![main.clone(), part.clone()]);
        let out = go::render_context(&template, &go::Context::default())
            .expect("a Go template")
            .expect("renders");
        assert_eq!(out, "part\n\n  \nend\n");

        std::fs::remove_file(&part).expect("remove");
        let err = load(&options).await.expect_err("a missing file");
        assert!(err.to_string().contains("part.tmpl"), "{err}");
    }
}
