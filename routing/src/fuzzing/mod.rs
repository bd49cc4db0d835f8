//! Bodies of the fuzz targets, as plain functions so `cargo test` runs them too (the
//! cargo-fuzz project in `fuzz/` only calls these): FIB update sequences against the
//! reference, RIB change sequences against the RIB's own invariants, and (with the
//! `reference` feature, or in tests) RIB change sequences against the full-recomputation RIB
//! (`oracle`).

#[cfg(any(test, feature = "reference"))]
mod ops;
#[cfg(any(test, feature = "reference"))]
mod oracle;
#[cfg(any(test, feature = "reference"))]
pub use oracle::rib_oracle_sequence;

use crate::addr::Address;
use crate::fib::{Fib, FibConfig, FibError, NextHop};
use crate::prefix::Prefix;
use crate::reference::ReferenceLpm;
use crate::rib::types::*;
use crate::rib::{Rib, RibConfig, RouteFlags, RouteView};
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
/// - every table's FIB holds exactly the destinations of its active, non-link-local routes
///   (and withdrawals a full FIB refused, which wait);
/// - an active route is enabled, and a unicast one has a reachable gateway;
/// - every destination has at most one active route unless they are all unicast (ECMP);
/// - the decision for probe packets follows the longest active route of `main` (without
///   rules): its type's decision, or one of its immediate next hops;
/// - a twin RIB without FIBs (`RibConfig::fibs` false) given the same changes answers the same
///   and shows the same routes with the same states, but for the routes waiting for room in
///   the small FIBs, which the twin shows active.
///
/// Each operation takes 4 bytes `[op][a][b][c]`.
pub fn rib_change_sequence(data: &[u8]) {
    // FIBs this small fill up (in about one step in ten of the generated inputs), so routes
    // wait for room, are installed when room appears, and are compared with the twin's.
    let limits = RibConfig {
        fib_v4: FibConfig::with_arena_bytes(400),
        fib_v6: FibConfig::with_arena_bytes(400),
        ..RibConfig::default()
    };
    let mut rib = Rib::new(limits);
    let mut twin = Rib::new(RibConfig {
        fibs: false,
        ..limits
    });
    let mut ids = Ids {
        routes: Vec::new(),
        addresses: Vec::new(),
        tables: alloc::vec![TableId::MAIN],
    };
    for op in data.chunks_exact(4) {
        let Some(change) = Change::read(op, &ids) else {
            continue;
        };
        // Results are compared, not required: refusals (a bad reference, a limit) are part
        // of the game. A full FIB refuses nothing: the twin without FIBs answers the same.
        let result = change.apply(&mut rib, &ids);
        assert_eq!(change.apply(&mut twin, &ids), result, "{change:?}");
        ids.record(&change, result);
        let (a, b, c) = (op[1], op[2], op[3]);
        let probes = [v4(a, b), v4(b, c), v6(a, b), v6(c, a)];
        check_rib(&rib, &probes);
        check_rib(&twin, &probes);
        check_same_routes(&rib, &twin);
    }
}

fn v4(x: u8, y: u8) -> IpAddr {
    IpAddr::from([10, x % 4, y % 8, y])
}

fn v6(x: u8, y: u8) -> IpAddr {
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
}

/// What the fuzz sequence has created so far.
struct Ids {
    routes: Vec<RouteId>,
    addresses: Vec<AddressId>,
    tables: Vec<TableId>,
}

/// One change of [`rib_change_sequence`], decoded once and applied to both RIBs.
#[derive(Debug)]
enum Change {
    Interface(IfId, InterfaceState),
    AddAddress(AddressSpec),
    /// Index into `Ids::addresses`.
    RemoveAddress(usize),
    AddRoute(RouteSpec),
    /// Index into `Ids::routes`.
    RemoveRoute(usize),
    /// A route's new target-scope and distance.
    EditRoute(RouteId, u8, u8),
    DisableRoute(RouteId, bool),
    AddTable(&'static str),
}

/// What a change created.
#[derive(Debug, PartialEq, Eq)]
enum Created {
    Nothing,
    Address(AddressId),
    Route(RouteId),
    Table(TableId),
}

impl Change {
    fn read(op: &[u8], ids: &Ids) -> Option<Change> {
        let (a, b, c) = (op[1], op[2], op[3]);
        let ifid = IfId(u16::from(a % 3));
        let addr = if c & 1 == 0 { v4(a, b) } else { v6(a, b) };
        let pick = |n: usize| usize::from(b) % n;
        Some(match op[0] % 10 {
            0 => Change::Interface(
                ifid,
                InterfaceState {
                    running: b & 1 == 0,
                    point_to_point: b & 2 != 0,
                },
            ),
            1 => Change::AddAddress(AddressSpec::new(
                addr,
                if c & 1 == 0 { 16 + c % 17 } else { 48 + c % 81 },
                ifid,
            )),
            2 if !ids.addresses.is_empty() => Change::RemoveAddress(pick(ids.addresses.len())),
            3..=5 => {
                let len = if c & 1 == 0 { c % 33 } else { c % 129 };
                let dst = Prefix::new(addr, len).ok()?;
                let mut spec = RouteSpec::new(dst);
                spec.distance = b % 4;
                spec.scope = [10, 20, 30, 40][usize::from(b >> 2) % 4];
                spec.target_scope = [10, 20, 30, 40][usize::from(b >> 4) % 4];
                spec.table = ids.tables[usize::from(a) % ids.tables.len()];
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
                Change::AddRoute(spec)
            }
            6 if !ids.routes.is_empty() => Change::RemoveRoute(pick(ids.routes.len())),
            7 if !ids.routes.is_empty() => Change::EditRoute(
                ids.routes[pick(ids.routes.len())],
                [10, 20, 30, 40][usize::from(c) % 4],
                a % 4,
            ),
            8 if !ids.routes.is_empty() => {
                Change::DisableRoute(ids.routes[pick(ids.routes.len())], c & 1 == 0)
            }
            9 => Change::AddTable(if b & 1 == 0 { "red" } else { "blue" }),
            _ => return None,
        })
    }

