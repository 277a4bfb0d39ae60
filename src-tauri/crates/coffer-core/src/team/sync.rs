//! `coffer team sync`: the vault file is this machine's replica of the team vault.
//! Pull first (the records other machines committed since this replica's sequence
//! numbers), then push what changed here, each workspace's records and audit events in
//! one commit. A record changed both here and on the server is a conflict: both sides
//! are kept (the server's in `replica_conflicts`, this machine's in place) and neither
//! is pushed or applied until the user chooses.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::create::TeamLink;
use super::{login_for, Change, Event, SchemaState, ServerUrl};
use crate::error::{Error, ErrorCode, Result};
use crate::session::Session;
use crate::store::{ident_of, merge_fields, normal_ident, EventImage, ReplicaRow, RowImage};

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub server: String,
    /// Records taken from the server.
    pub pulled: usize,
    /// Records sent to it.
    pub pushed: usize,
    /// Audit events sent to it.
    pub events: usize,
    /// Records changed here and on the server, in different fields: each field took
    /// the side that changed it, and the merge goes out with this sync's push.
    pub merged: usize,
    /// Records changed here and on the server: `kind key`, kept on both sides.
    pub conflicts: Vec<String>,
    /// Workspaces whose changes the server refused, and why (a permission lost
    /// meanwhile, a race with another writer: sync again).
    pub refused: Vec<String>,
    /// The server's schema is newer than this Coffer's: pulled only.
    pub read_only: bool,
    /// Members removed here whom the server has now cut off.
    pub removed: usize,
    /// How many scopes (the vault and workspaces) this member sees on the server.
    pub scopes: usize,
    /// Which: a listener that listens to others listens again.
    #[serde(skip)]
    pub scope_ids: Vec<i64>,
}

fn hash(body: &[u8]) -> Vec<u8> {
    Sha256::digest(body).to_vec()
}

/// A record by scope, kind and key (keys repeat across workspaces: grant `m:0`).
type RecordKey = (i64, String, String);

/// One workspace's share of a push: the changes to send, the replica rows they become
/// once the server takes them, and the records deleted here.
#[derive(Default)]
struct Outgoing {
    changes: Vec<Change>,
    rows: Vec<ReplicaRow>,
    gone: Vec<RecordKey>,
}

impl Session {
    pub(crate) fn save_team_link(&mut self, link: &TeamLink) -> Result<()> {
        let bytes = serde_json::to_vec(link).map_err(|e| Error::Storage(e.to_string()))?;
        self.write(|tx| tx.set_meta(super::create::META_KEY, &bytes))
    }

    /// Saves `link` unless it is still what was read (`before`): a sync with nothing
    /// to exchange writes nothing.
    fn save_team_link_if_changed(&mut self, link: &TeamLink, before: &[u8]) -> Result<()> {
        let now = serde_json::to_vec(link).map_err(|e| Error::Storage(e.to_string()))?;
        if now == before {
            return Ok(());
        }
        self.save_team_link(link)
    }

