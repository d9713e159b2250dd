//! Swarm services, tasks and nodes as pygen keeps them: the fields templates and actions read,
//! parsed once from the bodies of `GET /services`, `GET /tasks` and `GET /nodes`, plus each
//! object's JSON as one compact string (for `raw` and `pygen state`).
//!
//! One `/tasks` listing serves every service: tasks are grouped by `ServiceID` here, in the
//! daemon's order, instead of one `/tasks?service=…` call per service as docker-pygen made.
//! Parsing is forgiving like the containers': an unexpected type empties one field, an item
//! that is not an object (or has no `ID`) is skipped, and a task whose service is gone is left
//! out.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value as Json;

use super::container::{at, env, labels, opt_text, text};
use super::matching::Resource;

/// Label Swarm puts on task containers: the service id.
pub(crate) const SERVICE_ID_LABEL: &str = "com.docker.swarm.service.id";
/// Label Swarm puts on task containers: the service name.
pub(crate) const SERVICE_NAME_LABEL: &str = "com.docker.swarm.service.name";
/// Label Swarm puts on task containers: the task id.
const TASK_ID_LABEL: &str = "com.docker.swarm.task.id";
/// Label Swarm puts on task containers: the task name.
const TASK_NAME_LABEL: &str = "com.docker.swarm.task.name";
/// Label Swarm puts on task containers: the node id.
const NODE_ID_LABEL: &str = "com.docker.swarm.node.id";

/// Labels, env or platform pairs, shared with the template maps that show them.
pub(crate) type Pairs = Arc<[(Box<str>, Box<str>)]>;

/// Everything pygen knows about the Swarm, from one listing of services, tasks and nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Swarm {
    /// The services, in the daemon's `/services` order, each with all its tasks.
    pub(crate) services: Box<[Arc<Service>]>,
    /// The nodes, in the daemon's `/nodes` order; empty when they were not listed.
    pub(crate) nodes: Box<[Arc<Node>]>,
}

/// One port of a service's endpoint (`EndpointSpec.Ports[]` or `Endpoint.Ports[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    /// `Protocol`: `tcp` (Docker's default when absent), `udp`, `sctp`, …
    pub protocol: Box<str>,
    /// `TargetPort`: the port inside the containers.
    pub target: Option<u16>,
    /// `PublishedPort`: the port on the nodes, when published.
    pub published: Option<u16>,
    /// `PublishMode`: `ingress` (Docker's default when absent) or `host`.
    pub mode: Box<str>,
}

/// A Swarm service, parsed from one item of `GET /services`, with all its tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// `ID`.
    pub(crate) id: Box<str>,
    /// `Spec.Name`.
    pub(crate) name: Box<str>,
    /// `Version.Index`: changes with every update of the service.
    pub(crate) version: Option<i64>,
    /// `Spec.TaskTemplate.ContainerSpec.Image` (usually digest-pinned).
    pub(crate) image: Box<str>,
    /// `Spec.Labels` (service labels, not container labels), sorted by key.
    pub(crate) labels: Pairs,
    /// The key of `Spec.Mode`: `replicated`, `global`, `replicated-job`, `global-job`.
    pub(crate) mode: Box<str>,
    /// `Spec.Mode.Replicated.Replicas` (or `ReplicatedJob.TotalCompletions`), when replicated.
    pub(crate) replicas: Option<u64>,
    /// `Spec.EndpointSpec.Ports`: the ports as configured, in spec order.
    pub(crate) spec_ports: Box<[ServicePort]>,
    /// `Endpoint.Ports`: the ports as the Swarm set them up, with auto-assigned published
    /// ports; the spec's ports when the endpoint has none yet.
    pub(crate) endpoint_ports: Box<[ServicePort]>,
    /// Network ids of `Spec.TaskTemplate.Networks[].Target` then `Spec.Networks[].Target`
    /// (deprecated), each once, in spec order.
    pub(crate) networks: Box<[Box<str>]>,
    /// `Endpoint.VirtualIPs`: (network id, address without the prefix length).
    pub(crate) vips: Box<[(Box<str>, Box<str>)]>,
    /// The ingress network: from a task attachment flagged `Ingress`, else the last virtual-IP
    /// network that is not a spec network (older daemons do not flag it).
    pub(crate) ingress_id: Option<Box<str>>,
    /// Name of the ingress network, from a task attachment.
    pub(crate) ingress_name: Option<Box<str>>,
    /// Every task of the service, in the daemon's `/tasks` order.
    pub(crate) tasks: Box<[Arc<Task>]>,
    /// The service's JSON, compact.
    raw: Box<str>,
}

