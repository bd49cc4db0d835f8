//! The stacks' high-water marks and overflow checks.
//!
//! Neither CPU gives the hypervisor a guard page below its stacks (MIPS kseg0 is unmapped; the
//! e500 maps RAM with one large TLB1 entry), so both stacks are painted with a pattern at boot:
//! the main stack (boot, main loop, the shell) and, right above it, the trap stack (traps taken
//! from a guest). [`high_water`] and [`trap_high_water`] report how deep each has ever been
//! used, and [`check`] panics with a clear message as soon as the lowest words of either have
//! been overwritten, before the damage spreads unnoticed into what lies below (`.bss` under
//! the main stack, the main stack under the trap stack). The marks are what the stacks' sizes
//! in each board's `memory.ld` are chosen from.

const PATTERN: u32 = 0x5354_4B21; // "STK!"
/// Words at the bottom that must never change.
const CANARY_WORDS: usize = 16;
/// Bytes below the current stack pointer left unpainted at boot (the painter's own frame).
const MARGIN: usize = 1024;

extern "C" {
    static __stack_bottom: u8;
    static __stack_top: u8;
    static __hv_trap_stack_top: u8;
}

/// The main stack: `bottom .. top`.
fn main_bounds() -> (usize, usize) {
    (
        core::ptr::addr_of!(__stack_bottom) as usize,
        core::ptr::addr_of!(__stack_top) as usize,
    )
}

/// The trap stack, right above the main stack.
fn trap_bounds() -> (usize, usize) {
    (
        core::ptr::addr_of!(__stack_top) as usize,
        core::ptr::addr_of!(__hv_trap_stack_top) as usize,
    )
}

fn paint_range(from: usize, to: usize) {
    let mut p = from;
    while p + 4 <= to {
        // SAFETY: `from .. to` is unused stack memory (see the callers), aligned to 4.
        unsafe { (p as *mut u32).write_volatile(PATTERN) };
        p += 4;
    }
}

/// Paint the unused part of the main stack and the whole trap stack. Call once, early, on the
/// main stack, before any guest runs.
pub(crate) fn paint() {
    let (bottom, _) = main_bounds();
    let marker = 0u32;
    let sp = core::ptr::addr_of!(marker) as usize;
    // `bottom .. sp - MARGIN`: the main stack below the current frame (the linker's `.stack`).
    paint_range(bottom, sp.saturating_sub(MARGIN));
    // The trap stack is used only for traps taken from a guest, and none has run yet.
    let (trap_bottom, trap_top) = trap_bounds();
    paint_range(trap_bottom, trap_top);
}

fn word(addr: usize) -> u32 {
    // SAFETY: `addr` is an aligned word inside the linker's `.stack` section.
    unsafe { (addr as *const u32).read_volatile() }
}

fn used((bottom, top): (usize, usize)) -> usize {
    let mut p = bottom;
    while p < top && word(p) == PATTERN {
        p += 4;
    }
    top - p
}

/// The most main-stack bytes ever in use since boot.
pub fn high_water() -> usize {
    used(main_bounds())
}

/// The most trap-stack bytes ever in use since boot.
pub fn trap_high_water() -> usize {
    used(trap_bounds())
}

/// Panic if either stack has ever reached its last words.
pub fn check() {
    for (what, (bottom, top)) in [("main", main_bounds()), ("trap", trap_bounds())] {
        if (0..CANARY_WORDS).any(|i| word(bottom + 4 * i) != PATTERN) {
            panic!(
                "stack overflow: the {} KiB {what} stack was used up",
                (top - bottom) / 1024
            );
        }
    }
}
