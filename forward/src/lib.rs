//! IP forwarding between the box's L3 interfaces (ether ports, vifs, bridges, VLANs), portable
//! and `no_std`: given an Ethernet frame received on an interface, validate its IPv4 or IPv6
//! header, take the routing decision (RouterOS's order, from [`routing::Rib::decide_ecmp`]),
//! and rewrite and send it, or answer it with the ICMP error Linux would send, or queue it
//! while its next hop is resolved. Fixed capacity throughout; nothing is allocated per packet.
//!
//! The caller (the hypervisor's frame loop, a test, a benchmark) provides three things: the
//! routing decision ([`RouteSource`], implemented for [`routing::Rib`]), the neighbour table
//! ([`Neighbors`]: the host IP's ARP and ND tables, which also send the requests), and where
//! frames go ([`Sink`]). See README.md for the walk of one routed packet.
//!
//! Modules: [`parse`] (header validation), [`checksum`] (RFC 1071 / RFC 1624), [`flow`] (the
//! ECMP flow hash), [`fastpath`] (the flow cache: a flow's decision kept for its next packets), [`icmp`] (error messages), [`frag`] (IPv4 fragmentation), [`pending`]
//! (packets waiting for a neighbour), [`ratelimit`] (the ICMP token bucket), [`stats`]
//! (counters), `path` (the forwarding path itself), [`fuzzing`] (the fuzz target's body).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod checksum;
pub mod fastpath;
pub mod flow;
pub mod frag;
pub mod fuzzing;
pub mod icmp;
pub mod parse;
mod path;
pub mod pending;
pub mod ratelimit;
pub mod stats;

pub use stats::{Drop, Stats};

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use routing::{Decision, EcmpChoice, EcmpMode, IfId, Packet, Rib};

/// A MAC address.
pub type Mac = [u8; 6];
/// Time in microseconds since some fixed point, as the caller keeps it (monotonic).
pub type Micros = u64;

/// The largest frame handled: an untagged Ethernet frame of a 1500-byte MTU, without FCS.
pub const FRAME_MAX: usize = 1514;
/// How many L3 interfaces the forwarder knows.
pub const MAX_INTERFACES: usize = 32;
/// The smallest IPv4 MTU (RFC 791); an interface's MTU is between this and 1500.
pub const MIN_MTU: u16 = 68;
/// The largest MTU (a frame of [`FRAME_MAX`]).
pub const MAX_MTU: u16 = (FRAME_MAX - parse::ETH_LEN) as u16;

/// The routing decision for one packet. `ecmp` says how to pick among equal-cost next hops.
pub trait RouteSource {
    fn decide(&self, packet: &Packet, ecmp: EcmpChoice) -> Decision;
    /// A value that changes whenever any decision may change (routes, addresses,
    /// interfaces, rules, tables; never the same for two different states), so that
    /// decisions taken under it may be kept ([`fastpath`]). `None` (the default): decisions
    /// are never kept.
    fn generation(&self) -> Option<u64> {
        None
    }
}

impl RouteSource for Rib {
    fn decide(&self, packet: &Packet, ecmp: EcmpChoice) -> Decision {
        self.decide_ecmp(packet, ecmp)
    }
    fn generation(&self) -> Option<u64> {
        Some(Rib::generation(self))
    }
}

/// The neighbour tables (ARP for IPv4, neighbour discovery for IPv6) on the L3 interfaces.
pub trait Neighbors {
    /// The MAC of `addr` on `interface`, when it is known (reachable or stale).
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac>;
    /// Ask for `addr` on `interface` to be resolved (an ARP request or neighbour
    /// solicitation, repeated by the neighbour table as it does for its own requests).
    fn resolve(&mut self, interface: IfId, addr: IpAddr);
    /// A value that changes whenever what [`Neighbors::lookup`] answers or does may change
    /// (an entry added, removed, given another MAC or state), read before and after a
    /// lookup: a lookup that did something besides answering (asked for a confirmation)
    /// must make it differ, or answer `None`. `None` (the default): lookups are never kept
    /// ([`fastpath`]).
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// Where frames go.
pub trait Sink {
    /// Send `frame` (a whole Ethernet frame of at most [`FRAME_MAX`] bytes) out of
    /// `interface`.
    fn send(&mut self, interface: IfId, frame: &[u8]);
}

/// One L3 interface as the forwarder sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    pub id: IfId,
    pub mac: Mac,
    /// The IP MTU, [`MIN_MTU`] to [`MAX_MTU`].
    pub mtu: u16,
    /// An IPv4 address and its prefix length: the source of ICMP errors sent on this
    /// interface, and what tells its subnet's broadcast address.
    pub v4: Option<(Ipv4Addr, u8)>,
    /// An IPv6 address: the source of ICMPv6 errors sent on this interface.
    pub v6: Option<Ipv6Addr>,
    /// The destination MAC of frames routed out of this interface as a point-to-point link
    /// (no neighbour resolution).
    pub peer_mac: Mac,
}

