//! The software refill cache the arch's TLB-refill handler probes in assembly.
//!
//! One table per guest, 256 slots of 16 bytes (4 KiB), `#[repr(C)]`, 16-byte aligned:
//!
//! ```text
//! offset  field       meaning
//! 0       entry_hi    tag: VPN2 of the faulting address (bits 31:13) | host ASID (bits 7:0)
//! 4       entry_lo0   host EntryLo0 to write
//! 8       entry_lo1   host EntryLo1 to write
//! 12      page_mask   host PageMask to write
//! ```
//!
//! Slot of a refill: `((EntryHi >> 13) ^ EntryHi) & 255` (the VPN2's low bits with the host
//! ASID folded in, so that one page's translations under a guest's kernel-mode and user-mode
//! host ASIDs sit in different slots), where EntryHi is the value the CPU loaded on the TLB
//! Refill exception (faulting VPN2 | current ASID). A slot hits when its `entry_hi` equals that EntryHi exactly; the handler then writes
//! EntryLo0/1 and PageMask from the slot and executes `tlbwr` with the EntryHi the CPU loaded
//! (for pages larger than 4 KiB that VPN2 is not pair-aligned; the TLB ignores VPN2 bits under
//! PageMask, which Linux's own huge-page refill relies on), restores PageMask to 0, and returns.
//! Empty slots hold `entry_hi = 0`, which never matches: host ASID 0 is the hypervisor's.
//! Slots never hold a translation outside the guest's partition and are invalidated precisely
//! when the guest's TLB changes (the old entry's pages, and the new entry's when it overlaps
//! another entry, for the host ASIDs of the affected guest ASIDs).

use crate::asid::AsidSet;

/// Number of slots.
pub const REFILL_SLOTS: usize = 256;

/// Slot index of an EntryHi value (VPN2 | host ASID).
pub const fn slot_index(entry_hi: u32) -> usize {
    (((entry_hi >> 13) ^ entry_hi) & (REFILL_SLOTS as u32 - 1)) as usize
}

/// One slot.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RefillSlot {
    /// Tag and EntryHi: faulting VPN2 | host ASID; 0 when empty.
    pub entry_hi: u32,
    /// Host EntryLo0.
    pub entry_lo0: u32,
    /// Host EntryLo1.
    pub entry_lo1: u32,
    /// Host PageMask.
    pub page_mask: u32,
}

