//! The guest's virtual TLB: entries as the guest wrote them, and the MIPS32 match rules.
//!
//! Each entry maps a pair of pages (even/odd) of size 4 KiB..256 MiB selected by PageMask, under
//! an 8-bit ASID unless global (G is the AND of both EntryLo G bits, as `tlbwi` defines it).
//! Lookups and `tlbp` return the lowest matching index. Hardware would raise a Machine Check when
//! two entries match one address; here duplicates are simply allowed and the lowest index wins,
//! so a guest can never make the hypervisor machine-check (the host TLB is filled from a single
//! lookup, never from the guest's entries directly).

/// Largest virtual TLB.
pub const MAX_TLB_ENTRIES: usize = 256;

/// EntryHi bits that exist on a 24Kc: VPN2 (31:13) and ASID (7:0).
pub const ENTRYHI_MASK: u32 = 0xFFFF_E0FF;
/// EntryLo bits that exist with 32-bit physical addresses: PFN (25:6), C, D, V, G.
pub const ENTRYLO_MASK: u32 = 0x03FF_FFFF;
/// PageMask bits that exist on a 24Kc (4 KiB..256 MiB pages).
pub const PAGEMASK_MASK: u32 = 0x1FFF_E000;

/// EntryLo G bit.
pub const LO_G: u32 = 1;
/// EntryLo V bit.
pub const LO_V: u32 = 1 << 1;
/// EntryLo D (writable) bit.
pub const LO_D: u32 = 1 << 2;

/// Normalise a PageMask value to a page size the TLB supports: the longest run of set bit
/// pairs starting at bit 13 (4 KiB pages when the low pair is not `11`). Writes of other
/// patterns are UNDEFINED in the architecture; this keeps the outcome deterministic.
pub const fn normalize_page_mask(value: u32) -> u32 {
    let mut mask = 0u32;
    let mut bit = 13;
    while bit < 29 {
        let pair = 0b11 << bit;
        if value & pair != pair {
            break;
        }
        mask |= pair;
        bit += 2;
    }
    mask
}

/// Size of one page of a pair under (normalised) PageMask `page_mask`.
pub const fn page_size_of(page_mask: u32) -> u32 {
    (page_mask >> 1) + 0x1000
}

/// One virtual TLB entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TlbEntry {
    /// VPN2 (bits 31:13, cleared under the page mask) and ASID (bits 7:0).
    pub entry_hi: u32,
    /// Normalised PageMask.
    pub page_mask: u32,
    /// Even page: PFN, C, D, V (G kept in `global`).
    pub lo0: u32,
    /// Odd page.
    pub lo1: u32,
    /// Global: matches every ASID.
    pub global: bool,
}

impl TlbEntry {
    /// Build an entry the way `tlbwi` does from the CP0 registers.
    pub const fn from_registers(entry_hi: u32, page_mask: u32, lo0: u32, lo1: u32) -> Self {
        let mask = normalize_page_mask(page_mask);
        TlbEntry {
            entry_hi: entry_hi & ENTRYHI_MASK & !mask,
            page_mask: mask,
            lo0: lo0 & ENTRYLO_MASK & !LO_G,
            lo1: lo1 & ENTRYLO_MASK & !LO_G,
            global: lo0 & lo1 & LO_G != 0,
        }
    }

    /// Bytes covered by the page pair.
    pub const fn span(&self) -> u32 {
        (self.page_mask | 0x1FFF).wrapping_add(1)
    }

    /// Size of one page of the pair.
    pub const fn page_size(&self) -> u32 {
        self.span() / 2
    }

    /// First guest-virtual address of the pair.
    pub const fn base(&self) -> u32 {
        self.entry_hi & !(self.page_mask | 0x1FFF)
    }

    /// The entry's ASID.
    pub const fn asid(&self) -> u8 {
        self.entry_hi as u8
    }

