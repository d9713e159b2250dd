//! A docker-gen config as the generator runs it: the values `pygen docker-gen` reads from its
//! flags or `[[config]]` entries ([`Job`]) and what the config adds to its template entry
//! ([`DockerGenOptions`]). They are plain settings, kept here with the other template settings
//! so a [`TemplateSpec`](super::TemplateSpec) can carry them without the configuration
//! depending on docker-gen mode; [`crate::dockergen`] builds them, and decides which events
//! they select and how they notify.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::Intervals;

/// Docker filters: key to values (values of one key OR'd, keys AND'd, as the daemon does).
pub type Filters = BTreeMap<String, Vec<String>>;

/// How to notify after a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    /// `-notify`: run through `/bin/sh -c`.
    pub command: Option<String>,
    /// `-notify-output`: log the command's output lines.
    pub output: bool,
    /// Containers (name or ID) and the signal each gets; `-1` restarts.
    pub containers: Vec<(String, i64)>,
    /// `-notify-filter`: running containers matching these filters get `filter_signal`.
    pub filter: Filters,
    /// The signal for `filter` matches.
    pub filter_signal: i64,
}

impl Notify {
    /// Whether nothing is to be notified.
    pub fn is_empty(&self) -> bool {
        self.command.is_none() && self.containers.is_empty() && self.filter.is_empty()
    }
}

/// One template to render (a CLI run or one `[[config]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The template files: the first is executed, the others define templates it may call.
    pub templates: Vec<PathBuf>,
    /// The file to write; `None` for stdout.
    pub dest: Option<PathBuf>,
    /// Re-render on events.
    pub watch: bool,
    /// The `-wait` debounce: a render follows `min` after the last event of a burst, and at
    /// the latest `max` after its first; `None` renders at each event.
    pub wait: Option<Intervals>,
    /// What to do after a change.
    pub notify: Notify,
    /// Which containers the template sees (daemon-side list filters).
    pub filters: Filters,
    /// Re-render and notify every so often, changed or not.
    pub interval: Option<Duration>,
    /// Keep whitespace-only lines.
    pub keep_blank_lines: bool,
}

/// What a docker-gen config adds to its template entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DockerGenOptions {
    /// The config: template files, dest, filters, watch, wait, interval, notifications.
    pub job: Job,
    /// docker-gen's event filters (`event=start,stop,die,health_status` plus `-event-filter`).
    pub events: Filters,
    /// The `-notify` command's time limit.
    pub notify_timeout: Duration,
}

impl DockerGenOptions {
    /// Whether the config renders on events (`-watch`).
    pub fn listens(&self) -> bool {
        self.job.watch
    }

    /// The render debounce (`-wait`): a quiet period restarted by every event, capped from the
    /// first of a burst; `None` renders at each event.
    pub fn wait(&self) -> Option<Intervals> {
        self.job.wait
    }

    /// The period of renders that always notify (`-interval`).
    pub fn interval(&self) -> Option<Duration> {
        self.job.interval
    }
}
