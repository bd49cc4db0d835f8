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

/// Buckets of the 4 KiB-page index: VPN2 bits 20:13.
const BUCKETS: usize = 256;

/// End of an index chain.
const NONE: u16 = u16::MAX;

const fn bucket_of(va: u32) -> usize {
    ((va >> 13) as usize) & (BUCKETS - 1)
}

/// The virtual TLB and its Random/Wired state.
///
/// Lookups, probes and overlap checks go through an index instead of scanning every entry:
/// entries with 4 KiB pages are chained per bucket of VPN2 bits 20:13, entries with larger pages
/// (whose VPN2 bits under the mask are ignored, so they can match in any bucket) on a chain of
/// their own; each chain is kept in ascending index order, so the first match on a chain is its
/// lowest. A lookup walks one bucket's chain and the large-page chain: with a full 256-entry TLB
/// of 4 KiB pairs, about one entry, where a scan of the array cost some 7,000 instructions on
/// the 24Kc build. (Only an overlap check for a new large-page entry still scans the array.)
#[derive(Clone, Debug)]
pub struct Tlb {
    entries: [TlbEntry; MAX_TLB_ENTRIES],
    len: usize,
    wired: u32,
    random: u32,
    /// First entry of each 4 KiB-page bucket's chain.
    heads: [u16; BUCKETS],
    /// First entry of the large-page chain.
    large_head: u16,
    /// Next entry on the chain of each entry.
    next: [u16; MAX_TLB_ENTRIES],
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
            heads: [NONE; BUCKETS],
            large_head: NONE,
            next: [NONE; MAX_TLB_ENTRIES],
        };
        for i in 0..len {
            tlb.link(i);
        }
        tlb
    }

    /// The head of the chain entry `e` belongs on.
    fn chain_of(&mut self, e: &TlbEntry) -> &mut u16 {
        if e.page_mask == 0 {
            &mut self.heads[bucket_of(e.entry_hi)]
        } else {
            &mut self.large_head
        }
    }

    /// Put entry `index` on its chain, in index order.
    fn link(&mut self, index: usize) {
        let e = self.entries[index];
        let mut at = *self.chain_of(&e);
        if at == NONE || usize::from(at) > index {
            self.next[index] = at;
            *self.chain_of(&e) = index as u16;
            return;
        }
        while self.next[usize::from(at)] != NONE && usize::from(self.next[usize::from(at)]) < index
        {
            at = self.next[usize::from(at)];
        }
        self.next[index] = self.next[usize::from(at)];
        self.next[usize::from(at)] = index as u16;
    }

    /// Take entry `index` off its chain.
    fn unlink(&mut self, index: usize) {
        let e = self.entries[index];
        let head = *self.chain_of(&e);
        let after = self.next[index];
        if usize::from(head) == index {
            *self.chain_of(&e) = after;
            return;
        }
        let mut at = head;
        while at != NONE {
            let n = self.next[usize::from(at)];
            if usize::from(n) == index {
                self.next[usize::from(at)] = after;
                return;
            }
            at = n;
        }
    }

    /// The entries of the chain starting at `head`, in index order.
    fn chain(&self, head: u16) -> impl Iterator<Item = (usize, &TlbEntry)> + '_ {
        let mut at = head;
        core::iter::from_fn(move || {
            if at == NONE {
                return None;
            }
            let i = usize::from(at);
            at = self.next[i];
            Some((i, &self.entries[i]))
        })
    }

    /// The entries that may match an address with this VPN2: its bucket's chain, then the
    /// large-page chain.
    fn candidates(&self, va: u32) -> impl Iterator<Item = (usize, &TlbEntry)> + '_ {
        self.chain(self.heads[bucket_of(va)])
            .chain(self.chain(self.large_head))
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
        self.unlink(slot);
        let old = core::mem::replace(&mut self.entries[slot], entry);
        self.link(slot);
        old
    }

    /// Lowest index translating `va` under `asid`.
    pub fn lookup(&self, va: u32, asid: u8) -> Option<(usize, &TlbEntry)> {
        let small = self
            .chain(self.heads[bucket_of(va)])
            .find(|(_, e)| e.matches(va, asid));
        if self.large_head == NONE {
            return small;
        }
        let large = self
            .chain(self.large_head)
            .find(|(_, e)| e.matches(va, asid));
        match (small, large) {
            (Some(s), Some(l)) => Some(if s.0 < l.0 { s } else { l }),
            (s, l) => s.or(l),
        }
    }

    /// `tlbp`: lowest index matching EntryHi's VPN2 and ASID.
    pub fn probe(&self, entry_hi: u32) -> Option<usize> {
        self.lookup(entry_hi & 0xFFFF_E000, entry_hi as u8)
            .map(|(i, _)| i)
    }

    /// Whether any entry other than `except` overlaps `entry`'s pages for some ASID they share.
    pub fn overlaps_other(&self, entry: &TlbEntry, except: usize) -> bool {
        let overlaps = |(i, e): (usize, &TlbEntry)| {
            let ignore = (e.page_mask | entry.page_mask) | 0x1FFF;
            i != except
                && (e.entry_hi & !ignore) == (entry.entry_hi & !ignore)
                && (e.global || entry.global || e.asid() == entry.asid())
        };
        if entry.page_mask == 0 {
            // A 4 KiB pair overlaps only entries of its bucket or large ones.
            self.candidates(entry.entry_hi).any(overlaps)
        } else {
            self.entries().iter().enumerate().any(overlaps)
        }
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
    fn index_never_hides_a_match() {
        // Pseudo-random writes of small and large entries; after each, the indexed lookup,
        // probe and overlap answers equal a plain scan's.
        // Wide and narrow address ranges (many entries on few chains, duplicates), full-size
        // and 16-entry TLBs.
        for (len, vpn2_bits) in [(256, 0x003F_E000), (256, 0x0001_E000), (16, 0x0001_E000)] {
            check_index_against_scan(len, vpn2_bits);
        }
    }

    fn check_index_against_scan(len: usize, vpn2_bits: u32) {
        let mut t = Tlb::new(len);
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
            let hi = (next() & vpn2_bits) | (r >> 24) & 3;
            let lo = if r & 8 != 0 { LO_G } else { 0 };
            let index = next() & (len as u32 - 1);
            let e = TlbEntry::from_registers(hi, mask, lo | LO_V, lo);
            t.write(index, e);
            let va = next() & (vpn2_bits | 0x1000);
            let asid = (next() & 3) as u8;
            let scan = t
                .entries()
                .iter()
                .enumerate()
                .find(|(_, e)| e.matches(va, asid))
                .map(|(i, _)| i);
            assert_eq!(t.lookup(va, asid).map(|(i, _)| i), scan);
            assert_eq!(t.probe(va | u32::from(asid)), scan);
            let other = TlbEntry::from_registers(next() & (vpn2_bits | 3), 0, LO_V, 0);
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
