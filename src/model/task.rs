//! A Swarm task as pygen keeps it: parsed from one item of `GET /tasks`, with the labels
//! Swarm puts on its container and its network attachments.

use serde_json::Value as Json;

use super::json::{Pairs, id_of, int, strip_prefix_len};
use super::json::{at, env, labels, opt_text, text};

/// Label Swarm puts on task containers: the service id.
pub(crate) const SERVICE_ID_LABEL: &str = "com.docker.swarm.service.id";
/// Label Swarm puts on task containers: the service name.
pub(crate) const SERVICE_NAME_LABEL: &str = "com.docker.swarm.service.name";
/// Label Swarm puts on task containers: the task id.
pub(crate) const TASK_ID_LABEL: &str = "com.docker.swarm.task.id";
/// Label Swarm puts on task containers: the task name.
pub(crate) const TASK_NAME_LABEL: &str = "com.docker.swarm.task.name";
/// Label Swarm puts on task containers: the node id.
pub(crate) const NODE_ID_LABEL: &str = "com.docker.swarm.node.id";

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

impl Task {
    /// Parses a task of the service named `service_name`; `guessed_ingress` is the service's
    /// ingress network as guessed from its virtual IPs.
    pub(super) fn parse(value: &Json, service_name: &str, guessed_ingress: Option<&str>) -> Task {
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
