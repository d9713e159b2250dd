//! pygen's own actions: which containers it is restarting or signalling, so that their events
//! and their state in the middle of the action do not trigger the same action again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::docker::events::{Event, EventType};

use crate::model::{Container, Service, Swarm};

/// How long after a restart or signal returned the events of its container still count as
/// pygen's own. The daemon has sent them all by the time its API call returns; this covers
/// their way through the event stream.
pub const SETTLE: Duration = Duration::from_secs(2);

/// How long the local containers an action was forwarded for count as pygen's own when no
/// worker says its actions settled (a restart waits up to 10 s for the container to stop).
pub const FORWARDED: Duration = Duration::from_secs(30);

/// How long a service pygen force-updated reads as it was before when its update does not
/// end (a slow rolling update, a stuck task).
pub const SERVICE_UPDATE: Duration = Duration::from_secs(300);

/// A service pygen force-updated, while its update is under way.
#[derive(Debug)]
struct ServiceHold {
    /// The service as the render that caused the update saw it, tasks included.
    before: Arc<Service>,
    /// When the hold ends at the latest.
    until: Instant,
}

/// What a render reads of pygen's own actions ([`OwnActions::render_view`]).
#[derive(Debug, Default)]
pub struct RenderView {
    /// Containers to read as they were before their action: under way, or ended with their
    /// last inspect still in flight.
    pub held: Vec<Arc<Container>>,
    /// Services whose update by pygen is under way, as they were before it.
    pub held_services: Vec<Arc<Service>>,
    /// Whether the render needs a baseline: some action ended within [`SETTLED_KEPT`] or a
    /// service's update ended now.
    pub baseline: bool,
    /// The baseline's containers: those whose action ended, as they were before it.
    pub settled: Vec<Arc<Container>>,
    /// The baseline's services: every held service as it was before its update, the ones
    /// released now included.
    pub baseline_services: Vec<Arc<Service>>,
}

/// Where an action on one container stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The restart or signal runs here.
    Acting,
    /// The action went to the workers (`--swarm-manager`), which run it; pygen's own until a
    /// worker says its actions settled, or until the instant given.
    Forwarded(Instant),
    /// The action returned; its events still on their way count until the instant given.
    Settling(Instant),
}

impl Phase {
    /// Whether the container's events still count as pygen's own at `now`.
    fn counts(self, now: Instant) -> bool {
        match self {
            Phase::Acting => true,
            Phase::Forwarded(until) | Phase::Settling(until) => until > now,
        }
    }

    /// Whether the action is still under way (not yet returned or settled).
    fn under_way(self, now: Instant) -> bool {
        match self {
            Phase::Acting => true,
            Phase::Forwarded(until) => until > now,
            Phase::Settling(_) => false,
        }
    }
}

/// What is noted about the containers acted on.
#[derive(Debug, Default)]
struct Noted {
    /// Container id → where its action stands.
    phases: HashMap<String, Phase>,
    /// The containers as they were before their action, while it is under way.
    before: HashMap<String, Arc<Container>>,
    /// The services pygen force-updated, by id, while their update is under way.
    services: HashMap<String, ServiceHold>,
    /// The containers whose action ended, as they were before it, for [`SETTLED_KEPT`].
    settled_before: HashMap<String, (Arc<Container>, Instant)>,
}

/// How long the state before an ended action serves as the baseline of renders: long enough
/// for its last inspect to land and the render that takes in its change to run.
pub const SETTLED_KEPT: Duration = Duration::from_secs(10);

impl Noted {
    /// Drops what no longer counts at `now`.
    fn expire(&mut self, now: Instant) {
        self.phases.retain(|_, phase| phase.counts(now));
        let phases = &self.phases;
        self.before
            .retain(|id, _| phases.get(id).is_some_and(|p| p.under_way(now)));
        self.settled_before.retain(|_, (_, until)| *until > now);
    }

    /// Moves the state before the action on `id` to the ended ones.
    fn settle(&mut self, id: &str) {
        if let Some(before) = self.before.remove(id) {
            self.settled_before
                .insert(id.to_owned(), (before, Instant::now() + SETTLED_KEPT));
        }
    }
}

