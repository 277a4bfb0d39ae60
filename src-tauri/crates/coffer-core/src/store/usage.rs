//! SQL for using secrets without revealing them: handles, recorded usages and the
//! fingerprints a run check compares against.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

pub(crate) struct NewHandle<'a> {
    pub token_mac: &'a [u8],
    pub member_id: i64,
    pub project_id: i64,
    pub environment_id: i64,
    pub secret: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub single_use: bool,
}

pub(crate) struct HandleRow {
    pub id: i64,
    pub member_id: i64,
    pub workspace_id: i64,
    pub project: String,
    pub environment: String,
    pub secret: String,
    pub expires_at: i64,
    pub single_use: bool,
}

/// One version's fingerprint, for comparing text against stored values.
pub(crate) struct FingerprintRow {
    pub secret: String,
    pub environment: String,
    pub version: i64,
    pub current: bool,
    pub fingerprint: Vec<u8>,
}

pub(crate) struct UsageRow {
    pub file: String,
    pub line: i64,
    pub column: i64,
    pub environment: Option<String>,
    pub recorded_at: i64,
}

/// Handles, fingerprints and where-used records.
pub(crate) trait UsageStore {
    fn insert_handle(&self, h: &NewHandle<'_>) -> Result<()>;

    fn handle_by_mac(&self, token_mac: &[u8]) -> Result<Option<HandleRow>>;

    /// Deletes a single-use handle as it is used; false when it is already gone (another
    /// use consumed it first).
    fn consume_handle(&self, id: i64) -> Result<bool>;

    fn fingerprints_of_project(
        &self,
        project_id: i64,
        member_id: i64,
    ) -> Result<Vec<FingerprintRow>>;

    /// Replaces what was recorded for `file` in a project with `found`; returns how many
    /// earlier records it removed.
    fn replace_usages(
        &self,
        project_id: i64,
        file: &str,
        found: &[(&str, i64, i64, Option<&str>)],
        now: i64,
    ) -> Result<usize>;

    fn usages_of(&self, project_id: i64, secret: &str) -> Result<Vec<UsageRow>>;

    /// Forgets every handle (they are MACs under a key that is gone).
    fn delete_all_handles(&self) -> Result<()>;
}

impl UsageStore for Connection {
    fn insert_handle(&self, h: &NewHandle<'_>) -> Result<()> {
        // Expired handles are useless; drop them whenever a new one is minted.
        self.execute("DELETE FROM handles WHERE expires_at <= ?1", [h.now])?;
        self.execute(
            "INSERT INTO handles (token_mac, member_id, project_id, environment_id, secret,
                                  created_at, expires_at, single_use)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                h.token_mac,
                h.member_id,
                h.project_id,
                h.environment_id,
                h.secret,
                h.now,
                h.expires_at,
                h.single_use
            ],
        )?;
        Ok(())
    }

    fn handle_by_mac(&self, token_mac: &[u8]) -> Result<Option<HandleRow>> {
        Ok(self
            .prepare_cached(
                "SELECT h.member_id, p.workspace_id, p.name, e.name, h.secret, h.expires_at,
                    h.id, h.single_use
             FROM handles h JOIN projects p ON p.id = h.project_id
                  JOIN environments e ON e.id = h.environment_id
             WHERE h.token_mac = ?1",
            )?
            .query_row([token_mac], |r| {
                Ok(HandleRow {
                    member_id: r.get(0)?,
                    workspace_id: r.get(1)?,
                    project: r.get(2)?,
                    environment: r.get(3)?,
                    secret: r.get(4)?,
                    expires_at: r.get(5)?,
                    id: r.get(6)?,
                    single_use: r.get(7)?,
                })
            })
            .optional()?)
    }

    fn consume_handle(&self, id: i64) -> Result<bool> {
        Ok(self.execute("DELETE FROM handles WHERE id = ?1", [id])? == 1)
    }

    fn fingerprints_of_project(
        &self,
        project_id: i64,
        member_id: i64,
    ) -> Result<Vec<FingerprintRow>> {
        let mut st = self.prepare_cached(
            "SELECT s.name, e.name, v.version, v.superseded_at IS NULL, v.fingerprint
             FROM secrets s JOIN versions v ON v.secret_id = s.id
                  JOIN environments e ON e.id = v.environment_id
             WHERE s.project_id = ?1 AND (s.scope = 'workspace' OR s.owner_id = ?2)
               AND s.deleted_at IS NULL AND v.superseded_at IS NULL",
        )?;
        let rows = st.query_map(params![project_id, member_id], |r| {
            Ok(FingerprintRow {
                secret: r.get(0)?,
                environment: r.get(1)?,
                version: r.get(2)?,
                current: r.get(3)?,
                fingerprint: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn replace_usages(
        &self,
        project_id: i64,
        file: &str,
        found: &[(&str, i64, i64, Option<&str>)],
        now: i64,
    ) -> Result<usize> {
        let removed = self.execute(
            "DELETE FROM usages WHERE project_id = ?1 AND file = ?2",
            params![project_id, file],
        )?;
        let mut st = self.prepare_cached(
            "INSERT OR REPLACE INTO usages (project_id, secret, file, line, col, environment, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (secret, line, col, env) in found {
            st.execute(params![project_id, secret, file, line, col, env, now])?;
        }
        Ok(removed)
    }

    fn usages_of(&self, project_id: i64, secret: &str) -> Result<Vec<UsageRow>> {
        let mut st = self.prepare_cached(
            "SELECT file, line, col, environment, recorded_at FROM usages
             WHERE project_id = ?1 AND secret = ?2 ORDER BY file, line, col",
        )?;
        let rows = st.query_map(params![project_id, secret], |r| {
            Ok(UsageRow {
                file: r.get(0)?,
                line: r.get(1)?,
                column: r.get(2)?,
                environment: r.get(3)?,
                recorded_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn delete_all_handles(&self) -> Result<()> {
        self.execute("DELETE FROM handles", [])?;
        Ok(())
    }
}
