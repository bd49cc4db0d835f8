//! A deliberately simple longest-prefix-match table (one ordered map per prefix length, probed
//! from the longest length down): the oracle the FIB and RIB are tested and benchmarked against.

use crate::addr::Address;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Exact prefixes with values, and longest-prefix match by brute force over the lengths.
#[derive(Clone, Debug)]
pub struct ReferenceLpm<A: Address, V: Copy> {
    by_len: Vec<BTreeMap<A, V>>,
}

impl<A: Address, V: Copy> Default for ReferenceLpm<A, V> {
    fn default() -> Self {
        ReferenceLpm {
            by_len: (0..=A::BITS).map(|_| BTreeMap::new()).collect(),
        }
    }
}

impl<A: Address, V: Copy> ReferenceLpm<A, V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `addr/len` (host bits are cleared), returning the replaced value.
    pub fn insert(&mut self, addr: A, len: u8, v: V) -> Option<V> {
        self.by_len[usize::from(len)].insert(addr.masked(len), v)
    }

    pub fn remove(&mut self, addr: A, len: u8) -> Option<V> {
        self.by_len[usize::from(len)].remove(&addr.masked(len))
    }

    pub fn get(&self, addr: A, len: u8) -> Option<V> {
        self.by_len[usize::from(len)]
            .get(&addr.masked(len))
            .copied()
    }

    /// The value of the longest prefix containing `addr`, with that prefix's length.
    pub fn lookup(&self, addr: A) -> Option<(u8, V)> {
        (0..=A::BITS)
            .rev()
            .filter(|&len| !self.by_len[usize::from(len)].is_empty())
            .find_map(|len| self.get(addr, len).map(|v| (len, v)))
    }

    pub fn len(&self) -> usize {
        self.by_len.iter().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All prefixes, ordered by (address, length).
    pub fn entries(&self) -> Vec<(A, u8, V)> {
        let mut out: Vec<(A, u8, V)> = self
            .by_len
            .iter()
            .enumerate()
            .flat_map(|(len, m)| m.iter().map(move |(&a, &v)| (a, len as u8, v)))
            .collect();
        out.sort_by_key(|x| (x.0, x.1));
        out
    }
}
