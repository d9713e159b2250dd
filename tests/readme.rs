//! The README stays true to the binary:
//!
//! - its command-line reference is the binary's own `--help` text, between
//!   `<!-- BEGIN help: pygen ARGS -->` and `<!-- END help -->` markers;
//! - every ```` ```jinja ```` block is a template that renders without error over the recorded
//!   state `examples/state.json` (with `pygen render`, from the repository root), and when a
//!   ```` ```text ```` block follows it (blank lines between are allowed), the output is exactly
//!   that block (blank lines at the end of the output aside).
//!
//! After changing a flag or an example, `PYGEN_UPDATE_README=1 cargo test --test readme`
//! rewrites the help blocks and the example outputs in place; review the diff before committing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::pygen_bin;

/// The repository root: the README, `examples/state.json` and the files examples read.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme_path() -> PathBuf {
    root().join("README.md")
}

/// Whether the test rewrites the README instead of failing on a difference.
fn updating() -> bool {
    std::env::var_os("PYGEN_UPDATE_README").is_some_and(|v| v != "0")
}

/// Runs pygen with `args` from the repository root, with an empty environment (so examples
/// that read variables see none), and returns its stdout, or its status and stderr.
fn try_pygen(args: &[&str]) -> Result<String, String> {
    let output = Command::new(pygen_bin())
        .args(args)
        .current_dir(root())
        .env_clear()
        // The help text wraps at the terminal width; without a terminal clap reads COLUMNS.
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pygen: {e}"));
    if !output.status.success() {
        return Err(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8(output.stdout).expect("pygen prints UTF-8"))
}

/// [`try_pygen`], panicking on failure.
fn pygen(args: &[&str]) -> String {
    try_pygen(args).unwrap_or_else(|e| panic!("pygen {args:?} failed ({e})"))
}

/// A fenced block of the README: its language and the line range of its content.
#[derive(Debug)]
struct Fence {
    /// The word after the opening backticks (`jinja`, `text`, `shell`, or empty).
    lang: String,
    /// Index of the first content line (after the opening fence).
    start: usize,
    /// Index of the closing fence.
    end: usize,
}

/// Every fenced block, in order. Fences are lines starting with three backticks.
fn fences(lines: &[&str]) -> Vec<Fence> {
    let mut found = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("```") else {
            continue;
        };
        match open.take() {
            None => open = Some((rest.trim().to_owned(), i + 1)),
            Some((lang, start)) => found.push(Fence {
                lang,
                start,
                end: i,
            }),
        }
    }
    assert!(open.is_none(), "README.md: a fenced block is not closed");
    found
}

/// The text of lines `start..end`, each ending with a newline.
fn block_text(lines: &[&str], start: usize, end: usize) -> String {
    lines[start..end].iter().map(|l| format!("{l}\n")).collect()
}

/// A replacement of lines `start..end` by `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Applies `edits` (sorted, not overlapping) to `lines`.
fn apply(lines: &[&str], edits: &[Edit]) -> String {
    let mut out = String::new();
    let mut next = 0;
    for edit in edits {
        out.push_str(&block_text(lines, next, edit.start));
        out.push_str(&edit.text);
        next = edit.end;
    }
    out.push_str(&block_text(lines, next, lines.len()));
    out
}

#[test]
fn help_blocks_are_the_binary_help() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md is readable");
    let lines: Vec<&str> = readme.lines().collect();
    let mut edits = Vec::new();
    let mut mismatches = Vec::new();
    let mut seen = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(args) = line
            .strip_prefix("<!-- BEGIN help: pygen")
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            continue;
        };
        let args: Vec<&str> = args.split_whitespace().collect();
        let end = lines[i..]
            .iter()
            .position(|l| *l == "<!-- END help -->")
            .map(|offset| i + offset)
            .unwrap_or_else(|| panic!("README.md line {}: no <!-- END help -->", i + 1));
        let expected = format!("```text\n{}```\n", pygen(&args));
        let actual = block_text(&lines, i + 1, end);
        if actual != expected {
            mismatches.push(format!("pygen {}", args.join(" ")));
            edits.push(Edit {
                start: i + 1,
                end,
                text: expected,
            });
        }
        seen.push(args.join(" "));
    }
    // Every command's flags are in the README.
    for command in [
        "--help",
        "worker --help",
        "state --help",
        "render --help",
        "healthcheck --help",
        "completions --help",
    ] {
        assert!(
            seen.iter().any(|s| s == command),
            "README.md has no help block for `pygen {command}`"
        );
    }
    if mismatches.is_empty() {
        return;
    }
    if updating() {
        std::fs::write(readme_path(), apply(&lines, &edits)).expect("README.md is writable");
        return;
    }
    panic!(
        "README.md: the help text of {mismatches:?} differs from the binary's; \
         run `PYGEN_UPDATE_README=1 cargo test --test readme` and review the diff"
    );
}

#[test]
fn template_examples_render_as_shown() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md is readable");
    let lines: Vec<&str> = readme.lines().collect();
    let fences = fences(&lines);
    let folder = tempfile::tempdir().expect("temporary folder");
    let mut edits = Vec::new();
    let mut failures = Vec::new();
    let mut errors = Vec::new();
    let mut examples = 0;
    for (n, fence) in fences.iter().enumerate() {
        if fence.lang != "jinja" {
            continue;
        }
        examples += 1;
        let template = block_text(&lines, fence.start, fence.end);
        let file = folder.path().join(format!("example-{n}.j2"));
        std::fs::write(&file, &template).expect("temporary file is writable");
        let file = file.to_str().expect("temporary paths are UTF-8");
        let output = match try_pygen(&[
            "render",
            "--state",
            "examples/state.json",
            "--template",
            file,
        ]) {
            // Blank lines at the end (a loop's last newline, the one `render` adds) are not
            // shown in the README.
            Ok(output) => format!("{}\n", output.trim_end_matches('\n')),
            Err(error) => {
                errors.push(format!(
                    "README.md line {}: the example does not render ({error}):\n{template}",
                    fence.start
                ));
                continue;
            }
        };
        // The output block, when one follows with only blank lines between.
        let next = fences.get(n + 1).filter(|next| {
            next.lang == "text"
                && lines[fence.end + 1..next.start - 1]
                    .iter()
                    .all(|l| l.trim().is_empty())
        });
        let Some(shown) = next else { continue };
        if block_text(&lines, shown.start, shown.end) != output {
            failures.push(format!(
                "README.md line {}: the example renders\n{output}but the README shows\n{}",
                fence.start,
                block_text(&lines, shown.start, shown.end)
            ));
            edits.push(Edit {
                start: shown.start,
                end: shown.end,
                text: output,
            });
        }
    }
    assert!(examples >= 10, "only {examples} template examples found");
    if updating() && !edits.is_empty() {
        std::fs::write(readme_path(), apply(&lines, &edits)).expect("README.md is writable");
        failures.clear();
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    if failures.is_empty() {
        return;
    }
    panic!(
        "{}\nrun `PYGEN_UPDATE_README=1 cargo test --test readme` and review the diff",
        failures.join("\n")
    );
}
