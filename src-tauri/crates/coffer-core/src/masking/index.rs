//! A table from 8-byte windows to the places in the patterns where they occur, with a
//! bitmap in front so that a window found in no pattern — nearly every window of
//! ordinary output — costs one multiply and one bit test.

use zeroize::{Zeroize, Zeroizing};

/// Bytes in a window.
pub const WINDOW: usize = 8;

/// One window of one pattern: `pattern[offset..offset + WINDOW] == window`.
#[derive(Clone, Copy, Zeroize)]
pub struct Entry {
    pub window: u64,
    pub pattern: u32,
    pub offset: u32,
}

pub struct WindowIndex {
    bitmap: Zeroizing<Vec<u64>>,
    bitmap_shift: u32,
    bucket_shift: u32,
    /// `entries[starts[b]..starts[b + 1]]` is bucket `b`.
    starts: Vec<u32>,
    entries: Zeroizing<Vec<Entry>>,
}

/// Reads the window at `at`; the caller guarantees `at + WINDOW <= bytes.len()`.
#[inline(always)]
pub fn window_at(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; WINDOW];
    w.copy_from_slice(&bytes[at..at + WINDOW]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn mix(w: u64) -> u64 {
    // Fibonacci hashing: the top bits of the product depend on every input byte.
    w.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl WindowIndex {
    pub fn new(entries: Vec<Entry>) -> WindowIndex {
        // About 16 bitmap bits per entry keeps false hits near 6 %; 2^16..2^25 bits.
        let bitmap_bits = (entries.len().max(1) * 16)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(16, 25);
        let bucket_bits = (entries.len().max(1))
            .next_power_of_two()
            .trailing_zeros()
            .clamp(4, 22);
        let bitmap_shift = 64 - bitmap_bits;
        let bucket_shift = 64 - bucket_bits;
        let mut bitmap = Zeroizing::new(vec![0u64; 1 << (bitmap_bits - 6)]);
        for e in &entries {
            let b = (mix(e.window) >> bitmap_shift) as usize;
            bitmap[b >> 6] |= 1 << (b & 63);
        }
        // Grouped by bucket with a counting sort: linear, where a comparison sort
        // of a million entries was most of the cost of building a masker.
        let mut starts = vec![0u32; (1 << bucket_bits) + 1];
        for e in &entries {
            starts[(mix(e.window) >> bucket_shift) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut next = starts.clone();
        let mut placed = Zeroizing::new(vec![
            Entry {
                window: 0,
                pattern: 0,
                offset: 0,
            };
            entries.len()
        ]);
        for e in &entries {
            let b = (mix(e.window) >> bucket_shift) as usize;
            placed[next[b] as usize] = *e;
            next[b] += 1;
        }
        drop(Zeroizing::new(entries));
        WindowIndex {
            bitmap,
            bitmap_shift,
            bucket_shift,
            starts,
            entries: placed,
        }
    }

    /// False when no pattern has this window; true usually means one does.
    #[inline(always)]
    pub fn maybe(&self, window: u64) -> bool {
        let b = (mix(window) >> self.bitmap_shift) as usize;
        self.bitmap[b >> 6] & (1 << (b & 63)) != 0
    }

    /// Every place where this window occurs.
    pub fn lookup(&self, window: u64) -> impl Iterator<Item = &Entry> {
        let b = (mix(window) >> self.bucket_shift) as usize;
        self.entries[self.starts[b] as usize..self.starts[b + 1] as usize]
            .iter()
            .filter(move |e| e.window == window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_windows_it_was_given() {
        let entries: Vec<Entry> = (0..1000u32)
            .map(|i| Entry {
                window: u64::from(i) * 0x0101_0101,
                pattern: i,
                offset: i % 7,
            })
            .collect();
        let index = WindowIndex::new(entries);
        for i in 0..1000u32 {
            let w = u64::from(i) * 0x0101_0101;
            assert!(index.maybe(w));
            let found: Vec<u32> = index.lookup(w).map(|e| e.pattern).collect();
            assert_eq!(found, vec![i]);
        }
        assert_eq!(index.lookup(3).count(), 0);
    }

    #[test]
    fn an_empty_index_matches_nothing() {
        let index = WindowIndex::new(Vec::new());
        assert!(!index.maybe(window_at(b"anything", 0)));
    }
}
