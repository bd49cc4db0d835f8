//! `/system`: `identity`, `resource`, `reboot`, `shutdown`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::args::{Args, Field, Kind};
use crate::cli::error::CmdError;
use crate::cli::menu::{Command, Exec, Invocation, Items, Outcome, Single};
use crate::config::Config;
use crate::platform::Platform;
use crate::value::{format_bytes, format_duration, quote_if_needed};

static IDENTITY_FIELDS: [Field; 2] = [
    Field::new(
        "mac-seed",
        Kind::Text,
        "Seed of this box's generated MAC addresses, 16 hex digits (saved configuration)",
    ),
    Field::new(
        "name",
        Kind::Text,
        "Name of the router, shown in the prompt",
    ),
];

/// `/system identity`.
pub struct Identity;

impl Single for Identity {
    fn fields(&self) -> &'static [Field] {
        &IDENTITY_FIELDS
    }

    fn values(&self, config: &Config, _platform: &dyn Platform) -> Vec<(&'static str, String)> {
        alloc::vec![("name", config.identity.clone())]
    }

    fn set(&self, config: &mut Config, args: &Args) -> Result<(), CmdError> {
        if let Some(seed) = args.text("mac-seed") {
            let valid = seed.len() == 16 && seed.bytes().all(|b| b.is_ascii_hexdigit());
            config.mac_seed = Some(u64::from_str_radix(seed, 16).ok().filter(|_| valid).ok_or(
                CmdError::InvalidValue {
                    argument: "mac-seed",
                },
            )?);
        }
        if let Some(name) = args.text("name") {
            if name.is_empty() {
                return Err(CmdError::InvalidValue { argument: "name" });
            }
            config.identity = String::from(name);
        }
        Ok(())
    }

    /// The name only: the MAC seed is this box's own ([`saved_line`]).
    fn export(&self, config: &Config) -> Vec<String> {
        if config.identity == "MikroTik" {
            return Vec::new();
        }
        alloc::vec![format!("set name={}", quote_if_needed(&config.identity))]
    }
}

/// The `/system identity` line the saved configuration adds to the export: the box's MAC seed
/// (`crate::identity`), which an export for another box must not carry.
pub fn saved_line(config: &Config) -> Option<String> {
    config
        .mac_seed
        .map(|seed| format!("set mac-seed={seed:016X}"))
}

/// `/system resource`.
pub struct Resource;

impl Single for Resource {
    fn values(&self, _config: &Config, platform: &dyn Platform) -> Vec<(&'static str, String)> {
        let info = platform.system_info();
        let mut out = alloc::vec![
            ("uptime", format_duration(platform.now_ms() / 1000)),
            ("version", info.version),
            ("free-memory", format_bytes(info.free_memory)),
            ("total-memory", format_bytes(info.total_memory)),
            ("cpu", info.cpu),
            ("cpu-count", format!("{}", info.cpu_count)),
        ];
        if let Some(mhz) = info.cpu_frequency_mhz {
            out.push(("cpu-frequency", format!("{mhz}MHz")));
        }
        let guests = platform.guest_memory();
        out.push(("free-guest-memory", format_bytes(guests.free)));
        out.push(("total-guest-memory", format_bytes(guests.total)));
        out.push(("architecture-name", info.architecture_name));
        out.push(("board-name", info.board_name));
        out
    }
}

/// `/ip settings`: how the box routes, and the forwarding path's counters (read-only): packets
/// forwarded, fragments made, ICMP errors sent, suppressed or rate limited, packets that waited
/// for a next hop's address, and one counter per reason a packet was dropped.
pub struct IpSettings;

impl Single for IpSettings {
    fn values(&self, _config: &Config, platform: &dyn Platform) -> Vec<(&'static str, String)> {
        let mut out = alloc::vec![
            ("ip-forward", String::from("yes")),
            ("icmp-rate-limit", String::from("1000/s burst 50")),
        ];
        let Some(s) = platform.forwarding_stats() else {
            return out;
        };
        for (name, n) in [
            ("forwarded-packets", s.forwarded_v4),
            ("forwarded-ipv6-packets", s.forwarded_v6),
            ("fragments-sent", s.fragments),
            ("to-router", s.to_host),
            ("icmp-errors-sent", s.icmp_sent),
            ("icmp-errors-suppressed", s.icmp_suppressed),
            ("icmp-errors-rate-limited", s.icmp_rate_limited),
            ("waited-for-neighbor", s.queued),
            ("released-by-neighbor", s.released),
            ("neighbor-requests", s.resolve_requests),
            ("dropped-packets", s.dropped_total()),
        ] {
            out.push((name, format!("{n}")));
        }
        for reason in vmm::forward::Drop::ALL {
            out.push((reason.name(), format!("{}", s.dropped(reason))));
        }
        out
    }
}

fn reboot(exec: &mut Exec<'_>, _inv: &Invocation) -> Result<(), CmdError> {
    exec.outcome = Outcome::ConfirmReboot;
    Ok(())
}

fn shutdown(exec: &mut Exec<'_>, _inv: &Invocation) -> Result<(), CmdError> {
    exec.outcome = Outcome::ConfirmShutdown;
    Ok(())
}

/// Commands of `/system`.
pub static COMMANDS: [Command; 2] = [
    Command::new("reboot", "Reboot the router", Items::None, reboot),
    Command::new("shutdown", "Power the router off", Items::None, shutdown),
];
