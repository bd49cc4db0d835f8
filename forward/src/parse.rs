//! Validation of a received frame's IP header, as Linux's receive path checks it
//! (`ip_rcv_core`, `ipv6_rcv`): what the forwarding decision and the rewrite need, read from the
//! bytes without copying. Ethernet II only (the caller strips VLAN tags before).

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::stats::Drop;

/// Ethernet header length.
pub const ETH_LEN: usize = 14;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IPv6 fixed header length.
pub const IPV6_LEN: usize = 40;

/// At most this many IPv6 extension headers are walked to find the upper layer (for the flow
/// hash and "is this an ICMPv6 error"); a longer chain is forwarded, its upper layer unknown.
const MAX_EXTENSION_HEADERS: usize = 8;

/// What the forwarding path needs of a valid IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    V4(V4),
    V6(V6),
}

/// A valid IPv4 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// Header length in bytes (options included).
    pub header_len: usize,
    /// The packet's length (total length field; the frame may carry padding after it).
    pub total_len: usize,
    pub ttl: u8,
    pub protocol: u8,
    pub dont_fragment: bool,
    /// More fragments, or a fragment offset: a piece of a larger packet.
    pub fragment: bool,
    /// Fragment offset in 8-byte units.
    pub fragment_offset: u16,
}

/// A valid IPv6 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V6 {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    /// 40 + payload length.
    pub total_len: usize,
    pub hop_limit: u8,
    /// The upper-layer protocol and where its header starts in the packet, when the extension
    /// header chain could be walked.
    pub upper: Option<(u8, usize)>,
    /// A fragment header with a non-zero offset (not the first fragment).
    pub later_fragment: bool,
    /// A fragment header (first or later fragment).
    pub fragment: bool,
}

impl Header {
    /// Length of the IP packet (without Ethernet header or padding).
    pub fn total_len(&self) -> usize {
        match self {
            Header::V4(h) => h.total_len,
            Header::V6(h) => h.total_len,
        }
    }
}

/// The ethertype of an Ethernet frame at least [`ETH_LEN`] long.
pub fn ethertype(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[12], frame[13]])
}

/// Whether a received frame may need routing: a unicast destination MAC and an IPv4 or
/// IPv6 ethertype (everything else, ARP, neighbour discovery to multicast groups, broadcasts,
/// is the host's alone). Cheap: the caller sorts frames with it before routing.
pub fn may_route(frame: &[u8]) -> bool {
    frame.len() >= ETH_LEN
        && frame[0] & 1 == 0
        && matches!(ethertype(frame), ETHERTYPE_IPV4 | ETHERTYPE_IPV6)
}

/// Validates the IPv4 packet at the start of `ip` (the frame after its Ethernet header).
pub fn ipv4(ip: &[u8]) -> Result<V4, Drop> {
    if ip.len() < 20 {
        return Err(Drop::Truncated);
    }
    if ip[0] >> 4 != 4 {
        return Err(Drop::BadVersion);
    }
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    if header_len < 20 {
        return Err(Drop::BadHeaderLength);
    }
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total_len < header_len {
        return Err(Drop::BadHeaderLength);
    }
    if total_len > ip.len() {
        return Err(Drop::Truncated);
    }
    if checksum::fold(checksum::add(&ip[..header_len], 0)) != 0xffff {
        return Err(Drop::BadChecksum);
    }
    options_valid(&ip[20..header_len])?;
    let flags = u16::from_be_bytes([ip[6], ip[7]]);
    let fragment_offset = flags & 0x1fff;
    Ok(V4 {
        src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        header_len,
        total_len,
        ttl: ip[8],
        protocol: ip[9],
        dont_fragment: flags & 0x4000 != 0,
        fragment: flags & 0x2000 != 0 || fragment_offset != 0,
        fragment_offset,
    })
}

/// Walks the options (each `type, length, data` but for end-of-list and no-operation): a
/// length below 2 or past the header is malformed (Linux answers those with a parameter
/// problem; here they are dropped and counted). Loose and strict source routes (types 131 and
/// 137) are refused, as Linux does by default (`accept_source_route` = 0).
fn options_valid(mut options: &[u8]) -> Result<(), Drop> {
    while let Some(&kind) = options.first() {
        match kind {
            0 => return Ok(()),
            1 => options = &options[1..],
            _ => {
                let len = usize::from(*options.get(1).ok_or(Drop::BadOptions)?);
                if len < 2 || len > options.len() {
                    return Err(Drop::BadOptions);
                }
                if matches!(kind, 131 | 137) {
                    return Err(Drop::SourceRouted);
                }
                options = &options[len..];
            }
        }
    }
    Ok(())
}

