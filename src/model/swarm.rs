//! Swarm services, tasks and nodes as pygen keeps them: the fields templates and actions read,
//! parsed once from the bodies of `GET /services`, `GET /tasks` and `GET /nodes`, plus each
//! object's JSON as one compact string (for `raw` and `pygen state`).
//!
//! One `/tasks` listing serves every service: tasks are grouped by `ServiceID` here, in the
//! daemon's order, instead of one `/tasks?service=…` call per service as docker-pygen made.
//! Parsing is forgiving like the containers': an unexpected type empties one field, an item
//! that is not an object (or has no `ID`) is skipped, and a task whose service is gone is left
//! out.
//!
//! The objects themselves live in `service`, `task` and `node`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value as Json;

use super::json::{at, text};
use super::node::Node;
use super::service::Service;

/// Everything pygen knows about the Swarm, from one listing of services, tasks and nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Swarm {
    /// The services, in the daemon's `/services` order, each with all its tasks.
    pub(crate) services: Box<[Arc<Service>]>,
    /// The nodes, in the daemon's `/nodes` order; empty when they were not listed.
    pub(crate) nodes: Box<[Arc<Node>]>,
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

    /// This Swarm with the services of `before` (by id) as they were there, their tasks
    /// included: what a render reads while pygen's own update of those services is under way.
    pub fn as_before(&self, before: &[Arc<Service>]) -> Swarm {
        let services = self
            .services
            .iter()
            .map(|s| {
                before
                    .iter()
                    .find(|b| b.id() == s.id())
                    .unwrap_or(s)
                    .clone()
            })
            .collect();
        Swarm {
            services,
            nodes: self.nodes.clone(),
        }
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
            services: self.services.iter().map(|s| parse(s.raw_json())).collect(),
            tasks: self
                .services
                .iter()
                .flat_map(|s| s.tasks.iter())
                .map(|t| parse(t.raw_json()))
                .collect(),
            nodes: self.nodes.iter().map(|n| parse(n.raw_json())).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::service::mode_name;
    use crate::model::task::Task;
    use crate::model::task::{
        NODE_ID_LABEL, SERVICE_ID_LABEL, SERVICE_NAME_LABEL, TASK_ID_LABEL, TASK_NAME_LABEL,
    };

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
        let label = |key: &str| crate::model::json::lookup_exact(&task.labels, key);
        assert_eq!(label("cl"), Some("2"));
        assert_eq!(label(SERVICE_NAME_LABEL), Some("ptest-a"));
        assert_eq!(label(SERVICE_ID_LABEL), Some(&*a.id));
        assert_eq!(label(TASK_NAME_LABEL), Some(&*task.name));
        assert_eq!(label(NODE_ID_LABEL), task.node_id.as_deref());
        assert_eq!(
            crate::model::json::lookup_exact(&task.env, "PYGEN_ENV_KEY"),
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
        assert_eq!(crate::model::json::lookup_exact(&t.env, "A"), Some("b=c"));
        // Swarm's own labels win over look-alikes in the container spec.
        assert_eq!(
            crate::model::json::lookup_exact(&t.labels, TASK_ID_LABEL),
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
