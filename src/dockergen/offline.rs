//! `pygen render --state FILE --dialect go --template T`: a docker-gen template rendered from a
//! `pygen state` dump with no daemon, through the same data path as the live mode, so
//! template authors can iterate offline. The dump has no `/info`, `/version` or `/networks`:
//! `.Docker` holds only `CurrentContainerID` and no network is `Internal`. The containers are
//! the running ones, newest first (docker-gen's command-line default).

use std::path::{Path, PathBuf};

use super::{Error, pass};
use crate::model::Snapshot;
use crate::output::{self, WriteOutcome};
use crate::report::describe;
use crate::template::go::context;

/// Renders `template` over the dump at `state` to `target` (stdout when `None`).
pub fn render_state(state: &Path, template: &Path, target: Option<&Path>) -> Result<(), Error> {
    let dump_error = |reason: String| Error::StateDump {
        path: state.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(state).map_err(|e| dump_error(e.to_string()))?;
    let snapshot = Snapshot::from_dump(&text).map_err(|e| dump_error(describe(&e)))?;
    let ctx = context::from_snapshot(&snapshot);
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
