//! The guest's timers: decrementer, fixed-interval timer and watchdog, driven by the host time
//! base.
//!
//! The guest reads the time base natively (`mfspr 268/269` are user-level), so its time base is
//! the host's and its timers count at the host time-base rate. Writes to TBL/TBU are ignored:
//! the time base runs on, as every other guest and the hypervisor see it.
//!
//! - Decrementer: DEC counts down from the value written; on its 1 -> 0 transition TSR\[DIS\] is
//!   set and, with TCR\[ARE\], DEC reloads from DECAR (missed periods coalesce into one DIS),
//!   otherwise it stays 0. Writing 0 stops it without an event.
//! - Fixed-interval timer: TSR\[FIS\] is set each time the time-base bit TCR\[FPEXT\]||TCR\[FP\]
//!   selects (0 = the most significant of 64) goes from 0 to 1.
//! - Watchdog: each 0 -> 1 transition of the bit TCR\[WPEXT\]||TCR\[WP\] selects sets TSR\[ENW\] if
//!   clear, else TSR\[WIS\] if clear, else it is a time-out: TSR\[WRS\] = TCR\[WRC\] and, with WRC
//!   non-zero, the guest is reset ([`TimerEvent::WatchdogReset`]). TCR\[WRC\] can be set once.
//!
//! Events are evaluated lazily at every [`Timers::update`]: whether one occurred in the host
//! time elapsed since the previous update. [`Timers::next_event`] gives the scheduler the
//! host time at which the next event that can interrupt the guest happens.

use crate::spr::{tcr, tsr};

/// The decrementer, TCR and TSR of one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// Host time base at which DEC reaches 0 (meaningful while `dec_running`).
    dec_deadline: u64,
    dec_running: bool,
    tcr: u32,
    tsr: u32,
    /// Host time base of the last update.
    last: u64,
}

/// What an update found that the guest cannot survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerEvent {
    /// Nothing beyond status bits.
    None,
    /// The watchdog timed out with TCR\[WRC\] non-zero: reset the guest.
    WatchdogReset,
}

/// Number of 0 -> 1 transitions of the time-base bit with least-significant index `k` at
/// times in `[1, t]`: the bit rises at `2^k + n * 2^(k+1)`, so `floor((t + 2^k) / 2^(k+1))`.
const fn transitions_upto(t: u64, k: u32) -> u64 {
    (t >> k).div_ceil(2)
}

const fn events_between(last: u64, now: u64, k: u32) -> u64 {
    transitions_upto(now, k) - transitions_upto(last, k)
}

/// The time-base bit (least-significant index) a 6-bit period selection chooses.
const fn selected_bit(ext: u32, low: u32) -> u32 {
    63 - ((ext << 2) | low)
}

impl Timers {
    /// DEC stopped, TCR = TSR = 0, at host time `now`.
    pub const fn new(now: u64) -> Self {
        Timers {
            dec_deadline: 0,
            dec_running: false,
            tcr: 0,
            tsr: 0,
            last: now,
        }
    }

    /// Byte offsets of TCR and TSR (for an arch composing the pending state in assembly).
    pub const TCR_OFFSET: usize = core::mem::offset_of!(Timers, tcr);
    /// See [`Timers::TCR_OFFSET`].
    pub const TSR_OFFSET: usize = core::mem::offset_of!(Timers, tsr);

    /// TCR.
    pub const fn tcr(&self) -> u32 {
        self.tcr
    }

    /// TSR as last evaluated.
    pub const fn tsr(&self) -> u32 {
        self.tsr
    }

    fn fit_bit(&self) -> u32 {
        selected_bit((self.tcr & tcr::FPEXT) >> 13, (self.tcr & tcr::FP) >> 24)
    }

    fn watchdog_bit(&self) -> u32 {
        selected_bit((self.tcr & tcr::WPEXT) >> 17, (self.tcr & tcr::WP) >> 30)
    }

