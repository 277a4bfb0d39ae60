//! Moving a vault onto a team server (`coffer team create`), and what this vault knows
//! of its team server (`coffer team status`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{login_for, scram_verifier, SchemaState, ServerUrl};
use crate::audit::{self, NewEvent};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::store::{ident_of, EventImage, ReplicaRow, RowImage};

/// The audit action of moving a vault onto a team server.
pub const TEAM_CREATE: &str = "vault.team-create";

/// What this vault remembers of its team server (meta `team`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TeamLink {
    /// The server's address: no user, no password.
    pub server: String,
    /// This vault's id on it (the vault id; a server holds one vault).
    pub vault_id: String,
    /// The newest sequence number this replica holds, by scope.
    pub seqs: BTreeMap<i64, i64>,
    /// The newest sequence number the server gave a commit of this machine, by scope:
    /// a server behind it lost what it acknowledged.
    #[serde(default)]
    pub acked: BTreeMap<i64, i64>,
    /// Every audit event up to this one is on the server.
    pub pushed_through: i64,
    /// Past that, the newest event pushed into each scope.
    #[serde(default)]
    pub pushed: BTreeMap<i64, i64>,
    /// The newest audit event of this file when it was last compared with the
    /// server: with no event since, nothing changed here (every write is audited).
    #[serde(default)]
    pub synced_through: i64,
}

impl TeamLink {
    /// The newest sequence number this machine knows each scope reached, pulled or
    /// acknowledged: the server must not be behind it.
    pub(crate) fn seen(&self) -> BTreeMap<i64, i64> {
        let mut out = self.seqs.clone();
        for (scope, seq) in &self.acked {
            let e = out.entry(*scope).or_insert(0);
            *e = (*e).max(*seq);
        }
        out
    }
}

pub(crate) const META_KEY: &str = "team";

/// What `team create` did.
#[derive(Debug, Clone, Serialize)]
pub struct TeamCreated {
    pub server: String,
    pub workspaces: usize,
    pub records: usize,
    pub events: usize,
    /// Members of the vault who have yet to join (each from their own machine).
    pub to_join: Vec<String>,
}

/// One workspace's newest sequence number: what this replica holds, what the server
/// has (none when offline).
#[derive(Debug, Clone, Serialize)]
pub struct TeamSequence {
    pub workspace: String,
    pub here: i64,
    pub server: Option<i64>,
}

/// Where a team vault stands, as `team status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TeamStatus {
    pub server: String,
    /// Whether the server answered now.
    pub online: bool,
    /// Why it did not, when it did not.
    pub offline_reason: Option<String>,
    pub schema: Option<String>,
    /// The newest sequence number of each workspace ("vault" for the vault's own).
    pub sequences: Vec<TeamSequence>,
    /// Audit events of this machine the server does not hold yet.
    pub outbox: i64,
    /// Writes the server refused as conflicts, waiting for the user.
    pub conflicts: i64,
}

impl Session {
    /// Whether this vault is on a team server.
    pub fn is_on_team_server(&self) -> Result<bool> {
        Ok(self.store.conn().get_meta(META_KEY)?.is_some())
    }

