//! `/interface` (every interface, read-only here) and `/interface ethernet` (the physical ports:
//! rename, MTU, ARP, enable/disable).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::items::COMMENT;
use crate::cli::args::{Args, Field, Kind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Access, Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, IfaceRef, ItemId, VmIfaceType, ARP_MODES};
use crate::platform::{GuestState, Platform};
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{format_mac, quote_if_needed};

/// Item ids of physical ports in tables (ports are not configuration items).
pub fn port_item(port: u16) -> ItemId {
    0x8000_0000 | u32::from(port)
}

/// Whether an interface is up: enabled and, for ports, link up and not handed to a guest; for
/// vifs, the guest is running.
pub fn running(config: &Config, platform: &dyn Platform, iface: IfaceRef) -> bool {
    if config.iface_disabled(iface) {
        return false;
    }
    match iface {
        IfaceRef::Ether(port) => {
            platform.port(usize::from(port)).is_some_and(|p| p.running)
                && static_owner(config, port).is_none()
        }
        IfaceRef::Bridge(_) => true,
        IfaceRef::Gone(_) => false,
        // A VLAN runs while its parent does.
        IfaceRef::Vlan(id) => config.vlans.get(id).is_some_and(|v| {
            !matches!(v.interface, IfaceRef::Vlan(_)) && running(config, platform, v.interface)
        }),
        IfaceRef::Vif(id) => config
            .vm_ifaces
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| config.vm(i.vm))
            .is_some_and(|vm| super::metarouter::state_of(vm, platform) == GuestState::Running),
    }
}

/// The guest interface a port is handed to, if any.
pub fn static_owner(config: &Config, port: u16) -> Option<ItemId> {
    config
        .vm_ifaces
        .iter()
        .find(|i| i.kind == VmIfaceType::Static && i.static_interface == Some(port) && !i.disabled)
        .map(|i| i.id)
}

/// Host MAC of an interface.
pub fn mac_of(config: &Config, platform: &dyn Platform, iface: IfaceRef) -> [u8; 6] {
    match iface {
        IfaceRef::Ether(port) => platform.port(usize::from(port)).map_or([0; 6], |p| p.mac),
        IfaceRef::Bridge(id) => super::bridge::bridge_mac(config, platform, id),
        IfaceRef::Vif(id) => config
            .vm_ifaces
            .iter()
            .find(|i| i.id == id)
            .map_or([0; 6], |i| i.dynamic_mac),
        // A VLAN speaks with its parent's MAC, as in RouterOS.
        IfaceRef::Vlan(id) => config
            .vlans
            .get(id)
            .filter(|v| !matches!(v.interface, IfaceRef::Vlan(_)))
            .map_or([0; 6], |v| mac_of(config, platform, v.interface)),
        IfaceRef::Gone(_) => [0; 6],
    }
}

/// Whether an interface is a port of an existing bridge.
fn is_slave(config: &Config, iface: IfaceRef) -> bool {
    let exists = |bridge: IfaceRef| config.iface_name(bridge).is_some();
    config
        .bridge_ports
        .iter()
        .any(|p| p.interface == iface && exists(p.bridge))
        || matches!(iface, IfaceRef::Vif(id) if config.vm_ifaces.iter().any(|i| i.id == id && i.dynamic_bridge.is_some_and(exists)))
}

/// MTU of an interface.
pub fn mtu_of(config: &Config, iface: IfaceRef) -> u16 {
    match iface {
        IfaceRef::Ether(port) => config
            .ethernet
            .get(usize::from(port))
            .map_or(1500, |e| e.mtu),
        IfaceRef::Bridge(id) => config.bridge(id).map_or(1500, |b| b.mtu),
        IfaceRef::Vlan(id) => config.vlans.get(id).map_or(1500, |v| v.mtu),
        IfaceRef::Vif(_) | IfaceRef::Gone(_) => 1500,
    }
}

static ALL_VIEW: View = View::classic(
    &[
        FlagSlot::new(&[('D', "dynamic")]),
        FlagSlot::new(&[('X', "disabled"), ('R', "running")]),
        FlagSlot::new(&[('S', "slave")]),
    ],
    &[
        Column::new("name", "NAME"),
        Column::new("type", "TYPE"),
        Column::new("mtu", "MTU"),
    ],
);

/// The `/interface` table: every interface, read-only.
pub struct Interfaces;

fn iface_item(iface: IfaceRef) -> ItemId {
    match iface {
        IfaceRef::Ether(port) => port_item(port),
        IfaceRef::Bridge(id) | IfaceRef::Vif(id) | IfaceRef::Vlan(id) | IfaceRef::Gone(id) => id,
    }
}

