//! Storage of the RIB's routes: a paged slab (a route keeps its slot while it lives, and
//! growing never moves what is stored, so adding a route never copies the table), the route
//! record itself, and the index from route ids to slots.

use super::state::GatewayState;
use super::types::{Hop, IfId, Origin, RouteId, RouteSpec};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// "No slot": the end of a list, or an absent link.
pub(crate) const NONE: u32 = u32::MAX;

const PAGE: usize = 256;

/// Values in stable slots, allocated a page at a time; freed slots are reused.
pub(crate) struct Slab<T> {
    pages: Vec<Vec<Option<T>>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            pages: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, value: T) -> u32 {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            self.pages[slot as usize / PAGE][slot as usize % PAGE] = Some(value);
            return slot;
        }
        if self.pages.last().is_none_or(|p| p.len() == PAGE) {
            self.pages.push(Vec::with_capacity(PAGE));
        }
        let page = self.pages.len() - 1;
        let last = &mut self.pages[page];
        last.push(Some(value));
        (page * PAGE + last.len() - 1) as u32
    }

    pub fn remove(&mut self, slot: u32) -> Option<T> {
        let value = self
            .pages
            .get_mut(slot as usize / PAGE)?
            .get_mut(slot as usize % PAGE)?
            .take()?;
        self.len -= 1;
        self.free.push(slot);
        Some(value)
    }

    pub fn get(&self, slot: u32) -> Option<&T> {
        self.pages
            .get(slot as usize / PAGE)?
            .get(slot as usize % PAGE)?
            .as_ref()
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.pages
            .get_mut(slot as usize / PAGE)?
            .get_mut(slot as usize % PAGE)?
            .as_mut()
    }

    #[cfg(any(test, feature = "reference"))]
    pub fn len(&self) -> usize {
        self.len
    }
}

impl<T> core::ops::Index<u32> for Slab<T> {
    type Output = T;

    /// The value in `slot`; a vacant slot is a bug of the caller.
    fn index(&self, slot: u32) -> &T {
        match self.get(slot) {
            Some(v) => v,
            None => panic!("vacant slot {slot}"),
        }
    }
}

impl<T> core::ops::IndexMut<u32> for Slab<T> {
    fn index_mut(&mut self, slot: u32) -> &mut T {
        match self.get_mut(slot) {
            Some(v) => v,
            None => panic!("vacant slot {slot}"),
        }
    }
}

/// A route of the RIB (static, dynamic or connected) with its derived state.
pub(crate) struct RouteEntry {
    pub id: RouteId,
    pub origin: Origin,
    pub spec: RouteSpec,
    /// For IPv6 link-local connected routes: the interface the destination belongs to.
    pub dst_interface: Option<IfId>,
    /// The next route to the same destination, by id (`NONE` at the end).
    pub next: u32,
    /// The first of its gateway registrations (`NONE` without gateways).
    pub users: u32,
    pub resolution: Resolution,
    /// `Selection` bits.
    pub selection: u8,
    /// `Mark` bits.
    pub marks: u8,
    /// Scratch of the search for routes that resolve through each other (0 outside it).
    pub scratch: u32,
}

/// How a route's gateway states are kept.
pub(crate) enum Resolution {
    /// No gateway (blackhole, unreachable, prohibit).
    None,
    /// One gateway, whose state is the shared state of that gateway entry (every route with
    /// the same gateway at the same level has the same state, so it is kept once).
    Shared(u32),
    /// Several gateways, or a route that resolves through routes of its own scope (and so
    /// must not resolve through itself): its own copy.
    Owned(Box<OwnedState>),
}

/// Gateway states kept by the route itself.
#[derive(Default, PartialEq, Eq)]
pub(crate) struct OwnedState {
    pub gateways: Vec<GatewayState>,
    /// Union of the reachable gateways' hops.
    pub immediate: Vec<Hop>,
    /// The group of routes that resolve through each other it was last computed in
    /// (`NONE`: computed alone).
    pub group: u32,
}

impl OwnedState {
    pub fn unresolved() -> Box<OwnedState> {
        Box::new(OwnedState {
            group: NONE,
            ..OwnedState::default()
        })
    }

