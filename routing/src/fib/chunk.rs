//! One FIB chunk: the 256 slots of an 8-bit stride, stored as runs of equal leaf values.
//!
//! A slot's leaf value is `0` (no prefix of this chunk covers it: use the chunk's default, which
//! is the value inherited from above), a next-hop code `1..=0x7fff`, or `CHILD | k`
//! (descend into child chunk `k`; `COVERED` is set when a prefix of this chunk covers the
//! slot, so the child's default comes from this chunk and not from above).
//!
//! Two encodings, chosen per chunk by its number of runs R:
//!
//! ```text
//! dense  (R > 8):  [bitmap of run starts: 4 x u64][rank base per word: 4 x u8][R-1: u8]
//!                  [children: u8][default: u16][leaves: R x u16][child ptrs: C x u32][cold]
//! sparse (R <= 8): [run starts: 8 x u8, unused = 0xff][R-1: u8][children: u8][default: u16]
//!                  [leaves: R x u16][child ptrs: C x u32][cold]
//! ```
//!
//! A lookup reads the header word(s) and one leaf: the rank of the slot among the run starts
//! (popcount in the dense case, a SWAR byte comparison in the sparse case) indexes the leaves.
//! The cold part, never read by lookups, holds the chunk's own prefixes so updates stay exact:
//! `[P: u16]` then, if P > 0, `[count per relative length 1..=7: 7 x u8][H: u8]
//! [prefix offsets: P x u8, grouped by length][next hops of the H hidden prefixes: H x u16]`.
//! A prefix's next hop is read back from a slot it owns; only prefixes that more specific ones
//! cover entirely ("hidden") store theirs.

use super::arena::{rd_u16, rd_u32, rd_u64, wr_u16, wr_u32, wr_u64};

pub(crate) const CHILD: u16 = 0x8000;
pub(crate) const COVERED: u16 = 0x4000;
/// Pointer flag: the chunk uses the sparse encoding. Chunk pointers are byte offsets (8-aligned).
pub(crate) const SPARSE: u32 = 1;
const PTR_MASK: u32 = !7;
const DENSE_HDR: usize = 40;
const SPARSE_HDR: usize = 12;
const SPARSE_MAX_RUNS: usize = 8;
/// Prefixes of relative length 1..=8 in one chunk: 2 + 4 + ... + 256.
pub(crate) const MAX_PREFIXES: usize = 510;
const NO_OWNER: u16 = u16::MAX;

#[inline(always)]
fn layout(ptr: u32) -> (usize, usize) {
    let off = (ptr & PTR_MASK) as usize;
    (off, if ptr & SPARSE != 0 { SPARSE_HDR } else { DENSE_HDR })
}

/// Offset of the `R-1` byte; the children count follows it and then the default.
#[inline(always)]
fn meta(ptr: u32) -> usize {
    let (off, hdr) = layout(ptr);
    off + hdr - 4
}

/// Number of sparse run starts that are `<= s` (SWAR byte compare, no popcount needed).
#[inline(always)]
fn count_le(starts: u64, s: u8) -> usize {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let y = u64::from(s) * ONES;
    let low_ge = ((y & LOW) | HIGH) - (starts & LOW);
    let xh = starts & HIGH;
    let yh = y & HIGH;
    let le = ((!xh & yh) | (!(xh ^ yh) & low_ge)) & HIGH;
    ((le >> 7).wrapping_mul(ONES) >> 56) as usize
}

/// The leaf value for slot `s`, with `0` already replaced by the chunk's default.
#[inline(always)]
pub(crate) fn leaf(b: &[u8], ptr: u32, s: u8) -> u16 {
    let off = (ptr & PTR_MASK) as usize;
    let (leaf, default_at) = if ptr & SPARSE == 0 {
        let w = usize::from(s >> 6);
        let word = rd_u64(b, off + 8 * w);
        let rank = usize::from(b[off + 32 + w]) + (word << (63 - (s & 63))).count_ones() as usize;
        (rd_u16(b, off + DENSE_HDR - 2 + 2 * rank), off + DENSE_HDR - 2)
    } else {
        let runs = usize::from(b[off + SPARSE_HDR - 4]) + 1;
        let rank = count_le(rd_u64(b, off), s).min(runs);
        (rd_u16(b, off + SPARSE_HDR - 2 + 2 * rank), off + SPARSE_HDR - 2)
    };
    if leaf == 0 {
        rd_u16(b, default_at)
    } else {
        leaf
    }
}

