//! [`FpMap`]: the bounded table of [`crate::bounded::BoundedMap`], for small fixed-size
//! keys (64-bit fingerprints, 128-bit addresses), laid out so that a detector can ask for a
//! key's slot to be loaded ahead of use.
//!
//! A table that holds every outbound pair (beacon) outgrows the caches: on the medium demo
//! it is full at 458,752 pairs, and each outbound flow's lookup waited for memory (15 % of
//! the whole analysis in `perf`). The pipeline knows a flow's key long before the detector
//! runs (the other detectors run in between), so the detector issues a prefetch of the
//! key's home slot first. The standard library's map does not say where a key lives, so
//! this one is open addressing with linear probing over one array of slots: a key's home
//! slot is a pure function of the key and the table's seed.
//!
//! Behaviour is that of `BoundedMap`: at most `cap` keys; when full, the least-recently-seen
//! tenth goes, handed back oldest first (ticks are unique, so what goes depends only on the
//! order of input, never on the layout); the seed is random per table, so an attacker who
//! can choose keys still cannot aim them at one slot. A property test holds the two
//! tables to the same answers and the same evictions.

use crate::bounded::{SeededState, oldest_first, tenth_oldest_tick};
use prefetch_index::prefetch_index;
use std::hash::{BuildHasher, Hash};

/// One slot. Two share a 64-byte cache line when the value is 16 bytes (the beacon's).
#[derive(Debug)]
#[repr(align(32))]
struct Slot<K, V> {
    key: K,
    seen: u64,
    /// `None`: the slot is free.
    value: Option<V>,
}

impl<K: Default, V> Slot<K, V> {
    fn free() -> Self {
        Slot {
            key: K::default(),
            seen: 0,
            value: None,
        }
    }
}

/// A bounded map from small keys to `V`; see the module documentation.
#[derive(Debug)]
pub struct FpMap<K, V> {
    /// A power of two long, at most half full, so a probe ends within a slot or two.
    slots: Vec<Slot<K, V>>,
    hasher: SeededState,
    len: usize,
    cap: usize,
    tick: u64,
    evicted: u64,
}

/// The table starts this small and doubles: a short input never pays for a full table.
const FIRST_SLOTS: usize = 64;

impl<K: Copy + Eq + Hash + Default, V> FpMap<K, V> {
    /// A table of at most `cap` keys (at least 1).
    pub fn new(cap: usize) -> Self {
        FpMap {
            slots: (0..FIRST_SLOTS).map(|_| Slot::free()).collect(),
            hasher: SeededState::random(),
            len: 0,
            cap: cap.max(1),
            tick: 0,
            evicted: 0,
        }
    }

    #[inline]
    fn home(&self, key: K) -> usize {
        (self.hasher.hash_one(key) as usize) & (self.slots.len() - 1)
    }

    /// Starts loading the slot where `key` would be; nothing else changes.
    #[inline]
    pub fn prefetch(&self, key: K) {
        prefetch_index(&self.slots, self.home(key));
    }

    /// The slot holding `key`, or else the free slot where it would go.
    #[inline]
    fn find(&self, key: K) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = &self.slots[i];
            match slot.value {
                None => return Err(i),
                Some(_) if slot.key == key => return Ok(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The value of a key, without marking it as seen.
    #[inline]
    pub fn peek(&self, key: &K) -> Option<&V> {
        match self.find(*key) {
            Ok(i) => self.slots[i].value.as_ref(),
            Err(_) => None,
        }
    }

    /// The value of a key, without marking it as seen.
    #[inline]
    pub fn peek_mut(&mut self, key: &K) -> Option<&mut V> {
        match self.find(*key) {
            Ok(i) => self.slots[i].value.as_mut(),
            Err(_) => None,
        }
    }

    /// The value of a key, created with `make` when missing; `true` when it was created.
    /// When the table is full, the least-recently-seen tenth goes first, handed to
    /// `on_evict` oldest first.
    #[inline]
    pub fn entry_with(
        &mut self,
        key: K,
        make: impl FnOnce() -> V,
        on_evict: impl FnMut(K, V),
    ) -> (&mut V, bool) {
        self.tick += 1;
        let tick = self.tick;
        let at = match self.find(key) {
            Ok(i) => {
                let slot = &mut self.slots[i];
                slot.seen = tick;
                return (slot.value.as_mut().expect("found slots are full"), false);
            }
            Err(i) => i,
        };
        let at = if self.len >= self.cap {
            self.evict_oldest(on_evict);
            self.free_slot(key)
        } else if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
            self.free_slot(key)
        } else {
            at
        };
        self.len += 1;
        let slot = &mut self.slots[at];
        *slot = Slot {
            key,
            seen: tick,
            value: Some(make()),
        };
        (slot.value.as_mut().expect("just filled"), true)
    }

    fn free_slot(&self, key: K) -> usize {
        match self.find(key) {
            Ok(i) | Err(i) => i,
        }
    }

    /// Moves every entry into a table twice as long.
    fn grow(&mut self) {
        let slots = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, (0..slots).map(|_| Slot::free()).collect());
        for slot in old {
            if slot.value.is_some() {
                let at = self.free_slot(slot.key);
                self.slots[at] = slot;
            }
        }
    }

