//! A minimal UDP endpoint for the host's own clients (`/tool fetch mode=tftp`): one bound
//! local port at a time, a few datagrams queued each way, no allocation.
//!
//! - [`HostIp::udp_bind`] takes a local port; [`HostIp::udp_unbind`] lets it go (what is
//!   queued is dropped).
//! - [`HostIp::udp_send`] queues a datagram to a peer on a connected network (the interface
//!   and source address are chosen as for `/ping`: the connected network holding the peer);
//!   [`HostIp::udp_send_via`] to a peer behind a gateway (the caller's routing decision: the
//!   interface and the next hop; the source is the interface's address on the next hop's
//!   network). [`HostIp::poll`] sends it once the next hop's MAC is known (asking for it with
//!   ARP or neighbour solicitation first); a datagram whose next hop does not answer is
//!   dropped when its neighbour entry fails, or after [`RESOLVE_WAIT_US`] (UDP is unreliable:
//!   the client's own timeout resends).
//! - A datagram for the bound port, to one of the host's unicast addresses, with a good
//!   checksum, waits in the receive queue ([`HostIp::udp_recv`]); when that is full it is
//!   dropped and counted ([`Drop::UdpQueueFull`]). One for another port is answered with ICMP
//!   (or ICMPv6) port unreachable, as Linux does, and counted ([`Drop::PortUnreachable`]).

use core::net::IpAddr;

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    Icmpv4DstUnreachable, Icmpv4Repr, Icmpv6DstUnreachable, Icmpv6Repr, IpAddress, IpProtocol,
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, UdpPacket, UdpRepr, ETHERNET_HEADER_LEN,
    IPV4_HEADER_LEN, IPV6_HEADER_LEN, UDP_HEADER_LEN,
};

use crate::neighbor::NeighborState;
use crate::{tx, Drop, FrameSink, HostIp, IfaceId, Mac, Micros};

/// The largest UDP payload sent or kept: what fills a 1500-byte IPv4 packet.
pub const UDP_PAYLOAD_MAX: usize = 1500 - IPV4_HEADER_LEN - UDP_HEADER_LEN;
/// Datagrams waiting to be sent.
const TX_SLOTS: usize = 2;
/// Datagrams received and not yet taken.
const RX_SLOTS: usize = 4;
/// How long a datagram waits for its peer's MAC.
pub const RESOLVE_WAIT_US: Micros = 3_000_000;

/// Why a datagram cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpError {
    /// No port is bound.
    NotBound,
    /// No interface has an address on the peer's network.
    NoRoute,
    /// The payload is larger than [`UDP_PAYLOAD_MAX`] or the interface's MTU allows.
    TooLarge,
    /// Datagrams wait for the peer's address and the queue is full (send again later).
    QueueFull,
}

/// A received datagram's source and length (its bytes are in the caller's buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    pub from: IpAddr,
    pub port: u16,
    pub len: usize,
}

#[derive(Clone, Copy)]
struct Slot {
    peer: IpAddr,
    port: u16,
    len: usize,
    buf: [u8; UDP_PAYLOAD_MAX],
    /// Sending: the interface, the source address, the next hop and when it was queued.
    route: Option<(IfaceId, IpAddr, IpAddr, Micros)>,
}

const EMPTY: Slot = Slot {
    peer: IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED),
    port: 0,
    len: 0,
    buf: [0; UDP_PAYLOAD_MAX],
    route: None,
};

/// The endpoint's one socket: its port and its queues (oldest first).
#[derive(Clone)]
pub(crate) struct Socket {
    port: Option<u16>,
    tx: [Slot; TX_SLOTS],
    tx_len: usize,
    rx: [Slot; RX_SLOTS],
    rx_len: usize,
}

impl Socket {
    pub(crate) const fn new() -> Self {
        Socket {
            port: None,
            tx: [EMPTY; TX_SLOTS],
            tx_len: 0,
            rx: [EMPTY; RX_SLOTS],
            rx_len: 0,
        }
    }

    pub(crate) fn sending(&self) -> bool {
        self.tx_len > 0
    }
}

impl HostIp {
    /// Binds local UDP port `port` (replacing a bound one; the queues are emptied).
    pub fn udp_bind(&mut self, port: u16) {
        self.udp = Socket::new();
        self.udp.port = Some(port);
    }

    /// Lets the bound port go; what is queued is dropped.
    pub fn udp_unbind(&mut self) {
        self.udp = Socket::new();
    }

    /// Queues `payload` for `peer`:`port` from the bound port at time `now`; [`HostIp::poll`]
    /// sends it.
    pub fn udp_send(
        &mut self,
        now: Micros,
        peer: IpAddr,
        port: u16,
        payload: &[u8],
    ) -> Result<(), UdpError> {
        self.udp.port.ok_or(UdpError::NotBound)?;
        let (iface, source) = self.config.route(peer, None).ok_or(UdpError::NoRoute)?;
        self.queue(now, (iface, source, peer), peer, port, payload)
    }

