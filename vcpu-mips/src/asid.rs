//! Host ASIDs: one per (guest, guest address space), handed out by generation.
//!
//! A guest address space is the guest's ASID seen from one mode: its virtual kernel mode, its
//! user (or supervisor) mode, or ERL mode. Kernel and user mode of one guest ASID run under
//! two host ASIDs (as KVM's MIPS trap-and-emulate did), so that what only the guest kernel may
//! see (its commpage at guest address 0, `dyntrans`) is mapped under the kernel one alone and
//! a switch between the guest's modes changes the host ASID instead of writing a host TLB
//! entry. The real TLB holds 8-bit ASIDs. Host ASID 0 belongs to the hypervisor and is never given to a
//! guest. Every (guest, [`Space`]) pair that runs gets its own host ASID from the one
//! [`HostAsidAllocator`]; numbers are handed out in increasing order and never reused within a
//! generation, so no two guests (and no two spaces of one guest) ever share a live host ASID, and
//! guests can never see each other's host TLB entries. When the 255 numbers are used up, the
//! allocator starts a new generation: the whole host TLB must be flushed and every guest's
//! [`GuestAsids`] map (and refill cache) becomes stale and is cleared on its next use.

/// The hypervisor's own ASID, never given to a guest.
pub const HYPERVISOR_ASID: u8 = 0;

/// A guest address space: the guest's ASID, separately for ERL mode (where useg is unmapped
/// and so translates differently) and for the guest's user and supervisor modes (where the
/// guest kernel's commpage is not seen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    /// Guest ASID (EntryHi bits 7:0).
    pub guest_asid: u8,
    /// Status.ERL was set.
    pub erl: bool,
    /// The guest was outside virtual kernel mode (never with `erl`).
    pub user: bool,
}

/// Slots of a [`GuestAsids`] map: kernel, ERL and user spaces of each guest ASID.
const SPACES: usize = 3 * 256;

impl Space {
    /// The kernel-mode space of `guest_asid` (ERL clear).
    pub const fn kernel(guest_asid: u8) -> Space {
        Space {
            guest_asid,
            erl: false,
            user: false,
        }
    }

    /// The user-mode space of `guest_asid`.
    pub const fn user(guest_asid: u8) -> Space {
        Space {
            guest_asid,
            erl: false,
            user: true,
        }
    }

    const fn slot(self) -> usize {
        let kind = if self.erl {
            1
        } else if self.user {
            2
        } else {
            0
        };
        kind << 8 | self.guest_asid as usize
    }

    const fn of_slot(slot: usize) -> Space {
        Space {
            guest_asid: slot as u8,
            erl: slot >> 8 == 1,
            user: slot >> 8 == 2,
        }
    }
}

/// The system-wide host ASID allocator (one per physical CPU).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostAsidAllocator {
    generation: u64,
    next: u16,
}

impl Default for HostAsidAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl HostAsidAllocator {
    /// Generation 1, all host ASIDs 1..=255 free. Start with an empty host TLB.
    pub const fn new() -> Self {
        HostAsidAllocator {
            generation: 1,
            next: 1,
        }
    }

    /// Current generation.
    pub const fn generation(&self) -> u64 {
        self.generation
    }

    /// Take a fresh host ASID. The flag is true when a new generation began: the caller must
    /// flush the whole host TLB before running anything under the returned ASID.
    fn allocate(&mut self) -> (u8, bool) {
        let mut flushed = false;
        if self.next > 255 {
            self.generation += 1;
            self.next = 1;
            flushed = true;
        }
        let asid = self.next as u8;
        self.next += 1;
        (asid, flushed)
    }
}

/// A 256-bit set of host ASIDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AsidSet([u32; 8]);

impl AsidSet {
    /// The empty set.
    pub const EMPTY: AsidSet = AsidSet([0; 8]);

    /// Add `asid`.
    pub fn insert(&mut self, asid: u8) {
        self.0[(asid >> 5) as usize] |= 1 << (asid & 31);
    }

    /// Whether `asid` is in the set.
    pub const fn contains(&self, asid: u8) -> bool {
        self.0[(asid >> 5) as usize] & (1 << (asid & 31)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The set as eight words: bit `b` of word `w` is ASID `32 * w + b`.
    pub const fn words(&self) -> &[u32; 8] {
        &self.0
    }

    /// How many ASIDs the set holds.
    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// The ASIDs in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut rest = w;
            core::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                Some((i as u32 * 32 + bit) as u8)
            })
        })
    }
}

/// Result of [`GuestAsids::obtain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The host ASID to run the guest under.
    pub asid: u8,
    /// A new generation began: flush the whole host TLB.
    pub flush_host_tlb: bool,
    /// This guest's previous host ASIDs are dead: its refill cache must be cleared.
    pub guest_map_reset: bool,
}

/// One guest's map from [`Space`] to host ASID, valid for one allocator generation.
#[derive(Clone, Debug)]
pub struct GuestAsids {
    generation: u64,
    map: [u8; SPACES],
    /// Every host ASID in `map` (for global entries, without a walk of the map).
    all: AsidSet,
}

impl Default for GuestAsids {
    fn default() -> Self {
        Self::new()
    }
}

