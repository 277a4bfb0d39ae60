//! Sealing to a public key: HPKE (RFC 9180) in base mode with DHKEM(X25519,
//! HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305.
//!
//! Two formats. Single: `1 || encapsulated key (32) || AEAD output`, one key agreement
//! per blob (keys sealed to members). Batch: `2 || encapsulated key (32) || nonce (24)
//! || XChaCha20-Poly1305 output`, where one encapsulation serves many values (an
//! import, a rotation's re-sealing): each value's key is exported from the shared HPKE
//! context with the value's associated data as exporter context, and each has its own
//! random nonce. Opening a batch costs one key agreement for all its values.
//!
//! Whoever holds a public key can seal; only the private key opens. `info` names the
//! purpose and the associated data names the place, so a sealed blob moved to another
//! purpose or row fails to open. Every failure is the same error.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use std::collections::HashMap;
use zeroize::{Zeroize, Zeroizing};

use super::{Key32, Locked};

use crate::error::{Error, Result};

type Kem = X25519HkdfSha256;
type PrivateKey = <Kem as hpke::Kem>::PrivateKey;
type PublicKey = <Kem as hpke::Kem>::PublicKey;
type EncappedKey = <Kem as hpke::Kem>::EncappedKey;

pub const SEALED_V1: u8 = 1;
pub const SEALED_BATCH_V2: u8 = 2;
const NONCE_LEN: usize = 24;
type CtxS = hpke::aead::AeadCtxS<ChaCha20Poly1305, HkdfSha256, Kem>;
type CtxR = hpke::aead::AeadCtxR<ChaCha20Poly1305, HkdfSha256, Kem>;
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

/// One encapsulation to a public key, sealing any number of values.
pub struct SealBatch {
    enc: [u8; ENC_LEN],
    ctx: CtxS,
}

impl SealBatch {
    pub fn new(public_key: &[u8; 32], info: &[u8]) -> Result<SealBatch> {
        let pk = PublicKey::from_bytes(public_key)
            .map_err(|_| Error::Integrity("a public key is malformed".into()))?;
        let (enc, ctx) =
            hpke::setup_sender::<ChaCha20Poly1305, HkdfSha256, Kem>(&OpModeS::Base, &pk, info)
                .map_err(|_| Error::Integrity("sealing failed".into()))?;
        let mut e = [0u8; ENC_LEN];
        e.copy_from_slice(enc.to_bytes().as_slice());
        Ok(SealBatch { enc: e, ctx })
    }

    pub fn seal(&self, plaintext: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        let key = value_key(|out| self.ctx.export(ad, out))?;
        let body = super::seal(&key, plaintext, ad)?;
        // `seal` wrote `1 || nonce || ciphertext`; the batch format names its context.
        let mut out = Vec::with_capacity(1 + ENC_LEN + body.len() - 1);
        out.push(SEALED_BATCH_V2);
        out.extend_from_slice(&self.enc);
        out.extend_from_slice(&body[1..]);
        Ok(out)
    }
}

fn value_key(
    export: impl FnOnce(&mut [u8]) -> std::result::Result<(), hpke::HpkeError>,
) -> Result<Key32> {
    let mut key = Zeroizing::new([0u8; 32]);
    export(key.as_mut_slice()).map_err(|_| Error::Integrity("key export failed".into()))?;
    Ok(Key32::from_array(&key))
}

/// HPKE contexts opened so far, by (the key that opened them, encapsulated key): values
/// sealed in one batch then cost one key agreement together.
#[derive(Default)]
pub struct OpenCache(HashMap<BatchTag, Locked<CtxR>>);

/// A batch: the tag of the key it was sealed to and its encapsulated key.
type BatchTag = ((i64, i64), [u8; ENC_LEN]);

/// Opens either format; `tag` names `secret` for the cache (e.g. environment and epoch).
pub fn open_value(
    secret: &KxSecret,
    tag: (i64, i64),
    sealed: &[u8],
    info: &[u8],
    ad: &[u8],
    what: &str,
    cache: &mut OpenCache,
) -> Result<Zeroizing<Vec<u8>>> {
    let fail = || Error::Decrypt(what.to_string());
    match sealed.first() {
        Some(&SEALED_V1) => open_sealed(secret, sealed, info, ad, what),
        Some(&SEALED_BATCH_V2) if sealed.len() >= 1 + ENC_LEN + NONCE_LEN + TAG_LEN => {
            let mut enc = [0u8; ENC_LEN];
            enc.copy_from_slice(&sealed[1..1 + ENC_LEN]);
            let slot = (tag, enc);
            let ctx = match cache.0.entry(slot) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let encapped = EncappedKey::from_bytes(&enc).map_err(|_| fail())?;
                    e.insert(Locked::new(
                        hpke::setup_receiver::<ChaCha20Poly1305, HkdfSha256, Kem>(
                            &OpModeR::Base,
                            &secret.0,
                            &encapped,
                            info,
                        )
                        .map_err(|_| fail())?,
                    ))
                }
            };
            let key = value_key(|out| ctx.export(ad, out)).map_err(|_| fail())?;
            let mut body = Vec::with_capacity(sealed.len() - ENC_LEN);
            body.push(super::ENVELOPE_V1);
            body.extend_from_slice(&sealed[1 + ENC_LEN..]);
            super::open(&key, &body, ad, what)
        }
        _ => Err(fail()),
    }
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
    fn a_batch_opens_value_by_value_only_in_each_ones_place() {
        let sk = KxSecret::generate();
        let batch = SealBatch::new(&sk.public(), b"coffer test").unwrap();
        let a = batch.seal(b"value a", b"place-a").unwrap();
        let b = batch.seal(b"value b", b"place-b").unwrap();
        assert_eq!(a[..1 + ENC_LEN], b[..1 + ENC_LEN], "one encapsulation");
        let mut cache = OpenCache::default();
        let open = |blob: &[u8], ad: &[u8], cache: &mut OpenCache| {
            open_value(&sk, (1, 1), blob, b"coffer test", ad, "x", cache)
        };
        assert_eq!(&open(&a, b"place-a", &mut cache).unwrap()[..], b"value a");
        assert_eq!(&open(&b, b"place-b", &mut cache).unwrap()[..], b"value b");
        assert_eq!(cache.0.len(), 1, "one key agreement for the batch");
        // Swapped places, another purpose, another key, a flipped bit: the same error.
        assert!(open(&a, b"place-b", &mut cache).is_err());
        let mut fresh = OpenCache::default();
        assert!(open_value(
            &sk,
            (1, 1),
            &a,
            b"coffer other",
            b"place-a",
            "x",
            &mut fresh
        )
        .is_err());
        let other = KxSecret::generate();
        assert!(open_value(
            &other,
            (2, 1),
            &a,
            b"coffer test",
            b"place-a",
            "x",
            &mut fresh
        )
        .is_err());
        for i in [0, 5, 1 + ENC_LEN + 3, a.len() - 1] {
            let mut t = a.clone();
            t[i] ^= 1;
            let mut c = OpenCache::default();
            let e =
                open_value(&sk, (1, 1), &t, b"coffer test", b"place-a", "x", &mut c).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Integrity);
        }
        // The single format still opens through the same door.
        let single = seal_to(&sk.public(), b"coffer test", b"value c", b"place-c").unwrap();
        assert_eq!(
            &open(&single, b"place-c", &mut cache).unwrap()[..],
            b"value c"
        );
    }

    #[test]
    fn places_are_framed() {
        assert_ne!(place(&[b"ab", b"c"]), place(&[b"a", b"bc"]));
        assert_ne!(place(&[b"a"]), place(&[b"a", b""]));
    }
}
