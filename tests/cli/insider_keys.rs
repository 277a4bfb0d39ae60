//! What a member's own keys open, tried as an insider would: a script that reads the
//! vault file with SQLite, derives the slot key from the member's passphrase with
//! Argon2id, opens their key slot, and then tries every sealed key and every value in
//! the file with every key it got — using the file format and the primitives alone,
//! not Coffer's code. A viewer and an auditor open nothing; a developer opens exactly
//! the values of their workspace; a removed member's old keys open nothing written
//! after the removal. Edits of the file without keys give exit 7, never a changed
//! behaviour.

use std::collections::HashMap;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR};
use rusqlite::{params, Connection};

use super::attacker::{framed, open_slot};
use super::support::{Member, Vault};

type Kem = X25519HkdfSha256;
type Sk = <Kem as hpke::Kem>::PrivateKey;

/// A sealed environment key as the file holds it: workspace, project and environment
/// names, environment id, epoch, member id, sealed bytes.
type SealedEnvKey = (String, String, String, i64, i64, i64, Vec<u8>);

/// Opens either sealed format: `1 || enc || HPKE ciphertext`, or a batch value
/// `2 || enc || nonce || XChaCha20-Poly1305 ciphertext` whose key is exported from the
/// HPKE context with the associated data.
fn hpke_open(sk: &Sk, sealed: &[u8], info: &[u8], ad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 33 {
        return None;
    }
    if sealed[0] == 2 {
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed[1..33]).ok()?;
        let ctx = hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            sk,
            &enc,
            info,
        )
        .ok()?;
        let mut key = [0u8; 32];
        ctx.export(ad, &mut key).ok()?;
        let body = sealed.get(33..)?;
        if body.len() < 24 {
            return None;
        }
        return XChaCha20Poly1305::new((&key).into())
            .decrypt(
                XNonce::from_slice(&body[..24]),
                Payload {
                    msg: &body[24..],
                    aad: ad,
                },
            )
            .ok();
    }
    if sealed[0] != 1 {
        return None;
    }
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed[1..33]).ok()?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        sk,
        &enc,
        info,
        &sealed[33..],
        ad,
    )
    .ok()
}

/// The member's X25519 private key, from their key slot in `identity_file` (their own
/// copy of the vault) and their passphrase.
fn member_key(identity_file: &Path, member: &Member) -> Sk {
    let keys = open_slot(identity_file, member);
    Sk::from_bytes(&keys.x25519).unwrap()
}

