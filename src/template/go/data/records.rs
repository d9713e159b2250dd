//! The records a template reads: each struct of `data` as a gotmpl record with docker-gen's
//! type name and field order, and the orderings docker-gen applies (addresses by port).

use std::collections::BTreeMap;

use gotmpl::{Record, Time, Value};

use super::{
    Address, CONTEXT_TYPE, Context, Device, Docker, GO_ZERO_TIME, Mount, Network, RuntimeContainer,
    Volume,
};

fn s(v: &str) -> Value {
    Value::str(v)
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::map(m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

impl Context {
    /// The template's root value. Containers keep the order given; their addresses and networks
    /// are sorted as docker-gen 0.17 sorts them.
    pub fn to_value(&self) -> Value {
        let containers: Vec<Value> = self.containers.iter().map(|c| c.to_value()).collect();
        let current = self
            .containers
            .iter()
            .position(|c| !c.id.is_empty() && c.id == self.docker.current_container_id)
            .map_or(Value::Nil, |i| containers[i].clone());
        // A record with items: a Go slice type with methods, as docker-gen's `context.Context`.
        Value::record(Record::with_items(
            CONTEXT_TYPE,
            vec![
                ("Env", string_map(&self.env)),
                ("Docker", self.docker.to_value()),
                ("CurrentContainer", current),
            ],
            containers,
        ))
    }
}

impl Docker {
    fn to_value(&self) -> Value {
        Value::record(Record::new(
            "context.Docker",
            vec![
                ("Name", s(&self.name)),
                ("NumContainers", Value::Int(self.num_containers)),
                ("NumImages", Value::Int(self.num_images)),
                ("Version", s(&self.version)),
                ("ApiVersion", s(&self.api_version)),
                ("GoVersion", s(&self.go_version)),
                ("OperatingSystem", s(&self.operating_system)),
                ("Architecture", s(&self.architecture)),
                ("CurrentContainerID", s(&self.current_container_id)),
            ],
        ))
    }
}

/// docker-gen's address order: port (numerically), protocol, host port, host IP, IP.
fn address_order(a: &Address, b: &Address) -> std::cmp::Ordering {
    let port = |x: &Address| x.port.parse::<u32>().unwrap_or(0);
    port(a)
        .cmp(&port(b))
        .then_with(|| a.proto.cmp(&b.proto))
        .then_with(|| a.host_port.cmp(&b.host_port))
        .then_with(|| a.host_ip.cmp(&b.host_ip))
        .then_with(|| a.ip.cmp(&b.ip))
}

impl Address {
    fn to_value(&self) -> Value {
        Value::record(Record::new(
            "context.Address",
            vec![
                ("IP", s(&self.ip)),
                ("IP6LinkLocal", s(&self.ip6_link_local)),
                ("IP6Global", s(&self.ip6_global)),
                ("Port", s(&self.port)),
                ("HostPort", s(&self.host_port)),
                ("Proto", s(&self.proto)),
                ("HostIP", s(&self.host_ip)),
            ],
        ))
    }
}

impl RuntimeContainer {
    /// The container as a `*context.RuntimeContainer` record.
    pub fn to_value(&self) -> Value {
        let mut addresses = self.addresses.clone();
        addresses.sort_by(address_order);
        let mut networks: Vec<&Network> = self.networks.iter().collect();
        networks.sort_by(|a, b| a.name.cmp(&b.name));
        let (secs, nanos) = self.created.unwrap_or((GO_ZERO_TIME, 0));
        Value::record(Record::new(
            "*context.RuntimeContainer",
            vec![
                ("ID", s(&self.id)),
                ("Created", Value::Time(Time::utc(secs, nanos))),
                (
                    "Addresses",
                    Value::list(addresses.iter().map(Address::to_value).collect()),
                ),
                (
                    "Networks",
                    Value::list(networks.into_iter().map(Network::to_value).collect()),
                ),
                (
                    "Devices",
                    Value::list(self.devices.iter().map(Device::to_value).collect()),
                ),
                ("Gateway", s(&self.gateway)),
                ("Name", s(self.name.strip_prefix('/').unwrap_or(&self.name))),
                ("Hostname", s(&self.hostname)),
                ("NetworkMode", s(&self.network_mode)),
                (
                    "Image",
                    Value::record(Record::new(
                        "context.DockerImage",
                        vec![
                            ("Registry", s(&self.image.registry)),
                            ("Repository", s(&self.image.repository)),
                            ("Tag", s(&self.image.tag)),
                        ],
                    )),
                ),
                ("Env", string_map(&self.env)),
                (
                    "Volumes",
                    Value::map(
                        self.volumes
                            .iter()
                            .map(|(k, v)| (k.clone(), v.to_value()))
                            .collect(),
                    ),
                ),
                (
                    "Node",
                    Value::record(Record::new(
                        "context.SwarmNode",
                        vec![
                            ("ID", s(&self.node.id)),
                            ("Name", s(&self.node.name)),
                            ("Address", self.node.address.to_value()),
                        ],
                    )),
                ),
                ("Labels", string_map(&self.labels)),
                ("IP", s(&self.ip)),
                ("IP6LinkLocal", s(&self.ip6_link_local)),
                ("IP6Global", s(&self.ip6_global)),
                (
                    "Mounts",
                    Value::list(self.mounts.iter().map(Mount::to_value).collect()),
                ),
                (
                    "State",
                    Value::record(Record::new(
                        "context.State",
                        vec![
                            ("Running", Value::Bool(self.state.running)),
                            (
                                "Health",
                                Value::record(Record::new(
                                    "context.Health",
                                    vec![("Status", s(&self.state.health.status))],
                                )),
                            ),
                        ],
                    )),
                ),
            ],
        ))
    }
}

impl Network {
    fn to_value(&self) -> Value {
        Value::record(Record::new(
            "context.Network",
            vec![
                ("IP", s(&self.ip)),
                ("Name", s(&self.name)),
                (
                    "Aliases",
                    Value::list(self.aliases.iter().map(|a| s(a)).collect()),
                ),
                ("Gateway", s(&self.gateway)),
                ("EndpointID", s(&self.endpoint_id)),
                ("IPv6Gateway", s(&self.ipv6_gateway)),
                ("GlobalIPv6Address", s(&self.global_ipv6_address)),
                ("MacAddress", s(&self.mac_address)),
                (
                    "GlobalIPv6PrefixLen",
                    Value::Int(self.global_ipv6_prefix_len),
                ),
                ("IPPrefixLen", Value::Int(self.ip_prefix_len)),
                ("Internal", Value::Bool(self.internal)),
            ],
        ))
    }
}

impl Device {
    fn to_value(&self) -> Value {
        Value::record(Record::new(
            "context.Device",
            vec![
                ("PathOnHost", s(&self.path_on_host)),
                ("PathInContainer", s(&self.path_in_container)),
                ("Permissions", s(&self.permissions)),
            ],
        ))
    }
}

impl Volume {
    fn to_value(&self) -> Value {
        Value::record(Record::new(
            "context.Volume",
            vec![
                ("Path", s(&self.path)),
                ("HostPath", s(&self.host_path)),
                ("ReadWrite", Value::Bool(self.read_write)),
            ],
        ))
    }
}

impl Mount {
    fn to_value(&self) -> Value {
        Value::record(Record::new(
            "context.Mount",
            vec![
                ("Name", s(&self.name)),
                ("Source", s(&self.source)),
                ("Destination", s(&self.destination)),
                ("Driver", s(&self.driver)),
                ("Mode", s(&self.mode)),
                ("RW", Value::Bool(self.rw)),
            ],
        ))
    }
}
