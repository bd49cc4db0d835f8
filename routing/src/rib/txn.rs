//! Transactions: every change is one (and [`Rib::batch`] makes one of many changes).
//!
//! Inside a transaction, changed routes wait in `Txn::pending` (by id, the configuration each
//! should have) and the rest of the configuration (interfaces, addresses, tables, rules) is
//! edited in place with a note of how to undo it. The committed state (routes with their
//! states, destinations, FIBs) is not touched, which is why views inside a batch still show
//! the state from before it. Committing puts the pending routes in place (keeping what they
//! replaced), brings connected routes and local addresses in line with the changed
//! addresses and interfaces, propagates the consequences and updates the FIBs. If the FIBs
//! refuse, the configuration is undone, the replaced routes are put back and the same
//! propagation brings everything back: no copy of the configuration is ever made.

use super::types::*;
use super::{CommittedAddress, Config, ConfiguredAddress, ConfiguredRoute, ConfiguredTable, Rib};
use alloc::vec::Vec;
use core::net::IpAddr;

/// Routes changed in a transaction: the configuration each should have (`None`: removed),
/// sorted by id.
type Pending = Vec<(RouteId, Option<ConfiguredRoute>)>;

#[derive(Default)]
pub(super) struct Txn {
    pending: Pending,
    /// Interfaces and addresses changed in the transaction.
    interfaces: Vec<IfId>,
    addresses: Vec<AddressId>,
    /// How to undo the configuration edits, in the order they were made.
    undo: Vec<Undo>,
    /// The counters when the transaction began.
    saved: Option<Counters>,
    /// Each table's route count when the transaction began.
    table_routes: Vec<(TableId, u32)>,
    /// The rules before the first rule edit of the transaction.
    rules: Option<Vec<(RuleId, RuleSpec)>>,
}

/// One configuration edit undone: the previous value (`None`: did not exist).
pub(super) enum Undo {
    Interface(IfId, Option<InterfaceState>),
    Address(AddressId, Option<ConfiguredAddress>),
    Table(TableId, Option<ConfiguredTable>),
}

#[derive(Clone, Copy)]
struct Counters {
    routes: usize,
    next_route: u32,
    next_address: u32,
    next_rule: u32,
    next_table: u16,
}

impl Counters {
    fn of(c: &Config) -> Counters {
        Counters {
            routes: c.routes,
            next_route: c.next_route,
            next_address: c.next_address,
            next_rule: c.next_rule,
            next_table: c.next_table,
        }
    }
}