    fn apply(&self, rib: &mut Rib, ids: &Ids) -> Result<Created, RibError> {
        match self {
            Change::Interface(id, state) => {
                rib.set_interface(*id, *state).map(|()| Created::Nothing)
            }
            Change::AddAddress(spec) => rib.add_address(spec.clone()).map(Created::Address),
            Change::RemoveAddress(i) => rib
                .remove_address(ids.addresses[*i])
                .map(|()| Created::Nothing),
            Change::AddRoute(spec) => rib.add_route(spec.clone()).map(Created::Route),
            Change::RemoveRoute(i) => rib.remove_route(ids.routes[*i]).map(|()| Created::Nothing),
            Change::EditRoute(id, target_scope, distance) => {
                let mut spec = rib.route_spec(*id).cloned().ok_or(RibError::NoSuchRoute)?;
                spec.target_scope = *target_scope;
                spec.distance = *distance;
                rib.set_route(*id, spec).map(|()| Created::Nothing)
            }
            Change::DisableRoute(id, disabled) => rib
                .set_route_disabled(*id, *disabled)
                .map(|()| Created::Nothing),
            Change::AddTable(name) => rib.add_table(name, true).map(Created::Table),
        }
    }
}

impl Ids {
    fn record(&mut self, change: &Change, result: Result<Created, RibError>) {
        match (change, result) {
            (Change::RemoveAddress(i), _) => {
                self.addresses.remove(*i);
            }
            (Change::RemoveRoute(i), _) => {
                self.routes.remove(*i);
            }
            (_, Ok(Created::Address(id))) => self.addresses.push(id),
            (_, Ok(Created::Route(id))) => self.routes.push(id),
            (_, Ok(Created::Table(id))) => self.tables.push(id),
            _ => {}
        }
    }
}

/// Both RIBs show the same routes, in the same order, with the same states.
fn check_same_routes(a: &Rib, b: &Rib) {
    let mut theirs = b.routes();
    for x in a.routes() {
        let y = theirs.next().expect("the twin has fewer routes");
        assert_eq!(x.id(), y.id());
        assert_eq!(x.spec(), y.spec());
        // A route waiting for room in a full FIB is selected all the same: the twin, which
        // has no FIB, shows it active.
        assert!(!y.waits_for_fib());
        assert_eq!(as_selected(&x, &y), y.flags(), "{:?}", x.spec());
        assert_eq!(x.contribution(), y.contribution(), "{:?}", x.spec());
        assert_eq!(x.gateway_states(), y.gateway_states(), "{:?}", x.spec());
        assert_eq!(x.immediate_gw(), y.immediate_gw(), "{:?}", x.spec());
    }
    assert!(theirs.next().is_none(), "the twin has more routes");
    // Waiting destinations hold no next hop.
    if a.routes().all(|v| !v.waits_for_fib()) {
        assert_eq!(a.next_hop_count(), b.next_hop_count());
    }
}

/// A route's flags as they would be if its FIB had room: a waiting route shown active, with
/// the twin's ECMP flag (the selection's, which a waiting route does not show).
fn as_selected(v: &RouteView<'_>, twin: &RouteView<'_>) -> RouteFlags {
    let mut flags = v.flags();
    if v.waits_for_fib() {
        assert!(flags.inactive && !flags.active, "{:?}", v.spec());
        assert!(v.selected());
        flags.active = true;
        flags.inactive = false;
        flags.ecmp = twin.flags().ecmp;
    }
    flags
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
    // ... apart from withdrawals a full FIB refused (they wait).
    for t in rib.tables().filter(|t| t.fib).map(|t| t.id) {
        assert_eq!(
            rib.fib_len(t),
            active.iter().filter(|(at, _)| *at == t).count() + rib.stale_count(t),
            "extra prefixes in table {t:?}'s FIB"
        );
    }
    // Decisions follow the longest active route (unless a refused withdrawal left an entry).
    let probes = if rib.stale_count(TableId::MAIN) == 0 {
        probes
    } else {
        &[]
    };
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
