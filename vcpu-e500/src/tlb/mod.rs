//! The guest's virtual TLBs, with the e500v2 geometry and match rules.
//!
//! - TLB0: 512 entries, 4-way set associative (128 sets selected by EA bits 18:12), 4 KiB
//!   pages only, no IPROT; a 2-bit next-victim counter (MAS0\[NV\]) for replacement.
//! - TLB1: 16 entries, fully associative, page sizes 4 KiB..4 GiB (TSIZE 1..11, size = 4^TSIZE
//!   KiB), IPROT protects an entry from `tlbivax` and flash invalidation.
//!
//! An entry matches an effective address when it is valid, its TS equals the address space of
//! the access (MSR\[IS\] for fetches, MSR\[DS\] for data), its TID is 0 or one of PID0..PID2, and
//! its EPN equals the address under its page size. The hardware leaves multiple matches undefined;
//! here TLB1 wins over TLB0 and the lower index wins within a TLB, so a lookup is deterministic
//! (the host TLB is filled from one lookup, never from the guest's entries directly, so guest
//! duplicates can never reach the host TLB). These are also the geometry and sizes `TLB0CFG`,
//! `TLB1CFG` and `MMUCFG` report ([`TLB0CFG`], [`TLB1CFG`], [`MMUCFG`]).

use crate::spr::mas::*;

mod packed;
use packed::Tlb0Slot;

/// TLB0 entries.
pub const TLB0_ENTRIES: usize = 512;
/// TLB0 ways.
pub const TLB0_WAYS: usize = 4;
/// TLB0 sets.
pub const TLB0_SETS: usize = TLB0_ENTRIES / TLB0_WAYS;
/// TLB1 entries.
pub const TLB1_ENTRIES: usize = 16;
/// Largest TLB1 TSIZE (4 GiB).
pub const TLB1_MAX_TSIZE: u32 = 11;

/// TLB0CFG: 4-way, page size 4 KiB only, no IPROT, 512 entries.
pub const TLB0CFG: u32 = (4 << 24) | (1 << 20) | (1 << 16) | TLB0_ENTRIES as u32;
/// TLB1CFG: fully associative, 4 KiB..4 GiB, IPROT, variable sizes, 16 entries.
pub const TLB1CFG: u32 =
    (16 << 24) | (1 << 20) | (TLB1_MAX_TSIZE << 16) | (1 << 15) | (1 << 14) | TLB1_ENTRIES as u32;
/// MMUCFG: 36-bit real addresses, 3 PIDs of 8 bits, 2 TLBs, MMU architecture version 1.0.
pub const MMUCFG: u32 = (36 << 17) | (3 << 11) | (7 << 6) | (1 << 2);

/// Bytes of a page of size code `tsize` (4^tsize KiB).
pub const fn tsize_bytes(tsize: u32) -> u64 {
    1024u64 << (2 * tsize)
}

/// Which entry: TLB0 by `set * 4 + way`, or TLB1 by entry number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlbIndex {
    /// TLB0 entry `set * TLB0_WAYS + way`.
    Tlb0(u16),
    /// TLB1 entry.
    Tlb1(u8),
}

impl TlbIndex {
    /// Whether `self` takes precedence over `other` when both match (TLB1 first, then the lower
    /// index).
    pub const fn precedes(self, other: TlbIndex) -> bool {
        match (self, other) {
            (TlbIndex::Tlb1(a), TlbIndex::Tlb1(b)) => a < b,
            (TlbIndex::Tlb0(a), TlbIndex::Tlb0(b)) => a < b,
            (TlbIndex::Tlb1(_), TlbIndex::Tlb0(_)) => true,
            (TlbIndex::Tlb0(_), TlbIndex::Tlb1(_)) => false,
        }
    }
}

/// MAS1 reserved bit the model uses for [`TlbEntry::context_mapped`].
pub(super) const CONTEXT_MAPPED: u32 = 0x10;

