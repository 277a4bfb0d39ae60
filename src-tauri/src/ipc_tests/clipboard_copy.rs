//! Copying a revealed value through real IPC: the backend puts it on the (fake)
//! system clipboard, answers with the delay only, refuses while locked, and clears it
//! when the vault locks — unless the user copied something else since.

use serde_json::json;

use super::{set_input, Harness};

const VALUE: &str = "sk_live_clipboard_value_5e1a";

fn with_revealed_value() -> Harness {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    h.ok(
        "set_secret",
        set_input("PAYMENTS", "development", VALUE, None),
    );
    h
}

fn on_clipboard(h: &Harness) -> Option<String> {
    h.clipboard.lock().unwrap().text.clone()
}

#[test]
fn a_copied_value_is_cleared_when_the_vault_locks() {
    let h = with_revealed_value();
    let copied = h.ok("copy_value", json!({ "value": VALUE }));
    assert_eq!(
        copied,
        json!({ "clearAfterMs": 30000 }),
        "the answer carries no value"
    );
    assert_eq!(on_clipboard(&h).as_deref(), Some(VALUE));
    assert!(h.clipboard.lock().unwrap().excluded_from_history);

    h.ok("lock", json!({}));
    assert_eq!(on_clipboard(&h), None, "locking clears the copied value");

    let refused = h.err("copy_value", json!({ "value": VALUE }));
    assert_eq!(refused["code"], json!("auth"));
    assert!(!refused.to_string().contains(VALUE));
}

#[test]
fn locking_leaves_what_the_user_copied_since() {
    let h = with_revealed_value();
    h.ok("copy_value", json!({ "value": VALUE }));
    h.clipboard.lock().unwrap().text = Some("notes from a meeting".into());
    h.ok("lock", json!({}));
    assert_eq!(on_clipboard(&h).as_deref(), Some("notes from a meeting"));
}
