//! Every row a team vault replicates, as the record the server keeps of it: its kind,
//! its key, where it sits (workspace, project), who alone may read it, and its columns
//! as JSON (blobs as `{"$b": base64}`). What only this machine needs (handles, local
//! counters) is not replicated, and neither are key slots: a member's private keys
//! sealed under their passphrase would let whoever holds the server guess it offline.
//! A member brings their keys to another machine with the vault file (or, later, an
//! invitation), never through the server.

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
        "SELECT t.rowid, 0, 0, NULL, t.member_id, t.rowid AS rowid, t.* FROM past_member_keys t",
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

/// Each kind's table and the columns that identify one of its rows.
const IDENTITY: &[(&str, &str, &[&str])] = &[
    ("vault", "meta", &["key"]),
    ("member", "members", &["id"]),
    ("past_member_key", "past_member_keys", &["rowid"]),
    ("key_slot", "key_slots", &["id"]),
    ("member_key", "member_keys", &["member_id", "purpose"]),
    ("workspace", "workspaces", &["id"]),
    ("setting", "settings", &["workspace_id", "key"]),
    (
        "grant",
        "grants",
        &["member_id", "workspace_id", "project_id"],
    ),
    ("project", "projects", &["id"]),
    ("project_key", "project_keys", &["project_id", "member_id"]),
    ("environment", "environments", &["id"]),
    ("env_key", "env_keys", &["environment_id", "epoch"]),
    (
        "env_key_seal",
        "env_key_seals",
        &["environment_id", "epoch", "member_id"],
    ),
    ("secret", "secrets", &["id"]),
    ("version", "versions", &["id"]),
    (
        "exposure",
        "exposures",
        &["secret_id", "environment_id", "member"],
    ),
    (
        "usage",
        "usages",
        &["project_id", "secret", "file", "line", "col"],
    ),
];

fn identity_of(kind: &str) -> Result<(&'static str, &'static [&'static str])> {
    IDENTITY
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, t, cols)| (*t, *cols))
        .ok_or_else(|| {
            crate::Error::Integrity(format!(
                "the team server sent an unknown kind of record '{kind}'"
            ))
        })
}

/// The key a row's record has, made from its body the way `TABLES` makes it from the
/// row: a record whose key and body disagree was edited on the server.
pub(crate) fn key_of(kind: &str, body: &[u8]) -> Result<String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| crate::Error::Integrity(format!("a {kind} record is not JSON")))?;
    let part = |c: &str| -> String {
        match v.get(c) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let parts: Vec<String> = match kind {
        "vault" | "setting" => vec![part("key")],
        "past_member_key" => vec![part("rowid")],
        "member_key" => vec![part("member_id"), part("purpose")],
        "grant" => {
            let project = part("project_id");
            vec![
                part("member_id"),
                if project.is_empty() {
                    "0".into()
                } else {
                    project
                },
            ]
        }
        "project_key" => vec![part("project_id"), part("member_id")],
        "env_key" => vec![part("environment_id"), part("epoch")],
        "env_key_seal" => vec![part("environment_id"), part("epoch"), part("member_id")],
        "exposure" => vec![part("secret_id"), part("environment_id"), part("member")],
        "usage" => vec![
            part("project_id"),
            part("secret"),
            part("file"),
            part("line"),
            part("col"),
        ],
        _ => vec![part("id")],
    };
    Ok(parts.join(":"))
}

/// The identity columns of a row's JSON body, as JSON (kept to delete it later).
pub(crate) fn ident_of(kind: &str, body: &[u8]) -> Result<String> {
    let (_, cols) = identity_of(kind)?;
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| crate::Error::Integrity(format!("a {kind} record is not JSON")))?;
    // Columns in name order, as the change triggers write them (see `normal_ident`).
    let mut cols = cols.to_vec();
    cols.sort_unstable();
    let mut m = Map::new();
    for c in cols {
        m.insert(c.to_string(), v.get(c).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(m).to_string())
}

/// An identity as a change trigger wrote it (SQLite's `json_object`, columns in name
/// order), in the form [`ident_of`] gives.
pub(crate) fn normal_ident(kind: &str, raw: &str) -> Result<String> {
    let v: Map<String, Value> = serde_json::from_str(raw)
        .map_err(|_| crate::Error::Integrity(format!("a {kind} change mark is unreadable")))?;
    let mut cols: Vec<&String> = v.keys().collect();
    cols.sort_unstable();
    let mut m = Map::new();
    for c in cols {
        m.insert(c.clone(), v[c].clone());
    }
    Ok(Value::Object(m).to_string())
}

