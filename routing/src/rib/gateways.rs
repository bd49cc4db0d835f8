//! Gateway entries. Every distinct gateway the routes use (an address resolved at a scope
//! level, an address on an interface, an interface) has one entry: its resolution, kept once
//! for all the routes that use it, and the lists of those routes. Entries of gateway
//! addresses are ordered by address, so a change to a route of `main` finds the gateways it
//! can affect by one range query over its destination; an entry also remembers the length of
//! the destination it resolved through, so a change to a shorter destination skips it.

use super::index::{Index, Key};
use super::state::GatewayState;
use super::store::{Slab, NONE};
use super::types::Gateway;
use alloc::vec::Vec;

/// `GatewayEntry::through` when the gateway did not resolve through a destination.
pub(crate) const UNRESOLVED: u8 = u8::MAX;

pub(crate) struct GatewayEntry {
    pub key: Key,
    /// The state every route sharing this entry shows for this gateway.
    pub state: GatewayState,
    /// Scope level of a gateway address (0 for the other kinds).
    pub level: u8,
    /// Length of the destination the address resolved through, `UNRESOLVED` if none.
    pub through: u8,
    /// Inputs changed: to be resolved again at its level.
    pub stale: bool,
    /// Routes whose gateway state is `state` (a list of `UserNode`s).
    pub shared: u32,
    /// Routes that resolve this gateway themselves (see `Resolution::Owned`): told about
    /// every change that can affect it.
    pub own: u32,
    pub users: u32,
}

/// One gateway of one route, linked in its entry's list and in its route's list.
pub(crate) struct UserNode {
    pub route: u32,
    pub entry: u32,
    pub prev: u32,
    pub next: u32,
    /// The route's next gateway registration.
    pub sibling: u32,
    pub own: bool,
}

#[derive(Default)]
pub(crate) struct Gateways {
    pub entries: Slab<GatewayEntry>,
    pub index: Index,
    pub nodes: Slab<UserNode>,
}

impl Gateways {
    /// Links a use of gateway `key` by `route` (before `sibling` in the route's list). Returns
    /// the node, the entry, and whether the entry is new (its state must then be computed).
    pub fn register(
        &mut self,
        key: Key,
        gateway: Gateway,
        level: u8,
        route: u32,
        own: bool,
        sibling: u32,
    ) -> (u32, u32, bool) {
        let (entry, created) = match self.index.get(&key) {
            Some(e) => (e as u32, false),
            None => {
                let e = self.entries.insert(GatewayEntry {
                    key,
                    state: GatewayState {
                        gateway,
                        reachable: false,
                        hops: Vec::new(),
                    },
                    level,
                    through: UNRESOLVED,
                    stale: false,
                    shared: NONE,
                    own: NONE,
                    users: 0,
                });
                self.index.insert(key, u64::from(e));
                (e, true)
            }
        };
        let e = &mut self.entries[entry];
        let head = if own { e.own } else { e.shared };
        e.users += 1;
        let node = self.nodes.insert(UserNode {
            route,
            entry,
            prev: NONE,
            next: head,
            sibling,
            own,
        });
        if head != NONE {
            self.nodes[head].prev = node;
        }
        let e = &mut self.entries[entry];
        if own {
            e.own = node;
        } else {
            e.shared = node;
        }
        (node, entry, created)
    }

    /// Unlinks a registration (freeing the entry with its last user); returns the route's
    /// next registration.
    pub fn unregister(&mut self, node: u32) -> u32 {
        let Some(n) = self.nodes.remove(node) else {
            return NONE;
        };
        if n.next != NONE {
            self.nodes[n.next].prev = n.prev;
        }
        if n.prev != NONE {
            self.nodes[n.prev].next = n.next;
        } else {
            let e = &mut self.entries[n.entry];
            if n.own {
                e.own = n.next;
            } else {
                e.shared = n.next;
            }
        }
        let e = &mut self.entries[n.entry];
        e.users -= 1;
        if e.users == 0 {
            let key = e.key;
            self.index.remove(&key);
            self.entries.remove(n.entry);
        }
        n.sibling
    }

    /// Appends the routes of one of `entry`'s lists to `out`.
    pub fn users_of(&self, entry: u32, own: bool, out: &mut Vec<u32>) {
        let e = &self.entries[entry];
        let mut node = if own { e.own } else { e.shared };
        while node != NONE {
            let n = &self.nodes[node];
            out.push(n.route);
            node = n.next;
        }
    }
}
