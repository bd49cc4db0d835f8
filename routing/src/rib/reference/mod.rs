//! The full-recomputation RIB: the RIB as it was before it became incremental. Every change
//! is applied to a copy of the configuration and then every table is recomputed (records,
//! print order, selection, resolution by a scan of `main`, local addresses, FIB diff); a change
//! that cannot be installed restores the copy. It is kept, with the same API and semantics as
//! [`crate::rib::Rib`], as the oracle the incremental RIB is checked against after every step
//! of the property and fuzz tests, and as the baseline of `benches/rib`. Only built for tests
//! and with the `reference` feature.

mod decide;
mod resolve;
mod snapshot;
mod sync;

use super::hops::NextHopTable;
use super::sorted_map::SortedMap;
use super::types::*;
use super::RibConfig;
use crate::fib::{Fib4, Fib6, NextHop};
use crate::prefix::{Afi, Prefix};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use resolve::{Record, RouteState};

#[derive(Clone, Debug)]
struct ConfiguredRoute {
    origin: Origin,
    spec: RouteSpec,
}

#[derive(Clone, Debug)]
struct ConfiguredAddress {
    spec: AddressSpec,
    /// The id its connected route has whenever it exists.
    route: RouteId,
}

#[derive(Clone, Debug)]
struct ConfiguredTable {
    name: String,
    fib: bool,
}

/// The user's configuration: everything else is derived from it.
#[derive(Clone, Debug, Default)]
struct Config {
    interfaces: SortedMap<IfId, InterfaceState>,
    /// Ids only grow, so new entries go at the end.
    addresses: SortedMap<AddressId, ConfiguredAddress>,
    routes: SortedMap<RouteId, ConfiguredRoute>,
    tables: SortedMap<TableId, ConfiguredTable>,
    rules: Vec<(RuleId, RuleSpec)>,
    next_route: u32,
    next_address: u32,
    next_rule: u32,
    next_table: u16,
}

/// A table's forwarding state: one FIB per family (none in a RIB without FIBs) and what is
/// installed in them.
struct TableFib {
    fib: Option<Box<Fibs>>,
    installed: SortedMap<Prefix, NextHop>,
}

struct Fibs {
    v4: Fib4,
    v6: Fib6,
}

/// The full-recomputation RIB (see the module documentation).
pub struct ReferenceRib {
    limits: RibConfig,
    config: Config,
    /// All routes, connected ones included, sorted by id.
    records: Vec<Record>,
    /// Parallel to `records`.
    states: Vec<RouteState>,
    /// Indexes into `records` by table, destination, destination interface and id: the print
    /// order, in which the routes to one destination are adjacent.
    order: Vec<u32>,
    /// The router's own addresses (enabled ones), sorted.
    local: Vec<IpAddr>,
    /// One per table with `fib`.
    fibs: SortedMap<TableId, TableFib>,
    hops: NextHopTable,
    /// Inside [`ReferenceRib::batch`]: changes are not recomputed one by one.
    deferred: bool,
}

impl ReferenceRib {
    /// An empty RIB with the `main` table (its FIBs are allocated now).
    pub fn new(limits: RibConfig) -> ReferenceRib {
        let mut config = Config {
            next_table: 1,
            ..Config::default()
        };
        config.tables.insert(
            TableId::MAIN,
            ConfiguredTable {
                name: String::from("main"),
                fib: true,
            },
        );
        let mut rib = ReferenceRib {
            limits,
            config,
            records: Vec::new(),
            states: Vec::new(),
            order: Vec::new(),
            local: Vec::new(),
            fibs: SortedMap::default(),
            hops: NextHopTable::default(),
            deferred: false,
        };
        rib.match_tables();
        rib
    }

    // ---- interfaces ----

    /// Adds or updates an interface; connected routes follow its `running` state.
    pub fn set_interface(&mut self, id: IfId, state: InterfaceState) -> Result<(), RibError> {
        self.change(|c| {
            c.interfaces.insert(id, state);
            Ok(())
        })
    }

    /// Forgets an interface: its addresses become invalid and routes through it unreachable.
    pub fn remove_interface(&mut self, id: IfId) -> Result<(), RibError> {
        self.change(|c| {
            c.interfaces
                .remove(&id)
                .map(|_| ())
                .ok_or(RibError::NoSuchInterface)
        })
    }

    pub fn interface(&self, id: IfId) -> Option<InterfaceState> {
        self.config.interfaces.get(&id).copied()
    }

    // ---- addresses ----

    /// `/ip address add`: also creates the connected route (`DAC`) for its network.
    pub fn add_address(&mut self, spec: AddressSpec) -> Result<AddressId, RibError> {
        check_address(&spec)?;
        if self.config.addresses.len() >= self.limits.max_addresses {
            return Err(RibError::Full(Resource::Addresses));
        }
        let max_routes = self.limits.max_routes;
        self.change(|c| {
            if c.routes.len() + c.addresses.len() >= max_routes {
                return Err(RibError::Full(Resource::Routes));
            }
            let id = AddressId(c.next_address);
            c.next_address += 1;
            let route = RouteId(c.next_route);
            c.next_route += 1;
            c.addresses.insert(id, ConfiguredAddress { spec, route });
            Ok(id)
        })
    }

