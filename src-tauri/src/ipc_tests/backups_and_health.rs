//! Settings → Backups and Health through real IPC: who may list, take, rotate and
//! restore snapshots; that a restore accepts only this vault's own snapshots, changes
//! nothing when a check fails, and locks the app when it succeeds; and the findings of
//! the app's doctor.

use serde_json::{json, Value};

use super::{scope, set_input, unlock_args, Harness};

const OWNER_PASS: &str = "owner pass phrase";

fn owner_vault() -> Harness {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    h
}

fn snapshots_of(h: &Harness) -> Vec<Value> {
    h.ok("list_snapshots", json!({}))["snapshots"]
        .as_array()
        .unwrap()
        .clone()
}

/// The version of `name` in development, as the key list shows it.
fn dev_version(h: &Harness, name: &str) -> Value {
    let list = h.ok(
        "list_secrets",
        json!({ "scope": scope(), "includeDeleted": false }),
    );
    let envs = list["environments"].as_array().unwrap();
    let dev = envs.iter().position(|e| e == "development").unwrap();
    let row = list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == json!(name))
        .unwrap_or_else(|| panic!("{name} is listed"))
        .clone();
    row["cells"][dev][0].clone()
}

fn restore(h: &Harness, path: &Value, passphrase: &str) -> Result<Value, Value> {
    h.call(
        "restore_snapshot",
        json!({ "path": path, "passphrase": passphrase }),
    )
}

fn actions(h: &Harness, action: &str) -> usize {
    h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": { "action": action } }),
    )
    .as_array()
    .unwrap()
    .len()
}

