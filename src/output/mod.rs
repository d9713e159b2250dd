//! The target file: change detection and safe replacement, plus the standard-output mode.
//!
//! docker-pygen truncated and rewrote the target in place, so a reader (nginx reloading on a
//! signal) could see an empty or half-written file. Here the new content goes to a temporary
//! file in the target's folder, is flushed to disk, takes over the old file's mode (and owner,
//! when allowed), and is renamed over the target, so a reader sees the old or the new file,
//! never a mix. Two cases cannot be renamed over and are written in place instead:
//! - a target that is a single-file bind mount (the rename fails with `EBUSY`, or `EXDEV`);
//! - a target that is not a regular file (`/dev/stdout`, a FIFO, a device).
//!
//! Change detection compares bytes with the current file; a missing file always counts as
//! changed (docker-pygen counted it as empty, so an empty render into a missing file wrote
//! nothing).

mod check;
pub mod per_item;

pub use check::{CheckError, OUTPUT_LIMIT};

use crate::config::Check;
use crate::report::describe;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the target could not be written.
///
/// Every variant is recoverable for the daemon: it logs the error, counts it and keeps the last
/// good file. Unless the variant says otherwise, the old file is untouched and no temporary file
/// is left behind.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target's folder does not exist.
    #[error("target folder {folder} does not exist")]
    MissingFolder {
        /// The folder that should hold the target.
        folder: PathBuf,
    },
    /// The target's folder is not a folder.
    #[error("target folder {folder} is not a directory")]
    NotAFolder {
        /// The path that should be a folder.
        folder: PathBuf,
    },
    /// The target is a folder.
    #[error("target {path} is a directory")]
    IsAFolder {
        /// The target path.
        path: PathBuf,
    },
    /// The target is a symbolic link to nothing.
    #[error("target {path} is a symbolic link to a missing file")]
    DanglingSymlink {
        /// The target path.
        path: PathBuf,
    },
    /// The target or its folder could not be examined.
    #[error("cannot examine {path}")]
    Inspect {
        /// The path being examined.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The current content of the target could not be read for the comparison.
    #[error("cannot read the current target {path}")]
    Read {
        /// The target path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The temporary file could not be created in the target's folder (e.g. read-only folder).
    #[error("cannot create a temporary file in {folder}")]
    CreateTemp {
        /// The target's folder.
        folder: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The temporary file could not be written, given its mode, or flushed to disk.
    #[error("cannot write the new content of {path} to a temporary file")]
    WriteTemp {
        /// The target path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The temporary file could not be renamed over the target.
    #[error("cannot replace {path}")]
    Rename {
        /// The target path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Writing the target in place failed; the target may hold partial content.
    #[error("cannot write {path} in place")]
    WriteInPlace {
        /// The target path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The check command refused the new content (or could not run); the target is
    /// untouched and the candidate file removed.
    #[error("target {}: {source}", path.display())]
    Check {
        /// The target.
        path: PathBuf,
        /// What the check said.
        #[source]
        source: CheckError,
    },
    /// The file's mode could not be set (`mode`).
    #[error("cannot set the mode of {}: {source}", path.display())]
    Mode {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A per-item file of an item that went away could not be removed.
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Standard output could not be written (e.g. a closed pipe).
    #[error("cannot write to standard output")]
    Stdout {
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl crate::report::Blame for Error {
    /// A target that is a folder or lies in a missing one is the user's input; a write that
    /// fails is the world.
    fn fault(&self) -> crate::report::Fault {
        use crate::report::Fault;
        match self {
            Error::MissingFolder { .. }
            | Error::NotAFolder { .. }
            | Error::IsAFolder { .. }
            | Error::DanglingSymlink { .. } => Fault::Input,
            _ => Fault::World,
        }
    }
}

/// What [`write_if_changed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The target already held exactly this content; nothing was written.
    Unchanged,
    /// The target now holds the new content.
    Written {
        /// Size of the content written.
        bytes: usize,
        /// `true` when the file was overwritten in place (bind-mounted or special file)
        /// instead of replaced by a rename.
        in_place: bool,
    },
}

/// Writes `content` to `path` unless the file already holds exactly these bytes.
///
/// A symbolic link at `path` is followed: the file it points to is replaced and the link
/// stays. A target that is not a regular file (`/dev/stdout`, a FIFO) cannot be compared and
/// is always written, in place.
pub fn write_if_changed(path: &Path, content: &str) -> Result<WriteOutcome, Error> {
    write_file(path, content, &WriteOptions::default())
}

/// How a target is written beyond the default: its mode, and a check the new content must pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions<'a> {
    /// Permission bits of the file; `None` keeps an existing file's, or gives a new one the
    /// mode a plain `open()` would.
    pub mode: Option<u32>,
    /// The command that must accept the new content before it replaces the target.
    pub check: Option<&'a Check>,
}

/// [`write_if_changed`] with a mode and a check: a changed content is written to a temporary
/// file beside the target, the check runs on it, and only when it accepts does it replace the
/// target. A refused content leaves the target as it was ([`Error::Check`]).
pub fn write_file(
    path: &Path,
    content: &str,
    options: &WriteOptions<'_>,
) -> Result<WriteOutcome, Error> {
    write_with_rename(path, content, options, |from, to| fs::rename(from, to))
}

/// Prints `content` and a newline to standard output, as Python's `print` did.
pub fn print_stdout(content: &str) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(content.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Stdout { source })
}

/// The kind of file found at the target path.
enum Existing {
    /// Nothing there yet.
    Missing,
    /// A regular file (after following symbolic links) at this real path.
    Regular(PathBuf),
    /// Something that is neither a file nor a folder: a device, a FIFO, a socket.
    Special,
}

/// [`write_if_changed`] with the rename as a parameter, so tests can make it fail the way a
/// bind-mounted target does without needing the privileges to mount one.
fn write_with_rename(
    path: &Path,
    content: &str,
    options: &WriteOptions<'_>,
    rename: impl FnOnce(&Path, &Path) -> io::Result<()>,
) -> Result<WriteOutcome, Error> {
    check_folder(&folder_of(path))?;
    let real = match examine(path)? {
        Existing::Special => {
            if let Some(check) = options.check {
                check_elsewhere(path, content, check)?;
            }
            write_in_place(path, content)?;
            tracing::debug!(path = %path.display(), "target is not a regular file, written in place");
            return Ok(WriteOutcome::Written {
                bytes: content.len(),
                in_place: true,
            });
        }
        Existing::Missing => None,
        Existing::Regular(real) => Some(real),
    };

    let metadata = match &real {
        Some(real) => {
            let file = File::open(real).map_err(|source| Error::Read {
                path: real.clone(),
                source,
            })?;
            let current = read_all(&file).map_err(|source| Error::Read {
                path: real.clone(),
                source,
            })?;
            if current == content.as_bytes() {
                if let Some(mode) = options.mode {
                    set_mode_if_different(&file, real, mode)?;
                }
                return Ok(WriteOutcome::Unchanged);
            }
            Some(file.metadata().map_err(|source| Error::Inspect {
                path: real.clone(),
                source,
            })?)
        }
        None => None,
    };
    let target = real.unwrap_or_else(|| path.to_path_buf());
    let folder = folder_of(&target);

    let temp = create_temp(&target, &folder, metadata.is_none())?;
    let write_error = |source| Error::WriteTemp {
        path: target.clone(),
        source,
    };
    let (mut file, temp_path) = temp.into_parts();
    file.write_all(content.as_bytes()).map_err(write_error)?;
    if let Some(metadata) = &metadata {
        keep_owner(&file, metadata, &target);
    }
    let mode = options
        .mode
        .or_else(|| metadata.as_ref().map(|m| m.mode() & 0o7777));
    if let Some(mode) = mode {
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(write_error)?;
    }
    file.sync_all().map_err(write_error)?;
    drop(file);
    if let Some(check) = options.check {
        // Dropping the temporary path on a refusal deletes the candidate.
        match check::run(check, &temp_path) {
            Ok(output) => {
                tracing::debug!(target = %target.display(), output, "check accepted the new content");
            }
            Err(source) => {
                drop(temp_path);
                return Err(Error::Check {
                    path: target,
                    source,
                });
            }
        }
    }

    match rename(&temp_path, &target) {
        Ok(()) => {
            // The file now lives at `target`; forget the temporary name so that dropping
            // `temp_path` does not try to delete it. Failing to forget only costs a delete of a
            // name that no longer exists, which is ignored.
            let _ = temp_path.keep();
        }
        Err(error) if is_bind_mount_rename_error(&error) => {
            // Dropping the temporary path deletes the temporary file.
            drop(temp_path);
            tracing::debug!(
                path = %target.display(),
                error = %describe(&error),
                "target cannot be renamed over (single-file bind mount?), writing it in place"
            );
            write_in_place(&target, content)?;
            return Ok(WriteOutcome::Written {
                bytes: content.len(),
                in_place: true,
            });
        }
        Err(source) => {
            drop(temp_path);
            return Err(Error::Rename {
                path: target,
                source,
            });
        }
    }

    // The rename is only durable once the folder is flushed. The new file is in place either
    // way, so a failure here is worth a warning, not an error.
    if let Err(error) = File::open(&folder).and_then(|dir| dir.sync_all()) {
        tracing::warn!(folder = %folder.display(), error = %describe(&error), "cannot flush the target folder");
    }
    Ok(WriteOutcome::Written {
        bytes: content.len(),
        in_place: false,
    })
}

/// Runs `check` on `content` written to a temporary file outside the target's folder, for
/// targets that cannot have a file beside them (`/dev/stdout`, a FIFO).
fn check_elsewhere(path: &Path, content: &str, check: &Check) -> Result<(), Error> {
    let write_error = |source| Error::WriteTemp {
        path: path.to_path_buf(),
        source,
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".pygen-check.")
        .tempfile()
        .map_err(write_error)?;
    temp.write_all(content.as_bytes()).map_err(write_error)?;
    temp.flush().map_err(write_error)?;
    check::run(check, temp.path())
        .map(drop)
        .map_err(|source| Error::Check {
            path: path.to_path_buf(),
            source,
        })
}

/// Gives an unchanged file the configured mode when it has another.
fn set_mode_if_different(file: &File, path: &Path, mode: u32) -> Result<(), Error> {
    let mode_error = |source| Error::Mode {
        path: path.to_path_buf(),
        source,
    };
    let current = file.metadata().map_err(mode_error)?.mode() & 0o7777;
    if current != mode {
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(mode_error)?;
    }
    Ok(())
}

/// The folder holding `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn check_folder(folder: &Path) -> Result<(), Error> {
    match fs::metadata(folder) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(Error::NotAFolder {
            folder: folder.to_path_buf(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Err(Error::MissingFolder {
            folder: folder.to_path_buf(),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotADirectory => Err(Error::NotAFolder {
            folder: folder.to_path_buf(),
        }),
        Err(source) => Err(Error::Inspect {
            path: folder.to_path_buf(),
            source,
        }),
    }
}

/// What is at `path`, following symbolic links.
fn examine(path: &Path) -> Result<Existing, Error> {
    let inspect_error = |source| Error::Inspect {
        path: path.to_path_buf(),
        source,
    };
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => Err(Error::IsAFolder {
            path: path.to_path_buf(),
        }),
        Ok(metadata) if metadata.is_file() => {
            let is_link = fs::symlink_metadata(path)
                .map_err(inspect_error)?
                .file_type()
                .is_symlink();
            if is_link {
                // Replace the file the link points to, not the link.
                Ok(Existing::Regular(
                    fs::canonicalize(path).map_err(inspect_error)?,
                ))
            } else {
                Ok(Existing::Regular(path.to_path_buf()))
            }
        }
        Ok(_) => Ok(Existing::Special),
        Err(error) if error.kind() == io::ErrorKind::NotFound => match fs::symlink_metadata(path) {
            Ok(metadata) if metadata.file_type().is_symlink() => Err(Error::DanglingSymlink {
                path: path.to_path_buf(),
            }),
            _ => Ok(Existing::Missing),
        },
        Err(source) => Err(inspect_error(source)),
    }
}

fn read_all(mut file: &File) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// A hidden temporary file next to the target (`.NAME.XXXXXX.tmp`), so that globs such as
/// `conf.d/*.conf` never pick it up half-written.
///
/// A new target gets the mode a plain `open()` would give it (0666 minus the umask); for an
/// existing one the mode is copied after creation.
fn create_temp(
    target: &Path,
    folder: &Path,
    new_file: bool,
) -> Result<tempfile::NamedTempFile, Error> {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    if new_file {
        builder.permissions(Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(folder)
        .map_err(|source| Error::CreateTemp {
            folder: folder.to_path_buf(),
            source,
        })
}

/// Gives the temporary file the owner of the file it replaces, when the process may (as root,
/// or a group the user belongs to). Best effort: the content matters more than the owner.
fn keep_owner(file: &File, original: &fs::Metadata, target: &Path) {
    let Ok(current) = file.metadata() else {
        return;
    };
    if current.uid() == original.uid() && current.gid() == original.gid() {
        return;
    }
    if let Err(error) = std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()))
    {
        tracing::debug!(
            path = %target.display(),
            error = %describe(&error),
            "cannot keep the owner of the target"
        );
    }
}

/// Whether a failed rename means the target cannot be replaced but can be written: a
/// single-file bind mount answers `EBUSY` (or `EXDEV` on some setups).
fn is_bind_mount_rename_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ResourceBusy | io::ErrorKind::CrossesDevices
    )
}

/// Truncates and rewrites `path` in the same inode, then flushes it.
fn write_in_place(path: &Path, content: &str) -> Result<(), Error> {
    let in_place_error = |source| Error::WriteInPlace {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(in_place_error)?;
    file.write_all(content.as_bytes()).map_err(in_place_error)?;
    match file.sync_all() {
        Ok(()) => Ok(()),
        // Devices and pipes (`/dev/stdout`) cannot be synced; the write itself went through.
        Err(error) if error.kind() == io::ErrorKind::InvalidInput => Ok(()),
        Err(source) => Err(in_place_error(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, SystemTime};

    /// Sorted file names in `dir`, to see that no temporary file is left behind.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn umask() -> Option<u32> {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|line| line.starts_with("Umask:"))?;
        u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
    }

    /// Runs `mount` with `args`; `false` when it is missing or refused (no privileges).
    fn mount(args: &[&str]) -> bool {
        Command::new("mount")
            .args(args)
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Unmounts its path when dropped, so a failing assertion does not leave a mount behind.
    struct Unmount(PathBuf);

    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }

    /// Undoes whatever made a folder read-only.
    enum ReadOnly {
        Mode(PathBuf),
        Mount(#[allow(dead_code)] Unmount),
    }

    impl Drop for ReadOnly {
        fn drop(&mut self) {
            if let ReadOnly::Mode(dir) = self {
                let _ = fs::set_permissions(dir, Permissions::from_mode(0o755));
            }
        }
    }

    fn creating_is_refused(dir: &Path) -> bool {
        let probe = dir.join("probe");
        match File::create(&probe) {
            Ok(_) => {
                let _ = fs::remove_file(&probe);
                false
            }
            Err(_) => true,
        }
    }

    /// Makes `dir` read-only for this process: by mode when that stops us (not root), by a
    /// read-only bind mount when running as root. `None` when neither works here.
    fn make_read_only(dir: &Path) -> Option<ReadOnly> {
        fs::set_permissions(dir, Permissions::from_mode(0o555)).ok()?;
        let by_mode = ReadOnly::Mode(dir.to_path_buf());
        if creating_is_refused(dir) {
            return Some(by_mode);
        }
        drop(by_mode); // root ignores the mode
        let path = dir.to_str()?;
        if !mount(&["--bind", path, path]) {
            return None;
        }
        let guard = ReadOnly::Mount(Unmount(dir.to_path_buf()));
        if mount(&["-o", "remount,bind,ro", path]) && creating_is_refused(dir) {
            Some(guard)
        } else {
            None
        }
    }

    fn old_time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000)
    }

    #[test]
    fn missing_file_is_created_with_the_usual_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        let outcome = write_if_changed(&path, "hello\n").unwrap();
        assert_eq!(
            outcome,
            WriteOutcome::Written {
                bytes: 6,
                in_place: false
            }
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "hello\n");
        let mode = fs::metadata(&path).unwrap().mode() & 0o777;
        if let Some(umask) = umask() {
            assert_eq!(mode, 0o666 & !umask);
        }
        assert_eq!(names(dir.path()), ["out.conf"]);
    }

    #[test]
    fn empty_content_into_a_missing_file_is_written() {
        // docker-pygen compared with '' and wrote nothing; a missing file counts as changed.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        assert_eq!(
            write_if_changed(&path, "").unwrap(),
            WriteOutcome::Written {
                bytes: 0,
                in_place: false
            }
        );
        assert_eq!(fs::read(&path).unwrap(), b"");
        assert_eq!(
            write_if_changed(&path, "").unwrap(),
            WriteOutcome::Unchanged
        );
    }

    #[test]
    fn unchanged_content_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        fs::write(&path, "same\r\ncontent").unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old_time())
            .unwrap();
        let before = fs::metadata(&path).unwrap();

        assert_eq!(
            write_if_changed(&path, "same\r\ncontent").unwrap(),
            WriteOutcome::Unchanged
        );

        let after = fs::metadata(&path).unwrap();
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.modified().unwrap(), old_time());
        assert_eq!(names(dir.path()), ["out.conf"]);
    }

    #[test]
    fn changed_content_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        fs::write(&path, "old").unwrap();
        let before = fs::metadata(&path).unwrap();

        assert_eq!(
            write_if_changed(&path, "new content").unwrap(),
            WriteOutcome::Written {
                bytes: 11,
                in_place: false
            }
        );

        assert_eq!(fs::read_to_string(&path).unwrap(), "new content");
        assert_ne!(fs::metadata(&path).unwrap().ino(), before.ino());
        assert_eq!(names(dir.path()), ["out.conf"]);
    }

    #[test]
    fn mode_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        write_if_changed(&path, "new").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
    }

    #[test]
    fn owner_is_kept_when_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        fs::write(&path, "old").unwrap();
        if std::os::unix::fs::chown(&path, Some(4321), Some(8765)).is_err() {
            eprintln!("skipped: changing a file's owner needs root");
            return;
        }
        write_if_changed(&path, "new").unwrap();
        let metadata = fs::metadata(&path).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (4321, 8765));
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("not").join("there");
        let error = write_if_changed(&folder.join("out.conf"), "x").unwrap_err();
        assert!(
            matches!(&error, Error::MissingFolder { folder: f } if *f == folder),
            "{error:?}"
        );
        assert!(
            error.to_string().contains(&*folder.to_string_lossy()),
            "{error}"
        );
    }

    #[test]
    fn folder_that_is_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        fs::write(&file, "x").unwrap();
        let error = write_if_changed(&file.join("out.conf"), "x").unwrap_err();
        assert!(
            matches!(&error, Error::NotAFolder { folder } if *folder == file),
            "{error:?}"
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    }

    #[test]
    fn target_that_is_a_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = write_if_changed(dir.path(), "x").unwrap_err();
        assert!(matches!(error, Error::IsAFolder { .. }), "{error:?}");
    }

    #[test]
    fn read_only_folder_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("conf");
        fs::create_dir(&folder).unwrap();
        let path = folder.join("out.conf");
        fs::write(&path, "old").unwrap();
        let Some(read_only) = make_read_only(&folder) else {
            eprintln!("skipped: cannot make a folder read-only here (root without mount rights)");
            return;
        };

        let error = write_if_changed(&path, "new").unwrap_err();

        assert!(matches!(error, Error::CreateTemp { .. }), "{error:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names(&folder), ["out.conf"]);
        drop(read_only);
    }

    #[test]
    fn failed_rename_keeps_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.conf");
        fs::write(&path, "old").unwrap();
        let before = fs::metadata(&path).unwrap().ino();

        let error = write_with_rename(&path, "new", &WriteOptions::default(), |from, _| {
            assert!(from.exists(), "the temporary file exists during the rename");
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        })
        .unwrap_err();

        assert!(matches!(error, Error::Rename { .. }), "{error:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::metadata(&path).unwrap().ino(), before);
        assert_eq!(names(dir.path()), ["out.conf"]);
    }

    #[test]
    fn busy_target_is_written_in_place() {
        // EBUSY is what renaming over a single-file bind mount returns; EXDEV also happens.
        for errno in [16, 18] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("out.conf");
            fs::write(&path, "old content that is longer").unwrap();
            fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
            let before = fs::metadata(&path).unwrap().ino();

            let outcome = write_with_rename(&path, "new", &WriteOptions::default(), |_, _| {
                Err(io::Error::from_raw_os_error(errno))
            })
            .unwrap();

            assert_eq!(
                outcome,
                WriteOutcome::Written {
                    bytes: 3,
                    in_place: true
                }
            );
            assert_eq!(fs::read_to_string(&path).unwrap(), "new");
            let after = fs::metadata(&path).unwrap();
            assert_eq!(after.ino(), before);
            assert_eq!(after.mode() & 0o7777, 0o640);
            assert_eq!(names(dir.path()), ["out.conf"]);
        }
    }

    #[test]
    fn bind_mounted_target_is_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("host.conf");
        let folder = dir.path().join("container");
        fs::create_dir(&folder).unwrap();
        let target = folder.join("out.conf");
        fs::write(&source, "old").unwrap();
        fs::write(&target, "").unwrap();
        let (Some(source_str), Some(target_str)) = (source.to_str(), target.to_str()) else {
            panic!("temporary paths are UTF-8");
        };
        if !mount(&["--bind", source_str, target_str]) {
            eprintln!("skipped: bind mounts need root (the seam test covers the fallback)");
            return;
        }
        let _unmount = Unmount(target.clone());

        let outcome = write_if_changed(&target, "new").unwrap();

        assert_eq!(
            outcome,
            WriteOutcome::Written {
                bytes: 3,
                in_place: true
            }
        );
        assert_eq!(fs::read_to_string(&source).unwrap(), "new");
        assert_eq!(names(&folder), ["out.conf"]);
        assert_eq!(
            write_if_changed(&target, "new").unwrap(),
            WriteOutcome::Unchanged
        );
    }

    #[test]
    fn symlinked_target_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        let link = dir.path().join("link.conf");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();

        assert_eq!(
            write_if_changed(&link, "new").unwrap(),
            WriteOutcome::Written {
                bytes: 3,
                in_place: false
            }
        );

        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(
            write_if_changed(&link, "new").unwrap(),
            WriteOutcome::Unchanged
        );
        assert_eq!(names(dir.path()), ["link.conf", "real.conf"]);
    }

    #[test]
    fn dangling_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let error = write_if_changed(&link, "x").unwrap_err();
        assert!(matches!(error, Error::DanglingSymlink { .. }), "{error:?}");
        assert!(!dir.path().join("nowhere").exists());
    }

    #[test]
    fn special_file_is_written_in_place() {
        assert_eq!(
            write_if_changed(Path::new("/dev/null"), "discarded").unwrap(),
            WriteOutcome::Written {
                bytes: 9,
                in_place: true
            }
        );
    }

    #[test]
    fn bare_file_name_lives_in_the_current_folder() {
        assert_eq!(folder_of(Path::new("out.conf")), PathBuf::from("."));
        assert_eq!(folder_of(Path::new("/out.conf")), PathBuf::from("/"));
        assert_eq!(folder_of(Path::new("a/b.conf")), PathBuf::from("a"));
    }
}
