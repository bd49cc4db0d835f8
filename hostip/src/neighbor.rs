//! The bounded neighbour table (ARP for IPv4, neighbour discovery for IPv6): one entry per
//! (interface, address), with the states RouterOS shows (`/ip arp print` STATUS, `/ipv6
//! neighbor print` STATUS) and their ageing.
//!
//! - `incomplete`: a request was sent, no answer yet; repeated every second, [`MAX_PROBES`]
//!   times, then `failed`.
//! - `reachable`: confirmed (an answer, or a request to us from it) within
//!   [`REACHABLE_US`] (RouterOS's default `arp-timeout`, 30 s); then `stale`.
//! - `stale`: still used; a ping to it sends a fresh request (unicast) to confirm it. Forgotten
//!   [`STALE_US`] after its last confirmation.
//! - `failed`: nobody answered; forgotten after [`FAILED_US`].
//! - `permanent`: a static entry (`/ip arp add`): never aged, never replaced by what is
//!   learned, never evicted.
//!
//! Full table: a new entry replaces the oldest `failed` or `stale` one; when all are
//! `reachable` or `incomplete`, nothing is learned (counted as
//! [`crate::Drop::NeighborTableFull`]), so a flood of new senders cannot push out the
//! neighbours the host is talking to.

use crate::{IfaceId, Mac, Micros};

/// ARP entries.
pub const ARP_ENTRIES: usize = 256;
/// IPv6 neighbour entries.
pub const ND_ENTRIES: usize = 128;
/// How long a confirmed entry is `reachable`.
pub const REACHABLE_US: Micros = 30_000_000;
/// How long a `stale` entry is kept after its last confirmation.
pub const STALE_US: Micros = 300_000_000;
/// How long a `failed` entry is shown.
pub const FAILED_US: Micros = 10_000_000;
/// Requests sent for an `incomplete` entry before it fails.
pub const MAX_PROBES: u8 = 3;
/// Time between requests for an `incomplete` entry.
pub const PROBE_US: Micros = 1_000_000;
/// How often the tables are swept.
pub(crate) const SWEEP_US: Micros = 100_000;
/// Requests repeated per sweep at most (the rest wait for the next sweep).
pub(crate) const RETRIES_PER_SWEEP: usize = 8;

/// The state of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighborState {
    Incomplete,
    Reachable,
    Stale,
    Failed,
    /// A static entry.
    Permanent,
}

impl NeighborState {
    /// RouterOS's word.
    pub fn as_str(self) -> &'static str {
        match self {
            NeighborState::Incomplete => "incomplete",
            NeighborState::Reachable => "reachable",
            NeighborState::Stale => "stale",
            NeighborState::Failed => "failed",
            NeighborState::Permanent => "permanent",
        }
    }
}

/// One neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbor<A> {
    /// The interface it is on.
    pub iface: IfaceId,
    /// Its address.
    pub addr: A,
    /// Its MAC (`None` while incomplete or failed).
    pub mac: Option<Mac>,
    /// Its state.
    pub state: NeighborState,
    /// IPv6: it said it is a router (the R flag of its advertisement).
    pub router: bool,
    /// When it was last confirmed (or, while incomplete, when the last request went out).
    pub(crate) since: Micros,
    /// Requests sent while incomplete.
    pub(crate) probes: u8,
    /// Creation order, for printing.
    pub(crate) serial: u32,
}

/// A fixed-capacity table of neighbours of address type `A`.
#[derive(Clone)]
pub struct NeighborTable<A, const N: usize> {
    slots: [Option<Neighbor<A>>; N],
    serial: u32,
    /// Changes to what a forwarding lookup answers ([`NeighborTable::changes`]).
    changes: u64,
}

/// What a forwarding lookup reads of an entry: its MAC, its state and whether it was asked
/// to confirm.
fn seen<A>(e: &Neighbor<A>) -> (Option<Mac>, NeighborState, bool) {
    (e.mac, e.state, e.probes == 0)
}

