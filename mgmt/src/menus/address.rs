//! `/ip address` and `/ipv6 address`: addresses on interfaces. Each enabled address on an
//! existing, enabled interface gives a connected route. One table serves both families; a
//! [`Family`] says what differs.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;

use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Address, Config, IfaceRef, ItemId};
use crate::item_map::ItemMap;
use crate::platform::Platform;
use crate::references::bind_missing;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{
    format_ipv4, format_ipv6, ipv4_broadcast, ipv4_network, ipv6_network, quote_if_needed,
};

/// Whether an address is usable: its interface exists (an address whose interface was removed
/// stays, invalid, until an interface of that name exists again).
pub fn address_valid(config: &Config, iface: IfaceRef) -> bool {
    config.iface_name(iface).is_some()
}

/// An address family: `[u8; 4]` is IPv4, `[u8; 16]` IPv6.
pub trait Family: Copy + PartialEq + Sync + 'static {
    const VIEW: &'static View;
    const FIELDS: &'static [Field];
    /// Address and prefix length of a new item before its `address=` is applied.
    const UNSET: (Self, u8);
    fn list(config: &Config) -> &ItemMap<Address<Self>>;
    fn list_mut(config: &mut Config) -> &mut ItemMap<Address<Self>>;
    /// The address of an `address=` value.
    fn pick(value: &Value) -> Option<(Self, u8)>;
    /// `address/length`, as printed and exported.
    fn text(address: &Self, len: u8) -> String;
    /// Adds the printed properties computed from the address (`network`, ...).
    fn with_network(row: Row, address: &Self, len: u8) -> Row;
    /// Checks the arguments only `add` takes.
    fn check_added(_args: &Args, _address: &Address<Self>) -> Result<(), CmdError> {
        Ok(())
    }
}

const DISABLED: Field = Field::new("disabled", Kind::Bool, "Whether the address is disabled");
const INTERFACE: Field = Field::new(
    "interface",
    Kind::Ref(RefKind::Interface),
    "Interface the address is on",
);
const FLAGS: [FlagSlot; 1] = [FlagSlot::new(&[
    ('X', "disabled"),
    ('I', "invalid"),
    ('D', "dynamic"),
])];

static V4_FIELDS: [Field; 5] = [
    Field::new(
        "address",
        Kind::Ipv4Prefix,
        "Address and prefix length, a.b.c.d/n",
    ),
    COMMENT,
    DISABLED,
    INTERFACE,
    Field::new(
        "network",
        Kind::Ipv4,
        "Network address (computed when not given)",
    ),
];

static V4_VIEW: View = View::classic(
    &FLAGS,
    &[
        Column::new("address", "ADDRESS"),
        Column::new("network", "NETWORK"),
        Column::new("broadcast", "BROADCAST"),
        Column::new("interface", "INTERFACE"),
    ],
);

impl Family for [u8; 4] {
    const VIEW: &'static View = &V4_VIEW;
    const FIELDS: &'static [Field] = &V4_FIELDS;
    const UNSET: ([u8; 4], u8) = ([0; 4], 32);

    fn list(config: &Config) -> &ItemMap<Address<[u8; 4]>> {
        &config.ipv4_addresses
    }

    fn list_mut(config: &mut Config) -> &mut ItemMap<Address<[u8; 4]>> {
        &mut config.ipv4_addresses
    }

    fn pick(value: &Value) -> Option<([u8; 4], u8)> {
        match value {
            Value::Ipv4Prefix(addr, len) => Some((*addr, *len)),
            _ => None,
        }
    }

    fn text(address: &[u8; 4], len: u8) -> String {
        format!("{}/{}", format_ipv4(*address), len)
    }

    fn with_network(row: Row, address: &[u8; 4], len: u8) -> Row {
        row.word("network", format_ipv4(ipv4_network(*address, len)))
            .word("broadcast", format_ipv4(ipv4_broadcast(*address, len)))
    }

    /// `network=` must be the network of the address.
    fn check_added(args: &Args, address: &Address<[u8; 4]>) -> Result<(), CmdError> {
        if let Some(Value::Ipv4(network)) = args.get("network") {
            if *network != ipv4_network(address.address, address.prefix_len) {
                return Err(CmdError::failure("network does not match address"));
            }
        }
        Ok(())
    }
}

static V6_FIELDS: [Field; 4] = [
    Field::new("address", Kind::Ipv6Prefix, "Address and prefix length"),
    COMMENT,
    DISABLED,
    INTERFACE,
];