/// The pointer of child `k` (from a `CHILD | k` leaf).
#[inline(always)]
pub(crate) fn child(b: &[u8], ptr: u32, leaf: u16) -> u32 {
    let m = meta(ptr);
    let (off, hdr) = layout(ptr);
    let runs = usize::from(b[m]) + 1;
    rd_u32(b, off + hdr + 2 * runs + 4 * usize::from(leaf & 0xff))
}

pub(crate) fn default_of(b: &[u8], ptr: u32) -> u16 {
    rd_u16(b, meta(ptr) + 2)
}

fn set_default(b: &mut [u8], ptr: u32, code: u16) {
    wr_u16(b, meta(ptr) + 2, code);
}

/// Offset of child `k`'s pointer inside the chunk (to repoint it after the child moves).
pub(crate) fn child_ref_offset(b: &[u8], ptr: u32, k: usize) -> usize {
    let (off, hdr) = layout(ptr);
    off + hdr + 2 * (usize::from(b[meta(ptr)]) + 1) + 4 * k
}

/// Sets the value the chunk inherits and passes it on to the children no own prefix covers.
pub(crate) fn cascade_default(b: &mut [u8], ptr: u32, code: u16) {
    if default_of(b, ptr) == code {
        return;
    }
    set_default(b, ptr, code);
    let (off, hdr) = layout(ptr);
    let runs = usize::from(b[meta(ptr)]) + 1;
    for i in 0..runs {
        let v = rd_u16(b, off + hdr + 2 * i);
        if v & CHILD != 0 && v & COVERED == 0 {
            let c = child(b, ptr, v);
            cascade_default(b, c, code);
        }
    }
}

/// Byte length of the chunk's content (its block is at least this long).
pub(crate) fn content_len(b: &[u8], ptr: u32) -> usize {
    let (off, hdr) = layout(ptr);
    let m = meta(ptr);
    let runs = usize::from(b[m]) + 1;
    let children = usize::from(b[m + 1]);
    let cold = off + hdr + 2 * runs + 4 * children;
    let prefixes = usize::from(rd_u16(b, cold));
    let hidden = if prefixes > 0 { usize::from(b[cold + 9]) } else { 0 };
    cold - off + cold_len(prefixes, hidden)
}

fn cold_len(prefixes: usize, hidden: usize) -> usize {
    if prefixes == 0 {
        2
    } else {
        10 + prefixes + 2 * hidden
    }
}

/// A chunk decoded for an update: its prefixes with their next hops, its children and default.
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
    raw: [u16; 256],
    painted: [u16; 256],
    owner: [u16; 256],
    visible: [u64; 8],
}

