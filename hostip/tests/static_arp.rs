//! Static ARP entries (`/ip arp add`) and the `arp=reply-only` mode: a static entry is used at
//! once (no request), survives learning and ageing; `reply-only` answers requests but learns
//! nothing and asks nothing.

mod common;

use std::net::IpAddr;

use common::*;
use hostip::{
    AddrConfig, ArpMode, HostIp, IfaceConfig, NeighborState, PingEvent, PingRequest, StaticArp,
};
use smoltcp::wire::*;

const BCAST: [u8; 6] = [0xFF; 6];
const STATIC_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x77];

fn endpoint_with(arp: ArpMode) -> HostIp {
    let mut host = HostIp::new();
    host.configure(
        &[IfaceConfig {
            id: VIF,
            mac: HOST_MAC,
            arp,
            mtu: 1500,
        }],
        &[AddrConfig {
            iface: VIF,
            addr: IpAddr::V4(HOST_V4),
            prefix_len: 24,
        }],
    )
    .unwrap();
    host
}

fn pin_peer(host: &mut HostIp) {
    let missed = host.set_static_arp(&[StaticArp {
        iface: VIF,
        addr: PEER_V4,
        mac: STATIC_MAC,
    }]);
    assert_eq!(missed, 0);
}

#[test]
fn a_static_entry_is_used_without_a_request_and_is_not_relearned() {
    let mut host = endpoint_with(ArpMode::Enabled);
    pin_peer(&mut host);
    let e = host.arp_entries().next().unwrap();
    assert_eq!(
        (e.addr, e.mac, e.state),
        (PEER_V4, Some(STATIC_MAC), NeighborState::Permanent)
    );
    // The peer asks from another MAC: answered, but the static entry stays.
    let mut out = Sent::default();
    let req = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    assert_eq!(out.take().len(), 1, "answered");
    let e = host.arp_entries().next().unwrap();
    assert_eq!(e.mac, Some(STATIC_MAC));
    // A ping goes straight to the static MAC, no who-has first.
    let mut req = PingRequest::new(IpAddr::V4(PEER_V4));
    req.count = Some(1);
    host.ping_start(0, &req).unwrap();
    host.poll(0, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].1[..6],
        STATIC_MAC,
        "the echo request, to the static MAC"
    );
    assert_eq!(sent[0].1[12..14], [0x08, 0x00]);
    // Hours later it is still there.
    host.poll(10_000_000_000, &mut out);
    assert_eq!(
        host.arp_entries().next().unwrap().state,
        NeighborState::Permanent
    );
    // Removing the static entries removes it.
    host.set_static_arp(&[]);
    assert_eq!(host.arp_entries().count(), 0);
}

#[test]
fn reply_only_answers_but_learns_and_asks_nothing() {
    let mut host = endpoint_with(ArpMode::ReplyOnly);
    let mut out = Sent::default();
    let req = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1, "the request is answered");
    assert_eq!(sent[0].1[..6], PEER_MAC);
    assert_eq!(host.arp_entries().count(), 0, "nothing learned");
    // A ping to an address without a static entry sends no who-has and times out.
    let mut req = PingRequest::new(IpAddr::V4(PEER_V4));
    req.count = Some(1);
    host.ping_start(0, &req).unwrap();
    host.poll(0, &mut out);
    assert!(out.take().is_empty(), "no ARP request on reply-only");
    host.poll(2_000_000, &mut out);
    let events: Vec<_> = std::iter::from_fn(|| host.ping_next_event()).collect();
    assert!(matches!(events.last(), Some(PingEvent::Done(s)) if s.received == 0));
    // With a static entry the ping goes out.
    pin_peer(&mut host);
    host.ping_start(3_000_000, &req).unwrap();
    host.poll(3_000_000, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1[..6], STATIC_MAC);
}
