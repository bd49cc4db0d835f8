//! The MAC table: fixed capacity, open addressing with linear probing, no allocation.
//!
//! Keys are (bridge, VLAN id, MAC); values the port and when the address was last seen (in
//! seconds, compared with wrapping arithmetic). Deletion shifts the rest of the probe cluster
//! back, so there are no tombstones and lookups stay short. Expired entries are removed when a
//! lookup meets them, reused by inserts that pass them, and swept by [`MacTable::retain`].
//!
//! Full policy: the table holds at most [`MacTable::MAX_ENTRIES`] (7/8 of the slots, so probes
//! stay short and always end). When it is full and the probe path holds no expired entry, a new
//! address is NOT learned ([`Learn::TableFull`]): frames to it are flooded, as for any unknown
//! address, and existing entries are never evicted before they age out, so a flood of fake
//! source addresses cannot push out the stations that are really there.

use crate::mac::MacAddr;

/// What a table entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// Bridge index.
    pub bridge: u16,
    /// VLAN id (0: untagged / VLAN-unaware).
    pub vid: u16,
    /// Station address.
    pub mac: MacAddr,
}

/// One learned address, as [`MacTable::iter`] and [`MacTable::retain`] show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Station address.
    pub mac: MacAddr,
    /// VLAN id.
    pub vid: u16,
    /// Bridge index.
    pub bridge: u16,
    /// Port index.
    pub port: u16,
    /// Last seen, seconds.
    pub seen: u32,
}

/// A slot: the key packed into words (compared and hashed as such on a 32-bit CPU), the port
/// and the time. 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    /// MAC bytes 0..4.
    hi: u32,
    /// MAC bytes 4..6, then the VLAN id.
    lo: u32,
    /// Bridge index; `u16::MAX` marks an empty slot.
    bridge: u16,
    port: u16,
    seen: u32,
}

/// A key packed like a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Packed {
    hi: u32,
    lo: u32,
    bridge: u16,
}

impl Packed {
    /// The key of the address whose bytes 0..4 are `mac_hi` and bytes 4..6 the upper half of
    /// `mac_lo` (big-endian; the lower half of `mac_lo` must be zero), in `bridge` / `vid`.
    #[inline(always)]
    pub(crate) const fn new(mac_hi: u32, mac_lo: u32, vid: u16, bridge: u16) -> Self {
        Packed {
            hi: mac_hi,
            lo: mac_lo | vid as u32,
            bridge,
        }
    }
}

impl Key {
    #[inline]
    fn pack(&self) -> Packed {
        let m = self.mac.0;
        Packed::new(
            u32::from_be_bytes([m[0], m[1], m[2], m[3]]),
            u32::from_be_bytes([m[4], m[5], 0, 0]),
            self.vid,
            self.bridge,
        )
    }
}

const EMPTY: u16 = u16::MAX;
const VACANT: Slot = Slot {
    hi: 0,
    lo: 0,
    bridge: EMPTY,
    port: 0,
    seen: 0,
};

impl Slot {
    #[inline]
    fn is_empty(&self) -> bool {
        self.bridge == EMPTY
    }
    #[inline]
    fn packed(&self) -> Packed {
        Packed {
            hi: self.hi,
            lo: self.lo,
            bridge: self.bridge,
        }
    }
    /// Whether the slot holds `key`. An empty slot matches only a key with the bridge index
    /// `EMPTY`, which the switch never makes (it has fewer bridges); the public operations test
    /// for empty slots first anyway.
    #[inline(always)]
    fn matches(&self, key: &Packed) -> bool {
        // Non-short-circuit: one branch instead of three.
        (self.hi ^ key.hi) | (self.lo ^ key.lo) | u32::from(self.bridge ^ key.bridge) == 0
    }
    /// A frame from a known address: seen now, on `port` (moved there if it was elsewhere).
    #[inline(always)]
    fn refresh(&mut self, port: u16, now: u32) -> Learn {
        self.seen = now;
        if self.port == port {
            return Learn::Refreshed;
        }
        let from = self.port;
        self.port = port;
        Learn::Moved { from }
    }
    #[inline]
    fn expired(&self, now: u32, ageing: u32) -> bool {
        now.wrapping_sub(self.seen) >= ageing
    }
    fn entry(&self) -> Entry {
        let (hi, lo) = (self.hi.to_be_bytes(), self.lo.to_be_bytes());
        Entry {
            mac: MacAddr([hi[0], hi[1], hi[2], hi[3], lo[0], lo[1]]),
            vid: self.lo as u16,
            bridge: self.bridge,
            port: self.port,
            seen: self.seen,
        }
    }
}

/// What learning an address did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learn {
    /// Already known on that port; its age was reset.
    Refreshed,
    /// Known on another port (the station moved); now on the new one.
    Moved {
        /// The port it was on.
        from: u16,
    },
    /// New entry.
    Added,
    /// Not learned: the table is full (see the module documentation).
    TableFull,
}

