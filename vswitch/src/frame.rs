//! The part of an Ethernet frame the switch reads: addresses and an optional 802.1Q tag.
//!
//! [`Header`] is the readable form. The forwarding decision reads the same header as
//! [`HeaderWords`]: the addresses as big-endian 32-bit words, packed the way the MAC table keys
//! are, so a 32-bit CPU tests and hashes them with a few word operations instead of byte by
//! byte.

use crate::mac::MacAddr;

/// TPID of an 802.1Q tag.
pub const TPID_8021Q: u16 = 0x8100;
/// Ethernet header length (without a tag).
pub const HEADER_LEN: usize = 14;
/// Length of an 802.1Q tag.
pub const TAG_LEN: usize = 4;

/// The addresses and VLAN tag of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Destination.
    pub dst: MacAddr,
    /// Source.
    pub src: MacAddr,
    /// The 802.1Q tag control information, if the frame is tagged.
    pub tci: Option<u16>,
}

impl Header {
    /// Parses the header; `None` if the frame is too short for it (a runt: under 14 bytes, or
    /// under 18 with an 802.1Q tag).
    #[inline]
    pub fn parse(frame: &[u8]) -> Option<Self> {
        let h: &[u8; HEADER_LEN] = frame.get(..HEADER_LEN)?.try_into().ok()?;
        let mac =
            |at: usize| MacAddr([h[at], h[at + 1], h[at + 2], h[at + 3], h[at + 4], h[at + 5]]);
        let tci = if u16::from_be_bytes([h[12], h[13]]) == TPID_8021Q {
            // The tag and the inner EtherType must both be there.
            let t = frame.get(HEADER_LEN..HEADER_LEN + TAG_LEN)?;
            Some(u16::from_be_bytes([t[0], t[1]]))
        } else {
            None
        };
        Some(Self {
            dst: mac(0),
            src: mac(6),
            tci,
        })
    }

    /// The VLAN id of the tag (0 for untagged and priority-tagged frames).
    #[inline]
    pub fn vid(&self) -> u16 {
        self.tci.map_or(0, |tci| tci & 0x0FFF)
    }
}

/// The header as the forwarding decision reads it: each address as a word holding bytes 0..4
/// and a word holding bytes 4..6 in its upper half (its lower half is zero), big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderWords {
    pub(crate) dst_hi: u32,
    pub(crate) dst_lo: u32,
    pub(crate) src_hi: u32,
    pub(crate) src_lo: u32,
    /// The 802.1Q tag control information, if the frame is tagged.
    pub(crate) tci: Option<u16>,
}

/// The I/G bit (group address) of the first byte, in an address's first word.
const GROUP: u32 = 0x0100_0000;

impl HeaderWords {
    /// Parses the header; `None` for a runt, exactly as [`Header::parse`].
    #[inline(always)]
    pub(crate) fn parse(frame: &[u8]) -> Option<Self> {
        let h: &[u8; HEADER_LEN] = frame.first_chunk()?;
        let mid = word(h, 4);
        let end = word(h, 10);
        let tci = if end & 0xFFFF == u32::from(TPID_8021Q) {
            // The tag and the inner EtherType must both be there.
            let t: &[u8; TAG_LEN] = frame.get(HEADER_LEN..)?.first_chunk()?;
            Some(u16::from_be_bytes([t[0], t[1]]))
        } else {
            None
        };
        Some(Self {
            dst_hi: word(h, 0),
            dst_lo: mid & 0xFFFF_0000,
            src_hi: word(h, 6),
            src_lo: end & 0xFFFF_0000,
            tci,
        })
    }

    /// The VLAN id of the tag (0 for untagged and priority-tagged frames).
    #[inline(always)]
    pub(crate) fn vid(&self) -> u16 {
        match self.tci {
            Some(tci) => tci & 0x0FFF,
            None => 0,
        }
    }

