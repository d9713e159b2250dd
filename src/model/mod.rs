//! The model: typed, engine-free data built from the daemon's JSON, which every template
//! dialect and the offline `render --state` read. No template engine and no I/O here: the
//! dialects under `crate::template` turn this data into what their templates see.
//!
//! - [`Container`] (with its [`Network`]s, [`PublishedPort`]s and [`Mount`]s): one container,
//!   parsed once from its inspect body and shared.
//! - [`Swarm`]: the [`Service`]s (with their [`Task`]s) and [`Node`]s of a Swarm, parsed once
//!   from one listing of each.
//! - [`Snapshot`]: everything a render reads; `pygen state` dumps it and
//!   `pygen render --state` reads it back.
//! - [`match_containers`], [`match_services`]: target matching for the restart and signal
//!   actions; the same rules serve the templates' `matching`.
//!
//! Layout, leaves first: `json` (forgiving JSON accessors), `time` (sortable timestamps),
//! `packed` (compressed inspect bodies), `container`, `task`, `service`, `node`, `swarm`
//! (parsing), `matching` (target and ordering rules), and the snapshot with its dump format
//! here.

mod container;
mod json;
pub(crate) mod matching;
mod node;
mod packed;
mod redact;
mod service;
mod swarm;
mod task;
mod time;

use std::sync::Arc;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

pub use container::{Container, Mount, Network, PublishedPort};
pub use matching::MatchPolicy;
pub use node::Node;
pub use redact::{REDACTED, redact_env};
pub use service::{Service, ServicePort};
pub use swarm::Swarm;
pub use task::{Task, TaskNetwork};

/// Errors of the model layer. None is recoverable by retrying: the input is wrong.
///
/// Each message is complete on its own (it includes the cause); the cause also stays
/// reachable as the source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An inspect body (or a state dump) is not valid JSON.
    #[error("invalid JSON: {source}")]
    InvalidJson {
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// An inspect body is valid JSON but not an object.
    #[error("container inspect data is not a JSON object")]
    NotAnObject,
    /// A state dump does not have the expected shape.
    #[error("state dump: {message}")]
    Dump {
        /// What is wrong, naming the field.
        message: String,
    },
    /// One container of a state dump is unusable.
    #[error("state dump: containers[{index}]: {source}")]
    DumpContainer {
        /// Position of the container in the dump's `containers` array.
        index: usize,
        /// Why it could not be read.
        #[source]
        source: Box<Error>,
    },
}

/// The state dump format version written and accepted by [`Snapshot`].
const DUMP_VERSION: u64 = 1;

/// Everything a render reads. `pygen state` dumps it, `pygen render --state` reads it back.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// All containers, any state, any order (the context orders and filters them).
    pub containers: Vec<Arc<Container>>,
    /// Full 64-hex id of pygen's own container, if it runs in one (`own_container_id`,
    /// `.self`).
    pub own_container_id: Option<String>,
    /// The Swarm services, tasks and nodes; `None` when the daemon is not a Swarm manager (or
    /// the template reads no Swarm variable), which gives empty Swarm lists.
    pub swarm: Option<Arc<Swarm>>,
}

/// The dump layout, fields in the order they are written.
#[derive(Serialize)]
struct Dump<'a> {
    /// Format version.
    version: u64,
    /// pygen's own container id.
    own_container_id: Option<&'a str>,
    /// The containers' inspect bodies.
    containers: Vec<serde_json::Value>,
    /// The Swarm objects, when there are some.
    #[serde(skip_serializing_if = "Option::is_none")]
    swarm: Option<swarm::SwarmDump>,
}