    /// Advance to host time `now` (DECAR is the decrementer's reload value).
    pub fn update(&mut self, now: u64, decar: u32) -> TimerEvent {
        let last = self.last;
        if now <= last {
            return TimerEvent::None;
        }
        self.last = now;
        if self.dec_running && self.dec_deadline <= now {
            self.tsr |= tsr::DIS;
            if self.tcr & tcr::ARE != 0 && decar != 0 {
                let period = u64::from(decar);
                let behind = (now - self.dec_deadline) / period + 1;
                self.dec_deadline += behind * period;
            } else {
                self.dec_running = false;
            }
        }
        if events_between(last, now, self.fit_bit()) != 0 {
            self.tsr |= tsr::FIS;
        }
        let mut event = TimerEvent::None;
        for _ in 0..events_between(last, now, self.watchdog_bit()).min(3) {
            if self.tsr & tsr::ENW == 0 {
                self.tsr |= tsr::ENW;
            } else if self.tsr & tsr::WIS == 0 {
                self.tsr |= tsr::WIS;
            } else {
                let wrc = self.tcr & tcr::WRC;
                self.tsr = (self.tsr & !tsr::WRS) | wrc;
                if wrc != 0 {
                    event = TimerEvent::WatchdogReset;
                }
            }
        }
        event
    }

    /// `mfspr DEC` at host time `now` (after [`Timers::update`]).
    pub fn dec(&self, now: u64) -> u32 {
        if self.dec_running && self.dec_deadline > now {
            (self.dec_deadline - now).min(u64::from(u32::MAX)) as u32
        } else {
            0
        }
    }

    /// `mtspr DEC` at host time `now` (after [`Timers::update`]).
    pub fn write_dec(&mut self, now: u64, value: u32) {
        self.dec_running = value != 0;
        self.dec_deadline = now + u64::from(value);
    }

    /// `mtspr TCR` (after [`Timers::update`]): TCR\[WRC\] keeps its first non-zero value.
    pub fn write_tcr(&mut self, value: u32) {
        let mut value = value & tcr::IMPLEMENTED;
        if self.tcr & tcr::WRC != 0 {
            value = (value & !tcr::WRC) | (self.tcr & tcr::WRC);
        }
        self.tcr = value;
    }

    /// `mtspr TSR`: write one to clear (after [`Timers::update`]).
    pub fn write_tsr(&mut self, value: u32) {
        self.tsr &= !value;
    }

    /// Whether a base-class timer interrupt is pending as last evaluated: decrementer (TSR\[DIS\]
    /// and TCR\[DIE\]) or fixed-interval (TSR\[FIS\] and TCR\[FIE\]); gated by MSR\[EE\].
    pub const fn base_pending(&self) -> bool {
        (self.tsr & tsr::DIS != 0 && self.tcr & tcr::DIE != 0)
            || (self.tsr & tsr::FIS != 0 && self.tcr & tcr::FIE != 0)
    }

    /// Whether the watchdog interrupt (critical class, MSR\[CE\]) is pending: TSR\[WIS\] and
    /// TCR\[WIE\].
    pub const fn watchdog_pending(&self) -> bool {
        self.tsr & tsr::WIS != 0 && self.tcr & tcr::WIE != 0
    }

    /// Host time base of the next event that can interrupt or reset the guest, if any: the
    /// decrementer with TCR\[DIE\], the fixed-interval timer with TCR\[FIE\] (each unless already
    /// pending), the watchdog while it can still raise WIS or reset.
    pub fn next_event(&self, now: u64) -> Option<u64> {
        let mut next: Option<u64> = None;
        let mut consider = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        if self.dec_running && self.tcr & tcr::DIE != 0 && self.tsr & tsr::DIS == 0 {
            consider(self.dec_deadline.max(now));
        }
        if self.tcr & tcr::FIE != 0 && self.tsr & tsr::FIS == 0 {
            if let Some(t) = next_transition(now, self.fit_bit()) {
                consider(t);
            }
        }
        let watchdog_live =
            self.tcr & tcr::WRC != 0 || (self.tcr & tcr::WIE != 0 && self.tsr & tsr::WIS == 0);
        if watchdog_live {
            if let Some(t) = next_transition(now, self.watchdog_bit()) {
                consider(t);
            }
        }
        next
    }
}

