//! How the binary treats its output: a reader that goes away early (`coffer ls --json |
//! head -1`) ends the command quietly instead of crashing it.

use std::io::Read;

use super::support::Vault;

/// Runs `args` with stdout closed before the binary writes anything; returns the exit
/// code and stderr.
fn with_closed_stdout(vault: &Vault, args: &[&str]) -> (Option<i32>, String) {
    let mut child = vault.cli().spawn_piped(args);
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr pipe")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait for coffer");
    (status.code(), stderr)
}

fn vault_with_a_secret() -> Vault {
    let vault = Vault::new();
    vault.set("API_KEY", "value-for-pipes", &[]);
    vault
}

#[test]
fn a_closed_pipe_does_not_crash_reveal_tables_or_csv() {
    let vault = vault_with_a_secret();
    for args in [
        &["reveal", "API_KEY"][..],
        &["ls"],
        &["audit", "--csv"],
        &["role", "list"],
    ] {
        let (code, stderr) = with_closed_stdout(&vault, args);
        assert!(
            !stderr.contains("panicked") && code != Some(101),
            "`coffer {}` crashed on a closed pipe (exit {code:?}):\n{stderr}",
            args.join(" ")
        );
        assert!(!stderr.contains("value-for-pipes"));
    }
}

#[test]

fn a_closed_pipe_does_not_crash_json_or_show_output() {
    let vault = vault_with_a_secret();
    for args in [
        &["ls", "--json"][..],
        &["show", "API_KEY"],
        &["show", "API_KEY", "--json"],
        &["audit", "--json"],
        &["export"],
    ] {
        let (code, stderr) = with_closed_stdout(&vault, args);
        assert!(
            !stderr.contains("panicked") && code != Some(101),
            "`coffer {}` crashed on a closed pipe (exit {code:?}):\n{stderr}",
            args.join(" ")
        );
    }
}
