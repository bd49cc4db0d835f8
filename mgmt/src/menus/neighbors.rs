//! `/ip arp` and `/ipv6 neighbor`: the host's neighbour tables, as the platform's IP endpoint
//! keeps them. `/ip arp` also holds the static entries (`add address= mac-address=
//! interface=`, part of the configuration, no `D` flag, status `permanent`), which the host
//! uses instead of asking; the dynamic ones (`D`) are learned and cannot be changed.
//! `/ipv6 neighbor` is read-only.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Access, Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, IfaceRef, ItemId, StaticArp};
use crate::network_derive::interface_order;
use crate::platform::{IfaceId, Neighbor, NeighborState, Platform};
use crate::references::bind_missing;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{format_ipv4, format_ipv6, format_mac, quote_if_needed};

/// Row ids of dynamic ARP entries (they are not configuration items).
const DYNAMIC_ROW: ItemId = 0x4000_0000;

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

static ARP_FIELDS: [Field; 5] = [
    Field::new("address", Kind::Ipv4, "The neighbour's IPv4 address"),
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the entry is disabled"),
    Field::new(
        "interface",
        Kind::Ref(RefKind::Interface),
        "Interface the neighbour is on",
    ),
    Field::new("mac-address", Kind::Mac, "The neighbour's MAC address"),
];

/// `/ip arp`.
pub struct Arp;

const STATIC_ARP: ItemList<StaticArp> = ItemList {
    list: |c| &mut c.static_arp,
    change,
};

/// Applies `add`/`set` arguments; one static entry per address and interface.
fn change(config: &Config, entry: &mut StaticArp, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("address", Value::Ipv4(a)) => entry.address = *a,
            ("comment", Value::Text(text)) => entry.comment = text.clone(),
            ("disabled", Value::Bool(b)) => entry.disabled = *b,
            ("interface", Value::Iface(iface)) => entry.interface = *iface,
            ("mac-address", Value::Mac(mac)) => entry.mac_address = *mac,
            _ => {}
        }
    }
    if entry.mac_address[0] & 1 != 0 || entry.mac_address == [0; 6] {
        return Err(CmdError::failure("mac-address must be a unicast address"));
    }
    if config
        .static_arp
        .iter()
        .any(|a| a.id != entry.id && a.address == entry.address && a.interface == entry.interface)
    {
        return Err(CmdError::failure(format!(
            "there is already a static entry for {} on {}",
            format_ipv4(entry.address),
            config.iface_label(entry.interface)
        )));
    }
    Ok(())
}

fn static_row(config: &Config, entry: &StaticArp) -> Row {
    let invalid = config.iface_name(entry.interface).is_none();
    Row::item(entry.id)
        .flag_if(entry.disabled, 'X')
        .flag_if(!entry.disabled && invalid, 'I')
        .flag_if(!entry.disabled && !invalid, 'C')
        .word("address", format_ipv4(entry.address))
        .word("mac-address", format_mac(&entry.mac_address))
        .word("interface", config.iface_label(entry.interface))
        .word("status", "permanent")
        .word("dynamic", "no")
        .with_comment(&entry.comment)
}

/// Refuses to `verb` a dynamic entry.
fn check_static(config: &Config, id: ItemId, verb: &str) -> Result<(), CmdError> {
    if id & DYNAMIC_ROW != 0 {
        return Err(CmdError::failure(format!("can not {verb} dynamic entry")));
    }
    config
        .static_arp
        .get(id)
        .map(|_| ())
        .ok_or(CmdError::NoSuchItem)
}

impl Table for Arp {
    fn view(&self) -> &'static View {
        &ARP_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &ARP_FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["address", "interface", "mac-address"]
    }

    /// The static entries, then the learned ones (the endpoint's copies of the static
    /// entries, `permanent`, are the static rows).
    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let mut rows: Vec<Row> = ctx
            .config
            .static_arp
            .iter()
            .map(|e| static_row(ctx.config, e))
            .collect();
        rows.extend(
            ctx.platform
                .arp_entries()
                .iter()
                .filter(|n| n.state != NeighborState::Permanent)
                .enumerate()
                .map(|(i, n)| {
                    let mut r = row(ctx.config, i, n, format_ipv4(n.addr.octets()));
                    r.id = Some(DYNAMIC_ROW | i as ItemId);
                    r
                }),
        );
        rows
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let bound = bind_missing(config, args);
        let args = bound.as_ref().unwrap_or(args);
        let id = config.new_id();
        let entry = match copy_from.and_then(|from| config.static_arp.get(from)) {
            Some(from) => StaticArp { id, ..from.clone() },
            None => StaticArp {
                id,
                address: [0; 4],
                mac_address: [0; 6],
                interface: IfaceRef::Ether(u16::MAX),
                disabled: false,
                comment: String::new(),
            },
        };
        STATIC_ARP.add(config, entry, args)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        check_static(config, id, "change")?;
        let bound = bind_missing(config, args);
        STATIC_ARP.set(config, id, bound.as_ref().unwrap_or(args))
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        check_static(config, id, "remove")?;
        STATIC_ARP.remove(config, id)
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.static_arp.iter().map(|a| a.id).collect()
    }

    /// A gone interface is written by the name it remembers.
    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let a = config.static_arp.get(id)?;
        let mut line = format!("add address={}", format_ipv4(a.address));
        push_comment(&mut line, &a.comment);
        push_disabled(&mut line, a.disabled);
        let iface = config.ref_name(a.interface).unwrap_or_default();
        push_pair(&mut line, "interface", &quote_if_needed(iface));
        push_pair(&mut line, "mac-address", &format_mac(&a.mac_address));
        Some(line)
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
