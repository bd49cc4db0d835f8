//! Next-hop resolution, RouterOS v7 style, by longest match over the destinations of `main`.
//!
//! A gateway address resolves through the longest destination of `main` that has candidate
//! routes with a scope up to the gateway's level (`min(target-scope, scope)` of the route
//! that has it); the lowest-distance candidates there give its next hops (none when the first
//! of them, by id, is not unicast), recursively through their own gateway states. The match
//! tries only the prefix lengths `main` has (`Rib::main_lengths`), each an ordered-map
//! lookup. Interface gateways and `address%interface` depend on the interface alone.

use super::gateways::UNRESOLVED;
use super::state::{resolution_level, GatewayState};
use super::store::{OwnedState, Resolution, RouteEntry, NONE};
use super::types::{Gateway, Hop, IfId, RouteType};
use super::Rib;
use crate::prefix::{addr_bits, Afi, Prefix};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::IpAddr;

impl Rib {
    fn running(&self, ifid: IfId) -> bool {
        self.config.interfaces.get(&ifid).is_some_and(|s| s.running)
    }

    /// The gateway states a route shows (one per configured gateway).
    pub(super) fn gateway_states<'a>(&'a self, r: &'a RouteEntry) -> &'a [GatewayState] {
        match &r.resolution {
            Resolution::None => &[],
            Resolution::Shared(e) => core::slice::from_ref(&self.gateways.entries[*e].state),
            Resolution::Owned(o) => &o.gateways,
        }
    }

    /// `immediate-gw`: the hops of its reachable gateways.
    pub(super) fn immediate<'a>(&'a self, r: &'a RouteEntry) -> &'a [Hop] {
        match &r.resolution {
            Resolution::None => &[],
            Resolution::Shared(e) => &self.gateways.entries[*e].state.hops,
            Resolution::Owned(o) => &o.immediate,
        }
    }

    /// Enabled and, if unicast, with a reachable gateway.
    pub(super) fn is_candidate(&self, r: &RouteEntry) -> bool {
        !r.spec.disabled
            && (r.spec.route_type != RouteType::Unicast || !self.immediate(r).is_empty())
    }

    /// Next hops for gateway address `a`: the longest destination of `main` with candidates
    /// of scope up to `level` (other than the route in slot `exclude`), the lowest distance
    /// there, expanded through their gateway states. Also the length of that destination
    /// (`UNRESOLVED` when none).
    pub(super) fn resolve(&self, a: IpAddr, level: u8, exclude: u32) -> (Vec<Hop>, u8) {
        let (afi, bits) = (Afi::of(a), addr_bits(a));
        let counts = |r: &RouteEntry, slot: u32| {
            slot != exclude && r.spec.scope <= level && self.is_candidate(r)
        };
        for len in self.main_lengths(afi) {
            let p = Prefix::from_parts(afi, bits, len);
            let mut best: Option<u8> = None;
            for slot in self.main_routes_at(&p) {
                let r = &self.routes[slot];
                if counts(r, slot) {
                    best = Some(best.map_or(r.spec.distance, |d| d.min(r.spec.distance)));
                }
            }
            let Some(distance) = best else {
                continue;
            };
            let mut hops: Vec<Hop> = Vec::new();
            let mut first = true;
            for slot in self.main_routes_at(&p) {
                let r = &self.routes[slot];
                if !counts(r, slot) || r.spec.distance != distance {
                    continue;
                }
                if r.spec.route_type != RouteType::Unicast {
                    if first {
                        // Resolving through a blackhole, unreachable or prohibit route.
                        return (Vec::new(), len);
                    }
                    continue;
                }
                first = false;
                for g in self.gateway_states(r).iter().filter(|g| g.reachable) {
                    for h in &g.hops {
                        // Reaching `a` through a route whose gateway is an interface: `a`
                        // itself is the next hop on that interface.
                        let hop = Hop {
                            address: h.address.or(Some(a)),
                            interface: h.interface,
                        };
                        if !hops.contains(&hop) {
                            hops.push(hop);
                        }
                    }
                }
            }
            return (hops, len);
        }
        (Vec::new(), UNRESOLVED)
    }

    /// Resolves gateway entry `e` again; returns whether its state changed.
    pub(super) fn resolve_entry(&mut self, e: u32) -> bool {
        let entry = &self.gateways.entries[e];
        let (hops, through) = match entry.state.gateway {
            Gateway::Address(a) => self.resolve(a, entry.level, NONE),
            Gateway::AddressOnInterface(a, i) if self.running(i) => (
                alloc::vec![Hop {
                    address: Some(a),
                    interface: i
                }],
                UNRESOLVED,
            ),
            Gateway::Interface(i) if self.running(i) => (
                alloc::vec![Hop {
                    address: None,
                    interface: i
                }],
                UNRESOLVED,
            ),
            _ => (Vec::new(), UNRESOLVED),
        };
        let entry = &mut self.gateways.entries[e];
        entry.through = through;
        if entry.state.hops == hops {
            return false;
        }
        entry.state.reachable = !hops.is_empty();
        entry.state.hops = hops;
        true
    }

    /// The gateway states of a route that resolves its gateway addresses itself (it resolves
    /// at its own scope, where it could otherwise resolve through itself): addresses are
    /// resolved without it, other gateways come from their entries.
    pub(super) fn evaluate_own(&self, slot: u32) -> Box<OwnedState> {
        let r = &self.routes[slot];
        let level = resolution_level(&r.spec);
        let mut state = OwnedState::unresolved();
        let mut node = r.users;
        for &g in &r.spec.gateways {
            let n = &self.gateways.nodes[node];
            node = n.sibling;
            let gs = match g {
                Gateway::Address(a) => {
                    let (hops, _) = self.resolve(a, level, slot);
                    GatewayState {
                        gateway: g,
                        reachable: !hops.is_empty(),
                        hops,
                    }
                }
                _ => self.gateways.entries[n.entry].state.clone(),
            };
            for h in &gs.hops {
                if !state.immediate.contains(h) {
                    state.immediate.push(*h);
                }
            }
            state.gateways.push(gs);
        }
        state
    }

    /// Interface `ifid` changed: its gateways (`ifid`, `address%ifid`) are resolved again
    /// and the routes using those that changed are marked.
    pub(super) fn refresh_interface(&mut self, ifid: IfId) {
        for range in super::index::interface_ranges(ifid) {
            let entries: Vec<u32> = self
                .gateways
                .index
                .range(range)
                .map(|(_, e)| e as u32)
                .collect();
            for e in entries {
                if self.resolve_entry(e) {
                    self.mark_users(e, false);
                    self.mark_users(e, true);
                }
            }
        }
    }
}
