//! The life of a secret through the CLI: rotation with check-and-set, rollback,
//! expiry, the version limit, delete / restore / purge, and comparing values across
//! environments without revealing them.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::{random_token, Vault};

/// The version entries of `show --json` for one environment, newest first.
fn versions(show: &Value, environment: &str) -> Vec<Value> {
    show["versions"]
        .as_array()
        .expect("show --json has versions")
        .iter()
        .filter(|v| v["environment"] == environment)
        .cloned()
        .collect()
}

fn version(show: &Value, environment: &str, n: i64) -> Value {
    versions(show, environment)
        .into_iter()
        .find(|v| v["version"] == n)
        .unwrap_or_else(|| panic!("no version {n} in {environment}: {show}"))
}

fn env_status(doc: &Value, environment: &str) -> Value {
    doc["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .find(|e| e["environment"] == environment)
        .cloned()
        .unwrap_or_else(|| panic!("no {environment} in {doc}"))
}

#[test]
fn rollback_writes_a_new_version_holding_the_old_value() {
    let vault = Vault::new();
    let values: Vec<String> = (1..=3)
        .map(|i| random_token(&format!("sk_v{i}_")))
        .collect();
    for v in &values {
        vault.set("API_KEY", v, &[]);
    }
    let run = vault
        .run(&["rollback", "API_KEY", "--env", "development", "--to", "1"])
        .ok();
    assert!(run.stdout.contains("version 4"), "{}", run.describe());
    assert_eq!(vault.reveal("API_KEY", &[]), values[0]);
    // History is kept, not rewritten.
    assert_eq!(vault.reveal("API_KEY", &["--version", "3"]), values[2]);
    let show = vault.run(&["show", "API_KEY", "--json"]).ok().json();
    let v4 = version(&show, "development", 4);
    assert_eq!(v4["current"], true);
    assert_eq!(
        v4["value_label"],
        version(&show, "development", 1)["value_label"]
    );
    assert_ne!(
        v4["value_label"],
        version(&show, "development", 3)["value_label"]
    );
    assert_eq!(version(&show, "development", 3)["current"], false);
    // Rolling back to the current version or to one that never was is refused.
    vault
        .run(&["rollback", "API_KEY", "--env", "development", "--to", "4"])
        .refused(5);
    vault
        .run(&["rollback", "API_KEY", "--env", "development", "--to", "9"])
        .refused(3);
    vault
        .run(&["rollback", "API_KEY", "--env", "staging", "--to", "1"])
        .refused(3);
    let trail = vault
        .run(&["audit", "--json", "--action", "secret.rollback"])
        .ok()
        .json();
    assert_eq!(trail.as_array().map(Vec::len), Some(1), "{trail}");
    assert_eq!(trail[0]["detail"]["from_version"], 1);
}

#[test]
fn check_and_set_refuses_a_stale_version_and_writes_nothing() {
    let vault = Vault::new();
    vault.set("TOKEN", "first", &["--if-version", "0"]);
    vault.set("TOKEN", "second", &["--if-version", "1"]);
    let before = vault.snapshot();
    for stale in ["1", "0", "7"] {
        let run = vault
            .cli()
            .stdin("lost-update")
            .run(&["set", "TOKEN", "--value-stdin", "--if-version", stale])
            .refused(5);
        assert!(run.message().contains("version"), "{}", run.describe());
    }
    assert_eq!(vault.snapshot(), before, "a conflict wrote something");
    assert_eq!(vault.reveal("TOKEN", &[]), "second");
    // The check is per environment: production has no value yet.
    vault.set(
        "TOKEN",
        "prod-first",
        &["--env", "production", "--if-version", "0"],
    );
}

#[test]
fn an_expired_value_is_not_found_until_it_is_set_again() {
    let vault = Vault::new();
    let set_at = Instant::now();
    vault.set("SHORT_LIVED", "soon-gone", &["--expires-in", "1s"]);
    vault.set("LONG_LIVED", "still-here", &["--expires-in", "1d"]);
    std::thread::sleep(Duration::from_secs(2).saturating_sub(set_at.elapsed()));
    let run = vault.run(&["reveal", "SHORT_LIVED"]).refused(3);
    assert!(run.message().contains("expired"), "{}", run.describe());
    assert!(!run.stderr.contains("soon-gone"));
    let ls = vault.run(&["ls", "--json"]).ok().json();
    let state = |name: &str| {
        let item = ls
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {ls}"));
        env_status(item, "development")["state"].clone()
    };
    assert_eq!(state("SHORT_LIVED"), "expired");
    assert_eq!(state("LONG_LIVED"), "set");
    let export = vault.run(&["export"]).ok().json();
    let set_in = |name: &str| {
        export["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["set_in"].clone())
    };
    assert_eq!(set_in("SHORT_LIVED"), Some(serde_json::json!([])));
    assert_eq!(vault.reveal("LONG_LIVED", &[]), "still-here");
    // A new value makes it usable again.
    vault.set("SHORT_LIVED", "renewed", &[]);
    assert_eq!(vault.reveal("SHORT_LIVED", &[]), "renewed");
}

#[test]
fn max_versions_destroys_the_oldest_ciphertext() {
    let vault = Vault::new();
    vault.run(&["settings", "set", "max-versions", "2"]).ok();
    let values: Vec<String> = (1..=5)
        .map(|i| random_token(&format!("sk_r{i}_")))
        .collect();
    for v in &values {
        vault.set("ROTATED", v, &[]);
    }
    let show = vault.run(&["show", "ROTATED", "--json"]).ok().json();
    for n in 1..=3 {
        assert_eq!(version(&show, "development", n)["destroyed"], true, "v{n}");
        vault
            .run(&["reveal", "ROTATED", "--version", &n.to_string()])
            .refused(3);
    }
    assert_eq!(version(&show, "development", 4)["destroyed"], false);
    assert_eq!(vault.reveal("ROTATED", &["--version", "4"]), values[3]);
    assert_eq!(vault.reveal("ROTATED", &[]), values[4]);
    vault
        .run(&["rollback", "ROTATED", "--env", "development", "--to", "2"])
        .refused(3);
    // Destroyed means gone from the file, not hidden.
    let kept: Vec<i64> = {
        let db = vault.db();
        let mut stmt = db
            .prepare(
                "SELECT v.version FROM versions v JOIN secrets s ON s.id = v.secret_id \
                 WHERE s.name = 'ROTATED' AND v.ciphertext IS NOT NULL ORDER BY v.version",
            )
            .unwrap();
        let kept = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        kept
    };
    assert_eq!(kept, [4, 5]);
    // Lowering the limit applies at once to what is already stored.
    vault.run(&["settings", "set", "max-versions", "1"]).ok();
    vault
        .run(&["reveal", "ROTATED", "--version", "4"])
        .refused(3);
    assert_eq!(vault.reveal("ROTATED", &[]), values[4]);
}

#[test]
fn delete_restore_and_purge() {
    let vault = Vault::new();
    let value = random_token("sk_del_");
    vault.set("OLD_KEY", &value, &[]);
    vault.set("OLD_KEY", "prod-value", &["--env", "production"]);
    vault.run(&["rm", "OLD_KEY"]).ok();
    let ls = vault.run(&["ls", "--json"]).ok();
    assert!(!ls.stdout.contains("OLD_KEY"), "{}", ls.describe());
    let deleted = vault.run(&["ls", "--json", "--deleted"]).ok().json();
    assert!(
        deleted[0]["name"] == "OLD_KEY" && deleted[0]["deleted_at"].is_i64(),
        "{deleted}"
    );
    vault.run(&["reveal", "OLD_KEY"]).refused(3);
    vault.run(&["rm", "OLD_KEY"]).refused(3);
    vault
        .cli()
        .stdin("over-a-deleted-one")
        .run(&["set", "OLD_KEY", "--value-stdin"])
        .refused(5);
    vault.run(&["restore", "OLD_KEY"]).ok();
    vault.run(&["restore", "OLD_KEY"]).refused(5);
    assert_eq!(vault.reveal("OLD_KEY", &[]), value);
    assert_eq!(
        vault.reveal("OLD_KEY", &["--env", "production"]),
        "prod-value"
    );
    vault.run(&["purge", "OLD_KEY"]).refused(5);
    vault.run(&["rm", "OLD_KEY"]).ok();
    vault.run(&["purge", "OLD_KEY"]).ok();
    vault.run(&["restore", "OLD_KEY"]).refused(3);
    let listed = vault.run(&["ls", "--json", "--deleted"]).ok().json();
    assert_eq!(listed, serde_json::json!([]));
    let rows: i64 = vault
        .db()
        .query_row("SELECT count(*) FROM versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "purge removes every version");
    // The name is free again and starts over.
    let run = vault.set("OLD_KEY", "reborn", &[]);
    assert!(run.stdout.contains("version 1"), "{}", run.describe());
    let trail = vault
        .run(&["audit", "--json", "--secret", "OLD_KEY"])
        .ok()
        .json();
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["secret.delete", "secret.restore", "secret.purge"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    vault.run(&["audit", "verify"]).ok();
}

#[test]
fn show_compares_values_across_environments_without_revealing_them() {
    let vault = Vault::new();
    let shared = random_token("sk_shared_");
    let staging = random_token("sk_staging_");
    vault.set("DB_PASSWORD", &shared, &[]);
    vault.set("DB_PASSWORD", &staging, &["--env", "staging"]);
    vault.set("DB_PASSWORD", &shared, &["--env", "production"]);
    let run = vault.run(&["show", "DB_PASSWORD", "--json"]).ok();
    assert!(!run.stdout.contains(&shared) && !run.stdout.contains(&staging));
    let show = run.json();
    assert_eq!(
        env_status(&show, "development")["same_as"],
        serde_json::json!(["production"])
    );
    assert_eq!(
        env_status(&show, "production")["same_as"],
        serde_json::json!(["development"])
    );
    assert_eq!(
        env_status(&show, "staging")["same_as"],
        serde_json::json!([])
    );
    let label = |env: &str| version(&show, env, 1)["value_label"].clone();
    assert_eq!(label("development"), label("production"));
    assert_ne!(label("development"), label("staging"));
    // The plain-text view says the same.
    let text = vault.run(&["show", "DB_PASSWORD"]).ok();
    let dev_line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("development") && l.contains("v1"))
        .unwrap_or_else(|| panic!("{}", text.describe()));
    assert!(dev_line.contains("production"), "{}", text.describe());
    // Development moves to staging's value: the comparison follows.
    vault.set("DB_PASSWORD", &staging, &[]);
    let show = vault.run(&["show", "DB_PASSWORD", "--json"]).ok().json();
    assert_eq!(
        env_status(&show, "development")["same_as"],
        serde_json::json!(["staging"])
    );
    assert_eq!(
        version(&show, "development", 2)["value_label"],
        version(&show, "staging", 1)["value_label"]
    );
    // `ls` reports the same comparison.
    let ls = vault.run(&["ls", "--json"]).ok().json();
    assert_eq!(
        env_status(&ls[0], "staging")["same_as"],
        serde_json::json!(["development"])
    );
}

#[test]
fn generated_values_follow_the_requested_length_and_alphabet() {
    let vault = Vault::new();
    vault
        .run(&[
            "set",
            "HEX",
            "--generate",
            "--length",
            "40",
            "--alphabet",
            "hex",
        ])
        .ok();
    vault
        .run(&[
            "set",
            "PIN",
            "--generate",
            "--length",
            "12",
            "--alphabet",
            "digits",
        ])
        .ok();
    vault.run(&["set", "DEFAULT", "--generate"]).ok();
    let hex = vault.reveal("HEX", &[]);
    assert_eq!(hex.len(), 40);
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{hex}");
    let pin = vault.reveal("PIN", &[]);
    assert_eq!(pin.len(), 12);
    assert!(pin.chars().all(|c| c.is_ascii_digit()), "{pin}");
    let default = vault.reveal("DEFAULT", &[]);
    assert!(default.len() >= 16 && default.chars().all(|c| c.is_ascii_alphanumeric()));
    // Generating again rotates to a different value.
    vault.run(&["set", "DEFAULT", "--generate"]).ok();
    assert_ne!(vault.reveal("DEFAULT", &[]), default);
    let show = vault.run(&["show", "DEFAULT", "--json"]).ok().json();
    assert_eq!(version(&show, "development", 2)["origin"], "generate");
}

#[test]
fn names_are_case_sensitive() {
    let vault = Vault::new();
    vault.set("api_key", "lower", &[]);
    vault.set("API_KEY", "upper", &[]);
    assert_eq!(vault.reveal("api_key", &[]), "lower");
    assert_eq!(vault.reveal("API_KEY", &[]), "upper");
    vault.run(&["show", "Api_Key"]).refused(3);
}

#[test]
fn a_protected_environment_asks_again_before_delete_restore_purge_and_shorter_windows() {
    let vault = Vault::new();
    vault.set("prod-key", &random_token("p_"), &["--env", "production"]);
    vault.set("dev-key", &random_token("d_"), &[]);
    vault.run(&["env", "protect", "production"]).ok();
    let runtime = vault.dir().join("runtime");
    std::fs::create_dir(&runtime).expect("runtime dir");
    let rt = runtime.to_str().expect("utf-8");
    vault
        .cli()
        .env("XDG_RUNTIME_DIR", rt)
        .run(&["unlock", "--for", "2m"])
        .ok();
    // Through the agent, with no passphrase and no terminal to ask on.
    let agent = |args: &[&str]| {
        vault
            .cli()
            .env("XDG_RUNTIME_DIR", rt)
            .passphrase("")
            .run(args)
    };
    for args in [
        &["rm", "prod-key"][..],
        &["settings", "set", "rollback-window", "1s"],
        &["settings", "set", "max-versions", "1"],
        &["settings", "set", "recovery-window", "1h"],
    ] {
        let run = agent(args).refused(6);
        assert!(run.message().contains("production"), "{}", run.describe());
    }
    agent(&["ls", "--json"]).ok();
    agent(&["rm", "dev-key"]).ok();
    agent(&["restore", "dev-key"]).ok();
    agent(&["settings", "set", "rollback-window", "30d"]).ok();
    // With the passphrase given, the same changes go through.
    vault.run(&["rm", "prod-key"]).ok();
    agent(&["restore", "prod-key"]).refused(6);
    agent(&["purge", "prod-key"]).refused(6);
    vault.run(&["purge", "prod-key"]).ok();
    vault
        .run(&["settings", "set", "rollback-window", "1d"])
        .ok();
    vault.cli().env("XDG_RUNTIME_DIR", rt).run(&["lock"]).ok();
}
