//! nginx-proxy's `nginx.tmpl` rendered over recorded docker-gen contexts and fake roots: every
//! file of `tests/data/docker-gen/expected/` must come out byte for byte (recorded with Go 1.19,
//! sprig 3 and docker-gen 0.17's functions, sorted keys), and each `*.conf.failed` case must fail
//! with the text of its `.err` file.

use std::path::{Path, PathBuf};

use pygen::template::go::{Context, RenderOptions, render_docker_gen};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/docker-gen")
}

#[test]
fn nginx_proxy_template_renders_every_fixture() {
    let dir = data();
    let template = std::fs::read_to_string(dir.join("nginx.tmpl")).expect("the template");
    // The fixtures' second root has no files at all.
    let empty = tempfile::tempdir().expect("a temporary folder");
    let options = RenderOptions {
        name: "nginx.tmpl".to_string(),
        keep_blank_lines: false,
    };
    let mut names: Vec<String> = std::fs::read_dir(dir.join("expected"))
        .expect("the expected folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".conf") || n.ends_with(".conf.failed"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 14, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let stem = name.trim_end_matches(".failed").trim_end_matches(".conf");
        let (context_name, root_name) = stem.split_once('.').expect("context.root");
        let context_text =
            std::fs::read_to_string(dir.join("contexts").join(format!("{context_name}.json")))
                .expect("the context");
        let context = Context::from_json(&context_text).expect("a valid context");
        let root = match root_name {
            "fakeroot" => dir.join("fakeroot"),
            _ => empty.path().to_path_buf(),
        };
        let got = render_docker_gen(&template, &context, &root, &options);
        if name.ends_with(".failed") {
            let want = std::fs::read_to_string(dir.join("expected").join(format!("{stem}.err")))
                .expect("the error text");
            let want = want.trim_end().trim_start_matches("exec: ");
            match got {
                Err(e) if e.to_string() == want => {}
                Err(e) => failures.push(format!("{name}: error {e}\n  want {want}")),
                Ok(_) => failures.push(format!("{name}: rendered, want error {want}")),
            }
            continue;
        }
        let want =
            std::fs::read_to_string(dir.join("expected").join(name)).expect("the expected output");
        match got {
            Ok(out) if out == want => {}
            Ok(out) => {
                let line = out
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                let got_line = out.lines().nth(line).unwrap_or_default();
                let want_line = want.lines().nth(line).unwrap_or_default();
                failures.push(format!(
                    "{name}: line {}: got {got_line:?} want {want_line:?}",
                    line + 1
                ));
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
