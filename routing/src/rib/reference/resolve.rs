//! Route selection and next-hop resolution of the full-recomputation RIB (RouterOS v7 style).
//!
//! - A gateway address is resolved by longest-prefix match over the candidate routes of `main`
//!   whose scope is at most `min(target-scope, scope of the route being resolved)`: per
//!   destination the lowest-distance candidates among those routes count, recursively. The
//!   state is computed per gateway of each route, so the target-scope of one route never
//!   changes the state of another route's gateway (the v7 rule; the seed's A/B/C example).
//! - `main` is processed in ascending scope order, so routes with a larger scope cannot change
//!   the resolution of routes with a smaller one. Within a scope, the routes that may resolve
//!   through routes of their own scope (target-scope >= scope, an address gateway) are taken
//!   by groups that may resolve through each other (strongly connected components of "a
//!   gateway lies in the other's destination"), each after the groups it may resolve through;
//!   a group of several routes starts unresolved and is iterated in id order to a fixed point
//!   (bounded: a cycle that never settles keeps its last state). Other tables resolve through
//!   `main`'s result.
//! - A route is a candidate when enabled and, if unicast, with a reachable gateway. Per
//!   destination the lowest distance wins; equally good unicast routes are all active and
//!   grouped as ECMP.

use super::super::sorted_map::SortedMap;
use super::super::state::{resolves_at_own_scope, GatewayState};
use super::super::types::{
    Contribution, Gateway, Hop, IfId, InterfaceState, Origin, RouteId, RouteSpec, RouteType,
    TableId,
};
use alloc::vec::Vec;
use core::net::IpAddr;

/// A route with everything selection needs (connected routes included).
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub id: RouteId,
    pub origin: Origin,
    pub spec: RouteSpec,
    /// For IPv6 link-local connected routes: the interface the destination belongs to.
    pub dst_interface: Option<IfId>,
}

/// The outcome of selection for one route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RouteState {
    pub candidate: bool,
    pub active: bool,
    pub ecmp: bool,
    pub contribution: Option<Contribution>,
    pub gateways: Vec<GatewayState>,
    /// Union of the reachable gateways' hops.
    pub immediate: Vec<Hop>,
}

/// Resolution context: interface states and the routes gateways resolve through.
pub(crate) struct Resolver<'a> {
    pub interfaces: &'a SortedMap<IfId, InterfaceState>,
}

