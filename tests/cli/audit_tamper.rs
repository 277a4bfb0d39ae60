//! Tampering with the vault file behind Coffer's back, as `sqlite3` would and as a
//! member's own script would with their keys: the audit chain names the first event
//! that was edited, deleted, reordered, forged or re-signed; a tail cut off, a wiped
//! trail or an older copy of the file put back is caught by this machine's anchor; and
//! a ciphertext moved to another row refuses to open instead of revealing a wrong value.

use ed25519_dalek::{Signer, SigningKey};
use rusqlite::params;
use sha2::{Digest, Sha256};

use super::attacker::{framed, open_slot};
use super::support::{random_token, Member, Vault};

/// A vault with a dozen audit events: creates, rotations, a reveal, a denial.
fn vault_with_history() -> Vault {
    let vault = Vault::new();
    for i in 0..3 {
        vault.set("API_KEY", &format!("value-{i}"), &[]);
    }
    vault.set("OTHER", "other-value", &["--env", "staging"]);
    let bob = vault.add_member("bob", "developer");
    vault
        .cli()
        .acting_as(&bob)
        .run(&["reveal", "API_KEY"])
        .refused(4);
    vault.reveal("API_KEY", &["--reason", "check"]);
    vault.run(&["rm", "OTHER"]).ok();
    vault.run(&["audit", "verify"]).ok();
    vault
}

fn event_ids(vault: &Vault) -> Vec<i64> {
    let db = vault.db();
    let mut stmt = db
        .prepare("SELECT id FROM audit_events ORDER BY id")
        .unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<i64>, _>>()
        .unwrap();
    ids
}

/// `audit verify` fails (exit 1, or 7 for an integrity error) naming `id` as where the
/// trail breaks; the JSON report agrees.
#[track_caller]
fn assert_broken_at(vault: &Vault, id: i64) {
    let run = vault.run(&["audit", "verify"]);
    assert!(
        matches!(run.code(), Some(1) | Some(7)),
        "verify must fail: {}",
        run.describe()
    );
    assert_eq!(run.broken_at(), Some(id), "{}", run.describe());
    let report = vault.run(&["--json", "audit", "verify"]);
    assert!(matches!(report.code(), Some(1) | Some(7)));
    assert_eq!(report.json()["first_bad"], id, "{}", report.describe());
}

#[test]
fn editing_one_events_actor_is_named_by_verify() {
    let vault = vault_with_history();
    let ids = event_ids(&vault);
    let target = ids[ids.len() / 2];
    let changed = vault
        .db()
        .execute(
            "UPDATE audit_events SET actor = 'mallory' WHERE id = ?1",
            [target],
        )
        .unwrap();
    assert_eq!(changed, 1);
    assert_broken_at(&vault, target);
    // Reading the trail still works: the auditor sees the damage, not an outage.
    vault.run(&["audit", "--json"]).ok();
}

#[test]
fn deleting_a_middle_event_is_named_by_verify() {
    let vault = vault_with_history();
    let ids = event_ids(&vault);
    let target = ids[ids.len() / 2];
    vault
        .db()
        .execute("DELETE FROM audit_events WHERE id = ?1", [target])
        .unwrap();
    assert_broken_at(&vault, target);
}

#[test]
fn swapping_two_events_contents_is_named_by_verify() {
    let vault = vault_with_history();
    let ids = event_ids(&vault);
    let (a, b) = (ids[3], ids[ids.len() - 3]);
    let db = vault.db();
    let cols = "at, actor, action, outcome, workspace_id, workspace, project, environment, \
                secret, detail, mac";
    // Move every column but the id: each row keeps its own (valid) MAC, in the wrong place.
    db.execute_batch(&format!(
        "CREATE TEMP TABLE keep AS SELECT id, {cols} FROM audit_events WHERE id IN ({a}, {b});
         UPDATE audit_events SET ({cols}) = (SELECT {cols} FROM keep WHERE keep.id = {b}) WHERE id = {a};
         UPDATE audit_events SET ({cols}) = (SELECT {cols} FROM keep WHERE keep.id = {a}) WHERE id = {b};"
    ))
    .unwrap();
    drop(db);
    assert_broken_at(&vault, a);
}

#[test]
fn removing_the_last_events_is_caught() {
    let vault = vault_with_history();
    let ids = event_ids(&vault);
    let last = *ids.last().unwrap();
    vault
        .db()
        .execute("DELETE FROM audit_events WHERE id >= ?1", [last - 1])
        .unwrap();
    assert_broken_at(&vault, last - 1);
}

