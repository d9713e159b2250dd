//! `pygen state --redact-env`: a state dump without the values of environment variables, which
//! often hold passwords and tokens. Names stay, so templates that test for a variable still
//! render the same way; values become [`REDACTED`].
//!
//! Covered: every container's `Config.Env`, and in the `swarm` part every service's
//! `Spec.TaskTemplate.ContainerSpec.Env` and every task's `Spec.ContainerSpec.Env`.

use serde_json::Value;

/// What a redacted value reads.
pub const REDACTED: &str = "<redacted>";

/// The dump `json` with every environment value replaced by [`REDACTED`]; text that is not a
/// dump comes back unchanged.
pub fn redact_env(json: &str) -> String {
    let Ok(mut dump) = serde_json::from_str::<Value>(json) else {
        return json.to_owned();
    };
    let containers = match &mut dump {
        Value::Array(items) => Some(items),
        Value::Object(map) => match map.get_mut("containers") {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        },
        _ => None,
    };
    for container in containers.into_iter().flatten() {
        redact_at(container, &["Config", "Env"]);
    }
    if let Some(swarm) = dump.get_mut("swarm") {
        if let Some(Value::Array(services)) = swarm.get_mut("services") {
            for service in services {
                redact_at(service, &["Spec", "TaskTemplate", "ContainerSpec", "Env"]);
            }
        }
        if let Some(Value::Array(tasks)) = swarm.get_mut("tasks") {
            for task in tasks {
                redact_at(task, &["Spec", "ContainerSpec", "Env"]);
            }
        }
    }
    // Serializing a parsed value cannot fail.
    serde_json::to_string_pretty(&dump).unwrap_or_else(|_| json.to_owned())
}

/// Redacts the `NAME=value` strings of the array at `path` under `value`, if there is one.
fn redact_at(value: &mut Value, path: &[&str]) {
    let mut at = value;
    for key in path {
        match at.get_mut(*key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Array(items) = at {
        for item in items {
            if let Value::String(entry) = item {
                let name = entry.split_once('=').map_or(entry.as_str(), |(n, _)| n);
                *entry = format!("{name}={REDACTED}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_names_stay() {
        let dump = r#"{"version": 1, "own_container_id": null,
            "containers": [{"Id": "a", "Config": {"Env": ["DB_PASSWORD=hunter2", "PATH=/bin", "EMPTY"]}}],
            "swarm": {"services": [{"Spec": {"TaskTemplate": {"ContainerSpec": {"Env": ["TOKEN=t0k"]}}}}],
                      "tasks": [{"Spec": {"ContainerSpec": {"Env": ["TOKEN=t0k"]}}}], "nodes": []}}"#;
        let out = redact_env(dump);
        assert!(
            !out.contains("hunter2") && !out.contains("t0k") && !out.contains("/bin"),
            "{out}"
        );
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            value["containers"][0]["Config"]["Env"],
            serde_json::json!([
                "DB_PASSWORD=<redacted>",
                "PATH=<redacted>",
                "EMPTY=<redacted>"
            ])
        );
        assert_eq!(
            value["swarm"]["tasks"][0]["Spec"]["ContainerSpec"]["Env"],
            serde_json::json!(["TOKEN=<redacted>"])
        );
        assert_eq!(value["containers"][0]["Id"], "a");
    }

    #[test]
    fn a_redacted_dump_still_renders() {
        let dump = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sample-dump.json"
        ))
        .unwrap();
        let out = redact_env(&dump);
        let snapshot = super::super::Snapshot::from_dump(&out).expect("still a dump");
        assert_eq!(snapshot.containers.len(), 1);
        assert_eq!(snapshot.containers[0].env_var("PATH"), Some(REDACTED));
        assert_eq!(redact_env("not json"), "not json");
    }
}
