//! The seed's examples as tests, then the RIB against a reference on random configurations.

use super::*;
use crate::prefix::{Afi, Prefix};
use alloc::string::ToString;
use alloc::vec;
use core::net::IpAddr;

const ETHER1: IfId = IfId(1);
const ETHER2: IfId = IfId(2);
const ETHER3: IfId = IfId(3);
const PPP: IfId = IfId(9);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn up() -> InterfaceState {
    InterfaceState {
        running: true,
        point_to_point: false,
    }
}

fn to(dst: &str) -> Packet {
    Packet {
        src: ip(if dst.contains(':') {
            "2001:db8::99"
        } else {
            "192.168.1.50"
        }),
        dst: ip(dst),
        in_interface: None,
        routing_mark: None,
    }
}

fn fwd(next_hop: &str, interface: IfId) -> Decision {
    Decision::Forward {
        next_hop: ip(next_hop),
        interface,
    }
}

/// Router1 of the seed: three connected networks.
fn router1() -> Rib {
    let mut rib = Rib::new(RibConfig::default());
    for i in [ETHER1, ETHER2, ETHER3] {
        rib.set_interface(i, up()).unwrap();
    }
    rib.add_address(AddressSpec::new(ip("10.1.1.2"), 24, ETHER1))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("172.16.1.1"), 30, ETHER2))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("192.168.1.1"), 24, ETHER3))
        .unwrap();
    rib
}

fn by_comment<'a>(rib: &'a Rib, c: &str) -> RouteView<'a> {
    rib.routes()
        .find(|r| r.spec().comment.as_deref() == Some(c))
        .unwrap()
}

fn comment(mut spec: RouteSpec, c: &str) -> RouteSpec {
    spec.comment = Some(c.to_string());
    spec
}

