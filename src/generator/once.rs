//! `--one-shot`: one pass from the daemon's state to the target, then the actions if it changed.

use crate::actions::{self, Reach};
use crate::config::Config;
use crate::docker::state::StateCache;
use crate::docker::swarm::SwarmCache;
use crate::metrics::Metrics;
use crate::{docker, ownid};

use super::{
    Error, check_target_folder, load_template, plan, raw_client, render_and_write, swarm_wants,
};

/// Renders once from the daemon, writes the target if it changed, runs the actions if it did
/// (always in stdout mode, as docker-pygen does), and returns. An action that matched no
/// running container or failed is an error once all ran: a script must not take it for
/// success.
pub async fn one_shot(config: &Config) -> Result<(), Error> {
    let template = load_template(config).await?;
    check_target_folder(&config.templates[0].target)?;
    let docker = docker::connect::connect_negotiated(config.docker_address.as_deref()).await?;
    let raw = raw_client(config.docker_address.as_deref(), &docker)?;
    let mut cache = StateCache::new(ownid::detect());
    let stats = cache.full_sync(&raw).await?;
    tracing::debug!(
        containers = stats.inspected,
        ms = stats.duration.as_secs_f64() * 1e3,
        "state read"
    );
    let metrics = Metrics::new();
    let mut snapshot = cache.snapshot();
    let mut swarm = SwarmCache::new(swarm_wants(&template));
    if swarm.needs_refresh() {
        swarm
            .refresh(&raw, &metrics)
            .await
            .map_err(Error::SwarmState)?;
        snapshot.swarm = swarm.snapshot();
    }
    let changed = render_and_write(
        &template,
        &snapshot,
        config.templates[0].target.as_ref(),
        &metrics,
    )?;
    let plan = plan(config);
    if changed && !plan.is_empty() {
        let reach = Reach {
            services: Some(&raw),
            workers: None,
            own: None,
        };
        let report = actions::run_plan(&docker, &cache.running(), &plan, reach, &metrics).await;
        if report.unmatched > 0 || report.failed > 0 {
            return Err(Error::Actions {
                unmatched: report.unmatched,
                failed: report.failed,
            });
        }
    }
    Ok(())
}
