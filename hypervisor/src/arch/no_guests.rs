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

/// The RAM guests may be given: all of it (mapped one to one at boot; no guest runs here yet).
pub fn guest_ram_map(ram: &[PhysRange]) -> Vec<PhysRange> {
    ram.to_vec()
}

/// # Safety
/// Never called: no guest exists on this architecture.
pub unsafe fn guest_ram(_base: u64, _size: usize) -> &'static mut [u8] {
    &mut []
}

/// Physical memory is mapped one to one (virtual = physical) in the hypervisor's first TLB1
/// entries.
///
/// # Safety
/// `base .. base + size` must be mapped RAM that nothing writes while the view is used.
pub unsafe fn phys_bytes(base: u64, size: usize) -> &'static [u8] {
    // SAFETY: the caller's contract; the boot mapping covers low RAM one to one.
    unsafe { core::slice::from_raw_parts(base as usize as *const u8, size) }
}

pub fn virt_to_phys(va: usize) -> u64 {
    va as u64
}

/// No guest timers to program.
pub fn timer_set_deadline(_deadline: Option<u64>) {}