/// One network attachment of a task (`NetworksAttachments[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskNetwork {
    /// `Network.ID`.
    pub id: Box<str>,
    /// `Network.Spec.Name`.
    pub name: Option<Box<str>>,
    /// Whether this is the ingress network (flagged by the daemon, or guessed from the
    /// service's virtual IPs on older daemons).
    pub is_ingress: bool,
    /// `Network.Spec.Labels`, sorted by key.
    pub labels: Pairs,
    /// `Addresses`, without the prefix length.
    pub addresses: Box<[Box<str>]>,
}

/// A Swarm task, parsed from one item of `GET /tasks`.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// `ID`.
    pub(crate) id: Box<str>,
    /// `<service>.<slot>.<id>`, or `<service>.<node id>.<id>` for tasks without a slot
    /// (global services): the name Docker gives the task's container.
    pub(crate) name: Box<str>,
    /// `NodeID`; `None` while the task is not assigned to a node.
    pub(crate) node_id: Option<Box<str>>,
    /// `ServiceID`.
    pub(crate) service_id: Box<str>,
    /// `Slot`; `None` for global services.
    pub(crate) slot: Option<i64>,
    /// `Status.ContainerStatus.ContainerID`; `None` before the container exists.
    pub(crate) container_id: Option<Box<str>>,
    /// `Spec.ContainerSpec.Image`.
    pub(crate) image: Box<str>,
    /// `Status.State`: `new`, …, `running`, `complete`, `failed`, `shutdown`, …
    pub(crate) status: Box<str>,
    /// `DesiredState`.
    pub(crate) desired_state: Box<str>,
    /// `Spec.ContainerSpec.Labels` plus the `com.docker.swarm.*` labels Swarm puts on the
    /// task's container (service id and name, task id and name, node id), sorted by key.
    pub(crate) labels: Pairs,
    /// `Spec.ContainerSpec.Env`, split like a container's.
    pub(crate) env: Pairs,
    /// `NetworksAttachments`, in the daemon's order.
    pub(crate) networks: Box<[TaskNetwork]>,
    /// The task's JSON, compact.
    raw: Box<str>,
}

/// A Swarm node, parsed from one item of `GET /nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `ID`.
    pub(crate) id: Box<str>,
    /// `Spec.Name`, else `Description.Hostname`, else the short id.
    pub(crate) name: Box<str>,
    /// `Version.Index`.
    pub(crate) version: Option<i64>,
    /// `Status.State`: `ready`, `down`, …
    pub(crate) state: Box<str>,
    /// `Status.Addr`.
    pub(crate) address: Box<str>,
    /// `Description.Hostname`, `''` when unknown.
    pub(crate) hostname: Box<str>,
    /// `Spec.Role`: `manager` or `worker`.
    pub(crate) role: Box<str>,
    /// `Spec.Availability`: `active`, `pause`, `drain`.
    pub(crate) availability: Box<str>,
    /// `Spec.Labels`, sorted by key.
    pub(crate) labels: Pairs,
    /// `Description.Platform` (`OS`, `Architecture`), in the daemon's key order.
    pub(crate) platform: Pairs,
    /// `Description.Engine.EngineVersion`, `''` when unknown.
    pub(crate) engine_version: Box<str>,
    /// `ManagerStatus.Leader`: whether the node leads the managers.
    pub(crate) leader: bool,
    /// The node's JSON, compact.
    raw: Box<str>,
}

