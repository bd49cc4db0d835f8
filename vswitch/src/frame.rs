//! The part of an Ethernet frame the switch reads: addresses and an optional 802.1Q tag.

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

#[cfg(test)]
mod tests {
    use super::*;

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
