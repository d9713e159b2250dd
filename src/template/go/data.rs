//! What a docker-gen template sees: the root value (the container list with `.Env`, `.Docker`
//! and `.CurrentContainer`) and every `RuntimeContainer` field, as gotmpl records with docker-gen's
//! type names, field order and orderings. The plain structs here are the one input: the context
//! JSON reader (docker-gen's `RuntimeContainer` shape) fills them, and so can the live mode from
//! pygen's own model; [`Context::to_value`] is the only place records are built (in `records`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

mod records;

/// The type name of the root record; the helpers recognise the container list by it.
pub const CONTEXT_TYPE: &str = "context.Context";

/// The whole template data: docker-gen's `context.Context` and its methods.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Context {
    /// The generator's own environment (`.Env`).
    pub env: BTreeMap<String, String>,
    /// Daemon information and the generator's own container ID (`.Docker`).
    pub docker: Docker,
    /// Every container the filters let through, the root list itself. Shared: the live mode
    /// keeps each container's record between renders and rebuilds only the changed ones.
    #[serde(deserialize_with = "shared_containers")]
    pub containers: Vec<Arc<RuntimeContainer>>,
}

/// docker-gen's `Docker` struct.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Docker {
    /// The daemon's host name.
    pub name: String,
    /// Containers on the daemon.
    pub num_containers: i64,
    /// Images on the daemon.
    pub num_images: i64,
    /// The daemon's version.
    pub version: String,
    /// The daemon's API version.
    pub api_version: String,
    /// The Go version the daemon was built with.
    pub go_version: String,
    /// The daemon host's operating system.
    pub operating_system: String,
    /// The daemon host's architecture.
    pub architecture: String,
    /// The generator's own container, found from cgroup and mount information; empty outside one.
    #[serde(rename = "CurrentContainerID")]
    pub current_container_id: String,
}

/// docker-gen's `RuntimeContainer`: one container as templates see it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RuntimeContainer {
    /// The full container ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Creation time as seconds and nanoseconds since the epoch; `None` is Go's zero time.
    #[serde(deserialize_with = "created_from_json")]
    pub created: Option<(i64, u32)>,
    /// One per exposed or published port.
    pub addresses: Vec<Address>,
    /// One per attached network.
    pub networks: Vec<Network>,
    /// Devices mapped into the container.
    pub devices: Vec<Device>,
    /// The default bridge's gateway (legacy field).
    pub gateway: String,
    /// The name without its leading `/`.
    pub name: String,
    /// `Config.Hostname`.
    pub hostname: String,
    /// `HostConfig.NetworkMode`.
    pub network_mode: String,
    /// The image reference, split.
    pub image: DockerImage,
    /// `Config.Env` split at the first `=`.
    pub env: BTreeMap<String, String>,
    /// Legacy volumes by container path.
    pub volumes: BTreeMap<String, Volume>,
    /// Legacy classic-Swarm node.
    pub node: SwarmNode,
    /// `Config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// The default bridge's IPv4 address (legacy field).
    #[serde(rename = "IP")]
    pub ip: String,
    /// The default bridge's link-local IPv6 address (legacy field).
    #[serde(rename = "IP6LinkLocal")]
    pub ip6_link_local: String,
    /// The default bridge's global IPv6 address (legacy field).
    #[serde(rename = "IP6Global")]
    pub ip6_global: String,
    /// Mounts, in the daemon's order.
    pub mounts: Vec<Mount>,
    /// Running flag and health.
    pub state: State,
}

/// One port of a container (docker-gen's `Address`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct Address {
    /// The container's address on the default bridge.
    #[serde(rename = "IP")]
    pub ip: String,
    /// Link-local IPv6 address on the default bridge.
    #[serde(rename = "IP6LinkLocal")]
    pub ip6_link_local: String,
    /// Global IPv6 address on the default bridge.
    #[serde(rename = "IP6Global")]
    pub ip6_global: String,
    /// The container port, e.g. `80`.
    pub port: String,
    /// The first host binding's port, empty when unpublished.
    pub host_port: String,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
    /// The first host binding's address.
    #[serde(rename = "HostIP")]
    pub host_ip: String,
}

/// One network attachment (docker-gen's `Network`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Network {
    /// The container's IPv4 address on the network.
    #[serde(rename = "IP")]
    pub ip: String,
    /// The network's name.
    pub name: String,
    /// DNS aliases on the network.
    pub aliases: Vec<String>,
    /// The network's IPv4 gateway.
    pub gateway: String,
    /// The endpoint's ID.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// The network's IPv6 gateway.
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    /// The container's global IPv6 address on the network.
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    /// The endpoint's MAC address.
    pub mac_address: String,
    /// Prefix length of the IPv6 address.
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: i64,
    /// Prefix length of the IPv4 address.
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: i64,
    /// Whether the network is internal (no outside access).
    pub internal: bool,
}

/// A mapped device.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Device {
    /// The device on the host.
    pub path_on_host: String,
    /// The device inside the container.
    pub path_in_container: String,
    /// cgroup permissions, e.g. `rwm`.
    pub permissions: String,
}

/// An image reference split as docker-gen splits it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "PascalCase")]
pub struct DockerImage {
    /// The registry host, only when the first path part looks like one.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The tag, empty when none was given.
    pub tag: String,
}

