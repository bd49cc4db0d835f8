//! `/metarouter interface`: guest interfaces. A dynamic one has a host side, `vifN`, that
//! appears in `/interface` and may join a bridge on its own (`dynamic-bridge`); a static one hands
//! a physical port to the guest.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::items::COMMENT;
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, IfaceRef, ItemId, VmIface, VmIfaceType};
use crate::platform::{GuestState, Platform};
use crate::references::bind_missing;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{format_mac, quote_if_needed};

/// Interface ids inside one guest (the ABI's data ids 1..=7).
pub const MAX_PER_GUEST: u8 = 7;

static FIELDS: [Field; 10] = [
    COMMENT,
    Field::new("copy-from", Kind::Text, "Item to copy properties from"),
    Field::new("disabled", Kind::Bool, "Whether the interface is unplugged"),
    Field::new(
        "dynamic-bridge",
        Kind::RefOr(RefKind::Bridge, "none"),
        "Bridge the host side joins by itself",
    ),
    Field::new(
        "dynamic-mac-address",
        Kind::Mac,
        "MAC of the host side (vifN)",
    ),
    Field::new(
        "host-interface",
        Kind::Name,
        "Name of the host side of a dynamic interface",
    ),
    Field::new(
        "static-interface",
        Kind::RefOr(RefKind::Ethernet, "none"),
        "Physical port handed to the guest",
    ),
    Field::new(
        "type",
        Kind::Choice(&["dynamic", "static"]),
        "dynamic (host side vifN) or static (a physical port)",
    ),
    Field::new(
        "virtual-machine",
        Kind::Ref(RefKind::Vm),
        "Virtual machine the interface belongs to",
    ),
    Field::new("vm-mac-address", Kind::Mac, "MAC the guest sees"),
];

static VIEW: View = View::classic(
    &[FlagSlot::new(&[('X', "disabled"), ('A', "active")])],
    &[
        Column::new("virtual-machine", "VIRTUAL-MACHINE"),
        Column::new("type", "TYPE"),
        Column::new("vm-mac-address", "VM-MAC-ADDRESS"),
    ],
);

/// The `/metarouter interface` table.
pub struct MrInterface;

/// Removes a guest interface. What referred to its host side (addresses, bridge ports,
/// routes) stays, invalid, until an interface of that name exists again.
pub fn remove_iface(config: &mut Config, id: ItemId) {
    config.forget_interface(IfaceRef::Vif(id));
    config.vm_ifaces.retain(|i| i.id != id);
}

/// A MAC derived from the box's identity (`crate::identity`) and `salt`, unique in `config`.
fn generate_mac(config: &Config, platform: &dyn Platform, salt: u64) -> [u8; 6] {
    let identity = crate::identity::identity(config);
    let mut salt = salt;
    loop {
        let mac = crate::identity::derive_mac(identity, salt);
        salt = salt.wrapping_add(1 << 32);
        let used = config
            .vm_ifaces
            .iter()
            .any(|i| i.vm_mac == mac || i.dynamic_mac == mac)
            || (0..platform.port_count()).any(|p| platform.port(p).is_some_and(|p| p.mac == mac));
        if !used {
            return mac;
        }
    }
}

/// A dynamic interface of no virtual machine yet, without MACs and host name.
fn new_iface(id: ItemId) -> VmIface {
    VmIface {
        id,
        vm: 0,
        kind: VmIfaceType::Dynamic,
        dynamic_bridge: None,
        dynamic_mac: [0; 6],
        vm_mac: [0; 6],
        static_interface: None,
        host_name: String::new(),
        guest_iface_id: 0,
        disabled: false,
        comment: String::new(),
    }
}

/// The lowest interface id (1..=7) not taken inside virtual machine `vm` (7 when all are).
fn free_guest_iface_id(config: &Config, vm: ItemId) -> u8 {
    (1..=MAX_PER_GUEST)
        .find(|n| {
            !config
                .vm_ifaces
                .iter()
                .any(|i| i.vm == vm && i.guest_iface_id == *n)
        })
        .unwrap_or(MAX_PER_GUEST)
}

