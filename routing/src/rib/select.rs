//! Selection per destination and the FIBs. Destinations that propagation marked are selected
//! again (lowest distance, ECMP, contributions), and their table's FIB receives their new
//! forwarding action only where it changed: withdrawals first, then announcements. What a
//! FIB holds for a destination is kept with it, so nothing is compared in bulk.

use super::hops::FibAction;
use super::index::{dest_key, dest_parts, table_range, Key};
use super::store::{selection, NONE};
use super::types::*;
use super::{Fibs, Rib};
use crate::fib::{FibError, NextHop};
use crate::index_sort::sort_indexes;
use crate::prefix::{Afi, Prefix};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::net::IpAddr;

/// A destination's value in `Rib::dests`: the first route of its list, what its table's FIB
/// holds for it, and whether it waits for selection.
pub(super) mod dest {
    use super::super::store::NONE;
    use crate::fib::NextHop;

    pub const EMPTY: u64 = NONE as u64;
    const HOP_SHIFT: u32 = 32;
    const INSTALLED: u64 = 1 << 47;
    pub const QUEUED: u64 = 1 << 48;

    pub fn head(v: u64) -> u32 {
        v as u32
    }

    pub fn with_head(v: u64, head: u32) -> u64 {
        (v & !0xffff_ffff) | u64::from(head)
    }

    pub fn installed(v: u64) -> Option<NextHop> {
        if v & INSTALLED == 0 {
            return None;
        }
        NextHop::new(((v >> HOP_SHIFT) & 0x7fff) as u16)
    }

    pub fn with_installed(v: u64, hop: Option<NextHop>) -> u64 {
        let v = v & !(INSTALLED | (0x7fff << HOP_SHIFT));
        match hop {
            Some(h) => v | INSTALLED | (u64::from(h.get()) << HOP_SHIFT),
            None => v,
        }
    }
}

impl Rib {
    /// Queues destination `key` for selection and the FIB.
    pub(super) fn mark_dest(&mut self, key: Key) {
        if let Some(v) = self.dests.get_mut(&key) {
            if *v & dest::QUEUED == 0 {
                *v |= dest::QUEUED;
                self.work.dests.push(key);
            }
        }
    }

    /// Selects the queued destinations and brings their FIBs in line. Table by table, in
    /// prefix order: the wanted actions are interned, then withdrawals, then announcements,
    /// then the interned references are dropped (so a table's FIB sees the same operations,
    /// with the same next-hop ids, as a full recomputation would give it). On error the
    /// queue is kept (for the rollback, and a failed rollback is retried by the next commit)
    /// and each destination says what its FIB holds.
    pub(super) fn sync_fibs(&mut self) -> Result<(), RibError> {
        let mut queue = core::mem::take(&mut self.work.dests);
        let mut order: Vec<u32> = (0..queue.len() as u32).collect();
        sort_indexes(&mut order, &|a, b| queue[a].cmp(&queue[b]));
        queue = order.iter().map(|&i| queue[i as usize]).collect();
        for key in &queue {
            self.select(key);
        }
        let mut result = Ok(());
        let mut start = 0;
        while start < queue.len() {
            let table = dest_parts(&queue[start]).0;
            let end = start
                + queue[start..]
                    .iter()
                    .take_while(|k| dest_parts(k).0 == table)
                    .count();
            result = self.sync_table(table, &queue[start..end]);
            if result.is_err() {
                break;
            }
            start = end;
        }
        if result.is_err() {
            self.work.dests = queue;
            return result;
        }
        for key in &queue {
            let Some(v) = self.dests.get_mut(key) else {
                continue;
            };
            *v &= !dest::QUEUED;
            if dest::head(*v) == NONE && dest::installed(*v).is_none() {
                self.dests.remove(key);
            }
        }
        Ok(())
    }

