//! The receive path: one Ethernet frame for the host on one interface, checked, then ARP,
//! IPv4/ICMP or IPv6/ICMPv6 (echo and neighbour discovery). Every way a frame can be wrong
//! ends in a [`Drop`] reason; nothing here panics on any input.

use core::net::{Ipv4Addr, Ipv6Addr};

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetFrame, EthernetProtocol, Icmpv4Packet, Icmpv4Repr,
    Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr,
    NdiscNeighborFlags, NdiscRepr,
};

use crate::config::ArpMode;
use crate::neighbor::Learned;
use crate::{tx, Drop, FrameSink, HostIp, IfaceConfig, IfaceId, Mac, Micros, FRAME_MAX, FRAME_MIN};

type Result = core::result::Result<(), Drop>;

/// Handles one frame that arrived on `iface`.
pub(crate) fn receive(
    host: &mut HostIp,
    now: Micros,
    iface: IfaceId,
    frame: &[u8],
    out: &mut dyn FrameSink,
) -> Result {
    let cfg = *host.config.iface(iface).ok_or(Drop::UnknownInterface)?;
    if frame.len() < FRAME_MIN {
        return Err(Drop::Runt);
    }
    if frame.len() > FRAME_MAX {
        return Err(Drop::Giant);
    }
    let eth = EthernetFrame::new_checked(frame).map_err(|_| Drop::Runt)?;
    let src = eth.src_addr().0;
    // Sent by this interface or another of the host's: it came back round a loop.
    if host.config.ifaces().iter().any(|i| i.mac == src) {
        return Err(Drop::OwnSource);
    }
    if src[0] & 1 != 0 {
        return Err(Drop::BadSource);
    }
    let dst = eth.dst_addr().0;
    if dst[0] & 1 == 0 && dst != cfg.mac {
        return Err(Drop::NotForUs);
    }
    match eth.ethertype() {
        EthernetProtocol::Arp => {
            if let Some((ours, asker)) = arp(host, now, &cfg, eth.payload())? {
                tx::arp_reply(host, cfg.id, ours, asker, out);
            }
            Ok(())
        }
        EthernetProtocol::Ipv4 => ipv4(host, now, &cfg, src, eth.payload(), out),
        EthernetProtocol::Ipv6 => ipv6(host, now, &cfg, src, eth.payload(), out),
        _ => Err(Drop::UnknownEtherType),
    }
}

/// An ARP reply to send: our address, and the asker's MAC and address.
type ArpAnswer = (Ipv4Addr, (Mac, Ipv4Addr));

fn count_full(host: &mut HostIp, learned: Learned) {
    if learned == Learned::TableFull {
        host.stats.count(Drop::NeighborTableFull);
    }
}

fn arp(
    host: &mut HostIp,
    now: Micros,
    cfg: &IfaceConfig,
    payload: &[u8],
) -> core::result::Result<Option<ArpAnswer>, Drop> {
    if cfg.arp == ArpMode::Disabled {
        return Err(Drop::ArpDisabled);
    }
    // `reply-only` answers but learns nothing: its neighbours are the static entries.
    let learns = cfg.arp == ArpMode::Enabled;
    let packet = ArpPacket::new_checked(payload).map_err(|_| Drop::Malformed)?;
    let ArpRepr::EthernetIpv4 {
        operation,
        source_hardware_addr,
        source_protocol_addr: sender,
        target_protocol_addr: target,
        ..
    } = ArpRepr::parse(&packet).map_err(|_| Drop::Malformed)?
    else {
        return Err(Drop::Malformed);
    };
    let sender_mac = source_hardware_addr.0;
    if sender_mac[0] & 1 != 0 || sender_mac == [0; 6] || sender_mac == cfg.mac {
        return Err(Drop::BadSource);
    }
    if host.config.is_own_v4(sender) {
        return Err(Drop::AddressConflict);
    }
    let for_us = host.config.v4_on(cfg.id).any(|(a, _)| a == target);
    let probe = sender.is_unspecified();
    if for_us && !probe && !host.config.v4_connected(cfg.id, sender) {
        return Err(Drop::OffSubnet);
    }
    if learns && for_us && !probe {
        let learned = host.arp.learn(now, cfg.id, sender, sender_mac, true);
        count_full(host, learned);
        host.ping.neighbor_known(cfg.id, sender.into(), sender_mac);
    } else if learns && !probe && host.arp.refresh(now, cfg.id, sender, sender_mac) {
        host.ping.neighbor_known(cfg.id, sender.into(), sender_mac);
    }
    match (for_us, operation) {
        (true, ArpOperation::Request) => Ok(Some((target, (sender_mac, sender)))),
        (true, _) => Ok(None),
        (false, _) => Err(Drop::NotOurAddress),
    }
}