    /// [`MacAddr::is_valid_source`] of the source.
    #[inline(always)]
    pub(crate) fn src_is_valid(&self) -> bool {
        (self.src_hi & GROUP == 0) & (self.src_hi | self.src_lo != 0)
    }

    /// [`MacAddr::is_multicast`] of the destination.
    #[inline(always)]
    pub(crate) fn dst_is_multicast(&self) -> bool {
        self.dst_hi & GROUP != 0
    }

    /// [`MacAddr::is_reserved_link_local`] of the destination.
    #[inline(always)]
    pub(crate) fn dst_is_reserved_link_local(&self) -> bool {
        (self.dst_hi == 0x0180_C200) & (self.dst_lo & 0xFFF0_0000 == 0)
    }
}

/// The big-endian word at byte `at` of the header (an unaligned load where the CPU has one).
#[inline(always)]
fn word(h: &[u8; HEADER_LEN], at: usize) -> u32 {
    let mut w = [0; 4];
    w.copy_from_slice(&h[at..at + 4]);
    u32::from_be_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word form says the same as the byte form, for addresses of every class.
    #[test]
    fn words_agree_with_header() {
        let macs: [[u8; 6]; 9] = [
            [0xFF; 6],
            [0; 6],
            [0x02, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1, 0],
            [0x01, 0x00, 0x5E, 0, 0, 1],
            [0x01, 0x80, 0xC2, 0, 0, 0x0E],
            [0x01, 0x80, 0xC2, 0, 0, 0x10],
            [0x01, 0x80, 0xC2, 0, 1, 0x00],
        ];
        for dst in macs {
            for src in macs {
                for tag in [
                    None,
                    Some([0x81, 0x00, 0x20, 0x0A]),
                    Some([0x81, 0x00, 0, 0]),
                ] {
                    let mut f = [0x5Au8; 64];
                    f[..6].copy_from_slice(&dst);
                    f[6..12].copy_from_slice(&src);
                    match tag {
                        Some(t) => f[12..16].copy_from_slice(&t),
                        None => f[12..14].copy_from_slice(&[0x08, 0x00]),
                    }
                    for len in [0, 13, 14, 15, 17, 18, 64] {
                        let (h, w) = (Header::parse(&f[..len]), HeaderWords::parse(&f[..len]));
                        assert_eq!(h.is_some(), w.is_some());
                        let (Some(h), Some(w)) = (h, w) else { continue };
                        assert_eq!(w.dst_hi.to_be_bytes(), dst[..4]);
                        assert_eq!(w.src_hi.to_be_bytes(), src[..4]);
                        assert_eq!(w.dst_lo.to_be_bytes(), [dst[4], dst[5], 0, 0]);
                        assert_eq!(w.src_lo.to_be_bytes(), [src[4], src[5], 0, 0]);
                        assert_eq!((w.tci, w.vid()), (h.tci, h.vid()));
                        assert_eq!(w.src_is_valid(), h.src.is_valid_source());
                        assert_eq!(w.dst_is_multicast(), h.dst.is_multicast());
                        assert_eq!(
                            w.dst_is_reserved_link_local(),
                            h.dst.is_reserved_link_local()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn parses_untagged_and_tagged() {
        let mut f = [0u8; 64];
        f[..6].copy_from_slice(&[0xFF; 6]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let h = Header::parse(&f).unwrap();
        assert_eq!(
            (h.dst, h.src.0[5], h.tci, h.vid()),
            (MacAddr::BROADCAST, 1, None, 0)
        );
        f[12..16].copy_from_slice(&[0x81, 0x00, 0x20, 0x0A]);
        let h = Header::parse(&f).unwrap();
        assert_eq!((h.tci, h.vid()), (Some(0x200A), 10));
        assert_eq!(Header::parse(&f[..13]), None);
        assert_eq!(Header::parse(&f[..15]), None, "tag cut short");
        assert_eq!(Header::parse(&f[..17]), None, "inner EtherType cut short");
        assert!(Header::parse(&f[..18]).is_some());
    }
}
