//! Members and their roles in a workspace: add, list, grant, remove.

use serde::Serialize;
use serde_json::json;

use crate::access::{Capability, Role};
use crate::audit::{self, NewEvent};
use crate::error::{Error, Result};
use crate::names;
use crate::session::{Attempt, Session};
use crate::store;
use crate::value::Passphrase;
use crate::vault::insert_passphrase_slot;

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
    fn manage_ws(&mut self, workspace: &str, action: &str) -> Result<store::WorkspaceRow> {
        let ws = self.workspace_row(workspace)?;
        let role = store::role_for(self.store.conn(), self.member_id, ws.id, None)?
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
        names::member(name)?;
        let ws = self.manage_ws(workspace, "member.add")?;
        passphrase.check_new()?;
        // A removed member keeps their row (history names them) but has no key slot;
        // adding them again gives them a new one.
        let former = match store::member_by_name(self.store.conn(), name)? {
            Some(m) if store::grant_count(self.store.conn(), m.id)? == 0 => Some(m.id),
            Some(_) => {
                return Err(Error::Conflict(format!(
                    "member '{name}' already exists; give them a role here with `coffer member grant {name} ROLE`"
                )))
            }
            None => None,
        };
        let now = self.now();
        let kdf = self.kdf();
        let actor = self.member.clone();
        self.store.write(|tx| {
            let member_id = match former {
                Some(id) => id,
                None => store::insert_member(tx, name, now)?,
            };
            insert_passphrase_slot(
                tx,
                &self.vault_id,
                member_id,
                self.vault_key(),
                passphrase,
                kdf,
                now,
            )?;
            store::set_grant(tx, member_id, ws.id, None, role)?;
            let mut ev = NewEvent::new(&actor, "member.add");
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "member": name, "role": role.as_str() });
            audit::append(tx, self.audit_key(), now, &ev).map(|_| ())
        })
    }

    pub fn list_members(&self, workspace: &str) -> Result<Vec<MemberInfo>> {
        let ws = self.workspace_row(workspace)?;
        Ok(store::grants_in_workspace(self.store.conn(), ws.id)?
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
        let member = store::member_by_name(self.store.conn(), name)?
            .ok_or_else(|| Error::not_found(format!("member '{name}'")))?;
        let project_id = match project {
            None => None,
            Some(p) => Some(
                store::project_by_name(self.store.conn(), ws.id, p)?
                    .ok_or_else(|| Error::not_found(format!("project '{p}'")))?
                    .id,
            ),
        };
        let current = store::role_for(self.store.conn(), member.id, ws.id, None)?;
        if project.is_none()
            && current == Some(Role::Owner)
            && role != Role::Owner
            && store::owner_count(self.store.conn(), ws.id)? <= 1
        {
            return Err(Error::Conflict(format!(
                "'{name}' is the last owner of workspace '{}'",
                ws.name
            )));
        }
        let now = self.now();
        let actor = self.member.clone();
        self.store.write(|tx| {
            store::set_grant(tx, member.id, ws.id, project_id, role)?;
            let mut ev = NewEvent::new(&actor, "member.grant");
            ev.workspace = Some((ws.id, &ws.name));
            ev.project = project;
            ev.detail = json!({ "member": name, "role": role.as_str(), "previous": current.map(|r| r.as_str()) });
            audit::append(tx, self.audit_key(), now, &ev).map(|_| ())
        })
    }

    /// Removes a member's roles in `workspace`; a member left with no role anywhere
    /// loses their key slots, so they can no longer unlock the vault.
    pub fn remove_member(&mut self, workspace: &str, name: &str) -> Result<()> {
        names::member(name)?;
        let ws = self.manage_ws(workspace, "member.remove")?;
        let member = store::member_by_name(self.store.conn(), name)?
            .filter(|m| store::has_any_grant(self.store.conn(), m.id, ws.id).unwrap_or(false))
            .ok_or_else(|| {
                Error::not_found(format!("member '{name}' in workspace '{}'", ws.name))
            })?;
        let is_owner =
            store::role_for(self.store.conn(), member.id, ws.id, None)? == Some(Role::Owner);
        if is_owner && store::owner_count(self.store.conn(), ws.id)? <= 1 {
            return Err(Error::Conflict(format!(
                "'{name}' is the last owner of workspace '{}'",
                ws.name
            )));
        }
        let now = self.now();
        let actor = self.member.clone();
        self.store.write(|tx| {
            store::remove_grants(tx, member.id, ws.id)?;
            let gone = store::grant_count(tx, member.id)? == 0;
            if gone {
                store::delete_slots_of(tx, member.id)?;
            }
            let mut ev = NewEvent::new(&actor, "member.remove");
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = json!({ "member": name, "removed_from_vault": gone });
            audit::append(tx, self.audit_key(), now, &ev).map(|_| ())
        })
    }
}