fn ipv4(
    host: &mut HostIp,
    now: Micros,
    cfg: &IfaceConfig,
    src_mac: Mac,
    payload: &[u8],
    out: &mut dyn FrameSink,
) -> Result {
    let caps = ChecksumCapabilities::default();
    let packet = Ipv4Packet::new_checked(payload).map_err(|_| Drop::Malformed)?;
    let ip = Ipv4Repr::parse(&packet, &caps).map_err(|_| Drop::Malformed)?;
    // Any of the host's addresses, whichever interface it is on (a router answers for all of
    // them: the weak host model of Linux and RouterOS; such packets reach it routed).
    if !host.config.v4_on(cfg.id).any(|(a, _)| a == ip.dst_addr)
        && !host.config.is_own_v4(ip.dst_addr)
    {
        return Err(Drop::NotOurAddress);
    }
    if host.config.is_own_v4(ip.src_addr) || ip.src_addr.is_broadcast() {
        return Err(Drop::AddressConflict);
    }
    if ip.next_header == IpProtocol::Udp {
        let addrs = (ip.src_addr.into(), ip.dst_addr.into());
        let bytes = &payload[..usize::from(packet.total_len())];
        return crate::udp::receive(host, cfg.id, src_mac, addrs, packet.payload(), bytes, out);
    }
    if ip.next_header != IpProtocol::Icmp {
        return Err(Drop::Unhandled);
    }
    let icmp_packet = Icmpv4Packet::new_checked(packet.payload()).map_err(|_| Drop::Malformed)?;
    let icmp = Icmpv4Repr::parse(&icmp_packet, &caps).map_err(|_| Drop::Malformed)?;
    match icmp {
        Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        } => {
            host.stats.echo_replies += 1;
            let reply = Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            tx::icmpv4(
                host,
                cfg.id,
                src_mac,
                (ip.dst_addr, ip.src_addr),
                &reply,
                out,
            );
            Ok(())
        }
        Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data,
        } => {
            let size = packet.total_len();
            host.ping.echo_reply(
                now,
                ip.src_addr.into(),
                ident,
                seq_no,
                data,
                size,
                ip.hop_limit,
            );
            Ok(())
        }
        _ => Err(Drop::Unhandled),
    }
}