/// The per-guest table.
#[repr(C, align(16))]
#[derive(Clone, Debug)]
pub struct RefillCache {
    slots: [RefillSlot; REFILL_SLOTS],
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
            slots: [RefillSlot {
                entry_hi: 0,
                entry_lo0: 0,
                entry_lo1: 0,
                page_mask: 0,
            }; REFILL_SLOTS],
        }
    }

    /// Empty every slot.
    pub fn clear(&mut self) {
        self.slots = [RefillSlot::default(); REFILL_SLOTS];
    }

    /// The slots, for the arch to take the table's address and for audits.
    pub fn slots(&self) -> &[RefillSlot; REFILL_SLOTS] {
        &self.slots
    }

    /// Store a translation for the refill whose EntryHi is `tag` (VPN2 | host ASID, non-zero ASID).
    pub(crate) fn insert(&mut self, tag: u32, entry_lo0: u32, entry_lo1: u32, page_mask: u32) {
        debug_assert!(tag & 0xFF != 0);
        self.slots[slot_index(tag)] = RefillSlot {
            entry_hi: tag & 0xFFFF_E0FF,
            entry_lo0,
            entry_lo1,
            page_mask,
        };
    }

    /// What the assembly handler does, in Rust: the slot for a refill with this EntryHi.
    pub fn probe(&self, entry_hi: u32) -> Option<&RefillSlot> {
        let slot = &self.slots[slot_index(entry_hi)];
        (slot.entry_hi == entry_hi && entry_hi != 0).then_some(slot)
    }

    /// Drop every slot whose VPN2 lies in `[start, start + len)` (len a multiple of 8 KiB, 0 for
    /// the whole 4 GiB) and whose host ASID is in `asids`. Touches at most 256 slots.
    pub(crate) fn invalidate(&mut self, start: u32, len: u64, asids: &AsidSet) {
        let pairs = len.div_ceil(0x2000);
        let hit = |s: &RefillSlot| {
            s.entry_hi != 0
                && asids.contains(s.entry_hi as u8)
                && u64::from((s.entry_hi & 0xFFFF_E000).wrapping_sub(start)) < len
        };
        // One pair (a 4 KiB guest entry: the common case) probes one slot per ASID; larger
        // ranges scan the table once that is cheaper.
        if pairs > 1 && pairs * u64::from(asids.len()) >= REFILL_SLOTS as u64 {
            for s in self.slots.iter_mut().filter(|s| hit(s)) {
                *s = RefillSlot::default();
            }
            return;
        }
        // The set's words walked directly (this runs on every guest TLB write).
        for (w, &bits) in asids.words().iter().enumerate() {
            let mut rest = bits;
            while rest != 0 {
                let asid = (w as u32) << 5 | rest.trailing_zeros();
                rest &= rest - 1;
                for k in 0..pairs as u32 {
                    let va = start.wrapping_add(k << 13);
                    let s = &mut self.slots[slot_index(va | asid)];
                    if hit(s) {
                        *s = RefillSlot::default();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_what_the_assembly_expects() {
        assert_eq!(core::mem::size_of::<RefillSlot>(), 16);
        assert_eq!(core::mem::size_of::<RefillCache>(), 4096);
        assert_eq!(core::mem::align_of::<RefillCache>(), 16);
        // The byte offset the handler computes equals slot_index * 16.
        for entry_hi in [0xC012_3405u32, 0x7FFF_E0FF, 0x0000_2001] {
            assert_eq!(
                ((((entry_hi >> 13) ^ entry_hi) & 0xFF) << 4) as usize,
                slot_index(entry_hi) * 16
            );
        }
        // One page under two host ASIDs: two slots.
        assert_ne!(slot_index(0x0040_2000 | 7), slot_index(0x0040_2000 | 8));
    }

    #[test]
    fn insert_probe_invalidate() {
        let mut c = RefillCache::new();
        c.insert(0x0040_2000 | 7, 0x11, 0x22, 0);
        assert_eq!(c.probe(0x0040_2000 | 7).unwrap().entry_lo1, 0x22);
        assert!(c.probe(0x0040_2000 | 8).is_none());
        assert_eq!(
            slot_index((0x0040_2000 + (256 << 13)) | 7),
            slot_index(0x0040_2000 | 7)
        );
        assert!(
            c.probe((0x0040_2000 + (256 << 13)) | 7).is_none(),
            "same slot, other tag"
        );
        c.insert(0x0040_2000 | 8, 0x33, 0x44, 0);
        assert_eq!(
            c.probe(0x0040_2000 | 7).unwrap().entry_lo1,
            0x22,
            "both kept"
        );
        assert_eq!(c.probe(0x0040_2000 | 8).unwrap().entry_lo1, 0x44);
        let mut only8 = AsidSet::EMPTY;
        only8.insert(8);
        c.invalidate(0x0040_0000, 0x4000, &only8);
        assert!(c.probe(0x0040_2000 | 7).is_some(), "other ASID kept");
        assert!(c.probe(0x0040_2000 | 8).is_none(), "its own ASID dropped");
        let mut only7 = AsidSet::EMPTY;
        only7.insert(7);
        c.invalidate(0x0040_4000, 0x2000, &only7);
        assert!(c.probe(0x0040_2000 | 7).is_some(), "outside the range kept");
        c.invalidate(0x0000_0000, 1 << 32, &only7);
        assert!(c.probe(0x0040_2000 | 7).is_none());
        assert!(c.probe(0).is_none(), "empty slots never match");
    }
}
