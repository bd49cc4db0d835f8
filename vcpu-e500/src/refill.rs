//! The refill cache: host TLB entries the arch's TLB-miss handler writes in assembly, without
//! calling the model.
//!
//! One table per guest, 256 slots of 16 bytes (4 KiB), `#[repr(C)]`, 16-byte aligned:
//!
//! ```text
//! offset  field  meaning
//! 0       tag    effective page (bits 31:12) | shadow ID (bits 7:0); 0 = empty
//! 4       mas1   host MAS1: V | TID (= the tag's ID) | TS | TSIZE
//! 8       mas2   host MAS2: EPN of the host page | G | E
//! 12      mas3   host MAS3: RPN | UX | UW | UR
//! ```
//!
//! Slot of a miss at effective address EA: `(EA >> 12) & 255`, byte offset `(EA >> 8) & 0xFF0`.
//! A slot hits when its tag equals `(EA & !0xFFF) | PID0` or `(EA & !0xFFF) | PID1` (real PID1
//! is the guest's shadow ID for global pages, 0 when it has none: tag bits 7:0 are never 0 in a
//! used slot). MAS7 is the same for every mapping of a guest (its partition does not cross a
//! 4 GiB boundary): [`crate::Vcpu::host_mas7`]. On a hit the handler writes MAS1, MAS2, MAS3
//! and MAS7 and executes `tlbwe`: for TSIZE 1 into the host TLB0 with the MAS0 the miss loaded
//! (the host's MAS4 gives TLBSELD 0 and the next victim), for larger pages into one of the
//! arch's TLB1 entries for guests. A page larger than 4 KiB is found under the slot of the
//! address that missed: other addresses of the page have slots of their own.
//!
//! Slots are filled by the model's slow path (the page it just mapped) and when the guest
//! writes a TLB0 entry in its current context (the page it is about to retry), and dropped
//! exactly when a guest TLB change or a retired shadow ID can make them stale.

use crate::interface::HostTlbEntry;
use crate::sid::SidSet;

/// Number of slots.
pub const REFILL_SLOTS: usize = 256;

/// Slot index of an effective address.
pub const fn slot_index(ea: u32) -> usize {
    ((ea >> 12) as usize) & (REFILL_SLOTS - 1)
}

/// One slot.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RefillSlot {
    /// Effective page | shadow ID; 0 when empty.
    pub tag: u32,
    /// Host MAS1.
    pub mas1: u32,
    /// Host MAS2.
    pub mas2: u32,
    /// Host MAS3.
    pub mas3: u32,
}

impl RefillSlot {
    const EMPTY: RefillSlot = RefillSlot {
        tag: 0,
        mas1: 0,
        mas2: 0,
        mas3: 0,
    };

    /// The shadow ID.
    pub const fn sid(&self) -> u8 {
        self.tag as u8
    }

    /// The host page `[first, first + size)` the slot maps.
    pub const fn page(&self) -> (u32, u64) {
        let size = crate::tlb::tsize_bytes((self.mas1 >> 8) & 0xF);
        (self.mas2 & 0xFFFF_F000, size)
    }

    /// The host entry, with the guest's MAS7.
    pub const fn entry(&self, mas7: u32) -> HostTlbEntry {
        HostTlbEntry {
            mas1: self.mas1,
            mas2: self.mas2,
            mas3: self.mas3,
            mas7,
        }
    }
}

/// The per-guest table, and which slots hold pages larger than 4 KiB (whose page may cover
/// addresses of other slots).
#[repr(C, align(16))]
#[derive(Clone, Debug)]
pub struct RefillCache {
    slots: [RefillSlot; REFILL_SLOTS],
    large: SidSet,
}

impl Default for RefillCache {
    fn default() -> Self {
        Self::new()
    }
}

impl RefillCache {
    /// An empty cache.
    pub const fn new() -> Self {
        RefillCache {
            slots: [RefillSlot::EMPTY; REFILL_SLOTS],
            large: SidSet::EMPTY,
        }
    }

    /// Empty every slot.
    pub fn clear(&mut self) {
        self.slots = [RefillSlot::EMPTY; REFILL_SLOTS];
        self.large = SidSet::EMPTY;
    }

    /// The slots (the arch takes the table's address; audits read them).
    pub fn slots(&self) -> &[RefillSlot; REFILL_SLOTS] {
        &self.slots
    }

    /// Store `entry` (shadow ID in its TID) for a miss at `ea`.
    pub(crate) fn insert(&mut self, ea: u32, entry: &HostTlbEntry) {
        let i = slot_index(ea);
        self.slots[i] = RefillSlot {
            tag: (ea & 0xFFFF_F000) | u32::from(entry.sid()),
            mas1: entry.mas1,
            mas2: entry.mas2,
            mas3: entry.mas3,
        };
        // `large` is a set of slot numbers (0..=255), kept as a SidSet of that width.
        if entry.is_tlb1() {
            self.large.insert(i as u8);
        } else {
            self.large.remove(i as u8);
        }
    }

