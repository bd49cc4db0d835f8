//! One FIB chunk: the 256 slots of an 8-bit stride, stored as runs of equal leaf values.
//!
//! A slot's leaf value is `0` (no prefix of this chunk covers it: use the chunk's default, which
//! is the value inherited from above), a next-hop code `1..=0x7fff`, or `CHILD | k`
//! (descend into child chunk `k`; `COVERED` is set when a prefix of this chunk covers the
//! slot, so the child's default comes from this chunk and not from above).
//!
//! Two encodings, chosen per chunk by its number of runs R. Both let a 32-bit CPU without a
//! popcount instruction (the MIPS 24Kc) find the leaf of a slot with a handful of byte loads:
//!
//! ```text
//! dense  (R > 8):  [R-1: u8][children: u8][default: u16][run-start bitmap: 32 x u8]
//!                  [leaf index before each byte: 32 x u8][leaves: R x u16][child ptrs: C x u32]
//!                  [cold]
//! sparse (R <= 8): [R-1: u8][children: u8][default: u16]
//!                  [run starts 2..R less one: 7 x u8, unused = 0xff][unused: u8]
//!                  [leaves: R x u16][child ptrs: C x u32][cold]
//! ```
//!
//! The default is at the same place in both, so a lookup reads it without knowing the
//! encoding.
//!
//! The leaf index of slot `s` is the number of run starts `<= s`, less one (slot 0 always
//! starts a run). Dense: the run starts up to `s` in byte `s / 8` of the bitmap (bit `k` =
//! slot `8 * (s / 8) + k`), read from a table by that byte and `s % 8`, plus the stored index
//! before that byte (stored less one, wrapping: the first byte's is 0xff). Sparse: the starts after
//! the first are stored less one and sorted, so "start <= s" is "stored < s" and the padding
//! (0xff) is never below a slot; three comparisons of a binary search count them.
//! The cold part, never read by lookups, holds the chunk's own prefixes so updates stay exact:
//! `[P: u16]` then, if P > 0, `[count per relative length 1..=7: 7 x u8]
//! [prefix offsets: P x u8, grouped by length][next hops of the prefixes shorter than 8 bits:
//! u16 each]`. A full-stride prefix (relative length 8) covers one slot and nothing can be more
//! specific inside this chunk, so its next hop is that slot's leaf (or, under a child, the
//! child's default) and is not stored twice.

use super::arena::{rd_u16, wr_u16};

pub(crate) const CHILD: u16 = 0x8000;
pub(crate) const COVERED: u16 = 0x4000;
/// Pointer flag: the chunk uses the sparse encoding. Chunk pointers are byte offsets (8-aligned).
pub(crate) const SPARSE: u32 = 1;
/// The offset bits of a chunk pointer (arenas stay below 2 GiB; the direct table's chunk flag,
/// bit 31, is dropped with the encoding flag).
const PTR_MASK: u32 = 0x7fff_fff8;
pub(crate) const DENSE_HDR: usize = 68;
pub(crate) const SPARSE_HDR: usize = 12;
/// Offset of the run starts (sparse) or of the bitmap (dense), after the 4 bytes of `R-1`,
/// children and default.
pub(crate) const STARTS: usize = 4;
/// Offset of the leaf indexes before each bitmap byte in a dense chunk.
pub(crate) const DENSE_BASE: usize = STARTS + 32;
/// Chunks with at most this many runs use the sparse encoding.
pub(crate) const SPARSE_MAX_RUNS: usize = 8;
/// Prefixes of relative length 1..=8 in one chunk: 2 + 4 + ... + 256.
pub(crate) const MAX_PREFIXES: usize = 510;
/// Bytes a lookup may read from a chunk's start: the largest header, 256 leaves and 256 child
/// pointers. The arena keeps at least this much slack after its last block, so a lookup reads
/// a chunk through one fixed-size window with one bounds check.
pub(crate) const WINDOW: usize = DENSE_HDR + 2 * 256 + 4 * 256;

/// Entry `k * 256 + byte`: the set bits among bits `0..=k` of `byte` (the run starts up to
/// slot `k` of a bitmap byte), so counting needs neither a mask nor a popcount.
static STARTS_UP_TO: [u8; 8 * 256] = {
    let mut t = [0u8; 8 * 256];
    let mut i = 0;
    while i < 8 * 256 {
        let k = i / 256;
        t[i] = ((i as u32 & 0xff) & ((2 << k) - 1)).count_ones() as u8;
        i += 1;
    }
    t
};

