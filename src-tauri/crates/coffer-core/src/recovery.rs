//! Recovery keys: 24 words (BIP-39's English list: 256 random bits and a checksum that
//! catches a mistyped or swapped word) that seal an owner's private keys in a key slot
//! of their own, beside the passphrase's. Shown once when made; with them, `coffer
//! recover` sets a new passphrase. The key never enters the vault: only what it seals.
//!
//! A recovery key opens the member's keys as fully as their passphrase does, so only
//! owners have one, making or replacing one needs the passphrase given in the same
//! process (not an agent's session), and a wrong one counts and is audited like a
//! wrong passphrase.

use hkdf::Hkdf;
use serde_json::json;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::audit::{self, NewEvent};
use crate::crypto::{self, Key32};
use crate::error::{Error, Result};
use crate::keys::{insert_passphrase_slot, random_bytes, slot_ad, MemberSecret, SLOT_FORMAT};
use crate::session::Session;
use crate::store::{NewSlot, Storage};
use crate::value::Passphrase;
use crate::vault::{failure_delay, Vault};

const KIND: &str = "recovery";
/// The audit action of making, replacing or removing a recovery key.
pub const ROTATED: &str = "member.recovery-key";
/// The audit action of setting a new passphrase with the recovery key.
pub const RECOVERED: &str = "member.recover";

/// 24 words that open one member's keys. Never printed by `Debug`; zeroed on drop.
pub struct RecoveryKey(bip39::Mnemonic);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

impl RecoveryKey {
    fn generate() -> Result<RecoveryKey> {
        let entropy = Zeroizing::new(random_bytes::<32>()?);
        bip39::Mnemonic::from_entropy(&entropy[..])
            .map(RecoveryKey)
            .map_err(|e| Error::Storage(format!("could not make a recovery key: {e}")))
    }

    /// Reads a recovery key as a person types it back: any case, words separated by
    /// spaces, commas or new lines, numbering (`1.`, `2)`) ignored. A wrong word count,
    /// a word not on the list and a mistyped word (the checksum) are each said.
    pub fn parse(text: &str) -> Result<RecoveryKey> {
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map(|w| w.trim_end_matches(['.', ')', ':']).to_lowercase())
            .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        let joined = Zeroizing::new(words.join(" "));
        bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &joined)
            .map(RecoveryKey)
            .map_err(|e| {
                Error::invalid(match e {
                    bip39::Error::BadWordCount(n) => {
                        format!("a recovery key is 24 words; this has {n}")
                    }
                    bip39::Error::UnknownWord(i) => format!(
                        "word {} of the recovery key is not a recovery-key word: check its spelling",
                        i + 1
                    ),
                    _ => "the recovery key's words do not fit together: one is mistyped, or two are swapped".into(),
                })
            })
    }

    /// The words, in order (1 to 24): to show once, and to ask some back.
    pub fn words(&self) -> Vec<&'static str> {
        self.0.words().collect()
    }

    /// The key that seals the member's private keys in this vault.
    fn key(&self, vault_id: &str) -> Result<Key32> {
        let entropy = Zeroizing::new(self.0.to_entropy());
        let mut okm = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(vault_id.as_bytes()), &entropy)
            .expand(b"coffer/recovery-key/v1", &mut okm[..])
            .map_err(|_| Error::Storage("could not derive the recovery key".into()))?;
        Key32::from_slice(&okm[..])
    }
}

impl Session {
    /// Whether this member has a recovery key.
    pub fn has_recovery_key(&self) -> Result<bool> {
        Ok(!self.store.conn().slots_of(self.member_id, KIND)?.is_empty())
    }

    /// Whether this member may hold a recovery key: they own a workspace.
    pub fn may_hold_recovery_key(&self) -> Result<bool> {
        self.store.conn().owns_any_workspace(self.member_id)
    }

    /// Makes a new recovery key sealing this member's private keys, replacing any
    /// other (which opens nothing from now on). Owners only, with the passphrase given
    /// in the last few minutes of this session. Audited in each of their workspaces.
    pub fn rotate_recovery_key(&mut self) -> Result<RecoveryKey> {
        if !self.store.conn().owns_any_workspace(self.member_id)? {
            return Err(Error::DeniedAction {
                member: self.member.clone(),
                what: "hold a recovery key: only owners have one (an owner can give a member a new passphrase by adding them again)".into(),
            });
        }
        self.require_fresh_passphrase("make a recovery key")?;
        let key = RecoveryKey::generate()?;
        let ad = slot_ad(&self.vault_id, self.member_id, KIND, SLOT_FORMAT);
        let wrapped = crypto::seal(
            &key.key(&self.vault_id)?,
            &self.secret.encode(),
            ad.as_bytes(),
        )?;
        let (member_id, member, author, now) = (
            self.member_id,
            self.member.clone(),
            self.author(),
            self.now(),
        );
        self.write(|tx| {
            let replaced = !tx.slots_of(member_id, KIND)?.is_empty();
            for old in tx.slots_of(member_id, KIND)? {
                tx.delete_slot(old.id)?;
            }
            tx.insert_slot(&NewSlot {
                member_id,
                kind: KIND,
                kdf: None,
                salt: None,
                wrapped_key: &wrapped,
                label: "recovery key",
                format: SLOT_FORMAT,
                now,
            })?;
            audit_in_each_workspace(
                tx,
                member_id,
                &member,
                author,
                now,
                json!({ "replaced": replaced }),
            )
        })?;
        Ok(key)
    }

