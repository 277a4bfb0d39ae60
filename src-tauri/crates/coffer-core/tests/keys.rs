//! Roles enforced by keys: what a member's keys open, what re-keying does when a member
//! leaves, what an edit of the file without keys achieves (nothing but an integrity
//! error), and the upgrade of a vault written by the build before keys enforced roles.

use std::path::PathBuf;

use coffer_core::access::Role;
use coffer_core::value::SecretValue;
use coffer_core::{ErrorCode, Purpose, Scope, Session, SetRequest, ValueSource, Vault};
use rusqlite::Connection;

mod common;
use common::*;

/// What a `coffer run` would inject: the value resolved for use.
fn use_value(s: &mut Session, name: &str, env: &str) -> coffer_core::Result<String> {
    let mut r = s.resolver(&Scope::default(), Some(env), Purpose::new("test"))?;
    let v = r.get(name)?.expose().to_string();
    r.finish()?;
    Ok(v)
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn member_id(db: &Connection, name: &str) -> i64 {
    db.query_row("SELECT id FROM members WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn keys_are_sealed_only_to_members_whose_role_may_use_or_reveal() {
    let (fx, mut owner) = Fixture::new();
    for (name, role) in [
        ("vic", Role::Viewer),
        ("dev", Role::Developer),
        ("adam", Role::Admin),
        ("aud", Role::Auditor),
    ] {
        fx.member(&mut owner, name, role);
    }
    owner.create_project("default", "payments").unwrap();
    owner
        .add_member("default", "pia", Role::Viewer, &pass("pia pass phrase"))
        .unwrap();
    owner
        .grant_role("default", "pia", Role::Developer, Some("payments"))
        .unwrap();
    let db = fx.db();
    let env_seals = |m: &str| {
        count(
            &db,
            &format!(
                "SELECT count(*) FROM env_key_seals WHERE member_id = {}",
                member_id(&db, m)
            ),
        )
    };
    let fp_seals = |m: &str| {
        count(
            &db,
            &format!(
                "SELECT count(*) FROM project_keys WHERE member_id = {}",
                member_id(&db, m)
            ),
        )
    };
    // Two projects of three environments each.
    assert_eq!(env_seals("alice"), 6);
    assert_eq!(env_seals("dev"), 6);
    assert_eq!(env_seals("adam"), 6);
    assert_eq!(
        env_seals("vic"),
        0,
        "a viewer holds no key that opens a value"
    );
    assert_eq!(
        env_seals("aud"),
        0,
        "an auditor holds no key that opens a value"
    );
    assert_eq!(
        env_seals("pia"),
        3,
        "a project grant brings that project's keys only"
    );
    // Fingerprint keys go to writers only.
    assert_eq!((fp_seals("alice"), fp_seals("adam")), (2, 2));
    assert_eq!(
        (fp_seals("dev"), fp_seals("vic"), fp_seals("pia")),
        (0, 0, 0)
    );
}

#[test]
fn a_viewer_made_owner_by_editing_grants_still_opens_nothing() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "DB_PASSWORD", "production", "prod-db-9a8b7c").unwrap();
    fx.member(&mut owner, "vic", Role::Viewer);
    let db = fx.db();
    db.execute(
        "UPDATE grants SET role = 'owner' WHERE member_id = (SELECT id FROM members WHERE name = 'vic')",
        [],
    )
    .unwrap();
    let mut vic = fx.open("vic", "vic pass phrase").unwrap();
    let e = reveal(&mut vic, "DB_PASSWORD", "production").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    assert!(
        e.to_string().contains("the role of 'vic'"),
        "names the row: {e}"
    );
    assert!(!e.to_string().contains("prod-db-9a8b7c"));
    // Even with the row signed by vic's own key, vic may not grant: still refused.
    sign_own_grant_as(&fx, &vic, "owner");
    let e = reveal(&mut vic, "DB_PASSWORD", "production").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    let e = use_value(&mut vic, "DB_PASSWORD", "production").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    // Nor may vic sign a grant for himself at all, not even the one he had.
    sign_own_grant_as(&fx, &vic, "viewer");
    let mut vic = fx.open("vic", "vic pass phrase").unwrap();
    assert_eq!(
        use_value(&mut vic, "DB_PASSWORD", "production")
            .unwrap_err()
            .code(),
        ErrorCode::Integrity
    );
    // With his grant written by the owner again, keys alone refuse: a viewer holds none.
    owner
        .grant_role("default", "vic", Role::Viewer, None)
        .unwrap();
    let mut vic = fx.open("vic", "vic pass phrase").unwrap();
    assert_eq!(
        use_value(&mut vic, "DB_PASSWORD", "production")
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
}

/// What an insider with their own keys can do to the file: rewrite their grant and
/// sign it with their own signing key (taken from a lease of their session).
fn sign_own_grant_as(fx: &Fixture, member: &Session, role: &str) {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let lease: serde_json::Value = serde_json::from_str(&member.lease().encode()).unwrap();
    let secret = base64::engine::general_purpose::STANDARD
        .decode(lease["key"].as_str().unwrap())
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&secret[..32].try_into().unwrap());
    let db = fx.db();
    let vault_id: Vec<u8> = db
        .query_row("SELECT value FROM meta WHERE key = 'vault_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let id = member_id(&db, member.member());
    let message = coffer_core::crypto::place(&[
        b"coffer/dir/v1/grant",
        &vault_id,
        b"default",
        &1i64.to_le_bytes(),
        member.member().as_bytes(),
        &id.to_le_bytes(),
        b"",
        &0i64.to_le_bytes(),
        role.as_bytes(),
    ]);
    let sig = key.sign(&message).to_bytes().to_vec();
    db.execute(
        "UPDATE grants SET role = ?1, signer = ?2, sig = ?3 WHERE member_id = ?2 AND project_id IS NULL",
        rusqlite::params![role, id, sig],
    )
    .unwrap();
}

#[test]
fn swapped_names_scopes_and_environments_fail_to_open_instead_of_misleading() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "DB_PASSWORD", "production", "prod-db-111").unwrap();
    set(&mut owner, "DB_PASSWORD", "development", "dev-db-222").unwrap();
    set(&mut owner, "PAYMENTS_KEY", "production", "pay-key-333").unwrap();
    drop(owner);
    let tamper = |sql: &str| {
        let db = fx.db();
        db.execute_batch(sql).unwrap();
    };
    // Swap the environments' names: production runs would get the development value.
    tamper(
        "UPDATE environments SET name = 'tmp' WHERE name = 'production';
         UPDATE environments SET name = 'production' WHERE name = 'development';
         UPDATE environments SET name = 'development' WHERE name = 'tmp';",
    );
    let mut s = fx.open("alice", OWNER_PASS).unwrap();
    for env in ["production", "development"] {
        let e = use_value(&mut s, "DB_PASSWORD", env).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Integrity, "{env}: {e}");
    }
    tamper(
        "UPDATE environments SET name = 'tmp' WHERE name = 'production';
         UPDATE environments SET name = 'production' WHERE name = 'development';
         UPDATE environments SET name = 'development' WHERE name = 'tmp';",
    );
    assert_eq!(
        use_value(&mut s, "DB_PASSWORD", "production").unwrap(),
        "prod-db-111"
    );
    // Swap two secrets' names: the database password would go to the payments API.
    tamper(
        "UPDATE secrets SET name = 'TMP' WHERE name = 'DB_PASSWORD';
         UPDATE secrets SET name = 'DB_PASSWORD' WHERE name = 'PAYMENTS_KEY';
         UPDATE secrets SET name = 'PAYMENTS_KEY' WHERE name = 'TMP';",
    );
    let e = use_value(&mut s, "PAYMENTS_KEY", "production").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    assert!(!e.to_string().contains("prod-db-111"));
}