/// The dump layout of a [`Swarm`]: the objects as the daemon gave them.
#[derive(Serialize)]
pub(crate) struct SwarmDump {
    /// `GET /services` items.
    pub(crate) services: Vec<Json>,
    /// `GET /tasks` items, service by service.
    pub(crate) tasks: Vec<Json>,
    /// `GET /nodes` items.
    pub(crate) nodes: Vec<Json>,
}

impl Swarm {
    /// Builds the Swarm from the items of `GET /services`, `GET /tasks` and `GET /nodes`.
    ///
    /// Never fails: an item that is not an object or has no `ID` is skipped, and so is a task
    /// whose service is not among `services`.
    pub fn from_items(services: &[Json], tasks: &[Json], nodes: &[Json]) -> Swarm {
        let mut by_service: HashMap<&str, Vec<&Json>> = HashMap::new();
        for task in tasks.iter().filter(|t| t.is_object()) {
            let service_id = text(at(task, &["ServiceID"]));
            if !service_id.is_empty() && !text(at(task, &["ID"])).is_empty() {
                by_service.entry(service_id).or_default().push(task);
            }
        }
        let services = services
            .iter()
            .filter(|s| s.is_object() && !text(at(s, &["ID"])).is_empty())
            .map(|s| {
                let id = text(at(s, &["ID"]));
                let tasks = by_service.get(id).map(Vec::as_slice).unwrap_or_default();
                Arc::new(Service::parse(s, tasks))
            })
            .collect();
        let nodes = nodes
            .iter()
            .filter(|n| n.is_object() && !text(at(n, &["ID"])).is_empty())
            .map(|n| Arc::new(Node::parse(n)))
            .collect();
        Swarm { services, nodes }
    }

    /// The services, in the daemon's order.
    pub fn services(&self) -> &[Arc<Service>] {
        &self.services
    }

    /// The nodes, in the daemon's order (empty when they were not listed).
    pub fn nodes(&self) -> &[Arc<Node>] {
        &self.nodes
    }

    /// How many tasks the services hold in all.
    pub fn task_count(&self) -> usize {
        self.services.iter().map(|s| s.tasks.len()).sum()
    }

    /// The objects as JSON, for `pygen state`.
    pub(crate) fn to_dump(&self) -> SwarmDump {
        let parse = |raw: &str| serde_json::from_str(raw).unwrap_or(Json::Null);
        SwarmDump {
            services: self.services.iter().map(|s| parse(&s.raw)).collect(),
            tasks: self
                .services
                .iter()
                .flat_map(|s| s.tasks.iter())
                .map(|t| parse(&t.raw))
                .collect(),
            nodes: self.nodes.iter().map(|n| parse(&n.raw)).collect(),
        }
    }
}

/// `ID` of an object.
fn id_of(value: &Json) -> &str {
    text(at(value, &["ID"]))
}

/// A number as i64, when it is one.
fn int(value: &Json) -> Option<i64> {
    value.as_i64()
}

/// A port number, when the value is one in range.
fn port(value: &Json) -> Option<u16> {
    value.as_u64().and_then(|n| u16::try_from(n).ok())
}

/// An address without its prefix length: `10.0.0.3/24` → `10.0.0.3`.
fn strip_prefix_len(addr: &str) -> &str {
    addr.split_once('/').map_or(addr, |(ip, _)| ip)
}

/// The ports of an `EndpointSpec` or `Endpoint`: every entry, whatever its protocol
/// (docker-pygen failed on anything but tcp and udp, B9).
fn ports(value: &Json) -> Box<[ServicePort]> {
    let Some(list) = value.as_array() else {
        return Box::default();
    };
    list.iter()
        .filter(|p| p.is_object())
        .map(|p| ServicePort {
            protocol: match text(at(p, &["Protocol"])) {
                "" => "tcp".into(),
                other => other.into(),
            },
            target: port(at(p, &["TargetPort"])),
            published: port(at(p, &["PublishedPort"])).filter(|&p| p != 0),
            mode: match text(at(p, &["PublishMode"])) {
                "" => "ingress".into(),
                other => other.into(),
            },
        })
        .collect()
}

