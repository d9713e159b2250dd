//! A Swarm node as pygen keeps it: parsed from one item of `GET /nodes`.

use serde_json::Value as Json;

use super::json::{Pairs, at, id_of, int, labels, text};

/// A Swarm node, parsed from one item of `GET /nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `ID`.
    pub(crate) id: Box<str>,
    /// `Spec.Name`, else `Description.Hostname`, else the short id.
    pub(crate) name: Box<str>,
    /// `Version.Index`.
    pub(crate) version: Option<i64>,
    /// `Status.State`: `ready`, `down`, …
    pub(crate) state: Box<str>,
    /// `Status.Addr`.
    pub(crate) address: Box<str>,
    /// `Description.Hostname`, `''` when unknown.
    pub(crate) hostname: Box<str>,
    /// `Spec.Role`: `manager` or `worker`.
    pub(crate) role: Box<str>,
    /// `Spec.Availability`: `active`, `pause`, `drain`.
    pub(crate) availability: Box<str>,
    /// `Spec.Labels`, sorted by key.
    pub(crate) labels: Pairs,
    /// `Description.Platform` (`OS`, `Architecture`), in the daemon's key order.
    pub(crate) platform: Pairs,
    /// `Description.Engine.EngineVersion`, `''` when unknown.
    pub(crate) engine_version: Box<str>,
    /// `ManagerStatus.Leader`: whether the node leads the managers.
    pub(crate) leader: bool,
    /// The node's JSON, compact.
    raw: Box<str>,
}

impl Node {
    /// Parses a node.
    pub(super) fn parse(value: &Json) -> Node {
        let id: Box<str> = id_of(value).into();
        let hostname = text(at(value, &["Description", "Hostname"]));
        let name = match text(at(value, &["Spec", "Name"])) {
            "" if !hostname.is_empty() => hostname,
            "" => id.get(..12).unwrap_or(&id),
            name => name,
        };
        let platform = at(value, &["Description", "Platform"])
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (Box::from(k.as_str()), Box::from(text(v))))
                    .collect()
            })
            .unwrap_or_default();
        Node {
            name: name.into(),
            version: int(at(value, &["Version", "Index"])),
            state: text(at(value, &["Status", "State"])).into(),
            address: text(at(value, &["Status", "Addr"])).into(),
            hostname: hostname.into(),
            role: text(at(value, &["Spec", "Role"])).into(),
            availability: text(at(value, &["Spec", "Availability"])).into(),
            labels: labels(at(value, &["Spec"]).get("Labels")).into(),
            platform,
            engine_version: text(at(value, &["Description", "Engine", "EngineVersion"])).into(),
            leader: at(value, &["ManagerStatus", "Leader"]).as_bool() == Some(true),
            raw: serde_json::to_string(value).unwrap_or_default().into(),
            id,
        }
    }

    /// The node id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The node's JSON, compact.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }
}
