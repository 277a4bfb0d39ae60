//! Who holds which key.
//!
//! A member's identity (Ed25519 + X25519) is certified by the member who added them,
//! back to the owner who created the vault; each member's key slot carries that
//! owner's public key as the anchor the chain must end at, so a public key swapped in
//! the file is caught before anything is sealed to it. Each environment has an X25519
//! key pair per epoch: values are sealed to its public key and its private key is
//! sealed to every member whose role there includes `use` or `reveal`. Each project has
//! a fingerprint key sealed to its writers. A member who loses `use` somewhere starts a
//! new epoch there: new key pair, live values re-sealed, old private keys destroyed,
//! values they could use marked exposed.

use zeroize::Zeroizing;

use crate::access::{Capability, Role};
use crate::authority::{RowKey, Verifier};
use crate::crypto::{
    self, open_sealed, place, seal_to, Identity, Key32, KxSecret, Locked, PublicKeys,
};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::store::{self, EnvPlace, EnvRow, MemberKeyRows, Storage};

use crate::crypto::KdfParams;
use crate::store::NewSlot;
use crate::value::Passphrase;

const INFO_ENV_KEY: &[u8] = b"coffer env key v1";
const INFO_PROJECT_KEY: &[u8] = b"coffer project key v1";
pub(crate) const INFO_VALUE: &[u8] = b"coffer value v2";

/// Slot format 2: the member's own private keys and the anchor of trust.
pub(crate) const SLOT_FORMAT: i64 = 2;

/// What a member's key slot opens to: their identity and the public signing key of the
/// vault's root owner, as the member learned it when their keys were made.
pub(crate) struct MemberSecret {
    pub identity: Identity,
    pub anchor: [u8; 32],
}

impl MemberSecret {
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        // Sized up front: a growing buffer would leave a copy behind in freed memory.
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        out.extend_from_slice(&self.identity.secret());
        out.extend_from_slice(&self.anchor);
        out
    }

    /// The length of [`MemberSecret::encode`]'s output: the identity, then the anchor.
    pub const ENCODED_LEN: usize = crypto::IDENTITY_SECRET_LEN + 32;

    pub fn decode(bytes: &[u8]) -> Result<MemberSecret> {
        let n = crypto::IDENTITY_SECRET_LEN;
        if bytes.len() != Self::ENCODED_LEN {
            return Err(Error::Integrity("a key slot holds malformed keys".into()));
        }
        let mut anchor = [0u8; 32];
        anchor.copy_from_slice(&bytes[n..]);
        Ok(MemberSecret {
            identity: Identity::from_secret(&bytes[..n])?,
            anchor,
        })
    }
}

/// Where a value lives, as its associated data names it.
pub(crate) struct ValuePlace<'a> {
    pub ws: &'a str,
    pub project: &'a str,
    pub env: &'a str,
    pub secret: &'a str,
    pub secret_id: i64,
    pub scope: &'a str,
    pub owner_id: i64,
    pub version: i64,
    pub epoch: i64,
}

pub(crate) fn value_ad(vault_id: &str, p: &ValuePlace<'_>) -> Vec<u8> {
    place(&[
        b"coffer/value/v2",
        vault_id.as_bytes(),
        p.ws.as_bytes(),
        p.project.as_bytes(),
        p.env.as_bytes(),
        p.secret.as_bytes(),
        &p.secret_id.to_le_bytes(),
        p.scope.as_bytes(),
        &p.owner_id.to_le_bytes(),
        &p.version.to_le_bytes(),
        &p.epoch.to_le_bytes(),
    ])
}

fn env_key_ad(vault_id: &str, p: &EnvPlace, epoch: i64, member_id: i64) -> Vec<u8> {
    place(&[
        b"coffer/env-key/v1",
        vault_id.as_bytes(),
        p.ws.as_bytes(),
        p.project.as_bytes(),
        p.env.as_bytes(),
        &p.env_id.to_le_bytes(),
        &epoch.to_le_bytes(),
        &member_id.to_le_bytes(),
    ])
}