    /// Queues `payload` for `peer`:`port` through `next_hop` on `iface` (a gateway the
    /// caller's routes name, or the peer itself); from the interface's address on the next
    /// hop's network.
    pub fn udp_send_via(
        &mut self,
        now: Micros,
        (iface, next_hop): (IfaceId, IpAddr),
        peer: IpAddr,
        port: u16,
        payload: &[u8],
    ) -> Result<(), UdpError> {
        self.udp.port.ok_or(UdpError::NotBound)?;
        if peer.is_ipv4() != next_hop.is_ipv4() {
            return Err(UdpError::NoRoute);
        }
        let source = match next_hop {
            IpAddr::V4(hop) => self
                .config
                .route_v4_source(iface, hop)
                .map(|(a, _)| IpAddr::V4(a)),
            IpAddr::V6(_) => self
                .config
                .v6_on(iface)
                .find(|(a, _)| !a.is_unicast_link_local())
                .map(|(a, _)| IpAddr::V6(a)),
        };
        let source = source.ok_or(UdpError::NoRoute)?;
        self.queue(now, (iface, source, next_hop), peer, port, payload)
    }

    fn queue(
        &mut self,
        now: Micros,
        (iface, source, next_hop): (IfaceId, IpAddr, IpAddr),
        peer: IpAddr,
        port: u16,
        payload: &[u8],
    ) -> Result<(), UdpError> {
        let mtu = self.config.iface(iface).map_or(0, |i| usize::from(i.mtu));
        let ip_header = if peer.is_ipv4() {
            IPV4_HEADER_LEN
        } else {
            IPV6_HEADER_LEN
        };
        if payload.len() > UDP_PAYLOAD_MAX || ip_header + UDP_HEADER_LEN + payload.len() > mtu {
            return Err(UdpError::TooLarge);
        }
        if self.udp.tx_len == TX_SLOTS {
            return Err(UdpError::QueueFull);
        }
        let slot = &mut self.udp.tx[self.udp.tx_len];
        slot.peer = peer;
        slot.port = port;
        slot.len = payload.len();
        slot.buf[..payload.len()].copy_from_slice(payload);
        slot.route = Some((iface, source, next_hop, now));
        self.udp.tx_len += 1;
        Ok(())
    }

    /// Takes the oldest received datagram into `buf` (cut to its length).
    pub fn udp_recv(&mut self, buf: &mut [u8]) -> Option<Datagram> {
        if self.udp.rx_len == 0 {
            return None;
        }
        let slot = self.udp.rx[0];
        self.udp.rx.copy_within(1.., 0);
        self.udp.rx_len -= 1;
        let len = slot.len.min(buf.len());
        buf[..len].copy_from_slice(&slot.buf[..len]);
        Some(Datagram {
            from: slot.peer,
            port: slot.port,
            len,
        })
    }
}

/// Sends the queued datagrams whose peer's MAC is known; drops those whose peer failed.
pub(crate) fn poll(host: &mut HostIp, now: Micros, out: &mut dyn FrameSink) {
    let mut k = 0;
    while k < host.udp.tx_len {
        let slot = host.udp.tx[k];
        let Some((iface, source, next_hop, queued)) = slot.route else {
            k += 1;
            continue;
        };
        let done = match host.resolve(now, iface, next_hop, out) {
            Some(mac) => {
                send(host, iface, mac, (source, slot.peer), &slot, out);
                true
            }
            None => now >= queued + RESOLVE_WAIT_US || neighbor_failed(host, iface, next_hop),
        };
        if done {
            host.udp.tx.copy_within(k + 1.., k);
            host.udp.tx_len -= 1;
        } else {
            k += 1;
        }
    }
}

fn neighbor_failed(host: &HostIp, iface: IfaceId, peer: IpAddr) -> bool {
    let state = match peer {
        IpAddr::V4(a) => host.arp.get(iface, a).map(|e| e.state),
        IpAddr::V6(a) => host.nd.get(iface, a).map(|e| e.state),
    };
    state == Some(NeighborState::Failed)
}

