//! Masking resolved values out of a child's output, as it streams.
//!
//! **What is masked.** Every occurrence of every form of every value (see [`forms`]):
//! the output equals the whole stream with the union of all matches — overlapping and
//! adjacent ones merged — replaced, each merged run by one [`MASK`]. Nothing of a value
//! is ever printed after its mask, however the writes were split.
//!
//! **What is held back.** After each read only the bytes from the earliest position
//! where some pattern could still begin are kept; everything before it is decided and
//! written at once, so interactive output is not delayed by more than a possible
//! secret.
//!
//! **How it stays fast.** Matches of patterns of 8 bytes or more are found by
//! sampling: a pattern of length ≥ `m` covers a full 8-byte window starting at one of
//! every `m - 7` consecutive positions, so only every `(m - 7)`-th window of the output
//! is looked up (a bitmap test, see [`index`]), against a table of each pattern's first
//! `m - 7` windows; a hit is checked byte for byte. Patterns are grouped by length so
//! that long values get long strides. The cost per byte falls as values grow and does
//! not grow with their number (until the bitmaps leave the cache). Shorter patterns
//! (values under 8 bytes, which `coffer run` warns about) go through an Aho-Corasick
//! automaton instead.

mod forms;
mod index;

pub use forms::{forms, forms_of_bytes, MIN_ENCODED_LEN, MIN_LINE_LEN};

use aho_corasick::{AhoCorasick, MatchKind};
use zeroize::Zeroizing;

use crate::value::SecretValue;
use index::{window_at, Entry, WindowIndex, WINDOW};

/// What a masked run is replaced with.
pub const MASK: &[u8] = b"********";
/// Values shorter than this are masked but warned about: they may also occur by chance.
pub const MIN_SAFE_LEN: usize = 8;
/// Longest stride: past it, sampling saves nothing more and tables only grow.
const MAX_STEP: usize = 256;
/// Table entries per length class: with very many values the stride shrinks instead
/// of the table growing (10,000 values would otherwise need millions of entries).
const MAX_ENTRIES: usize = 1 << 20;

/// The patterns of one run. Holds copies of values: zeroized on drop.
pub struct Masker {
    patterns: Vec<Zeroizing<Vec<u8>>>,
    max_len: usize,
    /// Patterns of at least [`WINDOW`] bytes, by length class.
    groups: Vec<Group>,
    /// Patterns shorter than [`WINDOW`].
    short: Short,
    /// The first window of every pattern longer than [`WINDOW`]: where a pattern that
    /// has begun but not ended may start.
    starts: WindowIndex,
    /// Every proper prefix shorter than [`WINDOW`] of every pattern, packed with its
    /// length ([`pack`]), sorted: where a pattern may have begun in a read's last bytes.
    short_prefixes: Zeroizing<Vec<u64>>,
}

/// Up to 7 bytes and their count in one integer, so that prefixes of different
/// lengths never compare equal.
fn pack(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..bytes.len()].copy_from_slice(bytes);
    w[7] = bytes.len() as u8;
    u64::from_le_bytes(w)
}

struct Group {
    step: usize,
    index: WindowIndex,
}

enum Short {
    None,
    Automaton(AhoCorasick),
    /// The automaton could not be built (far past any real number of values): mask
    /// every byte rather than let one through.
    Everything,
}

