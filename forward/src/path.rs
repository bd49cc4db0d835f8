//! The forwarding path: one received frame through validation, the martian checks, the
//! routing decision, TTL, MTU and the next hop's MAC, to a rewritten frame sent out, an ICMP
//! error sent back, or a wait queue; and the release or expiry of the wait queues.

use core::net::IpAddr;

use routing::{Decision, EcmpChoice, EcmpMode, IfId, Packet};

use crate::frag::Fragments;
use crate::icmp::{self, Error, Link};
use crate::parse::{self, Header, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETH_LEN};
use crate::pending::{Pushed, Queue, WAIT_QUEUES, WAIT_TIMEOUT_US};
use crate::ratelimit;
use crate::{Drop, Forwarder, Interface, Mac, Micros, Neighbors, Outcome, RouteSource, Sink};

/// An ICMP error, independent of the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    NetUnreachable,
    HostUnreachable,
    Prohibited,
    TimeExceeded,
    /// Fragmentation needed (IPv4) or packet too big (IPv6), with the MTU.
    TooBig(u16),
    /// IPv6 only: a link-local source routed off its link.
    BeyondScope,
    /// The next hop did not answer resolution.
    NeighborFailed,
}

fn error_for(reason: Reason, v4: bool) -> Error {
    use icmp::*;
    let (kind, code, rest) = match (reason, v4) {
        (Reason::NetUnreachable, true) => (V4_UNREACHABLE, V4_NET_UNREACHABLE, 0),
        (Reason::HostUnreachable | Reason::NeighborFailed, true) => {
            (V4_UNREACHABLE, V4_HOST_UNREACHABLE, 0)
        }
        (Reason::Prohibited, true) => (V4_UNREACHABLE, V4_ADMIN_PROHIBITED, 0),
        (Reason::TimeExceeded, true) => (V4_TIME_EXCEEDED, 0, 0),
        (Reason::TooBig(mtu), true) => (V4_UNREACHABLE, V4_FRAGMENTATION_NEEDED, u32::from(mtu)),
        // Linux sends "no route" for unreachable routes and for no route alike.
        (Reason::NetUnreachable | Reason::HostUnreachable, false) => {
            (V6_UNREACHABLE, V6_NO_ROUTE, 0)
        }
        (Reason::Prohibited, false) => (V6_UNREACHABLE, V6_ADMIN_PROHIBITED, 0),
        (Reason::BeyondScope, false) | (Reason::BeyondScope, true) => {
            (V6_UNREACHABLE, V6_BEYOND_SCOPE, 0)
        }
        (Reason::NeighborFailed, false) => (V6_UNREACHABLE, V6_ADDRESS_UNREACHABLE, 0),
        (Reason::TimeExceeded, false) => (V6_TIME_EXCEEDED, 0, 0),
        (Reason::TooBig(mtu), false) => (V6_PACKET_TOO_BIG, 0, u32::from(mtu)),
    };
    Error { kind, code, rest }
}

