//! PowerPC e500v2 guest layer. The guest believes it runs in supervisor state at
//! 0x8000_0000 (guest-physical 0, mapped by the host's boot TLB1 entry); under MetaROUTER it
//! runs in problem state and its privileged instructions are emulated, so every instruction
//! here is one an e500 kernel would use.
//!
//! Memory shared with the host (descriptors, buffers, the virq word) needs no cache
//! maintenance on the e500: the host reads and writes it on the same core, through the same
//! coherent cache, while the guest is trapped. Ordering is kept with `msync` (the release and
//! acquire accesses in `vdma`) and the virq word is taken with `lwarx`/`stwcx.`.

pub mod atomic;
pub mod catch;
pub mod hypercall;
pub mod irq;
pub mod spr;
mod start;
pub mod timer;
pub mod vectors;

/// Sleep until an interrupt has been handled. Call with interrupts disabled after finding no
/// work; returns with interrupts enabled.
///
/// `wrteei 1`, then `vm_yield` (hypercall 16). An interrupt taken between the two must not put
/// the guest to sleep on work it already has: the trap handler moves an SRR0 inside the idle
/// region past the hypercall ([`vectors::leave_idle_region`]).
pub fn idle() {
    extern "C" {
        fn __mr_idle();
    }
    // SAFETY: `__mr_idle` (start.rs) executes `wrteei 1` and the `vm_yield` hypercall and
    // returns; it follows the SysV ABI and clobbers only r0, r3 and CR0.
    unsafe { __mr_idle() }
}

/// Yield to the host without enabling interrupts (`vm_yield` with MSR\[EE\] as it is): the
/// MetaROUTER console driver does this while its buffer is full.
pub fn yield_now() {
    crate::hypercall::vm_yield();
}
