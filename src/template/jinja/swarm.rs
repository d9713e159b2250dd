//! Swarm services, tasks and nodes as templates see them: `ServiceInfo`, `TaskInfo` and
//! `NodeInfo` of docker-pygen (api.md §5–§7), as map objects over the shared [`Service`],
//! [`Task`] and [`Node`].
//!
//! Fields are made when a template reads them and the costly ones are kept for the rest of the
//! render. Missing attributes give `none`, labels and env give `''` for missing keys, and two
//! objects are equal when their ids are, like the containers. pygen differs from docker-pygen
//! on purpose here: the ingress `gateway` and the task networks' `is_ingress` are ordinary keys
//! (B8), ports of any protocol are listed (B9), service networks come sorted by name (B10), and
//! `.self` is none when pygen does not run in a task (B13, see `list.rs`). The map behaviour itself is `object.rs`'s, shared with containers.

use std::sync::{Arc, OnceLock};

use minijinja::value::Value;

use super::dict::{Dict, Missing, StrMap};
use super::list::{List, ListKind};
use super::object::{Fields, Model, opt_str, raw_value};
use crate::model::{Node, Service, ServicePort, Task, TaskNetwork};

/// A string as a template value.
fn s(text: &str) -> Value {
    Value::from(text)
}

/// A list of strings as a plain template list.
fn strings<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    List::plain(items.map(Value::from).collect()).into_value()
}

/// `{tcp: [...], udp: [...], <other protocol>: [...]}` of the ports `pick` gives a number for,
/// in endpoint order; `tcp` and `udp` are always there.
fn ports_by_protocol(ports: &[ServicePort], pick: impl Fn(&ServicePort) -> Option<u16>) -> Value {
    let mut groups: Vec<(&str, Vec<Value>)> = vec![("tcp", Vec::new()), ("udp", Vec::new())];
    for port in ports {
        let Some(number) = pick(port) else { continue };
        match groups.iter_mut().find(|(p, _)| *p == &*port.protocol) {
            Some((_, list)) => list.push(Value::from(number)),
            None => groups.push((&port.protocol, vec![Value::from(number)])),
        }
    }
    Value::from_object(Dict::new(
        groups
            .into_iter()
            .map(|(protocol, list)| (Value::from(protocol), List::plain(list).into_value()))
            .collect(),
        Missing::None,
    ))
}

// ---------------------------------------------------------------------------------------------
// ServiceInfo
// ---------------------------------------------------------------------------------------------

/// A service as templates see it, with the tasks of one listing (`services` shows the tasks
/// that should run, `all_services` every task).
#[derive(Debug)]
pub(crate) struct ServiceFields {
    /// The parsed service.
    service: Arc<Service>,
    /// Whether only tasks whose desired state is `running` are shown.
    running_only: bool,
    /// pygen's own container id, for the tasks' `.self`.
    own_id: Option<Arc<str>>,
    /// `raw`, built on first use.
    raw: OnceLock<Value>,
    /// `tasks`, built on first use.
    tasks: OnceLock<Value>,
    /// `networks`, built on first use.
    networks: OnceLock<Value>,
    /// `ingress`, built on first use.
    ingress: OnceLock<Value>,
}

/// The template value of a service.
pub(crate) fn service_value(
    service: Arc<Service>,
    running_only: bool,
    own_id: Option<Arc<str>>,
) -> Value {
    Model::value(ServiceFields {
        service,
        running_only,
        own_id,
        raw: OnceLock::new(),
        tasks: OnceLock::new(),
        networks: OnceLock::new(),
        ingress: OnceLock::new(),
    })
}

impl ServiceFields {
    /// The tasks this listing shows, in the daemon's order.
    fn listed(&self) -> impl Iterator<Item = &Arc<Task>> {
        let running_only = self.running_only;
        self.service
            .tasks
            .iter()
            .filter(move |t| !running_only || t.is_desired_running())
    }

