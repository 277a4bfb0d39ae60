//! Masking resolved values out of a child's output, as it streams.
//!
//! Every value is masked in each form it commonly takes in logs — raw, base64 (padded
//! and not), base64url, hex, URL-encoded, JSON-escaped — also when a value is split
//! across reads: only a possible prefix of a pattern is held back at a chunk's end.
//!
//! Speed: with all patterns 8 bytes or longer (the usual case) a scan tests each
//! 8-byte window against a bitmap of the patterns' first 8 bytes and checks exactly
//! only on a hit, so its cost does not grow with the number of secrets; shorter
//! patterns fall back to an Aho-Corasick automaton over all patterns.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use zeroize::Zeroizing;

use crate::value::SecretValue;

/// What a masked value is replaced with.
pub const MASK: &[u8] = b"********";
/// Values shorter than this are masked but warned about: they may also occur by chance.
pub const MIN_SAFE_LEN: usize = 8;
const WINDOW: usize = 8;
const BITMAP_BITS: u32 = 20;

/// The forms of one value that are searched for.
pub fn forms(value: &str) -> Vec<Zeroizing<Vec<u8>>> {
    let raw = value.as_bytes();
    let mut out: Vec<Zeroizing<Vec<u8>>> = vec![
        Zeroizing::new(raw.to_vec()),
        Zeroizing::new(STANDARD.encode(raw).into_bytes()),
        Zeroizing::new(STANDARD_NO_PAD.encode(raw).into_bytes()),
        Zeroizing::new(URL_SAFE_NO_PAD.encode(raw).into_bytes()),
        Zeroizing::new(hex::encode(raw).into_bytes()),
        Zeroizing::new(hex::encode_upper(raw).into_bytes()),
        Zeroizing::new(
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .into_bytes(),
        ),
    ];
    if let Ok(json) = serde_json::to_string(value) {
        out.push(Zeroizing::new(json.as_bytes()[1..json.len() - 1].to_vec()));
    }
    out.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
    out.dedup_by(|a, b| a.as_slice() == b.as_slice());
    out
}

/// The set of patterns for one run. Holds copies of values: zeroized on drop.
pub struct Masker {
    /// Longest first, so the longest match at a position wins.
    patterns: Vec<Zeroizing<Vec<u8>>>,
    max_len: usize,
    /// Keyed hashes (random per run) of every proper prefix of every pattern, so the
    /// prefixes themselves are not kept; a collision only holds back a few bytes.
    prefixes: HashSet<u64>,
    hasher: RandomState,
    strategy: Strategy,
}

enum Strategy {
    Nothing,
    Windows {
        bitmap: Vec<u64>,
        by_window: HashMap<u64, Vec<usize>>,
    },
    Automaton(AhoCorasick),
}

fn window_hash(w: u64) -> usize {
    (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITMAP_BITS)) as usize
}

impl Masker {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a SecretValue>) -> Masker {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> =
            values.into_iter().flat_map(|v| forms(v.expose())).collect();
        patterns.sort_unstable_by(|a, b| {
            b.len()
                .cmp(&a.len())
                .then_with(|| a.as_slice().cmp(b.as_slice()))
        });
        patterns.dedup_by(|a, b| a.as_slice() == b.as_slice());
        let max_len = patterns.first().map(|p| p.len()).unwrap_or(0);
        let hasher = RandomState::new();
        let mut prefixes = HashSet::new();
        for p in &patterns {
            for k in 1..p.len() {
                prefixes.insert(hasher.hash_one(&p[..k]));
            }
        }
        let strategy = if patterns.is_empty() {
            Strategy::Nothing
        } else if patterns.iter().all(|p| p.len() >= WINDOW) {
            let mut bitmap = vec![0u64; 1 << (BITMAP_BITS - 6)];
            let mut by_window: HashMap<u64, Vec<usize>> = HashMap::new();
            for (i, p) in patterns.iter().enumerate() {
                let w = u64::from_le_bytes(p[..WINDOW].try_into().unwrap_or_default());
                let h = window_hash(w);
                bitmap[h >> 6] |= 1 << (h & 63);
                by_window.entry(w).or_default().push(i);
            }
            Strategy::Windows { bitmap, by_window }
        } else {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::DFA))
                .build(patterns.iter().map(|p| p.as_slice()))
                .or_else(|_| {
                    AhoCorasick::builder()
                        .match_kind(MatchKind::LeftmostLongest)
                        .build(patterns.iter().map(|p| p.as_slice()))
                });
            match ac {
                Ok(ac) => Strategy::Automaton(ac),
                // Building only fails past internal size limits; mask nothing rather
                // than crash, and say so through `is_active`.
                Err(_) => Strategy::Nothing,
            }
        };
        Masker {
            patterns,
            max_len,
            prefixes,
            hasher,
            strategy,
        }
    }

    /// Whether any pattern is being masked.
    pub fn is_active(&self) -> bool {
        !matches!(self.strategy, Strategy::Nothing)
    }

    pub fn stream(&self) -> MaskStream<'_> {
        MaskStream {
            masker: self,
            buf: Zeroizing::new(Vec::new()),
        }
    }

    /// How many trailing bytes of `buf` could begin a pattern and must wait.
    fn hold(&self, buf: &[u8]) -> usize {
        let longest = self.max_len.saturating_sub(1).min(buf.len());
        (1..=longest)
            .rev()
            .find(|&k| {
                self.prefixes
                    .contains(&self.hasher.hash_one(&buf[buf.len() - k..]))
            })
            .unwrap_or(0)
    }

    /// Copies `buf[..end]` to `out` with every match replaced; matches lie wholly
    /// inside `buf` (the caller held back anything that could continue).
    fn scan(&self, buf: &[u8], end: usize, out: &mut Vec<u8>) {
        match &self.strategy {
            Strategy::Nothing => out.extend_from_slice(&buf[..end]),
            Strategy::Automaton(ac) => {
                let mut last = 0;
                for m in ac.find_iter(buf) {
                    if m.start() >= end {
                        break;
                    }
                    out.extend_from_slice(&buf[last..m.start()]);
                    out.extend_from_slice(MASK);
                    last = m.end();
                }
                if last < end {
                    out.extend_from_slice(&buf[last..end]);
                }
            }
            Strategy::Windows { bitmap, by_window } => {
                let mut last = 0;
                let mut i = 0;
                let limit = end.min(buf.len().saturating_sub(WINDOW - 1));
                while i < limit {
                    let w = u64::from_le_bytes(buf[i..i + WINDOW].try_into().unwrap_or_default());
                    let h = window_hash(w);
                    if bitmap[h >> 6] & (1 << (h & 63)) != 0 {
                        if let Some(len) = by_window
                            .get(&w)
                            .and_then(|c| {
                                c.iter()
                                    .map(|&p| &self.patterns[p])
                                    .find(|p| buf[i..].starts_with(p))
                            })
                            .map(|p| p.len())
                        {
                            out.extend_from_slice(&buf[last..i]);
                            out.extend_from_slice(MASK);
                            i += len;
                            last = i;
                            continue;
                        }
                    }
                    i += 1;
                }
                if last < end {
                    out.extend_from_slice(&buf[last..end]);
                }
            }
        }
    }
}

