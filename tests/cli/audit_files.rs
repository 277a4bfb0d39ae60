//! The trail outside the vault: `coffer audit export` writes a file an outside auditor
//! verifies with `coffer audit verify --file` and no vault, against the public keys it
//! carries; `coffer audit archive` moves old events to such a file and leaves a signed
//! mark where the vault's trail now starts. Every edit of a file is caught, and so is
//! an archive mark removed from the vault.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::{jq, random_token, Run, Vault};

fn vault_with_history() -> (Vault, String) {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("API_KEY", &value, &[]);
    vault.set("API_KEY", &random_token("sk_live_"), &[]);
    let bob = vault.add_member("bob", "viewer");
    vault
        .cli()
        .acting_as(&bob)
        .run(&["reveal", "API_KEY"])
        .refused(4);
    vault.reveal("API_KEY", &["--reason", "incident 7"]);
    vault.run(&["member", "remove", "bob"]).ok();
    (vault, value)
}

/// `coffer audit verify --file F` run where there is no vault at all.
fn verify_file(vault: &Vault, file: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["audit", "verify", "--file", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    vault
        .cli()
        .env("COFFER_VAULT", "/nonexistent/no-vault-here.db")
        .env("COFFER_PASSPHRASE", "")
        .run(&args)
}

#[track_caller]
fn assert_file_broken_at(vault: &Vault, file: &Path, id: i64, why: &str) {
    let run = verify_file(vault, file, &[]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert_eq!(run.broken_at(), Some(id), "{}", run.describe());
    assert!(run.stderr.contains(why), "{}", run.describe());
}

fn lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A copy of `file` with its lines changed by `edit`.
fn tampered(file: &Path, name: &str, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let mut l = lines(file);
    edit(&mut l);
    let out = file.with_file_name(name);
    std::fs::write(&out, l.join("\n") + "\n").unwrap();
    out
}

fn root_of(run: &Run) -> String {
    let at = run.stdout.find("root key: ").expect("a root key line");
    run.stdout[at + 10..].chars().take(39).collect()
}

#[test]
fn an_export_verifies_offline_with_the_keys_it_carries_and_holds_no_value() {
    let (vault, value) = vault_with_history();
    let file = vault.dir().join("trail.jsonl");
    let out = vault
        .run(&["audit", "export", "--to", file.to_str().unwrap()])
        .ok();
    assert!(
        out.stdout.contains("coffer audit verify --file"),
        "{}",
        out.describe()
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&value), "a value in the export");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the export");
    }

    let run = verify_file(&vault, &file, &[]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        run.stdout.contains("audit export intact"),
        "{}",
        run.describe()
    );
    // bob was removed; his denied reveal still verifies with the key the file carries.
    assert!(text.contains(r#""name":"bob""#));
    // The fingerprint printed is the vault's own, as `audit verify` shows it.
    let from_vault = vault.run(&["audit", "verify"]).ok();
    assert_eq!(root_of(&run), root_of(&from_vault));
    let fingerprint = root_of(&run);
    verify_file(&vault, &file, &["--root", &fingerprint]).ok();
    let wrong = verify_file(
        &vault,
        &file,
        &["--root", "0000 0000 0000 0000 0000 0000 0000 0000"],
    );
    assert_eq!(wrong.code(), Some(1), "{}", wrong.describe());
    assert!(wrong.stderr.contains("not 0000"), "{}", wrong.describe());

    // The export itself is audited.
    let events = vault
        .run(&["audit", "--json", "--action", "audit.export"])
        .ok();
    assert_eq!(events.json().as_array().unwrap().len(), 1);

    // The events are the JSON lines of `audit --jsonl`: jq reads them as they are.
    let actions = jq("select(.event) | .event.action", &text);
    assert!(actions.lines().any(|a| a == "secret.reveal"), "{actions}");
}

#[test]
fn every_edit_of_an_exported_trail_is_named() {
    let (vault, _) = vault_with_history();
    let file = vault.dir().join("trail.jsonl");
    vault
        .run(&["audit", "export", "--to", file.to_str().unwrap()])
        .ok();
    let n = lines(&file).len() - 1; // the header, then one line per event
    assert!(n >= 6);

    // Edit a field: the actor of event 3.
    let f = tampered(&file, "edited.jsonl", |l| {
        let mut e: serde_json::Value = serde_json::from_str(&l[3]).unwrap();
        e["user"]["name"] = "mallory".into();
        l[3] = e.to_string();
    });
    assert_file_broken_at(&vault, &f, 3, "altered");

    // Edit what the hash covers exactly.
    let f = tampered(&file, "detail.jsonl", |l| {
        let mut e: serde_json::Value = serde_json::from_str(&l[2]).unwrap();
        e["coffer"]["chain"]["detail"] = "{}".into();
        l[2] = e.to_string();
    });
    assert_file_broken_at(&vault, &f, 2, "altered");

    // Edit what a SIEM reads but the hash does not cover (the ECS copy of the outcome).
    let f = tampered(&file, "outcome.jsonl", |l| {
        let i = l
            .iter()
            .position(|x| x.contains(r#""outcome":"failure""#))
            .expect("the denied reveal");
        l[i] = l[i].replace(r#""outcome":"failure""#, r#""outcome":"success""#);
    });
    let run = verify_file(&vault, &f, &[]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("edited outside what its hash covers"),
        "{}",
        run.describe()
    );

    // Change who the header says wrote it, or when: its signature covers every field.
    let f = tampered(&file, "written-at.jsonl", |l| {
        let mut h: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
        h["written_at"] = "2020-01-01T00:00:00Z".into();
        l[0] = h.to_string();
    });
    assert_file_broken_at(&vault, &f, 1, "header is not signed");

    // Delete a middle event.
    let f = tampered(&file, "deleted.jsonl", |l| {
        l.remove(4);
    });
    assert_file_broken_at(&vault, &f, 4, "missing");

    // Reorder two, numbering them as they now stand.
    let f = tampered(&file, "reordered.jsonl", |l| {
        l.swap(2, 3);
        for i in [2, 3] {
            let mut e: serde_json::Value = serde_json::from_str(&l[i]).unwrap();
            e["event"]["sequence"] = (i as i64).into();
            l[i] = e.to_string();
        }
    });
    assert_file_broken_at(&vault, &f, 2, "altered, reordered or inserted");

    // Cut the tail at a commit's end: the signed header names the last event.
    let f = tampered(&file, "cut.jsonl", |l| {
        l.truncate(l.len() - 1);
    });
    assert_file_broken_at(&vault, &f, n as i64, "cut short");

    // Move the end the header names: its signature no longer holds.
    let f = tampered(&file, "header.jsonl", |l| {
        let mut h: serde_json::Value = serde_json::from_str(&l[0]).unwrap();
        h["last"] = (n as i64 - 1).into();
        l[0] = h.to_string();
    });
    assert_file_broken_at(&vault, &f, 1, "header is not signed");

    // A file that is not a trail is refused clearly.
    let junk = vault.dir().join("junk.jsonl");
    std::fs::write(&junk, "hello\n").unwrap();
    let run = verify_file(&vault, &junk, &[]);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains("not a Coffer audit file"),
        "{}",
        run.describe()
    );
}

#[test]
fn only_a_member_who_may_audit_everywhere_exports_and_only_an_owner_archives() {
    let (vault, _) = vault_with_history();
    let audrey = vault.add_member("audrey", "auditor");
    let file = vault.dir().join("by-auditor.jsonl");
    vault
        .cli()
        .acting_as(&audrey)
        .run(&["audit", "export", "--to", file.to_str().unwrap()])
        .ok();
    verify_file(&vault, &file, &[]).ok();
    let archive = vault.dir().join("by-auditor-archive.jsonl");
    vault
        .cli()
        .acting_as(&audrey)
        .run(&[
            "audit",
            "archive",
            "--before",
            "2999-01-01",
            "--to",
            archive.to_str().unwrap(),
        ])
        .refused(4);
    assert!(!archive.exists());

    // An export never replaces a file.
    let again = vault.run(&["audit", "export", "--to", file.to_str().unwrap()]);
    assert_eq!(again.code(), Some(5), "{}", again.describe());
}

#[test]
fn an_archive_moves_old_events_out_and_both_parts_verify() {
    let (vault, _) = vault_with_history();
    let before_cut = vault.run(&["--json", "audit"]).ok().json();
    let moved = before_cut.as_array().unwrap().len() as i64;
    // Events from now on are after the cut.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cut = String::from_utf8(
        Command::new("date")
            .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    vault.set("LATER", "later-value", &[]);

    let file = vault.dir().join("archive-1.jsonl");
    let run = vault
        .run(&[
            "audit",
            "archive",
            "--before",
            &cut,
            "--to",
            file.to_str().unwrap(),
        ])
        .ok();
    assert!(
        run.stdout
            .contains(&format!("archived {moved} events (1 to {moved})")),
        "{}",
        run.describe()
    );

    // The archive verifies on its own, offline.
    let check = verify_file(&vault, &file, &[]).ok();
    assert!(
        check.stdout.contains("audit archive intact"),
        "{}",
        check.describe()
    );
    let at = check.stdout.find("last hash: ").unwrap();
    let archive_head = check.stdout[at + 11..at + 11 + 64].to_string();

    // The vault keeps the rest, after a signed mark naming the archive's last hash.
    let kept = vault.run(&["audit", "verify"]).ok();
    assert!(
        kept.stdout
            .contains(&format!("events before {} are archived", moved + 1)),
        "{}",
        kept.describe()
    );
    let marks = vault
        .run(&["--json", "audit", "--action", "audit.archive"])
        .ok()
        .json();
    let mark = &marks.as_array().unwrap()[0];
    assert_eq!(mark["detail"]["head"], archive_head.as_str());
    assert_eq!(mark["detail"]["events"], moved);
    assert_eq!(mark["detail"]["from"], 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the archive");
    }
    let left: i64 = vault
        .db()
        .query_row("SELECT min(id) FROM audit_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, moved + 1);

    // This machine's anchor was before the cut: no warning, and commands go on.
    let ls = vault.run(&["ls"]).ok();
    assert!(!ls.stderr.contains("warning"), "{}", ls.describe());

    // An archive never replaces a file, and one with nothing left to move says so.
    let again = vault.run(&[
        "audit",
        "archive",
        "--before",
        &cut,
        "--to",
        file.to_str().unwrap(),
    ]);
    assert_eq!(again.code(), Some(5), "{}", again.describe());
    let nothing = vault.dir().join("archive-2.jsonl");
    let run = vault.run(&[
        "audit",
        "archive",
        "--before",
        &cut,
        "--to",
        nothing.to_str().unwrap(),
    ]);
    assert_eq!(run.code(), Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains("no events before"),
        "{}",
        run.describe()
    );
    assert!(!nothing.exists());

    // Removing the archive mark (with sqlite3, no key) exposes the missing start.
    let db = vault.db();
    db.execute(
        "DELETE FROM audit_events WHERE action = 'audit.archive'",
        [],
    )
    .unwrap();
    drop(db);
    let run = vault.run(&["audit", "verify"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert_eq!(run.broken_at(), Some(1), "{}", run.describe());
}

#[test]
fn a_forged_archive_mark_without_a_key_is_caught() {
    let (vault, _) = vault_with_history();
    let db = vault.db();
    // A script with no key cuts the first events and adds a mark naming the cut.
    let (id, head): (i64, Vec<u8>) = db
        .query_row("SELECT id, hash FROM audit_events WHERE id = 3", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let last: i64 = db
        .query_row("SELECT max(id) FROM audit_events", [], |r| r.get(0))
        .unwrap();
    db.execute(
        "INSERT INTO audit_events(id, at, actor, action, outcome, detail, mac, format, hash, signer)
         VALUES (?1, 1, 'alice', 'audit.archive', 'ok', ?2, X'', 2, X'00', 1)",
        rusqlite::params![
            last + 1,
            serde_json::json!({
                "events": id,
                "head": head.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "archived": 3,
                "file": "x"
            })
            .to_string()
        ],
    )
    .unwrap();
    db.execute("DELETE FROM audit_events WHERE id <= 3", [])
        .unwrap();
    drop(db);
    // An unsigned mark moves nothing: the trail still starts at event 1, now missing.
    let run = vault.run(&["audit", "verify"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert_eq!(run.broken_at(), Some(1), "{}", run.describe());
    assert!(run.stderr.contains("missing"), "{}", run.describe());
    assert!(last > 3);
}
