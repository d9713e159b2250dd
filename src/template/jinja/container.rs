//! One container as templates see it (an item of `containers`): docker-pygen's
//! `ContainerInfo`, a map object (see `object.rs`) over the shared [`Container`].
//!
//! Field values are made when a template reads them; the ones that build many values (`raw`,
//! `networks`, `ports`, `published_ports`, `mounts`) are kept as long as the object lives,
//! which is across renders while the container does not change (see `context.rs`).

use std::sync::{Arc, OnceLock};

use minijinja::value::Value;

use super::dict::{Dict, Missing, Part, StrMap};
use super::list::{List, ListKind};
use super::object::{Fields, Model, opt_str, raw_value};
use crate::model::{Container, Mount, Network, PublishedPort};

/// The keys of a container, in the order `items()` and `|tojson` show them.
///
/// docker-pygen's keys: `raw`, `id`, `short_id`, `name`, `image`, `status`, `health`,
/// `labels`, `env`, `networks`, `ports`. pygen adds:
/// - `hostname`: `Config.Hostname`;
/// - `created`: `Created`, the creation time as Docker gives it (RFC 3339);
/// - `started_at`: `State.StartedAt`;
/// - `image_id`: `Image`, the id (`sha256:…`) of the image the container runs;
/// - `published_ports`: list of `{port, protocol, host_ip, host_port}` from
///   `NetworkSettings.Ports`, one per host binding, by container port and protocol;
///   `port` and `host_port` are numbers;
/// - `mounts`: list of `{type, source, destination, name, mode, rw}` from `Mounts`.
const KEYS: &[&str] = &[
    "raw",
    "id",
    "short_id",
    "name",
    "image",
    "status",
    "health",
    "labels",
    "env",
    "networks",
    "ports",
    "hostname",
    "created",
    "started_at",
    "image_id",
    "published_ports",
    "mounts",
];

/// One container as templates see it.
#[derive(Debug)]
pub(crate) struct ContainerFields {
    /// The parsed container.
    container: Arc<Container>,
    /// `raw`, parsed from the compact JSON on first use.
    raw: OnceLock<Value>,
    /// `labels`, made on first use (groupby and sort read it once per comparison).
    labels: OnceLock<Value>,
    /// `env`, made on first use.
    env: OnceLock<Value>,
    /// `networks`, built on first use.
    networks: OnceLock<Value>,
    /// `ports`, built on first use.
    ports: OnceLock<Value>,
    /// `published_ports`, built on first use.
    published_ports: OnceLock<Value>,
    /// `mounts`, built on first use.
    mounts: OnceLock<Value>,
}

/// The template value of `container`.
pub(crate) fn container_value(container: Arc<Container>) -> Value {
    Model::value(ContainerFields {
        container,
        raw: OnceLock::new(),
        labels: OnceLock::new(),
        env: OnceLock::new(),
        networks: OnceLock::new(),
        ports: OnceLock::new(),
        published_ports: OnceLock::new(),
        mounts: OnceLock::new(),
    })
}

/// The container a template value shows, when it is one.
pub(crate) fn container_of(value: &Value) -> Option<&Arc<Container>> {
    value
        .downcast_object_ref::<Model<ContainerFields>>()
        .map(|model| &model.0.container)
}

impl Fields for ContainerFields {
    const KEYS: &'static [&'static str] = KEYS;

    fn field(&self, key: &str) -> Option<Value> {
        let c = &self.container;
        Some(match key {
            "raw" => self.raw.get_or_init(|| raw_value(&c.raw_json())).clone(),
            "id" => Value::from(c.id()),
            "short_id" => Value::from(c.short_id()),
            "name" => Value::from(c.name()),
            "image" => Value::from(c.image()),
            "status" => Value::from(c.status()),
            "health" => Value::from(c.health()),
            "labels" => self
                .labels
                .get_or_init(|| Value::from_object(StrMap::new(c, Part::Labels)))
                .clone(),
            "env" => self
                .env
                .get_or_init(|| Value::from_object(StrMap::new(c, Part::Env)))
                .clone(),
            "networks" => self
                .networks
                .get_or_init(|| {
                    let items = c.networks().iter().map(network_value).collect();
                    List::new(ListKind::NETWORKS, items, None).into_value()
                })
                .clone(),
            "ports" => self.ports.get_or_init(|| ports_value(c)).clone(),
            "hostname" => Value::from(c.hostname()),
            "created" => Value::from(c.created()),
            "started_at" => Value::from(c.started_at()),
            "image_id" => Value::from(c.image_id()),
            "published_ports" => self
                .published_ports
                .get_or_init(|| {
                    List::plain(
                        c.published_ports()
                            .iter()
                            .map(published_port_value)
                            .collect(),
                    )
                    .into_value()
                })
                .clone(),
            "mounts" => self
                .mounts
                .get_or_init(|| {
                    List::plain(c.mounts().iter().map(mount_value).collect()).into_value()
                })
                .clone(),
            _ => return None,
        })
    }

    fn id(&self) -> &str {
        self.container.id()
    }
}

