//! A map kept as a vector sorted by key. The RIB's maps are small (interfaces, tables) or keyed
//! by ids that only grow (addresses, routes: new entries go at the end), so a sorted vector
//! does the work of a B-tree with a fraction of the code on the target: lookups are binary
//! searches, iteration is a slice walk, and inserting or removing in the middle moves the tail.

use alloc::vec::Vec;

#[derive(Clone, Debug)]
pub(crate) struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord + Copy, V> SortedMap<K, V> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (K, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    #[cfg(any(test, feature = "reference"))]
    pub fn keys(&self) -> impl Iterator<Item = K> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(*k, v));
    }

    #[cfg(any(test, feature = "reference"))]
    /// Takes the entries out, leaving the map empty.
    pub fn take(&mut self) -> Vec<(K, V)> {
        core::mem::take(&mut self.entries)
    }

    #[cfg(any(test, feature = "reference"))]
    /// Replaces the contents with `entries`, which must be sorted by key without duplicates.
    pub fn replace_sorted(&mut self, entries: Vec<(K, V)>) {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        self.entries = entries;
    }
}

#[cfg(test)]
mod tests {
    use super::SortedMap;

    #[test]
    fn behaves_like_a_map() {
        let mut m: SortedMap<u32, &str> = SortedMap::default();
        assert_eq!(m.insert(5, "e"), None);
        assert_eq!(m.insert(1, "a"), None);
        assert_eq!(m.insert(3, "c"), None);
        assert_eq!(m.insert(3, "C"), Some("c"));
        assert_eq!(m.keys().collect::<alloc::vec::Vec<_>>(), [1, 3, 5]);
        assert_eq!(m.get(&3), Some(&"C"));
        assert!(m.get(&4).is_none());
        assert_eq!(m.remove(&1), Some("a"));
        assert_eq!(m.remove(&1), None);
        m.retain(|k, _| k != 5);
        assert_eq!(m.len(), 1);
        assert!(m.contains_key(&3) && !m.contains_key(&5));
    }
}
