//! One file per item (`per_item`): the target is a pattern such as `/etc/conf.d/{name}.conf`;
//! each item's render goes to its own file, and the files of items that went away are removed.
//!
//! Only files this pygen wrote are ever removed: their names are kept in a manifest beside them
//! (`.{pattern's file name}.pygen-manifest`, one file name per line), rewritten after each
//! pass. A file the manifest does not list is never touched, even when its name fits the
//! pattern. Each file is written like a single target ([`super::write_file`]: atomic, checked
//! when a check is set), and one item's failure does not keep the others from being written.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Error, WriteOptions, WriteOutcome, write_file, write_if_changed};

/// The placeholder the item's name replaces in the target's file name.
pub const PLACEHOLDER: &str = "{name}";

/// What one pass over the items did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Files written (new or changed content).
    pub written: Vec<PathBuf>,
    /// Files removed because their item went away.
    pub removed: Vec<PathBuf>,
    /// Files left as they were because their write (or check) failed, with the reason.
    pub failed: Vec<(PathBuf, Error)>,
}

impl Outcome {
    /// Whether any file changed on disk (written or removed).
    pub fn changed(&self) -> bool {
        !self.written.is_empty() || !self.removed.is_empty()
    }
}

/// An item's name as a file name: a container's leading `/` dropped, every character other
/// than ASCII letters, digits, `.`, `_` and `-` replaced by `_`; never empty, `.` or `..`.
pub fn file_safe(name: &str) -> String {
    let name = name.strip_prefix('/').unwrap_or(name);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.as_str() {
        "" | "." | ".." => format!("_{safe}"),
        _ => safe,
    }
}

/// The file of the item named `name` under `pattern` (whose file name holds [`PLACEHOLDER`]).
pub fn item_path(pattern: &Path, name: &str) -> PathBuf {
    let file = pattern
        .file_name()
        .map(|f| f.to_string_lossy().replace(PLACEHOLDER, &file_safe(name)))
        .unwrap_or_default();
    pattern.with_file_name(file)
}

/// The manifest of the files written under `pattern`.
pub fn manifest_path(pattern: &Path) -> PathBuf {
    let file = pattern
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    pattern.with_file_name(format!(".{file}.pygen-manifest"))
}

/// Writes `items` (item name → content) under `pattern`, removes the files of earlier items
/// that are not among them, and records the files in the manifest.
///
/// Fails as a whole only when the manifest cannot be read or written; every per-file problem
/// is in [`Outcome::failed`].
pub fn write_items(
    pattern: &Path,
    items: &BTreeMap<String, String>,
    options: &WriteOptions<'_>,
) -> Result<Outcome, Error> {
    write_items_with(pattern, items, options, true)
}

/// [`write_items`] for a pass in which some items could not be rendered: the files of items
/// missing from `items` stay (and stay listed) instead of being removed.
pub fn write_items_keeping(
    pattern: &Path,
    items: &BTreeMap<String, String>,
    options: &WriteOptions<'_>,
) -> Result<Outcome, Error> {
    write_items_with(pattern, items, options, false)
}

