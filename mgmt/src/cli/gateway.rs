//! Gateways of a route as typed: `10.0.0.1`, `ether1`, `10.0.0.1%ether1`. An address that
//! cannot be a next hop is refused; while the saved configuration is replayed, an interface
//! name that does not exist is kept by name (`crate::references`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{Config, Gateway, IfaceRef};
use crate::network::IpAddress;
use crate::value;

/// Whether `address` can be a next hop: not unspecified (`0.0.0.0`, `::`), not broadcast, not
/// multicast.
fn usable_gateway(address: IpAddress) -> bool {
    match address {
        IpAddress::V4(a) => a != [0; 4] && a != [255; 4] && !(224..=239).contains(&a[0]),
        IpAddress::V6(a) => a != [0; 16] && a[0] != 0xFF,
    }
}

/// One gateway: an address of the family, an interface name, or `address%interface`. While
/// the saved configuration is replayed, an interface name that does not exist is appended to
/// `missing` (see [`Value::Gateways`](super::args::Value::Gateways)).
pub fn parse_gateway(
    text: &str,
    v6: bool,
    config: &Config,
    missing: &mut Vec<String>,
) -> Option<Gateway> {
    let address = |t: &str| {
        if v6 {
            value::parse_ipv6(t).map(IpAddress::V6)
        } else {
            value::parse_ipv4(t).map(IpAddress::V4)
        }
        .filter(|a| usable_gateway(*a))
    };
    let mut iface = |name: &str| {
        config.find_iface(name).or_else(|| {
            (config.restoring && !name.is_empty()).then(|| {
                missing.push(String::from(name));
                IfaceRef::Gone(missing.len() as u32 - 1)
            })
        })
    };
    if let Some((addr, name)) = text.split_once('%') {
        return Some(Gateway::AddressOnInterface(address(addr)?, iface(name)?));
    }
    if value::parse_ipv4(text).is_some() || value::parse_ipv6(text).is_some() {
        return address(text).map(Gateway::Address);
    }
    iface(text).map(Gateway::Interface)
}
