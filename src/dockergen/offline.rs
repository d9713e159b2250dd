//! `pygen render --state FILE --dialect go --template T`: a docker-gen template rendered from a
//! `pygen state` dump with no daemon, through the same data path as the live mode, so
//! template authors can iterate offline. The dump has no `/info`, `/version` or `/networks`:
//! `.Docker` holds only `CurrentContainerID` and no network is `Internal`. The containers are
//! the running ones, newest first (docker-gen's command-line default).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Error, context, pass};
use crate::model::Snapshot;
use crate::output::{self, WriteOutcome};
use crate::report::describe;
use crate::template::go::data::Docker;

/// Renders `template` over the dump at `state` to `target` (stdout when `None`).
pub fn render_state(state: &Path, template: &Path, target: Option<&Path>) -> Result<(), Error> {
    let dump_error = |reason: String| Error::StateDump {
        path: state.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(state).map_err(|e| dump_error(e.to_string()))?;
    let snapshot = Snapshot::from_dump(&text).map_err(|e| dump_error(describe(&e)))?;
    let internal = HashSet::new();
    let containers = snapshot
        .newest_first()
        .into_iter()
        .filter(|c| c.is_running())
        .filter_map(|c| serde_json::from_str(c.raw_json()).ok())
        .map(|inspect| std::sync::Arc::new(context::runtime_container(&inspect, &internal)))
        .collect();
    let docker = Docker {
        current_container_id: snapshot.own_container_id.clone().unwrap_or_default(),
        ..Docker::default()
    };
    let ctx = context::context(docker, containers);
    let content = pass::render_files(&[template.to_path_buf()], &ctx, false)?;
    match target {
        None => output::print_stdout(&content).map_err(|e| Error::Write(describe(&e))),
        Some(path) => match output::write_if_changed(path, &content) {
            Ok(WriteOutcome::Unchanged | WriteOutcome::Written { .. }) => Ok(()),
            Err(e) => Err(Error::Write(format!(
                "{}: {}",
                PathBuf::from(path).display(),
                describe(&e)
            ))),
        },
    }
}
