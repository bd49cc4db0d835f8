//! Arguments: the declared type of each `name=value` a command takes, parsing of a value against
//! it (with RouterOS errors), and the parsed argument list handed to menus.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::CmdError;
use crate::config::{Config, Gateway, IfaceRef, ItemId, MAX_NAME_LEN};
use crate::network::IpAddress;
use crate::platform::Platform;
use crate::value;

/// What kind of existing thing a reference argument names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// Any interface (ether, bridge, vif).
    Interface,
    /// A physical port.
    Ethernet,
    Bridge,
    /// A `/metarouter` virtual machine.
    Vm,
    /// A file in the file store.
    File,
    /// A routing table.
    RoutingTable,
}

/// Declared type of an argument.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Any string.
    Text,
    /// A non-empty name.
    Name,
    /// `yes`/`no`.
    Bool,
    /// An integer in `min..=max`, optionally written with `unit`.
    Int {
        min: u64,
        max: u64,
        unit: &'static str,
    },
    /// An integer, or `word` (e.g. `unlimited`, `none`).
    IntOr {
        min: u64,
        max: u64,
        unit: &'static str,
        word: &'static str,
    },
    /// One of a fixed list (unique prefixes accepted).
    Choice(&'static [&'static str]),
    Mac,
    /// `a.b.c.d`
    Ipv4,
    /// `a.b.c.d/n`
    Ipv4Prefix,
    /// IPv6 `addr/n`
    Ipv6Prefix,
    /// A duration (`5m`, `20s`) in seconds within `min..=max`.
    Duration {
        min: u64,
        max: u64,
    },
    /// A name of an existing thing.
    Ref(RefKind),
    /// A name of an existing thing, or `word` (e.g. `none`).
    RefOr(RefKind, &'static str),
    /// Gateways of a route: comma-separated addresses of the family (`v6`), interface names, or
    /// `address%interface`.
    Gateways {
        v6: bool,
    },
    /// An IPv4 or IPv6 prefix.
    AnyPrefix,
    /// `yes`/`no`, which may also be given as a bare word (`fib`).
    Flag,
}

impl Kind {
    /// An integer in `min..=max` without a unit.
    pub const fn int(min: u64, max: u64) -> Kind {
        Kind::Int { min, max, unit: "" }
    }
}

/// One argument a command takes.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

impl Field {
    /// Argument `name` of type `kind`; `help` is what `?` shows for it.
    pub const fn new(name: &'static str, kind: Kind, help: &'static str) -> Field {
        Field { name, kind, help }
    }
}

/// A parsed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Int(u64),
    /// A choice, or the special word of `IntOr`/`RefOr`.
    Word(&'static str),
    Mac([u8; 6]),
    Ipv4([u8; 4]),
    Ipv4Prefix([u8; 4], u8),
    Ipv6Prefix([u8; 16], u8),
    Iface(IfaceRef),
    Port(u16),
    Item(ItemId),
    /// A file or routing table name that exists.
    Name(String),
    /// Gateways; while the saved configuration is replayed, an interface name that does not
    /// exist is kept in the second list and its gateway refers to it as `IfaceRef::Gone(index)`
    /// until `references::bind_missing` remembers it (the list is empty otherwise).
    Gateways(Vec<Gateway>, Vec<String>),
    Prefix(IpAddress, u8),
    /// An interface name that does not exist, accepted only while the saved configuration is
    /// replayed (`references::bind_missing` turns it into a gone reference).
    Missing(String),
}

/// One argument given.
#[derive(Clone, Debug)]
pub struct Arg {
    pub field: &'static Field,
    pub value: Value,
}

