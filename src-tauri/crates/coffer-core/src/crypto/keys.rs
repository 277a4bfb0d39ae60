//! 256-bit keys in zeroizing boxes.

use std::fmt;

use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

use crate::error::{Error, Result};

/// A 256-bit key. Zeroized on drop; no `Clone`, `Serialize` or revealing `Debug`.
pub struct Key32(SecretBox<[u8; 32]>);

impl Key32 {
    /// A fresh key from the operating system's CSPRNG.
    pub fn random() -> Result<Self> {
        let mut bytes = Box::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut_slice())
            .map_err(|e| Error::Io(format!("no randomness available: {e}")))?;
        Ok(Key32(SecretBox::new(bytes)))
    }

    /// Takes a key from bytes that are then zeroized by the caller's `Zeroizing`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::Integrity(
                "a wrapped key has the wrong length".into(),
            ));
        }
        Ok(Self::boxed_copy(bytes))
    }

    /// Copies a key out of a zeroizing array.
    pub fn from_array(bytes: &[u8; 32]) -> Self {
        Self::boxed_copy(bytes)
    }

    /// Copies straight into the zeroized box: no copy of the key on the stack, where
    /// nothing would wipe it.
    fn boxed_copy(bytes: &[u8]) -> Self {
        let mut boxed = Box::new([0u8; 32]);
        boxed.copy_from_slice(bytes);
        Key32(SecretBox::new(boxed))
    }

    /// The key, its memory locked where the platform allows (for keys a session or an
    /// agent holds for long).
    pub fn locked(self) -> Key32 {
        super::lock_memory(self.expose().as_ptr(), 32);
        self
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// A subkey for one purpose, named by `info` (HKDF-SHA256, no salt: the input is
    /// already uniformly random).
    pub fn derive(&self, info: &str) -> Key32 {
        let hk = Hkdf::<Sha256>::new(None, self.expose());
        let mut out = Box::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        hk.expand(info.as_bytes(), out.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Key32(SecretBox::new(out))
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_keys_differ() {
        let a = Key32::random().unwrap();
        let b = Key32::random().unwrap();
        assert_ne!(a.expose(), b.expose());
        let shown = format!("{a:?}");
        assert_eq!(shown, "Key32(<redacted>)");
        assert!(!shown.contains(&hex::encode(a.expose())));
    }

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let k = Key32::from_slice(&[7u8; 32]).unwrap();
        assert_eq!(k.derive("a").expose(), k.derive("a").expose());
        assert_ne!(k.derive("a").expose(), k.derive("b").expose());
        assert!(Key32::from_slice(&[0u8; 31]).is_err());
    }
}
