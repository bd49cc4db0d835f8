//! Bodies of the fuzz targets, as plain functions so `cargo test` runs them too (the
//! cargo-fuzz project in `fuzz/` only calls these): FIB update sequences against the
//! reference, and RIB change sequences against the RIB's own invariants.

use crate::addr::Address;
use crate::fib::{Fib, FibConfig, FibError, NextHop};
use crate::prefix::Prefix;
use crate::reference::ReferenceLpm;
use crate::rib::types::*;
use crate::rib::{Rib, RibConfig};
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::net::IpAddr;

/// Reads fuzzer bytes as a sequence of FIB updates over a crowded address space and checks
/// the FIB against [`ReferenceLpm`] after every step. Panics on any disagreement.
///
/// Each operation takes 6 bytes: `[op][a][b][c][len][hop]`. Operation bit 0 picks insert or
/// remove, bit 1 picks IPv4 or IPv6, bit 2 picks a small arena (so `TableFull` happens and must
/// leave the table unchanged). The address is built from a few top-level values so prefixes
/// nest and share chunks.
pub fn fib_update_sequence(data: &[u8]) {
    // Built on first use: most inputs touch one family only.
    let mut v4: Option<Pair<u32>> = None;
    let mut v6: Option<Pair<u128>> = None;
    for op in data.chunks_exact(6) {
        let insert = op[0] & 1 == 0;
        let small = op[0] & 4 != 0;
        let hop = NextHop::new(u16::from(op[5]) % 7)
            .unwrap_or(NextHop::new(0).unwrap_or_else(|| unreachable!()));
        if op[0] & 2 == 0 {
            let top = [0x0a00u32, 0x0a01, 0xc0a8, 0xffff][usize::from(op[1] >> 6)];
            let addr = (top << 16) | (u32::from(op[2]) << 8) | u32::from(op[3]);
            let len = op[4] % 33;
            let v4 = v4.get_or_insert_with(Pair::new);
            v4.apply(small, insert, addr.masked(len), len, hop);
            v4.check_around(addr, len);
        } else {
            let top = [0x2001u128, 0x2a00, 0xfe80, 0x0000][usize::from(op[1] >> 6)];
            let addr = (top << 112)
                | (u128::from(op[2]) << 104)
                | (u128::from(op[3]) << 96)
                | (u128::from(op[1] & 0x3f) << 40);
            let len = op[4] % 129;
            let v6 = v6.get_or_insert_with(Pair::new);
            v6.apply(small, insert, addr.masked(len), len, hop);
            v6.check_around(addr, len);
        }
    }
    v4.iter().for_each(Pair::check_all);
    v6.iter().for_each(Pair::check_all);
}

struct Pair<A: Address> {
    big: Fib<A>,
    small: Fib<A>,
    big_ref: ReferenceLpm<A, NextHop>,
    small_ref: ReferenceLpm<A, NextHop>,
}

impl<A: Address> Pair<A> {
    fn new() -> Self {
        Pair {
            big: Fib::new(FibConfig::with_arena_bytes(1 << 18)),
            small: Fib::new(FibConfig::with_arena_bytes(600)),
            big_ref: ReferenceLpm::new(),
            small_ref: ReferenceLpm::new(),
        }
    }

    fn apply(&mut self, small: bool, insert: bool, addr: A, len: u8, hop: NextHop) {
        let (fib, reference) = if small {
            (&mut self.small, &mut self.small_ref)
        } else {
            (&mut self.big, &mut self.big_ref)
        };
        let result = if insert {
            fib.insert(addr, len, hop)
        } else {
            fib.remove(addr, len)
        };
        match result {
            Ok(old) => {
                let expect = if insert {
                    reference.insert(addr, len, hop)
                } else {
                    reference.remove(addr, len)
                };
                assert_eq!(old, expect, "previous hop of {addr:?}/{len}");
            }
            Err(FibError::TableFull) => assert!(small, "the large arena must not fill up"),
            Err(e) => panic!("{e:?} for {addr:?}/{len}"),
        }
        assert_eq!(fib.len(), reference.len());
    }

    fn check_around(&self, addr: A, len: u8) {
        let lo = addr.masked(len).to_u128();
        let host = if len >= A::BITS {
            0
        } else {
            (u128::MAX >> (128 - u32::from(A::BITS))) >> len
        };
        for probe in [
            lo,
            lo | host,
            lo.wrapping_sub(1),
            (lo | host).wrapping_add(1),
            lo | (host >> 1),
        ] {
            let a = A::from_u128(probe);
            assert_eq!(
                self.big.lookup(a),
                self.big_ref.lookup(a).map(|x| x.1),
                "lookup {a:?}"
            );
            assert_eq!(
                self.small.lookup(a),
                self.small_ref.lookup(a).map(|x| x.1),
                "lookup {a:?} (small)"
            );
        }
    }

