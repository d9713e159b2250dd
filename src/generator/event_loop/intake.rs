//! What comes in: the watch's changes and Docker events, the Swarm listings and polls, and
//! the workers' update requests; each decides which templates owe a render.

use std::time::Duration;

use crate::docker::events;
use crate::docker::swarm::Role;
use crate::docker::watch::Change;
use crate::report::describe;

use super::super::job::Job;
use super::{Generator, QUICK_POLLS};

/// How soon the Swarm is polled again while some task is on its way to its desired state.
const SETTLING_POLL: Duration = Duration::from_secs(1);

impl Generator {
    /// Reacts to one change the watch saw (already applied to its cache).
    pub(super) fn handle_change(&mut self, change: Change) {
        match change {
            Change::Connected => {
                if self.jobs.iter().any(Job::announces_listener) {
                    // docker-gen's line, once the event listener is registered: scripts wait
                    // for it.
                    tracing::info!("Watching docker events");
                }
                // The full sync before the next render reads every container.
                self.awaiting.clear();
                self.own_awaiting.clear();
                self.feed.connected();
                self.swarm.mark_dirty();
                self.request_all();
            }
            Change::Inspected { id, ok } => {
                let own = self.own_awaiting.remove(&id);
                if let Some(selected) = self.awaiting.remove(&id) {
                    self.request_for_event(selected);
                } else if !ok {
                    self.request_listening();
                } else if own {
                    // The state an action of pygen's left (a restarted container running
                    // again) reaches the target, without acting again.
                    self.request_own_render();
                }
            }
            Change::Disconnected => {
                self.poll_at = None;
            }
            Change::Event(event) => self.handle_event(&event),
        }
    }

    /// Reacts to one Docker event.
    pub(super) fn handle_event(&mut self, event: &events::Event) {
        let action = event.action.as_deref().unwrap_or_default();
        self.feed.event(event);
        if events::touches_swarm(event) {
            self.swarm.mark_dirty();
            let is_swarm_object = matches!(
                event.typ,
                Some(events::EventType::Service | events::EventType::Node)
            );
            if is_swarm_object && self.swarm.wants().any() {
                tracing::debug!(action, "Swarm event");
                self.request_all();
            }
        }
        let is_container = matches!(event.typ, Some(events::EventType::Container));
        if let (true, events::Effect::Removed(id)) = (is_container, events::effect(event)) {
            // The watch drops an inspect in flight when its container is destroyed, so no
            // `Inspected` change will serve an event that waits for it: the destroy does,
            // whether or not `events` watches it.
            if let Some(selected) = self.awaiting.remove(id) {
                self.request_for_event(selected);
            }
            if self.own_awaiting.remove(id) {
                self.request_own_render();
            }
        }
        let is_own = is_container && self.own.is_own(event);
        if is_own {
            // Not rendered for now, but the container's inspect in flight is: the render
            // after the action must not read the state before it landed.
            if let events::Effect::Dirty(id) = events::effect(event) {
                if self.watch.inspecting(id) {
                    self.own_awaiting.insert(id.to_owned());
                }
            }
            return;
        }
        let selected: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| self.jobs[i].selects(event, &self.config.events))
            .collect();
        let Some(&first) = selected.first() else {
            return;
        };
        self.metrics.event_taken();
        self.jobs[first].log_event(event);
        match events::effect(event) {
            // Rendered when the inspect lands, not before: until then the cache holds nothing
            // new about this container.
            events::Effect::Dirty(id) if self.watch.inspecting(id) => {
                self.awaiting
                    .entry(id.to_owned())
                    .or_default()
                    .extend(selected);
            }
            // A destroy (its waiting event already served above) and the rest.
            _ => self.request_for_event(selected),
        }
    }

    /// Lists the Swarm again (a render is due, or a poll), then plans the next poll. Returns
    /// whether the listing changed. A failure keeps the previous listing.
    pub(super) async fn refresh_swarm(&mut self) -> bool {
        let Some(raw) = self.watch.client().cloned() else {
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
                tracing::error!(
                    "cannot list the Swarm: {}; keeping the last listing",
                    describe(&err)
                );
                false
            }
        };
        if changed {
            self.quick_polls = QUICK_POLLS;
        }
        self.poll_at = self.next_poll();
        changed
    }

    /// When to poll next: only on a Swarm manager whose services a template reads; soon
    /// while tasks settle (a limited number of times after each change).
    pub(super) fn next_poll(&mut self) -> Option<tokio::time::Instant> {
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
    pub(super) async fn poll(&mut self) {
        self.poll_at = None;
        if self.watch.client().is_none() {
            return;
        }
        if self.refresh_swarm().await {
            tracing::debug!("the Swarm changed since the last listing");
            self.request_all();
        }
    }

    /// A worker reported an event: the Swarm changed somewhere, render from a fresh listing.
    pub(super) fn update_requested(&mut self) {
        self.swarm.mark_dirty();
        self.render_from_event = true;
        self.request_all();
    }

    /// A worker's restarts or signals settled (it held their events back): render what they
    /// changed from a fresh listing, without acting on that change again.
    pub(super) fn workers_settled(&mut self) {
        self.own.forwarded_settled();
        self.swarm.mark_dirty();
        self.request_own_render();
    }
}
