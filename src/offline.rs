//! The subcommands that work on a saved state instead of a live loop: `pygen state` writes the
//! daemon's state as a dump, `pygen render --state` renders a template from one with no daemon
//! at all, so template authors can iterate away from a live host.

use std::path::PathBuf;

use crate::config::TemplateSpec;
use crate::docker::state::StateCache;
use crate::docker::swarm::{SwarmCache, Wants};
use crate::generator::{Error, StateDumpError, check_target_folder, render_job};
use crate::metrics::Metrics;
use crate::model::Snapshot;
use crate::template::{LoadOptions, Source, Template};
use crate::{docker, ownid};

/// `pygen state`: the daemon state that renders read, as JSON (with the Swarm's services,
/// tasks and nodes when the daemon is a Swarm manager).
pub async fn dump_state(docker_address: Option<&str>) -> Result<String, Error> {
    let raw = docker::connect::connect_negotiated(docker_address).await?;
    let mut cache = StateCache::new(ownid::detect());
    cache.full_sync(&raw).await?;
    let mut snapshot = cache.snapshot();
    let mut swarm = SwarmCache::new(Wants {
        services: true,
        nodes: true,
    });
    swarm
        .refresh(&raw, &Metrics::new())
        .await
        .map_err(Error::SwarmState)?;
    snapshot.swarm = swarm.snapshot();
    Ok(snapshot.to_dump())
}

/// `pygen render`: renders a template from a state dump, with no daemon at all.
pub async fn render_offline(
    state: &std::path::Path,
    source: &str,
    options: &LoadOptions,
    target: Option<&PathBuf>,
) -> Result<(), Error> {
    let template = Template::load(&Source::parse(source), options).await?;
    let dump_error = |source: StateDumpError| Error::StateDump {
        path: state.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(state).map_err(|e| dump_error(e.into()))?;
    let snapshot = Snapshot::from_dump(&text).map_err(|e| dump_error(e.into()))?;
    let spec = TemplateSpec::new(String::new(), target.cloned());
    check_target_folder(&spec.target)?;
    render_job(&spec, &template, &snapshot, &Metrics::new())?;
    Ok(())
}
