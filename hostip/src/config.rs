//! The host's L3 interfaces and their addresses, as the caller configures them: fixed capacity,
//! replaced whole on every change ([`crate::HostIp::configure`]).
//!
//! IPv6: an interface with at least one IPv6 address also has its link-local address
//! (`fe80::/64` with the EUI-64 interface id from its MAC), as RouterOS adds one to every
//! IPv6-enabled interface; an interface with IPv4 addresses only takes no part in IPv6.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Mac;

/// Interfaces the endpoint serves.
pub const MAX_IFACES: usize = 64;
/// Addresses, both families and all interfaces together (link-local ones not counted).
pub const MAX_ADDRS: usize = 64;

/// An L3 interface, named by the caller (the hypervisor uses the interface's index in the
/// management plane's network configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfaceId(pub u16);

/// How an interface uses ARP (RouterOS's `arp=`; `proxy-arp` is served as `enabled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArpMode {
    /// Answer requests, ask for neighbours, learn them.
    Enabled,
    /// No ARP at all: requests are not answered, nothing is learned.
    Disabled,
    /// Answer requests for the interface's addresses, but learn nothing and ask nothing:
    /// neighbours are reached only through static entries.
    ReplyOnly,
}

/// A static ARP entry (`/ip arp add`): `addr` on `iface` is at `mac`, never aged, never
/// replaced by what is learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticArp {
    /// The interface.
    pub iface: IfaceId,
    /// The neighbour's address.
    pub addr: Ipv4Addr,
    /// Its MAC.
    pub mac: Mac,
}

/// One interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfaceConfig {
    /// Its id.
    pub id: IfaceId,
    /// The host's MAC on it (frames to it are the host's; frames from it are dropped as ours).
    pub mac: Mac,
    /// How it uses ARP.
    pub arp: ArpMode,
    /// Its MTU: the largest IP packet sent on it.
    pub mtu: u16,
}

/// One address on an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrConfig {
    /// The interface.
    pub iface: IfaceId,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length (the connected network).
    pub prefix_len: u8,
}

/// Why a configuration was refused (the previous one stays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// More than [`MAX_IFACES`] interfaces.
    TooManyInterfaces,
    /// More than [`MAX_ADDRS`] addresses.
    TooManyAddresses,
    /// An address names an interface not in the list.
    UnknownInterface,
    /// A prefix length beyond 32 (IPv4) or 128 (IPv6).
    BadPrefix,
}

/// The configuration in force.
#[derive(Clone)]
pub(crate) struct Config {
    ifaces: [IfaceConfig; MAX_IFACES],
    iface_count: usize,
    addrs: [AddrConfig; MAX_ADDRS],
    addr_count: usize,
}

const NO_IFACE: IfaceConfig = IfaceConfig {
    id: IfaceId(0),
    mac: [0; 6],
    arp: ArpMode::Disabled,
    mtu: 0,
};
const NO_ADDR: AddrConfig = AddrConfig {
    iface: IfaceId(0),
    addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    prefix_len: 0,
};