impl Resolver<'_> {
    fn running(&self, ifid: IfId) -> bool {
        self.interfaces.get(&ifid).is_some_and(|s| s.running)
    }

    /// Evaluates `r`'s gateways against `view` (routes of `main` and their current states).
    /// `exclude` is `r`'s own index in `view`, if it is there.
    fn evaluate(
        &self,
        r: &Record,
        view: &[&Record],
        states: &[RouteState],
        exclude: Option<usize>,
    ) -> RouteState {
        let level = r.spec.scope.min(r.spec.target_scope);
        let mut gateways = Vec::with_capacity(r.spec.gateways.len());
        for &g in &r.spec.gateways {
            let hops: Vec<Hop> = match g {
                Gateway::Interface(i) if self.running(i) => alloc::vec![Hop {
                    address: None,
                    interface: i
                }],
                Gateway::AddressOnInterface(a, i) if self.running(i) => alloc::vec![Hop {
                    address: Some(a),
                    interface: i
                }],
                Gateway::Address(a) => self.resolve(a, level, view, states, exclude),
                _ => Vec::new(),
            };
            gateways.push(GatewayState {
                gateway: g,
                reachable: !hops.is_empty(),
                hops,
            });
        }
        let mut immediate: Vec<Hop> = Vec::new();
        for g in &gateways {
            for h in &g.hops {
                if !immediate.contains(h) {
                    immediate.push(*h);
                }
            }
        }
        let candidate =
            !r.spec.disabled && (r.spec.route_type != RouteType::Unicast || !immediate.is_empty());
        RouteState {
            candidate,
            gateways,
            immediate,
            ..RouteState::default()
        }
    }

    /// Next hops for gateway address `a`: longest match among candidates of `view` with
    /// scope <= `max_scope`, lowest distance at that destination, expanded recursively.
    fn resolve(
        &self,
        a: IpAddr,
        max_scope: u8,
        view: &[&Record],
        states: &[RouteState],
        exclude: Option<usize>,
    ) -> Vec<Hop> {
        let mut best: Option<(u8, u8)> = None; // (dst length, distance)
        let mut group: Vec<usize> = Vec::new();
        for (j, rec) in view.iter().enumerate() {
            if Some(j) == exclude
                || !states[j].candidate
                || rec.spec.scope > max_scope
                || rec.dst_interface.is_some()
            {
                continue;
            }
            if !rec.spec.dst.contains(a) {
                continue;
            }
            let key = (rec.spec.dst.len(), rec.spec.distance);
            let better = match best {
                None => true,
                Some((len, dist)) => key.0 > len || (key.0 == len && key.1 < dist),
            };
            if better {
                best = Some(key);
                group.clear();
                group.push(j);
            } else if best == Some(key) {
                group.push(j);
            }
        }
        let Some(&first) = group.first() else {
            return Vec::new();
        };
        if view[first].spec.route_type != RouteType::Unicast {
            return Vec::new();
        }
        let mut hops = Vec::new();
        for &j in &group {
            if view[j].spec.route_type != RouteType::Unicast {
                continue;
            }
            for g in &states[j].gateways {
                if !g.reachable {
                    continue;
                }
                for h in &g.hops {
                    // Reaching `a` through a route whose gateway is an interface: `a` itself is
                    // the next hop on that interface.
                    let hop = if h.address.is_none() {
                        Hop {
                            address: Some(a),
                            interface: h.interface,
                        }
                    } else {
                        *h
                    };
                    if !hops.contains(&hop) {
                        hops.push(hop);
                    }
                }
            }
        }
        hops
    }

    /// States of all `records` (sorted by id; `order` as `ReferenceRib::order`): `main` first, then the
    /// other tables (routes of tables `exists` denies keep the default state), then
    /// selection per destination.
    pub(crate) fn states(
        &self,
        records: &[Record],
        order: &[u32],
        exists: &dyn Fn(TableId) -> bool,
    ) -> Vec<RouteState> {
        let mut states: Vec<RouteState> = alloc::vec![RouteState::default(); records.len()];
        let main_idx: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].spec.table == TableId::MAIN)
            .collect();
        let main: Vec<&Record> = main_idx.iter().map(|&i| &records[i]).collect();
        let main_states = self.main_table(&main);
        for (r, state) in records.iter().zip(states.iter_mut()) {
            if r.spec.table != TableId::MAIN && exists(r.spec.table) {
                *state = self.evaluate(r, &main, &main_states, None);
            }
        }
        for (i, state) in main_idx.into_iter().zip(main_states) {
            states[i] = state;
        }
        select(records, order, &mut states);
        states
    }

    /// States of `main`'s routes before selection: scope levels in ascending order. Within a
    /// level, routes that resolve only through lower scopes first, then the groups of routes
    /// that may resolve through each other (see the module documentation).
    fn main_table(&self, routes: &[&Record]) -> Vec<RouteState> {
        let mut states: Vec<RouteState> = alloc::vec![RouteState::default(); routes.len()];
        let mut scopes = [false; 256];
        for r in routes {
            scopes[usize::from(r.spec.scope)] = true;
        }
        for level in (0..=u8::MAX).filter(|&l| scopes[usize::from(l)]) {
            let members: Vec<usize> = (0..routes.len())
                .filter(|&i| routes[i].spec.scope == level)
                .collect();
            let (same, lower): (Vec<usize>, Vec<usize>) = members
                .into_iter()
                .partition(|&i| resolves_at_own_scope(&routes[i].spec));
            for i in lower {
                states[i] = self.evaluate(routes[i], routes, &states, Some(i));
            }
            for group in components(routes, &same) {
                if let [i] = group[..] {
                    states[i] = self.evaluate(routes[i], routes, &states, Some(i));
                    continue;
                }
                for &i in &group {
                    states[i] = RouteState::default();
                }
                for _ in 0..group.len() + 2 {
                    let mut changed = false;
                    for &i in &group {
                        let s = self.evaluate(routes[i], routes, &states, Some(i));
                        if s != states[i] {
                            states[i] = s;
                            changed = true;
                        }
                    }
                    if !changed {
                        break;
                    }
                }
            }
        }
        states
    }
}

