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
    /// The listing shows the update ended: released by the next own render.
    done: bool,
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
/// ([`OwnActions::before`]): the cache may already hold them stopped, and acting on that
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
                done: false,
            });
        hold.until = until;
        hold.done = false;
        self.acted.store(true, Ordering::Relaxed);
    }

    /// Forgets the hold of a service whose force-update failed.
    pub(super) fn service_failed(&self, id: &str) {
        self.lock().services.remove(id);
    }

    /// Marks the services whose update `swarm` shows ended (a newer version, no update and
    /// no task under way; or gone; or [`SERVICE_UPDATE`] passed) as done. Returns whether some
    /// service is done: the next own render must take in its new state, and release it.
    pub fn services_done(&self, swarm: &Swarm) -> bool {
        let now = Instant::now();
        let mut noted = self.lock();
        for (id, hold) in &mut noted.services {
            let ended = match swarm.services().iter().find(|s| s.id() == id) {
                None => true,
                Some(now_listed) => {
                    now_listed.version() > hold.before.version() && !now_listed.is_updating()
                }
            };
            if ended || hold.until <= now {
                hold.done = true;
            }
        }
        noted.services.values().any(|h| h.done)
    }

    /// Releases the services marked done: renders read them as they are from now on.
    pub fn release_done_services(&self) {
        self.lock().services.retain(|_, hold| !hold.done);
    }

    /// The services pygen force-updated and did not release, as they were before: a render
    /// reads these instead of the listing.
    pub fn services_before(&self) -> Vec<Arc<Service>> {
        self.lock()
            .services
            .values()
            .map(|h| Arc::clone(&h.before))
            .collect()
    }

    /// The containers whose action ended within [`SETTLED_KEPT`], as they were before it: the
    /// baseline that tells what those actions changed from a real change.
    pub fn settled_before(&self) -> Vec<Arc<Container>> {
        let mut noted = self.lock();
        noted.expire(Instant::now());
        noted
            .settled_before
            .values()
            .map(|(c, _)| Arc::clone(c))
            .collect()
    }

    /// The containers whose action is under way, as they were before it: a render reads
    /// these instead of what the cache holds now.
    pub fn before(&self) -> Vec<Arc<Container>> {
        let mut noted = self.lock();
        noted.expire(Instant::now());
        noted.before.values().cloned().collect()
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
        as_before(&mut cache, &own.before());
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
        assert!(
            own.before().is_empty(),
            "returned: the cache is right again"
        );

        // Forwarded to the workers: as before until a worker's actions settled.
        let db = container("db", "before");
        own.forwarded(&db);
        assert_eq!(own.before().len(), 1);
        assert!(own.is_own(&event(EventType::Container, "db")));
        own.forwarded_settled();
        assert!(own.before().is_empty());
        assert!(
            own.is_own(&event(EventType::Container, "db")),
            "its last events are still on their way"
        );
        // A forward that nobody settles ends after FORWARDED.
        own.forwarded(&db);
        own.lock()
            .phases
            .insert("db".to_owned(), Phase::Forwarded(Instant::now()));
        assert!(own.before().is_empty());
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
    fn a_force_updated_service_reads_as_before_until_its_update_ended_and_was_taken_in() {
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
            assert!(!own.services_done(&listing));
            let read = listing.as_before(&own.services_before());
            assert_eq!(read.services()[0].version(), Some(10));
            assert_eq!(read.services()[0].tasks()[0].id(), "task10");
        }
        // Ended: done, still read as before until the own render releases it.
        let after = swarm(11, "completed", "running");
        assert!(own.services_done(&after));
        assert_eq!(own.services_before().len(), 1);
        own.release_done_services();
        assert!(own.services_before().is_empty());
        assert!(!own.services_done(&after));
        // A failed update holds nothing.
        own.begin_service(&before.services()[0]);
        own.service_failed("svc");
        assert!(own.services_before().is_empty());
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