    /// Whether this entry translates `va` under `asid`.
    pub const fn matches(&self, va: u32, asid: u8) -> bool {
        let ignore = self.page_mask | 0x1FFF;
        (va & !ignore) == (self.entry_hi & !ignore) && (self.global || self.asid() == asid)
    }

    /// The EntryLo (without G) of the page holding `va`.
    pub const fn lo_for(&self, va: u32) -> u32 {
        if va & self.page_size() != 0 {
            self.lo1
        } else {
            self.lo0
        }
    }

    /// Guest-physical address of `va` through the EntryLo `lo` of this entry.
    pub const fn phys_of(&self, lo: u32, va: u32) -> u32 {
        let page = self.page_size();
        let frame = ((lo >> 6) << 12) & !(page - 1);
        frame | (va & (page - 1))
    }
}

/// Buckets of the 4 KiB-page filter: VPN2 bits 20:13.
const BUCKETS: usize = 256;

const fn bucket_of(va: u32) -> usize {
    ((va >> 13) as usize) & (BUCKETS - 1)
}

/// The virtual TLB and its Random/Wired state.
///
/// Lookups, probes and overlap checks are linear scans, but a filter lets them skip the scan
/// when nothing can match: the number of 4 KiB-page entries in each bucket of VPN2 bits 20:13
/// and the number of entries with larger pages (whose VPN2 bits under the mask are ignored, so
/// they are never filtered). With 256 entries a scan costs some 2,000 instructions; the filter
/// answers a miss in a few.
#[derive(Clone, Debug)]
pub struct Tlb {
    entries: [TlbEntry; MAX_TLB_ENTRIES],
    len: usize,
    wired: u32,
    random: u32,
    small: [u16; BUCKETS],
    large: u16,
}

impl Tlb {
    /// A TLB of `len` entries (a power of two up to 256), each a distinct never-matching kseg0 VPN2.
    pub fn new(len: usize) -> Self {
        let len = len.clamp(1, MAX_TLB_ENTRIES);
        let mut entries = [TlbEntry::default(); MAX_TLB_ENTRIES];
        for (i, e) in entries.iter_mut().enumerate() {
            e.entry_hi = 0x8000_0000 + ((i as u32) << 13);
        }
        let mut tlb = Tlb {
            entries,
            len,
            wired: 0,
            random: len as u32 - 1,
            small: [0; BUCKETS],
            large: 0,
        };
        for i in 0..len {
            let e = tlb.entries[i];
            tlb.count(&e, true);
        }
        tlb
    }

    /// Add (`add`) or remove an entry from the filter.
    fn count(&mut self, e: &TlbEntry, add: bool) {
        let counter = if e.page_mask == 0 {
            &mut self.small[bucket_of(e.entry_hi)]
        } else {
            &mut self.large
        };
        *counter = if add { *counter + 1 } else { *counter - 1 };
    }

