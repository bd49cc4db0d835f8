//! [`copy`]: the bulk copy of the frame path (one guest's TX buffer into another's RX buffer).
//!
//! `copy_from_slice` goes to the generic `memcpy`, which on the 24Kc moves one word per six
//! instructions. Here the destination is word-aligned after a head of at most three bytes, and
//! the words are moved in unrolled blocks:
//! - when the source is word-aligned too (the usual case: frames sit two bytes into word-aligned
//!   buffers in both guests, behind the interface id), with plain word loads and stores, in
//!   blocks of 32 words: two instructions per word and about five per block;
//! - otherwise with unaligned word loads (`lwl`/`lwr` on MIPS), in blocks of 16 words: three
//!   instructions per word.
//!
//! The last words of the aligned case go in pieces of sixteen, eight, four, two and one, the
//! tail of at most three bytes byte by byte. No unsafe code: the word views come from
//! `bytemuck`, which checks alignment at run time. Loops move many words per iteration on
//! purpose: a loop of single loads and stores would be recognised by the compiler and turned
//! back into a `memcpy` call, and a fixed-size array assignment becomes one when optimising for
//! size.

/// Below this many bytes the generic copy is used (control messages; frames are longer, except
/// bare 14- and 15-byte headers).
const WORD_COPY_MIN: usize = 16;

/// Words per unrolled block of the main loop when both sides are word-aligned: 64 loads and
/// stores for about five instructions of loop overhead.
const BLOCK: usize = 32;

/// Words per unrolled block when the source is not word-aligned.
const UNALIGNED_BLOCK: usize = 16;

/// `$d[i] = $s[i]` for each listed `i`: straight-line word moves.
macro_rules! words {
    ($d:ident, $s:ident, $($i:literal)*) => {{
        $($d[$i] = $s[$i];)*
    }};
}

/// `$d[i] =` word `i` of the byte array `$s` (native order, any alignment) for each listed `i`.
macro_rules! unaligned_words {
    ($d:ident, $s:ident, $($i:literal)*) => {{
        $($d[$i] = u32::from_ne_bytes([$s[4 * $i], $s[4 * $i + 1], $s[4 * $i + 2], $s[4 * $i + 3]]);)*
    }};
}

/// Copies `src` into `dst`; copies `min(dst.len(), src.len())` bytes.
#[inline]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    if n < WORD_COPY_MIN {
        dst.copy_from_slice(src);
        return;
    }
    copy_long(dst, src);
}

/// `dst.len() == src.len() >= WORD_COPY_MIN`.
#[inline(never)]
fn copy_long(dst: &mut [u8], src: &[u8]) {
    let (d_head, d_words, d_tail) = bytemuck::pod_align_to_mut::<u8, u32>(dst);
    let (s_head, s_rest) = src.split_at(d_head.len().min(src.len()));
    copy_few(d_head, s_head);
    let (s_body, s_tail) = s_rest.split_at((d_words.len() * 4).min(s_rest.len()));
    match bytemuck::try_cast_slice::<u8, u32>(s_body) {
        Ok(s_words) => copy_words(d_words, s_words),
        Err(_) => copy_words_unaligned(d_words, s_body),
    }
    copy_few(d_tail, s_tail);
}

/// Word-aligned source and destination (of the same length).
#[inline(always)]
fn copy_words(d: &mut [u32], s: &[u32]) {
    // Equal lengths from here on, which lets the compiler drop the checks on `s`.
    let Some(s) = s.get(..d.len()) else { return };
    let split = d.len() - d.len() % BLOCK;
    let (d_main, d_rest) = d.split_at_mut(split);
    let (s_main, s_rest) = s.split_at(split);
    if let (Ok(d_blocks), Ok(s_blocks)) = (
        bytemuck::try_cast_slice_mut::<u32, [u32; BLOCK]>(d_main),
        bytemuck::try_cast_slice::<u32, [u32; BLOCK]>(s_main),
    ) {
        for (d, s) in d_blocks.iter_mut().zip(s_blocks) {
            copy_block(d, s);
        }
    }
    copy_rest(d_rest, s_rest);
}

