//! Arbitrary include names through a file template's loader: `{% include name %}` with the
//! name from the input, rendered from a template in a folder that has a file inside it and a
//! file next to it (outside). Never a panic, and nothing outside the template's folder is ever
//! read: a name with a `..` part (or an absolute path) must not reach the outside file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pygen::model::{Container, Snapshot};
use pygen::template::{LoadOptions, Source, Template};

/// What the file outside the folder holds.
const OUTSIDE: &str = "OUTSIDE-THE-FOLDER";
/// What the file inside the folder holds.
const INSIDE: &str = "inside";

/// `root/secret.txt` (outside), `root/folder/main.tmpl` and `root/folder/sub/ok.txt`, made once;
/// the loaded template.
fn template() -> &'static Template {
    static TEMPLATE: OnceLock<(tempfile::TempDir, Template)> = OnceLock::new();
    &TEMPLATE
        .get_or_init(|| {
            let root = tempfile::tempdir().expect("a temporary folder");
            let folder: PathBuf = root.path().join("folder");
            std::fs::create_dir_all(folder.join("sub")).expect("mkdir");
            std::fs::write(root.path().join("secret.txt"), OUTSIDE).expect("write");
            std::fs::write(folder.join("secret.txt.lnk"), "not a link").expect("write");
            std::fs::write(folder.join("sub/ok.txt"), INSIDE).expect("write");
            let main = folder.join("main.tmpl");
            std::fs::write(
                &main,
                "[{% include all_containers[0].labels['name'] ignore missing %}]",
            )
            .expect("write");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let source = Source::parse(main.to_str().expect("a UTF-8 temporary path"));
            let template = runtime
                .block_on(Template::load(&source, &LoadOptions::default()))
                .expect("the main template loads");
            (root, template)
        })
        .1
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    // The name reaches the template the way a user's data does: as a container label.
    let inspect = serde_json::json!({
        "Id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "Name": "/fuzz",
        "Config": {"Labels": {"name": name}},
        "State": {"Running": true, "Status": "running"},
    });
    let container = Container::from_inspect_json(&inspect.to_string())
        .expect("a minimal inspect object models");
    let snapshot = Snapshot {
        containers: vec![std::sync::Arc::new(container)],
        own_container_id: None,
        swarm: None,
    };
    let Ok(out) = template().render_snapshot(&snapshot) else {
        return;
    };
    assert!(
        !out.contains(OUTSIDE),
        "include {name:?} read a file outside the template's folder: {out:?}"
    );
    let plain = name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>();
    if plain == ["sub", "ok.txt"] {
        assert_eq!(out, format!("[{INSIDE}]"), "include {name:?}");
    }
});
