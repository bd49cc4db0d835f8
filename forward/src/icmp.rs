//! Building the ICMP and ICMPv6 errors the forwarding path sends back to a packet's sender:
//! Ethernet, IP and ICMP headers around a quote of the offending packet (IPv4: its header and
//! the first 8 bytes of its data, RFC 792; IPv6: as much as fits in 1280 bytes, RFC 4443 2.4).
//! The codes are Linux's (`ip_error`, `ip6_pkt_drop`, `ip6_forward`).

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::parse::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETH_LEN, IPV6_LEN};
use crate::Mac;

/// ICMP destination unreachable.
pub const V4_UNREACHABLE: u8 = 3;
/// ICMP time exceeded.
pub const V4_TIME_EXCEEDED: u8 = 11;
pub const V4_NET_UNREACHABLE: u8 = 0;
pub const V4_HOST_UNREACHABLE: u8 = 1;
pub const V4_FRAGMENTATION_NEEDED: u8 = 4;
pub const V4_ADMIN_PROHIBITED: u8 = 13;

/// ICMPv6 destination unreachable.
pub const V6_UNREACHABLE: u8 = 1;
pub const V6_PACKET_TOO_BIG: u8 = 2;
pub const V6_TIME_EXCEEDED: u8 = 3;
pub const V6_NO_ROUTE: u8 = 0;
pub const V6_ADMIN_PROHIBITED: u8 = 1;
pub const V6_BEYOND_SCOPE: u8 = 2;
pub const V6_ADDRESS_UNREACHABLE: u8 = 3;

/// The hop limit / TTL of the errors the box sends (Linux's default, `ip_default_ttl`).
pub const ERROR_TTL: u8 = 64;
/// The most an ICMPv6 error may be (the IPv6 minimum MTU).
pub const V6_ERROR_MAX: usize = 1280;
/// The largest error frame built: Ethernet header and a 1280-byte ICMPv6 error.
pub const ERROR_FRAME_MAX: usize = ETH_LEN + V6_ERROR_MAX;

/// One error to build: its type and code, and the four bytes after the checksum (the next-hop
/// MTU for "fragmentation needed" and "packet too big", else zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: u8,
    pub code: u8,
    pub rest: u32,
}

/// Addresses of an error frame: from `from_mac` (the ingress interface) to `to_mac` (the
/// station the offending frame came from).
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub from_mac: Mac,
    pub to_mac: Mac,
}

fn ethernet(buf: &mut [u8], link: Link, ethertype: u16) {
    buf[0..6].copy_from_slice(&link.to_mac);
    buf[6..12].copy_from_slice(&link.from_mac);
    buf[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

/// Builds, into `buf` (at least [`ERROR_FRAME_MAX`] bytes), an ICMP error from `src` about
/// the IPv4 packet `orig` (header length `orig_header_len`), sent back to its source. Returns
/// the frame's length.
pub fn v4_error(
    buf: &mut [u8],
    link: Link,
    src: Ipv4Addr,
    orig: &[u8],
    orig_header_len: usize,
    error: Error,
    ident: u16,
) -> usize {
    let quote = &orig[..orig.len().min(orig_header_len + 8)];
    let icmp_len = 8 + quote.len();
    let total = 20 + icmp_len;
    ethernet(buf, link, ETHERTYPE_IPV4);
    let ip = &mut buf[ETH_LEN..ETH_LEN + total];
    ip[0] = 0x45;
    // Precedence "internetwork control", as Linux marks its errors.
    ip[1] = 0xc0;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&ident.to_be_bytes());
    ip[6..8].fill(0);
    ip[8] = ERROR_TTL;
    ip[9] = 1;
    ip[10..12].fill(0);
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&orig[12..16]);
    let c = checksum::of(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let icmp = &mut ip[20..];
    icmp[0] = error.kind;
    icmp[1] = error.code;
    icmp[2..4].fill(0);
    icmp[4..8].copy_from_slice(&error.rest.to_be_bytes());
    icmp[8..].copy_from_slice(quote);
    let c = checksum::of(icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    ETH_LEN + total
}

/// Builds, into `buf` (at least [`ERROR_FRAME_MAX`] bytes), an ICMPv6 error from `src` about
/// the IPv6 packet `orig`, sent back to its source. Returns the frame's length.
pub fn v6_error(buf: &mut [u8], link: Link, src: Ipv6Addr, orig: &[u8], error: Error) -> usize {
    let quote = &orig[..orig.len().min(V6_ERROR_MAX - IPV6_LEN - 8)];
    let icmp_len = 8 + quote.len();
    ethernet(buf, link, ETHERTYPE_IPV6);
    let ip = &mut buf[ETH_LEN..ETH_LEN + IPV6_LEN + icmp_len];
    ip[0..4].copy_from_slice(&[0x60, 0, 0, 0]);
    ip[4..6].copy_from_slice(&(icmp_len as u16).to_be_bytes());
    ip[6] = 58;
    ip[7] = ERROR_TTL;
    ip[8..24].copy_from_slice(&src.octets());
    ip[24..40].copy_from_slice(&orig[8..24]);
    // Pseudo-header: addresses, upper-layer length, next header.
    let mut sum = checksum::add(&ip[8..40], 0);
    sum += icmp_len as u32 + 58;
    let icmp = &mut ip[IPV6_LEN..];
    icmp[0] = error.kind;
    icmp[1] = error.code;
    icmp[2..4].fill(0);
    icmp[4..8].copy_from_slice(&error.rest.to_be_bytes());
    icmp[8..].copy_from_slice(quote);
    let c = !checksum::fold(checksum::add(icmp, sum));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    ETH_LEN + IPV6_LEN + icmp_len
}
