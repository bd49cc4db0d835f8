//! The flow cache: the forwarding path's decision for an IPv4 flow, kept so that the next
//! packet of the flow is forwarded without the routing decision, the flow hash or the
//! neighbour lookup, and with the same result the whole path would give.
//!
//! Direct-mapped, [`FLOW_CACHE_ENTRIES`] entries of 44 bytes (45,056 bytes in all), owned by
//! the [`crate::Forwarder`]. Keyed by what the whole path's decision for an IPv4 packet
//! without options and not a fragment depends on: the ingress interface, source, destination,
//! protocol and, for TCP, UDP, SCTP and UDP-Lite, the two ports (the flow hash that picks an
//! ECMP next hop, [`crate::flow`], reads exactly those; the routing mark is never set by the
//! forwarder). The value is what the forward branch of the whole path used: the egress
//! interface, the next hop's MAC (or the point-to-point peer's), the egress interface's MAC and
//! MTU, and the ingress interface's MAC (the frame must be sent to it).
//!
//! Filled only by the whole path (`Forwarder::receive`), and only when it forwarded an IPv4
//! packet without options or fragmentation in one piece, with per-flow ECMP, a route source
//! and a neighbour table that both give a generation, and a neighbour lookup that changed
//! nothing (the table's generation the same after it: a `stale` entry's confirmation is a
//! change). Every entry is dropped at once (one epoch counter) when the route source's or
//! the neighbour table's generation differs from the one the entries were made under, or when
//! the forwarder's interfaces or settings change.
//!
//! A hit ([`FlowCache::lookup`]) is only taken for a frame the whole path would have sent by
//! its forward branch: sent to the ingress interface's MAC, ethertype IPv4, version 4 and
//! header length 20, total length at least 20 and within the frame, header checksum valid, not
//! a fragment, TTL above 1, total length within the egress MTU. Anything else is a miss and
//! goes the whole way.

use routing::IfId;

use crate::checksum;
use crate::parse::ETH_LEN;
use crate::Mac;

/// Entries in the cache.
pub const FLOW_CACHE_ENTRIES: usize = 1 << INDEX_BITS;
const INDEX_BITS: u32 = 10;
/// The bytes of a frame a hit rewrites: the Ethernet header and an IPv4 header without
/// options.
pub const HEAD_LEN: usize = ETH_LEN + 20;

/// What the decisions of the cache's entries were taken with: the route source's and the
/// neighbour table's generations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation {
    pub routes: u64,
    pub neighbors: u64,
}

/// The flow of an IPv4 packet, as far as the forwarding decision reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Key {
    src: u32,
    dst: u32,
    /// Source and destination port for TCP, UDP, SCTP and UDP-Lite; 0 otherwise.
    ports: u32,
    ingress: u16,
    protocol: u8,
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    key: Key,
    /// Valid when equal to the cache's epoch (0: never valid).
    epoch: u32,
    egress: u16,
    mtu: u16,
    ingress_mac: Mac,
    to_mac: Mac,
    from_mac: Mac,
}

/// A cache hit: the frame's rewritten first [`HEAD_LEN`] bytes; the rest of the frame up to
/// `len` (the IPv4 packet's end, padding left off) is sent as it is, out of `interface`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub interface: IfId,
    pub head: [u8; HEAD_LEN],
    pub len: usize,
}

/// The cache (see the module's doc).
#[derive(Clone)]
pub struct FlowCache {
    entries: [Entry; FLOW_CACHE_ENTRIES],
    epoch: u32,
    /// The generations the valid entries were made under.
    seen: Option<Generation>,
}

/// Protocols whose first four bytes are the ports (as [`crate::flow`] has them).
fn has_ports(protocol: u8) -> bool {
    matches!(protocol, 6 | 17 | 132 | 136)
}

