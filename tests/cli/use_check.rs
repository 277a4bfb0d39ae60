//! The run check end to end: every planted problem in a fixture tree is found with its
//! file:line:column and none in a clean one; suspects are never printed in full;
//! `--record` makes `show` say where a secret is used.

use std::path::Path;

use super::support::{random_token, Vault};

/// A vault with a healthy secret, one set only in development, one expired, one
/// deleted; returns the healthy value.
fn vault_with_states() -> (Vault, String) {
    let vault = Vault::new();
    let value = random_token("tok_");
    for env in ["development", "staging", "production"] {
        let v = if env == "development" {
            value.clone()
        } else {
            random_token("tok_")
        };
        vault.set("payments-api-key", &v, &["--env", env]);
        vault.set("db-pass", &random_token("pw_"), &["--env", env]);
    }
    vault.set("dev-only", &random_token("d_"), &[]);
    vault.set("old", &random_token("o_"), &["--expires-in", "1s"]);
    vault.set("gone", &random_token("g_"), &[]);
    vault.run(&["rm", "gone"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    (vault, value)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_clean_tree_passes_and_lists_every_reference() {
    let (vault, _) = vault_with_states();
    let dir = vault.dir().join("clean");
    write(&dir, "flow.yaml", "steps:\n  - fetch:\n      headers:\n        Authorization: \"Bearer {{ secrets.payments-api-key }}\"\n      db:\n        source: secret\n        name: db-pass\n");
    write(&dir, "nested/app.json", "{\n  \"url\": \"coffer://default/production/db-pass\",\n  \"note\": \"{{ env.HOME }} is not ours\"\n}\n");
    write(&dir, ".git/ignored.yaml", "x: {{ secrets.MISSING }}\n");
    let run = vault.run(&["check", dir.to_str().unwrap()]).ok();
    assert!(
        run.stdout.contains("flow.yaml:4:32  payments-api-key  ok"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("flow.yaml:7:15  db-pass  ok"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout
            .contains("app.json:2:11  default/production/db-pass  ok"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("2 files, 3 references, 0 problems"),
        "{}",
        run.describe()
    );
}

#[test]
fn hidden_folders_where_workflows_live_are_checked_and_version_control_is_not() {
    // `.github/workflows` was skipped with every other hidden folder: a new user's
    // first `coffer check .` missed the credential in their deploy workflow.
    let vault = Vault::new();
    let dir = vault.dir().join("repo");
    // An access key id: AKIA and 16 characters of base32 (A-Z, 2-7).
    let base32: String = random_token("")
        .chars()
        .take(16)
        .map(|c| match c {
            '0' => 'Q',
            '1' => 'R',
            '8' => 'S',
            '9' => 'T',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    let key = format!("AKIA{base32}");
    write(
        &dir,
        ".github/workflows/deploy.yml",
        &format!("jobs:\n  deploy:\n    env:\n      AWS_ACCESS_KEY_ID: {key}\n"),
    );
    write(
        &dir,
        ".gitlab/ci.yml",
        "variables:\n  TOKEN: \"{{ secrets.MISSING }}\"\n",
    );
    write(&dir, ".git/config.yml", &format!("key: {key}\n"));
    write(
        &dir,
        "node_modules/pkg/config.yml",
        &format!("key: {key}\n"),
    );
    let run = vault.run(&["check", dir.to_str().unwrap()]).exit(1);
    assert!(run.stdout.contains("deploy.yml:4:"), "{}", run.describe());
    assert!(run.stdout.contains("ci.yml:2:"), "{}", run.describe());
    assert!(!run.stdout.contains("config.yml"), "{}", run.describe());
    assert!(
        !run.stdout.contains(&key),
        "the credential is printed: {}",
        run.describe()
    );
}

#[test]
fn every_planted_problem_is_found_and_no_suspect_is_printed() {
    let (vault, value) = vault_with_states();
    let dir = vault.dir().join("defs");
    let aws = "AKIAIOSFODNN7EXAMPLQ";
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let f = write(
        &dir,
        "bad.yaml",
        &format!(
            "a: {{{{ secrets.MISSING_ONE }}}}\nb: {{{{ secrets.dev-only }}}}\nc: {{{{ secrets.old }}}}\nd: {{{{ secrets.gone }}}}\ne: {{{{ secrets.bad name }}}}\naws_access_key_id: {aws}\napi_token: {value}\nsession: {jwt}\n"
        ),
    );
    write(
        &dir,
        "key.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
    );
    let run = vault
        .run(&["check", "--all-envs", dir.to_str().unwrap()])
        .exit(1);
    let out = &run.stdout;
    for expected in [
        format!("{f}:1:4  MISSING_ONE  missing"),
        format!("{f}:2:4  dev-only  no value in staging; no value in production"),
        format!("{f}:3:4  old  expired in development"),
        format!("{f}:4:4  gone  deleted"),
        format!("{f}:5:4  malformed reference"),
        format!("{f}:6:20  looks like"),
        format!("{f}:7:12  the current value of payments-api-key in development is written here"),
        format!("{f}:8:10  looks like"),
        "key.pem:1:1  looks like".to_string(),
    ] {
        assert!(
            out.contains(&expected),
            "missing {expected:?}: {}",
            run.describe()
        );
    }
    for secret in [value.as_str(), aws, jwt] {
        assert!(
            !out.contains(secret) && !run.stderr.contains(secret),
            "printed a suspect: {}",
            run.describe()
        );
    }
    // One environment (development unless --env says otherwise): dev-only is fine.
    let run = vault.run(&["check", "--json", &f]).exit(1);
    let doc = run.json();
    let dev_only = doc["references"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == "dev-only")
        .unwrap();
    assert_eq!(dev_only["problems"].as_array().unwrap().len(), 0);
    assert_eq!(doc["stored_values"][0]["line"], 7);
    assert!(!run.stdout.contains(&value));
    // The check is audited without what it found.
    let audit = vault
        .run(&["audit", "--json", "--action", "secret.check"])
        .ok()
        .stdout;
    assert!(audit.contains("\"problems\"") && !audit.contains(&value));
}

#[test]
fn record_makes_show_say_where_a_secret_is_used() {
    let (vault, _) = vault_with_states();
    let f = write(
        vault.dir(),
        "svc/flow.yaml",
        "x:\n  y: \"{{ secrets.db-pass }}\"\n",
    );
    vault.run(&["check", "--record", &f]).ok();
    let show = vault.run(&["show", "db-pass"]).ok().stdout;
    let canonical = std::fs::canonicalize(&f).unwrap();
    assert!(
        show.contains(&format!("{}:2:7", canonical.display())),
        "{show}"
    );
    let doc = vault.run(&["show", "db-pass", "--json"]).ok().json();
    assert_eq!(doc["used_in"][0]["line"], 2);
    // Re-recording the file replaces what it said before.
    std::fs::write(&f, "nothing here\n").unwrap();
    vault.run(&["check", "--record", &f]).ok();
    let doc = vault.run(&["show", "db-pass", "--json"]).ok().json();
    assert_eq!(doc["used_in"].as_array().unwrap().len(), 0);
}

/// Where-used records silence the "still referenced" warning before a delete, so
/// writing or erasing them is a `write`, audited as `usage.record` (counts only).
#[test]
fn recording_needs_write_and_is_audited() {
    let vault = Vault::new();
    let value = random_token("pw_");
    vault.set("db-pass", &value, &[]);
    let f = write(vault.dir(), "flow.yaml", "k: \"{{ secrets.db-pass }}\"\n");
    vault.run(&["check", "--record", &f]).ok();
    let viewer = vault.add_member("vera", "viewer");
    let developer = vault.add_member("dev", "developer");
    // A list-only member tries to erase the record by re-recording an emptied file.
    std::fs::write(&f, "nothing here\n").unwrap();
    for m in [&viewer, &developer] {
        let run = vault
            .cli()
            .acting_as(m)
            .run(&["check", "--record", &f])
            .refused(4);
        assert!(run.message().contains("write"), "{}", run.describe());
    }
    let doc = vault.run(&["show", "db-pass", "--json"]).ok().json();
    assert_eq!(doc["used_in"].as_array().unwrap().len(), 1, "{doc}");
    // Without --record the same members may still check.
    vault.cli().acting_as(&viewer).run(&["check", &f]).ok();
    let events = vault
        .run(&["audit", "--action", "usage.record", "--json"])
        .ok()
        .json();
    let events = events.as_array().unwrap();
    let outcomes: Vec<&str> = events
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "ok").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "denied").count(),
        2,
        "{events:?}"
    );
    let ok = events.iter().find(|e| e["outcome"] == "ok").unwrap();
    assert_eq!(ok["detail"]["references"], 1, "{ok}");
    assert!(!serde_json::to_string(&events).unwrap().contains(&value));
}

#[test]
fn from_env_checks_references_against_the_environment() {
    let vault = Vault::new();
    let f = write(
        vault.dir(),
        "ci.yaml",
        "k: {{ secrets.payments-api-key }}\n",
    );
    let run = vault
        .cli()
        .env("COFFER_VAULT", "/nonexistent/vault.db")
        .run(&["check", "--from-env", &f])
        .exit(1);
    assert!(
        run.stdout.contains("PAYMENTS_API_KEY is not set"),
        "{}",
        run.describe()
    );
    vault
        .cli()
        .env("COFFER_VAULT", "/nonexistent/vault.db")
        .env("PAYMENTS_API_KEY", "x")
        .run(&["check", "--from-env", &f])
        .ok();
}
