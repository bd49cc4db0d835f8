//! A full FIB: routes that do not fit stay in the RIB, selected but not installed, shown
//! inactive and ignored by `decide`, and are installed in prefix order when room appears.

use super::*;
use crate::fib::FibConfig;
use crate::prefix::Prefix;
use alloc::vec::Vec;

const ETHER1: IfId = IfId(1);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn to(dst: IpAddr) -> Packet {
    Packet {
        src: ip("192.168.1.50"),
        dst,
        in_interface: None,
        routing_mark: None,
    }
}

/// A RIB whose IPv4 and IPv6 FIBs have `arena` bytes, with 10.0.0.1/24 and 2001:db8::1/64 on
/// ether1 and a covering 10.0.0.0/8 through 10.0.0.8.
fn small_rib(arena: usize) -> Rib {
    let mut rib = Rib::new(RibConfig {
        fib_v4: FibConfig::with_arena_bytes(arena),
        fib_v6: FibConfig::with_arena_bytes(arena),
        ..RibConfig::default()
    });
    rib.set_interface(
        ETHER1,
        InterfaceState {
            running: true,
            point_to_point: false,
        },
    )
    .unwrap();
    rib.add_address(AddressSpec::new(ip("10.0.0.1"), 24, ETHER1))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("2001:db8::1"), 64, ETHER1))
        .unwrap();
    let cover = "10.0.0.0/8".parse().unwrap();
    rib.add_route(RouteSpec::new(cover).via(Gateway::Address(ip("10.0.0.8"))))
        .unwrap();
    rib
}

/// Scattered /24s (each under its own /16, so each needs a chunk of its own).
fn scattered(i: u32) -> Prefix {
    Prefix::new(
        IpAddr::from([10, (i + 1) as u8, (i * 7 % 256) as u8, 0]),
        24,
    )
    .unwrap()
}

fn add_scattered(rib: &mut Rib, n: u32) -> Vec<(RouteId, Prefix)> {
    (0..n)
        .map(|i| {
            let dst = scattered(i);
            let id = rib
                .add_route(RouteSpec::new(dst).via(Gateway::Address(ip("10.0.0.9"))))
                .expect("a full FIB refuses no route");
            (id, dst)
        })
        .collect()
}

fn waiting(rib: &Rib) -> Vec<Prefix> {
    rib.routes()
        .filter(|v| v.waits_for_fib())
        .map(|v| v.spec().dst)
        .collect()
}

#[test]
fn routes_that_do_not_fit_the_fib_wait_inactive_and_decide_ignores_them() {
    let mut rib = small_rib(512);
    let routes = add_scattered(&mut rib, 100);
    let waits = waiting(&rib);
    assert!(
        !waits.is_empty(),
        "a 512-byte arena holds fewer than 100 chunks"
    );
    assert!(waits.len() < routes.len(), "some fit");
    for &(id, dst) in &routes {
        let v = rib.route(id).unwrap();
        let f = v.flags();
        let d = rib.decide(&to(dst.addr()));
        if waits.contains(&dst) {
            assert!(!f.active && f.inactive && !f.unreachable, "{dst}: {f:?}");
            assert!(v.selected());
            assert_eq!(v.contribution(), Some(Contribution::Active));
            assert_eq!(v.flags().ip_route_flags().as_str(), " IS ");
            assert!(!rib.fib_holds(TableId::MAIN, &dst));
            // The covering route answers: the waiting one is not in the FIB.
            assert_eq!(
                d,
                Decision::Forward {
                    next_hop: ip("10.0.0.8"),
                    interface: ETHER1
                },
                "{dst}"
            );
        } else {
            assert!(f.active && !f.inactive, "{dst}: {f:?}");
            assert!(rib.fib_holds(TableId::MAIN, &dst));
            assert_eq!(
                d,
                Decision::Forward {
                    next_hop: ip("10.0.0.9"),
                    interface: ETHER1
                },
                "{dst}"
            );
        }
    }
    // The FIB holds exactly the active destinations.
    let active = rib.routes().filter(|v| v.flags().active).count();
    assert_eq!(rib.fib_len(TableId::MAIN), active);
    assert_eq!(rib.waiting_count(TableId::MAIN), waits.len());
    rib.check_consistency();
}

