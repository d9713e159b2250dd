//! Snapshot tests of rendered output: every fixture in `tests/inputs/` is a state dump (or
//! `@path` to one under `tests/`), a `---` line, and a template. Each renders to one `.snap`;
//! `err_*` fixtures must fail and snapshot the error text (`name:line:column: message`).

use std::path::Path;

use pygen::model::Snapshot;
use pygen::template::Template;

/// Splits a fixture into its state dump and template.
fn read_fixture(path: &Path) -> (Snapshot, String) {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let (data, template) = text
        .split_once("\n---\n")
        .expect("fixture has a `---` line between state and template");
    let json = match data.trim().strip_prefix('@') {
        Some(reference) => {
            let dump = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(reference);
            std::fs::read_to_string(&dump).expect("referenced state dump exists")
        }
        None => data.to_owned(),
    };
    let snapshot = Snapshot::from_dump(&json).expect("fixture state is a valid dump");
    (snapshot, template.to_owned())
}

#[test]
fn templates() {
    insta::glob!("inputs/*.txt", |path| {
        let (snapshot, template) = read_fixture(path);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("fixture names are UTF-8");
        let result = Template::from_text(name, template).and_then(|t| t.render_snapshot(&snapshot));
        match (name.starts_with("err_"), result) {
            (false, Ok(output)) => insta::assert_snapshot!(output),
            (true, Err(err)) => insta::assert_snapshot!(err.to_string()),
            (false, Err(err)) => panic!("{name} must render: {err}"),
            (true, Ok(output)) => panic!("{name} must fail, rendered:\n{output}"),
        }
    });
}
