//! An insider's script: reads the vault file with SQLite and the primitives alone
//! (Argon2id, XChaCha20-Poly1305, SHA-256, Ed25519), never Coffer's code, to get what a
//! member's own passphrase opens and to forge what the file format allows.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rusqlite::Connection;

use super::support::Member;

/// Length-prefixed parts, as the file format frames associated data, certificates
/// and audit events.
pub fn framed(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// What a member's passphrase slot holds.
pub struct SlotKeys {
    pub member_id: i64,
    pub vault_id: String,
    pub ed25519_seed: [u8; 32],
    pub x25519: [u8; 32],
}

/// Opens `member`'s passphrase slot in `file` (their own copy of the vault) with their
/// passphrase.
pub fn open_slot(file: &Path, member: &Member) -> SlotKeys {
    let db = Connection::open(file).unwrap();
    let vault_id: Vec<u8> = db
        .query_row("SELECT value FROM meta WHERE key = 'vault_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let vault_id = String::from_utf8(vault_id).unwrap();
    let (id, kdf, salt, wrapped): (i64, String, Vec<u8>, Vec<u8>) = db
        .query_row(
            "SELECT m.id, k.kdf, k.salt, k.wrapped_key FROM members m
             JOIN key_slots k ON k.member_id = m.id
             WHERE m.name = ?1 AND k.kind = 'passphrase'",
            [&member.name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let kdf: serde_json::Value = serde_json::from_str(&kdf).unwrap();
    let n = |k: &str| kdf[k].as_u64().unwrap() as u32;
    let params = argon2::Params::new(n("m"), n("t"), n("p"), Some(32)).unwrap();
    let mut kek = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(member.passphrase.as_bytes(), &salt, &mut kek)
        .unwrap();
    let ad = format!("coffer/slot/v2/{vault_id}/{id}/passphrase");
    let plain = XChaCha20Poly1305::new((&kek).into())
        .decrypt(
            XNonce::from_slice(&wrapped[1..25]),
            Payload {
                msg: &wrapped[25..],
                aad: ad.as_bytes(),
            },
        )
        .expect("the member's own passphrase opens their slot");
    // Signing seed (32), X25519 key (32), anchor (32).
    SlotKeys {
        member_id: id,
        vault_id,
        ed25519_seed: plain[..32].try_into().unwrap(),
        x25519: plain[32..64].try_into().unwrap(),
    }
}