/// A block of words, one statement each: an array assignment would become a call to the
/// generic memcpy again when optimising for size, and a loop would stay a loop.
#[inline(always)]
fn copy_block(d: &mut [u32; BLOCK], s: &[u32; BLOCK]) {
    words!(d, s, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
}

/// Fewer than [`BLOCK`] words, as pieces of sixteen, eight, four, two and one.
#[inline(always)]
fn copy_rest(d: &mut [u32], s: &[u32]) {
    let Some(s) = s.get(..d.len()) else { return };
    let (d, s) = match (d.split_first_chunk_mut::<16>(), s.split_first_chunk::<16>()) {
        (Some((d16, d)), Some((s16, s))) => {
            words!(d16, s16, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
            (d, s)
        }
        _ => (d, s),
    };
    let (d, s) = match (d.split_first_chunk_mut::<8>(), s.split_first_chunk::<8>()) {
        (Some((d8, d)), Some((s8, s))) => {
            words!(d8, s8, 0 1 2 3 4 5 6 7);
            (d, s)
        }
        _ => (d, s),
    };
    let (d, s) = match (d.split_first_chunk_mut::<4>(), s.split_first_chunk::<4>()) {
        (Some((d4, d)), Some((s4, s))) => {
            words!(d4, s4, 0 1 2 3);
            (d, s)
        }
        _ => (d, s),
    };
    let (d, s) = match (d.split_first_chunk_mut::<2>(), s.split_first_chunk::<2>()) {
        (Some((d2, d)), Some((s2, s))) => {
            words!(d2, s2, 0 1);
            (d, s)
        }
        _ => (d, s),
    };
    if let ([d0], [s0]) = (d, s) {
        *d0 = *s0;
    }
}

/// Word-aligned destination, source at another alignment (`s.len() == 4 * d.len()`).
#[inline(always)]
fn copy_words_unaligned(d: &mut [u32], s: &[u8]) {
    const B: usize = UNALIGNED_BLOCK;
    let split = d.len() - d.len() % B;
    let (d_main, d_rest) = d.split_at_mut(split);
    let Some((s_main, s_rest)) = s.split_at_checked(4 * split) else {
        return;
    };
    if let (Ok(d_blocks), Ok(s_blocks)) = (
        bytemuck::try_cast_slice_mut::<u32, [u32; B]>(d_main),
        bytemuck::try_cast_slice::<u8, [u8; 4 * B]>(s_main),
    ) {
        for (d, s) in d_blocks.iter_mut().zip(s_blocks) {
            unaligned_words!(d, s, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
        }
    }
    for (d, s) in d_rest.iter_mut().zip(s_rest.chunks_exact(4)) {
        *d = u32::from_ne_bytes([s[0], s[1], s[2], s[3]]);
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

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Every length up to 300 (all remainders of the blocks), a few long ones, at every
    /// source and destination alignment; the bytes around the destination stay untouched.
    #[test]
    fn copies_every_length_and_alignment() {
        let src: Vec<u8> = (0..2100u32).map(|i| (i * 7 + 3) as u8).collect();
        let lengths = (0..=300usize).chain([511, 512, 513, 1514, 1516, 2040]);
        for len in lengths {
            for s_off in 0..8 {
                for d_off in 0..8 {
                    let mut dst = std::vec![0xEEu8; 2100];
                    copy(&mut dst[d_off..d_off + len], &src[s_off..s_off + len]);
                    assert_eq!(
                        &dst[d_off..d_off + len],
                        &src[s_off..s_off + len],
                        "len {len} {s_off}/{d_off}"
                    );
                    assert!(
                        dst[..d_off]
                            .iter()
                            .chain(&dst[d_off + len..])
                            .all(|&b| b == 0xEE),
                        "len {len} {s_off}/{d_off}: wrote outside"
                    );
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
        let long: Vec<u8> = (0..100).collect();
        let mut dst = [0u8; 40];
        copy(&mut dst, &long);
        assert_eq!(&dst[..], &long[..40]);
        let mut dst = std::vec![0u8; 100];
        copy(&mut dst, &long[..37]);
        assert_eq!(&dst[..37], &long[..37]);
        assert!(dst[37..].iter().all(|&b| b == 0));
    }
}