    pub(crate) fn team_link(&self) -> Result<Option<TeamLink>> {
        match self.store.conn().get_meta(META_KEY)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| {
                Error::Integrity("the vault's team server record is unreadable".into())
            }),
        }
    }

    /// Moves this vault onto the empty PostgreSQL database at `admin` (a login that
    /// may create schemas and roles there): applies the schema, makes this member (the
    /// vault's root owner) the server's first login, and uploads every record — sealed
    /// values, sealed key envelopes, signed rows and the signed trail, never a
    /// plaintext or a private key in the clear. The vault file stays this machine's
    /// replica. Other members join from their own machines.
    pub fn team_create(&mut self, admin: &ServerUrl) -> Result<TeamCreated> {
        self.require_root_owner(TEAM_CREATE, "moving the vault to a team server")?;
        if let Some(link) = self.team_link()? {
            let server = ServerUrl::parse(&link.server)
                .map(|u| u.display())
                .unwrap_or(link.server);
            return Err(Error::Conflict(format!(
                "this vault is already on the team server {server}"
            )));
        }
        let mut server = admin.connect()?;
        match server.schema_state()? {
            SchemaState::Newer { found } => {
                return Err(Error::SchemaTooNew {
                    found: found as usize,
                    known: super::SCHEMA_VERSION as usize,
                })
            }
            _ => {
                server.migrate()?;
            }
        }

        let mut rows: Vec<RowImage> = Vec::new();
        self.store.replica().each_replicated_row(&mut |r| {
            rows.push(r);
            Ok(())
        })?;
        let mut events: Vec<EventImage> = Vec::new();
        self.store.replica().each_event_image(&mut |e| {
            events.push(e);
            Ok(())
        })?;

        let login = login_for(&self.secret.identity, &self.vault_id);
        let scopes: BTreeSet<i64> = rows
            .iter()
            .filter(|r| r.kind == "workspace")
            .map(|r| r.scope)
            .collect();
        let others: Vec<i64> = rows
            .iter()
            .filter(|r| r.kind == "member" && r.about != Some(self.member_id))
            .filter_map(|r| r.about)
            .collect();
        let mut access: (Vec<i64>, Vec<i64>, Vec<i64>, Vec<String>) = Default::default();
        for r in rows.iter().filter(|r| r.kind == "grant") {
            let member = r
                .key
                .split(':')
                .next()
                .and_then(|m| m.parse().ok())
                .ok_or_else(|| Error::Integrity("a grant row without its member".into()))?;
            let role = serde_json::from_slice::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v.get("role").and_then(|s| s.as_str()).map(str::to_string))
                .ok_or_else(|| Error::Integrity("a grant row without its role".into()))?;
            access.0.push(member);
            access.1.push(r.scope);
            access.2.push(r.project);
            access.3.push(role);
        }
        // Each event goes into its commit's chain on the server (its workspace's, or
        // the vault's own; see `commit_scopes`). Events
        // before the signed trail (format 1) carry no hash: the server links them by
        // the hash of their row.
        let mut heads_chain: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
        let mut ev_scope: Vec<i64> = Vec::new();
        let mut ev_n: Vec<i32> = Vec::new();
        let mut ev_prev: Vec<Option<Vec<u8>>> = Vec::new();
        let mut ev_hash: Vec<Vec<u8>> = Vec::new();
        let mut ev_author: Vec<Option<i64>> = Vec::new();
        let mut ev_body: Vec<&[u8]> = Vec::new();
        // Every event up to here is dealt with: uploaded, or (attempts before unlock,
        // which name whatever was typed) kept on this machine.
        let pushed_through = events.last().map(|e| e.id).unwrap_or(0);
        events.retain(|e| e.signer.is_some());
        let placed = super::trail::commit_scopes(&events, &|w| scopes.contains(&w));
        for (n, (e, scope)) in events.iter().zip(placed).enumerate() {
            let hash = e
                .hash
                .clone()
                .unwrap_or_else(|| Sha256::digest(&e.body).to_vec());
            ev_scope.push(scope);
            ev_n.push(n as i32 + 1);
            ev_prev.push(heads_chain.insert(scope, hash.clone()));
            ev_hash.push(hash);
            ev_author.push(e.signer);
            ev_body.push(&e.body);
        }
        let replica_rows: Vec<ReplicaRow> = rows
            .iter()
            .map(|r| {
                Ok(ReplicaRow {
                    kind: r.kind.to_string(),
                    key: r.key.clone(),
                    scope: r.scope,
                    project: r.project,
                    private_to: r.private_to,
                    about: r.about,
                    seq: 1,
                    hash: Sha256::digest(&r.body).to_vec(),
                    ident: ident_of(r.kind, &r.body)?,
                    base: ReplicaRow::base_of(r.kind, &r.body),
                })
            })
            .collect::<Result<_>>()?;

        let mut tx = server
            .client()
            .transaction()
            .map_err(super::server::sql_error)?;
        let sql = |e| super::server::sql_error(e);
        tx.execute(
            "SELECT coffer.bootstrap($1, $2::text::name, $3)",
            &[
                &self.member_id,
                &login.name,
                &scram_verifier(&login.password),
            ],
        )
        .map_err(sql)?;
        let scope_list: Vec<i64> = scopes.iter().copied().collect();
        tx.execute(
            "INSERT INTO coffer.heads (scope, seq) SELECT unnest($1::bigint[]), 1",
            &[&scope_list],
        )
        .map_err(sql)?;
        tx.execute("UPDATE coffer.heads SET seq = 1 WHERE scope = 0", &[])
            .map_err(sql)?;
        for (scope, chain) in &heads_chain {
            tx.execute(
                "UPDATE coffer.heads SET chain = $2 WHERE scope = $1",
                &[scope, chain],
            )
            .map_err(sql)?;
        }
        tx.execute(
            "INSERT INTO coffer.members (id) SELECT unnest($1::bigint[])",
            &[&others],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO coffer.access (member_id, scope, project_id, role)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[])",
            &[&access.0, &access.1, &access.2, &access.3],
        )
        .map_err(sql)?;
        let kinds: Vec<&str> = rows.iter().map(|r| r.kind).collect();
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        let row_scopes: Vec<i64> = rows.iter().map(|r| r.scope).collect();
        let projects: Vec<i64> = rows.iter().map(|r| r.project).collect();
        let privates: Vec<Option<i64>> = rows.iter().map(|r| r.private_to).collect();
        let abouts: Vec<Option<i64>> = rows.iter().map(|r| r.about).collect();
        let bodies: Vec<&[u8]> = rows.iter().map(|r| r.body.as_slice()).collect();
        tx.execute(
            "INSERT INTO coffer.records (scope, kind, key, project_id, private_to, about, seq, body)
             SELECT s, k, key, p, pr, a, 1, b FROM unnest($1::bigint[], $2::text[], $3::text[],
                 $4::bigint[], $5::bigint[], $6::bigint[], $7::bytea[]) AS u(s, k, key, p, pr, a, b)",
            &[&row_scopes, &kinds, &keys, &projects, &privates, &abouts, &bodies],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO coffer.events (scope, seq, n, prev, hash, author, body)
             SELECT s, 1, n, prev, hash, author, body FROM unnest($1::bigint[], $2::int[],
                 $3::bytea[], $4::bytea[], $5::bigint[], $6::bytea[])
                 AS u(s, n, prev, hash, author, body)",
            &[&ev_scope, &ev_n, &ev_prev, &ev_hash, &ev_author, &ev_body],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;

        let mut seqs: BTreeMap<i64, i64> = scopes.iter().map(|s| (*s, 1)).collect();
        seqs.insert(0, 1);
        let link = TeamLink {
            server: admin.stored(),
            vault_id: self.vault_id.clone(),
            acked: BTreeMap::new(),
            seqs,
            pushed_through,
            pushed: BTreeMap::new(),
            // The move's own event comes after: the first sync compares everything.
            synced_through: 0,
        };
        let link_bytes = serde_json::to_vec(&link).map_err(|e| Error::Storage(e.to_string()))?;
        let member = self.member.clone();
        let now = self.now();
        let author = self.author();
        let display = admin.display();
        self.write_replica(|tx| {
            for r in &replica_rows {
                tx.put_replica_row(r)?;
            }
            let tx = tx.storage();
            tx.set_meta(META_KEY, &link_bytes)?;
            let mut ev = NewEvent::new(&member, TEAM_CREATE);
            ev.detail = json!({ "server": display, "records": rows.len() });
            audit::append(tx, author, now, &ev).map(|_| ())
        })?;
        let names = self.store.conn().all_members()?;
        Ok(TeamCreated {
            server: admin.display(),
            workspaces: scopes.len(),
            records: rows.len(),
            events: events.len(),
            to_join: names
                .into_iter()
                .filter(|(id, _, _)| *id != self.member_id)
                .map(|(_, name, _)| name)
                .collect(),
        })
    }

    /// Where this vault's team server stands: reachable or not, its schema, the
    /// sequence numbers here and there, and what waits to be pushed.
    pub fn team_status(&mut self) -> Result<TeamStatus> {
        let link = self.team_link()?.ok_or_else(|| {
            Error::not_found(
                "team server for this vault (move it to one with `coffer team create URL`)",
            )
        })?;
        let known: Vec<i64> = link.seqs.keys().copied().collect();
        let outbox = self.pending_events(&link, &known)?.len() as i64;
        let conflicts = self.store.replica().conflicts()?.len() as i64;
        let names = self.store.replica().workspace_names()?;
        let name_of = |scope: i64| -> String {
            if scope == 0 {
                "vault".into()
            } else {
                names
                    .iter()
                    .find(|(id, _)| *id == scope)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| format!("workspace {scope}"))
            }
        };
        let login = login_for(&self.secret.identity, &self.vault_id);
        let url = ServerUrl::parse(&link.server)?.with_login(&login.name, &login.password);
        let (online, reason, schema, heads) = match url.connect() {
            Err(e) => (false, Some(e.to_string()), None, Vec::new()),
            Ok(mut server) => {
                let schema = server.schema_state()?;
                let heads = server.heads()?;
                let schema = match schema {
                    SchemaState::Current => "current".to_string(),
                    SchemaState::Older { found } => {
                        format!("{found}, older than this Coffer's (coffer team upgrade)")
                    }
                    SchemaState::Newer { found } => {
                        format!(
                            "{found}, newer than this Coffer's: read-only until you upgrade Coffer"
                        )
                    }
                    SchemaState::Empty => "none".to_string(),
                };
                (true, None, Some(schema), heads)
            }
        };
        let sequences = link
            .seqs
            .iter()
            .map(|(scope, here)| {
                let there = heads.iter().find(|h| h.0 == *scope).map(|h| h.1);
                TeamSequence {
                    workspace: name_of(*scope),
                    here: *here,
                    server: there,
                }
            })
            .collect();
        Ok(TeamStatus {
            server: url.display(),
            online,
            offline_reason: reason,
            schema,
            sequences,
            outbox,
            conflicts,
        })
    }
}
