//! FIB tests: hand-made cases, then random tables and update sequences against the reference.

use super::*;
use crate::reference::ReferenceLpm;
use alloc::format;
use alloc::vec::Vec;
use proptest::prelude::*;

fn hop(n: u16) -> NextHop {
    NextHop::new(n).unwrap()
}

fn v4(a: [u8; 4]) -> u32 {
    u32::from_be_bytes(a)
}

#[test]
fn empty_table_has_no_route() {
    let fib = Fib4::new(FibConfig::with_arena_bytes(4096));
    assert_eq!(fib.lookup(0), None);
    assert_eq!(fib.lookup(u32::MAX), None);
    assert!(fib.is_empty());
}

#[test]
fn longest_prefix_wins_at_every_level() {
    let mut fib = Fib4::new(FibConfig::with_arena_bytes(1 << 16));
    fib.insert(0, 0, hop(1)).unwrap();
    fib.insert(v4([10, 0, 0, 0]), 8, hop(2)).unwrap();
    fib.insert(v4([10, 1, 0, 0]), 16, hop(3)).unwrap();
    fib.insert(v4([10, 1, 2, 0]), 24, hop(4)).unwrap();
    fib.insert(v4([10, 1, 2, 128]), 25, hop(5)).unwrap();
    fib.insert(v4([10, 1, 2, 129]), 32, hop(6)).unwrap();
    assert_eq!(fib.lookup(v4([11, 0, 0, 0])), Some(hop(1)));
    assert_eq!(fib.lookup(v4([10, 2, 0, 0])), Some(hop(2)));
    assert_eq!(fib.lookup(v4([10, 1, 3, 0])), Some(hop(3)));
    assert_eq!(fib.lookup(v4([10, 1, 2, 1])), Some(hop(4)));
    assert_eq!(fib.lookup(v4([10, 1, 2, 130])), Some(hop(5)));
    assert_eq!(fib.lookup(v4([10, 1, 2, 129])), Some(hop(6)));
    assert_eq!(fib.len(), 6);
    // Withdraw from the middle: the covering prefix shows through again.
    assert_eq!(fib.remove(v4([10, 1, 2, 0]), 24), Ok(Some(hop(4))));
    assert_eq!(fib.lookup(v4([10, 1, 2, 1])), Some(hop(3)));
    assert_eq!(fib.lookup(v4([10, 1, 2, 129])), Some(hop(6)));
    assert_eq!(fib.remove(v4([10, 1, 0, 0]), 16), Ok(Some(hop(3))));
    assert_eq!(fib.lookup(v4([10, 1, 2, 1])), Some(hop(2)));
    assert_eq!(fib.lookup(v4([10, 1, 2, 130])), Some(hop(5)));
    assert_eq!(fib.remove(0, 0), Ok(Some(hop(1))));
    assert_eq!(fib.lookup(v4([11, 0, 0, 0])), None);
    assert_eq!(fib.remove(0, 0), Ok(None));
    assert_eq!(fib.get(v4([10, 1, 2, 128]), 25), Some(hop(5)));
    assert_eq!(fib.get(v4([10, 1, 2, 0]), 24), None);
}

#[test]
fn removing_everything_frees_every_chunk() {
    let mut fib = Fib4::new(FibConfig::with_arena_bytes(1 << 16));
    let prefixes = [
        (v4([10, 1, 2, 0]), 24),
        (v4([10, 1, 2, 7]), 32),
        (v4([10, 1, 0, 0]), 17),
        (v4([10, 9, 0, 0]), 16),
    ];
    for (i, &(a, l)) in prefixes.iter().enumerate() {
        fib.insert(a, l, hop(i as u16)).unwrap();
    }
    for &(a, l) in &prefixes {
        assert!(fib.remove(a, l).unwrap().is_some());
    }
    assert_eq!(fib.arena_used_bytes(), 4 * arena::block_bytes(4) / 4);
    assert_eq!(fib.lookup(v4([10, 1, 2, 7])), None);
}

#[test]
fn host_bits_and_overlong_prefixes_are_refused() {
    let mut fib = Fib4::new(FibConfig::with_arena_bytes(4096));
    assert_eq!(
        fib.insert(v4([10, 0, 0, 1]), 8, hop(1)),
        Err(FibError::InvalidPrefix)
    );
    assert_eq!(fib.insert(0, 33, hop(1)), Err(FibError::InvalidPrefix));
    assert_eq!(NextHop::new(NextHop::MAX + 1), None);
}

#[test]
fn ipv6_deep_prefixes() {
    let mut fib = Fib6::new(FibConfig::with_arena_bytes(1 << 16));
    let p48: u128 = 0x2001_0db8_0001 << 80;
    fib.insert(0x2001_0db8 << 96, 32, hop(1)).unwrap();
    fib.insert(p48, 48, hop(2)).unwrap();
    fib.insert(p48 | 1, 128, hop(3)).unwrap();
    assert_eq!(fib.lookup(p48 | 2), Some(hop(2)));
    assert_eq!(fib.lookup(p48 | 1), Some(hop(3)));
    assert_eq!(fib.lookup((0x2001_0db8 << 96) | 5), Some(hop(1)));
    assert_eq!(fib.lookup(0x2002 << 112), None);
    fib.remove(p48, 48).unwrap();
    assert_eq!(fib.lookup(p48 | 2), Some(hop(1)));
    assert_eq!(fib.lookup(p48 | 1), Some(hop(3)));
}

