//! `coffer team verify`: does the team server still hold what this machine exchanged
//! with it? Signatures catch a record edited on the server when it is used; this
//! catches what signatures cannot: a record deleted or put back to an older state,
//! a workspace's sequence gone backwards (an older backup restored, a table
//! truncated), audit events this machine pushed that are missing, edited or in
//! another order, and a trail whose links do not join.
//!
//! Each member checks what they can read: every record of the workspaces they see,
//! and the trails of the scopes they may audit (an owner's own events everywhere).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{login_for, SchemaState, ServerUrl};
use crate::error::{Error, Result};
use crate::session::Session;

/// What one check covered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verified {
    pub server: String,
    /// Scopes (the vault and workspaces) compared.
    pub scopes: usize,
    /// Records of this replica found on the server as they were exchanged.
    pub records: usize,
    /// Audit events whose links were followed on the server.
    pub events: usize,
    /// This machine's own events found there, in their order.
    pub own_events: usize,
    /// Workspaces this replica holds that the server no longer shows this member
    /// (their grant went, or the server hides them): not compared.
    pub unchecked: Vec<String>,
}

impl Session {
    /// Whether this member may read a record, by what this machine holds: a private
    /// record is its owner's; the vault's own records are everyone's, save those about
    /// a fellow member (left to the server); a workspace's, by this member's grants
    /// there when `grants_current` (the server holds the same ones). `None`: this
    /// machine cannot say.
    fn may_read_here(
        &self,
        scope: i64,
        r: &crate::store::ReplicaRow,
        grants_current: bool,
    ) -> Result<Option<bool>> {
        let me = self.member_id;
        Ok(match (r.private_to, scope) {
            (Some(owner), _) => Some(owner == me),
            (None, 0) if r.about.is_none() || r.about == Some(me) || me == self.root => Some(true),
            (None, 0) => None,
            (None, ws) if grants_current => Some(if r.project == 0 {
                self.store.conn().has_any_grant(me, ws)?
            } else {
                self.store
                    .conn()
                    .role_for(me, ws, Some(r.project))?
                    .is_some()
            }),
            (None, _) => None,
        })
    }
}

/// An audit event on the server: its scope, its place there (commit, then position in
/// the commit) and the SHA-256 of its body.
type Placed = (i64, (i64, i32), Vec<u8>);

/// At most this many problems are named in one error; the count says the rest.
const NAMED: usize = 5;

