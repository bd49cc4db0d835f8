//! The TCP transfer commands of a small shell: their arguments and the result line.
//!
//! ```text
//! tcp-listen 5001
//! tcp-send 10.0.0.1 5001 8M
//! tcp-loop 8M
//! ```
//! A size is a decimal byte count with an optional `K`/`M` suffix (binary, as `memparse`), from
//! 1 byte to [`MAX_BYTES`]. Every finished transfer prints one line:
//!
//! ```text
//! tcp-send: bytes=8388608 time=1.234567s rate=54.37Mbit/s
//! ```
//! `time` is in the guest's clock with microseconds; `rate` is bits per microsecond (Mbit/s)
//! with two decimals, rounded down.

use crate::bootargs::{memparse, strtoul};
use crate::command::Command;
use crate::ipv4;
use core::fmt;

/// Largest transfer accepted (1 GiB).
pub const MAX_BYTES: u64 = 1 << 30;

/// Why the arguments of a transfer command were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferArgsError {
    /// Wrong number of arguments: the usage of the command.
    Usage(&'static str),
    /// The address is not `a.b.c.d`.
    BadAddress,
    /// The port is not 1..=65535.
    BadPort,
    /// The size is not a number (with an optional K or M) in 1..=1G.
    BadSize,
}

impl fmt::Display for TransferArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(usage) => write!(f, "usage: {usage}"),
            Self::BadAddress => f.write_str("invalid address"),
            Self::BadPort => f.write_str("port must be 1..65535"),
            Self::BadSize => f.write_str("size must be 1..1G bytes (K and M suffixes allowed)"),
        }
    }
}

/// Usage of `tcp-listen`.
pub const LISTEN_USAGE: &str = "tcp-listen <port>";
/// Usage of `tcp-send`.
pub const SEND_USAGE: &str = "tcp-send <address> <port> <bytes>";
/// Usage of `tcp-loop`.
pub const LOOP_USAGE: &str = "tcp-loop <bytes>";

/// A port number 1..=65535.
pub fn parse_port(word: &[u8]) -> Result<u16, TransferArgsError> {
    let (n, rest) = strtoul(word);
    if word.is_empty() || !rest.is_empty() {
        return Err(TransferArgsError::BadPort);
    }
    u16::try_from(n)
        .ok()
        .filter(|&p| p != 0)
        .ok_or(TransferArgsError::BadPort)
}

/// A size: digits, then at most one `K` or `M` (either case); 1..=[`MAX_BYTES`].
pub fn parse_size(word: &[u8]) -> Result<u64, TransferArgsError> {
    let digits = word.iter().take_while(|b| b.is_ascii_digit()).count();
    let suffix_ok = matches!(&word[digits..], [] | [b'K' | b'k' | b'M' | b'm']);
    if digits == 0 || !suffix_ok {
        return Err(TransferArgsError::BadSize);
    }
    let n = memparse(word);
    if n == 0 || n > MAX_BYTES {
        return Err(TransferArgsError::BadSize);
    }
    Ok(n)
}

/// Exactly `N` argument words of `cmd`, or its usage.
fn words<'a, const N: usize>(
    cmd: &Command<'a>,
    usage: &'static str,
) -> Result<[&'a [u8]; N], TransferArgsError> {
    let mut out = [&[][..]; N];
    let mut args = cmd.args();
    for slot in &mut out {
        *slot = args.next().ok_or(TransferArgsError::Usage(usage))?;
    }
    match args.next() {
        None => Ok(out),
        Some(_) => Err(TransferArgsError::Usage(usage)),
    }
}

/// `tcp-listen <port>`.
pub fn parse_listen(cmd: &Command<'_>) -> Result<u16, TransferArgsError> {
    let [port] = words(cmd, LISTEN_USAGE)?;
    parse_port(port)
}

/// `tcp-send <address> <port> <bytes>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendArgs {
    /// The listener's address.
    pub target: [u8; 4],
    /// Its port.
    pub port: u16,
    /// How many bytes to send.
    pub bytes: u64,
}

impl SendArgs {
    /// Parse the arguments of `tcp-send`.
    pub fn parse(cmd: &Command<'_>) -> Result<Self, TransferArgsError> {
        let [addr, port, size] = words(cmd, SEND_USAGE)?;
        Ok(Self {
            target: ipv4::parse_addr(addr).ok_or(TransferArgsError::BadAddress)?,
            port: parse_port(port)?,
            bytes: parse_size(size)?,
        })
    }
}

