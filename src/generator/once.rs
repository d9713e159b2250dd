//! `--one-shot`: one pass from the daemon's state to every target, then the actions of the
//! templates whose target changed.

use crate::actions::{self, Reach};
use crate::config::Config;
use crate::docker::state::StateCache;
use crate::docker::swarm::SwarmCache;
use crate::metrics::Metrics;
use crate::report::describe;
use crate::{docker, ownid};

use super::job::{Job, Notification, kept, render_job};
use super::{Error, check_target_folders, load_template, swarm_wants};

/// Renders every template once from the daemon, writes each target that changed, runs the
/// actions of those that did (always in stdout mode, as docker-pygen does), and returns. One
/// template's failure does not keep the others from being written; the run then fails with
/// the first error. An action that matched no running container or failed is an error once
/// all ran: a script must not take it for success.
pub async fn one_shot(config: &Config) -> Result<(), Error> {
    let mut jobs = Vec::with_capacity(config.templates.len());
    for spec in &config.templates {
        let template = load_template(config, spec).await?;
        jobs.push(Job::new(spec.clone(), Some(template)));
    }
    check_target_folders(config)?;
    let raw = docker::connect::connect_negotiated(config.docker_address.as_deref()).await?;
    let mut cache = StateCache::new(ownid::detect());
    let stats = cache.full_sync(&raw).await?;
    tracing::debug!(
        containers = stats.inspected,
        ms = stats.duration.as_secs_f64() * 1e3,
        "state read"
    );
    let metrics = Metrics::new();
    let mut snapshot = cache.snapshot();
    let mut swarm = SwarmCache::new(swarm_wants(Job::templates(&jobs)));
    if swarm.needs_refresh() {
        swarm
            .refresh(&raw, &metrics)
            .await
            .map_err(Error::SwarmState)?;
        snapshot.swarm = swarm.snapshot();
    }
    let mut first_error = None;
    let (mut unmatched, mut failed) = (0, 0);
    for job in &jobs {
        let Some(template) = &job.template else {
            continue;
        };
        let changed = match render_job(&job.spec, template, &snapshot, &metrics) {
            Ok(changed) => changed,
            Err(err) => {
                if jobs.len() > 1 {
                    tracing::error!(template = %job.spec.name, "{}; {}", describe(&err), kept(&job.spec));
                }
                first_error.get_or_insert(err);
                continue;
            }
        };
        if let (true, Notification::Actions(plan)) = (changed, &job.plan)
            && !plan.is_empty()
        {
            let reach = Reach {
                services: Some(&raw),
                workers: None,
                own: None,
                swarm: None,
            };
            let report = actions::run_plan(&raw, &cache.running(), plan, reach, &metrics).await;
            unmatched += report.unmatched;
            failed += report.failed;
        }
    }
    if let Some(err) = first_error {
        return Err(err);
    }
    if unmatched > 0 || failed > 0 {
        return Err(Error::Actions { unmatched, failed });
    }
    Ok(())
}
