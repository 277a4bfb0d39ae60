//! SQL for who and where: members and their key slots, workspaces, grants, projects,
//! environments and settings.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::MetaStore;
use crate::access::Role;
use crate::error::{Error, Result};

pub(crate) struct MemberRow {
    pub id: i64,
    pub name: String,
    pub failed_attempts: i64,
}

pub(crate) struct SlotRow {
    pub id: i64,
    /// 1: wraps the vault key of the first design; 2: the member's own private keys.
    pub format: i64,
    pub kdf: Option<String>,
    pub salt: Option<Vec<u8>>,
    pub wrapped_key: Vec<u8>,
    pub label: String,
}

pub(crate) struct WorkspaceRow {
    pub id: i64,
    pub name: String,
}

pub(crate) struct ProjectRow {
    pub id: i64,
    pub name: String,
}

#[derive(Clone)]
pub(crate) struct EnvRow {
    pub id: i64,
    pub name: String,
    pub protected: bool,
}

fn member_row(r: &Row<'_>) -> rusqlite::Result<MemberRow> {
    Ok(MemberRow {
        id: r.get(0)?,
        name: r.get(1)?,
        failed_attempts: r.get(2)?,
    })
}

fn role_of(text: String) -> Result<Role> {
    text.parse()
        .map_err(|_| Error::Integrity(format!("unknown role '{text}' stored in the vault")))
}

// ---- members and key slots ----

pub(crate) struct NewSlot<'a> {
    pub member_id: i64,
    pub kind: &'a str,
    pub kdf: Option<&'a str>,
    pub salt: Option<&'a [u8]>,
    pub wrapped_key: &'a [u8],
    pub label: &'a str,
    pub format: i64,
    pub now: i64,
}

// ---- workspaces and grants ----

pub(crate) struct GrantRow {
    pub member: String,
    pub role: Role,
    pub project: Option<String>,
}

// ---- projects and environments ----

/// An environment from `SELECT id, name, protected`.
fn env_row(r: &Row<'_>) -> rusqlite::Result<EnvRow> {
    Ok(EnvRow {
        id: r.get(0)?,
        name: r.get(1)?,
        protected: r.get(2)?,
    })
}

// ---- settings ----

/// Members, their key slots, workspaces, grants, projects, environments and settings.
pub(crate) trait DirectoryStore {
    fn insert_member(&self, name: &str, now: i64) -> Result<i64>;

    fn member_by_name(&self, name: &str) -> Result<Option<MemberRow>>;

    /// Consecutive failed unlocks under any name, a member's or not. The failure delay
    /// follows this count, so it tells nothing about which names are members.
    fn failed_unlocks_any(&self) -> Result<i64>;

    fn record_failed_unlock_any(&self) -> Result<i64>;

    fn reset_failed_unlocks_any(&self) -> Result<()>;

    fn reset_failed_unlocks(&self, id: i64) -> Result<()>;

