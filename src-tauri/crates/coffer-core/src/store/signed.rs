//! The directory's signed rows: what each one says, who signed it, and the signature.
//! What the signature covers (the canonical message) is built by `authority`.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

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

/// An owned [`RowKey`].
pub(crate) enum OwnedKey {
    Workspace(i64),
    Project(i64),
    Environment(i64),
    Grant(i64, i64, Option<i64>),
    Setting(i64, String),
}

impl OwnedKey {
    pub(crate) fn as_ref(&self) -> RowKey<'_> {
        match self {
            OwnedKey::Workspace(i) => RowKey::Workspace(*i),
            OwnedKey::Project(i) => RowKey::Project(*i),
            OwnedKey::Environment(i) => RowKey::Environment(*i),
            OwnedKey::Grant(m, w, p) => RowKey::Grant(*m, *w, *p),
            OwnedKey::Setting(w, k) => RowKey::Setting(*w, k),
        }
    }
}

/// What a signed row says, with the names of the places it sits in.
pub(crate) enum RowContent {
    Workspace {
        name: String,
        creator: Option<i64>,
    },
    Project {
        name: String,
        ws: String,
        ws_id: i64,
    },
    Environment {
        name: String,
        protected: bool,
        project: String,
        ws: String,
        ws_id: i64,
    },
    Grant {
        role: String,
        member: String,
        ws: String,
        project: Option<String>,
    },
    Setting {
        value: String,
        ws: String,
    },
}

pub(crate) struct SignedRow {
    pub content: RowContent,
    pub signer: Option<i64>,
    pub sig: Option<Vec<u8>>,
}