/// The containers pygen is restarting or signalling, or did within [`SETTLE`]: their events
/// are pygen's own and must not trigger a render (and through it the same action) again, and
/// while the action is under way a render reads them as they were before it.
///
/// Why recognising the events, and not suppressing the action for a while after it ran: the
/// events of a restart describe a container that goes away and comes back, so a render from
/// them writes a target without it for a moment and then with it again; the restarted
/// container may read either. Holding them back keeps the target as the action left it, and a
/// real change of anything else still renders and acts at once. A render for such a change
/// while the action is under way reads the acted-on containers as they were before it
/// ([`OwnActions::render_view`]): the cache may already hold them stopped, and acting on that
/// would restart them again (on a busy host an unrelated event comes along during most
/// restarts). What the action changed for good (a new start time, a new address) is taken in
/// by one render when the action returned, whose change runs no action (the watch loop's own
/// render); without it, the next unrelated event would carry that change and restart the
/// container once more.
///
/// A `--swarm-manager` forwards container actions to its workers; the worker on its own node
/// acts on containers the manager's own event stream shows. Those containers count as pygen's
/// own from the forwarding until a worker says its actions settled (plus [`SETTLE`]), or at
/// most [`FORWARDED`]. The workers hold back the events of what they acted on the same way.
///
/// Shared between the watch loop (which asks) and its notification task (which notes).
#[derive(Debug, Clone, Default)]
pub struct OwnActions {
    /// The containers acted on.
    noted: Arc<Mutex<Noted>>,
    /// Whether a container was acted on since [`OwnActions::take_acted`] last asked.
    acted: Arc<AtomicBool>,
}

impl OwnActions {
    /// Notes that an action on the container starts.
    pub(super) fn begin(&self, container: &Arc<Container>) {
        let mut noted = self.lock();
        let id = container.id().to_owned();
        // A new action supersedes what an earlier one left as its baseline.
        noted.settled_before.remove(&id);
        noted.before.insert(id.clone(), Arc::clone(container));
        noted.phases.insert(id, Phase::Acting);
        self.acted.store(true, Ordering::Relaxed);
    }

    /// Whether a container was restarted or signalled since the last call.
    pub fn take_acted(&self) -> bool {
        self.acted.swap(false, Ordering::Relaxed)
    }

    /// Notes that the action on the container returned: its events count as pygen's own for
    /// [`SETTLE`] more.
    pub(super) fn end(&self, id: &str) {
        let mut noted = self.lock();
        noted.settle(id);
        noted
            .phases
            .insert(id.to_owned(), Phase::Settling(Instant::now() + SETTLE));
    }

    /// Notes that an action on the local container went to the workers.
    pub(super) fn forwarded(&self, container: &Arc<Container>) {
        let mut noted = self.lock();
        let id = container.id().to_owned();
        if noted.phases.get(&id) == Some(&Phase::Acting) {
            return;
        }
        noted.settled_before.remove(&id);
        noted.before.insert(id.clone(), Arc::clone(container));
        noted
            .phases
            .insert(id, Phase::Forwarded(Instant::now() + FORWARDED));
    }

    /// A worker says its actions settled: the local containers whose action was forwarded
    /// count as pygen's own for [`SETTLE`] more only, and renders read them as they are.
    pub fn forwarded_settled(&self) {
        let until = Instant::now() + SETTLE;
        let mut noted = self.lock();
        let mut ended = Vec::new();
        for (id, phase) in &mut noted.phases {
            if matches!(phase, Phase::Forwarded(_)) {
                *phase = Phase::Settling(until);
                ended.push(id.clone());
            }
        }
        for id in ended {
            noted.settle(&id);
        }
    }

    /// Notes that pygen force-updates `service` (as the render that caused it saw it).
    /// A service already held keeps the state from before its first update.
    pub(super) fn begin_service(&self, service: &Arc<Service>) {
        let until = Instant::now() + SERVICE_UPDATE;
        let mut noted = self.lock();
        let hold = noted
            .services
            .entry(service.id().to_owned())
            .or_insert_with(|| ServiceHold {
                before: Arc::clone(service),
                until,
            });
        hold.until = until;
        self.acted.store(true, Ordering::Relaxed);
    }

    /// Forgets the hold of a service whose force-update failed.
    pub(super) fn service_failed(&self, id: &str) {
        self.lock().services.remove(id);
    }