    /// `networks`: the service's own networks (not ingress), sorted by name then id. Each has
    /// its `id`, `name` (from a task's attachment, any task of the service; none without
    /// tasks), `gateway` (the service's virtual IP there, none in DNS round-robin mode) and
    /// `ip_addresses` (the listed tasks' addresses there).
    fn networks(&self) -> Value {
        let service = &self.service;
        let mut entries: Vec<(Option<&str>, &str, Value)> = service
            .networks
            .iter()
            .filter(|id| service.ingress_id.as_deref() != Some(&***id))
            .map(|id| {
                let name = service
                    .tasks
                    .iter()
                    .flat_map(|t| t.networks.iter())
                    .find(|n| n.id == *id || n.name.as_deref() == Some(&**id))
                    .and_then(|n| n.name.as_deref());
                let addresses = self
                    .listed()
                    .flat_map(|t| t.networks.iter())
                    .filter(|n| n.id == *id)
                    .flat_map(|n| n.addresses.iter().map(|a| &**a));
                let value = Value::from_object(Dict::from_static(
                    [
                        ("id", s(id)),
                        ("name", Value::from(name)),
                        ("gateway", Value::from(service.vip(id))),
                        ("ip_addresses", strings(addresses)),
                    ],
                    Missing::None,
                ));
                (name, &**id, value)
            })
            .collect();
        // docker-pygen iterated a set: the order changed between runs (B10).
        entries.sort_by(|a, b| (a.0.is_none(), a.0, a.1).cmp(&(b.0.is_none(), b.0, b.1)));
        List::new(
            ListKind::NETWORKS,
            entries.into_iter().map(|(_, _, v)| v).collect(),
            None,
        )
        .into_value()
    }

    /// `ingress`: `ports` (published ports of the routing mesh by protocol), `gateway` (the
    /// service's virtual IP on the ingress network, `''` without one), `ip_addresses` (the
    /// listed tasks' addresses there), and `id`, `name` when the service is on the ingress
    /// network.
    fn ingress(&self) -> Value {
        let service = &self.service;
        let ingress_id = service.ingress_id.as_deref();
        let addresses = self
            .listed()
            .flat_map(|t| t.networks.iter())
            .filter(|n| n.is_ingress || Some(&*n.id) == ingress_id)
            .flat_map(|n| n.addresses.iter().map(|a| &**a));
        let gateway = ingress_id.and_then(|id| service.vip(id)).unwrap_or("");
        let mut entries = vec![
            (
                "ports",
                ports_by_protocol(&service.endpoint_ports, |p| {
                    p.published.filter(|_| &*p.mode != "host")
                }),
            ),
            ("gateway", s(gateway)),
            ("ip_addresses", strings(addresses)),
        ];
        if let Some(id) = ingress_id {
            entries.push(("id", s(id)));
            entries.push(("name", Value::from(service.ingress_name.as_deref())));
        }
        Value::from_object(Dict::from_static(entries, Missing::None))
    }

    /// `published_ports`: `{port, protocol, published_port, publish_mode}` per endpoint port.
    fn published_ports(&self) -> Value {
        List::plain(
            self.service
                .endpoint_ports
                .iter()
                .map(|p| {
                    Value::from_object(Dict::from_static(
                        [
                            ("port", Value::from(p.target)),
                            ("protocol", s(&p.protocol)),
                            ("published_port", Value::from(p.published)),
                            ("publish_mode", s(&p.mode)),
                        ],
                        Missing::None,
                    ))
                })
                .collect(),
        )
        .into_value()
    }
}

impl Fields for ServiceFields {
    /// docker-pygen's keys, then pygen's: `mode` (`replicated`, `global`, …), `replicas`
    /// (the wanted number of tasks of a replicated service, none otherwise) and
    /// `published_ports`.
    const KEYS: &'static [&'static str] = &[
        "raw",
        "id",
        "short_id",
        "name",
        "version",
        "image",
        "labels",
        "ports",
        "networks",
        "ingress",
        "tasks",
        "mode",
        "replicas",
        "published_ports",
    ];

    fn field(&self, key: &str) -> Option<Value> {
        let service = &self.service;
        Some(match key {
            "raw" => self
                .raw
                .get_or_init(|| raw_value(service.raw_json()))
                .clone(),
            "id" => s(&service.id),
            "short_id" => s(service.id.get(..12).unwrap_or(&service.id)),
            "name" => s(&service.name),
            "version" => Value::from(service.version),
            "image" => s(&service.image),
            "labels" => Value::from_object(StrMap::shared(service.labels.clone())),
            "ports" => ports_by_protocol(&service.spec_ports, |p| p.target),
            "networks" => self.networks.get_or_init(|| self.networks()).clone(),
            "ingress" => self.ingress.get_or_init(|| self.ingress()).clone(),
            "tasks" => self
                .tasks
                .get_or_init(|| {
                    let items = self.listed().map(|t| task_value(t.clone())).collect();
                    List::new(ListKind::TASKS, items, self.own_id.clone()).into_value()
                })
                .clone(),
            "mode" => s(&service.mode),
            "replicas" => Value::from(service.replicas),
            "published_ports" => self.published_ports(),
            _ => return None,
        })
    }

    fn id(&self) -> &str {
        &self.service.id
    }
}

