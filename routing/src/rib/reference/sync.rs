//! Derived state: every change to the configuration is followed by a recomputation of the
//! route records (connected routes from addresses), their selection and resolution, the local
//! addresses, and then the FIBs, which receive only the prefixes whose action changed. A
//! change that cannot be installed is rolled back. [`ReferenceRib::batch`] defers the recomputation to
//! the end of several changes.

use super::super::hops::{FibAction, NextHopTable};
use super::super::sorted_map::SortedMap;
use super::super::types::*;
use super::super::RibConfig;
use super::resolve::{Record, Resolver};
use super::{Config, ConfiguredAddress, Fibs, ReferenceRib, TableFib};
use crate::fib::{Fib4, Fib6, FibError, NextHop};
use crate::index_sort::sort_indexes;
use crate::prefix::{Afi, Prefix};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::IpAddr;

impl ReferenceRib {
    /// Makes several changes with one recomputation at the end: `f` makes them (each is
    /// checked as usual), then routes are selected and the FIBs updated once. Loading a
    /// configuration this way costs one recomputation instead of one per item. If `f` or the
    /// final recomputation fails, the RIB is restored as it was before the batch. Inside `f`,
    /// route views and [`ReferenceRib::decide`] still show the state from before the batch.
    pub fn batch<T>(
        &mut self,
        f: impl FnOnce(&mut ReferenceRib) -> Result<T, RibError>,
    ) -> Result<T, RibError> {
        if self.deferred {
            return f(self);
        }
        let before = self.config.clone();
        self.deferred = true;
        let out = f(self);
        self.deferred = false;
        let out = out.and_then(|value| self.recompute().map(|()| value));
        if out.is_err() {
            self.config = before;
            self.match_tables();
            // The previous configuration was installed before, so it fits again.
            let _ = self.recompute();
        }
        out
    }

    /// Applies `f` to the configuration and recomputes; restores everything on error. Inside
    /// a batch only `f` runs (it changes nothing when it fails).
    pub(super) fn change<T>(
        &mut self,
        f: impl FnOnce(&mut Config) -> Result<T, RibError>,
    ) -> Result<T, RibError> {
        if self.deferred {
            return f(&mut self.config);
        }
        let before = self.config.clone();
        let out = f(&mut self.config)?;
        if let Err(e) = self.recompute() {
            self.config = before;
            // The previous configuration was installed before, so it fits again.
            let _ = self.recompute();
            return Err(e);
        }
        Ok(out)
    }

    /// Gives every table with `fib` its forwarding state and drops that of the others
    /// (releasing the next hops they held).
    pub(super) fn match_tables(&mut self) {
        let tables = &self.config.tables;
        let hops = &mut self.hops;
        self.fibs.retain(|id, table| {
            let keep = tables.get(&id).is_some_and(|t| t.fib);
            if !keep {
                for (_, hop) in table.installed.iter() {
                    hops.release(*hop);
                }
            }
            keep
        });
        for (id, t) in self.config.tables.iter() {
            if t.fib && !self.fibs.contains_key(&id) {
                self.fibs.insert(id, TableFib::new(&self.limits));
            }
        }
    }

    fn recompute(&mut self) -> Result<(), RibError> {
        let records = self.records();
        // Ids make the order total (the sort is not stable).
        let mut order: Vec<u32> = (0..records.len() as u32).collect();
        sort_indexes(&mut order, &|a, b| {
            let (x, y) = (&records[a], &records[b]);
            (x.spec.table, x.spec.dst, x.dst_interface, x.id).cmp(&(
                y.spec.table,
                y.spec.dst,
                y.dst_interface,
                y.id,
            ))
        });
        let resolver = Resolver {
            interfaces: &self.config.interfaces,
        };
        let tables = &self.config.tables;
        let states = resolver.states(&records, &order, &|t| tables.contains_key(&t));
        let own: Vec<IpAddr> = self
            .config
            .addresses
            .values()
            .filter(|a| !a.spec.disabled)
            .map(|a| a.spec.address)
            .collect();
        let mut by_address: Vec<u32> = (0..own.len() as u32).collect();
        sort_indexes(&mut by_address, &|a, b| own[a].cmp(&own[b]));
        let mut local: Vec<IpAddr> = by_address.iter().map(|&i| own[i as usize]).collect();
        local.dedup();
        self.records = records;
        self.states = states;
        self.order = order;
        self.local = local;
        self.sync_fibs()
    }

