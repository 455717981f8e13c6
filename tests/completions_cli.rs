//! Shell completions and the man page, generated from the CLI definition:
//! the scripts parse in their shells and name every subcommand.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_notices");
const SUBCOMMANDS: [&str; 8] = ["search", "import", "export", "backup", "doctor", "digest", "serve", "crawl"];

fn generate(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `SHELL -n FILE`: parse without running.
fn parses(shell: &str, script: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(format!("notices.{shell}"));
    std::fs::write(&file, script).unwrap();
    let out = Command::new(shell)
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{shell} is needed for this test (.ci/test installs it): {e}"));
    assert!(out.status.success(), "{shell} -n: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bash_completions_parse_and_know_every_subcommand() {
    let script = generate(&["completions", "bash"]);
    parses("bash", &script);
    for sub in SUBCOMMANDS {
        assert!(script.contains(sub), "{sub}");
    }
    assert!(script.contains("complete -F"), "registers the function");
}

#[test]
fn zsh_completions_parse_and_know_every_subcommand() {
    let script = generate(&["completions", "zsh"]);
    assert!(script.starts_with("#compdef notices"));
    parses("zsh", &script);
    for sub in SUBCOMMANDS {
        assert!(script.contains(&format!("'{sub}:")), "{sub}");
    }
}

#[test]
fn fish_and_powershell_completions_and_the_man_page_are_generated() {
    assert!(generate(&["completions", "fish"]).contains("complete -c notices"));
    assert!(generate(&["completions", "powershell"]).contains("Register-ArgumentCompleter"));
    let bad = Command::new(BIN).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let man = generate(&["man"]);
    assert!(man.starts_with(".ie") || man.contains(".TH notices"), "{}", &man[..200.min(man.len())]);
    for sub in SUBCOMMANDS {
        assert!(man.contains(sub), "the man page lists {sub}");
    }
}