    /// Pulls the team server's changes into this replica, then pushes this machine's.
    pub fn team_sync(&mut self) -> Result<SyncReport> {
        let mut link = self.team_link()?.ok_or_else(|| {
            Error::not_found(
                "team server for this vault (move it to one with `coffer team create URL`)",
            )
        })?;
        let before = serde_json::to_vec(&link).map_err(|e| Error::Storage(e.to_string()))?;
        let login = login_for(&self.secret.identity, &self.vault_id);
        let url = ServerUrl::parse(&link.server)?.with_login(&login.name, &login.password);
        let mut server = url.connect()?;
        let mut report = SyncReport {
            server: url.display(),
            ..SyncReport::default()
        };
        let state = server.schema_state()?;
        report.read_only = matches!(state, SchemaState::Newer { .. });
        if matches!(state, SchemaState::Empty) {
            return Err(Error::not_found(format!(
                "team vault at {} (the database holds none)",
                url.display()
            )));
        }

        // A server behind what this replica pulled was restored from an older copy
        // or had rows removed: nothing is exchanged with it.
        let mut heads = server.heads()?;
        let back =
            super::verify::rolled_back(&link.seen(), &heads.iter().copied().collect(), &|s| {
                self.scope_label(s)
            });
        if !back.is_empty() {
            return Err(Error::Integrity(format!(
                "the team server at {} went back: {}; nothing was exchanged (see `coffer team verify`)",
                url.display(),
                back.join("; ")
            )));
        }

        // Members removed here: the server cuts them off (login, sessions, envelopes)
        // before anything else is exchanged.
        if !report.read_only {
            self.carry_out_removals(&mut server, &mut report)?;
            if report.removed > 0 {
                heads = server.heads()?;
            }
        }

        // ---- pull ----
        report.scopes = heads.len();
        report.scope_ids = heads.iter().map(|h| h.0).collect();
        let me = self.member_id;
        let mut pulled = Vec::new();
        for (scope, head) in &heads {
            let since = link.seqs.get(scope).copied().unwrap_or(0);
            if *head > since {
                let mut records = server.pull(*scope, since)?;
                // A grant to this member may open records written before it (another
                // project of a workspace seen already): read the workspace again
                // from its start; what this replica holds already is skipped.
                let mine = format!("{me}:");
                if since > 0
                    && records
                        .iter()
                        .any(|r| r.kind == "grant" && r.body.is_some() && r.key.starts_with(&mine))
                {
                    records = server.pull(*scope, 0)?;
                }
                pulled.push((*scope, *head, records));
            }
        }
        // A grant to anyone may show this member vault-wide records about a fellow
        // member (their row, their public keys) written before it: read the vault's
        // own scope again from its start too.
        let any_grant = pulled
            .iter()
            .any(|(_, _, rs)| rs.iter().any(|r| r.kind == "grant" && r.body.is_some()));
        if any_grant && link.seqs.get(&0).copied().unwrap_or(0) > 0 {
            if let Some(head0) = heads.iter().find(|h| h.0 == 0).map(|h| h.1) {
                let all = server.pull(0, 0)?;
                pulled.retain(|(s, _, _)| *s != 0);
                pulled.insert(0, (0, head0, all));
            }
        }
        // A transaction is opened only when something came in.
        let incoming = pulled.iter().any(|(_, _, r)| !r.is_empty());
        let vault_id = self.vault_id.clone();
        let (taken, merged) = if !incoming {
            (0, 0)
        } else {
            // A server this Coffer may only read takes no merge: it could not be sent.
            self.pull_into_replica(&pulled, &vault_id, me, !report.read_only)?
        };
        report.merged = merged;
        // What came in and changed this file (not this machine's own pushes, echoed).
        report.pulled = taken;
        // Every conflict still open, found now or before: work left for the user.
        report.conflicts = self
            .store
            .replica()
            .conflicts()?
            .into_iter()
            .map(|(_, kind, key)| format!("{kind} {key}"))
            .collect();
        for (scope, head, _) in &pulled {
            link.seqs.insert(*scope, *head);
        }
        self.save_team_link_if_changed(&link, &before)?;
        if report.read_only {
            return Ok(report);
        }

        // ---- push ----
        // Every write here appends an audit event: with none since the last sync,
        // there is nothing to send (and no row to compare).
        let newest = self.store.conn().last_audit()?.map(|e| e.id).unwrap_or(0);
        if newest == link.synced_through {
            return Ok(report);
        }
        let in_conflict: Vec<RecordKey> = self.store.replica().conflicts()?;
        // The rows written here since the last exchange (every row, the first time).
        let marks = self.store.replica().dirty_marks()?;
        let (here, replica) = if link.synced_through == 0 {
            (self.current_images()?, self.replica_map()?)
        } else {
            self.marked_images(&marks)?
        };
        let mut by_scope: BTreeMap<i64, Outgoing> = BTreeMap::new();
        for (key, (img, h)) in &here {
            if in_conflict.contains(key) {
                continue;
            }
            let known = replica.get(key);
            if known.is_some_and(|k| &k.hash == h) {
                continue;
            }
            let entry = by_scope.entry(img.scope).or_default();
            entry.changes.push(Change {
                kind: img.kind.to_string(),
                key: img.key.clone(),
                project: img.project,
                private_to: img.private_to,
                about: img.about,
                expect: known.map(|k| k.seq),
                body: Some(img.body.clone()),
            });
            entry.rows.push(ReplicaRow {
                kind: img.kind.to_string(),
                key: img.key.clone(),
                scope: img.scope,
                project: img.project,
                private_to: img.private_to,
                about: img.about,
                seq: 0,
                hash: h.clone(),
                ident: ident_of(img.kind, &img.body)?,
                base: ReplicaRow::base_of(img.kind, &img.body),
            });
        }
        for (key, known) in &replica {
            if here.contains_key(key) || in_conflict.contains(key) {
                continue;
            }
            let entry = by_scope.entry(known.scope).or_default();
            // A deletion keeps the record's place: its project decides who may delete
            // it, and a private record's tombstone stays private.
            entry.changes.push(Change {
                kind: known.kind.clone(),
                key: known.key.clone(),
                project: known.project,
                private_to: known.private_to,
                about: known.about,
                expect: Some(known.seq),
                body: None,
            });
            entry.gone.push(key.clone());
        }
        // Each workspace's events after what it has pushed, with its records.
        let visible: Vec<i64> = heads.iter().map(|h| h.0).collect();
        let mut events: BTreeMap<i64, Vec<EventImage>> = BTreeMap::new();
        for (scope, e) in self.pending_events(&link, &visible)? {
            events.entry(scope).or_default().push(e);
        }
        for scope in events.keys() {
            by_scope.entry(*scope).or_default();
        }
        for (scope, out) in by_scope {
            let Outgoing {
                changes,
                mut rows,
                gone,
            } = out;
            let evs = events.remove(&scope).unwrap_or_default();
            if changes.is_empty() && evs.is_empty() {
                continue;
            }
            let wire: Vec<Event> = evs
                .iter()
                .map(|e| Event {
                    prev: None,
                    hash: e.hash.clone().unwrap_or_else(|| hash(&e.body)),
                    body: e.body.clone(),
                })
                .collect();
            // A workspace made here since: the server learns of it first (its maker
            // owns it there too).
            if scope != 0 && !visible.contains(&scope) {
                if let Err(e) = server.create_workspace(scope) {
                    report
                        .refused
                        .push(format!("{}: {e}", self.scope_name(scope)?));
                    continue;
                }
            }
            match server.commit(scope, &changes, &wire) {
                Ok(seq) => {
                    link.acked.insert(scope, seq);
                    for r in &mut rows {
                        r.seq = seq;
                    }
                    self.write_replica(|tx| {
                        for r in &rows {
                            tx.put_replica_row(r)?;
                        }
                        for (_, kind, key) in &gone {
                            tx.delete_replica_row(scope, kind, key)?;
                        }
                        Ok(())
                    })?;
                    report.pushed += changes.len();
                    report.events += evs.len();
                    if let Some(last) = evs.last() {
                        link.pushed.insert(scope, last.id);
                    }
                }
                Err(e)
                    if matches!(
                        e.code(),
                        ErrorCode::Conflict | ErrorCode::Denied | ErrorCode::NotFound
                    ) =>
                {
                    report
                        .refused
                        .push(format!("{}: {e}", self.scope_name(scope)?));
                }
                Err(e) => return Err(e),
            }
        }
        if self.pending_events(&link, &visible)?.is_empty() {
            link.pushed_through = newest;
            link.pushed.clear();
        }
        if report.refused.is_empty() {
            link.synced_through = newest;
        }
        self.clear_settled_marks(&marks)?;
        self.save_team_link_if_changed(&link, &before)?;
        Ok(report)
    }