/// Why [`Forwarder::set_interface`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// [`MAX_INTERFACES`] are known already.
    Full,
    /// The MTU is outside [`MIN_MTU`]..=[`MAX_MTU`].
    BadMtu,
}

/// The forwarder's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How packets pick among ECMP next hops: a hash of the flow (default: a TCP connection
    /// keeps its path) or round robin (the seed's description).
    pub ecmp: EcmpMode,
    /// ICMP/ICMPv6 errors a second and the burst kept, for the whole box ([`ratelimit`]).
    pub icmp_per_second: u32,
    pub icmp_burst: u32,
    /// Whether IPv4 and IPv6 packets for other hosts are routed (RouterOS `/ip settings
    /// ip-forward`, `/ipv6 settings forward`). When not, they are dropped silently and counted
    /// ([`Drop::ForwardingDisabled`]), as Linux does; the host's own packets still arrive.
    pub forward_v4: bool,
    pub forward_v6: bool,
    /// Milliseconds between ICMP errors to one destination (RouterOS `icmp-rate-limit`, 0: no
    /// per-destination limit) and the IPv4 types limited (`icmp-rate-mask`); see [`ratelimit`].
    pub icmp_peer_interval_ms: u32,
    pub icmp_type_mask: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ecmp: EcmpMode::PerFlowHash,
            icmp_per_second: ratelimit::DEFAULT_PER_SECOND,
            icmp_burst: ratelimit::DEFAULT_BURST,
            forward_v4: true,
            forward_v6: true,
            icmp_peer_interval_ms: ratelimit::DEFAULT_PEER_INTERVAL_MS,
            icmp_type_mask: ratelimit::DEFAULT_TYPE_MASK,
        }
    }
}

/// What became of a received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not to be routed: for the host IP (one of its addresses, a broadcast or multicast, a
    /// frame other than IPv4/IPv6). The frame is unchanged.
    ToHost,
    /// Sent out of `interface` (in fragments when it was larger than the MTU).
    Forwarded { interface: IfId },
    /// Waiting for `next_hop`'s MAC on `interface`.
    Queued { interface: IfId, next_hop: IpAddr },
    /// Dropped and counted (an ICMP error may have been sent; see [`Stats`]).
    Dropped(Drop),
}

/// The forwarding path's state: interfaces, wait queues, the ICMP rate limit, counters, a
/// scratch buffer for the frames it builds, and the flow cache.
///
/// Laid out in this order (`repr(C)`): the small fields every packet touches first, the large
/// tables last, so that on MIPS the small ones stay within a load's 16-bit offset of the
/// forwarder's address (the compiler's own order put the counters behind a table once the
/// flow cache came, at about 118 instructions a packet more).
#[derive(Clone)]
#[repr(C)]
pub struct Forwarder {
    config: Config,
    stats: Stats,
    /// The IPv4 identification of the next ICMP error.
    icmp_ident: u16,
    /// The rewritten head of a frame the flow cache forwards.
    head: fastpath::Head,
    icmp_bucket: ratelimit::TokenBucket,
    interfaces: [Option<Interface>; MAX_INTERFACES],
    icmp_peers: ratelimit::PeerLimits,
    scratch: [u8; FRAME_MAX],
    flows: fastpath::FlowCache,
    waits: pending::WaitQueues,
}

