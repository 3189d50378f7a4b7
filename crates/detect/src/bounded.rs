//! The one bounded table every detector keeps its state in, and the hashing it uses.
//!
//! [`BoundedMap`] is a hash map with a fixed capacity. When it is full and a new key comes,
//! the least-recently-seen tenth of its keys is pushed out (each key carries the tick of its
//! last use; ticks are unique, so which keys go depends only on the order of input, never on
//! hash order). Every eviction is counted for [`crate::DetectorStats`], and a caller that
//! must not lose what it evicts (an open aggregate that is an alert in waiting) gets each
//! evicted entry back, oldest first.
//!
//! Keys are hashed with a fast folded-multiply hash seeded at random per table: input is
//! written by the attacker, so bucket positions must not be predictable (hash flooding).
//! Determinism does not suffer, because nothing is ever emitted in hash order: callers sort
//! what they take out of a table.
//!
//! [`Fp`] builds 64-bit fingerprints of composite keys (a pair and a window, a site and a
//! service) with a fixed seed, so a key of several addresses costs 8 bytes of state.
//! Collisions among a million keys happen with probability ~3·10⁻⁸ per run.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv6Addr};

const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;
const K2: u64 = 0xa409_3822_299f_31d0;

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// A hasher state seeded at random once per table.
#[derive(Clone, Copy, Debug)]
pub struct SeededState {
    seed: u64,
}

impl SeededState {
    /// A fresh seed (tables keyed by attacker-influenced fingerprints need one).
    pub fn random() -> Self {
        // RandomState is seeded from the OS once per process and then varied per instance.
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x05ec_15e0_u64);
        Self { seed: seed | 1 }
    }
}

impl BuildHasher for SeededState {
    type Hasher = FoldHasher;
    #[inline]
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher { acc: self.seed }
    }
}

/// Folded-multiply hasher (the construction of foldhash/ahash's fallback).
#[derive(Clone, Copy, Debug)]
pub struct FoldHasher {
    acc: u64,
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.acc = fold_mul(self.acc ^ i, K0);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.acc = fold_mul(self.acc ^ (i as u64), K1 ^ ((i >> 64) as u64));
        self.acc = fold_mul(self.acc, K0);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        fold_mul(self.acc, K2)
    }
}

/// An address as a 128-bit key (IPv4 as IPv4-mapped IPv6), cheap to hash and to store.
#[inline]
pub fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().to_bits(),
        IpAddr::V6(a) => a.to_bits(),
    }
}

/// The address back from [`ip_key`].
pub fn key_ip(key: u128) -> IpAddr {
    Ipv6Addr::from_bits(key).to_canonical()
}

/// Deterministic 64-bit fingerprint of a composite key.
#[derive(Clone, Copy, Debug)]
pub struct Fp(u64);

impl Fp {
    /// Starts a fingerprint; `tag` keeps fingerprints of different kinds apart.
    #[inline]
    pub fn new(tag: u64) -> Self {
        Fp(fold_mul(tag ^ K1, K2))
    }
    #[inline]
    pub fn u64(self, x: u64) -> Self {
        Fp(fold_mul(self.0 ^ x, K0))
    }
    #[inline]
    pub fn u128(self, x: u128) -> Self {
        self.u64(x as u64).u64((x >> 64) as u64)
    }
    #[inline]
    pub fn i64(self, x: i64) -> Self {
        self.u64(x as u64)
    }
    /// Bytes, in 8-byte words, then their length (so `"ab"` and `"ab\0"` differ).
    pub fn bytes(self, b: &[u8]) -> Self {
        b.chunks(8)
            .fold(self, |fp, c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                fp.u64(u64::from_le_bytes(w))
            })
            .u64(b.len() as u64)
    }
    #[inline]
    pub fn finish(self) -> u64 {
        fold_mul(self.0, K2 ^ K1)
    }
}

/// Ceilings of individual tables, below `limits.max_tracked_keys`: sized by what an entry
/// costs, so that every table of every detector full at once stays near 250 MiB (the
/// figures are in the crate documentation, "Memory"). A table holds
/// `min(limits.max_tracked_keys, ceiling)` keys.
pub mod caps {
    // Each is 7/8 of a power of two: a hash table allocates the next power of two above
    // 8/7 of its capacity, so these fill their allocation exactly.

