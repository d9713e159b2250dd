//! Live template edits: the files each template was read from (the main file and the includes
//! its renders loaded) are looked at every [`POLL`]; a changed one reloads its template.
//!
//! A file's stamp is its modification time, size and inode, so an editor that saves through a
//! new file and a rename is seen as well as one that rewrites in place. Polling a handful of
//! files twice a second costs a few `stat` calls and needs no watch descriptors, and it sees
//! edits on bind mounts and network filesystems where inotify does not.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How often the files are looked at.
pub(crate) const POLL: Duration = Duration::from_millis(250);

/// What identifies one version of a file; `None` when it does not exist.
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

/// The stamps of one template's files.
#[derive(Debug, Default)]
pub(crate) struct Files {
    stamps: HashMap<PathBuf, Stamp>,
}

impl Files {
    /// Starts watching `files` as they are now.
    pub fn new(files: Vec<PathBuf>) -> Files {
        let mut watched = Files::default();
        watched.add(files);
        watched
    }

    /// Whether nothing is watched (inline and URL templates).
    pub fn is_empty(&self) -> bool {
        self.stamps.is_empty()
    }

    /// Adds the files not watched yet (includes a render loaded since), as they are now.
    pub fn add(&mut self, files: Vec<PathBuf>) {
        for file in files {
            self.stamps.entry(file).or_insert_with_key(stamp);
        }
    }

    /// The files that changed since they were last looked at; their new stamps are kept, so
    /// each edit is reported once.
    pub fn changed(&mut self) -> Vec<PathBuf> {
        let mut changed = Vec::new();
        for (path, old) in &mut self.stamps {
            let now = stamp(path);
            if now != *old {
                *old = now;
                changed.push(path.clone());
            }
        }
        changed.sort();
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_reported_once_and_a_replacement_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let main = dir.path().join("main.j2");
        let include = dir.path().join("part.j2");
        std::fs::write(&main, "a").expect("write");
        std::fs::write(&include, "b").expect("write");
        let mut files = Files::new(vec![main.clone()]);
        assert!(files.changed().is_empty());

        std::fs::write(&main, "longer").expect("edit");
        assert_eq!(files.changed(), vec![main.clone()]);
        assert!(files.changed().is_empty(), "reported twice");

        files.add(vec![include.clone()]);
        let replacement = dir.path().join("new");
        std::fs::write(&replacement, "b2").expect("write");
        std::fs::rename(&replacement, &include).expect("rename over");
        assert_eq!(files.changed(), vec![include.clone()]);

        std::fs::remove_file(&main).expect("remove");
        assert_eq!(files.changed(), vec![main]);
    }
}