    /// Every route, connected ones included, sorted by id. Connected routes and configured
    /// routes are each in id order already (an address gets its route id when it is added),
    /// so this is a merge.
    fn records(&self) -> Vec<Record> {
        let mut connected = self
            .config
            .addresses
            .values()
            .filter_map(|a| connected_route(a, &self.config.interfaces))
            .peekable();
        let mut configured = self
            .config
            .routes
            .iter()
            .map(|(id, r)| Record {
                id,
                origin: r.origin,
                spec: r.spec.clone(),
                dst_interface: None,
            })
            .peekable();
        let mut records: Vec<Record> =
            Vec::with_capacity(self.config.routes.len() + self.config.addresses.len());
        loop {
            let next = match (connected.peek(), configured.peek()) {
                (Some(c), Some(r)) if c.id < r.id => connected.next(),
                (_, Some(_)) => configured.next(),
                (Some(_), None) => connected.next(),
                (None, None) => break,
            };
            records.extend(next);
        }
        debug_assert!(records.windows(2).all(|w| w[0].id < w[1].id));
        records
    }

    /// Installs the active routes of every table with a FIB, touching only what changed.
    fn sync_fibs(&mut self) -> Result<(), RibError> {
        let tables: Vec<TableId> = self.fibs.keys().collect();
        for t in tables {
            let wanted = self.wanted(t)?;
            let result = match self.fibs.get_mut(&t) {
                Some(table) => table.apply(&wanted, &mut self.hops),
                None => Ok(()),
            };
            // The interned references were temporary: installed entries hold their own.
            for &(_, id) in &wanted {
                self.hops.release(id);
            }
            result?;
        }
        Ok(())
    }

    /// What table `t`'s FIB should hold, sorted by prefix, each action interned (one
    /// reference each, for the caller to release).
    fn wanted(&mut self, t: TableId) -> Result<Vec<(Prefix, NextHop)>, RibError> {
        let records = &self.records;
        let lo = self
            .order
            .partition_point(|&i| records[i as usize].spec.table < t);
        let hi = self
            .order
            .partition_point(|&i| records[i as usize].spec.table <= t);
        let mut wanted: Vec<(Prefix, NextHop)> = Vec::new();
        let mut current: Option<(Prefix, FibAction)> = None;
        for &i in &self.order[lo..hi] {
            let (r, s) = (&records[i as usize], &self.states[i as usize]);
            if !s.active || r.dst_interface.is_some() || r.spec.dst.is_link_local() {
                continue;
            }
            match &mut current {
                Some((dst, FibAction::Unicast(hops))) if *dst == r.spec.dst => {
                    if r.spec.route_type == RouteType::Unicast {
                        add_hops(hops, &s.immediate);
                    }
                    continue;
                }
                Some((dst, FibAction::Special(_))) if *dst == r.spec.dst => continue,
                _ => {}
            }
            if let Some((dst, action)) = current.take() {
                intern(&mut self.hops, &mut wanted, dst, action)?;
            }
            let action = match r.spec.route_type {
                RouteType::Unicast => {
                    let mut hops = Vec::with_capacity(s.immediate.len());
                    add_hops(&mut hops, &s.immediate);
                    FibAction::Unicast(hops)
                }
                other => FibAction::Special(other),
            };
            current = Some((r.spec.dst, action));
        }
        if let Some((dst, action)) = current {
            intern(&mut self.hops, &mut wanted, dst, action)?;
        }
        Ok(wanted)
    }
}

/// Adds `action` to `wanted`; on error releases what `wanted` holds.
fn intern(
    hops: &mut NextHopTable,
    wanted: &mut Vec<(Prefix, NextHop)>,
    dst: Prefix,
    action: FibAction,
) -> Result<(), RibError> {
    match hops.intern(action) {
        Ok(id) => {
            wanted.push((dst, id));
            Ok(())
        }
        Err(e) => {
            for &(_, id) in wanted.iter() {
                hops.release(id);
            }
            wanted.clear();
            Err(e)
        }
    }
}

/// Adds `more` to the sorted, distinct `hops`.
fn add_hops(hops: &mut Vec<Hop>, more: &[Hop]) {
    for h in more {
        if let Err(at) = hops.binary_search(h) {
            hops.insert(at, *h);
        }
    }
}

impl TableFib {
    pub(super) fn new(limits: &RibConfig) -> TableFib {
        TableFib {
            fib: limits.fibs.then(|| Fibs::new(limits)),
            installed: SortedMap::default(),
        }
    }