/// Whether the table learned an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Learned {
    Yes,
    TableFull,
}

impl<A: Copy + PartialEq, const N: usize> NeighborTable<A, N> {
    /// Empty.
    pub fn new() -> Self {
        NeighborTable {
            slots: [None; N],
            serial: 0,
            changes: 0,
        }
    }

    /// How many times an entry was added or removed, or changed its MAC or state, or was
    /// asked to confirm (what [`crate::HostIp::neighbor_for_forwarding`] answers may then
    /// differ); other changes (times, the router flag, the probes of an incomplete entry) are
    /// not counted.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = Neighbor<A>> + '_ {
        let mut order: [(u32, u16); N] = [(u32::MAX, 0); N];
        let mut n = 0;
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(e) = slot {
                order[n] = (e.serial, i as u16);
                n += 1;
            }
        }
        order[..n].sort_unstable();
        (0..n).filter_map(move |k| self.slots[usize::from(order[k].1)])
    }

    /// The entry for `addr` on `iface`.
    pub fn get(&self, iface: IfaceId, addr: A) -> Option<&Neighbor<A>> {
        self.slots
            .iter()
            .flatten()
            .find(|e| e.iface == iface && e.addr == addr)
    }

    fn find_mut(&mut self, iface: IfaceId, addr: A) -> Option<&mut Neighbor<A>> {
        self.slots
            .iter_mut()
            .flatten()
            .find(|e| e.iface == iface && e.addr == addr)
    }

    /// Keeps only the entries on interfaces `keep` accepts.
    pub(crate) fn retain(&mut self, keep: impl Fn(IfaceId) -> bool) {
        for slot in &mut self.slots {
            if slot.is_some_and(|e| !keep(e.iface)) {
                *slot = None;
                self.changes += 1;
            }
        }
    }

    /// A free slot, or the one to replace: the oldest failed or stale entry.
    fn slot_for_new(&mut self) -> Option<&mut Option<Neighbor<A>>> {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            return Some(&mut self.slots[i]);
        }
        let victim = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|e| (i, e)))
            .filter(|(_, e)| matches!(e.state, NeighborState::Failed | NeighborState::Stale))
            .min_by_key(|(_, e)| e.since)
            .map(|(i, _)| i)?;
        Some(&mut self.slots[victim])
    }

    fn insert(&mut self, entry: Neighbor<A>) -> Learned {
        self.changes += 1;
        self.serial = self.serial.wrapping_add(1);
        let serial = self.serial;
        match self.slot_for_new() {
            Some(slot) => {
                *slot = Some(Neighbor { serial, ..entry });
                Learned::Yes
            }
            None => Learned::TableFull,
        }
    }

    /// `addr` on `iface` has MAC `mac`, confirmed (`confirmed`: an answer to us; otherwise seen
    /// in a request, or an unsolicited advertisement: `stale` for a new entry, as RFC 4861 has
    /// it; ARP takes every sighting as confirmation, `confirmed` true).
    pub(crate) fn learn(
        &mut self,
        now: Micros,
        iface: IfaceId,
        addr: A,
        mac: Mac,
        confirmed: bool,
    ) -> Learned {
        let state = if confirmed {
            NeighborState::Reachable
        } else {
            NeighborState::Stale
        };
        if let Some(e) = self.find_mut(iface, addr) {
            if e.state == NeighborState::Permanent {
                return Learned::Yes;
            }
            let before = seen(e);
            let changed = e.mac != Some(mac);
            e.mac = Some(mac);
            e.probes = 0;
            if confirmed || changed || e.state != NeighborState::Reachable {
                e.state = state;
                e.since = now;
            }
            if seen(e) != before {
                self.changes += 1;
            }
            return Learned::Yes;
        }
        self.insert(Neighbor {
            iface,
            addr,
            mac: Some(mac),
            state,
            router: false,
            since: now,
            probes: 0,
            serial: 0,
        })
    }

    /// Replaces every static entry by `entries` (`(iface, addr, mac)`); a dynamic entry for
    /// the same address gives way. Returns how many did not fit.
    pub(crate) fn set_static(&mut self, entries: impl Iterator<Item = (IfaceId, A, Mac)>) -> usize {
        self.changes += 1;
        for slot in &mut self.slots {
            if slot.is_some_and(|e| e.state == NeighborState::Permanent) {
                *slot = None;
            }
        }
        let mut missed = 0;
        for (iface, addr, mac) in entries {
            if let Some(slot) = self
                .slots
                .iter_mut()
                .find(|s| s.is_some_and(|e| e.iface == iface && e.addr == addr))
            {
                *slot = None;
            }
            let entry = Neighbor {
                iface,
                addr,
                mac: Some(mac),
                state: NeighborState::Permanent,
                router: false,
                since: 0,
                probes: 0,
                serial: 0,
            };
            if self.insert(entry) == Learned::TableFull {
                missed += 1;
            }
        }
        missed
    }

    /// Updates an existing entry only (an answer we did not ask for, ARP's "merge" rule).
    pub(crate) fn refresh(&mut self, now: Micros, iface: IfaceId, addr: A, mac: Mac) -> bool {
        if self.get(iface, addr).is_some() {
            self.learn(now, iface, addr, mac, true);
            true
        } else {
            false
        }
    }

    /// Marks a `stale` entry as asked once (a unicast confirmation went out); false when
    /// there is no such entry or it was asked already. An answer makes it `reachable`, which
    /// clears the mark.
    pub(crate) fn mark_probed(&mut self, iface: IfaceId, addr: A) -> bool {
        match self.find_mut(iface, addr) {
            Some(e) if e.state == NeighborState::Stale && e.probes == 0 => {
                e.probes = 1;
                self.changes += 1;
                true
            }
            _ => false,
        }
    }

    /// Sets the router flag of an entry.
    pub(crate) fn set_router(&mut self, iface: IfaceId, addr: A, router: bool) {
        if let Some(e) = self.find_mut(iface, addr) {
            e.router = router;
        }
    }

    /// Resolution of `addr` on `iface` for sending: its MAC when known; otherwise an
    /// `incomplete` entry is made (or kept) and `Err(send_request)` says whether a request
    /// should go out now (a new entry, or a failed one tried again).
    pub(crate) fn resolve(
        &mut self,
        now: Micros,
        iface: IfaceId,
        addr: A,
    ) -> Result<Mac, (bool, Learned)> {
        if let Some(e) = self.find_mut(iface, addr) {
            return match (e.mac, e.state) {
                (Some(mac), _) => Ok(mac),
                (None, NeighborState::Failed) => {
                    e.state = NeighborState::Incomplete;
                    e.probes = 1;
                    e.since = now;
                    Err((true, Learned::Yes))
                }
                (None, _) => Err((false, Learned::Yes)),
            };
        }
        let learned = self.insert(Neighbor {
            iface,
            addr,
            mac: None,
            state: NeighborState::Incomplete,
            router: false,
            since: now,
            probes: 1,
            serial: 0,
        });
        Err((learned == Learned::Yes, learned))
    }

    /// Ages every entry at `now`; the `incomplete` entries whose request is due again are put
    /// in `retry` (as many as fit; the others are due again next time).
    pub(crate) fn age(&mut self, now: Micros, retry: &mut [Option<(IfaceId, A)>]) {
        let mut due = retry.iter_mut();
        for slot in &mut self.slots {
            let Some(e) = slot else { continue };
            let age = now.saturating_sub(e.since);
            match e.state {
                NeighborState::Reachable if age >= REACHABLE_US => {
                    e.state = NeighborState::Stale;
                    self.changes += 1;
                }
                NeighborState::Stale if age >= STALE_US => {
                    *slot = None;
                    self.changes += 1;
                }
                NeighborState::Failed if age >= FAILED_US => {
                    *slot = None;
                    self.changes += 1;
                }
                NeighborState::Incomplete if age >= PROBE_US => {
                    if e.probes >= MAX_PROBES {
                        self.changes += 1;
                        e.state = NeighborState::Failed;
                        e.since = now;
                    } else if let Some(d) = due.next() {
                        e.probes += 1;
                        e.since = now;
                        *d = Some((e.iface, e.addr));
                    }
                }
                _ => {}
            }
        }
    }
}

