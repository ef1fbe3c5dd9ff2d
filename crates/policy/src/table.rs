//! The query table's string index: privilege text -> slot, built once per compiled policy.
//!
//! A check asks for a privilege by text; finding it is the only lookup by text a check does,
//! so it must cost a few comparisons rather than a hash of the whole string. Every string is
//! read as at most four machine words that, with its length, determine it entirely up to 32
//! bytes (three words from the start, the last eight bytes, overlapping for shorter strings;
//! see [`words`]). Each slot of a power-of-two array holds a key's words and length inline,
//! so that a lookup loads those words once, mixes them with one multiply to pick the slot,
//! and compares four words and a length: no loop over the bytes, and no other memory read
//! except for keys longer than 32 bytes, whose remaining bytes are compared in the arena.
//! Slots are probed linearly, so a collision costs a probe, never a wrong answer; the
//! multiplier is chosen when the index is built, among a few, for the fewest probes.

/// Multipliers tried when building (odd, with well-spread bits).
const MULTIPLIERS: [u64; 8] = [
    0xf135_7aea_2e62_a9c5,
    0x9e37_79b9_7f4a_7c15,
    0xbf58_476d_1ce4_e5b9,
    0x94d0_49bb_1331_11eb,
    0xd6e8_feb8_6659_fd93,
    0xa076_1d64_78bd_642f,
    0xe703_7ed1_a0b4_28db,
    0x8ebc_6af0_9c88_c6e3,
];

/// The eight bytes at `at` as a word (0 past the end).
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

/// The four bytes at `at` as a word (0 past the end).
#[inline(always)]
fn half(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

/// Bytes a slot's words determine whole, with the length.
const INLINE: usize = 32;

/// Words that, with the length, determine `b` whole when it is at most [`INLINE`] bytes
/// long, and its first 24 and last 8 bytes otherwise: bytes 0..8, 8..16, 16..24 (those that
/// are not past the last eight) and the last eight, from 8 bytes on; the first and last four
/// (4 to 7 bytes); the first, middle and last byte (1 to 3 bytes).
#[inline(always)]
fn words(b: &[u8]) -> [u64; 4] {
    let n = b.len();
    if n >= 8 {
        let w1 = if n > 16 { word(b, 8) } else { 0 };
        let w2 = if n > 24 { word(b, 16) } else { 0 };
        [word(b, 0), w1, w2, word(b, n - 8)]
    } else if n >= 4 {
        [half(b, 0) | (half(b, n - 4) << 32), 0, 0, 0]
    } else if n > 0 {
        let at = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
        [at(0) | (at(n / 2) << 8) | (at(n - 1) << 16), 0, 0, 0]
    } else {
        [0; 4]
    }
}

/// The slot hash of a string's words and length: one multiply, the high bits used.
#[inline(always)]
fn mix(w: &[u64; 4], n: usize, k: u64) -> u64 {
    (w[0] ^ w[1].rotate_left(16) ^ w[2].rotate_left(32) ^ w[3].rotate_left(48) ^ n as u64)
        .wrapping_mul(k)
}

/// Bytes equal, compared a word at a time without a library call: up to 16 bytes in two
/// overlapping loads from each side (dataset, status and field names, scope values).
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        if n <= 16 {
            return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
        }
        return same_long(a, b);
    }
    if n >= 4 {
        return half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4);
    }
    a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last()
}

/// [`same_bytes`] for two slices of one length above 16.
#[inline(never)]
fn same_long(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    let mut i = 0;
    while i + 8 <= n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    i == n || word(a, n - 8) == word(b, n - 8)
}

/// One slot: a key's words and length inline (see [`words`]), and which key it is.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    words: [u64; 4],
    len: u32,
    /// Index + 1 into `starts`; 0 is an empty slot.
    key: u32,
}

/// An immutable map from text to a dense index (`0..len`), in insertion order.
#[derive(Debug, Clone)]
pub(crate) struct StrIndex {
    /// Every key's bytes, one after another.
    arena: String,
    /// Where each key starts in `arena`.
    starts: Vec<u32>,
    /// Length is a power of two, at least twice the number of keys.
    slots: Box<[Slot]>,
    /// 64 minus the number of bits of a slot index.
    shift: u32,
    /// The multiplier of [`mix`].
    k: u64,
    /// Slots a search for every key probes, in all (the number of keys when none collide).
    probes: usize,
}

impl Default for StrIndex {
    fn default() -> Self {
        StrIndex::build([])
    }
}

