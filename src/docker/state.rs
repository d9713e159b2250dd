//! The state cache: the inspect data of every container, kept current incrementally.
//!
//! A full sync lists every container once and inspects them over a few reused connections. After
//! that, the watch re-inspects only the container an event names and stores the answer with
//! [`StateCache::update`], so a change costs one inspect instead of one per container
//! (docker-pygen and docker-gen re-list and re-inspect everything). Both reads go through
//! [`StateSource`] (the list of a full sync, the inspect of a changed container), so the cache
//! and the watch loop above it can be served by something other than a daemon.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
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

/// The containers pygen knows about, by full ID.
#[derive(Debug, Default)]
pub struct StateCache {
    /// Every container of the daemon, in any state, by full ID.
    containers: HashMap<String, Arc<Container>>,
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

    /// Replaces the whole cache with the source's current containers (the daemon's, for a
    /// [`RawClient`]).
    pub async fn full_sync(&mut self, source: &dyn StateSource) -> Result<SyncStats, Error> {
        let started = Instant::now();
        let ids = source.list().await?;
        let inspected = inspect_many(source, ids).await?;
        let mut containers = HashMap::with_capacity(inspected.len());
        for container in inspected.into_iter().flatten() {
            containers.insert(container.id().to_owned(), Arc::new(container));
        }
        let stats = SyncStats {
            inspected: containers.len(),
            duration: started.elapsed(),
        };
        self.containers = containers;
        Ok(stats)
    }

    /// Stores what one inspect of `id` found: the container, or `None` when it is gone.
    /// Returns whether the cache changed.
    pub fn update(&mut self, id: &str, found: Option<Container>) -> bool {
        match found {
            Some(container) => {
                self.containers.insert(id.to_owned(), Arc::new(container));
                true
            }
            None => self.containers.remove(id).is_some(),
        }
    }

    /// Forgets a container the daemon reported as destroyed, without asking the daemon.
    pub fn remove(&mut self, id: &str) {
        self.containers.remove(id);
    }

    /// Whether the cache holds the container `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.containers.contains_key(id)
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

/// Where the containers are read from: the list a full sync starts with, and the inspect of one
/// container (after an event, or for each listed one). The daemon's pooled client is the real
/// one; tests serve containers from memory, so the watch and its loop run without a daemon.
pub trait StateSource: Send + Sync + std::fmt::Debug + 'static {
    /// The IDs of every container, in any state.
    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, Error>>;

    /// Inspects the container `id`: the container, `None` when it is gone.
    fn inspect(&self, id: String) -> BoxFuture<'_, Result<Option<Container>, Error>>;
}

impl StateSource for RawClient {
    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        Box::pin(async move {
            let body = self
                .get("/containers/json?all=1")
                .await
                .map_err(|err| Error::List(Box::new(err)))?;
            let listed: Vec<Listed> = serde_json::from_slice(&body).map_err(Error::ListBody)?;
            Ok(listed.into_iter().map(|c| c.id).collect())
        })
    }

    fn inspect(&self, id: String) -> BoxFuture<'_, Result<Option<Container>, Error>> {
        Box::pin(inspect_one(self, id))
    }
}

/// What a sync did, for the logs and metrics.
#[derive(Debug, Clone, Copy)]
pub struct SyncStats {
    /// Containers inspected successfully.
    pub inspected: usize,
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
    source: &dyn StateSource,
    ids: Vec<String>,
) -> Result<Vec<Option<Container>>, Error> {
    let results: Vec<Result<Option<Container>, Error>> = stream::iter(ids)
        .map(|id| source.inspect(id))
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
