//! MIPS32r2 (24Kc) guest layer. The guest believes it runs in kernel mode at 0xC000_0000; under
//! MetaROUTER it runs in Supervisor mode and its privileged instructions are emulated, so every
//! instruction here is one a normal MIPS kernel would use.

pub mod atomic;
pub mod catch;
pub mod cp0;
pub mod hypercall;
#[cfg(feature = "qemu-malta")]
pub mod qemu;
mod start;
pub mod vectors;

/// Sleep until an interrupt has been handled. Call with interrupts disabled after finding no
/// work; returns with interrupts enabled.
///
/// An interrupt that arrives between `ei` and `wait` must not put the guest to sleep on work it
/// already has: the trap handler moves an EPC inside the idle region past the `wait`
/// ([`vectors::leave_idle_region`]).
pub fn idle() {
    extern "C" {
        fn __mr_idle();
    }
    // SAFETY: `__mr_idle` (start.rs) executes `ei`, `ehb`, `wait` and returns; it follows the o32
    // ABI and clobbers no register.
    unsafe { __mr_idle() }
}

/// Yield to the host without enabling interrupts (`wait` with Status.IE as it is): the
/// MetaROUTER console driver does this while its buffer is full.
pub fn yield_now() {
    cp0::wait();
}
