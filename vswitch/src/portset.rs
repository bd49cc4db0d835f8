//! A fixed set of port numbers (up to [`MAX_PORTS`]), for flood decisions.

use crate::PortId;

/// Largest number of ports a switch can have.
pub const MAX_PORTS: usize = 256;
const WORDS: usize = MAX_PORTS / 64;

/// A set of ports.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PortSet([u64; WORDS]);

impl PortSet {
    /// The empty set.
    pub const EMPTY: PortSet = PortSet([0; WORDS]);

    /// Adds `port` (ports beyond [`MAX_PORTS`] cannot be members and are ignored).
    #[inline]
    pub fn insert(&mut self, port: PortId) {
        let i = port.index();
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    /// Removes `port`.
    #[inline]
    pub fn remove(&mut self, port: PortId) {
        let i = port.index();
        if let Some(word) = self.0.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
        }
    }

    /// Whether `port` is in the set.
    #[inline]
    pub fn contains(&self, port: PortId) -> bool {
        let i = port.index();
        self.0
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Number of ports in the set.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The ports, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = PortId> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            core::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(PortId::new((w * 64 + b) as u16))
            })
        })
    }
}

impl core::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|p| p.index()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_iterate() {
        let mut s = PortSet::EMPTY;
        for p in [0u16, 63, 64, 200, 255] {
            s.insert(PortId::new(p));
        }
        s.remove(PortId::new(64));
        assert!(s.contains(PortId::new(255)) && !s.contains(PortId::new(64)));
        let v: [usize; 4] = core::array::from_fn(|i| s.iter().nth(i).unwrap().index());
        assert_eq!(v, [0, 63, 200, 255]);
        assert_eq!(s.len(), 4);
        assert!(!s.is_empty() && PortSet::EMPTY.is_empty());
        s.insert(PortId::new(300));
        s.remove(PortId::new(300));
        assert!(!s.contains(PortId::new(300)));
        assert_eq!(s.len(), 4);
    }
}
