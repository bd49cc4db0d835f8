//! The `ping` console command: its arguments and RouterOS-like output.
//!
//! ```text
//!   SEQ HOST                                     SIZE TTL TIME  STATUS
//!     0 10.0.0.3                                   56  64 0ms
//!     1 10.0.0.3                                                timeout
//!     sent=2 received=1 packet-loss=50% min-rtt=0ms avg-rtt=0ms max-rtt=0ms
//! ```
//! The summary line always starts with `sent=N received=M packet-loss=P%` (P rounded down);
//! the rtt fields follow only when something was received.

use crate::command::Command;
use crate::ipv4::{self, Dotted};
use core::fmt;

/// Default number of echo requests.
pub const DEFAULT_COUNT: u32 = 4;
/// Largest accepted count.
pub const MAX_COUNT: u32 = 1000;
/// ICMP payload size sent.
pub const PAYLOAD_SIZE: usize = 56;

/// Parsed `ping <addr> [count]` (also `count=<n>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingArgs {
    /// Target address.
    pub target: [u8; 4],
    /// Number of requests.
    pub count: u32,
}

/// Why `ping` arguments were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingArgsError {
    /// No address given.
    MissingAddress,
    /// The address is not `a.b.c.d`.
    BadAddress,
    /// The count is not a number in 1..=1000.
    BadCount,
    /// More arguments than expected.
    TooManyArguments,
}

impl fmt::Display for PingArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingAddress => "usage: ping <address> [count]",
            Self::BadAddress => "invalid address",
            Self::BadCount => "count must be 1..1000",
            Self::TooManyArguments => "usage: ping <address> [count]",
        })
    }
}

impl PingArgs {
    /// Parse the arguments of a `ping` command.
    pub fn parse(cmd: &Command<'_>) -> Result<Self, PingArgsError> {
        let mut args = cmd.args();
        let target = ipv4::parse_addr(args.next().ok_or(PingArgsError::MissingAddress)?)
            .ok_or(PingArgsError::BadAddress)?;
        let count = match args.next() {
            None => DEFAULT_COUNT,
            Some(c) => {
                let c = c.strip_prefix(b"count=").unwrap_or(c);
                let ok = !c.is_empty() && c.len() <= 4 && c.iter().all(u8::is_ascii_digit);
                let n = c.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'));
                if !ok || n == 0 || n > MAX_COUNT {
                    return Err(PingArgsError::BadCount);
                }
                n
            }
        };
        if args.next().is_some() {
            return Err(PingArgsError::TooManyArguments);
        }
        Ok(Self { target, count })
    }
}

/// The column header.
pub const HEADER: &str = "  SEQ HOST                                     SIZE TTL TIME  STATUS";

/// One result line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultLine {
    /// A reply arrived.
    Reply {
        /// Sequence number.
        seq: u16,
        /// Who answered.
        host: [u8; 4],
        /// ICMP payload size.
        size: usize,
        /// IP TTL of the reply, when the receiver saw the IP header (blank otherwise).
        ttl: Option<u8>,
        /// Round-trip time in microseconds.
        rtt_us: u64,
    },
    /// No reply in time.
    Timeout {
        /// Sequence number.
        seq: u16,
        /// The target.
        host: [u8; 4],
    },
}

impl fmt::Display for ResultLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Reply {
                seq,
                host,
                size,
                ttl,
                rtt_us,
            } => {
                let host = crate::text::Text::<16>::format(format_args!("{}", Dotted(host)));
                let time = crate::text::Text::<16>::format(format_args!("{}ms", rtt_us / 1000));
                let ttl = ttl
                    .map(|t| crate::text::Text::<4>::format(format_args!("{t}")))
                    .unwrap_or_default();
                write!(
                    f,
                    "{seq:>5} {:<40} {size:>4} {:>3} {time}",
                    host.as_str(),
                    ttl.as_str()
                )
            }
            Self::Timeout { seq, host } => {
                let host = crate::text::Text::<16>::format(format_args!("{}", Dotted(host)));
                write!(f, "{seq:>5} {:<40} {:>15}timeout", host.as_str(), "")
            }
        }
    }
}

/// Counts and round-trip times of one `ping` run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PingStats {
    /// Requests sent.
    pub sent: u32,
    /// Replies received.
    pub received: u32,
    min_us: u64,
    max_us: u64,
    total_us: u64,
}

impl PingStats {
    /// No requests yet.
    pub const fn new() -> Self {
        Self {
            sent: 0,
            received: 0,
            min_us: 0,
            max_us: 0,
            total_us: 0,
        }
    }

    /// A request went out.
    pub fn sent(&mut self) {
        self.sent += 1;
    }

    /// A reply came back after `rtt_us` microseconds.
    pub fn received(&mut self, rtt_us: u64) {
        if self.received == 0 || rtt_us < self.min_us {
            self.min_us = rtt_us;
        }
        self.max_us = self.max_us.max(rtt_us);
        self.total_us += rtt_us;
        self.received += 1;
    }

