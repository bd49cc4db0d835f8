//! Parsing and formatting of the value types the CLI speaks: MAC and IP addresses, numbers with
//! units, durations, sizes and dates, written the way RouterOS writes them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Parses `02:49:E8:55:8E:E8` (also with `-` separators).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for byte in mac.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Formats a MAC as RouterOS does: upper-case hex with colons.
pub fn format_mac(mac: &[u8; 6]) -> String {
    let mut out = String::new();
    for (i, byte) in mac.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// Parses a dotted IPv4 address.
pub fn parse_ipv4(text: &str) -> Option<[u8; 4]> {
    let mut addr = [0u8; 4];
    let mut parts = text.split('.');
    for byte in addr.iter_mut() {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *byte = part.parse().ok()?;
    }
    parts.next().is_none().then_some(addr)
}

/// Formats a dotted IPv4 address.
pub fn format_ipv4(addr: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", addr[0], addr[1], addr[2], addr[3])
}

/// Parses `a.b.c.d/n` or `a.b.c.d` (prefix 32).
pub fn parse_ipv4_prefix(text: &str) -> Option<([u8; 4], u8)> {
    match text.split_once('/') {
        Some((addr, len)) => {
            let len: u8 = parse_small_decimal(len)?;
            (len <= 32).then_some(())?;
            Some((parse_ipv4(addr)?, len))
        }
        None => Some((parse_ipv4(text)?, 32)),
    }
}

fn parse_small_decimal(text: &str) -> Option<u8> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The network mask of a prefix length.
pub fn ipv4_mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

/// The network address of `addr/len`.
pub fn ipv4_network(addr: [u8; 4], len: u8) -> [u8; 4] {
    (u32::from_be_bytes(addr) & ipv4_mask(len)).to_be_bytes()
}

/// The broadcast address of `addr/len`.
pub fn ipv4_broadcast(addr: [u8; 4], len: u8) -> [u8; 4] {
    (u32::from_be_bytes(addr) | !ipv4_mask(len)).to_be_bytes()
}

/// Parses an IPv6 address in any RFC 4291 text form (no embedded IPv4, no zone).
pub fn parse_ipv6(text: &str) -> Option<[u8; 16]> {
    fn groups(part: &str) -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        part.split(':')
            .map(|g| {
                (!g.is_empty() && g.len() <= 4)
                    .then(|| u16::from_str_radix(g, 16).ok())
                    .flatten()
            })
            .collect()
    }
    let (head, tail) = match text.split_once("::") {
        Some((head, tail)) => (groups(head)?, Some(groups(tail)?)),
        None => (groups(text)?, None),
    };
    let mut words = [0u16; 8];
    match tail {
        None if head.len() == 8 => words.copy_from_slice(&head),
        Some(tail) if head.len() + tail.len() <= 7 => {
            words[..head.len()].copy_from_slice(&head);
            words[8 - tail.len()..].copy_from_slice(&tail);
        }
        _ => return None,
    }
    let mut addr = [0u8; 16];
    for (i, word) in words.iter().enumerate() {
        addr[2 * i..2 * i + 2].copy_from_slice(&word.to_be_bytes());
    }
    Some(addr)
}

/// Formats an IPv6 address in RFC 5952 form (longest run of two or more zero words as `::`).
pub fn format_ipv6(addr: &[u8; 16]) -> String {
    let words: Vec<u16> = addr
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let (mut best_start, mut best_len, mut run_start, mut run_len) = (0, 0, 0, 0);
    for (i, &word) in words.iter().enumerate() {
        if word == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > best_len {
                best_start = run_start;
                best_len = run_len;
            }
        } else {
            run_len = 0;
        }
    }
    let hex = |ws: &[u16]| {
        ws.iter()
            .map(|w| format!("{w:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best_len < 2 {
        return hex(&words);
    }
    format!(
        "{}::{}",
        hex(&words[..best_start]),
        hex(&words[best_start + best_len..])
    )
}

/// Parses `addr/len` or `addr` (prefix 128).
pub fn parse_ipv6_prefix(text: &str) -> Option<([u8; 16], u8)> {
    match text.split_once('/') {
        Some((addr, len)) => {
            let len = parse_small_decimal(len)?;
            (len <= 128).then_some(())?;
            Some((parse_ipv6(addr)?, len))
        }
        None => Some((parse_ipv6(text)?, 128)),
    }
}

/// Clears the host bits of an IPv6 prefix.
pub fn ipv6_network(addr: [u8; 16], len: u8) -> [u8; 16] {
    let bits = u128::from_be_bytes(addr);
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    (bits & mask).to_be_bytes()
}

/// Parses a decimal integer, optionally followed by `unit` (case-insensitive).
pub fn parse_with_unit(text: &str, unit: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let digits = if !unit.is_empty() && lower.ends_with(&unit.to_ascii_lowercase()) {
        &text[..text.len() - unit.len()]
    } else {
        text
    };
    parse_integer(digits)
}

/// Parses a decimal or `0x` hexadecimal integer.
pub fn parse_integer(text: &str) -> Option<u64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 16 {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok();
    }
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses a RouterOS duration: `1w2d3h4m5s` parts, a bare number of seconds, or `hh:mm:ss`.
pub fn parse_duration(text: &str) -> Option<u64> {
    if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let h = parse_integer(parts[0])?;
        let m = parse_integer(parts[1])?;
        let s = parse_integer(parts[2])?;
        return (m < 60 && s < 60).then(|| h * 3600 + m * 60 + s);
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            if number.len() >= 9 {
                return None;
            }
            number.push(ch);
            continue;
        }
        let scale = match ch {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(scale)?)?;
        number.clear();
    }
    if !number.is_empty() {
        total = total.checked_add(number.parse::<u64>().ok()?)?;
    }
    (!text.is_empty()).then_some(total)
}