    fn check_all(&self) {
        for (fib, reference) in [(&self.big, &self.big_ref), (&self.small, &self.small_ref)] {
            let mut got = fib.prefixes();
            got.sort_by_key(|x| (x.0, x.1));
            assert_eq!(got, reference.entries());
            for (a, len, _) in reference.entries() {
                self.check_around(a, len);
            }
        }
    }
}

/// Reads fuzzer bytes as a sequence of RIB changes (interfaces up/down, addresses, static routes
/// with address, interface and recursive gateways, scopes, distances, types, tables, rules) and
/// checks after every step that the RIB holds together. Panics on any violation:
/// - every table's FIB holds exactly the destinations of its active, non-link-local routes;
/// - an active route is enabled, and a unicast one has a reachable gateway;
/// - every destination has at most one active route unless they are all unicast (ECMP);
/// - the decision for probe packets follows the longest active route of `main` (without
///   rules): its type's decision, or one of its immediate next hops.
///
/// Each operation takes 4 bytes `[op][a][b][c]`.
pub fn rib_change_sequence(data: &[u8]) {
    let mut rib = Rib::new(RibConfig {
        fib_v4: FibConfig::with_arena_bytes(1 << 14),
        fib_v6: FibConfig::with_arena_bytes(1 << 14),
        ..RibConfig::default()
    });
    let mut routes: Vec<RouteId> = Vec::new();
    let mut addresses: Vec<AddressId> = Vec::new();
    let mut tables = alloc::vec![TableId::MAIN];
    let v4 = |x: u8, y: u8| IpAddr::from([10, x % 4, y % 8, y]);
    let v6 = |x: u8, y: u8| {
        IpAddr::from([
            0x2001,
            0xdb8,
            u16::from(x % 4),
            u16::from(y % 8),
            0,
            0,
            0,
            u16::from(y),
        ])
    };
    for op in data.chunks_exact(4) {
        let (a, b, c) = (op[1], op[2], op[3]);
        let ifid = IfId(u16::from(a % 3));
        let addr = if c & 1 == 0 { v4(a, b) } else { v6(a, b) };
        // Results are ignored: refusals (a full FIB, a bad reference) are part of the game.
        match op[0] % 10 {
            0 => {
                let state = InterfaceState {
                    running: b & 1 == 0,
                    point_to_point: b & 2 != 0,
                };
                let _ = rib.set_interface(ifid, state);
            }
            1 => {
                if let Ok(id) = rib.add_address(AddressSpec::new(
                    addr,
                    if c & 1 == 0 { 16 + c % 17 } else { 48 + c % 81 },
                    ifid,
                )) {
                    addresses.push(id);
                }
            }
            2 if !addresses.is_empty() => {
                let _ = rib.remove_address(addresses.remove(usize::from(b) % addresses.len()));
            }
            3..=5 => {
                let len = if c & 1 == 0 { c % 33 } else { c % 129 };
                let Ok(dst) = Prefix::new(addr, len) else {
                    continue;
                };
                let mut spec = RouteSpec::new(dst);
                spec.distance = b % 4;
                spec.scope = [10, 20, 30, 40][usize::from(b >> 2) % 4];
                spec.target_scope = [10, 20, 30, 40][usize::from(b >> 4) % 4];
                spec.table = tables[usize::from(a) % tables.len()];
                spec.disabled = b >> 6 == 3;
                let gw = if c & 1 == 0 { v4(b, a) } else { v6(b, a) };
                match op[0] % 10 {
                    3 => spec.gateways.push(Gateway::Address(gw)),
                    4 if c & 2 == 0 => spec.gateways.push(Gateway::Interface(ifid)),
                    4 => spec
                        .gateways
                        .extend([Gateway::Address(gw), Gateway::AddressOnInterface(gw, ifid)]),
                    _ => {
                        spec.route_type = [
                            RouteType::Blackhole,
                            RouteType::Unreachable,
                            RouteType::Prohibit,
                        ][usize::from(b) % 3]
                    }
                }
                if let Ok(id) = rib.add_route(spec) {
                    routes.push(id);
                }
            }
            6 if !routes.is_empty() => {
                let _ = rib.remove_route(routes.remove(usize::from(b) % routes.len()));
            }
            7 if !routes.is_empty() => {
                let id = routes[usize::from(b) % routes.len()];
                if let Some(mut spec) = rib.route_spec(id).cloned() {
                    spec.target_scope = [10, 20, 30, 40][usize::from(c) % 4];
                    spec.distance = a % 4;
                    let _ = rib.set_route(id, spec);
                }
            }
            8 if !routes.is_empty() => {
                let _ = rib.set_route_disabled(routes[usize::from(b) % routes.len()], c & 1 == 0);
            }
            9 => {
                if let Ok(t) = rib.add_table(if b & 1 == 0 { "red" } else { "blue" }, true) {
                    tables.push(t);
                }
            }
            _ => {}
        }
        check_rib(&rib, &[v4(a, b), v4(b, c), v6(a, b), v6(c, a)]);
    }
}

