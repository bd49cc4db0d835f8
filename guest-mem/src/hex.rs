//! Addresses in messages: `0xC000_0000` style, grouped by 16 bits so they read at a glance.

use core::fmt;

/// Formats an address or size as `0xXXXX_XXXX` (eight hex digits; nine when a 64-bit value
/// spills past 32 bits, as an end address of exactly 4 GiB does: `0x1_0000_0000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hex(pub u64);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        let high = v >> 32;
        if high != 0 {
            write!(f, "0x{high:X}_")?;
        } else {
            f.write_str("0x")?;
        }
        write!(f, "{:04X}_{:04X}", (v >> 16) & 0xFFFF, v & 0xFFFF)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Hex;
    use std::format;

    #[test]
    fn groups_by_sixteen_bits() {
        assert_eq!(format!("{}", Hex(0xC000_0000)), "0xC000_0000");
        assert_eq!(format!("{}", Hex(0x1F)), "0x0000_001F");
        assert_eq!(format!("{}", Hex(0x1_0000_0000)), "0x1_0000_0000");
    }
}