#[test]
fn table_full_leaves_the_table_unchanged() {
    let mut fib = Fib4::new(FibConfig::with_arena_bytes(2048));
    let mut reference = ReferenceLpm::new();
    let mut full = 0;
    for i in 0..2000u32 {
        let addr = v4([10, (i % 7) as u8, (i * 37 % 256) as u8, 0]) | (i % 3) << 6;
        let len = 24 + (i % 3) as u8 * 2;
        let addr = addr.masked(len);
        match fib.insert(addr, len, hop((i % 50) as u16)) {
            Ok(old) => assert_eq!(old, reference.insert(addr, len, hop((i % 50) as u16))),
            Err(FibError::TableFull) => full += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(full > 0);
    for a in (0..1u32 << 19).map(|x| v4([10, 0, 0, 0]) | x) {
        assert_eq!(fib.lookup(a), reference.lookup(a).map(|x| x.1));
    }
}

#[test]
fn a_chunk_holds_every_full_stride_prefix_and_its_shorter_ones() {
    let mut fib = Fib4::new(FibConfig::with_arena_bytes(1 << 16));
    fib.insert(v4([10, 1, 0, 0]), 17, hop(300)).unwrap();
    for i in 0..=255u8 {
        fib.insert(v4([10, 1, i, 0]), 24, hop(u16::from(i) + 1))
            .unwrap();
    }
    fib.insert(v4([10, 1, 128, 0]), 18, hop(301)).unwrap();
    assert_eq!(fib.len(), 258);
    for i in 0..=255u8 {
        assert_eq!(fib.lookup(v4([10, 1, i, 7])), Some(hop(u16::from(i) + 1)));
    }
    for i in 0..=255u8 {
        fib.remove(v4([10, 1, i, 0]), 24).unwrap();
    }
    assert_eq!(fib.lookup(v4([10, 1, 5, 7])), Some(hop(300)));
    assert_eq!(fib.lookup(v4([10, 1, 150, 7])), Some(hop(301)));
    assert_eq!(fib.lookup(v4([10, 1, 200, 7])), None);
}

#[test]
fn a_growing_arena_grows_to_its_limit_and_answers_like_a_fixed_one() {
    let limit = 256 << 10;
    let mut growing = Fib4::new(FibConfig::with_arena_bytes(limit).growing());
    let mut fixed = Fib4::new(FibConfig::with_arena_bytes(limit));
    // Both sizes come with the slack a lookup may read past the last chunk.
    let slack = super::arena::READ_SLACK;
    assert_eq!(growing.arena_capacity_bytes(), (16 << 10) + slack);
    assert_eq!(growing.arena_limit_bytes(), limit + slack);
    assert!(growing.memory_bytes() < fixed.memory_bytes());
    let mut inserted = 0;
    for i in 0..20_000u32 {
        // Scattered /24s and /28s: a chunk each, then deeper ones.
        let (addr, len) = if i % 3 == 0 {
            (
                v4([10 + (i % 50) as u8, (i / 50) as u8, (i * 7) as u8, 16]),
                28,
            )
        } else {
            (v4([100 + (i % 100) as u8, (i / 100) as u8, i as u8, 0]), 24)
        };
        let a = growing.insert(addr, len, hop((i % 60) as u16 + 1));
        let b = fixed.insert(addr, len, hop((i % 60) as u16 + 1));
        assert_eq!(a, b, "{i}");
        if a.is_err() {
            break;
        }
        inserted += 1;
    }
    assert!(inserted < 20_000, "the limit is reached");
    assert_eq!(growing.arena_capacity_bytes(), limit + slack);
    assert_eq!(growing.prefixes(), fixed.prefixes());
    for a in (0..u32::MAX).step_by(65_521) {
        assert_eq!(growing.lookup(a), fixed.lookup(a));
    }
}

#[test]
fn build_matches_incremental_inserts() {
    let entries: Vec<(u32, u8, NextHop)> = (0..3000u32)
        .map(|i| {
            let len = [8u8, 16, 19, 22, 24, 24, 24, 28, 32][(i % 9) as usize];
            (
                v4([
                    10 + (i % 3) as u8,
                    (i * 7 % 256) as u8,
                    (i * 13 % 256) as u8,
                    (i * 29 % 256) as u8,
                ])
                .masked(len),
                len,
                hop((i % 11) as u16),
            )
        })
        .collect();
    let mut built = Fib4::new(FibConfig::with_arena_bytes(1 << 20));
    built.build(&entries).unwrap();
    let mut grown = Fib4::new(FibConfig::with_arena_bytes(1 << 20));
    for &(a, l, h) in &entries {
        grown.insert(a, l, h).unwrap();
    }
    assert_eq!(built.len(), grown.len());
    let mut x = 0x1234_5678u32;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let a = (x & 0x03ff_ffff) | 0x0800_0000;
        assert_eq!(built.lookup(a), grown.lookup(a), "{a:#x}");
    }
    let mut b = built.prefixes();
    let mut g = grown.prefixes();
    b.sort();
    g.sort();
    assert_eq!(b, g);
}

#[test]
fn fuzz_body_runs_on_generated_inputs() {
    let mut x = 0x9e37_79b9u32;
    for round in 0..3000 {
        let len = 6 * (1 + round % 60);
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 8) as u8
            })
            .collect();
        crate::fuzzing::fib_update_sequence(&data);
    }
}