/// Result of laying out a decoded chunk.
pub(crate) struct Encoding {
    pub len: usize,
    pub sparse: bool,
    runs: usize,
    hidden: usize,
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
            raw: [0; 256],
            painted: [0; 256],
            owner: [0; 256],
            visible: [0; 8],
        }
    }

    pub(crate) fn reset(&mut self, default: u16) {
        self.prefixes = 0;
        self.children = 0;
        self.default = default;
    }

    /// Reads the chunk at `ptr`, recovering every own prefix's next hop.
    pub(crate) fn decode(&mut self, b: &[u8], ptr: u32) {
        let (off, hdr) = layout(ptr);
        let m = meta(ptr);
        let runs = usize::from(b[m]) + 1;
        let children = usize::from(b[m + 1]);
        self.default = rd_u16(b, m + 2);
        let mut starts = [0u16; 257];
        if ptr & SPARSE != 0 {
            for (i, st) in starts.iter_mut().take(runs).enumerate() {
                *st = u16::from(b[off + i]);
            }
        } else {
            let mut n = 0;
            for w in 0..4 {
                let mut bits = rd_u64(b, off + 8 * w);
                while bits != 0 {
                    starts[n] = (64 * w as u32 + bits.trailing_zeros()) as u16;
                    n += 1;
                    bits &= bits - 1;
                }
            }
            debug_assert_eq!(n, runs);
        }
        starts[runs] = 256;
        let ctab = off + hdr + 2 * runs;
        self.children = 0;
        for i in 0..runs {
            let v = rd_u16(b, off + hdr + 2 * i);
            let (lo, hi) = (usize::from(starts[i]), usize::from(starts[i + 1]));
            self.raw[lo..hi].fill(v);
            if v & CHILD != 0 {
                let k = usize::from(v & 0xff);
                let child = rd_u32(b, ctab + 4 * k);
                self.child_slot[self.children] = lo as u8;
                self.child_ptr[self.children] = child;
                self.children += 1;
                self.raw[lo] = if v & COVERED != 0 { default_of(b, child) } else { 0 };
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
        counts[8] = self.prefixes - counts[1..8].iter().sum::<usize>();
        let hidden = usize::from(b[cold + 9]);
        let mut i = 0;
        for (l, &c) in counts.iter().enumerate().skip(1) {
            for _ in 0..c {
                self.keys[i] = ((l as u16) << 8) | u16::from(b[cold + 10 + i]);
                i += 1;
            }
        }
        // `raw` now holds the painted value of every slot: a prefix's hop is its owned slot's.
        self.paint_owners();
        self.hops[..self.prefixes].fill(0);
        for s in 0..256 {
            let o = self.owner[s];
            if o != NO_OWNER && self.hops[usize::from(o)] == 0 {
                self.hops[usize::from(o)] = self.raw[s];
            }
        }
        let mut h = cold + 10 + self.prefixes;
        for p in 0..self.prefixes {
            if self.hops[p] == 0 {
                self.hops[p] = rd_u16(b, h);
                h += 2;
            }
        }
        debug_assert_eq!(h, cold + 10 + self.prefixes + 2 * hidden);
    }

    fn paint_owners(&mut self) {
        self.owner.fill(NO_OWNER);
        for p in 0..self.prefixes {
            let (lo, hi) = span(self.keys[p]);
            self.owner[lo..hi].fill(p as u16);
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

    /// The value a child at `slot` inherits: the covering own prefix's hop, else the default.
    pub(crate) fn inherited(&self, slot: u8) -> u16 {
        match self.painted[usize::from(slot)] {
            0 => self.default,
            v => v,
        }
    }

    /// Paints the prefixes and lays the chunk out; call before [`Work::write`].
    pub(crate) fn layout(&mut self) -> Encoding {
        self.painted.fill(0);
        self.owner.fill(NO_OWNER);
        for p in 0..self.prefixes {
            let (lo, hi) = span(self.keys[p]);
            self.painted[lo..hi].fill(self.hops[p]);
            self.owner[lo..hi].fill(p as u16);
        }
        self.visible = [0; 8];
        for &o in &self.owner {
            if o != NO_OWNER {
                self.visible[usize::from(o >> 6)] |= 1 << (o & 63);
            }
        }
        let hidden = self.prefixes - self.visible.iter().map(|w| w.count_ones() as usize).sum::<usize>();
        self.raw = self.painted;
        for k in 0..self.children {
            let s = usize::from(self.child_slot[k]);
            let covered = if self.painted[s] != 0 { COVERED } else { 0 };
            self.raw[s] = CHILD | covered | k as u16;
        }
        let runs = 1 + self.raw.windows(2).filter(|w| w[0] != w[1]).count();
        let sparse = runs <= SPARSE_MAX_RUNS;
        let hdr = if sparse { SPARSE_HDR } else { DENSE_HDR };
        let len = hdr + 2 * runs + 4 * self.children + cold_len(self.prefixes, hidden);
        Encoding { len, sparse, runs, hidden }
    }

    /// Writes the chunk laid out by [`Work::layout`] at byte offset `off`; returns its pointer.
    pub(crate) fn write(&self, b: &mut [u8], off: usize, enc: &Encoding) -> u32 {
        let runs = enc.runs;
        let hdr = if enc.sparse { SPARSE_HDR } else { DENSE_HDR };
        let mut leaf_at = off + hdr;
        if enc.sparse {
            let mut starts = [0xffu8; 8];
            let mut n = 0;
            for s in 0..256 {
                if s == 0 || self.raw[s] != self.raw[s - 1] {
                    starts[n] = s as u8;
                    wr_u16(b, leaf_at, self.raw[s]);
                    leaf_at += 2;
                    n += 1;
                }
            }
            b[off..off + 8].copy_from_slice(&starts);
        } else {
            let mut words = [0u64; 4];
            for s in 0..256 {
                if s == 0 || self.raw[s] != self.raw[s - 1] {
                    words[s >> 6] |= 1 << (s & 63);
                    wr_u16(b, leaf_at, self.raw[s]);
                    leaf_at += 2;
                }
            }
            let mut base = 0u32;
            for (w, &word) in words.iter().enumerate() {
                wr_u64(b, off + 8 * w, word);
                b[off + 32 + w] = base as u8;
                base += word.count_ones();
            }
        }
        let m = off + hdr - 4;
        b[m] = (runs - 1) as u8;
        b[m + 1] = self.children as u8;
        wr_u16(b, m + 2, self.default);
        let mut at = leaf_at;
        for k in 0..self.children {
            wr_u32(b, at, self.child_ptr[k]);
            at += 4;
        }
        wr_u16(b, at, self.prefixes as u16);
        if self.prefixes > 0 {
            let mut counts = [0u8; 9];
            for &k in &self.keys[..self.prefixes] {
                counts[usize::from(k >> 8)] += 1;
            }
            b[at + 2..at + 9].copy_from_slice(&counts[1..8]);
            b[at + 9] = enc.hidden as u8;
            for (i, &k) in self.keys[..self.prefixes].iter().enumerate() {
                b[at + 10 + i] = k as u8;
            }
            let mut h = at + 10 + self.prefixes;
            for p in 0..self.prefixes {
                if self.visible[p >> 6] & (1 << (p & 63)) == 0 {
                    wr_u16(b, h, self.hops[p]);
                    h += 2;
                }
            }
        }
        debug_assert_eq!(content_len(b, off as u32 | u32::from(enc.sparse)), enc.len);
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
mod tests {
    use super::*;

    #[test]
    fn swar_rank_matches_a_plain_count() {
        let sets: [&[u8]; 5] = [&[0], &[0, 1], &[0, 127, 128, 255], &[0, 3, 64, 100, 129, 200, 254, 255], &[0, 128]];
        for starts in sets {
            let mut bytes = [0xffu8; 8];
            bytes[..starts.len()].copy_from_slice(starts);
            let word = u64::from_ne_bytes(bytes);
            for s in 0..=255u8 {
                let expect = starts.iter().filter(|&&x| x <= s).count();
                assert_eq!(count_le(word, s).min(starts.len()), expect, "{starts:?} {s}");
            }
        }
    }

    fn round_trip(prefixes: &[(u16, u16)], children: &[(u8, u32)], default: u16) {
        let mut w = Work::new();
        w.reset(default);
        for &(k, h) in prefixes {
            w.insert_prefix(k, h);
        }
        for &(s, p) in children {
            w.add_child(s, p);
        }
        let enc = w.layout();
        let mut buf = [0u8; 4096];
        let ptr = w.write(&mut buf, 8, &enc);
        assert_eq!(content_len(&buf, ptr), enc.len);
        // Every slot answers the longest own prefix, else the default.
        for s in 0..=255u8 {
            let mut best: Option<(u16, u16)> = None;
            for &(k, h) in prefixes {
                let (lo, hi) = span(k);
                if (lo..hi).contains(&usize::from(s)) && best.is_none_or(|(bk, _)| bk >> 8 < k >> 8) {
                    best = Some((k, h));
                }
            }
            let got = leaf(&buf, ptr, s);
            if children.iter().any(|&(cs, _)| cs == s) {
                assert_ne!(got & CHILD, 0);
            } else {
                assert_eq!(got, best.map_or(default, |b| b.1), "slot {s}");
            }
        }
        let mut back = Work::new();
        back.decode(&buf, ptr);
        assert_eq!(back.prefixes, w.prefixes);
        assert_eq!(&back.keys[..w.prefixes], &w.keys[..w.prefixes]);
        assert_eq!(&back.hops[..w.prefixes], &w.hops[..w.prefixes]);
        assert_eq!(back.default, default);
    }

    #[test]
    fn chunks_round_trip_sparse_and_dense() {
        round_trip(&[(0x0103, 7)], &[], 0);
        round_trip(&[(0x0100, 1), (0x0101, 2)], &[], 9);
        // A hidden /1 (both /2 halves present) must keep its hop in the cold part.
        round_trip(&[(0x0100, 5), (0x0200, 1), (0x0201, 2)], &[], 0);
        let many: [(u16, u16); 40] = core::array::from_fn(|i| (0x0800 | (i as u16 * 3), 1 + (i as u16 % 5)));
        round_trip(&many, &[], 3);
        let mut mixed = many.to_vec();
        mixed.push((0x0100, 11));
        mixed.push((0x0301, 12));
        round_trip(&mixed, &[], 0);
    }
}
