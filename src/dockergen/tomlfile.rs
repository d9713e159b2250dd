//! docker-gen's TOML config files (`-config FILE`): `[[config]]` entries read into [`Job`]s.
//! Keys match case-insensitively, as BurntSushi's decoder matches them (`notifycmd` and
//! `NotifyCmd` are one key). Where docker-gen's semantics are a quirk, the choice is made here
//! and warned about at startup (README, "For docker-gen users").

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

use super::settings::{Error, parse_wait};
use crate::config::docker_gen::{Filters, Job, Notify};

/// Reads every file in docker-gen's load order (sorted, duplicates dropped) and appends their
/// entries. docker-gen overlays later files onto earlier ones index by index; pygen keeps
/// every entry of every file.
pub fn load_all(paths: &[String], warnings: &mut Vec<String>) -> Result<Vec<Job>, Error> {
    let mut paths: Vec<&String> = paths.iter().collect();
    paths.sort();
    paths.dedup();
    if paths.len() > 1 {
        warnings.push(
            "several -config files: pygen runs every [[config]] of every file (docker-gen \
             overlays later files onto earlier ones entry by entry)"
                .to_owned(),
        );
    }
    let mut jobs = Vec::new();
    for path in paths {
        let path = Path::new(path);
        let text = std::fs::read_to_string(path).map_err(|e| Error::ConfigFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        jobs.extend(parse(path, &text, warnings)?);
    }
    Ok(jobs)
}

/// Parses one file's text.
pub fn parse(path: &Path, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Job>, Error> {
    let bad = |reason: String| Error::ConfigFile {
        path: path.to_path_buf(),
        reason,
    };
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(e.to_string()))?;
    let mut jobs = Vec::new();
    for (key, value) in &table {
        if !key.eq_ignore_ascii_case("config") {
            warnings.push(format!(
                "{}: unknown top-level key {key:?} ignored",
                path.display()
            ));
            continue;
        }
        let Value::Array(entries) = value else {
            return Err(bad(
                "`config` must be an array of tables ([[config]])".into()
            ));
        };
        for (i, entry) in entries.iter().enumerate() {
            let Value::Table(entry) = entry else {
                return Err(bad(format!("config entry {} is not a table", i + 1)));
            };
            let what = format!("{} [[config]] {}", path.display(), i + 1);
            jobs.push(job(&what, entry, warnings).map_err(bad)?);
        }
    }
    Ok(jobs)
}

fn string(what: &str, key: &str, v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: {key} must be a string"))
}

fn boolean(what: &str, key: &str, v: &Value) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("{what}: {key} must be true or false"))
}

fn integer(what: &str, key: &str, v: &Value) -> Result<i64, String> {
    v.as_integer()
        .ok_or_else(|| format!("{what}: {key} must be an integer"))
}

/// `{ key = ["a", "b"] }`: a table of string lists (a bare string counts as a list of one).
fn filters(what: &str, key: &str, v: &Value) -> Result<Filters, String> {
    let table = v
        .as_table()
        .ok_or_else(|| format!("{what}: {key} must be a table such as {{ label = [\"x\"] }}"))?;
    let mut out = Filters::new();
    for (k, v) in table {
        let values = match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("{what}: {key}.{k} must be a list of strings"))?,
            _ => return Err(format!("{what}: {key}.{k} must be a list of strings")),
        };
        out.insert(k.clone(), values);
    }
    Ok(out)
}

