//! Templates read again: when their files change on disk, and on SIGHUP (which re-reads the
//! config file too, when there is one).

use std::sync::Arc;

use crate::config::Config;
use crate::report::describe;

use super::super::edits::Files;
use super::super::job::Job;
use super::super::{check_target_folders, load_template, swarm_wants};
use super::Generator;

impl Generator {
    /// Reloads the templates whose files changed on disk, and renders them.
    pub(super) async fn look_for_edits(&mut self) {
        for i in 0..self.jobs.len() {
            // A render loads includes the first time it reaches them: watch those too (here,
            // off the path from an event to the file).
            self.files[i].add(self.jobs[i].files());
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

    /// SIGHUP: re-reads the config file, when there is one, and every template source, and
    /// renders at once. A config file with a problem is refused and the running configuration
    /// stays; a broken template keeps its previous version in use.
    pub(super) async fn reload_all(&mut self) {
        if let Some(path) = self.config.config_file.clone() {
            match Config::from_file(&path) {
                Ok(new) => {
                    if self.replace_templates(new).await {
                        return;
                    }
                }
                Err(problems) => {
                    for problem in &problems {
                        tracing::error!("{problem}");
                    }
                    tracing::error!(
                        config = %path.display(),
                        problems = problems.len(),
                        "the config file was not taken: keeping the running configuration"
                    );
                }
            }
        }
        for i in 0..self.jobs.len() {
            self.reload_one(i).await;
        }
    }

    /// Takes the templates of a re-read config file: every template loads and every target
    /// folder exists, or nothing changes. Entries equal to a running one keep their state
    /// (timers, the template's kept objects); the others start afresh. Global settings are
    /// read at startup only: a change to them is logged. Returns whether the new templates
    /// were taken.
    async fn replace_templates(&mut self, new: Config) -> bool {
        let changed = global_changes(&self.config, &new);
        if !changed.is_empty() {
            tracing::warn!(
                settings = %changed.join(", "),
                "the config file changed settings that are read at startup only; restart pygen to apply them"
            );
        }
        if let Err(err) = check_target_folders(&new) {
            tracing::error!("{}; keeping the running configuration", describe(&err));
            return false;
        }
        let mut loaded = Vec::with_capacity(new.templates.len());
        for spec in &new.templates {
            match load_template(&self.config, spec).await {
                Ok(template) => loaded.push(template),
                Err(err) => {
                    tracing::error!(template = %spec.name, "{}; keeping the running configuration", describe(&err));
                    return false;
                }
            }
        }
        let mut old: Vec<Option<Job>> = std::mem::take(&mut self.jobs)
            .into_iter()
            .map(Some)
            .collect();
        let mut jobs = Vec::with_capacity(loaded.len());
        for (spec, template) in new.templates.iter().zip(loaded) {
            let kept = old
                .iter_mut()
                .find(|j| j.as_ref().is_some_and(|j| *j.spec == *spec))
                .and_then(Option::take);
            let mut job = match kept {
                Some(mut job) => {
                    job.template = Some(Arc::new(template));
                    job.rendering = None;
                    job.notifying = false;
                    job
                }
                None => Job::new(spec.clone(), Some(template)),
            };
            job.due = true;
            self.metrics.template_configured(&spec.name);
            jobs.push(job);
        }
        self.files = jobs.iter().map(|j| Files::new(j.files())).collect();
        self.jobs = jobs;
        self.config.templates = new.templates;
        // Renders and notification runs in flight belong to the jobs as they were, and so do
        // the events that wait for an inspect (every template renders now anyway).
        self.generation += 1;
        self.awaiting.clear();
        self.swarm
            .set_wants(swarm_wants(Job::templates(&self.jobs)));
        self.pacer.request();
        tracing::info!(templates = self.jobs.len(), "config file reloaded");
        true
    }

    /// Re-reads template `index` and asks for its render; a broken template keeps the previous
    /// one in use. A file that changed while it was read is read again at the next look.
    pub(super) async fn reload_one(&mut self, index: usize) {
        let spec = Arc::clone(&self.jobs[index].spec);
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
                self.jobs[index].template = Some(Arc::new(template));
                self.swarm
                    .set_wants(swarm_wants(Job::templates(&self.jobs)));
            }
            Err(err) => {
                tracing::error!(template = %spec.name, "{}; keeping the previous template", describe(&err));
            }
        }
        self.request_one(index);
    }
}

/// The settings read at startup only that differ between `old` and `new`, by key.
fn global_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if old.docker_address != new.docker_address || old.docker_tls != new.docker_tls {
        changed.push("[docker]");
    }
    if old.metrics != new.metrics {
        changed.push("[metrics]");
    }
    if old.swarm != new.swarm || old.swarm_poll != new.swarm_poll {
        changed.push("[swarm_manager] / swarm_poll");
    }
    if old.events != new.events {
        changed.push("events");
    }
    if old.template_timeout != new.template_timeout || old.no_ssl_check != new.no_ssl_check {
        changed.push("template_timeout / no_ssl_check");
    }
    if old.one_shot != new.one_shot {
        changed.push("one_shot");
    }
    changed
}
