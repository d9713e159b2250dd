//! pygen's config file (`pygen --config pygen.toml`): global settings and any number of
//! `[[template]]` entries, read into the same [`Config`] the command line gives.
//!
//! The file is parsed with its places kept, then walked table by table, so that every problem
//! (syntax, unknown key, wrong type, bad value, two entries that clash) is reported at once,
//! each as an [`Error::File`] naming the file, line and key. Defaults are the command line's.
//! The keys are documented in `docs/config-file.md`.

mod entry;
mod fields;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::Parser;
use toml::de::DeTable;

use self::entry::Entry;
use self::fields::{Fields, Value, entries, normalize};
use super::{
    Config, Error, EventFilter, Intervals, ManagerConfig, SwarmAuth, TemplateSpec, TlsSettings,
    listen_addr, zero_is_off,
};
use crate::cli::values::{positive_seconds_of, seconds_of};
use crate::cli::{AuthArgs, Cli, RunArgs};
use crate::docker::connect;

/// The top-level keys.
const KEYS: [&str; 10] = [
    "events",
    "template_timeout",
    "no_ssl_check",
    "one_shot",
    "debug",
    "swarm_poll",
    "docker",
    "metrics",
    "swarm_manager",
    "template",
];

/// `FILE:LINE: KEY: message`, leaving out what is unknown.
pub(super) fn locate(path: &Path, line: Option<usize>, key: &str, message: &str) -> String {
    let place = match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    };
    if key.is_empty() {
        format!("{place}: {message}")
    } else {
        format!("{place}: {key}: {message}")
    }
}

impl Config {
    /// Reads and validates the config file at `path`. Every problem found is returned, each
    /// an [`Error::File`] (or one [`Error::ReadFile`]), in file order.
    ///
    /// `debug` is the file's `debug` key only; the binary adds `--debug`.
    pub fn from_file(path: &Path) -> Result<Config, Vec<Error>> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            vec![Error::ReadFile {
                path: path.to_path_buf(),
                source,
            }]
        })?;
        Config::from_text(path, &text)
    }

    /// Validates `text`, the content of the config file `path`; relative paths in it resolve
    /// against the file's folder.
    pub fn from_text(path: &Path, text: &str) -> Result<Config, Vec<Error>> {
        let absolute = normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        let folder = absolute
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        let mut fields = Fields::new(path, text, folder);
        let (document, syntax) = DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            for err in syntax {
                let line = err.span().map(|span| fields.line(span.start));
                fields.push(line, "", err.message().to_owned());
            }
            return Err(fields.into_problems());
        }
        match read(&mut fields, document.get_ref()) {
            Some(mut config) if fields.count() == 0 => {
                config.config_file = Some(absolute);
                Ok(config)
            }
            _ => Err(fields.into_problems()),
        }
    }
}

/// The command line's defaults: the main command's flags as clap fills them in.
fn defaults() -> RunArgs {
    // `--template` is the one required flag and is given: parsing cannot fail (the test
    // `defaults_are_the_command_line_s` runs this).
    Cli::try_parse_from(["pygen", "--template", "-"])
        .map(|cli| cli.run)
        .expect("the main command with --template parses")
}

/// Reads the whole document; `None` when something is missing (problems recorded).
fn read(fields: &mut Fields, root: &DeTable<'_>) -> Option<Config> {
    let defaults = defaults();
    let mut config = Config::from_args(&defaults).ok()?;
    // The command line's one template gives each entry's defaults.
    let template_defaults = config.templates.pop()?;
    let mut templates = None;
    let mut manager = None;
    for (name, span, value) in entries(root) {
        match name {
            "events" => {
                if let Some(events) = events(fields, value) {
                    config.events = events;
                }
            }
            "template_timeout" => {
                if let Some(timeout) = fields.seconds(name, value, positive_seconds_of) {
                    config.template_timeout = timeout;
                }
            }
            "no_ssl_check" => config.no_ssl_check = fields.boolean(name, value).unwrap_or(false),
            "one_shot" => config.one_shot = fields.boolean(name, value).unwrap_or(false),
            "debug" => config.debug = fields.boolean(name, value).unwrap_or(false),
            "swarm_poll" => {
                if let Some(poll) = fields.seconds(name, value, seconds_of) {
                    config.swarm_poll = zero_is_off(poll);
                }
            }
            "docker" => docker(fields, value, &mut config),
            "metrics" => config.metrics = metrics(fields, value, &defaults),
            "swarm_manager" => manager = Some((value, span)),
            "template" => templates = Some(value),
            _ => fields.unknown(span, name, &KEYS),
        }
    }
    if let Some((value, span)) = manager {
        if config.one_shot {
            let message = "the Swarm manager is not available in one-shot mode (one_shot = true)";
            fields.problem(span, "swarm_manager", message);
        }
        config.swarm = swarm_manager(fields, value, &defaults);
    }
    config.templates = templates_of(fields, templates, &template_defaults)?;
    if config.one_shot {
        for template in &mut config.templates {
            template.intervals = Intervals::IMMEDIATE;
            template.repeat = None;
        }
    }
    Some(config)
}

