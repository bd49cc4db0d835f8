//! The chunk encoder: round trips through the bytes, and the run-editing shortcut against a
//! full repaint.

use super::super::chunk::{content_len, leaf};
use super::*;

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
    back.recover_full_stride_hops(&buf);
    assert_eq!(back.prefixes, w.prefixes);
    assert_eq!(&back.keys[..w.prefixes], &w.keys[..w.prefixes]);
    assert_eq!(&back.hops[..w.prefixes], &w.hops[..w.prefixes]);
    assert_eq!(back.default, default);
}

#[test]
fn chunks_round_trip_sparse_and_dense() {
    round_trip(&[(0x0303, 7)], &[], 0);
    round_trip(&[(0x0100, 1), (0x0101, 2)], &[], 9);
    // A /1 covered by both /2 halves must keep its hop in the cold part.
    round_trip(&[(0x0100, 5), (0x0200, 1), (0x0201, 2)], &[], 0);
    let many: [(u16, u16); 40] =
        core::array::from_fn(|i| (0x0800 | (i as u16 * 3), 1 + (i as u16 % 5)));
    round_trip(&many, &[], 3);
    let mut mixed = many.to_vec();
    mixed.push((0x0100, 11));
    mixed.push((0x0301, 12));
    round_trip(&mixed, &[], 0);
}

/// The run-editing shortcut must give the same bytes as repainting.
#[test]
fn full_stride_edits_match_a_full_repaint() {
    let mut x = 0x2545_f491u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for _ in 0..2000 {
        let mut w = Work::new();
        w.reset(3);
        for _ in 0..next() % 40 {
            let rel = 1 + (next() % 8) as u16;
            let key = (rel << 8) | (next() as u16 & ((1 << rel) - 1));
            w.insert_prefix(key, 1 + (next() % 4) as u16);
        }
        w.layout();
        for _ in 0..20 {
            let key = 0x0800 | (next() % 256) as u16;
            let hop = if next() % 2 == 0 {
                Some(1 + (next() % 4) as u16)
            } else {
                None
            };
            let mut fast = Work::new();
            let mut buf = [0u8; 4096];
            let enc = w.encoding();
            let ptr = w.write(&mut buf, 8, &enc);
            fast.decode(&buf, ptr);
            let got = fast.set_full_stride(key, hop).expect("no children here");
            let want = match hop {
                Some(h) => w.insert_prefix(key, h),
                None => w.remove_prefix(key),
            };
            assert_eq!(got, want);
            let a = fast.encoding();
            let mut fast_buf = [0u8; 4096];
            fast.write(&mut fast_buf, 8, &a);
            let b = w.layout();
            let mut full_buf = [0u8; 4096];
            w.write(&mut full_buf, 8, &b);
            assert_eq!(a.len, b.len);
            assert_eq!(&fast_buf[..8 + a.len], &full_buf[..8 + b.len]);
        }
    }
}