/// One entry, as `tlbwe` stored it: MAS1 (MAS7 in its reserved bits 3:0), MAS2, MAS3.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbEntry {
    mas1: u32,
    mas2: u32,
    mas3: u32,
}

impl TlbEntry {
    /// An invalid entry.
    pub const INVALID: TlbEntry = TlbEntry {
        mas1: 1 << 8,
        mas2: 0,
        mas3: 0,
    };

    /// The entry `tlbwe` writes from the MAS registers into TLB0 (`tlb1` false: 4 KiB, IPROT
    /// ignored) or TLB1 (TSIZE clamped to 1..=11).
    pub const fn from_mas(mas1: u32, mas2: u32, mas3: u32, mas7: u32, tlb1: bool) -> Self {
        let mut tsize = (mas1 & MAS1_TSIZE) >> 8;
        let mut keep = MAS1_V | MAS1_IPROT | MAS1_TID | MAS1_TS;
        if !tlb1 {
            tsize = 1;
            keep &= !MAS1_IPROT;
        } else if tsize == 0 {
            tsize = 1;
        } else if tsize > TLB1_MAX_TSIZE {
            tsize = TLB1_MAX_TSIZE;
        }
        TlbEntry {
            mas1: (mas1 & keep) | (tsize << 8) | (mas7 & MAS7_MASK),
            mas2: mas2 & MAS2_MASK,
            mas3: mas3 & MAS3_MASK,
        }
    }

    /// MAS1 as `tlbre` returns it.
    pub const fn mas1(&self) -> u32 {
        self.mas1 & MAS1_MASK
    }
    /// MAS2.
    pub const fn mas2(&self) -> u32 {
        self.mas2
    }
    /// MAS3.
    pub const fn mas3(&self) -> u32 {
        self.mas3
    }
    /// MAS7 (physical address bits 35:32).
    pub const fn mas7(&self) -> u32 {
        self.mas1 & MAS7_MASK
    }
    /// Whether pages of this TID = 0 entry were mapped under a context's own shadow ID (not
    /// only the global one): kept in MAS1's reserved bit 4, never set by `tlbwe`.
    pub const fn context_mapped(&self) -> bool {
        self.mas1 & CONTEXT_MAPPED != 0
    }
    /// Whether two entries translate alike (everything but the bookkeeping bit).
    pub const fn same_as(&self, other: &TlbEntry) -> bool {
        self.mas1 & !CONTEXT_MAPPED == other.mas1 & !CONTEXT_MAPPED
            && self.mas2 == other.mas2
            && self.mas3 == other.mas3
    }
    /// V.
    pub const fn valid(&self) -> bool {
        self.mas1 & MAS1_V != 0
    }
    /// IPROT.
    pub const fn iprot(&self) -> bool {
        self.mas1 & MAS1_IPROT != 0
    }
    /// TID (0: every PID).
    pub const fn tid(&self) -> u8 {
        (self.mas1 >> 16) as u8
    }
    /// TS: the address space the entry belongs to.
    pub const fn ts(&self) -> bool {
        self.mas1 & MAS1_TS != 0
    }
    /// TSIZE.
    pub const fn tsize(&self) -> u32 {
        (self.mas1 & MAS1_TSIZE) >> 8
    }
    /// Page size in bytes.
    pub const fn size(&self) -> u64 {
        tsize_bytes(self.tsize())
    }
    /// The offset bits of an address in the page (size - 1; in 32 bits, which the 4 GiB
    /// maximum fills).
    const fn offset_mask(&self) -> u32 {
        let tsize = self.tsize();
        if tsize >= 11 {
            u32::MAX
        } else {
            (1024u32 << (2 * tsize)) - 1
        }
    }
    /// First effective address of the page (EPN bits below the page size are ignored).
    pub const fn epn(&self) -> u32 {
        self.mas2 & MAS2_EPN & !self.offset_mask()
    }
    /// First guest-physical address of the page (36 bits; RPN bits below the size ignored).
    pub const fn rpn(&self) -> u64 {
        (((self.mas7() as u64) << 32) | (self.mas3 & MAS3_RPN) as u64) & !(self.size() - 1)
    }
    /// Whether the page contains `ea`.
    pub const fn covers(&self, ea: u32) -> bool {
        let mask = self.offset_mask();
        ea & !mask == self.mas2 & MAS2_EPN & !mask
    }
    /// Whether the entry translates `ea` in address space `ts` for PIDs `pids`.
    pub const fn matches(&self, ea: u32, ts: bool, pids: &[u8; 3]) -> bool {
        let tid = self.tid();
        self.valid()
            && self.ts() == ts
            && (tid == 0 || tid == pids[0] || tid == pids[1] || tid == pids[2])
            && self.covers(ea)
    }
    /// Whether the page overlaps `[start, start + len)`.
    pub const fn overlaps(&self, start: u32, len: u64) -> bool {
        let epn = self.epn();
        len != 0 && start <= epn | self.offset_mask() && epn as u64 <= start as u64 + (len - 1)
    }
}