/// A JSON value as the SQL value it was (blobs from base64).
fn sql_of(v: &Value, what: &str) -> Result<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    let bad = || crate::Error::Integrity(format!("a {what} record holds a value of no SQL type"));
    Ok(match v {
        Value::Null => V::Null,
        Value::Bool(b) => V::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => V::Integer(i),
            None => V::Real(n.as_f64().ok_or_else(bad)?),
        },
        Value::String(s) => V::Text(s.clone()),
        Value::Object(m) => match m.get("$b") {
            Some(Value::String(b)) if m.len() == 1 => V::Blob(
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .map_err(|_| bad())?,
            ),
            _ => return Err(bad()),
        },
        Value::Array(_) => return Err(bad()),
    })
}

/// The server's side of a conflict: its scope, sequence number and body (none:
/// deleted there).
pub(crate) type ServerSide = (i64, i64, Option<Vec<u8>>);

/// What this replica last exchanged with the server about one record.
pub(crate) struct ReplicaRow {
    pub kind: String,
    pub key: String,
    pub scope: i64,
    pub project: i64,
    pub private_to: Option<i64>,
    pub about: Option<i64>,
    pub seq: i64,
    pub hash: Vec<u8>,
    pub ident: String,
    /// The body exchanged, for the kinds whose fields merge one by one (see
    /// [`ReplicaRow::base_of`]).
    pub base: Option<Vec<u8>>,
}

impl ReplicaRow {
    /// What a replica row keeps of a record's body: the body itself for the kinds whose
    /// fields merge one by one, nothing for the rest (their hash says all a sync needs).
    pub(crate) fn base_of(kind: &str, body: &[u8]) -> Option<Vec<u8>> {
        super::merge::merges(kind).then(|| body.to_vec())
    }
}

const REPLICA_COLS: &str = "kind, key, scope, project, private_to, about, seq, hash, ident, base";

fn replica_row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReplicaRow> {
    Ok(ReplicaRow {
        kind: r.get(0)?,
        key: r.get(1)?,
        scope: r.get(2)?,
        project: r.get(3)?,
        private_to: r.get(4)?,
        about: r.get(5)?,
        seq: r.get(6)?,
        hash: r.get(7)?,
        ident: r.get(8)?,
        base: r.get(9)?,
    })
}

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
    /// Its workspace (none for the vault's own events).
    pub workspace: Option<i64>,
    /// It carries its author's signature: the last event of its commit.
    pub sig: bool,
    pub body: Vec<u8>,
}

/// What a team vault replicates of this vault.
pub(crate) trait ReplicaStore {
    /// Calls `f` with every replicated row, table by table.
    fn each_replicated_row(&self, f: &mut dyn FnMut(RowImage) -> Result<()>) -> Result<()>;

    /// Calls `f` with every audit event, oldest first.
    fn each_event_image(&self, f: &mut dyn FnMut(EventImage) -> Result<()>) -> Result<()> {
        self.each_event_image_after(0, f)
    }

    /// Calls `f` with every audit event after event `after`, oldest first.
    fn each_event_image_after(
        &self,
        after: i64,
        f: &mut dyn FnMut(EventImage) -> Result<()>,
    ) -> Result<()>;

    /// Every workspace: id and name.
    fn workspace_names(&self) -> Result<Vec<(i64, String)>>;

    /// The audit events after event `id`, oldest first, with their workspace.
    fn event_images_after(&self, id: i64) -> Result<Vec<EventImage>>;

    /// Writes (or, with no body, deletes) the row a record describes. Only columns
    /// the table has are written; the caller's transaction defers foreign keys, since
    /// records of one commit come in no particular order.
    fn apply_record(&self, kind: &str, body: Option<&[u8]>, ident: &str) -> Result<()>;

    fn replica_rows(&self) -> Result<Vec<ReplicaRow>>;

    fn put_replica_row(&self, r: &ReplicaRow) -> Result<()>;

    fn delete_replica_row(&self, scope: i64, kind: &str, key: &str) -> Result<()>;

    /// Keeps the server's side of a record this machine changed too.
    fn put_conflict(
        &self,
        kind: &str,
        key: &str,
        scope: i64,
        seq: i64,
        body: Option<&[u8]>,
        now: i64,
    ) -> Result<()>;

    /// The records in conflict: (scope, kind, key).
    fn conflicts(&self) -> Result<Vec<(i64, String, String)>>;

    /// The server's side of one conflict: scope, sequence number, body (none: deleted).
    fn conflict(&self, scope: i64, kind: &str, key: &str) -> Result<Option<ServerSide>>;

