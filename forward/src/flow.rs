//! The flow hash that picks an ECMP next hop: source, destination, protocol and, for TCP, UDP,
//! SCTP and UDP-Lite packets that are not fragments, the two ports (Linux's
//! `fib_multipath_hash_policy` 1). Fragments hash without ports, so all the pieces of one
//! packet take one path; a TCP connection's packets all hash alike, so a flow sticks to one
//! next hop.

use crate::parse::Header;

/// Protocols whose first four bytes are the source and destination ports.
fn has_ports(protocol: u8) -> bool {
    matches!(protocol, 6 | 17 | 132 | 136)
}

fn mix(h: u32, word: u32) -> u32 {
    (h ^ word).wrapping_mul(0x9e37_79b1).rotate_left(15)
}

fn finish(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

fn words(h: u32, bytes: &[u8]) -> u32 {
    bytes.chunks_exact(4).fold(h, |h, w| {
        mix(h, u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    })
}

/// The flow hash of the valid IP packet `ip` with header `header`.
pub fn hash(ip: &[u8], header: &Header) -> u32 {
    let (protocol, ports_at, fragment) = match header {
        Header::V4(h) => (h.protocol, Some(h.header_len), h.fragment),
        Header::V6(h) => match h.upper {
            Some((p, at)) => (p, Some(at), h.fragment),
            None => (59, None, h.fragment),
        },
    };
    let mut h = match header {
        Header::V4(_) => words(0x1b87_3593, &ip[12..20]),
        Header::V6(_) => words(0x1b87_3593, &ip[8..40]),
    };
    h = mix(h, u32::from(protocol));
    if let Some(at) = ports_at.filter(|_| has_ports(protocol) && !fragment) {
        if let Some(p) = ip.get(at..at + 4) {
            h = mix(h, u32::from_be_bytes([p[0], p[1], p[2], p[3]]));
        }
    }
    finish(h)
}
