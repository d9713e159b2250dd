//! One container as pygen keeps it: the fields templates and actions read, parsed once from
//! the `GET /containers/{id}/json` body, plus that body itself, compacted and compressed.
//!
//! Parsing is deliberately forgiving: the daemon's JSON changes between Engine API versions,
//! and one odd container must never stop a render (docker-pygen aborted on an env entry
//! without `=`, weakness B11). Only input that is not a JSON object is rejected.

use std::cmp::Ordering;

use serde::Deserialize;
use serde_json::Value as Json;

use super::Error;
use super::json::{at, compact_json, env, labels, lookup_exact, opt_text, text};
use super::packed::PackedJson;
use super::time::Timestamp;

/// One network the container is attached to (`NetworkSettings.Networks.<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The network name (the key of the `Networks` map), what templates match on.
    pub name: Box<str>,
    /// `NetworkID`: full network id, the key for matching networks between containers.
    pub id: Option<Box<str>>,
    /// `IPAddress` on this network (`''` for the host network).
    pub ip_address: Option<Box<str>>,
    /// `Gateway` of this network as seen by the container.
    pub gateway: Option<Box<str>>,
    /// `GlobalIPv6Address` on this network.
    pub ipv6_address: Option<Box<str>>,
    /// `IPv6Gateway` of this network.
    pub ipv6_gateway: Option<Box<str>>,
    /// `MacAddress` of the container's interface on this network.
    pub mac_address: Option<Box<str>>,
    /// `Aliases`: DNS names of the container on this network (empty when `null`).
    pub aliases: Box<[Box<str>]>,
}

/// One published port binding (`NetworkSettings.Ports.<port/proto>[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    /// The container-side port number.
    pub port: u16,
    /// The protocol (`tcp`, `udp`, `sctp`, …) as Docker names it.
    pub protocol: Box<str>,
    /// `HostIp` the binding listens on (`0.0.0.0`, `::`, or a specific address).
    pub host_ip: Option<Box<str>>,
    /// `HostPort` as a number, `None` when Docker gives none or an unparsable one.
    pub host_port: Option<u16>,
}

/// One mount of the container (`Mounts[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `Type`: `bind`, `volume`, `tmpfs`, …
    pub kind: Option<Box<str>>,
    /// `Source` path on the host.
    pub source: Option<Box<str>>,
    /// `Destination` path in the container.
    pub destination: Option<Box<str>>,
    /// `Name` of the volume (volumes only).
    pub name: Option<Box<str>>,
    /// `Mode` string as given at creation (`ro`, `z`, …).
    pub mode: Option<Box<str>>,
    /// `RW`: whether the mount is writable.
    pub rw: Option<bool>,
}

/// A container, parsed from its inspect JSON.
///
/// Holds the parsed fields in plain Rust types (cheap to match on and to turn into template
/// values) and the inspect body as one compact string, compressed, from which `raw` is built
/// only when a template reads it. Shared as `Arc<Container>` between the state cache, renders and actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// `Id`: the full 64-hex container id.
    pub(crate) id: Box<str>,
    /// `Name` without the leading `/`.
    pub(crate) name: Box<str>,
    /// `Config.Image`: the image reference as given (e.g. `nginx:1.13`).
    pub(crate) image: Box<str>,
    /// `Image`: the image id (`sha256:…`).
    pub(crate) image_id: Box<str>,
    /// `State.Status`: `running`, `exited`, …
    pub(crate) status: Box<str>,
    /// `State.Health.Status`, absent when the container has no health check.
    pub(crate) health: Option<Box<str>>,
    /// `Config.Hostname`.
    pub(crate) hostname: Box<str>,
    /// `Created` as Docker gives it (RFC 3339).
    pub(crate) created: Box<str>,
    /// `Created` as a sortable instant, for the newest-first order of `docker ps`.
    pub(crate) created_at: Timestamp,
    /// `State.StartedAt` as Docker gives it.
    pub(crate) started_at: Box<str>,
    /// Whether the container stopped at least once (`State.FinishedAt` is not Docker's zero
    /// time): a restart, not a first start.
    pub(crate) stopped_before: bool,
    /// `Config.Labels`, sorted by key (Docker's own order, kept explicit).
    pub(crate) labels: Box<[(Box<str>, Box<str>)]>,
    /// `Config.Env` split on the first `=`, in list order; later duplicates replace the value.
    pub(crate) env: Box<[(Box<str>, Box<str>)]>,
    /// `NetworkSettings.Networks`, sorted by network name.
    pub(crate) networks: Box<[Network]>,
    /// Exposed TCP ports (`Config.ExposedPorts`), ordered as the keys sorted as strings.
    pub(crate) tcp_ports: Box<[u16]>,
    /// Exposed UDP ports, ordered like `tcp_ports`.
    pub(crate) udp_ports: Box<[u16]>,
    /// Published port bindings, by container port and protocol, then binding order.
    pub(crate) published_ports: Box<[PublishedPort]>,
    /// `Mounts`, in Docker's order.
    pub(crate) mounts: Box<[Mount]>,
    /// The whole inspect body, compacted (whitespace outside strings removed) and compressed:
    /// it is rarely read and was otherwise half the heap of a watching pygen.
    raw: PackedJson,
}

