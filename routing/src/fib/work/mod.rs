//! A chunk decoded for an update: its prefixes with their next hops, its children, its
//! default and its runs. Two ways back to bytes:
//! - [`Work::layout`] repaints all 256 slots from the prefixes (any edit);
//! - [`Work::set_full_stride`] edits one full-stride prefix (a /24 in an IPv4 chunk, the
//!   common update) directly in the runs, in O(runs + prefixes) without repainting.
//!
//! Either way [`Work::write`] lays the runs out in the format described in `chunk`.

use super::arena::{rd_u16, rd_u32, wr_u16, wr_u32};
use super::chunk::{
    cold_len, default_of, layout, meta, CHILD, COVERED, DENSE_BASE, DENSE_HDR, MAX_PREFIXES,
    SPARSE, SPARSE_HDR, SPARSE_MAX_RUNS, STARTS,
};

pub(crate) struct Work {
    /// Own prefixes as `(relative length << 8) | offset`, ascending (length-major).
    pub keys: [u16; MAX_PREFIXES],
    /// Next-hop code of each prefix in `keys`.
    pub hops: [u16; MAX_PREFIXES],
    pub prefixes: usize,
    /// Children as (slot, pointer), ascending by slot.
    pub child_slot: [u8; 256],
    pub child_ptr: [u32; 256],
    pub children: usize,
    pub default: u16,
    /// Runs in slot order: first slot and leaf value (`CHILD | COVERED? | k` for a child).
    run_start: [u8; 256],
    run_value: [u16; 256],
    runs: usize,
    /// Painting scratch for [`Work::layout`].
    raw: [u16; 256],
    /// Value of the own prefix covering each child's slot (0 if none), from [`Work::layout`].
    child_cover: [u16; 256],
}

/// Size and encoding of the chunk about to be written.
pub(crate) struct Encoding {
    pub len: usize,
    pub sparse: bool,
    short: usize,
}

impl Work {
    pub(crate) fn new() -> Self {
        Work {
            keys: [0; MAX_PREFIXES],
            hops: [0; MAX_PREFIXES],
            prefixes: 0,
            child_slot: [0; 256],
            child_ptr: [0; 256],
            children: 0,
            default: 0,
            run_start: [0; 256],
            run_value: [0; 256],
            runs: 0,
            raw: [0; 256],
            child_cover: [0; 256],
        }
    }

    /// An empty chunk inheriting `default`.
    pub(crate) fn reset(&mut self, default: u16) {
        self.prefixes = 0;
        self.children = 0;
        self.default = default;
        self.runs = 1;
        self.run_start[0] = 0;
        self.run_value[0] = 0;
    }

    /// Reads the chunk at `ptr` in O(runs + prefixes): everything but the hops of full-stride
    /// prefixes (see [`Work::recover_full_stride_hops`]).
    pub(crate) fn decode(&mut self, b: &[u8], ptr: u32) {
        let (off, hdr) = layout(ptr);
        let m = meta(ptr);
        let runs = usize::from(b[m]) + 1;
        let children = usize::from(b[m + 1]);
        self.default = rd_u16(b, m + 2);
        self.runs = runs;
        if ptr & SPARSE != 0 {
            self.run_start[0] = 0;
            for k in 1..runs {
                self.run_start[k] = b[off + STARTS + k - 1] + 1;
            }
        } else {
            let mut i = 0;
            for (j, &bits) in b[off + STARTS..off + DENSE_BASE].iter().enumerate() {
                let mut bits = bits;
                while bits != 0 {
                    self.run_start[i] = (8 * j as u32 + bits.trailing_zeros()) as u8;
                    i += 1;
                    bits &= bits - 1;
                }
            }
        }
        let ctab = off + hdr + 2 * runs;
        self.children = 0;
        for i in 0..runs {
            let v = rd_u16(b, off + hdr + 2 * i);
            self.run_value[i] = v;
            if v & CHILD != 0 {
                self.child_slot[self.children] = self.run_start[i];
                self.child_ptr[self.children] = rd_u32(b, ctab + 4 * usize::from(v & 0xff));
                self.children += 1;
            }
        }
        debug_assert_eq!(self.children, children);
        let cold = ctab + 4 * children;
        self.prefixes = usize::from(rd_u16(b, cold));
        if self.prefixes == 0 {
            return;
        }
        let mut counts = [0usize; 9];
        for (l, c) in counts.iter_mut().enumerate().take(8).skip(1) {
            *c = usize::from(b[cold + 1 + l]);
        }
        let short: usize = counts[1..8].iter().sum();
        counts[8] = self.prefixes - short;
        let mut i = 0;
        for (l, &c) in counts.iter().enumerate().skip(1) {
            for _ in 0..c {
                self.keys[i] = ((l as u16) << 8) | u16::from(b[cold + 9 + i]);
                i += 1;
            }
        }
        let hops_at = cold + 9 + self.prefixes;
        for p in 0..short {
            self.hops[p] = rd_u16(b, hops_at + 2 * p);
        }
    }

