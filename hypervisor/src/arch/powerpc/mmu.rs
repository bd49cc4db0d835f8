//! The hypervisor's TLB1 map, written once by `_start` (see `start.rs`).
//!
//! e500v2 has a 16-entry fully associative TLB1 with variable page sizes (4 KiB to 4 GiB in
//! powers of 4) and a 36-bit physical address space (the upper 4 bits in MAS7). The hypervisor
//! runs in address space 0 (`MSR[IS]` = `MSR[DS]` = 0) with two protected (IPROT) entries:
//!
//! | entry | virtual         | physical                 | size    | attributes                  |
//! |-------|-----------------|--------------------------|---------|-----------------------------|
//! | 0     | 0               | 0                        | 256 MiB | cacheable, supervisor RWX   |
//! | 1     | [`CCSR_VIRT`]   | board's `__ccsr_phys_*`  | 1 MiB   | cache-inhibited, guarded, RW|
//! | 14    | 256 MiB         | 256 MiB                  | 256 MiB | as entry 0, where RAM is    |
//!
//! The CCSR physical base is a board parameter: each e500 board's `memory.ld` defines
//! `__ccsr_phys_high` (bits 35..32) and `__ccsr_phys_low` (bits 31..0). QEMU's ppce500 has CCSR
//! at 0xF_E000_0000, the MPC8544 on the RB1100 at 0xE000_0000; both appear at [`CCSR_VIRT`].
//! Entries 2..13 are the guests' (`tlb.rs`). The boot code uses 14 or 15 briefly, as a 16 MiB
//! address-space-1 map of itself, and clears it again; once the RAM size is known
//! ([`map_high_ram`]) entry 14 maps the RAM between 256 MiB and 512 MiB one to one where the
//! board has it, so that 16 guests (or fewer, larger ones) fit; entry 15 is the board's device
//! window (`boards/e500/src/device_window.rs`: an eTSEC outside CCSR).

/// TLB1 entry of the low RAM mapping.
pub const RAM_ENTRY: u32 = 0;
/// TLB1 entry of the CCSR mapping.
pub const CCSR_ENTRY: u32 = 1;

/// Bytes of RAM the boot map covers at virtual = physical address from 0 (the image, its stacks
/// and heap, and the boot loader's device tree must lie below this).
pub const RAM_MAPPED: usize = 256 << 20;
/// The TLB1 entries of the RAM above [`RAM_MAPPED`], in address order: each maps the next
/// [`RAM_MAPPED`] bytes.
const HIGH_RAM_ENTRIES: [u32; 1] = [14];
/// The end of the RAM mapped one to one: [`RAM_MAPPED`] until [`map_high_ram`] has run.
#[allow(clippy::cast_possible_truncation)] // 256 MiB
static MAPPED_END: AtomicU32 = AtomicU32::new(RAM_MAPPED as u32);

/// Map the RAM from [`RAM_MAPPED`] up to `ram_end` (rounded down to 256 MiB, at most 512 MiB
/// in all) one to one with the entries of the boot map's attributes; returns the end of the
/// RAM now mapped. Call once, with the board's RAM size, before any guest runs (the entries
/// are protected: guests' TLB operations and flash invalidation never touch them).
pub fn map_high_ram(ram_end: u64) -> u64 {
    let mut end = RAM_MAPPED as u64;
    for entry in HIGH_RAM_ENTRIES {
        let next = end + RAM_MAPPED as u64;
        if next > ram_end {
            break;
        }
        #[allow(clippy::cast_possible_truncation)]
        let base = end as u32;
        let mas0 = MAS0_TLBSEL1 | (entry << MAS0_ESEL_SHIFT);
        // SAFETY: the entry is one the boot code left invalid and no guest entry uses (guests
        // get 2..=13); it maps RAM the board has one to one, as entry 0 maps the RAM below,
        // so no existing translation changes.
        unsafe {
            core::arch::asm!(
                "mtspr 624, {0}",
                "mtspr 625, {1}",
                "mtspr 626, {2}",
                "mtspr 627, {3}",
                "mtspr 944, {4}",
                "isync",
                "tlbwe",
                "isync",
                in(reg) mas0, in(reg) ram_mas1(), in(reg) base | RAM_MAS2,
                in(reg) base | RAM_MAS3, in(reg) 0u32,
                options(nostack, preserves_flags),
            )
        };
        end = next;
    }
    #[allow(clippy::cast_possible_truncation)]
    MAPPED_END.store(end as u32, Ordering::Relaxed);
    end
}