fn write_items_with(
    pattern: &Path,
    items: &BTreeMap<String, String>,
    options: &WriteOptions<'_>,
    remove_gone: bool,
) -> Result<Outcome, Error> {
    let manifest = manifest_path(pattern);
    let before = read_manifest(&manifest)?;
    let mut outcome = Outcome::default();
    let mut kept: BTreeSet<String> = BTreeSet::new();
    let mut owners: BTreeMap<PathBuf, &str> = BTreeMap::new();
    for (name, content) in items {
        let path = item_path(pattern, name);
        if let Some(first) = owners.insert(path.clone(), name) {
            tracing::warn!(
                item = name.as_str(),
                other = first,
                file = %path.display(),
                "two items give the same file name; the first one keeps it"
            );
            owners.insert(path, first);
            continue;
        }
        let file_name = file_name_of(&path);
        match write_file(&path, content, options) {
            Ok(WriteOutcome::Unchanged) => {}
            Ok(WriteOutcome::Written { .. }) => outcome.written.push(path),
            Err(err) => outcome.failed.push((path, err)),
        }
        kept.insert(file_name);
    }
    let mut listed = kept.clone();
    for old in before.difference(&kept) {
        if !remove_gone {
            listed.insert(old.clone());
            continue;
        }
        let path = pattern.with_file_name(old);
        match fs::remove_file(&path) {
            Ok(()) => outcome.removed.push(path),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                // Still ours: listed again, so a later pass retries the removal.
                listed.insert(old.clone());
                outcome
                    .failed
                    .push((path.clone(), Error::Remove { path, source }));
            }
        }
    }
    let text: String = listed.iter().map(|name| format!("{name}\n")).collect();
    write_if_changed(&manifest, &text)?;
    Ok(outcome)
}

/// The file names a manifest lists; none when it does not exist yet. Lines that are not plain
/// file names (a path, `.`, `..`) are ignored: a manifest never makes pygen delete elsewhere.
fn read_manifest(path: &Path) -> Result<BTreeSet<String>, Error> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "." && *l != ".." && !l.contains('/'))
            .map(str::to_owned)
            .collect()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn names_become_safe_file_names() {
        assert_eq!(file_safe("/web-1"), "web-1");
        assert_eq!(file_safe("a/b c"), "a_b_c");
        assert_eq!(file_safe(".."), "_..");
        assert_eq!(file_safe(""), "_");
        assert_eq!(
            item_path(Path::new("/etc/conf.d/{name}.conf"), "/web"),
            PathBuf::from("/etc/conf.d/web.conf")
        );
    }

    #[test]
    fn files_follow_the_items_and_only_listed_files_are_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pattern = dir.path().join("{name}.conf");
        let foreign = dir.path().join("mine.conf");
        fs::write(&foreign, "not pygen's").expect("write");

        let first = write_items(
            &pattern,
            &items(&[("/a", "A"), ("/b", "B")]),
            &WriteOptions::default(),
        )
        .expect("first pass");
        assert_eq!(first.written.len(), 2);
        assert_eq!(fs::read_to_string(dir.path().join("a.conf")).unwrap(), "A");

        let second = write_items(
            &pattern,
            &items(&[("/b", "B2"), ("/c", "C")]),
            &WriteOptions::default(),
        )
        .expect("second pass");
        assert_eq!(second.removed, vec![dir.path().join("a.conf")]);
        assert_eq!(second.written.len(), 2);
        assert!(!dir.path().join("a.conf").exists());
        assert_eq!(fs::read_to_string(&foreign).unwrap(), "not pygen's");
        let manifest = fs::read_to_string(manifest_path(&pattern)).unwrap();
        assert_eq!(manifest, "b.conf\nc.conf\n");

        let third = write_items(&pattern, &items(&[]), &WriteOptions::default()).expect("empty");
        assert_eq!(third.removed.len(), 2);
        assert!(foreign.exists());
        assert!(third.written.is_empty());
    }

    #[test]
    fn a_manifest_cannot_point_outside_its_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inner = dir.path().join("inner");
        fs::create_dir(&inner).expect("mkdir");
        let outside = dir.path().join("victim");
        fs::write(&outside, "keep").expect("write");
        let pattern = inner.join("{name}.conf");
        fs::write(manifest_path(&pattern), "../victim\n..\n").expect("write manifest");
        write_items(&pattern, &items(&[]), &WriteOptions::default()).expect("pass");
        assert!(outside.exists(), "a manifest line with a path was followed");
    }

    #[test]
    fn an_unchanged_pass_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pattern = dir.path().join("{name}.conf");
        let set = items(&[("x", "X")]);
        write_items(&pattern, &set, &WriteOptions::default()).expect("first");
        let again = write_items(&pattern, &set, &WriteOptions::default()).expect("again");
        assert!(!again.changed());
    }
}
