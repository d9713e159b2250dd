//! The state cache: the inspect data of every container, kept current incrementally.
//!
//! A full sync lists every container once and inspects them over a few reused connections. After
//! that, an event only marks the container it names as dirty; dirty containers are re-inspected
//! just before the next render, so a render costs one inspect per changed container instead of
//! one per container (docker-pygen and docker-gen re-list and re-inspect everything).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use futures_util::StreamExt;
use futures_util::stream;

use super::raw::{self, RawClient};
use crate::model::{Container, Snapshot};
use crate::ownid::OwnId;
use crate::report::describe;

/// How many inspect requests run at once during a sync. The daemon answers one inspect in about
/// 0.2 ms; a handful of connections in flight hides the round trips without loading the daemon.
const INSPECT_CONCURRENCY: usize = 8;

/// Errors of the state cache.
///
/// All of them are recoverable in watch mode: the caller reconnects and resyncs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing the containers failed.
    #[error("listing containers")]
    List(#[source] Box<raw::Error>),
    /// The container list was not the JSON the API documents.
    #[error("listing containers: unexpected answer")]
    ListBody(#[source] serde_json::Error),
    /// Inspecting one container failed for a reason other than its removal.
    #[error("inspecting container {id}")]
    Inspect {
        /// The container that could not be inspected.
        id: String,
        /// What the daemon or the transport said.
        #[source]
        source: Box<raw::Error>,
    },
}

/// The containers pygen knows about, by full ID, plus what must be refreshed before the next
/// render.
#[derive(Debug, Default)]
pub struct StateCache {
    /// Every container of the daemon, in any state, by full ID.
    containers: HashMap<String, Arc<Container>>,
    /// Containers named by events since the last refresh; re-inspected before the next render.
    dirty: HashSet<String>,
    /// pygen's own container, as detected from /proc: a claim, kept only when it resolves to a
    /// container of this daemon at snapshot time.
    own_id: Option<OwnId>,
}

impl StateCache {
    /// An empty cache that will report `own_id` as pygen's own container.
    pub fn new(own_id: Option<OwnId>) -> StateCache {
        StateCache {
            own_id,
            ..StateCache::default()
        }
    }

    /// Replaces the whole cache with the daemon's current containers.
    pub async fn full_sync(&mut self, docker: &RawClient) -> Result<SyncStats, Error> {
        let started = Instant::now();
        let body = docker
            .get("/containers/json?all=1")
            .await
            .map_err(|err| Error::List(Box::new(err)))?;
        let listed: Vec<Listed> = serde_json::from_slice(&body).map_err(Error::ListBody)?;
        let ids: Vec<String> = listed.into_iter().map(|c| c.id).collect();
        let inspected = inspect_many(docker, ids).await?;
        let mut containers = HashMap::with_capacity(inspected.len());
        for container in inspected.into_iter().flatten() {
            containers.insert(container.id().to_owned(), Arc::new(container));
        }
        let stats = SyncStats {
            inspected: containers.len(),
            removed: 0,
            duration: started.elapsed(),
        };
        self.containers = containers;
        self.dirty.clear();
        Ok(stats)
    }

    /// Notes that a container changed; it is re-inspected by the next [`refresh`](Self::refresh).
    pub fn mark_dirty(&mut self, id: &str) {
        if !id.is_empty() {
            self.dirty.insert(id.to_owned());
        }
    }

    /// Forgets a container the daemon reported as destroyed, without asking the daemon.
    pub fn remove(&mut self, id: &str) {
        self.containers.remove(id);
        self.dirty.remove(id);
    }

    /// Whether some container must be re-inspected before the cache is current.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Re-inspects the dirty containers; a container that is gone leaves the cache.
    pub async fn refresh(&mut self, docker: &RawClient) -> Result<SyncStats, Error> {
        let started = Instant::now();
        let ids: Vec<String> = self.dirty.iter().cloned().collect();
        let results = inspect_many(docker, ids.clone()).await?;
        let mut stats = SyncStats {
            inspected: 0,
            removed: 0,
            duration: Duration::ZERO,
        };
        for (id, result) in ids.into_iter().zip(results) {
            self.dirty.remove(&id);
            match result {
                Some(container) => {
                    stats.inspected += 1;
                    self.containers.insert(id, Arc::new(container));
                }
                None => {
                    if self.containers.remove(&id).is_some() {
                        stats.removed += 1;
                    }
                }
            }
        }
        stats.duration = started.elapsed();
        Ok(stats)
    }

    /// What a render reads: every container plus pygen's own container ID.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            containers: self.containers.values().cloned().collect(),
            own_container_id: self.resolve_own_id(),
            swarm: None,
        }
    }

    /// The running containers (what `containers` holds in templates), for action targets.
    pub fn running(&self) -> Vec<Arc<Container>> {
        self.containers
            .values()
            .filter(|c| c.is_running())
            .cloned()
            .collect()
    }

    /// The full ID of pygen's own container: as detected, or the only container whose ID starts
    /// with the detected hostname prefix.
    fn resolve_own_id(&self) -> Option<String> {
        let own = self.own_id.as_ref()?;
        own.resolve(self.containers.keys().map(String::as_str))
            .map(str::to_owned)
    }
}

/// What a sync or a refresh did, for the logs and metrics.
#[derive(Debug, Clone, Copy)]
pub struct SyncStats {
    /// Containers inspected successfully.
    pub inspected: usize,
    /// Containers that turned out to be gone.
    pub removed: usize,
    /// Wall time of the API calls.
    pub duration: Duration,
}

/// One entry of `GET /containers/json`: only the ID is used, the rest comes from inspect.
#[derive(serde::Deserialize)]
struct Listed {
    /// The container's full ID.
    #[serde(rename = "Id")]
    id: String,
}

/// Inspects containers concurrently, keeping the input order. `None` marks a container that is
/// gone (removed between the list or event and the inspect): skipped, never fatal.
async fn inspect_many(
    docker: &RawClient,
    ids: Vec<String>,
) -> Result<Vec<Option<Container>>, Error> {
    let results: Vec<Result<Option<Container>, Error>> = stream::iter(ids)
        .map(|id| async move { inspect_one(docker, id).await })
        .buffered(INSPECT_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Inspects one container and builds its model from the daemon's own JSON (kept as `raw`). A
/// 404 (or 409 for a container being removed) is `None`; inspect data that cannot be modelled
/// is logged and skipped, never fatal.
async fn inspect_one(docker: &RawClient, id: String) -> Result<Option<Container>, Error> {
    let body = match docker.get(&format!("/containers/{id}/json")).await {
        Ok(body) => body,
        Err(err)
            if matches!(
                err.status(),
                Some(StatusCode::NOT_FOUND | StatusCode::CONFLICT)
            ) =>
        {
            return Ok(None);
        }
        Err(source) => {
            return Err(Error::Inspect {
                id,
                source: Box::new(source),
            });
        }
    };
    let text = match std::str::from_utf8(&body) {
        Ok(text) => text,
        Err(err) => {
            tracing::warn!(container = %id, "cannot model inspect data, skipping container: {}", describe(&err));
            return Ok(None);
        }
    };
    match Container::from_inspect_json(text) {
        Ok(container) => Ok(Some(container)),
        Err(err) => {
            tracing::warn!(container = %id, "cannot model inspect data, skipping container: {}", describe(&err));
            Ok(None)
        }
    }
}
