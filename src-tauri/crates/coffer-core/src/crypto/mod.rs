//! The key hierarchy and the primitives under it.
//!
//! passphrase --Argon2id--> slot key --wraps--> vault key --wraps--> workspace key
//! --seals--> values. Subkeys for the audit chain and value fingerprints are derived
//! with HKDF so that no key is used for two purposes.

mod envelope;
mod kdf;
mod keys;
mod mac;

pub use envelope::{open, seal, ENVELOPE_V1, NONCE_LEN};
pub use kdf::KdfParams;
pub use keys::Key32;
pub use mac::{fingerprint, hmac_sha256, Fingerprint};
