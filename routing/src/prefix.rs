//! IP networks as the RIB and the CLI see them: an address family, an address with its host
//! bits cleared, and a length. Parses and prints the RouterOS way (`10.0.0.0/24`, `::/0`, and a
//! bare address meaning a host route).

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

/// Address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Afi {
    Ipv4,
    Ipv6,
}

impl Afi {
    pub const fn of(addr: IpAddr) -> Afi {
        match addr {
            IpAddr::V4(_) => Afi::Ipv4,
            IpAddr::V6(_) => Afi::Ipv6,
        }
    }

    /// Address width in bits.
    pub const fn bits(self) -> u8 {
        match self {
            Afi::Ipv4 => 32,
            Afi::Ipv6 => 128,
        }
    }
}

/// Why a prefix was refused: always the input's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixError {
    /// Not an address, or not `address/length`.
    Syntax,
    /// The length exceeds the family's width.
    Length,
}

/// An IPv4 or IPv6 network. Host bits are always zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    afi: Afi,
    /// The address as an integer (IPv4 in the low 32 bits).
    bits: u128,
    len: u8,
}

/// An address as an integer, IPv4 in the low 32 bits.
pub(crate) fn addr_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask(afi: Afi, bits: u128, len: u8) -> u128 {
    let width = u32::from(afi.bits());
    if len == 0 {
        0
    } else {
        bits & ((u128::MAX >> (128 - width)) << (width - u32::from(len)))
    }
}

impl Prefix {
    /// The network of `addr/len` (host bits are cleared).
    pub fn new(addr: IpAddr, len: u8) -> Result<Prefix, PrefixError> {
        let afi = Afi::of(addr);
        if len > afi.bits() {
            return Err(PrefixError::Length);
        }
        Ok(Prefix {
            afi,
            bits: mask(afi, addr_bits(addr), len),
            len,
        })
    }

    /// The host route of `addr` (/32 or /128).
    pub fn host(addr: IpAddr) -> Prefix {
        let afi = Afi::of(addr);
        Prefix {
            afi,
            bits: addr_bits(addr),
            len: afi.bits(),
        }
    }

    /// `0.0.0.0/0` or `::/0`.
    pub const fn default_route(afi: Afi) -> Prefix {
        Prefix {
            afi,
            bits: 0,
            len: 0,
        }
    }

    pub const fn afi(&self) -> Afi {
        self.afi
    }

    #[allow(clippy::len_without_is_empty)] // a prefix length, not a collection size
    pub const fn len(&self) -> u8 {
        self.len
    }

    pub const fn is_default(&self) -> bool {
        self.len == 0
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        match self.afi {
            Afi::Ipv4 => IpAddr::V4(Ipv4Addr::from(self.bits as u32)),
            Afi::Ipv6 => IpAddr::V6(Ipv6Addr::from(self.bits)),
        }
    }

    pub(crate) const fn bits(&self) -> u128 {
        self.bits
    }

    /// The network of `bits/len` in `afi` (host bits are cleared; `len` is at most the
    /// family's width).
    pub(crate) fn from_parts(afi: Afi, bits: u128, len: u8) -> Prefix {
        debug_assert!(len <= afi.bits());
        Prefix {
            afi,
            bits: mask(afi, bits, len),
            len,
        }
    }

    /// Whether `addr` (of the same family) is inside this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        Afi::of(addr) == self.afi && mask(self.afi, addr_bits(addr), self.len) == self.bits
    }

    /// Whether `other` is this network or a more specific one inside it.
    pub fn covers(&self, other: &Prefix) -> bool {
        other.afi == self.afi
            && other.len >= self.len
            && mask(self.afi, other.bits, self.len) == self.bits
    }

    /// IPv6 link-local (`fe80::/10`): never forwarded.
    pub fn is_link_local(&self) -> bool {
        self.afi == Afi::Ipv6 && self.len >= 10 && self.bits >> 118 == 0x3fa
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl FromStr for Prefix {
    type Err = PrefixError;

    /// `addr/len`, or a bare address for a host route.
    fn from_str(s: &str) -> Result<Prefix, PrefixError> {
        match s.split_once('/') {
            Some((a, l)) => {
                let addr: IpAddr = a.parse().map_err(|_| PrefixError::Syntax)?;
                let len: u8 = l.parse().map_err(|_| PrefixError::Syntax)?;
                Prefix::new(addr, len)
            }
            None => s
                .parse::<IpAddr>()
                .map(Prefix::host)
                .map_err(|_| PrefixError::Syntax),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parse_print_and_contain() {
        let p: Prefix = "10.1.2.3/16".parse().unwrap();
        assert_eq!(p.to_string(), "10.1.0.0/16");
        assert!(p.contains("10.1.255.1".parse().unwrap()));
        assert!(!p.contains("10.2.0.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        assert_eq!(
            "8.8.8.8".parse::<Prefix>().unwrap().to_string(),
            "8.8.8.8/32"
        );
        assert_eq!(
            "::/0".parse::<Prefix>().unwrap(),
            Prefix::default_route(Afi::Ipv6)
        );
        assert_eq!("1.2.3.4/33".parse::<Prefix>(), Err(PrefixError::Length));
        assert_eq!("1.2.3/8".parse::<Prefix>(), Err(PrefixError::Syntax));
        let ll: Prefix = "fe80::1/64".parse().unwrap();
        assert!(ll.is_link_local());
        assert!(!"2001:db8::/32".parse::<Prefix>().unwrap().is_link_local());
        assert!(p.covers(&"10.1.2.0/24".parse().unwrap()));
        assert!(!p.covers(&"10.0.0.0/8".parse().unwrap()));
    }
}