/// A MAC table with `N` slots (`N` a power of two).
#[derive(Clone, Debug)]
pub struct MacTable<const N: usize> {
    slots: [Slot; N],
    len: usize,
}

impl<const N: usize> Default for MacTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> MacTable<N> {
    /// Most entries held at once (7/8 of the slots).
    pub const MAX_ENTRIES: usize = N - N / 8;
    const MASK: usize = {
        assert!(
            N.is_power_of_two() && N >= 8,
            "MAC table size must be a power of two, at least 8"
        );
        N - 1
    };

    /// An empty table.
    pub const fn new() -> Self {
        let _ = Self::MASK;
        Self {
            slots: [VACANT; N],
            len: 0,
        }
    }

    /// Forget every entry, in place.
    pub fn clear(&mut self) {
        self.slots.fill(VACANT);
        self.len = 0;
    }

    /// Entries held (some may be expired but not yet swept).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(key: &Packed) -> usize {
        let h = (key.hi ^ key.lo.rotate_left(13) ^ u32::from(key.bridge)).wrapping_mul(0x9E37_79B1);
        (h ^ h >> 16) as usize & Self::MASK
    }

    /// The port `key` was learned on, unless absent or older than `ageing` seconds (an expired
    /// entry met here is removed).
    #[inline]
    pub fn lookup(&mut self, key: Key, now: u32, ageing: u32) -> Option<u16> {
        self.lookup_packed(key.pack(), now, ageing)
    }

    /// [`MacTable::lookup`] of a packed key.
    #[inline(always)]
    pub(crate) fn lookup_packed(&mut self, key: Packed, now: u32, ageing: u32) -> Option<u16> {
        let mut i = Self::home(&key);
        loop {
            let e = &self.slots[i];
            if e.is_empty() {
                return None;
            }
            if e.matches(&key) {
                if e.expired(now, ageing) {
                    self.delete_at(i);
                    return None;
                }
                return Some(e.port);
            }
            i = (i + 1) & Self::MASK;
        }
    }

    /// The port of `key` if it is present and not expired, without removing anything (the
    /// fast form of [`MacTable::lookup`]: `None` also where `lookup` would remove an entry).
    /// For the switch's keys, whose bridge index is never `EMPTY`.
    #[inline(always)]
    pub(crate) fn peek_packed(&self, key: Packed, now: u32, ageing: u32) -> Option<u16> {
        let mut i = Self::home(&key);
        loop {
            let e = &self.slots[i];
            if e.matches(&key) {
                return (!e.expired(now, ageing)).then_some(e.port);
            }
            if e.is_empty() {
                return None;
            }
            i = (i + 1) & Self::MASK;
        }
    }

    /// Refreshes `key` if it is already known on `port` and met before any empty or expired
    /// slot of its probe path, and says whether it did: exactly what [`MacTable::learn`] would
    /// do then (the fast form; anything else is left to `learn`). For the switch's keys, whose
    /// bridge index is never `EMPTY`.
    #[inline(always)]
    pub(crate) fn refresh_packed(&mut self, key: Packed, port: u16, now: u32, ageing: u32) -> bool {
        let mut i = Self::home(&key);
        loop {
            let e = &mut self.slots[i];
            if e.matches(&key) {
                if e.port != port {
                    return false;
                }
                e.seen = now;
                return true;
            }
            if e.is_empty() || e.expired(now, ageing) {
                return false;
            }
            i = (i + 1) & Self::MASK;
        }
    }

    /// Records that `key` was seen on `port` at `now`.
    #[inline]
    pub fn learn(&mut self, key: Key, port: u16, now: u32, ageing: u32) -> Learn {
        self.learn_packed(key.pack(), port, now, ageing)
    }

    /// [`MacTable::learn`] of a packed key.
    #[inline(always)]
    pub(crate) fn learn_packed(&mut self, key: Packed, port: u16, now: u32, ageing: u32) -> Learn {
        let mut i = Self::home(&key);
        loop {
            let e = &mut self.slots[i];
            if e.is_empty() || e.expired(now, ageing) {
                return self.insert_from(i, key, port, now, ageing);
            }
            if e.matches(&key) {
                return e.refresh(port, now);
            }
            i = (i + 1) & Self::MASK;
        }
    }

    /// The rest of [`MacTable::learn_packed`] for a key not met before slot `i` of its probe
    /// path (out of line: new addresses are rare next to refreshed ones).
    #[inline(never)]
    fn insert_from(
        &mut self,
        mut i: usize,
        key: Packed,
        port: u16,
        now: u32,
        ageing: u32,
    ) -> Learn {
        let mut reusable = None;
        loop {
            let e = &mut self.slots[i];
            if e.is_empty() {
                break;
            }
            if e.matches(&key) {
                return e.refresh(port, now);
            }
            if reusable.is_none() && e.expired(now, ageing) {
                reusable = Some(i);
            }
            i = (i + 1) & Self::MASK;
        }
        let slot = Slot {
            hi: key.hi,
            lo: key.lo,
            bridge: key.bridge,
            port,
            seen: now,
        };
        match reusable {
            // Overwriting a live-looking slot keeps every cluster intact; the old key is expired.
            Some(at) => self.slots[at] = slot,
            None if self.len < Self::MAX_ENTRIES => {
                self.slots[i] = slot;
                self.len += 1;
            }
            None => return Learn::TableFull,
        }
        Learn::Added
    }

    /// Removes the entry in slot `hole`, shifting the rest of its cluster back.
    fn delete_at(&mut self, mut hole: usize) {
        let mut j = hole;
        loop {
            j = (j + 1) & Self::MASK;
            let e = self.slots[j];
            if e.is_empty() {
                break;
            }
            let home = Self::home(&e.packed());
            // `e` may fill the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = e;
                hole = j;
            }
        }
        self.slots[hole] = VACANT;
        self.len -= 1;
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        for i in 0..N {
            while !self.slots[i].is_empty() && !keep(&self.slots[i].entry()) {
                self.delete_at(i);
            }
        }
    }

    /// The entries, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        self.slots.iter().filter(|e| !e.is_empty()).map(Slot::entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> Key {
        let b = n.to_be_bytes();
        Key {
            bridge: 0,
            vid: 0,
            mac: MacAddr([2, 0, b[0], b[1], b[2], b[3]]),
        }
    }

    #[test]
    fn learn_lookup_move_age() {
        let mut t = MacTable::<16>::new();
        assert_eq!(t.learn(key(1), 3, 100, 300), Learn::Added);
        assert_eq!(t.learn(key(1), 3, 150, 300), Learn::Refreshed);
        assert_eq!(t.lookup(key(1), 449, 300), Some(3));
        assert_eq!(t.learn(key(1), 4, 200, 300), Learn::Moved { from: 3 });
        assert_eq!(t.lookup(key(1), 499, 300), Some(4));
        assert_eq!(t.lookup(key(1), 500, 300), None, "aged out after 300 s");
        assert!(t.is_empty());
    }

    #[test]
    fn full_table_refuses_new_addresses_but_keeps_old_ones() {
        let mut t = MacTable::<16>::new();
        for n in 0..14 {
            assert_eq!(t.learn(key(n), 1, 0, 300), Learn::Added);
        }
        assert_eq!(t.len(), MacTable::<16>::MAX_ENTRIES);
        assert_eq!(t.learn(key(99), 1, 10, 300), Learn::TableFull);
        for n in 0..14 {
            assert_eq!(t.lookup(key(n), 10, 300), Some(1));
        }
        // Once old entries expire, new addresses take their place.
        assert_eq!(t.learn(key(99), 2, 400, 300), Learn::Added);
        assert_eq!(t.lookup(key(99), 400, 300), Some(2));
    }

    /// The fast forms change nothing but what `learn` / `lookup` would, and answer the same
    /// where they answer: over a crowded 16-slot table with expired entries and moves.
    #[test]
    fn fast_forms_agree_with_learn_and_lookup() {
        let mut t = MacTable::<16>::new();
        let mut answered = (0, 0);
        for step in 0..4000u32 {
            let now = step / 8;
            let n = step.wrapping_mul(2_654_435_761) >> 28;
            let (k, port) = (key(n % 13), (step % 3) as u16);
            let before = t.clone();
            let mut full = t.clone();
            if t.refresh_packed(k.pack(), port, now, 40) {
                assert_eq!(full.learn(k, port, now, 40), Learn::Refreshed);
                assert_eq!(t.slots, full.slots);
                answered.0 += 1;
            } else {
                assert_eq!(t.slots, before.slots, "refused, so nothing changed");
                full.learn(k, port, now, 40);
            }
            t = full;
            let probe = key((n >> 1) % 13);
            let looked_up = t.clone().lookup(probe, now, 40);
            match t.peek_packed(probe.pack(), now, 40) {
                Some(p) => {
                    assert_eq!(looked_up, Some(p));
                    answered.1 += 1;
                }
                None => assert_eq!(looked_up, None),
            }
        }
        assert!(answered.0 > 500 && answered.1 > 500, "{answered:?}");
    }

    #[test]
    fn same_mac_in_different_bridges_and_vlans() {
        let mut t = MacTable::<16>::new();
        let k = key(7);
        let k_vlan = Key { vid: 10, ..k };
        let k_bridge = Key { bridge: 1, ..k };
        t.learn(k, 1, 0, 300);
        t.learn(k_vlan, 2, 0, 300);
        t.learn(k_bridge, 3, 0, 300);
        assert_eq!(
            (
                t.lookup(k, 0, 300),
                t.lookup(k_vlan, 0, 300),
                t.lookup(k_bridge, 0, 300)
            ),
            (Some(1), Some(2), Some(3))
        );
    }
}