    /// Brings one table's FIB in line for its queued destinations `keys` (sorted): their
    /// withdrawals, then the destinations that waited for room (`retry_waiting`), then their
    /// announcements. A destination the FIB has no room for waits (`install_or_wait`): the only error
    /// is a full next-hop table, which undoes the change.
    fn sync_table(&mut self, table: TableId, keys: &[Key]) -> Result<(), RibError> {
        if !self.fibs.contains_key(&table) {
            return Ok(());
        }
        let mut wanted: Vec<Option<NextHop>> = Vec::with_capacity(keys.len());
        for key in keys {
            let hop = match self.action(key).map(|a| self.hops.intern(a)) {
                Some(Ok(hop)) => Some(hop),
                Some(Err(e)) => {
                    wanted.iter().flatten().for_each(|&h| self.hops.release(h));
                    return Err(e);
                }
                None => None,
            };
            wanted.push(hop);
        }
        let mut result = Ok(());
        for (key, &hop) in keys.iter().zip(&wanted) {
            if hop.is_none() {
                result = self.install_or_wait(table, key, None).map(|_| ());
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() {
            self.retry_waiting(table, keys);
            for (key, &hop) in keys.iter().zip(&wanted) {
                if hop.is_some() {
                    result = self.install_or_wait(table, key, hop).map(|_| ());
                    if result.is_err() {
                        break;
                    }
                }
            }
        }
        // The interned references were temporary: installed destinations hold their own.
        wanted.iter().flatten().for_each(|&h| self.hops.release(h));
        result
    }

    /// Makes `table`'s FIB hold `hop` for `key`, or, when the FIB has no room, makes the
    /// destination wait: what the FIB held for it is withdrawn (it would forward by a route
    /// that is no longer selected) and its routes are shown inactive until a later change
    /// makes room. Whether it is installed now.
    fn install_or_wait(
        &mut self,
        table: TableId,
        key: &Key,
        hop: Option<NextHop>,
    ) -> Result<bool, RibError> {
        match self.install(table, key, hop) {
            Ok(()) => {
                self.waiting.remove(key);
                Ok(true)
            }
            Err(RibError::Full(Resource::Fib)) => {
                if hop.is_some() {
                    // A withdrawal that fails too leaves the old entry, still waiting.
                    let _ = self.install(table, key, None);
                }
                self.waiting.insert(*key, 0);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Installs the destinations of `table` that waited for room, in key order (family,
    /// address, length), until one does not fit: one failed attempt per change at most, and
    /// the first to wait is the first served within its part of the address space. The
    /// queued destinations `keys` (sorted) are left to the caller.
    fn retry_waiting(&mut self, table: TableId, keys: &[Key]) {
        let end = *table_range(table).end();
        let mut from = *table_range(table).start();
        while let Some(key) = self.waiting.first_in(from..=end) {
            if keys.binary_search(&key).is_err() {
                let hop = match self.action(&key).map(|a| self.hops.intern(a)) {
                    Some(Ok(hop)) => Some(hop),
                    Some(Err(_)) => return,
                    None => None,
                };
                let done = self.install_or_wait(table, &key, hop);
                if let Some(h) = hop {
                    self.hops.release(h);
                }
                if done != Ok(true) {
                    return;
                }
                let dest = self.dests.get(&key);
                if dest.is_some_and(|v| dest::head(v) == NONE && dest::installed(v).is_none()) {
                    self.dests.remove(&key);
                }
            }
            match key.successor() {
                Some(next) if next <= end => from = next,
                _ => return,
            }
        }
    }

    /// Forgets the destinations of a table whose FIB is gone that still waited (withdrawals
    /// the full FIB refused): their next hops are released and the empty destinations go.
    pub(super) fn forget_waiting(&mut self, table: TableId) {
        while let Some(key) = self.waiting.first_in(table_range(table)) {
            self.waiting.remove(&key);
            let Some(v) = self.dests.get(&key) else {
                continue;
            };
            if let Some(h) = dest::installed(v) {
                self.hops.release(h);
            }
            if dest::head(v) == NONE {
                self.dests.remove(&key);
            } else if let Some(v) = self.dests.get_mut(&key) {
                *v = dest::with_installed(*v, None);
            }
        }
    }

    /// Whether the routes to destination `key` are selected but wait for room in their
    /// table's FIB (shown inactive).
    pub(super) fn waits_for_fib(&self, key: &Key) -> bool {
        self.waiting.get(key).is_some()
    }

    /// Destinations of `table` waiting for room in its FIB (for tests).
    #[cfg(test)]
    pub(crate) fn waiting_count(&self, table: TableId) -> usize {
        self.waiting.range(table_range(table)).count()
    }

    /// Destinations of `table` whose FIB still holds an entry their routes no longer want (a
    /// withdrawal the full FIB refused; for tests and fuzzing).
    pub(crate) fn stale_count(&self, table: TableId) -> usize {
        self.waiting
            .range(table_range(table))
            .filter(|(k, _)| self.dests.get(k).and_then(dest::installed).is_some())
            .count()
    }

    /// Selection among the routes to one destination: the best candidate is the one with
    /// the lowest distance, connected before the rest, then the oldest. A unicast best shares
    /// the place with every unicast candidate of its distance (ECMP); another type is active
    /// alone. Of the other candidates, those with the lowest distance are `best-candidate`.
    fn select(&mut self, key: &Key) {
        let head = self.dests.get(key).map_or(NONE, dest::head);
        let mut best: Option<(u8, bool, RouteId, u32)> = None;
        for slot in self.dest_routes(head) {
            let r = &self.routes[slot];
            if self.is_candidate(r) {
                let rank = (r.spec.distance, r.origin != Origin::Connected, r.id, slot);
                best = Some(best.map_or(rank, |b| b.min(rank)));
            }
        }
        let best = best.map(|(distance, _, _, slot)| {
            let unicast = self.routes[slot].spec.route_type == RouteType::Unicast;
            (distance, unicast, slot)
        });
        let is_active = |slot: u32, r: &super::store::RouteEntry| match best {
            Some((distance, true, _)) => {
                r.spec.distance == distance && r.spec.route_type == RouteType::Unicast
            }
            Some((_, false, b)) => slot == b,
            None => false,
        };
        let mut active = 0;
        let mut runner_up: Option<u8> = None;
        for slot in self.dest_routes(head) {
            let r = &self.routes[slot];
            if !self.is_candidate(r) {
                continue;
            }
            if is_active(slot, r) {
                active += 1;
            } else {
                let d = r.spec.distance;
                runner_up = Some(runner_up.map_or(d, |x| x.min(d)));
            }
        }
        let mut slot = head;
        while slot != NONE {
            let candidate = self.is_candidate(&self.routes[slot]);
            let r = &self.routes[slot];
            let bits = if !candidate {
                0
            } else if is_active(slot, r) {
                let ecmp = if active > 1 { selection::ECMP } else { 0 };
                selection::ACTIVE | ecmp | (1 << selection::CONTRIBUTION_SHIFT)
            } else if Some(r.spec.distance) == runner_up {
                2 << selection::CONTRIBUTION_SHIFT
            } else {
                3 << selection::CONTRIBUTION_SHIFT
            };
            let r = &mut self.routes[slot];
            r.selection = bits;
            slot = r.next;
        }
    }

    /// What the FIB should hold for a destination (after `select`): the union of the active
    /// unicast routes' hops, or the active route's type; nothing for link-local destinations.
    fn action(&self, key: &Key) -> Option<FibAction> {
        let (_, dst, dst_interface) = dest_parts(key);
        if dst_interface.is_some() || dst.is_link_local() {
            return None;
        }
        let head = self.dests.get(key).map_or(NONE, dest::head);
        let mut hops: Option<Vec<Hop>> = None;
        for slot in self.dest_routes(head) {
            let r = &self.routes[slot];
            if r.selection & selection::ACTIVE == 0 {
                continue;
            }
            if r.spec.route_type != RouteType::Unicast {
                return Some(FibAction::Special(r.spec.route_type));
            }
            let hops = hops.get_or_insert_with(Vec::new);
            for h in self.immediate(r) {
                if let Err(at) = hops.binary_search(h) {
                    hops.insert(at, *h);
                }
            }
        }
        hops.map(FibAction::Unicast)
    }

    /// Makes `table`'s FIB hold `hop` for destination `key`.
    fn install(&mut self, table: TableId, key: &Key, hop: Option<NextHop>) -> Result<(), RibError> {
        let Some(value) = self.dests.get(key) else {
            return Ok(());
        };
        let installed = dest::installed(value);
        if installed == hop {
            return Ok(());
        }
        let Some(fib) = self.fibs.get_mut(&table) else {
            return Ok(());
        };
        if fib.fib.is_none() && self.limits.fibs {
            // The table's first destination: its FIBs now (nothing is installed without them,
            // so a withdrawal never gets here).
            fib.fib = Some(Fibs::try_new(&self.limits).ok_or(RibError::Full(Resource::Fib))?);
        }
        let dst = dest_parts(key).1;
        match hop {
            Some(h) => fib_insert(&mut fib.fib, &dst, h)?,
            None => fib_remove(&mut fib.fib, &dst)?,
        }
        if let Some(h) = hop {
            self.hops.retain(h);
        }
        if let Some(old) = installed {
            self.hops.release(old);
        }
        if let Some(v) = self.dests.get_mut(key) {
            *v = dest::with_installed(*v, hop);
        }
        Ok(())
    }

    /// The next hop of the longest installed prefix of `table` containing `dst`: a FIB
    /// lookup, or in a RIB without FIBs a search of the destinations by length. A table
    /// removed in a batch that is not committed yet still has its FIB, but is not looked in.
    pub(super) fn lookup_hop(&self, table: TableId, dst: IpAddr) -> Option<NextHop> {
        if !self.config.tables.contains_key(&table) {
            return None;
        }
        match (&self.fibs.get(&table)?.fib, dst) {
            (Some(f), IpAddr::V4(a)) => f.v4.lookup(u32::from(a)),
            (Some(f), IpAddr::V6(a)) => f.v6.lookup(u128::from(a)),
            // FIBs not made yet: nothing installed.
            (None, _) if self.limits.fibs => None,
            (None, _) => (0..=Afi::of(dst).bits()).rev().find_map(|len| {
                let p = Prefix::new(dst, len).ok()?;
                dest::installed(self.dests.get(&dest_key(table, &p, None))?)
            }),
        }
    }

    /// Whether table `t`'s FIB holds exactly `p` (read back from the FIB, or from the
    /// destinations of a RIB without FIBs; for tests and fuzzing).
    pub(crate) fn fib_holds(&self, t: TableId, p: &Prefix) -> bool {
        let Some(table) = self.fibs.get(&t) else {
            return false;
        };
        match (&table.fib, p.afi()) {
            (Some(f), Afi::Ipv4) => f.v4.get(p.bits() as u32, p.len()).is_some(),
            (Some(f), Afi::Ipv6) => f.v6.get(p.bits(), p.len()).is_some(),
            (None, _) => self
                .dests
                .get(&dest_key(t, p, None))
                .and_then(dest::installed)
                .is_some(),
        }
    }

    /// Number of prefixes in table `t`'s FIBs (or installed in a RIB without FIBs).
    pub(crate) fn fib_len(&self, t: TableId) -> usize {
        self.fibs.get(&t).map_or(0, |table| match &table.fib {
            Some(f) => f.v4.len() + f.v6.len(),
            None => self
                .dests
                .range(table_range(t))
                .filter(|(_, v)| dest::installed(*v).is_some())
                .count(),
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