impl<A: Copy + PartialEq, const N: usize> Default for NeighborTable<A, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IF: IfaceId = IfaceId(1);
    const MAC: Mac = [2, 0, 0, 0, 0, 9];
    type T = NeighborTable<u32, 4>;

    #[test]
    fn confirmed_entries_go_stale_then_away() {
        let mut t = T::new();
        assert_eq!(t.learn(0, IF, 7, MAC, true), Learned::Yes);
        t.age(REACHABLE_US - 1, &mut []);
        assert_eq!(t.get(IF, 7).unwrap().state, NeighborState::Reachable);
        t.age(REACHABLE_US, &mut []);
        assert_eq!(t.get(IF, 7).unwrap().state, NeighborState::Stale);
        t.age(STALE_US, &mut []);
        assert!(t.get(IF, 7).is_none());
    }

    #[test]
    fn unanswered_requests_fail_after_three() {
        let mut t = T::new();
        assert_eq!(t.resolve(0, IF, 7), Err((true, Learned::Yes)));
        assert_eq!(t.resolve(10, IF, 7), Err((false, Learned::Yes)));
        let mut retry = [None; 2];
        t.age(PROBE_US, &mut retry);
        assert_eq!(retry[0], Some((IF, 7)));
        t.age(2 * PROBE_US, &mut retry);
        t.age(3 * PROBE_US, &mut retry);
        assert_eq!(t.get(IF, 7).unwrap().state, NeighborState::Failed);
        t.age(3 * PROBE_US + FAILED_US, &mut retry);
        assert!(t.get(IF, 7).is_none());
    }

    #[test]
    fn static_entries_stay_and_win_over_learning() {
        let mut t = T::new();
        t.learn(0, IF, 7, MAC, true);
        let other = [2, 0, 0, 0, 0, 1];
        assert_eq!(
            t.set_static([(IF, 7, other), (IF, 8, other)].into_iter()),
            0
        );
        assert_eq!(t.entries().count(), 2, "the dynamic entry gave way");
        t.learn(1, IF, 7, MAC, true);
        assert_eq!(t.get(IF, 7).unwrap().mac, Some(other));
        t.age(STALE_US * 10, &mut []);
        assert_eq!(t.get(IF, 8).unwrap().state, NeighborState::Permanent);
        assert_eq!(t.resolve(0, IF, 8), Ok(other));
        for a in 20..22 {
            t.learn(STALE_US * 10, IF, a, MAC, true);
        }
        t.age(STALE_US * 11, &mut []);
        t.learn(STALE_US * 11, IF, 30, MAC, true);
        assert!(
            t.get(IF, 7).is_some() && t.get(IF, 8).is_some(),
            "never evicted"
        );
        t.set_static(core::iter::empty());
        assert!(t.get(IF, 7).is_none() && t.get(IF, 8).is_none());
    }

    #[test]
    fn a_full_table_keeps_reachable_entries() {
        let mut t = T::new();
        for a in 0..4 {
            assert_eq!(t.learn(0, IF, a, MAC, true), Learned::Yes);
        }
        assert_eq!(t.learn(1, IF, 9, MAC, true), Learned::TableFull);
        t.age(REACHABLE_US, &mut []);
        t.learn(REACHABLE_US, IF, 2, MAC, true);
        assert_eq!(t.learn(REACHABLE_US, IF, 9, MAC, true), Learned::Yes);
        assert!(
            t.get(IF, 0).is_none(),
            "the oldest stale entry was replaced"
        );
        assert!(t.get(IF, 2).is_some());
        let order: [u32; 4] = core::array::from_fn(|i| t.entries().nth(i).unwrap().addr);
        assert_eq!(order, [1, 2, 3, 9]);
    }
}
