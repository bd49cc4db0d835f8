//! Entering and leaving guests (the world switch).
//!
//! The host (the kernel's main loop, in kernel mode) runs a guest with [`run`]: a `syscall`
//! whose trap saves the host's registers like any trap, swaps in the guest's registers and
//! returns with `eret` into the guest. The guest then runs until a trap the kernel decides to
//! end its turn on ([`exit`]): the guest's registers go back to its save area, the host's come
//! back, and `run` returns the exit code. Everything in between (hypercalls, TLB refills, CP0
//! emulation, interrupts that need no host work) is handled in the trap handler and returns
//! straight to the guest.

use core::arch::asm;

use super::trap::TrapFrame;

/// `$v0` of the `syscall` that enters a guest.
pub(super) const ENTER_GUEST: u32 = 0x4745_5354;

struct Switch {
    /// The host's registers while a guest runs (resumes after its `syscall`).
    host: TrapFrame,
    /// The running guest's save area.
    guest: *mut TrapFrame,
}

// SAFETY: the pointer is only dereferenced in trap context on the single CPU, while the host
// that owns the save area is suspended in `run`.
unsafe impl Send for Switch {}

static SWITCH: spin::Mutex<Option<Switch>> = spin::Mutex::new(None);

/// Run the guest whose registers are in `regs` until the kernel ends its turn; returns the exit
/// code given to [`exit`]. `context` is handed to the trap handler unchanged (see [`enter`]).
///
/// # Safety
/// `regs` must be valid for the whole call and hold a guest-mode Status (KSU = supervisor or
/// user, EXL set, interrupts enabled), since the trap path restores it with `eret`; `context`
/// must be what the trap handler's `enter` expects.
pub unsafe fn run(regs: *mut TrapFrame, context: usize) -> u32 {
    let code: u32;
    // SAFETY: the `syscall` traps into `__hv_trap`, which (ENTER_GUEST in $v0) keeps the host's
    // registers and resumes the guest from `regs`; when the guest's turn ends, every host
    // register is restored except $v0, which carries the exit code. The caller guarantees
    // `regs` and `context`.
    unsafe {
        asm!("syscall", inout("$2") ENTER_GUEST => code, in("$4") regs, in("$5") context);
    }
    code
}

/// Trap handler side of [`run`]: `frame` is the host's `syscall` frame; afterwards it holds the
/// guest's registers. Returns the `context` given to `run`.
pub(super) fn enter(frame: &mut TrapFrame) -> usize {
    let guest = frame.gpr[4] as *mut TrapFrame;
    let context = frame.gpr[5] as usize;
    let mut host = *frame;
    host.epc += 4;
    // SAFETY: `guest` is the `regs` of the `run` call that trapped here (see `run`).
    *frame = unsafe { *guest };
    *SWITCH.lock() = Some(Switch { host, guest });
    context
}

/// End the running guest's turn: save its registers from `frame`, and make `frame` the host's,
/// so the trap returns from [`run`] with `code`.
pub(super) fn exit(frame: &mut TrapFrame, code: u32) {
    let switch = SWITCH.lock().take().expect("exit without a running guest");
    // SAFETY: see `Switch`: the save area outlives the `run` call that is still suspended.
    unsafe { *switch.guest = *frame };
    *frame = switch.host;
    frame.gpr[2] = code;
}