/// The sections of the inspect body that pygen reads; everything else (HostConfig,
/// GraphDriver, …) is skipped without being built.
/// Each field stays a loose JSON value so that an unexpected type empties one field instead
/// of failing the container.
#[derive(Deserialize)]
struct Inspect {
    /// `Id`.
    #[serde(rename = "Id", default)]
    id: Json,
    /// `Name`, with Docker's leading `/`.
    #[serde(rename = "Name", default)]
    name: Json,
    /// `Image`: the image id.
    #[serde(rename = "Image", default)]
    image: Json,
    /// `Created`.
    #[serde(rename = "Created", default)]
    created: Json,
    /// `State`: status, start time, health.
    #[serde(rename = "State", default)]
    state: Json,
    /// `Config`: image reference, hostname, labels, env, exposed ports.
    #[serde(rename = "Config", default)]
    config: Json,
    /// `NetworkSettings`: networks and published ports.
    #[serde(rename = "NetworkSettings", default)]
    network_settings: Json,
    /// `Mounts`.
    #[serde(rename = "Mounts", default)]
    mounts: Json,
}

impl Container {
    /// Parses one `GET /containers/{id}/json` body.
    ///
    /// Never fails on odd data (an env entry without `=`, ports of another protocol, missing
    /// or `null` sections, values of an unexpected type): such parts are read as empty. Fails
    /// only on input that is not JSON or not a JSON object.
    pub fn from_inspect_json(raw: &str) -> Result<Container, Error> {
        let first = raw.trim_start().as_bytes().first().copied();
        if first != Some(b'{') {
            // Check validity first so that garbage is reported as such, not as "not an object".
            serde_json::from_str::<serde::de::IgnoredAny>(raw)
                .map_err(|source| Error::InvalidJson { source })?;
            return Err(Error::NotAnObject);
        }
        let inspect: Inspect =
            serde_json::from_str(raw).map_err(|source| Error::InvalidJson { source })?;
        Ok(Container::from_parts(inspect, compact_json(raw)))
    }

    /// Builds the container from its parsed sections and its compacted body.
    fn from_parts(inspect: Inspect, raw: String) -> Container {
        let state = &inspect.state;
        let config = &inspect.config;
        let settings = &inspect.network_settings;
        let created = text(&inspect.created);
        let name = text(&inspect.name);
        let name = name.strip_prefix('/').unwrap_or(name);
        let health = match at(state, &["Health", "Status"]).as_str() {
            Some(s) if !s.is_empty() => Some(Box::from(s)),
            _ => None,
        };
        let (tcp_ports, udp_ports) = exposed_ports(config.get("ExposedPorts"));
        Container {
            id: text(&inspect.id).into(),
            name: name.into(),
            image: text(at(config, &["Image"])).into(),
            image_id: text(&inspect.image).into(),
            status: text(at(state, &["Status"])).into(),
            health,
            hostname: text(at(config, &["Hostname"])).into(),
            created_at: Timestamp::parse(created).unwrap_or_default(),
            created: created.into(),
            started_at: text(at(state, &["StartedAt"])).into(),
            stopped_before: {
                let finished = text(at(state, &["FinishedAt"]));
                !finished.is_empty() && !finished.starts_with("0001-01-01")
            },
            labels: labels(config.get("Labels")),
            env: env(config.get("Env")),
            networks: networks(settings.get("Networks")),
            tcp_ports,
            udp_ports,
            published_ports: published_ports(settings.get("Ports")),
            mounts: mounts(&inspect.mounts),
            raw: PackedJson::pack(&raw),
        }
    }

