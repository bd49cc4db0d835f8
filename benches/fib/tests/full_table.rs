//! `routing::Fib` against the plain longest-match reference (`routing::ReferenceLpm`) on the
//! whole global tables (`../shared/data/bgp-dfz-v4.txt.gz` and `bgp-dfz-v6.txt.gz`): after the
//! bulk build, and after withdrawals, new next hops and new prefixes made one at a time. Run in
//! release (`cargo test --release -p fib-bench`): a debug build takes minutes. The files are
//! read from `FIB_DATA_DIR` if set; without them the test says so and checks nothing.

use routing::{Address, Fib, FibConfig, NextHop, ReferenceLpm};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn hop(id: u16) -> NextHop {
    NextHop::new(id).expect("a hop id below the limit")
}

/// Uniformly random addresses, a random address inside random table prefixes, and the first
/// and last address of every 3rd prefix and the address after it.
fn check<A: Address>(fib: &Fib<A>, reference: &ReferenceLpm<A, NextHop>, rng: &mut Rng) {
    let entries = reference.entries();
    let bits = u32::from(A::BITS);
    let mut probes = Vec::new();
    for _ in 0..200_000 {
        let wide = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        probes.push(A::from_u128(wide >> (128 - bits)));
        let (a, len, _) = entries[(rng.next() % entries.len() as u64) as usize];
        let host = if len == A::BITS {
            0
        } else {
            (wide >> (128 - bits)) >> len
        };
        probes.push(A::from_u128(a.to_u128() | host));
    }
    for &(a, len, _) in entries.iter().step_by(3) {
        let all = u128::MAX >> (128 - bits);
        let last = a.to_u128() | if len == A::BITS { 0 } else { all >> len };
        probes.extend([
            a,
            A::from_u128(last),
            A::from_u128(last.wrapping_add(1) & all),
        ]);
    }
    let wrong: Vec<_> = probes
        .iter()
        .filter(|&&p| fib.lookup(p) != reference.lookup(p).map(|x| x.1))
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "lookups differ from the reference at {wrong:?}"
    );
}

fn full_table<A: Address>(entries: &[(A, u8, u16)], config: FibConfig, seed: u64) {
    let entries: Vec<(A, u8, NextHop)> = entries.iter().map(|&(a, l, h)| (a, l, hop(h))).collect();
    let mut fib = Fib::<A>::new(config);
    fib.build(&entries).expect("the table fits");
    let mut reference = ReferenceLpm::new();
    for &(a, l, h) in &entries {
        reference.insert(a, l, h);
    }
    let mut rng = Rng(seed);
    check(&fib, &reference, &mut rng);
    // Updates: withdraw a tenth of the table, move another tenth to other hops, announce
    // longer prefixes inside random table prefixes (new chunks and children).
    let n = entries.len() as u64;
    for _ in 0..n / 10 {
        let (a, l, _) = entries[(rng.next() % n) as usize];
        assert_eq!(fib.remove(a, l), Ok(reference.remove(a, l)));
        let (a, l, _) = entries[(rng.next() % n) as usize];
        let h = hop((rng.next() % 100) as u16);
        assert_eq!(fib.insert(a, l, h), Ok(reference.insert(a, l, h)));
        let (a, l, _) = entries[(rng.next() % n) as usize];
        let longer = (l + 1 + (rng.next() % 8) as u8).min(A::BITS);
        let wide = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        let inside =
            A::from_u128(a.to_u128() | (wide >> (128 - u32::from(A::BITS)))).masked(longer);
        let h = hop((rng.next() % 100) as u16);
        assert_eq!(
            fib.insert(inside, longer, h),
            Ok(reference.insert(inside, longer, h))
        );
    }
    check(&fib, &reference, &mut rng);
    let mut got = fib.prefixes();
    got.sort_by_key(|x| (x.0, x.1));
    assert!(
        got == reference.entries(),
        "the FIB's prefixes differ from the reference's"
    );
}

#[test]
fn the_global_tables_and_updates_on_them_match_the_longest_match_reference() {
    let dir = match std::env::var_os("FIB_DATA_DIR") {
        Some(dir) => dir.into(),
        None => bench_common::default_data_dir().expect("the workspace root"),
    };
    let paths = [dir.join("bgp-dfz-v4.txt.gz"), dir.join("bgp-dfz-v6.txt.gz")];
    if paths.iter().any(|p| !p.exists()) {
        eprintln!(
            "skipped: {} or {} is missing",
            paths[0].display(),
            paths[1].display()
        );
        return;
    }
    let tables = bench_common::table::load(&paths, 64).expect("the tables load");
    assert!(tables.v4.entries.len() > 900_000 && tables.v6.entries.len() > 170_000);
    let v4 = &tables.v4.entries;
    full_table(
        v4,
        FibConfig::ipv4_prefixes(2 * v4.len()),
        0x2545_f491_4f6c_dd1d,
    );
    let v6 = &tables.v6.entries;
    full_table(
        v6,
        FibConfig::ipv6_prefixes(2 * v6.len()),
        0x9e37_79b9_7f4a_7c15,
    );
}
