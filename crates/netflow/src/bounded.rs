//! A map that remembers insertion order so the oldest entry can be evicted when a bound is hit.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Hash map plus an insertion-order index. Re-inserting a key makes it the newest.
///
/// Hashed with seeded foldhash, like the pairer's table: the keys come from exporters, and
/// std's SipHash cost a tenth of the decoding time in template lookups.
#[derive(Debug)]
pub(crate) struct OrderedMap<K, V> {
    map: HashMap<K, (V, u64), foldhash::fast::RandomState>,
    order: BTreeMap<u64, K>,
    next_gen: u64,
}

impl<K: Hash + Eq + Clone, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        Self {
            map: HashMap::default(),
            order: BTreeMap::new(),
            next_gen: 0,
        }
    }
}

impl<K: Hash + Eq + Clone, V> OrderedMap<K, V> {
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(v, _)| v)
    }

    pub(crate) fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    /// Inserts as the newest entry; returns the value it replaced.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        let generation = self.next_gen;
        self.next_gen += 1;
        self.order.insert(generation, k.clone());
        let old = self.map.insert(k, (v, generation));
        old.map(|(v, g)| {
            self.order.remove(&g);
            v
        })
    }

    pub(crate) fn remove(&mut self, k: &K) -> Option<V> {
        let (v, g) = self.map.remove(k)?;
        self.order.remove(&g);
        Some(v)
    }

    /// The value of `k`, inserted as the newest entry with `make` when absent.
    pub(crate) fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        let next_gen = &mut self.next_gen;
        let order = &mut self.order;
        let (v, _) = self.map.entry(k.clone()).or_insert_with(|| {
            let generation = *next_gen;
            *next_gen += 1;
            order.insert(generation, k);
            (make(), generation)
        });
        v
    }

    /// Removes and returns the oldest entry.
    pub(crate) fn pop_oldest(&mut self) -> Option<(K, V)> {
        let (_, k) = self.order.pop_first()?;
        let (v, _) = self.map.remove(&k)?;
        Some((k, v))
    }

    /// Keeps only the entries for which `keep` is true; returns the removed values.
    pub(crate) fn remove_where(&mut self, mut drop: impl FnMut(&K, &V) -> bool) -> Vec<V> {
        let keys: Vec<K> = self
            .map
            .iter()
            .filter(|(k, (v, _))| drop(k, v))
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| self.remove(k)).collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_in_insertion_order_and_reinsert_refreshes() {
        let mut m = OrderedMap::default();
        m.insert(1, "a");
        m.insert(2, "b");
        m.insert(1, "c");
        assert_eq!(m.pop_oldest(), Some((2, "b")));
        assert_eq!(m.pop_oldest(), Some((1, "c")));
        assert_eq!(m.pop_oldest(), None);
        assert_eq!(m.len(), 0);
    }
}
