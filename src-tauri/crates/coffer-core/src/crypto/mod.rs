//! The key hierarchy and the primitives under it.
//!
//! passphrase --Argon2id--> slot key --wraps--> member identity (Ed25519 + X25519)
//! --opens--> environment private keys --open--> values. Values are sealed to an
//! environment's public key, so writing needs no key that reads. The per-project
//! fingerprint key is sealed to writers only; the audit MAC key to every member.

mod envelope;
mod identity;
mod kdf;
mod keys;
mod locked;
mod mac;
mod sealed;

pub use envelope::{open, seal, ENVELOPE_V1, NONCE_LEN};
pub use identity::{verify, verify_all, Identity, PublicKeys, IDENTITY_SECRET_LEN};
pub use kdf::KdfParams;
pub use keys::Key32;
pub(crate) use locked::lock_memory;
pub use locked::Locked;
pub use mac::{fingerprint, hmac_sha256, Fingerprint};
pub use sealed::{open_sealed, open_value, place, seal_to, KxSecret, OpenCache, SealBatch};