#[test]
fn a_private_secret_flipped_to_workspace_scope_opens_for_no_one_else() {
    let (fx, mut owner) = Fixture::new();
    let mut bob = fx.member(&mut owner, "bob", Role::Admin);
    let mut req = SetRequest::new(
        "BOB_TOKEN",
        ValueSource::Given(SecretValue::from_string("bob-private-444".into()).unwrap()),
    );
    req.environment = Some("development".into());
    req.scope = Some(coffer_core::SecretScope::User);
    bob.set_secret(&Scope::default(), req).unwrap();
    assert_eq!(
        use_value(&mut bob, "BOB_TOKEN", "development").unwrap(),
        "bob-private-444"
    );
    fx.db()
        .execute(
            "UPDATE secrets SET scope = 'workspace' WHERE name = 'BOB_TOKEN'",
            [],
        )
        .unwrap();
    let e = reveal(&mut owner, "BOB_TOKEN", "development").unwrap_err();
    assert!(
        matches!(e.code(), ErrorCode::Integrity | ErrorCode::NotFound),
        "{e}"
    );
    assert!(!e.to_string().contains("bob-private-444"));
}

#[test]
fn removing_a_member_starts_new_epochs_and_marks_what_they_could_use() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "API_KEY", "production", "before-removal-555").unwrap();
    set(&mut owner, "OTHER", "development", "dev-666").unwrap();
    let bob = fx.member(&mut owner, "bob", Role::Developer);
    // What bob could keep: a lease of his own keys, taken while he was a member.
    let bobs_keys = bob.lease();
    drop(bob);
    let db = fx.db();
    let epochs = |db: &Connection| count(db, "SELECT max(epoch) FROM env_keys");
    assert_eq!(epochs(&db), 1);
    owner.remove_member("default", "bob").unwrap();
    assert_eq!(
        epochs(&db),
        2,
        "every environment bob held starts a new epoch"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM env_keys WHERE epoch = 1"),
        0,
        "old private keys are destroyed"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM versions WHERE ciphertext IS NOT NULL AND epoch <> 2"
        ),
        0,
        "live values are re-sealed"
    );
    // The owner still uses both values; they are marked exposed to bob.
    assert_eq!(
        use_value(&mut owner, "API_KEY", "production").unwrap(),
        "before-removal-555"
    );
    let list = owner.list_secrets(&Scope::default(), false).unwrap();
    let api = list.iter().find(|s| s.name == "API_KEY").unwrap();
    let prod = api
        .environments
        .iter()
        .find(|e| e.environment == "production")
        .unwrap();
    assert_eq!(prod.exposed_to, vec!["bob".to_string()]);
    let dev = api
        .environments
        .iter()
        .find(|e| e.environment == "development")
        .unwrap();
    assert!(dev.exposed_to.is_empty(), "no value there, nothing exposed");
    let events = owner
        .audit_events("default", &coffer_core::AuditFilter::default())
        .unwrap();
    let rotate = events.iter().find(|e| e.action == "key.rotate").unwrap();
    assert_eq!(rotate.detail["member"], "bob");
    assert_eq!(rotate.detail["values_exposed"], 2);
    // A rotation clears the mark.
    set(&mut owner, "API_KEY", "production", "after-removal-777").unwrap();
    let list = owner.list_secrets(&Scope::default(), false).unwrap();
    let api = list.iter().find(|s| s.name == "API_KEY").unwrap();
    assert!(api.environments.iter().all(|e| e.exposed_to.is_empty()));
    // Bob's old keys open nothing any more, not even through a lease.
    let e = Vault::open(&fx.path)
        .unwrap()
        .unlock_with_lease(&bobs_keys)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth);
    // Added back, bob gets new keys and uses the new value.
    owner
        .add_member(
            "default",
            "bob",
            Role::Developer,
            &pass("bob second phrase"),
        )
        .unwrap();
    let mut bob = fx.open("bob", "bob second phrase").unwrap();
    assert!(bob.must_change_passphrase());
    assert_eq!(
        use_value(&mut bob, "API_KEY", "production").unwrap(),
        "after-removal-777"
    );
}