/// Size of the chunks of the effective address space in which valid non-global entries are
/// counted (128 MiB: 32 chunks).
const CHUNK_SHIFT: u32 = 27;

/// TLB0 (8 bytes an entry, `packed.rs`, with its bookkeeping bits apart) and TLB1 of one
/// guest, TLB0's next-victim counter, per address space a count of valid non-global (TID != 0)
/// entries in each 128 MiB of the address space, so that most "does a non-global entry overlap
/// this global one?" questions are answered without a scan, and per address space the set of
/// valid TLB1 entries, so that searches visit only those (a guest kernel keeps two or three of
/// its sixteen).
#[derive(Clone, Debug)]
pub struct Tlb {
    tlb0: [Tlb0Slot; TLB0_ENTRIES],
    /// Bit i % 64 of word i / 64: [`TlbEntry::context_mapped`] of TLB0 entry i.
    tlb0_context_mapped: [u64; TLB0_ENTRIES / 64],
    tlb1: [TlbEntry; TLB1_ENTRIES],
    nv: u8,
    nonglobal: [[u16; 32]; 2],
    /// Bit i: TLB1 entry i is valid, by address space.
    tlb1_live: [u16; 2],
}

/// The indices of the bits set in `mask`, lowest first.
fn bits(mask: u16) -> impl Iterator<Item = usize> {
    let mut rest = mask;
    core::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let i = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        Some(i)
    })
}

impl Default for Tlb {
    fn default() -> Self {
        Self::new()
    }
}

/// TLB0 set of an effective address.
pub const fn tlb0_set(ea: u32) -> usize {
    ((ea >> 12) as usize) & (TLB0_SETS - 1)
}

impl Tlb {
    /// Every entry invalid, next victim 0.
    pub const fn new() -> Self {
        Tlb {
            tlb0: [Tlb0Slot::INVALID; TLB0_ENTRIES],
            tlb0_context_mapped: [0; TLB0_ENTRIES / 64],
            tlb1: [TlbEntry::INVALID; TLB1_ENTRIES],
            nv: 0,
            nonglobal: [[0; 32]; 2],
            tlb1_live: [0; 2],
        }
    }

    fn chunks(start: u32, len: u64) -> core::ops::RangeInclusive<usize> {
        let first = (start >> CHUNK_SHIFT) as usize;
        let last =
            ((u64::from(start) + len.max(1) - 1).min(u64::from(u32::MAX)) >> CHUNK_SHIFT) as usize;
        first..=last
    }

    fn account(&mut self, e: &TlbEntry, add: bool) {
        if !e.valid() || e.tid() == 0 {
            return;
        }
        let counts = &mut self.nonglobal[e.ts() as usize];
        for c in Self::chunks(e.epn(), e.size()) {
            counts[c] = if add { counts[c] + 1 } else { counts[c] - 1 };
        }
    }