    /// The rows behind `marks` as they are here, and what was last exchanged about
    /// each: a row with no image here was deleted.
    #[allow(clippy::type_complexity)]
    fn marked_images(
        &self,
        marks: &[(String, String)],
    ) -> Result<(
        HashMap<RecordKey, (RowImage, Vec<u8>)>,
        HashMap<RecordKey, ReplicaRow>,
    )> {
        let store = self.store.replica();
        let mut here = HashMap::new();
        let mut replica = HashMap::new();
        for (kind, raw) in marks {
            let ident = normal_ident(kind, raw)?;
            if let Some(img) = store.image_of(kind, &ident)? {
                let h = hash(&img.body);
                here.insert((img.scope, kind.clone(), img.key.clone()), (img, h));
            }
            for r in store.replica_rows_by_ident(kind, &ident)? {
                replica.insert((r.scope, r.kind.clone(), r.key.clone()), r);
            }
        }
        Ok((here, replica))
    }

    /// Drops the marks of rows that are now what the server holds (pushed, or never
    /// really changed); a row still different (a conflict, a refusal, a write made
    /// during this sync) keeps its mark for the next one.
    fn clear_settled_marks(&self, marks: &[(String, String)]) -> Result<()> {
        if marks.is_empty() {
            return Ok(());
        }
        self.store.write_replica(|tx| {
            for (kind, raw) in marks {
                let ident = normal_ident(kind, raw)?;
                let known = tx.replica_rows_by_ident(kind, &ident)?;
                let settled = match tx.image_of(kind, &ident)? {
                    Some(img) => {
                        known.len() == 1
                            && known[0].scope == img.scope
                            && known[0].key == img.key
                            && known[0].hash == hash(&img.body)
                    }
                    None => known.is_empty(),
                };
                if settled {
                    tx.clear_dirty(kind, raw)?;
                }
            }
            Ok(())
        })
    }