/// The arguments of one command, in the order given (each at most once: see [`Args::add`]).
#[derive(Clone, Debug, Default)]
pub struct Args {
    pub list: Vec<Arg>,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.list
            .iter()
            .rev()
            .find(|a| a.field.name == name)
            .map(|a| &a.value)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Text(s)) | Some(Value::Name(s)) => Some(s),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn word(&self, name: &str) -> Option<&'static str> {
        match self.get(name) {
            Some(Value::Word(w)) => Some(w),
            _ => None,
        }
    }

    pub fn push(&mut self, field: &'static Field, value: Value) {
        self.list.push(Arg { field, value });
    }

    /// Adds an argument as typed at `column`; an argument given twice (`name=x name=y`) is an
    /// error rather than a silent choice of one value.
    pub fn add(
        &mut self,
        field: &'static Field,
        value: Value,
        column: usize,
    ) -> Result<(), CmdError> {
        if self.list.iter().any(|a| a.field.name == field.name) {
            return Err(CmdError::RepeatedArgument {
                argument: field.name,
                column,
            });
        }
        self.push(field, value);
        Ok(())
    }
}

/// Finds the field `word` names among `fields`: exact name, or the only one it is a prefix of.
pub fn find_field(
    fields: &'static [Field],
    word: &str,
    column: usize,
) -> Result<&'static Field, CmdError> {
    if let Some(field) = fields.iter().find(|f| f.name == word) {
        return Ok(field);
    }
    let mut matches = fields
        .iter()
        .filter(|f| !word.is_empty() && f.name.starts_with(word));
    match (matches.next(), matches.next()) {
        (Some(field), None) => Ok(field),
        (Some(_), Some(_)) => Err(CmdError::AmbiguousArgument {
            word: String::from(word),
            column,
        }),
        _ => Err(CmdError::ExpectedEnd { column }),
    }
}

/// Picks `text` from `choices`: exact, or the only choice it is a prefix of.
pub fn match_choice(choices: &'static [&'static str], text: &str) -> Option<&'static str> {
    if let Some(c) = choices.iter().find(|c| **c == text) {
        return Some(c);
    }
    let mut it = choices
        .iter()
        .filter(|c| !text.is_empty() && c.starts_with(text));
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Names a reference argument may take, for completion and matching.
pub fn ref_names(kind: RefKind, config: &Config, platform: &dyn Platform) -> Vec<String> {
    match kind {
        RefKind::Interface => config
            .interfaces()
            .into_iter()
            .filter_map(|r| config.iface_name(r).map(String::from))
            .collect(),
        RefKind::Ethernet => config.ethernet.iter().map(|e| e.name.clone()).collect(),
        RefKind::Bridge => config.bridges.iter().map(|b| b.name.clone()).collect(),
        RefKind::Vm => config.vms.iter().map(|v| v.name.clone()).collect(),
        RefKind::File => (0..platform.file_count())
            .filter_map(|i| platform.file(i))
            .map(|f| f.name)
            .collect(),
        RefKind::RoutingTable => config.table_names(),
    }
}

fn resolve_ref(
    kind: RefKind,
    text: &str,
    config: &Config,
    platform: &dyn Platform,
) -> Option<Value> {
    let missing = |text: &str| {
        (config.restoring && !text.is_empty()).then(|| Value::Missing(String::from(text)))
    };
    match kind {
        RefKind::Interface => config
            .find_iface(text)
            .map(Value::Iface)
            .or_else(|| missing(text)),
        RefKind::Ethernet => config
            .ethernet
            .iter()
            .position(|e| e.name == text)
            .map(|i| Value::Port(i as u16)),
        RefKind::Bridge => config
            .bridges
            .iter()
            .find(|b| b.name == text)
            .map(|b| Value::Iface(IfaceRef::Bridge(b.id)))
            .or_else(|| missing(text)),
        RefKind::Vm => config.vm_by_name(text).map(|v| Value::Item(v.id)),
        RefKind::File | RefKind::RoutingTable => ref_names(kind, config, platform)
            .into_iter()
            .find(|n| n == text)
            .map(Value::Name),
    }
}

