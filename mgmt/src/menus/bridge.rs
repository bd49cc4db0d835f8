//! `/interface bridge` and `/interface bridge port`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::Table;
use crate::cli::table::{Column, FlagSlot, Row, Style, View};
use crate::config::{Bridge, BridgePort, Config, IfaceRef, ItemId, VmIfaceType, ARP_MODES, PROTOCOL_MODES};
use crate::platform::Platform;
use crate::value::{format_duration, format_mac, quote_if_needed};

static FIELDS: [Field; 13] = [
    Field { name: "admin-mac", kind: Kind::Mac, help: "MAC used when auto-mac=no" },
    Field { name: "ageing-time", kind: Kind::Duration { min: 10, max: 1_000_000 }, help: "How long a learned host is remembered" },
    Field { name: "arp", kind: Kind::Choice(ARP_MODES), help: "ARP mode" },
    Field { name: "auto-mac", kind: Kind::Bool, help: "Take the MAC of the first port" },
    Field { name: "comment", kind: Kind::Text, help: "Short description of the item" },
    Field { name: "disabled", kind: Kind::Bool, help: "Whether the bridge is disabled" },
    Field { name: "forward-delay", kind: Kind::Duration { min: 4, max: 30 }, help: "STP forward delay" },
    Field { name: "max-message-age", kind: Kind::Duration { min: 6, max: 40 }, help: "STP maximum message age" },
    Field { name: "mtu", kind: Kind::Int { min: 68, max: 9000, unit: "" }, help: "Layer 3 MTU" },
    Field { name: "name", kind: Kind::Name, help: "Bridge name" },
    Field { name: "priority", kind: Kind::Int { min: 0, max: 65535, unit: "" }, help: "STP bridge priority" },
    Field { name: "protocol-mode", kind: Kind::Choice(PROTOCOL_MODES), help: "Spanning tree protocol" },
    Field { name: "transmit-hold-count", kind: Kind::Int { min: 1, max: 10, unit: "" }, help: "STP transmit hold count" },
];

static VIEW: View = View {
    style: Style::Classic,
    slots: &[FlagSlot { flags: &[('X', "disabled"), ('R', "running")], optional: false }],
    columns: &[Column { prop: "name", header: "NAME", abbreviate: false }],
    detail_default: true,
    numbers: true,
};

/// The `/interface bridge` table.
pub struct Bridges;

/// The MAC a bridge uses: the first port's with auto-mac, else admin-mac.
pub fn bridge_mac(config: &Config, platform: &dyn Platform, id: ItemId) -> [u8; 6] {
    let Some(bridge) = config.bridge(id) else { return [0; 6] };
    if !bridge.auto_mac {
        return bridge.admin_mac;
    }
    ports_of(config, id)
        .into_iter()
        .filter(|iface| !matches!(iface, IfaceRef::Bridge(_)))
        .map(|iface| super::interface::mac_of(config, platform, iface))
        .next()
        .unwrap_or([0; 6])
}

/// Member interfaces of a bridge: static ports, then dynamic ones (by `dynamic-bridge`).
pub fn ports_of(config: &Config, bridge: ItemId) -> Vec<IfaceRef> {
    let mut out: Vec<IfaceRef> =
        config.bridge_ports.iter().filter(|p| p.bridge == bridge).map(|p| p.interface).collect();
    out.extend(
        config
            .vm_ifaces
            .iter()
            .filter(|i| i.kind == VmIfaceType::Dynamic && i.dynamic_bridge == Some(bridge))
            .map(|i| IfaceRef::Vif(i.id)),
    );
    out
}

fn apply(bridge: &mut Bridge, args: &Args) {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("admin-mac", Value::Mac(mac)) => bridge.admin_mac = *mac,
            ("ageing-time", Value::Int(s)) => bridge.ageing_time = *s,
            ("arp", Value::Word(mode)) => bridge.arp = mode,
            ("auto-mac", Value::Bool(b)) => bridge.auto_mac = *b,
            ("comment", Value::Text(text)) => bridge.comment = text.clone(),
            ("disabled", Value::Bool(b)) => bridge.disabled = *b,
            ("forward-delay", Value::Int(s)) => bridge.forward_delay = *s,
            ("max-message-age", Value::Int(s)) => bridge.max_message_age = *s,
            ("mtu", Value::Int(mtu)) => bridge.mtu = *mtu as u16,
            ("name", Value::Text(name)) => bridge.name = name.clone(),
            ("priority", Value::Int(p)) => bridge.priority = *p as u16,
            ("protocol-mode", Value::Word(mode)) => bridge.protocol_mode = mode,
            ("transmit-hold-count", Value::Int(n)) => bridge.transmit_hold_count = *n,
            _ => {}
        }
    }
}

