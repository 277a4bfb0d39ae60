//! Bad input: each refusal has the right exit code, one `error:` line, no value in
//! any output, and leaves the vault exactly as it was.

use std::time::Duration;

use super::support::{random_token, Run, Vault};

/// A vault with one secret and its state, against which refusals are checked.
struct Baseline {
    vault: Vault,
    before: String,
}

impl Baseline {
    fn new() -> Baseline {
        let vault = Vault::new();
        vault.set("EXISTING", &random_token("sk_existing_"), &[]);
        let before = vault.snapshot();
        Baseline { vault, before }
    }

    /// Asserts that `run` was refused with `code` and changed nothing.
    #[track_caller]
    fn refused(&self, run: Run, code: i32) -> Run {
        let run = run.refused(code);
        assert_eq!(
            self.vault.snapshot(),
            self.before,
            "the vault changed after a refused command: {}",
            run.describe()
        );
        run
    }
}

#[test]
fn wrong_passphrase_exits_6_and_every_retry_waits_longer() {
    let b = Baseline::new();
    // No snapshot between attempts: it unlocks as the owner, which resets the throttle.
    let attempt = |p: &str| b.vault.cli().passphrase(p).run(&["ls"]).refused(6);
    // The throttle doubles from 0.25 s and the key derivation costs the same each
    // time, so successive failures should differ by about 0.25 s and 0.5 s. Timing on
    // a loaded machine is noisy: a series that misses the (generous) bounds is retried
    // after a successful unlock, and only three misses in a row fail.
    let mut seen = Vec::new();
    let grows = (0..3).any(|_| {
        let runs = [
            attempt("wrong pass phrase 1"),
            attempt("wrong pass phrase 2"),
            attempt("wrong pass phrase 3"),
        ];
        for r in &runs {
            assert_eq!(
                r.message(),
                runs[0].message(),
                "every failure says the same"
            );
            assert!(!r.stderr.contains("wrong pass phrase"), "{}", r.describe());
        }
        // A snapshot unlocks as the owner: the vault is unchanged and the throttle resets.
        assert_eq!(
            b.vault.snapshot(),
            b.before,
            "failed unlocks changed the vault"
        );
        let after_reset = attempt("wrong pass phrase 4");
        b.vault.run(&["ls"]).ok();
        let [t1, t2, t3] = runs.map(|r| r.elapsed);
        let t4 = after_reset.elapsed;
        seen.push([t1, t2, t3, t4]);
        t2 > t1 + Duration::from_millis(100)
            && t3 > t2 + Duration::from_millis(200)
            && t4 + Duration::from_millis(300) < t3
    });
    assert!(
        grows,
        "the delay did not grow with each failure (and reset after a success); \
         [1st, 2nd, 3rd, after reset] per series: {seen:?}"
    );
}

#[test]
fn unknown_member_exits_6_with_the_same_message_as_a_wrong_passphrase() {
    let b = Baseline::new();
    let unknown = b.refused(b.vault.cli().member_name("mallory").run(&["ls"]), 6);
    let wrong = b.refused(
        b.vault.cli().passphrase("not the passphrase").run(&["ls"]),
        6,
    );
    assert_eq!(
        unknown.message(),
        wrong.message(),
        "the message must not tell members apart"
    );
    assert!(
        !unknown.stderr.contains("mallory"),
        "{}",
        unknown.describe()
    );
}

#[test]
fn bad_secret_names_exit_2() {
    let b = Baseline::new();
    let long = "N".repeat(129);
    for name in ["bad name!", "a/b", "ключ", "new\nline", long.as_str()] {
        let run = b
            .vault
            .cli()
            .stdin("v4lue-for-bad-name")
            .run(&["set", name, "--value-stdin"]);
        let run = b.refused(run, 2);
        assert!(!run.stderr.contains("v4lue"), "{}", run.describe());
    }
    let run = b.refused(
        b.vault
            .cli()
            .stdin("x")
            .run(&["set", &long, "--value-stdin"]),
        2,
    );
    assert!(run.message().contains("128"), "{}", run.describe());
    // The boundary itself is accepted.
    b.vault.set(&"N".repeat(128), "at-the-limit", &[]);
}

#[test]
fn empty_or_non_utf8_values_exit_2() {
    let b = Baseline::new();
    for value in ["", "\n"] {
        b.refused(
            b.vault
                .cli()
                .stdin(value)
                .run(&["set", "EMPTY", "--value-stdin"]),
            2,
        );
    }
    // No input at all (stdin closed) is an empty value too.
    b.refused(b.vault.run(&["set", "EMPTY", "--value-stdin"]), 2);
    b.refused(
        b.vault
            .cli()
            .stdin(vec![b'o', b'k', 0xff, 0xfe])
            .run(&["set", "BINARY", "--value-stdin"]),
        2,
    );
}