/// A network entry: `name`, `id`, `ip_address` (docker-pygen's), plus pygen's `gateway`,
/// `ipv6_address`, `ipv6_gateway`, `mac_address` and `aliases` (a list).
fn network_value(n: &Network) -> Value {
    Value::from_object(Dict::from_static(
        [
            ("name", Value::from(&*n.name)),
            ("id", opt_str(&n.id)),
            ("ip_address", opt_str(&n.ip_address)),
            ("gateway", opt_str(&n.gateway)),
            ("ipv6_address", opt_str(&n.ipv6_address)),
            ("ipv6_gateway", opt_str(&n.ipv6_gateway)),
            ("mac_address", opt_str(&n.mac_address)),
            (
                "aliases",
                List::plain(n.aliases.iter().map(|a| Value::from(&**a)).collect()).into_value(),
            ),
        ],
        Missing::None,
    ))
}

/// `ports`: `{tcp: [...], udp: [...]}` of exposed port numbers.
fn ports_value(c: &Container) -> Value {
    let list =
        |ports: &[u16]| List::plain(ports.iter().map(|&p| Value::from(p)).collect()).into_value();
    Value::from_object(Dict::from_static(
        [("tcp", list(c.tcp_ports())), ("udp", list(c.udp_ports()))],
        Missing::None,
    ))
}

/// A published port: `{port, protocol, host_ip, host_port}`.
fn published_port_value(p: &PublishedPort) -> Value {
    Value::from_object(Dict::from_static(
        [
            ("port", Value::from(p.port)),
            ("protocol", Value::from(&*p.protocol)),
            ("host_ip", opt_str(&p.host_ip)),
            ("host_port", Value::from(p.host_port)),
        ],
        Missing::None,
    ))
}

/// A mount: `{type, source, destination, name, mode, rw}`.
fn mount_value(m: &Mount) -> Value {
    Value::from_object(Dict::from_static(
        [
            ("type", opt_str(&m.kind)),
            ("source", opt_str(&m.source)),
            ("destination", opt_str(&m.destination)),
            ("name", opt_str(&m.name)),
            ("mode", opt_str(&m.mode)),
            ("rw", Value::from(m.rw)),
        ],
        Missing::None,
    ))
}

#[cfg(test)]
mod tests {
    //! docker-pygen's `test_docker_state.py` property checks, over recorded inspect JSON.

    use super::*;
    use minijinja::{Environment, context};

    const SAMPLE: &str = include_str!("../../../tests/data/sample-inspect.json");

    fn info() -> Value {
        container_value(Arc::new(
            Container::from_inspect_json(SAMPLE).expect("valid"),
        ))
    }

    fn render(template: &str, ctx: Value) -> String {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.render_str(template, ctx)
            .unwrap_or_else(|e| format!("ERROR {e:#}"))
    }

    #[test]
    fn returns_container_information() {
        let ctx = context! { c => info() };
        let checks = [
            (
                "{{ c.raw.Id }}",
                "9cf9cfc3e4a37006af656cbe076c0e8508a1c33930fb1017fe1a9efc6849034b",
            ),
            ("{{ c.raw.id == c.id }}", "True"),
            ("{{ c.raw.Config.Image }}", "pygen-sample-busybox"),
            ("{{ c.image }}", "pygen-sample-busybox"),
            ("{{ c.status }}", "running"),
            (
                "{{ c.id }}",
                "9cf9cfc3e4a37006af656cbe076c0e8508a1c33930fb1017fe1a9efc6849034b",
            ),
            ("{{ c.short_id }}", "9cf9cfc3e4a3"),
            ("{{ c.name }}", "sample1"),
            ("{{ 'pygen.target' in c.labels }}", "True"),
            ("{{ c.labels['pygen.target'] }}", "t1"),
            ("{{ c.labels['virtual-host'] }}", "www.example.com"),
            ("{{ 'FOO' in c.env }} {{ 'WITH_EQ' in c.env }}", "True True"),
            ("{{ c.env['WITH_EQ'] }}", "a=b"),
            ("{{ c.env.with_eq }} {{ c.env.foo }}", "a=b bar"),
            ("{{ c.ports.tcp.first }}", "8080"),
            ("{{ c.ports.udp.first }}", "53"),
            ("{{ c.networks.first.ip_address }}", "172.17.0.2"),
            ("{{ c.health }}", "healthy"),
        ];
        for (template, expected) in checks {
            assert_eq!(render(template, ctx.clone()), expected, "{template}");
        }
    }