fn job(what: &str, entry: &Table, warnings: &mut Vec<String>) -> Result<Job, String> {
    let mut job = Job {
        templates: Vec::new(),
        dest: None,
        watch: false,
        wait: None,
        notify: Notify::default(),
        filters: Filters::new(),
        interval: None,
        keep_blank_lines: false,
    };
    let mut signal: Option<i64> = None;
    let mut only_exposed = false;
    for (key, v) in entry {
        match key.to_ascii_lowercase().as_str() {
            "template" => {
                job.templates = string(what, key, v)?
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect();
            }
            "dest" => {
                let dest = string(what, key, v)?;
                job.dest = (!dest.is_empty()).then(|| PathBuf::from(dest));
            }
            "watch" => job.watch = boolean(what, key, v)?,
            "wait" => {
                job.wait = parse_wait(what, &string(what, key, v)?).map_err(|e| e.to_string())?;
            }
            "notifycmd" => {
                job.notify.command = Some(string(what, key, v)?).filter(|c| !c.is_empty());
            }
            "notifyoutput" => job.notify.output = boolean(what, key, v)?,
            "notifycontainers" => {
                let table = v
                    .as_table()
                    .ok_or_else(|| format!("{what}: {key} must be a table of name = signal"))?;
                for (name, sig) in table {
                    let mut sig = integer(what, &format!("{key}.{name}"), sig)?;
                    if sig == 0 {
                        warnings.push(format!(
                            "{what}: {key}.{name} = 0 sends no signal; pygen sends 1 (HUP)"
                        ));
                        sig = 1;
                    }
                    job.notify.containers.push((name.clone(), sig));
                }
            }
            "notifycontainersfilter" => job.notify.filter = filters(what, key, v)?,
            "notifycontainerssignal" => signal = Some(integer(what, key, v)?),
            "containerfilter" => job.filters = filters(what, key, v)?,
            "interval" => {
                let n = integer(what, key, v)?;
                if n < 0 {
                    return Err(format!(
                        "{what}: interval must be 0 or more seconds, got {n}"
                    ));
                }
                job.interval = (n > 0).then(|| Duration::from_secs(n as u64));
            }
            "keepblanklines" => job.keep_blank_lines = boolean(what, key, v)?,
            "onlyexposed" => only_exposed = boolean(what, key, v)?,
            _ => warnings.push(format!("{what}: unknown key {key:?} ignored")),
        }
    }
    if job.templates.is_empty() {
        return Err(format!("{what}: template is missing"));
    }
    if only_exposed && !job.filters.contains_key("expose") {
        warnings.push(format!(
            "{what}: onlyexposed = true is honoured (expose=1-65535); docker-gen 0.17 ignores \
             this key"
        ));
        job.filters.insert("expose".into(), vec!["1-65535".into()]);
    }
    job.notify.filter_signal = match signal {
        Some(0) | None if !job.notify.filter.is_empty() => {
            warnings.push(format!(
                "{what}: notifycontainerssignal is {} (docker-gen sends signal 0, which does \
                 nothing); pygen sends 1 (HUP)",
                if signal.is_some() { "0" } else { "not set" }
            ));
            1
        }
        Some(s) => s,
        None => 1,
    };
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[config]]
template = "/etc/docker-gen/templates/nginx.tmpl"
dest = "/etc/nginx/conf.d/default.conf"
watch = true
wait = "500ms:2s"
NotifyCmd = "nginx -s reload"
notifyoutput = true
containerfilter = { label = ["a", "b"] }
keepblanklines = true
interval = 30

[config.NotifyContainers]
nginx = 1
app = -1

[[config]]
template = "a.tmpl;b.tmpl"
onlyexposed = true
notifycontainersfilter = { label = ["com.example.nginx"] }
"#;

    #[test]
    fn reads_docker_gen_entries() {
        let mut warnings = Vec::new();
        let jobs = parse(Path::new("x.cfg"), EXAMPLE, &mut warnings).expect("valid");
        assert_eq!(jobs.len(), 2);
        let a = &jobs[0];
        assert!(a.watch && a.keep_blank_lines && a.notify.output);
        assert_eq!(
            a.dest,
            Some(PathBuf::from("/etc/nginx/conf.d/default.conf"))
        );
        assert_eq!(a.wait.expect("a wait").max, Duration::from_secs(2));
        assert_eq!(a.notify.command.as_deref(), Some("nginx -s reload"));
        assert_eq!(a.filters["label"], ["a", "b"]);
        assert!(
            !a.filters.contains_key("status"),
            "config mode includes stopped ones"
        );
        assert_eq!(a.interval, Some(Duration::from_secs(30)));
        assert_eq!(
            a.notify.containers,
            [("app".to_owned(), -1), ("nginx".to_owned(), 1)]
        );
        let b = &jobs[1];
        assert_eq!(
            b.templates,
            [PathBuf::from("a.tmpl"), PathBuf::from("b.tmpl")]
        );
        assert_eq!(b.dest, None);
        assert_eq!(b.filters["expose"], ["1-65535"], "onlyexposed is honoured");
        assert_eq!(b.notify.filter_signal, 1, "not docker-gen's 0");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn errors_name_the_file_and_entry() {
        let mut w = Vec::new();
        let e = parse(
            Path::new("x.cfg"),
            "[[config]]\nwatch = 1\ntemplate = \"t\"",
            &mut w,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("x.cfg") && e.contains("[[config]] 1") && e.contains("watch"),
            "{e}"
        );
        let e = parse(Path::new("x.cfg"), "[[config]]\ndest = \"d\"", &mut w)
            .unwrap_err()
            .to_string();
        assert!(e.contains("template is missing"), "{e}");
        assert!(parse(Path::new("x.cfg"), "[[config]\n", &mut w).is_err());
    }

    #[test]
    fn several_files_are_appended_in_sorted_order() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let a = dir.path().join("a.cfg");
        let b = dir.path().join("b.cfg");
        std::fs::write(&a, "[[config]]\ntemplate = \"one\"\n").expect("write");
        std::fs::write(&b, "[[config]]\ntemplate = \"two\"\n").expect("write");
        let names = [
            b.display().to_string(),
            a.display().to_string(),
            b.display().to_string(),
        ];
        let mut w = Vec::new();
        let jobs = load_all(&names, &mut w).expect("valid");
        let t: Vec<_> = jobs.iter().map(|j| j.templates[0].clone()).collect();
        assert_eq!(t, [PathBuf::from("one"), PathBuf::from("two")]);
        assert_eq!(w.len(), 1);
        let e = load_all(&["/nonexistent.cfg".to_owned()], &mut w).unwrap_err();
        assert!(e.to_string().contains("/nonexistent.cfg"));
    }
}
