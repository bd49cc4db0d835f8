//! CRC-32 (IEEE 802.3, reflected, as zlib computes it), table-free.

/// CRC-32 of `data`, continuing from `crc` (start with 0).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut crc = !crc;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        assert_eq!(super::crc32(0, b""), 0);
        assert_eq!(super::crc32(0, b"123456789"), 0xCBF4_3926);
        let split = super::crc32(super::crc32(0, b"1234"), b"56789");
        assert_eq!(split, 0xCBF4_3926);
    }
}