    /// Same gateway states (the group does not count).
    pub fn same_as(&self, other: &OwnedState) -> bool {
        self.gateways == other.gateways && self.immediate == other.immediate
    }
}

/// Bits of `RouteEntry::selection`.
pub(crate) mod selection {
    pub const ACTIVE: u8 = 1;
    pub const ECMP: u8 = 2;
    /// Contribution in bits 2..4: 0 none, 1 active, 2 best-candidate, 3 candidate.
    pub const CONTRIBUTION_SHIFT: u8 = 2;
}

/// Bits of `RouteEntry::marks`.
pub(crate) mod mark {
    /// Waiting for re-evaluation.
    pub const DIRTY: u8 = 1;
    /// In `main`, resolving at its own scope (see `state::resolves_at_own_scope`).
    pub const OWN_SCOPE: u8 = 2;
    /// Added in this transaction and not evaluated yet.
    pub const NEW: u8 = 4;
}

/// Route ids to slots: a vector sorted by id. Ids are handed out in increasing order, so a
/// new route is appended; a removal leaves a hole (`NONE`), and the holes are squeezed out
/// when they are half the vector, so removals cost O(log n) amortised.
#[derive(Default)]
pub(crate) struct IdIndex {
    entries: Vec<(u32, u32)>,
    holes: usize,
}

impl IdIndex {
    fn find(&self, id: RouteId) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&id.0, |e| e.0)
    }

    pub fn get(&self, id: RouteId) -> Option<u32> {
        let i = self.find(id).ok()?;
        Some(self.entries[i].1).filter(|&s| s != NONE)
    }

    pub fn insert(&mut self, id: RouteId, slot: u32) {
        match self.find(id) {
            Ok(i) => {
                debug_assert_eq!(self.entries[i].1, NONE, "route id {id:?} in use");
                self.entries[i].1 = slot;
                self.holes -= 1;
            }
            Err(i) => self.entries.insert(i, (id.0, slot)),
        }
    }

    pub fn remove(&mut self, id: RouteId) -> Option<u32> {
        let i = self.find(id).ok()?;
        let slot = core::mem::replace(&mut self.entries[i].1, NONE);
        if slot == NONE {
            return None;
        }
        self.holes += 1;
        if self.holes > 32 && self.holes * 2 > self.entries.len() {
            self.entries.retain(|e| e.1 != NONE);
            self.holes = 0;
        }
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_reuses_slots_and_keeps_values_in_place() {
        let mut s: Slab<u32> = Slab::default();
        let slots: Vec<u32> = (0..600).map(|i| s.insert(i)).collect();
        assert_eq!(s.len(), 600);
        assert_eq!(s[slots[599]], 599);
        assert_eq!(s.remove(slots[10]), Some(10));
        assert_eq!(s.remove(slots[10]), None);
        assert!(s.get(slots[10]).is_none());
        let again = s.insert(77);
        assert_eq!(again, slots[10]);
        assert_eq!(s[again], 77);
        assert_eq!(s.len(), 600);
        assert!(s.get(100_000).is_none());
    }

    #[test]
    fn id_index_survives_holes_and_out_of_order_ids() {
        let mut ids = IdIndex::default();
        for i in 0..200 {
            ids.insert(RouteId(i), i + 1000);
        }
        for i in (0..200).step_by(2) {
            assert_eq!(ids.remove(RouteId(i)), Some(i + 1000));
        }
        for i in 0..200 {
            let want = (i % 2 == 1).then_some(i + 1000);
            assert_eq!(ids.get(RouteId(i)), want, "{i}");
        }
        for i in (0..150).step_by(2) {
            assert_eq!(ids.remove(RouteId(i + 1)), Some(i + 1001));
        }
        // An id given again after a rollback goes back in its place.
        ids.insert(RouteId(4), 7);
        assert_eq!(ids.get(RouteId(4)), Some(7));
        assert_eq!(ids.get(RouteId(151)), Some(1151));
        assert_eq!(ids.get(RouteId(149)), None);
        assert_eq!(ids.remove(RouteId(149)), None);
    }
}
