//! Leaks: values set every way the CLI allows never appear in the vault's files (the
//! database and its write-ahead log, read raw), in any stderr, in `show`, `ls`,
//! `export` or the audit trail — with tracing turned all the way up.

use super::support::{contains_bytes, random_token, Vault};

#[test]
fn no_value_reaches_the_vault_files_any_output_or_the_logs() {
    let vault = Vault::with_env(&[("COFFER_LOG", "trace"), ("RUST_BACKTRACE", "1")]);
    // An open connection that has read once keeps the write-ahead log in place as
    // the processes leave it (the last connection to close would fold it back).
    let held = vault.db();
    let _: i64 = held
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();

    let mut values: Vec<String> = Vec::new();
    let mut remember = |v: String| -> String {
        values.push(v.clone());
        v
    };

    let piped = remember(random_token("sk_stdin_"));
    vault.set("PIPED", &piped, &["--description", "set from stdin"]);
    let pem_body = remember(random_token("MIIEpem"));
    vault.set(
        "PEM",
        &format!("-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----\n"),
        &["--type", "multiline"],
    );
    let json_key = remember(random_token("sa_private_"));
    vault.set(
        "SERVICE_ACCOUNT",
        &format!("{{\"type\":\"service_account\",\"private_key\":\"{json_key}\"}}"),
        &["--type", "json"],
    );
    let prod = remember(random_token("sk_prod_"));
    vault.set("PIPED", &prod, &["--env", "production"]);
    let old = remember(random_token("sk_old_"));
    let new = remember(random_token("sk_new_"));
    vault.set("ROTATED", &old, &[]);
    vault.set("ROTATED", &new, &["--rotate-every", "30d"]);
    vault
        .run(&["rollback", "ROTATED", "--env", "development", "--to", "1"])
        .ok();
    let private = remember(random_token("sk_user_"));
    vault.set("MINE", &private, &["--scope", "user"]);
    let expiring = remember(random_token("sk_ttl_"));
    vault.set("SHORT", &expiring, &["--expires-in", "1h"]);

    let dotenv = [
        remember(random_token("env_a_")),
        remember(random_token("env_b_")),
        remember(random_token("env_c_")),
    ];
    let env_file = vault.dir().join("import.env");
    std::fs::write(
        &env_file,
        format!(
            "# comment\nIMPORTED_A={}\nexport IMPORTED_B='{}'\nIMPORTED_C=\"{}\"\n",
            dotenv[0], dotenv[1], dotenv[2]
        ),
    )
    .unwrap();
    vault
        .run(&["import", env_file.to_str().unwrap(), "--env", "staging"])
        .ok();
    let json_values = [
        remember(random_token("json_a_")),
        remember(random_token("json_b_")),
    ];
    let json_file = vault.dir().join("import.json");
    std::fs::write(
        &json_file,
        format!(
            "{{\"FROM_JSON_A\": \"{}\", \"FROM_JSON_B\": {{\"nested\": \"{}\"}}}}",
            json_values[0], json_values[1]
        ),
    )
    .unwrap();
    vault.run(&["import", json_file.to_str().unwrap()]).ok();

    vault
        .run(&["set", "GENERATED", "--generate", "--length", "48"])
        .ok();
    let generated = vault.reveal("GENERATED", &["--reason", "leak test"]);
    assert_eq!(generated.len(), 48);
    values.push(generated.clone());

    // Refused input that carried a value.
    let in_bad_json = random_token("sk_badjson_");
    vault
        .cli()
        .stdin(format!("{{\"k\": \"{in_bad_json}\""))
        .run(&["set", "BROKEN", "--value-stdin", "--type", "json"])
        .refused(2);
    values.push(in_bad_json);
    let in_argument = random_token("sk_argument_");
    vault
        .run(&["set", "ARGUED", "--value", &in_argument])
        .refused(2);
    values.push(in_argument.clone());
    let bad_env = vault.dir().join("bad.env");
    let in_bad_env = random_token("sk_badenv_");
    std::fs::write(&bad_env, format!("OK=1\nNOT A NAME={in_bad_env}\n")).unwrap();
    vault.run(&["import", bad_env.to_str().unwrap()]).refused(2);
    values.push(in_bad_env);
    vault.run(&["reveal", "SHORT", "--version", "7"]).refused(3);

    // Everything that shows metadata.
    for args in [
        &["ls"][..],
        &["ls", "--json"],
        &["ls", "--env", "staging"],
        &["show", "PIPED"],
        &["show", "PIPED", "--json"],
        &["show", "ROTATED", "--json"],
        &["show", "PEM"],
        &["show", "SERVICE_ACCOUNT", "--json"],
        &["show", "IMPORTED_B"],
        &["show", "FROM_JSON_B", "--json"],
        &["show", "GENERATED"],
        &["show", "MINE", "--json"],
        &["export"],
        &["audit"],
        &["audit", "--json"],
        &["audit", "--csv"],
        &["audit", "--json", "--secret", "GENERATED"],
        &["audit", "verify"],
        &["member", "list", "--json"],
        &["settings", "get"],
    ] {
        vault.run(args).ok();
    }
    vault.run(&["rm", "PEM"]).ok();
    vault.run(&["ls", "--deleted", "--json"]).ok();
    vault.run(&["restore", "PEM"]).ok();

    // Every value is really stored (so the searches below look for something real).
    assert_eq!(vault.reveal("PIPED", &["--env", "production"]), prod);
    assert_eq!(vault.reveal("ROTATED", &[]), old);
    assert_eq!(vault.reveal("IMPORTED_C", &["--env", "staging"]), dotenv[2]);

    let transcript = vault.transcript();
    for run in &transcript {
        let is_reveal = run.args.first().map(String::as_str) == Some("reveal");
        for v in &values {
            assert!(
                !run.stderr.contains(v.as_str()),
                "a value reached stderr: {}",
                run.describe()
            );
            assert!(
                is_reveal || !run.stdout.contains(v.as_str()),
                "a value reached the output of a command that is not reveal: {}",
                run.describe()
            );
        }
    }
    assert!(
        transcript.iter().any(|r| r.args[0] == "reveal"),
        "the transcript records reveals"
    );

    let wal = vault.dir().join("vault.db-wal");
    let wal_bytes = std::fs::read(&wal).expect("the write-ahead log is still there");
    assert!(
        !wal_bytes.is_empty(),
        "the write-ahead log holds the writes"
    );
    let main = std::fs::read(&vault.path).unwrap();
    for (file, bytes) in [("vault.db", &main), ("vault.db-wal", &wal_bytes)] {
        for v in &values {
            assert!(
                !contains_bytes(bytes, v.as_bytes()),
                "a value ({}…) is in plain text in {file}",
                &v[..8]
            );
        }
    }
    drop(held);
    // After the last connection closes and folds the log in, still nothing.
    let folded = std::fs::read(&vault.path).unwrap();
    for v in &values {
        assert!(
            !contains_bytes(&folded, v.as_bytes()),
            "{}… in vault.db",
            &v[..8]
        );
    }
}
