//! Jinja2 conformance: every case of `tests/jinja/*.cases` renders through pygen's real
//! template environment and must give, byte for byte, what Jinja2 3.1 gave under
//! docker-pygen's settings (recorded in `tests/jinja/expected.json` by
//! `scripts/record-jinja.sh`). Where Jinja2 raised, pygen must fail too (the message may
//! differ). Cases whose name ends in `-prop` have random output: they are checked against
//! a property of [`PROPERTIES`] instead of the recorded bytes.
//!
//! Case format (one file holds many cases):
//!
//! ```text
//! === case-name
//! data: {"x": 1}
//! ---
//! template text
//! ```
//!
//! `data:` (one line of JSON, optional) is the render context. The template runs up to the
//! newline before the next `=== ` line, or to the end of the file with one newline dropped.
//!
//! A case may bring other templates for `extends`, `include` and `import`: each starts with a
//! line `--- file: NAME` after the main template and runs up to the newline before the next
//! such line (or the end of the case). They are written as files into a fresh folder that
//! the main template includes from (Jinja2 loads them by name from a `DictLoader`).
//!
//! `JINJA_ALLOW_FAIL=1` reports failures without failing the test (for work in progress);
//! `JINJA_CASES_DIR=folder` runs the cases of another folder.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use minijinja::Value;
use pygen::template::Unit;
use pygen::template::jinja::JinjaTemplate;

/// One template case.
struct Case {
    /// Unique name across all case files.
    name: String,
    /// The file it comes from, for messages.
    file: String,
    /// The render context as JSON (an object), `{}` when the case has no `data:` line.
    data: String,
    /// The main template text.
    template: String,
    /// The other templates the case brings, as (name, text).
    files: Vec<(String, String)>,
}

/// What Jinja2 did with a case.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    /// The rendered output.
    out: Option<String>,
    /// `ExceptionClass: message` when Jinja2 raised.
    err: Option<String>,
}

/// A property the output of a `-prop` case must have.
type Property = fn(&str) -> bool;

/// The property each random (`-prop`) case is checked against.
const PROPERTIES: &[(&str, Property)] = &[
    ("random-choice-prop", |out| ["1", "2", "3"].contains(&out)),
    ("random-string-prop", |out| ["x", "y", "z"].contains(&out)),
    ("lipsum-plain-prop", |out| {
        lipsum_shape(out, 3, false, 20, 100)
    }),
    ("lipsum-prop", |out| lipsum_shape(out, 5, true, 20, 100)),
    ("lipsum-args-prop", |out| lipsum_shape(out, 2, false, 5, 10)),
    ("lipsum-html-prop", |out| {
        lipsum_shape(out, 1, true, 20, 100)
    }),
];

/// Whether `out` is `n` lipsum paragraphs (`<p>`-wrapped lines with `html`, else separated
/// by blank lines) of `min..max` words, each starting with a capital and ending with a dot.
fn lipsum_shape(out: &str, n: usize, html: bool, min: usize, max: usize) -> bool {
    let paragraphs: Vec<&str> = if html {
        out.split('\n')
            .map(|p| {
                p.strip_prefix("<p>")
                    .and_then(|p| p.strip_suffix("</p>"))
                    .unwrap_or("")
            })
            .collect()
    } else {
        out.split("\n\n").collect()
    };
    paragraphs.len() == n
        && paragraphs.iter().all(|p| {
            let words = p.split(' ').count();
            (min..max).contains(&words)
                && p.starts_with(|c: char| c.is_ascii_uppercase())
                && p.ends_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphabetic() || " ,.".contains(c))
        })
}

/// Cases allowed to differ from Jinja2, each with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "attr-filter",
        "`attr` on a plain dict reads its key: pygen cannot tell a template's dict from the \
         model's objects, whose attributes `attr` must read",
    ),
    (
        "last-of-map-error",
        "`map`, `select` and their kin give lists, so `last` works on them; Jinja2's \
         generators cannot be reversed and `last` raises",
    ),
    (
        "tpl-include-without-context",
        "minijinja always gives an included template the includer's context",
    ),
    (
        "tpl-import-without-context",
        "minijinja's imported macros always see the importer's render context",
    ),
];

/// The folder of the case files and `expected.json`: `tests/jinja`, or `JINJA_CASES_DIR`
/// (used by `scripts/jinja-upstream-suite.sh` for Jinja2's own test cases).
fn folder() -> PathBuf {
    match std::env::var_os("JINJA_CASES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jinja"),
    }
}

/// Splits one case file into its cases.
fn parse_cases(path: &Path) -> Vec<Case> {
    let file = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("case file names are UTF-8")
        .to_owned();
    let text = std::fs::read_to_string(path).expect("case file is readable UTF-8");
    assert!(
        text.starts_with("=== "),
        "{file}: must start with a `=== name` line"
    );
    let text = format!("\n{text}");
    let chunks: Vec<&str> = text.split("\n=== ").skip(1).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(index, chunk)| {
            let (header, body) = match chunk.split_once("\n---\n") {
                Some(parts) => parts,
                None => match chunk.strip_suffix("\n---") {
                    Some(header) => (header, ""),
                    None => panic!("{file}: case `{chunk}` has no `---` line"),
                },
            };
            let mut lines = header.split('\n');
            // `split` always yields at least one item.
            let name = lines.next().expect("first line").trim().to_owned();
            let mut data = "{}".to_owned();
            for line in lines {
                if let Some(json) = line.strip_prefix("data:") {
                    data = json.to_owned();
                } else {
                    assert!(
                        line.trim().is_empty(),
                        "{file}: case `{name}`: unexpected header line {line:?}"
                    );
                }
            }
            let mut body = body.to_owned();
            if index == last && body.ends_with('\n') {
                body.pop();
            }
            let (template, files) = split_files(&body);
            Case {
                name,
                file: file.clone(),
                data,
                template,
                files,
            }
        })
        .collect()
}

