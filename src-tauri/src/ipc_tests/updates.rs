//! Settings → Updates through real IPC: where the app fetches the code it will run
//! from is the vault's root owner's to change, never a locked app's or another
//! tenant's; checking and installing need an unlocked member; an unreachable endpoint
//! fails in one line.

use coffer_core::access::Role;
use coffer_core::value::Passphrase;
use serde_json::{json, Value};

use super::{unlock_args, Harness};

/// Update settings belong to the installation: a locked app may not check, install
/// or change them; changing the endpoint (or turning on the check at start) needs the
/// vault's root owner, and an offline tool does not contact the network at start until
/// that owner asks it to.
#[test]
fn update_commands_need_an_unlocked_member_and_the_root_owner_to_change() {
    let h = Harness::new();
    let status = h.ok("update_status", json!({}));
    assert_eq!(
        status["check_at_start"],
        json!(false),
        "off until turned on"
    );
    let prefs = json!({ "endpoint": "https://127.0.0.1:1/latest.json", "checkAtStart": true });
    assert_eq!(
        h.err("set_update_preferences", prefs.clone())["code"],
        json!("auth")
    );
    assert_eq!(h.err("check_for_updates", json!({}))["code"], json!("auth"));
    let install = h.err("install_update", json!({ "onProgress": "__CHANNEL__:7" }));
    assert_eq!(install["code"], json!("auth"));
    assert_eq!(
        h.ok("update_status", json!({}))["endpoint"],
        status["default_endpoint"]
    );

    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    // The owner points the app at a closed loopback port (no network in tests).
    let unreachable = "https://127.0.0.1:1/latest.json";
    h.ok(
        "set_update_preferences",
        json!({ "endpoint": unreachable, "checkAtStart": false }),
    );
    h.ok("add_member", json!({ "workspace": "default", "name": "vic", "role": "viewer", "passphrase": "vic pass phrase" }));
    h.ok("lock", json!({}));
    h.ok(
        "unlock",
        json!({ "member": "vic", "passphrase": "vic pass phrase", "remember": false }),
    );
    let elsewhere =
        json!({ "endpoint": "https://updates.attacker.example/latest.json", "checkAtStart": true });
    assert_eq!(
        h.err("set_update_preferences", elsewhere.clone())["code"],
        json!("denied")
    );
    let status = h.ok("update_status", json!({}));
    assert_eq!(status["endpoint"], json!(unreachable));
    assert_eq!(status["check_at_start"], json!(false));
    // An unlocked member may check; here it fails offline, not as a refusal.
    assert_eq!(
        h.err("check_for_updates", json!({}))["code"],
        json!("unavailable")
    );

    // Another tenant's owner manages their workspace, not this installation: refused,
    // and the refusal is in their workspace's trail.
    {
        let mut s = coffer_core::Vault::open(&h.vault_path())
            .unwrap()
            .unlock("alice", &Passphrase::new("owner pass phrase".into()))
            .unwrap();
        s.create_workspace("acme").unwrap();
        s.add_member(
            "acme",
            "olga",
            Role::Owner,
            &Passphrase::new("olga pass phrase 1".into()),
        )
        .unwrap();
    }
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("olga", "olga pass phrase 1"));
    let refused = h.err("set_update_preferences", elsewhere);
    assert_eq!(refused["code"], json!("denied"));
    assert_eq!(
        h.ok("update_status", json!({}))["endpoint"],
        json!(unreachable)
    );
    let trail = h.ok(
        "audit_events",
        json!({ "workspace": "acme", "filter": { "action": "settings.updates" } }),
    );
    assert_eq!(trail[0]["actor"], json!("olga"));
    assert_eq!(trail[0]["outcome"], json!("denied"));

    // The owner's change is in the trail too, with where the app now looks.
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("alice", "owner pass phrase"));
    let trail = h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": { "action": "settings.updates" } }),
    );
    let changes: Vec<&Value> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == json!("ok"))
        .collect();
    assert_eq!(changes.len(), 1, "{trail}");
    assert_eq!(changes[0]["actor"], json!("alice"));
    assert!(
        changes[0]["detail"].to_string().contains(unreachable),
        "{trail}"
    );
}

#[test]
fn update_preferences_and_an_unreachable_endpoint_through_ipc() {
    let h = Harness::new();
    let status = h.ok("update_status", json!({}));
    assert_eq!(status["current_version"], json!(env!("CARGO_PKG_VERSION")));
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    assert_eq!(status["endpoint"], status["default_endpoint"]);
    assert!(status["endpoint"].as_str().unwrap().starts_with("https://"));
    assert_eq!(status["last_check"], Value::Null);

    // The shipped configuration allows https only.
    let http = h.err(
        "set_update_preferences",
        json!({ "endpoint": "http://updates.example.org/latest.json", "checkAtStart": true }),
    );
    assert_eq!(
        http,
        json!({ "code": "invalid", "message": "the update endpoint must use https" })
    );
    assert_eq!(
        h.err(
            "set_update_preferences",
            json!({ "endpoint": "updates.example.org", "checkAtStart": true })
        )["code"],
        json!("invalid")
    );

    // Port 1 on the loopback refuses at once: offline, in one line.
    let saved = h.ok(
        "set_update_preferences",
        json!({ "endpoint": "https://127.0.0.1:1/latest.json", "checkAtStart": false }),
    );
    assert_eq!(saved["endpoint"], json!("https://127.0.0.1:1/latest.json"));
    assert_eq!(saved["check_at_start"], json!(false));
    let offline = h.err("check_for_updates", json!({}));
    assert_eq!(offline["code"], json!("unavailable"));
    assert_eq!(
        offline["message"],
        json!("could not check for updates: 127.0.0.1:1 could not be reached")
    );
    let status = h.ok("update_status", json!({}));
    assert_eq!(status["last_check"]["error"], offline);
    assert_eq!(status["checking"], json!(false));

    // Nothing was offered, so nothing can be installed.
    let nothing = h.err("install_update", json!({ "onProgress": "__CHANNEL__:7" }));
    assert_eq!(nothing["code"], json!("invalid"));

    // An empty endpoint goes back to the default.
    let reset = h.ok(
        "set_update_preferences",
        json!({ "endpoint": "  ", "checkAtStart": true }),
    );
    assert_eq!(reset["endpoint"], reset["default_endpoint"]);
}
