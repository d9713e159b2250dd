//! Every recorded case template, cut at every character boundary, parses and executes without
//! panicking under the fuzz target's limits; and the limits stop runaway templates with an
//! error instead of hanging.

use std::path::Path;

use gotmpl::{Limits, Template, Value};

const LIMITS: Limits = Limits {
    max_depth: 50,
    max_output: Some(1 << 16),
    max_steps: Some(10_000),
};

fn run(text: &str, data: &Value) -> Result<String, gotmpl::Error> {
    thread_local! {
        static FUNCS: gotmpl::FuncMap = gotmpl::sprig::funcs();
    }
    let funcs = FUNCS.with(Clone::clone);
    let mut t = Template::new("t").funcs(funcs).limits(LIMITS);
    t.parse(text)?;
    t.execute(data)
}

#[test]
fn truncated_case_templates_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut seen = 0;
    for name in [
        "fixture.json",
        "core-syntax.json",
        "core-control.json",
        "core-builtins.json",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).expect("case file");
        let cf: serde_json::Value = serde_json::from_str(&text).expect("case file is JSON");
        let data = Value::from(cf["data"].clone());
        for case in cf["cases"].as_array().expect("cases") {
            let tmpl = case["tmpl"].as_str().expect("tmpl");
            for (i, _) in tmpl.char_indices() {
                let _ = run(&tmpl[..i], &data);
                seen += 1;
            }
        }
    }
    assert!(seen > 1000, "{seen}");
}

#[test]
fn limits_stop_runaway_templates() {
    let cases = [
        (
            "{{ range 1000000000000 }}{{ end }}",
            "execution exceeds the limit of 10000 steps",
        ),
        (
            "{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
            "exceeded maximum template depth (50)",
        ),
        (
            "{{ range 2000 }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{ end }}",
            "output exceeds the limit of 65536 bytes",
        ),
    ];
    for (text, want) in cases {
        let err = run(text, &Value::Nil).expect_err("stopped by a limit");
        assert!(err.to_string().ends_with(want), "{text}: {err}");
    }
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(150), ")".repeat(150));
    let err = run(&deep, &Value::Nil).expect_err("too deep");
    assert!(
        err.to_string().contains("max expression depth exceeded"),
        "{err}"
    );
}
