//! The RAM guests get: the part of the board's RAM the hypervisor maps one to one (its boot
//! TLB1 entry, [`super::mmu::RAM_MAPPED`] bytes from 0, and up to two more such entries above
//! it, see [`super::mmu::map_high_ram`]), handed out in partitions, and views of it by physical
//! address.

use alloc::vec::Vec;
use guest_mem::PhysRange;

/// The RAM the hypervisor can hand out in partitions (to guests, and to the heap when it
/// grows): what it maps one to one, after mapping the RAM above the boot map's 256 MiB where
/// `ram` (the board's) is contiguous from 0 that far.
pub fn guest_ram_map(ram: &[PhysRange]) -> Vec<PhysRange> {
    let contiguous_end = ram
        .iter()
        .find(|r| r.base == 0)
        .map_or(0, |r| r.base + r.size);
    let mapped = super::mmu::map_high_ram(contiguous_end);
    ram.iter()
        .filter(|r| r.base < mapped)
        .map(|r| PhysRange {
            base: r.base,
            size: r.size.min(mapped - r.base),
        })
        .collect()
}

/// A partition as bytes, through the one-to-one map of low RAM.
///
/// # Safety
/// `base .. base + size` must be RAM from [`guest_ram_map`] owned by the caller alone, and the
/// caller must not create a second live view of it.
pub unsafe fn guest_ram(base: u64, size: usize) -> &'static mut [u8] {
    let va = low_ram_va(base, size);
    // SAFETY: the RAM `low_ram_va` accepts is mapped at virtual = physical for the life of the
    // program; exclusivity is the caller's contract.
    unsafe { core::slice::from_raw_parts_mut(va as *mut u8, size) }
}

/// The virtual address of physical `base .. base + size` in the one-to-one map of low RAM.
///
/// # Panics
/// If the range is not in the RAM mapped one to one (an address past 4 GiB included).
fn low_ram_va(base: u64, size: usize) -> usize {
    match usize::try_from(base) {
        Ok(va) if base.saturating_add(size as u64) <= super::mmu::mapped_end() => va,
        _ => panic!("physical memory {base:#x}+{size:#x} beyond the RAM the hypervisor maps"),
    }
}

/// Physical memory is mapped one to one (virtual = physical) in the hypervisor's first TLB1
/// entries.
///
/// # Safety
/// `base .. base + size` must be mapped RAM that nothing writes while the view is used.
pub unsafe fn phys_bytes(base: u64, size: usize) -> &'static [u8] {
    let va = low_ram_va(base, size);
    // SAFETY: the caller's contract; the boot mapping covers low RAM one to one.
    unsafe { core::slice::from_raw_parts(va as *const u8, size) }
}

pub fn virt_to_phys(va: usize) -> u64 {
    va as u64
}
