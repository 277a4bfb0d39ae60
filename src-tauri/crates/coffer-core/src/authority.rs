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

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::access::{Capability, Role};
use crate::crypto::{self, place};
use crate::error::{Error, Result};
use crate::keys::{verified_keys_once, Keyholder, Verified};

/// One signed row, by its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RowKey<'a> {
    Workspace(i64),
    Project(i64),
    Environment(i64),
    /// (member, workspace, project)
    Grant(i64, i64, Option<i64>),
    /// (workspace, setting key)
    Setting(i64, &'a str),
}

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

fn content(c: &Connection, vault_id: &str, key: RowKey<'_>) -> Result<Option<Signed>> {
    let v = vault_id.as_bytes();
    let row = match key {
        RowKey::Workspace(id) => c
            .prepare_cached("SELECT name, signer, sig, creator FROM workspaces WHERE id = ?1")?
            .query_row([id], |r| {
                let name: String = r.get(0)?;
                let creator: Option<i64> = r.get(3)?;
                Ok(Signed {
                    message: place(&[
                        b"coffer/dir/v1/workspace",
                        v,
                        &id.to_le_bytes(),
                        name.as_bytes(),
                        &creator.unwrap_or(0).to_le_bytes(),
                    ]),
                    signer: r.get(1)?,
                    sig: r.get(2)?,
                    ws_id: id,
                    what: format!("workspace '{name}'"),
                    grant: None,
                })
            })
            .optional()?,
        RowKey::Project(id) => c
            .prepare_cached(
                "SELECT p.name, w.name, w.id, p.signer, p.sig FROM projects p
                 JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?1",
            )?
            .query_row([id], |r| {
                let (name, ws): (String, String) = (r.get(0)?, r.get(1)?);
                Ok(Signed {
                    message: place(&[b"coffer/dir/v1/project", v, ws.as_bytes(), &id.to_le_bytes(), name.as_bytes()]),
                    signer: r.get(3)?,
                    sig: r.get(4)?,
                    ws_id: r.get(2)?,
                    what: format!("project '{name}' of workspace '{ws}'"),
                    grant: None,
                })
            })
            .optional()?,
        RowKey::Environment(id) => c
            .prepare_cached(
                "SELECT e.name, e.protected, p.name, w.name, w.id, e.signer, e.sig FROM environments e
                 JOIN projects p ON p.id = e.project_id JOIN workspaces w ON w.id = p.workspace_id
                 WHERE e.id = ?1",
            )?
            .query_row([id], |r| {
                let (name, protected, project, ws): (String, bool, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(Signed {
                    message: place(&[
                        b"coffer/dir/v1/environment",
                        v,
                        ws.as_bytes(),
                        project.as_bytes(),
                        &id.to_le_bytes(),
                        name.as_bytes(),
                        &[u8::from(protected)],
                    ]),
                    signer: r.get(5)?,
                    sig: r.get(6)?,
                    ws_id: r.get(4)?,
                    what: format!("environment '{name}' of project '{project}'"),
                    grant: None,
                })
            })
            .optional()?,
        RowKey::Grant(member, ws_id, project) => c
            .prepare_cached(
                "SELECT g.role, m.name, w.name, p.name, g.signer, g.sig FROM grants g
                 JOIN members m ON m.id = g.member_id JOIN workspaces w ON w.id = g.workspace_id
                 LEFT JOIN projects p ON p.id = g.project_id
                 WHERE g.member_id = ?1 AND g.workspace_id = ?2 AND g.project_id IS ?3",
            )?
            .query_row(params![member, ws_id, project], |r| {
                let (role, name, ws, proj): (String, String, String, Option<String>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok(Signed {
                    message: place(&[
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
                    signer: r.get(4)?,
                    sig: r.get(5)?,
                    ws_id,
                    what: match &proj {
                        Some(p) => format!("the role of '{name}' in project '{p}' of workspace '{ws}'"),
                        None => format!("the role of '{name}' in workspace '{ws}'"),
                    },
                    grant: Some((member, role, project.is_some())),
                })
            })
            .optional()?,
        RowKey::Setting(ws_id, k) => c
            .prepare_cached(
                "SELECT s.value, w.name, s.signer, s.sig FROM settings s
                 JOIN workspaces w ON w.id = s.workspace_id WHERE s.workspace_id = ?1 AND s.key = ?2",
            )?
            .query_row(params![ws_id, k], |r| {
                let (value, ws): (String, String) = (r.get(0)?, r.get(1)?);
                Ok(Signed {
                    message: place(&[b"coffer/dir/v1/setting", v, ws.as_bytes(), &ws_id.to_le_bytes(), k.as_bytes(), value.as_bytes()]),
                    signer: r.get(2)?,
                    sig: r.get(3)?,
                    ws_id,
                    what: format!("setting {k} of workspace '{ws}'"),
                    grant: None,
                })
            })
            .optional()?,
    };
    Ok(row)
}

fn store_signature(c: &Connection, key: RowKey<'_>, signer: i64, sig: &[u8]) -> Result<()> {
    match key {
        RowKey::Workspace(id) => c.execute("UPDATE workspaces SET signer = ?2, sig = ?3 WHERE id = ?1", params![id, signer, sig])?,
        RowKey::Project(id) => c.execute("UPDATE projects SET signer = ?2, sig = ?3 WHERE id = ?1", params![id, signer, sig])?,
        RowKey::Environment(id) => c.execute("UPDATE environments SET signer = ?2, sig = ?3 WHERE id = ?1", params![id, signer, sig])?,
        RowKey::Grant(m, w, p) => c.execute(
            "UPDATE grants SET signer = ?4, sig = ?5 WHERE member_id = ?1 AND workspace_id = ?2 AND project_id IS ?3",
            params![m, w, p, signer, sig],
        )?,
        RowKey::Setting(w, k) => c.execute(
            "UPDATE settings SET signer = ?3, sig = ?4 WHERE workspace_id = ?1 AND key = ?2",
            params![w, k, signer, sig],
        )?,
    };
    Ok(())
}

/// The member who is the vault's root of trust (their keys certify themselves and
/// are the anchor of every member's slot).
pub(crate) fn root_member(c: &Connection, anchor: &[u8; 32]) -> Result<i64> {
    c.prepare_cached("SELECT id FROM members WHERE certified_by = id AND sign_pk = ?1")?
        .query_row([&anchor[..]], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::Integrity("the vault's root of trust is missing".into()))
}

impl Keyholder<'_> {
    /// Signs a row as it now stands in the transaction.
    pub fn sign(&self, c: &Connection, key: RowKey<'_>) -> Result<()> {
        let row = content(c, self.vault_id, key)?
            .ok_or_else(|| Error::Integrity("a row to sign is missing".into()))?;
        store_signature(c, key, self.member_id, &self.identity.sign(&row.message))
    }

    /// Signs every row of a workspace (an upgrade, or a workspace made before rows
    /// were signed).
    pub fn sign_workspace(&self, c: &Connection, ws_id: i64) -> Result<()> {
        for key in rows_of_workspace(c, ws_id, None)? {
            self.sign(c, key.as_ref())?;
        }
        Ok(())
    }

    /// After `member` lost `manage` in a workspace: the rows there they had signed
    /// are signed again by this member, who may.
    pub fn take_over_rows(&self, c: &Connection, ws_id: i64, member: i64) -> Result<usize> {
        let mut keys = rows_of_workspace(c, ws_id, Some(member))?;
        // Workspaces they created later rest on their owning this one: this member,
        // who does, vouches for them now (their creator stays named in the row).
        let mut st = c.prepare("SELECT id FROM workspaces WHERE signer = ?1 AND id > ?2")?;
        for id in st.query_map(params![member, ws_id], |r| r.get::<_, i64>(0))? {
            keys.push(OwnedKey::Workspace(id?));
        }
        for key in &keys {
            self.sign(c, key.as_ref())?;
        }
        Ok(keys.len())
    }
}

/// An owned [`RowKey`].
pub(crate) enum OwnedKey {
    Workspace(i64),
    Project(i64),
    Environment(i64),
    Grant(i64, i64, Option<i64>),
    Setting(i64, String),
}

impl OwnedKey {
    fn as_ref(&self) -> RowKey<'_> {
        match self {
            OwnedKey::Workspace(i) => RowKey::Workspace(*i),
            OwnedKey::Project(i) => RowKey::Project(*i),
            OwnedKey::Environment(i) => RowKey::Environment(*i),
            OwnedKey::Grant(m, w, p) => RowKey::Grant(*m, *w, *p),
            OwnedKey::Setting(w, k) => RowKey::Setting(*w, k),
        }
    }
}

/// The signed rows of a workspace, all or only those `signer` signed.
fn rows_of_workspace(c: &Connection, ws_id: i64, signer: Option<i64>) -> Result<Vec<OwnedKey>> {
    let mut out = Vec::new();
    let by = |s: Option<i64>| signer.is_none() || s == signer;
    // A workspace row names its creator, which their own owner grant there rests on:
    // it is signed anew only when the whole workspace is.
    if signer.is_none() {
        out.push(OwnedKey::Workspace(ws_id));
    }
    let mut st = c.prepare("SELECT id, signer FROM projects WHERE workspace_id = ?1")?;
    for r in st.query_map([ws_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
    })? {
        let (id, s) = r?;
        if by(s) {
            out.push(OwnedKey::Project(id));
        }
    }
    let mut st = c.prepare(
        "SELECT e.id, e.signer FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.workspace_id = ?1",
    )?;
    for r in st.query_map([ws_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
    })? {
        let (id, s) = r?;
        if by(s) {
            out.push(OwnedKey::Environment(id));
        }
    }
    let mut st =
        c.prepare("SELECT member_id, project_id, signer FROM grants WHERE workspace_id = ?1")?;
    for r in st.query_map([ws_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, Option<i64>>(2)?,
        ))
    })? {
        let (m, p, s) = r?;
        if by(s) {
            out.push(OwnedKey::Grant(m, ws_id, p));
        }
    }
    let mut st = c.prepare("SELECT key, signer FROM settings WHERE workspace_id = ?1")?;
    for r in st.query_map([ws_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
    })? {
        let (k, s) = r?;
        if by(s) {
            out.push(OwnedKey::Setting(ws_id, k));
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
    pub fn check(&self, c: &Connection, key: RowKey<'_>) -> Result<()> {
        self.check_depth(c, key, 0)
    }

    fn check_depth(&self, c: &Connection, key: RowKey<'_>, depth: usize) -> Result<()> {
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
                        && created_by(c, row.ws_id)? == Some(signer)
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
    fn manages(&self, c: &Connection, member: i64, ws_id: i64, depth: usize) -> Result<bool> {
        let role: Option<String> = c
            .prepare_cached("SELECT role FROM grants WHERE member_id = ?1 AND workspace_id = ?2 AND project_id IS NULL")?
            .query_row(params![member, ws_id], |r| r.get(0))
            .optional()?;
        let Some(role) = role.and_then(|r| r.parse::<Role>().ok()) else {
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
    fn owns_earlier(&self, c: &Connection, member: i64, ws_id: i64, depth: usize) -> Result<bool> {
        let earlier: Vec<i64> = c
            .prepare_cached(
                "SELECT workspace_id FROM grants WHERE member_id = ?1 AND project_id IS NULL
                   AND role = 'owner' AND workspace_id < ?2",
            )?
            .query_map(params![member, ws_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(earlier.into_iter().any(|w| {
            self.check_depth(c, RowKey::Grant(member, w, None), depth + 1)
                .is_ok()
        }))
    }
}

fn created_by(c: &Connection, ws_id: i64) -> Result<Option<i64>> {
    Ok(
        c.prepare_cached("SELECT creator FROM workspaces WHERE id = ?1")?
            .query_row([ws_id], |r| r.get(0))
            .optional()?
            .flatten(),
    )
}