/// The `Target`s of a list of network attachment configs.
fn network_targets(value: &Json) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| text(at(n, &["Target"])))
        .filter(|t| !t.is_empty())
}

impl Service {
    /// Parses a service and the task items that belong to it.
    fn parse(value: &Json, task_items: &[&Json]) -> Service {
        let spec = at(value, &["Spec"]);
        let template = at(spec, &["TaskTemplate"]);
        let mut networks: Vec<Box<str>> = Vec::new();
        for target in network_targets(at(template, &["Networks"]))
            .chain(network_targets(at(spec, &["Networks"])))
        {
            if !networks.iter().any(|n| &**n == target) {
                networks.push(target.into());
            }
        }
        let vips: Box<[(Box<str>, Box<str>)]> = at(value, &["Endpoint", "VirtualIPs"])
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|vip| {
                let network = text(at(vip, &["NetworkID"]));
                (!network.is_empty()).then(|| {
                    (
                        Box::from(network),
                        Box::from(strip_prefix_len(text(at(vip, &["Addr"])))),
                    )
                })
            })
            .collect();
        // Older daemons do not flag the ingress network on task attachments: docker-pygen took
        // the last virtual-IP network that the spec does not name.
        let guessed_ingress = vips
            .iter()
            .rev()
            .map(|(network, _)| network)
            .find(|network| !networks.contains(network))
            .cloned();
        let (mode, replicas) = match at(spec, &["Mode"]).as_object() {
            Some(map) => match map.iter().next() {
                Some((key, detail)) => {
                    let replicas = detail
                        .get("Replicas")
                        .or_else(|| detail.get("TotalCompletions"))
                        .and_then(Json::as_u64);
                    (mode_name(key), replicas)
                }
                None => (Box::from(""), None),
            },
            None => (Box::from(""), None),
        };
        let name: Box<str> = text(at(spec, &["Name"])).into();
        let id: Box<str> = id_of(value).into();
        let tasks: Box<[Arc<Task>]> = task_items
            .iter()
            .map(|t| Arc::new(Task::parse(t, &name, guessed_ingress.as_deref())))
            .collect();
        let flagged = tasks
            .iter()
            .flat_map(|t| t.networks.iter())
            .find(|n| n.is_ingress);
        let ingress_id = flagged.map(|n| n.id.clone()).or(guessed_ingress);
        let ingress_name = ingress_id.as_ref().and_then(|id| {
            tasks
                .iter()
                .flat_map(|t| t.networks.iter())
                .find(|n| &n.id == id)
                .and_then(|n| n.name.clone())
        });
        let spec_ports = ports(at(spec, &["EndpointSpec", "Ports"]));
        let endpoint_ports = match at(value, &["Endpoint", "Ports"]) {
            Json::Array(_) => ports(at(value, &["Endpoint", "Ports"])),
            _ => spec_ports.clone(),
        };
        Service {
            id,
            name,
            version: int(at(value, &["Version", "Index"])),
            image: text(at(template, &["ContainerSpec", "Image"])).into(),
            labels: labels(spec.get("Labels")).into(),
            mode,
            replicas,
            spec_ports,
            endpoint_ports,
            networks: networks.into_boxed_slice(),
            vips,
            ingress_id,
            ingress_name,
            tasks,
            raw: serde_json::to_string(value).unwrap_or_default().into(),
        }
    }

    /// The service id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The service name (`Spec.Name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Version.Index`, which a service update must quote.
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// A service label (exact key), if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        super::container::lookup_exact(&self.labels, key)
    }

    /// Every task of the service, in the daemon's order.
    pub fn tasks(&self) -> &[Arc<Task>] {
        &self.tasks
    }

    /// The service's JSON, compact.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The virtual IP of the service on network `id`, if it has one.
    pub(crate) fn vip(&self, id: &str) -> Option<&str> {
        self.vips
            .iter()
            .find(|(network, _)| &**network == id)
            .map(|(_, addr)| &**addr)
    }
}

