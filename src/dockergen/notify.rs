//! docker-gen's notifications after a changed file, in its order: the `-notify` command (through
//! `/bin/sh -c`, with a time limit docker-gen does not have, its output logged as
//! `[cmd]: line` with `-notify-output`), then the signals to named containers
//! (`-notify-sighup`, `-notify-container`; `-1` restarts), then to the running containers that
//! match `-notify-filter`. A failure is logged; it never stops the others or the process.
//! Signals and restarts are counted as pygen's own mode counts them:
//! `pygen_actions_total{kind="signal"|"restart",outcome}` and the time of each in
//! `pygen_signal_action_seconds{target,signal}` (the signal's number as given) or
//! `pygen_restart_action_seconds{target}`.

use std::time::{Duration, Instant};

use crate::config::docker_gen::{Filters, Notify};
use crate::docker::raw::RawClient;
use crate::metrics::{ActionKind, Metrics, Outcome};
use crate::report::describe;

/// docker-gen's restart timeout for signal `-1`.
const RESTART_TIMEOUT_SECS: u32 = 10;

pub use crate::docker::raw::query_escape;

/// `GET /containers/json` with `filters` (all states when `all`); the IDs in the daemon's
/// order (newest first).
pub async fn list_ids(
    raw: &RawClient,
    filters: &Filters,
    all: bool,
) -> Result<Vec<String>, String> {
    let json = serde_json::to_string(filters).map_err(|e| e.to_string())?;
    let path = format!(
        "/containers/json?all={}&filters={}",
        u8::from(all),
        query_escape(&json)
    );
    let body = raw.get(&path).await.map_err(|e| describe(&e))?;
    let listed: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(listed
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.get("Id").and_then(|i| i.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Runs `command` through `/bin/sh -c`, bounded by `timeout`.
pub async fn run_command(command: &str, log_output: bool, timeout: Duration) {
    tracing::info!("Running '{command}'");
    let child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(timeout, child).await {
        Err(_) => tracing::error!(
            "Error running notify command: {command}: no exit within {} s; killed",
            timeout.as_secs_f64()
        ),
        Ok(Err(err)) => tracing::error!("Error running notify command: {command}, {err}"),
        Ok(Ok(out)) => {
            if !out.status.success() {
                tracing::error!("Error running notify command: {command}, {}", out.status);
            }
            if log_output {
                let text = [out.stdout, out.stderr].concat();
                for line in String::from_utf8_lossy(&text).lines() {
                    if !line.trim().is_empty() {
                        tracing::info!("[{command}]: {line}");
                    }
                }
            }
        }
    }
}

/// Sends `signal` to `container` (name or ID); `-1` restarts it. Counted in `metrics`.
pub async fn signal_container(docker: &RawClient, metrics: &Metrics, container: &str, signal: i64) {
    let started = Instant::now();
    let result = if signal == -1 {
        tracing::info!("Restarting container '{container}'");
        docker.restart(container, Some(RESTART_TIMEOUT_SECS)).await
    } else {
        tracing::info!("Sending container '{container}' signal '{signal}'");
        docker.kill(container, &signal.to_string()).await
    };
    let name = signal.to_string();
    let kind = if signal == -1 {
        ActionKind::Restart
    } else {
        ActionKind::Signal(&name)
    };
    let outcome = if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Error
    };
    metrics.action_finished(kind, container, outcome, started.elapsed());
    if let Err(err) = result {
        tracing::error!(
            "Error sending signal {signal} to container {container}: {}",
            describe(&err)
        );
    }
}

/// How `-notify-filter` reads as a metric target: `key=value` items joined by commas.
fn filter_target(filter: &Filters) -> String {
    filter
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every notification of one changed file, in docker-gen's order.
pub async fn notify(raw: &RawClient, notify: &Notify, timeout: Duration, metrics: &Metrics) {
    if let Some(command) = &notify.command {
        run_command(command, notify.output, timeout).await;
    }
    for (container, signal) in &notify.containers {
        signal_container(raw, metrics, container, *signal).await;
    }
    if !notify.filter.is_empty() {
        match list_ids(raw, &notify.filter, false).await {
            Ok(ids) if ids.is_empty() => {
                let name = notify.filter_signal.to_string();
                let kind = if notify.filter_signal == -1 {
                    ActionKind::Restart
                } else {
                    ActionKind::Signal(&name)
                };
                metrics.action_finished(
                    kind,
                    &filter_target(&notify.filter),
                    Outcome::NoMatch,
                    Duration::ZERO,
                );
            }
            Ok(ids) => {
                for id in ids {
                    signal_container(raw, metrics, &id, notify.filter_signal).await;
                }
            }
            Err(err) => tracing::error!("Error getting containers for -notify-filter: {err}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_filter_json() {
        assert_eq!(
            query_escape(r#"{"label":["a=b c"]}"#),
            "%7B%22label%22%3A%5B%22a%3Db%20c%22%5D%7D"
        );
        assert_eq!(query_escape("A-z_0.~"), "A-z_0.~");
    }
}