    /// Evicts the least-recently-seen tenth (at least one), handing each to `on_evict`,
    /// oldest first.
    #[cold]
    pub fn evict_oldest(&mut self, mut on_evict: impl FnMut(K, V)) {
        let Some(limit) = tenth_oldest_tick(self.occupied().map(|s| s.seen).collect()) else {
            return;
        };
        let mut out: Vec<(u64, K, V)> = Vec::new();
        // One sweep; a removal shifts the entries behind it back, so the slot is looked at
        // again. Entries only ever move back, so none is passed over.
        let mut i = 0;
        while i < self.slots.len() {
            let slot = &self.slots[i];
            if slot.value.is_some() && slot.seen <= limit {
                let (seen, key) = (slot.seen, slot.key);
                let value = self.remove_at(i);
                out.push((seen, key, value));
            } else {
                i += 1;
            }
        }
        out.sort_unstable_by_key(|e| e.0);
        self.len -= out.len();
        self.evicted += out.len() as u64;
        for (_, key, value) in out {
            on_evict(key, value);
        }
    }

    /// Empties a full slot, moving back the entries of the probe run behind it so that
    /// every key stays reachable from its home (backward-shift deletion).
    fn remove_at(&mut self, mut hole: usize) -> V {
        let mask = self.slots.len() - 1;
        let value = self.slots[hole].value.take().expect("a full slot");
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let Some(key) = self.slots[j].value.as_ref().map(|_| self.slots[j].key) else {
                return value;
            };
            // The entry at `j` may fill the hole when the hole lies between its home and it.
            let from_home = j.wrapping_sub(self.home(key)) & mask;
            let from_hole = j.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                self.slots.swap(hole, j);
                hole = j;
            }
        }
    }

    fn occupied(&self) -> impl Iterator<Item = &Slot<K, V>> {
        self.slots.iter().filter(|s| s.value.is_some())
    }

    /// Keys of the `n` least-recently-seen entries for which `pred` holds, oldest first.
    pub fn oldest_keys(&self, n: usize, mut pred: impl FnMut(&V) -> bool) -> Vec<K> {
        let seen: Vec<(u64, K)> = self
            .occupied()
            .filter(|s| s.value.as_ref().is_some_and(&mut pred))
            .map(|s| (s.seen, s.key))
            .collect();
        oldest_first(seen, n)
    }

    /// Every entry, in no particular order: sort before emitting.
    pub fn iter(&self) -> impl Iterator<Item = (K, &V)> {
        self.slots
            .iter()
            .filter_map(|s| s.value.as_ref().map(|v| (s.key, v)))
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keys pushed out by the bound so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::BoundedMap;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Entry(u64),
        Peek(u64),
        Oldest(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        // A small key space, so keys come back, and fingerprints spread over all bits.
        let key = (0u64..48).prop_map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        prop_oneof![
            6 => key.clone().prop_map(Op::Entry),
            2 => key.prop_map(Op::Peek),
            1 => (1usize..6).prop_map(Op::Oldest),
        ]
    }

    proptest! {
        /// Every answer, and every eviction in order, is the one `BoundedMap` gives.
        #[test]
        fn behaves_as_the_bounded_map(cap in 1usize..40, ops in prop::collection::vec(op(), 0..400)) {
            let mut fp: FpMap<u64, u64> = FpMap::new(cap);
            let mut reference: BoundedMap<u64, u64> = BoundedMap::new(cap);
            for (n, op) in ops.into_iter().enumerate() {
                let n = n as u64;
                match op {
                    Op::Entry(k) => {
                        let (mut gone_fp, mut gone_ref) = (Vec::new(), Vec::new());
                        fp.prefetch(k);
                        let (v, created) = fp.entry_with(k, || n, |k, v| gone_fp.push((k, v)));
                        *v += 1;
                        let got = (*v, created);
                        let (v, created) =
                            reference.entry_with(k, || n, |k, v| gone_ref.push((k, v)));
                        *v += 1;
                        prop_assert_eq!(got, (*v, created));
                        prop_assert_eq!(gone_fp, gone_ref);
                    }
                    Op::Peek(k) => {
                        prop_assert_eq!(fp.peek_mut(&k).copied(), reference.peek_mut(&k).copied());
                    }
                    Op::Oldest(m) => {
                        prop_assert_eq!(
                            fp.oldest_keys(m, |v| v % 2 == 0),
                            reference.oldest_keys(m, |v| v % 2 == 0)
                        );
                    }
                }
                prop_assert_eq!(fp.len(), reference.len());
                prop_assert_eq!(fp.evicted(), reference.evicted());
                prop_assert!(fp.len() <= cap);
            }
            let mut all: Vec<(u64, u64)> = fp.iter().map(|(k, v)| (k, *v)).collect();
            let mut expected: Vec<(u64, u64)> = reference.iter().map(|(k, v)| (*k, *v)).collect();
            all.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(all, expected);
        }
    }

    #[test]
    fn wide_keys_are_told_apart_by_every_bit() {
        let mut t: FpMap<u128, u32> = FpMap::new(100);
        let keys: Vec<u128> = (0..64).map(|b| 1u128 << (64 + b)).chain([0, 1]).collect();
        for (i, &k) in keys.iter().enumerate() {
            let (_, created) = t.entry_with(k, || i as u32, |_, _| panic!("nothing to evict"));
            assert!(created, "{k:#x}");
        }
        assert_eq!(t.len(), keys.len());
        assert!(
            keys.iter()
                .enumerate()
                .all(|(i, k)| t.peek(k) == Some(&(i as u32)))
        );
    }

    #[test]
    fn grows_past_its_first_slots_and_keeps_every_key() {
        let mut t: FpMap<u64, u64> = FpMap::new(10_000);
        for k in 0..5_000u64 {
            t.entry_with(k, || k * 3, |_, _| panic!("nothing to evict"));
        }
        assert_eq!(t.len(), 5_000);
        assert!(t.slots.len() >= 10_000, "at most half full");
        assert!((0..5_000u64).all(|k| t.peek_mut(&k) == Some(&mut (k * 3))));
        assert_eq!(t.peek_mut(&5_000), None);
    }
}