#[test]
fn an_untouched_trail_verifies_and_keeps_verifying_as_it_grows() {
    let vault = vault_with_history();
    let run = vault.run(&["audit", "verify"]).ok();
    assert!(run.stderr.is_empty(), "{}", run.describe());
    let ids = event_ids(&vault);
    assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
    vault.set("LATER", "later-value", &[]);
    vault.run(&["audit", "verify"]).ok();
}

#[test]
fn wiping_the_trail_is_caught_by_this_machines_anchor_and_every_command_says_so() {
    let vault = vault_with_history();
    let seen = *event_ids(&vault).last().unwrap();
    vault
        .db()
        .execute_batch("DELETE FROM audit_events")
        .unwrap();
    let run = vault.run(&["audit", "verify"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains(&format!(
            "the trail is empty, but this machine saw {seen} events"
        )),
        "{}",
        run.describe()
    );
    let ls = vault.run(&["ls"]).ok();
    assert!(
        ls.stderr
            .contains("warning: the audit trail no longer holds event"),
        "{}",
        ls.describe()
    );
}

#[test]
fn an_older_copy_of_the_whole_file_put_back_is_caught() {
    let vault = vault_with_history();
    let old = vault.dir().join("old-copy.db");
    std::fs::copy(&vault.path, &old).unwrap();
    let before = *event_ids(&vault).last().unwrap();
    vault.set("API_KEY", "rotated-after-the-copy", &[]);
    vault.reveal("API_KEY", &["--reason", "later"]);
    let after = *event_ids(&vault).last().unwrap();
    std::fs::copy(&old, &vault.path).unwrap();
    let run = vault.run(&["audit", "verify"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains(&format!(
            "events {} to {after} are gone, though this machine saw them",
            before + 1
        )),
        "{}",
        run.describe()
    );
    assert!(vault
        .run(&["ls"])
        .ok()
        .stderr
        .contains("warning: the audit trail"));
}

/// An event row as the file holds it, for a script that rewrites the trail.
#[derive(Clone)]
struct Row {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    outcome: String,
    workspace_id: Option<i64>,
    workspace: Option<String>,
    project: Option<String>,
    environment: Option<String>,
    secret: Option<String>,
    detail: String,
    signer: Option<i64>,
    sig: Option<Vec<u8>>,
}

fn read_rows(vault: &Vault) -> Vec<Row> {
    let db = vault.db();
    let mut st = db
        .prepare(
            "SELECT id, at, actor, action, outcome, workspace_id, workspace, project, environment,
                    secret, detail, signer, sig FROM audit_events ORDER BY id",
        )
        .unwrap();
    let rows = st
        .query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                outcome: r.get(4)?,
                workspace_id: r.get(5)?,
                workspace: r.get(6)?,
                project: r.get(7)?,
                environment: r.get(8)?,
                secret: r.get(9)?,
                detail: r.get(10)?,
                signer: r.get(11)?,
                sig: r.get(12)?,
            })
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows
}

/// The hash of an event of format 2, as the file format defines it.
fn event_hash(prev: &[u8], r: &Row) -> Vec<u8> {
    let num = |n: Option<i64>| n.map(|n| n.to_le_bytes().to_vec()).unwrap_or_default();
    let opt = |s: &Option<String>| match s {
        None => vec![0u8],
        Some(s) => [&[1u8][..], s.as_bytes()].concat(),
    };
    let bytes = framed(&[
        b"coffer/audit/v2",
        prev,
        &r.id.to_le_bytes(),
        &r.at.to_le_bytes(),
        r.actor.as_bytes(),
        r.action.as_bytes(),
        r.outcome.as_bytes(),
        &num(r.workspace_id),
        &opt(&r.workspace),
        &opt(&r.project),
        &opt(&r.environment),
        &opt(&r.secret),
        r.detail.as_bytes(),
        &num(r.signer),
        b"",
    ]);
    Sha256::digest(bytes).to_vec()
}

fn commit_signature(key: &SigningKey, vault_id: &str, id: i64, hash: &[u8]) -> Vec<u8> {
    let message = framed(&[
        b"coffer/audit/commit/v2",
        vault_id.as_bytes(),
        &id.to_le_bytes(),
        hash,
    ]);
    key.sign(&message).to_bytes().to_vec()
}

fn insert_row(vault: &Vault, r: &Row, hash: &[u8], sig: Option<Vec<u8>>) {
    vault
        .db()
        .execute(
            "INSERT INTO audit_events(id, at, actor, action, outcome, workspace_id, workspace,
                 project, environment, secret, detail, mac, format, hash, signer, sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, X'', 2, ?12, ?13, ?14)",
            params![
                r.id,
                r.at,
                r.actor,
                r.action,
                r.outcome,
                r.workspace_id,
                r.workspace,
                r.project,
                r.environment,
                r.secret,
                r.detail,
                hash,
                r.signer,
                sig
            ],
        )
        .unwrap();
}

