//! SQL for secrets and their versions.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::KeyStore;
use crate::error::{Error, Result};

#[derive(Clone)]
pub(crate) struct SecretRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub scope: String,
    pub owner_id: i64,
    pub owner: String,
    pub rotate_every: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

const SECRET_COLS: &str = "s.id, s.name, s.description, s.kind, s.scope, s.owner_id, m.name,
    s.rotate_every, s.created_at, s.updated_at, s.deleted_at";

fn secret_row(r: &Row<'_>) -> rusqlite::Result<SecretRow> {
    Ok(SecretRow {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        kind: r.get(3)?,
        scope: r.get(4)?,
        owner_id: r.get(5)?,
        owner: r.get(6)?,
        rotate_every: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        deleted_at: r.get(10)?,
    })
}

pub(crate) struct VersionRow {
    pub environment_id: i64,
    pub version: i64,
    pub ciphertext: Option<Vec<u8>>,
    pub fingerprint: Vec<u8>,
    pub origin: String,
    pub created_at: i64,
    pub created_by: String,
    pub expires_at: Option<i64>,
    pub superseded_at: Option<i64>,
    pub destroyed_at: Option<i64>,
    pub epoch: Option<i64>,
}

const VERSION_COLS: &str = "environment_id, version, ciphertext, fingerprint, origin,
    created_at, created_by, expires_at, superseded_at, destroyed_at, epoch";

fn version_row(r: &Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        environment_id: r.get(0)?,
        version: r.get(1)?,
        ciphertext: r.get(2)?,
        fingerprint: r.get(3)?,
        origin: r.get(4)?,
        created_at: r.get(5)?,
        created_by: r.get(6)?,
        expires_at: r.get(7)?,
        superseded_at: r.get(8)?,
        destroyed_at: r.get(9)?,
        epoch: r.get(10)?,
    })
}

pub(crate) struct NewSecret<'a> {
    pub project_id: i64,
    pub name: &'a str,
    pub description: &'a str,
    pub kind: &'a str,
    pub scope: &'a str,
    pub owner_id: i64,
    pub rotate_every: Option<i64>,
    pub now: i64,
}

#[derive(Clone)]
pub(crate) struct CurrentRow {
    pub environment_id: i64,
    pub version: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub fingerprint: Vec<u8>,
}

/// The fast path of `use`: the current ciphertext of one secret by name.
pub(crate) struct ResolveRow {
    pub secret_id: i64,
    /// JSON array of allowed-host patterns.
    pub allowed_hosts: String,
    pub scope: String,
    pub owner_id: i64,
    pub version: i64,
    pub ciphertext: Option<Vec<u8>>,
    pub expires_at: Option<i64>,
    pub epoch: Option<i64>,
    /// The secret's type (`binary` values are opened as such).
    pub kind: String,
}

/// A [`ResolveRow`] from its columns, in the order both queries that read one select
/// them (`s.id, s.scope, s.owner_id, v.version, v.ciphertext, v.expires_at,
/// s.allowed_hosts, v.epoch, s.kind`), starting at column `at`.
fn resolve_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ResolveRow> {
    Ok(ResolveRow {
        secret_id: r.get(at)?,
        scope: r.get(at + 1)?,
        owner_id: r.get(at + 2)?,
        version: r.get(at + 3)?,
        ciphertext: r.get(at + 4)?,
        expires_at: r.get(at + 5)?,
        allowed_hosts: r.get(at + 6)?,
        epoch: r.get(at + 7)?,
        kind: r.get(at + 8)?,
    })
}

pub(crate) struct NewVersion<'a> {
    pub secret_id: i64,
    pub environment_id: i64,
    pub version: i64,
    pub ciphertext: &'a [u8],
    pub epoch: i64,
    pub fingerprint: &'a [u8],
    pub origin: &'a str,
    pub created_by: &'a str,
    pub expires_at: Option<i64>,
    pub now: i64,
}

/// A version whose ciphertext is due for destruction.
pub(crate) struct DoomedVersion {
    pub id: i64,
    pub secret: String,
    pub project: String,
    pub environment: String,
    pub version: i64,
}

// CROSS JOIN keeps SQLite driving from the versions index (the few old or excess
// versions) instead of walking every secret of the workspace.
const DOOMED_COLS: &str = "v.id, s.name, p.name, e.name, v.version
    FROM versions v
    CROSS JOIN secrets s ON s.id = v.secret_id
    JOIN projects p ON p.id = s.project_id
    JOIN environments e ON e.id = v.environment_id";

fn doomed_row(r: &Row<'_>) -> rusqlite::Result<DoomedVersion> {
    Ok(DoomedVersion {
        id: r.get(0)?,
        secret: r.get(1)?,
        project: r.get(2)?,
        environment: r.get(3)?,
        version: r.get(4)?,
    })
}

