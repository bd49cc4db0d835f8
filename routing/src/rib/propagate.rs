//! Propagation: after a commit has put its routes in place, everything whose state can have
//! changed is evaluated again, and only that.
//!
//! Work is kept by level, the order in which `main` resolves (a route of `main` at its scope,
//! a gateway address entry at its level, the other tables last), and each level is settled
//! before the next, because a route resolves only through routes of `main` whose scope is at
//! most its own. At one level: the routes that resolve only through lower scopes, then the
//! routes that may resolve through their own scope (`cycles`), then the gateway address
//! entries of that level. When a route of `main` changes, `touch` finds the gateway
//! addresses inside its destination (a range query) and marks those it can affect: their
//! shared state is resolved again at its level, and the routes that resolve them themselves
//! are re-evaluated. A shared state that changes marks the routes that share it. So the cost
//! of a change is the number of routes and gateways whose resolution can change through it.

use super::cycles::{CURRENT, DONE};
use super::gateways::UNRESOLVED;
use super::index::{addresses_in, Key};
use super::store::{mark, OwnedState, Resolution, RouteEntry, NONE};
use super::types::TableId;
use super::Rib;
use crate::prefix::Prefix;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Level of the routes of tables other than `main` (after every level of `main`).
const OTHER_TABLES: usize = 256;
const LEVELS: usize = 257;

#[derive(Default)]
pub(super) struct Work {
    /// Routes to evaluate again, by level.
    routes: Vec<Vec<u32>>,
    /// Gateway address entries to resolve again, by level.
    entries: Vec<Vec<u32>>,
    /// Levels that may have work (a bit per level).
    levels: [u64; 5],
    /// Destinations to select again and send to the FIB.
    pub dests: Vec<Key>,
    /// Routes that `cycles` gave a scratch value in this propagation.
    pub visited: Vec<u32>,
    /// Reused buffers.
    found: Vec<u32>,
    users: Vec<u32>,
}

/// Entries a work list keeps room for between commits; a big change (loading a table, a flap
/// of a busy interface) gives the rest back.
const KEPT: usize = 1024;

impl Work {
    fn ensure(&mut self) {
        if self.routes.is_empty() {
            self.routes.resize_with(LEVELS, Vec::new);
            self.entries.resize_with(LEVELS, Vec::new);
        }
    }

    fn push_route(&mut self, level: usize, slot: u32) {
        self.ensure();
        self.routes[level].push(slot);
        self.levels[level / 64] |= 1 << (level % 64);
    }

    pub fn push_entry(&mut self, level: u8, e: u32) {
        self.ensure();
        let level = usize::from(level);
        self.entries[level].push(e);
        self.levels[level / 64] |= 1 << (level % 64);
    }

    /// Gives back what big changes made the lists grow to.
    pub fn trim(&mut self) {
        for list in self.routes.iter_mut().chain(self.entries.iter_mut()) {
            if list.capacity() > KEPT {
                list.shrink_to(KEPT);
            }
        }
        for list in [&mut self.visited, &mut self.found, &mut self.users] {
            if list.capacity() > KEPT {
                list.shrink_to(KEPT);
            }
        }
        if self.dests.capacity() > KEPT {
            self.dests.shrink_to(KEPT);
        }
    }

    /// The lowest level that has work.
    fn lowest(&mut self) -> Option<usize> {
        for word in 0..self.levels.len() {
            while self.levels[word] != 0 {
                let level = word * 64 + self.levels[word].trailing_zeros() as usize;
                if !self.routes[level].is_empty() || !self.entries[level].is_empty() {
                    return Some(level);
                }
                self.levels[word] &= !(1 << (level % 64));
            }
        }
        None
    }
}

/// The level a route is evaluated at.
fn route_level(r: &RouteEntry) -> usize {
    if r.spec.table == TableId::MAIN {
        usize::from(r.spec.scope)
    } else {
        OTHER_TABLES
    }
}

impl Rib {
    /// Evaluates again everything marked, level by level (see the module documentation).
    pub(super) fn propagate(&mut self) {
        while let Some(level) = self.work.lowest() {
            loop {
                let mut own_scope = Vec::new();
                while let Some(slot) = self.work.routes[level].pop() {
                    let Some(r) = self.routes.get(slot) else {
                        continue;
                    };
                    if r.marks & mark::DIRTY == 0 || route_level(r) != level {
                        continue;
                    }
                    if r.marks & mark::OWN_SCOPE != 0 {
                        own_scope.push(slot);
                        continue;
                    }
                    self.routes[slot].marks &= !mark::DIRTY;
                    self.evaluate_route(slot);
                }
                if own_scope.is_empty() {
                    break;
                }
                for slot in own_scope {
                    if self.routes[slot].marks & mark::DIRTY != 0 {
                        self.settle(slot, level as u8);
                    }
                }
            }
            while let Some(e) = self.work.entries[level].pop() {
                let Some(entry) = self.gateways.entries.get_mut(e) else {
                    continue;
                };
                if !entry.stale || usize::from(entry.level) != level {
                    continue;
                }
                entry.stale = false;
                if self.resolve_entry(e) {
                    self.mark_users(e, false);
                }
            }
        }
        for slot in core::mem::take(&mut self.work.visited) {
            if let Some(r) = self.routes.get_mut(slot) {
                r.scratch = 0;
            }
        }
    }

