//! The Swarm half of the state: services, tasks and nodes, listed in one go and kept until
//! something says they changed, plus the service update behind `--restart` on a manager.
//!
//! A refresh reads the daemon's Swarm role from `GET /info`, then, on a manager, `GET /services`
//! and one `GET /tasks` for every service at once (docker-pygen asked once per service), and
//! `GET /nodes` when the template reads `nodes`. Swarm has no task events, so the cache is
//! marked dirty by service and node events, by events of task containers, by a manager
//! endpoint request, and refreshed by a poll (see the generator): a render reads the cache and
//! costs at most one listing.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::raw::{self, RawClient};
use crate::metrics::Metrics;
use crate::model::{Service, Swarm};

/// Errors of a Swarm refresh or service update. All are recoverable: the next refresh or
/// action tries again.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request failed.
    #[error(transparent)]
    Request(#[from] raw::Error),
    /// The daemon answered something that is not the JSON expected.
    #[error("Docker answered {path} with invalid JSON")]
    Json {
        /// The path asked for.
        path: &'static str,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The service has no spec to send back.
    #[error("service {service}: the daemon gave no spec to update")]
    NoSpec {
        /// The service id.
        service: String,
    },
}

/// What the templates read from the Swarm, which decides what a refresh lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wants {
    /// `services` or `all_services`: list services and tasks.
    pub services: bool,
    /// `nodes`: list nodes.
    pub nodes: bool,
}

impl Wants {
    /// Whether anything Swarm is read at all.
    pub fn any(&self) -> bool {
        self.services || self.nodes
    }
}

/// The daemon's place in a Swarm, as `GET /info` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Not known yet.
    Unknown,
    /// Not a Swarm manager (no Swarm, or a worker node): no services or nodes to show.
    NotManager,
    /// A Swarm manager: services, tasks and nodes can be listed.
    Manager,
}

/// What a refresh found.
#[derive(Debug, Clone, Copy)]
pub struct Refresh {
    /// Whether the listed objects differ from the previous refresh (or the role changed).
    pub changed: bool,
    /// Time of the API calls.
    pub duration: Duration,
}

/// Services, tasks and nodes, kept between renders.
#[derive(Debug)]
pub struct SwarmCache {
    /// What to list.
    wants: Wants,
    /// The daemon's role, as of the last refresh.
    role: Role,
    /// The last listing; `None` when the daemon is not a manager.
    state: Option<Arc<Swarm>>,
    /// Whether the listing must be refreshed before the next render.
    dirty: bool,
    /// Hash of the last listing's bodies, to tell whether a refresh found a change.
    fingerprint: Option<u64>,
}

impl SwarmCache {
    /// An empty cache that lists what `wants` asks for; dirty, so the first render refreshes.
    pub fn new(wants: Wants) -> SwarmCache {
        SwarmCache {
            wants,
            role: Role::Unknown,
            state: None,
            dirty: true,
            fingerprint: None,
        }
    }

    /// What the cache lists.
    pub fn wants(&self) -> Wants {
        self.wants
    }

    /// Changes what the cache lists (after a template reload); marks it dirty when it grows.
    pub fn set_wants(&mut self, wants: Wants) {
        if wants != self.wants {
            self.wants = wants;
            self.dirty = true;
        }
    }

    /// Notes that the Swarm may have changed; the next render refreshes first.
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Whether the next render must refresh first (only when templates read the Swarm).
    pub fn needs_refresh(&self) -> bool {
        self.dirty && self.wants.any()
    }

    /// The daemon's role as of the last refresh.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The last listing, for a render; `None` outside a Swarm manager.
    pub fn snapshot(&self) -> Option<Arc<Swarm>> {
        self.state.clone()
    }

    /// Whether some task is on its way to its desired state, so the next poll should come
    /// soon: Swarm reports the end of that move through no event.
    pub fn is_settling(&self) -> bool {
        self.state.as_ref().is_some_and(|swarm| {
            swarm
                .services()
                .iter()
                .any(|s| s.tasks().iter().any(|t| t.is_settling()))
        })
    }

    /// Lists the Swarm again: the role from `/info`, then on a manager the services and all
    /// tasks (one `/tasks` call) and, when wanted, the nodes.
    pub async fn refresh(&mut self, raw: &RawClient, metrics: &Metrics) -> Result<Refresh, Error> {
        let started = Instant::now();
        let role = read_role(raw).await?;
        let mut hasher = DefaultHasher::new();
        let state = if role == Role::Manager && self.wants.any() {
            match list(raw, self.wants, metrics, &mut hasher).await {
                Ok(swarm) => Some(Arc::new(swarm)),
                // A manager that stepped down between the two calls.
                Err(Error::Request(err)) if err.status().is_some_and(|s| s.as_u16() == 503) => None,
                Err(err) => return Err(err),
            }
        } else {
            None
        };
        let role = if role == Role::Manager && state.is_none() && self.wants.any() {
            Role::NotManager
        } else {
            role
        };
        role.hash(&mut hasher);
        let fingerprint = hasher.finish();
        let changed = self.fingerprint != Some(fingerprint);
        self.fingerprint = Some(fingerprint);
        self.role = role;
        self.state = state;
        self.dirty = false;
        Ok(Refresh {
            changed,
            duration: started.elapsed(),
        })
    }
}

impl Hash for Role {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (*self as u8).hash(state);
    }
}

/// The daemon's role from `GET /info`.
pub async fn read_role(raw: &RawClient) -> Result<Role, Error> {
    let info: Json = get_json(raw, "/info").await?;
    let swarm = &info["Swarm"];
    let active = swarm["LocalNodeState"].as_str() == Some("active");
    let manager = swarm["ControlAvailable"].as_bool() == Some(true);
    Ok(if active && manager {
        Role::Manager
    } else {
        Role::NotManager
    })
}