fn project_key_ad(
    vault_id: &str,
    ws: &str,
    project: &str,
    project_id: i64,
    member_id: i64,
) -> Vec<u8> {
    place(&[
        b"coffer/project-key/v1",
        vault_id.as_bytes(),
        ws.as_bytes(),
        project.as_bytes(),
        &project_id.to_le_bytes(),
        &member_id.to_le_bytes(),
    ])
}

/// What a certificate signs: this member, by id and name, has these public keys.
pub(crate) fn cert_message(vault_id: &str, member_id: i64, name: &str, pk: &PublicKeys) -> Vec<u8> {
    place(&[
        b"coffer/member-cert/v1",
        vault_id.as_bytes(),
        &member_id.to_le_bytes(),
        name.as_bytes(),
        &pk.sign,
        &pk.kx,
    ])
}

fn public_keys_of(row: &store::MemberKeysRow) -> Option<PublicKeys> {
    Some(PublicKeys {
        sign: row.sign_pk.as_deref()?.try_into().ok()?,
        kx: row.kx_pk.as_deref()?.try_into().ok()?,
    })
}

/// Hashes of what verified in this session (directory rows, certificate chains), so a
/// command checks each signature once however often it reads the row.
pub(crate) type Verified = std::cell::RefCell<std::collections::HashSet<[u8; 32]>>;

/// A member's public keys, after checking every certificate from them back to the
/// root owner named by `anchor`.
pub(crate) fn verified_keys(
    c: &dyn Storage,
    vault_id: &str,
    anchor: &[u8; 32],
    member_id: i64,
) -> Result<PublicKeys> {
    verified_keys_once(c, vault_id, anchor, member_id, &Verified::default())
}

/// Every signing key certified for a member, for checking what they signed: their
/// keys now (if their chain verifies) and keys they held before being removed and added
/// again (if the member who certified them verifies); `None` when there are none.
pub(crate) fn author_keys<C: MemberKeyRows + ?Sized>(
    c: &C,
    vault_id: &str,
    anchor: &[u8; 32],
    member_id: i64,
    seen: &Verified,
) -> Result<Option<crate::audit::AuthorKeys>> {
    let Some(row) = c.key_row(member_id)? else {
        return Ok(None);
    };
    let mut keys = Vec::new();
    if let Ok(pk) = verified_keys_once(c, vault_id, anchor, member_id, seen) {
        keys.push(pk.sign);
    }
    for old in c.past_key_rows(member_id)? {
        let (Some(pk), Some(by), Some(cert)) = (
            public_keys_of(&old),
            old.certified_by,
            old.certificate.as_deref(),
        ) else {
            continue;
        };
        let Ok(certifier) = verified_keys_once(c, vault_id, anchor, by, seen) else {
            continue;
        };
        let message = cert_message(vault_id, member_id, &old.name, &pk);
        if crypto::verify(&certifier.sign, &message, cert, "a past certificate").is_ok() {
            keys.push(pk.sign);
        }
    }
    Ok((!keys.is_empty()).then_some(crate::audit::AuthorKeys {
        name: row.name,
        keys,
    }))
}

