//! `pygen check --config FILE`: the config file validated and every template in it loaded and
//! compiled, without the Docker daemon, for CI pipelines and before a reload. Every problem is
//! listed, one per line: `FILE:LINE: KEY: message` for the config file,
//! `FILE: template "NAME": TEMPLATE:LINE:COL: message` for a template.
//!
//! A Jinja template is compiled as the generator compiles it (its includes are read on first
//! render, so an include is not checked); a Go template (`dialect = "go"`) is parsed with
//! docker-gen's function map, which is what compiling it means in Go.

use std::any::Any;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::config::{Config, Dialect, TemplateSpec};
use crate::model::Snapshot;
use crate::report::describe;
use crate::template::{self, Compiled, LoadOptions, Source, Template, Unit};

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Every problem, one line each, in file order.
    pub problems: Vec<String>,
    /// How many templates the file holds (0 when the file itself has problems).
    pub templates: usize,
}

/// Checks the config file at `path` and every template it names. Template URLs are fetched
/// (with the file's `template_timeout` and `no_ssl_check`); the daemon is not contacted.
pub async fn check(path: &Path) -> Report {
    let config = match Config::from_file(path) {
        Ok(config) => config,
        Err(problems) => {
            return Report {
                problems: problems.iter().map(|p| describe(p)).collect(),
                templates: 0,
            };
        }
    };
    let options = LoadOptions {
        no_ssl_check: config.no_ssl_check,
        timeout: config.template_timeout,
    };
    let mut report = Report {
        problems: Vec::new(),
        templates: config.templates.len(),
    };
    for spec in &config.templates {
        if let Err(err) = compile(spec, &options).await {
            report.problems.push(format!(
                "{}: template {:?}: {}",
                path.display(),
                spec.name,
                describe(&err)
            ));
        }
    }
    report
}

/// Loads and compiles one template in its dialect.
async fn compile(spec: &TemplateSpec, options: &LoadOptions) -> Result<(), template::Error> {
    let source = Source::parse(&spec.source);
    match spec.dialect {
        Dialect::Jinja => Template::load(&source, options).await.map(drop),
        Dialect::Go => Template::load_in(&GoParse, &source, options)
            .await
            .map(drop),
    }
}

/// Go templates, parsed and not rendered: the check's view of the `go` dialect.
struct GoParse;

impl template::Dialect for GoParse {
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, template::Error> {
        let root = unit.folder.clone().unwrap_or_else(|| "/".into());
        // `eval` needs the parsed set only when a template runs; parsing leaves it empty.
        let slot = Arc::new(OnceLock::new());
        let mut parsed =
            gotmpl::Template::new(&unit.name).funcs(template::go::functions(&root, slot));
        match parsed.parse(&unit.text) {
            Ok(()) => Ok(Box::new(Parsed)),
            Err(err) => {
                let text = err.to_string();
                let (line, message) = go_location(&unit.name, &text);
                // The source repeats the message, so that the printed cause chain does not
                // show Go's text twice.
                Err(template::Error::Syntax {
                    name: unit.name,
                    line,
                    column: None,
                    source: message.clone().into(),
                    message,
                })
            }
        }
    }
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

/// A Go template that parsed; the check never renders it.
#[derive(Debug)]
struct Parsed;

impl Compiled for Parsed {
    fn render(&self, _snapshot: &Snapshot) -> Result<String, template::Error> {
        Err(template::Error::Render {
            name: "check".to_owned(),
            line: None,
            column: None,
            message: "`pygen check` parses Go templates without rendering them".to_owned(),
            source: "not rendered".into(),
        })
    }

    fn reads(&self, _variable: &str) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn go_templates_are_parsed_with_docker_gen_s_functions() {
        let options = LoadOptions::default();
        let good = Source::Inline(
            "{{ range $h, $c := groupByMulti $ \"Env.VIRTUAL_HOST\" \",\" }}{{ $h }}{{ end }}"
                .into(),
        );
        assert!(Template::load_in(&GoParse, &good, &options).await.is_ok());
        let bad = Source::Inline("line one\n{{ nosuchfunction . }}".into());
        let err = Template::load_in(&GoParse, &bad, &options)
            .await
            .expect_err("unknown function");
        let message = err.to_string();
        assert!(message.starts_with("inline:2: "), "{message}");
        assert!(message.contains("nosuchfunction"), "{message}");
    }
}