impl Snapshot {
    /// Every container in `docker ps --all` order: newest `Created` first, then by id.
    pub fn newest_first(&self) -> Vec<&Arc<Container>> {
        // Each creation time is read once into the vector sorted: at ten thousand containers,
        // reading it from each container at every comparison waits on memory.
        let mut keyed: Vec<_> = self.containers.iter().map(|c| (c.created_at, c)).collect();
        keyed.sort_by(|(a_at, a), (b_at, b)| {
            b_at.cmp(a_at).then_with(|| Container::newest_first(a, b))
        });
        keyed.into_iter().map(|(_, c)| c).collect()
    }

    /// The running containers (running, paused or restarting, as `docker ps` lists them),
    /// newest first: what templates see as their containers.
    pub fn running(&self) -> Vec<&Arc<Container>> {
        let mut running = self.newest_first();
        running.retain(|c| c.is_running());
        running
    }

    /// Pretty JSON: `{"version":1,"own_container_id":..,"containers":[<inspect objects>]}`,
    /// plus `"swarm":{"services":[..],"tasks":[..],"nodes":[..]}` (the daemon's objects) when
    /// the snapshot has a Swarm state. Containers are written in the context's order (newest
    /// first).
    pub fn to_dump(&self) -> String {
        let sorted = self.newest_first();
        let dump = Dump {
            version: DUMP_VERSION,
            own_container_id: self.own_container_id.as_deref(),
            containers: sorted
                .iter()
                // A stored body was parsed when the container was built; if it somehow no
                // longer parses it is written as null rather than failing the whole dump.
                .map(|c| serde_json::from_str(&c.raw_json()).unwrap_or(serde_json::Value::Null))
                .collect(),
            swarm: self.swarm.as_ref().map(|swarm| swarm.to_dump()),
        };
        // Serializing plain JSON values and strings cannot fail.
        serde_json::to_string_pretty(&dump).unwrap_or_default()
    }

    /// Reads a dump written by [`Snapshot::to_dump`]. Also accepts the output of
    /// `docker inspect` (a bare array of container objects), with no own container id.
    ///
    /// Each container is parsed straight from its slice of `json`: the dump is never built
    /// as one JSON tree (at ten thousand containers that tree is several times the dump).
    pub fn from_dump(json: &str) -> Result<Snapshot, Error> {
        let invalid = |source| Error::InvalidJson { source };
        let dump_error = |message: &str| Error::Dump {
            message: message.to_owned(),
        };
        let top: &RawValue = serde_json::from_str(json).map_err(invalid)?;
        let (containers, own_container_id, swarm) = match first_byte(top) {
            b'[' => (
                serde_json::from_str(top.get()).map_err(invalid)?,
                None,
                None,
            ),
            b'{' => {
                let mut map: BTreeMap<&str, &RawValue> =
                    serde_json::from_str(top.get()).map_err(invalid)?;
                let value = |raw: &RawValue| -> Result<serde_json::Value, Error> {
                    serde_json::from_str(raw.get()).map_err(invalid)
                };
                let swarm = match map.remove("swarm").map(value).transpose()? {
                    None | Some(serde_json::Value::Null) => None,
                    Some(value) => Some(Arc::new(swarm_from_dump(&value)?)),
                };
                match map.get("version").copied().map(value).transpose()? {
                    Some(v) if v.as_u64() == Some(DUMP_VERSION) => {}
                    Some(v) => {
                        return Err(dump_error(&format!(
                            "unsupported version {v} (expected {DUMP_VERSION})"
                        )));
                    }
                    None => return Err(dump_error("missing \"version\"")),
                }
                let own = match map.remove("own_container_id").map(value).transpose()? {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(s)) => Some(s),
                    Some(_) => {
                        return Err(dump_error("\"own_container_id\" must be a string or null"));
                    }
                };
                let containers: Vec<&RawValue> = match map.remove("containers") {
                    Some(raw) if first_byte(raw) == b'[' => {
                        serde_json::from_str(raw.get()).map_err(invalid)?
                    }
                    Some(_) => return Err(dump_error("\"containers\" must be an array")),
                    None => return Err(dump_error("missing \"containers\"")),
                };
                (containers, own, swarm)
            }
            _ => return Err(dump_error("expected an object (or an array of containers)")),
        };
        let containers = containers
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let failed = |e: Error| Error::DumpContainer {
                    index,
                    source: Box::new(e),
                };
                if first_byte(item) != b'{' {
                    return Err(failed(Error::NotAnObject));
                }
                Container::from_inspect_json(item.get())
                    .map(Arc::new)
                    .map_err(failed)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Snapshot {
            containers,
            own_container_id,
            swarm,
        })
    }
}