/// One output stream (stdout or stderr) being masked.
pub struct MaskStream<'m> {
    masker: &'m Masker,
    buf: Zeroizing<Vec<u8>>,
}

impl MaskStream<'_> {
    /// Masks what can be decided now into `out`; keeps a possible pattern prefix.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.buf.extend_from_slice(input);
        let hold = self.masker.hold(&self.buf);
        let end = self.buf.len() - hold;
        self.masker.scan(&self.buf, end, out);
        // Whatever a match consumed past `end` cannot exist (see `scan`), so the
        // held bytes are exactly the tail.
        let tail = self.buf[end..].to_vec();
        self.buf.clear();
        self.buf.extend_from_slice(&tail);
    }

    /// End of stream: what was held back was not a secret after all.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let len = self.buf.len();
        self.masker.scan(&self.buf, len, out);
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SecretValue {
        SecretValue::from_string(s.into()).unwrap()
    }

    fn mask_all(m: &Masker, chunks: &[&[u8]]) -> String {
        let mut s = m.stream();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_every_form() {
        let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
        let m = Masker::new([&v(secret)]);
        let line = format!(
            "raw={secret} b64={} hex={} url={} ok\n",
            STANDARD.encode(secret),
            hex::encode(secret),
            URL_SAFE_NO_PAD.encode(secret)
        );
        let out = mask_all(&m, &[line.as_bytes()]);
        assert_eq!(
            out,
            "raw=******** b64=******** hex=******** url=******** ok\n"
        );
        let tricky = "pa ss/wörd\"\\x";
        let m = Masker::new([&v(tricky)]);
        let json = serde_json::to_string(tricky).unwrap();
        let url = percent_encoding::utf8_percent_encode(tricky, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        assert_eq!(
            mask_all(&m, &[format!("{json} {url}").as_bytes()]),
            "\"********\" ********"
        );
    }

    #[test]
    fn values_split_across_reads_are_masked_at_every_split() {
        let secret = "correct-horse-battery-staple";
        let m = Masker::new([&v(secret)]);
        let text = format!("before {secret} after {secret}");
        for cut in 0..text.len() {
            let (a, b) = text.as_bytes().split_at(cut);
            assert_eq!(
                mask_all(&m, &[a, b]),
                "before ******** after ********",
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = text.as_bytes().chunks(1).collect();
        assert_eq!(mask_all(&m, &bytes), "before ******** after ********");
    }

    #[test]
    fn only_a_possible_prefix_is_held_back() {
        let m = Masker::new([&v("supersecretvalue")]);
        let mut s = m.stream();
        let mut out = Vec::new();
        s.push(b"hello super", &mut out);
        assert_eq!(out, b"hello ");
        s.push(b"man", &mut out);
        assert_eq!(out, b"hello superman");
        s.push(b" unrelated", &mut out);
        assert_eq!(out, b"hello superman unrelated");
    }

    #[test]
    fn short_values_use_the_automaton_and_longest_match_wins() {
        let m = Masker::new([&v("abc"), &v("abcdefghij")]);
        assert!(matches!(m.strategy, Strategy::Automaton(_)));
        assert_eq!(
            mask_all(&m, &[b"xx abcdefghij abc abx"]),
            "xx ******** ******** abx"
        );
        let m = Masker::new([&v("abcdefgh"), &v("abcdefghij")]);
        assert!(matches!(m.strategy, Strategy::Windows { .. }));
        assert_eq!(
            mask_all(&m, &[b"abcdefghij abcdefgh abcdefg"]),
            "******** ******** abcdefg"
        );
    }

    #[test]
    fn no_values_pass_everything() {
        let m = Masker::new(std::iter::empty());
        assert!(!m.is_active());
        assert_eq!(mask_all(&m, &[b"anything at all"]), "anything at all");
    }
}