fn apply(config: &Config, iface: &mut VmIface, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("comment", Value::Text(text)) => iface.comment = text.clone(),
            ("disabled", Value::Bool(b)) => iface.disabled = *b,
            ("dynamic-bridge", Value::Iface(bridge)) => iface.dynamic_bridge = Some(*bridge),
            ("dynamic-bridge", _) => iface.dynamic_bridge = None,
            ("dynamic-mac-address", Value::Mac(mac)) => {
                iface.dynamic_mac = unicast("dynamic-mac-address", *mac)?
            }
            ("host-interface", Value::Text(name)) => {
                if config
                    .iface_named_like(name)
                    .is_some_and(|r| r != IfaceRef::Vif(iface.id))
                {
                    return Err(CmdError::failure("already have interface with such name"));
                }
                iface.host_name = name.clone();
            }
            ("static-interface", Value::Port(port)) => iface.static_interface = Some(*port),
            ("static-interface", _) => iface.static_interface = None,
            ("type", Value::Word(word)) => {
                iface.kind = if *word == "static" {
                    VmIfaceType::Static
                } else {
                    VmIfaceType::Dynamic
                }
            }
            ("virtual-machine", Value::Item(vm)) => iface.vm = *vm,
            ("vm-mac-address", Value::Mac(mac)) => iface.vm_mac = unicast("vm-mac-address", *mac)?,
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a broadcast or multicast MAC for an interface.
fn unicast(argument: &str, mac: [u8; 6]) -> Result<[u8; 6], CmdError> {
    if crate::identity::is_unicast(&mac) {
        Ok(mac)
    } else {
        Err(CmdError::failure(format!(
            "{argument} {} is not a unicast address",
            format_mac(&mac)
        )))
    }
}

/// Checks an interface against the rest of the configuration.
fn validate(config: &Config, iface: &VmIface) -> Result<(), CmdError> {
    let siblings = config
        .vm_ifaces
        .iter()
        .filter(|i| i.vm == iface.vm && i.id != iface.id)
        .count();
    if siblings >= usize::from(MAX_PER_GUEST) {
        return Err(CmdError::failure(format!(
            "a virtual machine can have at most {MAX_PER_GUEST} interfaces"
        )));
    }
    if iface.kind == VmIfaceType::Static {
        let Some(port) = iface.static_interface else {
            return Err(CmdError::failure(
                "static interface requires static-interface",
            ));
        };
        let ether = IfaceRef::Ether(port);
        let taken = config.vm_ifaces.iter().find(|i| {
            i.id != iface.id && i.kind == VmIfaceType::Static && i.static_interface == Some(port)
        });
        if let Some(other) = taken {
            let vm = config.vm(other.vm).map_or("", |vm| vm.name.as_str());
            return Err(CmdError::failure(format!(
                "{} is already given to virtual machine {vm}",
                config.iface_label(ether)
            )));
        }
        if let Some(p) = config.bridge_ports.iter().find(|p| p.interface == ether) {
            return Err(CmdError::failure(format!(
                "{} is a port of bridge {}",
                config.iface_label(ether),
                config.iface_label(p.bridge)
            )));
        }
    }
    Ok(())
}

impl Table for MrInterface {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["virtual-machine"]
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, platform) = (ctx.config, ctx.platform);
        config
            .vm_ifaces
            .iter()
            .map(|iface| {
                let vm = config.vm(iface.vm);
                let running = vm.is_some_and(|vm| {
                    super::metarouter::state_of(vm, platform) == GuestState::Running
                });
                let mut row = Row::item(iface.id)
                    .flag_if(iface.disabled, 'X')
                    .flag_if(!iface.disabled && running, 'A')
                    .word(
                        "virtual-machine",
                        vm.map_or(String::new(), |vm| vm.name.clone()),
                    )
                    .word(
                        "type",
                        if iface.kind == VmIfaceType::Static {
                            "static"
                        } else {
                            "dynamic"
                        },
                    );
                match iface.kind {
                    VmIfaceType::Dynamic => {
                        row = row
                            .word(
                                "dynamic-bridge",
                                iface
                                    .dynamic_bridge
                                    .map_or(String::from("none"), |b| config.iface_label(b)),
                            )
                            .word("dynamic-mac-address", format_mac(&iface.dynamic_mac))
                            .word("host-interface", iface.host_name.clone());
                    }
                    VmIfaceType::Static => {
                        let port = iface.static_interface.map(IfaceRef::Ether);
                        row = row.word(
                            "static-interface",
                            port.map_or(String::from("none"), |p| config.iface_label(p)),
                        );
                    }
                }
                row.word("vm-mac-address", format_mac(&iface.vm_mac))
                    .with_comment(&iface.comment)
            })
            .collect()
    }

    fn add(
        &self,
        config: &mut Config,
        platform: &dyn Platform,
        args: &Args,
        copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let bound = bind_missing(config, args);
        let args = bound.as_ref().unwrap_or(args);
        crate::identity::ensure_seed(config, platform);
        let id = config.new_id();
        let mut iface =
            match copy_from.and_then(|from| config.vm_ifaces.iter().find(|i| i.id == from)) {
                Some(from) => VmIface { id, ..from.clone() },
                None => new_iface(id),
            };
        if copy_from.is_some() && !args.has("virtual-machine") && iface.vm == 0 {
            return Err(CmdError::Missing {
                arguments: String::from("virtual-machine"),
            });
        }
        iface.host_name = String::new();
        apply(config, &mut iface, args)?;
        if !args.has("dynamic-mac-address") {
            iface.dynamic_mac = generate_mac(config, platform, u64::from(id) << 1);
        }
        if !args.has("vm-mac-address") {
            let mut with_dynamic = config.clone();
            with_dynamic.vm_ifaces.push(iface.clone());
            iface.vm_mac = generate_mac(&with_dynamic, platform, u64::from(id) << 1 | 1);
        }
        if iface.host_name.is_empty() {
            iface.host_name = super::interface::free_iface_name(config, "vif");
        }
        iface.guest_iface_id = free_guest_iface_id(config, iface.vm);
        validate(config, &iface)?;
        config.vm_ifaces.push(iface);
        config.revive();
        Ok(id)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let bound = bind_missing(config, args);
        let args = bound.as_ref().unwrap_or(args);
        let before = config
            .vm_ifaces
            .get(id)
            .cloned()
            .ok_or(CmdError::NoSuchItem)?;
        let mut iface = before.clone();
        let moved = args
            .get("virtual-machine")
            .is_some_and(|v| *v != Value::Item(iface.vm));
        apply(config, &mut iface, args)?;
        if moved {
            iface.guest_iface_id = free_guest_iface_id(config, iface.vm);
        }
        validate(config, &iface)?;
        if iface.kind == VmIfaceType::Static && before.kind == VmIfaceType::Dynamic {
            // The host side goes away; what referred to it stays, invalid.
            config.forget_interface(IfaceRef::Vif(id));
        }
        config.vm_ifaces.insert(iface);
        config.revive();
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        if !config.vm_ifaces.contains(id) {
            return Err(CmdError::NoSuchItem);
        }
        remove_iface(config, id);
        Ok(())
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.vm_ifaces.iter().map(|i| i.id).collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let iface = config.vm_ifaces.get(id)?;
        let vm = config.vm(iface.vm)?;
        let mut line = String::from("add");
        push_comment(&mut line, &iface.comment);
        push_disabled(&mut line, iface.disabled);
        match iface.kind {
            VmIfaceType::Dynamic => {
                if let Some(bridge) = iface.dynamic_bridge.and_then(|b| config.ref_name(b)) {
                    push_pair(&mut line, "dynamic-bridge", &quote_if_needed(bridge));
                }
                let _ = write!(
                    line,
                    " dynamic-mac-address={} host-interface={}",
                    format_mac(&iface.dynamic_mac),
                    quote_if_needed(&iface.host_name)
                );
            }
            VmIfaceType::Static => {
                if let Some(name) = iface
                    .static_interface
                    .and_then(|p| config.iface_name(IfaceRef::Ether(p)))
                {
                    let _ = write!(
                        line,
                        " static-interface={} type=static",
                        quote_if_needed(name)
                    );
                }
            }
        }
        let _ = write!(
            line,
            " virtual-machine={} vm-mac-address={}",
            quote_if_needed(&vm.name),
            format_mac(&iface.vm_mac)
        );
        Some(line)
    }
}