    pub fn set_address(&mut self, id: AddressId, spec: AddressSpec) -> Result<(), RibError> {
        check_address(&spec)?;
        self.change(|c| {
            let a = c.addresses.get_mut(&id).ok_or(RibError::NoSuchAddress)?;
            a.spec = spec;
            Ok(())
        })
    }

    pub fn set_address_disabled(&mut self, id: AddressId, disabled: bool) -> Result<(), RibError> {
        self.change(|c| {
            c.addresses
                .get_mut(&id)
                .ok_or(RibError::NoSuchAddress)?
                .spec
                .disabled = disabled;
            Ok(())
        })
    }

    pub fn remove_address(&mut self, id: AddressId) -> Result<(), RibError> {
        self.change(|c| {
            c.addresses
                .remove(&id)
                .map(|_| ())
                .ok_or(RibError::NoSuchAddress)
        })
    }

    // ---- routes ----

    /// `/ip route add` (a static route).
    pub fn add_route(&mut self, spec: RouteSpec) -> Result<RouteId, RibError> {
        self.add_dynamic_route(Origin::Static, spec)
    }

    /// A route from another source (a DHCP client's default route, a VPN): shown with `D` and
    /// its protocol flag, not editable through [`ReferenceRib::set_route`]. `Origin::Connected` is
    /// refused: connected routes come from addresses.
    pub fn add_dynamic_route(
        &mut self,
        origin: Origin,
        spec: RouteSpec,
    ) -> Result<RouteId, RibError> {
        if origin == Origin::Connected {
            return Err(RibError::NotEditable);
        }
        self.check_route(&spec)?;
        let max_routes = self.limits.max_routes;
        self.change(|c| {
            if c.routes.len() + c.addresses.len() >= max_routes {
                return Err(RibError::Full(Resource::Routes));
            }
            let id = RouteId(c.next_route);
            c.next_route += 1;
            c.routes.insert(id, ConfiguredRoute { origin, spec });
            Ok(id)
        })
    }

    /// Replaces a static route's whole configuration (read it with [`ReferenceRib::route_spec`]).
    pub fn set_route(&mut self, id: RouteId, spec: RouteSpec) -> Result<(), RibError> {
        self.check_route(&spec)?;
        self.change(|c| {
            let missing = not_a_route(c, id);
            let r = c.routes.get_mut(&id).ok_or(missing)?;
            if r.origin != Origin::Static {
                return Err(RibError::NotEditable);
            }
            r.spec = spec;
            Ok(())
        })
    }

    /// Disables or enables a static route.
    pub fn set_route_disabled(&mut self, id: RouteId, disabled: bool) -> Result<(), RibError> {
        self.change(|c| {
            let missing = not_a_route(c, id);
            let r = c.routes.get_mut(&id).ok_or(missing)?;
            if r.origin != Origin::Static {
                return Err(RibError::NotEditable);
            }
            r.spec.disabled = disabled;
            Ok(())
        })
    }

    /// Removes a static or dynamic route (connected routes go with their address).
    pub fn remove_route(&mut self, id: RouteId) -> Result<(), RibError> {
        self.change(|c| {
            c.routes
                .remove(&id)
                .map(|_| ())
                .ok_or_else(|| not_a_route(c, id))
        })
    }

    /// Whether route `id` (connected ones included) exists.
    pub(crate) fn has_route(&self, id: RouteId) -> bool {
        self.records.binary_search_by_key(&id, |r| r.id).is_ok()
    }

    /// The configuration of a static or dynamic route.
    pub fn route_spec(&self, id: RouteId) -> Option<&RouteSpec> {
        self.config.routes.get(&id).map(|r| &r.spec)
    }

    // ---- tables ----

    /// `/routing table add name=... [fib]`. A table with `fib` gets its FIBs now.
    pub fn add_table(&mut self, name: &str, fib: bool) -> Result<TableId, RibError> {
        if self.config.tables.values().any(|t| t.name == name) {
            return Err(RibError::DuplicateName);
        }
        if self.config.tables.len() >= self.limits.max_tables {
            return Err(RibError::Full(Resource::Tables));
        }
        let id = TableId(self.config.next_table);
        self.config.next_table += 1;
        self.config.tables.insert(
            id,
            ConfiguredTable {
                name: String::from(name),
                fib,
            },
        );
        self.match_tables();
        Ok(id)
    }

    /// Removes a table no route or rule uses (`main` stays).
    pub fn remove_table(&mut self, id: TableId) -> Result<(), RibError> {
        if id == TableId::MAIN {
            return Err(RibError::TableInUse);
        }
        if !self.config.tables.contains_key(&id) {
            return Err(RibError::NoSuchTable);
        }
        let used_by_route = self.config.routes.values().any(|r| r.spec.table == id);
        let used_by_rule = self
            .config
            .rules
            .iter()
            .any(|(_, r)| rule_table(r) == Some(id) || r.routing_mark == Some(id));
        if used_by_route || used_by_rule {
            return Err(RibError::TableInUse);
        }
        self.config.tables.remove(&id);
        self.match_tables();
        Ok(())
    }