/// The spelling of a service mode key: `Replicated` → `replicated`, `ReplicatedJob` →
/// `replicated-job`.
fn mode_name(key: &str) -> Box<str> {
    let mut out = String::with_capacity(key.len() + 1);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out.into()
}

impl Task {
    /// Parses a task of the service named `service_name`; `guessed_ingress` is the service's
    /// ingress network as guessed from its virtual IPs.
    fn parse(value: &Json, service_name: &str, guessed_ingress: Option<&str>) -> Task {
        let id: Box<str> = id_of(value).into();
        let node_id = match text(at(value, &["NodeID"])) {
            "" => None,
            node => Some(Box::from(node)),
        };
        let slot = int(at(value, &["Slot"])).filter(|&s| s != 0);
        let name: Box<str> = match slot {
            Some(slot) => format!("{service_name}.{slot}.{id}"),
            None => format!("{service_name}.{}.{id}", node_id.as_deref().unwrap_or("")),
        }
        .into();
        let service_id: Box<str> = text(at(value, &["ServiceID"])).into();
        let container_spec = at(value, &["Spec", "ContainerSpec"]);
        let mut pairs: Vec<(Box<str>, Box<str>)> = labels(container_spec.get("Labels")).into();
        for (key, val) in [
            (SERVICE_ID_LABEL, &*service_id),
            (SERVICE_NAME_LABEL, service_name),
            (TASK_ID_LABEL, &*id),
            (TASK_NAME_LABEL, &*name),
            (NODE_ID_LABEL, node_id.as_deref().unwrap_or("")),
        ] {
            pairs.retain(|(k, _)| &**k != key);
            pairs.push((key.into(), val.into()));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let networks = at(value, &["NetworksAttachments"])
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|attachment| {
                let network = at(attachment, &["Network"]);
                let id = id_of(network);
                if id.is_empty() {
                    return None;
                }
                let spec = at(network, &["Spec"]);
                Some(TaskNetwork {
                    id: id.into(),
                    name: opt_text(spec.get("Name")),
                    is_ingress: at(spec, &["Ingress"]).as_bool() == Some(true)
                        || guessed_ingress == Some(id),
                    labels: labels(spec.get("Labels")).into(),
                    addresses: at(attachment, &["Addresses"])
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                        .map(|a| Box::from(strip_prefix_len(a)))
                        .collect(),
                })
            })
            .collect();
        Task {
            name,
            node_id,
            service_id,
            slot,
            container_id: match text(at(value, &["Status", "ContainerStatus", "ContainerID"])) {
                "" => None,
                container => Some(container.into()),
            },
            image: text(at(container_spec, &["Image"])).into(),
            status: text(at(value, &["Status", "State"])).into(),
            desired_state: text(at(value, &["DesiredState"])).into(),
            labels: pairs.into(),
            env: env(container_spec.get("Env")).into(),
            networks,
            raw: serde_json::to_string(value).unwrap_or_default().into(),
            id,
        }
    }

    /// The task id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `Status.State`.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// `DesiredState`.
    pub fn desired_state(&self) -> &str {
        &self.desired_state
    }

    /// Whether the task should run (desired state `running`): what `services` shows.
    pub fn is_desired_running(&self) -> bool {
        &*self.desired_state == "running"
    }

    /// Whether the task is on its way to its desired state: it should run but does not yet,
    /// or it runs but should stop. Such tasks change state soon without any event.
    pub fn is_settling(&self) -> bool {
        let state = &*self.status;
        match &*self.desired_state {
            "running" => matches!(
                state,
                "new" | "pending" | "assigned" | "accepted" | "preparing" | "ready" | "starting"
            ),
            "shutdown" | "remove" => state == "running",
            _ => false,
        }
    }

    /// The task's JSON, compact.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }
}

