//! [`Rib::batch`] (one recomputation for many changes, all or nothing) and RIBs without FIBs
//! (`RibConfig::fibs` false).

use super::*;
use crate::prefix::Prefix;
use alloc::format;
use alloc::vec::Vec;

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
        src: ip("192.168.1.50"),
        dst: ip(dst),
        in_interface: None,
        routing_mark: None,
    }
}

/// Interfaces, addresses, 60 recursive and ECMP routes, a second table and a rule.
fn load(rib: &mut Rib) -> Result<(), RibError> {
    for i in 1..4 {
        rib.set_interface(IfId(i), up())?;
    }
    rib.add_address(AddressSpec::new(ip("10.1.1.2"), 24, IfId(1)))?;
    rib.add_address(AddressSpec::new(ip("172.16.1.1"), 30, IfId(2)))?;
    rib.add_address(AddressSpec::new(ip("2001:db8::1"), 64, IfId(3)))?;
    let vpn = rib.add_table("vpn", true)?;
    for i in 0..60u8 {
        let mut spec = RouteSpec::new(net(&format!("10.{}.{i}.0/24", 100 + i % 3)));
        spec.gateways.push(Gateway::Address(ip("10.1.1.1")));
        if i % 4 == 0 {
            spec.gateways.push(Gateway::Address(ip("172.16.1.2")));
        }
        if i % 5 == 0 {
            spec.table = vpn;
        }
        spec.distance = 1 + i % 2;
        rib.add_route(spec)?;
    }
    // Recursive: resolves through 10.100.0.0/24.
    let mut spec = RouteSpec::new(net("8.8.8.0/24")).via(Gateway::Address(ip("10.100.3.7")));
    spec.target_scope = 30;
    rib.add_route(spec)?;
    rib.add_route(RouteSpec::new(net("2001:db8:5::/48")).via(Gateway::Interface(IfId(3))))?;
    rib.add_rule(RuleSpec {
        src: Some(net("192.168.1.0/24")),
        ..RuleSpec::new(RuleAction::Lookup(vpn))
    })?;
    Ok(())
}

/// Everything a print shows, and the decisions for a few destinations.
fn snapshot(rib: &Rib) -> Vec<alloc::string::String> {
    let mut out: Vec<_> = rib
        .routes()
        .map(|v| {
            format!(
                "{:?} {:?} {:?} {:?} {:?} {:?}",
                v.id(),
                v.spec(),
                v.flags(),
                v.contribution(),
                v.gateway_states(),
                v.table_name()
            )
        })
        .collect();
    for dst in [
        "10.100.3.9",
        "10.101.4.1",
        "8.8.8.8",
        "2001:db8:5::1",
        "9.9.9.9",
    ] {
        out.push(format!("{dst} {:?}", rib.decide(&to(dst))));
    }
    out
}

#[test]
fn a_batch_ends_where_single_changes_end() {
    let mut single = Rib::new(RibConfig::default());
    load(&mut single).unwrap();
    let mut batched = Rib::new(RibConfig::default());
    batched.batch(load).unwrap();
    assert_eq!(snapshot(&single), snapshot(&batched));
    assert_eq!(
        single.fib_len(TableId::MAIN),
        batched.fib_len(TableId::MAIN)
    );
    assert!(batched.fib_len(TableId::MAIN) > 40);
}

#[test]
fn inside_a_batch_views_show_the_state_before_it() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(IfId(1), up()).unwrap();
    rib.batch(|rib| {
        rib.add_address(AddressSpec::new(ip("10.1.1.2"), 24, IfId(1)))?;
        assert_eq!(rib.routes().count(), 0);
        assert_eq!(rib.decide(&to("10.1.1.9")), Decision::NetworkUnreachable);
        Ok(())
    })
    .unwrap();
    assert_eq!(rib.routes().count(), 1);
    assert_eq!(
        rib.decide(&to("10.1.1.9")),
        Decision::Forward {
            next_hop: ip("10.1.1.9"),
            interface: IfId(1)
        }
    );
}

#[test]
fn a_failing_batch_changes_nothing() {
    let mut rib = Rib::new(RibConfig::default());
    rib.set_interface(IfId(1), up()).unwrap();
    rib.add_address(AddressSpec::new(ip("10.1.1.2"), 24, IfId(1)))
        .unwrap();
    rib.add_route(RouteSpec::new(net("10.9.0.0/16")).via(Gateway::Address(ip("10.1.1.1"))))
        .unwrap();
    let before = snapshot(&rib);
    let hops = rib.next_hop_count();
    let refused = rib.batch(|rib| {
        load(rib)?;
        // The last change is refused: everything before it in the batch goes too.
        rib.add_route(RouteSpec::new(net("10.0.0.0/8")).via(Gateway::Address(ip("2001:db8::9"))))
    });
    assert_eq!(refused, Err(RibError::AfiMismatch));
    assert_eq!(snapshot(&rib), before);
    assert_eq!(rib.table_by_name("vpn"), None);
    assert_eq!(rib.tables().count(), 1);
    assert_eq!(rib.next_hop_count(), hops);
    // Ids handed out in the failed batch are given again.
    let id = rib.add_route(RouteSpec::new(net("10.8.0.0/16")).via(Gateway::Interface(IfId(1))));
    assert_eq!(id, Ok(RouteId(2)));
    assert_eq!(rib.routes().count(), 3);
}

#[test]
fn a_rib_without_fibs_shows_and_decides_like_one_with_fibs() {
    let mut with = Rib::new(RibConfig::default());
    with.batch(load).unwrap();
    let mut without = Rib::new(RibConfig {
        fibs: false,
        ..RibConfig::default()
    });
    without.batch(load).unwrap();
    assert!(without.fibs.values().all(|t| t.fib.is_none()));
    assert_eq!(snapshot(&with), snapshot(&without));
    for t in with.tables() {
        assert_eq!(with.fib_len(t.id), without.fib_len(t.id), "{}", t.name);
    }
    // Longest match over the installed list, every length.
    for dst in [
        "10.100.0.1",
        "10.100.3.255",
        "10.1.1.200",
        "8.8.8.8",
        "172.16.1.2",
        "1.1.1.1",
    ] {
        assert_eq!(with.decide(&to(dst)), without.decide(&to(dst)), "{dst}");
    }
    let mut marked = to("10.100.5.1");
    marked.src = ip("192.168.1.7");
    assert_eq!(with.decide(&marked), without.decide(&marked));
}