fn is_link_local_v6(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

impl Forwarder {
    /// A frame arrived on `in_interface`: forward it, answer it with an ICMP error, queue it
    /// for its next hop, hand it to the host ([`Outcome::ToHost`]: the caller gives it to
    /// the host IP), or drop it. The frame is rewritten in place when it is forwarded.
    pub fn receive<R, N, S>(
        &mut self,
        now: Micros,
        in_interface: IfId,
        frame: &mut [u8],
        routes: &R,
        neighbors: &mut N,
        out: &mut S,
    ) -> Outcome
    where
        R: RouteSource + ?Sized,
        N: Neighbors + ?Sized,
        S: Sink + ?Sized,
    {
        let generation = Self::generation(routes, neighbors);
        self.flows.sync(generation);
        if let Some(generation) = generation {
            let head = &mut self.head;
            if let Some(hit) = self.flows.lookup(generation, in_interface, frame, head) {
                let frame = &mut frame[..hit.len];
                frame[..crate::fastpath::HEAD_LEN].copy_from_slice(head.bytes());
                out.send(hit.interface, frame);
                self.sent_cached(&hit);
                return Outcome::Forwarded {
                    interface: hit.interface,
                };
            }
        }
        let outcome = self.route(now, generation, in_interface, frame, routes, neighbors, out);
        match outcome {
            Outcome::Dropped(reason) => self.stats.count(reason),
            Outcome::ToHost => self.stats.to_host += 1,
            Outcome::Forwarded { .. } | Outcome::Queued { .. } => {}
        }
        outcome
    }

    #[allow(clippy::too_many_arguments)]
    fn route<R, N, S>(
        &mut self,
        now: Micros,
        generation: Option<crate::fastpath::Generation>,
        in_interface: IfId,
        frame: &mut [u8],
        routes: &R,
        neighbors: &mut N,
        out: &mut S,
    ) -> Outcome
    where
        R: RouteSource + ?Sized,
        N: Neighbors + ?Sized,
        S: Sink + ?Sized,
    {
        let Some(ingress) = self.interface(in_interface).copied() else {
            return Outcome::Dropped(Drop::UnknownInterface);
        };
        if frame.len() < ETH_LEN {
            return Outcome::Dropped(Drop::Runt);
        }
        // Broadcast and multicast frames are never routed (Linux: not PACKET_HOST).
        if frame[0] & 1 != 0 {
            return Outcome::ToHost;
        }
        if frame[..6] != ingress.mac {
            return Outcome::Dropped(Drop::OtherHost);
        }
        let header = match parse::ethertype(frame) {
            ETHERTYPE_IPV4 => parse::ipv4(&frame[ETH_LEN..]).map(Header::V4),
            ETHERTYPE_IPV6 => parse::ipv6(&frame[ETH_LEN..]).map(Header::V6),
            _ => return Outcome::ToHost,
        };
        let header = match header {
            Ok(h) => h,
            Err(reason) => return Outcome::Dropped(reason),
        };
        let (src, dst): (IpAddr, IpAddr) = match &header {
            Header::V4(h) => {
                let (s, d) = (h.src.octets()[0], h.dst.octets()[0]);
                if s == 0 || s == 127 || h.src.is_multicast() || h.src.is_broadcast() {
                    return Outcome::Dropped(Drop::MartianSource);
                }
                if d == 0 || d == 127 {
                    return Outcome::Dropped(Drop::MartianDestination);
                }
                if h.dst.is_multicast() || h.dst.is_broadcast() {
                    return Outcome::ToHost;
                }
                (h.src.into(), h.dst.into())
            }
            Header::V6(h) => {
                if h.src.is_unspecified() || h.src.is_loopback() || h.src.is_multicast() {
                    return Outcome::Dropped(Drop::MartianSource);
                }
                if h.dst.is_unspecified() || h.dst.is_loopback() {
                    return Outcome::Dropped(Drop::MartianDestination);
                }
                // Link-scope destinations (neighbour discovery between link-local
                // addresses) are the host's to answer or drop, never routed.
                if h.dst.is_multicast() || is_link_local_v6(IpAddr::V6(h.dst)) {
                    return Outcome::ToHost;
                }
                (h.src.into(), h.dst.into())
            }
        };
        let ip_end = ETH_LEN + header.total_len();
        let ecmp = match self.config.ecmp {
            EcmpMode::PerFlowHash => {
                EcmpChoice::Flow(crate::flow::hash(&frame[ETH_LEN..ip_end], &header))
            }
            EcmpMode::RoundRobin => EcmpChoice::RoundRobin,
        };
        let packet = Packet {
            src,
            dst,
            in_interface: Some(in_interface),
            routing_mark: None,
        };
        let decision = routes.decide(&packet, ecmp);
        // Local delivery comes first; with routing of the family off, nothing else does.
        let routes_family = match header {
            Header::V4(_) => self.config.forward_v4,
            Header::V6(_) => self.config.forward_v6,
        };
        if decision != Decision::Local && !routes_family {
            return Outcome::Dropped(Drop::ForwardingDisabled);
        }
        let (out_interface, next_hop) = match decision {
            Decision::Local => return Outcome::ToHost,
            Decision::Discard => return Outcome::Dropped(Drop::Blackhole),
            Decision::Prohibited => {
                self.send_error(
                    now,
                    &ingress,
                    &frame[..ip_end],
                    &header,
                    Reason::Prohibited,
                    out,
                );
                return Outcome::Dropped(Drop::Prohibited);
            }
            Decision::HostUnreachable => {
                let reason = Reason::HostUnreachable;
                self.send_error(now, &ingress, &frame[..ip_end], &header, reason, out);
                return Outcome::Dropped(Drop::HostUnreachable);
            }
            Decision::NetworkUnreachable => {
                let reason = Reason::NetUnreachable;
                self.send_error(now, &ingress, &frame[..ip_end], &header, reason, out);
                return Outcome::Dropped(Drop::NetworkUnreachable);
            }
            Decision::Forward {
                next_hop,
                interface,
            } => (interface, Some(next_hop)),
            Decision::PointToPoint { interface } => (interface, None),
        };
        let Some(egress) = self.interface(out_interface).copied() else {
            return Outcome::Dropped(Drop::NoEgressInterface);
        };
        let frame = &mut frame[..ip_end];
        // A directed broadcast to a connected subnet is received, not forwarded (Linux's
        // RTN_BROADCAST).
        if let (Header::V4(h), Some((addr, len))) = (&header, egress.v4) {
            if len < 31 && next_hop == Some(dst) {
                let host_mask = u32::MAX >> len;
                if u32::from(h.dst) == u32::from(addr) | host_mask {
                    return Outcome::ToHost;
                }
            }
        }
        if matches!(header, Header::V6(_)) && is_link_local_v6(src) {
            self.send_error(now, &ingress, frame, &header, Reason::BeyondScope, out);
            return Outcome::Dropped(Drop::SourceBeyondScope);
        }
        let ip_len = ip_end - ETH_LEN;
        match header {
            Header::V4(h) => {
                if h.ttl <= 1 {
                    self.send_error(now, &ingress, frame, &header, Reason::TimeExceeded, out);
                    return Outcome::Dropped(Drop::TtlExpired);
                }
                if ip_len > usize::from(egress.mtu) && h.dont_fragment {
                    self.send_error(
                        now,
                        &ingress,
                        frame,
                        &header,
                        Reason::TooBig(egress.mtu),
                        out,
                    );
                    return Outcome::Dropped(Drop::FragmentationNeeded);
                }
                decrement_ttl_v4(&mut frame[ETH_LEN..]);
            }
            Header::V6(h) => {
                if h.hop_limit <= 1 {
                    self.send_error(now, &ingress, frame, &header, Reason::TimeExceeded, out);
                    return Outcome::Dropped(Drop::TtlExpired);
                }
                if ip_len > usize::from(egress.mtu) {
                    self.send_error(
                        now,
                        &ingress,
                        frame,
                        &header,
                        Reason::TooBig(egress.mtu),
                        out,
                    );
                    return Outcome::Dropped(Drop::PacketTooBig);
                }
                frame[ETH_LEN + 7] -= 1;
            }
        }
        let mac = match next_hop {
            None => egress.peer_mac,
            Some(hop) => match neighbors.lookup(egress.id, hop) {
                Some(mac) => mac,
                None => return self.wait(now, &ingress, &egress, hop, frame, neighbors),
            },
        };
        // Sent in one piece by the forward branch: the flow's next packets may take the
        // cache, if the decision and the lookup depended on nothing but the flow's key and
        // the generations it is kept under (the lookup changed nothing).
        if generation.is_some() {
            self.keep(
                generation,
                in_interface,
                &ingress,
                &egress,
                mac,
                frame,
                &header,
                routes,
                neighbors,
            );
        }
        self.transmit(frame, &egress, mac, out)
    }

    /// The forward branch sent (is about to send) `frame` out of `egress` to `mac`: keep the
    /// decision in the flow cache when it may stand for the flow's next packets (see
    /// `fastpath`). Out of line: a path without generations never comes here.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn keep<R, N>(
        &mut self,
        generation: Option<crate::fastpath::Generation>,
        in_interface: IfId,
        ingress: &Interface,
        egress: &Interface,
        mac: Mac,
        frame: &[u8],
        header: &Header,
        routes: &R,
        neighbors: &N,
    ) where
        R: RouteSource + ?Sized,
        N: Neighbors + ?Sized,
    {
        let Header::V4(h) = header else {
            return;
        };
        let ip = &frame[ETH_LEN..];
        let kept = self.config.ecmp == EcmpMode::PerFlowHash
            && ip.len() <= usize::from(egress.mtu)
            && Self::generation(routes, neighbors) == generation;
        if kept {
            self.flows.fill(
                in_interface,
                ingress.mac,
                ip,
                h.header_len,
                h.fragment,
                egress.id,
                egress.mac,
                egress.mtu,
                mac,
            );
        }
    }

    /// Queues a frame for an unresolved next hop.
    fn wait<N: Neighbors + ?Sized>(
        &mut self,
        now: Micros,
        ingress: &Interface,
        egress: &Interface,
        hop: IpAddr,
        frame: &[u8],
        neighbors: &mut N,
    ) -> Outcome {
        if frame.len() > crate::FRAME_MAX {
            return Outcome::Dropped(Drop::TooLongToQueue);
        }
        match self.waits.push(now, egress.id, hop, ingress.id, frame) {
            Pushed::Full => return Outcome::Dropped(Drop::NeighborQueueFull),
            Pushed::Opened => {
                self.stats.resolve_requests += 1;
                neighbors.resolve(egress.id, hop);
            }
            Pushed::Joined => {}
        }
        self.stats.queued += 1;
        Outcome::Queued {
            interface: egress.id,
            next_hop: hop,
        }
    }

    /// Sends a frame whose TTL is already decremented out of `egress` to `mac`: whole, or in
    /// fragments when it is IPv4 without DF and larger than the MTU.
    fn transmit<S: Sink + ?Sized>(
        &mut self,
        frame: &mut [u8],
        egress: &Interface,
        mac: Mac,
        out: &mut S,
    ) -> Outcome {
        frame[..6].copy_from_slice(&mac);
        frame[6..12].copy_from_slice(&egress.mac);
        let v4 = parse::ethertype(frame) == ETHERTYPE_IPV4;
        let ip_len = frame.len() - ETH_LEN;
        if ip_len <= usize::from(egress.mtu) {
            out.send(egress.id, frame);
            if v4 {
                self.stats.forwarded_v4 += 1;
            } else {
                self.stats.forwarded_v6 += 1;
            }
            return Outcome::Forwarded {
                interface: egress.id,
            };
        }
        // Too big: only IPv4 without DF gets here from the fast path; a queued packet whose
        // interface's MTU shrank meanwhile is dropped if it may not be fragmented.
        let dont_fragment = frame[ETH_LEN + 6] & 0x40 != 0;
        if !v4 {
            return Outcome::Dropped(Drop::PacketTooBig);
        }
        let fragments = (!dont_fragment)
            .then(|| Fragments::new(&frame[ETH_LEN..], usize::from(egress.mtu)))
            .flatten();
        let Some(mut fragments) = fragments else {
            return Outcome::Dropped(Drop::FragmentationNeeded);
        };
        self.scratch[..ETH_LEN].copy_from_slice(&frame[..ETH_LEN]);
        while let Some(n) = fragments.next_into(&mut self.scratch[ETH_LEN..]) {
            out.send(egress.id, &self.scratch[..ETH_LEN + n]);
            self.stats.fragments += 1;
        }
        self.stats.forwarded_v4 += 1;
        Outcome::Forwarded {
            interface: egress.id,
        }
    }

    /// Sends the ICMP error `reason` about the packet in `frame` (its Ethernet frame,
    /// trimmed to the IP packet's length) back to the station it came from, out of the
    /// interface it came in by, unless a rule or the rate limit forbids it: never about an
    /// ICMP error or a fragment other than the first (broadcasts, multicasts and martian
    /// sources never get this far), and only from an address of the ingress interface.
    fn send_error<S: Sink + ?Sized>(
        &mut self,
        now: Micros,
        ingress: &Interface,
        frame: &[u8],
        header: &Header,
        reason: Reason,
        out: &mut S,
    ) {
        let ip = &frame[ETH_LEN..];
        let answerable = match header {
            Header::V4(h) => {
                h.fragment_offset == 0
                    && !(h.protocol == 1
                        && ip
                            .get(h.header_len)
                            .is_some_and(|t| parse::is_icmpv4_error(*t)))
            }
            Header::V6(h) => {
                !h.later_fragment
                    && !matches!(h.upper, Some((58, at)) if ip.get(at).is_some_and(|t| *t < 128))
            }
        };
        let source_known = match header {
            Header::V4(_) => ingress.v4.is_some(),
            Header::V6(_) => ingress.v6.is_some(),
        };
        if !answerable || !source_known {
            self.stats.icmp_suppressed += 1;
            return;
        }
        let v4 = matches!(header, Header::V4(_));
        let error = error_for(reason, v4);
        let c = self.config;
        if ratelimit::limited(v4, error.kind, error.code, c.icmp_type_mask) {
            let to = match header {
                Header::V4(h) => IpAddr::V4(h.src),
                Header::V6(h) => IpAddr::V6(h.src),
            };
            if !self.icmp_bucket.has_token(now)
                || !self.icmp_peers.allow(to, now, c.icmp_peer_interval_ms)
            {
                self.stats.icmp_rate_limited += 1;
                return;
            }
            self.icmp_bucket.take();
        }
        let mut to_mac = [0; 6];
        to_mac.copy_from_slice(&frame[6..12]);
        let link = Link {
            from_mac: ingress.mac,
            to_mac,
        };
        let len = match (header, ingress.v4, ingress.v6) {
            (Header::V4(h), Some((src, _)), _) => {
                self.icmp_ident = self.icmp_ident.wrapping_add(1);
                let ident = self.icmp_ident;
                icmp::v4_error(&mut self.scratch, link, src, ip, h.header_len, error, ident)
            }
            (Header::V6(_), _, Some(src)) => {
                icmp::v6_error(&mut self.scratch, link, src, ip, error)
            }
            _ => return,
        };
        out.send(ingress.id, &self.scratch[..len]);
        self.stats.icmp_sent += 1;
    }

    /// Time passed, or neighbours were learnt: releases the wait queues whose next hop is now
    /// known and gives up those waited for longer than [`WAIT_TIMEOUT_US`] (their packets
    /// answered with host unreachable / address unreachable). Cheap when nothing waits.
    pub fn poll<N, S>(&mut self, now: Micros, neighbors: &mut N, out: &mut S)
    where
        N: Neighbors + ?Sized,
        S: Sink + ?Sized,
    {
        if self.waits.open() == 0 {
            return;
        }
        for i in 0..WAIT_QUEUES {
            let Some((interface, hop, since)) = self.waits.key(i) else {
                continue;
            };
            if let Some(mac) = neighbors.lookup(interface, hop) {
                if let Some(queue) = self.waits.take_at(i) {
                    self.release(queue, mac, out);
                }
            } else if now.saturating_sub(since) >= WAIT_TIMEOUT_US {
                if let Some(queue) = self.waits.take_at(i) {
                    self.expire(now, queue, out);
                }
            }
        }
    }

    /// `addr` on `interface` has become known as `mac`: its waiting packets go now.
    pub fn neighbor_known<S: Sink + ?Sized>(
        &mut self,
        interface: IfId,
        addr: IpAddr,
        mac: Mac,
        out: &mut S,
    ) {
        if let Some(queue) = self.waits.take(interface, addr) {
            self.release(queue, mac, out);
        }
    }

    fn release<S: Sink + ?Sized>(&mut self, mut queue: Queue, mac: Mac, out: &mut S) {
        let egress = self.interface(queue.interface).copied();
        for w in queue.frames[..queue.len].iter_mut() {
            let outcome = match &egress {
                Some(egress) => self.transmit(&mut w.frame[..w.len], egress, mac, out),
                None => Outcome::Dropped(Drop::NoEgressInterface),
            };
            match outcome {
                Outcome::Dropped(reason) => self.stats.count(reason),
                _ => self.stats.released += 1,
            }
        }
    }

    fn expire<S: Sink + ?Sized>(&mut self, now: Micros, queue: Queue, out: &mut S) {
        for w in &queue.frames[..queue.len] {
            self.stats.count(Drop::NeighborTimeout);
            let frame = &w.frame[..w.len];
            let header = match parse::ethertype(frame) {
                ETHERTYPE_IPV4 => parse::ipv4(&frame[ETH_LEN..]).map(Header::V4),
                _ => parse::ipv6(&frame[ETH_LEN..]).map(Header::V6),
            };
            let (Ok(header), Some(ingress)) = (header, self.interface(w.in_interface).copied())
            else {
                continue;
            };
            self.send_error(now, &ingress, frame, &header, Reason::NeighborFailed, out);
        }
    }
}

/// Decrements the TTL of a valid IPv4 header and updates its checksum incrementally
/// (RFC 1624): the word at offset 8 is TTL and protocol.
pub(crate) fn decrement_ttl_v4(ip: &mut [u8]) {
    let old = u16::from_be_bytes([ip[8], ip[9]]);
    ip[8] -= 1;
    let new = u16::from_be_bytes([ip[8], ip[9]]);
    let hc = u16::from_be_bytes([ip[10], ip[11]]);
    ip[10..12].copy_from_slice(&crate::checksum::update(hc, old, new).to_be_bytes());
}