    /// Asks the server to remove each member removed here since the last sync; a
    /// member it no longer knows is done, a refusal stays queued and is reported.
    fn carry_out_removals(
        &mut self,
        server: &mut super::Server,
        report: &mut SyncReport,
    ) -> Result<()> {
        let key = crate::members::TEAM_REMOVALS;
        let Some(bytes) = self.store.conn().get_meta(key)? else {
            return Ok(());
        };
        let queued: Vec<i64> = serde_json::from_slice(&bytes).unwrap_or_default();
        let mut left = Vec::new();
        for id in queued {
            match server.remove_member(id) {
                Ok(()) => report.removed += 1,
                Err(e) if e.code() == ErrorCode::NotFound => {}
                Err(e) if e.code() == ErrorCode::Denied => {
                    report.refused.push(format!("removing member {id}: {e}"));
                    left.push(id);
                }
                Err(e) => return Err(e),
            }
        }
        self.write(|tx| {
            if left.is_empty() {
                tx.delete_meta(key)
            } else {
                let bytes = serde_json::to_vec(&left).map_err(|e| Error::Storage(e.to_string()))?;
                tx.set_meta(key, &bytes)
            }
        })
    }

    /// The audit events the server does not hold yet, each with the scope it goes to
    /// (its commit's, see [`super::trail::commit_scopes`]). Attempts
    /// before an unlock (unsigned; they name whatever was typed, a passphrase in the
    /// wrong field perhaps) stay on this machine, as `team create` keeps them.
    pub(crate) fn pending_events(
        &self,
        link: &TeamLink,
        scopes: &[i64],
    ) -> Result<Vec<(i64, EventImage)>> {
        let mut out = Vec::new();
        let mut events = self
            .store
            .replica()
            .event_images_after(link.pushed_through)?;
        events.retain(|e| e.signer.is_some());
        let placed = super::trail::commit_scopes(&events, &|w| scopes.contains(&w));
        for (e, scope) in events.into_iter().zip(placed) {
            if e.id > link.pushed.get(&scope).copied().unwrap_or(0) {
                out.push((scope, e));
            }
        }
        Ok(out)
    }