    /// Alerts in waiting (open policy aggregates, alerts held for the reorder slack):
    /// up to ~2.3 KiB each with their evidence.
    pub const OPEN_ALERTS: usize = 7_168;
    /// 64-bit fingerprint sets (crossings learned, pairs already reported): 17 B a bucket.
    pub const FINGERPRINTS: usize = 458_752;
    /// Open pivot chains: up to ~3.8 KiB each with their hops and evidence.
    pub const PIVOT_CHAINS: usize = 7_168;
    /// Hosts in open pivot chains: 65 B a bucket.
    pub const PIVOT_NODES: usize = 114_688;
    /// Hosts whose last onward admin connections are remembered (an
    /// [`crate::fp_map::FpMap`]): 512 B a host, a 256-byte slot at most half full.
    pub const PIVOT_RECENT: usize = 28_672;
    /// Fan-out sources per window (two windows are kept): 89 B a bucket.
    pub const FAN_OUT_SOURCES: usize = 114_688;
    /// Fan-out destination-set slots per window (8 B each, in per-source arrays).
    pub const FAN_OUT_SLOTS: usize = 524_288;
    /// Fan-out pairs tried on two ports or more, per window: 25 B a bucket.
    pub const FAN_OUT_PAIRS: usize = 114_688;
    /// Fan-out (pair, port) keys per window: 17 B a bucket.
    pub const FAN_OUT_PORTS: usize = 229_376;
    /// Bulk-transfer groups (asset, peer site, window): up to ~10 KiB each.
    pub const BULK_GROUPS: usize = 1_792;
    /// Beacon pairs (an [`crate::fp_map::FpMap`]): 64 B a pair, a 32-byte slot at most half
    /// full (sampled pairs, capped by `beacon.max_detailed_pairs`, add ~2.7 KiB each).
    pub const BEACON_PAIRS: usize = 458_752;
    /// Sensors followed by sensor-gap.
    pub const SENSORS: usize = 4_096;
}

/// `min(limits.max_tracked_keys, ceiling)`, at least 1.
pub fn cap(max_tracked_keys: usize, ceiling: usize) -> usize {
    max_tracked_keys.min(ceiling).max(1)
}

#[derive(Debug)]
struct Slot<V> {
    value: V,
    seen: u64,
}

/// A hash map of at most `cap` keys that evicts the least-recently-seen ~10% when full.
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    map: HashMap<K, Slot<V>, SeededState>,
    cap: usize,
    tick: u64,
    evicted: u64,
}

impl<K: std::hash::Hash + Eq, V> BoundedMap<K, V> {
    /// A table of at most `cap` keys (at least 1).
    pub fn new(cap: usize) -> Self {
        Self {
            map: HashMap::with_hasher(SeededState::random()),
            cap: cap.max(1),
            tick: 0,
            evicted: 0,
        }
    }

    #[inline]
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// The value of a key, marking it as seen.
    #[inline]
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let t = self.next_tick();
        self.map.get_mut(key).map(|s| {
            s.seen = t;
            &mut s.value
        })
    }

    /// The value of a key, without marking it as seen.
    #[inline]
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|s| &s.value)
    }

    /// The value of a key, without marking it as seen.
    #[inline]
    pub fn peek_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key).map(|s| &mut s.value)
    }

    #[inline]
    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
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
        let t = self.next_tick();
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.evict_oldest(on_evict);
        }
        let mut created = false;
        let slot = self.map.entry(key).or_insert_with(|| {
            created = true;
            Slot {
                value: make(),
                seen: t,
            }
        });
        slot.seen = t;
        (&mut slot.value, created)
    }

    /// Like [`BoundedMap::entry_with`] for tables whose evicted entries are simply dropped.
    #[inline]
    pub fn entry(&mut self, key: K, make: impl FnOnce() -> V) -> (&mut V, bool) {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.drop_oldest();
        }
        self.entry_with(key, make, |_, _| {})
    }

    /// [`BoundedMap::evict_oldest`] when nobody looks at what leaves: the same entries go,
    /// dropped where they are instead of collected and put in order.
    #[cold]
    fn drop_oldest(&mut self) {
        let Some(limit) = self.oldest_tick_limit() else {
            return;
        };
        let before = self.map.len();
        self.map.retain(|_, s| s.seen > limit);
        self.evicted += (before - self.map.len()) as u64;
    }

    /// The tick at or below which the least-recently-seen tenth (at least one) lies.
    fn oldest_tick_limit(&self) -> Option<u64> {
        tenth_oldest_tick(self.map.values().map(|s| s.seen).collect())
    }

    /// Marks a key as seen, inserting it when new; `true` when it was new.
    #[inline]
    pub fn insert_key(&mut self, key: K) -> bool
    where
        V: Default,
    {
        self.entry(key, V::default).1
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key).map(|s| s.value)
    }

    /// Evicts the least-recently-seen tenth (at least one), handing each to `on_evict`,
    /// oldest first. Tables call it themselves when full; callers with a budget of their own
    /// (memory held by values) call it to make room.
    #[cold]
    pub fn evict_oldest(&mut self, mut on_evict: impl FnMut(K, V)) {
        let Some(limit) = self.oldest_tick_limit() else {
            return;
        };
        // Ticks are unique, so exactly `n` entries are at or below the limit.
        let mut out: Vec<(u64, K, V)> = self
            .map
            .extract_if(|_, s| s.seen <= limit)
            .map(|(k, s)| (s.seen, k, s.value))
            .collect();
        out.sort_unstable_by_key(|e| e.0);
        self.evicted += out.len() as u64;
        for (_, k, v) in out {
            on_evict(k, v);
        }
    }

    /// Keys of the `n` least-recently-seen entries for which `pred` holds, oldest first.
    pub fn oldest_keys(&self, n: usize, mut pred: impl FnMut(&V) -> bool) -> Vec<K>
    where
        K: Clone,
    {
        let seen: Vec<(u64, &K)> = self
            .map
            .iter()
            .filter(|(_, s)| pred(&s.value))
            .map(|(k, s)| (s.seen, k))
            .collect();
        oldest_first(seen, n).into_iter().cloned().collect()
    }

    /// Takes out every entry for which `pred` says so, in no particular order: sort before
    /// emitting.
    pub fn extract(&mut self, mut pred: impl FnMut(&K, &mut V) -> bool) -> Vec<(K, V)> {
        self.map
            .extract_if(|k, s| pred(k, &mut s.value))
            .map(|(k, s)| (k, s.value))
            .collect()
    }

    /// Removes every entry, keeping the allocation (and the eviction count).
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Takes out every entry, in no particular order: sort before emitting.
    pub fn drain(&mut self) -> Vec<(K, V)> {
        self.map.drain().map(|(k, s)| (k, s.value)).collect()
    }

    /// Every entry, in no particular order: sort before emitting.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, s)| (k, &s.value))
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Keys pushed out by the bound so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

