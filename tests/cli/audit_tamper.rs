//! Tampering with the vault file behind Coffer's back, as `sqlite3` would: the audit
//! chain names the first event that was edited, deleted or reordered, and a
//! ciphertext moved to another row refuses to open instead of revealing a wrong value.

use super::support::{random_token, Run, Vault};

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

/// `audit verify` fails (exit 1, or 7 for an integrity error) and its first mention of
/// an event is `event {id}`; the JSON report agrees.
#[track_caller]
fn assert_broken_at(vault: &Vault, id: i64) {
    let run = vault.run(&["audit", "verify"]);
    assert!(
        matches!(run.code(), Some(1) | Some(7)),
        "verify must fail: {}",
        run.describe()
    );
    assert_eq!(first_event_named(&run), Some(id), "{}", run.describe());
    let report = vault.run(&["--json", "audit", "verify"]);
    assert!(matches!(report.code(), Some(1) | Some(7)));
    assert_eq!(report.json()["first_bad"], id, "{}", report.describe());
}

fn first_event_named(run: &Run) -> Option<i64> {
    let at = run.stderr.find("event ")?;
    run.stderr[at + 6..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
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