    /// Whether a valid entry with TID != 0 in address space `ts` overlaps
    /// `[start, start + len)`.
    pub fn nonglobal_overlaps(&self, start: u32, len: u64, ts: bool) -> bool {
        let counts = &self.nonglobal[ts as usize];
        if Self::chunks(start, len).all(|c| counts[c] == 0) {
            return false;
        }
        let mut found = false;
        self.for_each_overlapping(start, len, ts, None, |_, e| found |= e.tid() != 0);
        found
    }

    /// TLB0 entry `i`.
    #[inline]
    fn tlb0_entry(&self, i: usize) -> TlbEntry {
        let i = i % TLB0_ENTRIES;
        let marked = (self.tlb0_context_mapped[i / 64] >> (i % 64)) & 1 != 0;
        self.tlb0[i].unpack(i / TLB0_WAYS, marked)
    }

    /// Set or clear the bookkeeping bit of TLB0 entry `i`.
    fn set_tlb0_context_mapped(&mut self, i: usize, marked: bool) {
        let i = i % TLB0_ENTRIES;
        let bit = 1u64 << (i % 64);
        if marked {
            self.tlb0_context_mapped[i / 64] |= bit;
        } else {
            self.tlb0_context_mapped[i / 64] &= !bit;
        }
    }

    /// The entry at `index`.
    #[inline]
    pub fn entry(&self, index: TlbIndex) -> TlbEntry {
        match index {
            TlbIndex::Tlb0(i) => self.tlb0_entry(usize::from(i)),
            TlbIndex::Tlb1(i) => self.tlb1[usize::from(i) % TLB1_ENTRIES],
        }
    }

    /// The entry MAS0 (TLBSEL, ESEL) and, for TLB0, MAS2 (the set) select.
    pub const fn index_from_mas(mas0: u32, mas2: u32) -> TlbIndex {
        let esel = (mas0 & MAS0_ESEL) >> 16;
        if mas0 & MAS0_TLBSEL1 != 0 {
            TlbIndex::Tlb1(esel as u8)
        } else {
            let set = tlb0_set(mas2);
            TlbIndex::Tlb0((set * TLB0_WAYS + (esel as usize & (TLB0_WAYS - 1))) as u16)
        }
    }

    /// TLB0's next-victim counter.
    pub const fn next_victim(&self) -> u8 {
        self.nv
    }

    /// Set TLB0's next-victim counter (`tlbwe` to TLB0 loads it from MAS0\[NV\]).
    pub fn set_next_victim(&mut self, nv: u8) {
        self.nv = nv % TLB0_WAYS as u8;
    }

    /// Write `entry` at `index` (built for that TLB: a TLB0 entry is written to the set its
    /// EPN selects, as [`Tlb::index_from_mas`] finds it); returns the entry it replaced.
    pub fn write(&mut self, index: TlbIndex, entry: TlbEntry) -> TlbEntry {
        let old = match index {
            TlbIndex::Tlb0(i) => {
                let i = usize::from(i) % TLB0_ENTRIES;
                debug_assert_eq!(tlb0_set(entry.mas2), i / TLB0_WAYS);
                debug_assert!(entry.tsize() == 1 && !entry.iprot());
                let old = self.tlb0_entry(i);
                self.tlb0[i] = Tlb0Slot::pack(&entry);
                self.set_tlb0_context_mapped(i, entry.context_mapped());
                old
            }
            TlbIndex::Tlb1(i) => {
                core::mem::replace(&mut self.tlb1[usize::from(i) % TLB1_ENTRIES], entry)
            }
        };
        self.account(&old, false);
        self.account(&entry, true);
        if let TlbIndex::Tlb1(i) = index {
            let bit = 1u16 << (usize::from(i) % TLB1_ENTRIES);
            for ts in [false, true] {
                self.tlb1_live[usize::from(ts)] &= !bit;
            }
            if entry.valid() {
                self.tlb1_live[usize::from(entry.ts())] |= bit;
            }
        }
        old
    }

