//! `coffer init --kdf-memory/--kdf-passes`: the Argon2id settings are the vault's, used
//! for every key slot made later by any process; settings under OWASP's minimum are
//! refused, and an edit of the file cannot make later slots cheaper.

use super::support::{rows, Vault};

/// The Argon2id settings of each member's passphrase slot, by member name.
fn slot_settings(v: &Vault) -> Vec<(String, String)> {
    rows(
        &v.db(),
        "SELECT m.name, k.kdf FROM key_slots k JOIN members m ON m.id = k.member_id
         WHERE k.kind = 'passphrase' ORDER BY m.name",
    )
    .into_iter()
    .map(|r| match (&r[0], &r[1]) {
        (rusqlite::types::Value::Text(n), rusqlite::types::Value::Text(k)) => {
            (n.clone(), k.clone())
        }
        other => panic!("{other:?}"),
    })
    .collect()
}

fn fresh(args: &[&str]) -> (Vault, super::support::Run) {
    let v = Vault::new();
    std::fs::remove_file(&v.path).unwrap();
    let mut all = vec!["init", "--owner", "alice", "--no-recovery-key"];
    all.extend_from_slice(args);
    let run = v.run(&all);
    (v, run)
}

#[test]
fn the_vaults_argon2id_settings_hold_for_every_later_slot_and_weak_ones_are_refused() {
    for weak in [
        &["--kdf-memory", "8"][..],
        &["--kdf-memory", "19", "--kdf-passes", "1"],
        &["--kdf-memory", "999999"],
    ] {
        let (v, run) = fresh(weak);
        let run = run.refused(2);
        assert!(run.message().contains("OWASP"), "{}", run.describe());
        assert!(!v.path.exists(), "no vault is made with {weak:?}");
    }

    let (v, run) = fresh(&["--kdf-memory", "19", "--kdf-passes", "2"]);
    run.ok();
    let chosen = r#"{"m":19456,"t":2,"p":1}"#;
    v.add_member("bob", "developer");
    v.cli()
        .member_name("bob")
        .passphrase("bob pass phrase 42")
        .env("COFFER_NEW_PASSPHRASE", "bob chose this one 7")
        .run(&["passphrase", "change"])
        .ok();
    assert_eq!(
        slot_settings(&v),
        [
            ("alice".to_string(), chosen.to_string()),
            ("bob".into(), chosen.into())
        ],
        "a member added and a passphrase changed later use the vault's settings"
    );

    // Lowered in the file with sqlite3: later slots keep Coffer's default instead.
    v.db()
        .execute(
            "UPDATE meta SET value = CAST('m=64,t=1,p=1' AS BLOB) WHERE key = 'kdf'",
            [],
        )
        .unwrap();
    v.add_member("carol", "viewer");
    let carol = slot_settings(&v)
        .into_iter()
        .find(|(n, _)| n == "carol")
        .unwrap();
    assert_eq!(carol.1, r#"{"m":65536,"t":3,"p":1}"#);
}
