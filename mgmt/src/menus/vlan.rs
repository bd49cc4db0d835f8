//! `/interface vlan`: 802.1Q sub-interfaces. A VLAN interface sits on a parent (an ethernet
//! port, a bridge or a guest's vif): frames of the parent tagged with its `vlan-id` are its own,
//! untagged, and what it sends leaves the parent tagged. It speaks with its parent's MAC and
//! runs while its parent does. On a parent that is itself a bridge port it carries nothing
//! (the bridge takes the port's frames; RouterOS calls that a misconfiguration): put it on the
//! bridge.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::interface::{check_iface_name, free_iface_name, running};
use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, IfaceRef, ItemId, Vlan, ARP_MODES, VLAN_IDS};
use crate::platform::Platform;
use crate::references::bind_missing;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{format_mac, quote_if_needed};

static FIELDS: [Field; 7] = [
    Field::new("arp", Kind::Choice(ARP_MODES), "ARP mode"),
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the interface is disabled"),
    Field::new(
        "interface",
        Kind::Ref(RefKind::Interface),
        "The parent interface",
    ),
    Field::new("mtu", Kind::int(68, 9000), "Layer 3 MTU"),
    Field::new("name", Kind::Name, "Interface name"),
    Field::new(
        "vlan-id",
        Kind::int(VLAN_IDS.0 as u64, VLAN_IDS.1 as u64),
        "802.1Q VLAN id",
    ),
];

static VIEW: View = View::classic(
    &[FlagSlot::new(&[('X', "disabled"), ('R', "running")])],
    &[
        Column::new("name", "NAME"),
        Column::new("mtu", "MTU"),
        Column::new("arp", "ARP"),
        Column::new("vlan-id", "VLAN-ID"),
        Column::new("interface", "INTERFACE"),
    ],
);

/// The `/interface vlan` table.
pub struct Vlans;

const VLANS: ItemList<Vlan> = ItemList {
    list: |c| &mut c.vlans,
    change,
};

/// Applies `add`/`set` arguments and checks the result: a free name, a parent that can carry
/// VLANs, and no other VLAN with the same id on that parent.
fn change(config: &Config, vlan: &mut Vlan, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("arp", Value::Word(mode)) => vlan.arp = mode,
            ("comment", Value::Text(text)) => vlan.comment = text.clone(),
            ("disabled", Value::Bool(b)) => vlan.disabled = *b,
            ("interface", Value::Iface(iface)) => vlan.interface = *iface,
            ("mtu", Value::Int(mtu)) => vlan.mtu = *mtu as u16,
            ("name", Value::Text(name)) => vlan.name = name.clone(),
            ("vlan-id", Value::Int(id)) => vlan.vlan_id = *id as u16,
            _ => {}
        }
    }
    if let Some(name) = args.text("name") {
        check_iface_name(config, name, IfaceRef::Vlan(vlan.id))?;
    }
    match vlan.interface {
        IfaceRef::Vlan(id) if id == vlan.id => {
            return Err(CmdError::failure("cannot add VLAN interface on itself"))
        }
        IfaceRef::Vlan(_) => {
            return Err(CmdError::failure(
                "a VLAN interface cannot be the parent of another one here",
            ))
        }
        _ => {}
    }
    let same = config
        .vlans
        .iter()
        .find(|v| v.id != vlan.id && v.interface == vlan.interface && v.vlan_id == vlan.vlan_id);
    if let Some(other) = same {
        return Err(CmdError::failure(format!(
            "vlan-id {} is already used on {} by {}",
            vlan.vlan_id,
            config.iface_label(vlan.interface),
            other.name
        )));
    }
    Ok(())
}

fn new_vlan(id: ItemId, name: String) -> Vlan {
    Vlan {
        id,
        name,
        vlan_id: 1,
        interface: IfaceRef::Ether(u16::MAX),
        mtu: 1500,
        arp: "enabled",
        disabled: false,
        comment: String::new(),
    }
}

impl Table for Vlans {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["interface", "vlan-id"]
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, platform) = (ctx.config, ctx.platform);
        config
            .vlans
            .iter()
            .map(|v| {
                let iface = IfaceRef::Vlan(v.id);
                Row::item(v.id)
                    .flag_if(v.disabled, 'X')
                    .flag_if(!v.disabled && running(config, platform, iface), 'R')
                    .text("name", v.name.clone())
                    .num("mtu", format!("{}", v.mtu))
                    .word("arp", v.arp)
                    .num("vlan-id", format!("{}", v.vlan_id))
                    .word("interface", config.iface_label(v.interface))
                    .word(
                        "mac-address",
                        format_mac(&super::interface::mac_of(config, platform, iface)),
                    )
                    .with_comment(&v.comment)
            })
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
        let name = free_iface_name(config, "vlan");
        let vlan = match copy_from.and_then(|from| config.vlans.get(from)) {
            Some(from) => Vlan {
                id,
                name,
                ..from.clone()
            },
            None => new_vlan(id, name),
        };
        let id = VLANS.add(config, vlan, args)?;
        config.revive();
        Ok(id)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let bound = bind_missing(config, args);
        VLANS.set(config, id, bound.as_ref().unwrap_or(args))?;
        config.revive();
        Ok(())
    }

    /// What referred to the VLAN (addresses, bridge ports, routes) stays, invalid, until an
    /// interface of that name exists again (`crate::references`).
    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        if config.vlans.get(id).is_none() {
            return Err(CmdError::NoSuchItem);
        }
        config.forget_interface(IfaceRef::Vlan(id));
        VLANS.remove(config, id)
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.vlans.iter().map(|v| v.id).collect()
    }

    /// A gone parent is written by the name it remembers.
    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let v = config.vlans.get(id)?;
        let defaults = new_vlan(0, String::new());
        let mut line = String::from("add");
        if v.arp != defaults.arp {
            push_pair(&mut line, "arp", &v.arp);
        }
        push_comment(&mut line, &v.comment);
        push_disabled(&mut line, v.disabled);
        let parent = config.ref_name(v.interface).unwrap_or_default();
        push_pair(&mut line, "interface", &quote_if_needed(parent));
        if v.mtu != defaults.mtu {
            push_pair(&mut line, "mtu", &v.mtu);
        }
        push_pair(&mut line, "name", &quote_if_needed(&v.name));
        push_pair(&mut line, "vlan-id", &v.vlan_id);
        Some(line)
    }
}