    /// What a render reads of pygen's own actions, in one look: see [`RenderView`].
    /// `in_flight` tells the containers whose inspect after their action has not landed.
    /// A service whose update `listed` shows ended (a newer version, no update and no task
    /// under way; or gone; or [`SERVICE_UPDATE`] passed) is released now: this render reads
    /// it as it is, and its baseline as it was.
    pub fn render_view(
        &self,
        listed: Option<&Swarm>,
        in_flight: impl Fn(&str) -> bool,
    ) -> RenderView {
        let now = Instant::now();
        let mut noted = self.lock();
        noted.expire(now);
        let settled: Vec<Arc<Container>> = noted
            .settled_before
            .values()
            .map(|(c, _)| Arc::clone(c))
            .collect();
        let mut held: Vec<Arc<Container>> = noted.before.values().cloned().collect();
        held.extend(settled.iter().filter(|c| in_flight(c.id())).cloned());
        let baseline_services: Vec<Arc<Service>> = noted
            .services
            .values()
            .map(|h| Arc::clone(&h.before))
            .collect();
        if let Some(swarm) = listed {
            noted.services.retain(|id, hold| {
                let ended = match swarm.services().iter().find(|s| s.id() == id) {
                    None => true,
                    Some(now_listed) => {
                        now_listed.version() > hold.before.version() && !now_listed.is_updating()
                    }
                };
                !ended && hold.until > now
            });
        }
        let services_ended = noted.services.len() < baseline_services.len();
        RenderView {
            baseline: !settled.is_empty() || services_ended,
            held,
            settled,
            held_services: noted
                .services
                .values()
                .map(|h| Arc::clone(&h.before))
                .collect(),
            baseline_services,
        }
    }

    /// Whether the event is about a container pygen is acting on, or just did. Logs the event
    /// at debug level when it is.
    pub fn is_own(&self, event: &Event) -> bool {
        if event.typ != Some(EventType::Container) {
            return false;
        }
        let Some(id) = event.actor.as_ref().and_then(|a| a.id.as_deref()) else {
            return false;
        };
        let mut noted = self.lock();
        noted.expire(Instant::now());
        let own = noted.phases.contains_key(id);
        if own {
            tracing::debug!(
                action = event.action.as_deref().unwrap_or_default(),
                container = crate::docker::events::actor_name(event),
                "event caused by pygen's own action: no render"
            );
        }
        own
    }

