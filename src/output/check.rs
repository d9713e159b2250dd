//! Checked writes: a command (`check = "nginx -t -c {file}"`) must accept the new content
//! before it replaces the target.
//!
//! The command runs through `/bin/sh -c` with `{file}` replaced by the shell-quoted path of
//! the candidate file, which lies beside the target (same folder, hidden name), so relative
//! includes in it resolve as they will from the target. Its standard output and error are
//! kept (up to [`OUTPUT_LIMIT`] bytes) for the log. A command that does not end within its
//! timeout is killed and counts as failed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::Check;

/// The most output of a check kept for the log, in bytes.
pub const OUTPUT_LIMIT: usize = 4096;

/// How a check failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The command could not be started.
    #[error("cannot run check `{command}`: {source}")]
    Spawn {
        /// The command line, `{file}` replaced.
        command: String,
        /// Why it could not start.
        #[source]
        source: std::io::Error,
    },
    /// The command ran and refused the content.
    #[error(
        "check `{command}` refused the new content ({status}){}",
        output_suffix(output)
    )]
    Refused {
        /// The command line, `{file}` replaced.
        command: String,
        /// How it ended (`exit status 1`, `signal 9`).
        status: String,
        /// What it printed, trimmed.
        output: String,
    },
    /// The command did not end in time and was killed.
    #[error("check `{command}` did not finish within {}s and was stopped{}", timeout.as_secs_f64(), output_suffix(output))]
    Timeout {
        /// The command line, `{file}` replaced.
        command: String,
        /// The timeout that ran out.
        timeout: Duration,
        /// What it printed before it was stopped, trimmed.
        output: String,
    },
}

/// `: <output>` when there is output.
fn output_suffix(output: &str) -> String {
    if output.is_empty() {
        String::new()
    } else {
        format!(": {output}")
    }
}

/// The check's command line for the candidate file at `file`.
pub fn command_line(check: &Check, file: &Path) -> String {
    check
        .command
        .replace("{file}", &shell_quote(&file.to_string_lossy()))
}

/// Runs `check` on the candidate file `file`; `Ok` holds what it printed when it accepted.
pub fn run(check: &Check, file: &Path) -> Result<String, CheckError> {
    let command = command_line(check, file);
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CheckError::Spawn {
            command: command.clone(),
            source,
        })?;
    // Both pipes are drained on their own threads, so a chatty command never blocks on a
    // full pipe while this thread waits for it to exit.
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut pipe| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
            kept
        })
    })
    .collect();
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= check.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(source) => {
                let _ = child.kill();
                return Err(CheckError::Spawn { command, source });
            }
        }
    };
    let mut output = Vec::new();
    for reader in readers {
        // A reader thread only ends when its pipe closes; after a kill that may take until
        // the command's own children exit, so a timed-out check does not wait for them.
        if status.is_some() || reader.is_finished() {
            if let Ok(kept) = reader.join() {
                output.extend_from_slice(&kept);
            }
        }
    }
    let output = String::from_utf8_lossy(&output).trim().to_owned();
    match status {
        None => Err(CheckError::Timeout {
            command,
            timeout: check.timeout,
            output,
        }),
        Some(status) if status.success() => Ok(output),
        Some(status) => Err(CheckError::Refused {
            command,
            status: describe_status(status),
            output,
        }),
    }
}

/// `exit status N` or `signal N`.
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// `value` as one shell word: single-quoted, with single quotes spelled `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(command: &str) -> Check {
        Check {
            command: command.to_owned(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn the_file_placeholder_is_one_quoted_word() {
        let line = command_line(&check("cat {file} >/dev/null"), Path::new("/tmp/a b'c"));
        assert_eq!(line, r"cat '/tmp/a b'\''c' >/dev/null");
    }

    #[test]
    fn an_accepting_check_passes_with_its_output() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("candidate");
        std::fs::write(&file, "good\n").expect("write");
        let output = run(&check("grep -q good {file} && echo fine"), &file).expect("accepted");
        assert_eq!(output, "fine");
    }

    #[test]
    fn a_refusing_check_reports_its_status_and_output() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("candidate");
        std::fs::write(&file, "bad\n").expect("write");
        let err = run(&check("echo 'syntax error' >&2; exit 3"), &file).expect_err("refused");
        let message = err.to_string();
        assert!(message.contains("exit status 3"), "{message}");
        assert!(message.contains("syntax error"), "{message}");
    }

    #[test]
    fn a_slow_check_is_stopped_at_its_timeout() {
        let started = Instant::now();
        let slow = Check {
            command: "sleep 5".to_owned(),
            timeout: Duration::from_millis(200),
        };
        let err = run(&slow, Path::new("/nonexistent")).expect_err("timed out");
        assert!(matches!(err, CheckError::Timeout { .. }), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the check was not stopped"
        );
    }
}
