//! TLB0 entries packed in 8 bytes (512 of them are most of a guest's TLB state).

use super::{TlbEntry, CONTEXT_MAPPED};
use crate::spr::mas::*;

/// A TLB0 entry in 8 bytes: a TLB0 entry is a 4 KiB page without IPROT, and the set it sits
/// in holds its EPN bits 18:12, so what `tlbwe` stored fits two words (the model's
/// bookkeeping bit, [`TlbEntry::context_mapped`], is kept apart in [`super::Tlb`]):
///
/// - `page`: EPN bits 31:19 | TID << 11 | MAS7 << 7 | MAS2 bits 6:0 (X0, X1, WIMGE);
/// - `frame`: RPN (MAS3 bits 31:12) | V << 11 | TS << 10 | MAS3 bits 9:0 (U0..U3, permissions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tlb0Slot {
    page: u32,
    frame: u32,
}

/// EPN bits a TLB0 slot keeps (the others are its set).
const SLOT_EPN: u32 = 0xFFF8_0000;
const SLOT_TID_SHIFT: u32 = 11;
const SLOT_MAS7_SHIFT: u32 = 7;
const SLOT_MAS2_LOW: u32 = 0x7F;
const SLOT_V: u32 = 1 << 11;
const SLOT_TS: u32 = 1 << 10;
const SLOT_MAS3_LOW: u32 = 0x3FF;

impl Tlb0Slot {
    /// Every field 0: an invalid entry.
    pub(super) const INVALID: Tlb0Slot = Tlb0Slot { page: 0, frame: 0 };

    /// `e`, a TLB0 entry (4 KiB, no IPROT) of the set its EPN selects.
    pub(super) const fn pack(e: &TlbEntry) -> Self {
        let mut frame = (e.mas3 & MAS3_RPN) | (e.mas3 & SLOT_MAS3_LOW);
        if e.valid() {
            frame |= SLOT_V;
        }
        if e.ts() {
            frame |= SLOT_TS;
        }
        Tlb0Slot {
            page: (e.mas2 & SLOT_EPN)
                | (e.tid() as u32) << SLOT_TID_SHIFT
                | e.mas7() << SLOT_MAS7_SHIFT
                | (e.mas2 & SLOT_MAS2_LOW),
            frame,
        }
    }

    /// V.
    #[inline]
    pub(super) const fn valid(&self) -> bool {
        self.frame & SLOT_V != 0
    }

    /// Whether the entry translates `ea` (of this slot's set) in address space `ts` for PIDs
    /// `pids` ([`TlbEntry::matches`] without unpacking).
    #[inline]
    pub(super) const fn matches(&self, ea: u32, ts: bool, pids: &[u8; 3]) -> bool {
        let tid = (self.page >> SLOT_TID_SHIFT) as u8;
        self.frame & SLOT_V != 0
            && (self.frame & SLOT_TS != 0) == ts
            && (tid == 0 || tid == pids[0] || tid == pids[1] || tid == pids[2])
            && ea & SLOT_EPN == self.page & SLOT_EPN
    }

    /// The entry, in set `set`, with the bookkeeping bit `context_mapped`.
    pub(super) const fn unpack(&self, set: usize, context_mapped: bool) -> TlbEntry {
        let (page, frame) = (self.page, self.frame);
        let mut mas1 = ((page >> SLOT_TID_SHIFT) & 0xFF) << 16
            | (1 << 8)
            | ((page >> SLOT_MAS7_SHIFT) & MAS7_MASK);
        if frame & SLOT_V != 0 {
            mas1 |= MAS1_V;
        }
        if frame & SLOT_TS != 0 {
            mas1 |= MAS1_TS;
        }
        if context_mapped {
            mas1 |= CONTEXT_MAPPED;
        }
        TlbEntry {
            mas1,
            mas2: (page & SLOT_EPN) | (set as u32) << 12 | (page & SLOT_MAS2_LOW),
            mas3: (frame & MAS3_RPN) | (frame & SLOT_MAS3_LOW),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Tlb, TlbEntry};
    use super::*;

    /// A TLB0 entry keeps in its 8 bytes every field `tlbwe` stores: what `tlbre` reads back
    /// and what lookups match are those of the entry as written, in every set and way, and the
    /// bookkeeping bit stays with its entry.
    #[test]
    fn packed_tlb0_entries_keep_every_field() {
        let mut state = 0x2545_F491u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let mut t = Tlb::new();
        for _ in 0..4000 {
            let (mas0, mas1, mas2, mas3, mas7) = (next(), next(), next(), next(), next());
            let e = TlbEntry::from_mas(mas1, mas2, mas3, mas7, false);
            let index = Tlb::index_from_mas(mas0 & !MAS0_TLBSEL1, mas2);
            t.write(index, e);
            if next() & 1 != 0 {
                t.mark_context_mapped(index);
            }
            let marked = t.entry(index).context_mapped();
            let read = t.entry(index);
            assert!(read.same_as(&e), "{e:x?} read back as {read:x?}");
            assert_eq!(
                (read.mas1(), read.mas2(), read.mas3(), read.mas7()),
                (e.mas1(), e.mas2(), e.mas3(), e.mas7())
            );
            let pids = [e.tid(), next() as u8, 0];
            let ea = e.epn() | (next() & 0xFFF);
            let found = t.lookup(ea, e.ts(), &pids);
            assert_eq!(found.is_some(), e.valid(), "{e:x?}");
            if let Some((i, hit)) = found {
                assert_eq!((i, hit), (index, t.entry(index)));
            }
            assert!(t
                .lookup(ea ^ 0x8000_0000, e.ts(), &pids)
                .is_none_or(|(i, _)| i != index));
            t.clear_context_mapped(index);
            assert!(!t.entry(index).context_mapped());
            if marked {
                t.mark_context_mapped(index);
            }
        }
        assert_eq!(size_of::<Tlb0Slot>(), 8);
    }
}
