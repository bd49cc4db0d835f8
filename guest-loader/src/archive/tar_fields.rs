//! The fields of a tar header block and of pax extended headers: text fields, octal and GNU
//! base-256 numbers, the header checksum, and the pax records the importer honours.

use super::error::TarError;

pub(crate) const BLOCK: usize = 512;

/// A NUL-terminated (or full-width) header text field.
pub(crate) fn field_str(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// An octal field (spaces/NULs around the digits) or a GNU base-256 field (top bit set).
pub(crate) fn number(field: &[u8], at: u64, name: &'static str) -> Result<u64, TarError> {
    let bad = TarError::BadNumber { at, field: name };
    if field[0] & 0x80 != 0 {
        // Base-256: big-endian two's complement; only non-negative values that fit in 64 bits.
        let rest = &field[1..];
        let (high, low) = rest.split_at(rest.len().saturating_sub(8));
        if field[0] != 0x80 || high.iter().any(|&b| b != 0) {
            return Err(bad);
        }
        return Ok(low.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)));
    }
    let text = field.iter().skip_while(|&&b| b == b' ');
    let mut v: u64 = 0;
    let mut ended = false;
    for &b in text {
        match b {
            b'0'..=b'7' if !ended => {
                v = v.checked_mul(8).ok_or(bad)? + u64::from(b - b'0');
            }
            0 | b' ' => ended = true,
            _ => return Err(bad),
        }
    }
    Ok(v)
}

pub(crate) fn check_checksum(block: &[u8; BLOCK], at: u64) -> Result<(), TarError> {
    let stored =
        number(&block[148..156], at, "checksum").map_err(|_| TarError::BadChecksum { at })?;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    if stored == unsigned || stored as i64 == signed {
        Ok(())
    } else {
        Err(TarError::BadChecksum { at })
    }
}

/// The pax keys the importer honours.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PaxFields<'a> {
    pub(crate) path: Option<&'a [u8]>,
    pub(crate) linkpath: Option<&'a [u8]>,
    pub(crate) size: Option<u64>,
    pub(crate) mtime: Option<u64>,
    pub(crate) uid: Option<u64>,
    pub(crate) gid: Option<u64>,
}

/// Parses `"<len> <key>=<value>\n"` records; `None` if malformed.
pub(crate) fn parse_pax(mut data: &[u8]) -> Option<PaxFields<'_>> {
    let mut f = PaxFields::default();
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ')?;
        let len: usize = core::str::from_utf8(&data[..space]).ok()?.parse().ok()?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return None;
        }
        let record = &data[space + 1..len - 1];
        let eq = record.iter().position(|&b| b == b'=')?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        let decimal = |v: &[u8]| -> Option<u64> {
            // mtime may carry a fraction ("1700000000.25"): keep whole seconds.
            let whole = v.split(|&b| b == b'.').next()?;
            core::str::from_utf8(whole).ok()?.parse().ok()
        };
        match key {
            b"path" => f.path = Some(value),
            b"linkpath" => f.linkpath = Some(value),
            b"size" => f.size = Some(decimal(value)?),
            b"mtime" => f.mtime = Some(decimal(value).unwrap_or(0)),
            b"uid" => f.uid = Some(decimal(value)?),
            b"gid" => f.gid = Some(decimal(value)?),
            _ => {}
        }
        data = &data[len..];
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(b"0000644\0", 0, "mode"), Ok(0o644));
        assert_eq!(number(b"   755 \0", 0, "mode"), Ok(0o755));
        assert_eq!(number(b"\0\0\0\0\0\0\0\0", 0, "mode"), Ok(0));
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[4..].copy_from_slice(&0x1_2345_6789u64.to_be_bytes());
        assert_eq!(number(&big, 0, "size"), Ok(0x1_2345_6789));
        big[1] = 1; // more than 64 bits
        assert!(number(&big, 0, "size").is_err());
        assert!(
            number(b"\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 0, "uid").is_err(),
            "negative"
        );
        assert_eq!(
            number(b"0008\0\0\0\0", 7, "mode"),
            Err(TarError::BadNumber {
                at: 7,
                field: "mode"
            })
        );
        assert!(
            number(b"12 3\0\0\0\0", 0, "mode").is_err(),
            "digits after the terminator"
        );
        assert!(
            number(b"77777777777777777777777", 0, "size").is_err(),
            "overflow"
        );
    }

    #[test]
    fn signed_checksums_are_accepted() {
        let mut h = [0u8; BLOCK];
        h[0] = 0xE9; // a high byte: signed and unsigned sums differ
        let signed: i64 = h.iter().map(|&b| i64::from(b as i8)).sum::<i64>() + 8 * 32;
        h[148..156].copy_from_slice(alloc::format!("{signed:06o}\0 ").as_bytes());
        assert_eq!(check_checksum(&h, 0), Ok(()));
        h[1] = 1;
        assert_eq!(check_checksum(&h, 0), Err(TarError::BadChecksum { at: 0 }));
    }

    #[test]
    fn pax_records() {
        let f = parse_pax(b"19 path=a/long/one\n24 mtime=1700000000.123\n").unwrap();
        assert_eq!(f.path, Some(&b"a/long/one"[..]));
        assert_eq!(f.mtime, Some(1_700_000_000));
        assert!(parse_pax(b"6 a=b\n").is_some());
        assert!(parse_pax(b"7 a=b\n").is_none(), "length past the data");
        assert!(parse_pax(b"5 ab\n").is_none(), "no '='");
        assert!(parse_pax(b"x a=b\n").is_none());
        assert!(parse_pax(b"9 size=z\n").is_none());
    }
}