    /// The next hop of the longest installed prefix containing `dst`: a FIB lookup, or a
    /// search of the installed list in a RIB without FIBs.
    pub(super) fn lookup(&self, dst: IpAddr) -> Option<NextHop> {
        match (&self.fib, dst) {
            (Some(f), IpAddr::V4(a)) => f.v4.lookup(u32::from(a)),
            (Some(f), IpAddr::V6(a)) => f.v6.lookup(u128::from(a)),
            (None, _) => (0..=Afi::of(dst).bits()).rev().find_map(|len| {
                let p = Prefix::new(dst, len).ok()?;
                self.installed.get(&p).copied()
            }),
        }
    }

    /// Makes the FIBs hold exactly `wanted` (sorted by prefix): withdrawals first, then
    /// announcements. After an error, `installed` still says what the FIBs hold.
    fn apply(
        &mut self,
        wanted: &[(Prefix, NextHop)],
        hops: &mut NextHopTable,
    ) -> Result<(), RibError> {
        let fib = &mut self.fib;
        let mut result = Ok(());
        let mut w = 0;
        self.installed.retain(|p, id| {
            if result.is_err() {
                return true;
            }
            while w < wanted.len() && wanted[w].0 < p {
                w += 1;
            }
            if wanted.get(w).is_some_and(|x| x.0 == p) {
                return true;
            }
            match fib_remove(fib, &p) {
                Ok(()) => {
                    hops.release(*id);
                    false
                }
                Err(e) => {
                    result = Err(e);
                    true
                }
            }
        });
        result?;
        // Every installed prefix is wanted now: merge the two sorted lists.
        let mut old = self.installed.take().into_iter().peekable();
        let mut next: Vec<(Prefix, NextHop)> = Vec::with_capacity(wanted.len());
        for &(p, id) in wanted {
            let current = old.next_if(|x| x.0 == p).map(|x| x.1);
            if current == Some(id) {
                next.push((p, id));
                continue;
            }
            if let Err(e) = fib_insert(fib, &p, id) {
                // Keep what the FIBs hold: the new entries so far, then the old ones.
                next.extend(current.map(|c| (p, c)));
                next.extend(old);
                self.installed.replace_sorted(next);
                return Err(e);
            }
            hops.retain(id);
            if let Some(c) = current {
                hops.release(c);
            }
            next.push((p, id));
        }
        self.installed.replace_sorted(next);
        Ok(())
    }
}

impl Fibs {
    /// Kept out of line: the two `Fib` values are built on the stack (a few KiB) before they
    /// move to the heap, and a RIB without FIBs should not pay for that frame.
    #[inline(never)]
    fn new(limits: &RibConfig) -> Box<Fibs> {
        Box::new(Fibs {
            v4: Fib4::new(limits.fib_v4),
            v6: Fib6::new(limits.fib_v6),
        })
    }
}

fn fib_insert(fib: &mut Option<Box<Fibs>>, p: &Prefix, id: NextHop) -> Result<(), RibError> {
    let r = match (fib, p.afi()) {
        (Some(f), Afi::Ipv4) => f.v4.insert(p.bits() as u32, p.len(), id).map(|_| ()),
        (Some(f), Afi::Ipv6) => f.v6.insert(p.bits(), p.len(), id).map(|_| ()),
        (None, _) => Ok(()),
    };
    r.map_err(fib_error)
}

fn fib_remove(fib: &mut Option<Box<Fibs>>, p: &Prefix) -> Result<(), RibError> {
    let r = match (fib, p.afi()) {
        (Some(f), Afi::Ipv4) => f.v4.remove(p.bits() as u32, p.len()).map(|_| ()),
        (Some(f), Afi::Ipv6) => f.v6.remove(p.bits(), p.len()).map(|_| ()),
        (None, _) => Ok(()),
    };
    r.map_err(fib_error)
}

fn fib_error(e: FibError) -> RibError {
    match e {
        FibError::TableFull => RibError::Full(Resource::Fib),
        FibError::InvalidPrefix => RibError::InvalidPrefix,
    }
}

/// The connected route of an enabled address on a known interface: dst = the address's
/// network, gateway = the interface, distance 0, scope 10, in `main`.
fn connected_route(
    a: &ConfiguredAddress,
    interfaces: &SortedMap<IfId, InterfaceState>,
) -> Option<Record> {
    if a.spec.disabled || !interfaces.contains_key(&a.spec.interface) {
        return None;
    }
    let dst = Prefix::new(a.spec.address, a.spec.prefix_len).ok()?;
    let mut spec = RouteSpec::new(dst).via(Gateway::Interface(a.spec.interface));
    spec.distance = 0;
    spec.scope = 10;
    spec.target_scope = 0;
    let dst_interface = dst.is_link_local().then_some(a.spec.interface);
    Some(Record {
        id: a.route,
        origin: Origin::Connected,
        spec,
        dst_interface,
    })
}