/// Formats seconds as RouterOS does: `1w2d3h4m5s`, `5m`, `0s`.
pub fn format_duration(mut seconds: u64) -> String {
    if seconds == 0 {
        return String::from("0s");
    }
    let mut out = String::new();
    for (unit, scale) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ] {
        if seconds >= scale {
            let _ = write!(out, "{}{}", seconds / scale, unit);
            seconds %= scale;
        }
    }
    out
}

/// Formats a byte count with one decimal in the largest binary unit that fits: `101.9MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, scale) in UNITS {
        if bytes >= scale {
            let tenths = bytes * 10 / scale;
            return format!("{}.{}{}", tenths / 10, tenths % 10, name);
        }
    }
    format!("{bytes}B")
}

/// Formats seconds since 1970 as RouterOS dates: `jan/02/1970 00:12:01`.
pub fn format_date(unix_seconds: u64) -> String {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let days = (unix_seconds / 86_400) as i64;
    let secs = unix_seconds % 86_400;
    // Civil date from day count (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}/{:02}/{} {:02}:{:02}:{:02}",
        MONTHS[(month - 1) as usize],
        day,
        year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Whether `text` needs quotes to be read back as one value.
pub fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\\' | '=' | ';' | '[' | ']' | '{' | '}' | '$' | '?'
                )
        })
}

/// Quotes a string for the CLI: `"a \"b\""`.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes only when needed (for export lines).
pub fn quote_if_needed(text: &str) -> String {
    if needs_quotes(text) {
        quote(text)
    } else {
        String::from(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_round_trip() {
        let mac = parse_mac("02:49:e8:55:8E:E8").unwrap();
        assert_eq!(format_mac(&mac), "02:49:E8:55:8E:E8");
        assert!(parse_mac("02:49:E8:55:8E").is_none());
        assert!(parse_mac("02:49:E8:55:8E:E8:00").is_none());
        assert!(parse_mac("02:49:E8:55:8E:G8").is_none());
    }

    #[test]
    fn ipv4_prefixes() {
        assert_eq!(parse_ipv4_prefix("10.0.1.1/24"), Some(([10, 0, 1, 1], 24)));
        assert_eq!(parse_ipv4_prefix("8.8.8.8"), Some(([8, 8, 8, 8], 32)));
        assert!(parse_ipv4_prefix("10.0.1.1/33").is_none());
        assert!(parse_ipv4_prefix("10.0.1/24").is_none());
        assert!(parse_ipv4("256.1.1.1").is_none());
        assert_eq!(ipv4_network([10, 0, 1, 1], 24), [10, 0, 1, 0]);
        assert_eq!(ipv4_broadcast([10, 0, 1, 1], 24), [10, 0, 1, 255]);
        assert_eq!(ipv4_broadcast([172, 16, 1, 1], 30), [172, 16, 1, 3]);
        assert_eq!(ipv4_network([1, 2, 3, 4], 0), [0, 0, 0, 0]);
    }

    #[test]
    fn ipv6_round_trip() {
        for (text, canon) in [
            ("2001:db8:2::/64", "2001:db8:2::"),
            ("::", "::"),
            ("::1", "::1"),
            ("fe80::", "fe80::"),
            ("2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
        ] {
            let addr = text.split('/').next().unwrap();
            assert_eq!(format_ipv6(&parse_ipv6(addr).unwrap()), canon, "{text}");
        }
        assert!(parse_ipv6("1::2::3").is_none());
        assert!(parse_ipv6("1:2:3:4:5:6:7").is_none());
        assert!(parse_ipv6("12345::").is_none());
        assert_eq!(parse_ipv6_prefix("2001:db8::/129"), None);
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("20"), Some(20));
        assert_eq!(parse_duration("00:05:00"), Some(300));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(format_duration(300), "5m");
        assert_eq!(format_duration(3 * 86_400 + 61), "3d1m1s");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_bytes(256 << 20), "256.0MiB");
        assert_eq!(format_bytes(1536), "1.5KiB");
        assert_eq!(format_bytes(12), "12B");
        assert_eq!(format_date(0), "jan/01/1970 00:00:00");
        assert_eq!(format_date(86_400 + 721), "jan/02/1970 00:12:01");
        assert_eq!(format_date(1_700_000_000), "nov/14/2023 22:13:20");
        assert_eq!(parse_with_unit("32MiB", "MiB"), Some(32));
        assert_eq!(parse_with_unit("32", "MiB"), Some(32));
        assert_eq!(parse_integer("0x8000"), Some(0x8000));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_if_needed("bridge1"), "bridge1");
        assert_eq!(quote_if_needed("my bridge"), "\"my bridge\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
