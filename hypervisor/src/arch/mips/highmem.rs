//! How the hypervisor reaches physical RAM: kseg0 for the low 512 MiB, a window in kseg3 above.
//!
//! kseg0 (cached, unmapped) shows only physical 0..512 MiB. RAM above that (malta's beyond its
//! first 256 MiB sits at physical 0x9000_0000; QEMU `-m 512` and up) is reached through one
//! wired, global TLB entry (index 0) with two 256 MiB pages mapping kseg3 `0xE000_0000..` onto
//! the 512 MiB that start at the high RAM's base rounded down to 256 MiB. The last MiB of the
//! window is not used, so no view ends at the top of the address space.
//!
//! Guests never reach the window: kseg3 is kernel-only, so a guest access there is an address
//! error; guests map only useg and the supervisor segment, so no shadow entry can share its
//! VPN (which would be a duplicate entry, a machine check on a 24Kc); the entry is wired, so
//! `tlbwr` never replaces it; and [`super::tlb`] never flushes it. The pages use the same cache
//! attribute as the guests' own mappings of their RAM (cacheable non-coherent), and virtual and
//! physical addresses share their low 28 bits, so the window adds no cache alias.

use core::sync::atomic::{AtomicU32, Ordering};

use alloc::vec::Vec;
use vmm::partition::PhysRange;

use super::{cp0, tlb};

/// kseg0 shows physical memory below this.
const KSEG0_REACH: u64 = 0x2000_0000;
/// Where the window starts (kseg3).
const WINDOW_VA: u32 = 0xE000_0000;
/// Each of the entry's two pages.
const WINDOW_PAGE: u32 = 256 << 20;
/// What the window shows, less its last MiB.
const WINDOW_USABLE: u64 = 2 * WINDOW_PAGE as u64 - (1 << 20);
/// PageMask for 256 MiB pages.
const PAGE_MASK_256M: u32 = 0x1FFF_E000;
/// EntryLo: cacheable non-coherent (3), dirty (writable), valid, global.
const LO_FLAGS: u32 = (3 << 3) | (1 << 2) | (1 << 1) | 1;

/// Physical base of the window (256 MiB aligned), 0 while there is none (physical 0 is always
/// kseg0's).
static WINDOW_PA: AtomicU32 = AtomicU32::new(0);

/// Map the window onto the 512 MiB at `pa` (256 MiB aligned, above kseg0's reach).
fn install(pa: u32) {
    let lo = |page_pa: u32| ((page_pa >> 12) << 6) | LO_FLAGS;
    let saved = cp0::read_entryhi();
    tlb::write_wired(&tlb::Entry {
        entry_hi: WINDOW_VA,
        entry_lo0: lo(pa),
        entry_lo1: lo(pa.wrapping_add(WINDOW_PAGE)),
        page_mask: PAGE_MASK_256M,
    });
    cp0::write_entryhi(saved);
    WINDOW_PA.store(pa, Ordering::Relaxed);
}

/// The part of `ram` the hypervisor can reach, so the part guests may be given: everything in
/// kseg0's reach, and above it what fits the window (installed here for the first range above
/// 512 MiB). What stays out of reach is reported and left unused.
pub fn guest_ram_map(ram: &[PhysRange]) -> Vec<PhysRange> {
    let mut out = Vec::new();
    for r in ram {
        let (mut base, end) = (r.base, r.end());
        if base < KSEG0_REACH {
            let low_end = end.min(KSEG0_REACH);
            out.push(PhysRange {
                base,
                size: low_end - base,
            });
            base = low_end;
        }
        if base >= end {
            continue;
        }
        let window = match (WINDOW_PA.load(Ordering::Relaxed), u32::try_from(base)) {
            (0, Ok(base)) => {
                let pa = base & !(WINDOW_PAGE - 1);
                install(pa);
                crate::println!("RAM above 512 MiB: mapped at {WINDOW_VA:#010x} for the hypervisor (physical {pa:#010x})");
                u64::from(pa)
            }
            (0, Err(_)) => u64::MAX,
            (pa, _) => u64::from(pa),
        };
        let (lo, hi) = (
            base.max(window),
            end.min(window.saturating_add(WINDOW_USABLE)),
        );
        if lo < hi {
            out.push(PhysRange {
                base: lo,
                size: hi - lo,
            });
        }
        let unused = (end - base) - hi.saturating_sub(lo);
        if unused > 0 {
            crate::println!(
                "RAM {:#x}..{:#x}: {} MiB out of the hypervisor's reach, unused",
                base,
                end,
                unused >> 20
            );
        }
    }
    out
}

/// The kernel virtual address of physical `pa .. pa + len`.
///
/// # Panics
/// If the range is not in kseg0's reach nor inside the window: the kernel only ever asks for
/// RAM that [`guest_ram_map`] gave out, or the boot loader's areas below 512 MiB.
pub fn kernel_va(pa: u64, len: usize) -> usize {
    let end = pa + len as u64;
    let va = if end <= KSEG0_REACH {
        0x8000_0000 + pa
    } else {
        let window = u64::from(WINDOW_PA.load(Ordering::Relaxed));
        assert!(
            window != 0 && pa >= window && end <= window + WINDOW_USABLE,
            "physical memory {pa:#x}..{end:#x} is out of the hypervisor's reach"
        );
        u64::from(WINDOW_VA) + (pa - window)
    };
    // kseg0, or the window below its last MiB: a 32-bit address, as `usize` is here.
    #[allow(clippy::cast_possible_truncation)]
    let va = va as usize;
    va
}
