//! docker-gen's watch mode (`pygen docker-gen -watch` or `-interval`), started here because it
//! is the generator's event loop ([`super::watch`]) running docker-gen's configs as its jobs
//! ([`crate::dockergen::jobs`]): one event feed and one state cache serve them all (one inspect
//! per changed container however many configs). docker-gen mode itself stays below the
//! generator, holding the flags, settings and configs this loop runs. What is added here is
//! docker-gen's SIGHUP: logged and passed on (every config renders again) when some config
//! watches, ignored otherwise.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::Error;
use crate::dockergen::{Settings, jobs};
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;

/// Runs every config until `shutdown`: each renders after every (re)connect, watching ones on
/// docker-gen's events (debounced by their `-wait`), those with an `-interval` on its ticks
/// (always notifying), all of them on SIGHUP.
pub async fn watch(
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
    mut hangup: mpsc::UnboundedReceiver<()>,
) -> Result<(), Error> {
    let any_watch = settings.jobs.iter().any(|j| j.watch);
    let (reload, reloads) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if any_watch {
                tracing::info!("Received signal: hangup");
                if reload.send(()).is_err() {
                    break;
                }
            }
        }
    });
    super::watch(jobs::config(&settings), metrics, shutdown, reloads).await
}