impl GuestAsids {
    /// A map with nothing assigned.
    pub const fn new() -> Self {
        GuestAsids {
            generation: 0,
            map: [0; SPACES],
            all: AsidSet::EMPTY,
        }
    }

    /// The host ASID of `space` if it has one in the current generation.
    pub fn current(&self, space: Space, alloc: &HostAsidAllocator) -> Option<u8> {
        if self.generation != alloc.generation {
            return None;
        }
        match self.map[space.slot()] {
            0 => None,
            a => Some(a),
        }
    }

    /// The host ASID of `space`, allocating one if needed.
    pub fn obtain(&mut self, space: Space, alloc: &mut HostAsidAllocator) -> Grant {
        let mut guest_map_reset = false;
        if self.generation != alloc.generation {
            self.reset(alloc.generation);
            guest_map_reset = true;
        }
        if let a @ 1.. = self.map[space.slot()] {
            return Grant {
                asid: a,
                flush_host_tlb: false,
                guest_map_reset,
            };
        }
        let (asid, flushed) = alloc.allocate();
        if flushed {
            self.reset(alloc.generation);
            guest_map_reset = true;
        }
        self.map[space.slot()] = asid;
        self.all.insert(asid);
        Grant {
            asid,
            flush_host_tlb: flushed,
            guest_map_reset,
        }
    }

    fn reset(&mut self, generation: u64) {
        self.map = [0; SPACES];
        self.all = AsidSet::EMPTY;
        self.generation = generation;
    }

    /// The space running under host ASID `asid` in the current generation, if it is this guest's.
    pub fn space_of(&self, asid: u8, alloc: &HostAsidAllocator) -> Option<Space> {
        if self.generation != alloc.generation || asid == HYPERVISOR_ASID {
            return None;
        }
        let slot = self.map.iter().position(|&a| a == asid)?;
        Some(Space::of_slot(slot))
    }

    /// Live host ASIDs of this guest whose space uses guest ASID `guest_asid` (kernel, user and
    /// ERL), or every live host ASID of the guest when `guest_asid` is `None` (global entries).
    pub fn live_set(&self, guest_asid: Option<u8>, alloc: &HostAsidAllocator) -> AsidSet {
        if self.generation != alloc.generation {
            return AsidSet::EMPTY;
        }
        let Some(g) = guest_asid else {
            return self.all;
        };
        let mut set = AsidSet::EMPTY;
        for kind in 0..3 {
            let a = self.map[kind << 8 | usize::from(g)];
            if a != 0 {
                set.insert(a);
            }
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u8) -> Space = Space::kernel;

    #[test]
    fn asid_set_iterates_its_members_in_order() {
        let mut set = AsidSet::EMPTY;
        for a in [255u8, 0, 31, 32, 7, 200] {
            set.insert(a);
        }
        assert!(set.iter().eq([0, 7, 31, 32, 200, 255]));
        assert_eq!(set.len(), 6);
        assert_eq!(AsidSet::EMPTY.iter().count(), 0);
    }

    #[test]
    fn distinct_and_stable() {
        let mut alloc = HostAsidAllocator::new();
        let mut g1 = GuestAsids::new();
        let mut g2 = GuestAsids::new();
        let a = g1.obtain(S(0), &mut alloc);
        let b = g2.obtain(S(0), &mut alloc);
        assert_ne!(a.asid, b.asid);
        assert_ne!(a.asid, HYPERVISOR_ASID);
        assert_eq!(g1.obtain(S(0), &mut alloc).asid, a.asid);
        let erl = g1.obtain(
            Space {
                guest_asid: 0,
                erl: true,
                user: false,
            },
            &mut alloc,
        );
        let user = g1.obtain(Space::user(0), &mut alloc);
        assert!(erl.asid != a.asid && user.asid != a.asid && user.asid != erl.asid);
        assert_eq!(g1.space_of(user.asid, &alloc), Some(Space::user(0)));
        assert_eq!(g1.space_of(a.asid, &alloc), Some(Space::kernel(0)));
        let set = g1.live_set(Some(0), &alloc);
        assert!(set.contains(a.asid) && set.contains(erl.asid) && set.contains(user.asid));
        assert!(!set.contains(b.asid) && set.len() == 3);
    }

    #[test]
    fn rollover_flushes_and_resets() {
        let mut alloc = HostAsidAllocator::new();
        let mut g = GuestAsids::new();
        let first = g.obtain(S(0), &mut alloc);
        assert!(first.guest_map_reset && !first.flush_host_tlb);
        for asid in 1..=254u8 {
            let grant = g.obtain(S(asid), &mut alloc);
            assert!(!grant.flush_host_tlb);
        }
        // 255 ASIDs used: the next allocation starts generation 2.
        let grant = g.obtain(S(255), &mut alloc);
        assert!(grant.flush_host_tlb && grant.guest_map_reset);
        assert_eq!(grant.asid, 1);
        assert_eq!(alloc.generation(), 2);
        assert_eq!(g.current(S(0), &alloc), None);
        let other = GuestAsids::new();
        assert!(other.live_set(None, &alloc).is_empty());
    }
}