    #[test]
    fn every_key_is_a_key_and_equals_the_attribute() {
        let ctx = context! { c => info() };
        for key in KEYS {
            let template = format!("{{{{ '{key}' in c }}}} {{{{ c['{key}'] == c.{key} }}}}");
            assert_eq!(render(&template, ctx.clone()), "True True", "{key}");
        }
        assert_eq!(
            render("{{ c|length }} {{ c.keys()|list|length }}", ctx),
            "17 17"
        );
    }

    #[test]
    fn new_properties() {
        let ctx = context! { c => info() };
        let checks = [
            ("{{ c.hostname }}", "samplehost"),
            ("{{ c.created }}", "2026-11-25T09:20:29.095605542Z"),
            ("{{ c.started_at }}", "2026-11-25T09:20:29.359720997Z"),
            ("{{ c.image_id[:19] }}", "sha256:bb8212dbe33e"),
            (
                "{% for p in c.published_ports %}{{ p.port }}/{{ p.protocol }}->{{ p.host_ip }}:{{ p.host_port + 1 }}{% endfor %}",
                "8080/tcp->127.0.0.1:18081",
            ),
            (
                "{% for m in c.mounts %}{{ m.type }} {{ m.source }}:{{ m.destination }} {{ m.mode }} {{ m.rw }} {{ m.name }}{% endfor %}",
                "bind /tmp:/hosttmp ro False None",
            ),
            (
                "{% for n in c.networks %}{{ n.name }} {{ n.gateway }} {{ n.mac_address }} [{{ n.aliases|join(',') }}] [{{ n.ipv6_address }}];{% endfor %}",
                "bridge 172.17.0.1 02:42:ac:11:00:02 [] [];samplenet 172.18.0.1 02:42:ac:12:00:02 [9cf9cfc3e4a3,samplehost] [];",
            ),
            (
                "{{ c.networks.matching('samplenet').first.id[:6] }}",
                "02b945",
            ),
            ("{{ c.networks.matching('4e55a7').first.name }}", "bridge"),
        ];
        for (template, expected) in checks {
            assert_eq!(render(template, ctx.clone()), expected, "{template}");
        }
    }

    #[test]
    fn missing_attributes_and_comparisons() {
        let ctx = context! { c => info(), d => info() };
        assert_eq!(
            render(
                "{{ c.missing }}|{{ c.networks.first.missing }}|{{ c.ports.sctp }}",
                ctx.clone()
            ),
            "None|None|None"
        );
        assert_eq!(
            super::super::render_for_test(
                "{{ 'missing' in c }} {{ c['missing'] is defined }}",
                ctx.clone()
            ),
            "False True"
        );
        assert_eq!(
            render("{{ c.ID == c.id }} {{ c.Name }}", ctx.clone()),
            "True sample1"
        );
        // B12: comparing with none is false, not an error; equal ids are equal.
        assert_eq!(
            render(
                "{{ c == none }} {{ c != none }} {{ c == d }} {{ c == 'x' }}",
                ctx.clone()
            ),
            "False True True False"
        );
        // B24: escaping does not crash.
        assert!(
            render("{{ c.labels|e }} {{ c.networks.first|e }}", ctx.clone())
                .contains("www.example.com")
        );
        // tojson works on model objects (docker-pygen failed on `raw`).
        let json = render("{{ c|tojson }}", ctx);
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("tojson gives JSON");
        assert_eq!(parsed["raw"]["Config"]["Hostname"], "samplehost");
        assert_eq!(parsed["ports"]["tcp"][0], 8080);
        assert_eq!(parsed["networks"][1]["aliases"][1], "samplehost");
    }

    #[test]
    fn network_matching_between_containers() {
        let other = SAMPLE
            .replace("9cf9cfc3e4a3", "123456789abc")
            .replace("\"bridge\": {", "\"other\": {")
            .replace("4e55a744bd4f", "5e55a744bd4f");
        let other = container_value(Arc::new(
            Container::from_inspect_json(&other).expect("valid"),
        ));
        let ctx = context! { c => info(), o => other };
        assert_eq!(
            render(
                "{% for n in c.networks.matching(o) %}{{ n.name }};{% endfor %}",
                ctx.clone()
            ),
            "samplenet;"
        );
        assert_eq!(
            render("{{ c.networks.matching(o.networks)|length }}", ctx.clone()),
            "1"
        );
        assert_eq!(
            render(
                "{{ c.networks.not_matching(o)|map(attribute='name')|join }}",
                ctx
            ),
            "bridge"
        );
    }
}
