//! The configuration: plain data, cloned before every change so that a failing command leaves
//! the live copy untouched. Items carry stable internal ids; cross references use those ids, so
//! renaming an interface keeps every reference to it. A reference to an interface that was
//! removed stays, remembered by name ([`IfaceRef::Gone`], `crate::references`).

use alloc::string::String;
use alloc::vec::Vec;

use routing::index_sort::sort_indexes;

use crate::network::IpAddress;
use crate::platform::GuestId;

pub use crate::item_map::{Item, ItemId, ItemMap};

/// A reference to any interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IfaceRef {
    /// Physical port (0-based).
    Ether(u16),
    Bridge(ItemId),
    /// Host side of a dynamic `/metarouter interface` item.
    Vif(ItemId),
    /// An 802.1Q sub-interface (`/interface vlan`).
    Vlan(ItemId),
    /// An interface that no longer exists: entry `id` of [`Config::gone`], which remembers its
    /// name. The item that refers to it is invalid until an interface of that name appears.
    Gone(ItemId),
}

/// A removed interface that references still point at: the id it had (printed `*N`) and its
/// name, by which references come back to life when an interface of that name appears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoneIface {
    pub id: ItemId,
    pub name: String,
}

/// Longest name of a configuration item (interfaces, virtual machines, routing tables, users).
pub const MAX_NAME_LEN: usize = 63;

/// Whether two item names are the same name: uniqueness ignores ASCII case, so `dup` and `DUP`
/// cannot both exist (lookups by name stay exact).
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// ARP mode of an interface.
pub const ARP_MODES: &[&str] = &["enabled", "disabled", "proxy-arp", "reply-only"];

/// Settings of a physical port (its MAC and link come from the platform).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ethernet {
    pub default_name: String,
    pub name: String,
    pub mtu: u16,
    pub arp: &'static str,
    pub disabled: bool,
    pub comment: String,
}

/// Bridge protocol modes.
pub const PROTOCOL_MODES: &[&str] = &["none", "stp", "rstp"];

/// A bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bridge {
    pub id: ItemId,
    pub name: String,
    pub mtu: u16,
    pub arp: &'static str,
    pub auto_mac: bool,
    pub admin_mac: [u8; 6],
    pub protocol_mode: &'static str,
    pub priority: u16,
    pub max_message_age: u64,
    pub forward_delay: u64,
    pub transmit_hold_count: u64,
    pub ageing_time: u64,
    pub disabled: bool,
    pub comment: String,
}

/// Lowest and highest 802.1Q VLAN id a VLAN interface takes.
pub const VLAN_IDS: (u16, u16) = (1, 4094);

/// An 802.1Q sub-interface (`/interface vlan`): frames of its parent `interface` tagged with
/// `vlan_id` are its own, untagged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vlan {
    pub id: ItemId,
    pub name: String,
    pub vlan_id: u16,
    /// The parent: a port, a bridge, or a gone one.
    pub interface: IfaceRef,
    pub mtu: u16,
    pub arp: &'static str,
    pub disabled: bool,
    pub comment: String,
}

/// A static ARP entry (`/ip arp add`): the host reaches `address` on `interface` at
/// `mac_address` without asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticArp {
    pub id: ItemId,
    pub address: [u8; 4],
    pub mac_address: [u8; 6],
    pub interface: IfaceRef,
    pub disabled: bool,
    pub comment: String,
}

/// A port of a bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgePort {
    pub id: ItemId,
    pub interface: IfaceRef,
    /// A bridge, or a gone one.
    pub bridge: IfaceRef,
    pub priority: u8,
    pub path_cost: u32,
    pub horizon: Option<u32>,
    pub disabled: bool,
    pub comment: String,
}

/// A virtual machine (`/metarouter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vm {
    pub id: ItemId,
    pub slot: GuestId,
    pub name: String,
    pub memory_mib: u32,
    /// KiB; `None` is unlimited.
    pub disk_kib: Option<u32>,
    pub disabled: bool,
    pub comment: String,
    /// The file its image was imported from (`None`: the built-in guest). Kept in the saved
    /// configuration so the machine boots the same image after a host reboot.
    pub image: Option<String>,
}

/// Kind of a `/metarouter interface`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmIfaceType {
    Dynamic,
    Static,
}