impl DockerImage {
    /// Splits `registry/repository:tag`. The first path part is a registry only when it has a
    /// `.` or a `:` or is `localhost`; the tag is what follows the first `:` of the rest.
    pub fn parse(image: &str) -> DockerImage {
        let (mut registry, mut rest) = ("", image);
        if let Some((first, after)) = image.split_once('/')
            && (first.contains('.') || first.contains(':') || first == "localhost")
        {
            registry = first;
            rest = after;
        }
        let (repository, tag) = rest.split_once(':').unwrap_or((rest, ""));
        DockerImage {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.to_string(),
        }
    }
}

/// A legacy volume.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Volume {
    /// The path in the container.
    pub path: String,
    /// The path on the host.
    pub host_path: String,
    /// Whether it is writable.
    pub read_write: bool,
}

/// A legacy classic-Swarm node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SwarmNode {
    /// The node's ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// The node's name.
    pub name: String,
    /// The node's address (only `IP` is set).
    pub address: Address,
}

/// A mount.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Mount {
    /// The volume name, empty for bind mounts.
    pub name: String,
    /// The host path or volume data path.
    pub source: String,
    /// The path in the container.
    pub destination: String,
    /// The volume driver.
    pub driver: String,
    /// Mount options such as `z`.
    pub mode: String,
    /// Whether it is writable.
    #[serde(rename = "RW")]
    pub rw: bool,
}

/// The container state docker-gen exposes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct State {
    /// Whether the container runs.
    pub running: bool,
    /// The health check's state.
    pub health: Health,
}

/// Health check state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Health {
    /// `starting`, `healthy`, `unhealthy`, or empty without a health check.
    pub status: String,
}

/// `Config.Env` entries split at the first `=`; an entry without one maps to "".
pub fn split_env<'a>(entries: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    entries
        .into_iter()
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Go's zero `time.Time` (January 1, year 1, UTC) in seconds since the epoch.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// Reads Go's JSON form of a time (RFC 3339); null or absent is the zero time.
fn shared_containers<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Arc<RuntimeContainer>>, D::Error> {
    let list: Vec<RuntimeContainer> = Vec::deserialize(d)?;
    Ok(list.into_iter().map(Arc::new).collect())
}

fn created_from_json<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<(i64, u32)>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => parse_rfc3339(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("bad time {s:?}"))),
    }
}

/// `2006-01-02T15:04:05.999999999Z07:00` to UTC seconds and nanoseconds.
pub fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let digits = s.get(start..end.min(start + 9))?;
        let padded = format!("{digits:0<9}");
        nanos = padded.parse().ok()?;
        i = end;
    }
    let offset = match s.get(i..)? {
        "Z" | "z" => 0,
        z if z.len() == 6 => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            sign * (num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60)
        }
        _ => return None,
    };
    let month = u32::try_from(mo).ok()?;
    let day = u32::try_from(d).ok()?;
    let days = gotmpl::value::days_from_civil(y, month, day);
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::Value;

    #[test]
    fn images_split_with_docker_gens_rule() {
        let p = DockerImage::parse;
        assert_eq!(
            p("nginx:1.25"),
            DockerImage {
                registry: "".into(),
                repository: "nginx".into(),
                tag: "1.25".into()
            }
        );
        assert_eq!(
            p("nginxproxy/nginx-proxy").repository,
            "nginxproxy/nginx-proxy"
        );
        assert_eq!(
            p("localhost/app:v1"),
            DockerImage {
                registry: "localhost".into(),
                repository: "app".into(),
                tag: "v1".into()
            }
        );
        assert_eq!(
            p("reg.io:5000/team/app"),
            DockerImage {
                registry: "reg.io:5000".into(),
                repository: "team/app".into(),
                tag: "".into()
            }
        );
    }

    #[test]
    fn env_splits_at_the_first_equals() {
        let m = split_env(["A=b=c", "FLAG", "E="]);
        assert_eq!(m["A"], "b=c");
        assert_eq!(m["FLAG"], "");
        assert_eq!(m["E"], "");
    }

    #[test]
    fn times_and_orders() {
        assert_eq!(
            parse_rfc3339("2024-01-02T03:04:05.5+01:00"),
            Some((1_704_161_045, 500_000_000))
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_rfc3339("garbage"), None);
        let c = RuntimeContainer {
            addresses: vec![
                Address {
                    port: "443".into(),
                    proto: "tcp".into(),
                    ..Default::default()
                },
                Address {
                    port: "80".into(),
                    proto: "udp".into(),
                    ..Default::default()
                },
                Address {
                    port: "80".into(),
                    proto: "tcp".into(),
                    ..Default::default()
                },
            ],
            name: "/web".into(),
            ..Default::default()
        };
        let v = c.to_value();
        let got = gotmpl::fmt::sprint(&[
            super::super::reflect::deep_get(&v, "Addresses").unwrap_or(Value::Nil)
        ]);
        assert_eq!(got, "[{   80  tcp } {   80  udp } {   443  tcp }]");
        assert_eq!(
            super::super::reflect::deep_get(&v, "Name").and_then(|n| n.as_str().map(String::from)),
            Some("web".into())
        );
        let created =
            super::super::reflect::deep_get(&v, "Created").map(|t| gotmpl::fmt::sprint(&[t]));
        assert_eq!(created.as_deref(), Some("0001-01-01 00:00:00 +0000 UTC"));
    }
}