    /// Removes this member's recovery key, so that nothing but the passphrase opens
    /// their keys: for a key that was never written down (the app's "I will make one
    /// later"), which would otherwise pass for one the owner has. With the passphrase
    /// given in the last few minutes; audited in each of their workspaces. `false`
    /// when there was none.
    pub fn remove_recovery_key(&mut self) -> Result<bool> {
        self.require_fresh_passphrase("remove your recovery key")?;
        let (member_id, member, author, now) = (
            self.member_id,
            self.member.clone(),
            self.author(),
            self.now(),
        );
        self.write(|tx| {
            let slots = tx.slots_of(member_id, KIND)?;
            if slots.is_empty() {
                return Ok(false);
            }
            for old in slots {
                tx.delete_slot(old.id)?;
            }
            audit_in_each_workspace(
                tx,
                member_id,
                &member,
                author,
                now,
                json!({ "removed": true }),
            )?;
            Ok(true)
        })
    }
}

/// A change to a member's recovery key, in the trail of each workspace they belong to.
fn audit_in_each_workspace(
    tx: &dyn Storage,
    member_id: i64,
    member: &str,
    author: audit::Author,
    now: i64,
    detail: serde_json::Value,
) -> Result<()> {
    for (ws_name, _) in tx.workspaces_of_member(member_id)? {
        if let Some(ws) = tx.workspace_by_name(&ws_name)? {
            let mut ev = NewEvent::new(member, ROTATED);
            ev.workspace = Some((ws.id, &ws.name));
            ev.detail = detail.clone();
            audit::append(tx, author, now, &ev)?;
        }
    }
    Ok(())
}

impl Vault {
    /// Opens `member`'s keys with their recovery key and sets `new` as their
    /// passphrase; returns their session. A wrong key or an unknown member fails alike,
    /// counted and audited as a failed unlock, after the same growing delay.
    pub fn recover(self, member: &str, key: &RecoveryKey, new: &Passphrase) -> Result<Session> {
        new.check_new()?;
        let vault_id = self.vault_id()?;
        let now = self.now();
        let found = self.store().conn().member_by_name(member)?;
        let opened = match &found {
            Some(m) => {
                let ad = slot_ad(&vault_id, m.id, KIND, SLOT_FORMAT);
                let k = key.key(&vault_id)?;
                self.store()
                    .conn()
                    .slots_of(m.id, KIND)?
                    .iter()
                    .filter(|s| s.format == SLOT_FORMAT)
                    .find_map(|s| {
                        crypto::open(&k, &s.wrapped_key, ad.as_bytes(), "recovery slot").ok()
                    })
            }
            None => None,
        };
        let (Some(m), Some(plain)) = (found, opened) else {
            let failures = self.record_failure(member, now)?;
            std::thread::sleep(failure_delay(failures));
            return Err(Error::Auth(
                "wrong member name or recovery key (or no recovery key was made for that member)"
                    .into(),
            ));
        };
        let secret = MemberSecret::decode(&plain)?;
        let kdf = self.kdf();
        let mut session = self.into_session(vault_id.clone(), secret, m.id, m.name.clone())?;
        let (author, member) = (session.author(), m.name.clone());
        session.write(|tx| {
            for old in tx.slots_of(m.id, "passphrase")? {
                tx.delete_slot(old.id)?;
            }
            insert_passphrase_slot(tx, &vault_id, m.id, &session.secret, new, kdf, now)?;
            tx.set_must_change_passphrase(m.id, false)?;
            tx.reset_failed_unlocks(m.id)?;
            for (ws_name, _) in tx.workspaces_of_member(m.id)? {
                if let Some(ws) = tx.workspace_by_name(&ws_name)? {
                    let mut ev = NewEvent::new(&member, RECOVERED);
                    ev.workspace = Some((ws.id, &ws.name));
                    audit::append(tx, author, now, &ev)?;
                }
            }
            Ok(())
        })?;
        session.mark_reauthenticated();
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_however_it_is_typed_and_mistakes_are_named() {
        let key = RecoveryKey::generate().unwrap();
        let words = key.words();
        assert_eq!(words.len(), 24);
        let typed = words
            .iter()
            .enumerate()
            .map(|(i, w)| format!("{}. {}", i + 1, w.to_uppercase()))
            .collect::<Vec<_>>()
            .join("\n");
        let back = RecoveryKey::parse(&typed).unwrap();
        assert_eq!(back.words(), words);
        assert!(key.key("v1").unwrap().expose() == back.key("v1").unwrap().expose());
        assert!(key.key("v1").unwrap().expose() != key.key("v2").unwrap().expose());

        let short = words[..23].join(" ");
        assert!(RecoveryKey::parse(&short)
            .unwrap_err()
            .to_string()
            .contains("24 words"));
        let mut wrong = words.clone();
        wrong[6] = "notaword";
        let e = RecoveryKey::parse(&wrong.join(" "))
            .unwrap_err()
            .to_string();
        assert!(e.contains("word 7"), "{e}");
        // A fixed key, so the checksum's 1-in-256 miss cannot make this flaky.
        let fixed = RecoveryKey(bip39::Mnemonic::from_entropy(&[7u8; 32]).unwrap());
        let mut swapped = fixed.words();
        swapped.swap(0, 1);
        let e = RecoveryKey::parse(&swapped.join(" "))
            .unwrap_err()
            .to_string();
        assert!(e.contains("do not fit together"), "{e}");
        // The words never show in debug output.
        assert_eq!(format!("{key:?}"), "RecoveryKey(..)");
    }
}