    /// What is noted, also after a panic elsewhere (it holds plain data only).
    fn lock(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.noted.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Replaces the containers of `containers` that `before` holds by the version in `before`
/// (adding those the cache no longer holds): what a render reads while actions are under way.
/// A container `before` holds twice counts once, in its first version.
pub fn as_before(containers: &mut Vec<Arc<Container>>, before: &[Arc<Container>]) {
    if before.is_empty() {
        return;
    }
    containers.retain(|c| !before.iter().any(|b| b.id() == c.id()));
    for (i, container) in before.iter().enumerate() {
        if !before[..i].iter().any(|b| b.id() == container.id()) {
            containers.push(Arc::clone(container));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::events::Actor;

    fn event(typ: EventType, id: &str) -> Event {
        Event {
            typ: Some(typ),
            action: Some("die".to_owned()),
            actor: Some(Actor {
                id: Some(id.to_owned()),
                attributes: None,
            }),
            ..Default::default()
        }
    }

    /// A container whose `seen` label tells which version it is.
    /// What a render reads as before, with no inspect in flight and no Swarm.
    fn held(own: &OwnActions) -> Vec<Arc<Container>> {
        own.render_view(None, |_| false).held
    }

    fn container(id: &str, seen: &str) -> Arc<Container> {
        Arc::new(
            Container::from_inspect_json(&format!(
                r#"{{"Id": "{id}", "Name": "/{id}", "Config": {{"Labels": {{"seen": "{seen}"}}}}}}"#
            ))
            .expect("a container"),
        )
    }

    #[test]
    fn events_of_a_container_acted_on_are_own_until_the_window_ends() {
        let own = OwnActions::default();
        let proxy = event(EventType::Container, "proxy");
        let other = event(EventType::Container, "other");
        assert!(!own.is_own(&proxy), "nothing acted on yet");
        own.begin(&container("proxy", "before"));
        assert!(own.is_own(&proxy), "while the restart runs");
        assert!(
            !own.is_own(&other),
            "another container's event is a real change"
        );
        assert!(
            !own.is_own(&event(EventType::Network, "proxy")),
            "only container events"
        );
        own.end("proxy");
        assert!(own.is_own(&proxy), "within the settle period");
        // The window ended: the entry is dropped at the next question.
        own.lock()
            .phases
            .insert("proxy".to_owned(), Phase::Settling(Instant::now()));
        assert!(!own.is_own(&proxy), "after the settle period");
        assert!(own.lock().phases.is_empty());
    }

    #[test]
    fn renders_read_containers_as_they_were_while_their_action_is_under_way() {
        let own = OwnActions::default();
        let proxy = container("proxy", "before");
        own.begin(&proxy);
        // The cache already holds the proxy stopped, in the middle of its restart.
        let mut cache = vec![container("proxy", "stopped"), container("other", "now")];
        as_before(&mut cache, &held(&own));
        cache.sort_by(|a, b| a.id().cmp(b.id()));
        let seen: Vec<_> = cache.iter().map(|c| c.label("seen")).collect();
        assert_eq!(seen, [Some("now"), Some("before")]);
        // Given twice (under way and settled), a container counts once.
        let mut twice = vec![container("proxy", "stopped")];
        as_before(
            &mut twice,
            &[container("proxy", "a"), container("proxy", "b")],
        );
        assert_eq!(twice.len(), 1);
        assert_eq!(twice[0].label("seen"), Some("a"));
        own.end("proxy");
        assert!(held(&own).is_empty(), "returned: the cache is right again");

        // Forwarded to the workers: as before until a worker's actions settled.
        let db = container("db", "before");
        own.forwarded(&db);
        assert_eq!(held(&own).len(), 1);
        assert!(own.is_own(&event(EventType::Container, "db")));
        own.forwarded_settled();
        assert!(held(&own).is_empty());
        assert!(
            own.is_own(&event(EventType::Container, "db")),
            "its last events are still on their way"
        );
        // A forward that nobody settles ends after FORWARDED.
        own.forwarded(&db);
        own.lock()
            .phases
            .insert("db".to_owned(), Phase::Forwarded(Instant::now()));
        assert!(held(&own).is_empty());
        assert!(!own.is_own(&event(EventType::Container, "db")));
    }

    fn swarm(version: i64, update: &str, task_state: &str) -> Swarm {
        let service = serde_json::json!({
            "ID": "svc", "Version": {"Index": version},
            "Spec": {"Name": "proxy"},
            "UpdateStatus": {"State": update},
        });
        let task = serde_json::json!({
            "ID": format!("task{version}"), "ServiceID": "svc",
            "Status": {"State": task_state}, "DesiredState": "running",
        });
        Swarm::from_items(&[service], &[task], &[])
    }

    #[test]
    fn a_force_updated_service_reads_as_before_until_a_render_sees_its_update_ended() {
        let own = OwnActions::default();
        let before = swarm(10, "completed", "running");
        own.begin_service(&before.services()[0]);
        assert!(own.take_acted());
        // Listed before the update landed, and while it runs: under way.
        for listing in [
            swarm(10, "completed", "running"),
            swarm(11, "updating", "running"),
            swarm(11, "completed", "starting"),
        ] {
            let view = own.render_view(Some(&listing), |_| false);
            assert!(!view.baseline);
            let read = listing.as_before(&view.held_services);
            assert_eq!(read.services()[0].version(), Some(10));
            assert_eq!(read.services()[0].tasks()[0].id(), "task10");
        }
        // Ended: released by the render that sees it, whose baseline still has it as before.
        let after = swarm(11, "completed", "running");
        let view = own.render_view(Some(&after), |_| false);
        assert!(view.baseline);
        assert_eq!(view.baseline_services.len(), 1);
        assert!(view.held_services.is_empty());
        let view = own.render_view(Some(&after), |_| false);
        assert!(!view.baseline, "released once");
        assert!(view.baseline_services.is_empty());
        // A failed update holds nothing.
        own.begin_service(&before.services()[0]);
        own.service_failed("svc");
        assert!(own.render_view(None, |_| false).held_services.is_empty());
    }

    #[test]
    fn clones_share_what_they_note() {
        let own = OwnActions::default();
        assert!(!own.take_acted());
        own.clone().begin(&container("proxy", "before"));
        assert!(own.is_own(&event(EventType::Container, "proxy")));
        assert!(own.take_acted());
        assert!(!own.take_acted(), "asked once");
    }
}
