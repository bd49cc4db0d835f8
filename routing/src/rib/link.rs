//! Putting a route into the committed state and taking it out: its destination's list (by
//! id), its gateway registrations, and the notes that make the change propagate (the route
//! itself to evaluate, its destination to select again, and the gateways its destination
//! contains, which may now resolve differently).

use super::gateways::UNRESOLVED;
use super::index::{address_key, address_on_interface_key, dest_key, interface_key, Key};
use super::select::dest;
use super::state::{resolution_level, resolves_at_own_scope};
use super::store::{mark, OwnedState, Resolution, RouteEntry, NONE};
use super::types::*;
use super::{ConfiguredRoute, Rib};
use crate::prefix::{addr_bits, Afi, Prefix};

/// Index of a family in per-family arrays.
pub(super) fn afi_index(afi: Afi) -> usize {
    match afi {
        Afi::Ipv4 => 0,
        Afi::Ipv6 => 1,
    }
}

/// The entry key of gateway `g` of a route resolving at `level`, and the level the entry is
/// resolved at (only gateway addresses have one).
fn gateway_key(g: Gateway, level: u8) -> (Key, u8) {
    match g {
        Gateway::Address(a) => (address_key(Afi::of(a), addr_bits(a), level), level),
        Gateway::AddressOnInterface(a, i) => {
            (address_on_interface_key(i, Afi::of(a), addr_bits(a)), 0)
        }
        Gateway::Interface(i) => (interface_key(i), 0),
    }
}

impl RouteEntry {
    /// The key of its destination.
    pub(super) fn dest_key(&self) -> Key {
        dest_key(self.spec.table, &self.spec.dst, self.dst_interface)
    }

    /// Whether gateways of `main` can resolve through it.
    pub(super) fn is_resolution_target(&self) -> bool {
        self.spec.table == TableId::MAIN && self.dst_interface.is_none()
    }
}

impl Rib {
    /// Adds a route to the committed state, to be evaluated by the next propagation.
    pub(super) fn put_route(
        &mut self,
        id: RouteId,
        origin: Origin,
        spec: RouteSpec,
        dst_interface: Option<IfId>,
    ) {
        let own_scope = spec.table == TableId::MAIN && resolves_at_own_scope(&spec);
        let level = resolution_level(&spec);
        let count = spec.gateways.len();
        let slot = self.routes.insert(RouteEntry {
            id,
            origin,
            spec,
            dst_interface,
            next: NONE,
            users: NONE,
            resolution: Resolution::None,
            selection: 0,
            marks: if own_scope { mark::OWN_SCOPE } else { 0 },
            scratch: 0,
        });
        self.ids.insert(id, slot);
        // Registered last gateway first, so the route's list is in gateway order.
        let mut head = NONE;
        let mut entry = NONE;
        for k in (0..count).rev() {
            let g = self.routes[slot].spec.gateways[k];
            let (key, entry_level) = gateway_key(g, level);
            let (node, e, created) =
                self.gateways
                    .register(key, g, entry_level, slot, own_scope, head);
            if created {
                self.init_entry(e);
            }
            head = node;
            entry = e;
        }
        let r = &mut self.routes[slot];
        r.users = head;
        r.resolution = match count {
            0 => Resolution::None,
            1 if !own_scope => Resolution::Shared(entry),
            _ => Resolution::Owned(OwnedState::unresolved()),
        };
        let key = r.dest_key();
        let (dst, scope, target) = (r.spec.dst, r.spec.scope, r.is_resolution_target());
        self.link(slot, key);
        self.mark_dest(key);
        if count == 0 {
            // Nothing to resolve: its state is final now.
            if target {
                self.touch(&dst, scope, slot);
            }
        } else {
            self.routes[slot].marks |= mark::NEW;
            self.mark_route(slot);
        }
    }

