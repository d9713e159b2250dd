//! One container as pygen keeps it: the fields templates and actions read, parsed once from
//! the `GET /containers/{id}/json` body, plus that body itself as one compact string.
//!
//! Parsing is deliberately forgiving: the daemon's JSON changes between Engine API versions,
//! and one odd container must never stop a render (docker-pygen aborted on an env entry
//! without `=`, weakness B11). Only input that is not a JSON object is rejected.

use std::cmp::Ordering;

use serde::Deserialize;
use serde_json::Value as Json;

use super::Error;

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
/// values) and the inspect body as one compact string, from which `raw` is built only when a
/// template reads it. Shared as `Arc<Container>` between the state cache, renders and actions.
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
    /// The whole inspect body, compacted (whitespace outside strings removed).
    raw: Box<str>,
}

/// An instant as (seconds since the Unix epoch, nanoseconds), for ordering only.
///
/// Docker trims trailing zeros of the fraction (`…29.0956Z`), so its strings do not sort
/// as text; this does. Unparsable or missing times sort as the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    secs: i64,
    /// Nanoseconds within the second.
    nanos: u32,
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
            labels: labels(config.get("Labels")),
            env: env(config.get("Env")),
            networks: networks(settings.get("Networks")),
            tcp_ports,
            udp_ports,
            published_ports: published_ports(settings.get("Ports")),
            mounts: mounts(&inspect.mounts),
            raw: raw.into(),
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

    /// The inspect body as compact JSON (what `pygen state` dumps and `raw` is built from).
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// Orders containers as `docker ps` does: newest `Created` first, then by id.
    pub(crate) fn newest_first(a: &Container, b: &Container) -> Ordering {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    }
}

/// Looks a key up in a list of pairs, exactly (as `dict.get` does).
pub(crate) fn lookup_exact<'a>(pairs: &'a [(Box<str>, Box<str>)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
}

/// The value at a path of object keys, or `Null`.
pub(super) fn at<'a>(value: &'a Json, path: &[&str]) -> &'a Json {
    static NULL: Json = Json::Null;
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .unwrap_or(&NULL)
}

/// A string value, `''` for anything else.
pub(super) fn text(value: &Json) -> &str {
    value.as_str().unwrap_or("")
}

/// A string value, `None` for anything else.
pub(super) fn opt_text(value: Option<&Json>) -> Option<Box<str>> {
    value.and_then(Json::as_str).map(Box::from)
}

/// `Config.Labels`: string values only, sorted by key.
pub(super) fn labels(value: Option<&Json>) -> Box<[(Box<str>, Box<str>)]> {
    let Some(map) = value.and_then(Json::as_object) else {
        return Box::default();
    };
    let mut pairs: Vec<(Box<str>, Box<str>)> = map
        .iter()
        .map(|(k, v)| (Box::from(k.as_str()), Box::from(scalar_text(v).as_str())))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.into_boxed_slice()
}

/// A label value as text: strings as they are, other scalars in their JSON spelling.
fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// `Config.Env`: each `K=V` split on the first `=`; an entry without `=` is a key with an
/// empty value. A repeated key keeps its first position and takes the last value, like a
/// Python dict built from the list.
pub(super) fn env(value: Option<&Json>) -> Box<[(Box<str>, Box<str>)]> {
    let Some(list) = value.and_then(Json::as_array) else {
        return Box::default();
    };
    let mut pairs: Vec<(Box<str>, Box<str>)> = Vec::with_capacity(list.len());
    for entry in list.iter().filter_map(Json::as_str) {
        let (key, val) = entry.split_once('=').unwrap_or((entry, ""));
        match pairs.iter_mut().find(|(k, _)| &**k == key) {
            Some(existing) => existing.1 = val.into(),
            None => pairs.push((key.into(), val.into())),
        }
    }
    pairs.into_boxed_slice()
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

/// Removes the whitespace between JSON tokens of a document already known to be valid.
fn compact_json(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            continue;
        }
        out.push(b);
    }
    // Only ASCII whitespace outside strings was dropped, so the bytes are still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, the form Docker uses.
    fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let kept = &frac[..digits.min(9)];
            // Pad to nanoseconds: "0956" means 095_600_000 ns.
            nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - kept.len() as u32);
            rest = &frac[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                    return None;
                }
                let h: i64 = rest[1..3].parse().ok()?;
                let m: i64 = rest[4..6].parse().ok()?;
                sign * (h * 3600 + m * 60)
            }
        };
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
        Some(Timestamp { secs, nanos })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        let b: Json = serde_json::from_str(c.raw_json()).expect("compact output is valid");
        assert_eq!(a, b);
    }

    #[test]
    fn compact_keeps_whitespace_inside_strings() {
        let raw = "{ \"a b\" : \"x \\\" y\\\\\" ,\n \"c\": [ 1 , 2 ] }";
        assert_eq!(compact_json(raw), "{\"a b\":\"x \\\" y\\\\\",\"c\":[1,2]}");
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
    fn timestamps_sort_numerically_not_as_text() {
        let short = Timestamp::parse("2026-11-25T09:20:29.0956Z").expect("valid");
        let long = Timestamp::parse("2026-11-25T09:20:29.095605542Z").expect("valid");
        assert!(short < long);
        let epoch = Timestamp::parse("1970-01-01T00:00:00Z").expect("valid");
        assert_eq!(epoch, Timestamp { secs: 0, nanos: 0 });
        let offset = Timestamp::parse("1970-01-01T02:00:00+02:00").expect("valid");
        assert_eq!(offset, epoch);
        let leap = Timestamp::parse("2024-03-01T00:00:00Z").expect("valid");
        assert_eq!(leap.secs, 1_709_251_200);
        assert_eq!(Timestamp::parse("yesterday"), None);
        assert_eq!(Timestamp::parse("2024-13-01T00:00:00Z"), None);
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