#[test]
fn connected_networks_only_then_a_static_route() {
    let mut rib = router1();
    let rows: Vec<(String, String)> = rib
        .routes()
        .map(|r| {
            (
                r.flags().ip_route_flags().to_string(),
                r.spec().dst.to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("DAC ".to_string(), "10.1.1.0/24".to_string()),
            ("DAC ".to_string(), "172.16.1.0/30".to_string()),
            ("DAC ".to_string(), "192.168.1.0/24".to_string())
        ]
    );
    // LAN2 is unknown: the packet is dropped.
    assert_eq!(rib.decide(&to("192.168.2.7")), Decision::NetworkUnreachable);
    let r = rib
        .add_route(RouteSpec::new(net("192.168.2.0/24")).via(Gateway::Address(ip("172.16.1.2"))))
        .unwrap();
    let v = rib.route(r).unwrap();
    assert_eq!(v.flags().ip_route_flags().as_str(), " AS ");
    assert_eq!(v.contribution(), Some(Contribution::Active));
    assert_eq!(
        v.immediate_gw(),
        &[Hop {
            address: Some(ip("172.16.1.2")),
            interface: ETHER2
        }]
    );
    assert_eq!(rib.decide(&to("192.168.2.7")), fwd("172.16.1.2", ETHER2));
    // A connected destination goes straight to the host; our own address is local.
    assert_eq!(rib.decide(&to("10.1.1.77")), fwd("10.1.1.77", ETHER1));
    assert_eq!(rib.decide(&to("10.1.1.2")), Decision::Local);
}

#[test]
fn default_route_catches_everything_else() {
    let mut rib = router1();
    assert_eq!(rib.decide(&to("8.8.8.8")), Decision::NetworkUnreachable);
    // `/ip route add gateway=10.1.1.1` (dst left blank = 0.0.0.0/0).
    rib.add_route(
        RouteSpec::new(Prefix::default_route(Afi::Ipv4)).via(Gateway::Address(ip("10.1.1.1"))),
    )
    .unwrap();
    assert_eq!(rib.decide(&to("8.8.8.8")), fwd("10.1.1.1", ETHER1));
    assert_eq!(rib.decide(&to("172.16.1.2")), fwd("172.16.1.2", ETHER2));
}

#[test]
fn equal_routes_are_grouped_as_ecmp_and_used_round_robin() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.set_interface(ETHER2, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.155.125.2"), 24, ETHER1))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("172.16.1.1"), 30, ETHER2))
        .unwrap();
    let a = rib
        .add_route(RouteSpec::new(net("192.168.2.0/24")).via(Gateway::Address(ip("10.155.125.1"))))
        .unwrap();
    let b = rib
        .add_route(RouteSpec::new(net("192.168.2.0/24")).via(Gateway::Address(ip("172.16.1.2"))))
        .unwrap();
    for id in [a, b] {
        assert_eq!(
            rib.route(id).unwrap().flags().ip_route_flags().as_str(),
            " AS+"
        );
    }
    let picks: Vec<Decision> = (0..4).map(|_| rib.decide(&to("192.168.2.9"))).collect();
    let x = fwd("10.155.125.1", ETHER1);
    let y = fwd("172.16.1.2", ETHER2);
    assert!(
        picks == vec![x, y, x, y] || picks == vec![y, x, y, x],
        "{picks:?}"
    );
    // A worse distance takes the route out of the group; it stays listed as best candidate.
    let mut spec = rib.route_spec(b).unwrap().clone();
    spec.distance = 5;
    rib.set_route(b, spec).unwrap();
    assert_eq!(
        rib.route(a).unwrap().flags().ip_route_flags().as_str(),
        " AS "
    );
    assert_eq!(
        rib.route(b).unwrap().flags().ip_route_flags().as_str(),
        "  S "
    );
    assert_eq!(
        rib.route(b).unwrap().contribution(),
        Some(Contribution::BestCandidate)
    );
    assert!((0..4).all(|_| rib.decide(&to("192.168.2.9")) == x));
}

#[test]
fn one_route_with_two_gateways_alternates_and_per_flow_hash_sticks() {
    for mode in [EcmpMode::RoundRobin, EcmpMode::PerFlowHash] {
        let mut rib = Rib::new(RibConfig {
            ecmp: mode,
            ..RibConfig::default()
        });
        rib.set_interface(ETHER1, up()).unwrap();
        rib.add_address(AddressSpec::new(ip("10.0.0.1"), 24, ETHER1))
            .unwrap();
        let spec = RouteSpec::new(Prefix::default_route(Afi::Ipv4))
            .via(Gateway::Address(ip("10.0.0.2")))
            .via(Gateway::Address(ip("10.0.0.3")));
        rib.add_route(spec).unwrap();
        let picks: Vec<Decision> = (0..6).map(|_| rib.decide(&to("9.9.9.9"))).collect();
        let distinct = picks.iter().filter(|d| **d == picks[0]).count();
        match mode {
            EcmpMode::RoundRobin => assert_eq!(distinct, 3, "{picks:?}"),
            EcmpMode::PerFlowHash => assert_eq!(distinct, 6, "{picks:?}"),
        }
    }
}

/// `decide_ecmp` picks by the caller's choice whatever the RIB's mode: a flow hash selects
/// hash modulo the number of next hops (equal hashes, equal hops), round robin alternates.
#[test]
fn decide_ecmp_follows_the_callers_choice() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.0.0.1"), 24, ETHER1))
        .unwrap();
    let spec = RouteSpec::new(Prefix::default_route(Afi::Ipv4))
        .via(Gateway::Address(ip("10.0.0.2")))
        .via(Gateway::Address(ip("10.0.0.3")));
    rib.add_route(spec).unwrap();
    let p = to("9.9.9.9");
    let by_hash = |h| rib.decide_ecmp(&p, EcmpChoice::Flow(h));
    assert_eq!(by_hash(0), by_hash(2));
    assert_eq!(by_hash(1), by_hash(7));
    assert_ne!(by_hash(0), by_hash(1));
    let rr: Vec<Decision> = (0..4)
        .map(|_| rib.decide_ecmp(&p, EcmpChoice::RoundRobin))
        .collect();
    assert_ne!(rr[0], rr[1]);
    assert_eq!(rr[0], rr[2]);
    // Not an ECMP route: every choice gives the one hop.
    let local = to("10.0.0.9");
    assert_eq!(
        rib.decide_ecmp(&local, EcmpChoice::Flow(5)),
        rib.decide_ecmp(&local, EcmpChoice::RoundRobin)
    );
}

