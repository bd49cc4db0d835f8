//! `/metarouter interface`: guest interfaces. A dynamic one has a host side, `vifN`, that
//! appears in `/interface` and may join a bridge on its own (`dynamic-bridge`); a static one hands
//! a physical port to the guest.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::items::{self, COMMENT};
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::Table;
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, IfaceRef, ItemId, VmIface, VmIfaceType};
use crate::export::{push_comment, push_disabled, push_pair};
use crate::platform::{GuestState, Platform};
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

/// Removes a guest interface and what is attached to its host side.
pub fn remove_iface(config: &mut Config, id: ItemId) -> Result<(), CmdError> {
    super::release_interface(config, IfaceRef::Vif(id))?;
    config.vm_ifaces.retain(|i| i.id != id);
    Ok(())
}

/// A locally administered MAC derived from the box's first port MAC and `seed`, unique in `config`.
fn generate_mac(config: &Config, platform: &dyn Platform, seed: u64) -> [u8; 6] {
    let base = platform.port(0).map_or(0, |p| {
        p.mac.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
    });
    let mut state = base ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    loop {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let bytes = z.to_be_bytes();
        let mac = [0x02, bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]];
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
            ("dynamic-bridge", Value::Item(id)) => iface.dynamic_bridge = Some(*id),
            ("dynamic-bridge", _) => iface.dynamic_bridge = None,
            ("dynamic-mac-address", Value::Mac(mac)) => iface.dynamic_mac = *mac,
            ("host-interface", Value::Text(name)) => {
                if config
                    .find_iface(name)
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
            ("vm-mac-address", Value::Mac(mac)) => iface.vm_mac = *mac,
            _ => {}
        }
    }
    Ok(())
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
        let taken = config.vm_ifaces.iter().any(|i| {
            i.id != iface.id && i.kind == VmIfaceType::Static && i.static_interface == Some(port)
        });
        if taken {
            return Err(CmdError::failure(
                "interface is already given to a virtual machine",
            ));
        }
        if config
            .bridge_ports
            .iter()
            .any(|p| p.interface == IfaceRef::Ether(port))
        {
            return Err(CmdError::failure("interface is a bridge port"));
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

    fn rows(&self, config: &Config, platform: &dyn Platform) -> Vec<Row> {
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
                                    .and_then(|b| config.bridge(b))
                                    .map_or(String::from("none"), |b| b.name.clone()),
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
        Ok(id)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let index = items::index(&config.vm_ifaces, id)?;
        let mut iface = config.vm_ifaces[index].clone();
        let moved = args
            .get("virtual-machine")
            .is_some_and(|v| *v != Value::Item(iface.vm));
        apply(config, &mut iface, args)?;
        if moved {
            iface.guest_iface_id = free_guest_iface_id(config, iface.vm);
        }
        validate(config, &iface)?;
        if iface.kind == VmIfaceType::Static && config.vm_ifaces[index].kind == VmIfaceType::Dynamic
        {
            super::release_interface(config, IfaceRef::Vif(id))?;
        }
        config.vm_ifaces[index] = iface;
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        items::index(&config.vm_ifaces, id)?;
        remove_iface(config, id)
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .vm_ifaces
            .iter()
            .filter_map(|iface| {
                let vm = config.vm(iface.vm)?;
                let mut line = String::from("add");
                push_comment(&mut line, &iface.comment);
                push_disabled(&mut line, iface.disabled);
                match iface.kind {
                    VmIfaceType::Dynamic => {
                        if let Some(bridge) = iface.dynamic_bridge.and_then(|b| config.bridge(b)) {
                            push_pair(&mut line, "dynamic-bridge", &quote_if_needed(&bridge.name));
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
            })
            .collect()
    }
}
