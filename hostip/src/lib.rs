//! The host's own IP endpoint on its L3 interfaces (a vif's host side, a bridge, an ether port, a
//! VLAN), portable and `no_std`: ARP with a neighbour table (`/ip arp print`), IPv6 neighbour
//! discovery (`/ipv6 neighbor print`), ICMP and ICMPv6 echo replies, a ping engine for
//! `/ping`, and a UDP socket for the host's clients (`/tool fetch mode=tftp`).
//!
//! The caller (the hypervisor's frame loop, a test, the simulator) names each interface by an
//! [`IfaceId`] of its choosing, hands over every frame that arrived for the host on one
//! ([`HostIp::receive`]), ticks the endpoint with the time ([`HostIp::poll`]), and sends what the
//! endpoint emits through a [`FrameSink`]. Fixed capacity throughout (interfaces, addresses,
//! neighbour tables, ping slots), no allocation; bad input is dropped and counted
//! ([`Stats`]), never a panic. Frames are parsed and built with smoltcp's `wire` module.
//!
//! Modules: [`config`] (interfaces and addresses), [`neighbor`] (the bounded neighbour table
//! with its states and ageing), `rx` (the receive path), `tx` (building frames), [`resolve`] (a neighbour's MAC for sending), [`ping`] (the
//! ping engine), [`udp`] (one UDP socket for the host's clients), [`stats`] (drop and traffic counters), [`fuzzing`] (the fuzz target's body).
#![no_std]
#![forbid(unsafe_code)]

pub mod config;
pub mod fuzzing;
pub mod neighbor;
pub mod ping;
pub mod resolve;
mod rx;
pub mod stats;
mod tx;
pub mod udp;

pub use config::{
    AddrConfig, ArpMode, ConfigError, IfaceConfig, IfaceId, StaticArp, MAX_ADDRS, MAX_IFACES,
};
pub use neighbor::{Neighbor, NeighborState, ARP_ENTRIES, ND_ENTRIES};
pub use ping::{PingError, PingEvent, PingRequest, PingSummary};
pub use resolve::Lookup;
pub use stats::{Drop, Stats};
pub use udp::{Datagram, UdpError, UDP_PAYLOAD_MAX};

use core::net::{Ipv4Addr, Ipv6Addr};

use config::Config;
use neighbor::NeighborTable;
use ping::Pinger;

/// The largest frame the endpoint takes or builds (an untagged Ethernet frame without FCS).
pub const FRAME_MAX: usize = 1514;
/// The smallest frame taken: an Ethernet header.
pub const FRAME_MIN: usize = 14;

/// A MAC address.
pub type Mac = [u8; 6];

/// Time in microseconds since some fixed point, as the caller keeps it (monotonic).
pub type Micros = u64;

/// Where the endpoint's frames go: the caller sends `frame` out of interface `iface` (for a
/// bridge: into the bridge from the host's port).
pub trait FrameSink {
    /// Send one frame (a complete Ethernet frame, at most [`FRAME_MAX`] bytes).
    fn send(&mut self, iface: IfaceId, frame: &[u8]);
}

/// The host's IP endpoint: its interfaces and addresses, its neighbour tables, the ping engine
/// and the counters.
#[derive(Clone)]
pub struct HostIp {
    config: Config,
    arp: NeighborTable<Ipv4Addr, ARP_ENTRIES>,
    nd: NeighborTable<Ipv6Addr, ND_ENTRIES>,
    ping: Pinger,
    udp: udp::Socket,
    stats: Stats,
    /// Where outgoing frames are built.
    buf: [u8; FRAME_MAX],
    /// When the tables were last swept.
    next_sweep: Micros,
}

impl Default for HostIp {
    fn default() -> Self {
        Self::new()
    }
}

impl HostIp {
    /// No interfaces, empty tables.
    pub fn new() -> Self {
        HostIp {
            config: Config::new(),
            arp: NeighborTable::new(),
            nd: NeighborTable::new(),
            ping: Pinger::new(),
            udp: udp::Socket::new(),
            stats: Stats::default(),
            buf: [0; FRAME_MAX],
            next_sweep: 0,
        }
    }

