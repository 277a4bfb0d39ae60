//! Members and their roles in a workspace: add, list, grant, remove.

use serde::Serialize;
use serde_json::json;

use crate::access::{Capability, Role};
use crate::audit::{self, Author, NewEvent};
use crate::authority::RowKey;
use crate::crypto::{Identity, PublicKeys};
use crate::error::{Error, Result};
use crate::keys::{certify, insert_passphrase_slot};
use crate::keys::{MemberSecret, Rekeyed};
use crate::names;
use crate::session::{Attempt, Session};
use crate::store::{self, Storage};
use crate::value::Passphrase;

/// The audit detail of what a grant change did to keys.
fn rekey_detail(r: &Rekeyed) -> serde_json::Value {
    json!({
        "keys_sealed": r.sealed,
        "environments_rekeyed": r.environments,
        "versions_resealed": r.versions,
        "values_exposed": r.exposed,
    })
}

/// Where a new member's keys come from.
#[derive(Clone, Copy)]
pub(crate) enum NewKeys<'a> {
    /// Made here, sealed under this first passphrase.
    Made(&'a Passphrase),
    /// Made on their own machine: only the public halves are known here (a member
    /// who joins a team vault).
    #[cfg_attr(not(feature = "team"), allow(dead_code))]
    Theirs(PublicKeys),
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemberInfo {
    pub name: String,
    pub role: Role,
    /// Set when the grant is narrowed to one project.
    pub project: Option<String>,
    pub capabilities: Vec<crate::access::Capability>,
}

impl Session {
    pub(crate) fn manage_ws(
        &mut self,
        workspace: &str,
        action: &str,
    ) -> Result<store::WorkspaceRow> {
        let ws = self.workspace_row(workspace)?;
        let role = self
            .store
            .conn()
            .role_for(self.member_id, ws.id, None)?
            .ok_or_else(|| Error::not_found(format!("workspace '{workspace}'")))?;
        self.require(role, Capability::Manage, Attempt::on_workspace(&ws, action))?;
        Ok(ws)
    }

    /// Adds a new member with a passphrase of their own and a role in `workspace`.
    pub fn add_member(
        &mut self,
        workspace: &str,
        name: &str,
        role: Role,
        passphrase: &Passphrase,
    ) -> Result<()> {
        self.add_member_with(workspace, name, role, NewKeys::Made(passphrase), json!({}))
            .map(|_| ())
    }

    /// Adds a new member, their keys made here (sealed under a first passphrase they
    /// must replace) or made on their own machine (only the public halves known here,
    /// as when they join a team vault); returns their member id. `detail` goes into
    /// the audit event.
    pub(crate) fn add_member_with(
        &mut self,
        workspace: &str,
        name: &str,
        role: Role,
        keys: NewKeys<'_>,
        detail: serde_json::Value,
    ) -> Result<i64> {
        names::member(name)?;
        let ws = self.manage_ws(workspace, "member.add")?;
        // On a team server every member is their own login, made from keys they made on
        // their own machine: keys made here would have none.
        let on_team = self.store.conn().get_meta("team")?.is_some();
        if let NewKeys::Made(passphrase) = keys {
            if !on_team {
                passphrase.check_new()?;
            }
        }
        // A removed member keeps their row (history names them) but has no key slot;
        // adding them again gives them a new one.
        let former = match self.store.conn().member_by_name(name)? {
            Some(m) if self.store.conn().grant_count(m.id)? == 0 => Some(m.id),
            Some(m) => {
                // Names are one per vault: say whose only to someone who shares a
                // workspace with them, or a tenant learns who is in another.
                let theirs = self.store.conn().workspaces_of_member(m.id)?;
                let mine = self.store.conn().workspaces_of_member(self.member_id)?;
                let shared = theirs.iter().any(|(w, _)| mine.iter().any(|(v, _)| v == w));
                return Err(Error::Conflict(if shared {
                    format!(
                        "member '{name}' already exists; give them a role here with `coffer member grant {name} ROLE`"
                    )
                } else {
                    format!("member name '{name}' is not available: choose another")
                }));
            }
            None => None,
        };
        if on_team && matches!(keys, NewKeys::Made(_)) {
            return Err(Error::invalid(format!(
                "this vault is shared through a team server: members make their own keys \
                 on their own machine; invite {name} with `coffer team invite {name} --role {}`",
                role.as_str()
            )));
        }
        let now = self.now();
        let kdf = self.kdf();
        let actor = self.member.clone();
        // Their own keys, certified by this member; a passphrase given here must be
        // replaced by one of their own at their first unlock.
        let (public, made) = match keys {
            NewKeys::Made(passphrase) => {
                let secret = MemberSecret {
                    identity: Identity::generate()?,
                    anchor: self.secret.anchor,
                };
                (secret.identity.public(), Some((secret, passphrase)))
            }
            NewKeys::Theirs(pk) => (pk, None),
        };
        let kh = self.keyholder();
        self.write(|tx| {
            let member_id = match former {
                Some(id) => id,
                None => tx.insert_member(name, now)?,
            };
            if former.is_some() {
                tx.retire_member_keys(member_id, now)?;
            }
            tx.delete_keys_of_member(member_id)?;
            certify(
                tx,
                &self.vault_id,
                &self.secret.identity,
                self.member_id,
                name,
                &public,
                member_id,
                made.is_some(),
            )?;
            if let Some((secret, passphrase)) = &made {
                insert_passphrase_slot(
                    tx,
                    &self.vault_id,
                    member_id,
                    secret,
                    passphrase,
                    kdf,
                    now,
                )?;
            }
            tx.set_grant(member_id, ws.id, None, role)?;
            kh.sign(tx, RowKey::Grant(member_id, ws.id, None))?;
            let rekeyed = kh.sync_member(tx, member_id, name, ws.id, now)?;
            let mut ev = NewEvent::new(&actor, "member.add");
            ev.workspace = Some((ws.id, &ws.name));
            let mut d =
                json!({ "member": name, "role": role.as_str(), "keys_sealed": rekeyed.sealed });
            if let (Some(d), Some(extra)) = (d.as_object_mut(), detail.as_object()) {
                d.extend(extra.clone());
            }
            ev.detail = d;
            audit::append(tx, self.author(), now, &ev)?;
            Ok(member_id)
        })
    }

    pub fn list_members(&self, workspace: &str) -> Result<Vec<MemberInfo>> {
        let ws = self.workspace_row(workspace)?;
        Ok(self
            .store
            .conn()
            .grants_in_workspace(ws.id)?
            .into_iter()
            .map(|g| MemberInfo {
                name: g.member,
                capabilities: g.role.capabilities(),
                role: g.role,
                project: g.project,
            })
            .collect())
    }

    /// Gives an existing member a role in `workspace` (or one project of it).
    pub fn grant_role(
        &mut self,
        workspace: &str,
        name: &str,
        role: Role,
        project: Option<&str>,
    ) -> Result<()> {
        names::member(name)?;
        let ws = self.manage_ws(workspace, "member.grant")?;
        let not_found = || Error::not_found(format!("member '{name}'"));
        let member = self
            .store
            .conn()
            .member_by_name(name)?
            .ok_or_else(not_found)?;
        // Only a member this one already shares a workspace with (or anyone, for the
        // vault's root owner): a manager of one tenant neither learns who is in
        // another nor pulls them in.
        if self.member_id != self.root && member.id != self.member_id {
            let theirs = self.store.conn().workspaces_of_member(member.id)?;
            let mine = self.store.conn().workspaces_of_member(self.member_id)?;
            if !theirs.iter().any(|(w, _)| mine.iter().any(|(v, _)| v == w)) {
                return Err(not_found());
            }
        }
        let project_id = match project {
            None => None,
            Some(p) => Some(
                self.store
                    .conn()
                    .project_by_name(ws.id, p)?
                    .ok_or_else(|| Error::not_found(format!("project '{p}'")))?
                    .id,
            ),
        };
        let current = self.store.conn().role_for(member.id, ws.id, None)?;
        if project.is_none()
            && current == Some(Role::Owner)
            && role != Role::Owner
            && self.store.conn().owner_count(ws.id)? <= 1
        {
            return Err(Error::Conflict(format!(
                "'{name}' is the last owner of workspace '{}'",
                ws.name
            )));
        }
        self.sweep(ws.id, false)?;
        let now = self.now();
        let actor = self.member.clone();
        let kh = self.keyholder();
        self.write(|tx| {
            tx.set_grant(member.id, ws.id, project_id, role)?;
            kh.sign(tx, RowKey::Grant(member.id, ws.id, project_id))?;
            let rekeyed = kh.sync_member(tx, member.id, name, ws.id, now)?;
            let manages = tx.role_for(member.id, ws.id, None)?
                .is_some_and(|r| r.allows(Capability::Manage));
            if !manages {
                kh.take_over_rows(tx, ws.id, member.id)?;
            }
            let mut ev = NewEvent::new(&actor, "member.grant");
            ev.workspace = Some((ws.id, &ws.name));
            ev.project = project;
            ev.detail = json!({ "member": name, "role": role.as_str(), "previous": current.map(|r| r.as_str()) });
            audit::append(tx, self.author(), now, &ev)?;
            rekey_event(tx, self.author(), now, &actor, (ws.id, &ws.name), name, &rekeyed)
        })
    }

    /// Removes a member's roles in `workspace`; a member left with no role anywhere
    /// loses their key slots, so they can no longer unlock the vault.
    pub fn remove_member(&mut self, workspace: &str, name: &str) -> Result<()> {
        names::member(name)?;
        let ws = self.manage_ws(workspace, "member.remove")?;
        let member = self
            .store
            .conn()
            .member_by_name(name)?
            .filter(|m| {
                self.store
                    .conn()
                    .has_any_grant(m.id, ws.id)
                    .unwrap_or(false)
            })
            .ok_or_else(|| {
                Error::not_found(format!("member '{name}' in workspace '{}'", ws.name))
            })?;
        let is_owner = self.store.conn().role_for(member.id, ws.id, None)? == Some(Role::Owner);
        if is_owner && self.store.conn().owner_count(ws.id)? <= 1 {
            return Err(Error::Conflict(format!(
                "'{name}' is the last owner of workspace '{}'",
                ws.name
            )));
        }
        // Old versions past the rollback window go first, so only live ones are re-sealed.
        self.sweep(ws.id, false)?;
        let now = self.now();
        let actor = self.member.clone();
        let kh = self.keyholder();
        self.write(|tx| {
            tx.remove_grants(member.id, ws.id)?;
            kh.take_over_rows(tx, ws.id, member.id)?;
            let rekeyed = kh.sync_member(tx, member.id, name, ws.id, now)?;
            let gone = tx.grant_count(member.id)? == 0;
            if gone {
                tx.delete_keys_of_member(member.id)?;
                queue_team_removal(tx, member.id)?;
            }
            let mut ev = NewEvent::new(&actor, "member.remove");
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "member": name, "removed_from_vault": gone });
            audit::append(tx, self.author(), now, &ev)?;
            rekey_event(
                tx,
                self.author(),
                now,
                &actor,
                (ws.id, &ws.name),
                name,
                &rekeyed,
            )
        })
    }
}

