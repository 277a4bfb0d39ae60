//! The shell's commands through real IPC on Tauri's mock runtime (no window): the
//! JSON that crosses to the webview, the error shape, permission refusals, and that
//! no command but `reveal_secret` ever carries a value.

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

use crate::state::AppState;
use crate::updates::Updates;

// Audit → Export → Save file (written by the backend, for auditors only), and the
// change number a tenant polls.
mod audit_export;
// Settings → Backups and Health, through the same harness.
mod backups_and_health;
// Copying a value: the backend's clipboard, cleared on lock.
mod clipboard_copy;
// The recovery key: made at first run, replaced from Settings, used at unlock.
mod recovery_key;
// Settings → Updates: who may change them, check and install.
mod updates;
// Settings → Team against a real PostgreSQL: live updates, invitations, admission.
mod team;

struct Harness {
    dir: tempfile::TempDir,
    _app: tauri::App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    /// What the fake system clipboard holds: tests never touch the real one.
    clipboard: std::sync::Arc<std::sync::Mutex<crate::clipboard::tests::Board>>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with_vault(None)
    }

    /// A harness whose vault starts as a copy of `fixture` (none: no vault yet).
    fn with_vault(fixture: Option<&str>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        if let Some(name) = fixture {
            let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures")
                .join(name);
            std::fs::copy(src, dir.path().join("vault.db")).unwrap();
        }
        let (guard, clipboard) = crate::clipboard::tests::fake();
        let app = mock_builder()
            .plugin(tauri_plugin_updater::Builder::new().build())
            .manage(
                AppState::with_clipboard(dir.path().join("vault.db"), guard)
                    .saving_into(dir.path().join("Downloads")),
            )
            .invoke_handler(crate::specta_builder().invoke_handler())
            .build(tauri::generate_context!())
            .unwrap();
        tauri::Manager::manage(
            &app,
            Updates::new(app.handle(), dir.path().join("config/updates.json")),
        );
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Harness {
            dir,
            _app: app,
            window,
            clipboard,
        }
    }

    fn state(&self) -> tauri::State<'_, AppState> {
        tauri::Manager::state::<AppState>(&self._app)
    }

    fn vault_path(&self) -> std::path::PathBuf {
        self.dir.path().join("vault.db")
    }

    /// Invokes a command; `Ok(data)` or `Err(error object)` as the webview sees them.
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let res = get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        );
        res.map(|b| b.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn err(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .err()
            .unwrap_or_else(|| panic!("{cmd} should fail"))
    }
}

fn scope() -> Value {
    json!({ "workspace": "default", "project": "default" })
}

fn set_input(name: &str, env: &str, value: &str, if_version: Option<i32>) -> Value {
    json!({ "scope": scope(), "input": {
        "name": name, "environment": env, "value": value, "ifVersion": if_version,
        "generateLength": null, "generateAlphabet": null, "description": "Payments",
        "kind": null, "scope": null, "expiresIn": null, "rotateEvery": null
    }})
}

