//! `/interface bridge port`: configured bridge ports, plus the dynamic ports that
//! `/metarouter interface ... dynamic-bridge=` creates (flag `D`, unnumbered).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::Table;
use crate::cli::table::{Column, FlagSlot, Row, Style, View};
use crate::config::{BridgePort, Config, IfaceRef, ItemId, VmIfaceType};
use crate::export::push_pair;
use crate::platform::Platform;
use crate::value::quote_if_needed;

static PORT_FIELDS: [Field; 7] = [
    Field {
        name: "bridge",
        kind: Kind::Ref(RefKind::Bridge),
        help: "The bridge",
    },
    Field {
        name: "comment",
        kind: Kind::Text,
        help: "Short description of the item",
    },
    Field {
        name: "disabled",
        kind: Kind::Bool,
        help: "Whether the port is disabled",
    },
    Field {
        name: "horizon",
        kind: Kind::IntOr {
            min: 0,
            max: 4_294_967_295,
            unit: "",
            word: "none",
        },
        help: "Split horizon group",
    },
    Field {
        name: "interface",
        kind: Kind::Ref(RefKind::Interface),
        help: "Member interface",
    },
    Field {
        name: "path-cost",
        kind: Kind::Int {
            min: 1,
            max: 65535,
            unit: "",
        },
        help: "STP path cost",
    },
    Field {
        name: "priority",
        kind: Kind::Int {
            min: 0,
            max: 255,
            unit: "",
        },
        help: "STP port priority",
    },
];

static PORT_VIEW: View = View {
    style: Style::Classic,
    slots: &[
        FlagSlot {
            flags: &[('X', "disabled"), ('I', "inactive")],
            optional: false,
        },
        FlagSlot {
            flags: &[('D', "dynamic")],
            optional: false,
        },
    ],
    columns: &[
        Column {
            prop: "interface",
            header: "INTERFACE",
            abbreviate: false,
        },
        Column {
            prop: "bridge",
            header: "BRIDGE",
            abbreviate: false,
        },
        Column {
            prop: "priority",
            header: "PRIORITY",
            abbreviate: false,
        },
        Column {
            prop: "path-cost",
            header: "PATH-COST",
            abbreviate: false,
        },
        Column {
            prop: "horizon",
            header: "HORIZON",
            abbreviate: false,
        },
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
        IfaceRef::Bridge(id) if id == port.bridge => {
            return Err(CmdError::failure("cannot add bridge to itself"))
        }
        IfaceRef::Bridge(_) => {
            return Err(CmdError::failure(
                "a bridge cannot be a port of another bridge",
            ))
        }
        IfaceRef::Ether(p) if super::interface::static_owner(config, p).is_some() => {
            return Err(CmdError::failure("interface is given to a virtual machine"))
        }
        IfaceRef::Vif(id)
            if config
                .vm_ifaces
                .iter()
                .any(|i| i.id == id && i.dynamic_bridge.is_some()) =>
        {
            return Err(CmdError::failure(
                "interface is already a dynamic bridge port",
            ))
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
    let inactive =
        config.iface_name(port.interface).is_none() || config.iface_disabled(port.interface);
    let mut row = Row {
        id,
        numbered: id.is_some(),
        ..Row::default()
    }
    .flag_if(port.disabled, 'X')
    .flag_if(!port.disabled && inactive, 'I')
    .flag_if(id.is_none(), 'D')
    .word("interface", config.iface_label(port.interface))
    .word(
        "bridge",
        config
            .bridge(port.bridge)
            .map_or(String::new(), |b| b.name.clone()),
    )
    .word("priority", format!("0x{:X}", port.priority))
    .num("path-cost", format!("{}", port.path_cost))
    .word(
        "horizon",
        port.horizon
            .map_or(String::from("none"), |h| format!("{h}")),
    );
    row.comment = port.comment.clone();
    row
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
        let id = config.new_id();
        let mut port =
            match copy_from.and_then(|from| config.bridge_ports.iter().find(|p| p.id == from)) {
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

    fn set(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        id: ItemId,
        args: &Args,
    ) -> Result<(), CmdError> {
        let index = config
            .bridge_ports
            .iter()
            .position(|p| p.id == id)
            .ok_or(CmdError::NoSuchItem)?;
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
                    push_pair(&mut line, "comment", &quote_if_needed(&p.comment));
                }
                if p.disabled {
                    line.push_str(" disabled=yes");
                }
                if let Some(h) = p.horizon {
                    push_pair(&mut line, "horizon", &h);
                }
                push_pair(&mut line, "interface", &quote_if_needed(iface));
                if p.path_cost != 10 {
                    push_pair(&mut line, "path-cost", &p.path_cost);
                }
                if p.priority != 0x80 {
                    let _ = write!(line, " priority=0x{:X}", p.priority);
                }
                Some(line)
            })
            .collect()
    }
}