/// Where a vault on a team server keeps the members removed here whose removal the
/// server has not carried out yet (login disabled, sessions ended): the next sync does.
pub(crate) const TEAM_REMOVALS: &str = "team_removals";

/// Queues `member_id`'s removal for the team server, if this vault is on one.
fn queue_team_removal(tx: &dyn Storage, member_id: i64) -> Result<()> {
    if tx.get_meta("team")?.is_none() {
        return Ok(());
    }
    let mut queued: Vec<i64> = tx
        .get_meta(TEAM_REMOVALS)?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    if !queued.contains(&member_id) {
        queued.push(member_id);
    }
    let bytes = serde_json::to_vec(&queued).map_err(|e| Error::Storage(e.to_string()))?;
    tx.set_meta(TEAM_REMOVALS, &bytes)
}

/// `key.rotate`, when a change of roles started new epochs.
fn rekey_event(
    tx: &dyn Storage,
    author: Author,
    now: i64,
    actor: &str,
    ws: (i64, &str),
    member: &str,
    r: &Rekeyed,
) -> Result<()> {
    if r.environments.is_empty() {
        return Ok(());
    }
    let mut ev = NewEvent::new(actor, "key.rotate");
    ev.workspace = Some(ws);
    let mut detail = rekey_detail(r);
    if let serde_json::Value::Object(m) = &mut detail {
        m.insert("member".into(), json!(member));
    }
    ev.detail = detail;
    audit::append(tx, author, now, &ev).map(|_| ())
}
