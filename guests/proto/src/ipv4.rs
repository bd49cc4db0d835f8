//! IPv4 addresses and prefixes in dotted-quad text (`10.0.0.2`, `10.0.0.2/24`).

use core::fmt;

/// Parse `a.b.c.d` (decimal, 0..=255 each, no leading `+`, at most 3 digits).
pub fn parse_addr(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split(|&b| b == b'.');
    for o in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *o = u8::try_from(p.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'))).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Parse `a.b.c.d/len` (len 0..=32); without `/len` the prefix is 32.
pub fn parse_cidr(s: &[u8]) -> Option<([u8; 4], u8)> {
    match s.iter().position(|&b| b == b'/') {
        None => Some((parse_addr(s)?, 32)),
        Some(p) => {
            let len = &s[p + 1..];
            if len.is_empty() || len.len() > 2 || !len.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let len = len.iter().fold(0u8, |v, &b| v * 10 + (b - b'0'));
            (len <= 32).then_some(())?;
            Some((parse_addr(&s[..p])?, len))
        }
    }
}

/// Displays an address as `a.b.c.d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dotted(pub [u8; 4]);

impl fmt::Display for Dotted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// Displays a MAC address as `XX:XX:XX:XX:XX:XX` (RouterOS style, upper case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;
    use core::fmt::Write;

    #[test]
    fn addresses() {
        assert_eq!(parse_addr(b"10.0.0.2"), Some([10, 0, 0, 2]));
        assert_eq!(parse_addr(b"255.255.255.255"), Some([255; 4]));
        for bad in [
            &b"256.0.0.1"[..],
            b"1.2.3",
            b"1.2.3.4.5",
            b"1..2.3",
            b"a.b.c.d",
            b"",
            b"1.2.3.0004",
        ] {
            assert_eq!(parse_addr(bad), None, "{bad:?}");
        }
        assert_eq!(parse_cidr(b"10.0.0.2/24"), Some(([10, 0, 0, 2], 24)));
        assert_eq!(parse_cidr(b"10.0.0.2"), Some(([10, 0, 0, 2], 32)));
        for bad in [
            &b"10.0.0.2/33"[..],
            b"10.0.0.2/",
            b"10.0.0.2/x",
            b"/24",
            b"10.0.0.2/024",
        ] {
            assert_eq!(parse_cidr(bad), None, "{bad:?}");
        }
        let mut t = Text::<40>::new();
        write!(
            t,
            "{} {}",
            Dotted([192, 168, 88, 1]),
            Mac([2, 0x4A, 0xBC, 0, 0x1F, 0xE9])
        )
        .unwrap();
        assert_eq!(t.as_str(), "192.168.88.1 02:4A:BC:00:1F:E9");
    }
}
