//! Upgrading a vault made before keys enforced roles (one vault key shared by every
//! member) at its owner's first unlock, in one transaction.
//!
//! The owner gets an identity and becomes the root of trust; every other member still
//! in a workspace is re-created with a fresh identity and a one-time passphrase, shown
//! once to the owner; every value is opened with the old workspace key and sealed to
//! its environment's new key (or to its owner alone, if private), its fingerprint
//! recomputed under the project's new key; then every old key is destroyed. If
//! anything fails, nothing is written and the old vault still opens as before.

use std::sync::Arc;

use serde_json::json;

use crate::audit::{self, Author, NewEvent};
use crate::clock::Clock;
use crate::crypto::{self, fingerprint, seal_to, Identity, KdfParams, Key32, SealBatch};
use crate::error::{Error, Result};
use crate::keys::{self, Keyholder, MemberSecret, ValuePlace, INFO_VALUE};
use crate::keys::{certify, insert_passphrase_slot};
use crate::session::Session;
use crate::session::UpgradeReport;
use crate::store::Store;
use crate::value::Passphrase;

/// One-time passphrases: 24 characters of an unambiguous alphabet, in groups of four.
fn one_time_passphrase() -> Result<Passphrase> {
    let alphabet: Vec<char> = "abcdefghjkmnpqrstuvwxyz23456789".chars().collect();
    let raw = crate::generate::generate(24, &alphabet)?;
    let grouped: Vec<String> = raw
        .expose()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Ok(Passphrase::new(grouped.join("-")))
}

fn legacy_value_ad(
    vault_id: &str,
    ws_id: i64,
    project_id: i64,
    env_id: i64,
    secret_id: i64,
    version: i64,
) -> String {
    format!("coffer/value/v1/{vault_id}/{ws_id}/{project_id}/{env_id}/{secret_id}/{version}")
}