/// [`verified_keys`], skipping the signature checks of a chain already verified in
/// this session (recognised by the hash of every row of the chain).
pub(crate) fn verified_keys_once<C: MemberKeyRows + ?Sized>(
    c: &C,
    vault_id: &str,
    anchor: &[u8; 32],
    member_id: i64,
    seen: &Verified,
) -> Result<PublicKeys> {
    let mut chain = Vec::new();
    let mut id = member_id;
    loop {
        let row = c.key_row(id)?.ok_or_else(|| {
            Error::Integrity(format!(
                "the certificate chain of member #{member_id} names a missing member"
            ))
        })?;
        let pk = public_keys_of(&row)
            .ok_or_else(|| Error::Integrity(format!("member '{}' has no keys", row.name)))?;
        let by = row.certified_by;
        let root = by == Some(id);
        chain.push((id, row.name, pk, row.certificate.unwrap_or_default()));
        if root {
            if pk.sign != *anchor {
                return Err(Error::Integrity(format!(
                    "member '{}' is recorded as the vault's root of trust but is not",
                    chain.last().map_or("", |c| c.1.as_str())
                )));
            }
            break;
        }
        if chain.len() > 64 {
            return Err(Error::Integrity("a certificate chain does not end".into()));
        }
        id = by.ok_or_else(|| {
            Error::Integrity(format!(
                "the keys of member '{}' are not certified",
                chain.last().map_or("", |c| c.1.as_str())
            ))
        })?;
    }
    let hash = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"coffer chain");
        h.update(anchor);
        for (id, name, pk, cert) in &chain {
            h.update(cert_message(vault_id, *id, name, pk));
            h.update(cert);
        }
        <[u8; 32]>::from(h.finalize())
    };
    if seen.borrow().contains(&hash) {
        return Ok(chain[0].2);
    }
    for i in 0..chain.len() {
        let (id, name, pk, cert) = &chain[i];
        let signer = chain.get(i + 1).map_or(pk, |c| &c.2);
        crypto::verify(
            &signer.sign,
            &cert_message(vault_id, *id, name, pk),
            cert,
            &format!("the keys of member '{name}'"),
        )?;
    }
    seen.borrow_mut().insert(hash);
    Ok(chain[0].2)
}

/// Members whose role in a project has `cap` (any of `caps`).
fn members_with(
    c: &dyn Storage,
    ws_id: i64,
    project_id: i64,
    caps: &[Capability],
) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for m in c.member_ids_in_workspace(ws_id)? {
        let role = c.role_for(m, ws_id, Some(project_id))?;
        if role.is_some_and(|r: Role| caps.iter().any(|cap| r.allows(*cap))) {
            out.push(m);
        }
    }
    Ok(out)
}

pub(crate) fn key_holders(c: &dyn Storage, ws_id: i64, project_id: i64) -> Result<Vec<i64>> {
    members_with(c, ws_id, project_id, &[Capability::Use, Capability::Reveal])
}

fn writers(c: &dyn Storage, ws_id: i64, project_id: i64) -> Result<Vec<i64>> {
    members_with(c, ws_id, project_id, &[Capability::Write])
}

/// The opening half of a session's keys: everything needed to open what is sealed to
/// the member, borrowed for one transaction.
pub(crate) struct Keyholder<'a> {
    pub vault_id: &'a str,
    pub identity: &'a Identity,
    pub anchor: &'a [u8; 32],
    pub member_id: i64,
    pub seen: &'a Verified,
}