#[inline(always)]
pub(crate) fn layout(ptr: u32) -> (usize, usize) {
    let off = (ptr & PTR_MASK) as usize;
    (
        off,
        if ptr & SPARSE != 0 {
            SPARSE_HDR
        } else {
            DENSE_HDR
        },
    )
}

/// Offset of the `R-1` byte (the chunk's first); the children count follows it and then the
/// default.
#[inline(always)]
pub(crate) fn meta(ptr: u32) -> usize {
    (ptr & PTR_MASK) as usize
}

/// Leaf index of slot `s` in a dense chunk.
#[inline(always)]
fn dense_index(c: &[u8; WINDOW], s: u8) -> usize {
    let j = usize::from(s >> 3);
    let before = c[DENSE_BASE + j];
    let here = STARTS_UP_TO[(usize::from(s & 7) << 8) | usize::from(c[STARTS + j])];
    usize::from(before.wrapping_add(here))
}

/// Leaf index of slot `s` in a sparse chunk: how many of the stored starts are below `s`.
#[inline(always)]
fn sparse_index(c: &[u8; WINDOW], s: u8) -> usize {
    let starts = &c[STARTS..STARTS + 8];
    let mut i = usize::from(starts[3] < s) << 2;
    i += usize::from(starts[(i + 1) & 7] < s) << 1;
    i + usize::from(starts[i & 7] < s)
}

/// The chunk's bytes as seen by a lookup (`None` only for a pointer outside the arena, which
/// the FIB never makes).
#[inline(always)]
fn window(b: &[u8], ptr: u32) -> Option<&[u8; WINDOW]> {
    let off = (ptr & PTR_MASK) as usize;
    let c = b
        .get(off..off + WINDOW)
        .and_then(|c| <&[u8; WINDOW]>::try_from(c).ok());
    debug_assert!(c.is_some(), "chunk {off} outside the arena");
    c
}

/// The leaf value for slot `s`, with `0` already replaced by the chunk's default.
#[inline(always)]
pub(crate) fn leaf(b: &[u8], ptr: u32, s: u8) -> u16 {
    let Some(c) = window(b, ptr) else {
        return 0;
    };
    let (index, hdr) = if ptr & SPARSE != 0 {
        (sparse_index(c, s), SPARSE_HDR)
    } else {
        (dense_index(c, s), DENSE_HDR)
    };
    let i = hdr + 2 * (index & 0xff);
    let leaf = u16::from_ne_bytes([c[i], c[i + 1]]);
    if leaf != 0 {
        return leaf;
    }
    u16::from_ne_bytes([c[2], c[3]])
}

/// The pointer of child `k` (from a `CHILD | k` leaf).
#[inline(always)]
pub(crate) fn child(b: &[u8], ptr: u32, leaf: u16) -> u32 {
    let Some(c) = window(b, ptr) else {
        return 0;
    };
    let hdr = if ptr & SPARSE != 0 {
        SPARSE_HDR
    } else {
        DENSE_HDR
    };
    let runs = usize::from(c[0]) + 1;
    let i = hdr + 2 * runs + 4 * usize::from(leaf as u8);
    u32::from_ne_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]])
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
    let short = if prefixes > 0 {
        b[cold + 2..cold + 9].iter().map(|&c| usize::from(c)).sum()
    } else {
        0
    };
    cold - off + cold_len(prefixes, short)
}

/// Cold-part length for `prefixes` own prefixes of which `short` are shorter than 8 bits.
pub(crate) fn cold_len(prefixes: usize, short: usize) -> usize {
    if prefixes == 0 {
        2
    } else {
        9 + prefixes + 2 * short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_counts_the_bits_up_to_each_slot() {
        for k in 0..8usize {
            for v in 0..=255u8 {
                let want = (0..=k).filter(|&bit| v & (1 << bit) != 0).count();
                assert_eq!(usize::from(STARTS_UP_TO[k * 256 + usize::from(v)]), want);
            }
        }
    }

    #[test]
    fn sparse_index_counts_starts_at_or_below_the_slot() {
        let sets: [&[u8]; 6] = [
            &[0],
            &[0, 1],
            &[0, 127, 128, 255],
            &[0, 3, 64, 100, 129, 200, 254, 255],
            &[0, 128],
            &[0, 1, 2, 3, 4, 5, 6, 7],
        ];
        for starts in sets {
            let mut c = [0xffu8; WINDOW];
            for (k, &x) in starts[1..].iter().enumerate() {
                c[STARTS + k] = x - 1;
            }
            for s in 0..=255u8 {
                let expect = starts.iter().filter(|&&x| x <= s).count() - 1;
                assert_eq!(sparse_index(&c, s), expect, "{starts:?} {s}");
            }
        }
    }
}