impl Node {
    /// Parses a node.
    fn parse(value: &Json) -> Node {
        let id: Box<str> = id_of(value).into();
        let hostname = text(at(value, &["Description", "Hostname"]));
        let name = match text(at(value, &["Spec", "Name"])) {
            "" if !hostname.is_empty() => hostname,
            "" => id.get(..12).unwrap_or(&id),
            name => name,
        };
        let platform = at(value, &["Description", "Platform"])
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (Box::from(k.as_str()), Box::from(text(v))))
                    .collect()
            })
            .unwrap_or_default();
        Node {
            name: name.into(),
            version: int(at(value, &["Version", "Index"])),
            state: text(at(value, &["Status", "State"])).into(),
            address: text(at(value, &["Status", "Addr"])).into(),
            hostname: hostname.into(),
            role: text(at(value, &["Spec", "Role"])).into(),
            availability: text(at(value, &["Spec", "Availability"])).into(),
            labels: labels(at(value, &["Spec"]).get("Labels")).into(),
            platform,
            engine_version: text(at(value, &["Description", "Engine", "EngineVersion"])).into(),
            leader: at(value, &["ManagerStatus", "Leader"]).as_bool() == Some(true),
            raw: serde_json::to_string(value).unwrap_or_default().into(),
            id,
        }
    }

    /// The node id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node's JSON, compact.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }
}