/// The signed rows of the directory: their content and signatures.
pub(crate) trait SignedStore {
    fn signed_row(&self, key: RowKey<'_>) -> Result<Option<SignedRow>>;

    fn store_signature(&self, key: RowKey<'_>, signer: i64, sig: &[u8]) -> Result<()>;

    /// The member whose keys certify themselves with this signing key.
    fn self_certified_member(&self, sign_pk: &[u8; 32]) -> Result<Option<i64>>;

    /// Workspaces made after `ws_id` whose row `member` signed.
    fn workspaces_signed_after(&self, member: i64, ws_id: i64) -> Result<Vec<i64>>;

    /// The signed rows inside a workspace (its projects, environments, grants and
    /// settings; not the workspace row itself), each with its signer.
    fn signed_rows_in(&self, ws_id: i64) -> Result<Vec<(OwnedKey, Option<i64>)>>;

    /// Workspaces made before `ws_id` where `member` holds an owner grant.
    fn owned_before(&self, member: i64, ws_id: i64) -> Result<Vec<i64>>;

    fn workspace_creator(&self, ws_id: i64) -> Result<Option<i64>>;
}

impl SignedStore for Connection {
    fn signed_row(&self, key: RowKey<'_>) -> Result<Option<SignedRow>> {
        let signed = |content, r: &rusqlite::Row<'_>, at: usize| {
            Ok(SignedRow {
                content,
                signer: r.get(at)?,
                sig: r.get(at + 1)?,
            })
        };
        let row = match key {
            RowKey::Workspace(id) => self
                .prepare_cached("SELECT name, creator, signer, sig FROM workspaces WHERE id = ?1")?
                .query_row([id], |r| {
                    signed(RowContent::Workspace { name: r.get(0)?, creator: r.get(1)? }, r, 2)
                })
                .optional()?,
            RowKey::Project(id) => self
                .prepare_cached(
                    "SELECT p.name, w.name, w.id, p.signer, p.sig FROM projects p
                     JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?1",
                )?
                .query_row([id], |r| {
                    let content = RowContent::Project { name: r.get(0)?, ws: r.get(1)?, ws_id: r.get(2)? };
                    signed(content, r, 3)
                })
                .optional()?,
            RowKey::Environment(id) => self
                .prepare_cached(
                    "SELECT e.name, e.protected, p.name, w.name, w.id, e.signer, e.sig FROM environments e
                     JOIN projects p ON p.id = e.project_id JOIN workspaces w ON w.id = p.workspace_id
                     WHERE e.id = ?1",
                )?
                .query_row([id], |r| {
                    let content = RowContent::Environment {
                        name: r.get(0)?,
                        protected: r.get(1)?,
                        project: r.get(2)?,
                        ws: r.get(3)?,
                        ws_id: r.get(4)?,
                    };
                    signed(content, r, 5)
                })
                .optional()?,
            RowKey::Grant(member, ws_id, project) => self
                .prepare_cached(
                    "SELECT g.role, m.name, w.name, p.name, g.signer, g.sig FROM grants g
                     JOIN members m ON m.id = g.member_id JOIN workspaces w ON w.id = g.workspace_id
                     LEFT JOIN projects p ON p.id = g.project_id
                     WHERE g.member_id = ?1 AND g.workspace_id = ?2 AND g.project_id IS ?3",
                )?
                .query_row(params![member, ws_id, project], |r| {
                    let content = RowContent::Grant {
                        role: r.get(0)?,
                        member: r.get(1)?,
                        ws: r.get(2)?,
                        project: r.get(3)?,
                    };
                    signed(content, r, 4)
                })
                .optional()?,
            RowKey::Setting(ws_id, k) => self
                .prepare_cached(
                    "SELECT s.value, w.name, s.signer, s.sig FROM settings s
                     JOIN workspaces w ON w.id = s.workspace_id WHERE s.workspace_id = ?1 AND s.key = ?2",
                )?
                .query_row(params![ws_id, k], |r| {
                    signed(RowContent::Setting { value: r.get(0)?, ws: r.get(1)? }, r, 2)
                })
                .optional()?,
        };
        Ok(row)
    }

    fn store_signature(&self, key: RowKey<'_>, signer: i64, sig: &[u8]) -> Result<()> {
        match key {
            RowKey::Workspace(id) => self.execute("UPDATE workspaces SET signer = ?2, sig = ?3 WHERE id = ?1", params![id, signer, sig])?,
            RowKey::Project(id) => self.execute("UPDATE projects SET signer = ?2, sig = ?3 WHERE id = ?1", params![id, signer, sig])?,
            RowKey::Environment(id) => self.execute("UPDATE environments SET signer = ?2, sig = ?3 WHERE id = ?1", params![id, signer, sig])?,
            RowKey::Grant(m, w, p) => self.execute(
                "UPDATE grants SET signer = ?4, sig = ?5 WHERE member_id = ?1 AND workspace_id = ?2 AND project_id IS ?3",
                params![m, w, p, signer, sig],
            )?,
            RowKey::Setting(w, k) => self.execute(
                "UPDATE settings SET signer = ?3, sig = ?4 WHERE workspace_id = ?1 AND key = ?2",
                params![w, k, signer, sig],
            )?,
        };
        Ok(())
    }

    fn self_certified_member(&self, sign_pk: &[u8; 32]) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached("SELECT id FROM members WHERE certified_by = id AND sign_pk = ?1")?
            .query_row([&sign_pk[..]], |r| r.get(0))
            .optional()?)
    }

    fn workspaces_signed_after(&self, member: i64, ws_id: i64) -> Result<Vec<i64>> {
        let mut st =
            self.prepare_cached("SELECT id FROM workspaces WHERE signer = ?1 AND id > ?2")?;
        let rows = st.query_map(params![member, ws_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn signed_rows_in(&self, ws_id: i64) -> Result<Vec<(OwnedKey, Option<i64>)>> {
        let mut out = Vec::new();
        let mut st =
            self.prepare_cached("SELECT id, signer FROM projects WHERE workspace_id = ?1")?;
        for r in st.query_map([ws_id], |r| Ok((OwnedKey::Project(r.get(0)?), r.get(1)?)))? {
            out.push(r?);
        }
        let mut st = self.prepare_cached(
            "SELECT e.id, e.signer FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.workspace_id = ?1",
        )?;
        for r in st.query_map([ws_id], |r| {
            Ok((OwnedKey::Environment(r.get(0)?), r.get(1)?))
        })? {
            out.push(r?);
        }
        let mut st = self.prepare_cached(
            "SELECT member_id, project_id, signer FROM grants WHERE workspace_id = ?1",
        )?;
        for r in st.query_map([ws_id], |r| {
            Ok((OwnedKey::Grant(r.get(0)?, ws_id, r.get(1)?), r.get(2)?))
        })? {
            out.push(r?);
        }
        let mut st =
            self.prepare_cached("SELECT key, signer FROM settings WHERE workspace_id = ?1")?;
        for r in st.query_map([ws_id], |r| {
            Ok((OwnedKey::Setting(ws_id, r.get(0)?), r.get(1)?))
        })? {
            out.push(r?);
        }
        Ok(out)
    }

    fn owned_before(&self, member: i64, ws_id: i64) -> Result<Vec<i64>> {
        let mut st = self.prepare_cached(
            "SELECT workspace_id FROM grants WHERE member_id = ?1 AND project_id IS NULL
               AND role = 'owner' AND workspace_id < ?2",
        )?;
        let rows = st.query_map(params![member, ws_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn workspace_creator(&self, ws_id: i64) -> Result<Option<i64>> {
        Ok(self
            .prepare_cached("SELECT creator FROM workspaces WHERE id = ?1")?
            .query_row([ws_id], |r| r.get(0))
            .optional()?
            .flatten())
    }
}
