//! Snapshots, backups and restores on the real binary: a vault whose live file was
//! truncated or had bytes flipped comes back whole from a snapshot; a backup that was
//! edited, one of another vault, a wrong passphrase or a member who may not restore
//! change nothing; the restore is in the trail and the vault as it was is kept.

use std::path::{Path, PathBuf};

use super::support::{contains_bytes, Member, Vault};

fn snapshots(v: &Vault) -> Vec<serde_json::Value> {
    v.run(&["--json", "snapshots"]).ok().json()["snapshots"]
        .as_array()
        .unwrap()
        .clone()
}

fn of_kind(v: &Vault, kind: &str) -> Vec<PathBuf> {
    snapshots(v)
        .iter()
        .filter(|s| s["kind"] == kind)
        .map(|s| PathBuf::from(s["path"].as_str().unwrap()))
        .collect()
}

fn backup(v: &Vault) -> PathBuf {
    let made = v.run(&["--json", "backup"]).ok().json();
    PathBuf::from(made["path"].as_str().unwrap())
}

fn path_arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Three secrets, a snapshot of them, then a change the snapshot does not hold.
fn vault_with_snapshot() -> (Vault, PathBuf) {
    let v = Vault::new();
    v.set("DB_PASSWORD", "db-pass-0c1d-before", &[]);
    v.set("API_KEY", "api-key-77aa-before", &["--env", "production"]);
    v.set("TOKEN", "token-5e5e-before", &[]);
    let snap = backup(&v);
    v.set("DB_PASSWORD", "db-pass-0c1d-after", &[]);
    (v, snap)
}

fn assert_restored(v: &Vault) {
    assert_eq!(v.reveal("DB_PASSWORD", &[]), "db-pass-0c1d-before");
    assert_eq!(
        v.reveal("API_KEY", &["--env", "production"]),
        "api-key-77aa-before"
    );
    assert_eq!(v.reveal("TOKEN", &[]), "token-5e5e-before");
    let verify = v.run(&["audit", "verify"]).ok();
    assert!(verify.stdout.contains("intact"), "{}", verify.describe());
    let trail = v
        .run(&["--json", "audit", "--action", "vault.restore"])
        .ok()
        .json();
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
}

#[test]
fn a_truncated_live_file_comes_back_from_a_snapshot_with_nothing_lost_up_to_it() {
    let (v, snap) = vault_with_snapshot();
    let whole = std::fs::read(&v.path).unwrap();
    std::fs::write(&v.path, &whole[..whole.len() / 3]).unwrap();
    let broken = v.run(&["ls"]).refused(7);
    assert!(
        broken.stderr.contains("coffer snapshots"),
        "{}",
        broken.describe()
    );
    let r = v.run(&["restore", path_arg(&snap)]).ok();
    assert!(r.stdout.contains("kept in"), "{}", r.describe());
    assert_restored(&v);
    // The damaged file is kept, untouched, beside the snapshots.
    let damaged = of_kind(&v, "damaged");
    assert_eq!(damaged.len(), 1);
    assert_eq!(std::fs::read(&damaged[0]).unwrap().len(), whole.len() / 3);
}

#[test]
fn flipped_bytes_in_the_live_file_come_back_from_a_snapshot() {
    let (v, snap) = vault_with_snapshot();
    let mut bytes = std::fs::read(&v.path).unwrap();
    // Every page after the first two: the schema still reads, the data does not.
    for b in bytes.iter_mut().skip(8192).step_by(7) {
        *b ^= 0x5a;
    }
    std::fs::write(&v.path, &bytes).unwrap();
    v.run(&["restore", "--from", path_arg(&snap)]).ok();
    assert_restored(&v);
    assert_eq!(of_kind(&v, "damaged").len(), 1);

    // And a header flipped: SQLite does not know the file at all.
    let (v, snap) = vault_with_snapshot();
    let mut bytes = std::fs::read(&v.path).unwrap();
    bytes[..16].copy_from_slice(b"not sqlite at al");
    std::fs::write(&v.path, &bytes).unwrap();
    v.run(&["restore", path_arg(&snap)]).ok();
    assert_restored(&v);
}

#[test]
fn a_healthy_vault_restored_is_kept_first_and_a_stale_anchor_says_nothing() {
    let (v, snap) = vault_with_snapshot();
    v.run(&["restore", path_arg(&snap)]).ok();
    assert_restored(&v);
    // What the restore turned back is in the snapshot kept before it.
    let kept = of_kind(&v, "before-restore");
    assert_eq!(kept.len(), 1);
    let restored_again = v.run(&["restore", path_arg(&kept[0])]).ok();
    assert!(
        restored_again.stderr.is_empty(),
        "{}",
        restored_again.describe()
    );
    assert_eq!(v.reveal("DB_PASSWORD", &[]), "db-pass-0c1d-after");
    // This machine's anchor follows a restore made here: no warning of a rollback.
    let ls = v.run(&["ls"]).ok();
    assert!(!ls.stderr.contains("warning"), "{}", ls.describe());
}