    /// The entry translating `ea` in address space `ts` for `pids`: TLB1 first, lowest index.
    #[inline]
    pub fn lookup(&self, ea: u32, ts: bool, pids: &[u8; 3]) -> Option<(TlbIndex, TlbEntry)> {
        for i in bits(self.tlb1_live[usize::from(ts)]) {
            let e = &self.tlb1[i];
            if e.matches(ea, ts, pids) {
                return Some((TlbIndex::Tlb1(i as u8), *e));
            }
        }
        let set = tlb0_set(ea) * TLB0_WAYS;
        for i in set..set + TLB0_WAYS {
            if self.tlb0[i].matches(ea, ts, pids) {
                return Some((TlbIndex::Tlb0(i as u16), self.tlb0_entry(i)));
            }
        }
        None
    }

    /// `tlbsx`'s search: PID `spid` (or TID 0), address space `sas`.
    pub fn search(&self, ea: u32, sas: bool, spid: u8) -> Option<(TlbIndex, TlbEntry)> {
        self.lookup(ea, sas, &[spid, spid, spid])
    }

    /// Whether a valid entry of address space `ts` matching `pids` that takes precedence over
    /// `winner` overlaps `[start, start + len)`. Only TLB1 entries can precede a TLB1 entry, and
    /// a TLB0 entry is a single 4 KiB page, which any preceding match would have won.
    pub fn preceded_in(
        &self,
        winner: TlbIndex,
        start: u32,
        len: u64,
        ts: bool,
        pids: &[u8; 3],
    ) -> bool {
        let TlbIndex::Tlb1(w) = winner else {
            return false;
        };
        let before = (1u16 << (usize::from(w) % TLB1_ENTRIES)) - 1;
        bits(self.tlb1_live[usize::from(ts)] & before).any(|i| {
            let e = &self.tlb1[i];
            let tid = e.tid();
            e.valid() && e.ts() == ts && (tid == 0 || pids.contains(&tid)) && e.overlaps(start, len)
        })
    }

    /// Every valid entry of address space `ts` other than `except` overlapping
    /// `[start, start + len)`, in precedence order.
    pub fn for_each_overlapping(
        &self,
        start: u32,
        len: u64,
        ts: bool,
        except: Option<TlbIndex>,
        mut f: impl FnMut(TlbIndex, &TlbEntry),
    ) {
        let hit = |e: &TlbEntry| e.valid() && e.ts() == ts && e.overlaps(start, len);
        let except = except.unwrap_or(TlbIndex::Tlb1(u8::MAX));
        for i in bits(self.tlb1_live[usize::from(ts)]) {
            let index = TlbIndex::Tlb1(i as u8);
            if index != except && hit(&self.tlb1[i]) {
                f(index, &self.tlb1[i]);
            }
        }
        // TLB0 pages are 4 KiB: only the sets of the range's pages can hold an overlap.
        let pages = len.div_ceil(4096);
        let mut visit = |i: usize| {
            let index = TlbIndex::Tlb0(i as u16);
            if index != except && self.tlb0[i].valid() {
                let e = self.tlb0_entry(i);
                if hit(&e) {
                    f(index, &e);
                }
            }
        };
        if pages >= TLB0_SETS as u64 {
            (0..TLB0_ENTRIES).for_each(visit);
        } else {
            for p in 0..pages as u32 {
                let set = tlb0_set(start.wrapping_add(p << 12)) * TLB0_WAYS;
                (set..set + TLB0_WAYS).for_each(&mut visit);
            }
        }
    }

