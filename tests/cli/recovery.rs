//! The recovery key on the real binary: made at `init`, it sets a new passphrase on a
//! machine that never saw the vault; a wrong or mistyped key, another member's slot
//! moved under one's own name with `sqlite3`, and a replaced key open nothing; the
//! words are nowhere in the file, the trail or the snapshots.

use super::support::{contains_bytes, Member, Vault};

fn recovery_key(v: &Vault, json_of_init_or_rotate: &serde_json::Value) -> String {
    let _ = v;
    json_of_init_or_rotate["recovery_key"]
        .as_str()
        .expect("a recovery key")
        .to_string()
}

/// A vault made with `init --json`, so the test reads the recovery key.
fn vault_with_key() -> (Vault, String) {
    let v = Vault::new();
    std::fs::remove_file(&v.path).unwrap();
    let made = v.run(&["--json", "init", "--owner", "alice"]).ok().json();
    let key = recovery_key(&v, &made);
    v.set("DB_PASSWORD", "db-pass-9f9f", &[]);
    (v, key)
}

fn owner_with(passphrase: &str) -> Member {
    Member {
        name: "alice".into(),
        passphrase: passphrase.into(),
    }
}

#[test]
fn a_forgotten_passphrase_is_replaced_with_the_recovery_key_on_a_fresh_home() {
    let (v, key) = vault_with_key();
    assert_eq!(key.split(' ').count(), 24);
    let fresh_home = v.dir().join("another-home");
    std::fs::create_dir_all(&fresh_home).unwrap();
    let r = v
        .cli()
        .passphrase("")
        .env("HOME", fresh_home.to_str().unwrap())
        .env(
            "COFFER_RECOVERY_KEY",
            &key.to_uppercase().replace(' ', "\n"),
        )
        .env("COFFER_NEW_PASSPHRASE", "the new passphrase 77")
        .run(&["recover"])
        .ok();
    assert!(r.stdout.contains("new passphrase"), "{}", r.describe());
    let alice = owner_with("the new passphrase 77");
    let shown = v
        .cli()
        .acting_as(&alice)
        .run(&["reveal", "DB_PASSWORD", "-n"])
        .ok();
    assert_eq!(shown.stdout, "db-pass-9f9f");
    // The old passphrase opens nothing any more.
    v.run(&["ls"]).refused(6);
    let trail = v
        .cli()
        .acting_as(&alice)
        .run(&["--json", "audit", "--action", "member.recover"])
        .ok()
        .json();
    assert_eq!(trail.as_array().unwrap().len(), 1);
}

#[test]
fn a_mistyped_or_wrong_key_is_refused_counted_and_audited_and_changes_nothing() {
    let (v, key) = vault_with_key();
    let recover_with = |k: &str| {
        v.cli()
            .passphrase("")
            .env("COFFER_RECOVERY_KEY", k)
            .env("COFFER_NEW_PASSPHRASE", "the new passphrase 77")
            .run(&["recover"])
    };
    let mut words: Vec<&str> = key.split(' ').collect();
    words[4] = "zzzzz";
    let r = recover_with(&words.join(" ")).refused(2);
    assert!(r.stderr.contains("word 5"), "{}", r.describe());
    recover_with(&key.split(' ').take(12).collect::<Vec<_>>().join(" ")).refused(2);
    // A well-formed key of another vault: counted as a failed unlock.
    let (_other, other_key) = vault_with_key();
    let r = recover_with(&other_key).refused(6);
    assert!(!r.stderr.contains(&other_key), "{}", r.describe());
    v.run(&["ls"]).ok();
    let failed = v
        .run(&["--json", "audit", "--action", "vault.unlock"])
        .ok()
        .json();
    let failed = failed.as_array().unwrap();
    assert!(
        failed.iter().any(|e| e["actor"] == "alice"),
        "no failed attempt naming alice: {failed:?}"
    );
}

