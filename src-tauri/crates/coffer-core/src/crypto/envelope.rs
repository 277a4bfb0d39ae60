//! The ciphertext envelope: `version (1) || nonce (24) || XChaCha20-Poly1305 output`.
//!
//! The associated data names the ciphertext's place (vault, workspace, project,
//! environment, secret, version), so a ciphertext copied into another row fails to
//! open instead of yielding a wrong secret. Every failure is the same error.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::Key32;
use crate::error::{Error, Result};

pub const ENVELOPE_V1: u8 = 1;
pub const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Seals `plaintext` under `key`, bound to `ad`, with a fresh random nonce.
pub fn seal(key: &Key32, plaintext: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce)
        .map_err(|e| Error::Io(format!("no randomness available: {e}")))?;
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        .map_err(|_| Error::Integrity("encryption failed".into()))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(ENVELOPE_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens an envelope. `what` names the object for the error message (never its data).
pub fn open(key: &Key32, envelope: &[u8], ad: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>> {
    let fail = || Error::Decrypt(what.to_string());
    if envelope.len() < 1 + NONCE_LEN + TAG_LEN || envelope[0] != ENVELOPE_V1 {
        return Err(fail());
    }
    let (nonce, ct) = envelope[1..].split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: ad })
        .map(Zeroizing::new)
        .map_err(|_| fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key32 {
        Key32::from_slice(&[42u8; 32]).unwrap()
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let a = seal(&key(), b"value", b"place").unwrap();
        let b = seal(&key(), b"value", b"place").unwrap();
        assert_ne!(a, b, "nonces must differ");
        assert_eq!(a.len(), 1 + NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(&open(&key(), &a, b"place", "x").unwrap()[..], b"value");
        assert!(!a.windows(5).any(|w| w == b"value"));
    }

    #[test]
    fn every_malformed_shape_fails_the_same_way() {
        let good = seal(&key(), b"value", b"place").unwrap();
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("version only", vec![ENVELOPE_V1]),
            ("truncated tag", good[..good.len() - 1].to_vec()),
            ("nonce only", good[..1 + NONCE_LEN].to_vec()),
        ];
        let mut v = good.clone();
        v[0] = 2;
        cases.push(("unknown version", v));
        let mut v = good.clone();
        v[5] ^= 1;
        cases.push(("flipped nonce bit", v));
        let mut v = good.clone();
        let last = v.len() - 1;
        v[last] ^= 1;
        cases.push(("flipped tag bit", v));
        let mut v = good.clone();
        v[1 + NONCE_LEN] ^= 1;
        cases.push(("flipped ciphertext bit", v));
        let mut v = good.clone();
        v.push(0);
        cases.push(("trailing byte", v));
        for (name, env) in cases {
            let err = open(&key(), &env, b"place", "the thing").unwrap_err();
            assert!(matches!(err, Error::Decrypt(_)), "{name}: {err:?}");
            assert_eq!(err.code(), crate::ErrorCode::Integrity, "{name}");
        }
    }

    #[test]
    fn wrong_place_or_key_fails() {
        let good = seal(&key(), b"value", b"ws/1/secret/2/v1").unwrap();
        assert!(open(&key(), &good, b"ws/1/secret/3/v1", "x").is_err());
        let other = Key32::from_slice(&[1u8; 32]).unwrap();
        assert!(open(&other, &good, b"ws/1/secret/2/v1", "x").is_err());
    }

    /// XChaCha20-Poly1305 known answer (draft-irtf-cfrg-xchacha-03, A.3.1), so a
    /// dependency change that alters the cipher is caught.
    #[test]
    fn known_answer_vector() {
        let key = Key32::from_slice(
            &hex::decode("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
                .unwrap(),
        )
        .unwrap();
        let nonce = hex::decode("404142434445464748494a4b4c4d4e4f5051525354555657").unwrap();
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let msg = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let cipher = XChaCha20Poly1305::new(key.expose().into());
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg, aad: &aad })
            .unwrap();
        let tag = hex::encode(&ct[ct.len() - 16..]);
        assert_eq!(tag, "c0875924c1c7987947deafd8780acf49");
        assert_eq!(hex::encode(&ct[..8]), "bd6d179d3e83d43b");
        let mut envelope = vec![ENVELOPE_V1];
        envelope.extend_from_slice(&nonce);
        envelope.extend_from_slice(&ct);
        assert_eq!(&open(&key, &envelope, &aad, "kat").unwrap()[..], &msg[..]);
    }
}
