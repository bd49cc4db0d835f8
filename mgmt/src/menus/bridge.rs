//! `/interface bridge`: bridges, their MAC (`auto-mac`) and spanning-tree settings.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::interface::{check_iface_name, free_iface_name};
use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Bridge, Config, IfaceRef, ItemId, VmIfaceType, ARP_MODES, PROTOCOL_MODES};
use crate::platform::Platform;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{format_duration, format_mac, quote_if_needed};

static FIELDS: [Field; 13] = [
    Field::new("admin-mac", Kind::Mac, "MAC used when auto-mac=no"),
    Field::new(
        "ageing-time",
        Kind::Duration {
            min: 10,
            max: 1_000_000,
        },
        "How long a learned host is remembered",
    ),
    Field::new("arp", Kind::Choice(ARP_MODES), "ARP mode"),
    Field::new("auto-mac", Kind::Bool, "Take the MAC of the first port"),
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the bridge is disabled"),
    Field::new(
        "forward-delay",
        Kind::Duration { min: 4, max: 30 },
        "STP forward delay",
    ),
    Field::new(
        "max-message-age",
        Kind::Duration { min: 6, max: 40 },
        "STP maximum message age",
    ),
    Field::new("mtu", Kind::int(68, 9000), "Layer 3 MTU"),
    Field::new("name", Kind::Name, "Bridge name"),
    Field::new("priority", Kind::int(0, 65535), "STP bridge priority"),
    Field::new(
        "protocol-mode",
        Kind::Choice(PROTOCOL_MODES),
        "Spanning tree protocol",
    ),
    Field::new(
        "transmit-hold-count",
        Kind::int(1, 10),
        "STP transmit hold count",
    ),
];

static VIEW: View = View {
    detail_default: true,
    ..View::classic(
        &[FlagSlot::new(&[('X', "disabled"), ('R', "running")])],
        &[Column::new("name", "NAME")],
    )
};

/// The `/interface bridge` table.
pub struct Bridges;

/// The MAC a bridge uses: the first port's with auto-mac, else admin-mac.
pub fn bridge_mac(config: &Config, platform: &dyn Platform, id: ItemId) -> [u8; 6] {
    let Some(bridge) = config.bridge(id) else {
        return [0; 6];
    };
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
    let mut out: Vec<IfaceRef> = config
        .bridge_ports
        .iter()
        .filter(|p| p.bridge == IfaceRef::Bridge(bridge))
        .map(|p| p.interface)
        .collect();
    out.extend(
        config
            .vm_ifaces
            .iter()
            .filter(|i| {
                i.kind == VmIfaceType::Dynamic && i.dynamic_bridge == Some(IfaceRef::Bridge(bridge))
            })
            .map(|i| IfaceRef::Vif(i.id)),
    );
    out
}

const BRIDGES: ItemList<Bridge> = ItemList {
    list: |c| &mut c.bridges,
    change,
};

/// Applies `add`/`set` arguments; a new name must be free among all interfaces.
fn change(config: &Config, bridge: &mut Bridge, args: &Args) -> Result<(), CmdError> {
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
    match args.text("name") {
        Some(name) => check_iface_name(config, name, IfaceRef::Bridge(bridge.id)),
        None => Ok(()),
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

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, platform) = (ctx.config, ctx.platform);
        config
            .bridges
            .iter()
            .map(|b| {
                Row::item(b.id)
                    .flag_if(b.disabled, 'X')
                    .flag_if(!b.disabled, 'R')
                    .text("name", b.name.clone())
                    .num("mtu", format!("{}", b.mtu))
                    .word("arp", b.arp)
                    .word(
                        "mac-address",
                        format_mac(&bridge_mac(config, platform, b.id)),
                    )
                    .word("protocol-mode", b.protocol_mode)
                    .word("priority", format!("0x{:X}", b.priority))
                    .word("auto-mac", if b.auto_mac { "yes" } else { "no" })
                    .word("admin-mac", format_mac(&b.admin_mac))
                    .word("max-message-age", format_duration(b.max_message_age))
                    .word("forward-delay", format_duration(b.forward_delay))
                    .num("transmit-hold-count", format!("{}", b.transmit_hold_count))
                    .word("ageing-time", format_duration(b.ageing_time))
                    .with_comment(&b.comment)
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
        let id = config.new_id();
        let name = free_iface_name(config, "bridge");
        let bridge = match copy_from.and_then(|from| config.bridge(from)) {
            Some(from) => Bridge {
                id,
                name,
                ..from.clone()
            },
            None => default_bridge(id, name),
        };
        let id = BRIDGES.add(config, bridge, args)?;
        config.revive();
        Ok(id)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        BRIDGES.set(config, id, args)?;
        config.revive();
        Ok(())
    }

    /// What referred to the bridge (ports, addresses, `dynamic-bridge`, routes) stays, invalid,
    /// until a bridge of that name exists again (`crate::references`).
    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        if config.bridge(id).is_none() {
            return Err(CmdError::NoSuchItem);
        }
        config.forget_interface(IfaceRef::Bridge(id));
        config.bridges.retain(|b| b.id != id);
        Ok(())
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.bridges.iter().map(|b| b.id).collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let defaults = default_bridge(0, String::new());
        let b = config.bridges.get(id)?;
        let mut line = String::from("add");
        if b.admin_mac != defaults.admin_mac {
            push_pair(&mut line, "admin-mac", &format_mac(&b.admin_mac));
        }
        if b.ageing_time != defaults.ageing_time {
            push_pair(&mut line, "ageing-time", &format_duration(b.ageing_time));
        }
        if b.arp != defaults.arp {
            push_pair(&mut line, "arp", &b.arp);
        }
        if !b.auto_mac {
            line.push_str(" auto-mac=no");
        }
        push_comment(&mut line, &b.comment);
        push_disabled(&mut line, b.disabled);
        if b.forward_delay != defaults.forward_delay {
            push_pair(
                &mut line,
                "forward-delay",
                &format_duration(b.forward_delay),
            );
        }
        if b.max_message_age != defaults.max_message_age {
            push_pair(
                &mut line,
                "max-message-age",
                &format_duration(b.max_message_age),
            );
        }
        if b.mtu != defaults.mtu {
            push_pair(&mut line, "mtu", &b.mtu);
        }
        push_pair(&mut line, "name", &quote_if_needed(&b.name));
        if b.priority != defaults.priority {
            let _ = write!(line, " priority=0x{:X}", b.priority);
        }
        if b.protocol_mode != defaults.protocol_mode {
            push_pair(&mut line, "protocol-mode", &b.protocol_mode);
        }
        if b.transmit_hold_count != defaults.transmit_hold_count {
            push_pair(&mut line, "transmit-hold-count", &b.transmit_hold_count);
        }
        Some(line)
    }
}
