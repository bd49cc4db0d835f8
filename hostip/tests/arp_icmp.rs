//! ARP, ICMP echo, IPv6 neighbour discovery and ICMPv6 echo against frames built byte by byte,
//! and the bad input the endpoint must drop and count.

mod common;

use std::net::IpAddr;

use common::*;
use hostip::{AddrConfig, Drop, HostIp, IfaceConfig, IfaceId, NeighborState, FRAME_MAX};
use smoltcp::wire::*;

const BCAST: [u8; 6] = [0xFF; 6];

#[test]
fn answers_an_arp_request_and_learns_the_asker() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let req = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, VIF);
    let frame = &sent[0].1;
    assert_eq!(frame[..6], PEER_MAC, "unicast to the asker");
    assert_eq!(frame[6..12], HOST_MAC);
    assert_eq!(
        parse_arp(frame),
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress(HOST_MAC),
            source_protocol_addr: HOST_V4,
            target_hardware_addr: EthernetAddress(PEER_MAC),
            target_protocol_addr: PEER_V4,
        }
    );
    let entries: Vec<_> = host.arp_entries().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].addr, PEER_V4);
    assert_eq!(entries[0].mac, Some(PEER_MAC));
    assert_eq!(entries[0].state, NeighborState::Reachable);
    assert_eq!(host.stats().arp_replies, 1);
}

#[test]
fn arp_for_another_address_is_not_answered() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let other = std::net::Ipv4Addr::new(10, 0, 1, 9);
    let req = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], other),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    assert!(out.take().is_empty());
    assert_eq!(host.stats().dropped(Drop::NotOurAddress), 1);
    assert_eq!(
        host.arp_entries().count(),
        0,
        "a stranger's request teaches nothing"
    );
}

#[test]
fn an_arp_reply_claiming_our_address_is_dropped() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let evil = [0x02, 0xEE, 0, 0, 0, 1];
    let reply = arp(
        ArpOperation::Reply,
        (evil, HOST_V4),
        (HOST_MAC, HOST_V4),
        HOST_MAC,
    );
    host.receive(0, VIF, &reply, &mut out);
    let gratuitous = arp(
        ArpOperation::Request,
        (evil, HOST_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &gratuitous, &mut out);
    assert!(out.take().is_empty());
    assert_eq!(host.stats().dropped(Drop::AddressConflict), 2);
    assert_eq!(host.arp_entries().count(), 0);
}

#[test]
fn frames_with_our_own_source_are_dropped() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let req = arp(
        ArpOperation::Request,
        (HOST_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    assert!(out.take().is_empty());
    assert_eq!(host.stats().dropped(Drop::OwnSource), 1);
}

#[test]
fn frames_from_another_of_our_interfaces_are_dropped() {
    // A frame on one interface that another of the host's interfaces sent: a loop.
    let other_mac = [0x02, 0x4D, 0x52, 0x00, 0x00, 0x02];
    let mut host = HostIp::new();
    host.configure(
        &[
            IfaceConfig {
                id: VIF,
                mac: HOST_MAC,
                arp: hostip::ArpMode::Enabled,
                mtu: 1500,
            },
            IfaceConfig {
                id: IfaceId(6),
                mac: other_mac,
                arp: hostip::ArpMode::Enabled,
                mtu: 1500,
            },
        ],
        &[AddrConfig {
            iface: VIF,
            addr: IpAddr::V4(HOST_V4),
            prefix_len: 24,
        }],
    )
    .unwrap();
    let mut out = Sent::default();
    let req = arp(
        ArpOperation::Request,
        (other_mac, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    assert!(out.take().is_empty());
    assert_eq!(host.stats().dropped(Drop::OwnSource), 1);
}

#[test]
fn runts_giants_and_bad_lengths_are_dropped_and_counted() {
    let mut host = endpoint();
    let mut out = Sent::default();
    for len in 0..14 {
        host.receive(0, VIF, &vec![0xFF; len], &mut out);
    }
    assert_eq!(host.stats().dropped(Drop::Runt), 14);
    host.receive(0, VIF, &vec![0; FRAME_MAX + 1], &mut out);
    assert_eq!(host.stats().dropped(Drop::Giant), 1);
    // An echo request whose IP total length says more than the frame holds.
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 1,
        data: b"abcd",
    };
    let mut frame = icmpv4(PEER_V4, HOST_V4, 64, &echo, (HOST_MAC, PEER_MAC));
    frame[16..18].copy_from_slice(&200u16.to_be_bytes());
    host.receive(0, VIF, &frame, &mut out);
    // A truncated ARP packet, and one with a bad IP header checksum.
    let req = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req[..30], &mut out);
    let mut frame = icmpv4(PEER_V4, HOST_V4, 64, &echo, (HOST_MAC, PEER_MAC));
    frame[24] ^= 0xFF;
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::Malformed), 3);
    assert!(out.take().is_empty());
    assert_eq!(host.stats().rx_frames, 18);
    assert_eq!(host.stats().dropped_total(), 18);
}

#[test]
fn unicast_to_another_station_and_unknown_interfaces_are_dropped() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 1,
        data: b"x",
    };
    let frame = icmpv4(
        PEER_V4,
        HOST_V4,
        64,
        &echo,
        ([0x02, 9, 9, 9, 9, 9], PEER_MAC),
    );
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::NotForUs), 1);
    let frame = icmpv4(PEER_V4, HOST_V4, 64, &echo, (HOST_MAC, PEER_MAC));
    host.receive(0, hostip::IfaceId(99), &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::UnknownInterface), 1);
    assert!(out.take().is_empty());
}

