//! The UDP socket: a datagram waits for the peer's MAC then leaves from the right address and
//! port with a good checksum; datagrams for the bound port are queued, bad checksums dropped,
//! a full queue counted; other ports get ICMP (or ICMPv6) port unreachable; a peer that does
//! not answer ARP costs the datagram, not the socket.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use hostip::{Drop, HostIp, UdpError};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::*;

const LOCAL: u16 = 50_000;

fn udp_v4(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), data: &[u8]) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let udp = UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
    };
    let ip = Ipv4Repr {
        src_addr: src.0,
        dst_addr: dst.0,
        next_header: IpProtocol::Udp,
        payload_len: 8 + data.len(),
        hop_limit: 64,
    };
    let mut payload = vec![0u8; 20 + 8 + data.len()];
    let mut packet = Ipv4Packet::new_unchecked(&mut payload[..]);
    ip.emit(&mut packet, &caps);
    udp.emit(
        &mut UdpPacket::new_unchecked(packet.payload_mut()),
        &IpAddress::Ipv4(src.0),
        &IpAddress::Ipv4(dst.0),
        data.len(),
        |b| b.copy_from_slice(data),
        &caps,
    );
    ethernet(HOST_MAC, PEER_MAC, EthernetProtocol::Ipv4, &payload)
}

fn udp_v6(src: (Ipv6Addr, u16), dst: (Ipv6Addr, u16), data: &[u8]) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let udp = UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
    };
    let ip = Ipv6Repr {
        src_addr: src.0,
        dst_addr: dst.0,
        next_header: IpProtocol::Udp,
        payload_len: 8 + data.len(),
        hop_limit: 64,
    };
    let mut payload = vec![0u8; 40 + 8 + data.len()];
    let mut packet = Ipv6Packet::new_unchecked(&mut payload[..]);
    ip.emit(&mut packet);
    udp.emit(
        &mut UdpPacket::new_unchecked(packet.payload_mut()),
        &IpAddress::Ipv6(src.0),
        &IpAddress::Ipv6(dst.0),
        data.len(),
        |b| b.copy_from_slice(data),
        &caps,
    );
    ethernet(HOST_MAC, PEER_MAC, EthernetProtocol::Ipv6, &payload)
}

/// The peer's ARP reply to the host.
fn arp_reply() -> Vec<u8> {
    arp(
        ArpOperation::Reply,
        (PEER_MAC, PEER_V4),
        (HOST_MAC, HOST_V4),
        HOST_MAC,
    )
}

/// The UDP datagram in an IPv4 frame: source and destination (address, port) and payload.
fn parse_udp_v4(frame: &[u8]) -> ((Ipv4Addr, u16), (Ipv4Addr, u16), Vec<u8>) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv4);
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let caps = ChecksumCapabilities::default();
    let repr = Ipv4Repr::parse(&ip, &caps).unwrap();
    assert_eq!(repr.next_header, IpProtocol::Udp);
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    let (s, d) = (
        IpAddress::Ipv4(repr.src_addr),
        IpAddress::Ipv4(repr.dst_addr),
    );
    let u = UdpRepr::parse(&udp, &s, &d, &caps).expect("a good checksum");
    (
        (repr.src_addr, u.src_port),
        (repr.dst_addr, u.dst_port),
        udp.payload().to_vec(),
    )
}

fn bound() -> HostIp {
    let mut host = endpoint();
    host.udp_bind(LOCAL);
    host
}