/// `events = ["start", ...]`; an empty array (or `["none"]`) watches no event.
fn events(fields: &mut Fields, value: &Value<'_>) -> Option<EventFilter> {
    let mut items = fields.words("events", value)?;
    if items.is_empty() {
        items.push("none".to_owned());
    }
    match EventFilter::new("events", &items) {
        Ok(filter) => Some(filter),
        Err(err) => {
            fields.invalid(value.span(), "events", "events", &err);
            None
        }
    }
}

/// The `[docker]` table: `address`, `tls_verify`, `cert_path`.
fn docker(fields: &mut Fields, value: &Value<'_>, config: &mut Config) {
    let Some(table) = fields.table("docker", value) else {
        return;
    };
    let mut tls = TlsSettings::default();
    for (name, span, value) in entries(table) {
        let key = format!("docker.{name}");
        match name {
            "address" => {
                let Some(address) = fields.word(&key, value) else {
                    continue;
                };
                // Only the address's form is checked here (the environment is not read): a
                // scheme or port that cannot work is a problem of the file.
                let env = connect::Env {
                    home: Some(PathBuf::from("/")),
                    ..connect::Env::default()
                };
                if let Err(err) = connect::plan(Some(&address), &env) {
                    fields.problem(value.span(), &key, err.to_string());
                }
                config.docker_address = Some(address);
            }
            "tls_verify" => tls.verify = fields.boolean(&key, value),
            "cert_path" => {
                tls.cert_path = fields
                    .path(&key, value)
                    .map(|path| path.to_string_lossy().into_owned());
            }
            _ => fields.unknown(span, &key, &["address", "tls_verify", "cert_path"]),
        }
    }
    config.docker_tls = tls;
}

/// The `[metrics]` table: `address` and `port` (0 turns the endpoint off).
fn metrics(fields: &mut Fields, value: &Value<'_>, defaults: &RunArgs) -> Option<SocketAddr> {
    let (mut address, mut port) = (defaults.metrics_address, defaults.metrics);
    if let Some(table) = fields.table("metrics", value) {
        for (name, span, value) in entries(table) {
            let key = format!("metrics.{name}");
            match name {
                "address" => address = ip(fields, &key, value).unwrap_or(address),
                "port" => port = port_of(fields, &key, value, 0).unwrap_or(port),
                _ => fields.unknown(span, &key, &["address", "port"]),
            }
        }
    }
    listen_addr(address, port)
}

/// An IP address given as a string.
fn ip(fields: &mut Fields, key: &str, value: &Value<'_>) -> Option<IpAddr> {
    let text = fields.string(key, value)?;
    match text.parse() {
        Ok(ip) => Some(ip),
        Err(_) => {
            let message = format!("{text:?} is not an IP address");
            fields.problem(value.span(), key, message);
            None
        }
    }
}

/// A port number from `lowest` to 65535.
fn port_of(fields: &mut Fields, key: &str, value: &Value<'_>, lowest: i64) -> Option<u16> {
    let port = fields.integer(key, value, lowest..65536)?;
    u16::try_from(port).ok()
}

