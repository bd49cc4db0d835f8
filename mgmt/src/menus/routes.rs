//! Configuration side of `/ip route`, `/ipv6 route`, `/routing table` and `/routing rule`:
//! argument handling, validation and export of static routes, tables and rules. What `print`
//! shows (connected routes, active/inactive, immediate gateways) comes from the routing crate's
//! RIB, built from this configuration in `menus::rib_view`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::args::{Args, Value};
use crate::cli::error::CmdError;
use crate::config::{same_name, Config, Gateway, ItemId, RoutingRule, RoutingTable, StaticRoute};
use crate::network::IpAddress;
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::{format_ipv4, format_ipv6, quote_if_needed};

/// Formats an address.
pub fn address_text(addr: &IpAddress) -> String {
    match addr {
        IpAddress::V4(a) => format_ipv4(*a),
        IpAddress::V6(a) => format_ipv6(a),
    }
}

/// Formats a prefix (`10.0.0.0/24`, `::/0`).
pub fn prefix_text(addr: &IpAddress, len: u8) -> String {
    format!("{}/{}", address_text(addr), len)
}

/// Formats a gateway list as configured (`10.0.0.1,ether1`, `10.0.0.1%ether1`).
pub fn gateways_text(config: &Config, gateways: &[Gateway]) -> String {
    let parts: Vec<String> = gateways
        .iter()
        .map(|g| match g {
            Gateway::Address(a) => address_text(a),
            Gateway::Interface(i) => config.iface_label(*i),
            Gateway::AddressOnInterface(a, i) => {
                format!("{}%{}", address_text(a), config.iface_label(*i))
            }
        })
        .collect();
    parts.join(",")
}

fn masked(addr: IpAddress, len: u8) -> IpAddress {
    match addr {
        IpAddress::V4(a) => IpAddress::V4(crate::value::ipv4_network(a, len)),
        IpAddress::V6(a) => IpAddress::V6(crate::value::ipv6_network(a, len)),
    }
}

/// A new static route of the family with RouterOS defaults (`0.0.0.0/0` or `::/0`).
pub fn default_route(id: ItemId, v6: bool) -> StaticRoute {
    StaticRoute {
        id,
        dst: if v6 {
            IpAddress::V6([0; 16])
        } else {
            IpAddress::V4([0; 4])
        },
        dst_len: 0,
        gateways: Vec::new(),
        route_type: "unicast",
        distance: 1,
        scope: 30,
        target_scope: 10,
        table: String::from("main"),
        pref_src: None,
        disabled: false,
        comment: String::new(),
    }
}

/// Applies `add`/`set` arguments to a route and checks it on its own: a unicast route needs a
/// gateway. (A route that differs from another only in `comment` or `disabled` is refused when
/// the change is committed, against the routes to the same destination: `crate::rib_state`.
/// Gateways
/// that cannot be next hops, `0.0.0.0`, broadcast, multicast, are refused by the parser; a
/// `dst-address` with host bits is stored as its network, `10.0.0.1/8` as `10.0.0.0/8`.)
pub fn apply_route(_config: &Config, route: &mut StaticRoute, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("comment", Value::Text(t)) => route.comment = t.clone(),
            ("disabled", Value::Bool(b)) => route.disabled = *b,
            ("distance", Value::Int(n)) => route.distance = *n as u8,
            ("dst-address", Value::Ipv4Prefix(a, l)) => {
                route.dst = masked(IpAddress::V4(*a), *l);
                route.dst_len = *l;
            }
            ("dst-address", Value::Ipv6Prefix(a, l)) => {
                route.dst = masked(IpAddress::V6(*a), *l);
                route.dst_len = *l;
            }
            ("gateway", Value::Gateways(g, _)) => route.gateways = g.clone(),
            ("pref-src", Value::Ipv4(a)) => route.pref_src = Some(IpAddress::V4(*a)),
            ("routing-table", Value::Name(t)) => route.table = t.clone(),
            ("scope", Value::Int(n)) => route.scope = *n as u8,
            ("target-scope", Value::Int(n)) => route.target_scope = *n as u8,
            ("type", Value::Word(w)) => route.route_type = w,
            _ => {}
        }
    }
    if route.route_type == "unicast" && route.gateways.is_empty() {
        return Err(CmdError::Missing {
            arguments: String::from("gateway"),
        });
    }
    Ok(())
}

/// Whether two routes are the same route: everything but id, comment and disabled equal
/// (RouterOS refuses such a route: `already have such route`; `crate::rib_state` checks it
/// against the routes to the same destination). The pattern names every field, so a new one
/// must be placed here.
pub fn same_route(a: &StaticRoute, b: &StaticRoute) -> bool {
    let StaticRoute {
        id,
        dst,
        dst_len,
        ref gateways,
        route_type,
        distance,
        scope,
        target_scope,
        ref table,
        pref_src,
        disabled: _,
        comment: _,
    } = *a;
    b.id != id
        && b.dst == dst
        && b.dst_len == dst_len
        && b.gateways == *gateways
        && b.route_type == route_type
        && b.distance == distance
        && b.scope == scope
        && b.target_scope == target_scope
        && b.table == *table
        && b.pref_src == pref_src
}

/// A gateway list as `export` writes it: gone interfaces by the name they remember.
fn gateways_export(config: &Config, gateways: &[Gateway]) -> String {
    let name = |i: &crate::config::IfaceRef| {
        config
            .ref_name(*i)
            .map_or_else(|| config.iface_label(*i), String::from)
    };
    let parts: Vec<String> = gateways
        .iter()
        .map(|g| match g {
            Gateway::Address(a) => address_text(a),
            Gateway::Interface(i) => name(i),
            Gateway::AddressOnInterface(a, i) => format!("{}%{}", address_text(a), name(i)),
        })
        .collect();
    parts.join(",")
}

