//! The query table's string index: privilege text -> slot, built once per compiled policy.
//!
//! A check asks for a privilege by text; finding it is the only hashing a check does. A
//! general hash map spends more on that than the rest of the check (a hash of the whole
//! string, a probe, and a `memcmp` call on a key stored in its own allocation). This table
//! keeps every key in one arena next to its full hash, probes linearly in a power-of-two
//! array of slots, rejects a wrong slot by comparing the 64-bit hashes, and compares the
//! bytes of the one candidate eight at a time.

const K: u64 = 0xf135_7aea_2e62_a9c5;

/// The eight bytes at `at` as a word (0 past the end).
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// Up to seven bytes packed into a word.
#[inline(always)]
fn short_word(b: &[u8]) -> u64 {
    b.iter()
        .enumerate()
        .fold(0u64, |w, (j, x)| w | (u64::from(*x) << (8 * j)))
}

#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(26) ^ w).wrapping_mul(K)
}

/// Hashes bytes a word at a time (multiply and rotate, as FxHash does); the last word
/// overlaps the one before it rather than being padded.
#[inline]
pub(crate) fn hash(text: &str) -> u64 {
    let b = text.as_bytes();
    let n = b.len();
    let mut h = (n as u64).wrapping_mul(K);
    if n < 8 {
        h = mix(h, short_word(b));
    } else {
        let mut i = 0;
        while i + 8 <= n {
            h = mix(h, word(b, i));
            i += 8;
        }
        if i < n {
            h = mix(h, word(b, n - 8));
        }
    }
    h ^ (h >> 29)
}

/// Bytes equal, compared a word at a time without a library call.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return short_word(a) == short_word(b);
    }
    let mut i = 0;
    while i + 8 <= n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    i == n || word(a, n - 8) == word(b, n - 8)
}

#[derive(Debug, Clone, Copy)]
struct Key {
    hash: u64,
    start: u32,
    len: u32,
}

/// An immutable map from text to a dense index (`0..len`), in insertion order.
#[derive(Debug, Clone, Default)]
pub(crate) struct StrIndex {
    arena: String,
    keys: Vec<Key>,
    /// Index + 1 into `keys`; 0 is an empty slot. Length is a power of two.
    slots: Box<[u32]>,
}

impl StrIndex {
    /// The index of `keys`, each given its position; duplicates keep the first.
    pub(crate) fn build<'a>(keys: impl IntoIterator<Item = &'a str>) -> StrIndex {
        let mut index = StrIndex::default();
        let keys: Vec<&str> = keys.into_iter().collect();
        let size = (keys.len() * 2).next_power_of_two().max(16);
        index.slots = vec![0; size].into_boxed_slice();
        for k in keys {
            index.insert(k);
        }
        index
    }

    fn insert(&mut self, text: &str) {
        let h = hash(text);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match self.slots[i] {
                0 => break,
                n => {
                    if self.key_text(n as usize - 1) == text {
                        return;
                    }
                }
            }
            i = (i + 1) & mask;
        }
        let start = u32::try_from(self.arena.len()).unwrap_or(u32::MAX);
        self.arena.push_str(text);
        self.keys.push(Key {
            hash: h,
            start,
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
        });
        self.slots[i] = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
    }

    fn key_text(&self, i: usize) -> &str {
        let k = self.keys[i];
        self.arena
            .get(k.start as usize..(k.start + k.len) as usize)
            .unwrap_or("")
    }

    /// The index of `text`, if it is a key.
    #[inline]
    pub(crate) fn get(&self, text: &str) -> Option<usize> {
        let h = hash(text);
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        loop {
            let n = *self.slots.get(i)? as usize;
            if n == 0 {
                return None;
            }
            let k = self.keys.get(n - 1)?;
            if k.hash == h {
                let stored = self
                    .arena
                    .as_bytes()
                    .get(k.start as usize..(k.start + k.len) as usize)?;
                if same_bytes(stored, text.as_bytes()) {
                    return Some(n - 1);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Number of keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_nothing_else() {
        let keys: Vec<String> = (0..500).map(|i| format!("eprint/p{i}/view")).collect();
        let index = StrIndex::build(
            keys.iter()
                .map(String::as_str)
                .chain(["", "eprint/p3/view"]),
        );
        assert_eq!(index.len(), 501);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(index.get(k), Some(i), "{k}");
        }
        assert_eq!(index.get(""), Some(500));
        for miss in ["eprint/p500/view", "eprint/p1/vie", "eprint/p1/viewx", "x"] {
            assert_eq!(index.get(miss), None, "{miss}");
        }
        assert!(same_bytes(b"abcdefghijk", b"abcdefghijk"));
        assert!(!same_bytes(b"abcdefghijk", b"abcdefghijK"));
        assert!(!same_bytes(b"abcdefgh", b"abcdefgi"));
        assert_ne!(hash("ab"), hash("ab\0"));
    }
}
