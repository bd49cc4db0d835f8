//! The host's own IP on physical ports, through the product's frame loop, against a fake NIC:
//! a port in no bridge with an address is one of the host's interfaces (ARP and echo answered
//! out of it, the host's ping resolves and reaches a peer behind it); a port in a bridge
//! reaches the host through the host's port in that bridge (the answer goes out of the one
//! port the peer is behind, and the host's ping floods, learns and then goes out of that port
//! only).

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::nic::*;
use common::packets::*;
use common::*;
use vmm::hostip::{PingEvent, PingRequest};
use vmm::{HostAttach, NetworkPlan};

const PEER_IP: [u8; 4] = [10, 0, 1, 9];

/// ether1 and ether2 in no bridge (guest 0's vif alone); the host's address on ether1.
fn standalone_plan() -> NetworkPlan {
    let mut plan = bridge_plan();
    plan.ports.clear();
    for e in &mut plan.ethers {
        e.bridge = None;
    }
    plan.host = host_plan(HostAttach::Ether(0));
    plan
}

/// ether1, ether2 and guest 0's vif in bridge 0; the host's address on the bridge.
fn bridged_plan() -> NetworkPlan {
    let mut plan = bridge_plan();
    plan.host = host_plan(HostAttach::Bridge(0));
    plan
}

fn no_frames() -> Vec<Vec<u8>> {
    Vec::new()
}

/// A peer behind `port` asks for the host's address and pings it; the answers leave through
/// `port` alone.
fn a_peer_pings_the_host(plan: &NetworkPlan, port: usize) {
    let mut n = Net::new(2, 1, plan);
    let other = 1 - port;
    n.arrive(
        port,
        &arp(1, (peer(1), PEER_IP), ([0; 6], HOST_IP), BROADCAST),
    );
    n.m.service();
    let sent = take_sent(&n.wires[port]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let reply = &sent[0];
    assert_eq!((&reply[..6], &reply[6..12]), (&peer(1)[..], &HOST_MAC[..]));
    assert_eq!(reply[20..22], [0, 2], "an ARP reply");
    assert_eq!(reply[28..32], HOST_IP);
    let request = echo(8, (peer(1), PEER_IP), (HOST_MAC, HOST_IP), 7, 1, b"ping me");
    n.arrive(port, &request);
    n.m.service();
    let sent = take_sent(&n.wires[port]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let reply = &sent[0];
    assert_eq!((&reply[..6], &reply[6..12]), (&peer(1)[..], &HOST_MAC[..]));
    assert_eq!((reply[23], reply[34]), (1, 0), "ICMP echo reply");
    assert_eq!(
        (&reply[26..30], &reply[30..34]),
        (&HOST_IP[..], &PEER_IP[..])
    );
    assert_eq!(reply[42..], *b"ping me");
    assert_eq!(
        take_sent(&n.wires[other])
            .iter()
            .filter(|f| f[6..12] == HOST_MAC)
            .count(),
        0,
        "nothing of the host's out of the other port"
    );
}

#[test]
fn a_peer_on_a_port_in_no_bridge_pings_the_hosts_address_on_it() {
    a_peer_pings_the_host(&standalone_plan(), 0);
}

#[test]
fn a_peer_on_a_bridged_port_pings_the_hosts_bridge_address() {
    a_peer_pings_the_host(&bridged_plan(), 1);
}

#[test]
fn frames_for_the_host_on_a_bridged_port_still_flood_to_the_bridge() {
    let mut n = Net::new(2, 1, &bridged_plan());
    let who_has = arp(1, (peer(1), PEER_IP), ([0; 6], HOST_IP), BROADCAST);
    n.arrive(0, &who_has);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), std::slice::from_ref(&who_has));
    assert_eq!(received(&mut n.m, 0), [(1, who_has)]);
}

#[test]
fn a_port_in_no_bridge_without_an_address_does_not_reach_the_host() {
    let mut plan = standalone_plan();
    plan.host.links.clear();
    let mut n = Net::new(2, 1, &plan);
    n.arrive(0, &arp(1, (peer(1), PEER_IP), ([0; 6], HOST_IP), BROADCAST));
    n.m.service();
    assert_eq!(take_sent(&n.wires[0]), no_frames());
}

#[test]
fn an_address_on_a_bridged_port_is_not_the_hosts() {
    // The host's interface names ether1, but ether1 is in the bridge: the bridge has no
    // address, so nothing answers.
    let mut plan = bridge_plan();
    plan.host = host_plan(HostAttach::Ether(0));
    let mut n = Net::new(2, 1, &plan);
    n.arrive(0, &arp(1, (peer(1), PEER_IP), ([0; 6], HOST_IP), BROADCAST));
    n.m.service();
    assert_eq!(take_sent(&n.wires[0]), no_frames());
}

/// The host pings `PEER_IP`, which is behind `port`; `flood` is where the who-has goes.
fn the_host_pings_a_peer(plan: &NetworkPlan, port: usize, flood: &[usize]) {
    let mut n = Net::new(2, 1, plan);
    let mut request = PingRequest::new(IpAddr::V4(Ipv4Addr::from(PEER_IP)));
    request.count = Some(1);
    let now = n.m.now_us();
    n.m.host_ip_mut().ping_start(now, &request).unwrap();
    n.m.service();
    for p in 0..2 {
        let sent = take_sent(&n.wires[p]);
        if !flood.contains(&p) {
            assert_eq!(sent, no_frames(), "port {p}");
            continue;
        }
        assert_eq!(sent.len(), 1, "port {p}: {sent:?}");
        assert_eq!(sent[0][20..22], [0, 1], "who-has");
        assert_eq!(sent[0][38..42], PEER_IP);
    }
    let is_at = arp(2, (peer(1), PEER_IP), (HOST_MAC, HOST_IP), HOST_MAC);
    n.arrive(port, &is_at);
    n.m.service();
    let sent = take_sent(&n.wires[port]);
    assert_eq!(sent.len(), 1, "the echo request: {sent:?}");
    assert_eq!(take_sent(&n.wires[1 - port]), no_frames(), "learned");
    let req = &sent[0];
    assert_eq!(req[..6], peer(1));
    assert_eq!((req[23], req[34]), (1, 8), "ICMP echo request");
    let (ident, seq) = (
        u16::from_be_bytes([req[38], req[39]]),
        u16::from_be_bytes([req[40], req[41]]),
    );
    n.m.machine().advance_ms(2);
    let reply = echo(
        0,
        (peer(1), PEER_IP),
        (HOST_MAC, HOST_IP),
        ident,
        seq,
        &req[42..],
    );
    n.arrive(port, &reply);
    n.m.service();
    let events: Vec<_> = std::iter::from_fn(|| n.m.host_ip_mut().ping_next_event()).collect();
    let PingEvent::Reply { seq: 0, rtt_us, .. } = events[0] else {
        panic!("{events:?}");
    };
    assert!(rtt_us >= 2_000, "{rtt_us}");
    assert!(matches!(events[1], PingEvent::Done(s) if s.received == 1));
}

#[test]
fn the_host_pings_a_peer_on_a_port_in_no_bridge() {
    the_host_pings_a_peer(&standalone_plan(), 0, &[0]);
}

#[test]
fn the_host_pings_a_peer_behind_a_bridged_port() {
    the_host_pings_a_peer(&bridged_plan(), 1, &[0, 1]);
}