#[test]
fn a_datagram_waits_for_arp_then_leaves() {
    let mut host = bound();
    let mut out = Sent::default();
    host.udp_send(0, IpAddr::V4(PEER_V4), 69, b"hello").unwrap();
    host.poll(0, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert!(
        matches!(parse_arp(&sent[0].1), ArpRepr::EthernetIpv4 { operation: ArpOperation::Request, target_protocol_addr, .. } if target_protocol_addr == PEER_V4)
    );
    host.poll(1000, &mut out);
    assert!(out.take().is_empty(), "nothing until the answer");
    host.receive(2000, VIF, &arp_reply(), &mut out);
    host.poll(2000, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, VIF);
    assert_eq!(&sent[0].1[..6], &PEER_MAC);
    assert_eq!(
        parse_udp_v4(&sent[0].1),
        ((HOST_V4, LOCAL), (PEER_V4, 69), b"hello".to_vec())
    );
    // Known now: the next one leaves at the next poll.
    host.udp_send(3000, IpAddr::V4(PEER_V4), 40_000, b"again")
        .unwrap();
    assert!(host.next_poll() <= 3000);
    host.poll(3000, &mut out);
    assert_eq!(parse_udp_v4(&out.take()[0].1).2, b"again");
}

#[test]
fn datagrams_for_the_bound_port_are_queued_in_order() {
    let mut host = bound();
    let mut out = Sent::default();
    for k in 0..6u8 {
        host.receive(
            0,
            VIF,
            &udp_v4((PEER_V4, 40_000), (HOST_V4, LOCAL), &[k; 3]),
            &mut out,
        );
    }
    assert!(out.take().is_empty());
    assert_eq!(host.stats().dropped(Drop::UdpQueueFull), 2);
    let mut buf = [0u8; 1500];
    for k in 0..4u8 {
        let d = host.udp_recv(&mut buf).unwrap();
        assert_eq!((d.from, d.port, d.len), (IpAddr::V4(PEER_V4), 40_000, 3));
        assert_eq!(&buf[..3], &[k; 3]);
    }
    assert!(host.udp_recv(&mut buf).is_none());
}

#[test]
fn a_bad_checksum_is_dropped() {
    let mut host = bound();
    let mut out = Sent::default();
    let mut frame = udp_v4((PEER_V4, 40_000), (HOST_V4, LOCAL), b"data");
    let last = frame.len() - 1;
    frame[last] ^= 1;
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::Malformed), 1);
    assert!(host.udp_recv(&mut [0; 64]).is_none());
}

#[test]
fn other_ports_are_answered_with_port_unreachable() {
    let mut host = bound();
    let mut out = Sent::default();
    let frame = udp_v4((PEER_V4, 40_000), (HOST_V4, 69), b"who is there");
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(host.stats().dropped(Drop::PortUnreachable), 1);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    let (ip, icmp) = parse_icmpv4(&sent[0].1);
    assert_eq!((ip.src_addr, ip.dst_addr), (HOST_V4, PEER_V4));
    let Icmpv4Repr::DstUnreachable {
        reason,
        header,
        data,
    } = icmp
    else {
        panic!("not unreachable: {icmp:?}");
    };
    assert_eq!(reason, Icmpv4DstUnreachable::PortUnreachable);
    assert_eq!((header.src_addr, header.dst_addr), (PEER_V4, HOST_V4));
    // The UDP header: source port 40000, destination 69.
    assert_eq!(&data[..4], &[0x9C, 0x40, 0, 69]);
    // Unbound: every port is unreachable.
    host.udp_unbind();
    let frame = udp_v4((PEER_V4, 40_000), (HOST_V4, LOCAL), b"late");
    host.receive(0, VIF, &frame, &mut out);
    assert_eq!(out.take().len(), 1);
    assert!(host.udp_recv(&mut [0; 64]).is_none());
}

#[test]
fn ipv6_datagrams_and_port_unreachable() {
    let mut host = bound();
    let mut out = Sent::default();
    host.receive(
        0,
        VIF,
        &udp_v6((PEER_V6, 7), (HOST_V6, LOCAL), b"six"),
        &mut out,
    );
    let mut buf = [0u8; 64];
    let d = host.udp_recv(&mut buf).unwrap();
    assert_eq!(
        (d.from, d.port, &buf[..d.len]),
        (IpAddr::V6(PEER_V6), 7, &b"six"[..])
    );
    host.receive(
        0,
        VIF,
        &udp_v6((PEER_V6, 7), (HOST_V6, 9), b"six"),
        &mut out,
    );
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    let (_, icmp) = parse_icmpv6(&sent[0].1);
    assert!(matches!(
        icmp,
        Icmpv6Repr::DstUnreachable {
            reason: Icmpv6DstUnreachable::PortUnreachable,
            ..
        }
    ));
}

