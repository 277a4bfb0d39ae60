//! Sealing to a public key: HPKE (RFC 9180) in base mode with DHKEM(X25519,
//! HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305.
//!
//! Format: `version (1) || encapsulated key (32) || AEAD output`. Whoever holds a
//! public key can seal; only the private key opens. `info` names the purpose (a value,
//! an environment key, a member key) and the associated data names the place, so a
//! sealed blob moved to another purpose or row fails to open. Every failure is the
//! same error.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

type Kem = X25519HkdfSha256;
type PrivateKey = <Kem as hpke::Kem>::PrivateKey;
type PublicKey = <Kem as hpke::Kem>::PublicKey;
type EncappedKey = <Kem as hpke::Kem>::EncappedKey;

pub const SEALED_V1: u8 = 1;
const ENC_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// An X25519 private key (a member's, or an environment's). Zeroized on drop; no
/// `Clone`, `Serialize` or revealing `Debug`.
pub struct KxSecret(PrivateKey);

impl KxSecret {
    pub fn generate() -> KxSecret {
        KxSecret(Kem::gen_keypair().0)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<KxSecret> {
        PrivateKey::from_bytes(bytes)
            .map(KxSecret)
            .map_err(|_| Error::Integrity("a private key has the wrong length".into()))
    }

    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut raw = self.0.to_bytes();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(raw.as_slice());
        raw.as_mut_slice().zeroize();
        out
    }

    /// The public key that seals to this private key.
    pub fn public(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(Kem::sk_to_pk(&self.0).to_bytes().as_slice());
        out
    }
}

impl std::fmt::Debug for KxSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KxSecret(<redacted>)")
    }
}

/// Seals `plaintext` to the holder of the private key of `public_key`.
pub fn seal_to(public_key: &[u8; 32], info: &[u8], plaintext: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
    let pk = PublicKey::from_bytes(public_key)
        .map_err(|_| Error::Integrity("a public key is malformed".into()))?;
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        ad,
    )
    .map_err(|_| Error::Integrity("sealing failed".into()))?;
    let mut out = Vec::with_capacity(1 + ENC_LEN + ct.len());
    out.push(SEALED_V1);
    out.extend_from_slice(enc.to_bytes().as_slice());
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a sealed blob. `what` names the object for the error (never its data).
pub fn open_sealed(
    secret: &KxSecret,
    sealed: &[u8],
    info: &[u8],
    ad: &[u8],
    what: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let fail = || Error::Decrypt(what.to_string());
    if sealed.len() < 1 + ENC_LEN + TAG_LEN || sealed[0] != SEALED_V1 {
        return Err(fail());
    }
    let (enc, ct) = sealed[1..].split_at(ENC_LEN);
    let enc = EncappedKey::from_bytes(enc).map_err(|_| fail())?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &secret.0,
        &enc,
        info,
        ct,
        ad,
    )
    .map(Zeroizing::new)
    .map_err(|_| fail())
}

/// Associated data naming a place: each part length-prefixed, so no two different
/// lists of parts give the same bytes whatever characters the names hold.
pub fn place(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_private_key_opens_and_only_in_its_place() {
        let sk = KxSecret::generate();
        let pk = sk.public();
        let sealed = seal_to(&pk, b"coffer test", b"the value", b"place-a").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"the value"));
        let opened = open_sealed(&sk, &sealed, b"coffer test", b"place-a", "x").unwrap();
        assert_eq!(&opened[..], b"the value");
        // Another place, another purpose, another key: the same error each time.
        for (info, ad, key) in [
            (&b"coffer test"[..], &b"place-b"[..], &sk),
            (&b"coffer other"[..], &b"place-a"[..], &sk),
        ] {
            let e = open_sealed(key, &sealed, info, ad, "the thing").unwrap_err();
            assert!(matches!(e, Error::Decrypt(_)));
        }
        let other = KxSecret::generate();
        assert!(open_sealed(&other, &sealed, b"coffer test", b"place-a", "x").is_err());
    }

    #[test]
    fn every_malformed_shape_fails_the_same_way() {
        let sk = KxSecret::generate();
        let good = seal_to(&sk.public(), b"i", b"value", b"ad").unwrap();
        let mut cases = vec![vec![], vec![SEALED_V1], good[..good.len() - 1].to_vec()];
        for i in [0, 1, 20, 1 + ENC_LEN, good.len() - 1] {
            let mut v = good.clone();
            v[i] ^= 1;
            cases.push(v);
        }
        let mut v = good.clone();
        v.push(0);
        cases.push(v);
        for c in cases {
            let e = open_sealed(&sk, &c, b"i", b"ad", "the thing").unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Integrity);
        }
    }

    #[test]
    fn keys_round_trip_and_debug_is_redacted() {
        let sk = KxSecret::generate();
        let back = KxSecret::from_bytes(&sk.to_bytes()[..]).unwrap();
        assert_eq!(sk.public(), back.public());
        assert_eq!(format!("{sk:?}"), "KxSecret(<redacted>)");
        assert!(KxSecret::from_bytes(&[1u8; 31]).is_err());
    }

    #[test]
    fn places_are_framed() {
        assert_ne!(place(&[b"ab", b"c"]), place(&[b"a", b"bc"]));
        assert_ne!(place(&[b"a"]), place(&[b"a", b""]));
    }
}
