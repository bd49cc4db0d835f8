//! The flow cache: the forwarding path's decision for an IPv4 flow, kept so that the next
//! packet of the flow is forwarded without the routing decision, the flow hash or the
//! neighbour lookup, and with the same result the whole path would give.
//!
//! Direct-mapped, [`FLOW_CACHE_ENTRIES`] entries of 44 bytes (45,056 bytes, allocated on the
//! heap when the cache is made; 40 more for the pointer, epoch and generations on x86-64),
//! owned by the [`crate::Forwarder`]. Keyed by what the whole path's
//! decision for an IPv4 packet without options and not a fragment depends on: the ingress interface, source, destination,
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
//! goes the whole way. (The hit also needs the IPv4 total length to be at least 22, so that
//! the rewritten head it gives, [`HEAD_LEN`] bytes, lies within the packet.)

use alloc::boxed::Box;
use alloc::vec;
use routing::IfId;

use crate::checksum;
use crate::parse::ETH_LEN;
use crate::Mac;

/// Entries in the cache.
pub const FLOW_CACHE_ENTRIES: usize = 1 << INDEX_BITS;
const INDEX_BITS: u32 = 10;
/// The bytes of a frame a hit rewrites or copies into [`Head`]: the Ethernet header, an IPv4
/// header without options and the first two bytes after it (so that the rest starts on a
/// word boundary where the frame does: the driver copies it by words).
pub const HEAD_LEN: usize = ETH_LEN + 20 + 2;

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
    /// The ingress interface (high half) and the protocol (low byte).
    ingress_protocol: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    key: Key,
    /// Valid when equal to the cache's epoch (0: never valid).
    epoch: u32,
    /// The rewritten MACs (next hop's, egress interface's) as the head's first three words.
    macs: [u32; 3],
    /// The ingress interface's MAC, its first four bytes and its last two.
    ingress_mac: (u32, u16),
    egress: u16,
    mtu: u16,
}

/// The first [`HEAD_LEN`] bytes of a frame a hit sends, rewritten: nine words (as bytes in
/// network order), so that it is written and copied a word at a time ([`Head::bytes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(4))]
pub struct Head(pub [[u8; 4]; HEAD_LEN / 4]);

impl Head {
    /// The head as bytes.
    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        self.0.as_flattened()
    }
}

/// A cache hit: the frame goes out of `interface` as the [`Head`] the lookup wrote, then
/// the frame's bytes from [`HEAD_LEN`] to `len` (the IPv4 packet's end; padding left off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub interface: IfId,
    pub len: usize,
}

/// The cache (see the module's doc).
#[derive(Clone)]
pub struct FlowCache {
    /// On the heap: built there (never on the stack, where 45 KB would cost the hypervisor's
    /// main stack its margin) and of a fixed size, so an index needs no bounds check.
    entries: Box<[Entry; FLOW_CACHE_ENTRIES]>,
    epoch: u32,
    /// The generations the valid entries were made under.
    seen: Option<Generation>,
}

/// Protocols whose first four bytes are the ports (as [`crate::flow`] has them).
fn has_ports(protocol: u8) -> bool {
    matches!(protocol, 6 | 17 | 132 | 136)
}

#[inline(always)]
fn index(key: &Key) -> usize {
    let h = key.src ^ key.dst.rotate_left(11) ^ key.ports.rotate_left(22) ^ key.ingress_protocol;
    (h.wrapping_mul(0x9e37_79b1) >> (32 - INDEX_BITS)) as usize
}

/// The big-endian word at `at` (one unaligned word load where the CPU has one).
#[inline(always)]
fn be32(b: &[u8], at: usize) -> u32 {
    match b[at..].first_chunk::<4>() {
        Some(word) => u32::from_be_bytes(*word),
        None => panic!("a word past the end"),
    }
}