impl Resource for Service {
    fn id(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(std::borrow::Cow::Borrowed(&self.id))
    }
    fn name(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(std::borrow::Cow::Borrowed(&self.name))
    }
    fn label(&self, key: &str) -> Option<std::borrow::Cow<'_, str>> {
        Service::label(self, key).map(std::borrow::Cow::Borrowed)
    }
    fn env(&self, _key: &str) -> Option<std::borrow::Cow<'_, str>> {
        None
    }
    fn field(&self, _key: &str) -> Option<std::borrow::Cow<'_, str>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: &str = include_str!("../../tests/data/swarm/services.json");
    const TASKS: &str = include_str!("../../tests/data/swarm/tasks.json");
    const NODES: &str = include_str!("../../tests/data/swarm/nodes.json");

    fn items(json: &str) -> Vec<Json> {
        serde_json::from_str(json).expect("recorded JSON")
    }

    fn recorded() -> Swarm {
        Swarm::from_items(&items(SERVICES), &items(TASKS), &items(NODES))
    }

    fn service<'a>(swarm: &'a Swarm, name: &str) -> &'a Service {
        swarm
            .services
            .iter()
            .find(|s| &*s.name == name)
            .unwrap_or_else(|| panic!("service {name}"))
    }

    #[test]
    fn parses_recorded_services() {
        let swarm = recorded();
        assert_eq!(swarm.services.len(), 3);
        assert_eq!(swarm.task_count(), 4);
        let a = service(&swarm, "ptest-a");
        assert_eq!(&*a.id, "rtdj4zvjnsvbax2jbmfqwcibe");
        assert_eq!(a.version, Some(41));
        assert_eq!(&*a.image, "pygen-test-busybox:latest");
        assert_eq!(a.label("svc"), Some("1"));
        assert_eq!(&*a.mode, "replicated");
        assert_eq!(a.replicas, Some(2));
        assert_eq!(a.tasks.len(), 2);
        assert_eq!(
            a.spec_ports
                .iter()
                .map(|p| (&*p.protocol, p.target, p.published))
                .collect::<Vec<_>>(),
            [
                ("tcp", Some(5000), Some(8080)),
                ("udp", Some(53), Some(9090))
            ]
        );
        assert_eq!(&*a.networks, [Box::from("zy2yazmv06mwa3saxgwsx9q3n")]);
        assert_eq!(a.vip("zy2yazmv06mwa3saxgwsx9q3n"), Some("10.0.2.2"));
        assert_eq!(a.ingress_id.as_deref(), Some("y7vq57v9u3dlcvqt4j2urwng2"));
        assert_eq!(a.ingress_name.as_deref(), Some("ingress"));
        let g = service(&swarm, "ptest-g");
        assert_eq!(&*g.mode, "global");
        assert_eq!(g.replicas, None);
        assert_eq!(g.ingress_id, None);
        let s = service(&swarm, "ptest-s");
        assert_eq!(&*s.spec_ports[0].protocol, "sctp");
    }

    #[test]
    fn task_fields_and_generated_names() {
        let swarm = recorded();
        let a = service(&swarm, "ptest-a");
        let task = &a.tasks[0];
        assert_eq!(
            &*task.name,
            format!("ptest-a.{}.{}", task.slot.unwrap(), task.id)
        );
        assert_eq!(&*task.service_id, &*a.id);
        assert_eq!(&*task.status, "running");
        assert!(task.is_desired_running());
        assert!(!task.is_settling());
        assert_eq!(task.container_id.as_ref().map(|c| c.len()), Some(64));
        let label = |key: &str| super::super::container::lookup_exact(&task.labels, key);
        assert_eq!(label("cl"), Some("2"));
        assert_eq!(label(SERVICE_NAME_LABEL), Some("ptest-a"));
        assert_eq!(label(SERVICE_ID_LABEL), Some(&*a.id));
        assert_eq!(label(TASK_NAME_LABEL), Some(&*task.name));
        assert_eq!(label(NODE_ID_LABEL), task.node_id.as_deref());
        assert_eq!(
            super::super::container::lookup_exact(&task.env, "PYGEN_ENV_KEY"),
            Some("v")
        );
        let names: Vec<_> = task.networks.iter().map(|n| n.name.as_deref()).collect();
        assert_eq!(names, [Some("ingress"), Some("ptest-ov")]);
        assert!(task.networks[0].is_ingress);
        assert!(!task.networks[1].is_ingress);
        assert!(!task.networks[1].addresses[0].contains('/'));

        let g = service(&swarm, "ptest-g");
        let task = &g.tasks[0];
        assert_eq!(task.slot, None);
        assert_eq!(
            &*task.name,
            format!("ptest-g.{}.{}", task.node_id.as_deref().unwrap(), task.id)
        );
    }

    #[test]
    fn parses_recorded_nodes() {
        let swarm = recorded();
        let node = &swarm.nodes[0];
        assert_eq!(&*node.name, "vm");
        assert_eq!(&*node.hostname, "vm");
        assert_eq!(&*node.role, "manager");
        assert_eq!(&*node.state, "ready");
        assert_eq!(&*node.availability, "active");
        assert_eq!(&*node.address, "127.0.0.1");
        assert_eq!(&*node.engine_version, "20.10.24+dfsg1");
        assert!(node.leader);
        assert_eq!(node.version, Some(45));
        assert_eq!(
            node.platform
                .iter()
                .map(|(k, v)| (&**k, &**v))
                .collect::<Vec<_>>(),
            [("Architecture", "x86_64"), ("OS", "linux")]
        );
    }

    #[test]
    fn node_name_falls_back_to_hostname_then_short_id() {
        let named = serde_json::json!({"ID": "abcdefghijklmnop", "Spec": {"Name": "n1"},
            "Description": {"Hostname": "h1"}});
        let host = serde_json::json!({"ID": "abcdefghijklmnop", "Description": {"Hostname": "h1"}});
        let bare = serde_json::json!({"ID": "abcdefghijklmnop"});
        let swarm = Swarm::from_items(&[], &[], &[named, host, bare]);
        let names: Vec<&str> = swarm.nodes.iter().map(|n| &*n.name).collect();
        assert_eq!(names, ["n1", "h1", "abcdefghijkl"]);
        assert_eq!(&*swarm.nodes[2].hostname, "");
    }

    #[test]
    fn odd_items_are_skipped_not_fatal() {
        let services = vec![
            serde_json::json!({"ID": "s1", "Spec": {"Name": "one", "EndpointSpec": {"Ports": [
                {"TargetPort": 80}, {"Protocol": "sctp", "TargetPort": 99999}, 7]}}}),
            serde_json::json!("not an object"),
            serde_json::json!({"Spec": {"Name": "no id"}}),
        ];
        let tasks = vec![
            serde_json::json!({"ID": "t1", "ServiceID": "s1", "Spec": {"ContainerSpec": {
                "Env": ["NOEQ", "A=b=c"], "Labels": {"com.docker.swarm.task.id": "fake"}}}}),
            serde_json::json!({"ID": "t2", "ServiceID": "gone"}),
            serde_json::json!({"ServiceID": "s1"}),
            serde_json::json!(null),
        ];
        let swarm = Swarm::from_items(&services, &tasks, &[serde_json::json!(1)]);
        assert_eq!(swarm.services.len(), 1);
        assert!(swarm.nodes.is_empty());
        let s = &swarm.services[0];
        // A missing protocol is tcp; an out-of-range port is no port.
        assert_eq!(&*s.spec_ports[0].protocol, "tcp");
        assert_eq!(s.spec_ports[0].target, Some(80));
        assert_eq!(s.spec_ports[1].target, None);
        assert_eq!(s.tasks.len(), 1);
        let t = &s.tasks[0];
        assert_eq!(&*t.name, "one..t1");
        assert_eq!(
            super::super::container::lookup_exact(&t.env, "A"),
            Some("b=c")
        );
        // Swarm's own labels win over look-alikes in the container spec.
        assert_eq!(
            super::super::container::lookup_exact(&t.labels, TASK_ID_LABEL),
            Some("t1")
        );
    }

    #[test]
    fn ingress_is_guessed_from_virtual_ips_on_older_daemons() {
        let service = serde_json::json!({"ID": "s1", "Spec": {"Name": "web",
            "TaskTemplate": {"Networks": [{"Target": "net1"}]}},
            "Endpoint": {"VirtualIPs": [{"NetworkID": "ing", "Addr": "10.255.0.5/16"},
                                        {"NetworkID": "net1", "Addr": "10.0.1.2/24"}]}});
        let task = serde_json::json!({"ID": "t1", "ServiceID": "s1", "Slot": 1,
            "NetworksAttachments": [
                {"Network": {"ID": "ing", "Spec": {"Name": "ingress"}}, "Addresses": ["10.255.0.9/16"]},
                {"Network": {"ID": "net1", "Spec": {"Name": "front"}}, "Addresses": ["10.0.1.3/24"]}]});
        let swarm = Swarm::from_items(&[service], &[task], &[]);
        let s = &swarm.services[0];
        assert_eq!(s.ingress_id.as_deref(), Some("ing"));
        assert_eq!(s.ingress_name.as_deref(), Some("ingress"));
        assert!(s.tasks[0].networks[0].is_ingress);
        assert!(!s.tasks[0].networks[1].is_ingress);
    }

    #[test]
    fn settling_tasks() {
        let task = |state: &str, desired: &str| {
            let json = serde_json::json!({"ID": "t", "ServiceID": "s",
                "Status": {"State": state}, "DesiredState": desired});
            Task::parse(&json, "svc", None)
        };
        assert!(task("starting", "running").is_settling());
        assert!(task("assigned", "running").is_settling());
        assert!(!task("running", "running").is_settling());
        assert!(task("running", "shutdown").is_settling());
        assert!(!task("shutdown", "shutdown").is_settling());
        assert!(!task("failed", "running").is_settling());
    }

    #[test]
    fn dump_keeps_every_object() {
        let swarm = recorded();
        let dump = swarm.to_dump();
        assert_eq!(dump.services.len(), 3);
        assert_eq!(dump.tasks.len(), 4);
        assert_eq!(dump.nodes.len(), 1);
        let again = Swarm::from_items(&dump.services, &dump.tasks, &dump.nodes);
        assert_eq!(again, swarm.clone());
    }

    #[test]
    fn mode_names() {
        assert_eq!(&*mode_name("Replicated"), "replicated");
        assert_eq!(&*mode_name("GlobalJob"), "global-job");
    }
}
