//! Frames the host's own IP is tested with, built by hand as bytes (ARP, ICMP echo), and the
//! host's configuration for those tests.

use std::net::{IpAddr, Ipv4Addr};

use vmm::hostip::{AddrConfig, IfaceConfig, IfaceId};
use vmm::{HostAttach, HostPlan};

/// The host's MAC, address and interface in these tests.
pub const HOST_MAC: [u8; 6] = [0x02, 0x4D, 0x52, 0, 0, 1];
pub const HOST_IP: [u8; 4] = [10, 0, 1, 1];
pub const HOST_IFACE: IfaceId = IfaceId(4);

/// The host with `HOST_IP`/24 on `HOST_IFACE`, which meets the switch at `attach`.
pub fn host_plan(attach: HostAttach) -> HostPlan {
    HostPlan {
        ifaces: vec![IfaceConfig {
            id: HOST_IFACE,
            mac: HOST_MAC,
            arp: hostip::ArpMode::Enabled,
            mtu: 1500,
        }],
        addrs: vec![AddrConfig {
            iface: HOST_IFACE,
            addr: IpAddr::V4(Ipv4Addr::from(HOST_IP)),
            prefix_len: 24,
        }],
        links: vec![(HOST_IFACE, attach)],
        static_arp: Vec::new(),
        forwarding: Default::default(),
    }
}

/// An ARP frame (`op` 1 request, 2 reply).
pub fn arp(
    op: u16,
    sender: ([u8; 6], [u8; 4]),
    target: ([u8; 6], [u8; 4]),
    dst: [u8; 6],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&sender.1);
    f.extend_from_slice(&target.0);
    f.extend_from_slice(&target.1);
    f
}

/// The Internet checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 ICMP echo (`kind` 8 request, 0 reply).
pub fn echo(
    kind: u8,
    src: ([u8; 6], [u8; 4]),
    dst: ([u8; 6], [u8; 4]),
    ident: u16,
    seq: u16,
    data: &[u8],
) -> Vec<u8> {
    let mut icmp = vec![kind, 0, 0, 0];
    icmp.extend_from_slice(&ident.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(data);
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(20 + icmp.len() as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0, 0, 64, 1, 0, 0]);
    ip.extend_from_slice(&src.1);
    ip.extend_from_slice(&dst.1);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = Vec::new();
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend(ip);
    f.extend(icmp);
    f
}
