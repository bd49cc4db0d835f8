//! Routes of `main` that may resolve through routes of their own scope (target-scope >=
//! scope, an address gateway): they can resolve through each other, even in a loop.
//!
//! "`r` may resolve through `s`" (`s` of the same scope, resolving at its own scope too, a
//! gateway address of `r` inside `s`'s destination) is a graph. Its strongly connected
//! components are settled one at a time, each after those it may resolve through (Tarjan's
//! algorithm, walking from a marked route to what it resolves through: the longest-match
//! chain of its gateway addresses, which is short). A single route is evaluated once; a
//! group of routes that may resolve through each other starts unresolved and is iterated in
//! id order until nothing changes (at most its size + 2 rounds: a loop that never settles
//! keeps its last state). That is exactly what the full recomputation does, so the result
//! depends only on the configuration, not on the order of the changes. A group is
//! remembered: when one of its routes is marked, all are, and the group is formed again.

use super::store::{mark, OwnedState, Resolution};
use super::types::Gateway;
use super::Rib;
use crate::index_sort::sort_indexes;
use crate::prefix::{addr_bits, Afi, Prefix};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Scratch of a route settled in this propagation.
pub(super) const DONE: u32 = u32::MAX;
/// Scratch of a route of the group being settled right now.
pub(super) const CURRENT: u32 = u32::MAX - 1;

/// A route on the search path, with what it may resolve through.
struct Frame {
    slot: u32,
    through: Vec<u32>,
    next: usize,
    low: u32,
}

impl Rib {
    /// Settles marked route `root` of scope `level` and every route it may resolve through
    /// that needs it, group by group.
    pub(super) fn settle(&mut self, root: u32, level: u8) {
        if self.routes[root].scratch != 0 {
            return;
        }
        let mut counter = 1;
        let mut stack: Vec<u32> = Vec::new();
        let mut frames: Vec<Frame> = Vec::new();
        self.visit(root, level, &mut counter, &mut stack, &mut frames);
        while let Some(top) = frames.last_mut() {
            if top.next < top.through.len() {
                let w = top.through[top.next];
                top.next += 1;
                let index = self.routes[w].scratch;
                if index == 0 {
                    self.visit(w, level, &mut counter, &mut stack, &mut frames);
                } else if index != DONE && index != CURRENT {
                    top.low = top.low.min(index);
                }
                continue;
            }
            let Some(done) = frames.pop() else { break };
            if let Some(parent) = frames.last_mut() {
                parent.low = parent.low.min(done.low);
            }
            if done.low == self.routes[done.slot].scratch {
                let mut group = Vec::new();
                while let Some(w) = stack.pop() {
                    group.push(w);
                    if w == done.slot {
                        break;
                    }
                }
                self.settle_group(group);
            }
        }
    }

    fn visit(
        &mut self,
        slot: u32,
        level: u8,
        counter: &mut u32,
        stack: &mut Vec<u32>,
        frames: &mut Vec<Frame>,
    ) {
        self.routes[slot].scratch = *counter;
        self.work.visited.push(slot);
        stack.push(slot);
        frames.push(Frame {
            slot,
            through: self.same_scope_targets(slot, level),
            next: 0,
            low: *counter,
        });
        *counter += 1;
    }

    /// The routes of scope `level` that resolve at their own scope and that route `slot`
    /// may resolve through (those of lower scopes are settled already).
    fn same_scope_targets(&self, slot: u32, level: u8) -> Vec<u32> {
        let mut out = Vec::new();
        for g in &self.routes[slot].spec.gateways {
            let Gateway::Address(a) = *g else { continue };
            let (afi, bits) = (Afi::of(a), addr_bits(a));
            for len in self.main_lengths(afi) {
                let p = Prefix::from_parts(afi, bits, len);
                for s in self.main_routes_at(&p) {
                    let r = &self.routes[s];
                    if s != slot && r.marks & mark::OWN_SCOPE != 0 && r.spec.scope == level {
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    /// Settles one strongly connected component, if any of its routes is marked.
    fn settle_group(&mut self, mut group: Vec<u32>) {
        let mut marked = false;
        for &m in &group {
            let r = &mut self.routes[m];
            marked |= r.marks & mark::DIRTY != 0;
            r.marks &= !mark::DIRTY;
            r.scratch = CURRENT;
        }
        if !marked {
            for &m in &group {
                self.routes[m].scratch = DONE;
            }
            return;
        }
        // Routes it was computed with before go along (those outside the group are marked).
        for &m in &group {
            if let Resolution::Owned(o) = &self.routes[m].resolution {
                if o.group != super::store::NONE {
                    let old = o.group;
                    self.dissolve(old);
                }
            }
        }
        let routes = &self.routes;
        let mut order: Vec<u32> = (0..group.len() as u32).collect();
        sort_indexes(&mut order, &|a, b| {
            routes[group[a]].id.cmp(&routes[group[b]].id)
        });
        group = order.iter().map(|&i| group[i as usize]).collect();
        let before: Vec<Box<OwnedState>> = group.iter().map(|&m| self.take_own_state(m)).collect();
        if let [m] = group[..] {
            let fresh = self.evaluate_own(m);
            self.routes[m].resolution = Resolution::Owned(fresh);
        } else {
            for _ in 0..group.len() + 2 {
                let mut changed = false;
                for &m in &group {
                    let fresh = self.evaluate_own(m);
                    let r = &mut self.routes[m];
                    if !matches!(&r.resolution, Resolution::Owned(o) if o.same_as(&fresh)) {
                        r.resolution = Resolution::Owned(fresh);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            let id = self.groups.insert(group.clone());
            for &m in &group {
                if let Resolution::Owned(o) = &mut self.routes[m].resolution {
                    o.group = id;
                }
            }
        }
        for (&m, old) in group.iter().zip(before) {
            let r = &mut self.routes[m];
            let new = r.marks & mark::NEW != 0;
            r.marks &= !mark::NEW;
            let same = matches!(&r.resolution, Resolution::Owned(o) if o.same_as(&old));
            if new || !same {
                self.changed(m);
            }
        }
        for &m in &group {
            self.routes[m].scratch = DONE;
        }
    }

    /// Takes a route's own state, leaving it unresolved.
    fn take_own_state(&mut self, slot: u32) -> Box<OwnedState> {
        let unresolved = Resolution::Owned(OwnedState::unresolved());
        match core::mem::replace(&mut self.routes[slot].resolution, unresolved) {
            Resolution::Owned(o) => o,
            _ => OwnedState::unresolved(),
        }
    }
}
