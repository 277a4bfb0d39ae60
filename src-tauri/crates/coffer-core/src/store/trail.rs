//! SQL for the audit trail: append, read back with filters, stream for verification.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::Result;

#[derive(Clone)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub workspace_id: Option<i64>,
    pub workspace: Option<String>,
    pub project: Option<String>,
    pub environment: Option<String>,
    pub secret: Option<String>,
    pub detail: String,
    /// The MAC of format 1; empty since.
    pub mac: Vec<u8>,
    pub format: i64,
    /// This event's hash (over its fields and the previous event's hash).
    pub hash: Option<Vec<u8>>,
    /// The member who wrote it; `None` for an attempt before unlock.
    pub signer: Option<i64>,
    /// On the last event of a commit: its author's signature.
    pub sig: Option<Vec<u8>>,
}

const AUDIT_COLS: &str = "id, at, actor, action, outcome, workspace_id, workspace, project,
    environment, secret, detail, mac, format, hash, signer, sig";

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        outcome: r.get(4)?,
        workspace_id: r.get(5)?,
        workspace: r.get(6)?,
        project: r.get(7)?,
        environment: r.get(8)?,
        secret: r.get(9)?,
        detail: r.get(10)?,
        mac: r.get(11)?,
        format: r.get(12)?,
        hash: r.get(13)?,
        signer: r.get(14)?,
        sig: r.get(15)?,
    })
}

/// Filters for reading the trail back; `None` matches everything.
#[derive(Default)]
pub(crate) struct AuditQuery<'a> {
    pub workspace_id: i64,
    pub actor: Option<&'a str>,
    pub action: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub since: Option<i64>,
    pub limit: Option<i64>,
}

/// The audit trail's rows.
pub(crate) trait TrailStore {
    fn insert_audit(&self, row: &AuditRow) -> Result<()>;

    fn query_audit(&self, q: &AuditQuery<'_>) -> Result<Vec<AuditRow>>;

    /// Calls `f` for every event after `after` matching `q` (its limit aside), in id
    /// order, without loading them into memory; stops when `f` says so.
    fn each_audit_matching(
        &self,
        q: &AuditQuery<'_>,
        after: i64,
        f: &mut dyn FnMut(&AuditRow) -> Result<bool>,
    ) -> Result<()>;

    /// Calls `f` for every event in id order without loading the trail into memory.
    fn each_audit(&self, f: &mut dyn FnMut(&AuditRow) -> Result<bool>) -> Result<()>;

    /// The newest event.
    fn last_audit(&self) -> Result<Option<AuditRow>>;

    /// How many events of one workspace the vault holds, and the newest one's id (0
    /// for none): what a member of that workspace may know of the trail's size.
    fn workspace_audit_extent(&self, workspace_id: i64) -> Result<(i64, i64)>;

    /// The workspace an event belongs to: `None` when there is no such event,
    /// `Some(None)` for a vault-wide one.
    fn audit_workspace_of(&self, id: i64) -> Result<Option<Option<i64>>>;

    /// Records the hash of an event of format 1 as it is linked into the chain.
    fn set_audit_hash(&self, id: i64, hash: &[u8]) -> Result<()>;

    /// Records the signature that ends a commit.
    fn sign_audit(&self, id: i64, sig: &[u8]) -> Result<()>;

    /// The stored hash of one event, if it exists.
    fn audit_hash_at(&self, id: i64) -> Result<Option<Vec<u8>>>;

    /// Calls `f` for every event from `first` on, in id order, in constant memory.
    fn each_audit_from(
        &self,
        first: i64,
        f: &mut dyn FnMut(&AuditRow) -> Result<bool>,
    ) -> Result<()>;

    /// The newest archive event (which names where the trail in the vault starts).
    fn last_archive_event(&self) -> Result<Option<AuditRow>>;

    /// The newest checkpoint.
    fn last_checkpoint_event(&self) -> Result<Option<AuditRow>>;

    /// The last event that ends a commit (it is signed, or it has no author) before
    /// the first event at or after `before`: where an archive may cut.
    fn audit_commit_end_before(&self, before: i64) -> Result<Option<i64>>;

    /// Removes the events up to `through` (they were archived); returns how many.
    fn delete_audit_through(&self, through: i64) -> Result<usize>;
}

impl TrailStore for Connection {
    fn insert_audit(&self, row: &AuditRow) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO audit_events(id, at, actor, action, outcome, workspace_id, workspace, project,
                                      environment, secret, detail, mac, format, hash, signer, sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?
        .execute(params![
            row.id,
            row.at,
            row.actor,
            row.action,
            row.outcome,
            row.workspace_id,
            row.workspace,
            row.project,
            row.environment,
            row.secret,
            row.detail,
            row.mac,
            row.format,
            row.hash,
            row.signer,
            row.sig
        ])?;
        Ok(())
    }

