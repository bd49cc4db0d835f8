//! Bulk construction: sorts the prefixes once and encodes every chunk exactly once, bottom-up,
//! instead of re-encoding a chunk per prefix.

use super::chunk::MAX_PREFIXES;
use super::{check, position, Fib, FibError, NextHop, CHUNK, TOP};
use crate::addr::Address;
use alloc::vec::Vec;

impl<A: Address> Fib<A> {
    /// Replaces the whole content with `entries` (a later duplicate of a prefix wins).
    /// On error the FIB is left empty.
    pub fn build(&mut self, entries: &[(A, u8, NextHop)]) -> Result<(), FibError> {
        self.clear();
        let result = self.build_inner(entries);
        if result.is_err() {
            self.clear();
        }
        result
    }

    fn build_inner(&mut self, entries: &[(A, u8, NextHop)]) -> Result<(), FibError> {
        for &(addr, len, _) in entries {
            check(addr, len)?;
        }
        let mut sorted: Vec<(A, u8, u16)> =
            entries.iter().map(|&(a, l, h)| (a, l, h.code())).collect();
        // Stable: equal prefixes keep their input order, and the last one wins.
        sorted.sort_by_key(|x| (x.0, x.1));
        let mut unique: Vec<(A, u8, u16)> = Vec::with_capacity(sorted.len());
        for e in sorted {
            match unique.last_mut() {
                Some(last) if (last.0, last.1) == (e.0, e.1) => *last = e,
                _ => unique.push(e),
            }
        }
        self.prefixes = unique.len();
        // Prefixes up to /16: lists per length, then expand them shortest first.
        for len in 0..=16u8 {
            let of_len: Vec<(u16, u16)> = unique
                .iter()
                .filter(|e| e.1 == len)
                .map(|e| (e.0.top16() as u16, e.2))
                .collect();
            self.short
                .fill(&mut self.arena, len, of_len.iter().copied())?;
            for &(v16, code) in &of_len {
                let (lo, hi) = super::top_range(v16, len);
                self.top[lo..hi].fill(u32::from(code));
                self.origin[lo..hi].fill(len + 1);
            }
        }
        // Longer prefixes, grouped by their top 16 bits (contiguous once sorted).
        let long: Vec<(A, u8, u16)> = unique.into_iter().filter(|e| e.1 > 16).collect();
        let mut i = 0;
        while i < long.len() {
            let t = long[i].0.top16();
            let j = i + long[i..].iter().take_while(|e| e.0.top16() == t).count();
            let ptr = self.build_chunk(&long[i..j], 0, self.top[t] as u16)?;
            debug_assert!(t < TOP);
            self.top[t] = CHUNK | ptr;
            i = j;
        }
        Ok(())
    }

    /// Encodes the chunk holding `entries` (all below it, sorted) and, first, its children.
    fn build_chunk(
        &mut self,
        entries: &[(A, u8, u16)],
        depth: usize,
        default: u16,
    ) -> Result<u32, FibError> {
        let own_max = 24 + 8 * depth as u8;
        // Longest own prefix per slot, to know what each child inherits.
        let mut painted = [0u16; 256];
        let mut best = [0u8; 256];
        let mut own = [0u32; MAX_PREFIXES];
        let mut n_own = 0;
        for &(addr, len, code) in entries.iter().filter(|e| e.1 <= own_max) {
            let (_, key) = position(addr, len);
            let rel = (key >> 8) as u8;
            let lo = usize::from(key & 0xff) << (8 - rel);
            for s in lo..lo + (1 << (8 - rel)) {
                if rel > best[s] {
                    best[s] = rel;
                    painted[s] = code;
                }
            }
            own[n_own] = (u32::from(key) << 16) | u32::from(code);
            n_own += 1;
        }
        let mut child_slot = [0u8; 256];
        let mut child_ptr = [0u32; 256];
        let mut n_child = 0;
        let deeper: Vec<(A, u8, u16)> = entries.iter().copied().filter(|e| e.1 > own_max).collect();
        let mut i = 0;
        while i < deeper.len() {
            let slot = deeper[i].0.chunk_byte(depth);
            let j = i + deeper[i..]
                .iter()
                .take_while(|e| e.0.chunk_byte(depth) == slot)
                .count();
            let inherit = match painted[usize::from(slot)] {
                0 => default,
                v => v,
            };
            child_ptr[n_child] = self.build_chunk(&deeper[i..j], depth + 1, inherit)?;
            child_slot[n_child] = slot;
            n_child += 1;
            i = j;
        }
        own[..n_own].sort_unstable();
        let w = &mut self.work;
        w.reset(default);
        for (k, &e) in own[..n_own].iter().enumerate() {
            w.keys[k] = (e >> 16) as u16;
            w.hops[k] = e as u16;
        }
        w.prefixes = n_own;
        w.child_slot[..n_child].copy_from_slice(&child_slot[..n_child]);
        w.child_ptr[..n_child].copy_from_slice(&child_ptr[..n_child]);
        w.children = n_child;
        let enc = w.layout();
        let off = self.arena.alloc(enc.len).ok_or(FibError::TableFull)?;
        Ok(w.write(&mut self.arena.bytes, off, &enc))
    }
}
