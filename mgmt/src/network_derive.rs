//! Derives the [`NetworkConfig`] the platform programs from the configuration: interfaces with
//! their kinds and MACs, bridge ports (configured and dynamic), addresses, and the routing part
//! (tables, static routes, rules) in the routing crate's types. Invalid items are not
//! programmed: an address or bridge port on a gone interface (`IfaceRef::Gone`) is left out, a
//! route through one or a rule on one refers to [`GONE`].

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hostip::ArpMode;

use routing::IfId;

use crate::config::{Config, IfaceRef, VmIfaceType};
use crate::menus::{bridge_port, interface};
use crate::network::{
    GuestLink, IpAddress, NetAddress, NetBridgePort, NetInterface, NetInterfaceKind, NetStaticArp,
    NetworkConfig,
};
use crate::platform::Platform;

/// An address as `core::net::IpAddr`.
pub fn ip_addr(addr: IpAddress) -> IpAddr {
    match addr {
        IpAddress::V4(a) => IpAddr::V4(Ipv4Addr::from(a)),
        IpAddress::V6(a) => IpAddr::V6(Ipv6Addr::from(a)),
    }
}

/// The interface id of a gone interface: unknown to the RIB, so routes through it are inactive.
pub const GONE: IfId = IfId(u16::MAX);

fn kind_of(config: &Config, iface: IfaceRef) -> Option<NetInterfaceKind> {
    let link_of = |id| {
        let link = config.vm_ifaces.iter().find(|i| i.id == id)?;
        let vm = config.vm(link.vm)?;
        Some(GuestLink {
            guest: vm.slot,
            interface_id: link.guest_iface_id,
            guest_mac: link.vm_mac,
        })
    };
    Some(match iface {
        IfaceRef::Ether(port) => NetInterfaceKind::Ethernet {
            port,
            guest: interface::static_owner(config, port).and_then(link_of),
        },
        IfaceRef::Bridge(id) => {
            let b = config.bridge(id)?;
            NetInterfaceKind::Bridge {
                stp: b.protocol_mode != "none",
                priority: b.priority,
                ageing_time_s: b.ageing_time as u32,
            }
        }
        IfaceRef::Vif(id) => {
            config
                .vm_ifaces
                .iter()
                .find(|i| i.id == id && i.kind == VmIfaceType::Dynamic)?;
            NetInterfaceKind::Vif { link: link_of(id)? }
        }
        // The parent's index is filled in by `network_config`, once the order is known.
        IfaceRef::Vlan(id) => {
            let vlan = config.vlans.get(id)?;
            if !matches!(vlan.interface, IfaceRef::Ether(_) | IfaceRef::Bridge(_)) {
                return None;
            }
            kind_of(config, vlan.interface)?;
            NetInterfaceKind::Vlan {
                parent: usize::MAX,
                vlan_id: vlan.vlan_id,
            }
        }
        IfaceRef::Gone(_) => return None,
    })
}

/// The ARP mode of a RouterOS `arp=` word (`proxy-arp` is served as `enabled`).
pub fn arp_mode(word: &str) -> ArpMode {
    match word {
        "disabled" => ArpMode::Disabled,
        "reply-only" => ArpMode::ReplyOnly,
        _ => ArpMode::Enabled,
    }
}

fn arp_of(config: &Config, iface: IfaceRef) -> ArpMode {
    match iface {
        IfaceRef::Ether(port) => arp_mode(config.ethernet[usize::from(port)].arp),
        IfaceRef::Bridge(id) => config
            .bridge(id)
            .map_or(ArpMode::Disabled, |b| arp_mode(b.arp)),
        IfaceRef::Vif(_) => ArpMode::Enabled,
        IfaceRef::Vlan(id) => config
            .vlans
            .get(id)
            .map_or(ArpMode::Disabled, |v| arp_mode(v.arp)),
        IfaceRef::Gone(_) => ArpMode::Disabled,
    }
}

/// The interfaces of [`NetworkConfig::interfaces`], in order (`IfId(i)` is element `i`).
pub fn interface_order(config: &Config) -> Vec<IfaceRef> {
    config
        .interfaces()
        .into_iter()
        .filter(|&iface| kind_of(config, iface).is_some())
        .collect()
}

/// The network configuration of `config`, in the order of [`interface_order`].
pub fn network_config(config: &Config, platform: &dyn Platform) -> NetworkConfig {
    let mut net = NetworkConfig::default();
    let order = interface_order(config);
    for &iface in &order {
        let Some(kind) = kind_of(config, iface) else {
            continue;
        };
        net.interfaces.push(NetInterface {
            name: config.iface_label(iface),
            kind,
            mac: interface::mac_of(config, platform, iface),
            mtu: interface::mtu_of(config, iface),
            arp: arp_of(config, iface),
            enabled: !config.iface_disabled(iface),
        });
    }
    let index = |iface: IfaceRef| order.iter().position(|r| *r == iface);
    for (k, &iface) in order.iter().enumerate() {
        if let (IfaceRef::Vlan(id), NetInterfaceKind::Vlan { parent, .. }) =
            (iface, &mut net.interfaces[k].kind)
        {
            let parent_ref = config.vlans.get(id).map(|v| v.interface);
            *parent = parent_ref.and_then(index).unwrap_or(usize::MAX);
        }
    }
    let _if_id = |iface: IfaceRef| index(iface).map_or(GONE, |i| IfId(i as u16));
    for (_, port) in bridge_port::all_ports(config) {
        let enabled = |i: Option<usize>| i.filter(|&i| net.interfaces[i].enabled);
        if port.disabled {
            continue;
        }
        if let (Some(bridge), Some(member)) = (
            enabled(index(port.bridge).filter(|_| matches!(port.bridge, IfaceRef::Bridge(_)))),
            enabled(index(port.interface)),
        ) {
            net.bridge_ports.push(NetBridgePort {
                bridge,
                interface: member,
                horizon: port.horizon,
                priority: port.priority,
                path_cost: port.path_cost,
            });
        }
    }
    let v4 = config.ipv4_addresses.iter().map(|a| {
        (
            IpAddress::V4(a.address),
            a.prefix_len,
            a.interface,
            a.disabled,
        )
    });
    let v6 = config.ipv6_addresses.iter().map(|a| {
        (
            IpAddress::V6(a.address),
            a.prefix_len,
            a.interface,
            a.disabled,
        )
    });
    for (address, prefix_len, iface, disabled) in v4.chain(v6) {
        if let (false, Some(interface)) = (disabled, index(iface)) {
            net.addresses.push(NetAddress {
                interface,
                address,
                prefix_len,
            });
        }
    }
    for entry in config.static_arp.iter().filter(|a| !a.disabled) {
        if let Some(interface) = index(entry.interface) {
            net.static_arp.push(NetStaticArp {
                interface,
                address: entry.address,
                mac: entry.mac_address,
            });
        }
    }
    net.ip_settings = config.ip_settings;
    net
}
