//! SQL for keys: members' public keys and certificates, environment key pairs by
//! epoch and their seals, project fingerprint keys, member keys, exposures.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// A member's public keys and who certified them, as stored.
pub(crate) struct MemberKeysRow {
    pub name: String,
    pub sign_pk: Option<Vec<u8>>,
    pub kx_pk: Option<Vec<u8>>,
    pub certified_by: Option<i64>,
    pub certificate: Option<Vec<u8>>,
}

pub(crate) fn member_keys_row(c: &Connection, member_id: i64) -> Result<Option<MemberKeysRow>> {
    Ok(c.prepare_cached(
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

pub(crate) struct NewMemberKeys<'a> {
    pub member_id: i64,
    pub sign_pk: &'a [u8],
    pub kx_pk: &'a [u8],
    pub certified_by: i64,
    pub certificate: &'a [u8],
    pub must_change_passphrase: bool,
}

pub(crate) fn set_member_keys(c: &Connection, k: &NewMemberKeys<'_>) -> Result<()> {
    c.execute(
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

pub(crate) fn must_change_passphrase(c: &Connection, member_id: i64) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT must_change_passphrase FROM members WHERE id = ?1")?
            .query_row([member_id], |r| r.get(0))?,
    )
}

pub(crate) fn set_must_change_passphrase(c: &Connection, member_id: i64, v: bool) -> Result<()> {
    c.execute(
        "UPDATE members SET must_change_passphrase = ?2 WHERE id = ?1",
        params![member_id, v],
    )?;
    Ok(())
}

/// Every member holding any grant in a workspace.
pub(crate) fn member_ids_in_workspace(c: &Connection, workspace_id: i64) -> Result<Vec<i64>> {
    let mut st = c.prepare_cached(
        "SELECT DISTINCT member_id FROM grants WHERE workspace_id = ?1 ORDER BY member_id",
    )?;
    let rows = st.query_map([workspace_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Members with a grant anywhere, and those without (removed; kept for history).
pub(crate) fn all_members(c: &Connection) -> Result<Vec<(i64, String, bool)>> {
    let mut st = c.prepare_cached(
        "SELECT id, name, EXISTS (SELECT 1 FROM grants g WHERE g.member_id = m.id)
         FROM members m ORDER BY id",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---- environment keys ----

pub(crate) fn insert_env_key(
    c: &Connection,
    environment_id: i64,
    epoch: i64,
    public_key: &[u8],
    now: i64,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO env_keys(environment_id, epoch, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![environment_id, epoch, public_key, now])?;
    Ok(())
}

/// The newest epoch of an environment's key and its public key.
pub(crate) fn current_env_key(
    c: &Connection,
    environment_id: i64,
) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(c.prepare_cached(
        "SELECT epoch, public_key FROM env_keys WHERE environment_id = ?1
             ORDER BY epoch DESC LIMIT 1",
    )?
    .query_row([environment_id], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()?)
}

pub(crate) fn env_key_seal(
    c: &Connection,
    environment_id: i64,
    epoch: i64,
    member_id: i64,
) -> Result<Option<Vec<u8>>> {
    Ok(c.prepare_cached(
        "SELECT sealed FROM env_key_seals
             WHERE environment_id = ?1 AND epoch = ?2 AND member_id = ?3",
    )?
    .query_row(params![environment_id, epoch, member_id], |r| r.get(0))
    .optional()?)
}

pub(crate) fn put_env_key_seal(
    c: &Connection,
    environment_id: i64,
    epoch: i64,
    member_id: i64,
    sealed: &[u8],
) -> Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO env_key_seals(environment_id, epoch, member_id, sealed)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![environment_id, epoch, member_id, sealed])?;
    Ok(())
}

/// Environments of a workspace whose key (any epoch) is sealed to the member.
pub(crate) fn envs_sealed_to(
    c: &Connection,
    member_id: i64,
    workspace_id: i64,
) -> Result<Vec<i64>> {
    let mut st = c.prepare_cached(
        "SELECT DISTINCT k.environment_id FROM env_key_seals k
         JOIN environments e ON e.id = k.environment_id
         JOIN projects p ON p.id = e.project_id
         WHERE k.member_id = ?1 AND p.workspace_id = ?2 ORDER BY k.environment_id",
    )?;
    let rows = st.query_map(params![member_id, workspace_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Destroys every key pair of an environment older than `epoch`, with their seals.
pub(crate) fn drop_env_keys_before(c: &Connection, environment_id: i64, epoch: i64) -> Result<()> {
    c.execute(
        "DELETE FROM env_key_seals WHERE environment_id = ?1 AND epoch < ?2",
        params![environment_id, epoch],
    )?;
    c.execute(
        "DELETE FROM env_keys WHERE environment_id = ?1 AND epoch < ?2",
        params![environment_id, epoch],
    )?;
    Ok(())
}

// ---- project fingerprint keys and member keys ----

pub(crate) fn project_key_seal(
    c: &Connection,
    project_id: i64,
    member_id: i64,
) -> Result<Option<Vec<u8>>> {
    Ok(c.prepare_cached(
        "SELECT sealed FROM project_keys WHERE project_id = ?1 AND member_id = ?2",
    )?
    .query_row(params![project_id, member_id], |r| r.get(0))
    .optional()?)
}

pub(crate) fn put_project_key_seal(
    c: &Connection,
    project_id: i64,
    member_id: i64,
    sealed: &[u8],
) -> Result<()> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO project_keys(project_id, member_id, sealed) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![project_id, member_id, sealed])?;
    Ok(())
}

pub(crate) fn delete_project_key_seal(
    c: &Connection,
    project_id: i64,
    member_id: i64,
) -> Result<()> {
    c.execute(
        "DELETE FROM project_keys WHERE project_id = ?1 AND member_id = ?2",
        params![project_id, member_id],
    )?;
    Ok(())
}

pub(crate) fn member_key(c: &Connection, member_id: i64, purpose: &str) -> Result<Option<Vec<u8>>> {
    Ok(
        c.prepare_cached("SELECT sealed FROM member_keys WHERE member_id = ?1 AND purpose = ?2")?
            .query_row(params![member_id, purpose], |r| r.get(0))
            .optional()?,
    )
}

pub(crate) fn put_member_key(
    c: &Connection,
    member_id: i64,
    purpose: &str,
    sealed: &[u8],
) -> Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO member_keys(member_id, purpose, sealed) VALUES (?1, ?2, ?3)",
        params![member_id, purpose, sealed],
    )?;
    Ok(())
}

/// Everything sealed to a member who leaves the vault goes with them.
pub(crate) fn delete_keys_of_member(c: &Connection, member_id: i64) -> Result<()> {
    for sql in [
        "DELETE FROM member_keys WHERE member_id = ?1",
        "DELETE FROM project_keys WHERE member_id = ?1",
        "DELETE FROM env_key_seals WHERE member_id = ?1",
        "DELETE FROM key_slots WHERE member_id = ?1",
    ] {
        c.execute(sql, [member_id])?;
    }
    Ok(())
}

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

/// Versions of an environment sealed to its key (not to one member) that hold ciphertext.
pub(crate) fn env_sealed_versions(
    c: &Connection,
    environment_id: i64,
) -> Result<Vec<SealedVersion>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {SEALED_COLS}
         WHERE v.environment_id = ?1 AND v.ciphertext IS NOT NULL AND v.epoch >= 1"
    ))?;
    let rows = st.query_map([environment_id], sealed_version)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Versions of an environment still sealed by a workspace key of format 1.
pub(crate) fn legacy_versions(c: &Connection, environment_id: i64) -> Result<Vec<SealedVersion>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {SEALED_COLS}
         WHERE v.environment_id = ?1 AND v.ciphertext IS NOT NULL AND v.epoch IS NULL"
    ))?;
    let rows = st.query_map([environment_id], sealed_version)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn reseal_version(
    c: &Connection,
    version_id: i64,
    ciphertext: &[u8],
    epoch: i64,
    fingerprint: Option<&[u8]>,
) -> Result<()> {
    c.prepare_cached(
        "UPDATE versions SET ciphertext = ?2, epoch = ?3, fingerprint = coalesce(?4, fingerprint)
         WHERE id = ?1",
    )?
    .execute(params![version_id, ciphertext, epoch, fingerprint])?;
    Ok(())
}