/// The `add` line of a route for export.
pub fn export_route(config: &Config, r: &StaticRoute) -> String {
    let mut line = String::from("add");
    push_comment(&mut line, &r.comment);
    push_disabled(&mut line, r.disabled);
    if r.distance != 1 {
        push_pair(&mut line, "distance", &r.distance);
    }
    push_pair(&mut line, "dst-address", &prefix_text(&r.dst, r.dst_len));
    if !r.gateways.is_empty() {
        push_pair(&mut line, "gateway", &gateways_export(config, &r.gateways));
    }
    if let Some(src) = &r.pref_src {
        push_pair(&mut line, "pref-src", &address_text(src));
    }
    if r.table != "main" {
        push_pair(&mut line, "routing-table", &quote_if_needed(&r.table));
    }
    if r.scope != 30 {
        push_pair(&mut line, "scope", &r.scope);
    }
    if r.target_scope != 10 {
        push_pair(&mut line, "target-scope", &r.target_scope);
    }
    if r.route_type != "unicast" {
        push_pair(&mut line, "type", &r.route_type);
    }
    line
}

/// Applies `/routing table` arguments.
pub fn apply_table(config: &Config, table: &mut RoutingTable, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("comment", Value::Text(t)) => table.comment = t.clone(),
            ("fib", Value::Bool(b)) => table.fib = *b,
            ("name", Value::Text(n)) => table.name = n.clone(),
            _ => {}
        }
    }
    if same_name(&table.name, "main")
        || config
            .routing_tables
            .iter()
            .any(|t| t.id != table.id && same_name(&t.name, &table.name))
    {
        return Err(CmdError::failure(
            "already have routing table with such name",
        ));
    }
    Ok(())
}

/// What uses routing table `name`, for the refusal to remove it (`route 10.4.0.0/16`, `routing
/// rule *5`), if anything does. (Routes and rules name tables by name; a route whose table
/// were gone would otherwise fall back to `main`.)
pub fn table_user(config: &Config, name: &str) -> Option<String> {
    if let Some(r) = config.routes.iter().find(|r| r.table == name) {
        return Some(format!("route {}", prefix_text(&r.dst, r.dst_len)));
    }
    config
        .routing_rules
        .iter()
        .find(|r| {
            (matches!(r.action, "lookup" | "lookup-only-in-table") && r.table == name)
                || r.routing_mark.as_deref() == Some(name)
        })
        .map(|r| format!("routing rule *{:X}", r.id))
}

/// Renames references to a routing table.
pub fn rename_table(config: &mut Config, from: &str, to: &str) {
    config
        .routes
        .update_where(|r| r.table == from, |r| r.table = String::from(to));
    let uses = |r: &RoutingRule| r.table == from || r.routing_mark.as_deref() == Some(from);
    config.routing_rules.update_where(uses, |rule| {
        if rule.table == from {
            rule.table = String::from(to);
        }
        if rule.routing_mark.as_deref() == Some(from) {
            rule.routing_mark = Some(String::from(to));
        }
    });
}

/// Applies `/routing rule` arguments (a rule is checked on its own: the configuration is not
/// needed).
pub fn apply_rule(_config: &Config, rule: &mut RoutingRule, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("action", Value::Word(w)) => rule.action = w,
            ("comment", Value::Text(t)) => rule.comment = t.clone(),
            ("disabled", Value::Bool(b)) => rule.disabled = *b,
            ("dst-address", Value::Prefix(a, l)) => rule.dst = Some((masked(*a, *l), *l)),
            ("interface", Value::Iface(i)) => rule.interface = Some(*i),
            ("interface", _) => rule.interface = None,
            ("routing-mark", Value::Name(t)) => rule.routing_mark = Some(t.clone()),
            ("routing-mark", _) => rule.routing_mark = None,
            ("src-address", Value::Prefix(a, l)) => rule.src = Some((masked(*a, *l), *l)),
            ("table", Value::Name(t)) => rule.table = t.clone(),
            _ => {}
        }
    }
    let family = |p: &Option<(IpAddress, u8)>| p.map(|(a, _)| matches!(a, IpAddress::V6(_)));
    if let (Some(a), Some(b)) = (family(&rule.src), family(&rule.dst)) {
        if a != b {
            return Err(CmdError::failure(
                "src-address and dst-address are of different families",
            ));
        }
    }
    Ok(())
}

/// The `add` line of a rule for export.
pub fn export_rule(config: &Config, r: &RoutingRule) -> String {
    let mut line = format!("add action={}", r.action);
    push_comment(&mut line, &r.comment);
    push_disabled(&mut line, r.disabled);
    if let Some((a, l)) = &r.dst {
        push_pair(&mut line, "dst-address", &prefix_text(a, *l));
    }
    if let Some(i) = r.interface.and_then(|i| config.ref_name(i)) {
        push_pair(&mut line, "interface", &quote_if_needed(i));
    }
    if let Some(mark) = &r.routing_mark {
        push_pair(&mut line, "routing-mark", &quote_if_needed(mark));
    }
    if let Some((a, l)) = &r.src {
        push_pair(&mut line, "src-address", &prefix_text(a, *l));
    }
    if matches!(r.action, "lookup" | "lookup-only-in-table") {
        push_pair(&mut line, "table", &quote_if_needed(&r.table));
    }
    line
}