impl Keyholder<'_> {
    pub fn verified(&self, c: &dyn Storage, member_id: i64) -> Result<PublicKeys> {
        verified_keys_once(c, self.vault_id, self.anchor, member_id, self.seen)
    }

    /// Opens the private key of an environment at `epoch`, as sealed to this member.
    pub fn env_secret(
        &self,
        c: &dyn Storage,
        p: &EnvPlace,
        epoch: i64,
    ) -> Result<Option<KxSecret>> {
        let Some(sealed) = c.env_key_seal(p.env_id, epoch, self.member_id)? else {
            return Ok(None);
        };
        let bytes = open_sealed(
            self.identity.kx(),
            &sealed,
            INFO_ENV_KEY,
            &env_key_ad(self.vault_id, p, epoch, self.member_id),
            &format!(
                "the key of environment '{}' in project '{}'",
                p.env, p.project
            ),
        )?;
        KxSecret::from_bytes(&bytes).map(Some)
    }

    pub fn project_key(
        &self,
        c: &dyn Storage,
        ws: &str,
        project: &str,
        project_id: i64,
    ) -> Result<Option<Key32>> {
        let Some(sealed) = c.project_key_seal(project_id, self.member_id)? else {
            return Ok(None);
        };
        let bytes = open_sealed(
            self.identity.kx(),
            &sealed,
            INFO_PROJECT_KEY,
            &project_key_ad(self.vault_id, ws, project, project_id, self.member_id),
            &format!("the fingerprint key of project '{project}'"),
        )?;
        Key32::from_slice(&bytes).map(Some)
    }

    fn seal_env_secret(
        &self,
        c: &dyn Storage,
        p: &EnvPlace,
        epoch: i64,
        to: i64,
        key: &KxSecret,
    ) -> Result<()> {
        let pk = self.verified(c, to)?;
        let sealed = seal_to(
            &pk.kx,
            INFO_ENV_KEY,
            &key.to_bytes()[..],
            &env_key_ad(self.vault_id, p, epoch, to),
        )?;
        c.put_env_key_seal(p.env_id, epoch, to, &sealed)
    }

    fn seal_project_key(
        &self,
        c: &dyn Storage,
        ws: &str,
        project: &str,
        project_id: i64,
        to: i64,
        key: &Key32,
    ) -> Result<()> {
        let pk = self.verified(c, to)?;
        let ad = project_key_ad(self.vault_id, ws, project, project_id, to);
        let sealed = seal_to(&pk.kx, INFO_PROJECT_KEY, key.expose(), &ad)?;
        c.put_project_key_seal(project_id, to, &sealed)
    }

    /// A new key pair for an environment at `epoch`, sealed to everyone who may use
    /// or reveal there now.
    pub fn new_env_key(
        &self,
        c: &dyn Storage,
        p: &EnvPlace,
        epoch: i64,
        now: i64,
    ) -> Result<KxSecret> {
        let key = KxSecret::generate();
        c.insert_env_key(p.env_id, epoch, &key.public(), now)?;
        for m in key_holders(c, p.ws_id, p.project_id)? {
            self.seal_env_secret(c, p, epoch, m, &key)?;
        }
        Ok(key)
    }

    /// A new project's fingerprint key, sealed to its writers.
    pub fn new_project_key(
        &self,
        c: &dyn Storage,
        ws_id: i64,
        ws: &str,
        project: &str,
        project_id: i64,
    ) -> Result<Key32> {
        let key = Key32::random()?;
        for m in writers(c, ws_id, project_id)? {
            self.seal_project_key(c, ws, project, project_id, m, &key)?;
        }
        Ok(key)
    }

    /// Keys for a new project: a fingerprint key and a key pair per environment.
    pub fn key_project(
        &self,
        c: &dyn Storage,
        ws_id: i64,
        project_id: i64,
        now: i64,
    ) -> Result<()> {
        let (ws, project) = c.project_names(project_id)?;
        self.new_project_key(c, ws_id, &ws, &project, project_id)?;
        self.sign(c, RowKey::Project(project_id))?;
        for env in c.environments_of(project_id)? {
            self.new_env_key(c, &c.env_place(env.id)?, 1, now)?;
            self.sign(c, RowKey::Environment(env.id))?;
        }
        Ok(())
    }

    /// Brings what is sealed to `target` in a workspace in line with their roles
    /// there (after a grant changed, in the same transaction): keys they now need are
    /// sealed to them from this member's copies; an environment they may no longer use
    /// starts a new epoch. Returns what was re-keyed, for the audit trail.
    pub fn sync_member(
        &self,
        c: &dyn Storage,
        target: i64,
        target_name: &str,
        ws_id: i64,
        now: i64,
    ) -> Result<Rekeyed> {
        let mut out = Rekeyed::default();
        let ws_name = c.workspace_name(ws_id)?;
        let sealed_envs = c.envs_sealed_to(target, ws_id)?;
        for project in c.projects_of(ws_id)? {
            let role = c.role_for(target, ws_id, Some(project.id))?;
            let holds =
                role.is_some_and(|r| r.allows(Capability::Use) || r.allows(Capability::Reveal));
            let writes = role.is_some_and(|r| r.allows(Capability::Write));
            let has_fp = c.project_key_seal(project.id, target)?.is_some();
            if writes && !has_fp {
                let key = self
                    .project_key(c, &ws_name, &project.name, project.id)?
                    .ok_or_else(|| {
                        missing_key(&format!(
                            "the fingerprint key of project '{}'",
                            project.name
                        ))
                    })?;
                self.seal_project_key(c, &ws_name, &project.name, project.id, target, &key)?;
            } else if !writes && has_fp {
                c.delete_project_key_seal(project.id, target)?;
            }
            for env in c.environments_of(project.id)? {
                let p = c.env_place(env.id)?;
                let Some((epoch, _)) = c.current_env_key(env.id)? else {
                    return Err(Error::Integrity(format!(
                        "environment '{}' has no key",
                        env.name
                    )));
                };
                let held = sealed_envs.contains(&env.id);
                if holds && c.env_key_seal(env.id, epoch, target)?.is_none() {
                    let key = self.env_secret(c, &p, epoch)?.ok_or_else(|| {
                        missing_key(&format!(
                            "environment '{}' in project '{}'",
                            p.env, p.project
                        ))
                    })?;
                    self.seal_env_secret(c, &p, epoch, target, &key)?;
                    out.sealed += 1;
                } else if !holds && held {
                    let (versions, exposed) = self.rotate_env(c, &p, epoch, target_name, now)?;
                    out.environments.push(format!("{}/{}", p.project, p.env));
                    out.versions += versions;
                    out.exposed += exposed;
                }
            }
        }
        Ok(out)
    }

    /// Starts a new epoch for an environment: a new key pair sealed to the members
    /// who hold keys there now, every live value re-sealed to it, the old private keys
    /// destroyed, and the current values marked exposed to `leaving`.
    fn rotate_env(
        &self,
        c: &dyn Storage,
        p: &EnvPlace,
        epoch: i64,
        leaving: &str,
        now: i64,
    ) -> Result<(usize, usize)> {
        let old = self.env_secret(c, p, epoch)?.ok_or_else(|| {
            missing_key(&format!(
                "environment '{}' in project '{}'",
                p.env, p.project
            ))
        })?;
        let next = epoch + 1;
        let new = self.new_env_key(c, p, next, now)?;
        let batch = crypto::SealBatch::new(&new.public(), INFO_VALUE)?;
        let mut opened = crypto::OpenCache::default();
        let versions = c.env_sealed_versions(p.env_id)?;
        for v in &versions {
            let mut place = ValuePlace {
                ws: &p.ws,
                project: &p.project,
                env: &p.env,
                secret: &v.secret,
                secret_id: v.secret_id,
                scope: &v.scope,
                owner_id: v.owner_id,
                version: v.version,
                epoch: v.epoch.unwrap_or(0),
            };
            if place.epoch != epoch {
                return Err(Error::Integrity(format!(
                    "version {} of '{}' in {} is sealed under an unknown epoch",
                    v.version, v.secret, p.env
                )));
            }
            let what = format!("version {} of '{}' in {}", v.version, v.secret, p.env);
            let plain = crypto::open_value(
                &old,
                (p.env_id, epoch),
                &v.ciphertext,
                INFO_VALUE,
                &value_ad(self.vault_id, &place),
                &what,
                &mut opened,
            )?;
            place.epoch = next;
            let ct = batch.seal(&plain, &value_ad(self.vault_id, &place))?;
            c.reseal_version(v.id, &ct, next, None)?;
        }
        c.drop_env_keys_before(p.env_id, next)?;
        let exposed = c.mark_exposed(p.env_id, leaving, now)?;
        Ok((versions.len(), exposed))
    }
}