fn check_rib(rib: &Rib, probes: &[IpAddr]) {
    let views: Vec<_> = rib.routes().collect();
    let mut active: BTreeSet<(TableId, Prefix)> = BTreeSet::new();
    for v in &views {
        let f = v.flags();
        if !f.active {
            continue;
        }
        assert!(!f.disabled, "active and disabled: {:?}", v.spec());
        if v.spec().route_type == RouteType::Unicast {
            assert!(
                !v.immediate_gw().is_empty(),
                "active without a reachable gateway: {:?}",
                v.spec()
            );
        }
        let same: Vec<_> = views
            .iter()
            .filter(|w| {
                w.flags().active
                    && w.spec().table == v.spec().table
                    && w.spec().dst == v.spec().dst
                    && w.dst_interface() == v.dst_interface()
            })
            .collect();
        assert!(
            same.len() == 1
                || same
                    .iter()
                    .all(|w| w.spec().route_type == RouteType::Unicast),
            "mixed active group at {}",
            v.spec().dst
        );
        if v.dst_interface().is_none() && !v.spec().dst.is_link_local() {
            active.insert((v.spec().table, v.spec().dst));
        }
    }
    // The FIBs hold every active destination, and nothing else (same count).
    for (t, p) in &active {
        assert!(
            rib.fib_holds(*t, p),
            "{p} is active in table {t:?} but not in its FIB"
        );
    }
    for t in rib.tables().filter(|t| t.fib).map(|t| t.id) {
        assert_eq!(
            rib.fib_len(t),
            active.iter().filter(|(at, _)| *at == t).count(),
            "extra prefixes in table {t:?}'s FIB"
        );
    }
    for &dst in probes {
        let best = views
            .iter()
            .filter(|v| {
                v.flags().active
                    && v.spec().table == TableId::MAIN
                    && v.dst_interface().is_none()
                    && v.spec().dst.contains(dst)
            })
            .map(|v| v.spec().dst.len())
            .max();
        let d = rib.decide(&Packet {
            src: dst,
            dst,
            in_interface: None,
            routing_mark: None,
        });
        if rib.is_local(dst) {
            assert_eq!(d, Decision::Local);
            continue;
        }
        let Some(len) = best else {
            assert_eq!(d, Decision::NetworkUnreachable, "{dst}");
            continue;
        };
        let group: Vec<_> = views
            .iter()
            .filter(|v| {
                v.flags().active
                    && v.spec().table == TableId::MAIN
                    && v.dst_interface().is_none()
                    && v.spec().dst.contains(dst)
                    && v.spec().dst.len() == len
            })
            .collect();
        let ok = group.iter().any(|v| match v.spec().route_type {
            RouteType::Blackhole => d == Decision::Discard,
            RouteType::Unreachable => d == Decision::HostUnreachable,
            RouteType::Prohibit => d == Decision::Prohibited,
            RouteType::Unicast => v.immediate_gw().iter().any(|h| match (h.address, d) {
                (
                    Some(a),
                    Decision::Forward {
                        next_hop,
                        interface,
                    },
                ) => a == next_hop && interface == h.interface,
                (
                    None,
                    Decision::Forward {
                        next_hop,
                        interface,
                    },
                ) => next_hop == dst && interface == h.interface,
                (None, Decision::PointToPoint { interface }) => interface == h.interface,
                _ => false,
            }),
        });
        assert!(
            ok,
            "{dst}: {d:?} does not follow the active route(s) {:?}",
            group.iter().map(|v| v.spec()).collect::<Vec<_>>()
        );
    }
}