#[test]
fn backups_are_listed_newest_first_taken_now_and_their_rotation_needs_manage() {
    let h = Harness::new();
    assert_eq!(h.err("list_snapshots", json!({}))["code"], json!("auth"));
    assert_eq!(h.err("back_up_now", json!({}))["code"], json!("auth"));
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    let listed = h.ok("list_snapshots", json!({}));
    assert!(
        listed["directory"]
            .as_str()
            .unwrap()
            .ends_with("vault.db.snapshots"),
        "{listed}"
    );
    assert_eq!(listed["keep"], json!({ "daily": 7, "weekly": 4 }));
    let before = snapshots_of(&h).len();

    let made = h.ok("back_up_now", json!({}));
    assert_eq!(made["kind"], json!("manual"));
    assert!(made["bytes"].as_f64().unwrap() > 0.0);
    assert!(made["taken_at"].as_f64().unwrap() > 0.0);
    let all = snapshots_of(&h);
    assert_eq!(all.len(), before + 1);
    assert_eq!(all[0]["path"], made["path"], "newest first");
    let times: Vec<f64> = all
        .iter()
        .map(|s| s["taken_at"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(actions(&h, "vault.backup"), 1, "audited");

    let off = h.ok("set_snapshot_keep", json!({ "daily": 0, "weekly": 0 }));
    assert_eq!(off, json!({ "daily": 0, "weekly": 0 }));
    assert_eq!(h.ok("list_snapshots", json!({}))["keep"], off);
    let too_many = h.err("set_snapshot_keep", json!({ "daily": 1000, "weekly": 4 }));
    assert_eq!(too_many["code"], json!("invalid"));
    h.ok("set_snapshot_keep", json!({ "daily": 5, "weekly": 2 }));

    // A viewer may see the snapshots and take one, not change their rotation.
    h.ok("add_member", json!({ "workspace": "default", "name": "vic", "role": "viewer", "passphrase": "vic pass phrase" }));
    let owner_saw = snapshots_of(&h);
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("vic", "vic pass phrase"));
    assert_eq!(snapshots_of(&h), owner_saw);
    h.ok("back_up_now", json!({}));
    let denied = h.err("set_snapshot_keep", json!({ "daily": 0, "weekly": 0 }));
    assert_eq!(denied["code"], json!("denied"));
    assert_eq!(
        h.ok("list_snapshots", json!({}))["keep"],
        json!({ "daily": 5, "weekly": 2 })
    );
}

#[test]
fn a_restore_turns_the_vault_back_keeps_the_current_one_and_locks_the_app() {
    let h = owner_vault();
    h.ok(
        "set_secret",
        set_input("API_KEY", "development", "value-one-1", None),
    );
    let snap = h.ok("back_up_now", json!({}))["path"].clone();
    h.ok(
        "set_secret",
        set_input("API_KEY", "development", "value-two-2", Some(1)),
    );
    assert_eq!(dev_version(&h, "API_KEY"), json!(2));

    let done = restore(&h, &snap, OWNER_PASS).expect("the restore");
    assert_eq!(done["one_time_passphrases"], json!([]));
    let restored = &done["restored"];
    assert_eq!(restored["replaced_another"], json!(false));
    assert!(restored["head"].as_f64().unwrap() > 0.0);
    let kept = restored["kept"].clone();
    assert!(kept.is_string(), "{done}");
    assert_eq!(
        h.ok("vault_status", json!({}))["unlocked"],
        json!(false),
        "the session belonged to the vault replaced"
    );
    assert_eq!(h.err("list_snapshots", json!({}))["code"], json!("auth"));

    h.ok("unlock", unlock_args("alice", OWNER_PASS));
    assert_eq!(dev_version(&h, "API_KEY"), json!(1), "turned back");
    let all = snapshots_of(&h);
    let before_restore = all
        .iter()
        .find(|s| s["path"] == kept)
        .expect("the vault as it was is kept among the snapshots");
    assert_eq!(before_restore["kind"], json!("before-restore"));
    assert_eq!(
        actions(&h, "vault.restore"),
        1,
        "the restore is in the trail"
    );
    assert_eq!(
        h.ok("verify_audit", json!({ "workspace": "default" }))["ok"],
        json!(true)
    );
    // The vault as it was can be restored in turn: version 2 comes back.
    restore(&h, &kept, OWNER_PASS).expect("restoring what was kept");
    h.ok("unlock", unlock_args("alice", OWNER_PASS));
    assert_eq!(dev_version(&h, "API_KEY"), json!(2));

    // A wrong passphrase changes nothing and keeps the session.
    let count = snapshots_of(&h).len();
    let wrong = restore(&h, &snap, "not the passphrase").unwrap_err();
    assert_eq!(wrong["code"], json!("auth"), "{wrong}");
    assert_eq!(h.ok("vault_status", json!({}))["unlocked"], json!(true));
    assert_eq!(dev_version(&h, "API_KEY"), json!(2));
    assert_eq!(
        snapshots_of(&h).len(),
        count,
        "nothing kept, as nothing changed"
    );
}

/// A mistyped passphrase must not stop the next try: the failed unlock of the working
/// copy (`.restoring<pid>.db`, a name the app, one process, reuses) moves no anchor, or
/// the next copy of the same snapshot would hold fewer events than it and fail.
#[test]
fn a_mistyped_passphrase_does_not_stop_the_next_restore() {
    let h = owner_vault();
    let snap = h.ok("back_up_now", json!({}))["path"].clone();
    h.ok(
        "set_secret",
        set_input("API_KEY", "development", "value-one-1", None),
    );
    let wrong = restore(&h, &snap, "not the passphrase").unwrap_err();
    assert_eq!(wrong["code"], json!("auth"), "{wrong}");
    restore(&h, &snap, OWNER_PASS).expect("the second try");
}

/// The webview may name only this vault's own snapshots, never a damaged one, and
/// only a member who may restore gets past the checks; each refusal changes nothing.
#[test]
fn a_restore_refuses_other_files_damaged_snapshots_and_members_who_may_not() {
    let h = owner_vault();
    let snap = h.ok("back_up_now", json!({}))["path"].clone();
    let snap_path = std::path::PathBuf::from(snap.as_str().unwrap());

    // The same file under another name, outside the snapshots: not this vault's list.
    let elsewhere = h.dir.path().join("copy.db");
    std::fs::copy(&snap_path, &elsewhere).unwrap();
    for path in [
        json!(elsewhere.display().to_string()),
        json!(h.vault_path().display().to_string()),
        json!("/etc/passwd"),
        json!(format!(
            "{}/../copy.db",
            snap_path.parent().unwrap().display()
        )),
    ] {
        let refused = restore(&h, &path, OWNER_PASS).unwrap_err();
        assert_eq!(refused["code"], json!("not_found"), "{path}: {refused}");
    }

    // A damaged file moved aside by an earlier restore is listed, but not restorable.
    let damaged = snap_path.with_file_name("2020-01-01T000000.000Z-damaged.db");
    std::fs::write(&damaged, b"not a database").unwrap();
    let listed = snapshots_of(&h);
    assert!(listed.iter().any(|s| s["kind"] == json!("damaged")));
    let refused = restore(&h, &json!(damaged.display().to_string()), OWNER_PASS).unwrap_err();
    assert_eq!(refused["code"], json!("invalid"), "{refused}");

    // An admin may not: a restore turns back every workspace and its trail.
    h.ok("add_member", json!({ "workspace": "default", "name": "bob", "role": "admin", "passphrase": "bob pass phrase" }));
    let snap = h.ok("back_up_now", json!({}))["path"].clone();
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("bob", "bob pass phrase"));
    let denied = restore(&h, &snap, "bob pass phrase").unwrap_err();
    assert_eq!(denied["code"], json!("denied"), "{denied}");
    assert_eq!(h.ok("vault_status", json!({}))["unlocked"], json!(true));
    assert_eq!(snapshots_of(&h).len(), listed.len() + 1, "nothing kept");
}