/// Writes `rows` as the whole trail, every hash linked again, and every commit from
/// event `from` on signed by `key`: what a member with their own key and the format
/// can do.
fn rewrite_trail(vault: &Vault, rows: &[Row], from: i64, key: &SigningKey, vault_id: &str) {
    vault.db().execute("DELETE FROM audit_events", []).unwrap();
    let mut prev = vec![0u8; 32];
    for r in rows {
        let hash = event_hash(&prev, r);
        let sig = match &r.sig {
            Some(_) if r.id >= from => Some(commit_signature(key, vault_id, r.id, &hash)),
            kept => kept.clone(),
        };
        insert_row(vault, r, &hash, sig);
        prev = hash;
    }
}

fn signing_key(vault: &Vault, member: &Member) -> (SigningKey, i64, String) {
    let keys = open_slot(&vault.path, member);
    (
        SigningKey::from_bytes(&keys.ed25519_seed),
        keys.member_id,
        keys.vault_id,
    )
}

#[test]
fn a_member_who_deletes_their_own_denial_and_re_signs_the_rest_is_caught() {
    // The attack that worked on the MAC chain: a developer removes the record of their
    // refused reveal, renumbers what follows, links it again and signs it all with the
    // only key they have, their own.
    let vault = Vault::new();
    vault.set("API_KEY", "value-1", &[]);
    let bob = vault.add_member("bob", "viewer");
    vault
        .cli()
        .acting_as(&bob)
        .run(&["reveal", "API_KEY"])
        .refused(4);
    vault.set("API_KEY", "value-2", &[]);
    vault.run(&["ls"]).ok();
    let mut rows = read_rows(&vault);
    let denied = rows
        .iter()
        .position(|r| r.actor == "bob" && r.outcome == "denied")
        .expect("the denial is in the trail");
    let gone = rows[denied].id;
    rows.remove(denied);
    for r in rows.iter_mut().skip(denied) {
        r.id -= 1;
    }
    let (key, _, vault_id) = signing_key(&vault, &bob);
    rewrite_trail(&vault, &rows, gone, &key, &vault_id);
    assert_broken_at(&vault, gone);
    let run = vault.run(&["audit", "verify"]);
    assert!(
        run.stderr
            .contains("signed as 'alice', and the signature does not verify"),
        "{}",
        run.describe()
    );
}

#[test]
fn an_event_forged_in_another_members_name_is_caught() {
    let vault = Vault::new();
    vault.set("API_KEY", "value-1", &[]);
    let bob = vault.add_member("bob", "developer");
    let (key, bob_id, vault_id) = signing_key(&vault, &bob);
    let last = read_rows(&vault).pop().unwrap();
    let prev: Vec<u8> = vault
        .db()
        .query_row(
            "SELECT hash FROM audit_events WHERE id = ?1",
            [last.id],
            |r| r.get(0),
        )
        .unwrap();
    // Appended after the genuine trail, linked correctly and signed by bob, claiming
    // to be alice's: once as bob's event, once as hers.
    for (signer, says) in [
        (bob_id, "claims to be by 'alice' but was written by 'bob'"),
        (1, "signed as 'alice', and the signature does not verify"),
    ] {
        let forged = Row {
            id: last.id + 1,
            at: last.at + 1,
            actor: "alice".into(),
            action: "member.grant".into(),
            outcome: "ok".into(),
            detail: r#"{"member":"bob","role":"owner"}"#.into(),
            signer: Some(signer),
            ..last.clone()
        };
        let hash = event_hash(&prev, &forged);
        let sig = commit_signature(&key, &vault_id, forged.id, &hash);
        insert_row(&vault, &forged, &hash, Some(sig));
        assert_broken_at(&vault, forged.id);
        let run = vault.run(&["audit", "verify"]);
        assert!(run.stderr.contains(says), "{}", run.describe());
        vault
            .db()
            .execute("DELETE FROM audit_events WHERE id = ?1", [forged.id])
            .unwrap();
    }
    vault.run(&["audit", "verify"]).ok();
}

