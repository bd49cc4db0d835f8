//! Building the frames the endpoint sends, with smoltcp's `wire` representations, in the
//! endpoint's one frame buffer: ARP requests and replies, IPv4 with ICMP, IPv6 with ICMPv6
//! (echo and neighbour discovery).

use core::net::{Ipv4Addr, Ipv6Addr};

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet,
    Ipv4Repr, Ipv6Packet, Ipv6Repr, NdiscNeighborFlags, NdiscRepr, RawHardwareAddress,
    ETHERNET_HEADER_LEN, IPV6_HEADER_LEN,
};

use crate::{FrameSink, HostIp, IfaceId, Mac};

/// The hop limit / TTL of what the host sends (Linux's and RouterOS's default).
pub(crate) const TTL: u8 = 64;
/// The hop limit neighbour discovery requires.
pub(crate) const ND_HOP_LIMIT: u8 = 255;
const BROADCAST: Mac = [0xFF; 6];

/// Echo request data: a fixed byte pattern (0, 1, 2, ...).
static PATTERN: [u8; crate::FRAME_MAX] = {
    let mut p = [0u8; crate::FRAME_MAX];
    let mut i = 0;
    while i < p.len() {
        p[i] = i as u8;
        i += 1;
    }
    p
};

/// `len` bytes of echo data.
pub(crate) fn pattern(len: usize) -> &'static [u8] {
    &PATTERN[..len.min(PATTERN.len())]
}

/// The solicited-node multicast address of `addr`: `ff02::1:ff00:0/104` with the low 24 bits
/// of `addr`.
pub(crate) fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    let mut a = [0u8; 16];
    a[0] = 0xFF;
    a[1] = 0x02;
    a[11] = 0x01;
    a[12] = 0xFF;
    a[13..].copy_from_slice(&o[13..]);
    Ipv6Addr::from(a)
}

/// The Ethernet multicast address of IPv6 multicast `addr` (`33:33` + its last 32 bits).
fn multicast_mac(addr: Ipv6Addr) -> Mac {
    let o = addr.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

/// Writes the Ethernet header and sends the first `ETHERNET_HEADER_LEN + payload` bytes.
pub(crate) fn finish(
    host: &mut HostIp,
    iface: IfaceId,
    dst: Mac,
    ethertype: EthernetProtocol,
    payload: usize,
    out: &mut dyn FrameSink,
) {
    let Some(src) = host.config.iface(iface).map(|i| i.mac) else {
        return;
    };
    let len = ETHERNET_HEADER_LEN + payload;
    let mut frame = EthernetFrame::new_unchecked(&mut host.buf[..len]);
    EthernetRepr {
        src_addr: EthernetAddress(src),
        dst_addr: EthernetAddress(dst),
        ethertype,
    }
    .emit(&mut frame);
    host.stats.tx_frames += 1;
    out.send(iface, &host.buf[..len]);
}

fn arp(
    host: &mut HostIp,
    iface: IfaceId,
    operation: ArpOperation,
    sender: Ipv4Addr,
    target: (Mac, Ipv4Addr),
    eth_dst: Mac,
    out: &mut dyn FrameSink,
) {
    let Some(mac) = host.config.iface(iface).map(|i| i.mac) else {
        return;
    };
    let repr = ArpRepr::EthernetIpv4 {
        operation,
        source_hardware_addr: EthernetAddress(mac),
        source_protocol_addr: sender,
        target_hardware_addr: EthernetAddress(target.0),
        target_protocol_addr: target.1,
    };
    let len = repr.buffer_len();
    repr.emit(&mut ArpPacket::new_unchecked(
        &mut host.buf[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + len],
    ));
    finish(host, iface, eth_dst, EthernetProtocol::Arp, len, out);
}

/// Who-has `target` on `iface`: broadcast, or to `unicast` to confirm a known neighbour. The
/// sender address is the interface's address on `target`'s network (else its first).
pub(crate) fn arp_request(
    host: &mut HostIp,
    iface: IfaceId,
    target: Ipv4Addr,
    unicast: Option<Mac>,
    out: &mut dyn FrameSink,
) {
    let Some((sender, _)) = host.config.route_v4_source(iface, target) else {
        return;
    };
    let dst = unicast.unwrap_or(BROADCAST);
    arp(
        host,
        iface,
        ArpOperation::Request,
        sender,
        ([0; 6], target),
        dst,
        out,
    );
}

/// `ours` is at our MAC: the answer to `asker`.
pub(crate) fn arp_reply(
    host: &mut HostIp,
    iface: IfaceId,
    ours: Ipv4Addr,
    asker: (Mac, Ipv4Addr),
    out: &mut dyn FrameSink,
) {
    host.stats.arp_replies += 1;
    arp(host, iface, ArpOperation::Reply, ours, asker, asker.0, out);
}

/// An IPv4 packet carrying `icmp` from `src` to `dst` (at `dst_mac`).
pub(crate) fn icmpv4(
    host: &mut HostIp,
    iface: IfaceId,
    dst_mac: Mac,
    (src, dst): (Ipv4Addr, Ipv4Addr),
    icmp: &Icmpv4Repr<'_>,
    out: &mut dyn FrameSink,
) {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        hop_limit: TTL,
    };
    let len = ip.buffer_len() + ip.payload_len;
    if ETHERNET_HEADER_LEN + len > host.buf.len() {
        return;
    }
    let mut packet =
        Ipv4Packet::new_unchecked(&mut host.buf[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + len]);
    ip.emit(&mut packet, &caps);
    icmp.emit(
        &mut Icmpv4Packet::new_unchecked(packet.payload_mut()),
        &caps,
    );
    finish(host, iface, dst_mac, EthernetProtocol::Ipv4, len, out);
}

