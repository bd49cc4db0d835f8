//! MAC addresses and the classes the switch cares about.

use core::fmt;

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xFF; 6]);

    /// Group address (I/G bit set): broadcast and multicast.
    #[inline]
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// `00:00:00:00:00:00`.
    pub const fn is_zero(&self) -> bool {
        matches!(self.0, [0, 0, 0, 0, 0, 0])
    }

    /// `01:80:c2:00:00:00` .. `01:80:c2:00:00:0f`: IEEE 802.1D reserved link-local addresses
    /// (STP, pause, LACP, 802.1X, LLDP...), which a MAC bridge must not forward.
    pub const fn is_reserved_link_local(&self) -> bool {
        let a = self.0;
        a[0] == 0x01 && a[1] == 0x80 && a[2] == 0xC2 && a[3] == 0 && a[4] == 0 && a[5] & 0xF0 == 0
    }

    /// A valid station (source) address: neither group nor all-zero.
    #[inline]
    pub const fn is_valid_source(&self) -> bool {
        !self.is_multicast() && !self.is_zero()
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr([0x01, 0x00, 0x5E, 0, 0, 1]).is_multicast());
        assert!(!MacAddr([0x02, 0, 0, 0, 0, 1]).is_multicast());
        assert!(MacAddr([0x01, 0x80, 0xC2, 0, 0, 0x0E]).is_reserved_link_local());
        assert!(!MacAddr([0x01, 0x80, 0xC2, 0, 0, 0x10]).is_reserved_link_local());
        assert!(!MacAddr::default().is_valid_source());
        assert!(MacAddr([0x02, 0, 0, 0, 0, 1]).is_valid_source());
    }

    #[test]
    fn display_like_routeros() {
        extern crate std;
        assert_eq!(
            std::format!("{}", MacAddr([0x02, 0xAB, 0, 0, 0x10, 0xFF])),
            "02:AB:00:00:10:FF"
        );
    }
}
