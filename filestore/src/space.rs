//! Free space: one bit per block, in RAM only. It is rebuilt at every mount by the walk of the
//! tree (a block is used when the committed tree reaches it), so there is no on-disk free-space
//! structure to keep consistent or to repair.
//!
//! Copy-on-write rules: a block the committed tree reaches is never written before the next
//! commit has made it unreachable. So a block freed during a transaction is only *pending*
//! until the commit; a block allocated during the transaction ("fresh") can be freed at once,
//! and an aborted transaction gives all its fresh blocks back.

use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;

/// The allocation bitmap and the current transaction's allocations and frees.
#[derive(Clone, Debug)]
pub(crate) struct Space {
    bits: Vec<u64>,
    total: u32,
    free: u32,
    cursor: u32,
    pending: Vec<u32>,
    fresh: BTreeSet<u32>,
}

impl Space {
    /// Every block free but the first `reserved` (the superblocks).
    pub fn new(total: u32, reserved: u32) -> Space {
        let mut s = Space {
            bits: vec![0; (total as usize).div_ceil(64)],
            total,
            free: total,
            cursor: reserved,
            pending: Vec::new(),
            fresh: BTreeSet::new(),
        };
        for b in 0..reserved.min(total) {
            s.set(b);
        }
        s
    }

    pub fn total(&self) -> u32 {
        self.total
    }

    /// Free blocks now (pending frees not counted until the commit).
    pub fn free(&self) -> u32 {
        self.free
    }

    pub fn is_used(&self, b: u32) -> bool {
        b < self.total && self.bits[(b / 64) as usize] & (1 << (b % 64)) != 0
    }

    /// Mark a block used (the mount walk). False if it already was (two owners).
    pub fn set(&mut self, b: u32) -> bool {
        if b >= self.total || self.is_used(b) {
            return false;
        }
        self.bits[(b / 64) as usize] |= 1 << (b % 64);
        self.free -= 1;
        true
    }

    fn clear(&mut self, b: u32) {
        if self.is_used(b) {
            self.bits[(b / 64) as usize] &= !(1 << (b % 64));
            self.free += 1;
        }
    }

    /// A free block for this transaction (next fit from where the last one was found).
    pub fn alloc(&mut self) -> Option<u32> {
        if self.free == 0 {
            return None;
        }
        let mut b = self.cursor;
        for _ in 0..self.total {
            if b >= self.total {
                b = 0;
            }
            // Skip whole used words quickly.
            if b % 64 == 0 && self.bits[(b / 64) as usize] == u64::MAX {
                b += 64;
                continue;
            }
            if !self.is_used(b) {
                self.set(b);
                self.fresh.insert(b);
                self.cursor = b + 1;
                return Some(b);
            }
            b += 1;
        }
        None
    }

    /// Give a block back: at once if this transaction allocated it, else at the commit.
    pub fn release(&mut self, b: u32) {
        if self.fresh.remove(&b) {
            self.clear(b);
        } else {
            self.pending.push(b);
        }
    }

    /// Blocks that become free when the transaction commits.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The transaction is durable: pending frees become free.
    pub fn committed(&mut self) {
        for b in core::mem::take(&mut self.pending) {
            self.clear(b);
        }
        self.fresh.clear();
    }

    /// The transaction is dropped: its allocations become free, its frees never happened.
    pub fn aborted(&mut self) {
        for b in core::mem::take(&mut self.fresh) {
            self.clear(b);
        }
        self.pending.clear();
    }

    /// The blocks of the current transaction (fresh), for dropping their cached nodes.
    pub fn fresh_blocks(&self) -> impl Iterator<Item = u32> + '_ {
        self.fresh.iter().copied()
    }

    /// RAM this takes, in bytes (the bitmap; the transaction lists are transient).
    pub fn ram_bytes(&self) -> usize {
        self.bits.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_frees_at_once_committed_frees_at_commit() {
        let mut s = Space::new(130, 2);
        assert_eq!(s.free(), 128);
        let a = s.alloc().unwrap();
        assert_eq!(a, 2);
        s.committed();
        let b = s.alloc().unwrap();
        s.release(b);
        assert_eq!(s.free(), 127);
        s.release(a);
        assert_eq!(
            s.free(),
            127,
            "a committed block stays used until the commit"
        );
        s.committed();
        assert_eq!(s.free(), 128);
        let c = s.alloc().unwrap();
        s.aborted();
        assert!(!s.is_used(c));
        while s.alloc().is_some() {}
        assert_eq!(s.free(), 0);
    }
}
