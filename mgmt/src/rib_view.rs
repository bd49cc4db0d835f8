//! Builds a `routing::Rib` from a [`NetworkConfig`]: what the route menus print, and what the
//! hypervisor can use for forwarding (it calls [`build_rib`] with its own limits and link
//! states, then keeps the RIB's interface states current with `Rib::set_interface`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use routing::{
    AddressSpec, FibConfig, IfId, InterfaceState, Rib, RibConfig, RibError, RouteId, RuleAction,
    RuleId, TableId,
};

use crate::network::NetworkConfig;
use crate::network_derive::ip_addr;

/// A RIB and the ids it gave to the configured routes and rules (parallel to
/// `NetworkConfig::routes` and `rules`).
pub struct RibBuild {
    pub rib: Rib,
    pub routes: Vec<RouteId>,
    pub rules: Vec<RuleId>,
}

/// Limits sized for `net` (for a view; the hypervisor picks its own).
pub fn limits_for(net: &NetworkConfig) -> RibConfig {
    let prefixes = net.routes.len() + net.addresses.len() + 16;
    RibConfig {
        fib_v4: FibConfig::ipv4_prefixes(prefixes),
        fib_v6: FibConfig::ipv6_prefixes(prefixes),
        max_tables: net.tables.len() + 1,
        ..RibConfig::default()
    }
}

/// Builds the RIB of `net`. `running(i)` says whether interface `i` is up (disabled interfaces
/// are down whatever it says).
pub fn build_rib(
    net: &NetworkConfig,
    limits: RibConfig,
    running: &dyn Fn(usize) -> bool,
) -> Result<RibBuild, RibError> {
    let mut rib = Rib::new(limits);
    for (i, iface) in net.interfaces.iter().enumerate() {
        let state = InterfaceState {
            running: iface.enabled && running(i),
            point_to_point: false,
        };
        rib.set_interface(IfId(i as u16), state)?;
    }
    let mut tables = Vec::with_capacity(net.tables.len());
    for table in &net.tables {
        tables.push(rib.add_table(&table.name, table.fib)?);
    }
    let remap = |t: TableId| {
        if t == TableId::MAIN {
            t
        } else {
            tables.get(usize::from(t.0) - 1).copied().unwrap_or(t)
        }
    };
    for a in &net.addresses {
        rib.add_address(AddressSpec::new(
            ip_addr(a.address),
            a.prefix_len,
            IfId(a.interface as u16),
        ))?;
    }
    let mut routes = Vec::with_capacity(net.routes.len());
    for spec in &net.routes {
        let mut spec = spec.clone();
        spec.table = remap(spec.table);
        routes.push(rib.add_route(spec)?);
    }
    let mut rules = Vec::with_capacity(net.rules.len());
    for spec in &net.rules {
        let mut spec = spec.clone();
        spec.action = match spec.action {
            RuleAction::Lookup(t) => RuleAction::Lookup(remap(t)),
            RuleAction::LookupOnlyInTable(t) => RuleAction::LookupOnlyInTable(remap(t)),
            other => other,
        };
        spec.routing_mark = spec.routing_mark.map(remap);
        rules.push(rib.add_rule(spec)?);
    }
    Ok(RibBuild { rib, routes, rules })
}

/// Why the RIB refused a configuration, for `failure:` messages.
pub fn rib_error_text(error: RibError) -> String {
    match error {
        RibError::AfiMismatch => {
            String::from("gateway or source address of another address family")
        }
        RibError::BadGateways => {
            String::from("a unicast route needs a gateway, other types take none")
        }
        RibError::InvalidPrefix => String::from("invalid prefix"),
        RibError::DuplicateName => String::from("already have routing table with such name"),
        RibError::TableInUse => String::from("routing table is in use"),
        RibError::Full(resource) => format!("routing table full ({resource:?})"),
        other => format!("routing: {other:?}"),
    }
}