    /// Recovers the hops of the full-stride prefixes, which [`Work::decode`] leaves out: they
    /// are needed to repaint, not to edit the runs. `b` is the arena the chunk was decoded from
    /// (for the defaults of children under such prefixes).
    pub(crate) fn recover_full_stride_hops(&mut self, b: &[u8]) {
        let short = self.keys[..self.prefixes].partition_point(|&k| k >> 8 < 8);
        // A full-stride prefix owns its slot: its hop is the slot's leaf, or the default of the
        // child there (which it covers). Keys and runs are both in slot order: merge them.
        let mut run = 0;
        let mut k = 0;
        for p in short..self.prefixes {
            let slot = self.keys[p] as u8;
            while run + 1 < self.runs && self.run_start[run + 1] <= slot {
                run += 1;
            }
            let v = self.run_value[run];
            self.hops[p] = if v & CHILD != 0 {
                while self.child_slot[k] != slot {
                    k += 1;
                }
                default_of(b, self.child_ptr[k])
            } else {
                v
            };
        }
    }

    /// Index of `key` among the prefixes, or where it would go.
    pub(crate) fn find(&self, key: u16) -> Result<usize, usize> {
        self.keys[..self.prefixes].binary_search(&key)
    }

    pub(crate) fn insert_prefix(&mut self, key: u16, hop: u16) -> Option<u16> {
        match self.find(key) {
            Ok(i) => Some(core::mem::replace(&mut self.hops[i], hop)),
            Err(i) => {
                let n = self.prefixes;
                self.keys.copy_within(i..n, i + 1);
                self.hops.copy_within(i..n, i + 1);
                self.keys[i] = key;
                self.hops[i] = hop;
                self.prefixes += 1;
                None
            }
        }
    }

    pub(crate) fn remove_prefix(&mut self, key: u16) -> Option<u16> {
        let i = self.find(key).ok()?;
        let hop = self.hops[i];
        let n = self.prefixes;
        self.keys.copy_within(i + 1..n, i);
        self.hops.copy_within(i + 1..n, i);
        self.prefixes -= 1;
        Some(hop)
    }

    /// Installs (`Some(hop)`) or withdraws (`None`) the full-stride prefix `key` by editing the
    /// runs in place. Returns `None` when this shortcut does not apply (a child hangs at the
    /// slot: its default would change), else the previous hop of the prefix (`Some(None)` if it
    /// was not there).
    pub(crate) fn set_full_stride(&mut self, key: u16, hop: Option<u16>) -> Option<Option<u16>> {
        debug_assert_eq!(key >> 8, 8);
        let slot = key as u8;
        let r = self.run_start[..self.runs].partition_point(|&s| s <= slot) - 1;
        let current = self.run_value[r];
        if current & CHILD != 0 {
            return None;
        }
        // The hops of full-stride prefixes are not decoded: the slot's leaf is the hop.
        let (old, value) = match (self.find(key), hop) {
            (Ok(_), Some(h)) => (Some(current), h),
            (Ok(i), None) => {
                let n = self.prefixes;
                self.keys.copy_within(i + 1..n, i);
                self.hops.copy_within(i + 1..n, i);
                self.prefixes -= 1;
                (Some(current), self.covering_hop(slot))
            }
            (Err(i), Some(h)) => {
                let n = self.prefixes;
                self.keys.copy_within(i..n, i + 1);
                self.hops.copy_within(i..n, i + 1);
                self.keys[i] = key;
                self.prefixes += 1;
                (None, h)
            }
            (Err(_), None) => return Some(None),
        };
        self.set_run_value(r, slot, value);
        Some(old)
    }

