//! Derived state: every change to the configuration is followed by a recomputation of the
//! route records (connected routes from addresses), their selection and resolution, the local
//! addresses, and then the FIBs, which receive only the prefixes whose action changed. A
//! change that cannot be installed is rolled back.

use super::hops::{FibAction, NextHopTable};
use super::resolve::{Record, Resolver, RouteState};
use super::types::*;
use super::{Config, ConfiguredAddress, Rib, RibConfig, TableFib};
use crate::fib::{Fib4, Fib6, FibError, NextHop};
use crate::prefix::{Afi, Prefix};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::IpAddr;

impl Rib {
    /// Applies `f` to the configuration and recomputes; restores everything on error.
    pub(super) fn change<T>(
        &mut self,
        f: impl FnOnce(&mut Config) -> Result<T, RibError>,
    ) -> Result<T, RibError> {
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

    fn recompute(&mut self) -> Result<(), RibError> {
        let mut records: Vec<Record> =
            Vec::with_capacity(self.config.routes.len() + self.config.addresses.len());
        for a in self.config.addresses.values() {
            if let Some(r) = connected_route(a, &self.config.interfaces) {
                records.push(r);
            }
        }
        for (&id, r) in &self.config.routes {
            records.push(Record {
                id,
                origin: r.origin,
                spec: r.spec.clone(),
                dst_interface: None,
            });
        }
        records.sort_by_key(|r| r.id);
        let resolver = Resolver {
            interfaces: &self.config.interfaces,
        };
        let mut states: Vec<RouteState> = alloc::vec![RouteState::default(); records.len()];
        let main_idx: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].spec.table == TableId::MAIN)
            .collect();
        let main: Vec<&Record> = main_idx.iter().map(|&i| &records[i]).collect();
        let main_states = resolver.main_table(&main);
        for (k, &i) in main_idx.iter().enumerate() {
            states[i] = main_states[k].clone();
        }
        for &t in self.config.tables.keys().filter(|&&t| t != TableId::MAIN) {
            let idx: Vec<usize> = (0..records.len())
                .filter(|&i| records[i].spec.table == t)
                .collect();
            let routes: Vec<&Record> = idx.iter().map(|&i| &records[i]).collect();
            let st = resolver.other_table(&routes, &main, &main_states);
            for (k, &i) in idx.iter().enumerate() {
                states[i] = st[k].clone();
            }
        }
        let mut local: Vec<IpAddr> = self
            .config
            .addresses
            .values()
            .filter(|a| !a.spec.disabled)
            .map(|a| a.spec.address)
            .collect();
        local.sort();
        local.dedup();
        self.records = records;
        self.states = states;
        self.local = local;
        self.sync_fibs()
    }

    /// Installs the active routes of every table with a FIB, touching only what changed.
    fn sync_fibs(&mut self) -> Result<(), RibError> {
        let mut wanted: BTreeMap<TableId, BTreeMap<Prefix, FibAction>> =
            self.fibs.keys().map(|&t| (t, BTreeMap::new())).collect();
        for (r, s) in self.records.iter().zip(&self.states) {
            if !s.active || r.dst_interface.is_some() || r.spec.dst.is_link_local() {
                continue;
            }
            let Some(table) = wanted.get_mut(&r.spec.table) else {
                continue;
            };
            let action = match r.spec.route_type {
                RouteType::Unicast => FibAction::Unicast(s.immediate.clone()),
                other => FibAction::Special(other),
            };
            match table.get_mut(&r.spec.dst) {
                Some(FibAction::Unicast(hops)) => {
                    if let FibAction::Unicast(more) = action {
                        hops.extend(more);
                    }
                }
                Some(FibAction::Special(_)) => {}
                None => {
                    table.insert(r.spec.dst, action);
                }
            }
        }
        for (t, table) in wanted {
            let Some(fib) = self.fibs.get_mut(&t) else {
                continue;
            };
            let mut ids: BTreeMap<Prefix, NextHop> = BTreeMap::new();
            let mut result = Ok(());
            for (p, mut action) in table {
                if let FibAction::Unicast(h) = &mut action {
                    h.sort();
                    h.dedup();
                }
                match self.hops.intern(action) {
                    Ok(id) => {
                        ids.insert(p, id);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            if result.is_ok() {
                result = fib.apply(&ids, &mut self.hops);
            }
            // The interned references were temporary: installed entries hold their own.
            for id in ids.into_values() {
                self.hops.release(id);
            }
            result?;
        }
        Ok(())
    }
}

impl TableFib {
    pub(super) fn new(limits: &RibConfig) -> TableFib {
        TableFib {
            v4: Fib4::new(limits.fib_v4),
            v6: Fib6::new(limits.fib_v6),
            installed: BTreeMap::new(),
        }
    }

    /// Makes the FIBs hold exactly `wanted`: withdrawals first, then announcements.
    fn apply(
        &mut self,
        wanted: &BTreeMap<Prefix, NextHop>,
        hops: &mut NextHopTable,
    ) -> Result<(), RibError> {
        let gone: Vec<Prefix> = self
            .installed
            .keys()
            .filter(|p| !wanted.contains_key(p))
            .copied()
            .collect();
        for p in gone {
            self.fib_remove(&p)?;
            if let Some(old) = self.installed.remove(&p) {
                hops.release(old);
            }
        }
        for (p, &id) in wanted {
            if self.installed.get(p) == Some(&id) {
                continue;
            }
            self.fib_insert(p, id)?;
            hops.retain(id);
            if let Some(old) = self.installed.insert(*p, id) {
                hops.release(old);
            }
        }
        Ok(())
    }

    fn fib_insert(&mut self, p: &Prefix, id: NextHop) -> Result<(), RibError> {
        let r = match p.afi() {
            Afi::Ipv4 => self.v4.insert(p.bits() as u32, p.len(), id).map(|_| ()),
            Afi::Ipv6 => self.v6.insert(p.bits(), p.len(), id).map(|_| ()),
        };
        r.map_err(fib_error)
    }

    fn fib_remove(&mut self, p: &Prefix) -> Result<(), RibError> {
        let r = match p.afi() {
            Afi::Ipv4 => self.v4.remove(p.bits() as u32, p.len()).map(|_| ()),
            Afi::Ipv6 => self.v6.remove(p.bits(), p.len()).map(|_| ()),
        };
        r.map_err(fib_error)
    }
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
    interfaces: &BTreeMap<IfId, InterfaceState>,
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
