//! IPv4 fragmentation (RFC 791) for a packet larger than the egress MTU without "don't
//! fragment": each fragment is written into a buffer the caller provides, one at a time, so
//! nothing is allocated. Every fragment carries a header of the original's length; options
//! whose copy flag is clear are replaced by no-operations after the first fragment (as Linux's
//! `ip_options_fragment` does). A fragment of a fragment keeps the original offsets, and the
//! last piece keeps the original's "more fragments" flag.

use crate::checksum;

/// The fragments of one IPv4 packet for one MTU.
#[derive(Debug)]
pub struct Fragments<'a> {
    packet: &'a [u8],
    header_len: usize,
    /// Data bytes per fragment but the last (a multiple of 8).
    per_fragment: usize,
    /// Data bytes already written.
    done: usize,
}

impl<'a> Fragments<'a> {
    /// Fragments of the valid IPv4 `packet` (exactly its total length) for `mtu`. `None` when
    /// the MTU cannot carry the header and 8 bytes of data.
    pub fn new(packet: &'a [u8], mtu: usize) -> Option<Self> {
        let header_len = usize::from(packet[0] & 0x0f) * 4;
        let per_fragment = mtu.checked_sub(header_len)? & !7;
        (per_fragment >= 8).then_some(Fragments {
            packet,
            header_len,
            per_fragment,
            done: 0,
        })
    }

    /// How many fragments there are in all.
    pub fn count(&self) -> usize {
        (self.packet.len() - self.header_len).div_ceil(self.per_fragment)
    }

    /// Writes the next fragment into `buf` (at least the MTU long) and returns its length, or
    /// `None` after the last.
    pub fn next_into(&mut self, buf: &mut [u8]) -> Option<usize> {
        let data = &self.packet[self.header_len..];
        if self.done >= data.len() {
            return None;
        }
        let first = self.done == 0;
        let len = (data.len() - self.done).min(self.per_fragment);
        let last = self.done + len == data.len();
        let h = self.header_len;
        buf[..h].copy_from_slice(&self.packet[..h]);
        if !first {
            blank_uncopied_options(&mut buf[20..h]);
        }
        buf[h..h + len].copy_from_slice(&data[self.done..self.done + len]);
        let orig = u16::from_be_bytes([self.packet[6], self.packet[7]]);
        let offset = (orig & 0x1fff) + (self.done / 8) as u16;
        let more = if last { orig & 0x2000 } else { 0x2000 };
        let flags = (orig & 0x4000) | more | offset;
        buf[2..4].copy_from_slice(&((h + len) as u16).to_be_bytes());
        buf[6..8].copy_from_slice(&flags.to_be_bytes());
        buf[10..12].fill(0);
        let c = checksum::of(&buf[..h]);
        buf[10..12].copy_from_slice(&c.to_be_bytes());
        self.done += len;
        Some(h + len)
    }
}

/// Options without the copy flag (bit 7 of the type) become no-operations; the header keeps
/// its length. The option list was validated on receipt.
fn blank_uncopied_options(options: &mut [u8]) {
    let mut at = 0;
    while at < options.len() {
        match options[at] {
            0 => return,
            1 => at += 1,
            kind => {
                let len = usize::from(options[at + 1]).max(2);
                let end = (at + len).min(options.len());
                if kind & 0x80 == 0 {
                    options[at..end].fill(1);
                }
                at = end;
            }
        }
    }
}