/// The strongly connected components of "`i` may resolve through `j`" among `nodes` (indexes
/// into `routes`, in id order; all of one scope): a gateway address of `i` lies in `j`'s
/// destination. Each component is in id order; a component comes after every component it
/// may resolve through (Tarjan's order).
fn components(routes: &[&Record], nodes: &[usize]) -> Vec<Vec<usize>> {
    let through = |i: usize, j: usize| {
        i != j
            && routes[j].dst_interface.is_none()
            && routes[i].spec.gateways.iter().any(|g| match *g {
                Gateway::Address(a) => routes[j].spec.dst.contains(a),
                _ => false,
            })
    };
    let n = nodes.len();
    let mut index = alloc::vec![usize::MAX; n];
    let mut low = alloc::vec![0usize; n];
    let mut on_stack = alloc::vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next neighbour to look at)
        let mut frames: Vec<(usize, usize)> = alloc::vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(frame) = frames.last_mut() {
            let v = frame.0;
            if frame.1 < n {
                let w = frame.1;
                frame.1 += 1;
                if !through(nodes[v], nodes[w]) {
                    continue;
                }
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut group = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    group.push(nodes[w]);
                    if w == v {
                        break;
                    }
                }
                group.sort_unstable();
                out.push(group);
            }
        }
    }
    out
}

/// Picks the active routes per destination (runs of `order` with the same table,
/// destination and destination interface) and sets ECMP flags and contributions.
fn select(records: &[Record], order: &[u32], states: &mut [RouteState]) {
    let mut start = 0;
    while start < order.len() {
        let first = &records[order[start] as usize];
        let len = order[start..]
            .iter()
            .take_while(|&&i| {
                let r = &records[i as usize];
                (r.spec.table, r.spec.dst, r.dst_interface)
                    == (first.spec.table, first.spec.dst, first.dst_interface)
            })
            .count();
        select_destination(records, &order[start..start + len], states);
        start += len;
    }
}

/// Selection among the routes to one destination: the best candidate is the one with the
/// lowest distance, connected before the rest, then the oldest. A unicast best shares the
/// place with every unicast candidate of its distance (ECMP); another type is active alone.
/// Of the other candidates, those with the lowest distance are `best-candidate`.
fn select_destination(records: &[Record], group: &[u32], states: &mut [RouteState]) {
    let rank = |i: usize| {
        let r = &records[i];
        (r.spec.distance, r.origin != Origin::Connected, r.id)
    };
    let Some(best) = group
        .iter()
        .map(|&i| i as usize)
        .filter(|&i| states[i].candidate)
        .min_by_key(|&i| rank(i))
    else {
        return;
    };
    let best_distance = records[best].spec.distance;
    let unicast = records[best].spec.route_type == RouteType::Unicast;
    let is_active = |i: usize| {
        let r = &records[i];
        if unicast {
            r.spec.distance == best_distance && r.spec.route_type == RouteType::Unicast
        } else {
            i == best
        }
    };
    let mut active = 0;
    let mut runner_up: Option<u8> = None;
    for i in group.iter().map(|&i| i as usize) {
        if !states[i].candidate {
            continue;
        }
        if is_active(i) {
            active += 1;
        } else {
            let d = records[i].spec.distance;
            runner_up = Some(runner_up.map_or(d, |r| r.min(d)));
        }
    }
    for i in group.iter().map(|&i| i as usize) {
        if !states[i].candidate {
            continue;
        }
        let s = &mut states[i];
        if is_active(i) {
            s.active = true;
            s.ecmp = active > 1;
            s.contribution = Some(Contribution::Active);
        } else if Some(records[i].spec.distance) == runner_up {
            s.contribution = Some(Contribution::BestCandidate);
        } else {
            s.contribution = Some(Contribution::Candidate);
        }
    }
}
