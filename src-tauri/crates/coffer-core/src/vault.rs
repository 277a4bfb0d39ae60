//! Creating, opening and unlocking a vault.
//!
//! Unlocking turns a member's passphrase (Argon2id) or a device key (OS keyring) into
//! the member's own private keys through their key slot; what those keys open is what
//! the member's roles let them use (see `keys`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::audit::{self, Author, NewEvent, Outcome};
use crate::clock::{Clock, SystemClock};
use crate::crypto::{self, Identity, KdfParams, Key32};
use crate::device::{DeviceKeyStore, DeviceStoreError};
use crate::error::{Error, Result};
use crate::keys::{
    certify, device_account, insert_passphrase_slot, random_bytes, slot_ad, MemberSecret,
    SLOT_FORMAT,
};
use crate::names;
use crate::session::{Session, DEFAULT_WORKSPACE};
use crate::store::Store;
use crate::value::Passphrase;

/// Where the vault lives unless told otherwise: `COFFER_VAULT`, else `vault.db` in
/// the platform data directory. The app and the CLI agree on it.
pub fn default_path() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("COFFER_VAULT").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    directories::ProjectDirs::from("dev", "coffer", "Coffer").map(|d| d.data_dir().join("vault.db"))
}

/// An opened, still locked vault.
pub struct Vault {
    store: Store,
    clock: Arc<dyn Clock>,
    kdf: KdfParams,
}

/// Where a vault keeps the Argon2id settings for its new key slots.
const KDF_META: &str = "kdf";

/// How long to wait after the n-th consecutive failed unlock: 0.25 s doubling to 8 s.
pub fn failure_delay(failures: i64) -> Duration {
    let n = failures.clamp(1, 6) as u32;
    Duration::from_millis(250u64 << (n - 1))
}

