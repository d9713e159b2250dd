//! docker-gen's file helpers: `exists`, `include` and `dir`. Paths are looked up under a root
//! folder (`/` in production, a fake root in tests and `render --state`), so a template that
//! probes `/etc/nginx/certs/x.crt` reads `<root>/etc/nginx/certs/x.crt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gotmpl::funcs::{FuncMap, Param, Signature};
use gotmpl::{FuncError, Value};

/// `path` under `root`: absolute paths lose their leading `/`, relative ones are taken as given.
pub fn under(root: &Path, path: &str) -> PathBuf {
    if root == Path::new("/") {
        return PathBuf::from(path);
    }
    root.join(path.trim_start_matches('/'))
}

/// Registers the file family with paths looked up under `root`.
pub fn register(m: &mut FuncMap, root: &Path) {
    let root = Arc::new(root.to_path_buf());
    let r = Arc::clone(&root);
    m.insert("exists", Signature::fixed(&[Param::String]), move |a| {
        let path = under(&r, a[0].as_str().unwrap_or_default());
        match std::fs::metadata(&path) {
            Ok(_) => Ok(Value::Bool(true)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
            Err(e) => Err(FuncError::new(format!("stat {}: {e}", path.display()))),
        }
    });
    let r = Arc::clone(&root);
    m.insert("include", Signature::fixed(&[Param::String]), move |a| {
        let path = under(&r, a[0].as_str().unwrap_or_default());
        // docker-gen gives "" for any read error.
        Ok(Value::from(
            std::fs::read_to_string(path).unwrap_or_default(),
        ))
    });
    m.insert("dir", Signature::fixed(&[Param::String]), move |a| {
        let path = under(&root, a[0].as_str().unwrap_or_default());
        let mut names: Vec<String> = match std::fs::read_dir(&path) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(e) => {
                // docker-gen logs the error and gives an empty list.
                tracing::warn!("template dir {}: {e}", path.display());
                Vec::new()
            }
        };
        names.sort();
        Ok(Value::list(names.into_iter().map(Value::from).collect()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        std::fs::create_dir_all(tmp.path().join("etc/x")).expect("mkdir");
        std::fs::write(tmp.path().join("etc/x/b"), "B").expect("write");
        std::fs::write(tmp.path().join("etc/x/a"), "A").expect("write");
        let mut fm = FuncMap::new();
        register(&mut fm, tmp.path());
        let mut t = gotmpl::Template::new("t").funcs(fm);
        t.parse("{{ exists \"/etc/x/a\" }} {{ exists \"/etc/nope\" }} {{ include \"/etc/x/b\" }}[{{ include \"/nope\" }}] {{ dir \"/etc/x\" }} {{ dir \"/nope\" }}")
            .expect("parses");
        assert_eq!(
            t.execute(&Value::Nil).expect("runs"),
            "true false B[] [a b] []"
        );
        assert_eq!(under(Path::new("/"), "/etc/a"), PathBuf::from("/etc/a"));
    }
}
