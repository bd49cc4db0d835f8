//! `/ip address` and `/ipv6 address`: addresses on interfaces. Each enabled address on an
//! existing, enabled interface gives a connected route.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::Table;
use crate::cli::table::{Column, FlagSlot, Row, Style, View};
use crate::config::{Address, Config, IfaceRef, ItemId};
use crate::export::push_pair;
use crate::platform::Platform;
use crate::value::{
    format_ipv4, format_ipv6, ipv4_broadcast, ipv4_network, ipv6_network, quote_if_needed,
};

/// Whether an address is usable: its interface exists and is enabled.
pub fn address_valid(config: &Config, iface: IfaceRef) -> bool {
    config.iface_name(iface).is_some()
}

static V4_FIELDS: [Field; 5] = [
    Field {
        name: "address",
        kind: Kind::Ipv4Prefix,
        help: "Address and prefix length, a.b.c.d/n",
    },
    Field {
        name: "comment",
        kind: Kind::Text,
        help: "Short description of the item",
    },
    Field {
        name: "disabled",
        kind: Kind::Bool,
        help: "Whether the address is disabled",
    },
    Field {
        name: "interface",
        kind: Kind::Ref(RefKind::Interface),
        help: "Interface the address is on",
    },
    Field {
        name: "network",
        kind: Kind::Ipv4,
        help: "Network address (computed when not given)",
    },
];

static V4_VIEW: View = View {
    style: Style::Classic,
    slots: &[FlagSlot {
        flags: &[('X', "disabled"), ('I', "invalid"), ('D', "dynamic")],
        optional: false,
    }],
    columns: &[
        Column {
            prop: "address",
            header: "ADDRESS",
            abbreviate: false,
        },
        Column {
            prop: "network",
            header: "NETWORK",
            abbreviate: false,
        },
        Column {
            prop: "broadcast",
            header: "BROADCAST",
            abbreviate: false,
        },
        Column {
            prop: "interface",
            header: "INTERFACE",
            abbreviate: false,
        },
    ],
    detail_default: false,
    numbers: true,
};

/// The `/ip address` table.
pub struct Ipv4Addresses;

fn apply<A: Copy>(address: &mut Address<A>, args: &Args, pick: impl Fn(&Value) -> Option<(A, u8)>) {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("address", value) => {
                if let Some((addr, len)) = pick(value) {
                    address.address = addr;
                    address.prefix_len = len;
                }
            }
            ("comment", Value::Text(text)) => address.comment = text.clone(),
            ("disabled", Value::Bool(b)) => address.disabled = *b,
            ("interface", Value::Iface(iface)) => address.interface = *iface,
            _ => {}
        }
    }
}

fn duplicate<A: PartialEq>(list: &[Address<A>], address: &Address<A>) -> Result<(), CmdError> {
    let clash = list.iter().any(|a| {
        a.id != address.id && a.address == address.address && a.interface == address.interface
    });
    if clash {
        return Err(CmdError::failure("already have such address"));
    }
    Ok(())
}

fn pick_v4(value: &Value) -> Option<([u8; 4], u8)> {
    match value {
        Value::Ipv4Prefix(addr, len) => Some((*addr, *len)),
        _ => None,
    }
}

fn pick_v6(value: &Value) -> Option<([u8; 16], u8)> {
    match value {
        Value::Ipv6Prefix(addr, len) => Some((*addr, *len)),
        _ => None,
    }
}

fn export_line(address: String, comment: &str, disabled: bool, interface: &str) -> String {
    let mut line = format!("add address={address}");
    if !comment.is_empty() {
        push_pair(&mut line, "comment", &quote_if_needed(comment));
    }
    if disabled {
        line.push_str(" disabled=yes");
    }
    push_pair(&mut line, "interface", &quote_if_needed(interface));
    line
}

