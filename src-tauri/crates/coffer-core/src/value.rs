//! The two kinds of plaintext the core ever holds: secret values and passphrases.
//!
//! Both wrap `secrecy` types: zeroized on drop, no `Clone`, no `Serialize`, and a
//! `Debug` that prints `<redacted>`, so neither can slip into a log line or an error.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Largest value Coffer stores: credentials, certificates and service-account JSON fit.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// A secret's plaintext value: UTF-8 text, 1 byte to [`MAX_VALUE_BYTES`].
pub struct SecretValue(SecretString);

impl SecretValue {
    /// Takes ownership of `bytes` (zeroized whatever happens) and validates them.
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::invalid("the value is empty"));
        }
        if bytes.len() > MAX_VALUE_BYTES {
            return Err(Error::invalid(format!(
                "the value is larger than {} KiB",
                MAX_VALUE_BYTES / 1024
            )));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::invalid("the value is not UTF-8 text"))?;
        Ok(SecretValue(SecretString::from(text)))
    }

    pub fn from_string(s: String) -> Result<Self> {
        let bytes = Zeroizing::new(s.into_bytes());
        Self::from_bytes(bytes)
    }

    /// The plaintext, for the few places that must use it: sealing, fingerprinting,
    /// a deliberate reveal, a resolver.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn len(&self) -> usize {
        self.expose().len()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// A member's passphrase, as typed. Never stored; only its Argon2id output is used.
pub struct Passphrase(SecretString);

/// Shortest passphrase accepted for a new key slot.
pub const MIN_PASSPHRASE_CHARS: usize = 10;

impl Passphrase {
    pub fn new(s: String) -> Self {
        Passphrase(SecretString::from(s))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Rules for a passphrase that is about to protect a key slot.
    pub fn check_new(&self) -> Result<()> {
        if self.expose().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(Error::invalid(format!(
                "a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters"
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let v = SecretValue::from_string("hunter2-very-secret".into()).unwrap();
        let p = Passphrase::new("correct horse battery".into());
        let shown = format!("{v:?} {p:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("horse"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(SecretValue::from_string(String::new()).is_err());
        assert!(SecretValue::from_string("a".repeat(MAX_VALUE_BYTES)).is_ok());
        let err = SecretValue::from_string("a".repeat(MAX_VALUE_BYTES + 1)).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Invalid);
        let err = SecretValue::from_bytes(Zeroizing::new(vec![0xff, 0xfe])).unwrap_err();
        assert!(err.to_string().contains("UTF-8"));
    }

    #[test]
    fn short_passphrase_refused() {
        assert!(Passphrase::new("short".into()).check_new().is_err());
        assert!(Passphrase::new("long enough pass".into())
            .check_new()
            .is_ok());
    }
}
