//! One template's settings: where it comes from, where it goes, what runs after a change.
//!
//! The command line gives one [`TemplateSpec`] (`--template`, `--target`, `--restart`, …); a
//! config file gives one per `[[template]]` entry. The generator runs each through its own
//! renders, writes and notification timer, over one shared state cache.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::docker_gen::DockerGenOptions;
use super::{Intervals, SignalSpec};

/// The template language of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Jinja2, docker-pygen's language (the default).
    #[default]
    Jinja,
    /// Go's text/template with docker-gen's data and functions.
    Go,
}

impl Dialect {
    /// The name used in the config file and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Jinja => "jinja",
            Dialect::Go => "go",
        }
    }
}

/// A command that must accept the new content before it replaces the target (`check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The command line, run by `/bin/sh -c`; `{file}` is replaced by the path of the
    /// candidate file (shell-quoted).
    pub command: String,
    /// How long the command may run before it counts as failed.
    pub timeout: Duration,
}

impl Check {
    /// The default time a check may take.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
}

/// What one file per item renders over (`per_item`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerItem {
    /// One file per running container; `{name}` in the target is the container's name.
    Containers,
    /// One file per distinct value of this label among the running containers; `{name}` is
    /// the value, and the file's render sees the containers carrying it.
    Label(String),
}

/// One template: source, target, dialect and the notifications after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSpec {
    /// Short name in logs and in the metrics' `template` label: the entry's `name`, else the
    /// target's file name, else `stdout`.
    pub name: String,
    /// Template source as given: a path, an `http(s)://` URL or `#` + inline text.
    pub source: String,
    /// The template language.
    pub dialect: Dialect,
    /// File to write; `None` prints each render to standard output. With `per_item`, a pattern
    /// holding `{name}`.
    pub target: Option<PathBuf>,
    /// Restart targets, in order; never empty strings.
    pub restart: Vec<String>,
    /// Signal targets and their normalized signals, in order.
    pub signal: Vec<SignalSpec>,
    /// Batching of the actions after a change; zero in one-shot mode.
    pub intervals: Intervals,
    /// Delay of the one extra render after an event-driven update; `None` for no repeat.
    pub repeat: Option<Duration>,
    /// The command that must accept new content before it is written.
    pub check: Option<Check>,
    /// One file per item instead of one target.
    pub per_item: Option<PerItem>,
    /// Permission bits of the written file (`mode`); `None` keeps the target's own, or the
    /// default for a new file.
    pub mode: Option<u32>,
    /// A docker-gen config served as a job (`pygen docker-gen`): its template set, daemon-side
    /// container filters, events, `-wait`, `-interval` and notifications, which replace the
    /// entry's own; `None` for pygen's entries.
    pub docker_gen: Option<Arc<DockerGenOptions>>,
}

impl TemplateSpec {
    /// A template from `source` to `target` with nothing else set: no actions, no check, no
    /// batching (what `pygen render` and tests use).
    pub fn new(source: String, target: Option<PathBuf>) -> TemplateSpec {
        TemplateSpec {
            name: TemplateSpec::default_name(target.as_ref()),
            source,
            dialect: Dialect::Jinja,
            target,
            restart: Vec::new(),
            signal: Vec::new(),
            intervals: Intervals::IMMEDIATE,
            repeat: None,
            check: None,
            per_item: None,
            mode: None,
            docker_gen: None,
        }
    }

    /// The default name of an entry writing to `target`: its file name, or `stdout`.
    pub fn default_name(target: Option<&PathBuf>) -> String {
        match target.and_then(|t| t.file_name()) {
            Some(name) => name.to_string_lossy().into_owned(),
            None => "stdout".to_owned(),
        }
    }

    /// Where the entry writes, for logs: the target path or `stdout`.
    pub fn target_description(&self) -> String {
        self.target
            .as_ref()
            .map_or_else(|| "stdout".to_owned(), |t| t.display().to_string())
    }
}
