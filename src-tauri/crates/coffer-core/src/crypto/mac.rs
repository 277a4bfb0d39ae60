//! HMAC-SHA256: the audit chain and keyed value fingerprints.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Key32;

type HmacSha256 = Hmac<Sha256>;

pub fn hmac_sha256(key: &Key32, parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(key.expose()).expect("HMAC takes any key length");
    for p in parts {
        // Length-prefix each part so ("ab","c") and ("a","bc") differ.
        mac.update(&(p.len() as u64).to_le_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// A keyed fingerprint of a value: equal values in one workspace have equal
/// fingerprints; without the key it says nothing about the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn ct_eq(&self, other: &Fingerprint) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// A short, stable label for display: equal labels mean equal values.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

pub fn fingerprint(key: &Key32, value: &[u8]) -> Fingerprint {
    Fingerprint(hmac_sha256(key, &[b"coffer fingerprint v1", value]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_compare_values_under_one_key_only() {
        let k1 = Key32::from_slice(&[1u8; 32]).unwrap();
        let k2 = Key32::from_slice(&[2u8; 32]).unwrap();
        assert!(fingerprint(&k1, b"v").ct_eq(&fingerprint(&k1, b"v")));
        assert!(!fingerprint(&k1, b"v").ct_eq(&fingerprint(&k1, b"w")));
        assert!(!fingerprint(&k1, b"v").ct_eq(&fingerprint(&k2, b"v")));
    }

    #[test]
    fn parts_are_framed() {
        let k = Key32::from_slice(&[1u8; 32]).unwrap();
        assert_ne!(
            hmac_sha256(&k, &[b"ab", b"c"]),
            hmac_sha256(&k, &[b"a", b"bc"])
        );
    }
}
