//! The two kinds of plaintext the core ever holds: secret values and passphrases.
//!
//! Both wrap `secrecy` types: zeroized on drop, no `Clone`, no `Serialize`, and a
//! `Debug` that prints `<redacted>`, so neither can slip into a log line or an error.
//!
//! A value is text. A *binary* value (a DER key, a keystore) is held, sealed and
//! fingerprinted as its standard base64, so every place that needs text (an
//! environment variable, a template, a header, the app's reveal) gets that; only the
//! places that want the bytes themselves (a secret file, a reveal into a pipe) ask for
//! [`SecretValue::to_bytes`].

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Largest value Coffer stores: credentials, certificates and service-account JSON fit.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Largest binary value, in bytes (before its base64).
pub const MAX_BINARY_BYTES: usize = 64 * 1024;
/// The base64 of [`MAX_BINARY_BYTES`]: the longest text a binary value is held as.
const MAX_BINARY_TEXT: usize = MAX_BINARY_BYTES.div_ceil(3) * 4;

/// A secret's plaintext value: UTF-8 text, 1 byte to [`MAX_VALUE_BYTES`], or binary
/// (1 byte to [`MAX_BINARY_BYTES`], held as its base64).
pub struct SecretValue {
    text: SecretString,
    binary: bool,
}

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
        Self::text(&bytes)
    }

    pub fn from_string(s: String) -> Result<Self> {
        let bytes = Zeroizing::new(s.into_bytes());
        Self::from_bytes(bytes)
    }

    /// A binary value: any bytes, 1 to [`MAX_BINARY_BYTES`].
    pub fn from_binary(bytes: Zeroizing<Vec<u8>>) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::invalid("the value is empty"));
        }
        if bytes.len() > MAX_BINARY_BYTES {
            return Err(Error::invalid(format!(
                "a binary value is at most {} KiB ({MAX_BINARY_BYTES} bytes); this one is larger",
                MAX_BINARY_BYTES / 1024
            )));
        }
        let text = Zeroizing::new(STANDARD.encode(&*bytes));
        Ok(SecretValue {
            text: SecretString::from(text.as_str()),
            binary: true,
        })
    }

    /// A binary value given as its base64 (the app's text field, an import): the
    /// bytes are decoded and held again in the canonical form.
    pub fn binary_from_base64(text: &str) -> Result<Self> {
        let compact: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
        let bytes = STANDARD
            .decode(compact.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| Error::invalid("a binary value is given as standard base64 here"))?;
        Self::from_binary(bytes)
    }

    /// A value as the vault held it (opened from its ciphertext): text, or for a
    /// binary secret the base64 it was sealed as.
    pub(crate) fn opened(bytes: Zeroizing<Vec<u8>>, binary: bool) -> Result<Self> {
        if !binary {
            return Self::from_bytes(bytes);
        }
        if bytes.is_empty() || bytes.len() > MAX_BINARY_TEXT {
            return Err(Error::invalid("a binary value of the wrong size"));
        }
        let value = Self::text(&bytes)?;
        // Only canonical base64 was ever sealed: anything else is damage.
        STANDARD
            .decode(value.expose())
            .map(Zeroizing::new)
            .map_err(|_| Error::invalid("a binary value that is not base64"))?;
        Ok(SecretValue {
            binary: true,
            ..value
        })
    }

    fn text(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::invalid("the value is not UTF-8 text"))?;
        Ok(SecretValue {
            text: SecretString::from(text),
            binary: false,
        })
    }

    /// The plaintext as text, for the few places that must use it: sealing,
    /// fingerprinting, a deliberate reveal, a resolver. For a binary value: its base64.
    pub fn expose(&self) -> &str {
        self.text.expose_secret()
    }

    /// Whether the value is binary (and [`Self::expose`] its base64).
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// The bytes themselves: the decoded bytes of a binary value, the UTF-8 of text.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        if self.binary {
            // Held values are canonical base64 (checked when made and when opened).
            if let Ok(bytes) = STANDARD.decode(self.expose()) {
                return Zeroizing::new(bytes);
            }
        }
        Zeroizing::new(self.expose().as_bytes().to_vec())
    }

    /// Length of the text form ([`Self::expose`]).
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
    fn binary_values_keep_their_bytes_and_are_held_as_base64() {
        let bytes = vec![0u8, 0xff, 0xfe, b'\n', 0x80, 7];
        let v = SecretValue::from_binary(Zeroizing::new(bytes.clone())).unwrap();
        assert!(v.is_binary());
        assert_eq!(v.expose(), "AP/+CoAH");
        assert_eq!(&*v.to_bytes(), &bytes);
        assert!(format!("{v:?}").contains("redacted"));
        let again = SecretValue::opened(Zeroizing::new(b"AP/+CoAH".to_vec()), true).unwrap();
        assert_eq!(&*again.to_bytes(), &bytes);
        let typed = SecretValue::binary_from_base64(" AP/+\nCoAH\n").unwrap();
        assert_eq!(typed.expose(), "AP/+CoAH");
        assert!(SecretValue::binary_from_base64("not base64!").is_err());
        assert!(SecretValue::opened(Zeroizing::new(b"AP/+CoAH!".to_vec()), true).is_err());
        let text = SecretValue::from_string("plain".into()).unwrap();
        assert!(!text.is_binary());
        assert_eq!(&*text.to_bytes(), b"plain");
    }

    #[test]
    fn binary_bounds_are_enforced() {
        assert!(SecretValue::from_binary(Zeroizing::new(Vec::new())).is_err());
        let full = SecretValue::from_binary(Zeroizing::new(vec![0xAB; MAX_BINARY_BYTES])).unwrap();
        assert_eq!(full.len(), MAX_BINARY_TEXT);
        let opened = SecretValue::opened(Zeroizing::new(full.expose().as_bytes().to_vec()), true);
        assert_eq!(opened.unwrap().to_bytes().len(), MAX_BINARY_BYTES);
        let err =
            SecretValue::from_binary(Zeroizing::new(vec![0; MAX_BINARY_BYTES + 1])).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Invalid);
        assert!(err.to_string().contains("64 KiB"), "{err}");
    }

    #[test]
    fn short_passphrase_refused() {
        assert!(Passphrase::new("short".into()).check_new().is_err());
        assert!(Passphrase::new("long enough pass".into())
            .check_new()
            .is_ok());
    }
}
