//! A Swarm service as pygen keeps it: parsed from one item of `GET /services`, with its
//! endpoint ports, networks, virtual IPs, ingress network and all its tasks.

use std::sync::Arc;

use serde_json::Value as Json;

use super::json::{Pairs, at, id_of, int, labels, port, strip_prefix_len, text};
use super::task::Task;

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
    /// `UpdateStatus.State` (`updating`, `completed`, `paused`, `rollback_started`, …); empty
    /// when the service was never updated.
    pub(crate) update_state: Box<str>,
    /// The service's JSON, compact.
    raw: Box<str>,
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
    pub(super) fn parse(value: &Json, task_items: &[&Json]) -> Service {
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
            update_state: text(at(value, &["UpdateStatus", "State"])).into(),
            raw: serde_json::to_string(value).unwrap_or_default().into(),
        }
    }

    /// Whether an update of the service is under way: its `UpdateStatus.State` says so, or
    /// one of its tasks is on its way to its desired state.
    pub fn is_updating(&self) -> bool {
        matches!(&*self.update_state, "updating" | "rollback_started")
            || self.tasks.iter().any(|t| t.is_settling())
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
        super::json::lookup_exact(&self.labels, key)
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
pub(super) fn mode_name(key: &str) -> Box<str> {
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
