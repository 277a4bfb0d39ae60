//! Integration tests of the core against a temp-dir vault: lifecycle, permissions,
//! cryptographic binding, windows and expiry (with a manual clock), and leaks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use coffer_core::access::Role;
use coffer_core::crypto::KdfParams;
use coffer_core::device::MemoryKeyStore;
use coffer_core::value::SecretValue;
use coffer_core::{
    AuditFilter, EnvState, ErrorCode, Scope, Session, SetRequest, ValueSource, Vault,
};

const DAY: i64 = 86_400_000;
mod common;
use common::*;

fn file_contains(path: &Path, needle: &str) -> bool {
    let mut hay = std::fs::read(path).unwrap_or_default();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    hay.extend(std::fs::read(PathBuf::from(wal)).unwrap_or_default());
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn values_round_trip_per_environment_and_never_sit_in_the_file() {
    let (fx, mut s) = Fixture::new();
    set(&mut s, "API_KEY", "development", "dev-value-8f1d2c").unwrap();
    set(&mut s, "API_KEY", "production", "prod-value-77aa31").unwrap();
    assert_eq!(
        reveal(&mut s, "API_KEY", "development").unwrap(),
        "dev-value-8f1d2c"
    );
    assert_eq!(
        reveal(&mut s, "API_KEY", "production").unwrap(),
        "prod-value-77aa31"
    );
    assert_eq!(
        reveal(&mut s, "API_KEY", "staging").unwrap_err().code(),
        ErrorCode::NotFound
    );
    drop(s);
    for needle in ["dev-value-8f1d2c", "prod-value-77aa31", OWNER_PASS] {
        assert!(
            !file_contains(&fx.path, needle),
            "{needle} found in the vault file"
        );
    }
}

/// The streamed listing hands each secret over once, in name order, with the state of
/// every environment (one whose versions sit in another environment, too), and an
/// error of the caller ends it there.
#[test]
fn a_streamed_listing_gives_each_secret_once_in_name_order_and_stops_on_error() {
    let (_fx, mut s) = Fixture::new();
    for (name, env) in [
        ("ZETA", "development"),
        ("ALPHA", "production"),
        ("MIDDLE", "development"),
        ("MIDDLE", "staging"),
        ("ALPHA", "development"),
    ] {
        set(&mut s, name, env, &format!("{name}-{env}-value")).unwrap();
    }
    let mut seen = Vec::new();
    s.each_secret_in(&Scope::default(), false, None, &mut |item| {
        let set: Vec<&str> = item
            .environments
            .iter()
            .filter(|e| e.state == EnvState::Set)
            .map(|e| e.environment.as_str())
            .collect();
        seen.push(format!("{} {}", item.name, set.join(",")));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            "ALPHA development,production",
            "MIDDLE development,staging",
            "ZETA development"
        ]
    );
    assert_eq!(
        s.list_secrets(&Scope::default(), false).unwrap().len(),
        3,
        "the gathered listing is the stream collected"
    );
    let mut calls = 0;
    let err = s
        .each_secret_in(&Scope::default(), false, Some("staging"), &mut |item| {
            calls += 1;
            assert_eq!(item.environments.len(), 1, "only the environment asked for");
            Err(coffer_core::Error::Io("the reader went away".into()))
        })
        .unwrap_err();
    assert_eq!((calls, err.code()), (1, ErrorCode::Internal));
}

#[test]
fn listing_and_show_carry_state_but_no_value() {
    let (_fx, mut s) = Fixture::new();
    set(&mut s, "SHARED", "development", "same-everywhere-1").unwrap();
    set(&mut s, "SHARED", "production", "same-everywhere-1").unwrap();
    set(&mut s, "SHARED", "staging", "different-2").unwrap();
    let list = s.list_secrets(&Scope::default(), false).unwrap();
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains("same-everywhere-1") && !text.contains("different-2"));
    let envs = &list[0].environments;
    assert_eq!(
        envs.iter().map(|e| e.state).collect::<Vec<_>>(),
        vec![EnvState::Set; 3]
    );
    let dev = envs
        .iter()
        .find(|e| e.environment == "development")
        .unwrap();
    assert_eq!(dev.same_as, vec!["production".to_string()]);
    let detail = s.show_secret(&Scope::default(), "SHARED").unwrap();
    let text = serde_json::to_string(&detail).unwrap();
    assert!(!text.contains("same-everywhere-1"));
    let label = |env: &str| {
        detail
            .versions
            .iter()
            .find(|v| v.environment == env)
            .unwrap()
            .value_label
            .clone()
    };
    assert_eq!(label("development"), label("production"));
    assert_ne!(label("development"), label("staging"));
}

#[test]
fn a_ciphertext_moved_to_another_row_fails_with_integrity() {
    let (fx, mut s) = Fixture::new();
    set(&mut s, "A", "development", "value-of-a").unwrap();
    set(&mut s, "B", "development", "value-of-b").unwrap();
    drop(s);
    let c = rusqlite::Connection::open(&fx.path).unwrap();
    c.execute(
        "UPDATE versions SET ciphertext = (SELECT v.ciphertext FROM versions v JOIN secrets s ON s.id = v.secret_id WHERE s.name = 'A')
         WHERE secret_id = (SELECT id FROM secrets WHERE name = 'B')",
        [],
    )
    .unwrap();
    drop(c);
    let mut s = fx.open("alice", OWNER_PASS).unwrap();
    let err = reveal(&mut s, "B", "development").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Integrity);
    assert!(!err.to_string().contains("value-of-a"));
    assert_eq!(reveal(&mut s, "A", "development").unwrap(), "value-of-a");
}