    /// Hop of the longest prefix shorter than a full stride that covers `slot` (0: none).
    fn covering_hop(&self, slot: u8) -> u16 {
        (1..8u16)
            .rev()
            .find_map(|l| self.find((l << 8) | u16::from(slot >> (8 - l))).ok())
            .map_or(0, |i| self.hops[i])
    }

    /// Gives `slot` (inside run `r`) the leaf `value`, splitting and merging runs around it.
    fn set_run_value(&mut self, r: usize, slot: u8, value: u16) {
        let old = self.run_value[r];
        if old == value {
            return;
        }
        let end = if r + 1 < self.runs {
            usize::from(self.run_start[r + 1])
        } else {
            256
        };
        // Runs lo..hi are rewritten as `seg` (at most: previous, before, slot, after, next).
        let lo = r.saturating_sub(1);
        let hi = (r + 2).min(self.runs);
        let mut seg = [(0u8, 0u16); 5];
        let mut n = 0;
        let mut push = |start: u8, v: u16| {
            if n > 0 && seg[n - 1].1 == v {
                return;
            }
            seg[n] = (start, v);
            n += 1;
        };
        for i in lo..hi {
            if i != r {
                push(self.run_start[i], self.run_value[i]);
                continue;
            }
            let start = self.run_start[r];
            if start < slot {
                push(start, old);
            }
            push(slot, value);
            if usize::from(slot) + 1 < end {
                push(slot + 1, old);
            }
        }
        let (old_count, new_count) = (hi - lo, n);
        let tail = self.runs;
        if new_count != old_count {
            self.run_start.copy_within(hi..tail, lo + new_count);
            self.run_value.copy_within(hi..tail, lo + new_count);
        }
        for (k, &(s, v)) in seg[..n].iter().enumerate() {
            self.run_start[lo + k] = s;
            self.run_value[lo + k] = v;
        }
        self.runs = tail - old_count + new_count;
    }

    pub(crate) fn child_index(&self, slot: u8) -> Result<usize, usize> {
        self.child_slot[..self.children].binary_search(&slot)
    }

    pub(crate) fn add_child(&mut self, slot: u8, ptr: u32) {
        match self.child_index(slot) {
            Ok(i) => self.child_ptr[i] = ptr,
            Err(i) => {
                let n = self.children;
                self.child_slot.copy_within(i..n, i + 1);
                self.child_ptr.copy_within(i..n, i + 1);
                self.child_slot[i] = slot;
                self.child_ptr[i] = ptr;
                self.children += 1;
            }
        }
    }