/// Splits a case's text into the main template and the (name, text) of its other files.
fn split_files(body: &str) -> (String, Vec<(String, String)>) {
    let text = format!("\n{body}");
    let mut parts = text.split("\n--- file: ");
    // `split` always yields at least one item, and the text starts with the added newline.
    let main = parts.next().expect("first part")[1..].to_owned();
    let files = parts
        .map(|part| {
            let (name, text) = part.split_once('\n').unwrap_or((part, ""));
            (name.trim().to_owned(), text.to_owned())
        })
        .collect();
    (main, files)
}

fn all_cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("tests/jinja exists")
        .map(|entry| entry.expect("tests/jinja is listable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "cases"))
        .collect();
    paths.sort();
    let cases: Vec<Case> = paths.iter().flat_map(|p| parse_cases(p)).collect();
    let mut names = HashSet::new();
    for case in &cases {
        assert!(
            names.insert(case.name.as_str()),
            "{}: duplicate case name {}",
            case.file,
            case.name
        );
    }
    cases
}

/// Renders a case as the generator would: compile, then render with the JSON context
/// (maps keep the order the engine gives them, as Jinja2's dicts keep the JSON's).
fn render(case: &Case) -> Result<String, String> {
    let context: Value = serde_json::from_str(&case.data)
        .map_err(|e| format!("bad data JSON in the case file: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a folder: {e}"))?;
    for (name, text) in &case.files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {name}: {e}"))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    JinjaTemplate::compile(Unit {
        name: "case".to_owned(),
        description: "inline template".to_owned(),
        text: case.template.clone(),
        folder: (!case.files.is_empty()).then(|| dir.path().to_path_buf()),
    })
    .and_then(|t| t.render(context))
    .map_err(|e| e.to_string())
}

/// Compares one case with Jinja2's outcome; `Err` says how it differs.
fn check(case: &Case, expected: Option<&Expected>) -> Result<(), String> {
    let Some(expected) = expected else {
        return Err("not recorded: run scripts/record-jinja.sh".to_owned());
    };
    let result = render(case);
    if case.name.ends_with("-prop") {
        let Some((_, property)) = PROPERTIES.iter().find(|(name, _)| *name == case.name) else {
            return Err("random case without an entry in PROPERTIES".to_owned());
        };
        return match result {
            Ok(out) if property(&out) => Ok(()),
            Ok(out) => Err(format!("property does not hold for {out:?}")),
            Err(e) => Err(format!("pygen failed: {e}")),
        };
    }
    match (&expected.out, &expected.err, result) {
        (Some(want), _, Ok(got)) if *want == got => Ok(()),
        (Some(want), _, Ok(got)) => Err(format!("Jinja2: {want:?}\n      pygen:  {got:?}")),
        (Some(want), _, Err(e)) => Err(format!("Jinja2: {want:?}\n      pygen failed: {e}")),
        (None, Some(_), Err(_)) => Ok(()),
        (None, Some(err), Ok(got)) => Err(format!(
            "Jinja2 raised {err}\n      pygen rendered: {got:?}"
        )),
        (None, None, _) => Err("expected.json entry has neither out nor err".to_owned()),
    }
}

#[test]
fn jinja_conformance() {
    let expected: BTreeMap<String, Expected> = serde_json::from_str(
        &std::fs::read_to_string(folder().join("expected.json")).expect("expected.json exists"),
    )
    .expect("expected.json is valid");
    let cases = all_cases();
    let mut failures = Vec::new();
    let mut known = 0;
    for case in &cases {
        let is_known = KNOWN_DIFFERENCES.iter().any(|(name, _)| *name == case.name);
        let result = check(case, expected.get(&case.name));
        if is_known && result.is_ok() {
            failures.push(format!(
                "{} ({}): renders as in Jinja2 now: take it out of KNOWN_DIFFERENCES",
                case.name, case.file
            ));
        }
        if let Err(why) = result {
            if is_known {
                known += 1;
            } else {
                failures.push(format!(
                    "{} ({}):\n      template: {:?}\n      {why}",
                    case.name, case.file, case.template
                ));
            }
        }
    }
    let names: HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    if std::env::var_os("JINJA_CASES_DIR").is_none() {
        let listed = PROPERTIES.iter().map(|(name, _)| name);
        for name in listed.chain(KNOWN_DIFFERENCES.iter().map(|(name, _)| name)) {
            assert!(names.contains(name), "listed case {name} does not exist");
        }
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    println!(
        "{} passed, {} failed, {known} known differences ({} cases)",
        cases.len() - failures.len() - known,
        failures.len(),
        cases.len()
    );
    if std::env::var_os("JINJA_ALLOW_FAIL").is_none_or(|v| v != "1") {
        assert!(
            failures.is_empty(),
            "{} cases differ from Jinja2",
            failures.len()
        );
    }
}
