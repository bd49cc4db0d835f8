//! `/ping ADDRESS [count=N] [interface=X] [size=N] [interval=T]`: checks the arguments, starts
//! the platform's ping, and hands the terminal to the shell's ping mode (`crate::shell`), which
//! prints a row per reply or timeout and the summary, as RouterOS does:
//!
//! ```text
//!   SEQ HOST                                     SIZE TTL TIME       STATUS
//!     0 10.0.1.2                                   56  64 1ms386us
//!     1 10.0.1.2                                                     timeout
//!     sent=2 received=1 packet-loss=50% min-rtt=1ms386us avg-rtt=1ms386us max-rtt=1ms386us
//! ```

use alloc::format;
use alloc::string::String;
use core::net::IpAddr;

use crate::cli::args::{Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Command, Exec, Invocation, Items, Outcome};
use crate::network_derive::interface_order;
use crate::platform::{IfaceId, PingError, PingEvent, PingRequest, PingSummary};

static FIELDS: [Field; 5] = [
    Field::new("address", Kind::Text, "The address to ping (IPv4 or IPv6)"),
    Field::new(
        "count",
        Kind::Int {
            min: 1,
            max: u32::MAX as u64,
            unit: "",
        },
        "How many requests (default: until Ctrl-C)",
    ),
    Field::new(
        "interface",
        Kind::Ref(RefKind::Interface),
        "Interface to send from (needed for link-local IPv6)",
    ),
    Field::new(
        "interval",
        Kind::Text,
        "Time between requests, 10ms..5s (default 1s)",
    ),
    Field::new(
        "size",
        Kind::Int {
            min: 28,
            max: 65535,
            unit: "",
        },
        "Size of the IP packet, headers included (default 56)",
    ),
];

/// The `/ping` command (at the root).
pub const PING: Command = Command {
    args: &FIELDS,
    required: &["address"],
    positional: Some("address"),
    ..Command::new("ping", "Send ICMP echo requests", Items::None, ping)
};

/// Milliseconds of an interval such as `10ms`, `500ms`, `1s`, `2` (seconds).
fn parse_interval_ms(text: &str) -> Option<u64> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000)
    } else {
        (text, 1000)
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || number.len() > 9 {
        return None;
    }
    number.parse::<u64>().ok()?.checked_mul(scale)
}

fn ping(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let address: IpAddr = inv
        .args
        .text("address")
        .and_then(|text| text.parse().ok())
        .ok_or(CmdError::InvalidValue {
            argument: "address",
        })?;
    let mut request = PingRequest::new(address);
    request.count = inv.args.int("count").map(|n| n as u32);
    if let Some(n) = inv.args.int("size") {
        request.size = n as u16;
    }
    if let Some(text) = inv.args.text("interval") {
        let ms = parse_interval_ms(text)
            .filter(|ms| (10..=5000).contains(ms))
            .ok_or(CmdError::InvalidValue {
                argument: "interval",
            })?;
        request.interval_us = ms * 1000;
    }
    if let Some(Value::Iface(iface)) = inv.args.get("interface") {
        let index = interface_order(&exec.config)
            .iter()
            .position(|i| i == iface)
            .ok_or(CmdError::NoSuchItem)?;
        request.interface = Some(IfaceId(index as u16));
    }
    match exec.platform.ping_start(&request) {
        Ok(()) => {
            exec.out.push_str(HEADER);
            exec.out.push('\n');
            exec.outcome = Outcome::Ping;
            Ok(())
        }
        Err(None) => Err(CmdError::failure("not supported on this machine")),
        Err(Some(PingError::NoRoute)) => Err(CmdError::failure("no route to host")),
        Err(Some(PingError::SizeTooSmall(min))) => Err(CmdError::failure(format!(
            "size is too small for the headers (at least {min})"
        ))),
        Err(Some(PingError::SizeTooLarge(max))) => Err(CmdError::failure(format!(
            "size is larger than the interface's MTU ({max})"
        ))),
    }
}

/// The column header.
pub const HEADER: &str =
    "  SEQ HOST                                     SIZE TTL TIME       STATUS";

/// A round-trip time as RouterOS prints it: `967us`, `1ms`, `1ms386us`, `2s13ms`.
pub fn format_rtt(us: u64) -> String {
    let (s, ms, rest) = (us / 1_000_000, us / 1000 % 1000, us % 1000);
    let mut out = String::new();
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    if ms > 0 || (s == 0 && rest == 0) {
        out.push_str(&format!("{ms}ms"));
    }
    if rest > 0 && s == 0 {
        out.push_str(&format!("{rest}us"));
    }
    out
}

fn host_text(host: IpAddr) -> String {
    format!("{host}")
}

/// The output line of `event`.
pub fn event_line(event: &PingEvent) -> String {
    let line = match *event {
        PingEvent::Reply {
            seq,
            host,
            size,
            ttl,
            rtt_us,
        } => format!(
            "{seq:>5} {:<40} {size:>4} {ttl:>3} {:<10}",
            host_text(host),
            format_rtt(rtt_us)
        ),
        PingEvent::Timeout { seq, host } => {
            format!(
                "{seq:>5} {:<40} {:>4} {:>3} {:<10} timeout",
                host_text(host),
                "",
                "",
                ""
            )
        }
        PingEvent::Done(summary) => summary_line(&summary),
    };
    String::from(line.trim_end())
}

/// `    sent=N received=N packet-loss=N% [min-rtt=.. avg-rtt=.. max-rtt=..]`.
pub fn summary_line(summary: &PingSummary) -> String {
    let mut line = format!(
        "    sent={} received={} packet-loss={}%",
        summary.sent,
        summary.received,
        summary.loss_percent()
    );
    if let Some((min, avg, max)) = summary.rtt_us {
        line.push_str(&format!(
            " min-rtt={} avg-rtt={} max-rtt={}",
            format_rtt(min),
            format_rtt(avg),
            format_rtt(max)
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_times() {
        assert_eq!(format_rtt(0), "0ms");
        assert_eq!(format_rtt(967), "967us");
        assert_eq!(format_rtt(1000), "1ms");
        assert_eq!(format_rtt(1386), "1ms386us");
        assert_eq!(format_rtt(2_013_500), "2s13ms");
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval_ms("10ms"), Some(10));
        assert_eq!(parse_interval_ms("1s"), Some(1000));
        assert_eq!(parse_interval_ms("2"), Some(2000));
        assert_eq!(parse_interval_ms("s"), None);
        assert_eq!(parse_interval_ms("1m"), None);
    }

    #[test]
    fn rows_line_up_under_the_header() {
        let reply = PingEvent::Reply {
            seq: 0,
            host: "10.0.1.2".parse().unwrap(),
            size: 56,
            ttl: 64,
            rtt_us: 1386,
        };
        let line = event_line(&reply);
        assert_eq!(line.find("10.0.1.2"), HEADER.find("HOST"));
        assert_eq!(
            line.find("56").map(|i| i + 2),
            HEADER.find("SIZE").map(|i| i + 4)
        );
        assert_eq!(line.find("1ms386us"), HEADER.find("TIME"));
        let timeout = PingEvent::Timeout {
            seq: 1,
            host: "10.0.1.2".parse().unwrap(),
        };
        assert_eq!(event_line(&timeout).find("timeout"), HEADER.find("STATUS"));
    }
}
