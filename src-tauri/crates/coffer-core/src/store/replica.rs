//! Every row a team vault replicates, as the record the server keeps of it: its kind,
//! its key, where it sits (workspace, project), who alone may read it, and its columns
//! as JSON (blobs as `{"$b": base64}`). What only this machine needs (device key slots,
//! handles, local counters) is not replicated.

use base64::Engine;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::error::Result;

/// One replicated row.
pub(crate) struct RowImage {
    pub kind: &'static str,
    pub key: String,
    /// 0: the vault itself; otherwise the workspace.
    pub scope: i64,
    /// 0: in no one project.
    pub project: i64,
    pub private_to: Option<i64>,
    pub about: Option<i64>,
    pub body: Vec<u8>,
}

/// The replicated tables: each query returns key, scope, project, private_to, about,
/// then the row's own columns.
const TABLES: &[(&str, &str)] = &[
    (
        "vault",
        "SELECT m.key, 0, 0, NULL, NULL, m.* FROM meta m
         WHERE m.key NOT IN ('failed_unlocks') AND m.key NOT LIKE 'team%'",
    ),
    ("member", "SELECT t.id, 0, 0, NULL, t.id, t.* FROM members t"),
    (
        "past_member_key",
        "SELECT t.rowid, 0, 0, NULL, t.member_id, t.* FROM past_member_keys t",
    ),
    (
        "key_slot",
        "SELECT t.id, 0, 0, t.member_id, NULL, t.* FROM key_slots t WHERE t.kind <> 'device'",
    ),
    (
        "member_key",
        "SELECT t.member_id || ':' || t.purpose, 0, 0, t.member_id, NULL, t.* FROM member_keys t",
    ),
    (
        "workspace",
        "SELECT t.id, t.id, 0, NULL, NULL, t.* FROM workspaces t",
    ),
    (
        "setting",
        "SELECT t.key, t.workspace_id, 0, NULL, NULL, t.* FROM settings t",
    ),
    (
        "grant",
        "SELECT t.member_id || ':' || coalesce(t.project_id, 0), t.workspace_id,
                coalesce(t.project_id, 0), NULL, NULL, t.* FROM grants t",
    ),
    (
        "project",
        "SELECT t.id, t.workspace_id, t.id, NULL, NULL, t.* FROM projects t",
    ),
    (
        "project_key",
        "SELECT t.project_id || ':' || t.member_id, p.workspace_id, t.project_id, t.member_id,
                NULL, t.* FROM project_keys t JOIN projects p ON p.id = t.project_id",
    ),
    (
        "environment",
        "SELECT t.id, p.workspace_id, t.project_id, NULL, NULL, t.*
         FROM environments t JOIN projects p ON p.id = t.project_id",
    ),
    (
        "env_key",
        "SELECT t.environment_id || ':' || t.epoch, p.workspace_id, e.project_id, NULL, NULL, t.*
         FROM env_keys t JOIN environments e ON e.id = t.environment_id
         JOIN projects p ON p.id = e.project_id",
    ),
    (
        "env_key_seal",
        "SELECT t.environment_id || ':' || t.epoch || ':' || t.member_id, p.workspace_id,
                e.project_id, t.member_id, NULL, t.*
         FROM env_key_seals t JOIN environments e ON e.id = t.environment_id
         JOIN projects p ON p.id = e.project_id",
    ),
    // A user-scoped secret, its name included, is its owner's alone.
    (
        "secret",
        "SELECT t.id, p.workspace_id, t.project_id,
                CASE WHEN t.scope = 'user' THEN t.owner_id END, NULL, t.*
         FROM secrets t JOIN projects p ON p.id = t.project_id",
    ),
    (
        "version",
        "SELECT t.id, p.workspace_id, s.project_id,
                CASE WHEN s.scope = 'user' THEN s.owner_id END, NULL, t.*
         FROM versions t JOIN secrets s ON s.id = t.secret_id JOIN projects p ON p.id = s.project_id",
    ),
    (
        "exposure",
        "SELECT t.secret_id || ':' || t.environment_id || ':' || t.member, p.workspace_id,
                s.project_id, CASE WHEN s.scope = 'user' THEN s.owner_id END, NULL, t.*
         FROM exposures t JOIN secrets s ON s.id = t.secret_id JOIN projects p ON p.id = s.project_id",
    ),
    (
        "usage",
        "SELECT t.project_id || ':' || t.secret || ':' || t.file || ':' || t.line || ':' || t.col,
                p.workspace_id, t.project_id, NULL, NULL, t.*
         FROM usages t JOIN projects p ON p.id = t.project_id",
    ),
];

