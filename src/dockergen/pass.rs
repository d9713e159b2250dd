//! One render pass, shared by the one-shot run and the watch loop: `/version` (once per
//! connection), `/info` and `/networks` once for all jobs, one filtered `/containers/json` per
//! job (the daemon applies docker-gen's filters); the containers themselves come from the state
//! cache, turned into docker-gen's data by [`super::context`]. A template error is logged with
//! Go's location and keeps the last good file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value as Json;

use super::settings::{Filters, Job, Settings};
use super::{Error, context, notify};
use crate::docker::raw::RawClient;
use crate::docker::state::StateCache;
use crate::metrics::Metrics;
use crate::model::Container;
use crate::output::{self, WriteOutcome};
use crate::report::describe;
use crate::template::go::{self, RenderOptions};

/// What every job of one pass shares: `.Docker`, the internal networks, the cached containers.
pub(super) struct Pass {
    docker: go::data::Docker,
    internal: HashSet<String>,
    containers: HashMap<String, Arc<Container>>,
}

pub(super) async fn get_json(raw: &RawClient, path: &str) -> Result<Json, Error> {
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
    pub(super) async fn read(
        raw: &RawClient,
        version: &Json,
        cache: &StateCache,
    ) -> Result<Pass, Error> {
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
    let name = crate::config::TemplateSpec::default_name(job.dest.as_ref());
    metrics.render_finished(&name, started.elapsed(), rendered.is_ok());
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
            metrics.write_done(&name);
            metrics.target_updated(started.elapsed());
            tracing::info!(
                "Generated '{}' from {} containers",
                dest.display(),
                context.containers.len()
            );
            Ok(true)
        }
        Err(e) => {
            metrics.write_failed(&name);
            Err(Error::Write(format!(
                "{}: {}",
                dest.display(),
                describe(&e)
            )))
        }
    }
}

/// One job's render from a pass, off the runtime; errors are logged here.
pub(super) async fn run_job(
    job: &Job,
    pass: &Pass,
    raw: &RawClient,
    metrics: &Arc<Metrics>,
) -> bool {
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