fn index(key: &Key) -> usize {
    let h = key.src
        ^ key.dst.rotate_left(11)
        ^ key.ports.rotate_left(22)
        ^ (u32::from(key.ingress) << 8 | u32::from(key.protocol));
    (h.wrapping_mul(0x9e37_79b1) >> (32 - INDEX_BITS)) as usize
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The key of the IPv4 packet `ip` (a header of 20 bytes, total length `total_len` within
/// `ip`) received on `ingress`; `None` for a packet with ports too short to hold them (the
/// flow hash then leaves them out: not cached).
fn key_of(ingress: IfId, ip: &[u8], total_len: usize) -> Option<Key> {
    let protocol = ip[9];
    let ports = if has_ports(protocol) {
        if total_len < 24 {
            return None;
        }
        be32(&ip[20..24])
    } else {
        0
    };
    Some(Key {
        src: be32(&ip[12..16]),
        dst: be32(&ip[16..20]),
        ports,
        ingress: ingress.0,
        protocol,
    })
}

impl Default for FlowCache {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowCache {
    /// Empty.
    pub fn new() -> Self {
        FlowCache {
            entries: [Entry::default(); FLOW_CACHE_ENTRIES],
            epoch: 1,
            seen: None,
        }
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.seen = None;
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Entries of an epoch 2^32 changes ago would look valid again: wipe them.
            self.entries = [Entry::default(); FLOW_CACHE_ENTRIES];
            self.epoch = 1;
        }
    }

    /// The decisions are now taken under `generation` (`None`: nothing may be cached):
    /// every entry made under another is dropped.
    pub fn sync(&mut self, generation: Option<Generation>) {
        if generation != self.seen {
            self.clear();
            self.seen = generation;
        }
    }

    /// How many entries are valid (for tests and statistics; walks the whole cache).
    pub fn len(&self) -> usize {
        let epoch = self.epoch;
        self.entries.iter().filter(|e| e.epoch == epoch).count()
    }

    /// Whether no entry is valid.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached decision for `frame`, received on `ingress`, with the rewritten head of
    /// the frame to send; `None` when the frame is not one the whole path would simply
    /// forward, when no entry matches, or when the entries were made under another
    /// `generation` than the caller's (see the module's doc).
    #[inline]
    pub fn lookup(&self, generation: Generation, ingress: IfId, frame: &[u8]) -> Option<Hit> {
        if self.seen != Some(generation) || frame.len() < HEAD_LEN {
            return None;
        }
        // Ethertype IPv4, version 4 and a header of 20 bytes (options: the whole way).
        if frame[12] != 0x08 || frame[13] != 0x00 || frame[ETH_LEN] != 0x45 {
            return None;
        }
        let ip = &frame[ETH_LEN..];
        let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        // Not a fragment (no MF, offset 0); the TTL stays at least 1.
        if total_len < 20 || total_len > ip.len() || ip[6] & 0x3f != 0 || ip[7] != 0 {
            return None;
        }
        if ip[8] <= 1 || checksum::fold(checksum::add(&ip[..20], 0)) != 0xffff {
            return None;
        }
        let key = key_of(ingress, ip, total_len)?;
        let e = &self.entries[index(&key)];
        if e.epoch != self.epoch
            || e.key != key
            || frame[..6] != e.ingress_mac
            || total_len > usize::from(e.mtu)
        {
            return None;
        }
        let mut head = [0u8; HEAD_LEN];
        head[..6].copy_from_slice(&e.to_mac);
        head[6..12].copy_from_slice(&e.from_mac);
        head[12..HEAD_LEN].copy_from_slice(&frame[12..HEAD_LEN]);
        crate::path::decrement_ttl_v4(&mut head[ETH_LEN..]);
        Some(Hit {
            interface: IfId(e.egress),
            head,
            len: ETH_LEN + total_len,
        })
    }

    /// The whole path forwarded the IPv4 packet `ip` (its header parsed as `header_len`
    /// bytes, `fragment`, `total_len`) from `ingress` (MAC `ingress_mac`) out of `egress`
    /// (MAC `from_mac`, MTU `mtu`) to `to_mac`, in one piece, under the generation of the
    /// last [`FlowCache::sync`]: keep the decision when the packet is one a hit may stand
    /// for.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fill(
        &mut self,
        ingress: IfId,
        ingress_mac: Mac,
        ip: &[u8],
        header_len: usize,
        fragment: bool,
        egress: IfId,
        from_mac: Mac,
        mtu: u16,
        to_mac: Mac,
    ) {
        if self.seen.is_none() || header_len != 20 || fragment {
            return;
        }
        let Some(key) = key_of(ingress, ip, ip.len()) else {
            return;
        };
        self.entries[index(&key)] = Entry {
            key,
            epoch: self.epoch,
            egress: egress.0,
            mtu,
            ingress_mac,
            to_mac,
            from_mac,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_the_advertised_size() {
        assert_eq!(core::mem::size_of::<Entry>(), 44);
    }

    #[test]
    fn clearing_drops_every_entry_and_survives_the_epoch_wrapping() {
        let mut cache = FlowCache::new();
        let generation = Generation {
            routes: 1,
            neighbors: 1,
        };
        cache.sync(Some(generation));
        let mut ip = [0u8; 24];
        ip[9] = 17;
        cache.fill(
            IfId(1),
            [2; 6],
            &ip,
            20,
            false,
            IfId(2),
            [4; 6],
            1500,
            [6; 6],
        );
        assert_eq!(cache.len(), 1);
        cache.sync(Some(generation));
        assert_eq!(cache.len(), 1, "the same generation keeps the entries");
        cache.sync(Some(Generation {
            routes: 2,
            neighbors: 1,
        }));
        assert!(cache.is_empty());
        cache.fill(
            IfId(1),
            [2; 6],
            &ip,
            20,
            false,
            IfId(2),
            [4; 6],
            1500,
            [6; 6],
        );
        cache.epoch = u32::MAX;
        cache.entries[0].epoch = 1;
        cache.clear();
        assert_eq!(cache.epoch, 1);
        assert!(cache.is_empty(), "no entry of an old epoch comes back");
    }

    #[test]
    fn short_packets_with_ports_and_fragments_are_not_kept() {
        let mut cache = FlowCache::new();
        cache.sync(Some(Generation {
            routes: 0,
            neighbors: 0,
        }));
        let mut ip = [0u8; 22];
        ip[9] = 6;
        cache.fill(
            IfId(1),
            [2; 6],
            &ip,
            20,
            false,
            IfId(2),
            [4; 6],
            1500,
            [6; 6],
        );
        cache.fill(
            IfId(1),
            [2; 6],
            &ip[..20],
            20,
            true,
            IfId(2),
            [4; 6],
            1500,
            [6; 6],
        );
        ip[9] = 1;
        cache.fill(
            IfId(1),
            [2; 6],
            &ip,
            24,
            false,
            IfId(2),
            [4; 6],
            1500,
            [6; 6],
        );
        assert!(cache.is_empty());
    }
}