/// The tick at or below which the least-recently-seen tenth (at least one) of a table's
/// ticks lies; `None` for an empty table. Ticks are unique, so exactly that many are at or
/// below it.
pub(crate) fn tenth_oldest_tick(mut ticks: Vec<u64>) -> Option<u64> {
    if ticks.is_empty() {
        return None;
    }
    let n = (ticks.len() / 10).max(1);
    let (_, nth, _) = ticks.select_nth_unstable(n - 1);
    Some(*nth)
}

/// The keys of the `n` entries with the lowest ticks, oldest first.
pub(crate) fn oldest_first<K>(mut seen: Vec<(u64, K)>, n: usize) -> Vec<K> {
    if seen.len() > n {
        seen.select_nth_unstable_by_key(n, |e| e.0);
        seen.truncate(n);
    }
    seen.sort_unstable_by_key(|e| e.0);
    seen.into_iter().map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_table_evicts_the_least_recently_seen_tenth_and_counts_it() {
        let mut t: BoundedMap<u32, u32> = BoundedMap::new(100);
        for i in 0..100 {
            t.entry(i, || i);
        }
        // Key 0 is touched again, so it is no longer among the oldest.
        assert!(t.get_mut(&0).is_some());
        let mut gone = Vec::new();
        t.entry_with(1000, || 0, |k, _| gone.push(k));
        assert_eq!(gone, (1..=10).collect::<Vec<_>>());
        assert_eq!(t.evicted(), 10);
        assert_eq!(t.len(), 91);
        assert!(t.contains_key(&0));
        for i in 2000..100_000 {
            t.insert_key(i);
            assert!(t.len() <= 100);
        }
        // Every key that went in is either still there or was counted out.
        assert_eq!(t.evicted() as usize, 100 + 1 + 98_000 - t.len());
    }

    #[test]
    fn dropping_evicts_the_same_tenth_as_handing_out() {
        let mut t: BoundedMap<u32, u32> = BoundedMap::new(100);
        for i in 0..100 {
            t.entry(i, || i);
        }
        assert!(t.get_mut(&0).is_some());
        t.entry(1000, || 0);
        assert_eq!(t.evicted(), 10);
        assert_eq!(t.len(), 91);
        assert!((1..=10).all(|k| !t.contains_key(&k)));
        assert!([0, 11, 99, 1000].iter().all(|k| t.contains_key(k)));
    }

    #[test]
    fn ip_keys_round_trip() {
        for s in ["10.20.3.4", "2001:db8::1", "0.0.0.0", "::"] {
            let ip: IpAddr = s.parse().unwrap();
            assert_eq!(key_ip(ip_key(ip)), ip);
        }
    }

    #[test]
    fn fingerprints_are_stable_and_tell_fields_apart() {
        let a = Fp::new(1).u64(2).u64(3).finish();
        assert_eq!(a, Fp::new(1).u64(2).u64(3).finish());
        assert_ne!(a, Fp::new(1).u64(3).u64(2).finish());
        assert_ne!(a, Fp::new(2).u64(2).u64(3).finish());
    }
}
