//! The two checksums of ZMODEM: CRC-16/XMODEM (polynomial 0x1021, initial 0, big-endian on the
//! wire) for hex headers and 16-bit frames, and CRC-32/IEEE (reflected 0xEDB8_8320, initial and
//! final inversion, little-endian on the wire) for 32-bit frames. Table-driven, the tables built
//! at compile time.

const fn crc16_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x1021
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

const fn crc32_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC16: [u16; 256] = crc16_table();
static CRC32: [u32; 256] = crc32_table();

/// A running CRC-16/XMODEM.
#[derive(Clone, Copy, Debug, Default)]
pub struct Crc16(u16);

impl Crc16 {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ CRC16[usize::from((self.0 >> 8) as u8 ^ b)];
        }
    }

    pub fn value(self) -> u16 {
        self.0
    }
}

/// A running CRC-32/IEEE.
#[derive(Clone, Copy, Debug)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Crc32 {
        Crc32(!0)
    }
}

impl Crc32 {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = CRC32[usize::from(self.0 as u8 ^ b)] ^ (self.0 >> 8);
        }
    }

    pub fn value(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        let mut c = Crc16::default();
        c.update(b"123456789");
        assert_eq!(c.value(), 0x31C3);
        let mut c = Crc32::default();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xCBF4_3926);
    }
}
