//! The FIB against the plain longest-match reference on larger random tables changed one
//! prefix at a time.

use super::*;
use crate::reference::ReferenceLpm;
use alloc::vec::Vec;

fn hop(n: u16) -> NextHop {
    NextHop::new(n).unwrap()
}

/// A xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A random prefix of `A`: lengths spread over all of them, with the long ones an
/// Internet-like table has (IPv4 /17../24, IPv6 /29../48) most often; addresses from a
/// few hundred /16s, so chunks fill up, split into children and empty again.
fn random_prefix<A: Address>(rng: &mut Rng) -> (A, u8) {
    let r = rng.next();
    let bits = A::BITS;
    let len = match r % 8 {
        0 => (r >> 8) as u8 % (bits + 1),
        1 => 16 + (r >> 8) as u8 % (bits - 15),
        _ if bits == 32 => 17 + (r >> 8) as u8 % 8,
        _ => 29 + (r >> 8) as u8 % 20,
    };
    let top = u128::from((r >> 20) as u16 % 300) << (u32::from(bits) - 16);
    let low = u128::from(rng.next()) | (u128::from(rng.next()) << 64);
    let addr = A::from_u128(top | (low >> 16 >> (128 - u32::from(bits))));
    (addr.masked(len), len)
}

/// Random addresses, and the first and last address of some of the reference's prefixes and
/// the address after each: every lookup answers the reference's longest match.
fn check_lookups<A: Address>(fib: &Fib<A>, reference: &ReferenceLpm<A, NextHop>, rng: &mut Rng) {
    let entries = reference.entries();
    for _ in 0..2000 {
        let (addr, _) = random_prefix::<A>(rng);
        let wide = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        let raw = A::from_u128(wide >> (128 - u32::from(A::BITS)));
        for a in [addr, raw] {
            assert_eq!(fib.lookup(a), reference.lookup(a).map(|x| x.1), "{a:?}");
        }
    }
    for (a, len, _) in entries.iter().step_by(7) {
        let host = (u128::MAX >> (128 - u32::from(A::BITS))) >> len.min(&(A::BITS - 1));
        let host = if *len == A::BITS { 0 } else { host };
        let last = a.to_u128() | host;
        let next = A::from_u128(last.wrapping_add(1));
        for p in [*a, A::from_u128(last), next] {
            assert_eq!(fib.lookup(p), reference.lookup(p).map(|x| x.1), "{p:?}");
        }
    }
}

/// Random tables built in bulk, then changed one prefix at a time (announcements, new hops,
/// withdrawals that empty chunks and free their children), checked against the plain
/// longest-match reference: lookups after every 1000 changes, and the FIB's own list of its
/// prefixes at the end of each round.
fn random_tables_and_updates<A: Address>(seed: u64, arena: usize) {
    let mut rng = Rng(seed);
    for round in 0..2 {
        let mut fib = Fib::<A>::new(FibConfig::with_arena_bytes(arena).growing());
        let mut reference = ReferenceLpm::new();
        let initial: Vec<(A, u8, NextHop)> = (0..3000 + 2000 * round)
            .map(|_| {
                let (a, len) = random_prefix::<A>(&mut rng);
                (a, len, hop((rng.next() % 200) as u16))
            })
            .collect();
        fib.build(&initial).unwrap();
        for &(a, len, h) in &initial {
            reference.insert(a, len, h);
        }
        check_lookups(&fib, &reference, &mut rng);
        // Prefixes ever announced: withdrawals pick from them (some are gone already).
        let mut known: Vec<(A, u8)> = initial.iter().map(|&(a, len, _)| (a, len)).collect();
        for step in 0..4000 {
            if rng.next().is_multiple_of(2) {
                let (a, len) = known[(rng.next() % known.len() as u64) as usize];
                assert_eq!(fib.remove(a, len), Ok(reference.remove(a, len)));
            } else {
                let (a, len) = random_prefix::<A>(&mut rng);
                let h = hop((rng.next() % 200) as u16);
                assert_eq!(fib.insert(a, len, h), Ok(reference.insert(a, len, h)));
                known.push((a, len));
            }
            if step % 1000 == 999 {
                check_lookups(&fib, &reference, &mut rng);
            }
        }
        let mut got = fib.prefixes();
        got.sort_by_key(|x| (x.0, x.1));
        assert_eq!(got, reference.entries());
        assert_eq!(fib.len(), got.len());
    }
}

#[test]
fn ipv4_random_tables_with_updates_match_the_longest_match_reference() {
    random_tables_and_updates::<u32>(0x2545_f491_4f6c_dd1d, 1 << 22);
}

#[test]
fn ipv6_random_tables_with_updates_match_the_longest_match_reference() {
    random_tables_and_updates::<u128>(0x9e37_79b9_7f4a_7c15, 1 << 23);
}
