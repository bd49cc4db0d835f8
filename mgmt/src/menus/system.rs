//! `/system`: `identity`, `resource`, `reboot`, `shutdown`; `/ip settings` and `/ipv6
//! settings`.

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

static IP_SETTINGS_FIELDS: [Field; 3] = [
    Field::new(
        "icmp-rate-limit",
        Kind::int(0, 60_000),
        "Milliseconds between ICMP errors to one destination (0: no limit)",
    ),
    Field::new(
        "icmp-rate-mask",
        Kind::Text,
        "ICMP types the limit applies to, one bit per type (e.g. 0x1818)",
    ),
    Field::new("ip-forward", Kind::Bool, "Whether IPv4 packets are routed"),
];

/// `icmp-rate-mask` as RouterOS writes it.
fn format_mask(mask: u32) -> String {
    format!("0x{mask:X}")
}

/// `/ip settings`: whether the box routes IPv4, the per-destination limit of its ICMP errors,
/// and the forwarding path's counters (read-only): packets forwarded, fragments made, ICMP
/// errors sent, suppressed or rate limited, packets that waited for a next hop's address, and
/// one counter per reason a packet was dropped. Besides the per-destination limit the box
/// sends at most 1000 ICMP errors a second (bursts of 50), as Linux does.
pub struct IpSettings;

impl Single for IpSettings {
    fn fields(&self) -> &'static [Field] {
        &IP_SETTINGS_FIELDS
    }

    fn set(&self, config: &mut Config, args: &Args) -> Result<(), CmdError> {
        let s = &mut config.ip_settings;
        if let Some(mask) = args.text("icmp-rate-mask") {
            let digits = mask.strip_prefix("0x").or_else(|| mask.strip_prefix("0X"));
            let parsed = match digits {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => mask.parse::<u32>(),
            };
            s.icmp_rate_mask = parsed.map_err(|_| CmdError::InvalidValue {
                argument: "icmp-rate-mask",
            })?;
        }
        if let Some(ms) = args.int("icmp-rate-limit") {
            s.icmp_rate_limit = ms as u32;
        }
        if let Some(on) = args.bool("ip-forward") {
            s.ip_forward = on;
        }
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        let (s, default) = (config.ip_settings, crate::config::IpSettings::default());
        let mut set = String::new();
        if s.ip_forward != default.ip_forward {
            set.push_str(if s.ip_forward {
                " ip-forward=yes"
            } else {
                " ip-forward=no"
            });
        }
        if s.icmp_rate_limit != default.icmp_rate_limit {
            set.push_str(&format!(" icmp-rate-limit={}", s.icmp_rate_limit));
        }
        if s.icmp_rate_mask != default.icmp_rate_mask {
            set.push_str(&format!(
                " icmp-rate-mask={}",
                format_mask(s.icmp_rate_mask)
            ));
        }
        if set.is_empty() {
            return Vec::new();
        }
        alloc::vec![format!("set{set}")]
    }

    fn values(&self, config: &Config, platform: &dyn Platform) -> Vec<(&'static str, String)> {
        let s = config.ip_settings;
        let mut out = alloc::vec![
            ("ip-forward", String::from(yes_no(s.ip_forward))),
            ("icmp-rate-limit", format!("{}", s.icmp_rate_limit)),
            ("icmp-rate-mask", format_mask(s.icmp_rate_mask)),
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

fn yes_no(on: bool) -> &'static str {
    if on {
        "yes"
    } else {
        "no"
    }
}

static IPV6_SETTINGS_FIELDS: [Field; 1] = [Field::new(
    "forward",
    Kind::Bool,
    "Whether IPv6 packets are routed",
)];

/// `/ipv6 settings`: whether the box routes IPv6 (its counters are in `/ip settings`).
pub struct Ipv6Settings;

impl Single for Ipv6Settings {
    fn fields(&self) -> &'static [Field] {
        &IPV6_SETTINGS_FIELDS
    }

    fn set(&self, config: &mut Config, args: &Args) -> Result<(), CmdError> {
        if let Some(on) = args.bool("forward") {
            config.ip_settings.ipv6_forward = on;
        }
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        if config.ip_settings.ipv6_forward {
            return Vec::new();
        }
        alloc::vec![String::from("set forward=no")]
    }

    fn values(&self, config: &Config, _platform: &dyn Platform) -> Vec<(&'static str, String)> {
        let on = config.ip_settings.ipv6_forward;
        alloc::vec![("forward", String::from(yes_no(on)))]
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