    fn insert_slot(&self, s: &NewSlot<'_>) -> Result<i64>;

    fn slots_of(&self, member_id: i64, kind: &str) -> Result<Vec<SlotRow>>;

    fn replace_slot_key(
        &self,
        slot_id: i64,
        kdf: Option<&str>,
        salt: Option<&[u8]>,
        wrapped_key: &[u8],
        format: i64,
    ) -> Result<()>;

    fn delete_slot(&self, slot_id: i64) -> Result<()>;

    /// A workspace and the member who creates it (its keys are per environment; the
    /// `wrapped_key` of the first design stays empty).
    fn insert_workspace(&self, name: &str, creator: i64, now: i64) -> Result<i64>;

    fn workspace_by_name(&self, name: &str) -> Result<Option<WorkspaceRow>>;

    /// Every workspace of the vault, by id.
    fn all_workspace_ids(&self) -> Result<Vec<i64>>;

    /// Workspaces where the member holds any grant, by name.
    fn workspaces_of_member(&self, member_id: i64) -> Result<Vec<(String, Option<Role>)>>;

    fn has_any_grant(&self, member_id: i64, workspace_id: i64) -> Result<bool>;

    /// The member's role for a project: a project grant wins over the workspace grant.
    fn role_for(
        &self,
        member_id: i64,
        workspace_id: i64,
        project_id: Option<i64>,
    ) -> Result<Option<Role>>;

    fn set_grant(
        &self,
        member_id: i64,
        workspace_id: i64,
        project_id: Option<i64>,
        role: Role,
    ) -> Result<()>;

    fn remove_grants(&self, member_id: i64, workspace_id: i64) -> Result<usize>;

    fn grant_count(&self, member_id: i64) -> Result<i64>;

    fn owner_count(&self, workspace_id: i64) -> Result<i64>;

    /// Whether the member owns any workspace: such members may create new ones.
    fn owns_any_workspace(&self, member_id: i64) -> Result<bool>;

    fn grants_in_workspace(&self, workspace_id: i64) -> Result<Vec<GrantRow>>;

    fn insert_project(&self, workspace_id: i64, name: &str, now: i64) -> Result<i64>;

    fn project_by_name(&self, workspace_id: i64, name: &str) -> Result<Option<ProjectRow>>;

    fn projects_of(&self, workspace_id: i64) -> Result<Vec<ProjectRow>>;

    fn insert_environment(
        &self,
        project_id: i64,
        name: &str,
        protected: bool,
        now: i64,
    ) -> Result<i64>;

    /// The protected environments of a workspace, in every project.
    fn protected_environments_in(&self, workspace_id: i64) -> Result<Vec<EnvRow>>;

    /// The ids of the environments in which a secret has (or had) a version.
    fn environments_holding(&self, secret_id: i64) -> Result<Vec<i64>>;

    fn environments_of(&self, project_id: i64) -> Result<Vec<EnvRow>>;

    fn set_environment_protected(&self, env_id: i64, protected: bool) -> Result<()>;

    fn get_setting(&self, workspace_id: i64, key: &str) -> Result<Option<String>>;

    fn put_setting(&self, workspace_id: i64, key: &str, value: &str) -> Result<()>;

    fn workspace_name(&self, ws_id: i64) -> Result<String>;

    /// (workspace name, project name) of a project.
    fn project_names(&self, project_id: i64) -> Result<(String, String)>;
}

impl DirectoryStore for Connection {
    fn insert_member(&self, name: &str, now: i64) -> Result<i64> {
        self.execute(
            "INSERT INTO members(id, name, created_at) VALUES (?3, ?1, ?2)",
            params![
                name,
                now,
                super::new_row_id(self, &format!("member:{name}"))?
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict(format!(
                    "member name '{name}' is not available: choose another"
                ))
            }
            e => e.into(),
        })?;
        Ok(self.last_insert_rowid())
    }

    fn member_by_name(&self, name: &str) -> Result<Option<MemberRow>> {
        Ok(self
            .prepare_cached("SELECT id, name, failed_attempts FROM members WHERE name = ?1")?
            .query_row([name], member_row)
            .optional()?)
    }

    fn failed_unlocks_any(&self) -> Result<i64> {
        Ok(self
            .get_meta("failed_unlocks")?
            .and_then(|v| String::from_utf8(v).ok()?.parse().ok())
            .unwrap_or(0))
    }

    fn record_failed_unlock_any(&self) -> Result<i64> {
        let n = self.failed_unlocks_any()?.saturating_add(1);
        self.set_meta("failed_unlocks", n.to_string().as_bytes())?;
        Ok(n)
    }

    fn reset_failed_unlocks_any(&self) -> Result<()> {
        if self.failed_unlocks_any()? != 0 {
            self.set_meta("failed_unlocks", b"0")?;
        }
        Ok(())
    }

    fn reset_failed_unlocks(&self, id: i64) -> Result<()> {
        self.execute(
            "UPDATE members SET failed_attempts = 0 WHERE id = ?1 AND failed_attempts != 0",
            [id],
        )?;
        Ok(())
    }

