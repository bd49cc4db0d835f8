//! The RIB's ordered maps: destinations in print order and gateways by address. Both are one
//! `BTreeMap<Key, u64>` type: a key is 192 bits compared as three words, and each use packs
//! its own fields into it, so the B-tree code exists once in the image whatever is indexed.
//! Insertions, removals and lookups are O(log n); a range walks only what it returns.

use super::types::{IfId, TableId};
use crate::prefix::{Afi, Prefix};
use alloc::collections::BTreeMap;
use core::ops::RangeInclusive;

/// Three words compared in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key(u64, u64, u64);

impl Key {
    /// The smallest key after this one (`None` after the largest).
    pub fn successor(&self) -> Option<Key> {
        let (c, carry) = self.2.overflowing_add(1);
        if !carry {
            return Some(Key(self.0, self.1, c));
        }
        let (b, carry) = self.1.overflowing_add(1);
        if !carry {
            return Some(Key(self.0, b, 0));
        }
        Some(Key(self.0.checked_add(1)?, 0, 0))
    }
}

/// An ordered map from [`Key`] to a packed `u64`.
#[derive(Default)]
pub(crate) struct Index {
    map: BTreeMap<Key, u64>,
}

impl Index {
    pub fn get(&self, key: &Key) -> Option<u64> {
        self.map.get(key).copied()
    }

    pub fn get_mut(&mut self, key: &Key) -> Option<&mut u64> {
        self.map.get_mut(key)
    }

    pub fn insert(&mut self, key: Key, value: u64) -> Option<u64> {
        self.map.insert(key, value)
    }

    pub fn remove(&mut self, key: &Key) -> Option<u64> {
        self.map.remove(key)
    }

    pub fn range(&self, keys: RangeInclusive<Key>) -> impl Iterator<Item = (Key, u64)> + '_ {
        self.map.range(keys).map(|(k, v)| (*k, *v))
    }

    /// The first key in `keys`.
    pub fn first_in(&self, keys: RangeInclusive<Key>) -> Option<Key> {
        self.map.range(keys).next().map(|(k, _)| *k)
    }

    #[cfg(any(test, feature = "reference"))]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

fn afi_bit(afi: Afi) -> u64 {
    match afi {
        Afi::Ipv4 => 0,
        Afi::Ipv6 => 1,
    }
}

/// A destination: `(table, family, address, length, destination interface)`, which is the
/// order `Rib::routes` prints in.
pub(crate) fn dest_key(table: TableId, dst: &Prefix, dst_interface: Option<IfId>) -> Key {
    let bits = dst.bits();
    let dst_if = dst_interface.map_or(0, |i| 1 + u64::from(i.0));
    Key(
        (u64::from(table.0) << 48) | (afi_bit(dst.afi()) << 40) | (bits >> 88) as u64,
        (bits >> 24) as u64,
        ((bits as u64 & 0xff_ffff) << 40) | (u64::from(dst.len()) << 32) | dst_if,
    )
}

/// The parts of a [`dest_key`].
pub(crate) fn dest_parts(key: &Key) -> (TableId, Prefix, Option<IfId>) {
    let table = TableId((key.0 >> 48) as u16);
    let afi = if (key.0 >> 40) & 1 == 0 {
        Afi::Ipv4
    } else {
        Afi::Ipv6
    };
    let bits = (u128::from(key.0 & 0xff_ffff_ffff) << 88)
        | (u128::from(key.1) << 24)
        | u128::from(key.2 >> 40);
    let len = (key.2 >> 32) as u8;
    let dst_if = match key.2 & 0x1_ffff {
        0 => None,
        n => Some(IfId((n - 1) as u16)),
    };
    (table, Prefix::from_parts(afi, bits, len), dst_if)
}

/// Every key.
pub(crate) fn everything() -> RangeInclusive<Key> {
    Key(0, 0, 0)..=Key(u64::MAX, u64::MAX, u64::MAX)
}

/// Every destination of `table`.
pub(crate) fn table_range(table: TableId) -> RangeInclusive<Key> {
    let t = u64::from(table.0) << 48;
    Key(t, 0, 0)..=Key(t | 0xffff_ffff_ffff, u64::MAX, u64::MAX)
}

/// What a gateway resolves through: an address at a scope level, an address on an
/// interface, or an interface.
const ADDRESS: u64 = 0;
const ADDRESS_ON_INTERFACE: u64 = 1;
const INTERFACE: u64 = 2;