    pub(crate) fn remove_child(&mut self, slot: u8) {
        if let Ok(i) = self.child_index(slot) {
            let n = self.children;
            self.child_slot.copy_within(i + 1..n, i);
            self.child_ptr.copy_within(i + 1..n, i);
            self.children -= 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.prefixes == 0 && self.children == 0
    }

    /// The value child `k` inherits: the covering own prefix's hop, else the default. Valid
    /// after [`Work::layout`].
    pub(crate) fn inherited(&self, k: usize) -> u16 {
        match self.child_cover[k] {
            0 => self.default,
            v => v,
        }
    }

    /// Repaints all slots from the prefixes and children, rebuilding the runs.
    pub(crate) fn layout(&mut self) -> Encoding {
        self.raw.fill(0);
        for p in 0..self.prefixes {
            let (lo, hi) = span(self.keys[p]);
            self.raw[lo..hi].fill(self.hops[p]);
        }
        for k in 0..self.children {
            let s = usize::from(self.child_slot[k]);
            let cover = self.raw[s];
            self.child_cover[k] = cover;
            self.raw[s] = CHILD | if cover != 0 { COVERED } else { 0 } | k as u16;
        }
        let mut runs = 0;
        let mut prev = !self.raw[0];
        for (s, &v) in self.raw.iter().enumerate() {
            if v != prev {
                self.run_start[runs] = s as u8;
                self.run_value[runs] = v;
                runs += 1;
                prev = v;
            }
        }
        self.runs = runs;
        self.encoding()
    }

    /// Size and encoding for the current runs and prefixes.
    pub(crate) fn encoding(&self) -> Encoding {
        let short = self.keys[..self.prefixes].partition_point(|&k| k >> 8 < 8);
        let sparse = self.runs <= SPARSE_MAX_RUNS;
        let hdr = if sparse { SPARSE_HDR } else { DENSE_HDR };
        let len = hdr + 2 * self.runs + 4 * self.children + cold_len(self.prefixes, short);
        Encoding { len, sparse, short }
    }

    /// Writes the chunk at byte offset `off`; returns its pointer.
    pub(crate) fn write(&self, b: &mut [u8], off: usize, enc: &Encoding) -> u32 {
        let runs = self.runs;
        let hdr = if enc.sparse { SPARSE_HDR } else { DENSE_HDR };
        if enc.sparse {
            let mut starts = [0xffu8; 8];
            for (k, &start) in self.run_start[1..runs].iter().enumerate() {
                starts[k] = start - 1;
            }
            b[off + STARTS..off + STARTS + 8].copy_from_slice(&starts);
        } else {
            let mut bitmap = [0u8; DENSE_BASE - STARTS];
            for &s in &self.run_start[..runs] {
                bitmap[usize::from(s >> 3)] |= 1 << (s & 7);
            }
            // Leaf index before each byte, less one (wrapping): slot 0 always starts a run.
            let mut before = 0u8.wrapping_sub(1);
            for (j, &bits) in bitmap.iter().enumerate() {
                b[off + STARTS + j] = bits;
                b[off + DENSE_BASE + j] = before;
                before = before.wrapping_add(bits.count_ones() as u8);
            }
        }
        let m = off;
        b[m] = (runs - 1) as u8;
        b[m + 1] = self.children as u8;
        wr_u16(b, m + 2, self.default);
        // Child k is the k-th child in slot order, so its number is its rank among children.
        let mut k = 0u16;
        for (i, &v) in self.run_value[..runs].iter().enumerate() {
            let v = if v & CHILD != 0 {
                k += 1;
                (v & !0xff) | (k - 1)
            } else {
                v
            };
            wr_u16(b, off + hdr + 2 * i, v);
        }
        let mut at = off + hdr + 2 * runs;
        for k in 0..self.children {
            wr_u32(b, at, self.child_ptr[k]);
            at += 4;
        }
        wr_u16(b, at, self.prefixes as u16);
        if self.prefixes > 0 {
            // Up to 256 full-stride prefixes (relative length 8): counted in u16; only lengths
            // 1..=7 (at most 128 each) are stored.
            let mut counts = [0u16; 9];
            for &k in &self.keys[..self.prefixes] {
                counts[usize::from(k >> 8)] += 1;
            }
            for (len, &n) in counts[1..8].iter().enumerate() {
                b[at + 2 + len] = n as u8;
            }
            for (i, &k) in self.keys[..self.prefixes].iter().enumerate() {
                b[at + 9 + i] = k as u8;
            }
            let hops_at = at + 9 + self.prefixes;
            for p in 0..enc.short {
                wr_u16(b, hops_at + 2 * p, self.hops[p]);
            }
        }
        debug_assert_eq!(
            super::chunk::content_len(b, off as u32 | u32::from(enc.sparse)),
            enc.len
        );
        off as u32 | if enc.sparse { SPARSE } else { 0 }
    }
}

/// Slots `lo..hi` covered by the prefix `key = (relative length << 8) | offset`.
#[inline]
fn span(key: u16) -> (usize, usize) {
    let shift = 8 - (key >> 8);
    let lo = usize::from(key & 0xff) << shift;
    (lo, lo + (1 << shift))
}

#[cfg(test)]
mod tests;