    /// Takes pulled records into this file in one transaction (foreign keys checked at
    /// its end); returns how many changed it and how many of those merged with a change
    /// made here. A record changed here too, in the same field, becomes a conflict
    /// instead. What a pull writes is not a change made here.
    fn pull_into_replica(
        &self,
        pulled: &[(i64, i64, Vec<super::Record>)],
        vault_id: &str,
        me: i64,
        may_merge: bool,
    ) -> Result<(usize, usize)> {
        let now = self.now();
        self.write_replica(|tx| {
            tx.defer_foreign_keys()?;
            tx.set_quiet(true)?;
            let mut taken = 0;
            let mut merges = 0;
            for (scope, _, records) in pulled {
                for rec in records {
                    refuse_foreign(rec, *scope, vault_id, me)?;
                    let known = tx.replica_row(*scope, &rec.kind, &rec.key)?;
                    if known.as_ref().is_some_and(|k| k.seq >= rec.seq) {
                        continue;
                    }
                    // This file's row at that record, found by its identity.
                    let ident_here = match (&rec.body, &known) {
                        (_, Some(k)) => Some(k.ident.clone()),
                        (Some(body), None) => Some(ident_of(&rec.kind, body)?),
                        (None, None) => None,
                    };
                    let mine = match &ident_here {
                        Some(i) => tx
                            .image_of(&rec.kind, i)?
                            .filter(|img| img.scope == *scope && img.key == rec.key)
                            .map(|img| img.body),
                        None => None,
                    };
                    let local = mine.as_deref().map(hash);
                    let changed_here = local != known.as_ref().map(|k| k.hash.clone());
                    let theirs = rec.body.as_deref().map(hash);
                    // Changed here and there: the fields changed on one side only merge
                    // (this machine's merged row is pushed over the server's); the same
                    // field changed two ways is a conflict for the user.
                    let merged = match (&known, &mine, &rec.body) {
                        (Some(k), Some(mine), Some(body))
                            if may_merge
                                && changed_here
                                && local != theirs
                                && tx.conflict(*scope, &rec.kind, &rec.key)?.is_none() =>
                        {
                            k.base
                                .as_deref()
                                .and_then(|base| merge_fields(&rec.kind, base, mine, body))
                        }
                        _ => None,
                    };
                    if changed_here && local != theirs && merged.is_none() {
                        tx.put_conflict(&rec.kind, &rec.key, *scope, rec.seq, rec.body.as_deref(), now)?;
                        continue;
                    }
                    let ident = match (&rec.body, &known) {
                        // A record names the same row as long as it lives: one whose
                        // body now names another row was edited on the server.
                        (Some(body), Some(k)) if ident_of(&rec.kind, body)? != k.ident => {
                            return Err(Error::Integrity(format!(
                                "the team server's {} record {} now describes another row (edited on the server)",
                                rec.kind, rec.key
                            )));
                        }
                        (Some(body), _) => ident_of(&rec.kind, body)?,
                        (None, Some(k)) => k.ident.clone(),
                        // A deletion of a row this replica never had.
                        (None, None) => continue,
                    };
                    if let Some(body) = &merged {
                        // Still marked as changed here (the mark stays until the
                        // server holds this row): the next push sends the merge.
                        tx.apply_record(&rec.kind, Some(body), &ident)?;
                        taken += 1;
                        merges += 1;
                    } else if !changed_here {
                        tx.apply_record(&rec.kind, rec.body.as_deref(), &ident)?;
                        taken += 1;
                    }
                    match theirs {
                        Some(h) => tx.put_replica_row(&ReplicaRow {
                            kind: rec.kind.clone(),
                            key: rec.key.clone(),
                            scope: *scope,
                            project: rec.project,
                            private_to: rec.private_to,
                            about: rec.about,
                            seq: rec.seq,
                            hash: h,
                            ident,
                            base: rec.body.as_deref().and_then(|b| ReplicaRow::base_of(&rec.kind, b)),
                        })?,
                        None => tx.delete_replica_row(*scope, &rec.kind, &rec.key)?,
                    }
                }
            }
            tx.set_quiet(false)?;
            Ok((taken, merges))
        })
    }

    /// What this replica last exchanged with the server, by record.
    fn replica_map(&self) -> Result<HashMap<RecordKey, ReplicaRow>> {
        Ok(self
            .store
            .replica()
            .replica_rows()?
            .into_iter()
            .map(|r| ((r.scope, r.kind.clone(), r.key.clone()), r))
            .collect())
    }

    /// Every replicated row here, by kind and key, with the hash of its body.
    fn current_images(&self) -> Result<HashMap<RecordKey, (RowImage, Vec<u8>)>> {
        let mut out = HashMap::new();
        self.store.replica().each_replicated_row(&mut |r| {
            let h = hash(&r.body);
            out.insert((r.scope, r.kind.to_string(), r.key.clone()), (r, h));
            Ok(())
        })?;
        Ok(out)
    }

