//! `pygen completions <shell>`: the binary prints a completion script for each shell clap
//! supports, naming the main command's flags and the subcommands with theirs.

mod common;

use common::run_pygen;

/// Runs `pygen completions SHELL` and returns the script; fails unless it exits 0.
fn completions(shell: &str) -> String {
    let output = run_pygen(["completions", shell]);
    assert!(
        output.status.success(),
        "pygen completions {shell} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "pygen completions {shell} wrote to stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the script is UTF-8")
}

/// Flags and subcommands every script must know.
const EXPECTED: [&str; 12] = [
    "--template",
    "--target",
    "--signal",
    "--restart",
    "--one-shot",
    "--metrics-address",
    "--manager",
    "--state",
    "worker",
    "render",
    "healthcheck",
    "completions",
];

#[test]
fn bash_zsh_and_fish_scripts_name_every_flag_and_subcommand() {
    // Each shell's own syntax, so a script for the wrong shell fails too.
    let shells = [
        ("bash", "complete -F _pygen"),
        ("zsh", "#compdef pygen"),
        ("fish", "complete -c pygen"),
    ];
    for (shell, marker) in shells {
        let script = completions(shell);
        assert!(
            script.contains(marker),
            "{shell}: no {marker:?} in:\n{script}"
        );
        for word in EXPECTED {
            // fish names long flags as `-l template`.
            let fish_word = word.strip_prefix("--").map(|flag| format!("-l {flag}"));
            let found = match (shell, fish_word) {
                ("fish", Some(fish_word)) => script.contains(&fish_word),
                _ => script.contains(word),
            };
            assert!(found, "{shell}: no {word:?} in the script");
        }
    }
}

#[test]
fn other_shells_are_supported_too() {
    for shell in ["elvish", "powershell"] {
        let script = completions(shell);
        assert!(script.contains("--template"), "{shell}: {script}");
    }
}

#[test]
fn a_reader_that_stops_early_is_no_crash() {
    // `pygen completions bash | head -n 1`: the pipe closes after the first line.
    let mut child = std::process::Command::new(common::pygen_bin())
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pygen starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("pygen exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = run_pygen(["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tcsh"), "{stderr}");
    assert!(
        stderr.contains("bash"),
        "the error lists the shells: {stderr}"
    );
    assert!(output.stdout.is_empty());
}
