//! The template seam with a second dialect: a small line-based engine defined here, far from
//! Jinja, plugs into `Template` and renders the model without any change to pygen.
//!
//! The "names" dialect: each line of the template is printed once per running container
//! (newest first) with `{name}` and `{id}` replaced; a line without a placeholder is printed
//! as it is; `{` without a known placeholder is a syntax error located at its line and column.

use std::any::Any;
use std::path::Path;

use pygen::model::Snapshot;
use pygen::template::{Compiled, Dialect, EngineError, Error, LoadOptions, Source, Template, Unit};

/// The "names" dialect.
struct Names;

/// A compiled "names" template: its lines.
#[derive(Debug)]
struct NamesTemplate {
    /// The template's lines, as written.
    lines: Vec<String>,
}

/// Why a "names" template does not compile.
#[derive(Debug)]
struct UnknownPlaceholder;

impl std::fmt::Display for UnknownPlaceholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unknown placeholder")
    }
}

impl std::error::Error for UnknownPlaceholder {}

impl Dialect for Names {
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, Error> {
        for (index, line) in unit.text.lines().enumerate() {
            let mut rest = line;
            let mut offset = 0;
            while let Some(at) = rest.find('{') {
                let tail = &rest[at..];
                let Some(known) = ["{name}", "{id}"].iter().find(|p| tail.starts_with(**p)) else {
                    let source: EngineError = Box::new(UnknownPlaceholder);
                    return Err(Error::Syntax {
                        name: unit.name,
                        line: Some(index + 1),
                        column: Some(offset + at + 1),
                        message: "unknown placeholder".to_owned(),
                        source,
                    });
                };
                offset += at + known.len();
                rest = &rest[at + known.len()..];
            }
        }
        Ok(Box::new(NamesTemplate {
            lines: unit.text.lines().map(str::to_owned).collect(),
        }))
    }
}

impl Compiled for NamesTemplate {
    fn render(&self, snapshot: &Snapshot) -> Result<String, Error> {
        let mut out = String::new();
        for line in &self.lines {
            if line.contains('{') {
                for container in snapshot.running() {
                    out.push_str(
                        &line
                            .replace("{name}", container.name())
                            .replace("{id}", container.short_id()),
                    );
                    out.push('\n');
                }
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        Ok(out)
    }

    fn reads(&self, _variable: &str) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn snapshot(name: &str) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let json = std::fs::read_to_string(path).expect("test data exists");
    Snapshot::from_dump(&json).expect("test data is a valid dump")
}

fn unit(name: &str, text: &str) -> Unit {
    Unit {
        name: name.to_owned(),
        description: format!("{name} (names dialect)"),
        text: text.to_owned(),
        folder: None,
    }
}

#[test]
fn a_second_dialect_renders_the_model() {
    let template = Template::compile(&Names, unit("upstreams", "# running\nserver {name};"))
        .expect("compiles");
    let out = template
        .render_snapshot(&snapshot("nginx-seven.json"))
        .expect("renders");
    let expected: String = std::iter::once("# running\n".to_owned())
        .chain(
            (1..=7)
                .rev()
                .map(|n| format!("server pygen-test-nginx-{n};\n")),
        )
        .collect();
    assert_eq!(out, expected);
    assert_eq!(template.source_description(), "upstreams (names dialect)");
    assert!(!template.uses_variable("services"));
    assert!(!template.uses_variable("all_containers"));
    assert!(template.compiled().as_any().is::<NamesTemplate>());
}

#[test]
fn the_same_snapshot_feeds_both_dialects() {
    let snapshot = snapshot("generator.json");
    let names = Template::compile(&Names, unit("names", "{id} {name}")).expect("compiles");
    let jinja = Template::from_text(
        "jinja",
        "{% for c in containers %}{{ c.short_id }} {{ c.name }}\n{% endfor %}".to_owned(),
    )
    .expect("compiles");
    let out = names.render_snapshot(&snapshot).expect("renders");
    assert!(!out.is_empty());
    assert_eq!(out, jinja.render_snapshot(&snapshot).expect("renders"));
}

#[test]
fn dialect_errors_carry_their_location() {
    let err = Template::compile(&Names, unit("bad.names", "ok {name}\nx {name} {nope}"))
        .expect_err("unknown placeholder");
    assert!(matches!(
        err,
        Error::Syntax {
            line: Some(2),
            column: Some(10),
            ..
        }
    ));
    assert_eq!(err.to_string(), "bad.names:2:10: unknown placeholder");
    let source = std::error::Error::source(&err).expect("the engine's error is the source");
    assert!(source.is::<UnknownPlaceholder>());
}

#[tokio::test]
async fn a_second_dialect_loads_files_like_jinja() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("list.names");
    std::fs::write(&path, "{name}\n").expect("writable");
    let template = Template::load_in(&Names, &Source::File(path.clone()), &LoadOptions::default())
        .await
        .expect("loads");
    assert_eq!(template.source_description(), path.display().to_string());
    let out = template
        .render_snapshot(&snapshot("nginx-seven.json"))
        .expect("renders");
    assert_eq!(out.lines().count(), 7);
    assert_eq!(out.lines().next(), Some("pygen-test-nginx-7"));
}