    /// The full container id (64 hex characters).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The first 12 characters of the id, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// The container name, without Docker's leading `/`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `State.Status` (`running`, `paused`, `exited`, …).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The health status, `unknown` when the container has no health check.
    pub fn health(&self) -> &str {
        self.health.as_deref().unwrap_or("unknown")
    }

    /// `Config.Image`: the image reference the container was created from.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// `Config.Hostname`.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// `Created` as Docker gives it (RFC 3339).
    pub fn created(&self) -> &str {
        &self.created
    }

    /// `State.StartedAt` as Docker gives it.
    pub fn started_at(&self) -> &str {
        &self.started_at
    }

    /// Whether the container stopped at least once before (`State.FinishedAt` is set): its
    /// current run, if any, is a restart.
    pub fn stopped_before(&self) -> bool {
        self.stopped_before
    }

    /// `State.StartedAt` in milliseconds since the Unix epoch; `None` when missing or not a
    /// time.
    pub fn started_unix_millis(&self) -> Option<i64> {
        Timestamp::parse(&self.started_at).map(Timestamp::unix_millis)
    }

    /// `Image`: the id (`sha256:…`) of the image the container runs.
    pub fn image_id(&self) -> &str {
        &self.image_id
    }

    /// `Config.Labels`, sorted by key.
    pub fn labels(&self) -> &[(Box<str>, Box<str>)] {
        &self.labels
    }

    /// `Config.Env` as (key, value) pairs, in list order.
    pub fn env(&self) -> &[(Box<str>, Box<str>)] {
        &self.env
    }

    /// Exposed TCP ports, ordered as the `Config.ExposedPorts` keys sorted as strings.
    pub fn tcp_ports(&self) -> &[u16] {
        &self.tcp_ports
    }

    /// Exposed UDP ports, ordered like [`Container::tcp_ports`].
    pub fn udp_ports(&self) -> &[u16] {
        &self.udp_ports
    }

    /// The value of a label (exact key), if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        lookup_exact(&self.labels, key)
    }

    /// The value of an environment variable (exact key), if set.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        lookup_exact(&self.env, key)
    }

    /// The networks the container is attached to, sorted by name.
    pub fn networks(&self) -> &[Network] {
        &self.networks
    }

    /// Published port bindings, by container port and protocol, then binding order.
    pub fn published_ports(&self) -> &[PublishedPort] {
        &self.published_ports
    }

    /// The container's mounts, in Docker's order.
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// Whether `docker ps` (without `--all`) lists it: running, paused or restarting.
    /// These are the containers templates see as `containers`.
    pub fn is_running(&self) -> bool {
        matches!(&*self.status, "running" | "paused" | "restarting")
    }

    /// The inspect body as compact JSON (what `pygen state` dumps and `raw` is built from),
    /// decompressed on each call (well under a microsecond for a typical body).
    pub fn raw_json(&self) -> String {
        self.raw.unpack()
    }

    /// Bytes the kept inspect body takes, compressed (for the benchmarks' memory figures).
    pub fn raw_json_packed_len(&self) -> usize {
        self.raw.packed_len()
    }

    /// Orders containers as `docker ps` does: newest `Created` first, then by id.
    pub(crate) fn newest_first(a: &Container, b: &Container) -> Ordering {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    }
}

/// `NetworkSettings.Networks`, sorted by network name.
fn networks(value: Option<&Json>) -> Box<[Network]> {
    let Some(map) = value.and_then(Json::as_object) else {
        return Box::default();
    };
    let mut list: Vec<Network> = map
        .iter()
        .map(|(name, net)| Network {
            name: name.as_str().into(),
            id: opt_text(net.get("NetworkID")),
            ip_address: opt_text(net.get("IPAddress")),
            gateway: opt_text(net.get("Gateway")),
            ipv6_address: opt_text(net.get("GlobalIPv6Address")),
            ipv6_gateway: opt_text(net.get("IPv6Gateway")),
            mac_address: opt_text(net.get("MacAddress")),
            aliases: net
                .get("Aliases")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).map(Box::from).collect())
                .unwrap_or_default(),
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list.into_boxed_slice()
}