/// The seed's v6-versus-v7 example: gateway state is per (address, target-scope), so changing
/// A's target-scope cannot make B inactive.
#[test]
fn scope_and_target_scope_abc_example() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("192.168.99.2"), 24, ETHER1))
        .unwrap();
    let mut a = comment(
        RouteSpec::new(net("10.0.1.0/24")).via(Gateway::Address(ip("10.0.0.1"))),
        "A",
    );
    a.scope = 50;
    a.target_scope = 30;
    let mut b = comment(
        RouteSpec::new(net("10.0.2.0/24")).via(Gateway::Address(ip("10.0.0.1"))),
        "B",
    );
    b.scope = 30;
    b.target_scope = 20;
    let mut c = comment(
        RouteSpec::new(net("10.0.0.0/24")).via(Gateway::Address(ip("192.168.99.1"))),
        "C",
    );
    c.scope = 20;
    let a = rib.add_route(a).unwrap();
    let b = rib.add_route(b).unwrap();
    rib.add_route(c).unwrap();
    let hop = Hop {
        address: Some(ip("192.168.99.1")),
        interface: ETHER1,
    };
    // 10.0.0.1 resolves recursively through C (scope 20) for both.
    for name in ["A", "B", "C"] {
        let v = by_comment(&rib, name);
        assert!(v.flags().active, "{name}");
        assert_eq!(v.immediate_gw(), &[hop], "{name}");
    }
    // `/ip route set A target-scope=10`: only A loses its gateway.
    let mut spec = rib.route_spec(a).unwrap().clone();
    spec.target_scope = 10;
    rib.set_route(a, spec).unwrap();
    assert!(!by_comment(&rib, "A").flags().active);
    assert!(by_comment(&rib, "A").flags().inactive);
    assert!(!by_comment(&rib, "A").gateway_states()[0].reachable);
    assert!(by_comment(&rib, "B").flags().active);
    assert_eq!(rib.decide(&to("10.0.2.5")), fwd("192.168.99.1", ETHER1));
    assert_eq!(rib.decide(&to("10.0.1.5")), Decision::NetworkUnreachable);
    // And the other way round.
    let mut spec = rib.route_spec(b).unwrap().clone();
    spec.target_scope = 10;
    rib.set_route(b, spec).unwrap();
    let mut spec = rib.route_spec(a).unwrap().clone();
    spec.target_scope = 30;
    rib.set_route(a, spec).unwrap();
    assert!(by_comment(&rib, "A").flags().active);
    assert!(!by_comment(&rib, "B").flags().active);
}

/// Routes with a larger scope cannot change how routes with a smaller scope resolve.
#[test]
fn larger_scope_routes_do_not_affect_smaller_scope_resolution() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.set_interface(ETHER2, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("192.168.99.2"), 24, ETHER1))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("192.168.98.2"), 24, ETHER2))
        .unwrap();
    let mut c = comment(
        RouteSpec::new(net("10.0.0.0/16")).via(Gateway::Address(ip("192.168.99.1"))),
        "C",
    );
    c.scope = 20;
    rib.add_route(c).unwrap();
    let mut y = comment(
        RouteSpec::new(net("10.9.0.0/16")).via(Gateway::Address(ip("10.0.0.1"))),
        "Y",
    );
    y.target_scope = 25;
    rib.add_route(y).unwrap();
    // A more specific route to the gateway, but with scope 40 > Y's scope 30.
    let mut x = comment(
        RouteSpec::new(net("10.0.0.0/24")).via(Gateway::Address(ip("192.168.98.1"))),
        "X",
    );
    x.scope = 40;
    rib.add_route(x).unwrap();
    let hop = Hop {
        address: Some(ip("192.168.99.1")),
        interface: ETHER1,
    };
    assert_eq!(by_comment(&rib, "Y").immediate_gw(), &[hop]);
    assert!(by_comment(&rib, "X").flags().active);
    // Packets to 10.0.0.1 itself do use X (the FIB is plain longest-prefix match).
    assert_eq!(rib.decide(&to("10.0.0.1")), fwd("192.168.98.1", ETHER2));
}

