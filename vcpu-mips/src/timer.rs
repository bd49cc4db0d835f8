//! The guest's Count/Compare timer.
//!
//! Virtual Count = host Count + offset, so it runs at the host Count rate and keeps running while
//! the guest is descheduled (guest time stays wall-clock time; Linux uses Count as its clock
//! source). Cause.DC = 1 freezes it. Cause.TI (and so IP7) is raised when Count passes Compare,
//! evaluated lazily: every [`VirtualTimer::update`] checks whether Compare lies in the interval
//! of counts elapsed since the previous update, modulo 2^32. The host must therefore update each
//! guest at least once per 2^32 host Count ticks; [`VirtualTimer::cycles_until_fire`] gives the
//! scheduler a deadline that guarantees it.

/// Count/Compare state of one guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtualTimer {
    offset: u32,
    compare: u32,
    /// Count while stopped (meaningful only when `stopped`).
    stopped_count: u32,
    last: u32,
    pending: bool,
    /// Cause.DC: Count stopped.
    stopped: bool,
}

impl VirtualTimer {
    /// Byte offset of the TI flag (a `bool`: 0 or 1) in the timer, for an arch reading it in
    /// assembly (`crate::plain`).
    pub(crate) const PENDING_OFFSET: usize = core::mem::offset_of!(VirtualTimer, pending);
    /// Byte offset of the DC flag (a `bool`).
    pub(crate) const STOPPED_OFFSET: usize = core::mem::offset_of!(VirtualTimer, stopped);

    /// A timer whose Count reads `count` at host time `now`, Compare 0, TI clear.
    pub const fn new(now: u32, count: u32) -> Self {
        VirtualTimer {
            offset: count.wrapping_sub(now),
            compare: 0,
            stopped_count: 0,
            last: count,
            pending: false,
            stopped: false,
        }
    }

    /// Virtual Count at host time `now`.
    pub const fn count(&self, now: u32) -> u32 {
        if self.stopped {
            self.stopped_count
        } else {
            now.wrapping_add(self.offset)
        }
    }

    /// Compare register.
    pub const fn compare(&self) -> u32 {
        self.compare
    }

    /// Cause.TI.
    pub const fn pending(&self) -> bool {
        self.pending
    }

    /// Whether Count is stopped (Cause.DC).
    pub const fn frozen(&self) -> bool {
        self.stopped
    }

    /// Advance to host time `now`, raising TI if Count passed Compare since the last update.
    pub fn update(&mut self, now: u32) {
        let v = self.count(now);
        let elapsed = v.wrapping_sub(self.last);
        // Compare lies in (last, v] when 1 <= compare - last <= elapsed.
        let to_compare = self.compare.wrapping_sub(self.last);
        if to_compare != 0 && to_compare <= elapsed {
            self.pending = true;
        }
        self.last = v;
    }

    /// `mtc0 Count`.
    pub fn write_count(&mut self, now: u32, value: u32) {
        self.update(now);
        if self.stopped {
            self.stopped_count = value;
        } else {
            self.offset = value.wrapping_sub(now);
        }
        self.last = value;
    }

    /// `mtc0 Compare`: also clears TI.
    pub fn write_compare(&mut self, now: u32, value: u32) {
        self.update(now);
        self.compare = value;
        self.pending = false;
    }

    /// Cause.DC: stop or restart Count.
    pub fn set_frozen(&mut self, now: u32, frozen: bool) {
        self.update(now);
        match (self.stopped, frozen) {
            (false, true) => {
                self.stopped_count = self.count(now);
                self.stopped = true;
            }
            (true, false) => {
                self.offset = self.stopped_count.wrapping_sub(now);
                self.stopped = false;
            }
            _ => {}
        }
    }

    /// Host Count ticks from `now` until TI would rise (at least 1); `None` when TI is already
    /// raised or Count is stopped. A Compare equal to the current Count fires after a full wrap,
    /// reported as `u32::MAX` ticks (the scheduler re-evaluates long before).
    pub fn cycles_until_fire(&self, now: u32) -> Option<u32> {
        if self.pending || self.stopped {
            return None;
        }
        match self.compare.wrapping_sub(self.count(now)) {
            0 => Some(u32::MAX),
            n => Some(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_when_passed() {
        let mut t = VirtualTimer::new(1000, 0);
        t.write_compare(1000, 500);
        t.update(1400);
        assert!(!t.pending());
        assert_eq!(t.cycles_until_fire(1400), Some(100));
        t.update(1500);
        assert!(t.pending());
        assert_eq!(t.cycles_until_fire(1500), None);
        // Writing Compare acknowledges.
        t.write_compare(1600, 700);
        assert!(!t.pending());
        assert_eq!(t.count(1600), 600);
    }

    #[test]
    fn wraps() {
        let mut t = VirtualTimer::new(0, 0xFFFF_FF00);
        t.write_compare(0, 0x10);
        t.update(0xF0);
        assert!(!t.pending());
        t.update(0x111);
        assert!(t.pending(), "Count wrapped past Compare");
    }

    #[test]
    fn compare_equal_to_count_waits_a_wrap() {
        let mut t = VirtualTimer::new(50, 50);
        t.write_compare(50, 50);
        t.update(60);
        assert!(!t.pending());
        assert_eq!(t.cycles_until_fire(50), Some(u32::MAX));
    }

    #[test]
    fn compare_in_the_past_waits_a_wrap() {
        let mut t = VirtualTimer::new(0, 1000);
        t.write_compare(0, 900);
        t.update(10_000);
        assert!(!t.pending());
    }

    #[test]
    fn count_write_and_freeze() {
        let mut t = VirtualTimer::new(0, 0);
        t.write_count(100, 5000);
        assert_eq!(t.count(100), 5000);
        assert_eq!(t.count(150), 5050);
        t.set_frozen(200, true);
        assert_eq!(t.count(10_000), 5100);
        t.write_compare(10_000, 5200);
        assert_eq!(t.cycles_until_fire(10_000), None);
        t.set_frozen(20_000, false);
        assert_eq!(t.count(20_050), 5150);
        t.update(20_100);
        assert!(t.pending());
    }
}
