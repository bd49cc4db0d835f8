//! `/ip arp` and `/ipv6 neighbor`: the host's neighbour tables, as the platform's IP endpoint
//! keeps them (read-only here; entries are dynamic, learned from ARP and neighbour discovery).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::menu::{Access, Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::Config;
use crate::network_derive::interface_order;
use crate::platform::{IfaceId, Neighbor, NeighborState};
use crate::value::{format_ipv4, format_ipv6, format_mac};

/// The name of the interface the endpoint calls `id`.
pub fn iface_name(config: &Config, id: IfaceId) -> String {
    interface_order(config)
        .get(usize::from(id.0))
        .map_or_else(|| format!("*{}", id.0), |iface| config.iface_label(*iface))
}

fn row<A>(config: &Config, index: usize, n: &Neighbor<A>, address: String) -> Row {
    let complete = n.mac.is_some() && n.state != NeighborState::Failed;
    let mut row = Row::item(index as u32)
        .flag_if(true, 'D')
        .flag_if(complete, 'C')
        .word("address", address)
        .word("interface", iface_name(config, n.iface))
        .word("status", n.state.as_str())
        .word("dynamic", "yes");
    if let Some(mac) = n.mac {
        row = row.word("mac-address", format_mac(&mac));
    }
    row
}

static ARP_VIEW: View = View::classic(
    &[
        FlagSlot::optional(&[('X', "disabled"), ('I', "invalid")]),
        FlagSlot::optional(&[('H', "DHCP")]),
        FlagSlot::new(&[('D', "dynamic")]),
        FlagSlot::optional(&[('P', "published")]),
        FlagSlot::new(&[('C', "complete")]),
    ],
    &[
        Column::new("address", "ADDRESS"),
        Column::new("mac-address", "MAC-ADDRESS"),
        Column::new("interface", "INTERFACE"),
        Column::new("status", "STATUS"),
    ],
);

/// `/ip arp`.
pub struct Arp;

impl Table for Arp {
    fn view(&self) -> &'static View {
        &ARP_VIEW
    }

    fn access(&self) -> Access {
        Access::ReadOnly
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        ctx.platform
            .arp_entries()
            .iter()
            .enumerate()
            .map(|(i, n)| row(ctx.config, i, n, format_ipv4(n.addr.octets())))
            .collect()
    }
}

static ND_VIEW: View = View::classic(
    &[FlagSlot::optional(&[('R', "router")])],
    &[
        Column::new("address", "ADDRESS"),
        Column::new("interface", "INTERFACE"),
        Column::new("mac-address", "MAC-ADDRESS"),
        Column::new("status", "STATUS"),
    ],
);

/// `/ipv6 neighbor`.
pub struct Ipv6Neighbors;

impl Table for Ipv6Neighbors {
    fn view(&self) -> &'static View {
        &ND_VIEW
    }

    fn access(&self) -> Access {
        Access::ReadOnly
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        ctx.platform
            .nd_entries()
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut r = row(ctx.config, i, n, format_ipv6(&n.addr.octets()));
                r.flags.clear();
                r.flag_if(n.router, 'R')
            })
            .collect()
    }
}