#[test]
fn a_session_through_ipc_never_carries_values_except_reveal() {
    let h = Harness::new();
    assert_eq!(h.ok("vault_status", json!({}))["exists"], json!(false));
    let locked = h.err(
        "list_secrets",
        json!({ "scope": scope(), "includeDeleted": false }),
    );
    assert_eq!(locked["code"], json!("auth"));

    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    let v1 = "sk_live_ipc_value_one_8d7f";
    let v2 = "sk_live_ipc_value_two_1c2e";
    assert_eq!(
        h.ok("set_secret", set_input("PAYMENTS", "development", v1, None))["version"],
        json!(1)
    );
    assert_eq!(
        h.ok(
            "set_secret",
            set_input("PAYMENTS", "development", v2, Some(1))
        )["version"],
        json!(2)
    );

    let stale = h.err(
        "set_secret",
        set_input("PAYMENTS", "development", "x-value", Some(1)),
    );
    assert_eq!(stale["code"], json!("conflict"));
    assert!(stale["message"]
        .as_str()
        .unwrap()
        .contains("version 2, not 1"));

    // The compact list: environment names once, a cell per environment.
    let list = h.ok(
        "list_secrets",
        json!({ "scope": scope(), "includeDeleted": false }),
    );
    let envs = list["environments"].as_array().unwrap();
    let dev = envs.iter().position(|e| e == "development").unwrap();
    let secret = &list["secrets"][0];
    assert_eq!(secret["name"], json!("PAYMENTS"));
    assert_eq!(secret["description"], json!("Payments"));
    assert_eq!(
        secret["cells"][dev][0],
        json!(2),
        "version 2 in development"
    );
    let cells = secret["cells"].as_array().unwrap();
    assert_eq!(cells.iter().filter(|c| c.is_null()).count(), envs.len() - 1);

    let mut carried = String::new();
    for (cmd, args) in [
        (
            "list_secrets",
            json!({ "scope": scope(), "includeDeleted": true }),
        ),
        (
            "show_secret",
            json!({ "scope": scope(), "name": "PAYMENTS" }),
        ),
        (
            "audit_events",
            json!({ "workspace": "default", "filter": {} }),
        ),
        ("vault_status", json!({})),
    ] {
        carried.push_str(&h.ok(cmd, args).to_string());
    }
    carried.push_str(&stale.to_string());
    assert!(
        !carried.contains(v1) && !carried.contains(v2),
        "a value crossed IPC"
    );
    assert!(carried.contains("PAYMENTS"));

    let revealed = h.ok(
        "reveal_secret",
        json!({ "scope": scope(), "name": "PAYMENTS", "environment": "development", "reason": "debugging" }),
    );
    assert_eq!(revealed["value"], json!(v2));
    let missing = h.err(
        "reveal_secret",
        json!({ "scope": scope(), "name": "NOPE", "environment": "development", "reason": null }),
    );
    assert_eq!(
        missing,
        json!({ "code": "not_found", "message": "secret 'NOPE' not found" })
    );

    assert_eq!(
        h.ok(
            "rollback_secret",
            json!({ "scope": scope(), "name": "PAYMENTS", "environment": "development", "to": 1 })
        )["version"],
        json!(3)
    );
    assert!(
        h.ok(
            "delete_secret",
            json!({ "scope": scope(), "name": "PAYMENTS" })
        )["at_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    h.ok(
        "restore_secret",
        json!({ "scope": scope(), "name": "PAYMENTS" }),
    );
    assert_eq!(
        h.ok("verify_audit", json!({ "workspace": "default" }))["ok"],
        json!(true)
    );
}

/// The Secrets screen's key list comes in pieces: a first screenful, then the rest,
/// in name order, adding up to exactly what `list_secrets` returns; no secrets, no
/// piece. (The pieces cross through a `Channel`, which the mock runtime does not
/// deliver: `stream_secrets` is `in_pieces` with the channel as `send`.)
#[test]
fn the_key_list_comes_in_pieces_that_add_up_to_the_whole_list() {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    let pieces = |h: &Harness| {
        let mut pieces: Vec<crate::secret_list::SecretList> = Vec::new();
        let sent = h
            .state()
            .with(|s| {
                crate::secret_list::in_pieces(s, &coffer_core::Scope::default(), false, &mut |p| {
                    pieces.push(p);
                    Ok(())
                })
            })
            .unwrap();
        (sent, pieces)
    };
    assert_eq!(pieces(&h).0, 0);
    assert!(pieces(&h).1.is_empty(), "no secrets, no piece");

    let count = crate::secret_list::FIRST_PIECE + 7;
    h.state()
        .with(|s| {
            for i in (0..count).rev() {
                let value =
                    coffer_core::value::SecretValue::from_string(format!("value-{i:04}-x"))?;
                let req = coffer_core::SetRequest::new(
                    format!("KEY_{i:04}"),
                    coffer_core::ValueSource::Given(value),
                );
                s.set_secret(&coffer_core::Scope::default(), req)?;
            }
            Ok(())
        })
        .unwrap();
    let (sent, pieces) = pieces(&h);
    assert_eq!(sent, count);
    let sizes: Vec<usize> = pieces.iter().map(|p| p.secrets.len()).collect();
    assert_eq!(sizes, [crate::secret_list::FIRST_PIECE, 7]);
    let streamed: Vec<String> = pieces
        .iter()
        .flat_map(|p| p.secrets.iter().map(|s| s.name.clone()))
        .collect();
    let whole = h.ok(
        "list_secrets",
        json!({ "scope": scope(), "includeDeleted": false }),
    );
    let listed: Vec<String> = whole["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(streamed, listed);
    assert!(streamed.windows(2).all(|w| w[0] < w[1]), "in name order");
    assert!(pieces
        .iter()
        .all(|p| p.environments.contains(&"development".to_string())));
}

#[test]
fn an_admin_is_refused_reveal_by_the_backend() {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    h.ok(
        "set_secret",
        set_input("TOKEN", "production", "prod-token-value-42", None),
    );
    h.ok("add_member", json!({ "workspace": "default", "name": "bob", "role": "admin", "passphrase": "bob pass phrase" }));
    h.ok("lock", json!({}));
    assert_eq!(h.ok("vault_status", json!({}))["unlocked"], json!(false));
    let wrong = h.err(
        "unlock",
        json!({ "member": "bob", "passphrase": "not it at all", "remember": false }),
    );
    assert_eq!(wrong["code"], json!("auth"));
    h.ok(
        "unlock",
        json!({ "member": "bob", "passphrase": "bob pass phrase", "remember": false }),
    );
    let access = h.ok("my_access", json!({ "scope": scope() }));
    assert_eq!(access["role"], json!("admin"));
    assert!(!access["capabilities"]
        .as_array()
        .unwrap()
        .contains(&json!("reveal")));
    let denied = h.err(
        "reveal_secret",
        json!({ "scope": scope(), "name": "TOKEN", "environment": "production", "reason": null }),
    );
    assert_eq!(denied["code"], json!("denied"));
    assert!(!denied.to_string().contains("prod-token-value-42"));
    // An admin writes.
    assert_eq!(
        h.ok(
            "set_secret",
            set_input("TOKEN", "production", "rotated-by-bob-1", None)
        )["version"],
        json!(2)
    );
}

#[test]
fn a_checkpoint_shows_in_the_trail_state_and_needs_audit() {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    let ws = json!({ "workspace": "default" });
    let before = h.ok("trail_state", ws.clone());
    assert_eq!(before["checkpoint"], Value::Null);
    assert_eq!(before["archive"], Value::Null);
    assert_eq!(before["first"], json!(1));
    assert!(!before["root"].as_str().unwrap().is_empty());

    let signed = h.ok("checkpoint_audit", ws.clone());
    assert_eq!(signed["report"]["ok"], json!(true));
    let event = signed["event"].as_i64().expect("a checkpoint event");
    let after = h.ok("trail_state", ws.clone());
    assert_eq!(after["checkpoint"]["id"], json!(event));
    assert_eq!(after["checkpoint"]["actor"], json!("alice"));
    assert_eq!(after["checkpoint"]["events"], json!(event - 1));
    assert_eq!(after["last"], json!(event));
    assert_eq!(after["root"], before["root"]);

    h.ok("add_member", json!({ "workspace": "default", "name": "bob", "role": "admin", "passphrase": "bob pass phrase" }));
    h.ok("lock", json!({}));
    h.ok(
        "unlock",
        json!({ "member": "bob", "passphrase": "bob pass phrase", "remember": false }),
    );
    for cmd in ["trail_state", "checkpoint_audit"] {
        assert_eq!(h.err(cmd, ws.clone())["code"], json!("denied"), "{cmd}");
    }
}

/// Answers one HTTP request on 127.0.0.1 by echoing its Authorization header; hands
/// the header to the test.
fn echo_server() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut auth = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line
                .strip_prefix("authorization: ")
                .or(line.strip_prefix("Authorization: "))
            {
                auth = v.trim().to_string();
            }
        }
        let body = format!("you sent {auth}");
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tx.send(auth);
    });
    (port, rx)
}