    /// Lost percentage, rounded down.
    pub fn loss_percent(&self) -> u32 {
        if self.sent == 0 {
            return 0;
        }
        (self.sent - self.received.min(self.sent)) * 100 / self.sent
    }
}

impl fmt::Display for PingStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "    sent={} received={} packet-loss={}%",
            self.sent,
            self.received,
            self.loss_percent()
        )?;
        if self.received > 0 {
            let avg = self.total_us / u64::from(self.received);
            write!(
                f,
                " min-rtt={}ms avg-rtt={}ms max-rtt={}ms",
                self.min_us / 1000,
                avg / 1000,
                self.max_us / 1000
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;

    fn args(s: &str) -> Result<PingArgs, PingArgsError> {
        PingArgs::parse(&Command::parse(s.as_bytes()))
    }

    #[test]
    fn arguments() {
        assert_eq!(
            args("ping 10.0.0.3"),
            Ok(PingArgs {
                target: [10, 0, 0, 3],
                count: 4
            })
        );
        assert_eq!(
            args("ping 10.0.0.3 2"),
            Ok(PingArgs {
                target: [10, 0, 0, 3],
                count: 2
            })
        );
        assert_eq!(
            args("ping 10.0.0.3 count=7"),
            Ok(PingArgs {
                target: [10, 0, 0, 3],
                count: 7
            })
        );
        assert_eq!(args("ping"), Err(PingArgsError::MissingAddress));
        assert_eq!(args("ping 10.0.0"), Err(PingArgsError::BadAddress));
        assert_eq!(args("ping 10.0.0.3 0"), Err(PingArgsError::BadCount));
        assert_eq!(args("ping 10.0.0.3 1001"), Err(PingArgsError::BadCount));
        assert_eq!(args("ping 10.0.0.3 x"), Err(PingArgsError::BadCount));
        assert_eq!(
            args("ping 10.0.0.3 1 2"),
            Err(PingArgsError::TooManyArguments)
        );
    }

    #[test]
    fn routeros_like_lines() {
        let reply = ResultLine::Reply {
            seq: 0,
            host: [10, 0, 0, 3],
            size: 56,
            ttl: Some(64),
            rtt_us: 1500,
        };
        let no_ttl = ResultLine::Reply {
            seq: 1,
            host: [10, 0, 0, 3],
            size: 56,
            ttl: None,
            rtt_us: 0,
        };
        let t = Text::<100>::format(format_args!("{no_ttl}"));
        assert_eq!(
            t.as_str(),
            "    1 10.0.0.3                                   56     0ms"
        );
        let t = Text::<100>::format(format_args!("{reply}"));
        assert_eq!(
            t.as_str(),
            "    0 10.0.0.3                                   56  64 1ms"
        );
        let timeout = ResultLine::Timeout {
            seq: 12,
            host: [10, 0, 0, 3],
        };
        let t = Text::<100>::format(format_args!("{timeout}"));
        assert_eq!(
            t.as_str(),
            "   12 10.0.0.3                                                timeout"
        );
        let reply = Text::<100>::format(format_args!("{reply}"));
        assert_eq!(HEADER.find("SIZE"), Some(47), "SIZE over the size column");
        assert_eq!(&reply.as_str()[49..51], "56");
        assert_eq!(HEADER.find("TTL"), Some(52));
        assert_eq!(&reply.as_str()[53..55], "64");
        assert_eq!(HEADER.find("TIME"), Some(56));
        assert_eq!(&reply.as_str()[56..], "1ms");
        assert_eq!(HEADER.find("STATUS"), Some(62));
        assert_eq!(t.as_str().find("timeout"), Some(62));
    }

    #[test]
    fn summary() {
        let mut s = PingStats::new();
        let show = |s: &PingStats| Text::<120>::format(format_args!("{s}"));
        for _ in 0..4 {
            s.sent();
        }
        assert_eq!(show(&s).as_str(), "    sent=4 received=0 packet-loss=100%");
        s.received(900);
        s.received(3100);
        s.received(2000);
        assert_eq!(s.loss_percent(), 25);
        assert_eq!(
            show(&s).as_str(),
            "    sent=4 received=3 packet-loss=25% min-rtt=0ms avg-rtt=2ms max-rtt=3ms"
        );
        s.received(10);
        assert_eq!(
            show(&s).as_str(),
            "    sent=4 received=4 packet-loss=0% min-rtt=0ms avg-rtt=1ms max-rtt=3ms"
        );
        let mut three = PingStats::new();
        (0..3).for_each(|_| three.sent());
        three.received(1);
        assert_eq!(three.loss_percent(), 66);
        assert_eq!(PingStats::new().loss_percent(), 0);
    }
}