/// `GET path` as JSON.
async fn get_json(raw: &RawClient, path: &'static str) -> Result<Json, Error> {
    let bytes = raw.get(path).await?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
}

/// `GET path` as a JSON array, hashed into `hasher`.
async fn get_items(
    raw: &RawClient,
    path: &'static str,
    hasher: &mut DefaultHasher,
) -> Result<Vec<Json>, Error> {
    let bytes = raw.get(path).await?;
    bytes.hash(hasher);
    serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })
}

/// Lists what `wants` asks for.
async fn list(
    raw: &RawClient,
    wants: Wants,
    metrics: &Metrics,
    hasher: &mut DefaultHasher,
) -> Result<Swarm, Error> {
    let (mut services, mut tasks, mut nodes) = (Vec::new(), Vec::new(), Vec::new());
    if wants.services {
        let started = Instant::now();
        services = get_items(raw, "/services", hasher).await?;
        tasks = get_items(raw, "/tasks", hasher).await?;
        metrics.api_services(started.elapsed(), false);
    }
    if wants.nodes {
        let started = Instant::now();
        nodes = get_items(raw, "/nodes", hasher).await?;
        metrics.api_nodes(started.elapsed());
    }
    Ok(Swarm::from_items(&services, &tasks, &nodes))
}

/// The services of the Swarm (without their tasks), for the restart action. Empty when the
/// daemon is not a manager.
pub async fn list_services(raw: &RawClient) -> Result<Vec<Arc<Service>>, Error> {
    if read_role(raw).await? != Role::Manager {
        return Ok(Vec::new());
    }
    let bytes = match raw.get("/services").await {
        Ok(bytes) => bytes,
        Err(err) if err.status().is_some_and(|s| s.as_u16() == 503) => return Ok(Vec::new()),
        Err(err) => return Err(err.into()),
    };
    let items: Vec<Json> = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        path: "/services",
        source,
    })?;
    Ok(Swarm::from_items(&items, &[], &[]).services().to_vec())
}

/// How many times a service update is tried when another update came in between.
const UPDATE_ATTEMPTS: usize = 3;

/// Restarts every task of a service the way `docker service update --force` does: reads the
/// service, raises `Spec.TaskTemplate.ForceUpdate` by one (modulo 100, as docker-pygen did)
/// and sends the spec back unchanged otherwise, at the version just read. Returns the new
/// `ForceUpdate` value. A version conflict (another update came in between) reads again.
pub async fn force_update(raw: &RawClient, service_id: &str) -> Result<u64, Error> {
    let path = format!("/services/{service_id}");
    let mut attempt = 0;
    loop {
        attempt += 1;
        let bytes = raw.get(&path).await?;
        let service: Json = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: "/services/{id}",
            source,
        })?;
        let version = service["Version"]["Index"].as_u64().unwrap_or(0);
        let Some(mut spec) = service.get("Spec").cloned().filter(Json::is_object) else {
            return Err(Error::NoSpec {
                service: service_id.to_owned(),
            });
        };
        let next = bump_force_update(&mut spec);
        // Serializing a JSON value cannot fail.
        let body = serde_json::to_vec(&spec).unwrap_or_default();
        match raw
            .post_json(&format!("{path}/update?version={version}"), body)
            .await
        {
            Ok(_) => return Ok(next),
            // "update out of sequence": someone else updated the service since it was read.
            Err(err) if attempt < UPDATE_ATTEMPTS && is_out_of_sequence(&err) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// Sets `TaskTemplate.ForceUpdate` of a service spec to its value plus one, modulo 100, and
/// returns the new value.
fn bump_force_update(spec: &mut Json) -> u64 {
    let current = spec["TaskTemplate"]["ForceUpdate"].as_u64().unwrap_or(0);
    let next = (current + 1) % 100;
    if !spec["TaskTemplate"].is_object() {
        spec["TaskTemplate"] = Json::Object(serde_json::Map::new());
    }
    spec["TaskTemplate"]["ForceUpdate"] = Json::from(next);
    next
}

/// Whether the daemon refused an update because the service changed since it was read.
fn is_out_of_sequence(err: &raw::Error) -> bool {
    matches!(err, raw::Error::Status { message, .. } if message.contains("out of sequence"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_update_wraps_at_100_and_keeps_the_spec() {
        let mut spec = serde_json::json!({"Name": "web", "TaskTemplate": {
            "ContainerSpec": {"Image": "x"}, "ForceUpdate": 12}, "Labels": {"a": "b"}});
        assert_eq!(bump_force_update(&mut spec), 13);
        assert_eq!(spec["TaskTemplate"]["ForceUpdate"], 13);
        assert_eq!(spec["TaskTemplate"]["ContainerSpec"]["Image"], "x");
        assert_eq!(spec["Labels"]["a"], "b");
        spec["TaskTemplate"]["ForceUpdate"] = Json::from(99);
        assert_eq!(bump_force_update(&mut spec), 0);
        let mut bare = serde_json::json!({"Name": "web"});
        assert_eq!(bump_force_update(&mut bare), 1);
        assert_eq!(bare["TaskTemplate"]["ForceUpdate"], 1);
    }

    #[test]
    fn wants_and_dirtiness() {
        let mut cache = SwarmCache::new(Wants::default());
        assert!(!cache.needs_refresh(), "nothing wanted, nothing to refresh");
        cache.set_wants(Wants {
            services: true,
            nodes: false,
        });
        assert!(cache.needs_refresh());
        assert_eq!(cache.role(), Role::Unknown);
        assert!(cache.snapshot().is_none());
        assert!(!cache.is_settling());
    }
}