    pub(super) fn scope_name(&self, scope: i64) -> Result<String> {
        if scope == 0 {
            return Ok("the vault".into());
        }
        Ok(self
            .store
            .replica()
            .workspace_names()?
            .into_iter()
            .find(|(id, _)| *id == scope)
            .map(|(_, n)| format!("workspace {n}"))
            .unwrap_or_else(|| format!("workspace {scope}")))
    }
}

/// Refuses a record no replica takes from a server: a key slot, this machine's own
/// state (its team link, its failure counter), a deletion of the member unlocked
/// here, a body that names another row than its key or another workspace than its
/// scope, a vault id other than this vault's.
pub(super) fn refuse_foreign(
    rec: &super::Record,
    scope: i64,
    vault_id: &str,
    me: i64,
) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::Integrity(format!(
            "the team server sent {} record {}: {why} (edited on the server)",
            rec.kind, rec.key
        )))
    };
    // Key slots are never replicated: this machine's keys are its own.
    if rec.kind == "key_slot" {
        return bad("key slots never come from a server");
    }
    if rec.kind == "vault" && (rec.key.starts_with("team") || rec.key == "failed_unlocks") {
        return bad("this machine keeps that for itself");
    }
    if rec.kind == "member" && rec.key == me.to_string() && rec.body.is_none() {
        return bad("it deletes the member unlocked here");
    }
    let Some(body) = rec.body.as_deref() else {
        return Ok(());
    };
    // The body must describe the row the key names (and sit where it says).
    if crate::store::key_of(&rec.kind, body)? != rec.key {
        return bad("its body names another row");
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| Error::Integrity(format!("a {} record is not JSON", rec.kind)))?;
    let int = |c: &str| v.get(c).and_then(|x| x.as_i64());
    let placed = match rec.kind.as_str() {
        "workspace" => int("id"),
        "setting" | "grant" | "project" => int("workspace_id"),
        _ => None,
    };
    if placed.is_some_and(|ws| ws != scope) {
        return bad("it names another workspace than the one it sits in");
    }
    if rec.kind == "vault" && rec.key == "vault_id" {
        let same = v
            .get("value")
            .and_then(|x| x.get("$b"))
            .and_then(|x| x.as_str())
            .and_then(|b64| {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok()
            })
            .is_some_and(|bytes| bytes == vault_id.as_bytes());
        if !same {
            return bad("it names another vault");
        }
    }
    Ok(())
}

/// Which side of a conflict to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// This machine's: the next sync sends it over the server's.
    Mine,
    /// The server's: it replaces this machine's here.
    Theirs,
}

/// One conflict settled.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub record: String,
    pub kept: &'static str,
}