impl Vault {
    /// Opens the vault at `path`; new key slots get the Argon2id settings chosen when
    /// it was created (`coffer init --kdf-memory`), read back only when they are at
    /// least OWASP's minimum, so an edit of the file cannot make new slots cheap.
    pub fn open(path: &Path) -> Result<Vault> {
        let store = Store::open(path)?;
        // A file made by `coffer team join` holds only its member's new keys until
        // the owner admits them.
        if store.conn().get_meta("team_join")?.is_some() {
            return Err(Error::Conflict(format!(
                "{} waits for the owner to admit you to their team vault: run `coffer team join` to carry on",
                path.display()
            )));
        }
        let kdf = store
            .conn()
            .get_meta(KDF_META)
            .ok()
            .flatten()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| KdfParams::decode(&text))
            .filter(|k| k.check_strong().is_ok())
            .unwrap_or(KdfParams::RECOMMENDED);
        Ok(Vault {
            store,
            clock: Arc::new(SystemClock),
            kdf,
        })
    }

    /// Opens a working copy of a vault (a backup checked before a restore): it keeps
    /// no snapshots and moves no anchor.
    pub(crate) fn open_scratch(path: &Path) -> Result<Vault> {
        Ok(Vault {
            store: Store::open_scratch(path)?,
            clock: Arc::new(SystemClock),
            kdf: KdfParams::RECOMMENDED,
        })
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The session of a member whose keys were opened some other way than a slot of
    /// this vault's unlock (a recovery key).
    pub(crate) fn into_session(
        self,
        vault_id: String,
        secret: MemberSecret,
        member_id: i64,
        member: String,
    ) -> Result<Session> {
        Session::new(
            self.store, self.clock, vault_id, secret, member_id, member, self.kdf,
        )
    }

    pub(crate) fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// Replaces the clock (tests move time instead of sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The key derivation parameters for new and upgraded slots.
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// Creates a vault with its owner, the `default` workspace and project, and the
    /// default environments; returns the owner's unlocked session.
    pub fn create(
        path: &Path,
        owner: &str,
        passphrase: &Passphrase,
        kdf: KdfParams,
        clock: Arc<dyn Clock>,
    ) -> Result<Session> {
        names::member(owner)?;
        passphrase.check_new()?;
        let store = Store::create(path)?;
        let result = (|| {
            let vault_id = hex::encode(random_bytes::<16>()?);
            let identity = Identity::generate()?;
            let anchor = identity.public().sign;
            let secret = MemberSecret { identity, anchor };
            let now = clock.now_ms();
            let member_id = store.write(|tx| {
                tx.set_meta("vault_id", vault_id.as_bytes())?;
                tx.set_meta("created_at", &now.to_le_bytes())?;
                tx.set_meta(KDF_META, kdf.encode().as_bytes())?;
                let member_id = tx.insert_member(owner, now)?;
                // The owner is the root of trust: their keys certify themselves.
                certify(
                    tx,
                    &vault_id,
                    &secret.identity,
                    member_id,
                    owner,
                    &secret.identity.public(),
                    member_id,
                    false,
                )?;
                insert_passphrase_slot(tx, &vault_id, member_id, &secret, passphrase, kdf, now)?;
                Ok(member_id)
            })?;
            let mut session = Session::new(
                store,
                clock,
                vault_id,
                secret,
                member_id,
                owner.to_string(),
                kdf,
            )?;
            session.mark_reauthenticated();
            session.bootstrap_workspace(DEFAULT_WORKSPACE, "vault.init")?;
            Ok(session)
        })();
        if result.is_err() {
            // A half-made vault is worse than none: remove it so `init` can be retried.
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        result
    }

    pub(crate) fn vault_id(&self) -> Result<String> {
        let raw = self
            .store
            .conn()
            .get_meta("vault_id")?
            .ok_or_else(|| Error::Integrity("the vault has no identity record".into()))?;
        String::from_utf8(raw)
            .map_err(|_| Error::Integrity("the vault identity is malformed".into()))
    }

    /// Unlocks with a member's passphrase. Every failure is the same error, after a
    /// delay that grows with consecutive failures under any name (so neither the
    /// message nor the delay tells a member's name from an unknown one).
    pub fn unlock(self, member: &str, passphrase: &Passphrase) -> Result<Session> {
        let vault_id = self.vault_id()?;
        let now = self.clock.now_ms();
        let found = self.store.conn().member_by_name(member)?;
        let slot = match &found {
            Some(m) => self
                .store
                .conn()
                .slots_of(m.id, "passphrase")?
                .into_iter()
                .next(),
            None => None,
        };
        let (Some(m), Some(slot)) = (found, slot) else {
            // Spend the same work as a real attempt so timing does not tell members apart.
            let _ = self.kdf.derive(passphrase, &[0u8; 16]);
            let failures = self.record_failure(member, now)?;
            std::thread::sleep(failure_delay(failures));
            return Err(Error::BadCredentials);
        };
        let params: KdfParams = slot
            .kdf
            .as_deref()
            .and_then(|k| serde_json::from_str(k).ok())
            .ok_or_else(|| Error::Integrity("a key slot has unreadable parameters".into()))?;
        let salt = slot.salt.clone().unwrap_or_default();
        let kek = params.derive(passphrase, &salt)?;
        let ad = slot_ad(&vault_id, m.id, "passphrase", slot.format);
        let opened = crypto::open(&kek, &slot.wrapped_key, ad.as_bytes(), "key slot");
        let plain = match opened {
            Ok(bytes) => bytes,
            Err(_) => {
                let failures = self.record_failure(member, now)?;
                std::thread::sleep(failure_delay(failures));
                return Err(Error::BadCredentials);
            }
        };
        let upgrade = params.is_weaker_than(&self.kdf);
        let target = self.kdf;
        let failed_any = self.store.conn().failed_unlocks_any()? > 0;
        if m.failed_attempts > 0 || failed_any || upgrade {
            self.store.write(|tx| {
                tx.reset_failed_unlocks(m.id)?;
                tx.reset_failed_unlocks_any()?;
                if upgrade {
                    // Re-wrap under the stronger parameters while we hold the passphrase.
                    let salt = random_bytes::<16>()?;
                    let kek = target.derive(passphrase, &salt)?;
                    let wrapped = crypto::seal(&kek, &plain, ad.as_bytes())?;
                    let kdf_text = serde_json::to_string(&target)
                        .map_err(|e| Error::Storage(e.to_string()))?;
                    tx.replace_slot_key(
                        slot.id,
                        Some(&kdf_text),
                        Some(&salt),
                        &wrapped,
                        slot.format,
                    )?;
                }
                Ok(())
            })?;
        }
        if slot.format != SLOT_FORMAT {
            // A vault from before keys enforced roles: the slot holds the shared key.
            let vault_key = Key32::from_slice(&plain)?;
            return crate::upgrade::upgrade(
                self.store, self.clock, vault_id, vault_key, m.id, m.name, passphrase, self.kdf,
            );
        }
        let secret = MemberSecret::decode(&plain)?;
        let mut session = Session::new(
            self.store, self.clock, vault_id, secret, m.id, m.name, self.kdf,
        )?;
        session.mark_reauthenticated();
        Ok(session)
    }

    /// Counts a failed unlock (the delay follows the count under any name) and records
    /// it in the audit trail as an unauthenticated event naming the member tried, so an
    /// auditor sees guessing. Returns the consecutive failures. The same writes for a
    /// member's name and any other: a write more for members would time them apart.
    pub(crate) fn record_failure(&self, tried: &str, now: i64) -> Result<i64> {
        // Whatever was typed, shown as text: no control characters, bounded.
        let shown: String = tried.chars().filter(|c| !c.is_control()).take(64).collect();
        let (failures, head) = self.store.write(|tx| {
            let failures = tx.record_failed_unlock_any()?;
            let mut ev = NewEvent::new(&shown, audit::FAILED_UNLOCK);
            ev.outcome = Outcome::Denied;
            ev.detail = serde_json::json!({ "authenticated": false });
            audit::append(tx, Author::Unauthenticated, now, &ev)?;
            Ok((failures, audit::head(tx)?))
        })?;
        // A working copy checked before a restore moves no anchor of its own.
        if let Some((seq, hash)) = head.filter(|_| !self.store.is_scratch()) {
            crate::anchor::remember((&self.vault_id()?, self.store.path()), (seq, &hash));
        }
        Ok(failures)
    }

    /// Whether this device's keyring holds a key for `member` in this vault: what the
    /// unlock screen asks before anyone is unlocked. It reads the keyring only, never
    /// the member list, so the answer says nothing about who is a member.
    pub fn device_key_present(&self, member: &str, keyring: &dyn DeviceKeyStore) -> Result<bool> {
        let account = device_account(&self.vault_id()?, member);
        Ok(matches!(keyring.get(&account), Ok(Some(_))))
    }

    /// Whether `member` has remembered this vault on a device (a device key slot).
    pub fn has_device_slot(&self, member: &str) -> Result<bool> {
        let Some(m) = self.store.conn().member_by_name(member)? else {
            return Ok(false);
        };
        Ok(!self.store.conn().slots_of(m.id, "device")?.is_empty())
    }

    /// Unlocks with the device key kept in the OS keyring by "remember on this device".
    /// An unknown name, a member who remembered nothing here, a missing key and a key
    /// that opens nothing all fail alike: the answer must not tell who is a member.
    /// The keyring is asked first, whatever the name, so even its errors do not.
    pub fn unlock_with_device(self, member: &str, keyring: &dyn DeviceKeyStore) -> Result<Session> {
        let vault_id = self.vault_id()?;
        let no_device_key =
            || Error::Auth("this device holds no key that unlocks the vault as that member".into());
        let account = device_account(&vault_id, member);
        let key_bytes = keyring
            .get(&account)
            .map_err(|e: DeviceStoreError| Error::Auth(e.to_string()))?
            .ok_or_else(no_device_key)?;
        let m = self
            .store
            .conn()
            .member_by_name(member)?
            .ok_or_else(no_device_key)?;
        let slots = self.store.conn().slots_of(m.id, "device")?;
        let device_key = Key32::from_slice(&key_bytes)?;
        for slot in slots.iter().filter(|s| s.format == SLOT_FORMAT) {
            let ad = slot_ad(&vault_id, m.id, "device", slot.format);
            if let Ok(bytes) =
                crypto::open(&device_key, &slot.wrapped_key, ad.as_bytes(), "device slot")
            {
                let secret = MemberSecret::decode(&bytes)?;
                return Session::new(
                    self.store, self.clock, vault_id, secret, m.id, m.name, self.kdf,
                );
            }
        }
        Err(no_device_key())
    }
}

/// An unlocked member's own keys, lent to a same-user agent (`coffer unlock --for`) so
/// later commands skip key derivation. They open what the member may use and nothing
/// more; they only travel over a private socket to a peer checked to be this Coffer, are
/// zeroized on drop, and have no `Debug` beyond the member's name.
pub struct Lease {
    pub vault_id: String,
    pub member: String,
    secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("member", &self.member)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// One line of JSON for the agent's socket.
    pub fn encode(&self) -> Zeroizing<String> {
        use base64::Engine as _;
        let key = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.secret));
        let (vault_id, member) = (json_string(&self.vault_id), json_string(&self.member));
        // Built in place with room for all of it, so no copy of the key is left behind
        // by a growing buffer (base64 needs no escaping).
        let mut line = Zeroizing::new(String::with_capacity(
            vault_id.len() + member.len() + key.len() + 40,
        ));
        for part in [
            r#"{"vault_id":"#,
            &vault_id,
            r#","member":"#,
            &member,
            r#","key":""#,
            &key,
            r#""}"#,
        ] {
            line.push_str(part);
        }
        line
    }

    pub fn decode(line: &str) -> Result<Lease> {
        use base64::Engine as _;
        #[derive(serde::Deserialize)]
        struct Raw {
            vault_id: String,
            member: String,
            key: String,
        }
        let bad = || Error::Auth("the unlocked session answered with something unreadable".into());
        let raw: Raw = serde_json::from_str(line).map_err(|_| bad())?;
        let key = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(raw.key.as_bytes())
                .map_err(|_| bad())?,
        );
        let mut raw_key = Zeroizing::new(raw.key);
        zeroize::Zeroize::zeroize(&mut *raw_key);
        // Only its shape here: the keys are decoded once, by the unlock that uses them.
        if key.len() != MemberSecret::ENCODED_LEN {
            return Err(bad());
        }
        crypto::lock_memory(key.as_ptr(), key.len());
        Ok(Lease {
            vault_id: raw.vault_id,
            member: raw.member,
            secret: key,
        })
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