#[test]
fn answers_an_echo_request() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let data: Vec<u8> = (0..100).collect();
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data: &data,
    };
    let frame = icmpv4(PEER_V4, HOST_V4, 64, &echo, (HOST_MAC, PEER_MAC));
    host.receive(0, VIF, &frame, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    let reply = &sent[0].1;
    assert_eq!(reply[..6], PEER_MAC);
    let (ip, icmp) = parse_icmpv4(reply);
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.hop_limit),
        (HOST_V4, PEER_V4, 64)
    );
    assert_eq!(
        icmp,
        Icmpv4Repr::EchoReply {
            ident: 0x1234,
            seq_no: 7,
            data: &data
        }
    );
    assert_eq!(host.stats().echo_replies, 1);
}

#[test]
fn echo_to_a_broadcast_or_another_address_is_not_answered() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 1,
        data: b"x",
    };
    for dst in [
        std::net::Ipv4Addr::new(10, 0, 1, 255),
        std::net::Ipv4Addr::BROADCAST,
        PEER_V4,
    ] {
        let frame = icmpv4(PEER_V4, dst, 64, &echo, (BCAST, PEER_MAC));
        host.receive(0, VIF, &frame, &mut out);
    }
    assert!(out.take().is_empty());
    assert_eq!(host.stats().dropped(Drop::NotOurAddress), 3);
}

#[test]
fn answers_a_neighbor_solicitation_and_an_icmpv6_echo() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let ns = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
        target_addr: HOST_V6,
        lladdr: Some(RawHardwareAddress::from_bytes(&PEER_MAC)),
    });
    let group = "ff02::1:ff00:1".parse().unwrap();
    let frame = icmpv6(
        PEER_V6,
        group,
        255,
        &ns,
        ([0x33, 0x33, 0xFF, 0, 0, 1], PEER_MAC),
    );
    host.receive(0, VIF, &frame, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    let (ip, icmp) = parse_icmpv6(&sent[0].1);
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.hop_limit),
        (HOST_V6, PEER_V6, 255)
    );
    let Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        flags,
        target_addr,
        lladdr,
    }) = icmp
    else {
        panic!("not an advertisement: {icmp:?}");
    };
    assert_eq!(target_addr, HOST_V6);
    assert!(flags.contains(NdiscNeighborFlags::SOLICITED));
    assert_eq!(lladdr.unwrap().as_bytes(), HOST_MAC);
    let n: Vec<_> = host.nd_entries().collect();
    assert_eq!((n.len(), n[0].addr, n[0].mac), (1, PEER_V6, Some(PEER_MAC)));
    assert_eq!(
        n[0].state,
        NeighborState::Stale,
        "learned from a solicitation: stale (RFC 4861)"
    );

    let echo = Icmpv6Repr::EchoRequest {
        ident: 9,
        seq_no: 3,
        data: b"hello",
    };
    let frame = icmpv6(PEER_V6, HOST_V6, 64, &echo, (HOST_MAC, PEER_MAC));
    host.receive(0, VIF, &frame, &mut out);
    let sent = out.take();
    let (ip, icmp) = parse_icmpv6(&sent[0].1);
    assert_eq!((ip.src_addr, ip.dst_addr), (HOST_V6, PEER_V6));
    assert_eq!(
        icmp,
        Icmpv6Repr::EchoReply {
            ident: 9,
            seq_no: 3,
            data: b"hello"
        }
    );
}

#[test]
fn neighbor_discovery_needs_hop_limit_255_and_rejects_our_own_addresses() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let ns = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
        target_addr: HOST_V6,
        lladdr: Some(RawHardwareAddress::from_bytes(&PEER_MAC)),
    });
    let frame = icmpv6(PEER_V6, HOST_V6, 64, &ns, (HOST_MAC, PEER_MAC));
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::NdHopLimit), 1);
    let na = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::OVERRIDE,
        target_addr: HOST_V6,
        lladdr: Some(RawHardwareAddress::from_bytes(&PEER_MAC)),
    });
    let all = "ff02::1".parse().unwrap();
    let frame = icmpv6(PEER_V6, all, 255, &na, ([0x33, 0x33, 0, 0, 0, 1], PEER_MAC));
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::AddressConflict), 1);
    assert!(out.take().is_empty());
    assert_eq!(host.nd_entries().count(), 0);
}

#[test]
fn a_broadcast_flood_of_new_senders_keeps_the_table_bounded_and_the_known_neighbor() {
    let mut host = endpoint();
    let mut out = Sent::default();
    host.configure(
        &[hostip::IfaceConfig {
            id: VIF,
            mac: HOST_MAC,
            arp: hostip::ArpMode::Enabled,
            mtu: 1500,
        }],
        &[hostip::AddrConfig {
            iface: VIF,
            addr: std::net::IpAddr::V4(HOST_V4),
            prefix_len: 16,
        }],
    )
    .unwrap();
    let req = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        BCAST,
    );
    host.receive(0, VIF, &req, &mut out);
    for i in 0..5000u32 {
        let mac = [0x02, 0xF0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let ip = std::net::Ipv4Addr::new(10, 0, 100 + (i >> 8) as u8 % 100, i as u8);
        let req = arp(ArpOperation::Request, (mac, ip), ([0; 6], HOST_V4), BCAST);
        host.receive(1000 + u64::from(i), VIF, &req, &mut out);
    }
    assert!(host.arp_entries().count() <= hostip::ARP_ENTRIES);
    assert!(host.stats().dropped(Drop::NeighborTableFull) > 0);
    assert!(
        host.arp_entries().any(|e| e.addr == PEER_V4),
        "the first neighbour was pushed out"
    );
}
