//! Interrupt enable and disable (MSR\[EE\], with `wrteei`), as the rest of the runtime uses them.

use core::arch::asm;

use super::spr;

/// Disable interrupts; returns whether they were enabled.
#[inline(always)]
pub fn disable() -> bool {
    let was = spr::read_msr();
    // SAFETY: `wrteei 0` only clears MSR[EE].
    unsafe { asm!("wrteei 0", options(nostack)) };
    was & spr::MSR_EE != 0
}

/// Enable interrupts.
#[inline(always)]
pub fn enable() {
    // SAFETY: `wrteei 1` only sets MSR[EE]; the vectors are installed before anything enables
    // interrupts.
    unsafe { asm!("wrteei 1", options(nostack)) };
}

/// Run `f` with interrupts disabled, restoring the previous state afterwards.
#[inline]
pub fn without<R>(f: impl FnOnce() -> R) -> R {
    let was = disable();
    let r = f();
    if was {
        enable();
    }
    r
}

/// Acknowledge the virq interrupt: nothing to do on the e500, where External Input follows the
/// virq word (taking the word lowers it).
#[inline(always)]
pub fn ack_virq() {}