impl Session {
    /// Lends this session's key to an agent; see [`Lease`].
    pub fn lease(&self) -> Lease {
        let secret = self.secret.encode();
        crypto::lock_memory(secret.as_ptr(), secret.len());
        Lease {
            vault_id: self.vault_id.clone(),
            member: self.member.clone(),
            secret,
        }
    }
}

impl Vault {
    /// Unlocks with keys lent by an agent. They must be the member's keys as recorded
    /// (checked by the session) and the member must still hold a key slot. Protected
    /// environments still ask for the passphrase.
    pub fn unlock_with_lease(self, lease: &Lease) -> Result<Session> {
        let vault_id = self.vault_id()?;
        let refuse = || Error::Auth("the unlocked session does not open this vault".into());
        if vault_id != lease.vault_id {
            return Err(refuse());
        }
        let m = self
            .store
            .conn()
            .member_by_name(&lease.member)?
            .ok_or_else(refuse)?;
        // A member removed from the vault has no key slot left; a lease made before
        // the removal must not outlive it.
        if self.store.conn().slots_of(m.id, "passphrase")?.is_empty() {
            return Err(refuse());
        }
        let secret = MemberSecret::decode(&lease.secret).map_err(|_| refuse())?;
        Session::new(
            self.store, self.clock, vault_id, secret, m.id, m.name, self.kdf,
        )
        .map_err(|_| refuse())
    }
}

impl Session {
    /// Whether `lease` would still open this vault as this session's member, as
    /// [`Vault::unlock_with_lease`] checks: the file holds the same vault, and the
    /// member was neither removed (no key slot left) nor removed and added again (a
    /// new member row). A session kept open while other processes change the vault
    /// (the CLI's session agent) asks before each use; two indexed reads.
    pub fn still_opened_by(&self, lease: &Lease) -> Result<bool> {
        let conn = self.store.conn();
        let same_vault = conn.get_meta("vault_id")?.as_deref() == Some(lease.vault_id.as_bytes())
            && lease.vault_id == self.vault_id
            && lease.member == self.member;
        Ok(same_vault
            && conn
                .member_by_name(&self.member)?
                .is_some_and(|m| m.id == self.member_id)
            && !conn.slots_of(self.member_id, "passphrase")?.is_empty())
    }
}