// ---------------------------------------------------------------------------------------------
// TaskInfo
// ---------------------------------------------------------------------------------------------

/// A task as templates see it.
#[derive(Debug)]
pub(crate) struct TaskFields {
    /// The parsed task.
    task: Arc<Task>,
    /// `raw`, built on first use.
    raw: OnceLock<Value>,
    /// `networks`, built on first use.
    networks: OnceLock<Value>,
}

/// The template value of a task.
pub(crate) fn task_value(task: Arc<Task>) -> Value {
    Model::value(TaskFields {
        task,
        raw: OnceLock::new(),
        networks: OnceLock::new(),
    })
}

/// A task network: `id`, `name`, `is_ingress`, `labels`, `ip_addresses`.
fn task_network_value(n: &TaskNetwork) -> Value {
    Value::from_object(Dict::from_static(
        [
            ("id", s(&n.id)),
            ("name", opt_str(&n.name)),
            ("is_ingress", Value::from(n.is_ingress)),
            (
                "labels",
                Value::from_object(StrMap::shared(n.labels.clone())),
            ),
            ("ip_addresses", strings(n.addresses.iter().map(|a| &**a))),
        ],
        Missing::None,
    ))
}

impl Fields for TaskFields {
    const KEYS: &'static [&'static str] = &[
        "raw",
        "id",
        "name",
        "node_id",
        "service_id",
        "slot",
        "container_id",
        "image",
        "status",
        "desired_state",
        "labels",
        "env",
        "networks",
    ];

    fn field(&self, key: &str) -> Option<Value> {
        let task = &self.task;
        Some(match key {
            "raw" => self.raw.get_or_init(|| raw_value(task.raw_json())).clone(),
            "id" => s(&task.id),
            "name" => s(&task.name),
            "node_id" => opt_str(&task.node_id),
            "service_id" => s(&task.service_id),
            "slot" => Value::from(task.slot),
            "container_id" => opt_str(&task.container_id),
            "image" => s(&task.image),
            "status" => s(&task.status),
            "desired_state" => s(&task.desired_state),
            "labels" => Value::from_object(StrMap::shared(task.labels.clone())),
            "env" => Value::from_object(StrMap::shared(task.env.clone())),
            "networks" => self
                .networks
                .get_or_init(|| {
                    let items = task.networks.iter().map(task_network_value).collect();
                    List::new(ListKind::NETWORKS, items, None).into_value()
                })
                .clone(),
            _ => return None,
        })
    }

    fn id(&self) -> &str {
        &self.task.id
    }
}

// ---------------------------------------------------------------------------------------------
// NodeInfo
// ---------------------------------------------------------------------------------------------

/// A node as templates see it.
#[derive(Debug)]
pub(crate) struct NodeFields {
    /// The parsed node.
    node: Arc<Node>,
    /// `raw`, built on first use.
    raw: OnceLock<Value>,
}

/// The template value of a node.
pub(crate) fn node_value(node: Arc<Node>) -> Value {
    Model::value(NodeFields {
        node,
        raw: OnceLock::new(),
    })
}

impl Fields for NodeFields {
    /// docker-pygen's keys, then pygen's `leader` (whether the node leads the managers).
    const KEYS: &'static [&'static str] = &[
        "raw",
        "id",
        "short_id",
        "name",
        "version",
        "state",
        "address",
        "hostname",
        "role",
        "availability",
        "labels",
        "platform",
        "engine_version",
        "leader",
    ];

    fn field(&self, key: &str) -> Option<Value> {
        let node = &self.node;
        Some(match key {
            "raw" => self.raw.get_or_init(|| raw_value(node.raw_json())).clone(),
            "id" => s(&node.id),
            "short_id" => s(node.id.get(..12).unwrap_or(&node.id)),
            "name" => s(&node.name),
            "version" => Value::from(node.version),
            "state" => s(&node.state),
            "address" => s(&node.address),
            "hostname" => s(&node.hostname),
            "role" => s(&node.role),
            "availability" => s(&node.availability),
            "labels" => Value::from_object(StrMap::shared(node.labels.clone())),
            // Not a label map: `platform.os` is `OS`, and a missing key is none.
            "platform" => Value::from_object(Dict::new(
                node.platform.iter().map(|(k, v)| (s(k), s(v))).collect(),
                Missing::None,
            )),
            "engine_version" => s(&node.engine_version),
            "leader" => Value::from(node.leader),
            _ => return None,
        })
    }

    fn id(&self) -> &str {
        &self.node.id
    }
}

#[cfg(test)]
mod tests {
    //! docker-pygen's `test_swarm.py` model checks, over recorded API JSON.

