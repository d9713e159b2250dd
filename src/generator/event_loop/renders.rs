//! What a render takes and gives: the update that brings the cache current and starts the
//! renders that are owed (each on the blocking pool, with its input), and what a finished
//! render leaves behind (its notifications scheduled, or its error logged over the last good
//! target).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::TemplateSpec;
use crate::config::docker_gen::DockerGenOptions;
use crate::docker::watch::Synced;
use crate::model::{Service, Snapshot, Swarm};
use crate::report::describe;
use crate::template::Template;

use super::super::Error;
use super::super::job::{Input, Rendering, kept, render_input};
use super::Generator;

/// What a render task yields: its job's generation and index, whether its target changed, and
/// (for a render with a baseline) whether the baseline differs from the target it replaced.
pub(super) type RenderDone = (u64, usize, Result<bool, Error>, Option<bool>);

impl Generator {
    /// Brings the cache up to date and starts a render of every template that owes one and
    /// is not rendering.
    pub(super) async fn update(&mut self) {
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
    pub(super) fn rendered(&mut self, finished: Result<RenderDone, tokio::task::JoinError>) {
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
pub(super) fn baseline_differs(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Container;
    use crate::template::Template;

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