impl StrIndex {
    /// The index of `keys`, each given its position; duplicates keep the first.
    pub(crate) fn build<'a>(keys: impl IntoIterator<Item = &'a str>) -> StrIndex {
        let keys: Vec<&str> = keys.into_iter().collect();
        let size = (keys.len() * 2).next_power_of_two().max(16);
        let with = |k: u64| {
            let mut index = StrIndex {
                arena: String::new(),
                starts: Vec::with_capacity(keys.len()),
                slots: vec![Slot::default(); size].into_boxed_slice(),
                shift: 64 - size.trailing_zeros(),
                k,
                probes: 0,
            };
            for key in &keys {
                index.insert(key);
            }
            index
        };
        let mut best = with(MULTIPLIERS[0]);
        for k in &MULTIPLIERS[1..] {
            if best.probes == best.starts.len() {
                break; // every key in its home slot
            }
            let index = with(*k);
            if index.probes < best.probes {
                best = index;
            }
        }
        best
    }

    /// Where a search for the words `w` of a string of `n` bytes starts.
    #[inline(always)]
    fn home(&self, w: &[u64; 4], n: usize) -> usize {
        (mix(w, n, self.k) >> self.shift) as usize
    }

    fn insert(&mut self, text: &str) {
        if self.get(text).is_some() {
            return;
        }
        let w = words(text.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = self.home(&w, text.len());
        self.probes += 1;
        while self.slots[i].key != 0 {
            i = (i + 1) & mask;
            self.probes += 1;
        }
        self.starts
            .push(u32::try_from(self.arena.len()).unwrap_or(u32::MAX));
        self.arena.push_str(text);
        self.slots[i] = Slot {
            words: w,
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
            key: u32::try_from(self.starts.len()).unwrap_or(u32::MAX),
        };
    }

    /// Whether the bytes of key `key` (index + 1) past its first 24 equal those of `b`, a
    /// string as long as the key and longer than [`INLINE`] bytes. Out of line: privileges
    /// are rarely that long.
    #[inline(never)]
    fn same_tail(&self, key: u32, b: &[u8]) -> bool {
        let Some(start) = self.starts.get((key as usize).wrapping_sub(1)) else {
            return false;
        };
        let start = *start as usize;
        let stored = self.arena.as_bytes().get(start + 24..start + b.len());
        stored.is_some_and(|s| b.get(24..).is_some_and(|t| same_bytes(s, t)))
    }

    /// The index of `text`, if it is a key.
    #[inline]
    pub(crate) fn get(&self, text: &str) -> Option<usize> {
        let b = text.as_bytes();
        let n = b.len();
        let w = words(b);
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = self.home(&w, n);
        loop {
            let s = self.slots.get(i)?;
            if s.key == 0 {
                return None;
            }
            if s.len as usize == n && s.words == w && (n <= INLINE || self.same_tail(s.key, b)) {
                return Some(s.key as usize - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Number of keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
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
        let text = b"abcdefghijklmnopqrstuvwxyz";
        for n in 0..=text.len() {
            let a = &text[..n];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &text[..n.saturating_sub(1)]) || n == 0);
            for at in 0..n {
                let mut b = a.to_vec();
                b[at] = b'#';
                assert!(!same_bytes(a, &b), "{n} {at}");
            }
        }
        assert_eq!(StrIndex::default().get(""), None);
    }

    /// Every length class of [`words`], each byte changed in turn: a string that differs
    /// from a key in any one byte, or in length, is not that key.
    #[test]
    fn every_byte_counts() {
        let alphabet = "abcdefghijklmnopqrstuvwxyz0123456789/:_-ABCDEFGHIJKL";
        let keys: Vec<String> = (0..=alphabet.len())
            .map(|n| alphabet[..n].to_owned())
            .collect();
        let index = StrIndex::build(keys.iter().map(String::as_str));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(index.get(k), Some(i), "{k}");
            for at in 0..k.len() {
                let mut changed = k.clone().into_bytes();
                changed[at] = b'#';
                let changed = String::from_utf8(changed).unwrap_or_default();
                assert_eq!(index.get(&changed), None, "{changed}");
            }
            assert_eq!(index.get(&format!("{k}#")), None);
        }
        // Equal words for short strings of other lengths: the length tells them apart.
        let same = [
            "aaa",
            "aa",
            "a",
            "aaaaaaaa",
            "aaaaaaaaaaaaaaaa",
            &"a".repeat(24),
        ];
        let short = StrIndex::build(same);
        for (i, k) in same.iter().enumerate() {
            assert_eq!(short.get(k), Some(i), "{k}");
        }
        for miss in [
            "",
            "aaaa",
            "aaaaaaa",
            "aaaaaaaaa",
            "aaaaaaaaaaaaaaaaa",
            &"a".repeat(25),
        ] {
            assert_eq!(short.get(miss), None, "{miss}");
        }
    }

    /// The built-in catalog's query strings mostly sit in their home slot (one probe).
    #[test]
    fn builtin_keys_rarely_collide() {
        let config = std::sync::Arc::new(crate::PolicyConfig::builtin().clone());
        let policy = crate::CompiledPolicy::compile(config, &[], &[], 1)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let index = &policy.query_index;
        assert!(
            index.probes * 4 <= index.len() * 5,
            "{} probes for {} keys",
            index.probes,
            index.len()
        );
    }
}
