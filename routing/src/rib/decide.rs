//! The routing decision for one packet, in the seed's order: local delivery, the implicit
//! rule for a routing mark, the user's rules, the implicit `main` lookup, then "network
//! unreachable". Only FIB lookups (without FIBs: searches of the destinations by length) and small
//! searches: nothing is allocated. IPv6 link-local destinations that are not the router's own
//! are never forwarded (network unreachable).

use super::hops::FibAction;
use super::types::{
    Decision, EcmpChoice, EcmpMode, Packet, RouteType, RuleAction, RuleSpec, TableId,
};
use super::Rib;
use core::net::IpAddr;

impl Rib {
    /// Decides what happens to `packet`, picking among ECMP next hops as the RIB's
    /// [`EcmpMode`] says.
    pub fn decide(&self, packet: &Packet) -> Decision {
        let choice = match self.limits.ecmp {
            EcmpMode::RoundRobin => EcmpChoice::RoundRobin,
            EcmpMode::PerFlowHash => EcmpChoice::Flow(flow_hash(packet.src, packet.dst)),
        };
        self.decide_ecmp(packet, choice)
    }

    /// Decides what happens to `packet`, picking among ECMP next hops as `choice` says
    /// (the forwarding path passes a hash of the packet's flow, ports included).
    pub fn decide_ecmp(&self, packet: &Packet, choice: EcmpChoice) -> Decision {
        if self.is_local(packet.dst) {
            return Decision::Local;
        }
        // Link-local destinations (fe80::/10) are never forwarded to another link.
        if matches!(packet.dst, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80) {
            return Decision::NetworkUnreachable;
        }
        if let Some(mark) = packet.routing_mark {
            if let Some(d) = self.lookup_in(mark, packet, choice) {
                return d;
            }
        }
        for (_, rule) in &self.config.rules {
            if rule.disabled || !matches(rule, packet) {
                continue;
            }
            match rule.action {
                RuleAction::Drop => return Decision::Discard,
                RuleAction::Unreachable => return Decision::NetworkUnreachable,
                RuleAction::Lookup(t) => {
                    if let Some(d) = self.lookup_in(t, packet, choice) {
                        return d;
                    }
                }
                RuleAction::LookupOnlyInTable(t) => {
                    return self
                        .lookup_in(t, packet, choice)
                        .unwrap_or(Decision::NetworkUnreachable)
                }
            }
        }
        self.lookup_in(TableId::MAIN, packet, choice)
            .unwrap_or(Decision::NetworkUnreachable)
    }

    /// Whether `addr` is one of the router's (enabled) addresses.
    pub fn is_local(&self, addr: IpAddr) -> bool {
        self.local.binary_search_by_key(&addr, |l| l.0).is_ok()
    }

    /// The decision from table `table` alone, `None` when no route there matches.
    fn lookup_in(&self, table: TableId, packet: &Packet, choice: EcmpChoice) -> Option<Decision> {
        let id = self.lookup_hop(table, packet.dst)?;
        Some(match self.hops.action(id)? {
            FibAction::Special(RouteType::Blackhole) => Decision::Discard,
            FibAction::Special(RouteType::Prohibit) => Decision::Prohibited,
            FibAction::Special(_) => Decision::HostUnreachable,
            FibAction::Unicast(hops) => {
                let n = hops.len().max(1);
                let pick = match choice {
                    EcmpChoice::RoundRobin if n > 1 => self.hops.round_robin(id) as usize % n,
                    EcmpChoice::RoundRobin => 0,
                    EcmpChoice::Flow(hash) => hash as usize % n,
                };
                let hop = hops.get(pick)?;
                match hop.address {
                    Some(next_hop) => Decision::Forward {
                        next_hop,
                        interface: hop.interface,
                    },
                    None if self
                        .interface(hop.interface)
                        .is_some_and(|s| s.point_to_point) =>
                    {
                        Decision::PointToPoint {
                            interface: hop.interface,
                        }
                    }
                    None => Decision::Forward {
                        next_hop: packet.dst,
                        interface: hop.interface,
                    },
                }
            }
        })
    }
}

fn matches(rule: &RuleSpec, p: &Packet) -> bool {
    rule.src.is_none_or(|s| s.contains(p.src))
        && rule.dst.is_none_or(|d| d.contains(p.dst))
        && rule.interface.is_none_or(|i| p.in_interface == Some(i))
        && rule.routing_mark.is_none_or(|m| p.routing_mark == Some(m))
}

/// A stable hash of a flow's addresses (FNV-1a over their bytes).
fn flow_hash(src: IpAddr, dst: IpAddr) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |a: IpAddr| {
        let bytes = match a {
            IpAddr::V4(v) => {
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&v.octets());
                b
            }
            IpAddr::V6(v) => v.octets(),
        };
        for x in bytes {
            h = (h ^ u32::from(x)).wrapping_mul(0x0100_0193);
        }
    };
    eat(src);
    eat(dst);
    h
}
