//! Derives the [`NetworkConfig`] the platform programs from the configuration: interfaces with
//! their kinds and MACs, bridge ports (configured and dynamic), addresses, and the routing part
//! (tables, static routes, rules) in the routing crate's types. Invalid items are not
//! programmed: an address or bridge port on a gone interface (`IfaceRef::Gone`) is left out, a
//! route through one or a rule on one refers to [`GONE`].

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use routing::IfId;

use crate::config::{Config, IfaceRef, VmIfaceType};
use crate::menus::{bridge_port, interface};
use crate::network::{
    GuestLink, IpAddress, NetAddress, NetBridgePort, NetInterface, NetInterfaceKind, NetworkConfig,
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
        IfaceRef::Gone(_) => return None,
    })
}

fn arp_of(config: &Config, iface: IfaceRef) -> bool {
    match iface {
        IfaceRef::Ether(port) => config.ethernet[usize::from(port)].arp != "disabled",
        IfaceRef::Bridge(id) => config.bridge(id).is_some_and(|b| b.arp != "disabled"),
        IfaceRef::Vif(_) => true,
        IfaceRef::Gone(_) => false,
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
    net
}
