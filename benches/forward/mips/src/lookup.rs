//! `routing::Fib` alone: the build of the two full tables, their memory, and instructions per
//! lookup over addresses drawn uniformly from the table's prefixes and over uniformly random
//! addresses.

use alloc::vec::Vec;
use core::fmt::Write;
use core::hint::black_box;

use routing::{Address, Fib, Fib4, Fib6, FibConfig, NextHop};

use crate::table::{Random, Tables};
use crate::{Clock, Uart};

/// Addresses per kind of lookup.
pub const LOOKUPS: usize = 1 << 18;

pub struct Fibs {
    pub v4: Fib4,
    pub v6: Fib6,
}

/// Builds the FIBs and counts their lookups.
pub fn run(tables: &Tables, clock: &mut Clock) -> Fibs {
    let v4 = build(
        &tables.v4,
        FibConfig::ipv4_prefixes(tables.v4.len()),
        "ipv4",
        clock,
    );
    let v6 = build(
        &tables.v6,
        FibConfig::ipv6_prefixes(tables.v6.len()),
        "ipv6",
        clock,
    );
    check(&v4, &tables.probes4, "ipv4");
    check(&v6, &tables.probes6, "ipv6");
    let mut rng = Random(0x9e37_79b9_7f4a_7c15);
    let in_prefixes: Vec<u32> = (0..LOOKUPS).map(|_| rng.v4_in(&tables.v4)).collect();
    lookups(&v4, &in_prefixes, "ipv4", "from-prefixes", clock);
    let random: Vec<u32> = (0..LOOKUPS).map(|_| rng.next() as u32).collect();
    lookups(&v4, &random, "ipv4", "random", clock);
    let direct = direct_only(&tables.v4, &mut rng);
    lookups(&v4, &direct, "ipv4", "direct-entry-only", clock);
    drop((in_prefixes, random, direct));
    let in_prefixes: Vec<u128> = (0..LOOKUPS).map(|_| rng.v6_in(&tables.v6)).collect();
    lookups(&v6, &in_prefixes, "ipv6", "from-prefixes", clock);
    let random: Vec<u128> = (0..LOOKUPS).map(|_| rng.v6()).collect();
    lookups(&v6, &random, "ipv6", "random", clock);
    let global: Vec<u128> = (0..LOOKUPS)
        .map(|_| 0x2000 << 112 | rng.v6() >> 3)
        .collect();
    lookups(&v6, &global, "ipv6", "random-2000::/3", clock);
    Fibs { v4, v6 }
}

/// Addresses in prefixes up to /16 whose /16 holds no longer prefix: their lookup ends at the
/// direct table (the part every lookup pays; the rest of a lookup is its chunk steps).
fn direct_only(v4: &[(u32, u8, NextHop)], rng: &mut Random) -> Vec<u32> {
    let mut chunked = alloc::vec![0u32; 1 << 11];
    for &(a, len, _) in v4 {
        if len > 16 {
            chunked[(a >> 21) as usize] |= 1 << ((a >> 16) & 31);
        }
    }
    let short: Vec<_> = v4.iter().copied().filter(|e| e.1 <= 16).collect();
    let mut out = Vec::with_capacity(LOOKUPS);
    while out.len() < LOOKUPS {
        let a = rng.v4_in(&short);
        if chunked[(a >> 21) as usize] & 1 << ((a >> 16) & 31) == 0 {
            out.push(a);
        }
    }
    out
}

fn build<A: Address>(
    entries: &[(A, u8, NextHop)],
    config: FibConfig,
    afi: &str,
    clock: &mut Clock,
) -> Fib<A> {
    let t0 = clock.now();
    let mut fib = Fib::new(config);
    if let Err(e) = fib.build(entries) {
        panic!("building the {afi} FIB: {e:?}");
    }
    let instructions = clock.since(t0);
    let n = entries.len() as f32;
    let _ = writeln!(
        Uart,
        "fib afi={afi} prefixes={} bytes={} bytes_per_prefix={:.2} arena_used_per_prefix={:.2} \
         build_instructions={:.0} build_instructions_per_prefix={:.0}",
        fib.len(),
        fib.memory_bytes(),
        fib.memory_bytes() as f32 / n,
        fib.arena_used_bytes() as f32 / n,
        instructions,
        instructions / n
    );
    fib
}

/// Compares the answers for the probes with the host's FIB's; prints the count of differences
/// and the first.
fn check<A: Address + Copy + core::fmt::Debug>(
    fib: &Fib<A>,
    probes: &[(A, Option<u16>)],
    afi: &str,
) {
    let mut wrong = probes
        .iter()
        .map(|&(a, want)| (a, want, fib.lookup(a).map(NextHop::get)))
        .filter(|(_, want, got)| want != got);
    let first = wrong.next();
    let _ = writeln!(
        Uart,
        "check afi={afi} probes={} differences_from_host={}",
        probes.len(),
        first.map_or(0, |_| 1 + wrong.count())
    );
    if let Some((a, want, got)) = first {
        let _ = writeln!(
            Uart,
            "# first difference: {a:?}: host {want:?}, MIPS {got:?}"
        );
    }
}

/// Instructions per lookup over `addrs` (the loop around it measured alone and subtracted),
/// and how many found no route.
fn lookups<A: Address + Copy>(fib: &Fib<A>, addrs: &[A], afi: &str, kind: &str, c: &mut Clock) {
    let t0 = c.now();
    for &a in addrs {
        black_box(a);
    }
    let empty = c.per(t0, addrs.len());
    let t0 = c.now();
    let mut no_route = 0u32;
    for &a in addrs {
        if black_box(fib.lookup(black_box(a))).is_none() {
            no_route += 1;
        }
    }
    let whole = c.per(t0, addrs.len());
    let _ = writeln!(
        Uart,
        "lookup afi={afi} addresses={kind} lookups={} instructions={:.1} loop_with_lookup={whole:.1} \
         loop_alone={empty:.1} no_route={no_route}",
        addrs.len(),
        whole - empty
    );
}
