//! One `[[template]]` entry of a config file: its keys, their defaults (the command line's),
//! and the checks that concern the entry alone. Checks across entries (names, targets) are in
//! the parent module.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use super::fields::{Fields, Value, entries};
use crate::cli::values::{positive_seconds_of, seconds_of};
use crate::config::{Check, Dialect, Intervals, PerItem, SignalSpec, TemplateSpec, zero_is_off};
use crate::template::Source;

/// The keys of a `[[template]]` entry.
pub(super) const KEYS: [&str; 13] = [
    "name",
    "source",
    "inline",
    "target",
    "dialect",
    "restart",
    "signal",
    "interval",
    "repeat",
    "check",
    "check_timeout",
    "per_item",
    "mode",
];

/// A valid entry, with what the checks across entries need.
pub(super) struct Entry {
    /// The template's settings.
    pub(super) spec: TemplateSpec,
    /// The line of the entry's `[[template]]` header.
    pub(super) line: usize,
    /// Whether the name was given (`name`) rather than taken from the target.
    pub(super) named: bool,
    /// The entry's key in problems: `template[N]`.
    pub(super) key: String,
}

/// What an entry's keys gave, before the checks that need several keys.
///
/// Each field is `None` (or empty) when the key is absent or its value has a problem; the
/// ranges are the values' places, for the problems that need several keys.
#[derive(Default)]
struct Keys {
    /// `name`.
    name: Option<String>,
    /// `source` or `inline`, as `TemplateSpec::source` holds it, and the place of its key.
    source: Option<(String, Range<usize>)>,
    /// `target`; `Some(None)` for standard output (`"-"`).
    target: Option<Option<PathBuf>>,
    /// `dialect`.
    dialect: Option<Dialect>,
    /// `restart`.
    restart: Vec<String>,
    /// `signal`, the valid pairs.
    signal: Vec<SignalSpec>,
    /// `interval`.
    intervals: Option<Intervals>,
    /// `repeat`; also `None` for `repeat = 0`.
    repeat: Option<Duration>,
    /// `check` and its place.
    check: Option<(String, Range<usize>)>,
    /// `check_timeout` and its place.
    check_timeout: Option<(Duration, Range<usize>)>,
    /// `per_item` and its place.
    per_item: Option<(PerItem, Range<usize>)>,
    /// `mode` and its place.
    mode: Option<(u32, Range<usize>)>,
}

/// Reads the entry `value`, the `index`th (from 1), with the command line's `defaults`; `None`
/// when it has a problem (recorded in `fields`).
pub(super) fn entry(
    fields: &mut Fields,
    index: usize,
    value: &Value<'_>,
    defaults: &TemplateSpec,
) -> Option<Entry> {
    let prefix = format!("template[{index}]");
    let line = fields.line(value.span().start);
    let table = fields.table(&prefix, value)?;
    let before = fields.count();
    let mut keys = Keys::default();
    for (name, span, value) in entries(table) {
        let key = format!("{prefix}.{name}");
        read_key(fields, &mut keys, name, &key, span, value);
    }
    let target = keys.target.clone().unwrap_or(None);
    let stdout = target.is_none();
    let header = value.span();
    if keys.source.is_none() && fields.count() == before {
        fields.problem(
            header.clone(),
            &prefix,
            "no template: give `source` (a file or URL) or `inline` (the text)",
        );
    }
    if let Some((_, span)) = &keys.per_item {
        match &target {
            None => fields.problem(
                span.clone(),
                &format!("{prefix}.per_item"),
                "per_item needs a `target` file pattern holding {name}, not standard output",
            ),
            Some(path)
                if !path
                    .file_name()
                    .is_some_and(|f| f.to_string_lossy().contains("{name}")) =>
            {
                fields.problem(
                    span.clone(),
                    &format!("{prefix}.per_item"),
                    format!(
                        "the target {} must hold {{name}} in its file name (not its folder), \
                         replaced by each item's name",
                        path.display()
                    ),
                )
            }
            Some(_) => {}
        }
    }
    for (what, span) in [
        ("check", keys.check.as_ref().map(|c| &c.1)),
        ("mode", keys.mode.as_ref().map(|m| &m.1)),
    ] {
        if let (Some(span), true) = (span, stdout) {
            let message = format!("{what} needs a `target` file; this entry prints to stdout");
            fields.problem(span.clone(), &format!("{prefix}.{what}"), message);
        }
    }
    if let (Some((_, span)), None) = (&keys.check_timeout, &keys.check) {
        let message = "check_timeout without a `check` command";
        fields.problem(span.clone(), &format!("{prefix}.check_timeout"), message);
    }
    if fields.count() != before {
        return None;
    }
    let (source, _) = keys.source?;
    Some(Entry {
        named: keys.name.is_some(),
        spec: TemplateSpec {
            name: keys
                .name
                .unwrap_or_else(|| TemplateSpec::default_name(target.as_ref())),
            source,
            dialect: keys.dialect.unwrap_or_default(),
            target,
            restart: keys.restart,
            signal: keys.signal,
            intervals: keys.intervals.unwrap_or(defaults.intervals),
            repeat: keys.repeat.or(defaults.repeat),
            check: keys.check.map(|(command, _)| Check {
                command,
                timeout: keys
                    .check_timeout
                    .map_or(Check::DEFAULT_TIMEOUT, |(timeout, _)| timeout),
            }),
            per_item: keys.per_item.map(|(per_item, _)| per_item),
            mode: keys.mode.map(|(mode, _)| mode),
            docker_gen: None,
        },
        line,
        key: prefix,
    })
}