/// The first time after `now` at which the bit with least-significant index `k` goes 0 -> 1.
fn next_transition(now: u64, k: u32) -> Option<u64> {
    if k >= 63 {
        return (now < 1 << 63).then_some(1 << 63);
    }
    let period = 1u64 << (k + 1);
    let phase = 1u64 << k;
    let base = now - now % period;
    let t = base.checked_add(phase)?;
    if t > now {
        Some(t)
    } else {
        base.checked_add(period + phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decrementer_fires_once_and_stops() {
        let mut t = Timers::new(1000);
        t.write_tcr(tcr::DIE);
        t.write_dec(1000, 500);
        assert_eq!(t.dec(1200), 300);
        assert_eq!(t.next_event(1200), Some(1500));
        t.update(1499, 0);
        assert!(!t.base_pending());
        t.update(1500, 0);
        assert!(t.base_pending());
        assert_eq!(t.dec(1600), 0);
        t.write_tsr(tsr::DIS);
        assert!(!t.base_pending());
        t.update(100_000, 0);
        assert!(!t.base_pending(), "stopped at 0");
        assert_eq!(t.next_event(100_000), None);
        // Writing 0 never fires.
        t.write_dec(100_000, 0);
        t.update(200_000, 0);
        assert_eq!(t.tsr() & tsr::DIS, 0);
    }

    #[test]
    fn decrementer_auto_reload() {
        let mut t = Timers::new(0);
        t.write_tcr(tcr::DIE | tcr::ARE);
        t.write_dec(0, 100);
        t.update(350, 100);
        assert!(t.base_pending());
        assert_eq!(t.dec(350), 50, "reloaded, missed periods coalesced");
        t.write_tsr(tsr::DIS);
        t.update(399, 100);
        assert!(!t.base_pending());
        t.update(400, 100);
        assert!(t.base_pending());
    }

    #[test]
    fn fixed_interval_timer() {
        // FP = 3, FPEXT = 15: selection 63 -> bit 0: an event every 2 ticks (at odd times).
        assert_eq!(selected_bit(15, 3), 0);
        let mut t = Timers::new(0);
        // Selection 0b111011 = 59 -> bit 4: events at 16, 48, 80...
        t.write_tcr(tcr::FIE | (14 << 13) | (3 << 24));
        assert_eq!(t.fit_bit(), 4);
        assert_eq!(t.next_event(0), Some(16));
        t.update(15, 0);
        assert!(!t.base_pending());
        t.update(16, 0);
        assert!(t.base_pending());
        t.write_tsr(tsr::FIS);
        assert_eq!(t.next_event(16), Some(48));
        t.update(47, 0);
        assert!(!t.base_pending());
        t.update(79, 0);
        assert!(t.base_pending());
    }

    #[test]
    fn transitions_count() {
        for k in [0u32, 1, 4, 10] {
            let mut count = 0;
            for t in 1..5000u64 {
                if (t >> k) & 1 == 1 && ((t - 1) >> k) & 1 == 0 {
                    count += 1;
                }
                assert_eq!(transitions_upto(t, k), count, "t={t} k={k}");
                if let Some(n) = next_transition(t, k) {
                    assert!(n > t && (n >> k) & 1 == 1 && ((n - 1) >> k) & 1 == 0);
                }
            }
        }
    }

    #[test]
    fn watchdog_sequence() {
        let mut t = Timers::new(0);
        // Selection 59 -> bit 4 (WP = 3, WPEXT = 14), interrupt enabled, reset on time-out.
        t.write_tcr((3 << 30) | (14 << 17) | tcr::WIE | (2 << 28));
        t.write_tcr(0);
        assert_eq!(t.tcr() & tcr::WRC, 2 << 28, "WRC is set once");
        t.write_tcr((3 << 30) | (14 << 17) | tcr::WIE);
        assert_eq!(t.update(16, 0), TimerEvent::None);
        assert_ne!(t.tsr() & tsr::ENW, 0);
        assert_eq!(t.update(48, 0), TimerEvent::None);
        assert!(t.watchdog_pending());
        assert_eq!(t.update(80, 0), TimerEvent::WatchdogReset);
        assert_eq!(t.tsr() & tsr::WRS, 2 << 28);
    }
}
