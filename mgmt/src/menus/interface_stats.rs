//! `/interface print stats`: every interface with the traffic counters the platform keeps for
//! it (`Platform::interface_stats`): bytes, packets, drops and errors in each direction, digits
//! grouped by threes. An interface the platform does not count (a bridge, which has no host
//! side here, or any interface on a platform without counters) shows empty counters rather
//! than made-up zeros.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, IfaceRef};
use crate::platform::{CountedInterface, InterfaceStats, Platform};

static STATS_VIEW: View = View::classic(
    &[
        FlagSlot::new(&[('D', "dynamic")]),
        FlagSlot::new(&[('X', "disabled"), ('R', "running")]),
        FlagSlot::new(&[('S', "slave")]),
    ],
    &[
        Column::new("name", "NAME"),
        Column::new("rx-byte", "RX-BYTE"),
        Column::new("tx-byte", "TX-BYTE"),
        Column::new("rx-packet", "RX-PACKET"),
        Column::new("tx-packet", "TX-PACKET"),
        Column::new("rx-drop", "RX-DROP"),
        Column::new("tx-drop", "TX-DROP"),
        Column::new("tx-queue-drop", "TX-QUEUE-DROP"),
        Column::new("rx-error", "RX-ERROR"),
        Column::new("tx-error", "TX-ERROR"),
    ],
);

/// A counter as printed: `1 234 567`.
pub fn group_digits(n: u64) -> String {
    let digits = alloc::format!("{n}");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The interface as the platform counts it.
fn counted(config: &Config, iface: IfaceRef) -> Option<CountedInterface> {
    match iface {
        IfaceRef::Ether(port) => Some(CountedInterface::Port(usize::from(port))),
        IfaceRef::Bridge(_) | IfaceRef::Vlan(_) | IfaceRef::Gone(_) => None,
        IfaceRef::Vif(id) => {
            let vif = config.vm_ifaces.iter().find(|i| i.id == id)?;
            Some(CountedInterface::Vif {
                guest: config.vm(vif.vm)?.slot,
                interface_id: vif.guest_iface_id,
            })
        }
    }
}

/// The `print stats` view and rows; `rows` are the `/interface` rows (same order as
/// `config.interfaces()`), whose numbers, flags and names they keep.
pub fn stats(
    config: &Config,
    platform: &dyn Platform,
    rows: Vec<Row>,
) -> (&'static View, Vec<Row>) {
    let rows = rows
        .into_iter()
        .zip(config.interfaces())
        .map(|(row, iface)| {
            let name = row.get("name").map(|c| String::from(c.text()));
            let mut out = Row {
                cells: Vec::new(),
                ..row
            }
            .text("name", name.unwrap_or_default());
            let counters = counted(config, iface).and_then(|c| platform.interface_stats(c));
            if let Some(s) = counters {
                let InterfaceStats {
                    rx_bytes,
                    tx_bytes,
                    rx_packets,
                    tx_packets,
                    rx_drops,
                    tx_drops,
                    tx_queue_drops,
                    rx_errors,
                    tx_errors,
                } = s;
                for (prop, value) in [
                    ("rx-byte", rx_bytes),
                    ("tx-byte", tx_bytes),
                    ("rx-packet", rx_packets),
                    ("tx-packet", tx_packets),
                    ("rx-drop", rx_drops),
                    ("tx-drop", tx_drops),
                    ("tx-queue-drop", tx_queue_drops),
                    ("rx-error", rx_errors),
                    ("tx-error", tx_errors),
                ] {
                    out = out.num(prop, group_digits(value));
                }
            }
            out
        })
        .collect();
    (&STATS_VIEW, rows)
}

#[cfg(test)]
mod tests {
    use super::group_digits;

    #[test]
    fn digit_groups() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1 000");
        assert_eq!(group_digits(1_234_567), "1 234 567");
        assert_eq!(group_digits(u64::MAX), "18 446 744 073 709 551 615");
    }
}