/// `tcp-loop <bytes>`.
pub fn parse_loop(cmd: &Command<'_>) -> Result<u64, TransferArgsError> {
    let [size] = words(cmd, LOOP_USAGE)?;
    parse_size(size)
}

/// A finished transfer: `bytes` in `micros` microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Bytes carried.
    pub bytes: u64,
    /// Elapsed time in microseconds.
    pub micros: u64,
}

impl Transfer {
    /// The rate in hundredths of a Mbit/s (rounded down); 0 for no time at all.
    pub fn centi_mbit_per_s(&self) -> u64 {
        match self.micros {
            0 => 0,
            us => (u128::from(self.bytes) * 800 / u128::from(us)) as u64,
        }
    }
}

impl fmt::Display for Transfer {
    /// `bytes=N time=S.UUUUUUs rate=R.RRMbit/s`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.centi_mbit_per_s();
        write!(
            f,
            "bytes={} time={}.{:06}s rate={}.{:02}Mbit/s",
            self.bytes,
            self.micros / 1_000_000,
            self.micros % 1_000_000,
            rate / 100,
            rate % 100
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    fn cmd(line: &str) -> Command<'_> {
        Command::parse(line.as_bytes())
    }

    #[test]
    fn sizes_take_binary_suffixes_and_refuse_the_rest() {
        assert_eq!(parse_size(b"1"), Ok(1));
        assert_eq!(parse_size(b"8M"), Ok(8 << 20));
        assert_eq!(parse_size(b"64k"), Ok(64 << 10));
        assert_eq!(parse_size(b"1024M"), Ok(MAX_BYTES));
        for bad in [
            &b""[..],
            b"0",
            b"M",
            b"8MB",
            b"8G",
            b"1025M",
            b"-1",
            b"8 M",
            b"x",
        ] {
            assert_eq!(parse_size(bad), Err(TransferArgsError::BadSize), "{bad:?}");
        }
    }

    #[test]
    fn ports_are_1_to_65535() {
        assert_eq!(parse_port(b"5001"), Ok(5001));
        assert_eq!(parse_port(b"65535"), Ok(65535));
        for bad in [&b""[..], b"0", b"65536", b"80x", b"99999999999999999999999"] {
            assert_eq!(parse_port(bad), Err(TransferArgsError::BadPort), "{bad:?}");
        }
    }

    #[test]
    fn commands_check_their_argument_count() {
        assert_eq!(parse_listen(&cmd("tcp-listen 5001")), Ok(5001));
        assert_eq!(
            parse_listen(&cmd("tcp-listen")),
            Err(TransferArgsError::Usage(LISTEN_USAGE))
        );
        assert_eq!(
            parse_listen(&cmd("tcp-listen 1 2")),
            Err(TransferArgsError::Usage(LISTEN_USAGE))
        );
        assert_eq!(
            SendArgs::parse(&cmd("tcp-send 10.0.0.1 5001 8M")),
            Ok(SendArgs {
                target: [10, 0, 0, 1],
                port: 5001,
                bytes: 8 << 20
            })
        );
        assert_eq!(
            SendArgs::parse(&cmd("tcp-send 10.0.0.1 5001")),
            Err(TransferArgsError::Usage(SEND_USAGE))
        );
        assert_eq!(
            SendArgs::parse(&cmd("tcp-send 10.0.0 5001 1")),
            Err(TransferArgsError::BadAddress)
        );
        assert_eq!(
            SendArgs::parse(&cmd("tcp-send 10.0.0.1 0 1")),
            Err(TransferArgsError::BadPort)
        );
        assert_eq!(parse_loop(&cmd("tcp-loop 1K")), Ok(1024));
        assert_eq!(
            parse_loop(&cmd("tcp-loop")),
            Err(TransferArgsError::Usage(LOOP_USAGE))
        );
        assert_eq!(
            TransferArgsError::Usage(SEND_USAGE).to_string(),
            "usage: tcp-send <address> <port> <bytes>"
        );
    }

    #[test]
    fn the_result_line_has_bytes_time_and_rate() {
        let t = Transfer {
            bytes: 8 << 20,
            micros: 1_234_567,
        };
        // 8388608 * 8 / 1234567 = 54.358... Mbit/s
        assert_eq!(
            t.to_string(),
            "bytes=8388608 time=1.234567s rate=54.35Mbit/s"
        );
        assert_eq!(
            Transfer {
                bytes: 5,
                micros: 0
            }
            .to_string(),
            "bytes=5 time=0.000000s rate=0.00Mbit/s"
        );
        assert_eq!(
            Transfer {
                bytes: 1_000_000,
                micros: 1_000_000
            }
            .centi_mbit_per_s(),
            800
        );
    }
}
