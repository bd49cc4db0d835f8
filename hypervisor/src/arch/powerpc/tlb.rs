//! The host TLB as guests use it: the entries the guest CPU model computes (address space 1, a
//! shadow ID as TID, user permissions only) written into the real TLB0 and into TLB1 entries
//! 2..=13, searched and invalidated by (address, shadow ID), and flash-invalidated when a new
//! shadow-ID generation begins.
//!
//! The hypervisor's own entries (TLB1 0 and 1, see [`super::mmu`]) are address space 0, TID 0
//! and IPROT: no search here can find them (every search is in address space 1), no write here
//! targets their slots, and flash invalidation spares them.

use core::arch::asm;
use core::sync::atomic::{AtomicU32, Ordering};

use vcpu_e500::{HostTlbEntry, RefillCache};

use super::spr::{self, mfspr, mtspr};

/// The TLB1 entries guests' large pages go to (the hypervisor keeps 0 and 1, and the boot code
/// uses 14 and 15 briefly before any guest runs). Twelve, as `vcpu_e500::host_model` assumes.
pub(super) const GUEST_TLB1_FIRST: u32 = 2;
pub(super) const GUEST_TLB1_COUNT: u32 = 12;
const _: () = assert!(GUEST_TLB1_COUNT as usize == vcpu_e500::host_model::HOST_TLB1_GUEST_ENTRIES);

const MAS0_TLBSEL1: u32 = 1 << 28;
const MAS0_ESEL_SHIFT: u32 = 16;
const MAS1_V: u32 = 1 << 31;
const MAS1_IPROT: u32 = 1 << 30;
/// MAS6\[SAS\]: search address space 1.
const MAS6_SAS: u32 = 1;

/// Round-robin victims: the TLB0 way (4-way) and the next guest TLB1 entry (0..12, also
/// advanced by the TLB-miss handler in `trap.rs`).
static TLB0_NEXT_WAY: AtomicU32 = AtomicU32::new(0);
#[export_name = "__hv_tlb1_next"]
static TLB1_NEXT: AtomicU32 = AtomicU32::new(0);

/// The running guest's refill cache (its slots' address, 0 when no guest runs) and MAS7, for
/// the TLB-miss handler in `trap.rs`.
#[export_name = "__hv_refill_table"]
static REFILL_TABLE: AtomicU32 = AtomicU32::new(0);
#[export_name = "__hv_refill_mas7"]
static REFILL_MAS7: AtomicU32 = AtomicU32::new(0);

/// Point the TLB-miss handler at the refill cache of the guest about to run (`None`: no guest
/// runs). The table must stay where it is, unchanged but by the model, until the next call.
pub fn set_refill_table(table: Option<(&RefillCache, u32)>) {
    let (addr, mas7) = table.map_or((0, 0), |(cache, mas7)| {
        (cache.slots().as_ptr() as usize, mas7)
    });
    // Addresses are 32 bits on this core.
    #[allow(clippy::cast_possible_truncation)]
    REFILL_TABLE.store(addr as u32, Ordering::Relaxed);
    REFILL_MAS7.store(mas7, Ordering::Relaxed);
}

/// `tlbsx` for `ea` under `sid` in address space 1: MAS0 and MAS1 of the entry found (MAS1\[V\]
/// clear on a miss). MAS2, MAS3 and MAS7 are loaded too.
fn search(ea: u32, sid: u8) -> (u32, u32) {
    mtspr!(spr::MAS6, (u32::from(sid) << 16) | MAS6_SAS);
    // SAFETY: `tlbsx` only loads the MAS registers with the entry found (or the MAS4 defaults);
    // it changes no translation.
    unsafe { asm!("tlbsx 0, {0}", "isync", in(reg) ea, options(nostack, preserves_flags)) };
    (mfspr!(spr::MAS0), mfspr!(spr::MAS1))
}

/// Write the MAS registers' entry at MAS0's place.
fn write_mas(mas0: u32, mas1: u32, mas2: u32, mas3: u32, mas7: u32) {
    // SAFETY: the callers only write guest entries (address space 1, never IPROT, physical
    // pages the guest CPU model checked to lie in the guest's partition) into TLB0 or the
    // guests' TLB1 slots, or clear V of such an entry: the hypervisor's own translations
    // (address space 0) cannot change.
    unsafe {
        asm!(
            "mtspr 624, {0}",
            "mtspr 625, {1}",
            "mtspr 626, {2}",
            "mtspr 627, {3}",
            "mtspr 944, {4}",
            "isync",
            "tlbwe",
            "isync",
            in(reg) mas0, in(reg) mas1, in(reg) mas2, in(reg) mas3, in(reg) mas7,
            options(nostack, preserves_flags),
        )
    };
}

/// Write `e` (from `Outcome::MapHost` or a refill-cache hit): an entry found for its address
/// and ID in the TLB it belongs to is overwritten; one in the other TLB is invalidated and `e`
/// written anew (TLB0 at the next way of its set, TLB1 in the next guest slot).
pub fn map(e: &HostTlbEntry) {
    let (found0, found1) = search(e.epn(), e.sid());
    let large = e.is_tlb1();
    let mas0 = if found1 & MAS1_V != 0 && (found0 & MAS0_TLBSEL1 != 0) == large {
        found0
    } else {
        if found1 & MAS1_V != 0 && found1 & MAS1_IPROT == 0 {
            let (mas2, mas3, mas7) = (mfspr!(spr::MAS2), mfspr!(spr::MAS3), mfspr!(spr::MAS7));
            write_mas(found0, found1 & !MAS1_V, mas2, mas3, mas7);
        }
        if large {
            let i = TLB1_NEXT.load(Ordering::Relaxed);
            TLB1_NEXT.store((i + 1) % GUEST_TLB1_COUNT, Ordering::Relaxed);
            MAS0_TLBSEL1 | ((GUEST_TLB1_FIRST + i) << MAS0_ESEL_SHIFT)
        } else {
            let way = TLB0_NEXT_WAY.load(Ordering::Relaxed);
            TLB0_NEXT_WAY.store((way + 1) % 4, Ordering::Relaxed);
            way << MAS0_ESEL_SHIFT
        }
    };
    write_mas(mas0, e.mas1, e.mas2, e.mas3, e.mas7);
}

/// Drop the entry for `ea` under `sid` in address space 1, if there is one.
pub fn invalidate(ea: u32, sid: u8) {
    let (mas0, mas1) = search(ea, sid);
    if mas1 & MAS1_V != 0 && mas1 & MAS1_IPROT == 0 {
        let (mas2, mas3, mas7) = (mfspr!(spr::MAS2), mfspr!(spr::MAS3), mfspr!(spr::MAS7));
        write_mas(mas0, mas1 & !MAS1_V, mas2, mas3, mas7);
    }
}

/// Flash-invalidate TLB0 and TLB1 (a new shadow-ID generation): every guest entry goes, the
/// hypervisor's IPROT entries stay.
pub fn flush_guest_entries() {
    mtspr!(spr::MMUCSR0, spr::MMUCSR0_TLB0_FI | spr::MMUCSR0_TLB1_FI);
    while mfspr!(spr::MMUCSR0) & (spr::MMUCSR0_TLB0_FI | spr::MMUCSR0_TLB1_FI) != 0 {}
}

/// Set the real PIDs a guest runs with: PID0 its context's shadow ID, PID1 its global pages'
/// (or 0), PID2 0.
pub fn set_pids(pid0: u8, pid1: u8) {
    mtspr!(spr::PID0, u32::from(pid0));
    mtspr!(spr::PID1, u32::from(pid1));
    mtspr!(spr::PID2, 0);
}
