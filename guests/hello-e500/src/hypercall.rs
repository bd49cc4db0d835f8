//! The MetaROUTER PowerPC hypercall: `mtspr 1023, r0` (0x7C1FFBA6) with the number in r0 and
//! arguments in r3..r6; the result comes back in r3, CR0[SO] cleared when the host served it.

use core::arch::asm;

/// `vm_create_queue(id, irq, tx_ring, rx_ring)`.
pub const CREATE_QUEUE: u32 = 4;
/// `vm_setup_irqs(&word, 32)`.
pub const SETUP_IRQS: u32 = 14;
/// `vm_yield()`.
pub const YIELD: u32 = 16;

/// Call hypercall `nr`.
pub fn call(nr: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> i32 {
    let result: u32;
    // SAFETY: the arguments name only this guest's own memory, handed to the host for good;
    // the host changes r3 and CR0 only.
    unsafe {
        asm!(
            "mtspr 1023, 0",
            in("r0") nr,
            inout("r3") a0 => result,
            in("r4") a1,
            in("r5") a2,
            in("r6") a3,
            options(nostack),
        )
    };
    result as i32
}

/// Give up the CPU (with interrupts on: until an interrupt; off: for a moment).
pub fn vm_yield() {
    call(YIELD, 0, 0, 0, 0);
}