#[test]
fn the_test_action_sends_the_value_and_shows_only_masks() {
    let h = Harness::new();
    h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    let value = "sk_live_test_action_5e1f0a";
    h.ok(
        "set_secret",
        set_input("PAYMENTS", "development", value, None),
    );
    let (port, got) = echo_server();
    let result = h.ok(
        "test_request",
        json!({ "scope": scope(), "input": {
            "environment": "development", "method": "GET",
            "url": format!("http://127.0.0.1:{port}/me"),
            "headers": ["Authorization: Bearer {{ secrets.PAYMENTS }}"], "query": [],
            "basic": null, "hmacHeader": null, "hmacKey": null, "body": null
        }}),
    );
    assert_eq!(got.recv().unwrap(), format!("Bearer {value}"));
    assert_eq!(result["status"], json!(200));
    assert_eq!(result["body"], json!("you sent Bearer ********"));
    assert!(!result.to_string().contains(value));
    let events = h.ok(
        "audit_events",
        json!({ "workspace": "default", "filter": { "action": "secret.use" } }),
    );
    assert_eq!(events[0]["detail"]["via"], json!("test"));
    let usages = h.ok(
        "secret_usages",
        json!({ "scope": scope(), "name": "PAYMENTS" }),
    );
    assert_eq!(usages, json!([]));
    let missing = h.err(
        "test_request",
        json!({ "scope": scope(), "input": {
            "environment": "development", "method": "GET", "url": "http://127.0.0.1:9/",
            "headers": ["X: {{ secrets.NOPE }}"], "query": [],
            "basic": null, "hmacHeader": null, "hmacKey": null, "body": null
        }}),
    );
    assert_eq!(missing["code"], json!("not_found"));
}

