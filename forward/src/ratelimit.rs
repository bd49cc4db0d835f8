//! The rate limits of the ICMP and ICMPv6 errors the box sends, in two stages as Linux has them:
//!
//! - [`TokenBucket`]: one bucket for the whole box, shared by both families, with Linux's
//!   global defaults (`net.ipv4.icmp_msgs_per_sec` = 1000, `net.ipv4.icmp_msgs_burst` = 50;
//!   Linux's `icmp_global_allow` serves ICMPv6 too).
//! - [`PeerLimits`]: per destination of the error (the offending packet's source), one error
//!   per `interval` with a burst of [`PEER_BURST`] (Linux's `inet_peer_xrlim_allow`); the
//!   interval is RouterOS's `/ip settings icmp-rate-limit` (milliseconds, default
//!   [`DEFAULT_PEER_INTERVAL_MS`], 0 = no per-destination limit). Peers live in a fixed,
//!   direct-mapped table of [`PEERS`] slots: a peer that takes another's slot starts with a
//!   full burst, as a peer Linux has not seen for a minute does; the global bucket still bounds
//!   the sum.
//!
//! Which errors are limited ([`limited`]): IPv4 types set in RouterOS's `icmp-rate-mask`
//! (default [`DEFAULT_TYPE_MASK`]: destination unreachable, source quench, time exceeded,
//! parameter problem), every ICMPv6 error; never "fragmentation needed" or "packet too big"
//! (path MTU discovery must not be slowed), as in Linux's `icmpv4_mask_allow` and
//! `icmpv6_mask_allow`.

use core::net::IpAddr;

use crate::icmp::{V4_FRAGMENTATION_NEEDED, V4_UNREACHABLE, V6_PACKET_TOO_BIG};
use crate::Micros;

/// Linux's `net.ipv4.icmp_msgs_per_sec` default.
pub const DEFAULT_PER_SECOND: u32 = 1000;
/// Linux's `net.ipv4.icmp_msgs_burst` default.
pub const DEFAULT_BURST: u32 = 50;

/// RouterOS's `icmp-rate-limit` default: milliseconds between errors to one destination.
pub const DEFAULT_PEER_INTERVAL_MS: u32 = 10;
/// Errors one destination may receive at once (Linux's `XRLIM_BURST_FACTOR`).
pub const PEER_BURST: u64 = 6;
/// RouterOS's `icmp-rate-mask` default: bit `n` set limits ICMP type `n` (3, 4, 11, 12).
pub const DEFAULT_TYPE_MASK: u32 = 0x1818;
/// Destinations the per-destination limit tracks at once.
pub const PEERS: usize = 64;

const MICROS_PER_SECOND: u64 = 1_000_000;

/// Whether an error of ICMP (`v4`) or ICMPv6 `kind`/`code` is subject to the rate limits.
pub fn limited(v4: bool, kind: u8, code: u8, type_mask: u32) -> bool {
    if v4 {
        let pmtu = kind == V4_UNREACHABLE && code == V4_FRAGMENTATION_NEEDED;
        !pmtu && kind < 32 && type_mask & (1 << kind) != 0
    } else {
        kind < 128 && kind != V6_PACKET_TOO_BIG
    }
}

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
        let allowed = self.has_token(now);
        if allowed {
            self.take();
        }
        allowed
    }

    /// Whether a token is there at `now` (none is taken: see [`TokenBucket::take`]).
    pub fn has_token(&mut self, now: Micros) -> bool {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        let cap = u64::from(self.burst) * MICROS_PER_SECOND;
        self.credit = self
            .credit
            .saturating_add(elapsed.saturating_mul(u64::from(self.per_second)))
            .min(cap);
        self.credit >= MICROS_PER_SECOND
    }

    /// Takes the token [`TokenBucket::has_token`] found. Errors refused by the
    /// per-destination stage take none, so that one flooding source cannot use up the whole
    /// box's budget (Linux checks the global budget first and takes from it last).
    pub fn take(&mut self) {
        self.credit = self.credit.saturating_sub(MICROS_PER_SECOND);
    }
}

