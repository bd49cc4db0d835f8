//! The network configuration handed to the platform after every change
//! ([`crate::Platform::apply_network`]): interfaces, bridges with their ports, and addresses.
//!
//! It is a complete snapshot, derived from the configuration, so the platform can program its
//! switch without keeping track of individual commands; it is derived and handed over only when
//! a change touches interfaces, bridge ports or addresses. Every interface appears (with
//! `enabled`); bridge ports and addresses appear only when enabled. References are indexes into
//! [`NetworkConfig::interfaces`]. The forwarding settings are (`/ip settings`); routing
//! (tables, routes, rules) is not: the shell
//! keeps the configuration's RIB in step change by change (`crate::rib_state`).

use alloc::string::String;
use alloc::vec::Vec;

use vmm::GuestId;

/// Where an interface's frames go inside a guest: the virtual ethernet interface id (1..=7) the
/// host announces with NEWIFACE, and the MAC the guest sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestLink {
    pub guest: GuestId,
    pub interface_id: u8,
    pub guest_mac: [u8; 6],
}

/// Kind of a host interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetInterfaceKind {
    /// Physical port `port` (0-based). With `guest` set it is a static interface: the port is
    /// bound directly to that guest and the host does not use it.
    Ethernet { port: u16, guest: Option<GuestLink> },
    /// A software bridge.
    Bridge {
        stp: bool,
        priority: u16,
        ageing_time_s: u32,
    },
    /// Host side of a dynamic `/metarouter interface` (`vifN`).
    Vif { link: GuestLink },
    /// An 802.1Q sub-interface of interface `parent` (an index into
    /// [`NetworkConfig::interfaces`]: a port or a bridge): its frames are the parent's tagged
    /// with `vlan_id`, untagged.
    Vlan { parent: usize, vlan_id: u16 },
}

/// One host interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetInterface {
    pub name: String,
    pub kind: NetInterfaceKind,
    /// Host-side MAC address.
    pub mac: [u8; 6],
    pub mtu: u16,
    /// How the host uses ARP on this interface.
    pub arp: hostip::ArpMode,
    /// Disabled interfaces pass no traffic (they are listed so that indexes stay stable).
    pub enabled: bool,
}

/// A port of a bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetBridgePort {
    /// The bridge (index into `interfaces`).
    pub bridge: usize,
    /// The member interface (index into `interfaces`).
    pub interface: usize,
    /// Split-horizon group: ports with the same horizon do not forward to each other.
    pub horizon: Option<u32>,
    pub priority: u8,
    pub path_cost: u32,
}

/// An IP address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpAddress {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// An address configured on an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetAddress {
    /// Index into `interfaces`.
    pub interface: usize,
    pub address: IpAddress,
    pub prefix_len: u8,
}

/// A static ARP entry (enabled, on an existing interface).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetStaticArp {
    /// Index into `interfaces`.
    pub interface: usize,
    pub address: [u8; 4],
    pub mac: [u8; 6],
}

/// The whole network configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkConfig {
    pub interfaces: Vec<NetInterface>,
    pub bridge_ports: Vec<NetBridgePort>,
    pub addresses: Vec<NetAddress>,
    pub static_arp: Vec<NetStaticArp>,
    /// What the box routes, and its ICMP error limit (`/ip settings`, `/ipv6 settings`).
    pub ip_settings: crate::config::IpSettings,
}

impl NetworkConfig {
    /// The host IP endpoint's configuration: every enabled interface as `IfaceId(index)`, and
    /// its addresses.
    pub fn host_ip(&self) -> (Vec<hostip::IfaceConfig>, Vec<hostip::AddrConfig>) {
        let ifaces = self
            .interfaces
            .iter()
            .enumerate()
            .filter(|(_, i)| i.enabled)
            .map(|(index, i)| hostip::IfaceConfig {
                id: hostip::IfaceId(index as u16),
                mac: i.mac,
                arp: i.arp,
                mtu: i.mtu,
            })
            .collect::<Vec<_>>();
        let addrs = self
            .addresses
            .iter()
            .filter(|a| ifaces.iter().any(|i| usize::from(i.id.0) == a.interface))
            .map(|a| hostip::AddrConfig {
                iface: hostip::IfaceId(a.interface as u16),
                addr: match a.address {
                    IpAddress::V4(v4) => core::net::IpAddr::from(v4),
                    IpAddress::V6(v6) => core::net::IpAddr::from(v6),
                },
                prefix_len: a.prefix_len,
            })
            .collect();
        (ifaces, addrs)
    }

    /// The host IP endpoint's static ARP entries (those on enabled interfaces).
    pub fn host_static_arp(&self) -> Vec<hostip::StaticArp> {
        self.static_arp
            .iter()
            .filter(|a| self.interfaces.get(a.interface).is_some_and(|i| i.enabled))
            .map(|a| hostip::StaticArp {
                iface: hostip::IfaceId(a.interface as u16),
                addr: core::net::Ipv4Addr::from(a.address),
                mac: a.mac,
            })
            .collect()
    }
}
