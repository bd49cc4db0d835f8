//! [`copy`]: the bulk copy of the frame path (one guest's TX buffer into another's RX buffer).
//!
//! `copy_from_slice` goes to the generic `memcpy`, which on the 24Kc moves one word per six
//! instructions. Frames usually sit at the same offset modulo 4 in both guests (the Ethernet
//! header two bytes into a word-aligned buffer, behind the interface id), so after the first
//! bytes both sides are word-aligned: then eight words are moved per step with plain loads and
//! stores. Other cases fall back to `copy_from_slice`. No unsafe code: the word views come from
//! `bytemuck`, which checks alignment at run time.

/// Below this many bytes the generic copy is used; from here on there are at least eight
/// whole words between the (at most three-byte) head and tail.
const WORD_COPY_MIN: usize = 40;

/// Copies `src` into `dst`; copies `min(dst.len(), src.len())` bytes.
#[inline]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    if n < WORD_COPY_MIN {
        dst.copy_from_slice(src);
        return;
    }
    let (s_head, s_words, s_tail) = bytemuck::pod_align_to::<u8, u32>(src);
    let (d_head, d_words, d_tail) = bytemuck::pod_align_to_mut::<u8, u32>(dst);
    if s_head.len() != d_head.len() || s_words.len() != d_words.len() || d_words.len() < 8 {
        // Different alignment: the two head lengths differ. `d_*` cover `dst` whole again.
        copy_unaligned(d_head, d_words, d_tail, src);
        return;
    }
    copy_few(d_head, s_head);
    let mut d_blocks = d_words.chunks_exact_mut(8);
    let mut s_blocks = s_words.chunks_exact(8);
    for (d, s) in (&mut d_blocks).zip(&mut s_blocks) {
        copy_block(d, s);
    }
    // The last words: copy the final eight again, overlapping what is done (no loop that the
    // compiler would turn back into a generic memcpy call).
    if !d_blocks.into_remainder().is_empty() {
        let at = d_words.len() - 8;
        copy_block(&mut d_words[at..], &s_words[at..]);
    }
    copy_few(d_tail, s_tail);
}

/// Eight words, one by one: an array assignment would become a call to the generic memcpy
/// again when optimising for size.
#[inline(always)]
fn copy_block(d: &mut [u32], s: &[u32]) {
    if let (Ok(d), Ok(s)) = (<&mut [u32; 8]>::try_from(d), <&[u32; 8]>::try_from(s)) {
        d[0] = s[0];
        d[1] = s[1];
        d[2] = s[2];
        d[3] = s[3];
        d[4] = s[4];
        d[5] = s[5];
        d[6] = s[6];
        d[7] = s[7];
    }
}

/// A head or tail of up to three bytes.
#[inline(always)]
fn copy_few(d: &mut [u8], s: &[u8]) {
    match (d, s) {
        ([d0], [s0]) => *d0 = *s0,
        ([d0, d1], [s0, s1]) => (*d0, *d1) = (*s0, *s1),
        ([d0, d1, d2], [s0, s1, s2]) => (*d0, *d1, *d2) = (*s0, *s1, *s2),
        _ => {}
    }
}

/// The fallback: `dst` was split into head, words and tail; copy `src` across the three.
fn copy_unaligned(d_head: &mut [u8], d_words: &mut [u32], d_tail: &mut [u8], src: &[u8]) {
    let (s_head, rest) = src.split_at(d_head.len());
    d_head.copy_from_slice(s_head);
    let (s_words, s_tail) = rest.split_at(d_words.len() * 4);
    bytemuck::cast_slice_mut::<u32, u8>(d_words).copy_from_slice(s_words);
    d_tail.copy_from_slice(s_tail);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn copies_every_length_and_alignment() {
        let src: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [
            0usize, 1, 3, 39, 40, 41, 43, 44, 63, 64, 65, 71, 72, 100, 127, 128, 129, 255, 300,
        ] {
            for s_off in 0..4 {
                for d_off in 0..4 {
                    let mut dst = std::vec![0xEEu8; 400];
                    copy(&mut dst[d_off..d_off + len], &src[s_off..s_off + len]);
                    assert_eq!(
                        &dst[d_off..d_off + len],
                        &src[s_off..s_off + len],
                        "len {len} {s_off}/{d_off}"
                    );
                    assert!(dst[..d_off]
                        .iter()
                        .chain(&dst[d_off + len..])
                        .all(|&b| b == 0xEE));
                }
            }
        }
    }

    #[test]
    fn copies_the_shorter_length() {
        let mut dst = [0u8; 8];
        copy(&mut dst, &[1, 2, 3]);
        assert_eq!(dst, [1, 2, 3, 0, 0, 0, 0, 0]);
        copy(&mut dst[..2], &[9; 8]);
        assert_eq!(dst, [9, 9, 3, 0, 0, 0, 0, 0]);
    }
}