fn unlock_args(member: &str, passphrase: &str) -> Value {
    json!({ "member": member, "passphrase": passphrase, "remember": false })
}

/// A member added by someone else is told to set their own passphrase, at unlock and
/// in the status a reloaded window reads; once set, only the new one opens the vault.
#[test]
fn a_member_given_a_passphrase_is_asked_to_set_their_own() {
    let h = Harness::new();
    let created = h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    assert_eq!(created["unlocked"]["must_change_passphrase"], json!(false));
    assert_eq!(created["unlocked"]["one_time_passphrases"], json!([]));
    h.ok("add_member", json!({ "workspace": "default", "name": "bob", "role": "developer", "passphrase": "given to bob 1" }));
    h.ok("lock", json!({}));

    let bob = h.ok("unlock", unlock_args("bob", "given to bob 1"));
    assert_eq!(bob["must_change_passphrase"], json!(true));
    assert_eq!(bob["one_time_passphrases"], json!([]));
    assert_eq!(
        h.ok("vault_status", json!({}))["must_change_passphrase"],
        json!(true)
    );

    let change = |current: &str, new: &str| json!({ "current": current, "newPassphrase": new });
    let wrong = h.err(
        "change_passphrase",
        change("not bobs at all", "bobs own phrase 2"),
    );
    assert_eq!(wrong["code"], json!("auth"));
    let short = h.err("change_passphrase", change("given to bob 1", "short"));
    assert_eq!(short["code"], json!("invalid"));
    let same = h.err(
        "change_passphrase",
        change("given to bob 1", "given to bob 1"),
    );
    assert_eq!(same["code"], json!("invalid"));
    assert!(!same.to_string().contains("given to bob 1"), "{same}");
    h.ok(
        "change_passphrase",
        change("given to bob 1", "bobs own phrase 2"),
    );
    assert_eq!(
        h.ok("vault_status", json!({}))["must_change_passphrase"],
        json!(false)
    );

    h.ok("lock", json!({}));
    assert_eq!(
        h.err(
            "change_passphrase",
            change("bobs own phrase 2", "another phrase 3")
        )["code"],
        json!("auth"),
        "locked"
    );
    assert_eq!(
        h.err("unlock", unlock_args("bob", "given to bob 1"))["code"],
        json!("auth")
    );
    let again = h.ok("unlock", unlock_args("bob", "bobs own phrase 2"));
    assert_eq!(again["must_change_passphrase"], json!(false));
}

