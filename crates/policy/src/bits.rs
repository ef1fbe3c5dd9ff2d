//! A small fixed bit set over interned privilege ids: what a user holds and what is denied to
//! them, tested in one load and one shift.

/// An interned privilege string. Ids below the policy's universe size are global; a user's
/// effective set may add local ids above it for strings only that user mentions.
pub(crate) type PrivId = u32;

/// The id of no string: every bit test on it is false.
pub(crate) const NONE: PrivId = PrivId::MAX;

/// A bit set over privilege ids, sized once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BitSet(Box<[u64]>);

impl BitSet {
    /// An empty set able to hold ids below `n`.
    pub(crate) fn with_len(n: usize) -> Self {
        BitSet(vec![0; n.div_ceil(64)].into_boxed_slice())
    }

    /// Whether `id` is in the set ([`NONE`] and ids beyond its size never are).
    #[inline(always)]
    pub(crate) fn has(&self, id: PrivId) -> bool {
        let i = id as usize;
        self.0
            .get(i >> 6)
            .is_some_and(|word| (word >> (i & 63)) & 1 == 1)
    }

    /// Adds `id`; an id beyond the set's size is ignored (sets are sized for their ids).
    pub(crate) fn insert(&mut self, id: PrivId) {
        let i = id as usize;
        if let Some(word) = self.0.get_mut(i >> 6) {
            *word |= 1 << (i & 63);
        }
    }

    /// Removes `id`.
    pub(crate) fn remove(&mut self, id: PrivId) {
        let i = id as usize;
        if let Some(word) = self.0.get_mut(i >> 6) {
            *word &= !(1 << (i & 63));
        }
    }

    /// Bytes used by the set's storage.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_has_remove_iter() {
        let mut s = BitSet::with_len(130);
        for id in [0, 63, 64, 129] {
            s.insert(id);
        }
        s.insert(500); // beyond the size: ignored
        assert!(s.has(63) && s.has(64) && s.has(129) && !s.has(1) && !s.has(NONE));
        s.remove(64);
        assert!(!s.has(64) && s.has(0) && s.has(129));
        assert_eq!(s.heap_bytes(), 24);
    }
}