impl Session {
    /// Compares the team server with this replica; any difference it cannot explain
    /// by a permission that changed or a change not pulled yet is
    /// [`Error::Integrity`], naming what differs.
    pub fn team_verify(&mut self) -> Result<Verified> {
        let link = self.team_link()?.ok_or_else(|| {
            Error::not_found(
                "team server for this vault (move it to one with `coffer team create URL`)",
            )
        })?;
        let login = login_for(&self.secret.identity, &self.vault_id);
        let url = ServerUrl::parse(&link.server)?.with_login(&login.name, &login.password);
        let mut server = url.connect()?;
        if matches!(server.schema_state()?, SchemaState::Empty) {
            return Err(Error::Integrity(format!(
                "the team server at {} holds no team vault any more (dropped or restored from before it was made)",
                url.display()
            )));
        }
        let heads: BTreeMap<i64, i64> = server.heads()?.into_iter().collect();
        let mut problems = rolled_back(&link.seen(), &heads, &|s| self.scope_label(s));
        let mut report = Verified {
            server: url.display(),
            scopes: heads.len(),
            ..Verified::default()
        };

        // ---- records ----
        let in_conflict: HashSet<(i64, String, String)> =
            self.store.replica().conflicts()?.into_iter().collect();
        let mut replica: BTreeMap<i64, Vec<crate::store::ReplicaRow>> = BTreeMap::new();
        for r in self.store.replica().replica_rows()? {
            replica.entry(r.scope).or_default().push(r);
        }
        // Workspaces where this member's own grants changed here since the last
        // exchange (or conflict): there the grants held here are not the server's.
        let mut my_grants_moved: HashSet<i64> = HashSet::new();
        for (kind, ident) in self.store.replica().dirty_marks()? {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&ident) else {
                continue;
            };
            if kind == "grant" && v["member_id"].as_i64() == Some(self.member_id) {
                my_grants_moved.insert(v["workspace_id"].as_i64().unwrap_or(-1));
            }
        }
        let mine = format!("{}:", self.member_id);
        for (scope, kind, key) in &in_conflict {
            if kind == "grant" && key.starts_with(&mine) {
                my_grants_moved.insert(*scope);
            }
        }
        if !heads.contains_key(&0) {
            // Every member reads the vault's own records: a server that hides them
            // hides everything.
            problems.push("the server hides the vault's own records from you".into());
        }
        for (scope, rows) in &replica {
            if !heads.contains_key(scope) {
                // A workspace the server shows this member no more: their grant went,
                // or the server hides it. Said, not passed over in silence.
                report.unchecked.push(self.scope_label(*scope));
                continue;
            }
            let there: HashMap<(String, String), super::server::Digest> = server
                .digests(*scope)?
                .into_iter()
                .map(|d| ((d.kind.clone(), d.key.clone()), d))
                .collect();
            // This member's grants here as this machine holds them (signed, checked
            // back to the root), if the server holds the same ones: then they, not the
            // server's word, say what this member may read.
            let grants_here: BTreeMap<&str, i64> = rows
                .iter()
                .filter(|r| r.kind == "grant" && r.key.starts_with(&mine))
                .map(|r| (r.key.as_str(), r.seq))
                .collect();
            let grants_there: BTreeMap<&str, i64> = there
                .values()
                .filter(|d| d.kind == "grant" && d.key.starts_with(&mine) && d.hash.is_some())
                .map(|d| (d.key.as_str(), d.seq))
                .collect();
            let grants_current = grants_here == grants_there && !my_grants_moved.contains(scope);
            for r in rows {
                if in_conflict.contains(&(*scope, r.kind.clone(), r.key.clone())) {
                    continue;
                }
                let name = format!(
                    "{} record {} in {}",
                    r.kind,
                    r.key,
                    self.scope_label(*scope)
                );
                match there.get(&(r.kind.clone(), r.key.clone())) {
                    None => {
                        // Gone: fine only if this member may no longer read it. Where
                        // this machine's own grants decide, the server's answer is
                        // only compared with them.
                        let here = self.may_read_here(*scope, r, grants_current)?;
                        let there = server.may_read(*scope, r.project, r.private_to, r.about)?;
                        match (here, there) {
                            (Some(true), false) => problems.push(format!(
                                "{name} is hidden from you on the server, though your grants let you read it"
                            )),
                            (Some(true), true) | (None, true) => {
                                problems.push(format!("{name} was deleted on the server"))
                            }
                            _ => {}
                        }
                    }
                    Some(d) if d.seq < r.seq => problems.push(format!(
                        "{name} went back from sequence {} to {}",
                        r.seq, d.seq
                    )),
                    Some(d) if d.seq == r.seq => {
                        // A replica row kept over a deletion (`resolve --keep mine`)
                        // has no hash: it matches a tombstone.
                        let same = match &d.hash {
                            Some(h) => h == &r.hash,
                            None => r.hash.is_empty(),
                        };
                        if !same {
                            problems.push(format!("{name} was edited on the server"));
                        } else {
                            report.records += 1;
                        }
                    }
                    // Written again since (pulled at the next sync; its signature
                    // is checked then and on use).
                    Some(_) => {}
                }
            }
        }

