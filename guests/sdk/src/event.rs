//! Virtual interrupts and waiting for them.
//!
//! The host sets bit n of the registered virq word when queue n (with virq n) needs attention
//! and raises software interrupt IP1. The IP1 handler acknowledges IP1 (as the RouterOS guest's
//! `soft_irq_ack` does), takes the word with an atomic swap and adds the bits to the pending
//! set; the timer adds [`TIMER`]. The main loop takes the pending set with [`take`] or sleeps
//! until it is non-empty with [`wait`] (the `wait` instruction; no wakeup is lost).

use core::sync::atomic::{AtomicU32, Ordering};

use crate::arch::{self, atomic, irq};

/// Pending bit of the control queue (virq 0).
pub const CONTROL: u32 = 1 << mr_proto::control::CONTROL_VIRQ;
/// Pending bit of the console (virq 1).
pub const CONSOLE: u32 = 1 << mr_proto::console::CONSOLE_VIRQ;
/// Pending bit of virtual ethernet (virq 3).
pub const VETH: u32 = 1 << mr_proto::veth::VETH_VIRQ;
/// Pending bit of the tick (not a virq; bit 31 is never used by the host's queues).
pub const TIMER: u32 = 1 << 31;

/// The virq word registered with hypercall 14 (written by the host).
#[repr(align(16))]
struct VirqWord(AtomicU32);

static VIRQ_WORD: VirqWord = VirqWord(AtomicU32::new(0));
/// Events not yet taken by the main loop (changed only with interrupts off).
static PENDING: AtomicU32 = AtomicU32::new(0);
/// Result of `vm_setup_irqs`.
static SETUP_RESULT: AtomicU32 = AtomicU32::new(0);

/// Register the virq word with the host.
pub(crate) fn init() {
    let r = crate::hypercall::vm_setup_irqs(&VIRQ_WORD.0);
    SETUP_RESULT.store(r as u32, Ordering::Relaxed);
}

/// What `vm_setup_irqs` returned at start-up.
pub fn setup_result() -> i32 {
    SETUP_RESULT.load(Ordering::Relaxed) as i32
}

/// Register the runtime's virq word again (after something registered another one).
pub fn reregister() -> i32 {
    crate::hypercall::vm_setup_irqs(&VIRQ_WORD.0)
}

/// The virq interrupt (IP1 on MIPS, External Input on the e500): acknowledge and collect the host's virq bits. Runs in the trap handler.
pub(crate) fn on_virq() {
    irq::ack_virq();
    let bits = atomic::swap(&VIRQ_WORD.0, 0);
    post(bits & !TIMER);
}

/// Add events (from the trap handler, or from code that wants the main loop to look again).
pub fn post(bits: u32) {
    irq::without(|| PENDING.store(PENDING.load(Ordering::Relaxed) | bits, Ordering::Relaxed));
}

/// Take all pending events (0 if none).
pub fn take() -> u32 {
    irq::without(|| PENDING.swap(0, Ordering::Relaxed))
}

/// Sleep until some event is pending and take them all. Call with interrupts enabled.
pub fn wait() -> u32 {
    loop {
        irq::disable();
        let bits = PENDING.swap(0, Ordering::Relaxed);
        if bits != 0 {
            irq::enable();
            return bits;
        }
        arch::idle();
    }
}

/// Sleep until one of `mask` is pending; other events stay pending. Returns the ones in `mask`.
pub fn wait_for(mask: u32) -> u32 {
    loop {
        irq::disable();
        let bits = PENDING.load(Ordering::Relaxed) & mask;
        if bits != 0 {
            PENDING.store(PENDING.load(Ordering::Relaxed) & !bits, Ordering::Relaxed);
            irq::enable();
            return bits;
        }
        arch::idle();
    }
}