#[test]
fn an_auditor_verifies_with_public_keys_and_sees_failed_unlocks() {
    let vault = vault_with_history();
    let audrey = vault.add_member("audrey", "auditor");
    vault
        .cli()
        .passphrase("not the owner's passphrase")
        .run(&["ls"])
        .refused(6);
    vault
        .cli()
        .member_name("mallory")
        .passphrase("guess 1")
        .run(&["ls"])
        .refused(6);
    let run = vault
        .cli()
        .acting_as(&audrey)
        .run(&["audit", "verify"])
        .ok();
    assert!(
        run.stdout.contains("audit trail intact"),
        "{}",
        run.describe()
    );
    let events = vault
        .cli()
        .acting_as(&audrey)
        .run(&["--json", "audit"])
        .ok()
        .json();
    let failed: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "vault.unlock")
        .map(|e| (e["actor"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(failed, [("alice", "denied"), ("mallory", "denied")]);
}

#[test]
fn an_auditor_signs_a_checkpoint_only_over_an_intact_trail() {
    let vault = vault_with_history();
    let audrey = vault.add_member("audrey", "auditor");
    let run = vault
        .cli()
        .acting_as(&audrey)
        .run(&["--json", "audit", "checkpoint"])
        .ok();
    let doc = run.json();
    assert_eq!(doc["verified"]["ok"], true);
    let seq = doc["checkpoint"].as_i64().unwrap();
    let (action, actor, detail): (String, String, String) = vault
        .db()
        .query_row(
            "SELECT action, actor, detail FROM audit_events WHERE id = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (action.as_str(), actor.as_str()),
        ("audit.checkpoint", "audrey")
    );
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["events"], seq - 1);
    vault.run(&["audit", "verify"]).ok();
    // A developer may not; over a broken trail nobody gets one.
    let dev = vault.add_member("dev", "developer");
    vault
        .cli()
        .acting_as(&dev)
        .run(&["audit", "checkpoint"])
        .refused(4);
    vault
        .db()
        .execute("UPDATE audit_events SET detail = '{}' WHERE id = 2", [])
        .unwrap();
    let run = vault.run(&["audit", "checkpoint"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(run.stderr.contains("no checkpoint"), "{}", run.describe());
}

/// The id of the version row of `name` number `version` in `environment`.
fn version_row(vault: &Vault, name: &str, environment: &str, version: i64) -> i64 {
    vault
        .db()
        .query_row(
            "SELECT v.id FROM versions v JOIN secrets s ON s.id = v.secret_id \
             JOIN environments e ON e.id = v.environment_id \
             WHERE s.name = ?1 AND e.name = ?2 AND v.version = ?3",
            rusqlite::params![name, environment, version],
            |r| r.get(0),
        )
        .expect("version row")
}

fn copy_ciphertext(vault: &Vault, from: i64, to: i64) {
    let changed = vault
        .db()
        .execute(
            "UPDATE versions SET ciphertext = (SELECT ciphertext FROM versions WHERE id = ?1) \
             WHERE id = ?2",
            [from, to],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn a_ciphertext_copied_to_another_secret_fails_to_open() {
    let vault = Vault::new();
    let source = random_token("sk_source_");
    let target = random_token("sk_target_");
    vault.set("SOURCE", &source, &[]);
    vault.set("TARGET", &target, &[]);
    copy_ciphertext(
        &vault,
        version_row(&vault, "SOURCE", "development", 1),
        version_row(&vault, "TARGET", "development", 1),
    );
    let run = vault.run(&["reveal", "TARGET"]).refused(7);
    assert!(!run.stderr.contains(&source) && !run.stderr.contains(&target));
    // The source itself is untouched.
    assert_eq!(vault.reveal("SOURCE", &[]), source);
}

#[test]
fn a_ciphertext_moved_between_versions_or_environments_fails_to_open() {
    let vault = Vault::new();
    let v1 = random_token("sk_v1_");
    let v2 = random_token("sk_v2_");
    let prod = random_token("sk_prod_");
    vault.set("KEY", &v1, &[]);
    vault.set("KEY", &v2, &[]);
    vault.set("KEY", &prod, &["--env", "production"]);
    // An older version replayed as the current one.
    copy_ciphertext(
        &vault,
        version_row(&vault, "KEY", "development", 1),
        version_row(&vault, "KEY", "development", 2),
    );
    let run = vault.run(&["reveal", "KEY"]).refused(7);
    assert!(!run.stderr.contains(&v1));
    // Production's value moved into staging's place.
    vault.set("KEY", "staging-value", &["--env", "staging"]);
    copy_ciphertext(
        &vault,
        version_row(&vault, "KEY", "production", 1),
        version_row(&vault, "KEY", "staging", 1),
    );
    let run = vault.run(&["reveal", "KEY", "--env", "staging"]).refused(7);
    assert!(!run.stderr.contains(&prod));
    // One flipped bit is caught too.
    let row = version_row(&vault, "KEY", "production", 1);
    let db = vault.db();
    let mut sealed: Vec<u8> = db
        .query_row(
            "SELECT ciphertext FROM versions WHERE id = ?1",
            [row],
            |r| r.get(0),
        )
        .unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    db.execute(
        "UPDATE versions SET ciphertext = ?1 WHERE id = ?2",
        rusqlite::params![sealed, row],
    )
    .unwrap();
    drop(db);
    vault
        .run(&["reveal", "KEY", "--env", "production"])
        .refused(7);
}
