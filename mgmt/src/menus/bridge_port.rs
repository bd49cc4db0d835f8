//! `/interface bridge port`: configured bridge ports, plus the dynamic ports that
//! `/metarouter interface ... dynamic-bridge=` creates (flag `D`, unnumbered). A port whose
//! bridge or interface was removed stays, inactive (`I`, the gone one shown as `*N`), until an
//! interface of that name exists again.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{BridgePort, Config, IfaceRef, ItemId, VmIfaceType};
use crate::platform::Platform;
use crate::references::bind_missing;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::quote_if_needed;

static PORT_FIELDS: [Field; 7] = [
    Field::new("bridge", Kind::Ref(RefKind::Bridge), "The bridge"),
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the port is disabled"),
    Field::new(
        "horizon",
        Kind::IntOr {
            min: 0,
            max: 4_294_967_295,
            unit: "",
            word: "none",
        },
        "Split horizon group",
    ),
    Field::new(
        "interface",
        Kind::Ref(RefKind::Interface),
        "Member interface",
    ),
    Field::new("path-cost", Kind::int(1, 65535), "STP path cost"),
    Field::new("priority", Kind::int(0, 255), "STP port priority"),
];

static PORT_VIEW: View = View::classic(
    &[
        FlagSlot::new(&[('X', "disabled"), ('I', "inactive")]),
        FlagSlot::new(&[('D', "dynamic")]),
    ],
    &[
        Column::new("interface", "INTERFACE"),
        Column::new("bridge", "BRIDGE"),
        Column::new("priority", "PRIORITY"),
        Column::new("path-cost", "PATH-COST"),
        Column::new("horizon", "HORIZON"),
    ],
);

/// The `/interface bridge port` table.
pub struct BridgePorts;

const PORTS: ItemList<BridgePort> = ItemList {
    list: |c| &mut c.bridge_ports,
    change,
};

/// STP priority of a port unless set.
const DEFAULT_PRIORITY: u8 = 0x80;
/// STP path cost of a port unless set.
const DEFAULT_PATH_COST: u32 = 10;

/// A port with the default settings.
fn new_port(id: ItemId, interface: IfaceRef, bridge: IfaceRef) -> BridgePort {
    BridgePort {
        id,
        interface,
        bridge,
        priority: DEFAULT_PRIORITY,
        path_cost: DEFAULT_PATH_COST,
        horizon: None,
        disabled: false,
        comment: String::new(),
    }
}

/// Applies `add`/`set` arguments and checks the port against the bridges and the other ports.
fn change(config: &Config, port: &mut BridgePort, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("bridge", Value::Iface(bridge)) => port.bridge = *bridge,
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
    match port.interface {
        IfaceRef::Bridge(_) if port.interface == port.bridge => {
            return Err(CmdError::failure("cannot add bridge to itself"))
        }
        IfaceRef::Bridge(_) => {
            return Err(CmdError::failure(
                "a bridge cannot be a port of another bridge",
            ))
        }
        IfaceRef::Ether(p) if super::interface::static_owner(config, p).is_some() => {
            let owner = super::interface::static_owner(config, p)
                .and_then(|i| config.vm_ifaces.iter().find(|v| v.id == i))
                .and_then(|i| config.vm(i.vm))
                .map_or(String::new(), |vm| vm.name.clone());
            return Err(CmdError::failure(format!(
                "{} is given to virtual machine {owner}",
                config.iface_label(port.interface)
            )));
        }
        IfaceRef::Vif(id) => {
            let dynamic = config
                .vm_ifaces
                .iter()
                .find(|i| i.id == id)
                .and_then(|i| i.dynamic_bridge);
            if let Some(bridge) = dynamic {
                return Err(CmdError::failure(format!(
                    "{} is already a dynamic port of bridge {}",
                    config.iface_label(port.interface),
                    config.iface_label(bridge)
                )));
            }
        }
        _ => {}
    }
    if config
        .bridge_ports
        .iter()
        .any(|p| p.id != port.id && p.interface == port.interface)
    {
        return Err(CmdError::failure("device already added as bridge port"));
    }
    Ok(())
}

fn port_row(config: &Config, id: Option<ItemId>, port: &BridgePort) -> Row {
    let inactive = config.iface_name(port.interface).is_none()
        || config.iface_disabled(port.interface)
        || config.iface_name(port.bridge).is_none();
    Row {
        id,
        numbered: id.is_some(),
        ..Row::default()
    }
    .flag_if(port.disabled, 'X')
    .flag_if(!port.disabled && inactive, 'I')
    .flag_if(id.is_none(), 'D')
    .word("interface", config.iface_label(port.interface))
    .word("bridge", config.iface_label(port.bridge))
    .word("priority", format!("0x{:X}", port.priority))
    .num("path-cost", format!("{}", port.path_cost))
    .word(
        "horizon",
        port.horizon
            .map_or(String::from("none"), |h| format!("{h}")),
    )
    .with_comment(&port.comment)
}

/// Every bridge port: configured ones, then the dynamic ports of `dynamic-bridge`.
pub fn all_ports(config: &Config) -> Vec<(Option<ItemId>, BridgePort)> {
    let mut out: Vec<(Option<ItemId>, BridgePort)> = config
        .bridge_ports
        .iter()
        .map(|p| (Some(p.id), p.clone()))
        .collect();
    for iface in &config.vm_ifaces {
        if let (VmIfaceType::Dynamic, Some(bridge)) = (iface.kind, iface.dynamic_bridge) {
            let port = new_port(0, IfaceRef::Vif(iface.id), bridge);
            out.push((
                None,
                BridgePort {
                    disabled: iface.disabled,
                    ..port
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

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, _platform) = (ctx.config, ctx.platform);
        all_ports(config)
            .iter()
            .map(|(id, port)| port_row(config, *id, port))
            .collect()
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
        let port =
            match copy_from.and_then(|from| config.bridge_ports.iter().find(|p| p.id == from)) {
                Some(from) => BridgePort { id, ..from.clone() },
                None => new_port(id, IfaceRef::Ether(u16::MAX), IfaceRef::Bridge(0)),
            };
        PORTS.add(config, port, args)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let bound = bind_missing(config, args);
        PORTS.set(config, id, bound.as_ref().unwrap_or(args))
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        PORTS.remove(config, id)
    }

    /// A gone bridge or interface is written by the name it remembers.
    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.bridge_ports.iter().map(|p| p.id).collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let p = config.bridge_ports.get(id)?;
        let bridge = config.ref_name(p.bridge).unwrap_or_default();
        let iface = config.ref_name(p.interface).unwrap_or_default();
        let mut line = format!("add bridge={}", quote_if_needed(bridge));
        push_comment(&mut line, &p.comment);
        push_disabled(&mut line, p.disabled);
        if let Some(h) = p.horizon {
            push_pair(&mut line, "horizon", &h);
        }
        push_pair(&mut line, "interface", &quote_if_needed(iface));
        if p.path_cost != DEFAULT_PATH_COST {
            push_pair(&mut line, "path-cost", &p.path_cost);
        }
        if p.priority != DEFAULT_PRIORITY {
            let _ = write!(line, " priority=0x{:X}", p.priority);
        }
        Some(line)
    }
}
