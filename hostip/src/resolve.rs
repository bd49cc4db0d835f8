//! Resolution of a neighbour's MAC for sending: for the ping engine and for the forwarding
//! path (the next hop of a routed packet), over the ARP and ND tables of [`crate::neighbor`].
//!
//! - [`HostIp::resolve`]: the MAC when known; otherwise an `incomplete` entry is made and a
//!   request goes out (repeated by the tables' sweep, then `failed`). A `stale` entry is used
//!   and confirmed with a unicast request. On an interface with `arp=reply-only` only static
//!   entries are used and nothing is asked.
//! - [`HostIp::neighbor_for_forwarding`]: the lookup of the forwarding path, per packet. It
//!   asks nothing for an unknown address (the forwarding path queues the packet and calls
//!   [`HostIp::resolve`] once), and confirms a `stale` entry with one unicast request per
//!   staleness (not one per packet), so a neighbour that is still there turns `reachable`
//!   again and a flow through it never waits.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::ArpMode;
use crate::neighbor::{NeighborState, NeighborTable};
use crate::{tx, FrameSink, HostIp, IfaceId, Mac, Micros};

/// What [`HostIp::neighbor_for_forwarding`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Known: send to this MAC.
    Known(Mac),
    /// Known but `stale`, and not confirmed since: send to this MAC, and have
    /// [`HostIp::confirm`] ask it (unicast) once.
    Confirm(Mac),
    /// Not known (or only being asked for).
    Unknown,
}

fn lookup<A: Copy + PartialEq, const N: usize>(
    table: &NeighborTable<A, N>,
    iface: IfaceId,
    addr: A,
) -> Lookup {
    match table.get(iface, addr) {
        Some(e) => match (e.mac, e.state) {
            (Some(mac), NeighborState::Stale) if e.probes == 0 => Lookup::Confirm(mac),
            (Some(mac), _) => Lookup::Known(mac),
            (None, _) => Lookup::Unknown,
        },
        None => Lookup::Unknown,
    }
}

impl HostIp {
    /// The MAC of `target` on `iface` for the forwarding path (see the module's doc); asks
    /// nothing.
    pub fn neighbor_for_forwarding(&self, iface: IfaceId, target: IpAddr) -> Lookup {
        match target {
            IpAddr::V4(t) => lookup(&self.arp, iface, t),
            IpAddr::V6(t) => lookup(&self.nd, iface, t),
        }
    }

    /// A value that grows whenever what [`HostIp::neighbor_for_forwarding`] answers may
    /// change: an ARP or ND entry added, removed, given another MAC or state, or confirmed
    /// ([`crate::neighbor::NeighborTable::changes`]). The forwarding path keeps its decisions
    /// while it stays the same.
    pub fn neighbor_generation(&self) -> u64 {
        self.arp.changes() + self.nd.changes()
    }

    /// Confirm a `stale` neighbour with one unicast request (after
    /// [`Lookup::Confirm`]); further lookups answer [`Lookup::Known`] until it is confirmed or
    /// forgotten.
    pub fn confirm(&mut self, iface: IfaceId, target: IpAddr, mac: Mac, out: &mut dyn FrameSink) {
        match target {
            IpAddr::V4(t) => {
                if self.arp_mode(iface) == Some(ArpMode::ReplyOnly)
                    || !self.arp.mark_probed(iface, t)
                {
                    return;
                }
                tx::arp_request(self, iface, t, Some(mac), out);
            }
            IpAddr::V6(t) => {
                if self.nd.mark_probed(iface, t) {
                    tx::neighbor_solicit(self, iface, t, Some(mac), out);
                }
            }
        }
    }

    /// The MAC of `target` on `iface` for sending, asking for it when unknown (see the
    /// module's doc).
    pub fn resolve(
        &mut self,
        now: Micros,
        iface: IfaceId,
        target: IpAddr,
        out: &mut dyn FrameSink,
    ) -> Option<Mac> {
        match target {
            IpAddr::V4(t) if self.arp_mode(iface) == Some(ArpMode::ReplyOnly) => {
                // `reply-only`: only static entries, no request.
                self.arp.get(iface, t).and_then(|e| e.mac)
            }
            IpAddr::V4(t) => self.resolve_v4(now, iface, t, out),
            IpAddr::V6(t) => self.resolve_v6(now, iface, t, out),
        }
    }

    fn arp_mode(&self, iface: IfaceId) -> Option<ArpMode> {
        self.config.iface(iface).map(|i| i.arp)
    }

    fn resolve_v4(
        &mut self,
        now: Micros,
        iface: IfaceId,
        t: Ipv4Addr,
        out: &mut dyn FrameSink,
    ) -> Option<Mac> {
        let stale = self
            .arp
            .get(iface, t)
            .is_some_and(|e| e.state == NeighborState::Stale);
        match self.arp.resolve(now, iface, t) {
            Ok(mac) => {
                if stale {
                    tx::arp_request(self, iface, t, Some(mac), out);
                }
                Some(mac)
            }
            Err((ask, _)) => {
                if ask {
                    tx::arp_request(self, iface, t, None, out);
                }
                None
            }
        }
    }

    fn resolve_v6(
        &mut self,
        now: Micros,
        iface: IfaceId,
        t: Ipv6Addr,
        out: &mut dyn FrameSink,
    ) -> Option<Mac> {
        let stale = self
            .nd
            .get(iface, t)
            .is_some_and(|e| e.state == NeighborState::Stale);
        match self.nd.resolve(now, iface, t) {
            Ok(mac) => {
                if stale {
                    tx::neighbor_solicit(self, iface, t, Some(mac), out);
                }
                Some(mac)
            }
            Err((ask, _)) => {
                if ask {
                    tx::neighbor_solicit(self, iface, t, None, out);
                }
                None
            }
        }
    }
}
