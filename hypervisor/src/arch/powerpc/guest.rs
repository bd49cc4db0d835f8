//! Entering and leaving guests (the world switch).
//!
//! The host (the kernel's main loop, in supervisor state) runs a guest with [`run`]: an `sc`
//! whose trap saves the host's registers like any trap, swaps in the guest's registers and
//! returns with `rfi` into the guest, in problem state and address space 1 (the MSR in the
//! guest's frame). The guest then runs until a trap the kernel decides to end its turn on
//! ([`exit`]): the guest's registers go back to its save area, the host's come back, and `run`
//! returns the exit code. Everything in between (hypercalls, TLB misses, privileged
//! instructions, interrupts that need no host work) is handled in the trap handler and returns
//! straight to the guest.

use core::arch::asm;

use super::trap::TrapFrame;

/// r0 of the `sc` that enters a guest.
pub(super) const ENTER_GUEST: u32 = 0x4745_5354;

struct Switch {
    /// The host's registers while a guest runs (resumes after its `sc`).
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
/// `regs` must be valid for the whole call and hold a guest MSR (problem state, address space
/// 1), since the trap path restores it with `rfi`; `context` must be what the trap handler's
/// `enter` expects.
pub unsafe fn run(regs: *mut TrapFrame, context: usize) -> u32 {
    let code: u32;
    // SAFETY: the `sc` traps into `__hv_trap`, which (ENTER_GUEST in r0) keeps the host's
    // registers and resumes the guest from `regs`; when the guest's turn ends, every host
    // register (CR, LR, CTR and XER included) is restored except r3, which carries the exit
    // code. The caller guarantees `regs` and `context`.
    unsafe {
        asm!(
            "sc",
            inout("r0") ENTER_GUEST => _,
            inout("r3") regs as u32 => code,
            in("r4") context,
        );
    }
    code
}

/// Trap handler side of [`run`]: `frame` is the host's `sc` frame (SRR0 already past the
/// `sc`); afterwards it holds the guest's registers. Returns the `context` given to `run`.
pub(super) fn enter(frame: &mut TrapFrame) -> usize {
    let guest = frame.gpr[3] as *mut TrapFrame;
    let context = frame.gpr[4] as usize;
    let host = *frame;
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
    frame.gpr[3] = code;
}
