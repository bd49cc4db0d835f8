//! Time since boot, from the arch layer's free-running counter.

use crate::arch;
use crate::sync::IrqMutex;

static BOOT_COUNTER: IrqMutex<u64> = IrqMutex::new(0);
static TICKS: IrqMutex<u64> = IrqMutex::new(0);

/// Record the moment of boot (the counter value uptime is measured from).
pub(crate) fn mark_boot() {
    let now = arch::counter();
    BOOT_COUNTER.with(|c| *c = now);
}

pub(crate) fn tick() {
    TICKS.with(|t| *t += 1);
}

/// Timer ticks handled since boot.
pub fn ticks() -> u64 {
    TICKS.with(|t| *t)
}

/// Microseconds since boot.
pub fn uptime_us() -> u64 {
    let hz = crate::board::installed()
        .map_or(1, |b| b.info().timer_hz)
        .max(1);
    let elapsed = arch::counter().wrapping_sub(BOOT_COUNTER.with(|c| *c));
    // Split to avoid overflow for long uptimes: whole seconds, then the remainder.
    (elapsed / hz) * 1_000_000 + (elapsed % hz) * 1_000_000 / hz
}

/// Milliseconds since boot.
pub fn uptime_ms() -> u64 {
    uptime_us() / 1000
}
