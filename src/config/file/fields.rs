//! Reading typed values out of a parsed config file, each with its place: the file's tables
//! are walked by hand (not deserialized in one go) so that every problem is collected, not just
//! the first, and each names its line and key.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::super::Error;
use crate::cli::values::{ValueError, non_empty};

/// A value of the file with its byte range.
pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// The file being read and the problems found so far.
pub(super) struct Fields<'a> {
    /// The config file, for the problems.
    path: &'a Path,
    /// Its text, to turn byte offsets into lines.
    text: &'a str,
    /// The folder relative paths in the file resolve against (the file's own, absolute).
    folder: PathBuf,
    /// Every problem found, in the order found.
    problems: Vec<Error>,
}

impl<'a> Fields<'a> {
    /// Starts reading `text`, the content of `path`.
    pub(super) fn new(path: &'a Path, text: &'a str, folder: PathBuf) -> Fields<'a> {
        Fields {
            path,
            text,
            folder,
            problems: Vec::new(),
        }
    }

    /// The 1-based line of byte `offset`.
    pub(super) fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// Records a problem of `key` at the place `span`.
    pub(super) fn problem(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let line = Some(self.line(span.start));
        self.push(line, key, message.into());
    }

    /// Records a problem of `key` on `line` (`None`: the file as a whole).
    pub(super) fn push(&mut self, line: Option<usize>, key: &str, message: String) {
        self.problems.push(Error::File {
            path: self.path.to_path_buf(),
            line,
            key: key.to_owned(),
            message,
        });
    }

    /// How many problems were found so far.
    pub(super) fn count(&self) -> usize {
        self.problems.len()
    }

    /// The problems, sorted by line (problems of the whole file last).
    pub(super) fn into_problems(mut self) -> Vec<Error> {
        self.problems.sort_by_key(|problem| match problem {
            Error::File { line, .. } => line.unwrap_or(usize::MAX),
            _ => usize::MAX,
        });
        self.problems
    }

    /// Records a validation error of `key`, told by a validator that names the value `flag`;
    /// its message loses that leading name, which the problem's key already gives.
    pub(super) fn invalid(&mut self, span: Range<usize>, key: &str, flag: &str, err: &Error) {
        let text = err.to_string();
        let message = text
            .strip_prefix(flag)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&text);
        self.problem(span, key, message.to_owned());
    }

    /// Records that `value` is not of the `expected` kind.
    pub(super) fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str) {
        let found = value.get_ref().type_str();
        self.problem(
            value.span(),
            key,
            format!("expected {expected}, found {found}"),
        );
    }

    /// Records an unknown key of a table, with the keys that table takes.
    pub(super) fn unknown(&mut self, span: Range<usize>, key: &str, known: &[&str]) {
        self.problem(
            span,
            key,
            format!("unknown key (expected one of: {})", known.join(", ")),
        );
    }

    /// A string.
    pub(super) fn string(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    /// A string that is not empty.
    pub(super) fn word(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        let text = self.string(key, value)?;
        match non_empty(&text) {
            Ok(text) => Some(text),
            Err(err) => {
                self.problem(value.span(), key, err.to_string());
                None
            }
        }
    }

    /// A boolean.
    pub(super) fn boolean(&mut self, key: &str, value: &Value<'_>) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, value, "true or false");
                None
            }
        }
    }

    /// An integer in `range`.
    pub(super) fn integer(
        &mut self,
        key: &str,
        value: &Value<'_>,
        range: Range<i64>,
    ) -> Option<i64> {
        let DeValue::Integer(int) = value.get_ref() else {
            self.wrong_type(key, value, "an integer");
            return None;
        };
        match i64::from_str_radix(int.as_str(), int.radix()) {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.problem(
                    value.span(),
                    key,
                    format!(
                        "{int} is out of range (expected {} to {})",
                        range.start,
                        range.end - 1
                    ),
                );
                None
            }
        }
    }

    /// A number, integer or float.
    pub(super) fn number(&mut self, key: &str, value: &Value<'_>) -> Option<f64> {
        let parsed = match value.get_ref() {
            // Integers too large for i64 are not seconds anyone means; f64 takes the rest.
            DeValue::Integer(int) => i64::from_str_radix(int.as_str(), int.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(float) => float.as_str().parse::<f64>().ok(),
            _ => {
                self.wrong_type(key, value, "a number of seconds");
                return None;
            }
        };
        if parsed.is_none() {
            self.problem(value.span(), key, "the number is out of range");
        }
        parsed
    }

    /// A number of seconds, checked by `validate`: one of the command line's value checks in
    /// [`crate::cli::values`] (`seconds_of`, `positive_seconds_of`).
    pub(super) fn seconds(
        &mut self,
        key: &str,
        value: &Value<'_>,
        validate: fn(f64) -> Result<Duration, ValueError>,
    ) -> Option<Duration> {
        let number = self.number(key, value)?;
        match validate(number) {
            Ok(duration) => Some(duration),
            Err(err) => {
                self.problem(value.span(), key, err.to_string());
                None
            }
        }
    }

    /// An array (of anything).
    pub(super) fn array<'v, 'i>(
        &mut self,
        key: &str,
        value: &'v Value<'i>,
        expected: &str,
    ) -> Option<&'v [Value<'i>]> {
        match value.get_ref() {
            DeValue::Array(items) => Some(&items[..]),
            _ => {
                self.wrong_type(key, value, expected);
                None
            }
        }
    }

    /// An array of non-empty strings.
    pub(super) fn words(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<String>> {
        let items = self.array(key, value, "an array of strings")?;
        let before = self.count();
        let words = items
            .iter()
            .filter_map(|item| self.word(key, item))
            .collect();
        (self.count() == before).then_some(words)
    }

    /// A table.
    pub(super) fn table<'v, 'i>(
        &mut self,
        key: &str,
        value: &'v Value<'i>,
    ) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.wrong_type(key, value, "a table");
                None
            }
        }
    }

    /// A file path; a relative one resolves against the config file's folder.
    pub(super) fn path(&mut self, key: &str, value: &Value<'_>) -> Option<PathBuf> {
        self.word(key, value).map(|path| self.resolve(&path))
    }

    /// `path` resolved against the config file's folder, `.` and `..` taken out.
    pub(super) fn resolve(&self, path: &str) -> PathBuf {
        normalize(&self.folder.join(path))
    }
}

/// The entries of `table` in file order: key, the key's place, value.
pub(super) fn entries<'v, 'i>(
    table: &'v DeTable<'i>,
) -> Vec<(&'v str, Range<usize>, &'v Value<'i>)> {
    let mut entries = table
        .iter()
        .map(|(key, value)| (key.get_ref().as_ref(), key.span(), value))
        .collect::<Vec<_>>();
    entries.sort_by_key(|(_, span, _)| span.start);
    entries
}

/// `path` without `.` components and with each `..` taking out the component before it, as
/// far as the text goes (symbolic links are not followed).
pub(super) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            // The paths here are absolute: `..` above the root stays at the root.
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