#[test]
fn refusals() {
    let mut host = endpoint();
    let peer = IpAddr::V4(PEER_V4);
    assert_eq!(host.udp_send(0, peer, 69, b"x"), Err(UdpError::NotBound));
    host.udp_bind(LOCAL);
    assert_eq!(
        host.udp_send(0, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 69, b"x"),
        Err(UdpError::NoRoute)
    );
    assert_eq!(
        host.udp_send(0, peer, 69, &[0; 1473]),
        Err(UdpError::TooLarge)
    );
    host.udp_send(0, peer, 69, &[0; 1472]).unwrap();
    host.udp_send(0, peer, 69, b"2").unwrap();
    assert_eq!(host.udp_send(0, peer, 69, b"3"), Err(UdpError::QueueFull));
}

#[test]
fn a_silent_peer_costs_the_datagram_not_the_socket() {
    let mut host = bound();
    let mut out = Sent::default();
    host.udp_send(0, IpAddr::V4(PEER_V4), 69, b"lost").unwrap();
    // ARP is asked three times, a second apart, then the entry fails.
    let mut now = 0;
    while now <= 5_000_000 {
        host.poll(now, &mut out);
        now += 100_000;
    }
    let sent = out.take();
    assert!(
        sent.iter().all(|(_, f)| f[12..14] == [0x08, 0x06]),
        "only ARP"
    );
    host.udp_send(now, IpAddr::V4(PEER_V4), 69, b"next")
        .unwrap();
    // Queue room again: the lost one was dropped.
    host.udp_send(now, IpAddr::V4(PEER_V4), 69, b"more")
        .unwrap();
    host.receive(now, VIF, &arp_reply(), &mut out);
    host.poll(now, &mut out);
    let payloads: Vec<_> = out
        .take()
        .iter()
        .filter(|(_, f)| f[12..14] == [0x08, 0x00])
        .map(|(_, f)| parse_udp_v4(f).2)
        .collect();
    assert_eq!(payloads, vec![b"next".to_vec(), b"more".to_vec()]);
}

#[test]
fn through_a_gateway_the_gateway_is_resolved_and_the_peer_addressed() {
    let mut host = bound();
    let mut out = Sent::default();
    let gateway = Ipv4Addr::new(10, 0, 1, 254);
    let far = Ipv4Addr::new(192, 0, 2, 7);
    // Not on a connected network: only through the gateway.
    assert_eq!(
        host.udp_send(0, IpAddr::V4(far), 69, b"x"),
        Err(UdpError::NoRoute)
    );
    host.udp_send_via(0, (VIF, IpAddr::V4(gateway)), IpAddr::V4(far), 69, b"far")
        .unwrap();
    host.poll(0, &mut out);
    let sent = out.take();
    assert!(
        matches!(parse_arp(&sent[0].1), ArpRepr::EthernetIpv4 { target_protocol_addr, .. } if target_protocol_addr == gateway)
    );
    let reply = arp(
        ArpOperation::Reply,
        (PEER_MAC, gateway),
        (HOST_MAC, HOST_V4),
        HOST_MAC,
    );
    host.receive(1000, VIF, &reply, &mut out);
    host.poll(1000, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0].1[..6], &PEER_MAC);
    assert_eq!(
        parse_udp_v4(&sent[0].1),
        ((HOST_V4, LOCAL), (far, 69), b"far".to_vec())
    );
    // A next hop of the other family is no route.
    assert_eq!(
        host.udp_send_via(0, (VIF, IpAddr::V6(PEER_V6)), IpAddr::V4(far), 69, b"x"),
        Err(UdpError::NoRoute)
    );
}
