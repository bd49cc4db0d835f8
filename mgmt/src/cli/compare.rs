//! What a `where` comparison means for printed values: the value of a property in a row (a
//! printed property, the comment, or a flag as `yes`/`no`), equality and order that know numbers
//! (with units: `32MiB`, digit groups: `1 234`), addresses, prefixes, MACs and `yes`/`no`, and
//! `in` (an address or prefix inside a prefix). Also the check of a value typed in a comparison
//! against the property's declared type, so `distance=x` is an error rather than a silent miss.

use alloc::borrow::Cow;
use alloc::string::String;
use core::cmp::Ordering;

use super::args::{match_choice, Field, Kind};
use super::filter_lex::Op;
use super::table::{flag_word, Row};
use super::view::View;
use crate::network::IpAddress;
use crate::value;

/// The value of `prop` in `row` as `where` sees it: the printed value, the comment, or a flag
/// as `yes`/`no`; `None` if the row has no such property.
pub fn property<'r>(row: &'r Row, view: &View, prop: &str) -> Option<Cow<'r, str>> {
    if let Some(cell) = row.get(prop) {
        return Some(Cow::Borrowed(cell.text()));
    }
    if prop == "comment" {
        return Some(Cow::Borrowed(row.comment.as_str()));
    }
    flag_word(view, prop).map(|flag| Cow::Borrowed(yes_no(row.flags.contains(&flag))))
}

fn yes_no(on: bool) -> &'static str {
    if on {
        "yes"
    } else {
        "no"
    }
}

/// A number as printed: digits, optionally in groups of three separated by spaces, optionally
/// followed by a unit word (`16MiB`, `10s`). Addresses and other words are not numbers.
pub fn number(text: &str) -> Option<u64> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != ' ')
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let digits = digits.trim_end();
    if digits.is_empty() || !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut groups = digits.split(' ');
    let first = groups.next()?;
    if first.is_empty() || (first.len() > 3 && digits.contains(' ')) {
        return None;
    }
    let mut plain = String::from(first);
    for group in groups {
        if group.len() != 3 {
            return None;
        }
        plain.push_str(group);
    }
    value::parse_integer(&plain)
}

fn address(text: &str) -> Option<(IpAddress, u8)> {
    if let Some((addr, len)) = value::parse_ipv4_prefix(text) {
        return Some((IpAddress::V4(addr), len));
    }
    value::parse_ipv6_prefix(text).map(|(addr, len)| (IpAddress::V6(addr), len))
}