/// A snapshot whose trail was edited is refused before anything changes.
#[test]
fn a_tampered_snapshot_is_refused_and_nothing_changes() {
    let h = owner_vault();
    h.ok(
        "set_secret",
        set_input("API_KEY", "development", "value-one-1", None),
    );
    let snap = h.ok("back_up_now", json!({}))["path"].clone();
    h.ok(
        "set_secret",
        set_input("API_KEY", "development", "value-two-2", Some(1)),
    );
    let conn = rusqlite::Connection::open(snap.as_str().unwrap()).unwrap();
    conn.execute(
        "UPDATE audit_events SET actor = 'mallory' WHERE id = (SELECT min(id) FROM audit_events WHERE action = 'secret.create')",
        [],
    )
    .unwrap();
    drop(conn);
    let before = snapshots_of(&h).len();
    let refused = restore(&h, &snap, OWNER_PASS).unwrap_err();
    assert_eq!(refused["code"], json!("integrity"), "{refused}");
    assert_eq!(h.ok("vault_status", json!({}))["unlocked"], json!(true));
    assert_eq!(dev_version(&h, "API_KEY"), json!(2));
    assert_eq!(snapshots_of(&h).len(), before);
    assert_eq!(actions(&h, "vault.restore"), 0);
}

/// Restoring a snapshot from before members held their own keys upgrades it as it is
/// restored: each re-created member's one-time passphrase crosses once, in the answer.
#[test]
fn restoring_a_snapshot_from_before_keys_hands_over_one_time_passphrases() {
    let h = Harness::with_vault(Some("vault-v5.db"));
    h.ok("unlock", unlock_args("alice", "owner passphrase 1"));
    let upgrade = snapshots_of(&h)
        .into_iter()
        .find(|s| s["kind"] == json!("upgrade"))
        .expect("a snapshot taken before the upgrade");
    let done = restore(&h, &upgrade["path"], "owner passphrase 1").expect("the restore");
    let mut members: Vec<&str> = done["one_time_passphrases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["bob", "carol", "dave", "erin"]);
    assert_eq!(h.ok("vault_status", json!({}))["unlocked"], json!(false));
    let again = h.ok("unlock", unlock_args("alice", "owner passphrase 1"));
    assert_eq!(again["one_time_passphrases"], json!([]), "shown once");
}

fn findings(h: &Harness) -> Vec<Value> {
    h.ok("check_health", json!({ "scope": scope() }))
        .as_array()
        .unwrap()
        .clone()
}

fn checks(found: &[Value]) -> Vec<&str> {
    found.iter().map(|f| f["check"].as_str().unwrap()).collect()
}

#[test]
fn health_shows_the_doctors_findings_for_the_file_the_session_and_this_device() {
    let h = Harness::new();
    assert_eq!(
        h.err("check_health", json!({ "scope": scope() }))["code"],
        json!("auth")
    );
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    h.ok("back_up_now", json!({}));
    let found = findings(&h);
    let names = checks(&found);
    for check in [
        "permissions",
        "integrity",
        "schema",
        "anchor",
        "snapshots",
        "directory",
        "audit",
        "recovery",
        "keyring",
    ] {
        assert!(names.contains(&check), "{check} in {names:?}");
    }
    for f in &found {
        let level = f["level"].as_str().unwrap();
        assert!(
            ["ok", "note"].contains(&level),
            "a fresh vault needs nothing: {f}"
        );
        assert!(!f["text"].as_str().unwrap().is_empty());
    }
    let by = |check: &str| {
        found
            .iter()
            .find(|f| f["check"] == json!(check))
            .unwrap()
            .clone()
    };
    assert_eq!(by("integrity")["level"], json!("ok"));
    assert_eq!(by("audit")["level"], json!("ok"));
    assert_eq!(by("directory")["level"], json!("ok"));
    assert_eq!(by("keyring")["level"], json!("note"), "not remembered here");
    assert_eq!(by("recovery")["level"], json!("ok"));
    let text = serde_json::to_string(&found).unwrap();
    assert!(!text.contains("`coffer backup`"), "app words: {text}");

    // Without a recovery key the owner is told, with the button that makes one.
    h.ok("remove_recovery_key", json!({}));
    let none = findings(&h)
        .into_iter()
        .find(|f| f["check"] == json!("recovery"))
        .unwrap();
    assert_eq!(none["level"], json!("note"), "{none}");
    assert!(
        none["text"]
            .as_str()
            .unwrap()
            .contains("Make a recovery key…, under General"),
        "{none}"
    );

    // A vault file others may read needs action, and says how.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let vault = h.vault_path();
        std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = findings(&h);
        let bad = found
            .iter()
            .find(|f| f["check"] == json!("permissions") && f["level"] == json!("fix"))
            .expect("a permissions fix");
        assert!(bad["text"].as_str().unwrap().contains("chmod 600"), "{bad}");
    }

    // A viewer's doctor says what it could not check.
    h.ok("add_member", json!({ "workspace": "default", "name": "vic", "role": "viewer", "passphrase": "vic pass phrase" }));
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("vic", "vic pass phrase"));
    let audit = findings(&h)
        .into_iter()
        .find(|f| f["check"] == json!("audit"))
        .unwrap();
    assert_eq!(audit["level"], json!("note"));
    assert!(
        audit["text"]
            .as_str()
            .unwrap()
            .contains("vic may not audit"),
        "{audit}"
    );
    assert!(
        !checks(&findings(&h)).contains(&"recovery"),
        "only owners hold a recovery key"
    );
}