// ---- exposures ----

/// Marks every live, current value of an environment as exposed to `member`.
pub(crate) fn mark_exposed(
    c: &Connection,
    environment_id: i64,
    member: &str,
    now: i64,
) -> Result<usize> {
    Ok(c.execute(
        "INSERT OR IGNORE INTO exposures(secret_id, environment_id, member, at)
         SELECT v.secret_id, v.environment_id, ?2, ?3 FROM versions v
         JOIN secrets s ON s.id = v.secret_id
         WHERE v.environment_id = ?1 AND v.superseded_at IS NULL AND v.ciphertext IS NOT NULL
           AND s.scope = 'workspace' AND s.deleted_at IS NULL",
        params![environment_id, member, now],
    )?)
}

/// A new value in (secret, environment) is one the exposed member never saw.
pub(crate) fn clear_exposure(c: &Connection, secret_id: i64, environment_id: i64) -> Result<()> {
    c.prepare_cached("DELETE FROM exposures WHERE secret_id = ?1 AND environment_id = ?2")?
        .execute(params![secret_id, environment_id])?;
    Ok(())
}

/// Per secret of a project: (environment id, member) pairs it is exposed to.
pub(crate) fn exposures_of_project(
    c: &Connection,
    project_id: i64,
) -> Result<HashMap<i64, Vec<(i64, String)>>> {
    let mut st = c.prepare_cached(
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
