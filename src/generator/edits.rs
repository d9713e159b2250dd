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
    /// Per file: the stamp of the version in use, and the stamp the last look saw.
    stamps: HashMap<PathBuf, Entry>,
}

/// One watched file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The version the template in use was read from.
    used: Stamp,
    /// What the last look saw.
    seen: Stamp,
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
            self.stamps.entry(file).or_insert_with_key(|path| {
                let now = stamp(path);
                Entry {
                    used: now,
                    seen: now,
                }
            });
        }
    }

    /// The files whose version differs from the one in use and did not change since the last
    /// look, so a file caught halfway through a write (truncated, not yet filled) is not
    /// read until it settles.
    pub fn changed(&mut self) -> Vec<PathBuf> {
        let mut changed = Vec::new();
        for (path, entry) in &mut self.stamps {
            let now = stamp(path);
            if now != entry.seen {
                entry.seen = now;
            } else if now != entry.used {
                changed.push(path.clone());
            }
        }
        changed.sort();
        changed
    }

    /// The current stamps of every watched file, to tell whether a file moved while the
    /// template was read.
    pub fn current(&self) -> Vec<(PathBuf, Stamp)> {
        let mut now: Vec<_> = self.stamps.keys().map(|p| (p.clone(), stamp(p))).collect();
        now.sort();
        now
    }

    /// Records `stamps` (taken by [`Files::current`] before a reload that did not see them
    /// move) as the versions in use.
    pub fn settle(&mut self, stamps: Vec<(PathBuf, Stamp)>) {
        for (path, now) in stamps {
            if let Some(entry) = self.stamps.get_mut(&path) {
                entry.used = now;
                entry.seen = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_reported_once_settled_until_it_is_used() {
        let dir = tempfile::tempdir().expect("temp dir");
        let main = dir.path().join("main.j2");
        let include = dir.path().join("part.j2");
        std::fs::write(&main, "a").expect("write");
        std::fs::write(&include, "b").expect("write");
        let mut files = Files::new(vec![main.clone()]);
        assert!(files.changed().is_empty());

        std::fs::write(&main, "longer").expect("edit");
        assert!(files.changed().is_empty(), "reported before it settled");
        assert_eq!(files.changed(), vec![main.clone()]);
        let stamps = files.current();
        files.settle(stamps);
        assert!(files.changed().is_empty(), "reported after it was used");

        files.add(vec![include.clone()]);
        let replacement = dir.path().join("new");
        std::fs::write(&replacement, "b2").expect("write");
        std::fs::rename(&replacement, &include).expect("rename over");
        files.changed();
        assert_eq!(files.changed(), vec![include.clone()]);

        std::fs::remove_file(&main).expect("remove");
        files.changed();
        assert_eq!(files.changed(), vec![main, include]);
    }
}