        // ---- audit trails ----
        let pushed: Vec<crate::store::EventImage> = self
            .store
            .replica()
            .event_images_after(0)?
            .into_iter()
            // Attempts before an unlock (no signer) stay on this machine.
            .filter(|e| e.id <= link.pushed_through && e.signer.is_some())
            .collect();
        // Where each event of the server is, by its hash.
        let mut found: HashMap<Vec<u8>, Placed> = HashMap::new();
        let mut readable = HashSet::new();
        for scope in heads.keys() {
            let (may, chain) = server.trail_head(*scope)?;
            if !may {
                continue;
            }
            readable.insert(*scope);
            // Bodies as their SHA-256: enough to compare, without moving the trail.
            let events = server.trail(*scope)?;
            problems.extend(super::trail::broken_link(
                &events,
                &chain,
                &self.scope_label(*scope),
            ));
            report.events += events.len();
            for e in events {
                found.insert(e.hash, (*scope, (e.seq, e.n), e.body));
            }
        }
        // The trails each event may have gone to: its commit's (one commit, one trail;
        // see `commit_scopes`), which is the vault's own or a workspace one of its
        // events names. `None`: a workspace this member sees no more may hold it.
        let mut could_be_in: Vec<Option<Vec<i64>>> = Vec::with_capacity(pushed.len());
        for commit in super::trail::commits(&pushed) {
            let mut scopes = vec![0];
            let mut unseen = false;
            for w in pushed[commit.clone()].iter().filter_map(|e| e.workspace) {
                if heads.contains_key(&w) {
                    scopes.push(w);
                } else {
                    unseen = true;
                }
            }
            could_be_in.extend(std::iter::repeat_n(
                (!unseen).then_some(scopes),
                commit.len(),
            ));
        }
        let mut last_place: HashMap<i64, (i64, i32)> = HashMap::new();
        for (e, could) in pushed.iter().zip(&could_be_in) {
            let hash = e
                .hash
                .clone()
                .unwrap_or_else(|| Sha256::digest(&e.body).to_vec());
            match found.get(&hash) {
                Some((scope, place, body)) => {
                    if body.as_slice() != Sha256::digest(&e.body).as_slice() {
                        problems.push(format!("audit event #{} was edited on the server", e.id));
                    } else if last_place.get(scope).is_some_and(|p| p >= place) {
                        problems.push(format!(
                            "audit event #{} is out of its order on the server",
                            e.id
                        ));
                    } else {
                        report.own_events += 1;
                    }
                    last_place.insert(*scope, *place);
                }
                None => {
                    // Missing only when this member can read every trail it may have
                    // gone to.
                    let Some(could) = could else {
                        continue;
                    };
                    if could.iter().all(|s| readable.contains(s)) {
                        problems.push(format!(
                            "audit event #{} that this machine pushed is missing on the server",
                            e.id
                        ));
                    }
                }
            }
        }

        if problems.is_empty() {
            return Ok(report);
        }
        let more = problems.len().saturating_sub(NAMED);
        problems.truncate(NAMED);
        let mut message = format!(
            "the team server at {} does not hold what this machine exchanged with it: {}",
            url.display(),
            problems.join("; ")
        );
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        Err(Error::Integrity(message))
    }

    /// "the vault" or "workspace NAME".
    pub(super) fn scope_label(&self, scope: i64) -> String {
        self.scope_name(scope)
            .unwrap_or_else(|_| format!("workspace {scope}"))
    }
}

/// The scopes whose sequence on the server is behind what this replica has pulled: a
/// server restored from an older copy, or rows removed from under it. The vault's own
/// scope is always visible to a member, so its absence counts too.
pub(super) fn rolled_back(
    seen: &BTreeMap<i64, i64>,
    heads: &BTreeMap<i64, i64>,
    label: &dyn Fn(i64) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    for (scope, here) in seen {
        match heads.get(scope) {
            Some(there) if there < here => out.push(format!(
                "{} is at sequence {there} on the server, behind the {here} this machine has seen (restored from an older copy?)",
                label(*scope)
            )),
            None if *scope == 0 && *here > 0 => out.push(
                "the vault's own records are gone from the server".to_string(),
            ),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_behind_what_was_seen_is_named_and_one_ahead_is_not() {
        let seen = BTreeMap::from([(0, 5), (7, 10), (9, 3)]);
        let label = |s: i64| format!("scope {s}");
        // Ahead (others committed) or a workspace no longer visible: fine.
        let ok = BTreeMap::from([(0, 6), (7, 10)]);
        assert!(rolled_back(&seen, &ok, &label).is_empty());
        let back = BTreeMap::from([(0, 5), (7, 4), (9, 3)]);
        let found = rolled_back(&seen, &back, &label);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("scope 7 is at sequence 4"), "{found:?}");
        let gone = BTreeMap::from([(7, 10)]);
        assert_eq!(
            rolled_back(&seen, &gone, &label),
            vec!["the vault's own records are gone from the server".to_string()]
        );
    }
}
