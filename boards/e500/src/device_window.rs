//! A window onto device registers outside CCSR: QEMU ppce500's platform bus (at physical
//! 0xF_0000_0000), where `-pflash` and `-device eTSEC` put their devices, and the PCI memory
//! window the board opens in the same 4 MiB for the devices on its PCI bus (`pci_bus.rs`: the
//! virtio disk, e1000 ports). The window is shared: the first user maps it
//! ([`DeviceWindow::shared`]), later ones find their registers in it or not at all.
//!
//! The hypervisor's boot map (`hypervisor::arch::mmu`) has TLB1 entries 0 (low RAM) and 1
//! (CCSR), and 14 for the RAM above 256 MiB (`map_high_ram`); guests' large pages use 2..=13;
//! the boot code borrows 14 or 15 only before Rust runs. This window is TLB1 entry 15: one 4 MiB page at [`WINDOW_VIRT`] (the first
//! 4 MiB boundary after the CCSR window), address space 0, TID 0, IPROT (so the flash invalidation of guest entries spares
//! it, and no guest search, always in address space 1, can find it), cache-inhibited and
//! guarded, supervisor read/write, never executable. It is written once, at boot, before any
//! guest runs.

use core::arch::asm;

use drivers::mmio::Mmio;
use hypervisor::arch::mmu::{CCSR_SIZE, CCSR_VIRT};

/// Bytes the window maps (one TLB1 page).
pub const WINDOW_SIZE: usize = 4 << 20;
/// Virtual address of the window.
pub const WINDOW_VIRT: usize = (CCSR_VIRT + CCSR_SIZE).next_multiple_of(WINDOW_SIZE);
/// The TLB1 entry that holds it.
const WINDOW_ENTRY: u32 = 15;

const MAS0_TLBSEL1: u32 = 1 << 28;
const MAS0_ESEL_SHIFT: u32 = 16;
const MAS1_VALID: u32 = 1 << 31;
const MAS1_IPROT: u32 = 1 << 30;
/// TSIZE of a 4 MiB page (4^6 KiB).
const MAS1_TSIZE_4M: u32 = 6 << 8;
const MAS2_I: u32 = 1 << 3;
const MAS2_G: u32 = 1 << 1;
const MAS3_SW: u32 = 1 << 2;
const MAS3_SR: u32 = 1 << 0;

const _: () = assert!(WINDOW_VIRT.is_multiple_of(WINDOW_SIZE));

/// The window once mapped (`None` inside: the page asked for first was out of reach).
static SHARED: spin::Once<Option<DeviceWindow>> = spin::Once::new();

/// The window, once mapped: which physical page it shows.
#[derive(Clone, Copy, Debug)]
pub struct DeviceWindow {
    phys: u64,
}

impl DeviceWindow {
    /// The window: mapped at the 4 MiB page holding `phys` by the first call (at boot, before
    /// any guest runs), the page mapped then by every later one.
    pub fn shared(phys: u64) -> Option<DeviceWindow> {
        *SHARED.call_once(|| DeviceWindow::map(phys))
    }

    /// Map the 4 MiB page holding physical address `phys` (36-bit) at [`WINDOW_VIRT`].
    fn map(phys: u64) -> Option<DeviceWindow> {
        let page = phys & !(WINDOW_SIZE as u64 - 1);
        if page >> 36 != 0 {
            return None;
        }
        let mas0 = MAS0_TLBSEL1 | (WINDOW_ENTRY << MAS0_ESEL_SHIFT);
        let mas1 = MAS1_VALID | MAS1_IPROT | MAS1_TSIZE_4M;
        let mas2 = WINDOW_VIRT as u32 | MAS2_I | MAS2_G;
        #[allow(clippy::cast_possible_truncation)]
        let mas3 = (page as u32) | MAS3_SW | MAS3_SR;
        let mas7 = (page >> 32) as u32;
        // SAFETY: TLB1[15] is unused once the boot code has run (see the module docs); the new
        // entry maps device registers at a virtual page nothing else uses (after the CCSR
        // window, far above the RAM map), in address space 0 where only the hypervisor runs,
        // so no existing translation changes and no entry overlaps it.
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
        Some(DeviceWindow { phys: page })
    }

    /// The `len` bytes of registers at physical `phys`, if they lie inside the window.
    pub fn registers(&self, phys: u64, len: usize) -> Option<Mmio> {
        let offset = usize::try_from(phys.checked_sub(self.phys)?).ok()?;
        if offset.checked_add(len)? > WINDOW_SIZE {
            return None;
        }
        // SAFETY: the window maps this page cache-inhibited and guarded for the life of the
        // program; the caller builds one driver per register block.
        Some(unsafe { Mmio::new(WINDOW_VIRT + offset, len) })
    }
}