/// The key of the IPv4 packet `ip` (a header of 20 bytes, total length `total_len` within
/// `ip`) received on `ingress`; `None` for a packet with ports too short to hold them (the
/// flow hash then leaves them out: not cached).
#[inline(always)]
fn key_of(ingress: IfId, ip: &[u8], total_len: usize) -> Option<Key> {
    let protocol = ip[9];
    let ports = if has_ports(protocol) {
        if total_len < 24 {
            return None;
        }
        be32(ip, 20)
    } else {
        0
    };
    Some(Key {
        src: be32(ip, 12),
        dst: be32(ip, 16),
        ports,
        ingress_protocol: u32::from(ingress.0) << 16 | u32::from(protocol),
    })
}

/// `a + b` with the end-around carry of one's complement arithmetic.
#[inline(always)]
fn add_carry(a: u32, b: u32) -> u32 {
    let (sum, carry) = a.overflowing_add(b);
    sum + u32::from(carry)
}

/// Whether the IPv4 header in bytes 14..34 of a frame whose bytes 12..36 are `words` (big
/// endian; ethertype 0x0800, first header byte 0x45) has a valid checksum, as
/// [`crate::parse::ipv4`] checks it. Over whole words: their one's complement sum is the
/// header's plus the ethertype and bytes 34..36, so the header sums to zero exactly when the
/// words sum to those two, modulo 0xffff (both sides folded to 1..=0xffff; neither is 0, as
/// the header starts with 0x45).
#[inline(always)]
fn checksum_valid(words: [u32; 6]) -> bool {
    // Written out, not a loop: the image's size-optimised build keeps a loop as one.
    let [a, b, c, d, e, f] = words;
    let sum = add_carry(add_carry(add_carry(add_carry(add_carry(a, b), c), d), e), f);
    let sum = checksum::fold((sum >> 16) + (sum & 0xffff));
    sum == checksum::fold(0x0800 + (words[5] & 0xffff))
}

fn mac_words(to: Mac, from: Mac) -> [u32; 3] {
    let b = [
        to[0], to[1], to[2], to[3], to[4], to[5], from[0], from[1], from[2], from[3], from[4],
        from[5],
    ];
    [be32(&b, 0), be32(&b, 4), be32(&b, 8)]
}

impl Default for FlowCache {
    fn default() -> Self {
        Self::new()
    }
}

/// Every entry empty, allocated on the heap directly.
fn empty_entries() -> Box<[Entry; FLOW_CACHE_ENTRIES]> {
    match vec![Entry::default(); FLOW_CACHE_ENTRIES]
        .into_boxed_slice()
        .try_into()
    {
        Ok(entries) => entries,
        Err(_) => unreachable!("a vector of FLOW_CACHE_ENTRIES entries"),
    }
}