    fn delete_conflict(&self, scope: i64, kind: &str, key: &str) -> Result<()>;

    /// What this replica last exchanged about one record.
    fn replica_row(&self, scope: i64, kind: &str, key: &str) -> Result<Option<ReplicaRow>>;

    /// Defers foreign key checks to the end of this transaction.
    fn defer_foreign_keys(&self) -> Result<()>;

    /// While on, inside this transaction, writes are not marked as changes made here
    /// (a pull writes what the server already holds).
    fn set_quiet(&self, on: bool) -> Result<()>;

    /// The rows written here since they were last exchanged: kind and identity, as
    /// the triggers marked them.
    fn dirty_marks(&self) -> Result<Vec<(String, String)>>;

    fn clear_dirty(&self, kind: &str, raw_ident: &str) -> Result<()>;

    /// The record image of one row, by kind and identity (as [`ident_of`] gives it);
    /// none when the row is gone.
    fn image_of(&self, kind: &str, ident: &str) -> Result<Option<RowImage>>;

    /// What this replica last exchanged about the row with this identity (one record,
    /// or none; two if the row moved to another key).
    fn replica_rows_by_ident(&self, kind: &str, ident: &str) -> Result<Vec<ReplicaRow>>;
}

/// The names of a `TABLES` query's row columns (after key, scope, project,
/// private_to and about).
fn body_columns(stmt: &rusqlite::Statement<'_>) -> Vec<String> {
    stmt.column_names()
        .iter()
        .skip(5)
        .map(|n| n.to_string())
        .collect()
}

fn image_of_row(kind: &'static str, r: &rusqlite::Row<'_>, names: &[String]) -> Result<RowImage> {
    let key = match r.get_ref(0)? {
        ValueRef::Integer(i) => i.to_string(),
        v => String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned(),
    };
    Ok(RowImage {
        kind,
        key,
        scope: r.get(1)?,
        project: r.get(2)?,
        private_to: r.get(3)?,
        about: r.get(4)?,
        body: row_json(r, names, 5)?,
    })
}

fn row_json(r: &rusqlite::Row<'_>, names: &[String], skip: usize) -> Result<Vec<u8>> {
    let mut body = Map::new();
    for (i, name) in names.iter().enumerate() {
        body.insert(name.clone(), json_of(r.get_ref(i + skip)?));
    }
    serde_json::to_vec(&Value::Object(body)).map_err(|e| crate::Error::Storage(e.to_string()))
}

/// A write transaction that reaches both the vault's storage and its replica state.
pub(crate) trait ReplicaTx: ReplicaStore {
    fn storage(&self) -> &dyn super::Storage;
}

impl ReplicaTx for Connection {
    fn storage(&self) -> &dyn super::Storage {
        self
    }
}