    use super::*;
    use crate::model::Swarm;
    use minijinja::{Environment, context};

    const SERVICES: &str = include_str!("../../../tests/data/swarm/services.json");
    const TASKS: &str = include_str!("../../../tests/data/swarm/tasks.json");
    const NODES: &str = include_str!("../../../tests/data/swarm/nodes.json");

    fn swarm() -> Swarm {
        let items = |json: &str| -> Vec<serde_json::Value> { serde_json::from_str(json).unwrap() };
        Swarm::from_items(&items(SERVICES), &items(TASKS), &items(NODES))
    }

    fn services(own: Option<&str>, running_only: bool) -> Value {
        let items = swarm()
            .services
            .iter()
            .map(|s| service_value(s.clone(), running_only, own.map(Arc::from)))
            .collect();
        List::new(ListKind::SERVICES, items, own.map(Arc::from)).into_value()
    }

    fn nodes() -> Value {
        let items = swarm()
            .nodes
            .iter()
            .map(|n| node_value(n.clone()))
            .collect();
        List::new(ListKind::NODES, items, None).into_value()
    }

    fn render(template: &str, ctx: Value) -> String {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.render_str(template, ctx)
            .unwrap_or_else(|e| format!("ERROR {e:#}"))
    }

    #[test]
    fn service_fields() {
        let ctx = context! { services => services(None, true) };
        let t = "{% set s = services.matching('ptest-a').first %}\
                 {{ s.id }}|{{ s.short_id }}|{{ s.name }}|{{ s.version }}|{{ s.image }}|\
                 {{ s.labels.svc }}|{{ s.ports.tcp }}|{{ s.ports.udp }}|\
                 {{ s.ingress.ports.tcp }}|{{ s.ingress.ports.udp }}|{{ s.ingress.gateway }}|\
                 {{ s.ingress['gateway'] }}|{{ s.ingress.name }}|{{ s.ingress.ip_addresses|length }}|\
                 {{ s.mode }}|{{ s.replicas }}|{{ s.tasks|length }}|{{ s.missing }}";
        assert_eq!(
            render(t, ctx),
            "rtdj4zvjnsvbax2jbmfqwcibe|rtdj4zvjnsvb|ptest-a|41|pygen-test-busybox:latest|\
             1|[5000]|[53]|[8080]|[9090]|10.0.0.3|10.0.0.3|ingress|2|replicated|2|2|None"
        );
    }

    #[test]
    fn service_networks_exclude_ingress_and_carry_gateway_and_addresses() {
        let ctx = context! { services => services(None, true) };
        let t = "{% set s = services.matching('ptest-a').first %}\
                 {% for n in s.networks %}{{ n.name }} {{ n.id }} {{ n.gateway }} \
                 {{ n.ip_addresses|sort|join(',') }}{% endfor %}";
        assert_eq!(
            render(t, ctx.clone()),
            "ptest-ov zy2yazmv06mwa3saxgwsx9q3n 10.0.2.2 10.0.2.3,10.0.2.4"
        );
        // DNS round-robin services have no virtual IP: no gateway.
        let t = "{% for n in services.matching('ptest-g').first.networks %}\
                 {{ n.name }} {{ n.gateway }} {{ n.ip_addresses|join(',') }}{% endfor %}";
        assert_eq!(render(t, ctx), "ptest-ov None 10.0.2.6");
    }

    #[test]
    fn every_task_address_is_in_ingress_or_a_network() {
        let ctx = context! { services => services(None, true) };
        let t = "{% for s in services %}{% for task in s.tasks %}{% for n in task.networks %}\
                 {% for ip in n.ip_addresses %}{% set ns = namespace(found=ip in s.ingress.ip_addresses) %}\
                 {% for sn in s.networks %}{% if ip in sn.ip_addresses %}{% set ns.found = true %}{% endif %}{% endfor %}\
                 {% if ns.found %}ok{% else %}MISSING {{ ip }}{% endif %} \
                 {% endfor %}{% endfor %}{% endfor %}{% endfor %}";
        let out = render(t, ctx);
        assert!(!out.contains("MISSING") && !out.contains("ERROR"), "{out}");
        assert_eq!(out.matches("ok").count(), 6, "{out}");
    }

    #[test]
    fn any_port_protocol_is_listed() {
        // B9: docker-pygen failed the whole render on an sctp port.
        let ctx = context! { services => services(None, true) };
        let t = "{% set s = services.matching('ptest-s').first %}{{ s.ports.sctp }} \
                 {{ s.ports.tcp }} {{ s.ingress.ports.sctp }} {{ s.ports|list }}";
        assert_eq!(render(t, ctx), "[7000] [] [7000] ['tcp', 'udp', 'sctp']");
    }