impl Default for TokenBucket {
    fn default() -> Self {
        TokenBucket::new(DEFAULT_PER_SECOND, DEFAULT_BURST)
    }
}

/// One tracked destination: its address (IPv4 mapped into IPv6), its credit in microseconds
/// and when it was last charged.
#[derive(Clone, Copy, Debug)]
struct Peer {
    addr: [u8; 16],
    credit: u64,
    last: Micros,
}

/// The per-destination limit (see the module's doc).
#[derive(Clone, Debug)]
pub struct PeerLimits {
    peers: [Option<Peer>; PEERS],
}

impl Default for PeerLimits {
    fn default() -> Self {
        Self::new()
    }
}

impl PeerLimits {
    /// No destination tracked.
    pub const fn new() -> Self {
        PeerLimits {
            peers: [None; PEERS],
        }
    }

    /// Whether one more error may go to `to` at `now`, one per `interval_ms` after a burst of
    /// [`PEER_BURST`] (takes its share if so). `interval_ms` 0: always.
    pub fn allow(&mut self, to: IpAddr, now: Micros, interval_ms: u32) -> bool {
        if interval_ms == 0 {
            return true;
        }
        let addr = match to {
            IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            IpAddr::V6(a) => a.octets(),
        };
        let interval = u64::from(interval_ms) * 1000;
        let cap = PEER_BURST * interval;
        let slot = &mut self.peers[slot_of(&addr)];
        let peer = match slot {
            Some(p) if p.addr == addr => p,
            _ => slot.insert(Peer {
                addr,
                credit: cap,
                last: now,
            }),
        };
        peer.credit = peer
            .credit
            .saturating_add(now.saturating_sub(peer.last))
            .min(cap);
        peer.last = peer.last.max(now);
        if peer.credit >= interval {
            peer.credit -= interval;
            true
        } else {
            false
        }
    }
}

/// The table slot of `addr` (a multiplicative hash of its last 8 bytes).
fn slot_of(addr: &[u8; 16]) -> usize {
    let mut low = [0; 8];
    low.copy_from_slice(&addr[8..]);
    let hash = u64::from_be_bytes(low).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (hash >> 58) as usize % PEERS
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

    #[test]
    fn one_destination_gets_a_burst_then_one_error_per_interval() {
        let mut p = PeerLimits::new();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!((0..20).filter(|_| p.allow(a, 1_000, 10)).count(), 6);
        // Another destination is not slowed by the first.
        assert_eq!((0..20).filter(|_| p.allow(b, 1_000, 10)).count(), 6);
        // One second at one offending packet per millisecond: one error per 10 ms.
        let second = (1..=1000u64)
            .filter(|ms| p.allow(a, 1_000 + ms * 1000, 10))
            .count();
        assert_eq!(second, 100);
        assert!(p.allow(a, 5_000_000, 0), "interval 0 limits nothing");
    }

    #[test]
    fn the_mask_picks_the_limited_types_and_spares_path_mtu_discovery() {
        use crate::icmp::*;
        let m = DEFAULT_TYPE_MASK;
        assert!(limited(true, V4_UNREACHABLE, V4_NET_UNREACHABLE, m));
        assert!(limited(true, V4_TIME_EXCEEDED, 0, m));
        assert!(!limited(true, V4_UNREACHABLE, V4_FRAGMENTATION_NEEDED, m));
        assert!(!limited(true, V4_TIME_EXCEEDED, 0, 0x0008));
        assert!(limited(false, V6_UNREACHABLE, V6_NO_ROUTE, 0));
        assert!(limited(false, V6_TIME_EXCEEDED, 0, 0));
        assert!(!limited(false, V6_PACKET_TOO_BIG, 0, m));
    }
}
