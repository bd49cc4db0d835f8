//! The neighbour lookups of the forwarding path: a next hop is resolved once (one request,
//! an `incomplete` entry), known after the answer, and a `stale` neighbour is confirmed with
//! one unicast request however many packets go to it meanwhile.

mod common;

use std::net::IpAddr;

use common::*;
use hostip::{neighbor, Lookup, NeighborState};
use smoltcp::wire::*;

fn is_arp_request_for(frame: &[u8], to: [u8; 6]) -> bool {
    frame[..6] == to
        && matches!(
            parse_arp(frame),
            ArpRepr::EthernetIpv4 { operation: ArpOperation::Request, target_protocol_addr, .. }
                if target_protocol_addr == PEER_V4
        )
}

#[test]
fn a_next_hop_is_asked_for_once_and_known_after_the_answer() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let peer = IpAddr::V4(PEER_V4);
    assert_eq!(host.neighbor_for_forwarding(VIF, peer), Lookup::Unknown);
    assert!(out.take().is_empty(), "a lookup asks nothing");
    assert_eq!(host.resolve(0, VIF, peer, &mut out), None);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert!(
        is_arp_request_for(&sent[0].1, [0xFF; 6]),
        "a broadcast request"
    );
    // Asked again while incomplete: no second request (the sweep repeats it).
    assert_eq!(host.resolve(10, VIF, peer, &mut out), None);
    assert!(out.take().is_empty());
    let reply = arp(
        ArpOperation::Reply,
        (PEER_MAC, PEER_V4),
        (HOST_MAC, HOST_V4),
        HOST_MAC,
    );
    host.receive(20, VIF, &reply, &mut out);
    assert_eq!(
        host.neighbor_for_forwarding(VIF, peer),
        Lookup::Known(PEER_MAC)
    );
}

#[test]
fn a_stale_next_hop_is_used_and_confirmed_once() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let peer = IpAddr::V4(PEER_V4);
    let reply = arp(
        ArpOperation::Reply,
        (PEER_MAC, PEER_V4),
        (HOST_MAC, HOST_V4),
        HOST_MAC,
    );
    host.resolve(0, VIF, peer, &mut out);
    host.receive(1, VIF, &reply, &mut out);
    out.take();
    // Past the reachable time: stale.
    let later = neighbor::REACHABLE_US + 200_000;
    host.poll(later, &mut out);
    let state = host.arp_entries().next().unwrap().state;
    assert_eq!(state, NeighborState::Stale);
    assert_eq!(
        host.neighbor_for_forwarding(VIF, peer),
        Lookup::Confirm(PEER_MAC)
    );
    host.confirm(VIF, peer, PEER_MAC, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert!(
        is_arp_request_for(&sent[0].1, PEER_MAC),
        "a unicast request"
    );
    // Further packets: the MAC, no more requests.
    for _ in 0..100 {
        assert_eq!(
            host.neighbor_for_forwarding(VIF, peer),
            Lookup::Known(PEER_MAC)
        );
        host.confirm(VIF, peer, PEER_MAC, &mut out);
    }
    assert!(out.take().is_empty());
    // The answer makes it reachable; stale again later, it is confirmed again.
    host.receive(later + 1, VIF, &reply, &mut out);
    assert_eq!(
        host.arp_entries().next().unwrap().state,
        NeighborState::Reachable
    );
    let again = later + neighbor::REACHABLE_US + 200_000;
    host.poll(again, &mut out);
    assert_eq!(
        host.neighbor_for_forwarding(VIF, peer),
        Lookup::Confirm(PEER_MAC)
    );
}

/// The forwarding path keeps its decisions while `neighbor_generation` stays: it must change
/// with every change to what a lookup answers (learnt, stale, confirmed, a new MAC, gone) and
/// may stay when nothing a lookup reads changed (the same answer again, time passing).
#[test]
fn the_neighbor_generation_follows_what_lookups_answer() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let peer = IpAddr::V4(PEER_V4);
    let reply = |mac| {
        arp(
            ArpOperation::Reply,
            (mac, PEER_V4),
            (HOST_MAC, HOST_V4),
            HOST_MAC,
        )
    };
    let mut last = host.neighbor_generation();
    let mut step = |host: &hostip::HostIp, changed: bool, what: &str| {
        let now = host.neighbor_generation();
        assert_eq!(now != last, changed, "{what}");
        last = now;
    };
    host.resolve(0, VIF, peer, &mut out);
    step(&host, true, "an incomplete entry");
    host.receive(1, VIF, &reply(PEER_MAC), &mut out);
    step(&host, true, "learnt");
    host.receive(2, VIF, &reply(PEER_MAC), &mut out);
    step(&host, false, "the same answer again");
    host.poll(1000, &mut out);
    step(&host, false, "time passing, still reachable");
    let later = neighbor::REACHABLE_US + 200_000;
    host.poll(later, &mut out);
    step(&host, true, "reachable -> stale");
    assert_eq!(
        host.neighbor_for_forwarding(VIF, peer),
        Lookup::Confirm(PEER_MAC)
    );
    host.confirm(VIF, peer, PEER_MAC, &mut out);
    step(&host, true, "asked to confirm");
    let other = [2, 0, 0, 0, 0x77, 0x77];
    host.receive(later + 1, VIF, &reply(other), &mut out);
    step(&host, true, "another MAC");
    let stale = later + 2 * neighbor::REACHABLE_US;
    host.poll(stale, &mut out);
    step(&host, true, "stale again");
    host.poll(stale + neighbor::STALE_US + 1, &mut out);
    step(&host, true, "gone");
    assert_eq!(host.neighbor_for_forwarding(VIF, peer), Lookup::Unknown);
}
