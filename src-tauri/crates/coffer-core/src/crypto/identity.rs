//! A member's identity: an Ed25519 signing key (certificates, and later the audit
//! trail) and an X25519 key that environment keys are sealed to.
//!
//! The private halves travel only as one 64-byte secret (signing seed, then X25519
//! key), sealed in the member's key slots.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{Key32, KxSecret};
use crate::error::{Error, Result};

pub const IDENTITY_SECRET_LEN: usize = 64;

/// A member's public keys, as stored in the directory and certified.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKeys {
    pub sign: [u8; 32],
    pub kx: [u8; 32],
}

pub struct Identity {
    sign: SigningKey,
    kx: KxSecret,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

impl Identity {
    pub fn generate() -> Result<Identity> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(seed.as_mut_slice())
            .map_err(|e| Error::Io(format!("no randomness available: {e}")))?;
        Ok(Identity {
            sign: SigningKey::from_bytes(&seed),
            kx: KxSecret::generate(),
        })
    }

    pub fn from_secret(bytes: &[u8]) -> Result<Identity> {
        if bytes.len() != IDENTITY_SECRET_LEN {
            return Err(Error::Integrity("a member key has the wrong length".into()));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes[..32]);
        Ok(Identity {
            sign: SigningKey::from_bytes(&seed),
            kx: KxSecret::from_bytes(&bytes[32..])?,
        })
    }

    pub fn secret(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(IDENTITY_SECRET_LEN));
        out.extend_from_slice(self.sign.as_bytes());
        out.extend_from_slice(&self.kx.to_bytes()[..]);
        out
    }

    pub fn public(&self) -> PublicKeys {
        PublicKeys {
            sign: self.sign.verifying_key().to_bytes(),
            kx: self.kx.public(),
        }
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.sign.sign(message).to_bytes()
    }

    pub fn kx(&self) -> &KxSecret {
        &self.kx
    }

    /// A symmetric key of this member's own for one purpose (HKDF of the signing seed).
    pub fn derive(&self, info: &str) -> Key32 {
        let hk = Hkdf::<Sha256>::new(Some(b"coffer identity"), self.sign.as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
        hk.expand(info.as_bytes(), out.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Key32::from_array(&out)
    }
}

/// Checks an Ed25519 signature (strictly: no malleable or small-order encodings).
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8], what: &str) -> Result<()> {
    let bad = || Error::Integrity(format!("{what}: the signature does not verify"));
    let key = VerifyingKey::from_bytes(public).map_err(|_| bad())?;
    let sig = Signature::from_slice(signature).map_err(|_| bad())?;
    key.verify_strict(message, &sig).map_err(|_| bad())
}

/// Checks many signatures at once (Ed25519 batch verification, faster per signature
/// than one by one): each item is a public key, a message and a signature. True only
/// if every one verifies; on false, check them singly to find which.
pub fn verify_all(items: &[([u8; 32], Vec<u8>, Vec<u8>)]) -> bool {
    let mut keys = Vec::with_capacity(items.len());
    let mut sigs = Vec::with_capacity(items.len());
    // A trail has few authors: each key is decompressed once, not once per signature.
    let mut known: Vec<([u8; 32], VerifyingKey)> = Vec::new();
    for (pk, _, sig) in items {
        let key = match known.iter().find(|(bytes, _)| bytes == pk) {
            Some((_, key)) => *key,
            None => {
                let Ok(key) = VerifyingKey::from_bytes(pk) else {
                    return false;
                };
                // Batches are not strict: a weak key goes to the one-by-one check,
                // which refuses it.
                if key.is_weak() {
                    return false;
                }
                known.push((*pk, key));
                key
            }
        };
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        keys.push(key);
        sigs.push(sig);
    }
    let messages: Vec<&[u8]> = items.iter().map(|i| i.1.as_slice()).collect();
    ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trips_and_signatures_verify_only_unchanged() {
        let id = Identity::generate().unwrap();
        let back = Identity::from_secret(&id.secret()).unwrap();
        assert!(id.public() == back.public());
        let sig = back.sign(b"grant bob developer");
        verify(&id.public().sign, b"grant bob developer", &sig, "x").unwrap();
        assert!(verify(&id.public().sign, b"grant bob owner", &sig, "x").is_err());
        let other = Identity::generate().unwrap();
        assert!(verify(&other.public().sign, b"grant bob developer", &sig, "x").is_err());
        assert!(Identity::from_secret(&[0u8; 63]).is_err());
        assert_eq!(format!("{id:?}"), "Identity(<redacted>)");
    }

    #[test]
    fn derived_keys_are_per_member_and_per_purpose() {
        let a = Identity::generate().unwrap();
        let b = Identity::generate().unwrap();
        assert_eq!(a.derive("x").expose(), a.derive("x").expose());
        assert_ne!(a.derive("x").expose(), a.derive("y").expose());
        assert_ne!(a.derive("x").expose(), b.derive("x").expose());
    }
}