/// Validates the IPv6 packet at the start of `ip`.
pub fn ipv6(ip: &[u8]) -> Result<V6, Drop> {
    if ip.len() < IPV6_LEN {
        return Err(Drop::Truncated);
    }
    if ip[0] >> 4 != 6 {
        return Err(Drop::BadVersion);
    }
    let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    // A zero payload length is a jumbogram (RFC 2675), which no link here carries.
    if payload_len == 0 && ip[6] == 0 {
        return Err(Drop::BadPayloadLength);
    }
    let total_len = IPV6_LEN + payload_len;
    if total_len > ip.len() {
        return Err(Drop::Truncated);
    }
    let octets = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&ip[at..at + 16]);
        Ipv6Addr::from(a)
    };
    let mut header = V6 {
        src: octets(8),
        dst: octets(24),
        total_len,
        hop_limit: ip[7],
        upper: None,
        later_fragment: false,
        fragment: false,
    };
    let packet = &ip[..total_len];
    let mut next = ip[6];
    let mut at = IPV6_LEN;
    for _ in 0..MAX_EXTENSION_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-byte units after the first 8.
            0 | 43 | 60 => {
                let Some(len) = packet.get(at + 1) else { break };
                next = packet[at];
                at += (usize::from(*len) + 1) * 8;
            }
            44 => {
                let Some(frag) = packet.get(at..at + 8) else {
                    break;
                };
                header.fragment = true;
                header.later_fragment = u16::from_be_bytes([frag[2], frag[3]]) & 0xfff8 != 0;
                next = frag[0];
                at += 8;
            }
            // No next header: nothing above.
            59 => break,
            upper => {
                if at <= packet.len() {
                    header.upper = Some((upper, at));
                }
                break;
            }
        }
    }
    Ok(header)
}

/// Whether an IPv4 ICMP message of this type is an error (destination unreachable, source
/// quench, redirect, time exceeded, parameter problem): never answered with an error.
pub fn is_icmpv4_error(icmp_type: u8) -> bool {
    matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_header(len: u16) -> [u8; 20] {
        let mut h = [
            0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 1, 2, 10, 0, 2, 2,
        ];
        h[2..4].copy_from_slice(&len.to_be_bytes());
        let c = checksum::of(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h
    }

    #[test]
    fn a_valid_header_is_read() {
        let h = ipv4(&v4_header(20)).unwrap();
        assert_eq!(h.src, Ipv4Addr::new(10, 0, 1, 2));
        assert!(h.dont_fragment && !h.fragment);
        assert_eq!(
            (h.ttl, h.protocol, h.header_len, h.total_len),
            (64, 17, 20, 20)
        );
    }

    #[test]
    fn each_bad_field_has_its_reason() {
        let good = v4_header(20);
        assert_eq!(ipv4(&good[..19]), Err(Drop::Truncated));
        assert_eq!(
            ipv4(&v4_header(21)),
            Err(Drop::Truncated),
            "longer than the frame"
        );
        assert_eq!(ipv4(&v4_header(19)), Err(Drop::BadHeaderLength));
        let mut bad = good;
        bad[8] = 63;
        assert_eq!(ipv4(&bad), Err(Drop::BadChecksum));
        let mut bad = good;
        bad[0] = 0x65;
        assert_eq!(ipv4(&bad), Err(Drop::BadVersion));
        let mut bad = good;
        bad[0] = 0x44;
        assert_eq!(ipv4(&bad), Err(Drop::BadHeaderLength));
    }

    #[test]
    fn options_are_walked() {
        assert_eq!(options_valid(&[1, 1, 7, 3, 0, 0]), Ok(()));
        assert_eq!(options_valid(&[7, 1, 0, 0]), Err(Drop::BadOptions));
        assert_eq!(options_valid(&[1, 7, 9, 0]), Err(Drop::BadOptions));
        assert_eq!(options_valid(&[1, 1, 1, 0x94]), Err(Drop::BadOptions));
        assert_eq!(options_valid(&[0, 99]), Ok(()), "nothing after end of list");
        assert_eq!(
            options_valid(&[131, 7, 4, 1, 2, 3, 4, 0]),
            Err(Drop::SourceRouted)
        );
        assert_eq!(options_valid(&[1, 137, 3, 4]), Err(Drop::SourceRouted));
    }
}