#[test]
fn a_value_over_64_kib_exits_2_and_64_kib_is_accepted() {
    let b = Baseline::new();
    let over = "a".repeat(64 * 1024 + 1);
    let run = b.refused(
        b.vault
            .cli()
            .stdin(over)
            .run(&["set", "BIG", "--value-stdin"]),
        2,
    );
    assert!(!run.stderr.contains("aaaaaaaa"), "{}", run.describe());
    let huge = vec![b'b'; 10 * 1024 * 1024];
    b.refused(
        b.vault
            .cli()
            .stdin(huge)
            .run(&["set", "BIG", "--value-stdin"]),
        2,
    );
    let exact = "c".repeat(64 * 1024);
    b.vault.set("BIG", &exact, &[]);
    assert_eq!(b.vault.reveal("BIG", &[]), exact);
}

#[test]
fn a_value_given_as_an_argument_is_refused_and_never_echoed() {
    let b = Baseline::new();
    let value = random_token("sk_value_");
    let flag = format!("--value={value}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["set", "API_KEY", &value],
        vec!["set", "API_KEY", "--value", &value],
        vec!["set", "API_KEY", &flag],
        vec!["set", "EXISTING", &value],
        vec!["set", "API_KEY", "--generate", &value],
        vec!["--json", "set", "API_KEY", "--value", &value],
    ];
    for args in cases {
        let run = b.vault.run(&args);
        assert!(
            !run.stdout.contains(&value) && !run.stderr.contains(&value),
            "the value was echoed: {}",
            run.describe()
        );
        b.refused(run, 2);
    }
    // Also when stdin carries a value: the argument is still refused.
    let run = b
        .vault
        .cli()
        .stdin("from-stdin")
        .run(&["set", "API_KEY", "--value-stdin", &value]);
    assert!(!run.stderr.contains(&value), "{}", run.describe());
    b.refused(run, 2);
}

#[test]
fn a_malformed_env_file_names_the_line_and_imports_nothing() {
    let b = Baseline::new();
    let hidden = random_token("sk_in_bad_line_");
    let file = b.vault.dir().join("bad.env");
    std::fs::write(
        &file,
        format!("GOOD_ONE=first\nGOOD_TWO=second\n\nbad name={hidden}\nGOOD_THREE=third\n"),
    )
    .unwrap();
    let run = b.refused(b.vault.run(&["import", file.to_str().unwrap()]), 2);
    assert!(run.message().contains("line 4"), "{}", run.describe());
    assert!(!run.stderr.contains(&hidden), "{}", run.describe());

    std::fs::write(&file, "A=1\nB=2\nthis line is broken\n").unwrap();
    let run = b.refused(b.vault.run(&["import", file.to_str().unwrap()]), 2);
    assert!(run.message().contains("line 3"), "{}", run.describe());

    std::fs::write(&file, format!("A=1\nB=\"never closed {hidden}\n")).unwrap();
    let run = b.refused(b.vault.run(&["import", file.to_str().unwrap()]), 2);
    assert!(run.message().contains("line 2"), "{}", run.describe());
    assert!(!run.stderr.contains(&hidden), "{}", run.describe());

    let json = b.vault.dir().join("bad.json");
    std::fs::write(&json, format!("{{\"OK\": \"x\", \"ALSO\": \"{hidden}\",}}")).unwrap();
    let run = b.refused(b.vault.run(&["import", json.to_str().unwrap()]), 2);
    assert!(!run.stderr.contains(&hidden), "{}", run.describe());
}

