//! Start-up, in the order the guest's memory allows:
//!
//! 1. copy the argv words (`Boot::capture`; on the e500 the device tree's bootargs, memory
//!    size and timebase, `Boot::from_device_tree`) before anything writes guest memory;
//! 2. install the exception vectors at `0xC000_0000 + (EBase & 0x3FFF_F000)`, Cause.IV = 1
//!    (e500: IVPR and the IVORs at the image's vector stubs);
//! 3. Status: kernel mode as the guest sees it, BEV/EXL/ERL clear, IM7 (timer) and IM1 (virqs)
//!    unmasked, interrupts still off (e500: MSR\[ME\] set, MSR\[EE\] still clear);
//! 4. `vm_running()`, then the virq word (hypercall 14), the control queue (0), the console
//!    queue (1) and the heap (feature `alloc`);
//! 5. the tick (Count/Compare, 100 Hz; e500: the decrementer), interrupts on, and the guest's
//!    entry.

use core::cell::UnsafeCell;

#[cfg(target_arch = "mips")]
use crate::arch::cp0;
use crate::arch::{irq, vectors};
use crate::boot::Boot;
use crate::{console, control, event, timer};

struct BootCell(UnsafeCell<Option<Boot>>);

// SAFETY: written once in `start` before interrupts are enabled and before any reference is
// handed out; read-only afterwards.
unsafe impl Sync for BootCell {}

static BOOT: BootCell = BootCell(UnsafeCell::new(None));

/// Called by the MIPS entry code with the host's `$a0`/`$a1`.
#[cfg(target_arch = "mips")]
pub fn start(argc: u32, argv: u32) -> ! {
    // SAFETY: the host put argv in guest RAM; only window addresses are followed.
    let boot = unsafe { Boot::capture(argc, argv) };
    vectors::install();
    let status = cp0::read_status()
        & !(cp0::STATUS_BEV
            | cp0::STATUS_KSU_MASK
            | cp0::STATUS_ERL
            | cp0::STATUS_EXL
            | cp0::STATUS_IE)
        & !(0xFF << cp0::STATUS_IM_SHIFT);
    cp0::write_status(
        status
            | (1 << (cp0::STATUS_IM_SHIFT + cp0::IRQ_TIMER))
            | (1 << (cp0::STATUS_IM_SHIFT + cp0::IRQ_VIRQ)),
    );
    run(boot)
}

/// Called by the e500 entry code with the host's `r3` (the device tree).
#[cfg(target_arch = "powerpc")]
pub fn start_device_tree(device_tree: u32) -> ! {
    use crate::arch::spr;
    // SAFETY: the host put the tree in guest RAM; only window addresses are followed.
    let boot = unsafe { Boot::from_device_tree(device_tree) };
    vectors::install();
    // SAFETY: machine checks on (the probes' foreign accesses end in one, which must reach the
    // guest's handler, not stop it); interrupts stay off.
    unsafe { spr::write_msr((spr::read_msr() | spr::MSR_ME) & !spr::MSR_EE) };
    run(boot)
}

/// The arch-independent rest of start-up.
fn run(mut boot: Boot) -> ! {
    boot.virtualized = crate::hypercall::vm_running() == 0;
    event::init();
    control::init();
    console::init();
    // SAFETY: no reference to BOOT exists yet and interrupts are off.
    let boot: &'static Boot = unsafe {
        *BOOT.0.get() = Some(boot);
        (*BOOT.0.get()).as_ref().unwrap_unchecked()
    };
    #[cfg(feature = "alloc")]
    crate::heap::init(boot);
    timer::init(boot.count_hz);
    irq::enable();
    extern "Rust" {
        fn __mr_guest_main(boot: &'static Boot) -> !;
    }
    // SAFETY: defined exactly once by the guest binary through `mr_guest::entry!`.
    unsafe { __mr_guest_main(boot) }
}

/// The boot information (after start-up).
pub fn boot() -> Option<&'static Boot> {
    // SAFETY: read-only after `start` stored it.
    unsafe { (*BOOT.0.get()).as_ref() }
}
