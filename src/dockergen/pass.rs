//! One render pass, for the one-shot run and (through [`super::jobs::Feed`]) the watch
//! mode's docker-gen jobs: `.Docker`, the internal
//! networks and each container's template data come from [`DaemonData`] (read or built only
//! when missing or changed), the containers themselves from the state cache; one filtered
//! `/containers/json` per distinct filter set (the daemon applies docker-gen's filters; jobs
//! with the same filters share the list). A template error is logged with Go's location and
//! keeps the last good file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value as Json;

use super::cache::{DaemonData, Templates};
use super::settings::Settings;
use super::{Error, notify};
use crate::config::docker_gen::{Filters, Job};
use crate::docker::raw::RawClient;
use crate::docker::state::StateCache;
use crate::metrics::Metrics;
use crate::model::Snapshot;
use crate::output::{self, WriteOutcome};
use crate::report::describe;
use crate::template::go::{self, data::RuntimeContainer};

/// What every job of one pass shares: `.Docker`, the containers' template data, and the
/// container lists already asked for in this pass.
pub(super) struct Pass {
    docker: go::data::Docker,
    containers: HashMap<String, Arc<RuntimeContainer>>,
    /// The container lists of this pass.
    pub(super) lists: Lists,
}

/// The container IDs each filter set lets through, listed once per pass: jobs with the same
/// filters share one `/containers/json`.
#[derive(Debug, Default)]
pub(super) struct Lists {
    by_filters: HashMap<Filters, Vec<String>>,
    /// `/containers/json` calls made.
    pub(super) calls: u64,
}