impl Table for Interfaces {
    fn view(&self) -> &'static View {
        &ALL_VIEW
    }

    fn access(&self) -> Access {
        Access::ReadOnly
    }

    fn stats(&self, ctx: &ViewCtx<'_>) -> Option<(&'static View, Vec<Row>)> {
        let rows = self.rows(ctx);
        Some(super::interface_stats::stats(
            ctx.config,
            ctx.platform,
            rows,
        ))
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, platform) = (ctx.config, ctx.platform);
        config
            .interfaces()
            .into_iter()
            .map(|iface| {
                let kind = match iface {
                    IfaceRef::Ether(_) => "ether",
                    IfaceRef::Bridge(_) => "bridge",
                    IfaceRef::Vif(_) => "vif",
                    IfaceRef::Vlan(_) => "vlan",
                    IfaceRef::Gone(_) => "unknown",
                };
                let disabled = config.iface_disabled(iface);
                Row::item(iface_item(iface))
                    .flag_if(matches!(iface, IfaceRef::Vif(_)), 'D')
                    .flag_if(disabled, 'X')
                    .flag_if(!disabled && running(config, platform, iface), 'R')
                    .flag_if(is_slave(config, iface), 'S')
                    .text("name", config.iface_label(iface))
                    .word("type", kind)
                    .num("mtu", format!("{}", mtu_of(config, iface)))
                    .word("mac-address", format_mac(&mac_of(config, platform, iface)))
            })
            .collect()
    }
}

static ETHER_FIELDS: [Field; 5] = [
    Field::new("arp", Kind::Choice(ARP_MODES), "ARP mode"),
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the port is disabled"),
    Field::new("mtu", Kind::int(68, 9000), "Layer 3 MTU"),
    Field::new("name", Kind::Name, "Interface name"),
];

static ETHER_VIEW: View = View::classic(
    &[
        FlagSlot::new(&[('X', "disabled"), ('R', "running")]),
        FlagSlot::new(&[('S', "slave")]),
    ],
    &[
        Column::new("name", "NAME"),
        Column::new("mtu", "MTU"),
        Column::new("mac-address", "MAC-ADDRESS"),
        Column::new("arp", "ARP"),
    ],
);

/// The `/interface ethernet` table.
pub struct Ethernet;

/// The first of `prefix1`, `prefix2`, ... that no interface has (in any case).
pub fn free_iface_name(config: &Config, prefix: &str) -> String {
    (1..)
        .map(|n| format!("{prefix}{n}"))
        .find(|name| config.iface_named_like(name).is_none())
        .unwrap_or_default()
}

/// Refuses a name another interface already has (names are unique regardless of case).
pub fn check_iface_name(config: &Config, name: &str, this: IfaceRef) -> Result<(), CmdError> {
    match config.iface_named_like(name) {
        Some(other) if other != this => {
            Err(CmdError::failure("already have interface with such name"))
        }
        _ => Ok(()),
    }
}

impl Table for Ethernet {
    fn view(&self) -> &'static View {
        &ETHER_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &ETHER_FIELDS
    }

    fn access(&self) -> Access {
        Access::SetOnly
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, platform) = (ctx.config, ctx.platform);
        config
            .ethernet
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let iface = IfaceRef::Ether(i as u16);
                Row::item(port_item(i as u16))
                    .flag_if(port.disabled, 'X')
                    .flag_if(!port.disabled && running(config, platform, iface), 'R')
                    .flag_if(is_slave(config, iface), 'S')
                    .text("name", port.name.clone())
                    .text("default-name", port.default_name.clone())
                    .num("mtu", format!("{}", port.mtu))
                    .word("mac-address", format_mac(&mac_of(config, platform, iface)))
                    .word("arp", port.arp)
                    .with_comment(&port.comment)
            })
            .collect()
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let port = (id & 0xFFFF) as u16;
        if id & 0x8000_0000 == 0 || usize::from(port) >= config.ethernet.len() {
            return Err(CmdError::NoSuchItem);
        }
        if let Some(name) = args.text("name") {
            check_iface_name(config, name, IfaceRef::Ether(port))?;
        }
        let entry = &mut config.ethernet[usize::from(port)];
        for arg in &args.list {
            match (arg.field.name, &arg.value) {
                ("arp", Value::Word(mode)) => entry.arp = mode,
                ("comment", Value::Text(text)) => entry.comment = text.clone(),
                ("disabled", Value::Bool(b)) => entry.disabled = *b,
                ("mtu", Value::Int(mtu)) => entry.mtu = *mtu as u16,
                ("name", Value::Text(name)) => entry.name = name.clone(),
                _ => {}
            }
        }
        config.revive();
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .ethernet
            .iter()
            .filter_map(|port| {
                let mut changes = String::new();
                push_comment(&mut changes, &port.comment);
                if port.arp != "enabled" {
                    push_pair(&mut changes, "arp", &port.arp);
                }
                push_disabled(&mut changes, port.disabled);
                if port.mtu != 1500 {
                    push_pair(&mut changes, "mtu", &port.mtu);
                }
                if port.name != port.default_name {
                    push_pair(&mut changes, "name", &quote_if_needed(&port.name));
                }
                (!changes.is_empty())
                    .then(|| format!("set [ find default-name={} ]{changes}", port.default_name))
            })
            .collect()
    }
}