/// Every value in `target` that the keys of `member` (from `identity_file`) open.
fn values_opened(identity_file: &Path, member: &Member, target: &Path) -> Vec<String> {
    let own = member_key(identity_file, member);
    let db = Connection::open(target).unwrap();
    let vault_id: Vec<u8> = db
        .query_row("SELECT value FROM meta WHERE key = 'vault_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    // Every sealed environment key in the file, whoever it is sealed to.
    let mut env_keys: HashMap<(i64, i64), Sk> = HashMap::new();
    let mut st = db
        .prepare(
            "SELECT w.name, p.name, e.name, e.id, k.epoch, k.member_id, k.sealed
             FROM env_key_seals k JOIN environments e ON e.id = k.environment_id
             JOIN projects p ON p.id = e.project_id JOIN workspaces w ON w.id = p.workspace_id",
        )
        .unwrap();
    let rows: Vec<SealedEnvKey> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (ws, project, env, env_id, epoch, member_id, sealed) in rows {
        let ad = framed(&[
            b"coffer/env-key/v1",
            &vault_id,
            ws.as_bytes(),
            project.as_bytes(),
            env.as_bytes(),
            &env_id.to_le_bytes(),
            &epoch.to_le_bytes(),
            &member_id.to_le_bytes(),
        ]);
        if let Some(k) = hpke_open(&own, &sealed, b"coffer env key v1", &ad) {
            env_keys.insert((env_id, epoch), Sk::from_bytes(&k).unwrap());
        }
    }
    let mut st = db
        .prepare(
            "SELECT w.name, p.name, e.name, e.id, s.name, s.id, s.scope, s.owner_id, v.version,
                    v.epoch, v.ciphertext
             FROM versions v JOIN secrets s ON s.id = v.secret_id
             JOIN environments e ON e.id = v.environment_id
             JOIN projects p ON p.id = e.project_id JOIN workspaces w ON w.id = p.workspace_id
             WHERE v.ciphertext IS NOT NULL",
        )
        .unwrap();
    let mut opened = Vec::new();
    let mut rows = st.query(params![]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let text = |i: usize| r.get::<_, String>(i).unwrap();
        let num = |i: usize| r.get::<_, i64>(i).unwrap();
        let epoch = num(9);
        let ct: Vec<u8> = r.get(10).unwrap();
        let ad = framed(&[
            b"coffer/value/v2",
            &vault_id,
            text(0).as_bytes(),
            text(1).as_bytes(),
            text(2).as_bytes(),
            text(4).as_bytes(),
            &num(5).to_le_bytes(),
            text(6).as_bytes(),
            &num(7).to_le_bytes(),
            &num(8).to_le_bytes(),
            &epoch.to_le_bytes(),
        ]);
        // Try every key the script holds, not only the one the row names.
        let keys = env_keys.values().chain(std::iter::once(&own));
        for k in keys {
            if let Some(v) = hpke_open(k, &ct, b"coffer value v2", &ad) {
                opened.push(String::from_utf8(v).unwrap());
                break;
            }
        }
    }
    opened.sort();
    opened
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn a_members_own_keys_open_exactly_what_their_role_may_use() {
    let v = Vault::new();
    v.set("DB_PASSWORD", "dev-db-31a9", &["--env", "development"]);
    v.set("DB_PASSWORD", "prod-db-77c2", &["--env", "production"]);
    v.set(
        "OWNER_ONLY",
        "owner-private-5d1e",
        &["--env", "development", "--scope", "user"],
    );
    v.run(&["workspace", "create", "acme"]).ok();
    v.cli()
        .stdin("acme-secret-0b44")
        .run(&[
            "--workspace",
            "acme",
            "set",
            "ACME",
            "--value-stdin",
            "--env",
            "development",
        ])
        .ok();
    let viewer = v.add_member("vic", "viewer");
    let auditor = v.add_member("aud", "auditor");
    let developer = v.add_member("dev", "developer");
    let owner = Member {
        name: "alice".into(),
        passphrase: super::support::OWNER_PASSPHRASE.into(),
    };
    assert_eq!(
        values_opened(&v.path, &viewer, &v.path),
        Vec::<String>::new()
    );
    assert_eq!(
        values_opened(&v.path, &auditor, &v.path),
        Vec::<String>::new()
    );
    assert_eq!(
        values_opened(&v.path, &developer, &v.path),
        sorted(&["dev-db-31a9", "prod-db-77c2"]),
        "a developer opens their workspace's shared values, not the owner's private one nor another workspace's"
    );
    assert_eq!(
        values_opened(&v.path, &owner, &v.path),
        sorted(&[
            "dev-db-31a9",
            "prod-db-77c2",
            "owner-private-5d1e",
            "acme-secret-0b44"
        ]),
        "the script itself works: the owner's keys open everything"
    );
}

#[test]
fn a_removed_members_old_keys_open_nothing_written_after_the_removal() {
    let v = Vault::new();
    v.set("API_KEY", "before-9c3f", &["--env", "production"]);
    let bob = v.add_member("bob", "developer");
    // Bob keeps a copy of the file (a backup, a sync folder) before he is removed.
    let kept = v.dir().join("bobs-copy.db");
    std::fs::copy(&v.path, &kept).unwrap();
    assert_eq!(
        values_opened(&kept, &bob, &v.path),
        sorted(&["before-9c3f"])
    );
    v.run(&["member", "remove", "bob"]).ok();
    // The owner is told which values bob could use, until they are rotated.
    let show = v.run(&["show", "API_KEY"]).ok();
    assert!(
        show.stdout.contains("EXPOSED TO") && show.stdout.contains("bob"),
        "{}",
        show.stdout
    );
    assert!(v.run(&["ls"]).ok().stdout.contains("exposed!"));
    v.set("API_KEY", "after-4e8a", &["--env", "production"]);
    assert!(
        !v.run(&["ls"]).ok().stdout.contains("exposed!"),
        "a rotation clears the mark"
    );
    v.set("NEW_SECRET", "new-1b7d", &["--env", "production"]);
    // With his old slot and passphrase, nothing in the new file opens: not the value he
    // saw (re-sealed under a new epoch) and nothing written since.
    assert_eq!(values_opened(&kept, &bob, &v.path), Vec::<String>::new());
}

/// Swaps the names of two rows of `table` with sqlite alone, as someone without keys.
fn swap_names(v: &Vault, table: &str, a: &str, b: &str) {
    v.db()
        .execute_batch(&format!(
            "UPDATE {table} SET name = 'x' WHERE name = '{a}';
             UPDATE {table} SET name = '{a}' WHERE name = '{b}';
             UPDATE {table} SET name = '{b}' WHERE name = 'x';"
        ))
        .unwrap();
}

#[test]
fn edits_of_the_file_without_keys_are_integrity_errors_that_leak_nothing() {
    let v = Vault::new();
    v.set("DB_PASSWORD", "prod-db-6f2a", &["--env", "production"]);
    v.set("DB_PASSWORD", "dev-db-8d1c", &["--env", "development"]);
    v.set("PAY_KEY", "pay-key-3e9b", &["--env", "production"]);
    let dev = v.add_member("dev", "developer");
    let run_as_dev = |args: &[&str]| v.cli().acting_as(&dev).run(args);
    // Production and development swap names: a production run would get the dev value.
    swap_names(&v, "environments", "production", "development");
    let r = run_as_dev(&[
        "run",
        "--env",
        "production",
        "--only",
        "DB_PASSWORD",
        "--",
        "sh",
        "-c",
        "echo $DB_PASSWORD",
    ]);
    let r = r.refused(7);
    for secret in ["prod-db-6f2a", "dev-db-8d1c"] {
        assert!(
            !r.stdout.contains(secret) && !r.stderr.contains(secret),
            "{}",
            r.describe()
        );
    }
    swap_names(&v, "environments", "production", "development");
    // Two secrets swap names: the database password would go to the payments API.
    swap_names(&v, "secrets", "DB_PASSWORD", "PAY_KEY");
    let r = run_as_dev(&[
        "run",
        "--env",
        "production",
        "--only",
        "PAY_KEY",
        "--",
        "sh",
        "-c",
        "echo $PAY_KEY",
    ])
    .refused(7);
    assert!(
        r.stderr.contains("PAY_KEY"),
        "the error names what failed: {}",
        r.describe()
    );
    assert!(!r.stdout.contains("prod-db-6f2a") && !r.stderr.contains("prod-db-6f2a"));
}

#[test]
fn edits_of_who_may_do_what_are_integrity_errors_naming_the_row() {
    let v = Vault::new();
    v.set("DB_PASSWORD", "prod-db-2c4e", &["--env", "production"]);
    v.run(&["env", "protect", "production"]).ok();
    v.run(&["settings", "set", "rollback-window", "14d"]).ok();
    let vic = v.add_member("vic", "viewer");
    let before = v.snapshot();
    let edits: [(&str, &str, &[&str], Option<&Member>); 3] = [
        (
            "UPDATE grants SET role = 'owner'
             WHERE member_id = (SELECT id FROM members WHERE name = 'vic')",
            "the role of 'vic'",
            &["reveal", "DB_PASSWORD", "--env", "production"],
            Some(&vic),
        ),
        (
            "UPDATE environments SET protected = 0 WHERE name = 'production'",
            "environment 'production'",
            &["ls"],
            None,
        ),
        (
            "UPDATE settings SET value = '0' WHERE key = 'rollback-window'",
            "rollback-window",
            &["settings", "get"],
            None,
        ),
    ];
    for (sql, named, args, who) in edits {
        let db = v.db();
        db.execute(sql, []).unwrap();
        let inv = match who {
            Some(m) => v.cli().acting_as(m),
            None => v.cli(),
        };
        let r = inv.run(args).refused(7);
        assert!(r.stderr.contains(named), "names {named}: {}", r.describe());
        assert!(!r.stdout.contains("prod-db-2c4e") && !r.stderr.contains("prod-db-2c4e"));
        // Put the rows back as they were: their signatures hold again.
        db.execute_batch(
            "UPDATE grants SET role = 'viewer'
               WHERE member_id = (SELECT id FROM members WHERE name = 'vic');
             UPDATE environments SET protected = 1 WHERE name = 'production';
             UPDATE settings SET value = '1209600000' WHERE key = 'rollback-window';",
        )
        .unwrap();
    }
    assert_eq!(v.snapshot(), before, "nothing changed behind the refusals");
}

#[test]
fn a_member_replaces_the_passphrase_they_were_given() {
    let v = Vault::new();
    v.set("K", "value-5e1a", &["--env", "development"]);
    let bob = v.add_member("bob", "developer");
    v.cli()
        .acting_as(&bob)
        .env("COFFER_NEW_PASSPHRASE", "bob chose this one")
        .run(&["passphrase", "change"])
        .ok();
    v.cli().acting_as(&bob).run(&["ls"]).refused(6);
    let own = Member {
        name: "bob".into(),
        passphrase: "bob chose this one".into(),
    };
    let r = v.cli().acting_as(&own).run(&[
        "run",
        "--only",
        "K",
        "--",
        "sh",
        "-c",
        "test \"$K\" = value-5e1a",
    ]);
    r.ok();
    // A new passphrase must differ and be long enough; nothing changes otherwise.
    v.cli()
        .acting_as(&own)
        .env("COFFER_NEW_PASSPHRASE", "short")
        .run(&["passphrase", "change"])
        .refused(2);
    v.cli().acting_as(&own).run(&["ls"]).ok();
}

#[test]
fn an_old_vault_upgrades_at_the_owners_first_command_and_says_so_once() {
    let v = Vault::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vault-v5.db");
    std::fs::copy(fixture, &v.path).unwrap();
    let alice = Member {
        name: "alice".into(),
        passphrase: "owner passphrase 1".into(),
    };
    let r = v
        .cli()
        .acting_as(&alice)
        .run(&["reveal", "DB_PASSWORD", "-n", "--env", "development"])
        .ok();
    assert_eq!(r.stdout, "dev-db-password-2");
    assert!(r.stderr.contains("upgraded this vault"), "{}", r.describe());
    let one_time = |name: &str| -> String {
        let line = r
            .stderr
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no one-time passphrase for {name}: {}", r.describe()));
        line.trim_start()[name.len() + 2..].to_string()
    };
    let bob = Member {
        name: "bob".into(),
        passphrase: one_time("bob"),
    };
    // Said once: the next command is quiet.
    let again = v.cli().acting_as(&alice).run(&["ls"]).ok();
    assert!(!again.stderr.contains("one-time"), "{}", again.describe());
    let r = v.cli().acting_as(&bob).run(&[
        "run",
        "--env",
        "development",
        "--only",
        "DB_PASSWORD",
        "--",
        "sh",
        "-c",
        "test \"$DB_PASSWORD\" = dev-db-password-2",
    ]);
    r.ok();
    let old_bob = Member {
        name: "bob".into(),
        passphrase: "bob passphrase 1".into(),
    };
    v.cli().acting_as(&old_bob).run(&["ls"]).refused(6);
    // The one-time passphrases are nowhere in the file.
    let file = std::fs::read(&v.path).unwrap();
    assert!(!super::support::contains_bytes(
        &file,
        bob.passphrase.as_bytes()
    ));
}