    /// Every valid entry.
    pub fn valid_entries(&self) -> impl Iterator<Item = (TlbIndex, TlbEntry)> + '_ {
        let tlb1 = self
            .tlb1
            .iter()
            .enumerate()
            .map(|(i, e)| (TlbIndex::Tlb1(i as u8), *e));
        let tlb0 = (0..TLB0_ENTRIES)
            .filter(|&i| self.tlb0[i].valid())
            .map(|i| (TlbIndex::Tlb0(i as u16), self.tlb0_entry(i)));
        tlb1.chain(tlb0).filter(|(_, e)| e.valid())
    }

    /// The entries `tlbivax` with effective address `ea` invalidates (bit 0x8: TLB1, else
    /// TLB0; bit 0x4: all of that TLB, else those whose page contains `ea`, whatever their TID
    /// and TS), or MMUCSR0's flash invalidation (`all` with the TLB): never IPROT entries.
    pub fn for_each_invalidated(
        &self,
        tlb1: bool,
        all: bool,
        ea: u32,
        mut f: impl FnMut(TlbIndex, &TlbEntry),
    ) {
        let hit = |e: &TlbEntry| e.valid() && !e.iprot() && (all || e.covers(ea));
        if tlb1 {
            for (i, e) in self.tlb1.iter().enumerate() {
                if hit(e) {
                    f(TlbIndex::Tlb1(i as u8), e);
                }
            }
        } else {
            let range = if all {
                0..TLB0_ENTRIES
            } else {
                let set = tlb0_set(ea) * TLB0_WAYS;
                set..set + TLB0_WAYS
            };
            for i in range {
                let e = self.tlb0_entry(i);
                if hit(&e) {
                    f(TlbIndex::Tlb0(i as u16), &e);
                }
            }
        }
    }

    /// Record that pages of the entry at `index` were mapped under a context's own ID.
    pub fn mark_context_mapped(&mut self, index: TlbIndex) {
        match index {
            TlbIndex::Tlb0(i) => self.set_tlb0_context_mapped(usize::from(i), true),
            TlbIndex::Tlb1(i) => self.tlb1[usize::from(i) % TLB1_ENTRIES].mas1 |= CONTEXT_MAPPED,
        }
    }

    /// Forget that pages of the entry at `index` were mapped under a context's own ID (they
    /// were all invalidated).
    pub fn clear_context_mapped(&mut self, index: TlbIndex) {
        match index {
            TlbIndex::Tlb0(i) => self.set_tlb0_context_mapped(usize::from(i), false),
            TlbIndex::Tlb1(i) => self.tlb1[usize::from(i) % TLB1_ENTRIES].mas1 &= !CONTEXT_MAPPED,
        }
    }

    /// Clear V of the entry at `index` (keeping its other fields, as hardware invalidation does).
    pub fn invalidate(&mut self, index: TlbIndex) -> TlbEntry {
        let old = self.entry(index);
        let mut e = old;
        e.mas1 &= !MAS1_V;
        self.write(index, e);
        old
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlb1_entry(epn: u32, rpn: u32, tsize: u32, tid: u8, ts: bool) -> TlbEntry {
        TlbEntry::from_mas(
            MAS1_V | (u32::from(tid) << 16) | if ts { MAS1_TS } else { 0 } | (tsize << 8),
            epn,
            rpn | MAS3_SR | MAS3_SW | MAS3_SX,
            0,
            true,
        )
    }

    #[test]
    fn configuration_registers() {
        assert_eq!(TLB0CFG, 0x0411_0200);
        assert_eq!(TLB1CFG, 0x101B_C010);
        assert_eq!(MMUCFG, 0x0048_19C4);
        // What Linux extracts: NPIDS, TLB1 entries, TLB1 largest page (log2 bytes).
        assert_eq!((MMUCFG >> 11) & 0xF, 3);
        assert_eq!(TLB1CFG & 0xFFF, 16);
        assert_eq!(((TLB1CFG >> 16) & 0xF) * 2 + 10, 32);
    }

    #[test]
    fn sizes_and_fields() {
        let e = tlb1_entry(0x8123_4000, 0x0567_8000, 8, 0, false);
        assert_eq!(e.size(), 64 << 20);
        assert_eq!(e.epn(), 0x8000_0000);
        assert_eq!(e.rpn(), 0x0400_0000);
        assert!(e.covers(0x83FF_FFFF) && !e.covers(0x8400_0000));
        // TLB0 entries are 4 KiB and never IPROT, whatever MAS1 says.
        let t0 = TlbEntry::from_mas(MAS1_V | MAS1_IPROT | (8 << 8), 0x1000, 0x2000, 0, false);
        assert_eq!((t0.tsize(), t0.iprot()), (1, false));
        // TLB1 TSIZE clamped to the supported range.
        assert_eq!(tlb1_entry(0, 0, 0, 0, false).tsize(), 1);
        assert_eq!(tlb1_entry(0, 0, 15, 0, false).tsize(), 11);
        assert_eq!(tlb1_entry(0x1234_5000, 0, 11, 0, false).epn(), 0);
        // MAS7 is kept and read back apart from MAS1.
        let hi = TlbEntry::from_mas(MAS1_V | (1 << 8), 0, 0x1000, 0xF, true);
        assert_eq!(
            (hi.mas7(), hi.mas1() & 0xF, hi.rpn()),
            (0xF, 0, 0xF_0000_1000)
        );
    }

    #[test]
    fn lookup_rules() {
        let mut t = Tlb::new();
        t.write(TlbIndex::Tlb1(3), tlb1_entry(0x8000_0000, 0, 8, 0, false));
        t.write(
            TlbIndex::Tlb1(5),
            tlb1_entry(0x8000_0000, 0x0100_0000, 5, 7, false),
        );
        let pids = [7, 0, 0];
        // The lower TLB1 index wins.
        assert_eq!(
            t.lookup(0x8000_1000, false, &pids).unwrap().0,
            TlbIndex::Tlb1(3)
        );
        assert!(t.lookup(0x8000_1000, true, &pids).is_none(), "other space");
        let e = TlbEntry::from_mas(MAS1_V | (9 << 16), 0x0040_2000, 0x0000_5000, 0, false);
        let index = Tlb::index_from_mas(2 << 16, 0x0040_2000);
        assert_eq!(index, TlbIndex::Tlb0((2 * 4 + 2) as u16));
        t.write(index, e);
        assert!(t.lookup(0x0040_2FFF, false, &[1, 9, 0]).is_some(), "PID1");
        assert!(t.lookup(0x0040_2FFF, false, &[1, 2, 3]).is_none(), "TID");
        assert_eq!(t.search(0x0040_2000, false, 9).map(|(i, _)| i), Some(index));
        assert!(t.preceded_in(TlbIndex::Tlb1(5), 0x8000_0000, 0x1000, false, &pids));
        assert!(!t.preceded_in(TlbIndex::Tlb1(3), 0x8000_0000, 0x1000, false, &pids));
    }

    #[test]
    fn invalidation_spares_iprot() {
        let mut t = Tlb::new();
        let mut e = tlb1_entry(0x8000_0000, 0, 8, 0, false);
        t.write(TlbIndex::Tlb1(0), e);
        e = TlbEntry::from_mas(e.mas1() | MAS1_IPROT, e.mas2(), e.mas3(), 0, true);
        t.write(TlbIndex::Tlb1(1), e);
        let mut hit = [false; 16];
        t.for_each_invalidated(true, true, 0, |i, _| {
            if let TlbIndex::Tlb1(n) = i {
                hit[usize::from(n)] = true;
            }
        });
        assert!(hit[0] && !hit[1]);
        let mut count = 0;
        t.for_each_overlapping(
            0x8000_0000,
            0x1000,
            false,
            Some(TlbIndex::Tlb1(0)),
            |_, _| count += 1,
        );
        assert_eq!(count, 1);
    }
}
