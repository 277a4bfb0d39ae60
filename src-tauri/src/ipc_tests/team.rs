//! Settings → Team through IPC, against the PostgreSQL the suite runs under
//! (tests/pg/with-postgres.sh): the watcher goes online, another machine's change
//! shows here within a second, and a member invited here joins from their own machine
//! once the owner has typed the fingerprint from their screen.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use coffer_core::crypto::KdfParams;
use coffer_core::team::{JoinProgress, ServerUrl};
use coffer_core::value::{Passphrase, SecretValue};
use coffer_core::{Scope, SetRequest, ValueSource, Vault};
use serde_json::{json, Value};

use super::{scope, Harness};

const OWNER_PASS: &str = "owner pass phrase";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A new empty database on the test server; its administrator's URL.
fn database() -> String {
    let admin = std::env::var("COFFER_TEST_PG").expect(
        "the team tests need a PostgreSQL server: run them under tests/pg/with-postgres.sh",
    );
    let name = format!(
        "app_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let out = Command::new("psql")
        .args([admin.as_str(), "-qAtc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    admin.replacen("/postgres?", &format!("/{name}?"), 1)
}

/// Waits up to `limit` for `ok` to hold of the team state; the state it settled on.
fn wait_for(h: &Harness, limit: Duration, ok: impl Fn(&Value) -> bool) -> (Value, Duration) {
    let start = Instant::now();
    loop {
        let st = h.ok("team_state", json!({}));
        if ok(&st) {
            return (st, start.elapsed());
        }
        assert!(start.elapsed() < limit, "team state never settled: {st}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The owner's vault in the app, moved onto a fresh team server, the watcher running.
fn team_app() -> (Harness, String) {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    let url = database();
    h.state()
        .with(|s| s.team_create(&ServerUrl::parse(&url)?))
        .unwrap();
    crate::team::spawn(h._app.handle().clone());
    wait_for(&h, Duration::from_secs(10), |st| {
        st["online"] == json!(true)
    });
    (h, url)
}

fn value(v: &str) -> ValueSource {
    ValueSource::Given(SecretValue::from_string(v.to_string()).unwrap())
}

#[test]
fn another_machines_change_shows_within_a_second_and_the_status_says_online() {
    let (h, _url) = team_app();
    let st = h.ok("team_state", json!({}));
    assert_eq!(st["on_team"], json!(true));
    assert_eq!(st["queued"], json!(0.0), "{st}");
    assert!(st["server"]
        .as_str()
        .unwrap()
        .starts_with("postgres://127.0.0.1:"));

    // The owner's other machine: a copy of the file, a change, a sync.
    let other = tempfile::tempdir().unwrap();
    let copy = other.path().join("vault.db");
    std::fs::copy(h.vault_path(), &copy).unwrap();
    // The app keeps its write-ahead log beside the file: the copy takes it too.
    let wal = format!("{}-wal", h.vault_path().display());
    if std::path::Path::new(&wal).exists() {
        std::fs::copy(&wal, format!("{}-wal", copy.display())).unwrap();
    }
    let mut elsewhere = Vault::open(&copy)
        .unwrap()
        .unlock("alice", &Passphrase::new(OWNER_PASS.into()))
        .unwrap();
    let before = h.ok("vault_status", json!({}))["change"].clone();
    let seen = h.ok("team_state", json!({}))["revision"].clone();
    elsewhere
        .set_secret(
            &Scope::default(),
            SetRequest::new("FROM_ELSEWHERE", value("v-elsewhere")),
        )
        .unwrap();
    elsewhere.team_sync().unwrap();
    let (_, took) = wait_for(&h, Duration::from_secs(5), |st| st["revision"] != seen);
    assert!(
        took < Duration::from_secs(1),
        "the change took {took:?} to arrive"
    );
    assert_ne!(h.ok("vault_status", json!({}))["change"], before);
    let list = h.ok(
        "list_secrets",
        json!({ "scope": scope(), "includeDeleted": false }),
    );
    assert!(list.to_string().contains("FROM_ELSEWHERE"), "{list}");

    // A write here is pushed without asking; the other machine gets it.
    h.ok(
        "set_secret",
        super::set_input("FROM_APP", "development", "v-app", None),
    );
    wait_for(&h, Duration::from_secs(5), |st| st["queued"] == json!(0.0));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        elsewhere.team_sync().unwrap();
        let names: Vec<String> = elsewhere
            .list_secrets(&Scope::default(), false)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        if names.contains(&"FROM_APP".to_string()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the app's write never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_member_invited_in_the_app_is_admitted_only_with_the_fingerprint_from_their_screen() {
    let (h, _url) = team_app();
    let invited = h.ok(
        "team_invite",
        json!({ "input": { "workspace": "default", "name": "bob", "role": "developer", "validHours": 24 } }),
    );
    let code = invited["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("coffer-invite:"));
    let listed = h.ok("team_invitations", json!({}));
    assert_eq!(listed[0]["name"], json!("bob"));
    assert_eq!(listed[0]["joined"], json!(false));
    // Nothing about the joiner's keys crosses before they join, and none after either:
    // the owner types what bob's screen shows.
    assert!(!listed.to_string().contains("fingerprint"));

    let bob_home = tempfile::tempdir().unwrap();
    let bob_vault = bob_home.path().join("vault.db");
    let bob_pass = Passphrase::new("bob's own pass phrase".into());
    let started =
        Vault::team_join(&bob_vault, &code, None, &bob_pass, KdfParams::INSECURE_FAST).unwrap();
    assert!(h.ok("team_invitations", json!({}))[0]["joined"] == json!(true));

    let wrong = h.err(
        "team_admit",
        json!({ "name": "bob", "fingerprint": "0000-0000-0000-0000-0000" }),
    );
    assert_eq!(wrong["code"], json!("denied"));
    assert!(matches!(
        Vault::team_join_finish(&bob_vault, &bob_pass).unwrap(),
        JoinProgress::Waiting { .. }
    ));
    h.ok(
        "team_admit",
        json!({ "name": "bob", "fingerprint": started.fingerprint }),
    );
    match Vault::team_join_finish(&bob_vault, &bob_pass).unwrap() {
        JoinProgress::Joined(j) => assert_eq!(j.workspaces, vec!["default".to_string()]),
        JoinProgress::Waiting { .. } => panic!("bob was admitted but is still waiting"),
    }
    let members = h.ok("list_members", json!({ "workspace": "default" }));
    assert!(members.to_string().contains("\"bob\""), "{members}");
    assert_eq!(h.ok("team_invitations", json!({})), json!([]));
}

#[test]
fn verify_server_says_what_its_administrator_deleted() {
    let (h, url) = team_app();
    let v = h.ok("team_verify", json!({}));
    assert!(v["scopes"].as_u64().unwrap() >= 2, "{v}");
    assert!(v["records"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["events"], v["own_events"], "{v}");
    let out = Command::new("psql")
        .args([
            url.as_str(),
            "-qAtc",
            "DELETE FROM coffer.records WHERE kind = 'environment'
                 AND key = (SELECT min(key) FROM coffer.records WHERE kind = 'environment')",
        ])
        .output()
        .expect("psql runs");
    assert!(out.status.success());
    let e = h.err("team_verify", json!({}));
    assert_eq!(e["code"], json!("integrity"), "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("environment record"),
        "{e}"
    );
}

#[test]
fn a_member_joins_from_the_first_run_screen_and_unlocks_once_admitted() {
    const BOB_PASS: &str = "bob keeps his own lamp 3";
    let (owner, _url) = team_app();
    owner.ok(
        "set_secret",
        super::set_input("SHARED_KEY", "development", "v-shared", None),
    );
    let invited = owner.ok(
        "team_invite",
        json!({ "input": { "workspace": "default", "name": "bob", "role": "developer", "validHours": 24 } }),
    );

    // Bob's app, on his machine: no vault yet.
    let bob = Harness::new();
    assert_eq!(bob.ok("vault_status", json!({}))["exists"], json!(false));
    let started = bob.ok(
        "team_join_start",
        json!({ "code": format!(" {} ", invited["code"].as_str().unwrap()), "passphrase": BOB_PASS }),
    );
    assert_eq!(started["name"], json!("bob"));
    assert_eq!(started["role"], json!("developer"));
    let fingerprint = started["fingerprint"].as_str().unwrap().to_string();
    assert!(!fingerprint.is_empty());
    // Closed and opened again, the app carries on with the join, not an unlock.
    assert_eq!(bob.ok("vault_status", json!({}))["joining"], json!(true));
    let waiting = bob.ok("team_join_finish", json!({ "passphrase": BOB_PASS }));
    assert_eq!(waiting["joined"], json!(false));
    assert_eq!(waiting["fingerprint"], json!(fingerprint));
    let wrong = bob.err(
        "team_join_finish",
        json!({ "passphrase": "not bob's pass phrase" }),
    );
    assert_eq!(wrong["code"], json!("auth"), "{wrong}");

    owner.ok(
        "team_admit",
        json!({ "name": "bob", "fingerprint": fingerprint }),
    );
    let done = bob.ok("team_join_finish", json!({ "passphrase": BOB_PASS }));
    assert_eq!(done["joined"], json!(true), "{done}");
    assert_eq!(done["name"], json!("bob"));
    assert_eq!(bob.ok("vault_status", json!({}))["joining"], json!(false));
    bob.ok(
        "unlock",
        json!({ "member": "bob", "passphrase": BOB_PASS, "remember": false }),
    );
    let list = bob.ok(
        "list_secrets",
        json!({ "scope": scope(), "includeDeleted": false }),
    );
    assert!(list.to_string().contains("SHARED_KEY"), "{list}");
}
