//! docker-gen's `-event-filter`: the filters docker-gen hands to the daemon's `/events`, applied
//! here to the events of pygen's one shared feed with the daemon's own rules (its
//! `daemon/events/filter.go`): values of one key OR'd, keys AND'd; `event` and `type` exact
//! (`event` by prefix once `health_status`, `exec_create` or `exec_start` is among the values);
//! `container`, `network`, `volume`, `plugin`, `daemon`, `node`, `service`, `secret` and
//! `config` by prefix of the actor's ID or `name` attribute, whatever the event's type;
//! `image` exact on the ID or image name, with or without its tag; `label` as a list that must
//! all be present (`key` or `key=value`); `scope` exact.
//!
//! A key the daemon does not know is refused at startup ([`check`]), as is a `scope` other than
//! `local` or `swarm`. The feed carries container, network, service and node events only: a
//! filter that can pass nothing else is warned about at startup.

use super::settings::Error;
use crate::config::docker_gen::Filters;
use crate::docker::events::Event;

/// The keys the daemon's `/events` filter accepts.
pub const KEYS: [&str; 14] = [
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// The event types pygen's feed receives.
const FEED_TYPES: [&str; 4] = ["container", "network", "service", "node"];

/// The keys matched by prefix of the actor's ID or name.
const NAME_KEYS: [&str; 9] = [
    "config",
    "container",
    "daemon",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "volume",
];

/// Refuses a key the daemon does not accept (and a bad `scope`); returns warnings for filters
/// that pass no event pygen's feed carries.
pub fn check(filters: &Filters) -> Result<Vec<String>, Error> {
    for (key, values) in filters {
        if !KEYS.contains(&key.as_str()) {
            return Err(Error::EventFilter {
                item: format!("{key}={}", values.first().map_or("", String::as_str)),
                reason: format!(
                    "unknown filter key {key:?}; the daemon's event filters are {}",
                    KEYS.join(", ")
                ),
            });
        }
        if key == "scope"
            && let Some(bad) = values
                .iter()
                .find(|v| !matches!(v.as_str(), "local" | "swarm"))
        {
            return Err(Error::EventFilter {
                item: format!("scope={bad}"),
                reason: "the scope is local or swarm".to_owned(),
            });
        }
    }
    let mut warnings = Vec::new();
    if let Some(types) = filters.get("type")
        && !types.iter().any(|t| FEED_TYPES.contains(&t.as_str()))
    {
        warnings.push(format!(
            "-event-filter type={}: pygen's watch receives {} events only; no event will \
             trigger a render (the interval and SIGHUP still do)",
            types.join(","),
            FEED_TYPES.join(", ")
        ));
    }
    Ok(warnings)
}

/// Docker's `ExactMatch`: no values for `key`, or `source` is one of them.
fn exact(filters: &Filters, key: &str, source: &str) -> bool {
    filters
        .get(key)
        .is_none_or(|vs| vs.is_empty() || vs.iter().any(|v| v == source))
}

/// Docker's `FuzzyMatch`: [`exact`], or `source` starts with one of the values.
fn fuzzy(filters: &Filters, key: &str, source: &str) -> bool {
    exact(filters, key, source)
        || filters
            .get(key)
            .is_some_and(|vs| vs.iter().any(|v| source.starts_with(v.as_str())))
}

/// Docker's `FamiliarName` of an image reference: no tag or digest, no `docker.io/library/`.
fn strip_tag(image: &str) -> &str {
    if image.is_empty() || image.chars().any(|c| c.is_ascii_uppercase()) {
        return image;
    }
    let name = image.split_once('@').map_or(image, |(n, _)| n);
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let name = match name[slash..].rfind(':') {
        Some(i) => &name[..slash + i],
        None => name,
    };
    let name = name.strip_prefix("docker.io/").unwrap_or(name);
    name.strip_prefix("library/").unwrap_or(name)
}

/// Whether `event` passes docker-gen's event filters as the daemon would apply them.
pub fn matches(filters: &Filters, event: &Event) -> bool {
    let action = event.action.as_deref().unwrap_or_default();
    let typ = event.typ.as_ref().map(|t| t.as_str()).unwrap_or_default();
    let scope = event.scope.as_deref().unwrap_or_default();
    let id = event
        .actor
        .as_ref()
        .and_then(|a| a.id.as_deref())
        .unwrap_or_default();
    let attrs = event.actor.as_ref().and_then(|a| a.attributes.as_ref());
    let attr = |k: &str| attrs.and_then(|a| a.get(k)).map(String::as_str);
    let fuzzy_event = filters.get("event").is_some_and(|vs| {
        vs.iter()
            .any(|v| matches!(v.as_str(), "health_status" | "exec_create" | "exec_start"))
    });
    let event_ok = if fuzzy_event {
        fuzzy(filters, "event", action)
    } else {
        exact(filters, "event", action)
    };
    let name = attr("name").unwrap_or_default();
    let names_ok = NAME_KEYS
        .iter()
        .all(|key| fuzzy(filters, key, id) || fuzzy(filters, key, name));
    let image_name = attr(if typ == "image" { "name" } else { "image" }).unwrap_or_default();
    let image_ok = [id, image_name, strip_tag(id), strip_tag(image_name)]
        .iter()
        .any(|source| exact(filters, "image", source));
    let labels_ok = filters.get("label").is_none_or(|vs| {
        vs.iter().all(|v| match v.split_once('=') {
            Some((k, val)) => attr(k) == Some(val),
            None => attr(v).is_some(),
        })
    });
    let scope_ok = !filters.contains_key("scope") || exact(filters, "scope", scope);
    event_ok && exact(filters, "type", typ) && scope_ok && names_ok && image_ok && labels_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::events::EventType;
    use crate::docker::events::test_event;

    fn event(typ: EventType, action: &str, attrs: &[(&str, &str)]) -> Event {
        Event {
            scope: Some("local".to_owned()),
            ..test_event(typ, action, "0123456789abcdef", attrs)
        }
    }

    fn filters(items: &[(&str, &[&str])]) -> Filters {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    const CONTAINER: EventType = EventType::Container;
    const NETWORK: EventType = EventType::Network;
    const SERVICE: EventType = EventType::Service;

    #[test]
    fn events_and_types_as_the_daemon_matches_them() {
        let f = filters(&[(
            "event",
            &["start", "stop", "die", "health_status", "connect"],
        )]);
        assert!(matches(&f, &event(CONTAINER, "start", &[])));
        assert!(matches(
            &f,
            &event(CONTAINER, "health_status: healthy", &[])
        ));
        assert!(matches(&f, &event(NETWORK, "connect", &[])));
        assert!(!matches(&f, &event(CONTAINER, "create", &[])));
        // Without health_status among the values, actions match exactly.
        let f = filters(&[("event", &["exec"])]);
        assert!(!matches(&f, &event(CONTAINER, "exec_start: sh", &[])));
        let f = filters(&[("type", &["container"]), ("container", &["web"])]);
        assert!(matches(&f, &event(CONTAINER, "x", &[("name", "web-1")])));
        assert!(!matches(&f, &event(CONTAINER, "x", &[("name", "other")])));
        assert!(!matches(&f, &event(NETWORK, "x", &[("name", "web")])));
        // By ID prefix too.
        let f = filters(&[("container", &["0123"])]);
        assert!(matches(&f, &event(CONTAINER, "x", &[])));
    }

    #[test]
    fn labels_must_all_match() {
        let f = filters(&[("event", &["start"]), ("label", &["a=1", "b"])]);
        assert!(matches(
            &f,
            &event(CONTAINER, "start", &[("a", "1"), ("b", "")])
        ));
        assert!(!matches(&f, &event(CONTAINER, "start", &[("a", "1")])));
        assert!(!matches(
            &f,
            &event(CONTAINER, "start", &[("a", "2"), ("b", "x")])
        ));
    }

    #[test]
    fn the_other_keys_of_the_daemon() {
        // image: with or without the tag, on the container's image attribute.
        let f = filters(&[("image", &["nginx"])]);
        assert!(matches(
            &f,
            &event(CONTAINER, "start", &[("image", "nginx:1.27")])
        ));
        assert!(matches(
            &f,
            &event(
                CONTAINER,
                "start",
                &[("image", "docker.io/library/nginx:1.27")]
            )
        ));
        assert!(!matches(
            &f,
            &event(CONTAINER, "start", &[("image", "nginx-proxy:1")])
        ));
        // service, node, volume...: a prefix of the actor's ID or name, whatever the type.
        let f = filters(&[("service", &["front"])]);
        assert!(matches(
            &f,
            &event(SERVICE, "update", &[("name", "frontend")])
        ));
        assert!(!matches(&f, &event(SERVICE, "update", &[("name", "back")])));
        let f = filters(&[("volume", &["data"])]);
        assert!(!matches(&f, &event(CONTAINER, "start", &[("name", "web")])));
        // scope: exact.
        let f = filters(&[("scope", &["swarm"])]);
        assert!(!matches(&f, &event(CONTAINER, "start", &[])));
        let f = filters(&[("scope", &["local"])]);
        assert!(matches(&f, &event(CONTAINER, "start", &[])));
    }

    #[test]
    fn unknown_keys_are_refused_and_unseen_types_warned() {
        let err = check(&filters(&[("colour", &["red"])])).expect_err("unknown key");
        let text = err.to_string();
        assert!(
            text.contains("colour=red") && text.contains("unknown filter key"),
            "{text}"
        );
        let err = check(&filters(&[("scope", &["global"])])).expect_err("bad scope");
        assert!(err.to_string().contains("scope=global"), "{err}");
        for key in KEYS {
            check(&filters(&[(key, &["local"])])).expect("a key of the daemon");
        }
        let warnings = check(&filters(&[("type", &["volume"])])).expect("valid");
        assert!(warnings[0].contains("type=volume"), "{warnings:?}");
        assert!(
            check(&filters(&[("type", &["volume", "container"])]))
                .expect("valid")
                .is_empty()
        );
    }

    #[test]
    fn familiar_names() {
        assert_eq!(strip_tag("nginx:1.27"), "nginx");
        assert_eq!(strip_tag("docker.io/library/nginx"), "nginx");
        assert_eq!(
            strip_tag("reg.example:5000/team/app:2"),
            "reg.example:5000/team/app"
        );
        assert_eq!(strip_tag("app@sha256:abcd"), "app");
        assert_eq!(strip_tag("Bad:Name"), "Bad:Name");
    }
}