/// An IPv6 packet carrying `icmp` from `src` to `dst` (at `dst_mac`) with `hop_limit`.
pub(crate) fn icmpv6(
    host: &mut HostIp,
    iface: IfaceId,
    dst_mac: Mac,
    (src, dst): (Ipv6Addr, Ipv6Addr),
    hop_limit: u8,
    icmp: &Icmpv6Repr<'_>,
    out: &mut dyn FrameSink,
) {
    let caps = ChecksumCapabilities::default();
    let ip = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Icmpv6,
        payload_len: icmp.buffer_len(),
        hop_limit,
    };
    let len = IPV6_HEADER_LEN + ip.payload_len;
    if ETHERNET_HEADER_LEN + len > host.buf.len() {
        return;
    }
    let mut packet =
        Ipv6Packet::new_unchecked(&mut host.buf[ETHERNET_HEADER_LEN..ETHERNET_HEADER_LEN + len]);
    ip.emit(&mut packet);
    icmp.emit(
        &src,
        &dst,
        &mut Icmpv6Packet::new_unchecked(packet.payload_mut()),
        &caps,
    );
    finish(host, iface, dst_mac, EthernetProtocol::Ipv6, len, out);
}

/// A neighbour solicitation for `target` on `iface`: to its solicited-node group, or to
/// `unicast` to confirm a known neighbour. From the interface's link-local address.
pub(crate) fn neighbor_solicit(
    host: &mut HostIp,
    iface: IfaceId,
    target: Ipv6Addr,
    unicast: Option<Mac>,
    out: &mut dyn FrameSink,
) {
    let Some(iface_cfg) = host.config.iface(iface).copied() else {
        return;
    };
    let Some((src, _)) = host.config.v6_on(iface).next() else {
        return;
    };
    let (dst, dst_mac) = match unicast {
        Some(mac) => (target, mac),
        None => (
            solicited_node(target),
            multicast_mac(solicited_node(target)),
        ),
    };
    let icmp = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
        target_addr: target,
        lladdr: Some(RawHardwareAddress::from_bytes(&iface_cfg.mac)),
    });
    icmpv6(host, iface, dst_mac, (src, dst), ND_HOP_LIMIT, &icmp, out);
}

/// A neighbour advertisement for our `target`: solicited (to the asker) or, for a duplicate
/// address check (the asker has no address yet), to all nodes.
pub(crate) fn neighbor_advert(
    host: &mut HostIp,
    iface: IfaceId,
    target: Ipv6Addr,
    asker: Option<(Mac, Ipv6Addr)>,
    out: &mut dyn FrameSink,
) {
    let Some(mac) = host.config.iface(iface).map(|i| i.mac) else {
        return;
    };
    let (flags, dst_mac, dst) = match asker {
        Some((mac, ip)) => (
            NdiscNeighborFlags::SOLICITED | NdiscNeighborFlags::OVERRIDE,
            mac,
            ip,
        ),
        None => {
            let all = smoltcp::wire::IPV6_LINK_LOCAL_ALL_NODES;
            (NdiscNeighborFlags::OVERRIDE, multicast_mac(all), all)
        }
    };
    let icmp = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        flags,
        target_addr: target,
        lladdr: Some(RawHardwareAddress::from_bytes(&mac)),
    });
    host.stats.nd_adverts += 1;
    icmpv6(
        host,
        iface,
        dst_mac,
        (target, dst),
        ND_HOP_LIMIT,
        &icmp,
        out,
    );
}