    fn insert_slot(&self, s: &NewSlot<'_>) -> Result<i64> {
        self.execute(
            "INSERT INTO key_slots(member_id, kind, kdf, salt, wrapped_key, label, created_at, format)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.member_id,
                s.kind,
                s.kdf,
                s.salt,
                s.wrapped_key,
                s.label,
                s.now,
                s.format
            ],
        )?;
        Ok(self.last_insert_rowid())
    }

    fn slots_of(&self, member_id: i64, kind: &str) -> Result<Vec<SlotRow>> {
        // The kind is spelled into the statement, not bound: the partial indexes on
        // `kind` make SQLite plan a bound one anew (and prepare it again) at each call,
        // a tenth of a session agent's work per request.
        let sql = match kind {
            "passphrase" | "device" | "recovery" => format!(
                "SELECT id, kdf, salt, wrapped_key, label, format FROM key_slots
                 WHERE member_id = ?1 AND kind = '{kind}' ORDER BY id"
            ),
            other => return Err(Error::invalid(format!("no key slot kind '{other}'"))),
        };
        let mut st = self.prepare_cached(&sql)?;
        let rows = st.query_map(params![member_id], |r| {
            Ok(SlotRow {
                id: r.get(0)?,
                kdf: r.get(1)?,
                salt: r.get(2)?,
                wrapped_key: r.get(3)?,
                label: r.get(4)?,
                format: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn replace_slot_key(
        &self,
        slot_id: i64,
        kdf: Option<&str>,
        salt: Option<&[u8]>,
        wrapped_key: &[u8],
        format: i64,
    ) -> Result<()> {
        self.execute(
            "UPDATE key_slots SET kdf = ?2, salt = ?3, wrapped_key = ?4, format = ?5 WHERE id = ?1",
            params![slot_id, kdf, salt, wrapped_key, format],
        )?;
        Ok(())
    }

    fn delete_slot(&self, slot_id: i64) -> Result<()> {
        self.execute("DELETE FROM key_slots WHERE id = ?1", [slot_id])?;
        Ok(())
    }

    fn insert_workspace(&self, name: &str, creator: i64, now: i64) -> Result<i64> {
        self.execute(
            "INSERT INTO workspaces(id, name, wrapped_key, created_at, creator) VALUES (?4, ?1, X'', ?2, ?3)",
            params![name, now, creator, super::new_row_id(self, &format!("workspace:{name}"))?],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict(format!("workspace name '{name}' is not available: choose another"))
            }
            e => e.into(),
        })?;
        Ok(self.last_insert_rowid())
    }

    fn workspace_by_name(&self, name: &str) -> Result<Option<WorkspaceRow>> {
        Ok(self
            .prepare_cached("SELECT id, name FROM workspaces WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(WorkspaceRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn all_workspace_ids(&self) -> Result<Vec<i64>> {
        let mut st = self.prepare_cached("SELECT id FROM workspaces ORDER BY id")?;
        let ids = st.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    fn workspaces_of_member(&self, member_id: i64) -> Result<Vec<(String, Option<Role>)>> {
        let mut st = self.prepare_cached(
            "SELECT w.name,
                    (SELECT role FROM grants g2 WHERE g2.member_id = ?1 AND g2.workspace_id = w.id
                       AND g2.project_id IS NULL)
             FROM workspaces w
             WHERE EXISTS (SELECT 1 FROM grants g WHERE g.member_id = ?1 AND g.workspace_id = w.id)
             ORDER BY w.name",
        )?;
        let rows = st.query_map([member_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        rows.map(|r| {
            let (name, role) = r?;
            Ok((name, role.map(role_of).transpose()?))
        })
        .collect()
    }

    fn has_any_grant(&self, member_id: i64, workspace_id: i64) -> Result<bool> {
        Ok(self
            .prepare_cached(
                "SELECT 1 FROM grants WHERE member_id = ?1 AND workspace_id = ?2 LIMIT 1",
            )?
            .exists(params![member_id, workspace_id])?)
    }

    fn role_for(
        &self,
        member_id: i64,
        workspace_id: i64,
        project_id: Option<i64>,
    ) -> Result<Option<Role>> {
        let role: Option<String> = self
            .prepare_cached(
                "SELECT role FROM grants
                 WHERE member_id = ?1 AND workspace_id = ?2
                   AND (project_id IS NULL OR project_id = ?3)
                 ORDER BY project_id IS NULL LIMIT 1",
            )?
            .query_row(params![member_id, workspace_id, project_id], |r| r.get(0))
            .optional()?;
        role.map(role_of).transpose()
    }

    fn set_grant(
        &self,
        member_id: i64,
        workspace_id: i64,
        project_id: Option<i64>,
        role: Role,
    ) -> Result<()> {
        self.execute(
            "DELETE FROM grants WHERE member_id = ?1 AND workspace_id = ?2 AND project_id IS ?3",
            params![member_id, workspace_id, project_id],
        )?;
        self.execute(
            "INSERT INTO grants(member_id, workspace_id, project_id, role) VALUES (?1, ?2, ?3, ?4)",
            params![member_id, workspace_id, project_id, role.as_str()],
        )?;
        Ok(())
    }

    fn remove_grants(&self, member_id: i64, workspace_id: i64) -> Result<usize> {
        Ok(self.execute(
            "DELETE FROM grants WHERE member_id = ?1 AND workspace_id = ?2",
            params![member_id, workspace_id],
        )?)
    }

    fn grant_count(&self, member_id: i64) -> Result<i64> {
        Ok(self.query_row(
            "SELECT count(*) FROM grants WHERE member_id = ?1",
            [member_id],
            |r| r.get(0),
        )?)
    }

    fn owner_count(&self, workspace_id: i64) -> Result<i64> {
        Ok(self.query_row(
            "SELECT count(*) FROM grants WHERE workspace_id = ?1 AND project_id IS NULL AND role = 'owner'",
            [workspace_id],
            |r| r.get(0),
        )?)
    }

    fn owns_any_workspace(&self, member_id: i64) -> Result<bool> {
        Ok(self
            .prepare_cached("SELECT 1 FROM grants WHERE member_id = ?1 AND role = 'owner' AND project_id IS NULL LIMIT 1")?
            .exists([member_id])?)
    }

    fn grants_in_workspace(&self, workspace_id: i64) -> Result<Vec<GrantRow>> {
        let mut st = self.prepare_cached(
            "SELECT m.name, g.role, p.name FROM grants g
             JOIN members m ON m.id = g.member_id
             LEFT JOIN projects p ON p.id = g.project_id
             WHERE g.workspace_id = ?1
             ORDER BY m.name, p.name IS NOT NULL, p.name",
        )?;
        let rows = st.query_map([workspace_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (member, role, project) = r?;
            Ok(GrantRow {
                member,
                role: role_of(role)?,
                project,
            })
        })
        .collect()
    }

    fn insert_project(&self, workspace_id: i64, name: &str, now: i64) -> Result<i64> {
        self.execute(
            "INSERT INTO projects(id, workspace_id, name, created_at) VALUES (?4, ?1, ?2, ?3)",
            params![
                workspace_id,
                name,
                now,
                super::new_row_id(self, &format!("project:{workspace_id}:{name}"))?
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict(format!("project '{name}' already exists"))
            }
            e => e.into(),
        })?;
        Ok(self.last_insert_rowid())
    }

    fn project_by_name(&self, workspace_id: i64, name: &str) -> Result<Option<ProjectRow>> {
        Ok(self
            .prepare_cached("SELECT id, name FROM projects WHERE workspace_id = ?1 AND name = ?2")?
            .query_row(params![workspace_id, name], |r| {
                Ok(ProjectRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn projects_of(&self, workspace_id: i64) -> Result<Vec<ProjectRow>> {
        let mut st = self.prepare_cached(
            "SELECT id, name FROM projects WHERE workspace_id = ?1 ORDER BY name",
        )?;
        let rows = st.query_map([workspace_id], |r| {
            Ok(ProjectRow {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_environment(
        &self,
        project_id: i64,
        name: &str,
        protected: bool,
        now: i64,
    ) -> Result<i64> {
        let position: i64 = self.query_row(
            "SELECT coalesce(max(position), -1) + 1 FROM environments WHERE project_id = ?1",
            [project_id],
            |r| r.get(0),
        )?;
        self.execute(
            "INSERT INTO environments(id, project_id, name, position, protected, created_at)
             VALUES (?6, ?1, ?2, ?3, ?4, ?5)",
            params![
                project_id,
                name,
                position,
                protected,
                now,
                super::new_row_id(self, &format!("environment:{project_id}:{name}"))?
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict(format!("environment '{name}' already exists"))
            }
            e => e.into(),
        })?;
        Ok(self.last_insert_rowid())
    }

    fn protected_environments_in(&self, workspace_id: i64) -> Result<Vec<EnvRow>> {
        let mut st = self.prepare_cached(
            "SELECT e.id, e.name, e.protected FROM environments e
             JOIN projects p ON p.id = e.project_id
             WHERE p.workspace_id = ?1 AND e.protected = 1 ORDER BY p.id, e.position",
        )?;
        let rows = st.query_map([workspace_id], env_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn environments_holding(&self, secret_id: i64) -> Result<Vec<i64>> {
        let mut st = self
            .prepare_cached("SELECT DISTINCT environment_id FROM versions WHERE secret_id = ?1")?;
        let rows = st.query_map([secret_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn environments_of(&self, project_id: i64) -> Result<Vec<EnvRow>> {
        let mut st = self.prepare_cached(
            "SELECT id, name, protected FROM environments WHERE project_id = ?1 ORDER BY position",
        )?;
        let rows = st.query_map([project_id], env_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_environment_protected(&self, env_id: i64, protected: bool) -> Result<()> {
        self.execute(
            "UPDATE environments SET protected = ?2 WHERE id = ?1",
            params![env_id, protected],
        )?;
        Ok(())
    }

    fn get_setting(&self, workspace_id: i64, key: &str) -> Result<Option<String>> {
        Ok(self
            .prepare_cached("SELECT value FROM settings WHERE workspace_id = ?1 AND key = ?2")?
            .query_row(params![workspace_id, key], |r| r.get(0))
            .optional()?)
    }

    fn put_setting(&self, workspace_id: i64, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO settings(workspace_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(workspace_id, key) DO UPDATE SET value = excluded.value",
            params![workspace_id, key, value],
        )?;
        Ok(())
    }

    fn workspace_name(&self, ws_id: i64) -> Result<String> {
        Ok(self
            .prepare_cached("SELECT name FROM workspaces WHERE id = ?1")?
            .query_row([ws_id], |r| r.get(0))?)
    }

    fn project_names(&self, project_id: i64) -> Result<(String, String)> {
        Ok(self.prepare_cached(
            "SELECT w.name, p.name FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?1",
        )?
        .query_row([project_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }
}