/// Splits a `port/proto` key; a key without `/` is TCP, as in Docker's own notation.
fn split_port_key(key: &str) -> Option<(u16, &str)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.trim().parse().ok()?, proto))
}

/// `Config.ExposedPorts` keys as (tcp, udp) port lists, keys sorted as strings (the order
/// Docker emits them in). Other protocols and unparsable keys are skipped.
fn exposed_ports(value: Option<&Json>) -> (Box<[u16]>, Box<[u16]>) {
    let Some(map) = value.and_then(Json::as_object) else {
        return (Box::default(), Box::default());
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let (mut tcp, mut udp) = (Vec::new(), Vec::new());
    for (port, proto) in keys.into_iter().filter_map(split_port_key) {
        match proto {
            "tcp" => tcp.push(port),
            "udp" => udp.push(port),
            _ => {}
        }
    }
    (tcp.into_boxed_slice(), udp.into_boxed_slice())
}

/// `NetworkSettings.Ports`: one entry per host binding (ports without bindings are only
/// exposed, not published), by container port and protocol, then binding order.
fn published_ports(value: Option<&Json>) -> Box<[PublishedPort]> {
    let Some(map) = value.and_then(Json::as_object) else {
        return Box::default();
    };
    let mut keyed: Vec<(u16, &str, &Vec<Json>)> = map
        .iter()
        .filter_map(|(key, bindings)| {
            let (port, proto) = split_port_key(key)?;
            Some((port, proto, bindings.as_array()?))
        })
        .collect();
    keyed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    keyed
        .into_iter()
        .flat_map(|(port, proto, bindings)| {
            bindings.iter().map(move |binding| PublishedPort {
                port,
                protocol: proto.into(),
                host_ip: opt_text(binding.get("HostIp")),
                host_port: match binding.get("HostPort") {
                    Some(Json::String(s)) => s.parse().ok(),
                    Some(Json::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                    _ => None,
                },
            })
        })
        .collect()
}

/// `Mounts`, in Docker's order.
fn mounts(value: &Json) -> Box<[Mount]> {
    let Some(list) = value.as_array() else {
        return Box::default();
    };
    list.iter()
        .filter(|m| m.is_object())
        .map(|m| Mount {
            kind: opt_text(m.get("Type")),
            source: opt_text(m.get("Source")),
            destination: opt_text(m.get("Destination")),
            name: opt_text(m.get("Name")),
            mode: opt_text(m.get("Mode")),
            rw: m.get("RW").and_then(Json::as_bool),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/data/sample-inspect.json");

    fn sample() -> Container {
        Container::from_inspect_json(SAMPLE).expect("the recorded sample parses")
    }

    #[test]
    fn parses_recorded_inspect() {
        let c = sample();
        assert_eq!(
            c.id(),
            "9cf9cfc3e4a37006af656cbe076c0e8508a1c33930fb1017fe1a9efc6849034b"
        );
        assert_eq!(c.short_id(), "9cf9cfc3e4a3");
        assert_eq!(c.name(), "sample1");
        assert_eq!(c.image(), "pygen-sample-busybox");
        assert!(c.image_id.starts_with("sha256:bb8212"));
        assert_eq!(c.status(), "running");
        assert!(c.is_running());
        assert_eq!(c.health(), "healthy");
        assert_eq!(&*c.hostname, "samplehost");
        assert_eq!(&*c.started_at, "2026-11-25T09:20:29.359720997Z");
        assert!(
            !c.stopped_before(),
            "a first run: FinishedAt is Docker's zero time"
        );
        let restarted = SAMPLE.replace("0001-01-01T00:00:00Z", "2026-11-25T09:20:28.5Z");
        let restarted = Container::from_inspect_json(&restarted).expect("still parses");
        assert!(restarted.stopped_before());
        assert_eq!(c.label("pygen.target"), Some("t1"));
        assert_eq!(c.label("Pygen.Target"), None);
        assert_eq!(c.env_var("WITH_EQ"), Some("a=b"));
        assert_eq!(&*c.tcp_ports, &[8080]);
        assert_eq!(&*c.udp_ports, &[53]);
        let names: Vec<&str> = c.networks.iter().map(|n| &*n.name).collect();
        assert_eq!(names, ["bridge", "samplenet"]);
        let samplenet = &c.networks[1];
        assert_eq!(samplenet.ip_address.as_deref(), Some("172.18.0.2"));
        assert_eq!(samplenet.gateway.as_deref(), Some("172.18.0.1"));
        assert_eq!(samplenet.mac_address.as_deref(), Some("02:42:ac:12:00:02"));
        assert_eq!(
            &*samplenet.aliases,
            &[Box::from("9cf9cfc3e4a3"), "samplehost".into()]
        );
        assert_eq!(
            &*c.published_ports,
            &[PublishedPort {
                port: 8080,
                protocol: "tcp".into(),
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(18080),
            }]
        );
        assert_eq!(c.mounts.len(), 1);
        assert_eq!(c.mounts[0].kind.as_deref(), Some("bind"));
        assert_eq!(c.mounts[0].rw, Some(false));
        assert_eq!(c.mounts[0].name, None);
    }

    #[test]
    fn raw_is_compact_and_equivalent() {
        let c = sample();
        assert!(!c.raw_json().contains('\n'));
        assert!(c.raw_json().len() < SAMPLE.len());
        let a: Json = serde_json::from_str(SAMPLE).expect("valid");
        let b: Json = serde_json::from_str(&c.raw_json()).expect("compact output is valid");
        assert_eq!(a, b);
    }

    #[test]
    fn odd_data_never_fails() {
        let raw = r#"{
            "Id": "abc",
            "State": "running",
            "Config": {
                "Env": ["NOEQ", "A=1", "A=2", "B=", 5],
                "Labels": null,
                "ExposedPorts": {"9000/sctp": {}, "80/tcp": {}, "443/tcp": {}, "x/tcp": {}, "53": {}}
            },
            "NetworkSettings": {"Networks": null, "Ports": {"80/tcp": null, "132/sctp": [{"HostIp": "", "HostPort": "9132"}]}},
            "Mounts": "nope"
        }"#;
        let c = Container::from_inspect_json(raw).expect("odd data is tolerated");
        assert_eq!(c.id(), "abc");
        assert_eq!(c.status(), "");
        assert!(!c.is_running());
        assert_eq!(c.health(), "unknown");
        let env: Vec<(&str, &str)> = c.env.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(env, [("NOEQ", ""), ("A", "2"), ("B", "")]);
        assert!(c.labels.is_empty());
        // Keys sorted as strings: "443/tcp" < "53" < "80/tcp".
        assert_eq!(&*c.tcp_ports, &[443, 53, 80]);
        assert!(c.udp_ports.is_empty());
        assert!(c.networks.is_empty());
        assert_eq!(c.published_ports.len(), 1);
        assert_eq!(&*c.published_ports[0].protocol, "sctp");
        assert_eq!(c.published_ports[0].host_port, Some(9132));
        assert!(c.mounts.is_empty());
    }

    #[test]
    fn empty_object_is_a_container_with_nothing() {
        let c = Container::from_inspect_json("{}").expect("empty object parses");
        assert_eq!(c.id(), "");
        assert_eq!(c.short_id(), "");
        assert_eq!(c.raw_json(), "{}");
    }

    #[test]
    fn rejects_non_objects() {
        assert!(matches!(
            Container::from_inspect_json("[1, 2]"),
            Err(Error::NotAnObject)
        ));
        assert!(matches!(
            Container::from_inspect_json("{\"Id\": "),
            Err(Error::InvalidJson { .. })
        ));
        assert!(matches!(
            Container::from_inspect_json("nope"),
            Err(Error::InvalidJson { .. })
        ));
    }

    #[test]
    fn newest_first_then_id() {
        let make = |id: &str, created: &str| {
            Container::from_inspect_json(&format!(r#"{{"Id":"{id}","Created":"{created}"}}"#))
                .expect("valid")
        };
        let old = make("b", "2020-01-01T00:00:00Z");
        let new = make("a", "2021-01-01T00:00:00.5Z");
        let tie = make("c", "2021-01-01T00:00:00.500Z");
        let mut list = [&old, &tie, &new];
        list.sort_by(|a, b| Container::newest_first(a, b));
        let ids: Vec<&str> = list.iter().map(|c| c.id()).collect();
        assert_eq!(ids, ["a", "c", "b"]);
    }
}