    /// Whether no entry can match an address with this VPN2 (the filter's answer).
    fn surely_absent(&self, va: u32) -> bool {
        self.large == 0 && self.small[bucket_of(va)] == 0
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a TLB has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Mask of the Index/Wired/Random fields.
    pub fn index_mask(&self) -> u32 {
        self.len as u32 - 1
    }

    /// Entry `index` (masked to the TLB size).
    pub fn entry(&self, index: u32) -> &TlbEntry {
        &self.entries[(index & self.index_mask()) as usize]
    }

    /// All entries.
    pub fn entries(&self) -> &[TlbEntry] {
        &self.entries[..self.len]
    }

    /// Replace entry `index`; returns the entry it replaced.
    pub fn write(&mut self, index: u32, entry: TlbEntry) -> TlbEntry {
        let slot = (index & self.index_mask()) as usize;
        let old = core::mem::replace(&mut self.entries[slot], entry);
        self.count(&old, false);
        self.count(&entry, true);
        old
    }

    /// Lowest index translating `va` under `asid`.
    pub fn lookup(&self, va: u32, asid: u8) -> Option<(usize, &TlbEntry)> {
        if self.surely_absent(va) {
            return None;
        }
        self.entries()
            .iter()
            .enumerate()
            .find(|(_, e)| e.matches(va, asid))
    }

    /// `tlbp`: lowest index matching EntryHi's VPN2 and ASID.
    pub fn probe(&self, entry_hi: u32) -> Option<usize> {
        self.lookup(entry_hi & 0xFFFF_E000, entry_hi as u8)
            .map(|(i, _)| i)
    }

    /// Whether any entry other than `except` overlaps `entry`'s pages for some ASID they share.
    pub fn overlaps_other(&self, entry: &TlbEntry, except: usize) -> bool {
        if self.large == 0 && entry.page_mask == 0 {
            let bucket = bucket_of(entry.entry_hi);
            let own = self.entries.get(except).is_some_and(|e| {
                except < self.len && e.page_mask == 0 && bucket_of(e.entry_hi) == bucket
            });
            if self.small[bucket] == u16::from(own) {
                return false;
            }
        }
        self.entries().iter().enumerate().any(|(i, e)| {
            let ignore = (e.page_mask | entry.page_mask) | 0x1FFF;
            i != except
                && (e.entry_hi & !ignore) == (entry.entry_hi & !ignore)
                && (e.global || entry.global || e.asid() == entry.asid())
        })
    }

    /// Wired register.
    pub fn wired(&self) -> u32 {
        self.wired
    }

    /// Write Wired; Random restarts at the top entry, as the architecture specifies.
    pub fn set_wired(&mut self, value: u32) {
        self.wired = value & self.index_mask();
        self.random = self.index_mask();
    }

    /// Current Random value, always in `[Wired, len - 1]` (or `len - 1` when Wired is the top).
    pub fn random(&self) -> u32 {
        self.random
    }

    /// The index `tlbwr` writes, then step Random downwards, wrapping from Wired to the top.
    /// (Hardware decrements Random every cycle; stepping per write gives round-robin
    /// replacement, which is at least as good for the guest.)
    pub fn take_random(&mut self) -> u32 {
        let top = self.index_mask();
        let chosen = self.random.clamp(self.wired.min(top), top);
        self.random = if chosen <= self.wired {
            top
        } else {
            chosen - 1
        };
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_masks() {
        assert_eq!(normalize_page_mask(0), 0);
        assert_eq!(normalize_page_mask(0x0000_6000), 0x0000_6000); // 16K
        assert_eq!(normalize_page_mask(0x001F_E000), 0x001F_E000); // 1M
        assert_eq!(normalize_page_mask(0x1FFF_E000), 0x1FFF_E000); // 256M
        assert_eq!(normalize_page_mask(0x0000_2000), 0); // half a pair
        assert_eq!(normalize_page_mask(0x0001_E000), 0x0001_E000); // 64K
        assert_eq!(normalize_page_mask(0x0001_6000), 0x0000_6000); // broken second pair: 16K
    }

    #[test]
    fn entry_geometry_and_match() {
        // 16 KiB pages at 0x0040_0000, ASID 5.
        let e = TlbEntry::from_registers(
            0x0040_0005,
            0x0000_6000,
            (0x100 << 6) | 0x1E,
            (0x104 << 6) | 0x1F,
        );
        assert_eq!(e.span(), 0x8000);
        assert_eq!(e.page_size(), 0x4000);
        assert!(!e.global, "G needs both halves");
        assert!(e.matches(0x0040_7FFC, 5));
        assert!(!e.matches(0x0040_8000, 5));
        assert!(!e.matches(0x0040_0000, 6));
        assert_eq!(e.lo_for(0x0040_4000), e.lo1);
        assert_eq!(e.phys_of(e.lo1, 0x0040_4123), 0x0010_4123);
        // PFN bits under the mask are ignored.
        assert_eq!(e.phys_of((0x101 << 6) | 2, 0x0040_0010), 0x0010_0010);
    }

    #[test]
    fn global_and_probe() {
        let mut t = Tlb::new(16);
        t.write(
            3,
            TlbEntry::from_registers(0xD000_2000 | 7, 0, 0x41 | LO_V | LO_G, LO_G),
        );
        assert!(t.entry(3).global);
        assert_eq!(t.probe(0xD000_2000 | 9), Some(3));
        assert_eq!(t.probe(0xD000_4000 | 9), None);
        // kseg0 "unique" reset entries still answer tlbp for their own VPN2 and ASID 0.
        assert_eq!(t.probe(0x8000_0000 + (5 << 13)), Some(5));
    }

    #[test]
    fn duplicates_lowest_wins() {
        let mut t = Tlb::new(16);
        let a = TlbEntry::from_registers(0x0001_0000 | 1, 0, 0x40 | LO_V, 0);
        let b = TlbEntry::from_registers(0x0001_0000 | 1, 0, 0x80 | LO_V, 0);
        t.write(9, b);
        t.write(4, a);
        assert_eq!(t.lookup(0x0001_0000, 1).unwrap().0, 4);
        assert!(t.overlaps_other(&a, 4));
        assert!(!t.overlaps_other(&TlbEntry::from_registers(0x0002_0000, 0, 0, 0), 0));
    }

    #[test]
    fn filter_never_hides_a_match() {
        // Pseudo-random writes of small and large entries; after each, the filtered lookup,
        // probe and overlap answers equal a plain scan's.
        let mut t = Tlb::new(256);
        let mut x = 0x1234_5678u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for _ in 0..4000 {
            let r = next();
            let mask = if r & 7 == 0 { 0x0000_6000 } else { 0 };
            let hi = (next() & 0x003F_E000) | (r >> 24) & 3;
            let lo = if r & 8 != 0 { LO_G } else { 0 };
            let index = next() & 255;
            let e = TlbEntry::from_registers(hi, mask, lo | LO_V, lo);
            t.write(index, e);
            let va = next() & 0x003F_F000;
            let asid = (next() & 3) as u8;
            let scan = t
                .entries()
                .iter()
                .enumerate()
                .find(|(_, e)| e.matches(va, asid))
                .map(|(i, _)| i);
            assert_eq!(t.lookup(va, asid).map(|(i, _)| i), scan);
            let other = TlbEntry::from_registers(next() & 0x003F_E003, 0, LO_V, 0);
            let plain = t.entries().iter().enumerate().any(|(i, e)| {
                let ignore = (e.page_mask | other.page_mask) | 0x1FFF;
                i != index as usize
                    && (e.entry_hi & !ignore) == (other.entry_hi & !ignore)
                    && (e.global || other.global || e.asid() == other.asid())
            });
            assert_eq!(t.overlaps_other(&other, index as usize), plain);
            assert_eq!(t.overlaps_other(&e, index as usize), {
                t.entries().iter().enumerate().any(|(i, o)| {
                    let ignore = (o.page_mask | e.page_mask) | 0x1FFF;
                    i != index as usize
                        && (o.entry_hi & !ignore) == (e.entry_hi & !ignore)
                        && (o.global || e.global || o.asid() == e.asid())
                })
            });
        }
    }

    #[test]
    fn random_stays_in_range() {
        let mut t = Tlb::new(16);
        assert_eq!(t.random(), 15);
        t.set_wired(10);
        let mut seen = [false; 16];
        for _ in 0..40 {
            let r = t.take_random();
            assert!((10..16).contains(&r));
            seen[r as usize] = true;
            assert!(t.random() >= 10 && t.random() <= 15);
        }
        assert!(seen[10..16].iter().all(|&s| s));
        t.set_wired(15);
        assert_eq!(t.take_random(), 15);
        assert_eq!(t.take_random(), 15);
    }
}