    #[test]
    fn ingress_values_are_real_keys() {
        // B8: docker-pygen set `gateway` and `is_ingress` as Python attributes.
        let ctx = context! { services => services(None, true) };
        let t = "{% set s = services.matching('ptest-a').first %}\
                 {{ s.ingress|tojson }}|{{ s.tasks.first.networks.first.items()|list|length }}|\
                 {{ s.tasks.first.networks.first['is_ingress'] }}";
        let out = render(t, ctx);
        assert!(out.contains("\"gateway\": \"10.0.0.3\""), "{out}");
        assert!(out.ends_with("|5|True"), "{out}");
    }

    #[test]
    fn task_fields() {
        let ctx = context! { services => services(None, true) };
        let t = "{% set s = services.matching('ptest-a').first %}{% set task = s.tasks.first %}\
                 {{ task.name == s.name ~ '.' ~ task.slot ~ '.' ~ task.id }}|{{ task.service_id == s.id }}|\
                 {{ task.status }}|{{ task.desired_state }}|{{ task.image }}|{{ task.labels.cl }}|\
                 {{ task.labels['com.docker.swarm.service.name'] }}|\
                 {{ task.labels['com.docker.swarm.task.name'] == task.name }}|\
                 {{ task.labels['com.docker.swarm.node.id'] == task.node_id }}|\
                 {{ task.env.pygen_env_key }}|{{ task.container_id|length }}|\
                 {{ s.tasks.matching(s.name)|length }}|{{ s.tasks.with_status('RUNNING')|length }}";
        assert_eq!(
            render(t, ctx),
            "True|True|running|running|pygen-test-busybox:latest|2|ptest-a|True|True|v|64|2|2"
        );
    }

    #[test]
    fn self_finds_the_service_and_task_of_the_own_container() {
        let swarm = swarm();
        let task = &swarm
            .services
            .iter()
            .find(|s| s.name() == "ptest-g")
            .unwrap()
            .tasks[0];
        let own = task.container_id.as_deref().unwrap();
        let ctx = context! { services => services(Some(own), true) };
        let t = "{{ services.self.name }} {{ services.self.tasks.self.id }}";
        assert_eq!(render(t, ctx), format!("ptest-g {}", task.id));
        // B13: without an own id, `.self` is none.
        let ctx = context! { services => services(None, true) };
        assert_eq!(render("{{ services.self }}", ctx), "None");
    }

    #[test]
    fn all_tasks_or_running_ones() {
        let shut = serde_json::json!({"ID": "old", "ServiceID": "s1", "Slot": 1,
            "DesiredState": "shutdown", "Status": {"State": "shutdown"}});
        let run = serde_json::json!({"ID": "new", "ServiceID": "s1", "Slot": 1,
            "DesiredState": "running", "Status": {"State": "running"}});
        let service = serde_json::json!({"ID": "s1", "Spec": {"Name": "web"}});
        let swarm = Swarm::from_items(&[service], &[shut, run], &[]);
        let value = |running_only| {
            List::new(
                ListKind::SERVICES,
                vec![service_value(swarm.services[0].clone(), running_only, None)],
                None,
            )
            .into_value()
        };
        let t = "{{ s.first.tasks|map(attribute='id')|join(',') }}";
        assert_eq!(render(t, context! { s => value(true) }), "new");
        assert_eq!(render(t, context! { s => value(false) }), "old,new");
    }

    #[test]
    fn node_fields() {
        let ctx = context! { nodes => nodes() };
        let t = "{% set n = nodes.matching('vm').first %}{{ n.name }}|{{ n.short_id }}|\
                 {{ n.version }}|{{ n.role }}|{{ n.state }}|{{ n.availability }}|{{ n.hostname }}|\
                 {{ n.address }}|{{ n.platform.os }}/{{ n.platform.architecture }}|\
                 {{ n.engine_version }}|{{ n.leader }}|[{{ n.labels.nope }}]|{{ n.raw.Spec.Role }}";
        assert_eq!(
            render(t, ctx),
            "vm|rzojoji164v8|45|manager|ready|active|vm|127.0.0.1|linux/x86_64|\
             20.10.24+dfsg1|True|[]|manager"
        );
    }

    #[test]
    fn models_compare_by_id() {
        let ctx = context! { a => services(None, true), b => services(None, false) };
        assert_eq!(
            render(
                "{{ a.first == b.first }} {{ a.first == a.last }} {{ a.first == none }}",
                ctx
            ),
            "True False False"
        );
    }
}
