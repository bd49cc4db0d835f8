//! One test per routing decision of the seed (RouterOS routing overview: "Routing table lookup"
//! and the route types), through the forwarder: local delivery, a connected network, a
//! gateway, ECMP (per flow and round robin), a point-to-point interface, blackhole, prohibit,
//! unreachable, no route, and the policy rules (lookup in another table, drop, unreachable).
//! Frames are built and checked with smoltcp.

mod common;

use common::*;
use forward::{Config, Drop, Outcome};
use routing::EcmpMode;
use smoltcp::wire::IpProtocol;

/// What the forwarder sent for one frame: exactly one frame out of `on`.
fn one_sent(b: &mut Bench, on: routing::IfId) -> Vec<u8> {
    let sent = b.sent.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, on);
    sent[0].1.clone()
}

#[test]
fn local_delivery_comes_first() {
    let mut b = Bench::new();
    // The address of another interface is the box's own too.
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.1"));
    assert_eq!(b.rx(ETHER1, &frame), Outcome::ToHost);
    assert!(b.sent.take().is_empty());
    assert_eq!(b.fwd.stats().to_host, 1);
}

#[test]
fn connected_network_the_destination_is_the_next_hop() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.7"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER2 }
    );
    let out = one_sent(&mut b, ETHER2);
    assert_eq!(out[..6], HOST7_MAC);
    assert_eq!(out[6..12], MAC2);
    let ip = check_v4(&out);
    assert_eq!((ip.dst_addr, ip.hop_limit), (v4("10.0.2.7"), 63));
    assert_eq!(
        out[14 + 20..],
        frame[14 + 20..],
        "the datagram is untouched"
    );
}

#[test]
fn gateway_route_goes_to_the_gateways_mac() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "198.51.100.7"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER3 }
    );
    let out = one_sent(&mut b, ETHER3);
    assert_eq!(out[..6], SMALL_GW_MAC);
    assert_eq!(check_v4(&out).dst_addr, v4("198.51.100.7"));
}

#[test]
fn ecmp_per_flow_a_flow_sticks_and_flows_spread() {
    let mut b = Bench::new();
    let mut seen = std::collections::HashSet::new();
    for sport in 1000..1064u16 {
        let mut p = Udp4::new("10.0.1.2", "192.168.2.10");
        p.sport = sport;
        let frame = udp4_frame(p);
        let mut macs = Vec::new();
        for _ in 0..4 {
            assert_eq!(
                b.rx(ETHER1, &frame),
                Outcome::Forwarded { interface: ETHER2 }
            );
            macs.push(one_sent(&mut b, ETHER2)[..6].to_vec());
        }
        assert!(macs.iter().all(|m| *m == macs[0]), "flow {sport} stuck");
        seen.insert(macs[0].clone());
    }
    assert_eq!(seen.len(), 2, "64 flows use both gateways");
    assert!(seen.contains(GW2_MAC.as_slice()) && seen.contains(GW3_MAC.as_slice()));
}

#[test]
fn ecmp_round_robin_alternates_as_the_seed_says() {
    let mut b = Bench::with(Config {
        ecmp: EcmpMode::RoundRobin,
        ..Config::default()
    });
    let frame = udp4_frame(Udp4::new("10.0.1.2", "192.168.2.10"));
    let macs: Vec<Vec<u8>> = (0..4)
        .map(|_| {
            b.rx(ETHER1, &frame);
            one_sent(&mut b, ETHER2)[..6].to_vec()
        })
        .collect();
    assert_ne!(macs[0], macs[1]);
    assert_eq!(macs[0], macs[2]);
    assert_eq!(macs[1], macs[3]);
}

#[test]
fn point_to_point_interface_needs_no_neighbour() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.50.3.4"));
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Forwarded { interface: PPP });
    let out = one_sent(&mut b, PPP);
    assert_eq!(out[..6], PPP_PEER);
    assert_eq!(out[6..12], MAC4);
    assert!(b.nbrs.requests.is_empty());
}

#[test]
fn blackhole_is_silent() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.99.1.1"));
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::Blackhole));
    assert!(b.sent.take().is_empty());
    assert_eq!(b.fwd.stats().dropped(Drop::Blackhole), 1);
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:96::1", 64, 10);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::Blackhole));
    assert!(b.sent.take().is_empty());
}

