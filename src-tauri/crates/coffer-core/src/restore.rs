//! Backups and restores of the whole vault.
//!
//! A backup is a standalone copy of the vault file (the snapshots' format). A restore
//! checks the file before anything changes: SQLite's integrity check, that it is this
//! vault (another one only with `replace`), that the member unlocks it and may restore
//! (the vault's owner, or a member who may audit and manage in every workspace: a
//! restore turns back every workspace and its trail), every signed row of its directory
//! and its whole audit chain. Only then is the current vault kept as a snapshot (or, if
//! SQLite cannot read it, moved aside whole), and the file put in its place with a
//! signed `vault.restore` event naming what it replaced — so an auditor sees the
//! rollback, and the events it turned back stay in the snapshot kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use serde_json::json;

use crate::access::Capability;
use crate::audit::{self, NewEvent};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::snapshots::{self, Kind, Snapshot};
use crate::store::MetaStore;
use crate::value::Passphrase;
use crate::vault::Vault;

/// The audit action of a restore.
pub const RESTORE: &str = "vault.restore";
/// The audit action of a backup.
pub const BACKUP: &str = "vault.backup";

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Restored {
    pub vault_id: String,
    /// The file restored from.
    pub from: PathBuf,
    /// Where the vault as it was before is kept (none when there was no vault).
    pub kept: Option<PathBuf>,
    /// Whether the vault replaced was another vault (`replace`).
    pub replaced_another: bool,
    /// The restored trail's last event: the restore itself.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub head: i64,
}

/// The vault being replaced, as far as SQLite can read it.
enum Current {
    Missing,
    Readable {
        id: String,
        head: Option<(i64, Vec<u8>)>,
    },
    Damaged(String),
}

fn current(live: &Path) -> Current {
    if !live.exists() {
        return Current::Missing;
    }
    let conn = match snapshots::open_read_only(live) {
        Ok(c) => c,
        Err(e) => return Current::Damaged(e.to_string()),
    };
    if let Err(problem) = snapshots::integrity(&conn) {
        return Current::Damaged(problem);
    }
    match vault_id(&conn) {
        Some(id) => Current::Readable {
            id,
            head: audit::head(&conn).ok().flatten(),
        },
        None => Current::Damaged("it has no vault identity".into()),
    }
}

fn vault_id(conn: &Connection) -> Option<String> {
    conn.get_meta("vault_id")
        .ok()
        .flatten()
        .and_then(|v| String::from_utf8(v).ok())
}

/// The files of a vault: the database, and SQLite's journal and index beside it.
fn with_journals(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    })
}

/// Removes a working copy and its journals when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in with_journals(&self.0) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Restores the vault at `live` from the file at `from` (a backup or a snapshot), as
/// `member`, who unlocks the file with `passphrase` (the one they had when it was
/// made). Nothing changes unless every check passes. A file from before members held
/// their own keys is upgraded as it is restored: the report of that upgrade (each
/// member's one-time passphrase, to hand over) comes back with what was done.
pub fn restore(
    live: &Path,
    from: &Path,
    member: &str,
    passphrase: &Passphrase,
    replace: bool,
    clock: Arc<dyn Clock>,
) -> Result<(Restored, Option<crate::session::UpgradeReport>)> {
    let shown = from.display();
    let from_real = std::fs::canonicalize(from)
        .map_err(|_| Error::not_found(format!("backup file {shown}")))?;
    if std::fs::canonicalize(live).is_ok_and(|l| l == from_real) {
        return Err(Error::invalid(format!(
            "{shown} is the vault itself: restore from a backup or a snapshot"
        )));
    }
    let src = snapshots::open_read_only(from)
        .map_err(|e| Error::invalid(format!("{shown} is not a vault Coffer can read ({e})")))?;
    snapshots::integrity(&src).map_err(|problem| {
        Error::Integrity(format!(
            "{shown} fails SQLite's integrity check ({problem}): restore from another backup"
        ))
    })?;
    let from_id =
        vault_id(&src).ok_or_else(|| Error::invalid(format!("{shown} is not a Coffer vault")))?;

    let now = clock.now_ms();
    let current = current(live);
    let same = match &current {
        Current::Missing => true,
        Current::Readable { id, .. } => *id == from_id,
        // The damaged file cannot say which vault it was: its snapshots can.
        Current::Damaged(_) => snapshots::list(live)?.iter().any(|s| {
            snapshots::open_read_only(&s.path)
                .ok()
                .and_then(|c| vault_id(&c))
                .is_some_and(|id| id == from_id)
        }),
    };
    if !same && !replace {
        return Err(Error::Conflict(format!(
            "{shown} holds another vault than {}: give --replace to replace this vault with it (it is kept as a snapshot first)",
            live.display()
        )));
    }

    // A working copy beside the snapshots, checked and completed there: the file
    // given is never changed, and an older schema is upgraded in the copy.
    let dir = snapshots::ensure_dir(live)?;
    let work = Scratch(dir.join(format!(".restoring{}.db", std::process::id())));
    // What a killed restore of a process with this id left.
    drop(Scratch(work.0.clone()));
    snapshots::write_copy(&src, &work.0)?;
    drop(src);
    let mut s = Vault::open_scratch(&work.0)?
        .with_clock(clock.clone())
        .unlock(member, passphrase)?;
    s.require_restore()?;
    s.verify_directory()?;
    let report = s.verify_whole_trail()?;
    if !report.ok {
        return Err(Error::Integrity(format!(
            "{shown}'s audit trail does not verify at event {}: {}",
            report.first_bad.unwrap_or_default(),
            report.problem.unwrap_or_default()
        )));
    }

    // Every check passed: keep what is there now, record the restore, put it in place.
    let kept = match &current {
        Current::Missing => None,
        Current::Readable { .. } => {
            let conn = Connection::open_with_flags(
                live,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(15))?;
            Some(snapshots::take(&conn, live, Kind::BeforeRestore, now)?.path)
        }
        Current::Damaged(_) => Some(move_aside(live, &dir, now)?),
    };
    let replaced = match &current {
        Current::Readable { id, head } => json!({
            "vault": id,
            "event": head.as_ref().map(|h| h.0),
            "hash": head.as_ref().map(|h| hex::encode(&h.1)),
        }),
        Current::Damaged(problem) => json!({ "damaged": problem }),
        Current::Missing => json!(null),
    };
    let head = s.record_restore(json!({
        "from": from_real.display().to_string(),
        "kept": kept.as_ref().map(|k| k.display().to_string()),
        "replaced": replaced,
    }))?;
    let vault_key = s.vault_id.clone();
    let upgrade = s.take_upgrade_report();
    drop(s);

    match &current {
        Current::Readable { .. } => {
            let src = snapshots::open_read_only(&work.0)?;
            let mut dst = Connection::open_with_flags(
                live,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            dst.busy_timeout(std::time::Duration::from_secs(15))?;
            // One step: readers of the vault see the old file or the restored one.
            snapshots::copy(&src, &mut dst)?;
        }
        Current::Missing | Current::Damaged(_) => {
            if let Some(parent) = live.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&work.0, live)?;
        }
    }
    crate::anchor::reset((&vault_key, live), (head.0, &head.1));
    Ok((
        Restored {
            vault_id: vault_key,
            from: from_real,
            kept,
            replaced_another: !same,
            head: head.0,
        },
        upgrade,
    ))
}

