//! The tick on the decrementer: DECAR and TCR\[ARE\] are set before DEC, so the decrementer
//! reloads itself even if the guest is descheduled between the writes for longer than a
//! period (a decrementer that reaches 0 without auto-reload stops there, as on the core).

use super::spr::{self, DEC, DECAR, TCR, TCR_ARE, TCR_DIE, TSR, TSR_DIS};

/// Start a periodic interrupt every `period` time-base ticks.
pub fn start(period: u32) {
    // SAFETY: the guest's own (virtual) decrementer; its vector is installed and interrupts
    // are still off.
    unsafe {
        spr::write::<DECAR>(period);
        spr::write::<TCR>(TCR_DIE | TCR_ARE);
        spr::write::<DEC>(period);
    }
}

/// One interrupt `ticks` time-base ticks from now, without auto-reload (the periodic tick stops
/// until the next [`start`]).
pub fn one_shot(ticks: u32) {
    // SAFETY: the guest's own (virtual) decrementer, its vector installed.
    unsafe {
        spr::write::<TCR>(TCR_DIE);
        spr::write::<DEC>(ticks);
    }
}

/// Acknowledge the decrementer interrupt (TSR\[DIS\] is write-one-to-clear).
pub fn acknowledge() {
    // SAFETY: clears only the decrementer's status bit.
    unsafe { spr::write::<TSR>(TSR_DIS) };
}

/// The 64-bit time base.
pub fn counter() -> u64 {
    spr::timebase()
}