/// A guest interface (`/metarouter interface`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmIface {
    pub id: ItemId,
    pub vm: ItemId,
    pub kind: VmIfaceType,
    /// A bridge, or a gone one.
    pub dynamic_bridge: Option<IfaceRef>,
    pub dynamic_mac: [u8; 6],
    pub vm_mac: [u8; 6],
    pub static_interface: Option<u16>,
    /// Host interface name for a dynamic interface (`vifN`).
    pub host_name: String,
    /// Interface id inside the guest (1..=7).
    pub guest_iface_id: u8,
    pub disabled: bool,
    pub comment: String,
}

/// An IPv4 or IPv6 address on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address<A> {
    pub id: ItemId,
    pub address: A,
    pub prefix_len: u8,
    pub interface: IfaceRef,
    pub disabled: bool,
    pub comment: String,
}

/// A gateway of a static route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gateway {
    Address(IpAddress),
    Interface(IfaceRef),
    /// `10.0.0.1%ether1`
    AddressOnInterface(IpAddress, IfaceRef),
}

/// Route types.
pub const ROUTE_TYPES: &[&str] = &["unicast", "blackhole", "unreachable", "prohibit"];

/// A static route (`/ip route`, `/ipv6 route`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRoute {
    pub id: ItemId,
    pub dst: IpAddress,
    pub dst_len: u8,
    /// Several gateways make an ECMP route.
    pub gateways: Vec<Gateway>,
    pub route_type: &'static str,
    pub distance: u8,
    pub scope: u8,
    pub target_scope: u8,
    /// Routing table name (`main` by default).
    pub table: String,
    pub pref_src: Option<IpAddress>,
    pub disabled: bool,
    pub comment: String,
}

/// A routing table besides `main` (`/routing table`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingTable {
    pub id: ItemId,
    pub name: String,
    /// Installed in the FIB (usable for forwarding).
    pub fib: bool,
    pub comment: String,
}

/// Rule actions.
pub const RULE_ACTIONS: &[&str] = &["lookup", "lookup-only-in-table", "drop", "unreachable"];

/// A policy routing rule (`/routing rule`), in evaluation order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingRule {
    pub id: ItemId,
    pub src: Option<(IpAddress, u8)>,
    pub dst: Option<(IpAddress, u8)>,
    pub interface: Option<IfaceRef>,
    pub routing_mark: Option<String>,
    pub action: &'static str,
    pub table: String,
    pub disabled: bool,
    pub comment: String,
}

/// User groups.
pub const GROUPS: &[&str] = &["full", "write", "read"];

/// A console user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: ItemId,
    pub name: String,
    pub group: &'static str,
    /// SHA-256 of the password; `None` is the empty password.
    pub password_hash: Option<[u8; 32]>,
    pub disabled: bool,
    pub comment: String,
}

/// `/ip settings` and `/ipv6 settings`: whether the box routes each family, and the
/// per-destination limit of its ICMP errors (RouterOS's names and defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpSettings {
    /// `/ip settings ip-forward`.
    pub ip_forward: bool,
    /// `/ipv6 settings forward`.
    pub ipv6_forward: bool,
    /// `icmp-rate-limit`: milliseconds between ICMP errors to one destination (0: no limit).
    pub icmp_rate_limit: u32,
    /// `icmp-rate-mask`: bit `n` limits ICMP type `n`.
    pub icmp_rate_mask: u32,
}

