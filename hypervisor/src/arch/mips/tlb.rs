//! The real TLB: writing shadow entries for guests, flushing, and the current ASID.
//!
//! The hypervisor itself runs unmapped (kseg0/kseg1). Its only TLB entry is the wired, global
//! window onto RAM above 512 MiB when the board has such RAM (see [`super::highmem`]), written
//! once at boot by [`write_wired`] and never flushed. Every other entry belongs to some guest
//! under that guest's host ASID (never ASID 0, never G). Guest entries are always written
//! through [`write()`], which probes first so the TLB never holds two entries for one address (a
//! machine check on real hardware).

use core::arch::asm;

use super::cp0;

/// A host TLB entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// VPN2 | ASID.
    pub entry_hi: u32,
    pub entry_lo0: u32,
    pub entry_lo1: u32,
    pub page_mask: u32,
}

/// Index.P: the probe found nothing.
const INDEX_PROBE_FAILED: u32 = 1 << 31;

macro_rules! tlb_op {
    ($name:ident, $insn:literal) => {
        #[inline(always)]
        fn $name() {
            // SAFETY: the TLB instructions only read/write CP0 and the TLB, which the
            // hypervisor owns; `ehb` clears the hazard before the next instruction uses them.
            unsafe { asm!($insn, "ehb", options(nostack)) };
        }
    };
}

tlb_op!(tlbp, "tlbp");
tlb_op!(tlbr, "tlbr");
tlb_op!(tlbwi, "tlbwi");
tlb_op!(tlbwr, "tlbwr");

/// Number of TLB entries (Config1.MMUSize + 1).
pub fn size() -> u32 {
    ((cp0::read_config1() >> 25) & 0x3F) + 1
}

/// Install `e`, replacing the entry that maps the same VPN2/ASID if there is one. Leaves
/// EntryHi set to `e.entry_hi` (its ASID is the current one, as the caller wants).
pub fn write(e: &Entry) {
    // Guest entries map useg and the supervisor segment only, never kseg3 (the hypervisor's
    // window).
    debug_assert!(e.entry_hi < 0xE000_0000, "guest TLB entry in kseg3");
    cp0::write_entryhi(e.entry_hi);
    cp0::write_pagemask(e.page_mask);
    tlbp();
    cp0::write_entrylo0(e.entry_lo0);
    cp0::write_entrylo1(e.entry_lo1);
    if cp0::read_index() & INDEX_PROBE_FAILED != 0 {
        tlbwr();
    } else {
        tlbwi();
    }
    cp0::write_pagemask(0);
}

/// Add `e` as the next wired entry (kept by [`flush_all`], never chosen by `tlbwr`). At boot
/// only, before any guest entry exists. Leaves EntryHi as `e.entry_hi`.
pub fn write_wired(e: &Entry) {
    let index = cp0::read_wired();
    assert!(index + 1 < size(), "no TLB entry left to wire");
    cp0::write_entryhi(e.entry_hi);
    cp0::write_entrylo0(e.entry_lo0);
    cp0::write_entrylo1(e.entry_lo1);
    cp0::write_pagemask(e.page_mask);
    cp0::write_index(index);
    tlbwi();
    cp0::write_pagemask(0);
    cp0::write_wired(index + 1);
}

/// Invalidate every entry but the wired ones: each gets a distinct kseg0 VPN2 (never looked
/// up, since kseg0 is unmapped) and invalid EntryLos.
pub fn flush_all() {
    let saved = cp0::read_entryhi();
    cp0::write_entrylo0(0);
    cp0::write_entrylo1(0);
    cp0::write_pagemask(0);
    for i in cp0::read_wired()..size() {
        cp0::write_entryhi(0x8000_0000 + (i << 13));
        cp0::write_index(i);
        tlbwi();
    }
    cp0::write_entryhi(saved);
}

/// Invalidate every entry but the wired ones for which `stale(entry_hi, page_mask)` holds (read
/// back with `tlbr`). Leaves EntryHi as it was.
pub fn invalidate_matching(stale: impl Fn(u32, u32) -> bool) {
    let saved = cp0::read_entryhi();
    for i in cp0::read_wired()..size() {
        cp0::write_index(i);
        tlbr();
        if stale(cp0::read_entryhi(), cp0::read_pagemask()) {
            cp0::write_entryhi(0x8000_0000 + (i << 13));
            cp0::write_entrylo0(0);
            cp0::write_entrylo1(0);
            cp0::write_pagemask(0);
            tlbwi();
        }
    }
    cp0::write_pagemask(0);
    cp0::write_entryhi(saved);
}

/// Invalidate, for each EntryHi value (VPN2 | ASID) `probes` hands to its callback, the entry
/// `tlbp` finds for it, unless that is a wired one. Leaves EntryHi as it was.
pub fn invalidate_probed(probes: impl FnOnce(&mut dyn FnMut(u32))) {
    let saved = cp0::read_entryhi();
    let wired = cp0::read_wired();
    probes(&mut |entry_hi| {
        cp0::write_entryhi(entry_hi);
        tlbp();
        let index = cp0::read_index();
        if index & INDEX_PROBE_FAILED == 0 && index >= wired {
            cp0::write_entryhi(0x8000_0000 + (index << 13));
            cp0::write_entrylo0(0);
            cp0::write_entrylo1(0);
            cp0::write_pagemask(0);
            tlbwi();
        }
    });
    cp0::write_entryhi(saved);
}

/// Make `asid` the current address space (EntryHi.ASID).
pub fn set_asid(asid: u8) {
    cp0::write_entryhi(u32::from(asid));
}