/// Secrets and their versions.
pub(crate) trait HistoryStore {
    fn secret_by_name(&self, project_id: i64, name: &str) -> Result<Option<SecretRow>>;

    fn insert_secret(&self, s: &NewSecret<'_>) -> Result<i64>;

    fn update_secret_meta(
        &self,
        id: i64,
        description: &str,
        kind: &str,
        rotate_every: Option<i64>,
        now: i64,
    ) -> Result<()>;

    fn set_secret_deleted(&self, id: i64, deleted_at: Option<i64>, now: i64) -> Result<()>;

    fn purge_secret(&self, id: i64) -> Result<()>;

    /// Secrets of a workspace deleted at or before `cutoff`, for the purge sweep.
    fn deleted_before(&self, workspace_id: i64, cutoff: i64) -> Result<Vec<(i64, String, String)>>;

    /// A project's secrets the member can see, streamed in one query: `f` gets each
    /// secret (by name) with its current versions, and nothing is gathered. A
    /// 100,000-secret listing holds one secret at a time.
    fn each_secret(
        &self,
        project_id: i64,
        member_id: i64,
        include_deleted: bool,
        f: &mut dyn FnMut(SecretRow, &[CurrentRow]) -> Result<()>,
    ) -> Result<()>;

    fn current_version(&self, secret_id: i64, environment_id: i64) -> Result<Option<VersionRow>>;

    fn version_by_number(
        &self,
        secret_id: i64,
        environment_id: i64,
        version: i64,
    ) -> Result<Option<VersionRow>>;

    fn versions_of(&self, secret_id: i64) -> Result<Vec<VersionRow>>;

    fn resolve_current(
        &self,
        project_id: i64,
        name: &str,
        environment_id: i64,
    ) -> Result<Option<ResolveRow>>;

    /// [`Self::resolve_current`] for every live secret of a project the member can see
    /// that has a current version in `environment_id`, by name, in one query.
    fn each_current_value(
        &self,
        project_id: i64,
        environment_id: i64,
        member_id: i64,
        f: &mut dyn FnMut(String, ResolveRow) -> Result<()>,
    ) -> Result<()>;

    /// The allowed-host patterns of a secret, as stored (a JSON array).
    fn allowed_hosts(&self, secret_id: i64) -> Result<String>;

    fn set_allowed_hosts(&self, secret_id: i64, hosts_json: &str, now: i64) -> Result<()>;

    /// Supersedes the current version (if any) and inserts the new one: a value no
    /// removed member has seen, so the pair is no longer exposed.
    fn push_version(&self, v: &NewVersion<'_>) -> Result<()>;

    /// Old versions of a workspace superseded at or before `cutoff` (the rollback window).
    fn doomed_by_window(&self, workspace_id: i64, cutoff: i64) -> Result<Vec<DoomedVersion>>;

    /// Versions of one secret/environment past the newest `max_versions` that still hold
    /// ciphertext.
    fn doomed_by_count(
        &self,
        secret_id: i64,
        environment_id: i64,
        max_versions: i64,
    ) -> Result<Vec<DoomedVersion>>;

    /// Every (secret, environment) pair of a workspace holding more than one live version.
    fn pairs_with_history(&self, workspace_id: i64) -> Result<Vec<(i64, i64)>>;

    fn destroy_version(&self, version_id: i64, now: i64) -> Result<()>;
}

impl HistoryStore for Connection {
    fn secret_by_name(&self, project_id: i64, name: &str) -> Result<Option<SecretRow>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {SECRET_COLS} FROM secrets s JOIN members m ON m.id = s.owner_id
                 WHERE s.project_id = ?1 AND s.name = ?2"
            ))?
            .query_row(params![project_id, name], secret_row)
            .optional()?)
    }

    fn insert_secret(&self, s: &NewSecret<'_>) -> Result<i64> {
        self.prepare_cached(
            "INSERT INTO secrets(id, project_id, name, description, kind, scope, owner_id, rotate_every,
                                 created_at, updated_at)
             VALUES (?9, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        )?
        .execute(params![
            s.project_id,
            s.name,
            s.description,
            s.kind,
            s.scope,
            s.owner_id,
            s.rotate_every,
            s.now,
            super::new_row_id(self, &format!("secret:{}:{}", s.project_id, s.name))?
        ])
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                // Taken by a secret this member cannot see (another member's own):
                // say no more than that the name cannot be used.
                Error::Conflict(format!(
                    "the name '{}' is not available in this project: choose another",
                    s.name
                ))
            }
            e => e.into(),
        })?;
        Ok(self.last_insert_rowid())
    }

    fn update_secret_meta(
        &self,
        id: i64,
        description: &str,
        kind: &str,
        rotate_every: Option<i64>,
        now: i64,
    ) -> Result<()> {
        self.prepare_cached(
            "UPDATE secrets SET description = ?2, kind = ?3, rotate_every = ?4, updated_at = ?5 WHERE id = ?1",
        )?
        .execute(params![id, description, kind, rotate_every, now])?;
        Ok(())
    }

    fn set_secret_deleted(&self, id: i64, deleted_at: Option<i64>, now: i64) -> Result<()> {
        self.execute(
            "UPDATE secrets SET deleted_at = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, deleted_at, now],
        )?;
        Ok(())
    }

    fn purge_secret(&self, id: i64) -> Result<()> {
        self.execute("DELETE FROM versions WHERE secret_id = ?1", [id])?;
        self.execute("DELETE FROM secrets WHERE id = ?1", [id])?;
        Ok(())
    }

    fn deleted_before(&self, workspace_id: i64, cutoff: i64) -> Result<Vec<(i64, String, String)>> {
        let mut st = self.prepare_cached(
            // CROSS JOIN keeps SQLite on the small partial index of deleted secrets.
            "SELECT s.id, s.name, p.name FROM secrets s INDEXED BY secrets_deleted
             CROSS JOIN projects p ON p.id = s.project_id
             WHERE p.workspace_id = ?1 AND s.deleted_at IS NOT NULL AND s.deleted_at <= ?2",
        )?;
        let rows = st.query_map(params![workspace_id, cutoff], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn each_secret(
        &self,
        project_id: i64,
        member_id: i64,
        include_deleted: bool,
        f: &mut dyn FnMut(SecretRow, &[CurrentRow]) -> Result<()>,
    ) -> Result<()> {
        // Secrets outside, their current versions (a covering index) joined inside: the
        // rows of one secret come together, in the order of the (project, name) index
        // and then of `versions_current`, so neither ORDER BY term needs a sort.
        let mut st = self.prepare_cached(&format!(
            "SELECT {SECRET_COLS}, v.environment_id, v.version, v.created_at, v.expires_at, v.fingerprint
             FROM secrets s JOIN members m ON m.id = s.owner_id
             LEFT JOIN versions v INDEXED BY versions_current
               ON v.secret_id = s.id AND v.superseded_at IS NULL
             WHERE s.project_id = ?1
               AND (s.scope = 'workspace' OR s.owner_id = ?2)
               AND (?3 OR s.deleted_at IS NULL)
             ORDER BY s.name, v.environment_id"
        ))?;
        let mut rows = st.query(params![project_id, member_id, include_deleted])?;
        let mut secret: Option<SecretRow> = None;
        let mut current: Vec<CurrentRow> = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            if secret.as_ref().is_none_or(|s| s.id != id) {
                if let Some(done) = secret.take() {
                    f(done, &current)?;
                }
                current.clear();
                secret = Some(secret_row(r)?);
            }
            if let Some(environment_id) = r.get::<_, Option<i64>>(11)? {
                current.push(CurrentRow {
                    environment_id,
                    version: r.get(12)?,
                    created_at: r.get(13)?,
                    expires_at: r.get(14)?,
                    fingerprint: r.get(15)?,
                });
            }
        }
        if let Some(done) = secret {
            f(done, &current)?;
        }
        Ok(())
    }

    fn current_version(&self, secret_id: i64, environment_id: i64) -> Result<Option<VersionRow>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {VERSION_COLS} FROM versions
                 WHERE secret_id = ?1 AND environment_id = ?2 AND superseded_at IS NULL"
            ))?
            .query_row(params![secret_id, environment_id], version_row)
            .optional()?)
    }

    fn version_by_number(
        &self,
        secret_id: i64,
        environment_id: i64,
        version: i64,
    ) -> Result<Option<VersionRow>> {
        Ok(self
            .prepare_cached(&format!(
                "SELECT {VERSION_COLS} FROM versions
                 WHERE secret_id = ?1 AND environment_id = ?2 AND version = ?3"
            ))?
            .query_row(params![secret_id, environment_id, version], version_row)
            .optional()?)
    }

    fn versions_of(&self, secret_id: i64) -> Result<Vec<VersionRow>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {VERSION_COLS} FROM versions WHERE secret_id = ?1 ORDER BY environment_id, version DESC"
        ))?;
        let rows = st.query_map([secret_id], version_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn resolve_current(
        &self,
        project_id: i64,
        name: &str,
        environment_id: i64,
    ) -> Result<Option<ResolveRow>> {
        Ok(self.prepare_cached(
            "SELECT s.id, s.scope, s.owner_id, v.version, v.ciphertext, v.expires_at, s.allowed_hosts,
                    v.epoch, s.kind
                 FROM secrets s JOIN versions v ON v.secret_id = s.id
                 WHERE s.project_id = ?1 AND s.name = ?2 AND s.deleted_at IS NULL
                   AND v.environment_id = ?3 AND v.superseded_at IS NULL",
        )?
        .query_row(params![project_id, name, environment_id], |r| {
            resolve_row(r, 0)
        })
        .optional()?)
    }

    fn each_current_value(
        &self,
        project_id: i64,
        environment_id: i64,
        member_id: i64,
        f: &mut dyn FnMut(String, ResolveRow) -> Result<()>,
    ) -> Result<()> {
        let mut st = self.prepare_cached(
            "SELECT s.name, s.id, s.scope, s.owner_id, v.version, v.ciphertext, v.expires_at,
                    s.allowed_hosts, v.epoch, s.kind
                 FROM secrets s JOIN versions v ON v.secret_id = s.id
                 WHERE s.project_id = ?1 AND s.deleted_at IS NULL
                   AND (s.scope = 'workspace' OR s.owner_id = ?3)
                   AND v.environment_id = ?2 AND v.superseded_at IS NULL
                 ORDER BY s.name",
        )?;
        let mut rows = st.query(params![project_id, environment_id, member_id])?;
        while let Some(r) = rows.next()? {
            f(r.get(0)?, resolve_row(r, 1)?)?;
        }
        Ok(())
    }

    fn allowed_hosts(&self, secret_id: i64) -> Result<String> {
        Ok(self
            .prepare_cached("SELECT allowed_hosts FROM secrets WHERE id = ?1")?
            .query_row([secret_id], |r| r.get(0))?)
    }

    fn set_allowed_hosts(&self, secret_id: i64, hosts_json: &str, now: i64) -> Result<()> {
        self.prepare_cached(
            "UPDATE secrets SET allowed_hosts = ?2, updated_at = ?3 WHERE id = ?1",
        )?
        .execute(params![secret_id, hosts_json, now])?;
        Ok(())
    }

    fn push_version(&self, v: &NewVersion<'_>) -> Result<()> {
        self.clear_exposure(v.secret_id, v.environment_id)?;
        self.prepare_cached(
            "UPDATE versions SET superseded_at = ?3
             WHERE secret_id = ?1 AND environment_id = ?2 AND superseded_at IS NULL",
        )?
        .execute(params![v.secret_id, v.environment_id, v.now])?;
        self.prepare_cached(
            "INSERT INTO versions(id, secret_id, environment_id, version, ciphertext, fingerprint,
                                  origin, created_at, created_by, expires_at, epoch)
             VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            v.secret_id,
            v.environment_id,
            v.version,
            v.ciphertext,
            v.fingerprint,
            v.origin,
            v.now,
            v.created_by,
            v.expires_at,
            v.epoch,
            super::new_row_id(
                self,
                &format!("version:{}:{}:{}", v.secret_id, v.environment_id, v.version)
            )?
        ])
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict("another writer added this version first; try again".into())
            }
            e => e.into(),
        })?;
        Ok(())
    }

    fn doomed_by_window(&self, workspace_id: i64, cutoff: i64) -> Result<Vec<DoomedVersion>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {DOOMED_COLS}
             WHERE v.superseded_at IS NOT NULL AND v.destroyed_at IS NULL AND v.superseded_at <= ?2
               AND v.id IN (SELECT id FROM versions INDEXED BY versions_live_old
                            WHERE superseded_at IS NOT NULL AND destroyed_at IS NULL AND superseded_at <= ?2)
               AND p.workspace_id = ?1"
        ))?;
        let rows = st.query_map(params![workspace_id, cutoff], doomed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn doomed_by_count(
        &self,
        secret_id: i64,
        environment_id: i64,
        max_versions: i64,
    ) -> Result<Vec<DoomedVersion>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {DOOMED_COLS}
             WHERE v.secret_id = ?1 AND v.environment_id = ?2 AND v.destroyed_at IS NULL
             ORDER BY v.version DESC LIMIT -1 OFFSET ?3"
        ))?;
        let rows = st.query_map(params![secret_id, environment_id, max_versions], doomed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn pairs_with_history(&self, workspace_id: i64) -> Result<Vec<(i64, i64)>> {
        let mut st = self.prepare_cached(
            "SELECT v.secret_id, v.environment_id FROM versions v
             JOIN secrets s ON s.id = v.secret_id JOIN projects p ON p.id = s.project_id
             WHERE p.workspace_id = ?1 AND v.destroyed_at IS NULL AND v.superseded_at IS NOT NULL
             GROUP BY v.secret_id, v.environment_id",
        )?;
        let rows = st.query_map([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn destroy_version(&self, version_id: i64, now: i64) -> Result<()> {
        self.prepare_cached(
            "UPDATE versions SET ciphertext = NULL, fingerprint = X'', destroyed_at = ?2 WHERE id = ?1",
        )?
        .execute(params![version_id, now])?;
        Ok(())
    }
}
