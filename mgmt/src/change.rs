//! What a command changed: the ids of the items that differ between the live configuration
//! and the command's result, per list, and which single-valued parts changed.
//!
//! The lists record which ids each change touched ([`crate::item_map`]), so finding what a
//! command did costs in proportion to what it did, whatever the configuration's size. The shell
//! applies exactly these items to the machine and the RIB and writes them to the journal.

use alloc::vec::Vec;

use crate::config::{Config, Item, ItemId, ItemMap};

/// The items a command changed (added, changed or removed), by list, each in id order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub users: Vec<ItemId>,
    pub bridges: Vec<ItemId>,
    pub vlans: Vec<ItemId>,
    pub bridge_ports: Vec<ItemId>,
    pub static_arp: Vec<ItemId>,
    pub vms: Vec<ItemId>,
    pub vm_ifaces: Vec<ItemId>,
    pub ipv4_addresses: Vec<ItemId>,
    pub ipv6_addresses: Vec<ItemId>,
    pub routes: Vec<ItemId>,
    pub routing_tables: Vec<ItemId>,
    pub routing_rules: Vec<ItemId>,
    /// Physical port settings.
    pub ethernet: bool,
    /// `/system identity` (name, MAC seed).
    pub identity: bool,
    /// `/ip settings`, `/ipv6 settings`.
    pub ip_settings: bool,
    /// The names remembered for gone interfaces.
    pub gone: bool,
}

/// The ids of `new`'s list whose item differs from `old`'s, taking the touched record of `new`.
fn differing<T: Item + PartialEq>(old: &ItemMap<T>, new: &mut ItemMap<T>) -> Vec<ItemId> {
    let mut ids = new.take_touched();
    ids.retain(|&id| !new.same_item(old, id) && old.get(id) != new.get(id));
    ids
}

impl ChangeSet {
    /// What `new` (the result of commands run on a copy of `old`) changed. Clears `new`'s
    /// touched records, so it can become the live configuration.
    pub fn between(old: &Config, new: &mut Config) -> ChangeSet {
        ChangeSet {
            users: differing(&old.users, &mut new.users),
            bridges: differing(&old.bridges, &mut new.bridges),
            vlans: differing(&old.vlans, &mut new.vlans),
            bridge_ports: differing(&old.bridge_ports, &mut new.bridge_ports),
            static_arp: differing(&old.static_arp, &mut new.static_arp),
            vms: differing(&old.vms, &mut new.vms),
            vm_ifaces: differing(&old.vm_ifaces, &mut new.vm_ifaces),
            ipv4_addresses: differing(&old.ipv4_addresses, &mut new.ipv4_addresses),
            ipv6_addresses: differing(&old.ipv6_addresses, &mut new.ipv6_addresses),
            routes: differing(&old.routes, &mut new.routes),
            routing_tables: differing(&old.routing_tables, &mut new.routing_tables),
            routing_rules: differing(&old.routing_rules, &mut new.routing_rules),
            ethernet: old.ethernet != new.ethernet,
            identity: old.identity != new.identity || old.mac_seed != new.mac_seed,
            ip_settings: old.ip_settings != new.ip_settings,
            gone: old.gone != new.gone,
        }
    }

    /// Whether the command changed nothing.
    pub fn is_empty(&self) -> bool {
        *self == ChangeSet::default()
    }

    /// Whether interfaces were added, removed, renamed, enabled or disabled, or their link may
    /// have changed (ports, bridges, guest interfaces, the guests behind them).
    pub fn touches_interfaces(&self) -> bool {
        self.ethernet
            || !self.bridges.is_empty()
            || !self.vlans.is_empty()
            || !self.vm_ifaces.is_empty()
            || !self.vms.is_empty()
    }

    /// Whether the platform's network (interfaces, bridge ports, addresses, forwarding
    /// settings) may differ.
    pub fn touches_network(&self) -> bool {
        self.touches_interfaces()
            || self.gone
            || self.ip_settings
            || !self.bridge_ports.is_empty()
            || !self.static_arp.is_empty()
            || !self.ipv4_addresses.is_empty()
            || !self.ipv6_addresses.is_empty()
    }

    /// Whether the RIB may differ.
    pub fn touches_routing(&self) -> bool {
        self.touches_interfaces()
            || !self.ipv4_addresses.is_empty()
            || !self.ipv6_addresses.is_empty()
            || !self.routes.is_empty()
            || !self.routing_tables.is_empty()
            || !self.routing_rules.is_empty()
    }
}