/// A gateway address resolved at `level`: `(family, address, level)`.
pub(crate) fn address_key(afi: Afi, bits: u128, level: u8) -> Key {
    Key(
        (ADDRESS << 56) | (afi_bit(afi) << 48) | (bits >> 80) as u64,
        (bits >> 16) as u64,
        ((bits as u64 & 0xffff) << 8) | u64::from(level),
    )
}

/// Every gateway address inside `p`, at every level.
pub(crate) fn addresses_in(p: &Prefix) -> RangeInclusive<Key> {
    let width = u32::from(p.afi().bits());
    let host = (u128::MAX >> (128 - width))
        .checked_shr(u32::from(p.len()))
        .unwrap_or(0);
    address_key(p.afi(), p.bits(), 0)..=address_key(p.afi(), p.bits() | host, u8::MAX)
}

/// An address on an interface (`10.0.0.1%ether1`).
pub(crate) fn address_on_interface_key(ifid: IfId, afi: Afi, bits: u128) -> Key {
    Key(
        (ADDRESS_ON_INTERFACE << 56) | (u64::from(ifid.0) << 8) | afi_bit(afi),
        (bits >> 64) as u64,
        bits as u64,
    )
}

/// An interface gateway.
pub(crate) fn interface_key(ifid: IfId) -> Key {
    Key((INTERFACE << 56) | u64::from(ifid.0), 0, 0)
}

/// Every gateway that depends on interface `ifid` alone.
pub(crate) fn interface_ranges(ifid: IfId) -> [RangeInclusive<Key>; 2] {
    let on = (ADDRESS_ON_INTERFACE << 56) | (u64::from(ifid.0) << 8);
    [
        Key(on, 0, 0)..=Key(on | 0xff, u64::MAX, u64::MAX),
        interface_key(ifid)..=interface_key(ifid),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn net(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn destination_keys_sort_like_the_print_order_and_decode() {
        let mut dests = [
            (TableId(1), net("0.0.0.0/0"), None),
            (TableId(0), net("10.0.0.0/8"), None),
            (TableId(0), net("10.0.0.0/24"), None),
            (TableId(0), net("9.255.0.0/16"), None),
            (TableId(0), net("::/0"), None),
            (TableId(0), net("fe80::/64"), Some(IfId(3))),
            (TableId(0), net("fe80::/64"), Some(IfId(2))),
            (TableId(0), net("fe80::/64"), None),
            (
                TableId(0),
                net("2001:db8:ffff:ffff:ffff:ffff:ffff:ff00/120"),
                None,
            ),
            (TableId(0), net("255.255.255.255/32"), None),
        ];
        for d in &dests {
            assert_eq!(dest_parts(&dest_key(d.0, &d.1, d.2)), *d);
        }
        let mut keys: Vec<Key> = dests.iter().map(|d| dest_key(d.0, &d.1, d.2)).collect();
        keys.sort_unstable();
        dests.sort_unstable();
        let decoded: Vec<_> = keys.iter().map(dest_parts).collect();
        assert_eq!(decoded, dests);
        assert!(table_range(TableId(0)).contains(&dest_key(TableId(0), &net("::/0"), None)));
        assert!(!table_range(TableId(0)).contains(&dest_key(TableId(1), &net("::/0"), None)));
    }

    #[test]
    fn address_ranges_cover_exactly_the_prefix() {
        let key = |s: &str, level| {
            let p: Prefix = s.parse().unwrap();
            address_key(p.afi(), p.bits(), level)
        };
        let r = addresses_in(&net("10.1.0.0/16"));
        assert!(r.contains(&key("10.1.0.0", 0)));
        assert!(r.contains(&key("10.1.255.255", 255)));
        assert!(!r.contains(&key("10.2.0.0", 0)));
        assert!(!r.contains(&key("10.0.255.255", 255)));
        assert!(!r.contains(&key("::a01:1", 10)));
        let all = addresses_in(&net("::/0"));
        assert!(all.contains(&key("ffff::1", 30)));
        assert!(!all.contains(&key("10.1.2.3", 30)));
        let v4 = addresses_in(&net("0.0.0.0/0"));
        assert!(v4.contains(&key("255.255.255.255", 255)));
        let host = addresses_in(&net("2001:db8::1/128"));
        assert!(host.contains(&key("2001:db8::1", 7)));
        assert!(!host.contains(&key("2001:db8::2", 7)));
        let [on, iface] = interface_ranges(IfId(4));
        assert!(on.contains(&address_on_interface_key(IfId(4), Afi::Ipv6, u128::MAX)));
        assert!(!on.contains(&address_on_interface_key(IfId(5), Afi::Ipv4, 0)));
        assert!(iface.contains(&interface_key(IfId(4))));
        assert!(!on.contains(&key("10.0.0.1", 0)));
    }
}
