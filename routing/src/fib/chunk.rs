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
//! `[P: u16]` then, if P > 0, `[count per relative length 1..=7: 7 x u8]
//! [prefix offsets: P x u8, grouped by length][next hops of the prefixes shorter than 8 bits:
//! u16 each]`. A full-stride prefix (relative length 8) covers one slot and nothing can be more
//! specific inside this chunk, so its next hop is that slot's leaf (or, under a child, the
//! child's default) and is not stored twice.

use super::arena::{rd_u16, rd_u32, rd_u64, wr_u16};

pub(crate) const CHILD: u16 = 0x8000;
pub(crate) const COVERED: u16 = 0x4000;
/// Pointer flag: the chunk uses the sparse encoding. Chunk pointers are byte offsets (8-aligned).
pub(crate) const SPARSE: u32 = 1;
const PTR_MASK: u32 = !7;
pub(crate) const DENSE_HDR: usize = 40;
pub(crate) const SPARSE_HDR: usize = 12;
/// Chunks with at most this many runs use the sparse encoding.
pub(crate) const SPARSE_MAX_RUNS: usize = 8;
/// Prefixes of relative length 1..=8 in one chunk: 2 + 4 + ... + 256.
pub(crate) const MAX_PREFIXES: usize = 510;

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

/// Offset of the `R-1` byte; the children count follows it and then the default.
#[inline(always)]
pub(crate) fn meta(ptr: u32) -> usize {
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
///
/// Branch-free between the two encodings: both ranks are computed from the chunk's first 40
/// bytes (reading past a small sparse block stays inside the arena, which keeps slack at its
/// end) and the right one is selected arithmetically. Random lookups meet both encodings
/// about equally often, and a mispredicted branch costs more than the extra arithmetic
/// (measured: 5-15% more lookups per second).
#[inline(always)]
pub(crate) fn leaf(b: &[u8], ptr: u32, s: u8) -> u16 {
    let off = (ptr & PTR_MASK) as usize;
    let w = usize::from(s >> 6);
    let dense_rank = usize::from(b[off + 32 + w])
        + (rd_u64(b, off + 8 * w) << (63 - (s & 63))).count_ones() as usize;
    let runs = usize::from(b[off + SPARSE_HDR - 4]) + 1;
    let sparse_rank = count_le(rd_u64(b, off), s).min(runs);
    let sparse = (ptr & SPARSE) as usize;
    let pick = sparse.wrapping_neg();
    let rank = (sparse_rank & pick) | (dense_rank & !pick);
    let at = off + DENSE_HDR - 2 - sparse * (DENSE_HDR - SPARSE_HDR);
    let leaf = rd_u16(b, at + 2 * rank);
    let default = rd_u16(b, at);
    leaf | (default & u16::from(leaf == 0).wrapping_neg())
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
    fn swar_rank_matches_a_plain_count() {
        let sets: [&[u8]; 5] = [
            &[0],
            &[0, 1],
            &[0, 127, 128, 255],
            &[0, 3, 64, 100, 129, 200, 254, 255],
            &[0, 128],
        ];
        for starts in sets {
            let mut bytes = [0xffu8; 8];
            bytes[..starts.len()].copy_from_slice(starts);
            let word = u64::from_ne_bytes(bytes);
            for s in 0..=255u8 {
                let expect = starts.iter().filter(|&&x| x <= s).count();
                assert_eq!(
                    count_le(word, s).min(starts.len()),
                    expect,
                    "{starts:?} {s}"
                );
            }
        }
    }
}
