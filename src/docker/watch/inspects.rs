//! The watch's background inspects: at most one in flight per container, a bounded number at
//! once, and what an event that arrives meanwhile still owes.
//!
//! An event for a container whose inspect is in flight usually asks for one more inspect after
//! it, since the answer may show the state before that event. One case needs none, and it is the
//! case of every `docker run`: the daemon holds a container's lock for the whole start (network
//! set-up included) and an inspect waits for it, so the inspect sent on the network `connect`
//! returns just after the `start` event, showing the container running. An answer that shows it
//! running, when nothing but network connects and that one start came during the inspect, already
//! holds the start: a container that was not running before the start cannot show as running
//! from a state before it (it stops only through a `die`, which would have come too). A second
//! inspect there costs a whole round trip, hundreds of milliseconds while the daemon starts other
//! containers, between the start and the file.
//!
//! That holds for a container's first run only (`State.FinishedAt` unset). A restart ends with a
//! `restart` event right after its `start`, which asks for an inspect of its own; served early,
//! the `start` would make one more render of the container between the two, half-way through
//! the restart from the point of view of pygen's own actions, so a restart keeps the second
//! inspect as before.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::docker::events::{Event, EventType};
use crate::docker::state::{self, StateSource};
use crate::model::Container;

/// How many background inspects run at once. An inspect of a container the daemon is still
/// starting waits for the start; enough slots keep the others from queueing behind a few such.
pub(super) const INSPECTS_IN_FLIGHT: usize = 16;

/// What one background inspect returns.
pub(super) struct Landed {
    /// The container inspected.
    pub(super) id: String,
    /// Which inspect of `id` this was; an answer whose ticket is no longer current is dropped.
    pub(super) ticket: u64,
    /// The answer.
    pub(super) result: Result<Option<Container>, state::Error>,
    /// Wall time of the call, waiting for a slot included.
    pub(super) duration: Duration,
}

/// What an event says of its container's state, as far as the inspects care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// A network `connect`: part of a start, or a connect of a running container.
    Connect,
    /// A container `start`.
    Start,
    /// Anything else that changes the container.
    Other,
}

impl Cause {
    /// The cause of an event that names a container.
    pub(super) fn of(event: &Event) -> Cause {
        match (&event.typ, event.action.as_deref()) {
            (Some(EventType::Network), Some("connect")) => Cause::Connect,
            (Some(EventType::Container), Some("start")) => Cause::Start,
            _ => Cause::Other,
        }
    }
}

/// What the events that came during an inspect owe after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owed {
    /// Network connects only: another inspect.
    Connects,
    /// Network connects, then one start: another inspect unless the answer shows the container
    /// in its first run.
    Started,
    /// Anything else: another inspect.
    Again,
}

impl Owed {
    fn then(owed: Option<Owed>, cause: Cause) -> Owed {
        match (owed, cause) {
            (None | Some(Owed::Connects), Cause::Connect) => Owed::Connects,
            (None | Some(Owed::Connects), Cause::Start) => Owed::Started,
            _ => Owed::Again,
        }
    }
}

/// The background inspects and what is owed after them.
pub(super) struct Inspects {
    /// The tasks in flight.
    pub(super) tasks: JoinSet<Landed>,
    /// The current ticket of every container with an inspect in flight.
    pub(super) current: HashMap<String, u64>,
    /// What the events that named a container while its inspect was in flight owe.
    owed: HashMap<String, Owed>,
    /// The next ticket.
    next_ticket: u64,
    /// Bounds the inspects running at once.
    slots: Arc<Semaphore>,
}

impl Inspects {
    pub(super) fn new() -> Inspects {
        Inspects {
            tasks: JoinSet::new(),
            current: HashMap::new(),
            owed: HashMap::new(),
            next_ticket: 0,
            slots: Arc::new(Semaphore::new(INSPECTS_IN_FLIGHT)),
        }
    }

    /// Starts an inspect of `id`, or notes what an event of `cause` owes after the one in flight.
    pub(super) fn start(&mut self, source: &Arc<dyn StateSource>, id: &str, cause: Cause) {
        if self.current.contains_key(id) {
            let owed = self.owed.get(id).copied();
            self.owed.insert(id.to_owned(), Owed::then(owed, cause));
            return;
        }
        self.spawn(source, id.to_owned());
    }

    pub(super) fn spawn(&mut self, source: &Arc<dyn StateSource>, id: String) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.current.insert(id.clone(), ticket);
        let slots = Arc::clone(&self.slots);
        let source = Arc::clone(source);
        self.tasks.spawn(async move {
            let started = Instant::now();
            // The semaphore is never closed, so acquiring fails never; a failure would only
            // lift the bound.
            let _slot = slots.acquire_owned().await.ok();
            let result = source.inspect(id.clone()).await;
            Landed {
                id,
                ticket,
                result,
                duration: started.elapsed(),
            }
        });
    }

    /// Whether another inspect of `id` must follow the one that just landed with `answer`
    /// (`None`: the container is gone, or the inspect failed); clears what was owed.
    pub(super) fn owes_another(&mut self, id: &str, answer: Option<&Container>) -> bool {
        // Status "running" only: a "restarting" container shows `Running` too, before its
        // start. A first run only (see the module's doc).
        let first_run = answer.is_some_and(|c| c.status() == "running" && !c.stopped_before());
        match self.owed.remove(id) {
            None => false,
            Some(Owed::Started) if first_run => {
                tracing::debug!(
                    container = %id,
                    "the answer holds the start that came during the inspect: no second inspect"
                );
                false
            }
            Some(_) => true,
        }
    }

    /// Drops the answer of any inspect of `id` in flight (the container was destroyed).
    pub(super) fn forget(&mut self, id: &str) {
        self.current.remove(id);
        self.owed.remove(id);
    }

    /// Drops every inspect in flight (the connection changed; a full sync follows).
    pub(super) fn clear(&mut self) {
        self.tasks.abort_all();
        self.current.clear();
        self.owed.clear();
    }
}

impl std::fmt::Debug for Inspects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspects")
            .field("in_flight", &self.current.len())
            .field("owed", &self.owed.len())
            .finish_non_exhaustive()
    }
}