impl Lists {
    /// The IDs `filters` let through: listed by `list` the first time, kept after that.
    async fn ids<F, Fut>(&mut self, filters: &Filters, list: F) -> Result<&[String], Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<String>, Error>>,
    {
        if !self.by_filters.contains_key(filters) {
            let ids = list().await?;
            self.calls += 1;
            self.by_filters.insert(filters.clone(), ids);
        }
        Ok(self
            .by_filters
            .get(filters)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }
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
    /// Reads what `data` misses (`/version` and `/info`, `/networks`) and builds the pass
    /// from a snapshot of the state cache.
    pub(super) async fn read(
        raw: &RawClient,
        data: &mut DaemonData,
        snapshot: &Snapshot,
    ) -> Result<Pass, Error> {
        if data.needs_info() {
            let version = get_json(raw, "/version").await?;
            let info = get_json(raw, "/info").await?;
            data.set_info(&version, &info);
        }
        if data.needs_networks() {
            let networks = get_json(raw, "/networks").await?;
            data.set_networks(&networks);
        }
        let docker = data
            .docker(
                snapshot.containers.len(),
                snapshot.own_container_id.as_deref(),
            )
            .ok_or_else(|| Error::Daemon {
                what: "/info".to_owned(),
                reason: "not read".to_owned(),
            })?;
        Ok(Pass {
            docker,
            containers: data.containers(&snapshot.containers),
            lists: Lists::default(),
        })
    }

    /// The job's context: the containers its filters let through, in the daemon's order.
    pub(super) async fn context(
        &mut self,
        raw: &RawClient,
        filters: &Filters,
    ) -> Result<go::Context, Error> {
        let ids = self
            .lists
            .ids(filters, || async {
                notify::list_ids(raw, filters, true)
                    .await
                    .map_err(|reason| Error::Daemon {
                        what: "/containers/json".to_owned(),
                        reason,
                    })
            })
            .await?;
        let containers = ids
            .iter()
            .filter_map(|id| self.containers.get(id))
            .cloned()
            .collect();
        Ok(go::context::context(self.docker.clone(), containers))
    }
}

/// Reads the template files and renders, keeping nothing (`pygen render --dialect go`).
pub fn render_files(
    templates: &[PathBuf],
    context: &go::Context,
    keep_blank_lines: bool,
) -> Result<String, Error> {
    Templates::default().render(templates, context, keep_blank_lines)
}

/// Renders one job and writes its dest. Returns whether the file changed (stdout: always).
fn render_and_write(
    job: &Job,
    templates: &mut Templates,
    context: &go::Context,
    metrics: &Metrics,
) -> Result<bool, Error> {
    let started = Instant::now();
    let rendered = templates.render(&job.templates, context, job.keep_blank_lines);
    let name = crate::config::TemplateSpec::default_name(job.dest.as_ref());
    metrics.render_finished(&name, started.elapsed(), rendered.is_ok());
    let content = rendered?;
    write_output(
        job,
        &name,
        &content,
        context.containers.len(),
        started,
        metrics,
    )
    .map_err(|e| match &job.dest {
        Some(dest) => Error::Write(format!("{}: {}", dest.display(), describe(&e))),
        None => Error::Write(describe(&e)),
    })
}

/// Writes a job's rendered `content` to its dest (or standard output), counted under `name`
/// and logged as docker-gen logs it; `containers` and `started` are for the log and the
/// metrics. Returns whether the file changed (stdout: always).
pub(super) fn write_output(
    job: &Job,
    name: &str,
    content: &str,
    containers: usize,
    started: Instant,
    metrics: &Metrics,
) -> Result<bool, output::Error> {
    let Some(dest) = &job.dest else {
        output::print_stdout(content)?;
        return Ok(true);
    };
    match output::write_if_changed(dest, content) {
        Ok(WriteOutcome::Unchanged) => {
            tracing::info!(
                "Contents of {} did not change. Skipping notification '{}'",
                dest.display(),
                job.notify.command.as_deref().unwrap_or_default()
            );
            Ok(false)
        }
        Ok(WriteOutcome::Written { .. }) => {
            metrics.write_done(name);
            metrics.target_updated(started.elapsed());
            tracing::info!(
                "Generated '{}' from {containers} containers",
                dest.display()
            );
            Ok(true)
        }
        Err(err) => {
            metrics.write_failed(name);
            Err(err)
        }
    }
}

/// Renders every job once, notifies where the file changed, and returns. A template error
/// fails the run (after the other jobs were served).
pub async fn one_shot(settings: &Settings) -> Result<(), Error> {
    let raw = crate::docker::connect::connect_negotiated(settings.endpoint.as_deref()).await?;
    let mut cache = StateCache::new(crate::ownid::detect());
    cache.full_sync(&raw).await?;
    let mut pass = Pass::read(&raw, &mut DaemonData::default(), &cache.snapshot()).await?;
    let metrics = Metrics::new();
    let mut templates = Templates::default();
    let mut failed = None;
    for job in &settings.jobs {
        let context = pass.context(&raw, &job.filters).await?;
        match render_and_write(job, &mut templates, &context, &metrics) {
            Ok(true) => {
                notify::notify(&raw, &job.notify, settings.notify_timeout, &metrics).await;
            }
            Ok(false) => {}
            Err(err) => {
                tracing::error!("{}", describe(&err));
                failed.get_or_insert(err);
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(key: &str, value: &str) -> Filters {
        Filters::from([(key.to_owned(), vec![value.to_owned()])])
    }

    #[tokio::test]
    async fn one_list_per_distinct_filter_set() {
        let mut lists = Lists::default();
        let a = filters("label", "a");
        let b = filters("label", "b");
        let listed = |ids: &[&str]| {
            let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
            move || async move { Ok(ids) }
        };
        assert_eq!(
            lists.ids(&a, listed(&["1", "2"])).await.expect("ids"),
            ["1", "2"]
        );
        // The same filters again (another job): the list already made is used.
        assert_eq!(
            lists.ids(&a, listed(&["9"])).await.expect("ids"),
            ["1", "2"]
        );
        assert_eq!(lists.ids(&b, listed(&["3"])).await.expect("ids"), ["3"]);
        assert_eq!(lists.calls, 2);
        // A failed list is not kept: the next job asks again.
        let c = filters("label", "c");
        let failed = lists
            .ids(&c, || async {
                Err(Error::Daemon {
                    what: "/containers/json".into(),
                    reason: "gone".into(),
                })
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(lists.ids(&c, listed(&["4"])).await.expect("ids"), ["4"]);
        assert_eq!(lists.calls, 3);
    }
}