static V6_VIEW: View = View::classic(
    &FLAGS,
    &[
        Column::new("address", "ADDRESS"),
        Column::new("interface", "INTERFACE"),
    ],
);

impl Family for [u8; 16] {
    const VIEW: &'static View = &V6_VIEW;
    const FIELDS: &'static [Field] = &V6_FIELDS;
    const UNSET: ([u8; 16], u8) = ([0; 16], 64);

    fn list(config: &Config) -> &ItemMap<Address<[u8; 16]>> {
        &config.ipv6_addresses
    }

    fn list_mut(config: &mut Config) -> &mut ItemMap<Address<[u8; 16]>> {
        &mut config.ipv6_addresses
    }

    fn pick(value: &Value) -> Option<([u8; 16], u8)> {
        match value {
            Value::Ipv6Prefix(addr, len) => Some((*addr, *len)),
            _ => None,
        }
    }

    fn text(address: &[u8; 16], len: u8) -> String {
        format!("{}/{}", format_ipv6(address), len)
    }

    fn with_network(row: Row, address: &[u8; 16], len: u8) -> Row {
        row.word("network", Self::text(&ipv6_network(*address, len), len))
    }
}

/// An address table: `/ip address` or `/ipv6 address`.
pub struct Addresses<A>(PhantomData<A>);

/// `/ip address`.
pub static IPV4_ADDRESSES: Addresses<[u8; 4]> = Addresses(PhantomData);
/// `/ipv6 address`.
pub static IPV6_ADDRESSES: Addresses<[u8; 16]> = Addresses(PhantomData);

impl<A: Family> Addresses<A> {
    const ITEMS: ItemList<Address<A>> = ItemList {
        list: A::list_mut,
        change: change::<A>,
    };
}

fn apply<A: Family>(address: &mut Address<A>, args: &Args) {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("address", value) => {
                if let Some((addr, len)) = A::pick(value) {
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

/// Refuses a second copy of an address on the same interface.
fn check_unique<A: Family>(config: &Config, address: &Address<A>) -> Result<(), CmdError> {
    let clash = A::list(config).iter().any(|a| {
        a.id != address.id && a.address == address.address && a.interface == address.interface
    });
    if clash {
        return Err(CmdError::failure("already have such address"));
    }
    Ok(())
}

/// Applies `set` arguments and checks the result.
fn change<A: Family>(
    config: &Config,
    address: &mut Address<A>,
    args: &Args,
) -> Result<(), CmdError> {
    apply(address, args);
    check_unique(config, address)
}

impl<A: Family> Table for Addresses<A> {
    fn view(&self) -> &'static View {
        A::VIEW
    }

    fn fields(&self) -> &'static [Field] {
        A::FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["address", "interface"]
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, _platform) = (ctx.config, ctx.platform);
        let row = |a: &Address<A>| {
            let valid = address_valid(config, a.interface);
            let row = Row::item(a.id)
                .flag_if(a.disabled, 'X')
                .flag_if(!a.disabled && !valid, 'I')
                .word("address", A::text(&a.address, a.prefix_len));
            A::with_network(row, &a.address, a.prefix_len)
                .word("interface", config.iface_label(a.interface))
                .with_comment(&a.comment)
        };
        A::list(config).iter().map(row).collect()
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let bound = bind_missing(config, args);
        let args = bound.as_ref().unwrap_or(args);
        let (unset, prefix_len) = A::UNSET;
        let mut address = Address {
            id: config.new_id(),
            address: unset,
            prefix_len,
            interface: IfaceRef::Ether(0),
            disabled: false,
            comment: String::new(),
        };
        apply(&mut address, args);
        A::check_added(args, &address)?;
        check_unique(config, &address)?;
        let id = address.id;
        A::list_mut(config).push(address);
        Ok(id)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let bound = bind_missing(config, args);
        Self::ITEMS.set(config, id, bound.as_ref().unwrap_or(args))
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        Self::ITEMS.remove(config, id)
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        A::list(config).iter().map(|a| a.id).collect()
    }

    /// An address on a gone interface names the interface it remembers.
    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let a = A::list(config).get(id)?;
        let iface = config.ref_name(a.interface).unwrap_or_default();
        let mut line = format!("add address={}", A::text(&a.address, a.prefix_len));
        push_comment(&mut line, &a.comment);
        push_disabled(&mut line, a.disabled);
        push_pair(&mut line, "interface", &quote_if_needed(iface));
        Some(line)
    }
}
