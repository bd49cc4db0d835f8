//! The main stack's high-water mark and overflow check.
//!
//! Neither CPU gives the hypervisor a guard page below its stack (MIPS kseg0 is unmapped; the
//! e500 maps RAM with one large TLB1 entry), so the stack is painted with a pattern at boot:
//! [`high_water`] reports how deep it has ever been used, and [`check`] panics with a clear
//! message as soon as the lowest words have been overwritten, before the damage spreads
//! unnoticed into `.bss` below it.

const PATTERN: u32 = 0x5354_4B21; // "STK!"
/// Words at the bottom that must never change.
const CANARY_WORDS: usize = 16;
/// Bytes below the current stack pointer left unpainted at boot (the painter's own frame).
const MARGIN: usize = 1024;

fn bounds() -> (usize, usize) {
    extern "C" {
        static __stack_bottom: u8;
        static __stack_top: u8;
    }
    (core::ptr::addr_of!(__stack_bottom) as usize, core::ptr::addr_of!(__stack_top) as usize)
}

/// Paint the unused part of the main stack. Call once, early, on the main stack.
pub(crate) fn paint() {
    let (bottom, _) = bounds();
    let marker = 0u32;
    let sp = core::ptr::addr_of!(marker) as usize;
    let mut p = bottom;
    while p + 4 <= sp.saturating_sub(MARGIN) {
        // SAFETY: `bottom .. sp - MARGIN` is the unused part of the main stack (the linker's
        // `.stack` section, below the current frame), aligned to 4.
        unsafe { (p as *mut u32).write_volatile(PATTERN) };
        p += 4;
    }
}

fn word(addr: usize) -> u32 {
    // SAFETY: `addr` is an aligned word inside the linker's `.stack` section.
    unsafe { (addr as *const u32).read_volatile() }
}

/// The most main-stack bytes ever in use since boot.
pub fn high_water() -> usize {
    let (bottom, top) = bounds();
    let mut p = bottom;
    while p < top && word(p) == PATTERN {
        p += 4;
    }
    top - p
}

/// Panic if the stack has ever reached its last words.
pub fn check() {
    let (bottom, top) = bounds();
    if (0..CANARY_WORDS).any(|i| word(bottom + 4 * i) != PATTERN) {
        panic!("stack overflow: the {} KiB main stack was used up", (top - bottom) / 1024);
    }
}