    /// Takes a route out of the committed state; returns its configuration.
    pub(super) fn take_route(&mut self, slot: u32) -> ConfiguredRoute {
        let r = &self.routes[slot];
        let (dst, scope, key) = (r.spec.dst, r.spec.scope, r.dest_key());
        let target = r.is_resolution_target();
        let group = match &r.resolution {
            Resolution::Owned(o) => o.group,
            _ => NONE,
        };
        if target {
            self.touch(&dst, scope, slot);
        }
        if group != NONE {
            self.dissolve(group);
        }
        let mut node = self.routes[slot].users;
        while node != NONE {
            node = self.gateways.unregister(node);
        }
        self.unlink(slot, key);
        self.mark_dest(key);
        let r = &self.routes[slot];
        self.ids.remove(r.id);
        let r = self.routes.remove(slot).unwrap_or_else(|| unreachable!());
        ConfiguredRoute {
            origin: r.origin,
            spec: r.spec,
        }
    }

    /// Puts `slot` in its destination's list, in id order.
    fn link(&mut self, slot: u32, key: Key) {
        let value = self.dests.get(&key).unwrap_or(dest::EMPTY);
        let head = dest::head(value);
        if head == NONE {
            self.count_main_length(key, 1);
        }
        let id = self.routes[slot].id;
        if head == NONE || self.routes[head].id > id {
            self.routes[slot].next = head;
            self.dests.insert(key, dest::with_head(value, slot));
            return;
        }
        let mut at = head;
        loop {
            let next = self.routes[at].next;
            if next == NONE || self.routes[next].id > id {
                self.routes[slot].next = next;
                self.routes[at].next = slot;
                return;
            }
            at = next;
        }
    }

    /// Takes `slot` out of its destination's list (the destination stays until its FIB entry
    /// is withdrawn).
    fn unlink(&mut self, slot: u32, key: Key) {
        let Some(value) = self.dests.get(&key) else {
            return;
        };
        let next = self.routes[slot].next;
        let head = dest::head(value);
        if head == slot {
            self.dests.insert(key, dest::with_head(value, next));
            if next == NONE {
                self.count_main_length(key, -1);
            }
            return;
        }
        let mut at = head;
        while at != NONE {
            if self.routes[at].next == slot {
                self.routes[at].next = next;
                return;
            }
            at = self.routes[at].next;
        }
    }

    /// Counts a destination of `main` (without destination interface) that gained its first
    /// route or lost its last one.
    fn count_main_length(&mut self, key: Key, delta: i32) {
        let (table, dst, dst_if) = super::index::dest_parts(&key);
        if table == TableId::MAIN && dst_if.is_none() {
            let n = &mut self.main_lengths[afi_index(dst.afi())][usize::from(dst.len())];
            *n = n.wrapping_add_signed(delta);
        }
    }

    /// The lengths a longest match in `main` must try for family `afi`, longest first.
    pub(super) fn main_lengths(&self, afi: Afi) -> impl Iterator<Item = u8> + '_ {
        let counts = &self.main_lengths[afi_index(afi)];
        (0..=afi.bits())
            .rev()
            .filter(move |&len| counts[usize::from(len)] > 0)
    }

    /// The routes of the destination whose list starts at `head`, in id order.
    pub(super) fn dest_routes(&self, head: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = head;
        core::iter::from_fn(move || {
            let slot = at;
            if slot == NONE {
                return None;
            }
            at = self.routes[slot].next;
            Some(slot)
        })
    }

    /// The routes of `main`'s destination `p` (none if it does not exist).
    pub(super) fn main_routes_at(&self, p: &Prefix) -> impl Iterator<Item = u32> + '_ {
        let head = self
            .dests
            .get(&dest_key(TableId::MAIN, p, None))
            .map_or(NONE, dest::head);
        self.dest_routes(head)
    }

    /// A new entry's first state: an address waits for its level's turn, the others depend
    /// only on interfaces.
    fn init_entry(&mut self, e: u32) {
        let entry = &mut self.gateways.entries[e];
        if let Gateway::Address(_) = entry.state.gateway {
            entry.stale = true;
            entry.through = UNRESOLVED;
            let level = entry.level;
            self.work.push_entry(level, e);
        } else {
            self.resolve_entry(e);
        }
    }
}