#[test]
fn demotion_to_viewer_rekeys_and_promotion_seals_keys() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "K", "development", "value-888").unwrap();
    let mut dev = fx.member(&mut owner, "dev", Role::Developer);
    assert_eq!(
        use_value(&mut dev, "K", "development").unwrap(),
        "value-888"
    );
    owner
        .grant_role("default", "dev", Role::Viewer, None)
        .unwrap();
    let mut dev = fx.open("dev", "dev pass phrase").unwrap();
    assert_eq!(
        use_value(&mut dev, "K", "development").unwrap_err().code(),
        ErrorCode::Denied
    );
    let db = fx.db();
    assert_eq!(count(&db, "SELECT min(epoch) FROM env_keys"), 2);
    owner
        .grant_role("default", "dev", Role::Admin, None)
        .unwrap();
    let mut dev = fx.open("dev", "dev pass phrase").unwrap();
    assert_eq!(
        use_value(&mut dev, "K", "development").unwrap(),
        "value-888"
    );
    set(&mut dev, "K", "development", "value-999").unwrap();
    assert_eq!(reveal(&mut owner, "K", "development").unwrap(), "value-999");
}

#[test]
fn a_public_key_swapped_in_the_file_is_caught_before_anything_is_sealed_to_it() {
    let (fx, mut owner) = Fixture::new();
    fx.member(&mut owner, "bob", Role::Viewer);
    fx.member(&mut owner, "eve", Role::Viewer);
    // Eve, with write access to the file, puts her public key in bob's row so that
    // keys sealed to "bob" open for her.
    let db = fx.db();
    db.execute(
        "UPDATE members SET kx_pk = (SELECT kx_pk FROM members WHERE name = 'eve') WHERE name = 'bob'",
        [],
    )
    .unwrap();
    let e = owner
        .grant_role("default", "bob", Role::Developer, None)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    assert!(e.to_string().contains("bob"), "{e}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM env_key_seals WHERE member_id = (SELECT id FROM members WHERE name = 'bob')"),
        0,
        "nothing was sealed to the swapped key"
    );
    // Bob's own unlock sees the mismatch too.
    assert_eq!(
        fx.open("bob", "bob pass phrase").unwrap_err().code(),
        ErrorCode::Integrity
    );
    // A forged root: a member row claiming to certify itself is not the anchor.
    db.execute(
        "UPDATE members SET certified_by = id WHERE name = 'eve'",
        [],
    )
    .unwrap();
    assert_eq!(
        fx.open("eve", "eve pass phrase").unwrap_err().code(),
        ErrorCode::Integrity
    );
}