    /// Evaluates a route that resolves only through lower scopes (or is in another table).
    fn evaluate_route(&mut self, slot: u32) {
        let r = &mut self.routes[slot];
        let new = r.marks & mark::NEW != 0;
        r.marks &= !mark::NEW;
        let changed = match r.resolution {
            Resolution::None => new,
            // Marked because its gateway's shared state changed (or because it is new).
            Resolution::Shared(_) => true,
            Resolution::Owned(_) => {
                let fresh = self.assemble(slot);
                let r = &mut self.routes[slot];
                let changed =
                    !matches!(&r.resolution, Resolution::Owned(old) if old.same_as(&fresh));
                r.resolution = Resolution::Owned(fresh);
                changed || new
            }
        };
        if changed {
            self.changed(slot);
        }
    }

    /// A route's state changed: its destination is selected again, and the gateways that
    /// may resolve through it are marked.
    pub(super) fn changed(&mut self, slot: u32) {
        let r = &self.routes[slot];
        let (key, dst, scope) = (r.dest_key(), r.spec.dst, r.spec.scope);
        if r.is_resolution_target() {
            self.touch(&dst, scope, slot);
        }
        self.mark_dest(key);
    }

    /// The gateway states of a route with several gateways, from their entries.
    fn assemble(&self, slot: u32) -> Box<OwnedState> {
        let mut state = OwnedState::unresolved();
        let mut node = self.routes[slot].users;
        while node != NONE {
            let n = &self.gateways.nodes[node];
            let g = &self.gateways.entries[n.entry].state;
            for h in &g.hops {
                if !state.immediate.contains(h) {
                    state.immediate.push(*h);
                }
            }
            state.gateways.push(g.clone());
            node = n.sibling;
        }
        state
    }

    /// A route of `main` to `dst` with `scope` appeared, disappeared or changed state: marks
    /// the gateway addresses inside `dst` that resolve at `scope` or above. Their shared
    /// state is resolved again unless it came through a longer destination (which this
    /// change cannot beat), and the routes resolving them themselves are marked (except
    /// `except`, the route that changed: a route never resolves through itself).
    pub(super) fn touch(&mut self, dst: &Prefix, scope: u8, except: u32) {
        let mut found = core::mem::take(&mut self.work.found);
        let mut users = core::mem::take(&mut self.work.users);
        found.clear();
        users.clear();
        let range = self.gateways.index.range(addresses_in(dst));
        found.extend(range.map(|(_, e)| e as u32));
        for &e in &found {
            let entry = &mut self.gateways.entries[e];
            if entry.level < scope {
                continue;
            }
            if !entry.stale && (entry.through == UNRESOLVED || dst.len() >= entry.through) {
                entry.stale = true;
                let level = entry.level;
                self.work.push_entry(level, e);
            }
            self.gateways.users_of(e, true, &mut users);
        }
        for &r in &users {
            if r != except {
                self.mark_route(r);
            }
        }
        self.work.found = found;
        self.work.users = users;
    }

    /// Marks the routes of entry `e` (those sharing its state, or those resolving it
    /// themselves).
    pub(super) fn mark_users(&mut self, e: u32, own: bool) {
        let mut users = Vec::new();
        self.gateways.users_of(e, own, &mut users);
        for r in users {
            self.mark_route(r);
        }
    }

    /// Marks a route for evaluation. A route that was computed together with others that
    /// resolve through it takes them along (their group is recomputed from scratch).
    pub(super) fn mark_route(&mut self, slot: u32) {
        let Some(r) = self.routes.get_mut(slot) else {
            return;
        };
        if r.marks & mark::DIRTY != 0 || r.scratch == CURRENT {
            return;
        }
        r.marks |= mark::DIRTY;
        if r.scratch == DONE {
            // Settled earlier in this propagation: settle it again.
            r.scratch = 0;
        }
        let group = match &r.resolution {
            Resolution::Owned(o) => o.group,
            _ => NONE,
        };
        let level = route_level(r);
        self.work.push_route(level, slot);
        if group != NONE {
            self.dissolve(group);
        }
    }

    /// Forgets a group of routes that resolved through each other, marking its members.
    pub(super) fn dissolve(&mut self, group: u32) {
        let Some(members) = self.groups.remove(group) else {
            return;
        };
        for &m in &members {
            if let Some(Resolution::Owned(o)) = self.routes.get_mut(m).map(|r| &mut r.resolution) {
                o.group = NONE;
            }
        }
        for m in members {
            self.mark_route(m);
        }
    }
}