/// A route cannot resolve through a route of larger scope even if its target-scope would allow
/// it: otherwise updates to larger-scope routes would change its state.
#[test]
fn target_scope_above_own_scope_is_capped_by_the_scope() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("192.168.99.2"), 24, ETHER1))
        .unwrap();
    let mut s = comment(
        RouteSpec::new(net("10.0.0.0/24")).via(Gateway::Address(ip("192.168.99.1"))),
        "S",
    );
    s.scope = 20;
    rib.add_route(s).unwrap();
    let mut r = comment(
        RouteSpec::new(net("10.7.0.0/16")).via(Gateway::Address(ip("10.0.0.1"))),
        "R",
    );
    r.scope = 10;
    r.target_scope = 30;
    let mut other = r.clone();
    let r = rib.add_route(r).unwrap();
    assert!(rib.route(r).unwrap().flags().inactive);
    // The same holds for a route in another table, resolved through `main`.
    other.table = rib.add_table("t2", true).unwrap();
    let other = rib.add_route(other).unwrap();
    assert!(rib.route(other).unwrap().flags().inactive);
    let mut spec = rib.route_spec(r).unwrap().clone();
    spec.scope = 20;
    rib.set_route(r, spec).unwrap();
    assert!(rib.route(r).unwrap().flags().active);
}

#[test]
fn recursive_route_with_wide_target_scope() {
    // The seed's `8.8.8.8 via 2.2.2.2, scope 254, target-scope 254` resolved through the default route.
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(IfId(12), up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.155.101.217"), 24, IfId(12)))
        .unwrap();
    rib.add_route(
        RouteSpec::new(Prefix::default_route(Afi::Ipv4)).via(Gateway::Address(ip("10.155.101.1"))),
    )
    .unwrap();
    let mut s = RouteSpec::new(net("8.8.8.8/32")).via(Gateway::Address(ip("2.2.2.2")));
    let narrow = rib.add_route(s.clone()).unwrap();
    assert!(
        rib.route(narrow).unwrap().flags().inactive,
        "target-scope 10 sees only connected routes"
    );
    rib.remove_route(narrow).unwrap();
    s.scope = 254;
    s.target_scope = 254;
    let wide = rib.add_route(s).unwrap();
    let v = rib.route(wide).unwrap();
    assert_eq!(v.flags().routing_route_flags().as_str(), "As");
    assert_eq!(
        v.immediate_gw(),
        &[Hop {
            address: Some(ip("10.155.101.1")),
            interface: IfId(12)
        }]
    );
    assert_eq!(rib.decide(&to("8.8.8.8")), fwd("10.155.101.1", IfId(12)));
}

/// Two routes of the same scope whose gateways lie in each other's destination: they are
/// settled together, starting unresolved and taken in id order, so X (older) first resolves
/// through the connected network and Y then through X; whatever happens to one of them later,
/// the group is settled again the same way (the full recomputation gives the same).
#[test]
fn routes_resolving_through_each_other_settle_as_a_group_in_id_order() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.0.0.1"), 8, ETHER1))
        .unwrap();
    let mut x = RouteSpec::new(net("10.2.0.0/16")).via(Gateway::Address(ip("10.3.0.1")));
    x.target_scope = 30;
    let mut y = RouteSpec::new(net("10.3.0.0/16")).via(Gateway::Address(ip("10.2.0.1")));
    y.target_scope = 30;
    let x = rib.add_route(x).unwrap();
    let y = rib.add_route(y).unwrap();
    let hop = [Hop {
        address: Some(ip("10.3.0.1")),
        interface: ETHER1,
    }];
    let check = |rib: &Rib| {
        assert_eq!(rib.route(x).unwrap().immediate_gw(), &hop);
        assert_eq!(rib.route(y).unwrap().immediate_gw(), &hop);
        assert_eq!(rib.decide(&to("10.2.9.9")), fwd("10.3.0.1", ETHER1));
        assert_eq!(rib.decide(&to("10.3.9.9")), fwd("10.3.0.1", ETHER1));
    };
    check(&rib);
    rib.set_route_disabled(y, true).unwrap();
    assert_eq!(
        rib.route(x).unwrap().immediate_gw(),
        &hop,
        "through the connected network"
    );
    rib.set_route_disabled(y, false).unwrap();
    check(&rib);
    let mut spec = rib.route_spec(x).unwrap().clone();
    spec.distance = 2;
    rib.set_route(x, spec).unwrap();
    check(&rib);
}