/// The end of the RAM mapped one to one (see [`map_high_ram`]).
pub fn mapped_end() -> u64 {
    u64::from(MAPPED_END.load(Ordering::Relaxed))
}
/// Virtual address of the CCSR window.
pub const CCSR_VIRT: usize = 0xE000_0000;
/// Size of the CCSR window (the whole CCSR block of the MPC85xx family).
pub const CCSR_SIZE: usize = 1 << 20;

use core::sync::atomic::{AtomicU32, Ordering};

const MAS0_TLBSEL1: u32 = 1 << 28;
const MAS0_ESEL_SHIFT: u32 = 16;
const MAS1_VALID: u32 = 1 << 31;
const MAS1_IPROT: u32 = 1 << 30;
const MAS1_TSIZE_SHIFT: u32 = 8;
const MAS2_I: u32 = 1 << 3;
const MAS2_G: u32 = 1 << 1;
const MAS3_SX: u32 = 1 << 4;
const MAS3_SW: u32 = 1 << 2;
const MAS3_SR: u32 = 1 << 0;

/// The TSIZE encoding of a page of `bytes` (a power of 4 from 4 KiB): size = 4^TSIZE KiB.
const fn tsize(bytes: usize) -> u32 {
    assert!(bytes.is_power_of_two() && bytes.trailing_zeros() & 1 == 0 && bytes >= 4096);
    (bytes.trailing_zeros() - 10) / 2
}

pub const fn ram_mas1() -> u32 {
    MAS1_VALID | MAS1_IPROT | (tsize(RAM_MAPPED) << MAS1_TSIZE_SHIFT)
}
/// EPN 0, WIMGE = 0 (write-back cacheable; single core, so no coherence bit is needed).
pub const RAM_MAS2: u32 = 0;
/// RPN 0, supervisor read/write/execute, no user access.
pub const RAM_MAS3: u32 = MAS3_SX | MAS3_SW | MAS3_SR;

/// The temporary entry `_start` runs from while it rewrites TLB1: 16 MiB, address space 1.
pub const fn temp_mas1() -> u32 {
    MAS1_VALID | MAS1_TS | (tsize(TEMP_PAGE) << MAS1_TSIZE_SHIFT)
}
const TEMP_PAGE: usize = 16 << 20;
const MAS1_TS: u32 = 1 << 12;

pub const fn ccsr_mas1() -> u32 {
    MAS1_VALID | MAS1_IPROT | (tsize(CCSR_SIZE) << MAS1_TSIZE_SHIFT)
}
/// Low half of MAS2 for CCSR: cache-inhibited and guarded (device registers).
pub const CCSR_MAS2_ATTRIBUTES: u32 = MAS2_I | MAS2_G;
/// Low half of MAS3 for CCSR: supervisor read/write, never executable.
pub const CCSR_MAS3_PERMISSIONS: u32 = MAS3_SW | MAS3_SR;

const _: () = assert!(
    CCSR_VIRT & (CCSR_SIZE - 1) == 0 && (1 + HIGH_RAM_ENTRIES.len()) * RAM_MAPPED <= CCSR_VIRT
);

/// The CCSR physical base the image was linked for (the board's `memory.ld`).
pub fn ccsr_phys() -> u64 {
    extern "C" {
        static __ccsr_phys_high: u8;
        static __ccsr_phys_low: u8;
    }
    // Only the symbols' values (absolute addresses set by the linker script) are used.
    let high = core::ptr::addr_of!(__ccsr_phys_high) as u32;
    let low = core::ptr::addr_of!(__ccsr_phys_low) as u32;
    (u64::from(high) << 32) | u64::from(low)
}