/// The first byte of a JSON value (`{`, `[`, `"`, a digit, …); raw values hold no leading
/// whitespace.
fn first_byte(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b' ')
}

/// The `swarm` part of a state dump: `services`, `tasks` and `nodes` arrays (each optional).
fn swarm_from_dump(value: &serde_json::Value) -> Result<Swarm, Error> {
    let Some(map) = value.as_object() else {
        return Err(Error::Dump {
            message: "\"swarm\" must be an object".to_owned(),
        });
    };
    let list = |key: &str| -> Result<&[serde_json::Value], Error> {
        match map.get(key) {
            None | Some(serde_json::Value::Null) => Ok(&[]),
            Some(serde_json::Value::Array(items)) => Ok(items),
            Some(_) => Err(Error::Dump {
                message: format!("\"swarm.{key}\" must be an array"),
            }),
        }
    };
    Ok(Swarm::from_items(
        list("services")?,
        list("tasks")?,
        list("nodes")?,
    ))
}

/// The containers `target` names, for the restart and signal actions: by id, name, label
/// `pygen.target`, env `PYGEN_TARGET`, Compose service, Swarm service (with or without the
/// stack prefix), and id prefix as `policy` allows. Rule order, then list order, each once;
/// an empty target names nothing.
pub fn match_containers(
    containers: &[Arc<Container>],
    target: &str,
    policy: MatchPolicy,
) -> Vec<Arc<Container>> {
    matching::matching_indices(containers, target, matching::Kind::Container, policy)
        .into_iter()
        .map(|i| containers[i].clone())
        .collect()
}

