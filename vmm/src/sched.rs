//! Which guest runs next.
//!
//! Round-robin over runnable guests, each for at most one time slice; the hypervisor's timer
//! preempts a guest at the end of its slice, so a guest spinning with its interrupts off cannot
//! starve the others. A guest that executes `wait` (or yields) is *waiting*: it is skipped
//! until it is woken (an interrupt became deliverable) or its wake-up time (its virtual timer)
//! arrives, so idle guests cost nothing.

use crate::GuestId;

/// Run state of one guest slot, as the scheduler sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Not running at all (no guest, or stopped).
    Stopped,
    /// Wants the CPU.
    Runnable,
    /// Sleeping until woken, or until the given time (counter units) if any.
    Waiting { until: Option<u64> },
}

/// The scheduler for up to `N` guests.
pub struct Scheduler<const N: usize> {
    state: [RunState; N],
    /// The slot picked last; the search for the next one starts after it.
    last: usize,
    /// Slice length in counter units.
    slice: u64,
}

impl<const N: usize> Scheduler<N> {
    pub const fn new(slice: u64) -> Self {
        const { assert!(N <= 1 << u8::BITS, "every slot needs a GuestId") };
        Self {
            state: [RunState::Stopped; N],
            last: N - 1,
            slice,
        }
    }

    pub fn slice(&self) -> u64 {
        self.slice
    }

    pub fn state(&self, slot: GuestId) -> RunState {
        self.state[slot.index()]
    }

    pub fn set(&mut self, slot: GuestId, state: RunState) {
        self.state[slot.index()] = state;
    }

    /// Wake a waiting guest (an interrupt for it became deliverable).
    pub fn wake(&mut self, slot: GuestId) {
        if let RunState::Waiting { .. } = self.state[slot.index()] {
            self.state[slot.index()] = RunState::Runnable;
        }
    }

    /// Wake every waiting guest whose time has come.
    pub fn wake_due(&mut self, now: u64) {
        for s in self.state.iter_mut() {
            if let RunState::Waiting { until: Some(t) } = *s {
                if t <= now {
                    *s = RunState::Runnable;
                }
            }
        }
    }

    /// The next guest to run, round-robin after the last one picked.
    pub fn pick(&mut self, now: u64) -> Option<GuestId> {
        self.wake_due(now);
        for step in 1..=N {
            let i = (self.last + step) % N;
            if self.state[i] == RunState::Runnable {
                self.last = i;
                // `i < N`, which `new` asserts fits a `GuestId`.
                #[allow(clippy::cast_possible_truncation)]
                return Some(GuestId(i as u8));
            }
        }
        None
    }

    /// The earliest time a waiting guest must be woken, if any.
    pub fn next_wake(&self) -> Option<u64> {
        self.state
            .iter()
            .filter_map(|s| match s {
                RunState::Waiting { until } => *until,
                _ => None,
            })
            .min()
    }

    /// Whether any guest is runnable or waiting (the machine has guest work at all).
    pub fn any_active(&self) -> bool {
        self.state.iter().any(|s| *s != RunState::Stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn round_robin_over_runnable_guests() {
        let mut s: Scheduler<4> = Scheduler::new(100);
        for i in [0, 2, 3] {
            s.set(GuestId(i), RunState::Runnable);
        }
        let order: Vec<_> = (0..6).map(|_| s.pick(0).unwrap().0).collect();
        assert_eq!(order, [0, 2, 3, 0, 2, 3]);
    }

    #[test]
    fn waiting_guests_are_skipped_until_due_or_woken() {
        let mut s: Scheduler<3> = Scheduler::new(100);
        s.set(GuestId(0), RunState::Runnable);
        s.set(GuestId(1), RunState::Waiting { until: Some(500) });
        s.set(GuestId(2), RunState::Waiting { until: None });
        assert_eq!(s.pick(0), Some(GuestId(0)));
        assert_eq!(s.pick(10), Some(GuestId(0)));
        assert_eq!(s.next_wake(), Some(500));
        assert_eq!(s.pick(500), Some(GuestId(1)));
        s.wake(GuestId(2));
        assert_eq!(s.pick(501), Some(GuestId(2)));
    }

    #[test]
    fn nothing_to_run() {
        let mut s: Scheduler<2> = Scheduler::new(100);
        assert_eq!(s.pick(0), None);
        assert!(!s.any_active());
        s.set(GuestId(1), RunState::Waiting { until: None });
        assert_eq!(s.pick(0), None);
        assert!(s.any_active());
        assert_eq!(s.next_wake(), None);
    }

    #[test]
    fn a_spinning_guest_shares_the_cpu() {
        // Guest 0 never waits; guest 1 must still get every other slice.
        let mut s: Scheduler<2> = Scheduler::new(100);
        s.set(GuestId(0), RunState::Runnable);
        s.set(GuestId(1), RunState::Runnable);
        let picks: Vec<_> = (0..10).map(|t| s.pick(t * 100).unwrap().0).collect();
        assert_eq!(picks.iter().filter(|&&g| g == 1).count(), 5);
    }
}
