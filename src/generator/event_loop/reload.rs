//! Templates read again: when their files change on disk, and on SIGHUP.

use std::sync::Arc;

use crate::report::describe;

use super::super::{load_template, swarm_wants};
use super::Generator;

impl Generator {
    /// Reloads the templates whose files changed on disk, and renders them.
    pub(super) async fn look_for_edits(&mut self) {
        for i in 0..self.jobs.len() {
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

    /// Re-reads every template source (SIGHUP) and renders at once; a broken template keeps
    /// its previous version in use.
    pub(super) async fn reload_all(&mut self) {
        for i in 0..self.jobs.len() {
            self.reload_one(i).await;
        }
    }

    /// Re-reads template `index` and asks for its render; a broken template keeps the previous
    /// one in use. A file that changed while it was read is read again at the next look.
    pub(super) async fn reload_one(&mut self, index: usize) {
        let spec = self.jobs[index].spec.clone();
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
                self.jobs[index].template = Arc::new(template);
                self.swarm
                    .set_wants(swarm_wants(self.jobs.iter().map(|j| &*j.template)));
            }
            Err(err) => {
                tracing::error!(template = %spec.name, "{}; keeping the previous template", describe(&err));
            }
        }
        self.request_one(index);
    }
}
