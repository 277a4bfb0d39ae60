//! Argon2id: a member's passphrase to the key that opens their key slot.
//! Parameters are stored with each slot, so they can be raised later.

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Key32;
use crate::error::{Error, Result};
use crate::value::Passphrase;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m: u32,
    /// Passes over memory.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// The default for new slots: 64 MiB, 3 passes, 1 lane (the measured unlock time
    /// is in the README). Above OWASP's Argon2id minimum (19 MiB, t=2) by a margin.
    pub const RECOMMENDED: KdfParams = KdfParams {
        m: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// Cheap parameters for tests only; never chosen by the product.
    pub const INSECURE_FAST: KdfParams = KdfParams { m: 64, t: 1, p: 1 };

    /// The cheapest settings accepted for a vault: OWASP's Argon2id minimums (its
    /// Password Storage Cheat Sheet): 19 MiB with 2 passes, or 46 MiB with 1.
    pub fn check_strong(&self) -> Result<()> {
        let mib = self.m / 1024;
        let strong = self.p >= 1 && ((mib >= 19 && self.t >= 2) || (mib >= 46 && self.t >= 1));
        if strong && self.m <= 4 * 1024 * 1024 && self.t <= 64 && self.p <= 16 {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "Argon2id with {mib} MiB, {} passes and {} lanes is outside what Coffer accepts: at least OWASP's minimum (19 MiB and 2 passes, or 46 MiB and 1), at most 4096 MiB, 64 passes and 16 lanes",
                self.t, self.p
            )))
        }
    }

    /// As kept in the vault for its new key slots: `m=65536,t=3,p=1` (KiB).
    pub fn encode(&self) -> String {
        format!("m={},t={},p={}", self.m, self.t, self.p)
    }

    /// Reads [`encode`](Self::encode)'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<KdfParams> {
        let mut parts = text.split(',');
        let mut field = |name: &str| {
            parts
                .next()?
                .strip_prefix(name)?
                .strip_prefix('=')?
                .parse::<u32>()
                .ok()
        };
        let params = KdfParams {
            m: field("m")?,
            t: field("t")?,
            p: field("p")?,
        };
        parts.next().is_none().then_some(params)
    }

    /// Whether a slot stored under `self` should be re-wrapped under `other` (the
    /// current parameters). Less memory or fewer passes is weaker. Lanes are not a
    /// "more is stronger" axis: they split the same memory into parallel chunks, so
    /// a slot whose lanes differ (more lanes hand an attacker parallelism per guess;
    /// fewer lanes predate a raise) is upgraded too — but only when that lowers
    /// neither memory nor passes.
    pub fn is_weaker_than(&self, other: &KdfParams) -> bool {
        let cheaper = self.m < other.m || self.t < other.t;
        let other_lanes = self.p != other.p && self.m <= other.m && self.t <= other.t;
        cheaper || other_lanes
    }

    pub fn derive(&self, passphrase: &Passphrase, salt: &[u8]) -> Result<Key32> {
        let params = Params::new(self.m, self.t, self.p, Some(32))
            .map_err(|e| Error::Integrity(format!("invalid key derivation parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.expose().as_bytes(), salt, out.as_mut_slice())
            .map_err(|e| Error::Integrity(format!("key derivation failed: {e}")))?;
        Key32::from_slice(out.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_below_owasps_minimum_are_refused_and_the_stored_form_reads_back() {
        let mib = |m: u32, t: u32| KdfParams {
            m: m * 1024,
            t,
            p: 1,
        };
        for ok in [KdfParams::RECOMMENDED, mib(19, 2), mib(46, 1), mib(256, 4)] {
            assert!(ok.check_strong().is_ok(), "{ok:?}");
            assert_eq!(KdfParams::decode(&ok.encode()), Some(ok));
        }
        for weak in [
            mib(18, 2),
            mib(19, 1),
            mib(45, 1),
            KdfParams::INSECURE_FAST,
            mib(8192, 3),
        ] {
            assert!(weak.check_strong().is_err(), "{weak:?}");
        }
        for bad in [
            "",
            "m=1,t=2",
            "m=1,t=2,p=3,x=4",
            "t=2,m=1,p=1",
            "m=-1,t=2,p=1",
        ] {
            assert_eq!(KdfParams::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn same_input_same_key_and_salt_matters() {
        let p = Passphrase::new("correct horse battery".into());
        let k = KdfParams::INSECURE_FAST;
        let a = k.derive(&p, b"saltsaltsaltsalt").unwrap();
        let b = k.derive(&p, b"saltsaltsaltsalt").unwrap();
        let c = k.derive(&p, b"othersaltothersa").unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
    }

    #[test]
    fn a_slot_under_other_lanes_is_upgraded_without_lowering_memory_or_passes() {
        let current = KdfParams::RECOMMENDED;
        let more_lanes = KdfParams { p: 4, ..current };
        let fewer_lanes = KdfParams { p: 1, ..more_lanes };
        assert!(
            more_lanes.is_weaker_than(&current),
            "p=4 stored, p=1 current"
        );
        assert!(
            fewer_lanes.is_weaker_than(&more_lanes),
            "p=1 stored, p=4 current"
        );
        assert!(!current.is_weaker_than(&current));
        // More memory than today's is kept even though its lanes differ: re-wrapping
        // under the current parameters would lower the cost of a guess.
        let bigger = KdfParams {
            m: current.m * 4,
            p: 4,
            ..current
        };
        assert!(!bigger.is_weaker_than(&current));
        let more_passes = KdfParams {
            t: current.t + 1,
            p: 4,
            ..current
        };
        assert!(!more_passes.is_weaker_than(&current));
    }

    #[test]
    fn params_round_trip_as_json() {
        let s = serde_json::to_string(&KdfParams::RECOMMENDED).unwrap();
        assert_eq!(s, r#"{"m":65536,"t":3,"p":1}"#);
        let back: KdfParams = serde_json::from_str(&s).unwrap();
        assert_eq!(back, KdfParams::RECOMMENDED);
        assert!(KdfParams::INSECURE_FAST.is_weaker_than(&KdfParams::RECOMMENDED));
    }
}
