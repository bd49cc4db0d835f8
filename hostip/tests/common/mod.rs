//! Frames built byte by byte with smoltcp's `wire` module, a sink that keeps what the endpoint
//! sends, and a configured endpoint.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hostip::{AddrConfig, FrameSink, HostIp, IfaceConfig, IfaceId};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::*;

pub const HOST_MAC: [u8; 6] = [0x02, 0x4D, 0x52, 0x00, 0x00, 0x01];
pub const PEER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x11];
pub const VIF: IfaceId = IfaceId(5);
pub const HOST_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
pub const PEER_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
pub const HOST_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
pub const PEER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);

#[derive(Default)]
pub struct Sent(pub Vec<(IfaceId, Vec<u8>)>);

impl FrameSink for Sent {
    fn send(&mut self, iface: IfaceId, frame: &[u8]) {
        self.0.push((iface, frame.to_vec()));
    }
}

impl Sent {
    pub fn take(&mut self) -> Vec<(IfaceId, Vec<u8>)> {
        std::mem::take(&mut self.0)
    }
}

/// An endpoint with interface 5 (10.0.1.1/24, 2001:db8:1::1/64).
pub fn endpoint() -> HostIp {
    let mut host = HostIp::new();
    host.configure(
        &[IfaceConfig {
            id: VIF,
            mac: HOST_MAC,
            arp: hostip::ArpMode::Enabled,
            mtu: 1500,
        }],
        &[
            AddrConfig {
                iface: VIF,
                addr: IpAddr::V4(HOST_V4),
                prefix_len: 24,
            },
            AddrConfig {
                iface: VIF,
                addr: IpAddr::V6(HOST_V6),
                prefix_len: 64,
            },
        ],
    )
    .unwrap();
    host
}

pub fn ethernet(
    dst: [u8; 6],
    src: [u8; 6],
    ethertype: EthernetProtocol,
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = vec![0u8; 14 + payload.len()];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr {
        src_addr: EthernetAddress(src),
        dst_addr: EthernetAddress(dst),
        ethertype,
    }
    .emit(&mut frame);
    frame.payload_mut().copy_from_slice(payload);
    buf
}

pub fn arp(
    op: ArpOperation,
    sender: ([u8; 6], Ipv4Addr),
    target: ([u8; 6], Ipv4Addr),
    eth_dst: [u8; 6],
) -> Vec<u8> {
    let repr = ArpRepr::EthernetIpv4 {
        operation: op,
        source_hardware_addr: EthernetAddress(sender.0),
        source_protocol_addr: sender.1,
        target_hardware_addr: EthernetAddress(target.0),
        target_protocol_addr: target.1,
    };
    let mut payload = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut payload[..]));
    ethernet(eth_dst, sender.0, EthernetProtocol::Arp, &payload)
}

pub fn icmpv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    icmp: &Icmpv4Repr,
    eth: ([u8; 6], [u8; 6]),
) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        hop_limit: ttl,
    };
    let mut payload = vec![0u8; ip.buffer_len() + ip.payload_len];
    let mut packet = Ipv4Packet::new_unchecked(&mut payload[..]);
    ip.emit(&mut packet, &caps);
    icmp.emit(
        &mut Icmpv4Packet::new_unchecked(packet.payload_mut()),
        &caps,
    );
    ethernet(eth.0, eth.1, EthernetProtocol::Ipv4, &payload)
}

pub fn icmpv6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    icmp: &Icmpv6Repr,
    eth: ([u8; 6], [u8; 6]),
) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit,
    };
    let mut payload = vec![0u8; 40 + ip.payload_len];
    let mut packet = Ipv6Packet::new_unchecked(&mut payload[..]);
    ip.emit(&mut packet);
    icmp.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(packet.payload_mut()),
        &caps,
    );
    ethernet(eth.0, eth.1, EthernetProtocol::Ipv6, &payload)
}

/// The ARP packet of a frame.
pub fn parse_arp(frame: &[u8]) -> ArpRepr {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(eth.ethertype(), EthernetProtocol::Arp);
    ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap()
}

/// The IPv4 header and ICMP message of a frame (checksums verified).
pub fn parse_icmpv4(frame: &[u8]) -> (Ipv4Repr, Icmpv4Repr<'_>) {
    let caps = ChecksumCapabilities::default();
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv4);
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let repr = Ipv4Repr::parse(&ip, &caps).unwrap();
    let icmp = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(ip.payload()).unwrap(), &caps).unwrap();
    (repr, icmp)
}

/// The IPv6 header and ICMPv6 message of a frame (checksum verified).
pub fn parse_icmpv6(frame: &[u8]) -> (Ipv6Repr, Icmpv6Repr<'_>) {
    let caps = ChecksumCapabilities::default();
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv6);
    let ip = Ipv6Packet::new_checked(eth.payload()).unwrap();
    let repr = Ipv6Repr::parse(&ip).unwrap();
    let icmp = Icmpv6Repr::parse(
        &repr.src_addr,
        &repr.dst_addr,
        &Icmpv6Packet::new_checked(ip.payload()).unwrap(),
        &caps,
    )
    .unwrap();
    (repr, icmp)
}