#[test]
fn dynamic_dhcp_default_route_is_best_candidate_behind_static() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(IfId(12), up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.155.101.217"), 24, IfId(12)))
        .unwrap();
    let mut dhcp =
        RouteSpec::new(Prefix::default_route(Afi::Ipv4)).via(Gateway::Address(ip("10.155.101.1")));
    dhcp.distance = 10;
    let d = rib.add_dynamic_route(Origin::Dhcp, dhcp).unwrap();
    assert_eq!(
        rib.route(d).unwrap().flags().ip_route_flags().as_str(),
        "DAd "
    );
    let s = rib
        .add_route(
            RouteSpec::new(Prefix::default_route(Afi::Ipv4))
                .via(Gateway::Address(ip("10.155.101.1"))),
        )
        .unwrap();
    let dv = rib.route(d).unwrap();
    assert_eq!(dv.flags().ip_route_flags().as_str(), "D d ");
    assert_eq!(dv.flags().routing_route_flags().as_str(), "d");
    assert_eq!(dv.contribution(), Some(Contribution::BestCandidate));
    assert_eq!(dv.belongs_to(), "DHCP route");
    assert_eq!(
        rib.route(s).unwrap().contribution(),
        Some(Contribution::Active)
    );
    assert_eq!(
        rib.set_route(
            d,
            RouteSpec::new(net("1.0.0.0/8")).via(Gateway::Interface(IfId(12)))
        ),
        Err(RibError::NotEditable)
    );
}

#[test]
fn disabled_routes_stay_listed_and_are_not_used() {
    let mut rib = router1();
    let mut s = RouteSpec::new(net("10.155.101.0/24")).via(Gateway::Address(ip("10.1.1.10")));
    s.disabled = true;
    let id = rib.add_route(s).unwrap();
    let v = rib.route(id).unwrap();
    assert_eq!(v.flags().ip_route_flags().as_str(), " XS ");
    assert_eq!(v.flags().routing_route_flags().as_str(), "Xs");
    assert_eq!(v.contribution(), None);
    assert_eq!(
        rib.decide(&to("10.155.101.5")),
        Decision::NetworkUnreachable
    );
    rib.set_route_disabled(id, false).unwrap();
    assert_eq!(rib.decide(&to("10.155.101.5")), fwd("10.1.1.10", ETHER1));
}

#[test]
fn route_types_give_their_decisions() {
    let mut rib = router1();
    for (dst, t) in [
        ("10.20.0.0/16", RouteType::Blackhole),
        ("10.21.0.0/16", RouteType::Unreachable),
        ("10.22.0.0/16", RouteType::Prohibit),
    ] {
        let mut s = RouteSpec::new(net(dst));
        s.route_type = t;
        rib.add_route(s).unwrap();
    }
    assert_eq!(rib.decide(&to("10.20.1.1")), Decision::Discard);
    assert_eq!(rib.decide(&to("10.21.1.1")), Decision::HostUnreachable);
    assert_eq!(rib.decide(&to("10.22.1.1")), Decision::Prohibited);
    // A blackhole takes no gateway, a unicast route needs one.
    let mut bad = RouteSpec::new(net("10.23.0.0/16")).via(Gateway::Interface(ETHER1));
    bad.route_type = RouteType::Blackhole;
    assert_eq!(rib.add_route(bad), Err(RibError::BadGateways));
    assert_eq!(
        rib.add_route(RouteSpec::new(net("10.24.0.0/16"))),
        Err(RibError::BadGateways)
    );
}

#[test]
fn interface_gateways_and_point_to_point() {
    let mut rib = router1();
    rib.set_interface(
        PPP,
        InterfaceState {
            running: true,
            point_to_point: true,
        },
    )
    .unwrap();
    rib.add_route(RouteSpec::new(net("10.50.0.0/16")).via(Gateway::Interface(PPP)))
        .unwrap();
    rib.add_route(RouteSpec::new(net("10.51.0.0/16")).via(Gateway::Interface(ETHER2)))
        .unwrap();
    rib.add_route(
        RouteSpec::new(net("10.52.0.0/16"))
            .via(Gateway::AddressOnInterface(ip("10.99.0.1"), ETHER3)),
    )
    .unwrap();
    assert_eq!(
        rib.decide(&to("10.50.1.1")),
        Decision::PointToPoint { interface: PPP }
    );
    assert_eq!(rib.decide(&to("10.51.1.1")), fwd("10.51.1.1", ETHER2));
    assert_eq!(rib.decide(&to("10.52.1.1")), fwd("10.99.0.1", ETHER3));
}