/// A column as JSON; blobs (ciphertext, keys, signatures) in base64.
fn json_of(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => {
            let mut m = Map::new();
            m.insert(
                "$b".into(),
                Value::from(base64::engine::general_purpose::STANDARD.encode(b)),
            );
            Value::Object(m)
        }
    }
}

/// One audit event as replicated: its id in this trail, its hash (none before format
/// 2), and the row as JSON.
pub(crate) struct EventImage {
    pub id: i64,
    pub hash: Option<Vec<u8>>,
    /// The member who wrote it (none for an attempt before unlock).
    pub signer: Option<i64>,
    pub body: Vec<u8>,
}

/// What a team vault replicates of this vault.
pub(crate) trait ReplicaStore {
    /// Calls `f` with every replicated row, table by table.
    fn each_replicated_row(&self, f: &mut dyn FnMut(RowImage) -> Result<()>) -> Result<()>;

    /// Calls `f` with every audit event, oldest first.
    fn each_event_image(&self, f: &mut dyn FnMut(EventImage) -> Result<()>) -> Result<()>;

    /// Every workspace: id and name.
    fn workspace_names(&self) -> Result<Vec<(i64, String)>>;

    /// How many audit events come after event `id`.
    fn audit_events_after(&self, id: i64) -> Result<i64>;
}

fn row_json(r: &rusqlite::Row<'_>, names: &[String], skip: usize) -> Result<Vec<u8>> {
    let mut body = Map::new();
    for (i, name) in names.iter().enumerate() {
        body.insert(name.clone(), json_of(r.get_ref(i + skip)?));
    }
    serde_json::to_vec(&Value::Object(body)).map_err(|e| crate::Error::Storage(e.to_string()))
}

impl ReplicaStore for Connection {
    fn each_replicated_row(&self, f: &mut dyn FnMut(RowImage) -> Result<()>) -> Result<()> {
        for (kind, sql) in TABLES {
            let mut stmt = self.prepare(sql)?;
            let names: Vec<String> = stmt
                .column_names()
                .iter()
                .skip(5)
                .map(|n| n.to_string())
                .collect();
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let key = match r.get_ref(0)? {
                    ValueRef::Integer(i) => i.to_string(),
                    v => String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned(),
                };
                f(RowImage {
                    kind,
                    key,
                    scope: r.get(1)?,
                    project: r.get(2)?,
                    private_to: r.get(3)?,
                    about: r.get(4)?,
                    body: row_json(r, &names, 5)?,
                })?;
            }
        }
        Ok(())
    }

    fn workspace_names(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self.prepare("SELECT id, name FROM workspaces ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn audit_events_after(&self, id: i64) -> Result<i64> {
        Ok(self.query_row(
            "SELECT count(*) FROM audit_events WHERE id > ?1",
            [id],
            |r| r.get(0),
        )?)
    }

    fn each_event_image(&self, f: &mut dyn FnMut(EventImage) -> Result<()>) -> Result<()> {
        let mut stmt = self.prepare("SELECT * FROM audit_events ORDER BY id")?;
        let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let id_at = names.iter().position(|n| n == "id").unwrap_or(0);
        let hash_at = names.iter().position(|n| n == "hash");
        let signer_at = names.iter().position(|n| n == "signer");
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(EventImage {
                id: r.get(id_at)?,
                hash: match hash_at {
                    Some(i) => r.get(i)?,
                    None => None,
                },
                signer: match signer_at {
                    Some(i) => r.get(i)?,
                    None => None,
                },
                body: row_json(r, &names, 0)?,
            })?;
        }
        Ok(())
    }
}
