//! Rows that decide who may do what — workspaces, projects, environments (with their
//! `protected` flag), grants and settings — are signed by the member who wrote them,
//! and are trusted only if that member may write them.
//!
//! A row verifies when its signature checks against the signer's certified keys and
//! the signer has the authority for it: the vault's root owner for anything; for a
//! workspace row (its name and creator), a member who owns a workspace made before it,
//! so the chain of creators ends at the root; for the creator's own owner grant, the
//! creator that row names; otherwise a member whose own (verified) workspace grant
//! includes `manage` there. When a member
//! loses `manage` somewhere, the member who took it re-signs the rows they had signed
//! there, so every row stays signed by someone who may write it now. A row that fails
//! is an integrity error naming it: an edit of the file without keys never changes
//! who may do what. (Secret names and scopes are bound by each value's associated data
//! instead: a renamed secret's values fail to open.)

use sha2::{Digest, Sha256};

use crate::access::{Capability, Role};
use crate::crypto::{self, place};
use crate::error::{Error, Result};
use crate::keys::{verified_keys_once, Keyholder, Verified};
use crate::store::{OwnedKey, RowContent, Storage};

pub(crate) use crate::store::RowKey;

/// A row's signed content, who signed it, and how to name it in an error.
struct Signed {
    message: Vec<u8>,
    signer: Option<i64>,
    sig: Option<Vec<u8>>,
    ws_id: i64,
    what: String,
    /// For a grant: (member, role, project-narrowed).
    grant: Option<(i64, String, bool)>,
}

/// The row as stored, with the canonical message its signature covers.
fn content(c: &dyn Storage, vault_id: &str, key: RowKey<'_>) -> Result<Option<Signed>> {
    let Some(row) = c.signed_row(key)? else {
        return Ok(None);
    };
    let v = vault_id.as_bytes();
    let (message, ws_id, what, grant) = match (key, row.content) {
        (RowKey::Workspace(id), RowContent::Workspace { name, creator }) => (
            place(&[
                b"coffer/dir/v1/workspace",
                v,
                &id.to_le_bytes(),
                name.as_bytes(),
                &creator.unwrap_or(0).to_le_bytes(),
            ]),
            id,
            format!("workspace '{name}'"),
            None,
        ),
        (RowKey::Project(id), RowContent::Project { name, ws, ws_id }) => (
            place(&[
                b"coffer/dir/v1/project",
                v,
                ws.as_bytes(),
                &id.to_le_bytes(),
                name.as_bytes(),
            ]),
            ws_id,
            format!("project '{name}' of workspace '{ws}'"),
            None,
        ),
        (
            RowKey::Environment(id),
            RowContent::Environment {
                name,
                protected,
                project,
                ws,
                ws_id,
            },
        ) => (
            place(&[
                b"coffer/dir/v1/environment",
                v,
                ws.as_bytes(),
                project.as_bytes(),
                &id.to_le_bytes(),
                name.as_bytes(),
                &[u8::from(protected)],
            ]),
            ws_id,
            format!("environment '{name}' of project '{project}'"),
            None,
        ),
        (
            RowKey::Grant(member, ws_id, project),
            RowContent::Grant {
                role,
                member: name,
                ws,
                project: proj,
            },
        ) => (
            place(&[
                b"coffer/dir/v1/grant",
                v,
                ws.as_bytes(),
                &ws_id.to_le_bytes(),
                name.as_bytes(),
                &member.to_le_bytes(),
                proj.as_deref().unwrap_or("").as_bytes(),
                &project.unwrap_or(0).to_le_bytes(),
                role.as_bytes(),
            ]),
            ws_id,
            match &proj {
                Some(p) => format!("the role of '{name}' in project '{p}' of workspace '{ws}'"),
                None => format!("the role of '{name}' in workspace '{ws}'"),
            },
            Some((member, role, project.is_some())),
        ),
        (RowKey::Setting(ws_id, k), RowContent::Setting { value, ws }) => (
            place(&[
                b"coffer/dir/v1/setting",
                v,
                ws.as_bytes(),
                &ws_id.to_le_bytes(),
                k.as_bytes(),
                value.as_bytes(),
            ]),
            ws_id,
            format!("setting {k} of workspace '{ws}'"),
            None,
        ),
        _ => {
            return Err(Error::Integrity(
                "a signed row does not match its kind".into(),
            ))
        }
    };
    Ok(Some(Signed {
        message,
        signer: row.signer,
        sig: row.sig,
        ws_id,
        what,
        grant,
    }))
}

/// The member who is the vault's root of trust (their keys certify themselves and
/// are the anchor of every member's slot).
pub(crate) fn root_member(c: &dyn Storage, anchor: &[u8; 32]) -> Result<i64> {
    c.self_certified_member(anchor)?
        .ok_or_else(|| Error::Integrity("the vault's root of trust is missing".into()))
}