/// Reads the key `name` (shown as `key`) of an entry into `keys`.
fn read_key(
    fields: &mut Fields,
    keys: &mut Keys,
    name: &str,
    key: &str,
    span: Range<usize>,
    value: &Value<'_>,
) {
    match name {
        "name" => keys.name = fields.word(key, value),
        "source" | "inline" => {
            if keys.source.is_some() {
                let message = "give either `source` or `inline`, not both";
                fields.problem(span, key, message);
                return;
            }
            keys.source = source(fields, name, key, value).map(|s| (s, span));
        }
        "target" => {
            keys.target = fields.word(key, value).map(|target| match target.as_str() {
                "-" => None,
                path => Some(fields.resolve(path)),
            });
        }
        "dialect" => {
            keys.dialect = match fields.string(key, value).as_deref() {
                Some("jinja") => Some(Dialect::Jinja),
                Some("go") => Some(Dialect::Go),
                Some(other) => {
                    let message =
                        format!("unknown dialect {other:?} (expected \"jinja\" or \"go\")");
                    fields.problem(value.span(), key, message);
                    None
                }
                None => None,
            }
        }
        "restart" => keys.restart = fields.words(key, value).unwrap_or_default(),
        "signal" => keys.signal = signals(fields, key, value),
        "interval" => keys.intervals = intervals(fields, key, value),
        "repeat" => {
            keys.repeat = fields.seconds(key, value, seconds_of).and_then(zero_is_off);
        }
        "check" => keys.check = fields.word(key, value).map(|c| (c, value.span())),
        "check_timeout" => {
            keys.check_timeout = fields
                .seconds(key, value, positive_seconds_of)
                .map(|t| (t, value.span()));
        }
        "per_item" => keys.per_item = per_item(fields, key, value).map(|p| (p, value.span())),
        "mode" => keys.mode = mode(fields, key, value).map(|m| (m, value.span())),
        _ => fields.unknown(span, key, &KEYS),
    }
}

/// `source` (a path, URL, or `#` + inline text, as `--template`) or `inline` (the text), as
/// [`TemplateSpec::source`] holds it; a relative path resolves against the file's folder.
fn source(fields: &mut Fields, name: &str, key: &str, value: &Value<'_>) -> Option<String> {
    if name == "inline" {
        return fields.string(key, value).map(|text| format!("#{text}"));
    }
    let given = fields.word(key, value)?;
    match Source::parse(&given) {
        Source::File(path) => {
            let resolved = fields.resolve(&path.to_string_lossy());
            match resolved.to_str() {
                Some(text) => Some(text.to_owned()),
                None => {
                    let message = format!(
                        "the path {} is not valid UTF-8; give it as an absolute path",
                        resolved.display()
                    );
                    fields.problem(value.span(), key, message);
                    None
                }
            }
        }
        Source::Inline(_) | Source::Url(_) => Some(given),
    }
}

