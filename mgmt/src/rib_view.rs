//! Builds a `routing::Rib` from a [`NetworkConfig`]: what the route menus print, and what the
//! hypervisor can use for forwarding (it calls [`build_rib`] with its own limits and link
//! states, then keeps the RIB's interface states current with `Rib::set_interface`).
//!
//! The management plane builds one for every route print and every change that touches
//! routing, with [`limits_for`]: a RIB without FIBs (`RibConfig::fibs` false), so a build
//! costs memory in proportion to the configuration (no FIB tables), and one recomputation
//! (`Rib::batch`), not one per item.

use alloc::string::String;
use alloc::vec::Vec;

use routing::{
    AddressSpec, IfId, InterfaceState, Resource, Rib, RibConfig, RibError, RouteId, RuleAction,
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

/// Limits for a view of `net`: the default limits, room for its tables, and no FIBs (the
/// hypervisor picks its own limits, with FIBs, for forwarding).
pub fn limits_for(net: &NetworkConfig) -> RibConfig {
    RibConfig {
        max_tables: net.tables.len() + 1,
        fibs: false,
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
    let (routes, rules) = rib.batch(|rib| load(rib, net, running))?;
    Ok(RibBuild { rib, routes, rules })
}

/// The changes that make an empty RIB hold `net`: the ids of its routes and rules.
fn load(
    rib: &mut Rib,
    net: &NetworkConfig,
    running: &dyn Fn(usize) -> bool,
) -> Result<(Vec<RouteId>, Vec<RuleId>), RibError> {
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
    Ok((routes, rules))
}

/// Why the RIB refused a configuration, for `failure:` messages. (Spelled out rather than
/// formatted with `Debug`, which would put the derived formatters in the image.)
pub fn rib_error_text(error: RibError) -> String {
    String::from(match error {
        RibError::AfiMismatch => "gateway or source address of another address family",
        RibError::BadGateways => "a unicast route needs a gateway, other types take none",
        RibError::InvalidPrefix => "invalid prefix",
        RibError::DuplicateName => "already have routing table with such name",
        RibError::TableInUse => "routing table is in use",
        RibError::Full(Resource::Routes) => "routing table full (Routes)",
        RibError::Full(Resource::Addresses) => "routing table full (Addresses)",
        RibError::Full(Resource::Rules) => "routing table full (Rules)",
        RibError::Full(Resource::Tables) => "routing table full (Tables)",
        RibError::Full(Resource::Fib) => "routing table full (Fib)",
        RibError::Full(Resource::NextHops) => "routing table full (NextHops)",
        RibError::NoSuchRoute => "routing: NoSuchRoute",
        RibError::NoSuchAddress => "routing: NoSuchAddress",
        RibError::NoSuchRule => "routing: NoSuchRule",
        RibError::NoSuchTable => "routing: NoSuchTable",
        RibError::NoSuchInterface => "routing: NoSuchInterface",
        RibError::NotEditable => "routing: NotEditable",
    })
}