fn default_bridge(id: ItemId, name: String) -> Bridge {
    Bridge {
        id,
        name,
        mtu: 1500,
        arp: "enabled",
        auto_mac: true,
        admin_mac: [0; 6],
        protocol_mode: "none",
        priority: 0x8000,
        max_message_age: 20,
        forward_delay: 15,
        transmit_hold_count: 6,
        ageing_time: 300,
        disabled: false,
        comment: String::new(),
    }
}

impl Table for Bridges {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn rows(&self, config: &Config, platform: &dyn Platform) -> Vec<Row> {
        config
            .bridges
            .iter()
            .map(|b| {
                let mut row = Row::item(b.id)
                    .flag_if(b.disabled, 'X')
                    .flag_if(!b.disabled, 'R')
                    .text("name", b.name.clone())
                    .num("mtu", format!("{}", b.mtu))
                    .word("arp", b.arp)
                    .word("mac-address", format_mac(&bridge_mac(config, platform, b.id)))
                    .word("protocol-mode", b.protocol_mode)
                    .word("priority", format!("0x{:X}", b.priority))
                    .word("auto-mac", if b.auto_mac { "yes" } else { "no" })
                    .word("admin-mac", format_mac(&b.admin_mac))
                    .word("max-message-age", format_duration(b.max_message_age))
                    .word("forward-delay", format_duration(b.forward_delay))
                    .num("transmit-hold-count", format!("{}", b.transmit_hold_count))
                    .word("ageing-time", format_duration(b.ageing_time));
                row.comment = b.comment.clone();
                row
            })
            .collect()
    }

    fn add(&self, config: &mut Config, _platform: &dyn Platform, args: &Args, copy_from: Option<ItemId>) -> Result<ItemId, CmdError> {
        let id = config.new_id();
        let name = (1..).map(|n| format!("bridge{n}")).find(|n| config.find_iface(n).is_none()).unwrap_or_default();
        let mut bridge = match copy_from.and_then(|from| config.bridge(from)) {
            Some(from) => Bridge { id, name, ..from.clone() },
            None => default_bridge(id, name),
        };
        apply(&mut bridge, args);
        super::interface::check_iface_name(config, &bridge.name, IfaceRef::Bridge(id))?;
        config.bridges.push(bridge);
        Ok(id)
    }

    fn set(&self, config: &mut Config, _platform: &dyn Platform, id: ItemId, args: &Args) -> Result<(), CmdError> {
        if let Some(name) = args.text("name") {
            super::interface::check_iface_name(config, name, IfaceRef::Bridge(id))?;
        }
        let bridge = config.bridges.iter_mut().find(|b| b.id == id).ok_or(CmdError::NoSuchItem)?;
        apply(bridge, args);
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        if config.bridge(id).is_none() {
            return Err(CmdError::NoSuchItem);
        }
        config.bridges.retain(|b| b.id != id);
        config.bridge_ports.retain(|p| p.bridge != id && p.interface != IfaceRef::Bridge(id));
        for iface in &mut config.vm_ifaces {
            if iface.dynamic_bridge == Some(id) {
                iface.dynamic_bridge = None;
            }
        }
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        let defaults = default_bridge(0, String::new());
        config
            .bridges
            .iter()
            .map(|b| {
                let mut line = String::from("add");
                if b.admin_mac != defaults.admin_mac {
                    line.push_str(&format!(" admin-mac={}", format_mac(&b.admin_mac)));
                }
                if b.ageing_time != defaults.ageing_time {
                    line.push_str(&format!(" ageing-time={}", format_duration(b.ageing_time)));
                }
                if b.arp != defaults.arp {
                    line.push_str(&format!(" arp={}", b.arp));
                }
                if !b.auto_mac {
                    line.push_str(" auto-mac=no");
                }
                if !b.comment.is_empty() {
                    line.push_str(&format!(" comment={}", quote_if_needed(&b.comment)));
                }
                if b.disabled {
                    line.push_str(" disabled=yes");
                }
                if b.forward_delay != defaults.forward_delay {
                    line.push_str(&format!(" forward-delay={}", format_duration(b.forward_delay)));
                }
                if b.max_message_age != defaults.max_message_age {
                    line.push_str(&format!(" max-message-age={}", format_duration(b.max_message_age)));
                }
                if b.mtu != defaults.mtu {
                    line.push_str(&format!(" mtu={}", b.mtu));
                }
                line.push_str(&format!(" name={}", quote_if_needed(&b.name)));
                if b.priority != defaults.priority {
                    line.push_str(&format!(" priority=0x{:X}", b.priority));
                }
                if b.protocol_mode != defaults.protocol_mode {
                    line.push_str(&format!(" protocol-mode={}", b.protocol_mode));
                }
                if b.transmit_hold_count != defaults.transmit_hold_count {
                    line.push_str(&format!(" transmit-hold-count={}", b.transmit_hold_count));
                }
                line
            })
            .collect()
    }
}

