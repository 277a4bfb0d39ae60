//! SQL for keys: members' public keys and certificates, environment key pairs by
//! epoch and their seals, project fingerprint keys, member keys, exposures.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// A member's public keys and who certified them, as stored.
#[derive(Clone)]
pub(crate) struct MemberKeysRow {
    pub name: String,
    pub sign_pk: Option<Vec<u8>>,
    pub kx_pk: Option<Vec<u8>>,
    pub certified_by: Option<i64>,
    pub certificate: Option<Vec<u8>>,
}

pub(crate) struct NewMemberKeys<'a> {
    pub member_id: i64,
    pub sign_pk: &'a [u8],
    pub kx_pk: &'a [u8],
    pub certified_by: i64,
    pub certificate: &'a [u8],
    pub must_change_passphrase: bool,
}

// ---- environment keys ----

// ---- project fingerprint keys and member keys ----

// ---- sealed versions ----

/// A version that still holds ciphertext, with what its associated data names.
pub(crate) struct SealedVersion {
    pub id: i64,
    pub secret_id: i64,
    pub secret: String,
    pub scope: String,
    pub owner_id: i64,
    pub version: i64,
    pub epoch: Option<i64>,
    pub ciphertext: Vec<u8>,
}

fn sealed_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<SealedVersion> {
    Ok(SealedVersion {
        id: r.get(0)?,
        secret_id: r.get(1)?,
        secret: r.get(2)?,
        scope: r.get(3)?,
        owner_id: r.get(4)?,
        version: r.get(5)?,
        epoch: r.get(6)?,
        ciphertext: r.get(7)?,
    })
}

const SEALED_COLS: &str = "v.id, v.secret_id, s.name, s.scope, s.owner_id, v.version, v.epoch,
    v.ciphertext FROM versions v JOIN secrets s ON s.id = v.secret_id";

// ---- exposures ----

/// An environment with the names its keys are bound to.
#[derive(Clone)]
pub(crate) struct EnvPlace {
    pub ws_id: i64,
    pub ws: String,
    pub project_id: i64,
    pub project: String,
    pub env_id: i64,
    pub env: String,
}

/// Where certificate chains are read from: the vault, or the keys an exported trail
/// carries.
pub(crate) trait MemberKeyRows {
    /// A member's current keys and certificate.
    fn key_row(&self, member_id: i64) -> Result<Option<MemberKeysRow>>;
    /// Keys a member held before, newest first.
    fn past_key_rows(&self, member_id: i64) -> Result<Vec<MemberKeysRow>>;
}

impl<T: KeyStore + ?Sized> MemberKeyRows for T {
    fn key_row(&self, member_id: i64) -> Result<Option<MemberKeysRow>> {
        self.member_keys_row(member_id)
    }
    fn past_key_rows(&self, member_id: i64) -> Result<Vec<MemberKeysRow>> {
        self.past_member_keys(member_id)
    }
}

/// Member identities, sealed environment and project keys, exposures.
pub(crate) trait KeyStore {
    fn member_keys_row(&self, member_id: i64) -> Result<Option<MemberKeysRow>>;