impl Masker {
    /// The masker of `values`: each in every form, and a binary value also as its
    /// bytes (what a child prints from a secret file) in theirs.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a SecretValue>) -> Masker {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = values
            .into_iter()
            .flat_map(|v| {
                let mut all = forms(v.expose());
                if v.is_binary() {
                    all.extend(forms_of_bytes(&v.to_bytes()));
                }
                all
            })
            .collect();
        patterns.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
        patterns.dedup_by(|a, b| a.as_slice() == b.as_slice());
        patterns.retain(|p| !p.is_empty());
        Masker::from_patterns(patterns)
    }

    fn from_patterns(patterns: Vec<Zeroizing<Vec<u8>>>) -> Masker {
        let max_len = patterns.iter().map(|p| p.len()).max().unwrap_or(0);

        // Length classes [8, 16), [16, 32), … each sampled at its own stride.
        let mut by_class: Vec<Vec<u32>> = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            if p.len() >= WINDOW {
                let class = (usize::BITS - (p.len() / WINDOW).leading_zeros()) as usize - 1;
                if by_class.len() <= class {
                    by_class.resize(class + 1, Vec::new());
                }
                by_class[class].push(id as u32);
            }
        }
        let groups = by_class
            .into_iter()
            .filter(|ids| !ids.is_empty())
            .map(|ids| {
                let min = ids
                    .iter()
                    .map(|&id| patterns[id as usize].len())
                    .min()
                    .unwrap_or(WINDOW);
                let step = (min - WINDOW + 1)
                    .min(MAX_STEP)
                    .min((MAX_ENTRIES / ids.len()).max(1));
                let mut entries = Vec::with_capacity(ids.len() * step);
                for id in ids {
                    let p = &patterns[id as usize];
                    for offset in 0..step {
                        entries.push(Entry {
                            window: window_at(p, offset),
                            pattern: id,
                            offset: offset as u32,
                        });
                    }
                }
                Group {
                    step,
                    index: WindowIndex::new(entries),
                }
            })
            .collect();

        let starts = WindowIndex::new(
            patterns
                .iter()
                .enumerate()
                .filter(|(_, p)| p.len() > WINDOW)
                .map(|(id, p)| Entry {
                    window: window_at(p, 0),
                    pattern: id as u32,
                    offset: 0,
                })
                .collect(),
        );
        let mut short_prefixes = Zeroizing::new(Vec::with_capacity(patterns.len() * (WINDOW - 1)));
        for p in &patterns {
            for k in 1..p.len().min(WINDOW) {
                short_prefixes.push(pack(&p[..k]));
            }
        }
        short_prefixes.sort_unstable();
        short_prefixes.dedup();

        let short_patterns: Vec<&[u8]> = patterns
            .iter()
            .filter(|p| p.len() < WINDOW)
            .map(|p| p.as_slice())
            .collect();
        let short = if short_patterns.is_empty() {
            Short::None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&short_patterns)
                .map(Short::Automaton)
                .unwrap_or(Short::Everything)
        };
        Masker {
            patterns,
            max_len,
            groups,
            short,
            starts,
            short_prefixes,
        }
    }

    /// Whether any pattern is being masked.
    pub fn is_active(&self) -> bool {
        !self.patterns.is_empty()
    }

    pub fn stream(&self) -> MaskStream<'_> {
        MaskStream {
            masker: self,
            buf: Zeroizing::new(Vec::new()),
            base: 0,
            run_end: None,
            matches: Vec::new(),
        }
    }

    /// Masks a whole text at once.
    pub fn mask(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        let mut s = self.stream();
        s.push(text, &mut out);
        s.finish(&mut out);
        out
    }

    /// The earliest index in `buf` from which the rest of `buf` is a proper prefix of
    /// some pattern — where a match may have begun — or `buf.len()`.
    fn pending_from(&self, buf: &[u8]) -> usize {
        let n = buf.len();
        let lowest = n.saturating_sub(self.max_len.saturating_sub(1));
        if n >= WINDOW {
            for q in lowest..=n - WINDOW {
                let w = window_at(buf, q);
                if self.starts.maybe(w)
                    && self.starts.lookup(w).any(|e| {
                        let p = &self.patterns[e.pattern as usize];
                        p.len() > n - q && p.starts_with(&buf[q..])
                    })
                {
                    return q;
                }
            }
        }
        (lowest.max(n.saturating_sub(WINDOW - 1))..n)
            .find(|&q| self.short_prefixes.binary_search(&pack(&buf[q..])).is_ok())
            .unwrap_or(n)
    }

    /// Appends to `found` every match in `buf` that starts before `decided`; `buf`
    /// starts at absolute position `base`. All such matches end inside `buf`.
    fn find(&self, buf: &[u8], base: u64, decided: usize, found: &mut Vec<(usize, usize)>) {
        let n = buf.len();
        for g in &self.groups {
            if n < WINDOW {
                break;
            }
            // Sample at absolute multiples of the step, so a match split across reads
            // is sampled where it would have been in one read.
            let step = g.step as u64;
            let mut p = (base.div_ceil(step) * step - base) as usize;
            let limit = (n - WINDOW + 1).min(decided + g.step - 1);
            while p < limit {
                let w = window_at(buf, p);
                if g.index.maybe(w) {
                    for e in g.index.lookup(w) {
                        let Some(start) = p.checked_sub(e.offset as usize) else {
                            continue;
                        };
                        let pattern = &self.patterns[e.pattern as usize];
                        let end = start + pattern.len();
                        if start < decided && end <= n && buf[start..end] == pattern[..] {
                            found.push((start, end));
                        }
                    }
                }
                p += g.step;
            }
        }
        match &self.short {
            Short::None => {}
            Short::Automaton(ac) => found.extend(
                ac.find_overlapping_iter(buf)
                    .filter(|m| m.start() < decided)
                    .map(|m| (m.start(), m.end())),
            ),
            Short::Everything => found.push((0, decided)),
        }
    }
}

/// One output stream (stdout or stderr) being masked.
pub struct MaskStream<'m> {
    masker: &'m Masker,
    /// Output not yet decided, from absolute position `base`.
    buf: Zeroizing<Vec<u8>>,
    base: u64,
    /// Where the mask run last written ends (absolute); a match that starts at or
    /// before it joins that run.
    run_end: Option<u64>,
    matches: Vec<(usize, usize)>,
}

