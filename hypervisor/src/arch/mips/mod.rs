//! MIPS32r2 (24Kc) architecture layer: entry, exception vectors, CP0 timer, interrupt masking.
//!
//! The hypervisor runs in kernel mode from kseg0 with the exception base (EBase) pointing at its
//! own vector page. See `crate::arch` for the surface every arch provides.

pub mod cp0;
mod start;
pub mod trap;

use core::sync::atomic::{AtomicU32, Ordering};

pub use trap::TrapFrame;

/// The architecture's name.
pub const NAME: &str = "mips";

/// Registers at entry, as the boot loader left them. On QEMU malta: `a0 = argc`,
/// `a1 = argv`, `a2 = envp`, `a3 = low RAM size`; RouterBOOT passes argc/argv only.
#[derive(Clone, Copy, Debug)]
pub struct BootRegs {
    pub a0: u32,
    pub a1: u32,
    pub a2: u32,
    pub a3: u32,
}

/// Point EBase at the hypervisor's vectors and leave bootstrap exception vectors (BEV) mode.
pub fn install_vectors() {
    extern "C" {
        static __hv_vectors: u8;
    }
    // Only the symbol's address is used.
    let base = core::ptr::addr_of!(__hv_vectors) as u32;
    assert!(base & 0xFFF == 0, "exception vectors must be 4 KiB aligned");
    cp0::write_ebase(base);
    cp0::write_cause(0); // IV = 0: interrupts use the general vector.
    cp0::write_status(cp0::read_status() & !cp0::STATUS_BEV);
}

/// Enable interrupts (Status.IE).
pub fn interrupts_enable() {
    cp0::ei();
}

/// Disable interrupts; returns whether they were enabled.
pub fn interrupts_disable() -> bool {
    cp0::di() & cp0::STATUS_IE != 0
}

/// Restore the state [`interrupts_disable`] returned.
pub fn interrupts_restore(enabled: bool) {
    if enabled {
        cp0::ei();
    }
}

/// Unmask the hardware interrupt lines in `lines` (bit n = Cause.IP n, n in 2..=7).
pub fn unmask_external(lines: u32) {
    let im = (lines & 0xFC) << 8;
    cp0::write_status(cp0::read_status() | im);
}

// The 64-bit extension of the 32-bit Count register. Updated with interrupts off; the tick
// reads it more often than Count wraps (26 s at 160 MHz), so no wrap is ever missed.
static COUNT_HIGH: AtomicU32 = AtomicU32::new(0);
static COUNT_LAST: AtomicU32 = AtomicU32::new(0);

/// The free-running CPU timer: CP0 Count, extended to 64 bits.
pub fn counter() -> u64 {
    let was = interrupts_disable();
    let low = cp0::read_count();
    let mut high = COUNT_HIGH.load(Ordering::Relaxed);
    if low < COUNT_LAST.load(Ordering::Relaxed) {
        high = high.wrapping_add(1);
        COUNT_HIGH.store(high, Ordering::Relaxed);
    }
    COUNT_LAST.store(low, Ordering::Relaxed);
    interrupts_restore(was);
    (u64::from(high) << 32) | u64::from(low)
}

static TICK_PERIOD: AtomicU32 = AtomicU32::new(0);

/// Start the periodic tick: CP0 Compare on IP7, every `period` Count cycles.
pub fn timer_start(period: u64) {
    let period = u32::try_from(period).expect("tick period must fit CP0 Count");
    TICK_PERIOD.store(period, Ordering::Relaxed);
    cp0::write_compare(cp0::read_count().wrapping_add(period));
    unmask_external(1 << 7);
}

/// Acknowledge the tick and schedule the next one, skipping ticks that were missed.
fn timer_rearm() {
    let period = TICK_PERIOD.load(Ordering::Relaxed);
    let now = cp0::read_count();
    let mut next = cp0::read_compare().wrapping_add(period);
    if next.wrapping_sub(now) as i32 <= 0 || next.wrapping_sub(now) > period {
        next = now.wrapping_add(period);
    }
    cp0::write_compare(next);
}

/// Sleep until an interrupt has been handled. Returns with interrupts enabled.
///
/// Call with interrupts disabled after finding no work: an interrupt that arrives between that
/// check and the `wait` instruction is taken inside the idle region, and the trap handler then
/// resumes after the `wait`, so it never sleeps on work it already has.
pub fn idle() {
    extern "C" {
        fn __hv_idle();
    }
    // SAFETY: `__hv_idle` (start.rs) only sets Status.IE and executes `wait`; it follows the
    // o32 ABI and clobbers only $t0.
    unsafe { __hv_idle() }
}

/// Stop for good: interrupts off, `wait` forever.
pub fn halt() -> ! {
    interrupts_disable();
    loop {
        cp0::wait();
    }
}