fn legacy_workspace_key(
    vault_id: &str,
    vault_key: &Key32,
    name: &str,
    wrapped: &[u8],
) -> Result<Key32> {
    let bytes = crypto::open(
        vault_key,
        wrapped,
        format!("coffer/workspace/v1/{vault_id}/{name}").as_bytes(),
        &format!("the key of workspace '{name}'"),
    )?;
    Key32::from_slice(&bytes)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn upgrade(
    store: Store,
    clock: Arc<dyn Clock>,
    vault_id: String,
    vault_key: Key32,
    owner_id: i64,
    owner: String,
    passphrase: &Passphrase,
    kdf: KdfParams,
) -> Result<Session> {
    if !store.conn().owns_any_workspace(owner_id)? {
        return Err(Error::Auth(
            "this vault was made by an earlier version of Coffer: an owner must unlock it once \
             to upgrade it, and will then give you a new passphrase"
                .into(),
        ));
    }
    let now = clock.now_ms();
    let identity = Identity::generate()?;
    let anchor = identity.public().sign;
    let secret = MemberSecret { identity, anchor };
    let (members, values) = store.write(|tx| {
        let seen = keys::Verified::default();
        let kh = Keyholder {
            vault_id: &vault_id,
            identity: &secret.identity,
            anchor: &secret.anchor,
            member_id: owner_id,
            seen: &seen,
        };
        certify(tx, &vault_id, &secret.identity, owner_id, &owner, &secret.identity.public(), owner_id, false)?;
        let mut members = Vec::new();
        for (id, name, active) in tx.all_members()? {
            // Every old slot wraps the old vault key: none survives.
            for kind in ["passphrase", "device"] {
                for slot in tx.slots_of(id, kind)? {
                    tx.delete_slot(slot.id)?;
                }
            }
            if id == owner_id {
                insert_passphrase_slot(tx, &vault_id, id, &secret, passphrase, kdf, now)?;
                continue;
            }
            if !active {
                continue;
            }
            let theirs = MemberSecret { identity: Identity::generate()?, anchor };
            certify(tx, &vault_id, &secret.identity, owner_id, &name, &theirs.identity.public(), id, true)?;
            let one_time = one_time_passphrase()?;
            insert_passphrase_slot(tx, &vault_id, id, &theirs, &one_time, kdf, now)?;
            members.push((name, one_time));
        }
        let with_keys = tx.legacy_workspace_keys()?;
        let mut values = 0usize;
        for (ws_id, ws, wrapped) in &with_keys {
            let (ws_id, ws) = (*ws_id, ws.as_str());
            let ws_key = legacy_workspace_key(&vault_id, &vault_key, ws, wrapped)?;
            for project in tx.projects_of(ws_id)? {
                let fp_key = kh.new_project_key(tx, ws_id, ws, &project.name, project.id)?;
                for env in tx.environments_of(project.id)? {
                    let p = tx.env_place(env.id)?;
                    let batch = SealBatch::new(&kh.new_env_key(tx, &p, 1, now)?.public(), INFO_VALUE)?;
                    for v in tx.legacy_versions(env.id)? {
                        let what = format!("version {} of '{}' in {}", v.version, v.secret, env.name);
                        let old_ad = legacy_value_ad(&vault_id, ws_id, project.id, env.id, v.secret_id, v.version);
                        let plain = crypto::open(&ws_key, &v.ciphertext, old_ad.as_bytes(), &what)?;
                        let (epoch, owner_pk) = if v.scope == "user" {
                            match keys::verified_keys(tx, &vault_id, &anchor, v.owner_id) {
                                Ok(pk) => (0, Some(pk.kx)),
                                // A private value of a member who left: no one may open it.
                                Err(_) => {
                                    tx.destroy_version(v.id, now)?;
                                    continue;
                                }
                            }
                        } else {
                            (1, None)
                        };
                        let place = ValuePlace {
                            ws,
                            project: &project.name,
                            env: &env.name,
                            secret: &v.secret,
                            secret_id: v.secret_id,
                            scope: &v.scope,
                            owner_id: v.owner_id,
                            version: v.version,
                            epoch,
                        };
                        let ad = keys::value_ad(&vault_id, &place);
                        let ct = match owner_pk {
                            Some(pk) => seal_to(&pk, INFO_VALUE, &plain, &ad)?,
                            None => batch.seal(&plain, &ad)?,
                        };
                        let fp = fingerprint(&fp_key, &plain);
                        tx.reseal_version(v.id, &ct, epoch, Some(&fp.0))?;
                        values += 1;
                    }
                }
            }
            tx.destroy_legacy_workspace_key(ws_id)?;
            // The upgrading owner is the root of trust: they vouch for the directory.
            kh.sign_workspace(tx, ws_id)?;
        }
        // Handles were MACs under the old key; they could not be checked any more.
        tx.delete_all_handles()?;
        let spaces: Vec<(i64, String)> = with_keys.into_iter().map(|(id, name, _)| (id, name)).collect();
        // Recorded in every workspace, where each one's auditors look.
        let names: Vec<&str> = members.iter().map(|m: &(String, Passphrase)| m.0.as_str()).collect();
        for (ws_id, ws) in &spaces {
            let mut ev = NewEvent::new(&owner, "vault.upgrade");
            ev.workspace = Some((*ws_id, ws));
            ev.detail = json!({ "keys": "per member and environment", "members_recreated": names, "values_resealed": values });
            audit::append(tx, Author::Member(owner_id), now, &ev)?;
        }
        // The old events were chained with a MAC under the old key: they are hashed
        // into the signed chain as they stand, and this commit's signature covers them.
        audit::seal_commit(tx, &vault_id, owner_id, &secret.identity)?;
        Ok((members, values))
    })?;
    let mut session = Session::new(store, clock, vault_id, secret, owner_id, owner, kdf)?;
    session.mark_reauthenticated();
    session.upgrade = Some(UpgradeReport { members, values });
    Ok(session)
}
