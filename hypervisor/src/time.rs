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

/// Time since boot in units of `1/scale` seconds: whole seconds, then the remainder (no
/// overflow for long uptimes), in two 64-bit divisions (software on 32-bit CPUs, about a
/// hundred instructions each: the main loop reads the time every turn).
fn since_boot(scale: u64) -> u64 {
    let hz = crate::board::installed()
        .map_or(1, |b| b.info().timer_hz)
        .max(1);
    let elapsed = arch::counter().wrapping_sub(BOOT_COUNTER.with(|c| *c));
    let seconds = elapsed / hz;
    let rest = elapsed - seconds * hz;
    seconds
        .saturating_mul(scale)
        .saturating_add(rest * scale / hz)
}

/// Microseconds since boot.
pub fn uptime_us() -> u64 {
    since_boot(1_000_000)
}

/// Milliseconds since boot (`uptime_us() / 1000`, computed directly).
pub fn uptime_ms() -> u64 {
    since_boot(1_000)
}