fn send(
    host: &mut HostIp,
    iface: IfaceId,
    mac: Mac,
    (src, dst): (IpAddr, IpAddr),
    slot: &Slot,
    out: &mut dyn FrameSink,
) {
    let Some(src_port) = host.udp.port else {
        return;
    };
    let udp = UdpRepr {
        src_port,
        dst_port: slot.port,
    };
    let payload = &slot.buf[..slot.len];
    let caps = ChecksumCapabilities::default();
    let udp_len = UDP_HEADER_LEN + payload.len();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let ip = Ipv4Repr {
                src_addr: s,
                dst_addr: d,
                next_header: IpProtocol::Udp,
                payload_len: udp_len,
                hop_limit: tx::TTL,
            };
            let len = IPV4_HEADER_LEN + udp_len;
            let at = ETHERNET_HEADER_LEN;
            let mut packet = Ipv4Packet::new_unchecked(&mut host.buf[at..at + len]);
            ip.emit(&mut packet, &caps);
            udp.emit(
                &mut UdpPacket::new_unchecked(packet.payload_mut()),
                &IpAddress::Ipv4(s),
                &IpAddress::Ipv4(d),
                payload.len(),
                |b| b.copy_from_slice(payload),
                &caps,
            );
            tx::finish(
                host,
                iface,
                mac,
                smoltcp::wire::EthernetProtocol::Ipv4,
                len,
                out,
            );
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let ip = Ipv6Repr {
                src_addr: s,
                dst_addr: d,
                next_header: IpProtocol::Udp,
                payload_len: udp_len,
                hop_limit: tx::TTL,
            };
            let len = IPV6_HEADER_LEN + udp_len;
            let at = ETHERNET_HEADER_LEN;
            let mut packet = Ipv6Packet::new_unchecked(&mut host.buf[at..at + len]);
            ip.emit(&mut packet);
            udp.emit(
                &mut UdpPacket::new_unchecked(packet.payload_mut()),
                &IpAddress::Ipv6(s),
                &IpAddress::Ipv6(d),
                payload.len(),
                |b| b.copy_from_slice(payload),
                &caps,
            );
            tx::finish(
                host,
                iface,
                mac,
                smoltcp::wire::EthernetProtocol::Ipv6,
                len,
                out,
            );
        }
        _ => {}
    }
}

/// A UDP datagram for one of the host's unicast addresses arrived (`ip_packet` is the whole
/// IP packet, for the ICMP error's quote): queued for the bound port, or answered with port
/// unreachable.
pub(crate) fn receive(
    host: &mut HostIp,
    iface: IfaceId,
    src_mac: Mac,
    (src, dst): (IpAddr, IpAddr),
    udp_bytes: &[u8],
    ip_packet: &[u8],
    out: &mut dyn FrameSink,
) -> Result<(), Drop> {
    let packet = UdpPacket::new_checked(udp_bytes).map_err(|_| Drop::Malformed)?;
    let caps = ChecksumCapabilities::default();
    let (s, d) = (IpAddress::from(src), IpAddress::from(dst));
    let repr = UdpRepr::parse(&packet, &s, &d, &caps).map_err(|_| Drop::Malformed)?;
    if host.udp.port != Some(repr.dst_port) {
        port_unreachable(host, iface, src_mac, (src, dst), ip_packet, out);
        return Err(Drop::PortUnreachable);
    }
    if host.udp.rx_len == RX_SLOTS {
        return Err(Drop::UdpQueueFull);
    }
    let data = packet.payload();
    let len = data.len().min(UDP_PAYLOAD_MAX);
    let slot = &mut host.udp.rx[host.udp.rx_len];
    slot.peer = src;
    slot.port = repr.src_port;
    slot.len = len;
    slot.buf[..len].copy_from_slice(&data[..len]);
    host.udp.rx_len += 1;
    Ok(())
}

/// ICMP destination unreachable (port) to the sender, quoting the datagram as far as fits, as
/// Linux does (RFC 1812: an ICMP error of at most 576 bytes; RFC 4443: at most 1280).
fn port_unreachable(
    host: &mut HostIp,
    iface: IfaceId,
    src_mac: Mac,
    (src, dst): (IpAddr, IpAddr),
    ip_packet: &[u8],
    out: &mut dyn FrameSink,
) {
    let caps = ChecksumCapabilities::default();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let Ok(packet) = Ipv4Packet::new_checked(ip_packet) else {
                return;
            };
            let Ok(header) = Ipv4Repr::parse(&packet, &caps) else {
                return;
            };
            let room = 576 - 2 * IPV4_HEADER_LEN - 8;
            let quote = &packet.payload()[..packet.payload().len().min(room)];
            let icmp = Icmpv4Repr::DstUnreachable {
                reason: Icmpv4DstUnreachable::PortUnreachable,
                header,
                data: quote,
            };
            tx::icmpv4(host, iface, src_mac, (d, s), &icmp, out);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let Ok(packet) = Ipv6Packet::new_checked(ip_packet) else {
                return;
            };
            let Ok(header) = Ipv6Repr::parse(&packet) else {
                return;
            };
            let room = 1280 - IPV6_HEADER_LEN - 8 - IPV6_HEADER_LEN;
            let quote = &packet.payload()[..packet.payload().len().min(room)];
            let icmp = Icmpv6Repr::DstUnreachable {
                reason: Icmpv6DstUnreachable::PortUnreachable,
                header,
                data: quote,
            };
            tx::icmpv6(host, iface, src_mac, (d, s), tx::TTL, &icmp, out);
        }
        _ => {}
    }
}