    /// Replaces the interfaces and addresses. Neighbours on interfaces that are gone, or whose
    /// MAC changed, are forgotten; a running ping whose interface is gone ends.
    pub fn configure(
        &mut self,
        ifaces: &[IfaceConfig],
        addrs: &[AddrConfig],
    ) -> Result<(), ConfigError> {
        let config = Config::build(ifaces, addrs)?;
        let keep = |iface: IfaceId| {
            config.iface(iface).is_some_and(|new| {
                self.config
                    .iface(iface)
                    .is_some_and(|old| old.mac == new.mac)
            })
        };
        self.arp.retain(keep);
        self.nd.retain(keep);
        self.config = config;
        self.ping.reconfigured(&self.config);
        Ok(())
    }

    /// Replaces the static ARP entries (`/ip arp add`); entries on interfaces that are not
    /// configured are left out. Returns how many did not fit in the table.
    pub fn set_static_arp(&mut self, entries: &[StaticArp]) -> usize {
        let config = &self.config;
        self.arp.set_static(
            entries
                .iter()
                .filter(|e| config.iface(e.iface).is_some())
                .map(|e| (e.iface, e.addr, e.mac)),
        )
    }

    /// The interfaces, as configured.
    pub fn interfaces(&self) -> &[IfaceConfig] {
        self.config.ifaces()
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The ARP table (`/ip arp print`), in the order entries were made.
    pub fn arp_entries(&self) -> impl Iterator<Item = Neighbor<Ipv4Addr>> + '_ {
        self.arp.entries()
    }

    /// The IPv6 neighbour table (`/ipv6 neighbor print`).
    pub fn nd_entries(&self) -> impl Iterator<Item = Neighbor<Ipv6Addr>> + '_ {
        self.nd.entries()
    }

    /// A frame arrived for the host on `iface` (addressed to its MAC, or broadcast or
    /// multicast): answer it through `out` if it asks something, learn from it, or drop and
    /// count it.
    pub fn receive(&mut self, now: Micros, iface: IfaceId, frame: &[u8], out: &mut dyn FrameSink) {
        self.stats.rx_frames += 1;
        match rx::receive(self, now, iface, frame, out) {
            // A reply may end the ping; a neighbour's answer lets a waiting request go.
            Ok(()) => ping::poll(self, now, out),
            Err(reason) => self.stats.count(reason),
        }
    }

    /// Time passed: age the neighbour tables, repeat unanswered requests, and run the ping
    /// engine (send what is due, time out what was not answered). Cheap when nothing is due:
    /// the tables are swept at most every 100 ms.
    pub fn poll(&mut self, now: Micros, out: &mut dyn FrameSink) {
        if now >= self.next_sweep {
            self.next_sweep = now + neighbor::SWEEP_US;
            self.sweep(now, out);
        }
        ping::poll(self, now, out);
        udp::poll(self, now, out);
    }

    /// When [`HostIp::poll`] next has something to do (the caller may sleep until then).
    pub fn next_poll(&self) -> Micros {
        let udp = if self.udp.sending() { 0 } else { Micros::MAX };
        self.next_sweep.min(self.ping.next_due()).min(udp)
    }

    /// Starts a ping (one at a time: a new one replaces a running one).
    pub fn ping_start(&mut self, now: Micros, request: &PingRequest) -> Result<(), PingError> {
        ping::start(self, now, request)
    }

    /// The next line of the running ping's output, if one is ready.
    pub fn ping_next_event(&mut self) -> Option<PingEvent> {
        self.ping.next_event()
    }

    /// Stops the running ping (Ctrl-C): its summary is the next event.
    pub fn ping_stop(&mut self) {
        self.ping.stop();
    }

    /// Whether the running ping has lines waiting to be taken.
    pub fn ping_events_pending(&self) -> bool {
        self.ping.events_pending()
    }

    /// Whether a ping is running (its summary not yet taken).
    pub fn ping_running(&self) -> bool {
        self.ping.running()
    }

    fn sweep(&mut self, now: Micros, out: &mut dyn FrameSink) {
        let mut retry_v4 = [None; neighbor::RETRIES_PER_SWEEP];
        self.arp.age(now, &mut retry_v4);
        for (iface, target) in retry_v4.into_iter().flatten() {
            tx::arp_request(self, iface, target, None, out);
        }
        let mut retry_v6 = [None; neighbor::RETRIES_PER_SWEEP];
        self.nd.age(now, &mut retry_v6);
        for (iface, target) in retry_v6.into_iter().flatten() {
            tx::neighbor_solicit(self, iface, target, None, out);
        }
    }
}
