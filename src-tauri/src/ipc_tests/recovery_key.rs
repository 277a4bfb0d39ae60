//! The recovery key through real IPC: first run hands its words over once; `recover`
//! with them sets a new passphrase and unlocks, and the old passphrase stops working;
//! a wrong key is refused, counted and audited with one generic message; replacing the
//! key needs an owner who gave the passphrase in the last minutes; and the words never
//! show in an error, the audit trail or the vault file.

use std::sync::Arc;

use coffer_core::clock::ManualClock;
use coffer_core::crypto::KdfParams;
use coffer_core::value::Passphrase;
use coffer_core::Vault;
use serde_json::{json, Value};

use super::{unlock_args, Harness};
use crate::state::AppState;

const OWNER_PASS: &str = "owner pass phrase";
const NEW_PASS: &str = "a brand new pass phrase";

/// A new vault for alice, and the recovery words its creation handed over.
fn created() -> (Harness, Vec<String>) {
    let h = Harness::new();
    let made = h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": OWNER_PASS }),
    );
    assert_eq!(made["unlocked"]["member"], json!("alice"));
    (h, words_of(&made["recovery_key"]))
}

fn words_of(v: &Value) -> Vec<String> {
    let words: Vec<String> = v["words"]
        .as_array()
        .unwrap_or_else(|| panic!("no words in {v}"))
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert_eq!(words.len(), 24, "{v}");
    words
}

/// Typed as a person would copy the printed grid: numbered, in capitals, on lines.
fn typed(words: &[String]) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{}. {}", i + 1, w.to_uppercase()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn recover(h: &Harness, member: &str, key: &str, new: &str) -> Result<Value, Value> {
    h.call(
        "recover",
        json!({ "member": member, "recoveryKey": key, "newPassphrase": new }),
    )
}

fn trail(h: &Harness) -> Vec<Value> {
    h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": {} }),
    )
    .as_array()
    .unwrap()
    .clone()
}

/// Fails when any run of two of the key's words, in order, is in `text`.
fn assert_no_words(what: &str, text: &str, words: &[String]) {
    let lower = text.to_lowercase();
    for pair in words.windows(2) {
        let joined = format!("{} {}", pair[0], pair[1]);
        assert!(
            !lower.contains(&joined)
                && !lower.contains(&format!("\"{}\",\"{}\"", pair[0], pair[1])),
            "{what} holds recovery words: {text}"
        );
    }
}

#[test]
fn first_run_hands_the_words_over_once_and_they_recover_the_owner() {
    let (h, words) = created();
    let status = h.ok("recovery_key_status", json!({}));
    assert_eq!(status, json!({ "exists": true, "may_hold": true }));
    // Nothing else the app answers carries them again.
    for cmd in ["vault_status", "recovery_key_status"] {
        assert_no_words(cmd, &h.ok(cmd, json!({})).to_string(), &words);
    }

    h.ok("lock", json!({}));
    let back = recover(&h, "alice", &typed(&words), NEW_PASS).expect("recovered");
    assert_eq!(back["member"], json!("alice"));
    assert_eq!(h.ok("vault_status", json!({}))["unlocked"], json!(true));
    assert!(
        trail(&h)
            .iter()
            .any(|e| e["action"] == json!("member.recover")),
        "the recovery is audited"
    );

    // The old passphrase opens nothing; the new one does; the key still works.
    h.ok("lock", json!({}));
    let old = h.err("unlock", unlock_args("alice", OWNER_PASS));
    assert_eq!(old["code"], json!("auth"));
    h.ok("unlock", unlock_args("alice", NEW_PASS));
    h.ok("lock", json!({}));
    recover(&h, "alice", &words.join(" "), "yet another pass phrase").expect("again");

    // A weak new passphrase is refused before anything is opened.
    h.ok("lock", json!({}));
    let weak = recover(&h, "alice", &words.join(" "), "short").unwrap_err();
    assert_eq!(weak["code"], json!("invalid"));
    assert_no_words("the weak-passphrase error", &weak.to_string(), &words);
}

#[test]
fn a_wrong_key_is_refused_alike_counted_audited_and_never_echoed() {
    let (h, words) = created();
    h.ok(
        "add_member",
        json!({ "workspace": "default", "name": "bob", "role": "developer", "passphrase": "bob pass phrase 1" }),
    );
    h.ok("lock", json!({}));

    // The parse errors name a count or a position, never a word.
    let mut short = words.clone();
    short.pop();
    let e = recover(&h, "alice", &short.join(" "), NEW_PASS).unwrap_err();
    assert_eq!(e["code"], json!("invalid"));
    assert!(e["message"].as_str().unwrap().contains("24 words"), "{e}");
    assert_no_words("a short key's error", &e.to_string(), &words);
    let mut misspelt = words.clone();
    misspelt[4] = "zzzzq".into();
    let e = recover(&h, "alice", &misspelt.join(" "), NEW_PASS).unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("word 5"), "{e}");
    assert_no_words("an unknown word's error", &e.to_string(), &words);

    // Another valid key, the right key for a member who has none, an unknown member:
    // one generic refusal each.
    let other = {
        let (h2, w2) = created();
        drop(h2);
        w2
    };
    let mut refusals = Vec::new();
    for (member, key) in [
        ("alice", other.join(" ")),
        ("bob", words.join(" ")),
        ("mallory", words.join(" ")),
    ] {
        let e = recover(&h, member, &key, NEW_PASS).unwrap_err();
        assert_eq!(e["code"], json!("auth"), "{member}: {e}");
        assert_no_words("a refused recovery", &e.to_string(), &words);
        refusals.push(e["message"].clone());
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "{refusals:?}");

    // Alice's passphrase is unchanged, and the failures are in the trail.
    h.ok("unlock", unlock_args("alice", OWNER_PASS));
    let events = trail(&h);
    let failed = events
        .iter()
        .filter(|e| e["action"] == json!("vault.unlock") && e["outcome"] == json!("denied"))
        .count();
    assert!(failed >= 2, "the refusals are audited: {events:?}");
    assert_no_words(
        "the audit trail",
        &serde_json::to_string(&events).unwrap(),
        &words,
    );
}