impl Forwarder {
    pub fn new(config: Config) -> Self {
        Forwarder {
            config,
            interfaces: [None; MAX_INTERFACES],
            waits: pending::WaitQueues::new(),
            icmp_bucket: ratelimit::TokenBucket::new(config.icmp_per_second, config.icmp_burst),
            icmp_peers: ratelimit::PeerLimits::new(),
            icmp_ident: 0,
            stats: Stats::default(),
            scratch: [0; FRAME_MAX],
            flows: fastpath::FlowCache::new(),
            head: fastpath::Head::default(),
        }
    }

    /// Adds or replaces the interface with `interface.id`.
    pub fn set_interface(&mut self, interface: Interface) -> Result<(), ConfigError> {
        if !(MIN_MTU..=MAX_MTU).contains(&interface.mtu) {
            return Err(ConfigError::BadMtu);
        }
        let slot = match self.slot(interface.id) {
            Some(i) => i,
            None => self
                .interfaces
                .iter()
                .position(Option::is_none)
                .ok_or(ConfigError::Full)?,
        };
        self.interfaces[slot] = Some(interface);
        self.flows.clear();
        Ok(())
    }

    /// Forgets an interface (packets routed to it are dropped and counted).
    pub fn remove_interface(&mut self, id: IfId) {
        if let Some(i) = self.slot(id) {
            self.interfaces[i] = None;
            self.flows.clear();
        }
    }

    /// The interface with `id`.
    pub fn interface(&self, id: IfId) -> Option<&Interface> {
        self.interfaces.iter().flatten().find(|i| i.id == id)
    }

    /// Every interface known.
    pub fn interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.interfaces.iter().flatten()
    }

    fn slot(&self, id: IfId) -> Option<usize> {
        self.interfaces
            .iter()
            .position(|i| i.is_some_and(|i| i.id == id))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// New settings. The global ICMP bucket starts full again only when its rate or burst
    /// changed, each destination's only when the per-destination interval changed;
    /// interfaces, wait queues and counters are kept.
    pub fn set_config(&mut self, config: Config) {
        if (config.icmp_per_second, config.icmp_burst)
            != (self.config.icmp_per_second, self.config.icmp_burst)
        {
            self.icmp_bucket =
                ratelimit::TokenBucket::new(config.icmp_per_second, config.icmp_burst);
        }
        if config.icmp_peer_interval_ms != self.config.icmp_peer_interval_ms {
            self.icmp_peers = ratelimit::PeerLimits::new();
        }
        self.config = config;
        self.flows.clear();
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The flow cache (how many flows it holds: [`fastpath::FlowCache::len`]).
    pub fn flow_cache(&self) -> &fastpath::FlowCache {
        &self.flows
    }

    /// The generation decisions are taken under with `routes` and `neighbors`, when both
    /// give one (else nothing is cached).
    pub fn generation<R, N>(routes: &R, neighbors: &N) -> Option<fastpath::Generation>
    where
        R: RouteSource + ?Sized,
        N: Neighbors + ?Sized,
    {
        Some(fastpath::Generation {
            routes: routes.generation()?,
            neighbors: neighbors.generation()?,
        })
    }

    /// The flow cache's decision for `frame` received on `in_interface`, under `generation`
    /// (what [`Forwarder::generation`] gives for the route source and neighbour table the
    /// whole path would use now): where the frame goes, its rewritten head written to `head`.
    /// Nothing is counted: a caller that sends it calls [`Forwarder::sent_cached`], one that
    /// does not hands the frame to [`Forwarder::receive`] instead.
    #[inline]
    pub fn cached(
        &self,
        generation: fastpath::Generation,
        in_interface: IfId,
        frame: &[u8],
        head: &mut fastpath::Head,
    ) -> Option<fastpath::Hit> {
        self.flows.lookup(generation, in_interface, frame, head)
    }

    /// A hit of [`Forwarder::cached`] was sent: counted as the whole path counts it.
    #[inline]
    pub fn sent_cached(&mut self, _hit: &fastpath::Hit) {
        self.stats.forwarded_v4 += 1;
    }

    /// How many next hops packets are waiting for.
    pub fn waiting_next_hops(&self) -> usize {
        self.waits.open()
    }

    /// How many packets wait for their next hop.
    pub fn waiting_packets(&self) -> usize {
        self.waits.packets()
    }
}