#[test]
fn a_backup_edited_outside_coffer_is_refused_and_nothing_changes() {
    let (v, snap) = vault_with_snapshot();
    let before = v.snapshot();
    let edit = |sql: &str| -> PathBuf {
        let copy = v.dir().join(format!("edited-{}.db", sql.len()));
        std::fs::copy(&snap, &copy).unwrap();
        let db = rusqlite::Connection::open(&copy).unwrap();
        db.execute_batch(sql).unwrap();
        copy
    };
    // A directory row changed (an environment's protection dropped): its signature fails.
    let protected =
        edit("UPDATE environments SET protected = 1 - protected WHERE name = 'production';");
    v.run(&["restore", path_arg(&protected)]).refused(7);
    // An audit event removed from the middle of the trail.
    let cut = edit("DELETE FROM audit_events WHERE id = 2;");
    let r = v.run(&["restore", path_arg(&cut)]).refused(7);
    assert!(r.stderr.contains("audit trail"), "{}", r.describe());
    assert_eq!(v.snapshot(), before);
    assert!(of_kind(&v, "before-restore").is_empty());
}

#[test]
fn another_vault_needs_replace_a_wrong_passphrase_and_a_developer_are_refused() {
    let (v, snap) = vault_with_snapshot();
    let other = Vault::new();
    other.set("OTHER", "other-vault-value", &[]);
    let other_backup = backup(&other);
    let before = v.snapshot();
    let r = v.run(&["restore", path_arg(&other_backup)]).refused(5);
    assert!(r.stderr.contains("--replace"), "{}", r.describe());
    v.cli()
        .passphrase("not the passphrase")
        .run(&["restore", path_arg(&snap)])
        .refused(6);
    let dev = v.add_member("dave", "developer");
    let snap_with_dave = backup(&v);
    let before_dave = v.snapshot();
    v.cli()
        .acting_as(&dev)
        .run(&["restore", path_arg(&snap_with_dave)])
        .refused(4);
    assert_eq!(v.snapshot(), before_dave);
    drop(before);
    // With --replace, the other vault takes this one's place.
    v.run(&["restore", path_arg(&other_backup), "--replace"])
        .ok();
    assert_eq!(v.reveal("OTHER", &[]), "other-vault-value");
    assert_eq!(of_kind(&v, "before-restore").len(), 1);
}

#[test]
fn a_backup_restores_on_a_machine_with_no_vault() {
    let (v, _) = vault_with_snapshot();
    let file = v.dir().join("carried.db");
    v.run(&["backup", "--to", path_arg(&file)]).ok();
    // The same file name again is refused: a backup never overwrites.
    v.run(&["backup", "--to", path_arg(&file)]).refused(5);
    let fresh = Vault::new();
    std::fs::remove_file(&fresh.path).unwrap();
    fresh.run(&["restore", path_arg(&file)]).ok();
    assert_eq!(fresh.reveal("DB_PASSWORD", &[]), "db-pass-0c1d-after");
    // A bare file name is a secret's name; the error says how to name the file.
    let line = format!(
        "cd '{}' && exec '{}' restore carried.db",
        v.dir().display(),
        super::support::coffer_bin().display()
    );
    let r = fresh.cli().run_program("sh", &["-c", &line]);
    assert_eq!(r.code(), Some(3), "{}", r.describe());
    assert!(
        r.stderr.contains("coffer restore ./carried.db"),
        "{}",
        r.describe()
    );
}

#[test]
fn a_daily_snapshot_is_taken_once_and_the_rotation_is_a_setting() {
    let v = Vault::new();
    // `init` was the day's first write.
    assert_eq!(of_kind(&v, "daily").len(), 1);
    v.set("A", "a-value-3f3f", &[]);
    v.set("A", "a-value-4e4e", &[]);
    assert_eq!(of_kind(&v, "daily").len(), 1);
    let off = v
        .run(&[
            "--json",
            "snapshots",
            "--keep-daily",
            "0",
            "--keep-weekly",
            "0",
        ])
        .ok()
        .json();
    assert_eq!(off["keep"]["daily"], 0);
    assert!(of_kind(&v, "daily").is_empty());
    v.run(&["snapshots", "--keep-daily", "3"]).ok();
    let keep = v.run(&["--json", "snapshots"]).ok().json()["keep"].clone();
    assert_eq!(keep, serde_json::json!({"daily": 3, "weekly": 0}));
}

#[cfg(unix)]
#[test]
fn snapshots_are_private_and_hold_no_value_in_plaintext() {
    use std::os::unix::fs::PermissionsExt as _;
    let (v, snap) = vault_with_snapshot();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&snap), 0o600);
    assert_eq!(mode(snap.parent().unwrap()), 0o700);
    for s in snapshots(&v) {
        let bytes = std::fs::read(s["path"].as_str().unwrap()).unwrap();
        for value in [
            "db-pass-0c1d-before",
            "api-key-77aa-before",
            "token-5e5e-before",
        ] {
            assert!(!contains_bytes(&bytes, value.as_bytes()), "{value} in {s}");
        }
    }
    // Backups are audited, with where they went.
    let trail = v
        .run(&["--json", "audit", "--action", "vault.backup"])
        .ok()
        .json();
    assert_eq!(trail.as_array().unwrap().len(), 1);
}

#[test]
fn an_old_vault_is_kept_as_it_was_before_its_schema_is_upgraded() {
    let v = Vault::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vault-v5.db");
    std::fs::copy(fixture, &v.path).unwrap();
    let alice = Member {
        name: "alice".into(),
        passphrase: "owner passphrase 1".into(),
    };
    v.cli().acting_as(&alice).run(&["ls"]).ok();
    let before = of_kind(&v, "upgrade");
    assert_eq!(before.len(), 1, "{:?}", snapshots(&v));
    let db = rusqlite::Connection::open(&before[0]).unwrap();
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5);
}