impl ReplicaStore for Connection {
    fn each_replicated_row(&self, f: &mut dyn FnMut(RowImage) -> Result<()>) -> Result<()> {
        for (kind, sql) in TABLES {
            let mut stmt = self.prepare(sql)?;
            let names = body_columns(&stmt);
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                f(image_of_row(kind, r, &names)?)?;
            }
        }
        Ok(())
    }

    fn image_of(&self, kind: &str, ident: &str) -> Result<Option<RowImage>> {
        let (kind, sql) = TABLES
            .iter()
            .find(|(k, _)| *k == kind)
            .copied()
            .ok_or_else(|| crate::Error::Integrity(format!("no replicated kind '{kind}'")))?;
        let (_, id_cols) = identity_of(kind)?;
        let ident: Map<String, Value> = serde_json::from_str(ident).map_err(|_| {
            crate::Error::Integrity(format!("a {kind} record's identity is unreadable"))
        })?;
        // The identity columns are the row's own (alias m for meta, t otherwise).
        let alias = if kind == "vault" { "m" } else { "t" };
        let mut full = format!(
            "{sql} {} ",
            if sql.contains("WHERE") {
                "AND"
            } else {
                "WHERE"
            }
        );
        let mut values = Vec::new();
        for (i, c) in id_cols.iter().enumerate() {
            if i > 0 {
                full.push_str(" AND ");
            }
            full.push_str(&format!("{alias}.{c} IS ?{}", i + 1));
            values.push(sql_of(ident.get(*c).unwrap_or(&Value::Null), kind)?);
        }
        let mut stmt = self.prepare_cached(&full)?;
        let names = body_columns(&stmt);
        let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
        match rows.next()? {
            Some(r) => Ok(Some(image_of_row(kind, r, &names)?)),
            None => Ok(None),
        }
    }

    fn replica_rows_by_ident(&self, kind: &str, ident: &str) -> Result<Vec<ReplicaRow>> {
        let mut stmt = self.prepare_cached(&format!(
            "SELECT {REPLICA_COLS} FROM replica_rows WHERE kind = ?1 AND ident = ?2"
        ))?;
        let rows = stmt.query_map(rusqlite::params![kind, ident], replica_row_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_quiet(&self, on: bool) -> Result<()> {
        if on {
            self.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('team_quiet', X'01')",
                [],
            )?;
        } else {
            self.execute("DELETE FROM meta WHERE key = 'team_quiet'", [])?;
        }
        Ok(())
    }

    fn dirty_marks(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.prepare_cached("SELECT kind, ident FROM replica_dirty")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn clear_dirty(&self, kind: &str, raw_ident: &str) -> Result<()> {
        self.prepare_cached("DELETE FROM replica_dirty WHERE kind = ?1 AND ident = ?2")?
            .execute(rusqlite::params![kind, raw_ident])?;
        Ok(())
    }

    fn workspace_names(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self.prepare("SELECT id, name FROM workspaces ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn event_images_after(&self, id: i64) -> Result<Vec<EventImage>> {
        let mut out = Vec::new();
        self.each_event_image_after(id, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    fn apply_record(&self, kind: &str, body: Option<&[u8]>, ident: &str) -> Result<()> {
        let (table, id_cols) = identity_of(kind)?;
        let ident: Map<String, Value> = serde_json::from_str(ident).map_err(|_| {
            crate::Error::Integrity(format!("a {kind} record's identity is unreadable"))
        })?;
        let Some(body) = body else {
            let mut sql = format!("DELETE FROM {table} WHERE ");
            let mut values = Vec::new();
            for (i, c) in id_cols.iter().enumerate() {
                if i > 0 {
                    sql.push_str(" AND ");
                }
                sql.push_str(&format!("{c} IS ?{}", i + 1));
                values.push(sql_of(ident.get(*c).unwrap_or(&Value::Null), kind)?);
            }
            self.execute(&sql, rusqlite::params_from_iter(values))?;
            return Ok(());
        };
        let row: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|_| crate::Error::Integrity(format!("a {kind} record is not JSON")))?;
        // Column names come from the table itself, never from the record.
        let mut known: Vec<String> = {
            let mut stmt =
                self.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
            let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
            names.collect::<rusqlite::Result<_>>()?
        };
        if id_cols.contains(&"rowid") {
            known.push("rowid".into());
        }
        let mut cols = Vec::new();
        let mut values = Vec::new();
        for (name, v) in &row {
            if let Some(c) = known.iter().find(|k| *k == name) {
                cols.push(c.clone());
                values.push(sql_of(v, kind)?);
            }
        }
        if cols.is_empty() {
            return Err(crate::Error::Integrity(format!(
                "a {kind} record has no column of its table"
            )));
        }
        // An update in place where the row exists (a replace would cascade deletes to
        // the rows that hang on it), an insert where it does not.
        let mut where_sql = String::new();
        let mut where_values = Vec::new();
        for (i, c) in id_cols.iter().enumerate() {
            if i > 0 {
                where_sql.push_str(" AND ");
            }
            where_sql.push_str(&format!("{c} IS ?{}", i + 1));
            where_values.push(sql_of(ident.get(*c).unwrap_or(&Value::Null), kind)?);
        }
        let exists: bool = self.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {where_sql})"),
            rusqlite::params_from_iter(where_values.iter()),
            |r| r.get(0),
        )?;
        if exists {
            let n = where_values.len();
            let sets: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = ?{}", n + i + 1))
                .collect();
            let sql = format!("UPDATE {table} SET {} WHERE {where_sql}", sets.join(", "));
            let all = where_values.into_iter().chain(values);
            self.execute(&sql, rusqlite::params_from_iter(all))?;
        } else {
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                cols.join(", "),
                marks.join(", ")
            );
            self.execute(&sql, rusqlite::params_from_iter(values))?;
        }
        Ok(())
    }

    fn replica_rows(&self) -> Result<Vec<ReplicaRow>> {
        let mut stmt = self.prepare(&format!("SELECT {REPLICA_COLS} FROM replica_rows"))?;
        let rows = stmt.query_map([], replica_row_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_replica_row(&self, r: &ReplicaRow) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO replica_rows (kind, key, scope, project, private_to, about, seq, hash, ident, base)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (scope, kind, key) DO UPDATE SET project = excluded.project,
                 private_to = excluded.private_to, about = excluded.about, seq = excluded.seq,
                 hash = excluded.hash, ident = excluded.ident, base = excluded.base",
        )?
        .execute(rusqlite::params![
            r.kind, r.key, r.scope, r.project, r.private_to, r.about, r.seq, r.hash, r.ident, r.base
        ])?;
        Ok(())
    }

    fn delete_replica_row(&self, scope: i64, kind: &str, key: &str) -> Result<()> {
        self.prepare_cached(
            "DELETE FROM replica_rows WHERE scope = ?1 AND kind = ?2 AND key = ?3",
        )?
        .execute(rusqlite::params![scope, kind, key])?;
        Ok(())
    }

    fn put_conflict(
        &self,
        kind: &str,
        key: &str,
        scope: i64,
        seq: i64,
        body: Option<&[u8]>,
        now: i64,
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO replica_conflicts (kind, key, scope, server_seq, server_body, found_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (scope, kind, key) DO UPDATE SET server_seq = excluded.server_seq,
                 server_body = excluded.server_body",
        )?
        .execute(rusqlite::params![kind, key, scope, seq, body, now])?;
        Ok(())
    }

    fn conflicts(&self) -> Result<Vec<(i64, String, String)>> {
        let mut stmt = self
            .prepare("SELECT scope, kind, key FROM replica_conflicts ORDER BY scope, kind, key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn conflict(&self, scope: i64, kind: &str, key: &str) -> Result<Option<ServerSide>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .query_row(
                "SELECT scope, server_seq, server_body FROM replica_conflicts
                 WHERE scope = ?1 AND kind = ?2 AND key = ?3",
                rusqlite::params![scope, kind, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    fn delete_conflict(&self, scope: i64, kind: &str, key: &str) -> Result<()> {
        self.execute(
            "DELETE FROM replica_conflicts WHERE scope = ?1 AND kind = ?2 AND key = ?3",
            rusqlite::params![scope, kind, key],
        )?;
        Ok(())
    }

    fn replica_row(&self, scope: i64, kind: &str, key: &str) -> Result<Option<ReplicaRow>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .query_row(
                &format!(
                    "SELECT {REPLICA_COLS} FROM replica_rows WHERE scope = ?1 AND kind = ?2 AND key = ?3"
                ),
                rusqlite::params![scope, kind, key],
                replica_row_of,
            )
            .optional()?)
    }

    fn defer_foreign_keys(&self) -> Result<()> {
        self.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        Ok(())
    }

    fn each_event_image_after(
        &self,
        after: i64,
        f: &mut dyn FnMut(EventImage) -> Result<()>,
    ) -> Result<()> {
        use rusqlite::OptionalExtension;
        // Each image carries the hash of the event before it in this trail, so a
        // member who reads it elsewhere can recompute its hash, and so its signature,
        // from the image alone (the one before may never leave this machine).
        let start = crate::audit::vault_start(self)?;
        let mut prev: Option<Vec<u8>> = if after < start.first {
            None
        } else {
            self.query_row(
                "SELECT hash FROM audit_events WHERE id = ?1",
                [after],
                |r| r.get(0),
            )
            .optional()?
            .flatten()
        };
        let mut stmt =
            self.prepare_cached("SELECT * FROM audit_events WHERE id > ?1 ORDER BY id")?;
        let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let id_at = names.iter().position(|n| n == "id").unwrap_or(0);
        let hash_at = names.iter().position(|n| n == "hash");
        let signer_at = names.iter().position(|n| n == "signer");
        let ws_at = names.iter().position(|n| n == "workspace_id");
        let sig_at = names.iter().position(|n| n == "sig");
        let mut rows = stmt.query([after])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(id_at)?;
            let hash: Option<Vec<u8>> = match hash_at {
                Some(i) => r.get(i)?,
                None => None,
            };
            if id == start.first {
                prev = Some(start.prev.clone());
            }
            let mut body = Map::new();
            for (i, name) in names.iter().enumerate() {
                body.insert(name.clone(), json_of(r.get_ref(i)?));
            }
            if let Some(p) = &prev {
                body.insert("prev".into(), json_of(ValueRef::Blob(p)));
            }
            f(EventImage {
                id,
                hash: hash.clone(),
                signer: match signer_at {
                    Some(i) => r.get(i)?,
                    None => None,
                },
                workspace: match ws_at {
                    Some(i) => r.get(i)?,
                    None => None,
                },
                sig: match sig_at {
                    Some(i) => r.get_ref(i)? != ValueRef::Null,
                    None => false,
                },
                body: serde_json::to_vec(&Value::Object(body))
                    .map_err(|e| crate::Error::Storage(e.to_string()))?,
            })?;
            prev = hash;
        }
        Ok(())
    }
}
