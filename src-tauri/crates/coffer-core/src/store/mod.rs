//! Storage: one SQLite file in WAL mode; every SQL statement of Coffer lives under
//! this module, so another backend is one more implementation of the same traits
//! (see [`Storage`]).
//!
//! Writers take the lock up front (`BEGIN IMMEDIATE`) and wait for each other through
//! the busy timeout, so two processes writing at once both succeed; if the wait runs
//! out, the caller gets [`Error::Busy`], never SQLite's "database is locked".

mod directory;
mod history;
mod keys;
#[cfg(feature = "team")]
mod merge;
#[cfg(feature = "team")]
mod replica;
mod schema;
pub(crate) use schema::known_version;
mod signed;
mod trail;
mod usage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

pub(crate) use directory::*;
pub(crate) use history::*;
pub(crate) use keys::*;
#[cfg(feature = "team")]
pub(crate) use merge::merge_fields;
#[cfg(feature = "team")]
pub(crate) use replica::*;
pub(crate) use signed::*;
pub(crate) use trail::*;
pub(crate) use usage::*;

use crate::error::{Error, Result};

/// Every storage operation of Coffer, grouped by the data it touches. The rest of the
/// core reaches storage only through `&dyn Storage` (reads from [`Store::conn`],
/// writes inside [`Store::write`]): SQLite's connection is one implementation, and a
/// team vault on another database is a second one of the same operations.
pub(crate) trait Storage:
    DirectoryStore + HistoryStore + KeyStore + MetaStore + SignedStore + TrailStore + UsageStore
{
}

impl<T> Storage for T where
    T: ?Sized
        + DirectoryStore
        + HistoryStore
        + KeyStore
        + MetaStore
        + SignedStore
        + TrailStore
        + UsageStore
{
}

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
    /// A working copy (a backup being checked before a restore): it keeps no
    /// snapshots and moves no anchor of its own.
    scratch: bool,
}

impl Store {
    /// Creates a new, empty vault file (owner-only permissions) and its schema.
    pub(crate) fn create(path: &Path) -> Result<Store> {
        if path.exists() {
            return Err(Error::Conflict(format!(
                "a vault already exists at {}",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(path)?;
        Self::open_existing(path, false)
    }

    /// Opens an existing vault, upgrading its schema if this build is newer.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(Error::NotFound {
                what: format!(
                    "vault at {} (create one with `coffer init --owner NAME`)",
                    path.display()
                ),
            });
        }
        Self::open_existing(path, false)
    }

    /// Opens a working copy of a vault: as [`Store::open`], but it keeps no snapshots
    /// and moves no anchor.
    pub(crate) fn open_scratch(path: &Path) -> Result<Store> {
        Self::open_existing(path, true)
    }

    pub(crate) fn is_scratch(&self) -> bool {
        self.scratch
    }

    fn open_existing(path: &Path, scratch: bool) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets the app and the CLI read while the other writes; NORMAL sync keeps
        // every commit safe from a killed process (only power loss can drop the last
        // commits); secure_delete overwrites destroyed ciphertext in the file.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "trusted_schema", "OFF")?;
        if !scratch && schema::upgrade_due(&conn)? {
            // A copy of the vault as this older schema had it, before it changes.
            crate::snapshots::before_upgrade(&conn, path)?;
        }
        schema::migrate(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            scratch,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Takes a snapshot of the vault beside it now.
    pub(crate) fn snapshot(
        &self,
        kind: crate::snapshots::Kind,
        now: i64,
    ) -> Result<crate::snapshots::Snapshot> {
        crate::snapshots::take(&self.conn, &self.path, kind, now)
    }

    /// Takes today's snapshot if this is the day's first write.
    pub(crate) fn snapshot_daily(&self, now: i64) -> Result<()> {
        crate::snapshots::take_daily_if_due(&self.conn, &self.path, now).map(|_| ())
    }

    /// Writes a standalone copy of the vault to `dest`; returns its size.
    pub(crate) fn copy_to(&self, dest: &Path) -> Result<u64> {
        crate::snapshots::write_copy(&self.conn, dest)
    }

    /// Reads outside a write transaction.
    pub(crate) fn conn(&self) -> &dyn Storage {
        &self.conn
    }

    /// What a team vault replicates of this vault (read outside a transaction).
    #[cfg(feature = "team")]
    pub(crate) fn replica(&self) -> &dyn ReplicaStore {
        &self.conn
    }

    /// As [`Store::write`], with the replica's state in reach too.
    #[cfg(feature = "team")]
    pub(crate) fn write_replica<T>(
        &self,
        f: impl FnOnce(&dyn ReplicaTx) -> Result<T>,
    ) -> Result<T> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let c: &Connection = &tx;
        let out = f(c)?;
        // Foreign keys are checked here, at the end: records from a server that name a
        // row it no longer sends were taken apart on the server.
        tx.commit().map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                crate::Error::Integrity(
                    "the team server's records do not hang together: one names a row the server no longer holds (deleted there by its administrator?); nothing was taken".into(),
                )
            }
            _ => crate::Error::from(e),
        })?;
        Ok(out)
    }

    /// Runs `f` in one write transaction: all of it lands, or none of it.
    ///
    /// Takes `&self` (SQLite's own locking guards the file; the session never nests
    /// transactions), so callers can hold keys borrowed from the session meanwhile.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Storage) -> Result<T>) -> Result<T> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let c: &Connection = &tx;
        let out = f(c)?;
        tx.commit()?;
        Ok(out)
    }
}

/// The id of a new replicated row, named by what makes it unique (`secret:7:API_KEY`):
/// SQLite's next id for a vault on no team server; on a team server one derived from
/// that name (at or above 2^40). Two machines that add different rows apart never pick
/// the same id, and two that add the same one (a secret of that name, version 4 of a
/// value) pick the same, so the server sees one record changed on both: a conflict, kept
/// on both sides, instead of a row that breaks a uniqueness rule where it lands.
pub(crate) fn new_row_id(c: &Connection, unique_name: &str) -> Result<Option<i64>> {
    if c.get_meta("team")?.is_none() {
        return Ok(None);
    }
    use sha2::Digest;
    let h = sha2::Sha256::digest(unique_name.as_bytes());
    let n = u64::from_le_bytes(h[..8].try_into().unwrap_or_default()) >> 13;
    Ok(Some((n | 1 << 40) as i64))
}

/// Vault-wide values by key.
pub(crate) trait MetaStore {
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>>;

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()>;

    /// Only the team vault forgets a vault-wide value (its queue of removals, once the
    /// server has carried them out).
    #[cfg_attr(not(feature = "team"), allow(dead_code))]
    fn delete_meta(&self, key: &str) -> Result<()>;
}

impl MetaStore for Connection {
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )?
        .execute(rusqlite::params![key, value])?;
        Ok(())
    }

    fn delete_meta(&self, key: &str) -> Result<()> {
        self.prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) fn migrate_for_tests(conn: &mut Connection) {
    schema::migrate(conn).expect("schema applies to an empty database");
}