#[test]
fn interface_down_deactivates_connected_and_dependent_routes() {
    let mut rib = router1();
    let r = rib
        .add_route(RouteSpec::new(net("192.168.2.0/24")).via(Gateway::Address(ip("172.16.1.2"))))
        .unwrap();
    rib.set_interface(
        ETHER2,
        InterfaceState {
            running: false,
            point_to_point: false,
        },
    )
    .unwrap();
    let connected = rib
        .routes()
        .find(|v| v.spec().dst == net("172.16.1.0/30"))
        .unwrap();
    assert_eq!(connected.flags().ip_route_flags().as_str(), "DIC ");
    assert_eq!(connected.flags().routing_route_flags().as_str(), "Ic");
    assert!(connected.address().is_some());
    assert!(rib.route(r).unwrap().flags().unreachable);
    assert_eq!(rib.decide(&to("192.168.2.7")), Decision::NetworkUnreachable);
    // Addresses on a down interface are still the router's own.
    assert_eq!(rib.decide(&to("172.16.1.1")), Decision::Local);
    rib.set_interface(ETHER2, up()).unwrap();
    assert_eq!(rib.decide(&to("192.168.2.7")), fwd("172.16.1.2", ETHER2));
}

#[test]
fn policy_rules_in_order_then_main() {
    let mut rib = router1();
    rib.add_route(
        RouteSpec::new(Prefix::default_route(Afi::Ipv4)).via(Gateway::Address(ip("10.1.1.1"))),
    )
    .unwrap();
    let isp2 = rib.add_table("isp2", true).unwrap();
    let empty = rib.add_table("empty", true).unwrap();
    let mut s =
        RouteSpec::new(Prefix::default_route(Afi::Ipv4)).via(Gateway::Address(ip("172.16.1.2")));
    s.table = isp2;
    let r2 = rib.add_route(s).unwrap();
    assert_eq!(rib.route(r2).unwrap().table_name(), "isp2");
    assert!(
        rib.route(r2).unwrap().flags().active,
        "resolved through main's connected routes"
    );
    // From LAN 192.168.1.128/25: use isp2.
    let mut rule = RuleSpec::new(RuleAction::Lookup(isp2));
    rule.src = Some(net("192.168.1.128/25"));
    let by_src = rib.add_rule(rule).unwrap();
    let mut p = to("8.8.8.8");
    p.src = ip("192.168.1.200");
    assert_eq!(rib.decide(&p), fwd("172.16.1.2", ETHER2));
    p.src = ip("192.168.1.20");
    assert_eq!(rib.decide(&p), fwd("10.1.1.1", ETHER1));
    // lookup in an empty table falls through; lookup-only-in-table does not.
    let fall = rib
        .add_rule(RuleSpec::new(RuleAction::Lookup(empty)))
        .unwrap();
    rib.move_rule(fall, Some(by_src)).unwrap();
    p.src = ip("192.168.1.200");
    assert_eq!(rib.decide(&p), fwd("172.16.1.2", ETHER2));
    rib.set_rule(fall, RuleSpec::new(RuleAction::LookupOnlyInTable(empty)))
        .unwrap();
    assert_eq!(rib.decide(&p), Decision::NetworkUnreachable);
    rib.set_rule_disabled(fall, true).unwrap();
    // Drop and unreachable, by incoming interface.
    let mut drop = RuleSpec::new(RuleAction::Drop);
    drop.interface = Some(ETHER3);
    let d = rib.add_rule(drop).unwrap();
    rib.move_rule(d, Some(by_src)).unwrap();
    p.in_interface = Some(ETHER3);
    assert_eq!(rib.decide(&p), Decision::Discard);
    let mut unreach = RuleSpec::new(RuleAction::Unreachable);
    unreach.dst = Some(net("9.9.9.0/24"));
    rib.add_rule(unreach).unwrap();
    assert_eq!(rib.decide(&to("9.9.9.9")), Decision::NetworkUnreachable);
    // A routing mark looks up its table first.
    let mut marked = to("8.8.4.4");
    marked.routing_mark = Some(isp2);
    assert_eq!(rib.decide(&marked), fwd("172.16.1.2", ETHER2));
    assert_eq!(
        rib.rules().map(|r| r.id).collect::<Vec<_>>(),
        vec![fall, d, by_src, RuleId(3)]
    );
    assert_eq!(rib.remove_table(isp2), Err(RibError::TableInUse));
}