impl Default for IpSettings {
    fn default() -> Self {
        IpSettings {
            ip_forward: true,
            ipv6_forward: true,
            icmp_rate_limit: 10,
            icmp_rate_mask: 0x1818,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub identity: String,
    pub ip_settings: IpSettings,
    pub users: ItemMap<User>,
    pub ethernet: Vec<Ethernet>,
    pub bridges: ItemMap<Bridge>,
    pub vlans: ItemMap<Vlan>,
    pub bridge_ports: ItemMap<BridgePort>,
    pub static_arp: ItemMap<StaticArp>,
    pub vms: ItemMap<Vm>,
    pub vm_ifaces: ItemMap<VmIface>,
    pub ipv4_addresses: ItemMap<Address<[u8; 4]>>,
    pub ipv6_addresses: ItemMap<Address<[u8; 16]>>,
    pub routes: ItemMap<StaticRoute>,
    pub routing_tables: ItemMap<RoutingTable>,
    pub routing_rules: ItemMap<RoutingRule>,
    /// Removed interfaces that references still point at.
    pub gone: Vec<GoneIface>,
    /// Seed of this box's generated MAC addresses (`crate::identity`): made once from the
    /// platform's entropy when first needed, kept in the saved configuration, never exported.
    pub mac_seed: Option<u64>,
    /// Set while the saved configuration is replayed at boot: a reference to an interface that
    /// does not exist is then kept as a gone reference by name (see `crate::references`).
    pub restoring: bool,
    next_id: ItemId,
    /// While a saved item is restored: the id the item being added must get (see
    /// [`Config::new_id`]).
    pub forced_id: Option<ItemId>,
}

impl Config {
    /// The configuration of an empty box with `ports` physical ports.
    pub fn new(ports: usize) -> Config {
        let ethernet = (0..ports)
            .map(|i| {
                let name = alloc::format!("ether{}", i + 1);
                Ethernet {
                    default_name: name.clone(),
                    name,
                    mtu: 1500,
                    arp: "enabled",
                    disabled: false,
                    comment: String::new(),
                }
            })
            .collect();
        let mut config = Config {
            identity: String::from("MikroTik"),
            ip_settings: IpSettings::default(),
            users: ItemMap::new(),
            ethernet,
            bridges: ItemMap::new(),
            vlans: ItemMap::new(),
            bridge_ports: ItemMap::new(),
            static_arp: ItemMap::new(),
            vms: ItemMap::new(),
            vm_ifaces: ItemMap::new(),
            ipv4_addresses: ItemMap::new(),
            ipv6_addresses: ItemMap::new(),
            routes: ItemMap::new(),
            routing_tables: ItemMap::new(),
            routing_rules: ItemMap::new(),
            gone: Vec::new(),
            mac_seed: None,
            restoring: false,
            next_id: 1,
            forced_id: None,
        };
        let id = config.new_id();
        config.users.push(User {
            id,
            name: String::from("admin"),
            group: "full",
            password_hash: None,
            disabled: false,
            comment: String::from("system default user"),
        });
        config
    }

    /// A fresh item id.
    ///
    /// While a saved item is restored ([`Config::forced_id`] set), the item being added gets
    /// its saved id instead, once.
    pub fn new_id(&mut self) -> ItemId {
        if let Some(id) = self.forced_id.take() {
            self.next_id = self.next_id.max(id + 1);
            return id;
        }
        self.fresh_id()
    }

    /// A fresh id that never takes a restored item's id (for what a command makes besides
    /// its item, such as a gone interface's entry).
    pub fn fresh_id(&mut self) -> ItemId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The id the next new item gets.
    pub fn next_id(&self) -> ItemId {
        self.next_id
    }

    /// Sets the id the next new item gets (restoring a saved configuration).
    pub fn set_next_id(&mut self, id: ItemId) {
        self.next_id = id;
    }

    /// Forgets which items were changed (after a replay, whose changes are not new).
    pub fn clear_touched(&mut self) {
        self.users.take_touched();
        self.bridges.take_touched();
        self.vlans.take_touched();
        self.bridge_ports.take_touched();
        self.static_arp.take_touched();
        self.vms.take_touched();
        self.vm_ifaces.take_touched();
        self.ipv4_addresses.take_touched();
        self.ipv6_addresses.take_touched();
        self.routes.take_touched();
        self.routing_tables.take_touched();
        self.routing_rules.take_touched();
    }

    /// Removes item `id` from whichever list holds it, without looking at what refers to it
    /// (restoring a saved configuration, where the saved references are restored too).
    /// Returns whether there was such an item.
    pub fn forget_item(&mut self, id: ItemId) -> bool {
        self.users.remove(id).is_some()
            || self.bridges.remove(id).is_some()
            || self.vlans.remove(id).is_some()
            || self.bridge_ports.remove(id).is_some()
            || self.static_arp.remove(id).is_some()
            || self.vms.remove(id).is_some()
            || self.vm_ifaces.remove(id).is_some()
            || self.ipv4_addresses.remove(id).is_some()
            || self.ipv6_addresses.remove(id).is_some()
            || self.routes.remove(id).is_some()
            || self.routing_tables.remove(id).is_some()
            || self.routing_rules.remove(id).is_some()
    }

    /// Current name of an interface, if it exists.
    pub fn iface_name(&self, iface: IfaceRef) -> Option<&str> {
        match iface {
            IfaceRef::Ether(port) => self
                .ethernet
                .get(usize::from(port))
                .map(|e| e.name.as_str()),
            IfaceRef::Bridge(id) => self.bridge(id).map(|b| b.name.as_str()),
            IfaceRef::Vif(id) => self
                .vm_ifaces
                .iter()
                .find(|i| i.id == id && i.kind == VmIfaceType::Dynamic)
                .map(|i| i.host_name.as_str()),
            IfaceRef::Vlan(id) => self.vlans.get(id).map(|v| v.name.as_str()),
            IfaceRef::Gone(_) => None,
        }
    }

    /// Name of an interface, or `*ID` for one that is gone (as `print` shows it).
    pub fn iface_label(&self, iface: IfaceRef) -> String {
        match self.iface_name(iface) {
            Some(name) => String::from(name),
            None => match iface {
                IfaceRef::Ether(port) => alloc::format!("*E{port}"),
                IfaceRef::Bridge(id)
                | IfaceRef::Vif(id)
                | IfaceRef::Vlan(id)
                | IfaceRef::Gone(id) => {
                    alloc::format!("*{id:X}")
                }
            },
        }
    }

    /// Every interface in `/interface print` order: ports, then bridges, vifs and VLANs by
    /// creation.
    pub fn interfaces(&self) -> Vec<IfaceRef> {
        let mut out: Vec<IfaceRef> = (0..self.ethernet.len())
            .map(|i| IfaceRef::Ether(i as u16))
            .collect();
        let mut others: Vec<(ItemId, IfaceRef)> = self
            .bridges
            .iter()
            .map(|b| (b.id, IfaceRef::Bridge(b.id)))
            .collect();
        others.extend(
            self.vm_ifaces
                .iter()
                .filter(|i| i.kind == VmIfaceType::Dynamic)
                .map(|i| (i.id, IfaceRef::Vif(i.id))),
        );
        others.extend(self.vlans.iter().map(|v| (v.id, IfaceRef::Vlan(v.id))));
        let mut order: Vec<u32> = (0..others.len() as u32).collect();
        sort_indexes(&mut order, &|a, b| others[a].cmp(&others[b]));
        out.extend(order.iter().map(|&i| others[i as usize].1));
        out
    }

    /// Looks an interface up by exact name.
    pub fn find_iface(&self, name: &str) -> Option<IfaceRef> {
        self.interfaces()
            .into_iter()
            .find(|&r| self.iface_name(r) == Some(name))
    }

    pub fn bridge(&self, id: ItemId) -> Option<&Bridge> {
        self.bridges.get(id)
    }

    pub fn vm(&self, id: ItemId) -> Option<&Vm> {
        self.vms.get(id)
    }

    pub fn vm_by_name(&self, name: &str) -> Option<&Vm> {
        self.vms.iter().find(|v| v.name == name)
    }

    /// Whether an interface is disabled (gone interfaces count as disabled).
    pub fn iface_disabled(&self, iface: IfaceRef) -> bool {
        match iface {
            IfaceRef::Ether(port) => self
                .ethernet
                .get(usize::from(port))
                .is_none_or(|e| e.disabled),
            IfaceRef::Bridge(id) => self.bridge(id).is_none_or(|b| b.disabled),
            IfaceRef::Vif(id) => self
                .vm_ifaces
                .iter()
                .find(|i| i.id == id)
                .is_none_or(|i| i.disabled),
            IfaceRef::Vlan(id) => self.vlans.get(id).is_none_or(|v| v.disabled),
            IfaceRef::Gone(_) => true,
        }
    }

    /// Names of the routing tables (`main` first).
    pub fn table_names(&self) -> Vec<String> {
        let mut out = alloc::vec![String::from("main")];
        out.extend(self.routing_tables.iter().map(|t| t.name.clone()));
        out
    }

    /// The lowest free guest slot.
    pub fn free_slot(&self) -> Option<GuestId> {
        (0..crate::platform::MAX_GUESTS as u8)
            .map(GuestId)
            .find(|slot| self.vms.iter().all(|vm| vm.slot != *slot))
    }
}