/// What re-keying did, for the audit event.
#[derive(Default)]
pub(crate) struct Rekeyed {
    pub sealed: usize,
    pub environments: Vec<String>,
    pub versions: usize,
    pub exposed: usize,
}

fn missing_key(what: &str) -> Error {
    Error::Auth(format!(
        "you hold no key for {what}, so you cannot pass it on; a member who holds it (an owner) must do this"
    ))
}

impl Session {
    /// Checks signed directory rows; what verified is remembered for the session.
    pub(crate) fn verifier(&self) -> Verifier<'_> {
        Verifier {
            vault_id: &self.vault_id,
            anchor: &self.secret.anchor,
            root: self.root,
            seen: &self.verified_rows,
        }
    }

    pub(crate) fn keyholder(&self) -> Keyholder<'_> {
        Keyholder {
            vault_id: &self.vault_id,
            identity: &self.secret.identity,
            anchor: &self.secret.anchor,
            member_id: self.member_id,
            seen: &self.verified_rows,
        }
    }

    /// The private key of an environment at `epoch`, opened once per session.
    pub(crate) fn env_secret(&mut self, p: &EnvPlace, epoch: i64) -> Result<&KxSecret> {
        let slot = (p.env_id, epoch);
        if !self.env_keys.contains_key(&slot) {
            let key = self
                .keyholder()
                .env_secret(self.store.conn(), p, epoch)?
                .ok_or_else(|| Error::DeniedAction {
                    member: self.member.clone(),
                    what: format!(
                        "open values in environment '{}' of project '{}': no key for it is sealed to you",
                        p.env, p.project
                    ),
                })?;
            self.env_keys.insert(slot, Locked::new(key));
        }
        Ok(&self.env_keys[&slot])
    }

    /// The project's fingerprint key, if this member holds it (writers do).
    pub(crate) fn project_key(
        &mut self,
        ws: &str,
        project: &str,
        project_id: i64,
    ) -> Result<Option<&Key32>> {
        if !self.project_keys.contains_key(&project_id) {
            match self
                .keyholder()
                .project_key(self.store.conn(), ws, project, project_id)?
            {
                Some(k) => {
                    self.project_keys.insert(project_id, k.locked());
                }
                None => return Ok(None),
            }
        }
        Ok(self.project_keys.get(&project_id))
    }
}