#[test]
fn replacing_the_key_needs_an_owner_with_a_fresh_passphrase() {
    let (h, first) = created();
    h.ok(
        "add_member",
        json!({ "workspace": "default", "name": "adam", "role": "admin", "passphrase": "adam pass phrase 1" }),
    );
    // Just created: the passphrase was given, so the owner may replace it now.
    let second = words_of(&h.ok("replace_recovery_key", json!({})));
    assert_ne!(first, second);
    h.ok("lock", json!({}));
    let e = recover(&h, "alice", &first.join(" "), NEW_PASS).unwrap_err();
    assert_eq!(e["code"], json!("auth"), "the replaced key opens nothing");
    recover(&h, "alice", &second.join(" "), NEW_PASS).expect("the new key works");

    // Not an owner: no action, whatever the passphrase.
    h.ok("lock", json!({}));
    h.ok("unlock", unlock_args("adam", "adam pass phrase 1"));
    assert_eq!(
        h.ok("recovery_key_status", json!({})),
        json!({ "exists": false, "may_hold": false })
    );
    let denied = h.err("replace_recovery_key", json!({}));
    assert_eq!(denied["code"], json!("denied"), "{denied}");

    // An owner whose passphrase was given longer ago than a few minutes confirms it.
    h.ok("lock", json!({}));
    let clock = ManualClock::new(1_700_000_000_000);
    let session = Vault::open(&h.vault_path())
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
        .with_kdf(KdfParams::INSECURE_FAST)
        .unlock("alice", &Passphrase::new(NEW_PASS.into()))
        .unwrap();
    clock.advance(10 * 60_000);
    tauri::Manager::state::<AppState>(&h._app).set(session);
    let stale = h.err("replace_recovery_key", json!({}));
    assert_eq!(stale["code"], json!("auth"), "{stale}");
    assert!(stale["message"]
        .as_str()
        .unwrap()
        .contains("confirm your passphrase"));
    assert_eq!(
        h.err("confirm_passphrase", json!({ "passphrase": "wrong one" }))["code"],
        json!("auth")
    );
    h.ok("confirm_passphrase", json!({ "passphrase": NEW_PASS }));
    let third = words_of(&h.ok("replace_recovery_key", json!({})));

    // The words of all three keys are nowhere in the trail or the file.
    let events = serde_json::to_string(&trail(&h)).unwrap();
    assert!(
        events.contains("member.recovery-key"),
        "replacing is audited"
    );
    let mut file = Vec::new();
    for suffix in ["", "-wal"] {
        let mut p = h.vault_path().into_os_string();
        p.push(suffix);
        file.extend(std::fs::read(p).unwrap_or_default());
    }
    let file = String::from_utf8_lossy(&file);
    for words in [&first, &second, &third] {
        assert_no_words("the audit trail", &events, words);
        assert_no_words("the vault file", &file, words);
    }
}

#[test]
fn a_key_never_written_down_is_removed_and_opens_nothing() {
    // First run's "I will make one later": the words were shown and not kept.
    let (h, unseen) = created();
    assert_eq!(h.ok("remove_recovery_key", json!({})), json!(true));
    assert_eq!(
        h.ok("recovery_key_status", json!({})),
        json!({ "exists": false, "may_hold": true }),
        "Settings says there is none, on every start"
    );
    assert_eq!(h.ok("remove_recovery_key", json!({})), json!(false));
    let removed = trail(&h)
        .into_iter()
        .filter(|e| e["action"] == json!("member.recovery-key"))
        .collect::<Vec<_>>();
    assert!(
        removed
            .iter()
            .any(|e| e["detail"]["removed"] == json!(true)),
        "the removal is audited: {removed:?}"
    );

    // Someone who saw the screen over the owner's shoulder has nothing.
    h.ok("lock", json!({}));
    let e = recover(&h, "alice", &unseen.join(" "), NEW_PASS).unwrap_err();
    assert_eq!(e["code"], json!("auth"), "{e}");
    h.ok("unlock", unlock_args("alice", OWNER_PASS));

    // Making one later works as from Settings.
    let later = words_of(&h.ok("replace_recovery_key", json!({})));
    h.ok("lock", json!({}));
    recover(&h, "alice", &later.join(" "), NEW_PASS).expect("the key made later works");
}