impl Session {
    /// Settles conflicts (`only` one `kind key`, or every one): keeps this machine's
    /// side (sent at the next sync, over the server's) or the server's (taken here
    /// now). Audited as `team.resolve`, one event per record.
    pub fn team_resolve(
        &mut self,
        only: Option<(&str, &str)>,
        keep: Keep,
    ) -> Result<Vec<Resolved>> {
        let all = self.store.replica().conflicts()?;
        let chosen: Vec<RecordKey> = match only {
            None => all,
            // The same kind and key in every workspace where it conflicts.
            Some((kind, key)) => {
                let matching: Vec<RecordKey> = all
                    .into_iter()
                    .filter(|(_, k, y)| k == kind && y == key)
                    .collect();
                if matching.is_empty() {
                    return Err(Error::not_found(format!("conflict on {kind} {key}")));
                }
                matching
            }
        };
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        let member = self.member.clone();
        let now = self.now();
        let author = self.author();
        let here = self.current_images()?;
        self.write_replica(|tx| {
            tx.defer_foreign_keys()?;
            // Taking the server's side is not a change made here.
            tx.set_quiet(true)?;
            let mut done = Vec::new();
            for (scope, kind, key) in &chosen {
                let scope = *scope;
                let Some((_, seq, theirs)) = tx.conflict(scope, kind, key)? else {
                    continue;
                };
                let known = tx.replica_row(scope, kind, key)?;
                let image = here.get(&(scope, kind.clone(), key.clone()));
                let (project, private_to, about) = match (image, &known) {
                    (Some((img, _)), _) => (img.project, img.private_to, img.about),
                    (None, Some(k)) => (k.project, k.private_to, k.about),
                    (None, None) => (0, None, None),
                };
                let ident = match (&theirs, image, &known) {
                    (Some(body), _, _) => ident_of(kind, body)?,
                    (None, Some((img, _)), _) => ident_of(kind, &img.body)?,
                    (None, None, Some(k)) => k.ident.clone(),
                    (None, None, None) => {
                        tx.delete_conflict(scope, kind, key)?;
                        continue;
                    }
                };
                match keep {
                    Keep::Theirs => {
                        tx.apply_record(kind, theirs.as_deref(), &ident)?;
                        match &theirs {
                            Some(body) => tx.put_replica_row(&ReplicaRow {
                                kind: kind.clone(),
                                key: key.clone(),
                                scope,
                                project,
                                private_to,
                                about,
                                seq,
                                hash: hash(body),
                                ident,
                                base: ReplicaRow::base_of(kind, body),
                            })?,
                            None => tx.delete_replica_row(scope, kind, key)?,
                        }
                    }
                    // The server's sequence number as the one seen: the next push
                    // compares-and-sets over exactly what the server holds now.
                    Keep::Mine => tx.put_replica_row(&ReplicaRow {
                        kind: kind.clone(),
                        key: key.clone(),
                        scope,
                        project,
                        private_to,
                        about,
                        seq,
                        hash: theirs.as_deref().map(hash).unwrap_or_default(),
                        ident,
                        base: theirs.as_deref().and_then(|b| ReplicaRow::base_of(kind, b)),
                    })?,
                }
                tx.delete_conflict(scope, kind, key)?;
                let kept = match keep {
                    Keep::Mine => "mine",
                    Keep::Theirs => "theirs",
                };
                let ws_name = if scope > 0 {
                    tx.workspace_names()?
                        .into_iter()
                        .find(|(id, _)| *id == scope)
                        .map(|(_, n)| n)
                } else {
                    None
                };
                let mut ev = crate::audit::NewEvent::new(&member, "team.resolve");
                ev.detail = serde_json::json!({ "record": format!("{kind} {key}"), "kept": kept });
                if let Some(name) = &ws_name {
                    ev.workspace = Some((scope, name));
                }
                crate::audit::append(tx.storage(), author, now, &ev)?;
                done.push(Resolved {
                    record: format!("{kind} {key}"),
                    kept,
                });
            }
            tx.set_quiet(false)?;
            Ok(done)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;
    use crate::access::Role;
    use crate::clock::ManualClock;
    use crate::crypto::{Identity, KdfParams};
    use crate::members::NewKeys;
    use crate::session::Scope;
    use crate::value::{Passphrase, SecretValue};
    use crate::{SecretScope, SetRequest, ValueSource, Vault};

    /// A tiny deterministic generator (xorshift), so a failing seed can be replayed.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Pretends everything here was just exchanged with a server.
    fn as_if_synced(s: &mut Session) {
        let link = TeamLink {
            server: "postgres://127.0.0.1:1/none".into(),
            vault_id: s.vault_id.clone(),
            seqs: BTreeMap::new(),
            acked: BTreeMap::new(),
            pushed_through: 0,
            pushed: BTreeMap::new(),
            synced_through: 1,
        };
        s.save_team_link(&link).unwrap();
        let here = s.current_images().unwrap();
        let gone: Vec<ReplicaRow> = s.replica_map().unwrap().into_values().collect();
        s.store
            .write_replica(|tx| {
                for r in &gone {
                    tx.delete_replica_row(r.scope, &r.kind, &r.key)?;
                }
                for ((scope, kind, key), (img, h)) in &here {
                    tx.put_replica_row(&ReplicaRow {
                        kind: kind.clone(),
                        key: key.clone(),
                        scope: *scope,
                        project: img.project,
                        private_to: img.private_to,
                        about: img.about,
                        seq: 1,
                        hash: h.clone(),
                        ident: ident_of(kind, &img.body)?,
                        base: ReplicaRow::base_of(kind, &img.body),
                    })?;
                }
                for (kind, raw) in tx.dirty_marks()? {
                    tx.clear_dirty(&kind, &raw)?;
                }
                Ok(())
            })
            .unwrap();
    }

    /// The records whose row here differs from what was last exchanged.
    fn differences(
        here: &HashMap<RecordKey, (RowImage, Vec<u8>)>,
        replica: &HashMap<RecordKey, ReplicaRow>,
    ) -> BTreeSet<RecordKey> {
        let mut out = BTreeSet::new();
        for (k, (_, h)) in here {
            if replica.get(k).map(|r| &r.hash) != Some(h) {
                out.insert(k.clone());
            }
        }
        for k in replica.keys() {
            if !here.contains_key(k) {
                out.insert(k.clone());
            }
        }
        out
    }

    fn value(v: String) -> ValueSource {
        ValueSource::Given(SecretValue::from_string(v).unwrap())
    }

    #[test]
    fn every_change_made_here_is_marked_and_only_a_settled_one_is_cleared() {
        for seed in 1..=12u64 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("vault.db");
            let clock = ManualClock::new(1_800_000_000_000);
            let mut s = Vault::create(
                &path,
                "alice",
                &Passphrase::new("owner pass phrase".into()),
                KdfParams::INSECURE_FAST,
                Arc::new(clock.clone()),
            )
            .unwrap();
            let scope = Scope::default();
            for i in 0..3 {
                let req = SetRequest::new(format!("S{i}"), value(format!("v{i}")));
                s.set_secret(&scope, req).unwrap();
            }
            as_if_synced(&mut s);
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut members = 0;
            let mut added_ok = 0;
            for step in 0..30 {
                clock.advance(1_000);
                let name = format!("S{}", rng.below(6));
                let env = ["development", "staging", "production"][rng.below(3) as usize];
                // Failures (a name deleted twice, a role already held) change nothing
                // and must mark nothing wrongly either.
                let _ = match rng.below(8) {
                    0..=2 => {
                        let mut req = SetRequest::new(&name, value(format!("{seed}-{step}")));
                        req.environment = Some(env.into());
                        s.set_secret(&scope, req).map(|_| ())
                    }
                    3 => s.delete_secret(&scope, &name).map(|_| ()),
                    // On a team vault members bring their own keys (an invitation).
                    4 => {
                        members += 1;
                        let theirs = Identity::generate().unwrap().public();
                        let added = s.add_member_with(
                            "default",
                            &format!("m{members}"),
                            Role::Developer,
                            NewKeys::Theirs(theirs),
                            serde_json::json!({}),
                        );
                        added_ok += usize::from(added.is_ok());
                        added.map(|_| ())
                    }
                    5 if members > 0 => {
                        let who = format!("m{}", 1 + rng.below(members));
                        s.remove_member("default", &who)
                    }
                    6 => {
                        let mut req = SetRequest::new(format!("U{step}"), value("mine".into()));
                        req.scope = Some(SecretScope::User);
                        s.set_secret(&scope, req).map(|_| ())
                    }
                    _ => s.create_environment(&scope, &format!("e{step}"), rng.below(2) == 0),
                };
            }
            assert_eq!(
                added_ok, members as usize,
                "seed {seed}: a member add failed"
            );
            let full = differences(&s.current_images().unwrap(), &s.replica_map().unwrap());
            assert!(!full.is_empty(), "seed {seed}: nothing changed");
            let marks = s.store.replica().dirty_marks().unwrap();
            let (here, replica) = s.marked_images(&marks).unwrap();
            assert_eq!(differences(&here, &replica), full, "seed {seed}");

            // Clearing what is settled (rows made and deleted again, or put back as
            // they were) keeps every mark of a real difference.
            s.clear_settled_marks(&marks).unwrap();
            let left = s.store.replica().dirty_marks().unwrap();
            let (here, replica) = s.marked_images(&left).unwrap();
            assert_eq!(differences(&here, &replica), full, "seed {seed}");
            // Once what is here was exchanged, every mark goes.
            as_if_synced(&mut s);
            let kept = s.store.replica().dirty_marks().unwrap();
            assert!(kept.is_empty(), "seed {seed}: {kept:?}");
        }
    }
}