impl MaskStream<'_> {
    /// Writes to `out` everything that can be decided now; keeps what may still
    /// become a match.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if !self.masker.is_active() {
            out.extend_from_slice(input);
            return;
        }
        if self.buf.is_empty() {
            // The usual case for large reads: decide straight from the input and
            // keep only its undecided tail.
            let decided = self.masker.pending_from(input);
            self.emit(input, decided, out);
            self.buf.extend_from_slice(&input[decided..]);
        } else {
            self.buf.extend_from_slice(input);
            let decided = self.masker.pending_from(&self.buf);
            let buf = std::mem::take(&mut self.buf);
            self.emit(&buf, decided, out);
            self.buf = buf;
            self.buf.drain(..decided);
        }
    }

    /// End of stream: what was held back was not a secret after all.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let buf = std::mem::take(&mut self.buf);
        self.emit(&buf, buf.len(), out);
        self.run_end = None;
    }

    /// Writes `data[..decided]` masked, `data` starting at absolute position `base`,
    /// and moves `base` past it.
    fn emit(&mut self, data: &[u8], decided: usize, out: &mut Vec<u8>) {
        if decided == 0 {
            return;
        }
        self.matches.clear();
        self.masker
            .find(data, self.base, decided, &mut self.matches);
        self.matches.sort_unstable();
        let base = self.base;
        // Relative end of the open run, if it reaches into `data`.
        let mut run_end = self.run_end.map(|e| e.saturating_sub(base) as usize);
        let mut clear_from = 0;
        for &(start, end) in &self.matches {
            match run_end {
                Some(r) if start <= r => run_end = Some(r.max(end)),
                _ => {
                    let from = clear_from.max(run_end.unwrap_or(0));
                    out.extend_from_slice(&data[from..start]);
                    out.extend_from_slice(MASK);
                    run_end = Some(end);
                    clear_from = start;
                }
            }
        }
        let from = clear_from.max(run_end.unwrap_or(0));
        if from < decided {
            out.extend_from_slice(&data[from..decided]);
            // A byte after the run was written in the clear: the run is closed.
            run_end = None;
        }
        self.run_end = run_end.map(|r| base + r as u64);
        self.base += decided as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SecretValue {
        SecretValue::from_string(s.into()).unwrap()
    }

    fn raw_only(values: &[&str]) -> Masker {
        Masker::from_patterns(
            values
                .iter()
                .map(|s| Zeroizing::new(s.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn mask_split(m: &Masker, chunks: &[&[u8]]) -> String {
        let mut s = m.stream();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_tail_of_a_value_is_never_printed_after_its_mask() {
        // The leak of issue 10: a write ending right after a value whose last bytes
        // could begin another form printed them again.
        let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dcs";
        let m = Masker::new([&v(secret)]);
        let mut s = m.stream();
        let mut out = Vec::new();
        s.push(secret.as_bytes(), &mut out);
        s.finish(&mut out);
        assert_eq!(out, MASK);
        let long: String = "abcdefghij".repeat(1600);
        let m = Masker::new([&v(&long)]);
        assert_eq!(m.mask(long.as_bytes()), MASK);
    }

    #[test]
    fn a_binary_value_is_masked_as_its_bytes_and_as_its_base64() {
        let bytes = b"\x00\xffkey\x80\x81material\x00\xfe".to_vec();
        let value = SecretValue::from_binary(Zeroizing::new(bytes.clone())).unwrap();
        let m = Masker::new([&value]);
        let mut printed = b"file: ".to_vec();
        printed.extend_from_slice(&bytes);
        printed.extend_from_slice(b" env: ");
        printed.extend_from_slice(value.expose().as_bytes());
        printed.extend_from_slice(b" hex: ");
        printed.extend_from_slice(hex::encode(&bytes).as_bytes());
        assert_eq!(
            m.mask(&printed),
            b"file: ******** env: ******** hex: ********".to_vec()
        );
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
        s.push(b" supersecretvalue", &mut out);
        assert_eq!(out, b"hello superman unrelated ********");
    }

    #[test]
    fn a_run_stays_open_while_a_match_could_still_join_it() {
        let m = raw_only(&["abcdefghij", "klmnopqrst"]);
        let mut s = m.stream();
        let mut out = Vec::new();
        s.push(b"<abcdefghij", &mut out);
        assert_eq!(out, b"<********");
        s.push(b"klmnopqrst>", &mut out);
        assert_eq!(out, b"<********>", "adjacent matches are one run");
    }

    #[test]
    fn short_values_use_the_automaton() {
        let m = raw_only(&["abc", "abcdefghij"]);
        assert!(matches!(m.short, Short::Automaton(_)));
        assert_eq!(
            m.mask(b"xx abcdefghij abc abx"),
            b"xx ******** ******** abx"
        );
    }

    #[test]
    fn no_values_pass_everything() {
        let m = Masker::new(std::iter::empty());
        assert!(!m.is_active());
        assert_eq!(
            mask_split(&m, &[b"anything", b" at all"]),
            "anything at all"
        );
    }

    #[test]
    fn strides_follow_the_length_classes() {
        let m = raw_only(&["12345678", &"x".repeat(40), &"y".repeat(5000)]);
        let steps: Vec<usize> = m.groups.iter().map(|g| g.step).collect();
        assert_eq!(steps, vec![1, 33, MAX_STEP]);
    }
}