#[test]
fn removing_a_route_installs_the_waiting_ones_in_prefix_order() {
    let mut rib = small_rib(512);
    let routes = add_scattered(&mut rib, 100);
    let before = waiting(&rib);
    let mut sorted = before.clone();
    sorted.sort();
    assert_eq!(
        before, sorted,
        "routes() lists destinations in prefix order"
    );
    let (removed, _) = *routes
        .iter()
        .find(|(id, _)| rib.route(*id).unwrap().flags().active && *id != routes[0].0)
        .unwrap();
    rib.remove_route(removed).unwrap();
    let after = waiting(&rib);
    assert!(after.len() < before.len(), "the freed room is used");
    // The first in prefix order went in, and the rest still wait.
    assert_eq!(after[..], before[before.len() - after.len()..]);
    for dst in &before[..before.len() - after.len()] {
        assert!(rib.fib_holds(TableId::MAIN, dst), "{dst}");
        assert_eq!(
            rib.decide(&to(dst.addr())),
            Decision::Forward {
                next_hop: ip("10.0.0.9"),
                interface: ETHER1
            }
        );
    }
    rib.check_consistency();
    // Removing every installed route installs every waiting one that fits.
    for &(id, _) in &routes {
        if rib.route(id).is_some_and(|v| v.flags().active) {
            rib.remove_route(id).unwrap();
        }
    }
    assert!(waiting(&rib).len() < after.len());
    let active = rib.routes().filter(|v| v.flags().active).count();
    assert_eq!(rib.fib_len(TableId::MAIN), active);
    rib.check_consistency();
}

#[test]
fn a_waiting_route_removed_or_disabled_leaves_the_fib_alone() {
    let mut rib = small_rib(512);
    let routes = add_scattered(&mut rib, 100);
    let fib_len = rib.fib_len(TableId::MAIN);
    let waits: Vec<RouteId> = routes
        .iter()
        .filter(|(id, _)| rib.route(*id).unwrap().waits_for_fib())
        .map(|(id, _)| *id)
        .collect();
    rib.set_route_disabled(waits[0], true).unwrap();
    let v = rib.route(waits[0]).unwrap();
    assert!(v.flags().disabled && !v.flags().inactive && !v.waits_for_fib());
    rib.remove_route(waits[1]).unwrap();
    assert_eq!(rib.fib_len(TableId::MAIN), fib_len);
    assert_eq!(waiting(&rib).len(), waits.len() - 2);
    rib.check_consistency();
}

#[test]
fn a_batch_that_overfills_the_fib_commits_with_routes_waiting() {
    let mut rib = small_rib(512);
    let n = rib
        .batch(|rib| {
            for i in 0..100 {
                rib.add_route(RouteSpec::new(scattered(i)).via(Gateway::Address(ip("10.0.0.9"))))?;
            }
            Ok(100)
        })
        .unwrap();
    assert_eq!(
        rib.routes()
            .filter(|v| v.origin() == Origin::Static)
            .count(),
        n + 1
    );
    let waits = waiting(&rib);
    assert!(!waits.is_empty());
    // The same prefixes wait as when added one by one (prefix order both times).
    let mut single = small_rib(512);
    add_scattered(&mut single, 100);
    assert_eq!(waiting(&single), waits);
    rib.check_consistency();
}

#[test]
fn ipv6_routes_wait_for_room_too() {
    let mut rib = small_rib(512);
    let ids: Vec<RouteId> = (0..60u16)
        .map(|i| {
            let dst = Prefix::new(IpAddr::from([0x2400 + i, 0xdb8, 1, 0, 0, 0, 0, 0]), 48).unwrap();
            rib.add_route(RouteSpec::new(dst).via(Gateway::Address(ip("2001:db8::9"))))
                .unwrap()
        })
        .collect();
    let waits = waiting(&rib);
    assert!(!waits.is_empty());
    let probe = waits[0].addr();
    assert_eq!(rib.decide(&to(probe)), Decision::NetworkUnreachable);
    let installed = ids
        .iter()
        .find(|id| rib.route(**id).unwrap().flags().active)
        .unwrap();
    rib.remove_route(*installed).unwrap();
    assert!(!waiting(&rib).contains(&waits[0]));
    assert_eq!(
        rib.decide(&to(probe)),
        Decision::Forward {
            next_hop: ip("2001:db8::9"),
            interface: ETHER1
        }
    );
    rib.check_consistency();
}
