//! The guest CPU as guest management sees it: a trait each CPU architecture implements
//! (`hypervisor/src/arch/mips` today, `arch/powerpc` next), and a fake one implements in the
//! tests, so that everything above it (life cycle, devices, frames) runs on the host.
//!
//! A guest CPU is created with an entry state, runs one time slice at a time and says why the
//! slice ended ([`RunExit`]), can be reset to a new entry state, takes the guest's device
//! interrupt, and tells the scheduler from its timer when it must run again. While it runs, its
//! traps reach the guest's devices and the host only through the [`GuestEnv`] it is handed.

use alloc::boxed::Box;
use core::fmt;

use guest_mem::{GuestArch, PhysRange};

pub use guest_loader::bootargs::EntryState;

/// What the CPU layer needs from guest management while a guest runs (called in trap
/// context).
pub trait GuestEnv {
    /// Serve a hypercall the CPU layer passed on. Returns the guest's result register, and
    /// whether something happened that the general return path must look at (an interrupt to
    /// deliver, a yield, a control request).
    fn hypercall(&mut self, nr: u32, args: &[u32; 4]) -> (i32, bool);
    /// Whether the guest's device interrupt was raised since the last call (clears it).
    fn take_device_interrupt(&mut self) -> bool;
    /// Whether the host wants the CPU back now (slice over, host work pending).
    fn host_wants_cpu(&self) -> bool;
}

/// Why a guest's turn ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunExit {
    /// The host wanted the CPU back (time slice over, host work pending).
    Preempted,
    /// The guest waits for an interrupt (MIPS `wait`): run it again once
    /// [`GuestCpu::runnable`] says so.
    Waiting,
    /// The guest cannot continue; the reason says why.
    Halted(GuestHalt),
}

/// Why the CPU layer stopped a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestHalt {
    /// The guest took exception `code` while its vectors still pointed at the boot ROM it does
    /// not have (MIPS Status.BEV).
    ExceptionWithBootVectors {
        /// The exception code.
        code: u32,
    },
    /// The guest's exception vector lies outside its RAM.
    VectorOutsideRam {
        /// The vector's guest-virtual address.
        vector: u32,
    },
    /// An exception the hypervisor cannot attribute to the guest (machine check, cache error).
    HostException(u8),
    /// A machine check while the guest had machine checks disabled (PowerPC MSR\[ME\] = 0):
    /// the core would checkstop.
    Checkstop,
    /// The guest's watchdog timed out with a reset requested (PowerPC TCR\[WRC\]).
    WatchdogReset,
}

impl fmt::Display for GuestHalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GuestHalt::ExceptionWithBootVectors { code } => {
                write!(
                    f,
                    "exception {code} with Status.BEV set (no boot ROM to take it)"
                )
            }
            GuestHalt::VectorOutsideRam { vector } => {
                write!(
                    f,
                    "exception vector {vector:#010x} lies outside the guest's RAM"
                )
            }
            GuestHalt::HostException(code) => {
                write!(f, "unexpected exception {code} in guest mode")
            }
            GuestHalt::Checkstop => f.write_str("a machine check with MSR[ME] = 0 (checkstop)"),
            GuestHalt::WatchdogReset => f.write_str("its watchdog timed out (reset requested)"),
        }
    }
}

/// Why a guest CPU could not be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuError {
    /// This CPU cannot run guests yet.
    Unsupported,
    /// The partition breaks the architecture's placement rules (the hypervisor's bug).
    Partition,
    /// The host CPU cannot be described to a guest (its caches).
    HostCpu,
}

impl fmt::Display for CpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CpuError::Unsupported => "guests are not supported on this CPU yet",
            CpuError::Partition => {
                "the partition cannot hold a guest (alignment, size or placement)"
            }
            CpuError::HostCpu => "the host CPU's caches cannot be described to a guest",
        })
    }
}

/// One guest CPU, as an architecture implements it.
pub trait GuestCpu {
    /// The guests this CPU runs: RAM window, ELF placement, boot arguments, partition rules.
    const ARCH: GuestArch;
    /// Whether guests run on this CPU yet (when not, [`GuestCpu::create`] refuses and guest
    /// management says so before loading anything).
    const RUNS_GUESTS: bool;

    /// A CPU for the guest whose RAM is `partition`, about to execute as `entry` says.
    fn create(partition: PhysRange, entry: &EntryState) -> Result<Box<Self>, CpuError>;

    /// Start over as `entry` says (a guest's restart), keeping the partition.
    fn reset(&mut self, entry: &EntryState) -> Result<(), CpuError>;

    /// Run the guest until its turn ends.
    fn run(&mut self, env: &mut dyn GuestEnv) -> RunExit;

    /// Whether the guest can run (not waiting, or an interrupt it waits for is pending).
    fn runnable(&mut self) -> bool;

    /// End a wait for a host reason (a frame, console input, ring space).
    fn wake(&mut self);

    /// Assert the guest's device interrupt (its virq word was set).
    fn inject_device_interrupt(&mut self);

    /// Host counter cycles the guest may be left waiting after it gave up the CPU when nothing
    /// wakes it: until its timer fires, or at most `yield_cycles` when its interrupts are off
    /// (then it only yields). `None`: until something wakes it.
    fn wait_deadline(&self, yield_cycles: u64) -> Option<u64>;
}