fn ipv6(
    host: &mut HostIp,
    now: Micros,
    cfg: &IfaceConfig,
    src_mac: Mac,
    payload: &[u8],
    out: &mut dyn FrameSink,
) -> Result {
    let caps = ChecksumCapabilities::default();
    let packet = Ipv6Packet::new_checked(payload).map_err(|_| Drop::Malformed)?;
    let ip = Ipv6Repr::parse(&packet).map_err(|_| Drop::Malformed)?;
    let (src, dst) = (ip.src_addr, ip.dst_addr);
    // As for IPv4, any of the host's addresses; a link-local one only on its own link.
    let unicast_to_us = host.config.v6_on(cfg.id).any(|(a, _)| a == dst)
        || (dst.segments()[0] & 0xffc0 != 0xfe80 && host.config.is_own_v6(dst));
    let group_of_ours = dst == smoltcp::wire::IPV6_LINK_LOCAL_ALL_NODES
        || host
            .config
            .v6_on(cfg.id)
            .any(|(a, _)| tx::solicited_node(a) == dst);
    if !unicast_to_us && !group_of_ours {
        return Err(Drop::NotOurAddress);
    }
    if src.is_multicast() || (!src.is_unspecified() && host.config.is_own_v6(src)) {
        return Err(Drop::AddressConflict);
    }
    if ip.next_header == IpProtocol::Udp && unicast_to_us && !src.is_unspecified() {
        let bytes = &payload[..smoltcp::wire::IPV6_HEADER_LEN + ip.payload_len];
        let addrs = (src.into(), dst.into());
        return crate::udp::receive(host, cfg.id, src_mac, addrs, packet.payload(), bytes, out);
    }
    if ip.next_header != IpProtocol::Icmpv6 {
        return Err(Drop::Unhandled);
    }
    let icmp_packet = Icmpv6Packet::new_checked(packet.payload()).map_err(|_| Drop::Malformed)?;
    let icmp = Icmpv6Repr::parse(&src, &dst, &icmp_packet, &caps).map_err(|_| Drop::Malformed)?;
    match icmp {
        Icmpv6Repr::EchoRequest {
            ident,
            seq_no,
            data,
        } if unicast_to_us && !src.is_unspecified() => {
            host.stats.echo_replies += 1;
            let reply = Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            tx::icmpv6(host, cfg.id, src_mac, (dst, src), tx::TTL, &reply, out);
            Ok(())
        }
        Icmpv6Repr::EchoReply {
            ident,
            seq_no,
            data,
        } if unicast_to_us => {
            let size = (ip.payload_len + smoltcp::wire::IPV6_HEADER_LEN) as u16;
            host.ping
                .echo_reply(now, src.into(), ident, seq_no, data, size, ip.hop_limit);
            Ok(())
        }
        Icmpv6Repr::Ndisc(nd) => {
            if ip.hop_limit != tx::ND_HOP_LIMIT {
                return Err(Drop::NdHopLimit);
            }
            ndisc(host, now, cfg, src, nd, out)
        }
        _ => Err(Drop::Unhandled),
    }
}

fn ndisc(
    host: &mut HostIp,
    now: Micros,
    cfg: &IfaceConfig,
    src: Ipv6Addr,
    nd: NdiscRepr<'_>,
    out: &mut dyn FrameSink,
) -> Result {
    let mac_of = |lladdr: Option<smoltcp::wire::RawHardwareAddress>| -> Option<Mac> {
        let bytes = lladdr?;
        let mac: Mac = bytes.as_bytes().try_into().ok()?;
        (mac[0] & 1 == 0 && mac != [0; 6]).then_some(mac)
    };
    match nd {
        NdiscRepr::NeighborSolicit {
            target_addr,
            lladdr,
        } => {
            if !host.config.v6_on(cfg.id).any(|(a, _)| a == target_addr) {
                return Err(Drop::NotOurAddress);
            }
            if src.is_unspecified() {
                // Someone checks whether the address is free: it is ours.
                tx::neighbor_advert(host, cfg.id, target_addr, None, out);
                return Ok(());
            }
            let mac = mac_of(lladdr).ok_or(Drop::Malformed)?;
            if mac == cfg.mac {
                return Err(Drop::OwnSource);
            }
            let learned = host.nd.learn(now, cfg.id, src, mac, false);
            count_full(host, learned);
            host.ping.neighbor_known(cfg.id, src.into(), mac);
            tx::neighbor_advert(host, cfg.id, target_addr, Some((mac, src)), out);
            Ok(())
        }
        NdiscRepr::NeighborAdvert {
            flags,
            target_addr,
            lladdr,
        } => {
            if host.config.is_own_v6(target_addr) {
                return Err(Drop::AddressConflict);
            }
            let Some(mac) = mac_of(lladdr) else {
                return Err(Drop::Malformed);
            };
            if mac == cfg.mac {
                return Err(Drop::OwnSource);
            }
            let solicited = flags.contains(NdiscNeighborFlags::SOLICITED);
            let known = host.nd.get(cfg.id, target_addr).is_some();
            if !known {
                // Unsolicited news of a stranger: not learned (RFC 4861 7.2.5).
                return Err(Drop::Unhandled);
            }
            host.nd.learn(now, cfg.id, target_addr, mac, solicited);
            host.nd.set_router(
                cfg.id,
                target_addr,
                flags.contains(NdiscNeighborFlags::ROUTER),
            );
            host.ping.neighbor_known(cfg.id, target_addr.into(), mac);
            Ok(())
        }
        _ => Err(Drop::Unhandled),
    }
}