/// The ICMPv4 error sent back to the client for `frame`: type, code, rest.
fn error_back(b: &mut Bench, frame: &[u8]) -> (u8, u8, u32) {
    let out = one_sent(b, ETHER1);
    assert_eq!(out[..6], CLIENT_MAC, "back to the sender's MAC");
    assert_eq!(out[6..12], MAC1);
    let (ip, t, c, rest, quote) = icmp4_error(&out);
    assert_eq!(
        ip.src_addr,
        v4("10.0.1.1"),
        "from the ingress interface's address"
    );
    assert_eq!(ip.dst_addr, check_v4(frame).src_addr);
    assert_eq!(quote, frame[14..14 + 28], "header and 8 bytes quoted");
    (t, c, rest)
}

#[test]
fn prohibit_answers_administratively_prohibited() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.98.1.1"));
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::Prohibited));
    assert_eq!(error_back(&mut b, &frame), (3, 13, 0));
}

#[test]
fn unreachable_route_answers_host_unreachable() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.97.1.1"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::HostUnreachable)
    );
    assert_eq!(error_back(&mut b, &frame), (3, 1, 0));
}

#[test]
fn no_route_answers_network_unreachable() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "8.8.8.8"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::NetworkUnreachable)
    );
    assert_eq!(error_back(&mut b, &frame), (3, 0, 0));
}

#[test]
fn rule_by_source_looks_up_another_table() {
    let mut b = Bench::new();
    // 10.0.1.200 is in 10.0.1.128/25: table `other` sends everything to 10.0.3.2.
    let frame = udp4_frame(Udp4::new("10.0.1.200", "8.8.8.8"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER3 }
    );
    assert_eq!(one_sent(&mut b, ETHER3)[..6], SMALL_GW_MAC);
    // A source outside the rule falls to main, which has no default route.
    let frame = udp4_frame(Udp4::new("10.0.1.2", "8.8.8.8"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::NetworkUnreachable)
    );
}

#[test]
fn rule_action_drop_is_silent() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.96.0.1"));
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::Blackhole));
    assert!(b.sent.take().is_empty());
}

#[test]
fn rule_action_unreachable_answers_network_unreachable() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "10.95.0.1"));
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::NetworkUnreachable)
    );
    assert_eq!(error_back(&mut b, &frame), (3, 0, 0));
}

#[test]
fn ipv6_gateway_route_and_hop_limit() {
    let mut b = Bench::new();
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:99::5", 64, 10);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER2 }
    );
    let out = one_sent(&mut b, ETHER2);
    assert_eq!(out[..6], GW6_MAC);
    assert_eq!(out[14 + 7], 63, "hop limit decremented");
    assert_eq!(out[14 + 8..], frame[14 + 8..]);
    assert_eq!(b.fwd.stats().forwarded_v6, 1);
}

/// The ICMPv6 error back to the client for `frame`: type, code, rest.
fn error6_back(b: &mut Bench, frame: &[u8]) -> (u8, u8, u32) {
    let out = one_sent(b, ETHER1);
    assert_eq!(out[..6], CLIENT_MAC);
    let (ip, t, c, rest, quote) = icmp6_error(&out);
    assert_eq!(ip.src_addr, v6("2001:db8:1::1"));
    assert_eq!(ip.dst_addr, v6("2001:db8:1::2"));
    assert_eq!(ip.next_header, IpProtocol::Icmpv6);
    assert_eq!(quote, frame[14..], "the whole (small) packet quoted");
    (t, c, rest)
}

#[test]
fn ipv6_prohibit_unreachable_and_no_route() {
    let mut b = Bench::new();
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:98::1", 64, 10);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::Prohibited));
    assert_eq!(error6_back(&mut b, &frame), (1, 1, 0));
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:97::1", 64, 10);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::HostUnreachable)
    );
    assert_eq!(error6_back(&mut b, &frame), (1, 0, 0));
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:55::1", 64, 10);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::NetworkUnreachable)
    );
    assert_eq!(error6_back(&mut b, &frame), (1, 0, 0));
}

#[test]
fn ipv6_local_and_link_local() {
    let mut b = Bench::new();
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:2::1", 64, 10);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::ToHost);
    // A link-local source may not leave its link: beyond scope of source address.
    let frame = udp6_frame("fe80::2", "2001:db8:99::5", 64, 10);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::SourceBeyondScope)
    );
    let out = one_sent(&mut b, ETHER1);
    let (_, t, c, _, _) = icmp6_error(&out);
    assert_eq!((t, c), (1, 2));
    // A link-local destination (neighbour discovery, unicast) is the host's: not routed.
    let frame = udp6_frame("fe80::2", "fe80::1", 255, 10);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::ToHost);
}