/// Whether `a` and `b` share their first `len` bits.
fn same_prefix(a: &[u8], b: &[u8], len: u8) -> bool {
    let len = usize::from(len);
    let (whole, rest) = (len / 8, len % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xFFu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// The link-local address of an interface with MAC `mac` (EUI-64: the U/L bit flipped,
/// `ff:fe` in the middle).
pub fn link_local(mac: Mac) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[0] = 0xFE;
    a[1] = 0x80;
    a[8] = mac[0] ^ 0x02;
    a[9] = mac[1];
    a[10] = mac[2];
    a[11] = 0xFF;
    a[12] = 0xFE;
    a[13] = mac[3];
    a[14] = mac[4];
    a[15] = mac[5];
    Ipv6Addr::from(a)
}

impl Config {
    pub(crate) const fn new() -> Self {
        Config {
            ifaces: [NO_IFACE; MAX_IFACES],
            iface_count: 0,
            addrs: [NO_ADDR; MAX_ADDRS],
            addr_count: 0,
        }
    }

    pub(crate) fn build(ifaces: &[IfaceConfig], addrs: &[AddrConfig]) -> Result<Self, ConfigError> {
        if ifaces.len() > MAX_IFACES {
            return Err(ConfigError::TooManyInterfaces);
        }
        if addrs.len() > MAX_ADDRS {
            return Err(ConfigError::TooManyAddresses);
        }
        let mut config = Config::new();
        config.ifaces[..ifaces.len()].copy_from_slice(ifaces);
        config.iface_count = ifaces.len();
        for a in addrs {
            if config.iface(a.iface).is_none() {
                return Err(ConfigError::UnknownInterface);
            }
            let max = if a.addr.is_ipv4() { 32 } else { 128 };
            if a.prefix_len > max {
                return Err(ConfigError::BadPrefix);
            }
        }
        config.addrs[..addrs.len()].copy_from_slice(addrs);
        config.addr_count = addrs.len();
        Ok(config)
    }

    pub(crate) fn ifaces(&self) -> &[IfaceConfig] {
        &self.ifaces[..self.iface_count]
    }

    fn addrs(&self) -> &[AddrConfig] {
        &self.addrs[..self.addr_count]
    }

    pub(crate) fn iface(&self, id: IfaceId) -> Option<&IfaceConfig> {
        self.ifaces().iter().find(|i| i.id == id)
    }

    /// The IPv4 addresses of `iface`, with prefix lengths.
    pub(crate) fn v4_on(&self, iface: IfaceId) -> impl Iterator<Item = (Ipv4Addr, u8)> + '_ {
        self.addrs().iter().filter_map(move |a| match a.addr {
            IpAddr::V4(v4) if a.iface == iface => Some((v4, a.prefix_len)),
            _ => None,
        })
    }

    /// The IPv6 addresses of `iface` (its link-local address first, if it has any IPv6).
    pub(crate) fn v6_on(&self, iface: IfaceId) -> impl Iterator<Item = (Ipv6Addr, u8)> + '_ {
        let global = self.addrs().iter().filter_map(move |a| match a.addr {
            IpAddr::V6(v6) if a.iface == iface => Some((v6, a.prefix_len)),
            _ => None,
        });
        let ll = self
            .iface(iface)
            .filter(|_| global.clone().next().is_some())
            .map(|i| (link_local(i.mac), 64));
        ll.into_iter().chain(global)
    }

    /// Whether `addr` is one of the host's IPv4 addresses (on any interface).
    pub(crate) fn is_own_v4(&self, addr: Ipv4Addr) -> bool {
        self.addrs().iter().any(|a| a.addr == IpAddr::V4(addr))
    }

    /// Whether `addr` is one of the host's IPv6 addresses (link-local ones included).
    pub(crate) fn is_own_v6(&self, addr: Ipv6Addr) -> bool {
        self.addrs().iter().any(|a| a.addr == IpAddr::V6(addr))
            || self
                .ifaces()
                .iter()
                .any(|i| self.v6_on(i.id).any(|(a, _)| a == addr))
    }

    /// Whether `addr` is on a connected IPv4 network of `iface`.
    pub(crate) fn v4_connected(&self, iface: IfaceId, addr: Ipv4Addr) -> bool {
        self.v4_on(iface)
            .any(|(own, len)| same_prefix(&own.octets(), &addr.octets(), len))
    }

    /// The source address for a request to `target` on `iface`: the interface's address on
    /// `target`'s network, else its first.
    pub(crate) fn route_v4_source(
        &self,
        iface: IfaceId,
        target: Ipv4Addr,
    ) -> Option<(Ipv4Addr, u8)> {
        self.v4_on(iface)
            .find(|(own, len)| same_prefix(&own.octets(), &target.octets(), *len))
            .or_else(|| self.v4_on(iface).next())
    }

    /// The interface and source address to reach `target` on a connected network: the given
    /// interface (its first address of the family), or the first interface whose network holds
    /// it.
    pub(crate) fn route(&self, target: IpAddr, via: Option<IfaceId>) -> Option<(IfaceId, IpAddr)> {
        let candidates = self
            .ifaces()
            .iter()
            .map(|i| i.id)
            .filter(|id| via.is_none_or(|v| v == *id));
        for id in candidates {
            match target {
                IpAddr::V4(t) => {
                    let mut on = self.v4_on(id);
                    let hit = if via.is_some() {
                        on.next()
                    } else {
                        on.find(|(own, len)| same_prefix(&own.octets(), &t.octets(), *len))
                    };
                    if let Some((own, _)) = hit {
                        return Some((id, IpAddr::V4(own)));
                    }
                }
                IpAddr::V6(t) => {
                    let link_local_target = t.is_unicast_link_local();
                    let hit = self.v6_on(id).find(|(own, len)| {
                        if link_local_target {
                            // A link-local target is reached from the link-local address, and
                            // only where the interface was named.
                            via.is_some() && own.is_unicast_link_local()
                        } else {
                            !own.is_unicast_link_local()
                                && (via.is_some() || same_prefix(&own.octets(), &t.octets(), *len))
                        }
                    });
                    if let Some((own, _)) = hit {
                        return Some((id, IpAddr::V6(own)));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert!(same_prefix(&[10, 0, 1, 1], &[10, 0, 1, 200], 24));
        assert!(!same_prefix(&[10, 0, 1, 1], &[10, 0, 2, 1], 24));
        assert!(same_prefix(&[10, 0, 1, 1], &[10, 0, 1, 127], 25));
        assert!(!same_prefix(&[10, 0, 1, 1], &[10, 0, 1, 128], 25));
        assert!(same_prefix(&[1, 2, 3, 4], &[9, 9, 9, 9], 0));
        assert!(same_prefix(&[1, 2, 3, 4], &[1, 2, 3, 4], 32));
    }

    #[test]
    fn link_local_is_eui64() {
        let ll = link_local([0x02, 0x00, 0x00, 0xAA, 0xBB, 0xCC]);
        assert_eq!(ll, "fe80::ff:feaa:bbcc".parse::<Ipv6Addr>().unwrap());
    }
}
