//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624), as the forwarding
//! path needs them: a header's sum, and the change of one 16-bit word.

/// Adds `data` as big-endian 16-bit words (an odd last byte padded with zero) to `sum`,
/// without folding.
pub fn add(data: &[u8], mut sum: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([w[0], w[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Folds a 32-bit sum to 16 bits with end-around carry.
pub fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The checksum of `data`: the complement of its one's-complement sum.
pub fn of(data: &[u8]) -> u16 {
    !fold(add(data, 0))
}

/// RFC 1624, equation 3: the checksum `hc` of data in which one 16-bit word changed from `old`
/// to `new`: `HC' = ~(~HC + ~m + m')`. Correct for every value (no `0xffff`/`0x0000` ambiguity
/// of equation 2).
pub fn update(hc: u16, old: u16, new: u16) -> u16 {
    let sum = u32::from(!hc) + u32::from(!old) + u32::from(new);
    !fold(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(add(&data, 0)), 0xddf2);
        assert_eq!(of(&data), !0xddf2);
        assert_eq!(fold(add(&[0xab], 0)), 0xab00, "odd byte padded");
    }

    proptest::proptest! {
        /// An update of one word gives the checksum computed afresh (or its equivalent
        /// negative zero, which RFC 1624 allows only where the data sums to zero).
        #[test]
        fn incremental_update_equals_recomputation(
            mut data in proptest::collection::vec(proptest::num::u8::ANY, 2..64),
            at in 0usize..32, new in proptest::num::u16::ANY,
        ) {
            let at = (at % (data.len() / 2)) * 2;
            let before = of(&data);
            let old = u16::from_be_bytes([data[at], data[at + 1]]);
            data[at..at + 2].copy_from_slice(&new.to_be_bytes());
            let after = of(&data);
            let inc = update(before, old, new);
            proptest::prop_assert!(inc == after || (inc == 0xffff && after == 0) || (inc == 0 && after == 0xffff));
        }
    }
}
