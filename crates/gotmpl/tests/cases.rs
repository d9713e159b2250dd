//! Runs every recorded case file `tests/cases/NAME.json` against `NAME.expected.json`, the
//! outputs Go's `text/template` (with sprig's functions) produced for the same templates and
//! data: output byte-identical, errors with Go's exact text. A case with `manual_expect` is one
//! where Go 1.22+ differs from the recording Go version; it must render that text.

use std::collections::BTreeMap;
use std::path::Path;

use gotmpl::{FuncMap, Param, Signature, Template, Value};

#[derive(serde::Deserialize)]
struct CaseFile {
    data: serde_json::Value,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    tmpl: String,
    #[serde(default)]
    missingkey: Option<String>,
    #[serde(default)]
    manual_expect: Option<String>,
}

#[derive(serde::Deserialize)]
struct Expected {
    name: String,
    ok: bool,
    out: String,
    #[serde(default)]
    err: Option<String>,
}

/// The functions a case file runs with, as its recorder registered them: sprig's for the
/// files recorded by `scripts/record-go-cases.sh`; for the shared fixture (`fixture.json`),
/// only `dict`, `set`, `add`, `fail` and `join3` (a variadic test function joining its string
/// arguments with commas), so the builtin `slice` is not replaced by sprig's.
fn functions(file: &str) -> FuncMap {
    let sprig = gotmpl::sprig::funcs();
    let mut m = if file == "fixture.json" {
        let mut m = FuncMap::new();
        for name in ["dict", "set", "add", "fail"] {
            let f = sprig
                .get(name)
                .unwrap_or_else(|| panic!("sprig has {name}"))
                .clone();
            m.insert_function(name, f);
        }
        m
    } else {
        sprig
    };
    m.insert("join3", Signature::variadic(&[], Param::String), |args| {
        let parts: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
        Ok(Value::from(parts.join(",")))
    });
    m
}

/// Renders one case as the recorder does: (ok, out, "parse: ..."/"exec: ..." error).
fn run(case: &Case, data: &serde_json::Value, funcs: &FuncMap) -> (bool, String, Option<String>) {
    let mut t = Template::new(&case.name).funcs(funcs.clone());
    if let Some(mode) = &case.missingkey {
        t = match t.option(&format!("missingkey={mode}")) {
            Ok(t) => t,
            Err(e) => return (false, String::new(), Some(format!("option: {e}"))),
        };
    }
    if let Err(e) = t.parse(&case.tmpl) {
        return (false, String::new(), Some(format!("parse: {e}")));
    }
    let mut out = String::new();
    match t.execute_to(&mut out, &Value::from(data.clone())) {
        Ok(()) => (true, out, None),
        Err(e) => (false, out, Some(format!("exec: {e}"))),
    }
}

#[test]
fn recorded_cases() {
    // The sprig environment cases read this variable; the recorder sets it the same way.
    // SAFETY: set before any other thread of this test binary reads the environment.
    unsafe { std::env::set_var("GOTMPL_CASE_ENV", "from-env") };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(".json") && !n.ends_with(".expected.json")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    let mut failures = Vec::new();
    let mut total = 0;
    for f in &files {
        let cf: CaseFile =
            serde_json::from_str(&std::fs::read_to_string(f).expect("readable case file"))
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let exp_path = f.with_extension("expected.json");
        let expected: Vec<Expected> = serde_json::from_str(
            &std::fs::read_to_string(&exp_path)
                .unwrap_or_else(|e| panic!("{}: {e}", exp_path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", exp_path.display()));
        let funcs = functions(f.file_name().and_then(|n| n.to_str()).unwrap_or(""));
        let by_name: BTreeMap<&str, &Expected> =
            expected.iter().map(|e| (e.name.as_str(), e)).collect();
        let mut passed = 0;
        for case in &cf.cases {
            total += 1;
            let Some(exp) = by_name.get(case.name.as_str()) else {
                failures.push(format!(
                    "{}: {}: no recorded expectation",
                    f.display(),
                    case.name
                ));
                continue;
            };
            let got = run(case, &cf.data, &funcs);
            let want = match &case.manual_expect {
                Some(m) => (true, m.clone(), None),
                None => (exp.ok, exp.out.clone(), exp.err.clone()),
            };
            if got == want {
                passed += 1;
            } else {
                failures.push(format!(
                    "{}: {}\n  template: {:?}\n  want: {:?}\n  got:  {:?}",
                    f.file_name().and_then(|n| n.to_str()).unwrap_or(""),
                    case.name,
                    case.tmpl,
                    want,
                    got
                ));
            }
        }
        println!(
            "{}: {passed}/{} cases pass",
            f.file_name().and_then(|n| n.to_str()).unwrap_or(""),
            cf.cases.len()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
