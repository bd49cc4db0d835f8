//! The forwarding path's counters: one per drop reason ([`Drop`]), packets forwarded,
//! fragments made, ICMP errors sent, suppressed and rate limited, packets queued for a
//! neighbour.

/// Why a packet was not forwarded. Every drop is counted under one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    /// Shorter than an Ethernet header.
    Runt,
    /// Received on an interface the forwarder does not know.
    UnknownInterface,
    /// Unicast to another station's MAC (received in promiscuous mode).
    OtherHost,
    /// Shorter than its IP header or its length field says.
    Truncated,
    /// IP version other than the ethertype's.
    BadVersion,
    /// IPv4 header length below 20 bytes or above the total length.
    BadHeaderLength,
    /// IPv4 header checksum wrong.
    BadChecksum,
    /// IPv4 options that do not parse.
    BadOptions,
    /// IPv4 loose or strict source route option (Linux: `accept_source_route` 0).
    SourceRouted,
    /// IPv6 payload length 0 (a jumbogram).
    BadPayloadLength,
    /// Source 0.0.0.0/8, 127.0.0.0/8, multicast, 255.255.255.255 (IPv6: ::, ::1, multicast).
    MartianSource,
    /// Destination 0.0.0.0/8 or 127.0.0.0/8 (IPv6: ::, ::1).
    MartianDestination,
    /// An IPv6 link-local source cannot leave its link (ICMPv6 "beyond scope of source").
    SourceBeyondScope,
    /// TTL or hop limit would reach 0 (ICMP time exceeded).
    TtlExpired,
    /// Blackhole route or rule action drop (silent).
    Blackhole,
    /// Prohibit route (ICMP administratively prohibited).
    Prohibited,
    /// Unreachable route (ICMP host unreachable; ICMPv6 no route).
    HostUnreachable,
    /// No route, or rule action unreachable (ICMP network unreachable).
    NetworkUnreachable,
    /// The routing decision names an interface the forwarder does not know.
    NoEgressInterface,
    /// IPv4 with DF larger than the egress MTU (ICMP fragmentation needed).
    FragmentationNeeded,
    /// IPv6 larger than the egress MTU (ICMPv6 packet too big).
    PacketTooBig,
    /// The next hop's wait queue was full, or no queue was free.
    NeighborQueueFull,
    /// The next hop was not resolved in time (ICMP host unreachable, ICMPv6 address
    /// unreachable).
    NeighborTimeout,
    /// The frame is longer than a wait-queue slot holds.
    TooLongToQueue,
    /// For another host while routing of its family is off (`ip-forward=no`); silent.
    ForwardingDisabled,
}

impl Drop {
    /// Every reason, in counter order.
    pub const ALL: [Drop; 25] = [
        Drop::Runt,
        Drop::UnknownInterface,
        Drop::OtherHost,
        Drop::Truncated,
        Drop::BadVersion,
        Drop::BadHeaderLength,
        Drop::BadChecksum,
        Drop::BadOptions,
        Drop::SourceRouted,
        Drop::BadPayloadLength,
        Drop::MartianSource,
        Drop::MartianDestination,
        Drop::SourceBeyondScope,
        Drop::TtlExpired,
        Drop::Blackhole,
        Drop::Prohibited,
        Drop::HostUnreachable,
        Drop::NetworkUnreachable,
        Drop::NoEgressInterface,
        Drop::FragmentationNeeded,
        Drop::PacketTooBig,
        Drop::NeighborQueueFull,
        Drop::NeighborTimeout,
        Drop::TooLongToQueue,
        Drop::ForwardingDisabled,
    ];

    /// The counter's name, as a statistics printout shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Drop::Runt => "runt",
            Drop::UnknownInterface => "unknown-interface",
            Drop::OtherHost => "other-host",
            Drop::Truncated => "truncated",
            Drop::BadVersion => "bad-version",
            Drop::BadHeaderLength => "bad-header-length",
            Drop::BadChecksum => "bad-checksum",
            Drop::BadOptions => "bad-options",
            Drop::SourceRouted => "source-routed",
            Drop::BadPayloadLength => "bad-payload-length",
            Drop::MartianSource => "martian-source",
            Drop::MartianDestination => "martian-destination",
            Drop::SourceBeyondScope => "source-beyond-scope",
            Drop::TtlExpired => "ttl-expired",
            Drop::Blackhole => "blackhole",
            Drop::Prohibited => "prohibited",
            Drop::HostUnreachable => "host-unreachable",
            Drop::NetworkUnreachable => "network-unreachable",
            Drop::NoEgressInterface => "no-egress-interface",
            Drop::FragmentationNeeded => "fragmentation-needed",
            Drop::PacketTooBig => "packet-too-big",
            Drop::NeighborQueueFull => "neighbor-queue-full",
            Drop::NeighborTimeout => "neighbor-timeout",
            Drop::TooLongToQueue => "too-long-to-queue",
            Drop::ForwardingDisabled => "forwarding-disabled",
        }
    }
}

/// The counters (all wrap at `u64`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// IPv4 / IPv6 packets sent on (fragmented ones counted once).
    pub forwarded_v4: u64,
    pub forwarded_v6: u64,
    /// IPv4 fragments made (each sent).
    pub fragments: u64,
    /// Frames handed to the host IP (its addresses, broadcasts, multicasts, non-IP).
    pub to_host: u64,
    /// ICMP / ICMPv6 errors sent.
    pub icmp_sent: u64,
    /// Errors not sent by rule: in reply to an ICMP error, a non-first fragment, or with no
    /// address on the ingress interface to send from.
    pub icmp_suppressed: u64,
    /// Errors not sent because the rate limit was reached.
    pub icmp_rate_limited: u64,
    /// Packets put in a wait queue for their next hop, released from one.
    pub queued: u64,
    pub released: u64,
    /// Resolution requests made (one per wait queue opened).
    pub resolve_requests: u64,
    drops: [u64; Drop::ALL.len()],
}

impl Stats {
    /// Packets dropped for `reason`.
    pub fn dropped(&self, reason: Drop) -> u64 {
        self.drops[reason as usize]
    }

    /// Packets dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.drops.iter().fold(0u64, |a, b| a.wrapping_add(*b))
    }

    pub(crate) fn count(&mut self, reason: Drop) {
        let c = &mut self.drops[reason as usize];
        *c = c.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_counter_and_name() {
        for (i, r) in Drop::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
            assert!(Drop::ALL[..i].iter().all(|o| o.name() != r.name()));
        }
        let mut s = Stats::default();
        s.count(Drop::BadChecksum);
        s.count(Drop::BadChecksum);
        assert_eq!(s.dropped(Drop::BadChecksum), 2);
        assert_eq!(s.dropped_total(), 2);
    }
}