impl Rib {
    /// Makes several changes with one commit at the end: `f` makes them (each is checked as
    /// usual), then the consequences are propagated and the FIBs updated once. Loading a
    /// configuration this way costs one propagation instead of one per item. If `f` or the
    /// commit fails, the RIB is restored as it was before the batch. Inside `f`, route views
    /// and [`Rib::decide`] still show the state from before the batch.
    pub fn batch<T>(
        &mut self,
        f: impl FnOnce(&mut Rib) -> Result<T, RibError>,
    ) -> Result<T, RibError> {
        self.generation.bump();
        if self.deferred {
            return f(self);
        }
        self.begin();
        self.deferred = true;
        let out = f(self);
        self.deferred = false;
        match out {
            Ok(value) => self.commit(true).map(|()| value),
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    /// One change: `f` checks it and edits the configuration (changing nothing when it
    /// fails); outside a batch it is committed at once.
    pub(super) fn change<T>(
        &mut self,
        f: impl FnOnce(&mut Rib) -> Result<T, RibError>,
    ) -> Result<T, RibError> {
        self.generation.bump();
        if self.deferred {
            return f(self);
        }
        self.begin();
        match f(self) {
            Ok(value) => self.commit(false).map(|()| value),
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    /// Notes a configuration edit for [`Rib::abort`] and a failed commit.
    pub(super) fn note(&mut self, undo: Undo) {
        self.txn.undo.push(undo);
    }

    pub(super) fn note_interface(&mut self, id: IfId) {
        if !self.txn.interfaces.contains(&id) {
            self.txn.interfaces.push(id);
        }
    }

    pub(super) fn note_address(&mut self, id: AddressId) {
        if !self.txn.addresses.contains(&id) {
            self.txn.addresses.push(id);
        }
    }

    /// Saves the rules before the first rule edit of the transaction.
    pub(super) fn note_rules(&mut self) {
        if self.txn.rules.is_none() {
            self.txn.rules = Some(self.config.rules.clone());
        }
    }

    /// Starts a transaction: notes the counters and the tables' route counts.
    fn begin(&mut self) {
        self.txn.saved = Some(Counters::of(&self.config));
        self.txn.table_routes.clear();
        let counts = self.config.tables.iter().map(|(id, t)| (id, t.routes));
        self.txn.table_routes.extend(counts);
    }

    /// Sets the configuration route `id` should have when the transaction commits.
    pub(super) fn set_pending(&mut self, id: RouteId, route: Option<ConfiguredRoute>) {
        let pending = &mut self.txn.pending;
        match pending.binary_search_by_key(&id, |p| p.0) {
            Ok(i) => pending[i].1 = route,
            Err(i) => pending.insert(i, (id, route)),
        }
    }

    /// The configuration of static or dynamic route `id` as edited so far: waiting in the
    /// transaction, else committed.
    pub(super) fn configured(&self, id: RouteId) -> Option<(Origin, &RouteSpec)> {
        if let Ok(i) = self.txn.pending.binary_search_by_key(&id, |p| p.0) {
            return self.txn.pending[i].1.as_ref().map(|r| (r.origin, &r.spec));
        }
        let r = &self.routes[self.ids.get(id)?];
        (r.origin != Origin::Connected).then_some((r.origin, &r.spec))
    }

    /// Undoes the configuration edits of the transaction.
    fn undo_config(&mut self) {
        while let Some(u) = self.txn.undo.pop() {
            let c = &mut self.config;
            match u {
                Undo::Interface(id, Some(s)) => drop(c.interfaces.insert(id, s)),
                Undo::Interface(id, None) => drop(c.interfaces.remove(&id)),
                Undo::Address(id, Some(a)) => drop(c.addresses.insert(id, a)),
                Undo::Address(id, None) => drop(c.addresses.remove(&id)),
                Undo::Table(id, Some(t)) => drop(c.tables.insert(id, t)),
                Undo::Table(id, None) => drop(c.tables.remove(&id)),
            }
        }
        for &(id, n) in &self.txn.table_routes {
            if let Some(t) = self.config.tables.get_mut(&id) {
                t.routes = n;
            }
        }
        if let Some(rules) = self.txn.rules.take() {
            self.config.rules = rules;
        }
        if let Some(s) = self.txn.saved.take() {
            let c = &mut self.config;
            c.routes = s.routes;
            c.next_route = s.next_route;
            c.next_address = s.next_address;
            c.next_rule = s.next_rule;
            c.next_table = s.next_table;
        }
    }

    /// Drops a transaction that failed before committing: only the configuration was edited.
    fn abort(&mut self) {
        self.undo_config();
        self.txn.pending.clear();
        self.txn.interfaces.clear();
        self.txn.addresses.clear();
        self.match_tables();
    }

    /// Commits the transaction (see the module documentation). A change of tables or rules
    /// alone touches no route and leaves the FIBs alone; a batch always brings them in line
    /// (retrying what a FIB refused before).
    fn commit(&mut self, batch: bool) -> Result<(), RibError> {
        let pending = core::mem::take(&mut self.txn.pending);
        let routing = batch
            || !pending.is_empty()
            || !self.txn.interfaces.is_empty()
            || !self.txn.addresses.is_empty();
        let replaced = self.apply(pending);
        self.propagate();
        let result = if routing { self.sync_fibs() } else { Ok(()) };
        if result.is_err() {
            self.undo_config();
            self.apply(replaced);
            self.propagate();
            // The previous state was installed before, so it fits again (if the FIB refuses,
            // the destinations stay queued and the next commit tries again).
            let _ = self.sync_fibs();
        }
        self.match_tables();
        if batch {
            self.work.trim();
            self.txn.undo = Vec::new();
        }
        self.txn.interfaces.clear();
        self.txn.addresses.clear();
        self.txn.undo.clear();
        self.txn.saved = None;
        self.txn.rules = None;
        result
    }

    /// Brings the committed routes in line with the changed interfaces and addresses and puts
    /// the `pending` routes in place (without propagating). Returns what those replaced, in
    /// the same form, to put back.
    fn apply(&mut self, pending: Pending) -> Pending {
        let interfaces = core::mem::take(&mut self.txn.interfaces);
        for &ifid in &interfaces {
            self.refresh_interface(ifid);
            // Whether the interface is known decides whether its addresses have routes.
            let on: Vec<AddressId> = self
                .config
                .addresses
                .iter()
                .filter(|(_, a)| a.spec.interface == ifid)
                .map(|(id, _)| id)
                .collect();
            for id in on {
                self.note_address(id);
            }
        }
        self.txn.interfaces = interfaces;
        let addresses = core::mem::take(&mut self.txn.addresses);
        for &id in &addresses {
            self.reconcile_address(id);
        }
        self.txn.addresses = addresses;
        let mut replaced = Vec::with_capacity(pending.len());
        for (id, route) in pending {
            let old = self.ids.get(id).map(|slot| self.take_route(slot));
            replaced.push((id, old));
            if let Some(r) = route {
                self.put_route(id, r.origin, r.spec, None);
            }
        }
        replaced
    }

    /// Makes address `id`'s connected route and local address what its configuration says.
    fn reconcile_address(&mut self, id: AddressId) {
        let before = self.committed.get(&id).copied();
        let now = self.config.addresses.get(&id);
        let exists = now.is_some();
        let Some(route) = now.map(|a| a.route).or(before.map(|b| b.route)) else {
            return;
        };
        let local = now.and_then(|a| (!a.spec.disabled).then_some(a.spec.address));
        let wanted = now.and_then(|a| connected_route(a, &self.config));
        let old_local = before.and_then(|b| b.local);
        if old_local != local {
            if let Some(a) = old_local {
                self.forget_local(a);
            }
            if let Some(a) = local {
                self.add_local(a);
            }
        }
        let existing = self.ids.get(route);
        let same = match (existing, &wanted) {
            (Some(slot), Some((spec, dst_if))) => {
                let r = &self.routes[slot];
                r.spec == *spec && r.dst_interface == *dst_if
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            if let Some(slot) = existing {
                self.take_route(slot);
            }
            if let Some((spec, dst_if)) = wanted {
                self.put_route(route, Origin::Connected, spec, dst_if);
            }
        }
        if exists {
            self.committed.insert(id, CommittedAddress { route, local });
        } else {
            self.committed.remove(&id);
        }
    }

    fn add_local(&mut self, a: IpAddr) {
        match self.local.binary_search_by_key(&a, |l| l.0) {
            Ok(i) => self.local[i].1 += 1,
            Err(i) => self.local.insert(i, (a, 1)),
        }
    }

    fn forget_local(&mut self, a: IpAddr) {
        if let Ok(i) = self.local.binary_search_by_key(&a, |l| l.0) {
            self.local[i].1 -= 1;
            if self.local[i].1 == 0 {
                self.local.remove(i);
            }
        }
    }
}

/// The connected route of an enabled address on a known interface: dst = the address's
/// network, gateway = the interface, distance 0, scope 10, in `main`; with the destination
/// interface for an IPv6 link-local network.
fn connected_route(a: &ConfiguredAddress, c: &Config) -> Option<(RouteSpec, Option<IfId>)> {
    if a.spec.disabled || !c.interfaces.contains_key(&a.spec.interface) {
        return None;
    }
    let dst = crate::prefix::Prefix::new(a.spec.address, a.spec.prefix_len).ok()?;
    let mut spec = RouteSpec::new(dst).via(Gateway::Interface(a.spec.interface));
    spec.distance = 0;
    spec.scope = 10;
    spec.target_scope = 0;
    let dst_interface = dst.is_link_local().then_some(a.spec.interface);
    Some((spec, dst_interface))
}