impl Keyholder<'_> {
    /// Signs a row as it now stands in the transaction.
    pub fn sign(&self, c: &dyn Storage, key: RowKey<'_>) -> Result<()> {
        let row = content(c, self.vault_id, key)?
            .ok_or_else(|| Error::Integrity("a row to sign is missing".into()))?;
        c.store_signature(key, self.member_id, &self.identity.sign(&row.message))
    }

    /// Signs every row of a workspace (an upgrade, or a workspace made before rows
    /// were signed).
    pub fn sign_workspace(&self, c: &dyn Storage, ws_id: i64) -> Result<()> {
        for key in rows_of_workspace(c, ws_id, None)? {
            self.sign(c, key.as_ref())?;
        }
        Ok(())
    }

    /// After `member` lost `manage` in a workspace: the rows there they had signed
    /// are signed again by this member, who may.
    pub fn take_over_rows(&self, c: &dyn Storage, ws_id: i64, member: i64) -> Result<usize> {
        let mut keys = rows_of_workspace(c, ws_id, Some(member))?;
        // Workspaces they created later rest on their owning this one: this member,
        // who does, vouches for them now (their creator stays named in the row).
        keys.extend(
            c.workspaces_signed_after(member, ws_id)?
                .into_iter()
                .map(OwnedKey::Workspace),
        );
        for key in &keys {
            self.sign(c, key.as_ref())?;
        }
        Ok(keys.len())
    }
}

/// The signed rows of a workspace, all or only those `signer` signed.
fn rows_of_workspace(c: &dyn Storage, ws_id: i64, signer: Option<i64>) -> Result<Vec<OwnedKey>> {
    let mut out = Vec::new();
    let by = |s: Option<i64>| signer.is_none() || s == signer;
    // A workspace row names its creator, which their own owner grant there rests on:
    // it is signed anew only when the whole workspace is.
    if signer.is_none() {
        out.push(OwnedKey::Workspace(ws_id));
    }
    for (key, s) in c.signed_rows_in(ws_id)? {
        if by(s) {
            out.push(key);
        }
    }
    Ok(out)
}

/// Checks signed rows against the anchor, remembering what verified (by the hash of
/// the row's content and signature) for the rest of the session.
pub(crate) struct Verifier<'a> {
    pub vault_id: &'a str,
    pub anchor: &'a [u8; 32],
    pub root: i64,
    pub seen: &'a Verified,
}

impl Verifier<'_> {
    /// Fails with an integrity error naming the row unless it verifies. A row that
    /// does not exist is not an error here (callers decide what absence means).
    pub fn check(&self, c: &dyn Storage, key: RowKey<'_>) -> Result<()> {
        self.check_depth(c, key, 0)
    }

    fn check_depth(&self, c: &dyn Storage, key: RowKey<'_>, depth: usize) -> Result<()> {
        let Some(row) = content(c, self.vault_id, key)? else {
            return Ok(());
        };
        let (Some(signer), Some(sig)) = (row.signer, row.sig.as_deref()) else {
            return Err(Error::Integrity(format!(
                "{} is not signed by any member",
                row.what
            )));
        };
        let mut h = Sha256::new();
        h.update(&row.message);
        h.update(signer.to_le_bytes());
        h.update(sig);
        let hash: [u8; 32] = h.finalize().into();
        if self.seen.borrow().contains(&hash) {
            return Ok(());
        }
        if depth > 32 {
            return Err(Error::Integrity(format!(
                "{} rests on a circle of grants",
                row.what
            )));
        }
        let forged = || {
            Error::Integrity(format!("{} was not written by a member who may (its signature or its signer's authority fails)", row.what))
        };
        let pk = verified_keys_once(c, self.vault_id, self.anchor, signer, self.seen)
            .map_err(|_| forged())?;
        crypto::verify(&pk.sign, &row.message, sig, &row.what).map_err(|_| forged())?;
        let authorised = signer == self.root
            || match (key, &row.grant) {
                (RowKey::Workspace(_), _) => self.owns_earlier(c, signer, row.ws_id, depth)?,
                (RowKey::Grant(..), Some((member, role, narrowed))) => {
                    (*member == signer
                        && !narrowed
                        && role == Role::Owner.as_str()
                        && c.workspace_creator(row.ws_id)? == Some(signer)
                        && self
                            .check_depth(c, RowKey::Workspace(row.ws_id), depth + 1)
                            .is_ok())
                        || self.manages(c, signer, row.ws_id, depth)?
                }
                _ => self.manages(c, signer, row.ws_id, depth)?,
            };
        if !authorised {
            return Err(forged());
        }
        self.seen.borrow_mut().insert(hash);
        Ok(())
    }

    /// Whether `member`'s own workspace grant (verified in turn) includes `manage`.
    fn manages(&self, c: &dyn Storage, member: i64, ws_id: i64, depth: usize) -> Result<bool> {
        let Some(role) = c.role_for(member, ws_id, None)? else {
            return Ok(false);
        };
        if !role.allows(Capability::Manage) {
            return Ok(false);
        }
        Ok(self
            .check_depth(c, RowKey::Grant(member, ws_id, None), depth + 1)
            .is_ok())
    }
}

impl Verifier<'_> {
    /// Whether `member` owns (by a verified grant) a workspace made before `ws_id`.
    fn owns_earlier(&self, c: &dyn Storage, member: i64, ws_id: i64, depth: usize) -> Result<bool> {
        let earlier = c.owned_before(member, ws_id)?;
        Ok(earlier.into_iter().any(|w| {
            self.check_depth(c, RowKey::Grant(member, w, None), depth + 1)
                .is_ok()
        }))
    }
}