    // Both reads walk the table in id order (NOT INDEXED): with the workspace index,
    // SQLite merged two index searches and sorted every match in a temporary b-tree
    // before the first row, holding a million-event trail in memory and taking
    // seconds for `--limit 50`.
    fn query_audit(&self, q: &AuditQuery<'_>) -> Result<Vec<AuditRow>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {AUDIT_COLS} FROM (
                SELECT {AUDIT_COLS} FROM audit_events NOT INDEXED
                WHERE (workspace_id = ?1 OR workspace_id IS NULL)
                  AND (?2 IS NULL OR actor = ?2)
                  AND (?3 IS NULL OR action = ?3 OR action LIKE '%.' || ?3)
                  AND (?4 IS NULL OR secret = ?4)
                  AND (?5 IS NULL OR at >= ?5)
                ORDER BY id DESC LIMIT ?6)
             ORDER BY id"
        ))?;
        let rows = st.query_map(
            params![
                q.workspace_id,
                q.actor,
                q.action,
                q.secret,
                q.since,
                q.limit.unwrap_or(-1)
            ],
            audit_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn each_audit_matching(
        &self,
        q: &AuditQuery<'_>,
        after: i64,
        f: &mut dyn FnMut(&AuditRow) -> Result<bool>,
    ) -> Result<()> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {AUDIT_COLS} FROM audit_events NOT INDEXED
             WHERE id > ?6 AND (workspace_id = ?1 OR workspace_id IS NULL)
               AND (?2 IS NULL OR actor = ?2)
               AND (?3 IS NULL OR action = ?3 OR action LIKE '%.' || ?3)
               AND (?4 IS NULL OR secret = ?4)
               AND (?5 IS NULL OR at >= ?5)
             ORDER BY id"
        ))?;
        let mut rows = st.query(params![
            q.workspace_id,
            q.actor,
            q.action,
            q.secret,
            q.since,
            after
        ])?;
        while let Some(r) = rows.next()? {
            if !f(&audit_row(r)?)? {
                break;
            }
        }
        Ok(())
    }

    fn each_audit(&self, f: &mut dyn FnMut(&AuditRow) -> Result<bool>) -> Result<()> {
        let mut st = self.prepare(&format!(
            "SELECT {AUDIT_COLS} FROM audit_events ORDER BY id"
        ))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            if !f(&audit_row(r)?)? {
                break;
            }
        }
        Ok(())
    }

    fn last_audit(&self) -> Result<Option<AuditRow>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit_events ORDER BY id DESC LIMIT 1"
            ))?
            .query_row([], audit_row)
            .optional()?)
    }

    fn workspace_audit_extent(&self, workspace_id: i64) -> Result<(i64, i64)> {
        // Both from the (workspace_id, id) index, without touching the table.
        Ok(self
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM audit_events WHERE workspace_id = ?1",
            )?
            .query_row([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    fn audit_workspace_of(&self, id: i64) -> Result<Option<Option<i64>>> {
        Ok(self
            .prepare_cached("SELECT workspace_id FROM audit_events WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    fn set_audit_hash(&self, id: i64, hash: &[u8]) -> Result<()> {
        self.prepare_cached("UPDATE audit_events SET hash = ?2 WHERE id = ?1")?
            .execute(params![id, hash])?;
        Ok(())
    }

    fn audit_hash_at(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .prepare_cached("SELECT hash FROM audit_events WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()?
            .flatten())
    }

    fn each_audit_from(
        &self,
        first: i64,
        f: &mut dyn FnMut(&AuditRow) -> Result<bool>,
    ) -> Result<()> {
        let mut st = self.prepare(&format!(
            "SELECT {AUDIT_COLS} FROM audit_events WHERE id >= ?1 ORDER BY id"
        ))?;
        let mut rows = st.query([first])?;
        while let Some(r) = rows.next()? {
            if !f(&audit_row(r)?)? {
                break;
            }
        }
        Ok(())
    }

    fn last_archive_event(&self) -> Result<Option<AuditRow>> {
        // The literal action lets SQLite use the partial index.
        Ok(self
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit_events WHERE action = 'audit.archive'
                 ORDER BY id DESC LIMIT 1"
            ))?
            .query_row([], audit_row)
            .optional()?)
    }

    fn last_checkpoint_event(&self) -> Result<Option<AuditRow>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit_events WHERE action = 'audit.checkpoint'
                 ORDER BY id DESC LIMIT 1"
            ))?
            .query_row([], audit_row)
            .optional()?)
    }

    fn audit_commit_end_before(&self, before: i64) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached(
                "SELECT max(id) FROM audit_events
                 WHERE (sig IS NOT NULL OR (signer IS NULL AND format >= 2))
                   AND id < coalesce((SELECT min(id) FROM audit_events WHERE at >= ?1),
                                     9223372036854775807)",
            )?
            .query_row([before], |r| r.get::<_, Option<i64>>(0))?)
    }

    fn delete_audit_through(&self, through: i64) -> Result<usize> {
        Ok(self
            .prepare_cached("DELETE FROM audit_events WHERE id <= ?1")?
            .execute([through])?)
    }

    fn sign_audit(&self, id: i64, sig: &[u8]) -> Result<()> {
        self.prepare_cached("UPDATE audit_events SET sig = ?2 WHERE id = ?1")?
            .execute(params![id, sig])?;
        Ok(())
    }
}