/// The `[swarm_manager]` table: its presence turns the manager on.
fn swarm_manager(
    fields: &mut Fields,
    value: &Value<'_>,
    defaults: &RunArgs,
) -> Option<ManagerConfig> {
    let table = fields.table("swarm_manager", value)?;
    let before = fields.count();
    let mut workers = Vec::new();
    let mut retries = defaults.retries;
    let mut ip_address = defaults.manager_address;
    let mut port = defaults.swarm_manager_port;
    let mut auth = AuthArgs {
        swarm_secret_file: None,
        insecure_no_auth: false,
        insecure_no_auth_on_network: false,
    };
    let known = [
        "workers",
        "retries",
        "address",
        "port",
        "secret_file",
        "insecure_no_auth",
        "insecure_no_auth_on_network",
    ];
    for (name, span, value) in entries(table) {
        let key = format!("swarm_manager.{name}");
        match name {
            "workers" => workers = fields.words(&key, value).unwrap_or_default(),
            "retries" => {
                let max = i64::from(u32::MAX) + 1;
                retries = fields
                    .integer(&key, value, 0..max)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(retries);
            }
            "address" => ip_address = ip(fields, &key, value).unwrap_or(ip_address),
            "port" => port = port_of(fields, &key, value, 1).unwrap_or(port),
            "secret_file" => auth.swarm_secret_file = fields.path(&key, value),
            "insecure_no_auth" => {
                auth.insecure_no_auth = fields.boolean(&key, value).unwrap_or(false);
            }
            "insecure_no_auth_on_network" => {
                auth.insecure_no_auth_on_network = fields.boolean(&key, value).unwrap_or(false);
            }
            _ => fields.unknown(span, &key, &known),
        }
    }
    let span = value.span();
    if auth.swarm_secret_file.is_some() && auth.insecure_no_auth {
        let message = "secret_file and insecure_no_auth = true exclude each other";
        fields.problem(span.clone(), "swarm_manager", message);
    }
    if auth.insecure_no_auth_on_network && !auth.insecure_no_auth {
        let message = "insecure_no_auth_on_network needs insecure_no_auth = true";
        fields.problem(span.clone(), "swarm_manager", message);
    }
    let listen = SocketAddr::new(ip_address, port);
    let auth = match SwarmAuth::from_flags(&auth, listen) {
        Ok(auth) => auth,
        Err(Error::InsecureOnNetwork { listen }) => {
            let message = format!(
                "insecure_no_auth: the endpoint would listen on {listen}, open to other hosts; \
                 set insecure_no_auth_on_network = true too if that is meant, listen on \
                 127.0.0.1, or use a shared secret (secret_file or PYGEN_SWARM_SECRET)"
            );
            fields.problem(span, "swarm_manager", message);
            return None;
        }
        Err(err) => {
            fields.invalid(span, "swarm_manager", "--swarm-secret-file", &err);
            return None;
        }
    };
    (fields.count() == before).then_some(ManagerConfig {
        workers,
        retries,
        listen,
        auth,
    })
}

/// The `[[template]]` entries, checked against each other: at least one, no two with the same
/// name, no two writing the same file.
fn templates_of(
    fields: &mut Fields,
    value: Option<&Value<'_>>,
    defaults: &TemplateSpec,
) -> Option<Vec<TemplateSpec>> {
    let Some(value) = value else {
        let message = "no [[template]] entry: the file needs at least one".to_owned();
        fields.push(None, "template", message);
        return None;
    };
    let items = fields.array("template", value, "[[template]] entries")?;
    if items.is_empty() {
        let message = "no [[template]] entry: the file needs at least one";
        fields.problem(value.span(), "template", message);
        return None;
    }
    let before = fields.count();
    let entries: Vec<Entry> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| entry::entry(fields, i + 1, item, defaults))
        .collect();
    for (i, later) in entries.iter().enumerate() {
        let earlier = &entries[..i];
        let same_target = later.spec.target.as_ref().and_then(|target| {
            earlier
                .iter()
                .find(|e| e.spec.target.as_ref() == Some(target))
                .map(|first| (target, first))
        });
        if let Some((target, first)) = same_target {
            let message = format!(
                "writes {} like the entry on line {}: two entries cannot write the same file",
                target.display(),
                first.line
            );
            fields.push(Some(later.line), &format!("{}.target", later.key), message);
        }
        // A name taken from a target already reported says nothing more.
        let name_from_same_target = same_target.is_some() && !later.named;
        let same_name = earlier.iter().find(|e| e.spec.name == later.spec.name);
        if let (Some(first), false) = (same_name, name_from_same_target) {
            let how = if later.named {
                ""
            } else {
                " (taken from the target's file name; set `name` to tell them apart)"
            };
            let message = format!(
                "the name {:?} is used by the entry on line {} too{how}",
                later.spec.name, first.line
            );
            fields.push(Some(later.line), &format!("{}.name", later.key), message);
        }
    }
    (fields.count() == before).then(|| entries.into_iter().map(|e| e.spec).collect())
}

#[cfg(test)]
mod tests;