/// The services `target` names, for the restart action on a Swarm manager: by id, name,
/// label `pygen.target`, stack-less name (`web` for `mystack_web`), and id prefix as `policy`
/// allows. Rule order, then list order, each once; an empty target names nothing.
pub fn match_services(
    services: &[Arc<Service>],
    target: &str,
    policy: MatchPolicy,
) -> Vec<Arc<Service>> {
    matching::matching_indices(services, target, matching::Kind::Service, policy)
        .into_iter()
        .map(|i| services[i].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/data/sample-inspect.json");

    fn with_id(id: &str, name: &str, created: &str) -> Arc<Container> {
        let mut json: serde_json::Value = serde_json::from_str(SAMPLE).expect("valid");
        json["Id"] = id.into();
        json["Name"] = format!("/{name}").into();
        json["Created"] = created.into();
        Arc::new(Container::from_inspect_json(&json.to_string()).expect("valid"))
    }

    #[test]
    fn dump_round_trips() {
        let snapshot = Snapshot {
            containers: vec![
                with_id("aaa", "one", "2020-01-01T00:00:00Z"),
                with_id("bbb", "two", "2021-01-01T00:00:00Z"),
            ],
            own_container_id: Some("bbb".into()),
            swarm: None,
        };
        let dump = snapshot.to_dump();
        assert!(dump.starts_with(
            "{\n  \"version\": 1,\n  \"own_container_id\": \"bbb\",\n  \"containers\": ["
        ));
        let back = Snapshot::from_dump(&dump).expect("own dump reads back");
        assert_eq!(back.own_container_id.as_deref(), Some("bbb"));
        let names: Vec<&str> = back.containers.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["two", "one"]);
        assert_eq!(*back.containers[1], *snapshot.containers[0]);
        assert_eq!(back.to_dump(), dump);
    }

    #[test]
    fn dump_round_trips_the_swarm() {
        let items = |json: &str| -> Vec<serde_json::Value> { serde_json::from_str(json).unwrap() };
        let swarm = Swarm::from_items(
            &items(include_str!("../../tests/data/swarm/services.json")),
            &items(include_str!("../../tests/data/swarm/tasks.json")),
            &items(include_str!("../../tests/data/swarm/nodes.json")),
        );
        let snapshot = Snapshot {
            containers: Vec::new(),
            own_container_id: None,
            swarm: Some(Arc::new(swarm.clone())),
        };
        let dump = snapshot.to_dump();
        let back = Snapshot::from_dump(&dump).expect("own dump reads back");
        assert_eq!(back.swarm.as_deref(), Some(&swarm));
        assert_eq!(back.to_dump(), dump);
        // Without a Swarm state the dump has no "swarm" key, and reads back as none.
        let plain = Snapshot::default().to_dump();
        assert!(!plain.contains("swarm"), "{plain}");
        assert!(Snapshot::from_dump(&plain).unwrap().swarm.is_none());
        let err = Snapshot::from_dump(r#"{"version": 1, "containers": [], "swarm": {"tasks": 1}}"#)
            .expect_err("tasks must be an array");
        assert_eq!(
            err.to_string(),
            "state dump: \"swarm.tasks\" must be an array"
        );
    }

    #[test]
    fn dump_accepts_docker_inspect_output() {
        let json = format!("[{SAMPLE}]");
        let snapshot = Snapshot::from_dump(&json).expect("docker inspect output reads");
        assert_eq!(snapshot.containers.len(), 1);
        assert_eq!(snapshot.own_container_id, None);
    }

    #[test]
    fn dump_errors_name_what_is_wrong() {
        let err = |json: &str| {
            Snapshot::from_dump(json)
                .expect_err("must fail")
                .to_string()
        };
        assert!(err("{").starts_with("invalid JSON: EOF while parsing"));
        assert_eq!(
            err("{\"containers\": []}"),
            "state dump: missing \"version\""
        );
        assert_eq!(
            err("{\"version\": 2, \"containers\": []}"),
            "state dump: unsupported version 2 (expected 1)"
        );
        assert_eq!(
            err("{\"version\": 1}"),
            "state dump: missing \"containers\""
        );
        assert_eq!(
            err("{\"version\": 1, \"containers\": {}}"),
            "state dump: \"containers\" must be an array"
        );
        assert_eq!(
            err("{\"version\": 1, \"own_container_id\": 5, \"containers\": []}"),
            "state dump: \"own_container_id\" must be a string or null"
        );
        assert_eq!(
            err("{\"version\": 1, \"containers\": [{}, {}, {}, 7]}"),
            "state dump: containers[3]: container inspect data is not a JSON object"
        );
        assert_eq!(
            err("7"),
            "state dump: expected an object (or an array of containers)"
        );
    }

    #[test]
    fn match_containers_uses_the_policy() {
        let containers = vec![
            with_id("dbeef0001", "web", "2020-01-01T00:00:00Z"),
            with_id("cafe0002", "db", "2020-01-01T00:00:00Z"),
        ];
        let names = |found: Vec<Arc<Container>>| {
            found
                .iter()
                .map(|c| c.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(match_containers(&containers, "db", MatchPolicy::Action)),
            ["db"]
        );
        assert_eq!(
            names(match_containers(&containers, "db", MatchPolicy::Template)),
            ["db", "web"]
        );
        // Both samples carry the label pygen.target=t1.
        assert_eq!(
            names(match_containers(&containers, "t1", MatchPolicy::Action)),
            ["web", "db"]
        );
        assert!(match_containers(&containers, "", MatchPolicy::Template).is_empty());
        assert_eq!(
            names(match_containers(&containers, "cafe", MatchPolicy::Action)),
            ["db"]
        );
    }
}