impl Table for Ipv4Addresses {
    fn view(&self) -> &'static View {
        &V4_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &V4_FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["address", "interface"]
    }

    fn rows(&self, config: &Config, _platform: &dyn Platform) -> Vec<Row> {
        config
            .ipv4_addresses
            .iter()
            .map(|a| {
                let valid = address_valid(config, a.interface);
                let mut row = Row::item(a.id)
                    .flag_if(a.disabled, 'X')
                    .flag_if(!a.disabled && !valid, 'I')
                    .word(
                        "address",
                        format!("{}/{}", format_ipv4(a.address), a.prefix_len),
                    )
                    .word(
                        "network",
                        format_ipv4(ipv4_network(a.address, a.prefix_len)),
                    )
                    .word(
                        "broadcast",
                        format_ipv4(ipv4_broadcast(a.address, a.prefix_len)),
                    )
                    .word("interface", config.iface_label(a.interface));
                row.comment = a.comment.clone();
                row
            })
            .collect()
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let mut address = Address {
            id: config.new_id(),
            address: [0; 4],
            prefix_len: 32,
            interface: IfaceRef::Ether(0),
            disabled: false,
            comment: String::new(),
        };
        apply(&mut address, args, pick_v4);
        if let Some(Value::Ipv4(network)) = args.get("network") {
            if *network != ipv4_network(address.address, address.prefix_len) {
                return Err(CmdError::failure("network does not match address"));
            }
        }
        duplicate(&config.ipv4_addresses, &address)?;
        let id = address.id;
        config.ipv4_addresses.push(address);
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
            .ipv4_addresses
            .iter()
            .position(|a| a.id == id)
            .ok_or(CmdError::NoSuchItem)?;
        let mut address = config.ipv4_addresses[index].clone();
        apply(&mut address, args, pick_v4);
        duplicate(&config.ipv4_addresses, &address)?;
        config.ipv4_addresses[index] = address;
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let before = config.ipv4_addresses.len();
        config.ipv4_addresses.retain(|a| a.id != id);
        if before == config.ipv4_addresses.len() {
            return Err(CmdError::NoSuchItem);
        }
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .ipv4_addresses
            .iter()
            .filter_map(|a| {
                let iface = config.iface_name(a.interface)?;
                let address = format!("{}/{}", format_ipv4(a.address), a.prefix_len);
                Some(export_line(address, &a.comment, a.disabled, iface))
            })
            .collect()
    }
}

static V6_FIELDS: [Field; 4] = [
    Field {
        name: "address",
        kind: Kind::Ipv6Prefix,
        help: "Address and prefix length",
    },
    Field {
        name: "comment",
        kind: Kind::Text,
        help: "Short description of the item",
    },
    Field {
        name: "disabled",
        kind: Kind::Bool,
        help: "Whether the address is disabled",
    },
    Field {
        name: "interface",
        kind: Kind::Ref(RefKind::Interface),
        help: "Interface the address is on",
    },
];

static V6_VIEW: View = View {
    style: Style::Classic,
    slots: &[FlagSlot {
        flags: &[('X', "disabled"), ('I', "invalid"), ('D', "dynamic")],
        optional: false,
    }],
    columns: &[
        Column {
            prop: "address",
            header: "ADDRESS",
            abbreviate: false,
        },
        Column {
            prop: "interface",
            header: "INTERFACE",
            abbreviate: false,
        },
    ],
    detail_default: false,
    numbers: true,
};

/// The `/ipv6 address` table.
pub struct Ipv6Addresses;

impl Table for Ipv6Addresses {
    fn view(&self) -> &'static View {
        &V6_VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &V6_FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["address", "interface"]
    }

    fn rows(&self, config: &Config, _platform: &dyn Platform) -> Vec<Row> {
        config
            .ipv6_addresses
            .iter()
            .map(|a| {
                let valid = address_valid(config, a.interface);
                let mut row = Row::item(a.id)
                    .flag_if(a.disabled, 'X')
                    .flag_if(!a.disabled && !valid, 'I')
                    .word(
                        "address",
                        format!("{}/{}", format_ipv6(&a.address), a.prefix_len),
                    )
                    .word(
                        "network",
                        format!(
                            "{}/{}",
                            format_ipv6(&ipv6_network(a.address, a.prefix_len)),
                            a.prefix_len
                        ),
                    )
                    .word("interface", config.iface_label(a.interface));
                row.comment = a.comment.clone();
                row
            })
            .collect()
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let mut address = Address {
            id: config.new_id(),
            address: [0; 16],
            prefix_len: 64,
            interface: IfaceRef::Ether(0),
            disabled: false,
            comment: String::new(),
        };
        apply(&mut address, args, pick_v6);
        duplicate(&config.ipv6_addresses, &address)?;
        let id = address.id;
        config.ipv6_addresses.push(address);
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
            .ipv6_addresses
            .iter()
            .position(|a| a.id == id)
            .ok_or(CmdError::NoSuchItem)?;
        let mut address = config.ipv6_addresses[index].clone();
        apply(&mut address, args, pick_v6);
        duplicate(&config.ipv6_addresses, &address)?;
        config.ipv6_addresses[index] = address;
        Ok(())
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        let before = config.ipv6_addresses.len();
        config.ipv6_addresses.retain(|a| a.id != id);
        if before == config.ipv6_addresses.len() {
            return Err(CmdError::NoSuchItem);
        }
        Ok(())
    }

    fn export(&self, config: &Config) -> Vec<String> {
        config
            .ipv6_addresses
            .iter()
            .filter_map(|a| {
                let iface = config.iface_name(a.interface)?;
                let address = format!("{}/{}", format_ipv6(&a.address), a.prefix_len);
                Some(export_line(address, &a.comment, a.disabled, iface))
            })
            .collect()
    }
}