static PORT_FIELDS: [Field; 7] = [
    Field { name: "bridge", kind: Kind::Ref(RefKind::Bridge), help: "The bridge" },
    Field { name: "comment", kind: Kind::Text, help: "Short description of the item" },
    Field { name: "disabled", kind: Kind::Bool, help: "Whether the port is disabled" },
    Field { name: "horizon", kind: Kind::IntOr { min: 0, max: 4_294_967_295, unit: "", word: "none" }, help: "Split horizon group" },
    Field { name: "interface", kind: Kind::Ref(RefKind::Interface), help: "Member interface" },
    Field { name: "path-cost", kind: Kind::Int { min: 1, max: 65535, unit: "" }, help: "STP path cost" },
    Field { name: "priority", kind: Kind::Int { min: 0, max: 255, unit: "" }, help: "STP port priority" },
];

static PORT_VIEW: View = View {
    style: Style::Classic,
    slots: &[
        FlagSlot { flags: &[('X', "disabled"), ('I', "inactive")], optional: false },
        FlagSlot { flags: &[('D', "dynamic")], optional: false },
    ],
    columns: &[
        Column { prop: "interface", header: "INTERFACE", abbreviate: false },
        Column { prop: "bridge", header: "BRIDGE", abbreviate: false },
        Column { prop: "priority", header: "PRIORITY", abbreviate: false },
        Column { prop: "path-cost", header: "PATH-COST", abbreviate: false },
        Column { prop: "horizon", header: "HORIZON", abbreviate: false },
    ],
    detail_default: false,
    numbers: true,
};

/// The `/interface bridge port` table.
pub struct BridgePorts;

fn apply_port(port: &mut BridgePort, args: &Args) {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("bridge", Value::Item(id)) => port.bridge = *id,
            ("comment", Value::Text(text)) => port.comment = text.clone(),
            ("disabled", Value::Bool(b)) => port.disabled = *b,
            ("horizon", Value::Int(h)) => port.horizon = Some(*h as u32),
            ("horizon", _) => port.horizon = None,
            ("interface", Value::Iface(iface)) => port.interface = *iface,
            ("path-cost", Value::Int(c)) => port.path_cost = *c as u32,
            ("priority", Value::Int(p)) => port.priority = *p as u8,
            _ => {}
        }
    }
}

fn validate_port(config: &Config, port: &BridgePort) -> Result<(), CmdError> {
    match port.interface {
        IfaceRef::Bridge(id) if id == port.bridge => return Err(CmdError::failure("cannot add bridge to itself")),
        IfaceRef::Bridge(_) => return Err(CmdError::failure("a bridge cannot be a port of another bridge")),
        IfaceRef::Ether(p) if super::interface::static_owner(config, p).is_some() => {
            return Err(CmdError::failure("interface is given to a virtual machine"))
        }
        IfaceRef::Vif(id) if config.vm_ifaces.iter().any(|i| i.id == id && i.dynamic_bridge.is_some()) => {
            return Err(CmdError::failure("interface is already a dynamic bridge port"))
        }
        _ => {}
    }
    if config.bridge_ports.iter().any(|p| p.id != port.id && p.interface == port.interface) {
        return Err(CmdError::failure("device already added as bridge port"));
    }
    Ok(())
}

