//! A comparable picture of a RIB: everything its views show, what its FIBs hold (read back
//! from the FIBs themselves, actions instead of next-hop ids), the router's own addresses,
//! tables, rules and addresses. The fuzz bodies compare the incremental RIB's picture with the
//! reference's after every step; `Rib::check_consistency` checks the incremental RIB's own
//! bookkeeping against what it derives from.

use super::hops::{FibAction, NextHopTable};
use super::index::{dest_parts, everything, table_range};
use super::select::dest;
use super::state::GatewayState;
use super::store::{mark, Resolution, NONE};
use super::types::*;
use super::view::RouteFlags;
use super::Rib;
use crate::fib::{Fib4, Fib6};
use crate::prefix::{Afi, Prefix};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

/// One route as the views show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RouteRow {
    pub id: RouteId,
    pub origin: Origin,
    pub spec: RouteSpec,
    pub dst_interface: Option<IfId>,
    pub flags: RouteFlags,
    pub contribution: Option<Contribution>,
    pub gateways: Vec<GatewayState>,
    pub immediate: Vec<Hop>,
    pub address: Option<AddressId>,
    pub table_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// In print order.
    pub routes: Vec<RouteRow>,
    /// `(table, prefix, action)` for every prefix installed, sorted.
    pub fib: Vec<(TableId, Prefix, FibAction)>,
    /// Distinct actions in use.
    pub next_hops: usize,
    pub local: Vec<IpAddr>,
    pub tables: Vec<(TableId, String, bool)>,
    pub rules: Vec<(RuleId, RuleSpec)>,
    pub addresses: Vec<(AddressId, AddressSpec, Prefix, bool, RouteId)>,
    pub interfaces: Vec<(IfId, InterfaceState)>,
}

/// The prefixes of a pair of FIBs with their actions.
pub(crate) fn fib_contents(
    table: TableId,
    v4: &Fib4,
    v6: &Fib6,
    hops: &NextHopTable,
    out: &mut Vec<(TableId, Prefix, FibAction)>,
) {
    let action = |h| {
        hops.action(h)
            .cloned()
            .expect("an installed hop has an action")
    };
    for (a, len, h) in v4.prefixes() {
        out.push((
            table,
            Prefix::from_parts(Afi::Ipv4, a.into(), len),
            action(h),
        ));
    }
    for (a, len, h) in v6.prefixes() {
        out.push((table, Prefix::from_parts(Afi::Ipv6, a, len), action(h)));
    }
}

impl Rib {
    pub(crate) fn snapshot(&self) -> Snapshot {
        let routes = self
            .routes()
            .map(|v| RouteRow {
                id: v.id(),
                origin: v.origin(),
                spec: v.spec().clone(),
                dst_interface: v.dst_interface(),
                flags: v.flags(),
                contribution: v.contribution(),
                gateways: v.gateway_states().to_vec(),
                immediate: v.immediate_gw().to_vec(),
                address: v.address(),
                table_name: String::from(v.table_name()),
            })
            .collect();
        let mut fib = Vec::new();
        let configured = |t: &TableId| self.config.tables.contains_key(t);
        for (t, table) in self.fibs.iter().filter(|(t, _)| configured(t)) {
            match &table.fib {
                Some(f) => fib_contents(t, &f.v4, &f.v6, &self.hops, &mut fib),
                None => {
                    for (key, v) in self.dests.range(table_range(t)) {
                        if let Some(h) = dest::installed(v) {
                            let action = self.hops.action(h).cloned().expect("an action");
                            fib.push((t, dest_parts(&key).1, action));
                        }
                    }
                }
            }
        }
        fib.sort();
        Snapshot {
            routes,
            fib,
            next_hops: self.hops.len(),
            local: self.local.iter().map(|l| l.0).collect(),
            tables: self
                .tables()
                .map(|t| (t.id, String::from(t.name), t.fib))
                .collect(),
            rules: self.rules().map(|r| (r.id, r.spec.clone())).collect(),
            addresses: self
                .addresses()
                .map(|a| (a.id, a.spec.clone(), a.network, a.invalid, a.route))
                .collect(),
            interfaces: self
                .config
                .interfaces
                .iter()
                .map(|(i, s)| (i, *s))
                .collect(),
        }
    }

    /// Panics unless the RIB's bookkeeping agrees with itself after a change: nothing left
    /// marked, destinations' lists sorted and counted, every gateway registration linked
    /// both ways, what each destination says is installed is what its FIB holds.
    pub(crate) fn check_consistency(&self) {
        assert!(!self.deferred);
        // Destinations stay queued only after a rollback the FIB refused (retried next time).
        for key in &self.work.dests {
            let v = self.dests.get(key).expect("a queued destination exists");
            assert_ne!(v & dest::QUEUED, 0, "queued without its mark");
        }
        let mut lengths = [[0u32; 129]; 2];
        let mut routes = 0;
        let mut installed = Vec::new();
        for (key, v) in self.dests.range(everything()) {
            if v & dest::QUEUED != 0 {
                assert!(self.work.dests.contains(&key), "marked but not queued");
            }
            let (table, dst, dst_if) = dest_parts(&key);
            let head = dest::head(v);
            let kept = head != NONE || dest::installed(v).is_some() || v & dest::QUEUED != 0;
            assert!(kept, "empty destination kept");
            if head != NONE && table == TableId::MAIN && dst_if.is_none() {
                lengths[super::link::afi_index(dst.afi())][usize::from(dst.len())] += 1;
            }
            if let Some(h) = dest::installed(v) {
                installed.push((table, dst, self.hops.action(h).cloned().expect("action")));
            }
            let mut last: Option<RouteId> = None;
            for slot in self.dest_routes(head) {
                let r = &self.routes[slot];
                routes += 1;
                assert!(last.is_none_or(|l| l < r.id), "list out of order");
                last = Some(r.id);
                assert_eq!(r.dest_key(), key);
                assert_eq!(self.ids.get(r.id), Some(slot));
                assert_eq!(r.marks & (mark::DIRTY | mark::NEW), 0, "route left marked");
                assert_eq!(r.scratch, 0);
                let mut node = r.users;
                let mut count = 0;
                while node != NONE {
                    let n = &self.gateways.nodes[node];
                    assert_eq!(n.route, slot);
                    let e = &self.gateways.entries[n.entry];
                    assert!(!e.stale, "entry left stale");
                    assert_eq!(self.gateways.index.get(&e.key), Some(u64::from(n.entry)));
                    if let Resolution::Shared(s) = r.resolution {
                        assert_eq!(s, n.entry);
                    }
                    count += 1;
                    node = n.sibling;
                }
                assert_eq!(count, r.spec.gateways.len());
            }
        }
        assert_eq!(lengths, self.main_lengths, "prefix length counts");
        assert_eq!(routes, self.routes.len(), "routes outside destinations");
        assert_eq!(self.gateways.index.len(), self.gateways.entries.len());
        let users: u32 = self
            .gateways
            .index
            .range(everything())
            .map(|(_, e)| self.gateways.entries[e as u32].users)
            .sum();
        assert_eq!(users as usize, self.gateways.nodes.len());
        installed.sort();
        let mut fib = Vec::new();
        for (t, table) in self.fibs.iter() {
            if let Some(f) = &table.fib {
                fib_contents(t, &f.v4, &f.v6, &self.hops, &mut fib);
            }
        }
        fib.sort();
        if self.limits.fibs {
            assert_eq!(installed, fib, "destinations and FIBs disagree");
        }
    }
}
