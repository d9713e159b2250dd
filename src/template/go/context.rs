//! docker-gen's template data built from the daemon's answers, kept beside the records it fills
//! ([`super::data`]) so the Go dialect's snapshot renders and docker-gen mode's live renders
//! ([`crate::dockergen`]) build it one way: each container's inspect body turned into a
//! [`RuntimeContainer`] as docker-gen 0.17 builds it, `.Docker` from `/version` and `/info`, and
//! the networks' `Internal` flag from `/networks`. The result is the same [`Context`] the
//! recorded fixtures are read into, so live renders and the fixtures share one code path from
//! there on.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::Value as Json;

use super::data::{
    Address, Context, Device, Docker, DockerImage, Health, Mount, Network, RuntimeContainer, State,
    SwarmNode, Volume, parse_rfc3339, split_env,
};

fn text(v: &Json, path: &[&str]) -> String {
    let mut cur = v;
    for key in path {
        match cur.get(key) {
            Some(next) => cur = next,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_owned()
}

fn int(v: &Json, key: &str) -> i64 {
    v.get(key).and_then(Json::as_i64).unwrap_or_default()
}

fn flag(v: &Json, key: &str) -> bool {
    v.get(key).and_then(Json::as_bool).unwrap_or_default()
}

fn string_map(v: Option<&Json>) -> BTreeMap<String, String> {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `80/tcp` to (`80`, `tcp`); a key without protocol is tcp, as Docker's `Port` type reads it.
fn split_port(key: &str) -> (String, String) {
    match key.split_once('/') {
        Some((p, proto)) => (p.to_owned(), proto.to_owned()),
        None => (key.to_owned(), "tcp".to_owned()),
    }
}

/// One container from its inspect body; `internal` names the internal networks.
pub fn runtime_container(inspect: &Json, internal: &HashSet<String>) -> RuntimeContainer {
    let settings = inspect.get("NetworkSettings").unwrap_or(&Json::Null);
    let config = inspect.get("Config").unwrap_or(&Json::Null);
    let host_config = inspect.get("HostConfig").unwrap_or(&Json::Null);
    let ip = text(settings, &["IPAddress"]);
    let ip6_link_local = text(settings, &["LinkLocalIPv6Address"]);
    let ip6_global = text(settings, &["GlobalIPv6Address"]);
    let base = |port: String, proto: String| Address {
        ip: ip.clone(),
        ip6_link_local: ip6_link_local.clone(),
        ip6_global: ip6_global.clone(),
        port,
        host_port: String::new(),
        proto,
        host_ip: String::new(),
    };
    let mut addresses = Vec::new();
    let ports = settings.get("Ports").and_then(Json::as_object);
    match ports {
        Some(ports) if !ports.is_empty() => {
            for (key, bindings) in ports {
                let (port, proto) = split_port(key);
                let mut address = base(port, proto);
                if let Some(first) = bindings.as_array().and_then(|b| b.first()) {
                    address.host_port = text(first, &["HostPort"]);
                    address.host_ip = text(first, &["HostIp"]);
                }
                addresses.push(address);
            }
        }
        // No port information (e.g. only internal networks): the exposed ports.
        _ => {
            if let Some(exposed) = config.get("ExposedPorts").and_then(Json::as_object) {
                for key in exposed.keys() {
                    let (port, proto) = split_port(key);
                    addresses.push(base(port, proto));
                }
            }
        }
    }
    let networks = settings
        .get("Networks")
        .and_then(Json::as_object)
        .map(|nets| {
            nets.iter()
                .map(|(name, n)| Network {
                    ip: text(n, &["IPAddress"]),
                    name: name.clone(),
                    aliases: n
                        .get("Aliases")
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    gateway: text(n, &["Gateway"]),
                    endpoint_id: text(n, &["EndpointID"]),
                    ipv6_gateway: text(n, &["IPv6Gateway"]),
                    global_ipv6_address: text(n, &["GlobalIPv6Address"]),
                    mac_address: text(n, &["MacAddress"]),
                    global_ipv6_prefix_len: int(n, "GlobalIPv6PrefixLen"),
                    ip_prefix_len: int(n, "IPPrefixLen"),
                    internal: internal.contains(name),
                })
                .collect()
        })
        .unwrap_or_default();
    let devices = host_config
        .get("Devices")
        .and_then(Json::as_array)
        .map(|ds| {
            ds.iter()
                .map(|d| Device {
                    path_on_host: text(d, &["PathOnHost"]),
                    path_in_container: text(d, &["PathInContainer"]),
                    permissions: text(d, &["CgroupPermissions"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let env_entries: Vec<&str> = config
        .get("Env")
        .and_then(Json::as_array)
        .map(|e| e.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let volumes_rw = inspect.get("VolumesRW");
    let volumes = inspect
        .get("Volumes")
        .and_then(Json::as_object)
        .map(|vs| {
            vs.iter()
                .map(|(path, host)| {
                    let volume = Volume {
                        path: path.clone(),
                        host_path: host.as_str().unwrap_or_default().to_owned(),
                        read_write: volumes_rw
                            .and_then(|rw| rw.get(path))
                            .and_then(Json::as_bool)
                            .unwrap_or_default(),
                    };
                    (path.clone(), volume)
                })
                .collect()
        })
        .unwrap_or_default();
    let node = inspect.get("Node").unwrap_or(&Json::Null);
    let mounts = inspect
        .get("Mounts")
        .and_then(Json::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| Mount {
                    name: text(m, &["Name"]),
                    source: text(m, &["Source"]),
                    destination: text(m, &["Destination"]),
                    driver: text(m, &["Driver"]),
                    mode: text(m, &["Mode"]),
                    rw: flag(m, "RW"),
                })
                .collect()
        })
        .unwrap_or_default();
    let state = inspect.get("State").unwrap_or(&Json::Null);
    RuntimeContainer {
        id: text(inspect, &["Id"]),
        created: parse_rfc3339(&text(inspect, &["Created"])),
        addresses,
        networks,
        devices,
        gateway: text(settings, &["Gateway"]),
        name: text(inspect, &["Name"]).trim_start_matches('/').to_owned(),
        hostname: text(config, &["Hostname"]),
        network_mode: text(host_config, &["NetworkMode"]),
        image: DockerImage::parse(&text(config, &["Image"])),
        env: split_env(env_entries),
        volumes,
        node: SwarmNode {
            id: text(node, &["ID"]),
            name: text(node, &["Name"]),
            address: Address {
                ip: text(node, &["IP"]),
                ..Address::default()
            },
        },
        labels: string_map(config.get("Labels")),
        ip,
        ip6_link_local,
        ip6_global,
        mounts,
        state: State {
            running: flag(state, "Running"),
            health: Health {
                status: text(state, &["Health", "Status"]),
            },
        },
    }
}

/// `.Docker` from the `/version` and `/info` bodies and the generator's own container ID.
pub fn docker(version: &Json, info: &Json, current_container_id: Option<&str>) -> Docker {
    Docker {
        name: text(info, &["Name"]),
        num_containers: int(info, "Containers"),
        num_images: int(info, "Images"),
        version: text(version, &["Version"]),
        api_version: text(version, &["ApiVersion"]),
        go_version: text(version, &["GoVersion"]),
        operating_system: text(version, &["Os"]),
        architecture: text(version, &["Arch"]),
        current_container_id: current_container_id.unwrap_or_default().to_owned(),
    }
}

/// The names of the internal networks in a `/networks` body.
pub fn internal_networks(networks: &Json) -> HashSet<String> {
    networks
        .as_array()
        .map(|ns| {
            ns.iter()
                .filter(|n| flag(n, "Internal"))
                .map(|n| text(n, &["Name"]))
                .collect()
        })
        .unwrap_or_default()
}

/// The whole context: the generator's environment, `.Docker`, and the containers in the order
/// given (the daemon's list order, newest first).
pub fn context(docker: Docker, containers: Vec<Arc<RuntimeContainer>>) -> Context {
    Context {
        env: std::env::vars().collect(),
        docker,
        containers,
    }
}

/// The context of a render from a snapshot, with no daemon at hand (`pygen render --state
/// --dialect go`, config file entries with `dialect = "go"`): the running containers, newest
/// first; `.Docker` holds only `CurrentContainerID` and no network is internal, as the snapshot
/// carries no `/info`, `/version` or `/networks`.
pub fn from_snapshot(snapshot: &crate::model::Snapshot) -> Context {
    let internal = HashSet::new();
    let containers = snapshot
        .running()
        .into_iter()
        .filter_map(|c| serde_json::from_str(&c.raw_json()).ok())
        .map(|inspect| Arc::new(runtime_container(&inspect, &internal)))
        .collect();
    let docker = Docker {
        current_container_id: snapshot.own_container_id.clone().unwrap_or_default(),
        ..Docker::default()
    };
    context(docker, containers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_docker_gen_fields_from_an_inspect_body() {
        let inspect = json!({
            "Id": "abc",
            "Created": "2024-01-02T03:04:05.123456789Z",
            "Name": "/web",
            "Config": {
                "Hostname": "web1",
                "Image": "registry.example.com:5000/team/app:1.2",
                "Env": ["A=1=2", "B"],
                "Labels": {"l": "v"},
                "ExposedPorts": {"80/tcp": {}}
            },
            "HostConfig": {"NetworkMode": "front", "Devices": [
                {"PathOnHost": "/dev/a", "PathInContainer": "/dev/b", "CgroupPermissions": "rwm"}
            ]},
            "State": {"Running": true, "Health": {"Status": "healthy"}},
            "NetworkSettings": {
                "IPAddress": "172.17.0.2",
                "Gateway": "172.17.0.1",
                "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "53/udp": null},
                "Networks": {"front": {"IPAddress": "10.0.0.2", "Aliases": ["w"], "IPPrefixLen": 24}}
            },
            "Mounts": [{"Name": "v", "Source": "/s", "Destination": "/d", "Driver": "local", "Mode": "z", "RW": true}]
        });
        let internal = HashSet::from(["front".to_owned()]);
        let c = runtime_container(&inspect, &internal);
        assert_eq!(c.name, "web");
        assert_eq!(c.image.registry, "registry.example.com:5000");
        assert_eq!(c.image.repository, "team/app");
        assert_eq!(c.image.tag, "1.2");
        assert_eq!(c.env["A"], "1=2");
        assert_eq!(c.env["B"], "");
        assert_eq!(c.addresses.len(), 2);
        let web = c
            .addresses
            .iter()
            .find(|a| a.port == "80")
            .expect("port 80");
        assert_eq!(
            (web.host_port.as_str(), web.host_ip.as_str()),
            ("8080", "0.0.0.0")
        );
        assert_eq!(web.ip, "172.17.0.2");
        let dns = c
            .addresses
            .iter()
            .find(|a| a.port == "53")
            .expect("port 53");
        assert_eq!((dns.proto.as_str(), dns.host_port.as_str()), ("udp", ""));
        assert!(c.networks[0].internal);
        assert_eq!(c.networks[0].ip_prefix_len, 24);
        assert_eq!(c.devices[0].permissions, "rwm");
        assert_eq!(c.network_mode, "front");
        assert!(c.state.running);
        assert_eq!(c.state.health.status, "healthy");
        assert!(c.mounts[0].rw);
        assert!(c.created.is_some());
    }

    #[test]
    fn exposed_ports_stand_in_when_there_are_no_port_bindings() {
        let inspect = json!({
            "Id": "abc",
            "Config": {"ExposedPorts": {"8080/tcp": {}}},
            "NetworkSettings": {"Ports": {}}
        });
        let c = runtime_container(&inspect, &HashSet::new());
        assert_eq!(c.addresses.len(), 1);
        assert_eq!(c.addresses[0].port, "8080");
        assert_eq!(c.created, None, "Go's zero time");
    }

    #[test]
    fn docker_and_networks() {
        let d = docker(
            &json!({"Version": "27.0", "ApiVersion": "1.46", "Os": "linux", "Arch": "amd64", "GoVersion": "go1"}),
            &json!({"Name": "host", "Containers": 3, "Images": 4}),
            Some("id"),
        );
        assert_eq!((d.num_containers, d.num_images), (3, 4));
        assert_eq!(d.operating_system, "linux");
        assert_eq!(d.current_container_id, "id");
        let n = internal_networks(&json!([{"Name": "a", "Internal": true}, {"Name": "b"}]));
        assert_eq!(n, HashSet::from(["a".to_owned()]));
    }
}
