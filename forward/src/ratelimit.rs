//! The rate limit of the ICMP and ICMPv6 errors the box sends: one token bucket for the whole
//! box, shared by both families, with Linux's global defaults (`net.ipv4.icmp_msgs_per_sec` =
//! 1000, `net.ipv4.icmp_msgs_burst` = 50; Linux's `icmp_global_allow` serves ICMPv6 too). Linux
//! also limits per destination (`icmp_ratelimit` = 1000 ms with a burst of 6 per peer); that
//! second stage is not modelled here.

use crate::Micros;

/// Linux's `net.ipv4.icmp_msgs_per_sec` default.
pub const DEFAULT_PER_SECOND: u32 = 1000;
/// Linux's `net.ipv4.icmp_msgs_burst` default.
pub const DEFAULT_BURST: u32 = 50;

const MICROS_PER_SECOND: u64 = 1_000_000;

/// A token bucket: `per_second` tokens a second, at most `burst` kept; each error takes one.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    per_second: u32,
    burst: u32,
    /// Tokens, in millionths (a token is `MICROS_PER_SECOND` units).
    credit: u64,
    last: Micros,
}

impl TokenBucket {
    /// A full bucket. `per_second` 0 lets nothing through.
    pub const fn new(per_second: u32, burst: u32) -> Self {
        TokenBucket {
            per_second,
            burst,
            credit: burst as u64 * MICROS_PER_SECOND,
            last: 0,
        }
    }

    /// Whether one more error may go at `now` (takes its token if so).
    pub fn allow(&mut self, now: Micros) -> bool {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        let cap = u64::from(self.burst) * MICROS_PER_SECOND;
        self.credit = self
            .credit
            .saturating_add(elapsed.saturating_mul(u64::from(self.per_second)))
            .min(cap);
        if self.credit >= MICROS_PER_SECOND {
            self.credit -= MICROS_PER_SECOND;
            true
        } else {
            false
        }
    }
}

impl Default for TokenBucket {
    fn default() -> Self {
        TokenBucket::new(DEFAULT_PER_SECOND, DEFAULT_BURST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let mut b = TokenBucket::default();
        let burst = (0..200).filter(|_| b.allow(0)).count();
        assert_eq!(burst, 50);
        // One second of a flood at one packet per 100 us: 1000 more get through.
        let later = (1..=10_000u64).filter(|i| b.allow(i * 100)).count();
        assert_eq!(later, 1000);
        // Idle for a minute: the bucket holds the burst, no more.
        let after_idle = (0..200).filter(|_| b.allow(61_000_000)).count();
        assert_eq!(after_idle, 50);
    }

    #[test]
    fn time_going_backwards_gives_nothing() {
        let mut b = TokenBucket::new(1000, 1);
        assert!(b.allow(5_000_000));
        assert!(!b.allow(1_000_000));
        assert!(!b.allow(5_000_000));
        assert!(b.allow(5_001_000));
    }
}