impl FlowCache {
    /// Empty.
    pub fn new() -> Self {
        FlowCache {
            entries: empty_entries(),
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
            self.entries.fill(Entry::default());
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

    /// The cached decision for `frame`, received on `ingress`, with the rewritten first
    /// [`HEAD_LEN`] bytes of the frame written to `head`; `None` (`head` then holds nothing
    /// of use) when the frame is not one the whole path would simply forward, when no entry
    /// matches, or when the entries were made under another `generation` than the caller's
    /// (see the module's doc).
    #[inline]
    pub fn lookup(
        &self,
        generation: Generation,
        ingress: IfId,
        frame: &[u8],
        head: &mut Head,
    ) -> Option<Hit> {
        if self.seen != Some(generation) {
            return None;
        }
        let f: &[u8; HEAD_LEN] = frame.get(..HEAD_LEN)?.try_into().ok()?;
        // The head as words (the code is written out: it is the whole of a hit's work).
        let (w12, w16, w20) = (be32(f, 12), be32(f, 16), be32(f, 20));
        let (w24, w28, w32) = (be32(f, 24), be32(f, 28), be32(f, 32));
        // Ethertype IPv4, version 4 and a header of 20 bytes (options: the whole way).
        if w12 & 0xffff_ff00 != 0x0800_4500 {
            return None;
        }
        let total_len = (w16 >> 16) as usize;
        // Long enough for the head, within the frame; not a fragment (no MF, offset 0); the
        // TTL stays at least 1.
        if total_len < HEAD_LEN - ETH_LEN
            || total_len > frame.len() - ETH_LEN
            || (w20 >> 16) & 0x3fff != 0
            || (w20 >> 8) & 0xff <= 1
        {
            return None;
        }
        if !checksum_valid([w12, w16, w20, w24, w28, w32]) {
            return None;
        }
        let protocol = w20 as u8;
        let ports = if has_ports(protocol) {
            if total_len < 24 {
                return None;
            }
            let p = frame.get(ETH_LEN + 20..ETH_LEN + 24)?;
            u32::from_be_bytes([p[0], p[1], p[2], p[3]])
        } else {
            0
        };
        let key = Key {
            src: (w24 << 16) | (w28 >> 16),
            dst: (w28 << 16) | (w32 >> 16),
            ports,
            ingress_protocol: u32::from(ingress.0) << 16 | u32::from(protocol),
        };
        let e = &self.entries[index(&key)];
        if e.epoch != self.epoch
            || e.key != key
            || e.ingress_mac != (be32(f, 0), u16::from_be_bytes([f[4], f[5]]))
            || total_len > usize::from(e.mtu)
        {
            return None;
        }
        // TTL - 1 and the checksum's RFC 1624 update (bytes 22, 24 and 25), then the head.
        let old = w20 as u16;
        let sum = checksum::update((w24 >> 16) as u16, old, old.wrapping_sub(0x100));
        head.0[0] = e.macs[0].to_be_bytes();
        head.0[1] = e.macs[1].to_be_bytes();
        head.0[2] = e.macs[2].to_be_bytes();
        head.0[3] = w12.to_be_bytes();
        head.0[4] = w16.to_be_bytes();
        head.0[5] = w20.wrapping_sub(0x100).to_be_bytes();
        head.0[6] = (u32::from(sum) << 16 | (w24 & 0xffff)).to_be_bytes();
        head.0[7] = w28.to_be_bytes();
        head.0[8] = w32.to_be_bytes();
        Some(Hit {
            interface: IfId(e.egress),
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
            macs: mac_words(to_mac, from_mac),
            ingress_mac: (
                be32(&ingress_mac, 0),
                u16::from_be_bytes([ingress_mac[4], ingress_mac[5]]),
            ),
            egress: egress.0,
            mtu,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_the_advertised_size() {
        assert_eq!(core::mem::size_of::<Entry>(), 44);
        assert_eq!(
            core::mem::size_of::<[Entry; FLOW_CACHE_ENTRIES]>() + core::mem::size_of::<FlowCache>(),
            44 * FLOW_CACHE_ENTRIES + 40,
            "the entries on the heap, the rest in the forwarder"
        );
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

    proptest::proptest! {
        /// The word-wise check gives the header check's answer, for valid and invalid sums.
        #[test]
        fn the_word_checksum_agrees_with_the_header_checksum(
            mut bytes in proptest::collection::vec(proptest::num::u8::ANY, 24),
            fix in proptest::bool::ANY,
        ) {
            bytes[0] = 0x08;
            bytes[1] = 0x00;
            bytes[2] = 0x45;
            if fix {
                bytes[12..14].copy_from_slice(&[0, 0]);
                let c = checksum::of(&bytes[2..22]);
                bytes[12..14].copy_from_slice(&c.to_be_bytes());
            }
            let words = [0, 4, 8, 12, 16, 20].map(|at| be32(&bytes, at));
            let header_ok = checksum::fold(checksum::add(&bytes[2..22], 0)) == 0xffff;
            proptest::prop_assert_eq!(checksum_valid(words), header_ok);
        }
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