/// Moves a vault file SQLite cannot read (and its journals) into the snapshots,
/// untouched, so nothing of it is lost.
fn move_aside(live: &Path, dir: &Path, now: i64) -> Result<PathBuf> {
    let name = snapshots::file_name(now, Kind::Damaged);
    let target = dir.join(&name);
    for (from, to) in with_journals(live).iter().zip(with_journals(&target)) {
        if from.exists() {
            std::fs::rename(from, to)?;
        }
    }
    Ok(target)
}

impl Session {
    /// A restore turns back every workspace and the trail: the vault's owner, or a
    /// member who may audit and manage everywhere, may.
    fn require_restore(&self) -> Result<()> {
        if self.member_id == self.root
            || crate::trail_files::holds_everywhere(
                self.store.conn(),
                self.member_id,
                &[Capability::Audit, Capability::Manage],
            )?
        {
            return Ok(());
        }
        Err(Error::DeniedAction {
            member: self.member.clone(),
            what: "restore the vault: it turns back every workspace, which takes audit and manage in each (or being the vault's owner)".into(),
        })
    }

    /// Checks every signed row of the directory, in every workspace.
    pub(crate) fn verify_directory(&self) -> Result<usize> {
        let conn = self.store.conn();
        let verifier = self.verifier();
        let mut rows = 0;
        for ws in conn.all_workspace_ids()? {
            verifier.check(conn, crate::store::RowKey::Workspace(ws))?;
            rows += 1;
            for (key, _) in conn.signed_rows_in(ws)? {
                verifier.check(conn, key.as_ref())?;
                rows += 1;
            }
        }
        Ok(rows)
    }

    /// Appends the signed restore event; returns the new head.
    fn record_restore(&mut self, detail: serde_json::Value) -> Result<(i64, Vec<u8>)> {
        let (member, author, now) = (self.member.clone(), self.author(), self.now());
        self.write(|tx| {
            let mut ev = NewEvent::new(&member, RESTORE);
            ev.detail = detail;
            audit::append(tx, author, now, &ev)?;
            Ok(())
        })?;
        audit::head(self.store.conn())?
            .ok_or_else(|| Error::Integrity("the restored trail has no head".into()))
    }

    /// Writes a standalone copy of the vault to `to`, or as a snapshot beside it when
    /// `to` is `None` (any member: the copy holds what the file does, no key). Audited.
    pub fn backup(&mut self, to: Option<&Path>) -> Result<Snapshot> {
        let now = self.now();
        let (member, author) = (self.member.clone(), self.author());
        // Audited first, so the copy holds its own backup event.
        let target = to.map(Path::to_path_buf);
        if let Some(path) = to.filter(|p| p.exists()) {
            return Err(Error::Conflict(format!(
                "{} exists: choose a new file name",
                path.display()
            )));
        }
        self.write(|tx| {
            let mut ev = NewEvent::new(&member, BACKUP);
            ev.detail = json!({
                "to": target.as_ref().map(|t| t.display().to_string()),
            });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        match to {
            None => self.store.snapshot(Kind::Manual, now),
            Some(path) => {
                let bytes = self.store.copy_to(path)?;
                Ok(Snapshot {
                    path: path.to_path_buf(),
                    kind: Kind::Manual,
                    taken_at: now,
                    bytes,
                })
            }
        }
    }
}