    /// What the assembly handler does, in Rust: the slot for a miss at `ea` with real PID0 and
    /// PID1.
    pub fn probe(&self, ea: u32, pid0: u8, pid1: u8) -> Option<&RefillSlot> {
        let slot = &self.slots[slot_index(ea)];
        let page = ea & 0xFFFF_F000;
        let hit = (pid0 != 0 && slot.tag == page | u32::from(pid0))
            || (pid1 != 0 && slot.tag == page | u32::from(pid1));
        hit.then_some(slot)
    }

    fn drop_slot(&mut self, i: usize) {
        self.slots[i] = RefillSlot::EMPTY;
        self.large.remove(i as u8);
    }

    /// Drop every slot of an ID in `sids` whose host page overlaps `[start, start + len)`.
    pub(crate) fn invalidate(&mut self, start: u32, len: u64, sids: &SidSet) {
        let stale = |s: &RefillSlot| {
            let (first, size) = s.page();
            s.tag != 0
                && sids.contains(s.sid())
                && u64::from(first) < u64::from(start) + len
                && u64::from(start) < u64::from(first) + size
        };
        let pages = len.div_ceil(4096);
        if pages >= REFILL_SLOTS as u64 {
            for i in 0..REFILL_SLOTS {
                if stale(&self.slots[i]) {
                    self.drop_slot(i);
                }
            }
            return;
        }
        for p in 0..pages as u32 {
            let i = slot_index(start.wrapping_add(p << 12));
            if stale(&self.slots[i]) {
                self.drop_slot(i);
            }
        }
        if self.large.is_empty() {
            return;
        }
        for i in self.large.iter() {
            if stale(&self.slots[usize::from(i)]) {
                self.drop_slot(usize::from(i));
            }
        }
    }

    /// Drop every slot of an ID in `sids`.
    pub(crate) fn retire(&mut self, sids: &SidSet) {
        if sids.is_empty() {
            return;
        }
        for i in 0..REFILL_SLOTS {
            if self.slots[i].tag != 0 && sids.contains(self.slots[i].sid()) {
                self.drop_slot(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sid: u8, epn: u32, tsize: u32) -> HostTlbEntry {
        HostTlbEntry {
            mas1: 0x8000_1000 | u32::from(sid) << 16 | tsize << 8,
            mas2: epn,
            mas3: 0x0400_0000 | 0x2A,
            mas7: 0,
        }
    }

    #[test]
    fn layout_is_what_the_assembly_expects() {
        assert_eq!(core::mem::size_of::<RefillSlot>(), 16);
        assert_eq!(core::mem::offset_of!(RefillCache, slots), 0);
        assert_eq!(core::mem::align_of::<RefillCache>(), 16);
        for ea in [0x8012_3456u32, 0x0FFF_F000, 0x0000_1001] {
            assert_eq!(((ea >> 8) & 0xFF0) as usize, slot_index(ea) * 16);
        }
    }

    #[test]
    fn insert_probe_invalidate() {
        let mut c = RefillCache::new();
        c.insert(0x1000_2000, &entry(7, 0x1000_2000, 1));
        assert!(c.probe(0x1000_2FFC, 7, 0).is_some());
        assert!(c.probe(0x1000_2FFC, 3, 7).is_some(), "the global ID");
        assert!(c.probe(0x1000_2000, 8, 0).is_none());
        assert!(
            c.probe(0x1010_2000, 7, 0).is_none(),
            "same slot, other page"
        );
        let mut s8 = SidSet::EMPTY;
        s8.insert(8);
        c.invalidate(0x1000_0000, 0x4000, &s8);
        assert!(c.probe(0x1000_2000, 7, 0).is_some(), "other ID kept");
        let mut s7 = SidSet::EMPTY;
        s7.insert(7);
        c.invalidate(0x1000_3000, 0x1000, &s7);
        assert!(c.probe(0x1000_2000, 7, 0).is_some(), "other page kept");
        c.invalidate(0x1000_2000, 0x1000, &s7);
        assert!(c.probe(0x1000_2000, 7, 0).is_none());
        assert!(c.probe(0, 0, 0).is_none(), "empty slots never match");
    }

    #[test]
    fn large_pages_are_dropped_from_any_slot() {
        let mut c = RefillCache::new();
        // A 64 MiB page found at the slot of 0x8123_4000.
        c.insert(0x8123_4000, &entry(5, 0x8000_0000, 8));
        let mut s5 = SidSet::EMPTY;
        s5.insert(5);
        // Invalidating one page elsewhere in it (another slot) drops it.
        c.invalidate(0x8000_0000, 0x1000, &s5);
        assert!(c.probe(0x8123_4000, 5, 0).is_none());
        c.insert(0x8123_4000, &entry(5, 0x8000_0000, 8));
        c.retire(&s5);
        assert!(c.slots().iter().all(|s| s.tag == 0));
    }
}
