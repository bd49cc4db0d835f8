//! For an architecture whose guest support is not written yet (PowerPC e500): the guest surface
//! exists so the kernel builds, and creating a guest CPU is refused with a clear reason, so
//! `/metarouter add ... disabled=no` fails cleanly instead of pretending.

use alloc::boxed::Box;
use alloc::vec::Vec;
use guest_mem::{GuestArch, PhysRange};
use vmm::{CpuError, EntryState, GuestEnv, RunExit};

/// Never constructed on this architecture.
pub enum GuestCpu {}

impl vmm::GuestCpu for GuestCpu {
    const ARCH: GuestArch = GuestArch::E500;
    const RUNS_GUESTS: bool = false;

    fn create(_partition: PhysRange, _entry: &EntryState) -> Result<Box<Self>, CpuError> {
        Err(CpuError::Unsupported)
    }
    fn reset(&mut self, _entry: &EntryState) -> Result<(), CpuError> {
        match *self {}
    }
    fn run(&mut self, _env: &mut dyn GuestEnv) -> RunExit {
        match *self {}
    }
    fn runnable(&mut self) -> bool {
        match *self {}
    }
    fn wake(&mut self) {
        match *self {}
    }
    fn inject_device_interrupt(&mut self) {
        match *self {}
    }
    fn wait_deadline(&self, _yield_cycles: u64) -> Option<u64> {
        match *self {}
    }
}

/// The RAM the hypervisor can hand out in partitions (to guests, once they run here, and to
/// the heap when it grows): what the boot map covers one to one, the first
/// [`RAM_MAPPED`](super::mmu::RAM_MAPPED) bytes.
pub fn guest_ram_map(ram: &[PhysRange]) -> Vec<PhysRange> {
    let mapped = super::mmu::RAM_MAPPED as u64;
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
    // SAFETY: RAM below `RAM_MAPPED` is mapped at virtual = physical for the life of the
    // program; exclusivity is the caller's contract.
    unsafe { core::slice::from_raw_parts_mut(va as *mut u8, size) }
}

/// The virtual address of physical `base .. base + size` in the one-to-one map of low RAM.
///
/// # Panics
/// If the range is not below `RAM_MAPPED` (an address past 4 GiB included).
fn low_ram_va(base: u64, size: usize) -> usize {
    match usize::try_from(base) {
        Ok(va) if base.saturating_add(size as u64) <= super::mmu::RAM_MAPPED as u64 => va,
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

/// No guest timers to program.
pub fn timer_set_deadline(_deadline: Option<u64>) {}