#[test]
fn use_is_not_reveal_and_every_refusal_is_audited() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "KEY", "development", "v1-secret").unwrap();
    let mut admin = fx.member(&mut owner, "bob", Role::Admin);
    let mut dev = fx.member(&mut owner, "dora", Role::Developer);
    let mut auditor = fx.member(&mut owner, "audrey", Role::Auditor);
    let mut viewer = fx.member(&mut owner, "vic", Role::Viewer);

    assert_eq!(
        set(&mut admin, "KEY", "development", "v2-secret").unwrap(),
        2
    );
    assert_eq!(
        reveal(&mut admin, "KEY", "development").unwrap_err().code(),
        ErrorCode::Denied
    );
    assert_eq!(
        set(&mut dev, "KEY", "development", "x-secret")
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
    assert_eq!(
        reveal(&mut dev, "KEY", "development").unwrap_err().code(),
        ErrorCode::Denied
    );
    let mut r = dev
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .unwrap();
    assert_eq!(r.get("KEY").unwrap().expose(), "v2-secret");
    r.finish().unwrap();
    assert_eq!(
        reveal(&mut auditor, "KEY", "development")
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
    assert!(auditor
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .is_err());
    assert_eq!(
        dev.audit_events("default", &AuditFilter::default())
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
    assert_eq!(
        viewer
            .delete_secret(&Scope::default(), "KEY")
            .unwrap_err()
            .code(),
        ErrorCode::Denied
    );
    assert_eq!(
        viewer.list_secrets(&Scope::default(), false).unwrap().len(),
        1
    );

    let events = auditor
        .audit_events("default", &AuditFilter::default())
        .unwrap();
    let denied: Vec<_> = events
        .iter()
        .filter(|e| e.outcome == "denied")
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    for expected in [
        ("bob", "secret.reveal"),
        ("dora", "secret.update"),
        ("dora", "secret.reveal"),
        ("audrey", "secret.reveal"),
        ("audrey", "secret.use"),
        ("dora", "audit.read"),
        ("vic", "secret.delete"),
    ] {
        assert!(
            denied.contains(&expected),
            "{expected:?} not audited in {denied:?}"
        );
    }
    assert!(events
        .iter()
        .any(|e| e.actor == "dora" && e.action == "secret.use" && e.outcome == "ok"));
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("v1-secret") && !text.contains("v2-secret"));
    let report = auditor.verify_audit("default").unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn workspaces_are_invisible_to_non_members() {
    let (fx, mut owner) = Fixture::new();
    owner.create_workspace("acme").unwrap();
    let acme = Scope::new("acme", "default");
    owner
        .set_secret(&acme, SetRequest::new("ACME_KEY", value("acme-secret")))
        .unwrap();
    let mut bob = fx.member(&mut owner, "bob", Role::Admin);
    for err in [
        bob.list_secrets(&acme, false).unwrap_err(),
        bob.set_secret(&acme, SetRequest::new("X", value("y-value")))
            .unwrap_err(),
        bob.audit_events("acme", &AuditFilter::default())
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::NotFound);
        assert!(err.to_string().contains("workspace 'acme'"));
    }
    assert_eq!(bob.list_workspaces().unwrap().len(), 1);
    assert_eq!(
        bob.create_workspace("mine").unwrap_err().code(),
        ErrorCode::Denied
    );
    assert!(owner
        .list_secrets(&Scope::default(), false)
        .unwrap()
        .is_empty());
}

#[test]
fn user_scoped_secrets_belong_to_their_creator() {
    let (fx, mut owner) = Fixture::new();
    let mut bob = fx.member(&mut owner, "bob", Role::Admin);
    let mut req = SetRequest::new("BOB_PRIVATE", value("bobs-own"));
    req.scope = Some(coffer_core::SecretScope::User);
    bob.set_secret(&Scope::default(), req).unwrap();
    assert_eq!(bob.list_secrets(&Scope::default(), false).unwrap().len(), 1);
    assert!(owner
        .list_secrets(&Scope::default(), false)
        .unwrap()
        .is_empty());
    assert_eq!(
        owner
            .show_secret(&Scope::default(), "BOB_PRIVATE")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        reveal(&mut owner, "BOB_PRIVATE", "development")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[test]
fn check_and_set_turns_a_lost_update_into_a_conflict() {
    let (_fx, mut s) = Fixture::new();
    set(&mut s, "K", "development", "one-value").unwrap();
    let mut stale = SetRequest::new("K", value("two-value"));
    stale.if_version = Some(1);
    assert_eq!(s.set_secret(&Scope::default(), stale).unwrap().version, 2);
    let mut stale = SetRequest::new("K", value("three-value"));
    stale.if_version = Some(1);
    let err = s.set_secret(&Scope::default(), stale).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("version 2, not 1"));
    assert_eq!(reveal(&mut s, "K", "development").unwrap(), "two-value");
    let mut create_only = SetRequest::new("K", value("x-value"));
    create_only.if_version = Some(0);
    assert_eq!(
        s.set_secret(&Scope::default(), create_only)
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
}

#[test]
fn rollback_window_and_max_versions_destroy_old_ciphertext_but_keep_history() {
    let (fx, mut s) = Fixture::new();
    for v in ["v1-value", "v2-value", "v3-value"] {
        set(&mut s, "K", "development", v).unwrap();
    }
    let out = s
        .rollback(&Scope::default(), "K", "development", 1)
        .unwrap();
    assert_eq!(out.version, 4);
    assert_eq!(reveal(&mut s, "K", "development").unwrap(), "v1-value");
    // Past the window, old versions can no longer be rolled back to or revealed.
    fx.clock.advance(8 * DAY);
    let err = s
        .rollback(&Scope::default(), "K", "development", 2)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(err.to_string().contains("destroyed"));
    set(&mut s, "K", "development", "v5-value").unwrap();
    let detail = s.show_secret(&Scope::default(), "K").unwrap();
    let destroyed: Vec<i64> = detail
        .versions
        .iter()
        .filter(|v| v.destroyed)
        .map(|v| v.version)
        .collect();
    assert_eq!(destroyed, vec![3, 2, 1]);
    assert_eq!(
        detail.versions.len(),
        5,
        "metadata of destroyed versions stays"
    );
    let c = rusqlite::Connection::open(&fx.path).unwrap();
    let live: i64 = c
        .query_row(
            "SELECT count(*) FROM versions WHERE ciphertext IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        live, 2,
        "versions 4 (still in window) and 5 (current) keep ciphertext"
    );
    // Lowering max-versions applies at once.
    s.set_setting("default", "max-versions", "1").unwrap();
    let live: i64 = c
        .query_row(
            "SELECT count(*) FROM versions WHERE ciphertext IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(live, 1);
    let report = s.verify_audit("default").unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn expiry_and_rotation_due_show_and_block_use() {
    let (fx, mut s) = Fixture::new();
    let mut req = SetRequest::new("TEMP", value("temp-value"));
    req.expires_in_ms = Some(2 * DAY);
    req.rotate_every_ms = Some(30 * DAY);
    s.set_secret(&Scope::default(), req).unwrap();
    let status = |s: &mut Session| {
        s.list_secrets(&Scope::default(), false).unwrap()[0].environments[0].clone()
    };
    let st = status(&mut s);
    assert_eq!(st.state, EnvState::Set);
    assert!(st.expiring_soon && !st.rotation_due);
    fx.clock.advance(3 * DAY);
    assert_eq!(status(&mut s).state, EnvState::Expired);
    assert_eq!(
        reveal(&mut s, "TEMP", "development").unwrap_err().code(),
        ErrorCode::NotFound
    );
    let mut r = s
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("run"))
        .unwrap();
    assert!(r.get("TEMP").unwrap_err().to_string().contains("expired"));
    drop(r);
    set(&mut s, "TEMP", "development", "fresh-value").unwrap();
    assert_eq!(status(&mut s).state, EnvState::Set);
    fx.clock.advance(31 * DAY);
    assert!(status(&mut s).rotation_due);
}

#[test]
fn soft_delete_restore_and_purge() {
    let (fx, mut s) = Fixture::new();
    set(&mut s, "OLD", "development", "old-value").unwrap();
    s.delete_secret(&Scope::default(), "OLD").unwrap();
    assert_eq!(
        reveal(&mut s, "OLD", "development").unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert!(s.list_secrets(&Scope::default(), false).unwrap().is_empty());
    assert_eq!(s.list_secrets(&Scope::default(), true).unwrap().len(), 1);
    assert_eq!(
        set(&mut s, "OLD", "development", "x-value")
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    s.restore_secret(&Scope::default(), "OLD").unwrap();
    assert_eq!(reveal(&mut s, "OLD", "development").unwrap(), "old-value");
    s.delete_secret(&Scope::default(), "OLD").unwrap();
    fx.clock.advance(8 * DAY);
    let err = s.restore_secret(&Scope::default(), "OLD").unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    // The next write sweeps it away for good.
    set(&mut s, "OTHER", "development", "other-value").unwrap();
    assert!(s
        .list_secrets(&Scope::default(), true)
        .unwrap()
        .iter()
        .all(|x| x.name != "OLD"));
    set(&mut s, "GONE", "development", "gone-value").unwrap();
    assert_eq!(
        s.purge_secret(&Scope::default(), "GONE")
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    s.delete_secret(&Scope::default(), "GONE").unwrap();
    s.purge_secret(&Scope::default(), "GONE").unwrap();
    assert_eq!(
        s.restore_secret(&Scope::default(), "GONE")
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    drop(s);
    assert!(!file_contains(&fx.path, "gone-value"));
}

/// Marks production protected, then unlocks again with a device key: a session in
/// which the passphrase was not given.
fn protect_production_and_reopen_by_device(fx: &Fixture, mut s: Session) -> Session {
    s.set_environment_protected(&Scope::default(), "production", true)
        .unwrap();
    let store = MemoryKeyStore::default();
    s.remember_device(&store).unwrap();
    drop(s);
    Vault::open(&fx.path)
        .unwrap()
        .with_clock(Arc::new(fx.clock.clone()))
        .unlock_with_device("alice", &store)
        .unwrap()
}

#[test]
fn protected_environments_guard_delete_restore_purge_and_shorter_windows() {
    let (fx, mut s) = Fixture::new();
    set(&mut s, "PROD_KEY", "production", "prod-value").unwrap();
    set(&mut s, "DEV_KEY", "development", "dev-value").unwrap();
    let mut s = protect_production_and_reopen_by_device(&fx, s);
    let scope = Scope::default();
    let auth = |r: coffer_core::Result<()>| r.unwrap_err().code() == ErrorCode::Auth;
    assert!(auth(s.delete_secret(&scope, "PROD_KEY").map(|_| ())));
    assert_eq!(
        s.reauth_needed_for_secret(&scope, "PROD_KEY")
            .unwrap()
            .as_deref(),
        Some("production")
    );
    // A secret with no value in a protected environment needs nothing more.
    assert_eq!(s.reauth_needed_for_secret(&scope, "DEV_KEY").unwrap(), None);
    s.delete_secret(&scope, "DEV_KEY").unwrap();
    s.restore_secret(&scope, "DEV_KEY").unwrap();
    // Shortening a window destroys old production values; lengthening does not.
    let e = s
        .set_setting("default", "rollback-window", "1s")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth, "{e}");
    assert!(auth(
        s.set_setting("default", "max-versions", "1").map(|_| ())
    ));
    assert!(auth(
        s.set_setting("default", "recovery-window", "1h")
            .map(|_| ())
    ));
    assert_eq!(
        s.reauth_needed_for_setting("default", "rollback-window", "1s")
            .unwrap()
            .as_deref(),
        Some("production")
    );
    s.set_setting("default", "rollback-window", "30d").unwrap();
    s.set_setting("default", "auto-lock", "1m").unwrap();
    s.confirm_passphrase(&pass(OWNER_PASS)).unwrap();
    s.delete_secret(&scope, "PROD_KEY").unwrap();
    s.restore_secret(&scope, "PROD_KEY").unwrap();
    s.set_setting("default", "rollback-window", "1d").unwrap();
    s.delete_secret(&scope, "PROD_KEY").unwrap();
    fx.clock.advance(10 * 60_000);
    assert!(auth(s.restore_secret(&scope, "PROD_KEY")));
    assert!(auth(s.purge_secret(&scope, "PROD_KEY")));
    s.confirm_passphrase(&pass(OWNER_PASS)).unwrap();
    s.purge_secret(&scope, "PROD_KEY").unwrap();
}

#[test]
fn protected_environments_need_the_passphrase_again() {
    let (fx, s) = Fixture::new();
    let mut s = protect_production_and_reopen_by_device(&fx, s);
    let err = set(&mut s, "K", "production", "prod-value").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Auth);
    assert!(err.to_string().contains("protected"));
    set(&mut s, "K", "development", "dev-value").unwrap();
    assert_eq!(
        s.confirm_passphrase(&pass("wrong passphrase"))
            .unwrap_err()
            .code(),
        ErrorCode::Auth
    );
    s.confirm_passphrase(&pass(OWNER_PASS)).unwrap();
    set(&mut s, "K", "production", "prod-value").unwrap();
    fx.clock.advance(10 * 60_000);
    assert_eq!(
        set(&mut s, "K", "production", "prod-value-2")
            .unwrap_err()
            .code(),
        ErrorCode::Auth
    );
}

#[test]
fn device_keys_unlock_and_forgetting_stops_them() {
    let (fx, mut s) = Fixture::new();
    let store = MemoryKeyStore::default();
    s.remember_device(&store).unwrap();
    assert!(s.device_store().unwrap().is_some());
    drop(s);
    let mut s = Vault::open(&fx.path)
        .unwrap()
        .unlock_with_device("alice", &store)
        .unwrap();
    assert!(s.forget_device(&store).unwrap());
    drop(s);
    let err = Vault::open(&fx.path)
        .unwrap()
        .unlock_with_device("alice", &store)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Auth);
    let down = MemoryKeyStore::unavailable();
    let mut s = fx.open("alice", OWNER_PASS).unwrap();
    let err = s.remember_device(&down).unwrap_err();
    assert!(err.to_string().contains("not available") && !err.to_string().contains('\n'));
}

#[test]
fn wrong_passphrases_fail_alike_and_slow_down() {
    let (fx, s) = Fixture::new();
    drop(s);
    let t = std::time::Instant::now();
    let a = fx.open("alice", "not the passphrase").unwrap_err();
    let first = t.elapsed();
    let b = fx.open("nobody", "not the passphrase").unwrap_err();
    let t = std::time::Instant::now();
    let _ = fx.open("alice", "still wrong").unwrap_err();
    let _ = fx.open("alice", "still wrong").unwrap_err();
    let third = t.elapsed();
    assert_eq!(
        a.to_string(),
        b.to_string(),
        "same message for unknown member and wrong passphrase"
    );
    assert_eq!(a.code(), ErrorCode::Auth);
    assert!(
        third > first * 2,
        "delay must grow: {first:?} then {third:?}"
    );
    fx.open("alice", OWNER_PASS).unwrap();
}

#[test]
fn a_failed_unlock_writes_the_same_for_a_member_and_a_stranger() {
    // A write more for a member's name (their own failure counter) took measurably
    // longer, and left a per-member trace in the file: the same writes for every name.
    let (fx, s) = Fixture::new();
    drop(s);
    let members = || -> Vec<(i64, String, i64, Option<i64>)> {
        let db = rusqlite::Connection::open(&fx.path).unwrap();
        let mut stmt = db
            .prepare("SELECT id, name, failed_attempts, last_failed_at FROM members ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    };
    let before = members();
    let _ = fx.open("alice", "not the passphrase").unwrap_err();
    let _ = fx.open("nobody", "not the passphrase").unwrap_err();
    assert_eq!(members(), before);
    fx.open("alice", OWNER_PASS).unwrap();
}

#[test]
fn failed_unlocks_look_the_same_for_every_name() {
    // The delay grew only for real members, so timing a few attempts told which
    // names exist. It is one counter for every name now.
    let (fx, mut s) = Fixture::new();
    let _bob = fx.member(&mut s, "bob", Role::Viewer);
    drop(s);
    let _ = fx.open("alice", "not the passphrase").unwrap_err();
    let _ = fx.open("alice", "not the passphrase").unwrap_err();
    let t = std::time::Instant::now();
    let _ = fx.open("nobody", "not the passphrase").unwrap_err();
    let unknown = t.elapsed();
    assert!(
        unknown >= coffer_core::failure_delay(3),
        "an unknown name waited {unknown:?}, a member would wait {:?}",
        coffer_core::failure_delay(3)
    );
    fx.open("alice", OWNER_PASS).unwrap();

    // The device unlock says the same for an unknown name, a member who remembered
    // nothing here, and a member whose keyring has no key.
    let store = MemoryKeyStore::default();
    let mut alice = fx.open("alice", OWNER_PASS).unwrap();
    alice.remember_device(&store).unwrap();
    drop(alice);
    let messages: Vec<String> = ["nobody", "bob"]
        .into_iter()
        .map(|name| {
            let err = Vault::open(&fx.path)
                .unwrap()
                .unlock_with_device(name, &store)
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::Auth);
            err.to_string()
        })
        .chain(std::iter::once(
            Vault::open(&fx.path)
                .unwrap()
                .unlock_with_device("alice", &MemoryKeyStore::default())
                .unwrap_err()
                .to_string(),
        ))
        .collect();
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
    assert!(!messages[0].contains("bob") && !messages[0].contains("nobody"));

    // Before unlock, "remembered here?" is the keyring's answer, not the member list's.
    let vault = Vault::open(&fx.path).unwrap();
    assert!(vault.device_key_present("alice", &store).unwrap());
    let empty = MemoryKeyStore::default();
    for name in ["alice", "bob", "nobody"] {
        assert!(!vault.device_key_present(name, &empty).unwrap(), "{name}");
    }
    assert!(!vault.device_key_present("bob", &store).unwrap());
}

#[test]
fn weak_key_slots_are_upgraded_on_unlock() {
    let (fx, s) = Fixture::new();
    drop(s);
    let stronger = KdfParams { m: 256, t: 2, p: 1 };
    Vault::open(&fx.path)
        .unwrap()
        .with_kdf(stronger)
        .unlock("alice", &pass(OWNER_PASS))
        .unwrap();
    let c = rusqlite::Connection::open(&fx.path).unwrap();
    let kdf: String = c
        .query_row("SELECT kdf FROM key_slots", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kdf, r#"{"m":256,"t":2,"p":1}"#);
    fx.open("alice", OWNER_PASS).unwrap();
}

#[test]
fn auto_lock_is_the_shortest_over_the_members_workspaces() {
    let (fx, mut owner) = Fixture::new();
    assert_eq!(owner.auto_lock_ms().unwrap(), 15 * 60_000, "the default");
    owner.create_workspace("payments").unwrap();
    owner.set_setting("default", "auto-lock", "30m").unwrap();
    owner.set_setting("payments", "auto-lock", "2m").unwrap();
    assert_eq!(owner.auto_lock_ms().unwrap(), 2 * 60_000);
    // A member of `payments` only gets its setting, not `default`'s (or the default).
    owner.set_setting("payments", "auto-lock", "1h").unwrap();
    owner
        .add_member("payments", "bob", Role::Viewer, &pass("bob pass phrase"))
        .unwrap();
    let bob = fx.open("bob", "bob pass phrase").unwrap();
    assert_eq!(bob.auto_lock_ms().unwrap(), 60 * 60_000);
    assert_eq!(owner.auto_lock_ms().unwrap(), 30 * 60_000);
}

/// A setting edited in the file without keys cannot make the lock slower: reading it
/// fails as an integrity error (and the app then falls back to the shortest delay).
#[test]
fn a_tampered_auto_lock_is_an_integrity_error() {
    let (fx, mut owner) = Fixture::new();
    owner.set_setting("default", "auto-lock", "2m").unwrap();
    let db = rusqlite::Connection::open(&fx.path).unwrap();
    db.execute(
        "UPDATE settings SET value = '604800000' WHERE key = 'auto-lock'",
        [],
    )
    .unwrap();
    let owner = fx.open("alice", OWNER_PASS).unwrap();
    let e = owner.auto_lock_ms().unwrap_err();
    assert_eq!(e.code(), ErrorCode::Integrity, "{e}");
}

/// What code the installation runs is the vault's root owner's to decide: another
/// tenant's owner holds `manage` in their workspace, and is refused, audited there.
#[test]
fn only_the_root_owner_may_change_what_the_installation_runs() {
    let (fx, mut owner) = Fixture::new();
    owner.create_workspace("payments").unwrap();
    owner
        .add_member("payments", "olga", Role::Owner, &pass("olga pass phrase"))
        .unwrap();
    owner
        .require_root_owner("settings.updates", "change the update settings")
        .unwrap();
    let mut olga = fx.open("olga", "olga pass phrase").unwrap();
    let e = olga
        .require_root_owner("settings.updates", "change the update settings")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Denied, "{e}");
    assert!(e.to_string().contains("change the update settings"), "{e}");
    let refused: Vec<_> = owner
        .audit_events("payments", &AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "settings.updates")
        .map(|e| (e.actor, e.outcome))
        .collect();
    assert_eq!(refused, [("olga".to_string(), "denied".to_string())]);
}

#[test]
fn import_is_all_or_nothing() {
    let (_fx, mut s) = Fixture::new();
    set(&mut s, "EXISTING", "development", "old-value").unwrap();
    let entries = coffer_core::import::parse_dotenv("NEW_ONE=first\nEXISTING=second\n")
        .unwrap()
        .entries;
    let out = s.import(&Scope::default(), None, entries).unwrap();
    assert_eq!(
        out.iter()
            .map(|o| (o.created, o.version))
            .collect::<Vec<_>>(),
        vec![(true, 1), (false, 2)]
    );
    let bad = vec![
        (
            "THIRD".to_string(),
            SecretValue::from_string("fine-value".into()).unwrap(),
        ),
        (
            "bad name".to_string(),
            SecretValue::from_string("x-value".into()).unwrap(),
        ),
    ];
    assert_eq!(
        s.import(&Scope::default(), None, bad).unwrap_err().code(),
        ErrorCode::Invalid
    );
    assert_eq!(s.list_secrets(&Scope::default(), false).unwrap().len(), 2);
}

#[test]
fn export_carries_definitions_only() {
    let (_fx, mut s) = Fixture::new();
    set(&mut s, "STRIPE_KEY", "production", "sk_live_exported_value").unwrap();
    let doc = s.export(&Scope::default()).unwrap();
    let text = serde_json::to_string(&doc).unwrap();
    assert!(text.contains("STRIPE_KEY") && text.contains("coffer://default/STRIPE_KEY"));
    assert!(!text.contains("sk_live_exported_value"));
    assert_eq!(doc.secrets[0].set_in, vec!["production".to_string()]);
}

#[test]
fn two_sessions_writing_at_once_both_succeed() {
    let (fx, s) = Fixture::new();
    drop(s);
    let path = fx.path.clone();
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = Vault::open(&path)
                    .unwrap()
                    .with_kdf(KdfParams::INSECURE_FAST)
                    .unlock("alice", &pass(OWNER_PASS))
                    .unwrap();
                for i in 0..50 {
                    set(
                        &mut s,
                        &format!("T{t}_{i}"),
                        "development",
                        "concurrent-value",
                    )
                    .unwrap();
                    set(&mut s, "SHARED", "development", &format!("from-{t}-{i}")).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut s = fx.open("alice", OWNER_PASS).unwrap();
    assert_eq!(s.list_secrets(&Scope::default(), false).unwrap().len(), 101);
    let report = s.verify_audit("default").unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn members_roles_and_the_last_owner() {
    let (fx, mut owner) = Fixture::new();
    let _bob = fx.member(&mut owner, "bob", Role::Viewer);
    owner
        .grant_role("default", "bob", Role::Admin, None)
        .unwrap();
    let members = owner.list_members("default").unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.name.as_str(), m.role))
            .collect::<Vec<_>>(),
        vec![("alice", Role::Owner), ("bob", Role::Admin)]
    );
    let err = owner
        .grant_role("default", "alice", Role::Admin, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(
        owner.remove_member("default", "alice").unwrap_err().code(),
        ErrorCode::Conflict
    );
    owner.remove_member("default", "bob").unwrap();
    assert_eq!(
        fx.open("bob", "bob pass phrase").unwrap_err().code(),
        ErrorCode::Auth
    );
    assert_eq!(
        owner
            .add_member("default", "alice", Role::Viewer, &pass("some long pass"))
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    assert_eq!(
        owner
            .add_member("default", "carol", Role::Viewer, &pass("short"))
            .unwrap_err()
            .code(),
        ErrorCode::Invalid
    );
}

#[test]
fn generated_values_follow_the_request() {
    let (_fx, mut s) = Fixture::new();
    let req = SetRequest::new(
        "GEN",
        ValueSource::Generate {
            length: 40,
            alphabet: "hex".into(),
        },
    );
    s.set_secret(&Scope::default(), req).unwrap();
    let v = reveal(&mut s, "GEN", "development").unwrap();
    assert_eq!(v.len(), 40);
    assert!(v.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn typed_values_are_validated() {
    let (_fx, mut s) = Fixture::new();
    let mut req = SetRequest::new("J", value("{not json"));
    req.kind = Some(coffer_core::SecretKind::Json);
    let err = s.set_secret(&Scope::default(), req).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert!(!err.to_string().contains("not json"));
    set(&mut s, "LINE", "development", "one-line\n").unwrap();
    assert_eq!(reveal(&mut s, "LINE", "development").unwrap(), "one-line");
    assert_eq!(
        set(&mut s, "LINE2", "development", "two\nlines")
            .unwrap_err()
            .code(),
        ErrorCode::Invalid
    );
}

// ---- use without reveal: references, handles, the run check ----

#[test]
fn handles_resolve_only_for_their_member_and_until_they_expire() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "api-key", "development", "tok-handle-value-1").unwrap();
    let mut dev = fx.member(&mut owner, "dora", Role::Developer);
    let handle = dev
        .mint_handle(&Scope::default(), None, "api-key", Some(60_000), false)
        .unwrap();
    assert!(handle.starts_with("$secret:") && !handle.contains("tok-handle"));
    let target = coffer_core::references::parse_one(&handle).unwrap();
    let mut r = dev
        .resolver(
            &Scope::default(),
            Some("production"),
            coffer_core::Purpose::new("test"),
        )
        .unwrap();
    // Bound to its environment, whatever the resolver's default.
    assert_eq!(r.resolve(&target).unwrap().expose(), "tok-handle-value-1");
    r.finish().unwrap();
    // Another member holding the handle gets nothing.
    let mut r = owner
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .unwrap();
    assert_eq!(r.resolve(&target).unwrap_err().code(), ErrorCode::NotFound);
    drop(r);
    fx.clock.advance(61_000);
    let mut r = dev
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .unwrap();
    assert_eq!(r.resolve(&target).unwrap_err().code(), ErrorCode::NotFound);
    drop(r);
    // Nothing in the vault file can be presented as the handle.
    assert!(!file_contains(
        &fx.path,
        handle.trim_start_matches("$secret:")
    ));
    assert_eq!(
        dev.mint_handle(&Scope::default(), None, "nope", None, false)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[test]
fn a_single_use_handle_is_consumed_by_the_use_that_audits_it() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "api-key", "development", "tok-once-value-1").unwrap();
    let mut dev = fx.member(&mut owner, "dora", Role::Developer);
    let once = dev
        .mint_handle(&Scope::default(), None, "api-key", None, true)
        .unwrap();
    let target = coffer_core::references::parse_one(&once).unwrap();
    let resolver = |s: &mut Session| {
        let mut r = s
            .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
            .unwrap();
        let got = r.resolve(&target).map(|v| v.expose().to_string());
        (got, r.finish())
    };
    // Resolved twice in one use: still one use.
    let mut r = dev
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .unwrap();
    assert_eq!(r.resolve(&target).unwrap().expose(), "tok-once-value-1");
    assert_eq!(r.resolve(&target).unwrap().expose(), "tok-once-value-1");
    r.finish().unwrap();
    let (got, _) = resolver(&mut dev);
    assert_eq!(got.unwrap_err().code(), ErrorCode::NotFound, "consumed");

    // Two uses racing: both resolve before either finishes; only the first finishes.
    let once = dev
        .mint_handle(&Scope::default(), None, "api-key", None, true)
        .unwrap();
    let target = coffer_core::references::parse_one(&once).unwrap();
    let mut dev2 = fx.open("dora", "dora pass phrase").unwrap();
    let mut first = dev
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .unwrap();
    let mut second = dev2
        .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
        .unwrap();
    first.resolve(&target).unwrap();
    second.resolve(&target).unwrap();
    first.finish().unwrap();
    assert_eq!(second.finish().unwrap_err().code(), ErrorCode::NotFound);
    let uses = owner
        .audit_events(
            "default",
            &AuditFilter {
                action: Some("secret.use".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(uses.len(), 2, "the refused use left no use event: {uses:?}");

    // A plain handle resolves repeatedly.
    let plain = dev
        .mint_handle(&Scope::default(), None, "api-key", None, false)
        .unwrap();
    let plain = coffer_core::references::parse_one(&plain).unwrap();
    for _ in 0..2 {
        let mut r = dev
            .resolver(&Scope::default(), None, coffer_core::Purpose::new("test"))
            .unwrap();
        assert_eq!(r.resolve(&plain).unwrap().expose(), "tok-once-value-1");
        r.finish().unwrap();
    }
}

#[test]
fn resolver_follows_references_across_projects_and_audits_each_use_once() {
    let (_fx, mut owner) = Fixture::new();
    owner.create_project("default", "billing").unwrap();
    let billing = Scope::new("default", "billing");
    let mut req = SetRequest::new("stripe", value("sk-billing-value"));
    req.environment = Some("production".into());
    owner.set_secret(&billing, req).unwrap();
    set(&mut owner, "local", "development", "local-value-x").unwrap();
    let mut r = owner
        .resolver(
            &Scope::default(),
            None,
            coffer_core::Purpose {
                via: "run",
                program: Some("sh"),
                unmasked: false,
            },
        )
        .unwrap();
    let all = r.all_available(&|_| false).unwrap();
    let all: Vec<(&str, &str)> = all.iter().map(|(n, v)| (n.as_str(), v.expose())).collect();
    assert_eq!(
        all,
        [("local", "local-value-x")],
        "this project and environment only"
    );
    assert!(r.all_available(&|n| n == "local").unwrap().is_empty());
    let t = coffer_core::references::parse_one("coffer://billing/production/stripe").unwrap();
    assert_eq!(r.resolve(&t).unwrap().expose(), "sk-billing-value");
    let t = coffer_core::references::parse_one("{{ secrets.local }}").unwrap();
    r.resolve(&t).unwrap();
    r.resolve(&t).unwrap();
    r.finish().unwrap();
    let uses: Vec<_> = owner
        .audit_events("default", &AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "secret.use")
        .collect();
    assert_eq!(uses.len(), 2, "one event per secret used");
    let json = serde_json::to_string(&uses).unwrap();
    assert!(
        json.contains("\"program\":\"sh\"") && !json.contains("value"),
        "{json}"
    );
}

#[test]
fn run_check_reports_problems_and_finds_stored_values_by_fingerprint() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "ok-key", "development", "stored-ok-value-123").unwrap();
    set(&mut owner, "ok-key", "staging", "stored-ok-staging-9").unwrap();
    set(&mut owner, "ok-key", "production", "stored-ok-prod-77").unwrap();
    set(&mut owner, "dev-only", "development", "dev-only-value-1").unwrap();
    set(&mut owner, "gone", "development", "gone-value-1234").unwrap();
    owner.delete_secret(&Scope::default(), "gone").unwrap();
    let name =
        |n: &str| coffer_core::references::parse_one(&format!("{{{{ secrets.{n} }}}}")).unwrap();
    let mut check = owner.run_check(&Scope::default(), None).unwrap();
    assert!(check.compares_values());
    assert!(check.problems(&name("ok-key")).unwrap().is_empty());
    assert_eq!(check.problems(&name("missing")).unwrap(), vec!["missing"]);
    assert_eq!(check.problems(&name("gone")).unwrap(), vec!["deleted"]);
    assert_eq!(
        check.problems(&name("dev-only")).unwrap(),
        vec!["no value in staging", "no value in production"]
    );
    let m = check.stored_match("stored-ok-staging-9").unwrap();
    assert_eq!(
        (m.secret.as_str(), m.environment.as_str()),
        ("ok-key", "staging")
    );
    assert!(check.stored_match("not-stored-anywhere").is_none());
    check
        .record("/defs/a.yaml", &[("ok-key".into(), 3, 7, None)])
        .unwrap();
    check.finish(1, 0, true).unwrap();
    let used = owner.usages(&Scope::default(), "ok-key").unwrap();
    assert_eq!(
        (used[0].file.as_str(), used[0].line, used[0].column),
        ("/defs/a.yaml", 3, 7)
    );
    // One environment only.
    let mut check = owner
        .run_check(&Scope::default(), Some("development"))
        .unwrap();
    assert!(check.problems(&name("dev-only")).unwrap().is_empty());
    drop(check);
    // An auditor may check references but not compare values.
    let mut auditor = fx.member(&mut owner, "audrey", Role::Auditor);
    let check = auditor.run_check(&Scope::default(), None);
    if let Ok(check) = check {
        assert!(!check.compares_values());
    }
}

#[test]
fn where_used_records_need_write_and_are_audited_as_counts() {
    // A list-only member could erase what a check recorded, silencing the
    // "still referenced" warning before a delete, and leave no trace.
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "db-pass", "development", "recorded-value-77").unwrap();
    let mut check = owner.run_check(&Scope::default(), None).unwrap();
    check.require_record().unwrap();
    check
        .record("/defs/a.yaml", &[("db-pass".into(), 3, 7, None)])
        .unwrap();
    drop(check);
    let recorded = owner
        .audit_events(
            "default",
            &AuditFilter {
                action: Some("usage.record".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].outcome, "ok");
    assert_eq!(recorded[0].capability.as_deref(), Some("write"));
    assert_eq!(recorded[0].detail["references"], 1);
    assert_eq!(recorded[0].detail["removed"], 0);
    let shown = serde_json::to_string(&recorded).unwrap();
    assert!(!shown.contains("recorded-value-77"));

    for role in [Role::Viewer, Role::Developer, Role::Auditor] {
        let name = format!("m-{}", role.as_str());
        let mut member = fx.member(&mut owner, &name, role);
        let mut check = member.run_check(&Scope::default(), None).unwrap();
        let err = check.require_record().unwrap_err();
        assert_eq!(err.code(), ErrorCode::Denied, "{role:?}");
        // Even called without asking first, the record is refused.
        let err = check.record("/defs/a.yaml", &[]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Denied, "{role:?}");
        drop(check);
        let used = owner.usages(&Scope::default(), "db-pass").unwrap();
        assert_eq!(used.len(), 1, "{role:?} removed the record");
    }
    let denied = owner
        .audit_events(
            "default",
            &AuditFilter {
                action: Some("usage.record".into()),
                ..Default::default()
            },
        )
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == "denied")
        .count();
    assert_eq!(denied, 6, "every refusal is audited");
}

#[test]
fn fingerprints_are_for_writers_current_values_only_and_die_with_their_value() {
    // The guessing oracle of issue 11: an old, destroyed password was recovered by
    // checking guesses against the fingerprint kept beside its version.
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "db-pass", "development", "old-password-1").unwrap();
    set(&mut owner, "db-pass", "development", "new-password-2").unwrap();
    let check = owner.run_check(&Scope::default(), None).unwrap();
    assert!(check.stored_match("new-password-2").is_some());
    assert!(
        check.stored_match("old-password-1").is_none(),
        "only current values are compared"
    );
    drop(check);
    // A developer may use values but not test guesses against them.
    let mut dev = fx.member(&mut owner, "devon", Role::Developer);
    let check = dev.run_check(&Scope::default(), None).unwrap();
    assert!(!check.compares_values());
    assert!(check.stored_match("new-password-2").is_none());
    drop(check);
    // Past the rollback window the old version's ciphertext and fingerprint go.
    owner
        .set_setting("default", "rollback-window", "1h")
        .unwrap();
    fx.clock.advance(2 * 3_600_000);
    set(&mut owner, "other", "development", "sweep-trigger-1").unwrap();
    let db = rusqlite::Connection::open(&fx.path).unwrap();
    let empty: i64 = db
        .query_row(
            "SELECT count(*) FROM versions WHERE destroyed_at IS NOT NULL AND length(fingerprint) = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let kept: i64 = db
        .query_row(
            "SELECT count(*) FROM versions WHERE destroyed_at IS NOT NULL AND length(fingerprint) > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((empty, kept), (1, 0));
    let shown = owner.show_secret(&Scope::default(), "db-pass").unwrap();
    let old = shown.versions.iter().find(|v| v.version == 1).unwrap();
    assert!(old.destroyed);
    assert_eq!(old.value_label, "-");
}

#[test]
fn a_lease_unlocks_only_its_own_vault_and_never_shows_its_key() {
    let (fx, mut owner) = Fixture::new();
    set(&mut owner, "k", "development", "leased-value-123").unwrap();
    let lease = owner.lease();
    let encoded = lease.encode();
    let back = coffer_core::Lease::decode(&encoded).unwrap();
    let mut s = Vault::open(&fx.path)
        .unwrap()
        .unlock_with_lease(&back)
        .unwrap();
    assert_eq!(
        reveal(&mut s, "k", "development").unwrap(),
        "leased-value-123"
    );
    assert!(format!("{back:?}").contains("alice") && !format!("{back:?}").contains("key"));
    // Another vault refuses it, and so does a tampered key.
    let (other, _) = Fixture::new();
    let e = Vault::open(&other.path)
        .unwrap()
        .unlock_with_lease(&back)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth);
    let mut doc: serde_json::Value = serde_json::from_str(&encoded).unwrap();
    // Keys of the right shape that are not the member's.
    use base64::Engine as _;
    doc["key"] = serde_json::json!(base64::engine::general_purpose::STANDARD.encode([7u8; 96]));
    let forged = coffer_core::Lease::decode(&doc.to_string()).unwrap();
    let e = Vault::open(&fx.path)
        .unwrap()
        .unlock_with_lease(&forged)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth);
    assert_eq!(
        coffer_core::Lease::decode("not json").unwrap_err().code(),
        ErrorCode::Auth
    );
    doc["key"] = serde_json::json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_eq!(
        coffer_core::Lease::decode(&doc.to_string())
            .unwrap_err()
            .code(),
        ErrorCode::Auth,
        "a key of the wrong length is refused"
    );
}