fn truth(text: &str) -> Option<bool> {
    match text {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// Orders two values: as numbers, addresses/prefixes or MACs when both are, else as text.
fn order(actual: &str, wanted: &str) -> Ordering {
    if let (Some(a), Some(b)) = (number(actual), number(wanted)) {
        return a.cmp(&b);
    }
    match (address(actual), address(wanted)) {
        (Some((IpAddress::V4(a), la)), Some((IpAddress::V4(b), lb))) => {
            return (u32::from_be_bytes(a), la).cmp(&(u32::from_be_bytes(b), lb))
        }
        (Some((IpAddress::V6(a), la)), Some((IpAddress::V6(b), lb))) => {
            return (u128::from_be_bytes(a), la).cmp(&(u128::from_be_bytes(b), lb))
        }
        _ => {}
    }
    if let (Some(a), Some(b)) = (value::parse_mac(actual), value::parse_mac(wanted)) {
        return a.cmp(&b);
    }
    actual.cmp(wanted)
}

fn equal(actual: &str, wanted: &str) -> bool {
    if actual == wanted {
        return true;
    }
    if let (Some(a), Some(b)) = (truth(actual), truth(wanted)) {
        return a == b;
    }
    order(actual, wanted).is_eq()
}

/// `actual op wanted` for the comparison operators (not `~` or `in`).
pub fn compare(actual: &str, op: Op, wanted: &str) -> bool {
    match op {
        Op::Eq => equal(actual, wanted),
        Op::Ne => !equal(actual, wanted),
        Op::Lt => order(actual, wanted).is_lt(),
        Op::Le => order(actual, wanted).is_le(),
        Op::Gt => order(actual, wanted).is_gt(),
        Op::Ge => order(actual, wanted).is_ge(),
        Op::Regex | Op::In => false,
    }
}

/// A prefix for `in` (an address alone is a host prefix).
pub fn parse_prefix(text: &str) -> Option<(IpAddress, u8)> {
    address(text)
}

/// Whether the address or prefix `actual` lies inside `prefix` (same family, at least as long,
/// same network bits). Values that are not addresses are never inside.
pub fn within(actual: &str, prefix: (IpAddress, u8)) -> bool {
    let Some((addr, len)) = address(actual) else {
        return false;
    };
    let outer = prefix.1;
    if len < outer {
        return false;
    }
    match (addr, prefix.0) {
        (IpAddress::V4(a), IpAddress::V4(p)) => {
            value::ipv4_network(a, outer) == value::ipv4_network(p, outer)
        }
        (IpAddress::V6(a), IpAddress::V6(p)) => {
            value::ipv6_network(a, outer) == value::ipv6_network(p, outer)
        }
        _ => false,
    }
}

/// Whether `text` is a value of `field`'s declared type, for the types that can be checked
/// without the configuration (names of other items are not checked: a reference may name an
/// interface that no longer exists).
pub fn valid_for(field: &Field, text: &str) -> bool {
    match field.kind {
        Kind::Int { unit, .. } => value::parse_with_unit(text, unit).is_some(),
        Kind::IntOr { unit, word, .. } => {
            text == word || value::parse_with_unit(text, unit).is_some()
        }
        Kind::Bool | Kind::Flag => truth(text).is_some(),
        Kind::Choice(choices) => match_choice(choices, text).is_some(),
        Kind::Mac => value::parse_mac(text).is_some(),
        Kind::Ipv4 => value::parse_ipv4(text).is_some(),
        Kind::Ipv4Prefix => value::parse_ipv4_prefix(text).is_some(),
        Kind::Ipv6Prefix => value::parse_ipv6_prefix(text).is_some(),
        Kind::AnyPrefix => address(text).is_some(),
        Kind::Duration { .. } => value::parse_duration(text).is_some(),
        Kind::Text | Kind::Name | Kind::Ref(_) | Kind::RefOr(..) | Kind::Gateways { .. } => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number("32MiB"), Some(32));
        assert_eq!(number("1 234 567"), Some(1_234_567));
        assert_eq!(number("12"), Some(12));
        assert_eq!(number("1 23"), None);
        assert_eq!(number("1234 567"), None);
        assert_eq!(number("10.0.0.1"), None);
        assert_eq!(number("ether1"), None);
    }

    #[test]
    fn equality_knows_types() {
        assert!(compare("32MiB", Op::Eq, "32"));
        assert!(compare("4C:5E:0C:10:00:01", Op::Eq, "4c:5e:0c:10:00:01"));
        assert!(compare("yes", Op::Eq, "true"));
        assert!(compare("10.0.0.0/8", Op::Eq, "10.0.0.0/8"));
        assert!(!compare("10.0.0.0/8", Op::Eq, "10.0.0.0/16"));
        assert!(!compare("10.0.0.9", Op::Gt, "10.0.0.10"));
        assert!(compare("1 000", Op::Gt, "999"));
        assert!(compare("b", Op::Gt, "a"));
        assert!(compare("", Op::Eq, ""));
        assert!(compare("x", Op::Ne, ""));
    }

    #[test]
    fn inside_a_prefix() {
        let net = parse_prefix("10.0.0.0/8").unwrap();
        assert!(within("10.0.1.0/24", net));
        assert!(within("10.2.3.4", net));
        assert!(!within("11.0.0.0/24", net));
        assert!(!within("0.0.0.0/0", net));
        assert!(!within("ether1", net));
        assert!(!within("2001:db8::/32", net));
        let v6 = parse_prefix("2001:db8::/32").unwrap();
        assert!(within("2001:db8:1::/48", v6));
        assert!(!within("2001:db9::/48", v6));
    }
}