/// A prefix in a crowded IPv4 space: few top-level values, lengths biased to /16../32.
fn crowded_v4() -> impl Strategy<Value = (u32, u8)> {
    (
        0usize..3,
        any::<u16>(),
        prop_oneof![0u8..=16, 17u8..=24, 17u8..=24, 24u8..=32],
    )
        .prop_map(|(t, low, len)| {
            let top = [0x0a00u32, 0x0a01, 0xc0a8][t];
            let addr = (top << 16) | u32::from(low);
            (addr.masked(len), len)
        })
}

fn crowded_v6() -> impl Strategy<Value = (u128, u8)> {
    (0usize..2, any::<u32>(), 0u8..=128).prop_map(|(t, low, len)| {
        let top = [0x2001u128, 0x2a00][t];
        let addr = (top << 112) | (u128::from(low & 0xffff) << 96) | (u128::from(low >> 16) << 64);
        (addr.masked(len), len)
    })
}

#[derive(Clone, Debug)]
enum Op<A> {
    Insert(A, u8, u16),
    Remove(A, u8),
}

fn run_ops<A: Address>(
    initial: &[(A, u8, u16)],
    ops: &[Op<A>],
    probes: &[A],
    arena: usize,
) -> Result<(), TestCaseError> {
    let mut fib = Fib::<A>::new(FibConfig::with_arena_bytes(arena));
    let mut reference = ReferenceLpm::new();
    let entries: Vec<(A, u8, NextHop)> = initial.iter().map(|&(a, l, h)| (a, l, hop(h))).collect();
    fib.build(&entries)
        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    for &(a, l, h) in &entries {
        reference.insert(a, l, h);
    }
    for op in ops {
        match *op {
            Op::Insert(a, l, h) => {
                let got = fib.insert(a, l, hop(h));
                prop_assert_eq!(got, Ok(reference.insert(a, l, hop(h))));
            }
            Op::Remove(a, l) => {
                let got = fib.remove(a, l);
                prop_assert_eq!(got, Ok(reference.remove(a, l)));
            }
        }
        for &p in probes {
            prop_assert_eq!(
                fib.lookup(p),
                reference.lookup(p).map(|x| x.1),
                "probe {:?}",
                p
            );
        }
    }
    let mut got = fib.prefixes();
    got.sort_by_key(|x| (x.0, x.1));
    prop_assert_eq!(got, reference.entries());
    for (a, l, _) in reference.entries() {
        let end = A::from_u128(
            a.to_u128()
                | ((u128::MAX >> (128 - u32::from(A::BITS)))
                    >> l.min(A::BITS - 1)
                    >> u8::from(l == A::BITS)),
        );
        for p in [a, end] {
            prop_assert_eq!(fib.lookup(p), reference.lookup(p).map(|x| x.1));
        }
    }
    Ok(())
}

fn op_v4() -> impl Strategy<Value = Op<u32>> {
    prop_oneof![
        (crowded_v4(), 0u16..6).prop_map(|((a, l), h)| Op::Insert(a, l, h)),
        crowded_v4().prop_map(|(a, l)| Op::Remove(a, l)),
    ]
}

fn op_v6() -> impl Strategy<Value = Op<u128>> {
    prop_oneof![
        (crowded_v6(), 0u16..6).prop_map(|((a, l), h)| Op::Insert(a, l, h)),
        crowded_v6().prop_map(|(a, l)| Op::Remove(a, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn ipv4_random_tables_and_updates_match_the_reference(
        initial in prop::collection::vec((crowded_v4(), 0u16..6), 0..300),
        ops in prop::collection::vec(op_v4(), 0..120),
        probes in prop::collection::vec(crowded_v4().prop_map(|(a, _)| a), 1..40),
    ) {
        let initial: Vec<(u32, u8, u16)> = initial.into_iter().map(|((a, l), h)| (a, l, h)).collect();
        run_ops(&initial, &ops, &probes, 1 << 20)?;
    }

    #[test]
    fn ipv6_random_tables_and_updates_match_the_reference(
        initial in prop::collection::vec((crowded_v6(), 0u16..6), 0..200),
        ops in prop::collection::vec(op_v6(), 0..80),
        probes in prop::collection::vec(crowded_v6().prop_map(|(a, _)| a), 1..30),
    ) {
        let initial: Vec<(u128, u8, u16)> = initial.into_iter().map(|((a, l), h)| (a, l, h)).collect();
        run_ops(&initial, &ops, &probes, 1 << 21)?;
    }
}