#[test]
fn a_new_passphrase_of_ones_own_replaces_the_given_one() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "K", "development", "value-abc").unwrap();
    let mut bob = fx.member(&mut owner, "bob", Role::Developer);
    assert!(bob.must_change_passphrase());
    let e = bob
        .change_passphrase(&pass("wrong pass phrase"), &pass("bob own phrase 1"))
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth);
    bob.change_passphrase(&pass("bob pass phrase"), &pass("bob own phrase 1"))
        .unwrap();
    assert!(!bob.must_change_passphrase());
    assert_eq!(
        fx.open("bob", "bob pass phrase").unwrap_err().code(),
        ErrorCode::Auth
    );
    let mut bob = fx.open("bob", "bob own phrase 1").unwrap();
    assert!(!bob.must_change_passphrase());
    let changed = owner
        .audit_events("default", &coffer_core::AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "member.passphrase" && e.actor == "bob")
        .count();
    assert_eq!(changed, 1, "auditors of bob's workspace see the change");
    assert_eq!(
        use_value(&mut bob, "K", "development").unwrap(),
        "value-abc"
    );
}

// ---- the upgrade of a vault written before keys enforced roles ----

fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/vault-v5.db");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    std::fs::copy(&src, &path).unwrap();
    (dir, path)
}