#[test]
fn a_key_given_twice_keeps_its_last_value_and_an_empty_one_is_skipped_with_a_note() {
    // As python-dotenv, dotenvy and motdotla/dotenv read it: the last value wins; an
    // empty value cannot be stored, and must not cost the other keys their import.
    let vault = Vault::new();
    let file = vault.dir().join("dup.env");
    std::fs::write(
        &file,
        "DUP_A=first-value\nDUP_B=2\nEMPTY=\nDUP_A=last-value\nPEM='-----BEGIN KEY-----\nabc\n-----END KEY-----'\n",
    )
    .unwrap();
    let run = vault.run(&["import", file.to_str().unwrap()]).ok();
    assert!(
        run.stdout.contains("imported 3 secrets"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr
            .contains("line 4: DUP_A is given again; the later value is kept"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr
            .contains("line 3 (EMPTY): the value is empty; skipped"),
        "{}",
        run.describe()
    );
    assert!(!run.stderr.contains("first-value") && !run.stderr.contains("last-value"));
    assert_eq!(vault.reveal("DUP_A", &[]), "last-value");
    assert_eq!(
        vault.reveal("PEM", &[]),
        "-----BEGIN KEY-----\nabc\n-----END KEY-----"
    );
    vault.run(&["reveal", "EMPTY"]).refused(3);
}

#[test]
fn an_import_that_fails_while_writing_leaves_nothing_behind() {
    let vault = Vault::new();
    let bob = vault.add_member("bob", "admin");
    // Bob's private secret takes the name; the owner's import reaches it last.
    vault
        .cli()
        .acting_as(&bob)
        .stdin("bobs-own")
        .run(&["set", "TAKEN", "--value-stdin", "--scope", "user"])
        .ok();
    let before = vault.snapshot();
    let file = vault.dir().join("late-conflict.env");
    let mut text: String = (0..50)
        .map(|i| format!("FINE_{i:02}=value-{i}\n"))
        .collect();
    text.push_str("TAKEN=clash\n");
    std::fs::write(&file, text).unwrap();
    let run = vault.run(&["import", file.to_str().unwrap()]).refused(5);
    assert!(!run.stderr.contains("clash"), "{}", run.describe());
    assert_eq!(
        vault.snapshot(),
        before,
        "a failed import must write nothing"
    );
}

#[test]
fn invalid_json_for_a_json_secret_exits_2_without_echoing_it() {
    let b = Baseline::new();
    let hidden = random_token("sk_json_");
    for bad in [
        format!("{{\"key\": \"{hidden}\""),
        format!("{{\"key\": {hidden}}}"),
        format!("not json {hidden}"),
    ] {
        let run = b.refused(
            b.vault
                .cli()
                .stdin(bad)
                .run(&["set", "SA_JSON", "--value-stdin", "--type", "json"]),
            2,
        );
        assert!(!run.stderr.contains(&hidden), "{}", run.describe());
    }
    b.vault.set(
        "SA_JSON",
        &format!("{{\"key\": \"{hidden}\"}}"),
        &["--type", "json"],
    );
}

#[test]
fn a_multiline_value_for_a_string_secret_exits_2() {
    let b = Baseline::new();
    let run = b.refused(
        b.vault
            .cli()
            .stdin("line one\nline two sk_hidden_ml\n")
            .run(&["set", "ONE_LINE", "--value-stdin"]),
        2,
    );
    assert!(!run.stderr.contains("sk_hidden_ml"), "{}", run.describe());
}

#[test]
fn unknown_roles_environments_workspaces_projects_and_members_are_refused() {
    let b = Baseline::new();
    let v = &b.vault;
    let with_pass = || v.cli().env("COFFER_NEW_PASSPHRASE", "new member pass 1");
    // Unknown role: invalid input.
    b.refused(
        with_pass().run(&["member", "add", "bob", "--role", "superuser"]),
        2,
    );
    b.refused(v.run(&["member", "grant", "alice", "root"]), 2);
    // Unknown environment, workspace, project, member: not found.
    b.refused(
        v.cli()
            .stdin("x")
            .run(&["set", "EXISTING", "--value-stdin", "--env", "prod"]),
        3,
    );
    b.refused(v.run(&["reveal", "EXISTING", "--env", "prod"]), 3);
    b.refused(v.run(&["ls", "--env", "prod"]), 3);
    b.refused(
        v.run(&["rollback", "EXISTING", "--env", "prod", "--to", "1"]),
        3,
    );
    b.refused(v.run(&["--workspace", "nowhere", "ls"]), 3);
    b.refused(
        v.cli()
            .stdin("x")
            .run(&["--workspace", "nowhere", "set", "K", "--value-stdin"]),
        3,
    );
    b.refused(v.run(&["--project", "nothing", "ls"]), 3);
    b.refused(v.run(&["member", "grant", "nobody", "admin"]), 3);
    b.refused(v.run(&["member", "remove", "nobody"]), 3);
    b.refused(v.run(&["show", "MISSING"]), 3);
    b.refused(v.run(&["reveal", "MISSING"]), 3);
    b.refused(v.run(&["reveal", "EXISTING", "--version", "9"]), 3);
    b.refused(v.run(&["rm", "MISSING"]), 3);
    // Other invalid words: type, scope, duration, setting.
    for extra in [
        ["--type", "yaml"],
        ["--scope", "team"],
        ["--expires-in", "soon"],
        ["--rotate-every", "0s"],
    ] {
        let mut args = vec!["set", "NEW_ONE", "--value-stdin"];
        args.extend_from_slice(&extra);
        b.refused(v.cli().stdin("x").run(&args), 2);
    }
    b.refused(v.run(&["settings", "set", "colour", "blue"]), 2);
    b.refused(v.run(&["settings", "set", "max-versions", "0"]), 2);
    // A missing file to import is invalid input, not a crash.
    b.refused(v.run(&["import", "/nonexistent/secrets.env"]), 2);
}

#[test]
fn json_errors_carry_the_code_on_stdout() {
    let b = Baseline::new();
    let run = b.vault.run(&["--json", "reveal", "MISSING"]).exit(3);
    let doc = run.json();
    assert_eq!(doc["error"]["code"], "not_found", "{}", run.describe());
    assert!(doc["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("MISSING")));
    let run = b
        .vault
        .cli()
        .passphrase("not the passphrase")
        .run(&["--json", "ls"])
        .exit(6);
    assert_eq!(run.json()["error"]["code"], "auth", "{}", run.describe());
}
