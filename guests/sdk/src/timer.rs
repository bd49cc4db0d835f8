//! Time from CP0 Count, and the tick on Count/Compare (IP7); on the e500 from the time base,
//! with the tick on the decrementer.
//!
//! The frequency comes from the `HZ=` boot word (e500: the device tree's
//! `timebase-frequency`). The tick runs at [`TICK_HZ`]; it extends
//! Count to 64 bits (it runs far more often than Count wraps: 43 s at 100 MHz), acknowledges
//! the interrupt by writing Compare, skips ticks that were missed while the guest was not
//! running, and posts [`crate::event::TIMER`].

use core::sync::atomic::{AtomicU32, Ordering};

#[cfg(target_arch = "mips")]
use crate::arch::cp0;
use crate::event;

/// Tick rate.
pub const TICK_HZ: u32 = 100;

static COUNT_HZ: AtomicU32 = AtomicU32::new(crate::boot::DEFAULT_COUNT_HZ);
static PERIOD: AtomicU32 = AtomicU32::new(0);
static TICKS: AtomicU32 = AtomicU32::new(0);
#[cfg(target_arch = "mips")]
static COUNT_HIGH: AtomicU32 = AtomicU32::new(0);
#[cfg(target_arch = "mips")]
static COUNT_LAST: AtomicU32 = AtomicU32::new(0);
static START_HIGH: AtomicU32 = AtomicU32::new(0);
static START_LOW: AtomicU32 = AtomicU32::new(0);

/// Start the tick.
#[cfg(target_arch = "mips")]
pub(crate) fn init(count_hz: u32) {
    COUNT_HZ.store(count_hz, Ordering::Relaxed);
    let period = (count_hz / TICK_HZ).max(1);
    PERIOD.store(period, Ordering::Relaxed);
    let now = cp0::read_count();
    COUNT_LAST.store(now, Ordering::Relaxed);
    START_LOW.store(now, Ordering::Relaxed);
    START_HIGH.store(0, Ordering::Relaxed);
    arm(now.wrapping_add(period), period);
}

/// Write Compare = `next`, then make sure Count has not already passed it: under a hypervisor
/// the guest can be descheduled between reading Count and writing Compare, and a Compare left
/// behind Count raises no interrupt for a whole Count wrap (about 27 s at 160 MHz). If it was
/// passed, re-arm one `period` from the fresh Count (as Linux's `mips_next_event` checks for
/// -ETIME).
#[cfg(target_arch = "mips")]
fn arm(mut next: u32, period: u32) {
    loop {
        cp0::write_compare(next);
        let after = cp0::read_count();
        if (next.wrapping_sub(after) as i32) > 0 {
            return;
        }
        next = after.wrapping_add(period);
    }
}

/// IP7. Runs in the trap handler. Compare is re-armed one period after the previous one, or
/// one period from now when ticks were missed (see [`arm`]).
#[cfg(target_arch = "mips")]
pub(crate) fn on_tick() {
    let period = PERIOD.load(Ordering::Relaxed).max(1);
    let now = cp0::read_count();
    let mut next = cp0::read_compare().wrapping_add(period);
    if next.wrapping_sub(now) as i32 <= 0 || next.wrapping_sub(now) > period {
        next = now.wrapping_add(period);
    }
    arm(next, period);
    TICKS.store(
        TICKS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    counter();
    event::post(event::TIMER);
}

/// Start the tick (the decrementer, auto-reloading).
#[cfg(target_arch = "powerpc")]
pub(crate) fn init(count_hz: u32) {
    COUNT_HZ.store(count_hz, Ordering::Relaxed);
    let period = (count_hz / TICK_HZ).max(1);
    PERIOD.store(period, Ordering::Relaxed);
    let now = crate::arch::timer::counter();
    START_LOW.store(now as u32, Ordering::Relaxed);
    START_HIGH.store((now >> 32) as u32, Ordering::Relaxed);
    crate::arch::timer::start(period);
}

/// The decrementer interrupt (already acknowledged). Runs in the trap handler.
#[cfg(target_arch = "powerpc")]
pub(crate) fn on_tick() {
    TICKS.store(
        TICKS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    event::post(event::TIMER);
}

/// The time base (64 bits).
#[cfg(target_arch = "powerpc")]
pub fn counter() -> u64 {
    crate::arch::timer::counter()
}

/// Count extended to 64 bits.
#[cfg(target_arch = "mips")]
pub fn counter() -> u64 {
    cp0::without_interrupts(|| {
        let low = cp0::read_count();
        let mut high = COUNT_HIGH.load(Ordering::Relaxed);
        if low < COUNT_LAST.load(Ordering::Relaxed) {
            high = high.wrapping_add(1);
            COUNT_HIGH.store(high, Ordering::Relaxed);
        }
        COUNT_LAST.store(low, Ordering::Relaxed);
        (u64::from(high) << 32) | u64::from(low)
    })
}

/// The Count frequency in Hz.
pub fn count_hz() -> u32 {
    COUNT_HZ.load(Ordering::Relaxed)
}

/// Microseconds since the tick was started.
pub fn uptime_us() -> u64 {
    let start = (u64::from(START_HIGH.load(Ordering::Relaxed)) << 32)
        | u64::from(START_LOW.load(Ordering::Relaxed));
    (counter() - start) * 1_000_000 / u64::from(count_hz().max(1))
}

/// Milliseconds since start-up.
pub fn uptime_ms() -> u64 {
    uptime_us() / 1000
}

/// Ticks taken so far.
pub fn ticks() -> u32 {
    TICKS.load(Ordering::Relaxed)
}

/// A point in time `ms` milliseconds from now, in Count cycles.
pub fn deadline_ms(ms: u64) -> u64 {
    counter() + ms * u64::from(count_hz()) / 1000
}

/// Whether `deadline` (from [`deadline_ms`]) has passed.
pub fn expired(deadline: u64) -> bool {
    counter() >= deadline
}

/// Sleep `ms` milliseconds; other events stay pending for the caller. Call with interrupts
/// enabled.
pub fn sleep_ms(ms: u64) {
    let until = deadline_ms(ms);
    while !expired(until) {
        event::wait_for(event::TIMER);
    }
}
