//! Address bit strings shared by the FIB and the RIB: `u32` for IPv4 and `u128` for IPv6.
//!
//! The FIB walks an address as a 16-bit top index followed by 8-bit chunks; this trait gives
//! those pieces without caring about the address family.

use core::fmt::Debug;
use core::hash::Hash;

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for u128 {}
}

/// An address as an unsigned integer, most significant bit first (network order).
pub trait Address:
    sealed::Sealed + Copy + Eq + Ord + Hash + Debug + Default + Send + Sync + 'static
{
    /// Width in bits: 32 or 128.
    const BITS: u8;
    /// Number of 8-bit chunk levels below the 16-bit top level.
    const CHUNK_LEVELS: usize;
    /// Bits 0..16 (the most significant 16), as a top-level index.
    fn top16(self) -> usize;
    /// The 8 bits starting at bit `16 + 8 * depth`.
    fn chunk_byte(self, depth: usize) -> u8;
    /// The address with every bit after the first `len` cleared.
    fn masked(self, len: u8) -> Self;
    /// The address's bytes, most significant first (an IPv4 address in the first four).
    fn bytes(self) -> [u8; 16];
    /// The address widened to 128 bits (IPv4 in the low 32 bits).
    fn to_u128(self) -> u128;
    /// The inverse of [`Address::to_u128`]; higher bits are dropped.
    fn from_u128(v: u128) -> Self;
}

impl Address for u32 {
    const BITS: u8 = 32;
    const CHUNK_LEVELS: usize = 2;
    #[inline(always)]
    fn top16(self) -> usize {
        (self >> 16) as usize
    }
    #[inline(always)]
    fn chunk_byte(self, depth: usize) -> u8 {
        (self >> (8 - 8 * depth as u32)) as u8
    }
    #[inline]
    fn masked(self, len: u8) -> Self {
        if len == 0 {
            0
        } else {
            self & (u32::MAX << (32 - u32::from(len.min(32))))
        }
    }
    #[inline(always)]
    fn bytes(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..4].copy_from_slice(&self.to_be_bytes());
        b
    }
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
    fn from_u128(v: u128) -> Self {
        v as u32
    }
}

impl Address for u128 {
    const BITS: u8 = 128;
    const CHUNK_LEVELS: usize = 14;
    #[inline(always)]
    fn top16(self) -> usize {
        (self >> 112) as usize
    }
    #[inline(always)]
    fn chunk_byte(self, depth: usize) -> u8 {
        (self >> (104 - 8 * depth as u32)) as u8
    }
    #[inline]
    fn masked(self, len: u8) -> Self {
        if len == 0 {
            0
        } else {
            self & (u128::MAX << (128 - u32::from(len.min(128))))
        }
    }
    #[inline(always)]
    fn bytes(self) -> [u8; 16] {
        self.to_be_bytes()
    }
    fn to_u128(self) -> u128 {
        self
    }
    fn from_u128(v: u128) -> Self {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_an_ipv4_address() {
        let a: u32 = 0x0a01_0203;
        assert_eq!(a.top16(), 0x0a01);
        assert_eq!(a.chunk_byte(0), 0x02);
        assert_eq!(a.chunk_byte(1), 0x03);
        assert_eq!(a.bytes()[..5], [0x0a, 0x01, 0x02, 0x03, 0]);
        assert_eq!(a.masked(8), 0x0a00_0000);
        assert_eq!(a.masked(0), 0);
        assert_eq!(a.masked(32), a);
    }

    #[test]
    fn pieces_of_an_ipv6_address() {
        let a: u128 = 0x2001_0db8_0102_0304_0000_0000_0000_00ff;
        assert_eq!(a.top16(), 0x2001);
        assert_eq!(a.chunk_byte(0), 0x0d);
        assert_eq!(a.chunk_byte(1), 0xb8);
        assert_eq!(a.chunk_byte(13), 0xff);
        for depth in 0..14 {
            assert_eq!(a.bytes()[2 + depth], a.chunk_byte(depth));
        }
        assert_eq!(a.masked(32), 0x2001_0db8 << 96);
        assert_eq!(a.masked(128), a);
    }
}