    pub fn table_by_name(&self, name: &str) -> Option<TableId> {
        self.config
            .tables
            .iter()
            .find(|(_, t)| t.name == name)
            .map(|(id, _)| id)
    }

    pub fn table_name(&self, id: TableId) -> Option<&str> {
        self.config.tables.get(&id).map(|t| t.name.as_str())
    }

    // ---- rules ----

    /// `/routing rule add`: appended after the existing rules.
    pub fn add_rule(&mut self, spec: RuleSpec) -> Result<RuleId, RibError> {
        self.check_rule(&spec)?;
        if self.config.rules.len() >= self.limits.max_rules {
            return Err(RibError::Full(Resource::Rules));
        }
        let id = RuleId(self.config.next_rule);
        self.config.next_rule += 1;
        self.config.rules.push((id, spec));
        Ok(id)
    }

    pub fn set_rule(&mut self, id: RuleId, spec: RuleSpec) -> Result<(), RibError> {
        self.check_rule(&spec)?;
        let r = self
            .config
            .rules
            .iter_mut()
            .find(|(i, _)| *i == id)
            .ok_or(RibError::NoSuchRule)?;
        r.1 = spec;
        Ok(())
    }

    pub fn set_rule_disabled(&mut self, id: RuleId, disabled: bool) -> Result<(), RibError> {
        let r = self
            .config
            .rules
            .iter_mut()
            .find(|(i, _)| *i == id)
            .ok_or(RibError::NoSuchRule)?;
        r.1.disabled = disabled;
        Ok(())
    }

    /// Moves a rule before `before` (`None`: to the end).
    pub fn move_rule(&mut self, id: RuleId, before: Option<RuleId>) -> Result<(), RibError> {
        let from = self
            .config
            .rules
            .iter()
            .position(|(i, _)| *i == id)
            .ok_or(RibError::NoSuchRule)?;
        if let Some(b) = before {
            if !self.config.rules.iter().any(|(i, _)| *i == b) {
                return Err(RibError::NoSuchRule);
            }
        }
        let rule = self.config.rules.remove(from);
        let to = match before {
            Some(b) => self
                .config
                .rules
                .iter()
                .position(|(i, _)| *i == b)
                .unwrap_or(self.config.rules.len()),
            None => self.config.rules.len(),
        };
        self.config.rules.insert(to, rule);
        Ok(())
    }

    pub fn remove_rule(&mut self, id: RuleId) -> Result<(), RibError> {
        let at = self
            .config
            .rules
            .iter()
            .position(|(i, _)| *i == id)
            .ok_or(RibError::NoSuchRule)?;
        self.config.rules.remove(at);
        Ok(())
    }

    // ---- validation ----

    fn check_route(&self, spec: &RouteSpec) -> Result<(), RibError> {
        if !self.config.tables.contains_key(&spec.table) {
            return Err(RibError::NoSuchTable);
        }
        let afi = spec.dst.afi();
        let unicast = spec.route_type == RouteType::Unicast;
        if unicast == spec.gateways.is_empty() {
            return Err(RibError::BadGateways);
        }
        for g in &spec.gateways {
            match *g {
                Gateway::Address(a) | Gateway::AddressOnInterface(a, _) if Afi::of(a) != afi => {
                    return Err(RibError::AfiMismatch)
                }
                _ => {}
            }
        }
        if spec.pref_src.is_some_and(|a| Afi::of(a) != afi) {
            return Err(RibError::AfiMismatch);
        }
        Ok(())
    }

    fn check_rule(&self, spec: &RuleSpec) -> Result<(), RibError> {
        if let (Some(s), Some(d)) = (spec.src, spec.dst) {
            if s.afi() != d.afi() {
                return Err(RibError::AfiMismatch);
            }
        }
        for t in [rule_table(spec), spec.routing_mark].into_iter().flatten() {
            if !self.config.tables.contains_key(&t) {
                return Err(RibError::NoSuchTable);
            }
        }
        Ok(())
    }
}

fn not_a_route(c: &Config, id: RouteId) -> RibError {
    if c.addresses.values().any(|a| a.route == id) {
        RibError::NotEditable
    } else {
        RibError::NoSuchRoute
    }
}

fn check_address(spec: &AddressSpec) -> Result<(), RibError> {
    Prefix::new(spec.address, spec.prefix_len)
        .map(|_| ())
        .map_err(|_| RibError::InvalidPrefix)
}

fn rule_table(r: &RuleSpec) -> Option<TableId> {
    match r.action {
        RuleAction::Lookup(t) | RuleAction::LookupOnlyInTable(t) => Some(t),
        RuleAction::Drop | RuleAction::Unreachable => None,
    }
}