fn port_row(config: &Config, id: Option<ItemId>, port: &BridgePort) -> Row {
    let inactive = config.iface_name(port.interface).is_none() || config.iface_disabled(port.interface);
    let mut row = Row { id, numbered: id.is_some(), ..Row::default() }
        .flag_if(port.disabled, 'X')
        .flag_if(!port.disabled && inactive, 'I')
        .flag_if(id.is_none(), 'D')
        .word("interface", config.iface_label(port.interface))
        .word("bridge", config.bridge(port.bridge).map_or(String::new(), |b| b.name.clone()))
        .word("priority", format!("0x{:X}", port.priority))
        .num("path-cost", format!("{}", port.path_cost))
        .word("horizon", port.horizon.map_or(String::from("none"), |h| format!("{h}")));
    row.comment = port.comment.clone();
    row
}

/// Every bridge port: configured ones, then the dynamic ports of `dynamic-bridge`.
pub fn all_ports(config: &Config) -> Vec<(Option<ItemId>, BridgePort)> {
    let mut out: Vec<(Option<ItemId>, BridgePort)> =
        config.bridge_ports.iter().map(|p| (Some(p.id), p.clone())).collect();
    for iface in &config.vm_ifaces {
        if let (VmIfaceType::Dynamic, Some(bridge)) = (iface.kind, iface.dynamic_bridge) {
            out.push((
                None,
                BridgePort {
                    id: 0,
                    interface: IfaceRef::Vif(iface.id),
                    bridge,
                    priority: 0x80,
                    path_cost: 10,
                    horizon: None,
                    disabled: iface.disabled,
                    comment: String::new(),
                },
            ));
        }
    }
    out
}

impl Table for BridgePorts {
    fn view(&self) -> &'static View {
        &PORT_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &PORT_FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["bridge", "interface"]
    }

    fn rows(&self, config: &Config, _platform: &dyn Platform) -> Vec<Row> {
        all_ports(config).iter().map(|(id, port)| port_row(config, *id, port)).collect()
    }

    fn add(&self, config: &mut Config, _platform: &dyn Platform, args: &Args, copy_from: Option<ItemId>) -> Result<ItemId, CmdError> {
        let id = config.new_id();
        let mut port = match copy_from.and_then(|from| config.bridge_ports.iter().find(|p| p.id == from)) {
            Some(from) => BridgePort { id, ..from.clone() },
            None => BridgePort {
                id,
                interface: IfaceRef::Ether(u16::MAX),
                bridge: 0,
                priority: 0x80,
                path_cost: 10,
                horizon: None,
                disabled: false,
                comment: String::new(),
            },
        };
        apply_port(&mut port, args);
        validate_port(config, &port)?;
        config.bridge_ports.push(port);
        Ok(id)
    }

    fn set(&self, config: &mut Config, _platform: &dyn Platform, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let index = config.bridge_ports.iter().position(|p| p.id == id).ok_or(CmdError::NoSuchItem)?;
        let mut port = config.bridge_ports[index].clone();
        apply_port(&mut port, args);
        validate_port(config, &port)?;
        config.bridge_ports[index] = port;
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let before = config.bridge_ports.len();
        config.bridge_ports.retain(|p| p.id != id);
        if before == config.bridge_ports.len() {
            return Err(CmdError::NoSuchItem);
        }
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .bridge_ports
            .iter()
            .filter_map(|p| {
                let bridge = config.bridge(p.bridge)?;
                let iface = config.iface_name(p.interface)?;
                let mut line = format!("add bridge={}", quote_if_needed(&bridge.name));
                if !p.comment.is_empty() {
                    line.push_str(&format!(" comment={}", quote_if_needed(&p.comment)));
                }
                if p.disabled {
                    line.push_str(" disabled=yes");
                }
                if let Some(h) = p.horizon {
                    line.push_str(&format!(" horizon={h}"));
                }
                line.push_str(&format!(" interface={}", quote_if_needed(iface)));
                if p.path_cost != 10 {
                    line.push_str(&format!(" path-cost={}", p.path_cost));
                }
                if p.priority != 0x80 {
                    line.push_str(&format!(" priority=0x{:X}", p.priority));
                }
                Some(line)
            })
            .collect()
    }
}
