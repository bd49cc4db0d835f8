//! What the endpoint did with the frames it was given: answered, learned from, or dropped, and
//! why.

/// Why a frame was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    /// The interface is not configured.
    UnknownInterface,
    /// Shorter than an Ethernet header.
    Runt,
    /// Longer than [`crate::FRAME_MAX`].
    Giant,
    /// Its source is the host's own MAC on that interface (a loop, or someone posing as us).
    OwnSource,
    /// Its source is a group address.
    BadSource,
    /// Unicast to another station.
    NotForUs,
    /// An EtherType the host does not speak (or a VLAN tag the caller left on).
    UnknownEtherType,
    /// A header or checksum that does not parse, or a length that disagrees with the frame.
    Malformed,
    /// ARP on an interface with `arp=disabled`.
    ArpDisabled,
    /// An ARP or NDP packet claiming one of the host's own addresses as its sender.
    AddressConflict,
    /// An ARP request from a sender outside the interface's networks.
    OffSubnet,
    /// To an address that is not the host's on that interface.
    NotOurAddress,
    /// A protocol or message the host does not answer (TCP, router advertisements ...).
    Unhandled,
    /// A neighbour not learned because the table was full.
    NeighborTableFull,
    /// A neighbour discovery message with a hop limit other than 255.
    NdHopLimit,
    /// UDP to a port nobody listens on (answered with ICMP port unreachable).
    PortUnreachable,
    /// UDP for the bound port while its receive queue is full.
    UdpQueueFull,
}

/// Counters since boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames handed to the endpoint.
    pub rx_frames: u64,
    /// Frames it sent.
    pub tx_frames: u64,
    /// ARP requests answered.
    pub arp_replies: u64,
    /// Neighbour solicitations answered.
    pub nd_adverts: u64,
    /// Echo requests answered (ICMP and ICMPv6).
    pub echo_replies: u64,
    /// Frames dropped, by reason (indexed as [`Drop`] is declared).
    pub drops: [u64; 17],
}

impl Stats {
    pub(crate) fn count(&mut self, reason: Drop) {
        self.drops[reason as usize] += 1;
    }

    /// Frames dropped for `reason`.
    pub fn dropped(&self, reason: Drop) -> u64 {
        self.drops[reason as usize]
    }

    /// Frames dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.drops.iter().sum()
    }
}