#[test]
fn ipv6_connected_link_local_and_default() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.set_interface(
        ETHER2,
        InterfaceState {
            running: false,
            point_to_point: false,
        },
    )
    .unwrap();
    rib.add_address(AddressSpec::new(ip("2001:db8:1::1"), 64, ETHER1))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("2001:db8:2::1"), 64, ETHER2))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("fe80::1"), 64, ETHER1))
        .unwrap();
    rib.add_address(AddressSpec::new(ip("fe80::2"), 64, ETHER2))
        .unwrap();
    rib.add_route(
        RouteSpec::new(Prefix::default_route(Afi::Ipv6))
            .via(Gateway::Address(ip("2001:db8:1::ff"))),
    )
    .unwrap();
    let ll: Vec<(Option<IfId>, String)> = rib
        .routes()
        .filter(|v| v.spec().dst.is_link_local())
        .map(|v| {
            (
                v.dst_interface(),
                v.flags().routing_route_flags().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ll,
        vec![
            (Some(ETHER1), "Ac".to_string()),
            (Some(ETHER2), "Ic".to_string())
        ]
    );
    assert_eq!(
        rib.decide(&to("2001:db8:1::5")),
        fwd("2001:db8:1::5", ETHER1)
    );
    assert_eq!(rib.decide(&to("2a00::1")), fwd("2001:db8:1::ff", ETHER1));
    assert_eq!(rib.decide(&to("2001:db8:1::1")), Decision::Local);
    assert_eq!(rib.decide(&to("fe80::1")), Decision::Local);
    // Not even the default route forwards a link-local destination.
    assert_eq!(rib.decide(&to("fe80::77")), Decision::NetworkUnreachable);
    assert_eq!(
        rib.add_route(RouteSpec::new(net("2001:db8:9::/48")).via(Gateway::Address(ip("10.0.0.1")))),
        Err(RibError::AfiMismatch)
    );
}

#[test]
fn rib_fuzz_body_runs_on_generated_inputs() {
    let mut x = 0x1234_5678u32;
    for round in 0..1000 {
        let data: Vec<u8> = (0..4 * (1 + round % 50))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 11) as u8
            })
            .collect();
        crate::fuzzing::rib_change_sequence(&data);
    }
}

/// Fuzzer-like bytes: `rounds` inputs of 1 + 6 * (1..=max_steps) bytes from a xorshift
/// seeded with `seed`; `mode` is or-ed into each input's first byte.
fn oracle_inputs(seed: u32, rounds: u32, max_steps: u32, mode: u8) {
    let mut x = seed;
    for round in 0..rounds {
        let mut data: Vec<u8> = (0..1 + 6 * (1 + round % max_steps))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 7) as u8
            })
            .collect();
        data[0] |= mode;
        crate::fuzzing::rib_oracle_sequence(&data);
    }
}

/// The incremental RIB against the full recomputation, on generated change sequences (see
/// `fuzzing::oracle`): with and without FIBs, FIBs small enough to refuse changes, with and
/// without interfaces and addresses to start with.
#[test]
fn rib_oracle_body_runs_on_generated_inputs() {
    oracle_inputs(0x9e37_79b9, 300, 80, 0);
}

/// The same with routes that mostly resolve at their own scope, through each other.
#[test]
fn rib_oracle_body_runs_on_routes_resolving_through_each_other() {
    oracle_inputs(0x1234_5679, 200, 120, 8);
}

/// Long runs of both, for `cargo test --release -p routing -- --ignored` (minutes).
#[test]
#[ignore]
fn rib_oracle_body_long_runs() {
    oracle_inputs(0x7777_1234, 30_000, 150, 0);
    oracle_inputs(0x1234_5679, 20_000, 120, 8);
}