/// An environment row with the names of its project and workspace.
pub(crate) fn place_of(
    ws_id: i64,
    ws: &str,
    project_id: i64,
    project: &str,
    env: &EnvRow,
) -> EnvPlace {
    EnvPlace {
        ws_id,
        ws: ws.to_string(),
        project_id,
        project: project.to_string(),
        env_id: env.id,
        env: env.name.clone(),
    }
}

/// The associated data of a key slot; `format` 1 wrapped the shared vault key of the
/// first design, 2 the member's own keys.
pub(crate) fn slot_ad(vault_id: &str, member_id: i64, kind: &str, format: i64) -> String {
    format!("coffer/slot/v{format}/{vault_id}/{member_id}/{kind}")
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| Error::Io(format!("no randomness available: {e}")))?;
    Ok(b)
}

/// The keyring account naming one member's device key for one vault.
pub(crate) fn device_account(vault_id: &str, member: &str) -> String {
    format!("vault-{vault_id}/{member}")
}

pub(crate) fn insert_passphrase_slot(
    tx: &dyn Storage,
    vault_id: &str,
    member_id: i64,
    secret: &MemberSecret,
    passphrase: &Passphrase,
    kdf: KdfParams,
    now: i64,
) -> Result<()> {
    let salt = random_bytes::<16>()?;
    let kek = kdf.derive(passphrase, &salt)?;
    let wrapped = crypto::seal(
        &kek,
        &secret.encode(),
        slot_ad(vault_id, member_id, "passphrase", SLOT_FORMAT).as_bytes(),
    )?;
    let kdf_text = serde_json::to_string(&kdf).map_err(|e| Error::Storage(e.to_string()))?;
    tx.insert_slot(&NewSlot {
        member_id,
        kind: "passphrase",
        kdf: Some(&kdf_text),
        salt: Some(&salt),
        wrapped_key: &wrapped,
        label: "",
        format: SLOT_FORMAT,
        now,
    })?;
    Ok(())
}

/// Records a member's public keys, certified by `signer` (the member `signer_id`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn certify(
    tx: &dyn Storage,
    vault_id: &str,
    signer: &Identity,
    signer_id: i64,
    name: &str,
    pk: &PublicKeys,
    member_id: i64,
    must_change_passphrase: bool,
) -> Result<()> {
    let cert = signer.sign(&cert_message(vault_id, member_id, name, pk));
    tx.set_member_keys(&store::NewMemberKeys {
        member_id,
        sign_pk: &pk.sign,
        kx_pk: &pk.kx,
        certified_by: signer_id,
        certificate: &cert,
        must_change_passphrase,
    })
}
