//! For an architecture whose guest support is not written yet (PowerPC e500): the guest surface
//! exists so the kernel builds, and creating a guest CPU is refused with a clear reason, so
//! `/metarouter add ... disabled=no` fails cleanly instead of pretending.

use alloc::boxed::Box;
use alloc::vec::Vec;
use guest_loader::bootargs::EntryState;
use guest_mem::{GuestArch, PhysRange};

use crate::vm::GuestEnv;

/// Guests do not run on this architecture yet.
pub const GUESTS: bool = false;

/// The guests this architecture will run.
pub const GUEST_ARCH: GuestArch = GuestArch::E500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestHalt {
    HostException(u8),
}

impl core::fmt::Display for GuestHalt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GuestHalt::HostException(code) => write!(f, "unexpected exception {code}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunExit {
    Preempted,
    Waiting,
    Halted(GuestHalt),
}

/// Never constructed on this architecture.
pub enum GuestCpu {}

impl GuestCpu {
    pub fn new(_part: PhysRange, _entry: &EntryState) -> Result<Box<Self>, &'static str> {
        Err("guests are not supported on this CPU yet")
    }
    pub fn run(&mut self, _env: &mut dyn GuestEnv) -> RunExit {
        match *self {}
    }
    pub fn runnable(&mut self) -> bool {
        match *self {}
    }
    pub fn wake(&mut self) {
        match *self {}
    }
    pub fn raise_device_interrupt(&mut self) {
        match *self {}
    }
    pub fn wait_deadline(&self, _yield_cycles: u64) -> Option<u64> {
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