/// `signal = [["CONTAINER", "SIGNAL"], ...]`.
fn signals(fields: &mut Fields, key: &str, value: &Value<'_>) -> Vec<SignalSpec> {
    let expected = "an array of [\"CONTAINER\", \"SIGNAL\"] pairs";
    let Some(pairs) = fields.array(key, value, expected) else {
        return Vec::new();
    };
    let mut specs = Vec::new();
    for pair in pairs {
        // A flat `["web", "HUP"]` would give one problem per item: one is enough.
        let Some(items) = fields.array(key, pair, "a [\"CONTAINER\", \"SIGNAL\"] pair") else {
            break;
        };
        let [container, signal] = items else {
            let message = format!(
                "expected a [\"CONTAINER\", \"SIGNAL\"] pair, found {} value(s)",
                items.len()
            );
            fields.problem(pair.span(), key, message);
            continue;
        };
        let (Some(container), Some(signal)) =
            (fields.word(key, container), fields.string(key, signal))
        else {
            continue;
        };
        match SignalSpec::new(container, &signal) {
            Ok(spec) => specs.push(spec),
            Err(crate::config::Error::UnknownSignal { target, signal }) => {
                let message = format!(
                    "unknown signal {signal:?} for {target:?} (expected a name such as HUP or \
                     SIGHUP, or a number from 1 to 64)"
                );
                fields.problem(pair.span(), key, message);
            }
            Err(err) => fields.invalid(pair.span(), key, "--signal", &err),
        }
    }
    specs
}

/// `interval = MIN` or `interval = [MIN, MAX]`, in seconds.
fn intervals(fields: &mut Fields, key: &str, value: &Value<'_>) -> Option<Intervals> {
    let seconds = |fields: &mut Fields, item: &Value<'_>| fields.seconds(key, item, seconds_of);
    let durations = match value.get_ref() {
        toml::de::DeValue::Array(items) => {
            if !(1..=2).contains(&items.len()) {
                let message = format!(
                    "expected [MIN] or [MIN, MAX], found {} value(s)",
                    items.len()
                );
                fields.problem(value.span(), key, message);
                return None;
            }
            let durations = items
                .iter()
                .filter_map(|item| seconds(fields, item))
                .collect::<Vec<_>>();
            (durations.len() == items.len()).then_some(durations)?
        }
        _ => vec![seconds(fields, value)?],
    };
    match Intervals::from_values_of("interval", &durations) {
        Ok(intervals) => Some(intervals),
        Err(err) => {
            fields.invalid(value.span(), key, "interval", &err);
            None
        }
    }
}

/// `per_item = "containers"` or `per_item = "label:NAME"`.
fn per_item(fields: &mut Fields, key: &str, value: &Value<'_>) -> Option<PerItem> {
    let text = fields.string(key, value)?;
    match text.strip_prefix("label:") {
        _ if text == "containers" => Some(PerItem::Containers),
        Some(label) if !label.is_empty() => Some(PerItem::Label(label.to_owned())),
        _ => {
            let message =
                format!("unknown per_item {text:?} (expected \"containers\" or \"label:NAME\")");
            fields.problem(value.span(), key, message);
            None
        }
    }
}

/// `mode = "0644"` (an octal string) or `mode = 0o644` (TOML's octal integer).
fn mode(fields: &mut Fields, key: &str, value: &Value<'_>) -> Option<u32> {
    let parsed = match value.get_ref() {
        toml::de::DeValue::String(text) => u32::from_str_radix(text, 8).ok(),
        toml::de::DeValue::Integer(int) if int.radix() == 8 => {
            u32::from_str_radix(int.as_str(), 8).ok()
        }
        toml::de::DeValue::Integer(int) => {
            let message = format!(
                "write the mode in octal, as \"0{int}\" or 0o{int} (a plain {int} is decimal)"
            );
            fields.problem(value.span(), key, message);
            return None;
        }
        _ => {
            fields.wrong_type(key, value, "an octal string such as \"0644\"");
            return None;
        }
    };
    match parsed {
        Some(mode) if mode <= 0o7777 => Some(mode),
        _ => {
            let message = "expected permission bits in octal, from \"0000\" to \"7777\"";
            fields.problem(value.span(), key, message);
            None
        }
    }
}