fn open_at(path: &std::path::Path, member: &str, passphrase: &str) -> coffer_core::Result<Session> {
    Vault::open(path).unwrap().unlock(member, &pass(passphrase))
}

#[test]
fn an_old_vault_is_upgraded_at_its_owners_first_unlock_and_loses_nothing() {
    let (_dir, path) = fixture_copy();
    // Before the owner: another member is told to wait for the upgrade.
    let e = open_at(&path, "bob", "bob passphrase 1").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth);
    assert!(e.to_string().contains("owner must unlock"), "{e}");
    let mut alice = open_at(&path, "alice", "owner passphrase 1").unwrap();
    let report = alice.take_upgrade_report().expect("an upgrade report");
    let names: Vec<&str> = report.members.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(names, ["bob", "carol", "dave", "erin"]);
    assert!(alice.take_upgrade_report().is_none(), "shown once");
    // Every value is still there.
    assert_eq!(
        reveal(&mut alice, "DB_PASSWORD", "development").unwrap(),
        "dev-db-password-2"
    );
    assert_eq!(
        reveal(&mut alice, "DB_PASSWORD", "production").unwrap(),
        "prod-db-password-1"
    );
    assert_eq!(
        reveal(&mut alice, "STRIPE_KEY", "production").unwrap(),
        "sk_live_fixture_stripe_key"
    );
    assert_eq!(
        reveal(&mut alice, "ALICE_TOKEN", "development").unwrap(),
        "alice-private-token"
    );
    let old = alice
        .reveal(
            &Scope::default(),
            "DB_PASSWORD",
            Some("development"),
            Some(1),
            None,
        )
        .unwrap();
    assert_eq!(
        old.expose(),
        "dev-db-password-1",
        "versions in the rollback window too"
    );
    let payments = Scope::new("default", "payments");
    assert_eq!(
        alice
            .reveal(&payments, "PAYMENTS_KEY", Some("development"), None, None)
            .unwrap()
            .expose(),
        "payments-api-key-1"
    );
    let acme = Scope::new("acme", "default");
    assert_eq!(
        alice
            .reveal(&acme, "ACME_SECRET", Some("development"), None, None)
            .unwrap()
            .expose(),
        "acme-secret-1"
    );
    // The trail goes on and verifies, and records the upgrade.
    let report_v = alice.verify_audit("default").unwrap();
    assert!(report_v.ok, "{report_v:?}");
    let events = alice
        .audit_events("default", &coffer_core::AuditFilter::default())
        .unwrap();
    assert!(events.iter().any(|e| e.action == "vault.upgrade"));
    drop(alice);
    // The old passphrases of others open nothing; their one-time ones do, with only
    // their role's keys.
    assert_eq!(
        open_at(&path, "bob", "bob passphrase 1")
            .unwrap_err()
            .code(),
        ErrorCode::Auth
    );
    let one_time = |name: &str| {
        report
            .members
            .iter()
            .find(|m| m.0 == name)
            .map(|m| m.1.expose().to_string())
            .unwrap()
    };
    let mut bob = open_at(&path, "bob", &one_time("bob")).unwrap();
    assert!(bob.must_change_passphrase());
    assert_eq!(
        use_value(&mut bob, "DB_PASSWORD", "development").unwrap(),
        "dev-db-password-2"
    );
    assert_eq!(
        reveal(&mut bob, "DB_PASSWORD", "development")
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
    let mut carol = open_at(&path, "carol", &one_time("carol")).unwrap();
    assert_eq!(
        use_value(&mut carol, "DB_PASSWORD", "development")
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
    // Erin, an admin, uses what she wrote under her old key through her new one.
    let mut erin = open_at(&path, "erin", &one_time("erin")).unwrap();
    assert!(use_value(&mut erin, "ERIN_NOTE", "development").is_ok());
    // No old key survives in the file.
    let db = Connection::open(&path).unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM key_slots WHERE format <> 2"),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM workspaces WHERE length(wrapped_key) > 0"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM versions WHERE ciphertext IS NOT NULL AND epoch IS NULL"
        ),
        0
    );
}