#[test]
fn a_rotated_key_replaces_the_old_one_and_only_owners_hold_one() {
    let (v, old_key) = vault_with_key();
    let rotated = v.run(&["--json", "recovery-key", "rotate"]).ok().json();
    let new_key = recovery_key(&v, &rotated);
    assert_ne!(new_key, old_key);
    let recover_with = |k: &str, p: &str| {
        v.cli()
            .passphrase("")
            .env("COFFER_RECOVERY_KEY", k)
            .env("COFFER_NEW_PASSPHRASE", p)
            .run(&["recover"])
    };
    recover_with(&old_key, "the new passphrase 77").refused(6);
    recover_with(&new_key, "the new passphrase 78").ok();
    let dev = v
        .cli()
        .acting_as(&owner_with("the new passphrase 78"))
        .env("COFFER_NEW_PASSPHRASE", "dave pass phrase 42")
        .run(&["member", "add", "dave", "--role", "developer"]);
    dev.ok();
    let dave = owner_with("dave pass phrase 42");
    let dave = Member {
        name: "dave".into(),
        ..dave
    };
    v.cli()
        .acting_as(&dave)
        .run(&["recovery-key", "rotate"])
        .refused(4);
}

#[test]
fn a_slot_moved_under_another_member_with_sqlite_opens_nothing() {
    let (v, key) = vault_with_key();
    v.add_member("bob", "owner");
    // The attacker, with the file: alice's recovery slot copied to bob.
    let db = v.db();
    db.execute(
        "INSERT INTO key_slots (member_id, kind, kdf, salt, wrapped_key, label, created_at, format)
         SELECT (SELECT id FROM members WHERE name = 'bob'), kind, kdf, salt, wrapped_key, label, created_at, format
         FROM key_slots WHERE kind = 'recovery'
           AND member_id = (SELECT id FROM members WHERE name = 'alice')",
        [],
    )
    .unwrap();
    drop(db);
    v.cli()
        .member_name("bob")
        .passphrase("")
        .env("COFFER_RECOVERY_KEY", &key)
        .env("COFFER_NEW_PASSPHRASE", "bob takes over 123")
        .run(&["recover"])
        .refused(6);
}

#[test]
fn the_words_are_nowhere_in_the_vault_its_trail_or_its_snapshots_and_can_be_declined() {
    let (v, key) = vault_with_key();
    v.run(&["backup"]).ok();
    let mut files = vec![v.path.clone()];
    let snaps = v.run(&["--json", "snapshots"]).ok().json();
    for s in snaps["snapshots"].as_array().unwrap() {
        files.push(s["path"].as_str().unwrap().into());
    }
    let trail = v.run(&["--json", "audit"]).ok().stdout;
    for word_run in [
        key.as_str(),
        &key.split(' ').take(3).collect::<Vec<_>>().join(" "),
    ] {
        assert!(!trail.contains(word_run));
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(
                !contains_bytes(&bytes, word_run.as_bytes()),
                "{}",
                f.display()
            );
        }
    }
    // Declined at init: nothing opens the keys but the passphrase.
    let w = Vault::new();
    std::fs::remove_file(&w.path).unwrap();
    let made = w
        .run(&["--json", "init", "--owner", "alice", "--no-recovery-key"])
        .ok()
        .json();
    assert!(made["recovery_key"].is_null());
    w.cli()
        .passphrase("")
        .env("COFFER_RECOVERY_KEY", &key)
        .env("COFFER_NEW_PASSPHRASE", "the new passphrase 77")
        .run(&["recover"])
        .refused(6);
    // doctor says so, with the command that makes one, without failing the check.
    let doctor = w.run(&["doctor"]);
    assert_eq!(doctor.code(), Some(0), "{}", doctor.describe());
    assert!(
        doctor.stdout.lines().any(|l| l.starts_with("note")
            && l.contains("alice has no recovery key")
            && l.contains("coffer recovery-key rotate")),
        "{}",
        doctor.describe()
    );
}