/// The owner's unlock that upgrades a vault made by an earlier Coffer carries each
/// re-created member's one-time passphrase, once; each opens the vault for its member,
/// who is then asked to set their own.
#[test]
fn the_upgrade_hands_the_owner_one_time_passphrases_once() {
    let h = Harness::with_vault(Some("vault-v5.db"));
    let alice = h.ok("unlock", unlock_args("alice", "owner passphrase 1"));
    assert_eq!(alice["must_change_passphrase"], json!(false));
    let handed = alice["one_time_passphrases"].as_array().unwrap().clone();
    let mut members: Vec<&str> = handed
        .iter()
        .map(|m| m["member"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["bob", "carol", "dave", "erin"]);
    let bobs = handed
        .iter()
        .find(|m| m["member"] == json!("bob"))
        .and_then(|m| m["passphrase"].as_str())
        .unwrap()
        .to_string();
    assert!(bobs.len() >= 10, "a usable passphrase");
    assert!(!h.ok("vault_status", json!({})).to_string().contains(&bobs));

    h.ok("lock", json!({}));
    let again = h.ok("unlock", unlock_args("alice", "owner passphrase 1"));
    assert_eq!(again["one_time_passphrases"], json!([]), "shown once");

    h.ok("lock", json!({}));
    let bob = h.ok("unlock", unlock_args("bob", &bobs));
    assert_eq!(bob["must_change_passphrase"], json!(true));
    assert_eq!(bob["one_time_passphrases"], json!([]));
    h.ok(
        "change_passphrase",
        json!({ "current": bobs, "newPassphrase": "bobs own phrase 2" }),
    );
}

/// An older copy of the vault put back under an app that wrote to it since: the unlock
/// and the status of a reloaded window both carry the core's trail warning, in words for
/// the app rather than the CLI's.
#[test]
fn an_older_copy_of_the_vault_put_back_is_warned_of_at_unlock() {
    let h = Harness::new();
    let created = h.ok(
        "create_vault",
        json!({ "owner": "alice", "passphrase": "owner pass phrase" }),
    );
    assert_eq!(created["unlocked"]["trail_warning"], json!(null));
    h.ok("lock", json!({}));
    // Locked, the app holds no connection: the file alone is the whole vault.
    let vault = h.vault_path();
    let older = vault.with_extension("older");
    std::fs::copy(&vault, &older).unwrap();

    let alice = h.ok("unlock", unlock_args("alice", "owner pass phrase"));
    assert_eq!(alice["trail_warning"], json!(null));
    h.ok("set_secret", set_input("API_KEY", "production", "v1", None));
    h.ok("lock", json!({}));
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", vault.display()));
    }
    std::fs::copy(&older, &vault).unwrap();

    let again = h.ok("unlock", unlock_args("alice", "owner pass phrase"));
    let warning = again["trail_warning"].as_str().expect("a trail warning");
    assert!(warning.contains("which this machine saw"), "{warning}");
    assert!(
        warning.starts_with(char::is_uppercase) && warning.ends_with('.'),
        "{warning}"
    );
    assert!(
        !warning.contains("warning:") && !warning.contains("coffer audit"),
        "{warning}"
    );
    assert_eq!(
        h.ok("vault_status", json!({}))["trail_warning"],
        json!(warning)
    );
}