#[test]
fn an_upgrade_that_fails_halfway_leaves_the_old_vault_as_it_was() {
    let (_dir, path) = fixture_copy();
    let dump = |p: &std::path::Path| {
        let db = Connection::open(p).unwrap();
        let mut out = Vec::new();
        for t in [
            "members",
            "key_slots",
            "workspaces",
            "versions",
            "audit_events",
        ] {
            let mut st = db
                .prepare(&format!("SELECT * FROM {t} ORDER BY 1"))
                .unwrap();
            let n = st.column_count();
            let rows: Vec<Vec<rusqlite::types::Value>> = st
                .query_map([], |r| (0..n).map(|i| r.get(i)).collect())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            out.push(format!("{t}: {rows:?}"));
        }
        out
    };
    // One value's ciphertext is damaged: the upgrade cannot open it.
    let db = Connection::open(&path).unwrap();
    db.execute("UPDATE versions SET ciphertext = zeroblob(60) WHERE id = (SELECT min(id) FROM versions WHERE ciphertext IS NOT NULL)", []).unwrap();
    drop(db);
    // Open once so the schema migration (which is not the key upgrade) has run.
    drop(Vault::open(&path).unwrap());
    let before = dump(&path);
    let e = open_at(&path, "alice", "owner passphrase 1").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    assert_eq!(dump(&path), before, "nothing of the upgrade was written");
}

#[test]
fn rows_signed_by_a_member_who_leaves_stay_valid_and_forged_flags_are_caught() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "K", "production", "value-prod-1").unwrap();
    // A second owner protects production, sets a window and adds a member, then leaves.
    let mut olga = fx.member(&mut owner, "olga", Role::Owner);
    olga.confirm_passphrase(&pass("olga pass phrase")).unwrap();
    olga.set_environment_protected(&Scope::default(), "production", true)
        .unwrap();
    olga.set_setting("default", "rollback-window", "14d")
        .unwrap();
    olga.add_member("default", "dan", Role::Developer, &pass("dan pass phrase"))
        .unwrap();
    // Olga creates a workspace of her own and shares it.
    olga.create_workspace("olgas").unwrap();
    olga.add_member("olgas", "vic", Role::Viewer, &pass("vic pass phrase"))
        .unwrap();
    drop(olga);
    owner.remove_member("default", "olga").unwrap();
    let mut dan = fx.open("dan", "dan pass phrase").unwrap();
    assert_eq!(
        use_value(&mut dan, "K", "production").unwrap(),
        "value-prod-1"
    );
    let mut owner = fx.open("alice", OWNER_PASS).unwrap();
    assert!(owner
        .list_environments(&Scope::default())
        .unwrap()
        .iter()
        .any(|e| e.name == "production" && e.protected));
    let mut vic = fx.open("vic", "vic pass phrase").unwrap();
    assert_eq!(vic.list_workspaces().unwrap().len(), 1);
    vic.list_secrets(&Scope::new("olgas", "default"), false)
        .unwrap();
    // Without keys, unprotecting production or shortening the window is caught.
    let db = fx.db();
    db.execute(
        "UPDATE environments SET protected = 0 WHERE name = 'production'",
        [],
    )
    .unwrap();
    let e = set(&mut owner, "K", "production", "sneaky").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    assert!(e.to_string().contains("environment 'production'"), "{e}");
    db.execute(
        "UPDATE environments SET protected = 1 WHERE name = 'production'",
        [],
    )
    .unwrap();
    db.execute(
        "UPDATE settings SET value = '0' WHERE key = 'rollback-window'",
        [],
    )
    .unwrap();
    let e = owner.settings("default").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
    assert!(e.to_string().contains("rollback-window"), "{e}");
}