mod random {
    //! Random configurations with interface gateways only, against a reference that knows
    //! nothing about next-hop resolution: enabled routes on running interfaces are
    //! candidates, the lowest distance wins per destination, longest prefix first.
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Add {
            dst: (u8, u8, u8),
            distance: u8,
            ifid: u16,
            disabled: bool,
        },
        Remove(usize),
        Toggle(usize),
        Link(u16, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => ((0u8..4, any::<u8>(), 8u8..=24), 1u8..4, 1u16..4, prop::bool::weighted(0.2))
                .prop_map(|(dst, distance, ifid, disabled)| Op::Add { dst, distance, ifid, disabled }),
            1 => any::<usize>().prop_map(Op::Remove),
            1 => any::<usize>().prop_map(Op::Toggle),
            1 => (1u16..4, any::<bool>()).prop_map(|(i, b)| Op::Link(i, b)),
        ]
    }

    fn expected(rib: &Rib, dst: IpAddr) -> Vec<Decision> {
        let mut best: Option<(u8, u8)> = None;
        let mut out = Vec::new();
        for r in rib.routes() {
            let Gateway::Interface(i) = r.spec().gateways[0] else {
                unreachable!()
            };
            if r.spec().disabled
                || !rib.interface(i).is_some_and(|s| s.running)
                || !r.spec().dst.contains(dst)
            {
                continue;
            }
            let key = (r.spec().dst.len(), u8::MAX - r.spec().distance);
            let d = Decision::Forward {
                next_hop: dst,
                interface: i,
            };
            if best.is_none_or(|b| key > b) {
                best = Some(key);
                out = vec![d];
            } else if best == Some(key) && !out.contains(&d) {
                out.push(d);
            }
        }
        if out.is_empty() {
            out.push(Decision::NetworkUnreachable);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]
        #[test]
        fn decisions_match_the_reference(ops in prop::collection::vec(op(), 1..40), probes in prop::collection::vec((0u8..4, any::<u8>(), any::<u8>()), 20)) {
            let mut rib = Rib::new(RibConfig::default());
            for i in 1..4 {
                rib.set_interface(IfId(i), up()).unwrap();
            }
            let mut ids: Vec<RouteId> = Vec::new();
            for op in ops {
                match op {
                    Op::Add { dst: (a, b, len), distance, ifid, disabled } => {
                        let mut s = RouteSpec::new(Prefix::new(IpAddr::from([10, a, b, 0]), len).unwrap()).via(Gateway::Interface(IfId(ifid)));
                        s.distance = distance;
                        s.disabled = disabled;
                        ids.push(rib.add_route(s).unwrap());
                    }
                    Op::Remove(i) if !ids.is_empty() => {
                        let id = ids.remove(i % ids.len());
                        rib.remove_route(id).unwrap();
                    }
                    Op::Toggle(i) if !ids.is_empty() => {
                        let id = ids[i % ids.len()];
                        let d = rib.route_spec(id).unwrap().disabled;
                        rib.set_route_disabled(id, !d).unwrap();
                    }
                    Op::Link(i, running) => rib.set_interface(IfId(i), InterfaceState { running, point_to_point: false }).unwrap(),
                    _ => {}
                }
                for &(a, b, c) in &probes {
                    let dst = IpAddr::from([10, a, b, c]);
                    let got = rib.decide(&to(&dst.to_string()));
                    let want = expected(&rib, dst);
                    prop_assert!(want.contains(&got), "{dst}: got {got:?}, want one of {want:?}");
                }
            }
        }
    }
}

#[test]
fn routes_to_a_destination_are_found_by_table_and_prefix() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(ETHER1, up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.0.0.1"), 24, ETHER1))
        .unwrap();
    let vpn = rib.add_table("vpn", false).unwrap();
    let a = rib
        .add_route(RouteSpec::new(net("10.5.0.0/16")).via(Gateway::Address(ip("10.0.0.2"))))
        .unwrap();
    let mut farther = RouteSpec::new(net("10.5.0.0/16")).via(Gateway::Address(ip("10.0.0.3")));
    farther.distance = 5;
    let b = rib.add_route(farther).unwrap();
    rib.add_route(RouteSpec::new(net("10.5.0.0/24")).via(Gateway::Address(ip("10.0.0.2"))))
        .unwrap();
    let mut other_table = RouteSpec::new(net("10.5.0.0/16")).via(Gateway::Address(ip("10.0.0.2")));
    other_table.table = vpn;
    let c = rib.add_route(other_table).unwrap();
    let ids = |table, dst: &str| {
        let mut ids: Vec<RouteId> = rib.routes_to(table, net(dst)).map(|r| r.id()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(TableId::MAIN, "10.5.0.0/16"), vec![a, b]);
    assert_eq!(ids(vpn, "10.5.0.0/16"), vec![c]);
    assert_eq!(ids(TableId::MAIN, "10.6.0.0/16"), vec![]);
    // The connected route of the address is a route to its network.
    assert_eq!(rib.routes_to(TableId::MAIN, net("10.0.0.0/24")).count(), 1);
}
