//! docker-gen's `toYaml`, `mustToYaml`, `fromYaml` and `mustFromYaml` against Go: every case of
//! `tests/data/docker-gen/yaml-cases.json` (maps, nesting, lists, strings that need quotes or
//! several lines, numbers, booleans, empty values, long lines, key order) must render as Go's
//! text/template with sprig and docker-gen's YAML functions (gopkg.in/yaml.v3) rendered it, as
//! `scripts/record-go-cases.sh` recorded it in `yaml-cases.expected.json`. A case that failed
//! in Go must fail here too (the error texts of the two YAML parsers differ).

use std::path::Path;

use pygen::template::go::{Context, RenderOptions, render_docker_gen};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    tmpl: String,
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Expected {
    name: String,
    ok: bool,
    out: String,
}

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/docker-gen")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn yaml_functions_match_go() {
    let cases: Cases = serde_json::from_str(&read("yaml-cases.json")).expect("the cases");
    let expected: Vec<Expected> =
        serde_json::from_str(&read("yaml-cases.expected.json")).expect("the recording");
    assert_eq!(cases.cases.len(), expected.len(), "record the cases again");
    let context = Context::default();
    let mut failures = Vec::new();
    for (case, want) in cases.cases.iter().zip(&expected) {
        assert_eq!(case.name, want.name, "record the cases again");
        let options = RenderOptions {
            name: case.name.clone(),
            keep_blank_lines: true,
        };
        let got = render_docker_gen(&case.tmpl, &context, Path::new("/"), &options);
        match (got, want.ok) {
            (Ok(out), true) if out == want.out => {}
            (Err(_), false) => {}
            (got, _) => failures.push(format!(
                "{}: {}\n  template: {}\n  Go:   {:?}\n  pygen: {:?}",
                case.name,
                if want.ok { "differs" } else { "Go failed" },
                case.tmpl,
                want.out,
                got.map_err(|e| e.to_string())
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Go:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