/// Parses `text` as a value of `field`.
pub fn parse_value(
    field: &'static Field,
    text: &str,
    config: &Config,
    platform: &dyn Platform,
) -> Result<Value, CmdError> {
    let argument = field.name;
    let invalid = CmdError::InvalidValue { argument };
    let no_match = CmdError::NoMatch { argument };
    let ranged = |n: u64, min: u64, max: u64| {
        if n < min || n > max {
            Err(CmdError::OutOfRange { argument, min, max })
        } else {
            Ok(Value::Int(n))
        }
    };
    match field.kind {
        Kind::Text => Ok(Value::Text(String::from(text))),
        Kind::Name => {
            if text.is_empty() || text.chars().any(char::is_control) {
                Err(invalid)
            } else if text.chars().count() > MAX_NAME_LEN {
                Err(CmdError::TooLong {
                    argument,
                    max: MAX_NAME_LEN,
                })
            } else {
                Ok(Value::Text(String::from(text)))
            }
        }
        Kind::Bool => match text {
            "yes" | "true" => Ok(Value::Bool(true)),
            "no" | "false" => Ok(Value::Bool(false)),
            _ => Err(invalid),
        },
        Kind::Int { min, max, unit } => {
            ranged(value::parse_with_unit(text, unit).ok_or(invalid)?, min, max)
        }
        Kind::IntOr {
            min,
            max,
            unit,
            word,
        } => {
            if text == word {
                return Ok(Value::Word(word));
            }
            ranged(value::parse_with_unit(text, unit).ok_or(invalid)?, min, max)
        }
        Kind::Choice(choices) => match_choice(choices, text).map(Value::Word).ok_or(no_match),
        Kind::Mac => value::parse_mac(text).map(Value::Mac).ok_or(invalid),
        Kind::Ipv4 => value::parse_ipv4(text).map(Value::Ipv4).ok_or(invalid),
        Kind::Ipv4Prefix => value::parse_ipv4_prefix(text)
            .map(|(a, l)| Value::Ipv4Prefix(a, l))
            .ok_or(invalid),
        Kind::Ipv6Prefix => value::parse_ipv6_prefix(text)
            .map(|(a, l)| Value::Ipv6Prefix(a, l))
            .ok_or(invalid),
        Kind::Duration { min, max } => {
            let secs = value::parse_duration(text).ok_or(invalid)?;
            ranged(secs, min, max)
        }
        Kind::Ref(kind) => resolve_ref(kind, text, config, platform).ok_or(no_match),
        Kind::RefOr(kind, word) => {
            if text == word {
                return Ok(Value::Word(word));
            }
            resolve_ref(kind, text, config, platform).ok_or(no_match)
        }
        Kind::Gateways { v6 } => {
            let mut missing = Vec::new();
            let gateways: Option<Vec<Gateway>> = text
                .split(',')
                .map(|part| super::gateway::parse_gateway(part, v6, config, &mut missing))
                .collect();
            gateways
                .filter(|g| !g.is_empty())
                .map(|g| Value::Gateways(g, missing))
                .ok_or(invalid)
        }
        Kind::AnyPrefix => {
            if let Some((addr, len)) = value::parse_ipv4_prefix(text) {
                Ok(Value::Prefix(IpAddress::V4(addr), len))
            } else if let Some((addr, len)) = value::parse_ipv6_prefix(text) {
                Ok(Value::Prefix(IpAddress::V6(addr), len))
            } else {
                Err(invalid)
            }
        }
        Kind::Flag => match text {
            "yes" | "true" => Ok(Value::Bool(true)),
            "no" | "false" => Ok(Value::Bool(false)),
            _ => Err(invalid),
        },
    }
}

/// The fixed values a field can take (for completion and `?`).
pub fn value_choices(field: &Field, config: &Config, platform: &dyn Platform) -> Vec<String> {
    let mut out: Vec<String> = match field.kind {
        Kind::Bool => alloc::vec![String::from("yes"), String::from("no")],
        Kind::Choice(choices) => choices.iter().map(|c| String::from(*c)).collect(),
        Kind::IntOr { word, .. } => alloc::vec![String::from(word)],
        Kind::Ref(kind) => ref_names(kind, config, platform),
        Kind::RefOr(kind, word) => {
            let mut names = ref_names(kind, config, platform);
            names.insert(0, String::from(word));
            names
        }
        Kind::Gateways { .. } => ref_names(RefKind::Interface, config, platform),
        Kind::Flag => alloc::vec![String::from("yes"), String::from("no")],
        _ => Vec::new(),
    };
    out.dedup();
    out
}