    fn set_member_keys(&self, k: &NewMemberKeys<'_>) -> Result<()>;

    fn must_change_passphrase(&self, member_id: i64) -> Result<bool>;

    fn set_must_change_passphrase(&self, member_id: i64, v: bool) -> Result<()>;

    /// Every member holding any grant in a workspace.
    fn member_ids_in_workspace(&self, workspace_id: i64) -> Result<Vec<i64>>;

    /// Members with a grant anywhere, and those without (removed; kept for history).
    fn all_members(&self) -> Result<Vec<(i64, String, bool)>>;

    fn insert_env_key(
        &self,
        environment_id: i64,
        epoch: i64,
        public_key: &[u8],
        now: i64,
    ) -> Result<()>;

    /// The newest epoch of an environment's key and its public key.
    fn current_env_key(&self, environment_id: i64) -> Result<Option<(i64, Vec<u8>)>>;

    fn env_key_seal(
        &self,
        environment_id: i64,
        epoch: i64,
        member_id: i64,
    ) -> Result<Option<Vec<u8>>>;

    fn put_env_key_seal(
        &self,
        environment_id: i64,
        epoch: i64,
        member_id: i64,
        sealed: &[u8],
    ) -> Result<()>;

    /// Environments of a workspace whose key (any epoch) is sealed to the member.
    fn envs_sealed_to(&self, member_id: i64, workspace_id: i64) -> Result<Vec<i64>>;

    /// Destroys every key pair of an environment older than `epoch`, with their seals.
    fn drop_env_keys_before(&self, environment_id: i64, epoch: i64) -> Result<()>;

    fn project_key_seal(&self, project_id: i64, member_id: i64) -> Result<Option<Vec<u8>>>;

    fn put_project_key_seal(&self, project_id: i64, member_id: i64, sealed: &[u8]) -> Result<()>;

    fn delete_project_key_seal(&self, project_id: i64, member_id: i64) -> Result<()>;

    /// Everything sealed to a member who leaves the vault goes with them.
    fn delete_keys_of_member(&self, member_id: i64) -> Result<()>;

    /// Keeps a member's keys before they are replaced (a removed member added again),
    /// so what they signed still verifies.
    fn retire_member_keys(&self, member_id: i64, now: i64) -> Result<()>;

    /// Keys a member held before, newest first.
    fn past_member_keys(&self, member_id: i64) -> Result<Vec<MemberKeysRow>>;

    /// Versions of an environment sealed to its key (not to one member) that hold ciphertext.
    fn env_sealed_versions(&self, environment_id: i64) -> Result<Vec<SealedVersion>>;

    /// Versions of an environment still sealed by a workspace key of format 1.
    fn legacy_versions(&self, environment_id: i64) -> Result<Vec<SealedVersion>>;

    fn reseal_version(
        &self,
        version_id: i64,
        ciphertext: &[u8],
        epoch: i64,
        fingerprint: Option<&[u8]>,
    ) -> Result<()>;

    /// Marks every live, current value of an environment as exposed to `member`.
    fn mark_exposed(&self, environment_id: i64, member: &str, now: i64) -> Result<usize>;

    /// A new value in (secret, environment) is one the exposed member never saw.
    fn clear_exposure(&self, secret_id: i64, environment_id: i64) -> Result<()>;

    /// Per secret of a project: (environment id, member) pairs it is exposed to.
    fn exposures_of_project(&self, project_id: i64) -> Result<HashMap<i64, Vec<(i64, String)>>>;

    /// The environment with the names its keys are bound to.
    fn env_place(&self, env_id: i64) -> Result<EnvPlace>;

    /// Workspaces still holding a key of the single-key format (before keys per member
    /// and environment): (id, name, wrapped key).
    fn legacy_workspace_keys(&self) -> Result<Vec<(i64, String, Vec<u8>)>>;

    fn destroy_legacy_workspace_key(&self, ws_id: i64) -> Result<()>;
}

impl KeyStore for Connection {
    fn member_keys_row(&self, member_id: i64) -> Result<Option<MemberKeysRow>> {
        Ok(self
            .prepare_cached(
                "SELECT name, sign_pk, kx_pk, certified_by, certificate FROM members WHERE id = ?1",
            )?
            .query_row([member_id], |r| {
                Ok(MemberKeysRow {
                    name: r.get(0)?,
                    sign_pk: r.get(1)?,
                    kx_pk: r.get(2)?,
                    certified_by: r.get(3)?,
                    certificate: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn set_member_keys(&self, k: &NewMemberKeys<'_>) -> Result<()> {
        self.execute(
            "UPDATE members SET sign_pk = ?2, kx_pk = ?3, certified_by = ?4, certificate = ?5,
                                must_change_passphrase = ?6
             WHERE id = ?1",
            params![
                k.member_id,
                k.sign_pk,
                k.kx_pk,
                k.certified_by,
                k.certificate,
                k.must_change_passphrase
            ],
        )?;
        Ok(())
    }

    fn must_change_passphrase(&self, member_id: i64) -> Result<bool> {
        Ok(self
            .prepare_cached("SELECT must_change_passphrase FROM members WHERE id = ?1")?
            .query_row([member_id], |r| r.get(0))?)
    }

    fn set_must_change_passphrase(&self, member_id: i64, v: bool) -> Result<()> {
        self.execute(
            "UPDATE members SET must_change_passphrase = ?2 WHERE id = ?1",
            params![member_id, v],
        )?;
        Ok(())
    }

    fn member_ids_in_workspace(&self, workspace_id: i64) -> Result<Vec<i64>> {
        let mut st = self.prepare_cached(
            "SELECT DISTINCT member_id FROM grants WHERE workspace_id = ?1 ORDER BY member_id",
        )?;
        let rows = st.query_map([workspace_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn all_members(&self) -> Result<Vec<(i64, String, bool)>> {
        let mut st = self.prepare_cached(
            "SELECT id, name, EXISTS (SELECT 1 FROM grants g WHERE g.member_id = m.id)
             FROM members m ORDER BY id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_env_key(
        &self,
        environment_id: i64,
        epoch: i64,
        public_key: &[u8],
        now: i64,
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT INTO env_keys(environment_id, epoch, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![environment_id, epoch, public_key, now])?;
        Ok(())
    }

    fn current_env_key(&self, environment_id: i64) -> Result<Option<(i64, Vec<u8>)>> {
        Ok(self
            .prepare_cached(
                "SELECT epoch, public_key FROM env_keys WHERE environment_id = ?1
                 ORDER BY epoch DESC LIMIT 1",
            )?
            .query_row([environment_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn env_key_seal(
        &self,
        environment_id: i64,
        epoch: i64,
        member_id: i64,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .prepare_cached(
                "SELECT sealed FROM env_key_seals
                 WHERE environment_id = ?1 AND epoch = ?2 AND member_id = ?3",
            )?
            .query_row(params![environment_id, epoch, member_id], |r| r.get(0))
            .optional()?)
    }

    fn put_env_key_seal(
        &self,
        environment_id: i64,
        epoch: i64,
        member_id: i64,
        sealed: &[u8],
    ) -> Result<()> {
        self.prepare_cached(
            "INSERT OR REPLACE INTO env_key_seals(environment_id, epoch, member_id, sealed)
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![environment_id, epoch, member_id, sealed])?;
        Ok(())
    }

    fn envs_sealed_to(&self, member_id: i64, workspace_id: i64) -> Result<Vec<i64>> {
        let mut st = self.prepare_cached(
            "SELECT DISTINCT k.environment_id FROM env_key_seals k
             JOIN environments e ON e.id = k.environment_id
             JOIN projects p ON p.id = e.project_id
             WHERE k.member_id = ?1 AND p.workspace_id = ?2 ORDER BY k.environment_id",
        )?;
        let rows = st.query_map(params![member_id, workspace_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn drop_env_keys_before(&self, environment_id: i64, epoch: i64) -> Result<()> {
        self.execute(
            "DELETE FROM env_key_seals WHERE environment_id = ?1 AND epoch < ?2",
            params![environment_id, epoch],
        )?;
        self.execute(
            "DELETE FROM env_keys WHERE environment_id = ?1 AND epoch < ?2",
            params![environment_id, epoch],
        )?;
        Ok(())
    }

    fn project_key_seal(&self, project_id: i64, member_id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .prepare_cached(
                "SELECT sealed FROM project_keys WHERE project_id = ?1 AND member_id = ?2",
            )?
            .query_row(params![project_id, member_id], |r| r.get(0))
            .optional()?)
    }

    fn put_project_key_seal(&self, project_id: i64, member_id: i64, sealed: &[u8]) -> Result<()> {
        self.prepare_cached(
            "INSERT OR REPLACE INTO project_keys(project_id, member_id, sealed) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![project_id, member_id, sealed])?;
        Ok(())
    }

    fn delete_project_key_seal(&self, project_id: i64, member_id: i64) -> Result<()> {
        self.execute(
            "DELETE FROM project_keys WHERE project_id = ?1 AND member_id = ?2",
            params![project_id, member_id],
        )?;
        Ok(())
    }

    fn retire_member_keys(&self, member_id: i64, now: i64) -> Result<()> {
        self.execute(
            "INSERT INTO past_member_keys(rowid, member_id, name, sign_pk, kx_pk, certified_by,
                                          certificate, replaced_at)
             SELECT ?3, id, name, sign_pk, kx_pk, certified_by, certificate, ?2 FROM members
             WHERE id = ?1 AND sign_pk IS NOT NULL AND kx_pk IS NOT NULL
               AND certified_by IS NOT NULL AND certificate IS NOT NULL",
            params![
                member_id,
                now,
                super::new_row_id(self, &format!("past_member_key:{member_id}:{now}"))?
            ],
        )?;
        Ok(())
    }

    fn past_member_keys(&self, member_id: i64) -> Result<Vec<MemberKeysRow>> {
        let mut st = self.prepare_cached(
            "SELECT name, sign_pk, kx_pk, certified_by, certificate FROM past_member_keys
             WHERE member_id = ?1 ORDER BY replaced_at DESC",
        )?;
        let rows = st.query_map([member_id], |r| {
            Ok(MemberKeysRow {
                name: r.get(0)?,
                sign_pk: r.get(1)?,
                kx_pk: r.get(2)?,
                certified_by: r.get(3)?,
                certificate: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn delete_keys_of_member(&self, member_id: i64) -> Result<()> {
        for sql in [
            "DELETE FROM member_keys WHERE member_id = ?1",
            "DELETE FROM project_keys WHERE member_id = ?1",
            "DELETE FROM env_key_seals WHERE member_id = ?1",
            "DELETE FROM key_slots WHERE member_id = ?1",
        ] {
            self.execute(sql, [member_id])?;
        }
        Ok(())
    }

    fn env_sealed_versions(&self, environment_id: i64) -> Result<Vec<SealedVersion>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {SEALED_COLS}
             WHERE v.environment_id = ?1 AND v.ciphertext IS NOT NULL AND v.epoch >= 1"
        ))?;
        let rows = st.query_map([environment_id], sealed_version)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn legacy_versions(&self, environment_id: i64) -> Result<Vec<SealedVersion>> {
        let mut st = self.prepare_cached(&format!(
            "SELECT {SEALED_COLS}
             WHERE v.environment_id = ?1 AND v.ciphertext IS NOT NULL AND v.epoch IS NULL"
        ))?;
        let rows = st.query_map([environment_id], sealed_version)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn reseal_version(
        &self,
        version_id: i64,
        ciphertext: &[u8],
        epoch: i64,
        fingerprint: Option<&[u8]>,
    ) -> Result<()> {
        self.prepare_cached(
            "UPDATE versions SET ciphertext = ?2, epoch = ?3, fingerprint = coalesce(?4, fingerprint)
             WHERE id = ?1",
        )?
        .execute(params![version_id, ciphertext, epoch, fingerprint])?;
        Ok(())
    }

    fn mark_exposed(&self, environment_id: i64, member: &str, now: i64) -> Result<usize> {
        Ok(self.execute(
            "INSERT OR IGNORE INTO exposures(secret_id, environment_id, member, at)
             SELECT v.secret_id, v.environment_id, ?2, ?3 FROM versions v
             JOIN secrets s ON s.id = v.secret_id
             WHERE v.environment_id = ?1 AND v.superseded_at IS NULL AND v.ciphertext IS NOT NULL
               AND s.scope = 'workspace' AND s.deleted_at IS NULL",
            params![environment_id, member, now],
        )?)
    }

    fn clear_exposure(&self, secret_id: i64, environment_id: i64) -> Result<()> {
        self.prepare_cached("DELETE FROM exposures WHERE secret_id = ?1 AND environment_id = ?2")?
            .execute(params![secret_id, environment_id])?;
        Ok(())
    }

    fn exposures_of_project(&self, project_id: i64) -> Result<HashMap<i64, Vec<(i64, String)>>> {
        let mut st = self.prepare_cached(
            "SELECT x.secret_id, x.environment_id, x.member FROM exposures x
             JOIN secrets s ON s.id = x.secret_id WHERE s.project_id = ?1
             ORDER BY x.member",
        )?;
        let mut out: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        let mut rows = st.query([project_id])?;
        while let Some(r) = rows.next()? {
            out.entry(r.get(0)?)
                .or_default()
                .push((r.get(1)?, r.get(2)?));
        }
        Ok(out)
    }

    fn env_place(&self, env_id: i64) -> Result<EnvPlace> {
        Ok(self
            .prepare_cached(
                "SELECT w.id, w.name, p.id, p.name, e.id, e.name FROM environments e
             JOIN projects p ON p.id = e.project_id JOIN workspaces w ON w.id = p.workspace_id
             WHERE e.id = ?1",
            )?
            .query_row([env_id], |r| {
                Ok(EnvPlace {
                    ws_id: r.get(0)?,
                    ws: r.get(1)?,
                    project_id: r.get(2)?,
                    project: r.get(3)?,
                    env_id: r.get(4)?,
                    env: r.get(5)?,
                })
            })?)
    }

    fn legacy_workspace_keys(&self) -> Result<Vec<(i64, String, Vec<u8>)>> {
        let mut st = self.prepare("SELECT id, name, wrapped_key FROM workspaces ORDER BY id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn destroy_legacy_workspace_key(&self, ws_id: i64) -> Result<()> {
        self.execute(
            "UPDATE workspaces SET wrapped_key = X'' WHERE id = ?1",
            [ws_id],
        )?;
        Ok(())
    }
}
