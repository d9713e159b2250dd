//! The Go dialect behind the template seam, for config file entries with `dialect = "go"`: a
//! docker-gen template compiled once and rendered over pygen's snapshot.
//!
//! The data is docker-gen's: the running containers (newest first) as `RuntimeContainer`s,
//! `.Env`, and `.Docker` with `CurrentContainerID` (the snapshot carries no `/info` or
//! `/version`, so the other `.Docker` fields are empty, and no network is marked internal).
//! Blank lines are removed, as docker-gen does without `-keep-blank-lines`; `exists`,
//! `include` and `dir` read real paths.
//!
//! [`GoSet`] is the same dialect for a `pygen docker-gen` config: a set of files, its own
//! blank-line rule, and [`render_context`] over the context the config's daemon-side list and
//! the daemon's `.Docker` make (see [`crate::dockergen::jobs`]).

use std::any::Any;
use std::path::{Path, PathBuf};

use super::{Context, Parsed, context};
use crate::model::Snapshot;
use crate::template::Template;
use crate::template::engine::{Compiled, Dialect, Error, Unit};

/// docker-gen's template language.
#[derive(Debug, Clone, Copy, Default)]
pub struct GoDialect;

impl Dialect for GoDialect {
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, Error> {
        GoSet::default().compile(unit)
    }
}

/// A docker-gen config's template set: the unit is the template executed, `others` are the
/// files that define templates it may call (docker-gen's `template = "a.tmpl;b.tmpl"`, each
/// named by its base name as Go's `ParseFiles` names them), and blank lines are kept or
/// removed as the config says.
#[derive(Debug, Clone, Default)]
pub struct GoSet {
    /// The other files of the set and their text.
    pub others: Vec<(PathBuf, String)>,
    /// `-keep-blank-lines`.
    pub keep_blank_lines: bool,
}

impl Dialect for GoSet {
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, Error> {
        let others: Vec<(String, String)> = self
            .others
            .iter()
            .map(|(path, text)| (base_name(path), text.clone()))
            .collect();
        let parsed = match Parsed::parse(&unit.text, &others, Path::new("/"), &unit.name) {
            Ok(parsed) => parsed,
            Err(err) => {
                let (line, message) = go_location(&unit.name, &err.to_string());
                // The source repeats the message, so that a printed cause chain does not show
                // Go's text twice.
                return Err(Error::Syntax {
                    name: unit.name,
                    line,
                    column: None,
                    source: message.clone().into(),
                    message,
                });
            }
        };
        let mut files: Vec<PathBuf> = unit
            .folder
            .map(|folder| folder.join(&unit.name))
            .into_iter()
            .collect();
        files.extend(self.others.iter().map(|(path, _)| path.clone()));
        Ok(Box::new(GoCompiled {
            parsed,
            name: unit.name,
            files,
            keep_blank_lines: self.keep_blank_lines,
        }))
    }
}

fn base_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Splits Go's `template: NAME:LINE: message` into the line and the message.
fn go_location(name: &str, text: &str) -> (Option<usize>, String) {
    let located = text
        .strip_prefix("template: ")
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(line, message)| Some((line.parse().ok()?, message)));
    match located {
        Some((line, message)) => (Some(line), message.to_owned()),
        None => (None, text.to_owned()),
    }
}

/// A parsed docker-gen template set.
struct GoCompiled {
    /// The parsed set (the template, the other files, what they define).
    parsed: Parsed,
    /// The template's name in messages.
    name: String,
    /// The files of the set that came from files (the executed one first).
    files: Vec<PathBuf>,
    /// Keep whitespace-only lines.
    keep_blank_lines: bool,
}

impl std::fmt::Debug for GoCompiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoCompiled")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Compiled for GoCompiled {
    fn render(&self, snapshot: &Snapshot) -> Result<String, Error> {
        self.parsed
            .execute(&context::from_snapshot(snapshot), self.keep_blank_lines)
            .map_err(|err| Error::Render {
                name: self.name.clone(),
                line: None,
                column: None,
                message: err.to_string(),
                source: Box::new(err),
            })
    }

    /// The Go data has no lazily built parts: every variable is always there.
    fn reads(&self, variable: &str) -> bool {
        !matches!(
            variable,
            "services" | "all_services" | "nodes" | "all_containers"
        )
    }

    fn files(&self) -> Vec<PathBuf> {
        self.files.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Renders a template of the Go dialect over a context built elsewhere (a docker-gen job's:
/// `.Docker` from the daemon, its own filtered container list), as docker-gen renders it;
/// `None` when `template` is of another dialect.
pub fn render_context(
    template: &Template,
    context: &Context,
) -> Option<Result<String, super::Error>> {
    let compiled = template.compiled().as_any().downcast_ref::<GoCompiled>()?;
    Some(compiled.parsed.execute(context, compiled.keep_blank_lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn renders_docker_gen_data_from_a_snapshot() {
        let json = serde_json::json!({
            "Id": "abc123", "Name": "/web", "Created": "2024-01-01T00:00:00Z",
            "State": {"Status": "running", "Running": true},
            "Config": {"Env": ["VIRTUAL_HOST=example.test"], "Image": "nginx:1.25"},
        });
        let container =
            crate::model::Container::from_inspect_json(&json.to_string()).expect("valid");
        let snapshot = Snapshot {
            containers: vec![Arc::new(container)],
            ..Snapshot::default()
        };
        let unit = Unit {
            name: "t.tmpl".to_owned(),
            description: "t.tmpl".to_owned(),
            text:
                "{{ range $ }}\n\n{{ .Name }} {{ .Env.VIRTUAL_HOST }} {{ .Image.Tag }}\n{{ end }}"
                    .to_owned(),
            folder: None,
        };
        let template = Template::compile(&GoDialect, unit).expect("parses");
        let out = template.render_snapshot(&snapshot).expect("renders");
        assert_eq!(out, "web example.test 1.25\n");
    }

    #[test]
    fn go_messages_are_split_into_line_and_text() {
        assert_eq!(
            go_location(
                "a.tmpl",
                "template: a.tmpl:3: function \"nope\" not defined"
            ),
            (Some(3), "function \"nope\" not defined".to_owned())
        );
        assert_eq!(
            go_location("a.tmpl", "something else"),
            (None, "something else".to_owned())
        );
    }

    #[test]
    fn a_syntax_error_names_the_template() {
        let unit = Unit {
            name: "bad.tmpl".to_owned(),
            description: "bad.tmpl".to_owned(),
            text: "{{ if }}".to_owned(),
            folder: None,
        };
        let err = Template::compile(&GoDialect, unit).expect_err("does not parse");
        assert!(err.to_string().contains("bad.tmpl"), "{err}");
    }
}
