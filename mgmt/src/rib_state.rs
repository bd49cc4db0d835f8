//! The RIB of the live configuration, kept in step with it change by change.
//!
//! The shell owns one [`RibState`]: a `routing::Rib` holding the configured interfaces (with
//! their running state), addresses (connected routes), static routes, routing tables and rules,
//! and the maps between configuration items and RIB ids. A committed command updates only what
//! it changed ([`RibState::apply`]): adding a route to a table of thousands costs one RIB
//! change, not a rebuild. The route menus print from it, and the link states are refreshed from
//! the platform by [`RibState::refresh_links`].
//!
//! Interfaces get stable RIB ids: port `n` is `IfId(n)`, every bridge and vif gets the next free
//! id above the ports when first seen and keeps it. A reference to a gone interface is
//! [`GONE`], which the RIB does not know: an address there is invalid and gives no connected
//! route, a route through it is inactive.
//!
//! The live RIB carries the FIBs the data plane forwards with (`Rib::decide_ecmp`), with
//! capacities fixed at boot from the platform's routing memory ([`live_limits`],
//! `crate::rib_limits`). A full FIB refuses nothing: a route that does not fit waits, shown
//! inactive (`I`, `inactive-reason=fib-full` in `/routing route print detail`), and is
//! installed when room appears.
//!
//! A change the RIB refuses (a limit) is undone whole: the changes made before it are reverted
//! in reverse order, and the command fails. Table changes (rare) rebuild the RIB from the
//! configuration: a rename or a `fib` change affects every route of the table (the old RIB,
//! FIBs included, is dropped once the new one is built, so that moment holds both).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use routing::{
    AddressId, AddressSpec, IfId, InterfaceState, Prefix, Resource, Rib, RibConfig, RibError,
    RouteId, RouteSpec, RouteType, RuleAction, RuleId, RuleSpec, TableId,
};

use crate::change::ChangeSet;
use crate::config::{Address, Config, Gateway, IfaceRef, ItemId, RoutingRule, StaticRoute};
use crate::menus::routes::same_route;
use crate::network::IpAddress;
use crate::network_derive::ip_addr;
use crate::platform::Platform;
use crate::route_view::{HostIndex, RouteView};

/// Why the RIB refused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A limit or a rule of the RIB.
    Rib(RibError),
    /// A static route the same as another in all but its comment and `disabled`.
    DuplicateRoute,
}

impl From<RibError> for Refused {
    fn from(error: RibError) -> Refused {
        Refused::Rib(error)
    }
}

impl Refused {
    /// The text after `failure: `.
    pub fn text(self) -> String {
        match self {
            Refused::Rib(error) => rib_error_text(error),
            Refused::DuplicateRoute => String::from("already have such route"),
        }
    }
}

/// The RIB id of a reference to an interface that is gone.
pub const GONE: IfId = IfId(u16::MAX);

/// The limits of a view of a configuration: the default limits, without FIBs (selection and
/// resolution exactly as the data plane's, in memory that grows with the configuration
/// only). For replaying saved scripts and for tests; the live RIB's limits come from the
/// platform ([`live_limits`]).
pub fn limits() -> RibConfig {
    RibConfig {
        fibs: false,
        ..RibConfig::default()
    }
}

/// The live RIB's limits: FIBs, with capacities from the platform's routing memory
/// (`crate::rib_limits`).
pub fn live_limits(platform: &dyn Platform) -> RibConfig {
    crate::rib_limits::limits_for(platform.routing_memory())
}

/// One RIB change made while applying a change set, and how to take it back.
enum Undo {
    RouteAdded(ItemId),
    RouteChanged(ItemId, RouteSpec),
    RouteRemoved(ItemId, RouteSpec),
    RuleAdded(ItemId),
    RuleChanged(ItemId, RuleSpec),
    AddressAdded(ItemId),
    AddressChanged(ItemId, AddressSpec),
    AddressRemoved(ItemId, AddressSpec),
    Interface(IfId, Option<InterfaceState>),
}

/// The configuration's RIB and the maps between its ids and the configuration's.
pub struct RibState {
    rib: Rib,
    /// Interfaces (ports, bridges, vifs) and their RIB ids; ports are `IfId(port)`.
    if_ids: BTreeMap<IfaceRef, IfId>,
    if_refs: BTreeMap<IfId, IfaceRef>,
    next_if: u16,
    routes: BTreeMap<ItemId, RouteId>,
    route_items: BTreeMap<RouteId, ItemId>,
    rules: BTreeMap<ItemId, RuleId>,
    addresses: BTreeMap<ItemId, AddressId>,
    /// The host's interface index of each RIB interface, for the data plane.
    host_index: HostIndex,
}

impl Default for RibState {
    fn default() -> Self {
        RibState::empty()
    }
}

impl RibState {
    /// A view with nothing in it, without FIBs ([`limits`]).
    pub fn empty() -> RibState {
        RibState::with_limits(limits())
    }

    /// A RIB with nothing in it and the given limits.
    pub fn with_limits(limits: RibConfig) -> RibState {
        RibState {
            rib: Rib::new(limits),
            if_ids: BTreeMap::new(),
            if_refs: BTreeMap::new(),
            next_if: 0,
            routes: BTreeMap::new(),
            route_items: BTreeMap::new(),
            rules: BTreeMap::new(),
            addresses: BTreeMap::new(),
            host_index: HostIndex::default(),
        }
    }

    /// The RIB of `config`, with link states from `platform` (one recomputation for all).
    pub fn build(config: &Config, platform: &dyn Platform) -> Result<RibState, RibError> {
        let limits = live_limits(platform);
        let mut state = RibState::with_limits(limits);
        state.next_if = config.ethernet.len() as u16;
        let mut rib = Rib::new(limits);
        rib.batch(|rib| {
            for table in config.routing_tables.iter() {
                rib.add_table(&table.name, table.fib)?;
            }
            for iface in config.interfaces() {
                let id = state.if_id_or_new(iface);
                rib.set_interface(id, link_state(config, platform, iface))?;
            }
            let v4 = config.ipv4_addresses.iter().map(address_parts);
            let v6 = config.ipv6_addresses.iter().map(address_parts);
            for (item, spec) in v4.chain(v6) {
                let spec = state.address_spec(spec);
                state.addresses.insert(item, rib.add_address(spec)?);
            }
            for route in config.routes.iter() {
                let id = rib.add_route(state.route_spec(rib, route))?;
                state.routes.insert(route.id, id);
                state.route_items.insert(id, route.id);
            }
            for rule in config.routing_rules.iter() {
                state
                    .rules
                    .insert(rule.id, rib.add_rule(state.rule_spec(rib, rule))?);
            }
            Ok(())
        })?;
        state.rib = rib;
        state.sync_host_index(config);
        Ok(state)
    }

    /// The RIB as the data plane's route source.
    pub fn routes(&self) -> RouteView<'_> {
        RouteView::new(self)
    }

    /// The map between the host's interface indexes and the RIB's ids.
    pub fn host_index(&self) -> &HostIndex {
        &self.host_index
    }

    /// Rebuilds that map for `config`'s interfaces (after they changed).
    pub fn sync_host_index(&mut self, config: &Config) {
        self.host_index = HostIndex::build(config, |iface| self.if_id(iface));
        // Decisions seen through the map may change: the data plane's kept ones go.
        self.rib.bump_generation();
    }

    /// The RIB (for the route menus).
    pub fn rib(&self) -> &Rib {
        &self.rib
    }

    /// The configured route behind RIB route `id` (`None` for connected and dynamic routes).
    pub fn route_item(&self, id: RouteId) -> Option<ItemId> {
        self.route_items.get(&id).copied()
    }

    /// The interface behind RIB interface `id`.
    pub fn interface(&self, id: IfId) -> Option<IfaceRef> {
        self.if_refs.get(&id).copied()
    }

    /// Brings the RIB in step with `new`, which differs from the configuration the RIB holds
    /// by `changes`. On error the RIB is as it was.
    pub fn apply(
        &mut self,
        new: &Config,
        changes: &ChangeSet,
        platform: &dyn Platform,
    ) -> Result<(), Refused> {
        if !changes.routing_tables.is_empty() {
            *self = RibState::build(new, platform)?;
            return Ok(());
        }
        let mut undo = Vec::new();
        let result = self.apply_steps(new, changes, platform, &mut undo);
        if result.is_err() {
            self.revert(undo);
        }
        result
    }

    fn apply_steps(
        &mut self,
        new: &Config,
        changes: &ChangeSet,
        platform: &dyn Platform,
        undo: &mut Vec<Undo>,
    ) -> Result<(), Refused> {
        if changes.touches_interfaces() {
            self.sync_interfaces(new, platform, undo)?;
        }
        let v4 = changes
            .ipv4_addresses
            .iter()
            .map(|&id| (id, new.ipv4_addresses.get(id).map(address_parts)));
        let v6 = changes
            .ipv6_addresses
            .iter()
            .map(|&id| (id, new.ipv6_addresses.get(id).map(address_parts)));
        let addresses: Vec<(ItemId, Option<(ItemId, AddressParts)>)> = v4.chain(v6).collect();
        for (item, now) in addresses {
            let spec = now.map(|(_, parts)| self.address_spec(parts));
            match (self.addresses.get(&item).copied(), spec) {
                (None, Some(spec)) => {
                    let id = self.rib.add_address(spec)?;
                    self.addresses.insert(item, id);
                    undo.push(Undo::AddressAdded(item));
                }
                (Some(id), Some(spec)) => {
                    let old = self.address_spec_of(id);
                    self.rib.set_address(id, spec)?;
                    undo.push(Undo::AddressChanged(item, old));
                }
                (Some(id), None) => {
                    let old = self.address_spec_of(id);
                    self.rib.remove_address(id)?;
                    self.addresses.remove(&item);
                    undo.push(Undo::AddressRemoved(item, old));
                }
                (None, None) => {}
            }
        }
        for &item in &changes.routes {
            if let Some(route) = new.routes.get(item) {
                self.refuse_duplicate(new, route)?;
            }
            let spec = new.routes.get(item).map(|r| self.route_spec(&self.rib, r));
            match (self.routes.get(&item).copied(), spec) {
                (None, Some(spec)) => {
                    let id = self.rib.add_route(spec)?;
                    self.routes.insert(item, id);
                    self.route_items.insert(id, item);
                    undo.push(Undo::RouteAdded(item));
                }
                (Some(id), Some(spec)) => {
                    let old = self
                        .rib
                        .route_spec(id)
                        .cloned()
                        .ok_or(RibError::NoSuchRoute)?;
                    self.rib.set_route(id, spec)?;
                    undo.push(Undo::RouteChanged(item, old));
                }
                (Some(id), None) => {
                    let old = self
                        .rib
                        .route_spec(id)
                        .cloned()
                        .ok_or(RibError::NoSuchRoute)?;
                    self.rib.remove_route(id)?;
                    self.routes.remove(&item);
                    self.route_items.remove(&id);
                    undo.push(Undo::RouteRemoved(item, old));
                }
                (None, None) => {}
            }
        }
        // Rules are evaluated in configuration order: a removed or added rule anywhere but at
        // the end changes the order, so rules are rebuilt when any is added or removed.
        let reorders = changes
            .routing_rules
            .iter()
            .any(|&item| new.routing_rules.contains(item) != self.rules.contains_key(&item));
        if reorders {
            self.rebuild_rules(new, undo)?;
        } else {
            for &item in &changes.routing_rules {
                let (Some(rule), Some(&id)) = (new.routing_rules.get(item), self.rules.get(&item))
                else {
                    continue;
                };
                let old = self.rule_spec_of(id)?;
                self.rib.set_rule(id, self.rule_spec(&self.rib, rule))?;
                undo.push(Undo::RuleChanged(item, old));
            }
        }
        Ok(())
    }

    /// Refuses `route` if the RIB holds another configured route the same as it (only the
    /// routes to its destination are looked at).
    fn refuse_duplicate(&self, config: &Config, route: &StaticRoute) -> Result<(), Refused> {
        let Some(table) = self.rib.table_by_name(&route.table) else {
            return Ok(());
        };
        let dst = Prefix::new(ip_addr(route.dst), route.dst_len)
            .unwrap_or_else(|_| Prefix::host(ip_addr(route.dst)));
        let duplicate = self
            .rib
            .routes_to(table, dst)
            .filter_map(|view| config.routes.get(self.route_item(view.id())?))
            .any(|other| same_route(route, other));
        if duplicate {
            return Err(Refused::DuplicateRoute);
        }
        Ok(())
    }

    /// Makes the RIB's interfaces those of `config` (new ones get ids, gone ones leave, states
    /// follow `enabled` and the platform's links).
    fn sync_interfaces(
        &mut self,
        config: &Config,
        platform: &dyn Platform,
        undo: &mut Vec<Undo>,
    ) -> Result<(), RibError> {
        let present = config.interfaces();
        for &iface in &present {
            let id = self.if_id_or_new(iface);
            let state = link_state(config, platform, iface);
            let before = self.rib.interface(id);
            if before != Some(state) {
                self.rib.set_interface(id, state)?;
                undo.push(Undo::Interface(id, before));
            }
        }
        let gone: Vec<(IfaceRef, IfId)> = self
            .if_ids
            .iter()
            .filter(|(iface, _)| !present.contains(iface))
            .map(|(iface, id)| (*iface, *id))
            .collect();
        for (iface, id) in gone {
            if let Some(before) = self.rib.interface(id) {
                self.rib.remove_interface(id)?;
                undo.push(Undo::Interface(id, Some(before)));
            }
            // The id is not reused: a reference to the old interface is gone by now.
            self.if_ids.remove(&iface);
        }
        Ok(())
    }

    /// Updates the running state of every interface from the platform (links, guests).
    /// Returns whether anything changed.
    pub fn refresh_links(&mut self, config: &Config, platform: &dyn Platform) -> bool {
        let mut changed = false;
        for iface in config.interfaces() {
            let Some(&id) = self.if_ids.get(&iface) else {
                continue;
            };
            let state = link_state(config, platform, iface);
            if self.rib.interface(id) != Some(state) && self.rib.set_interface(id, state).is_ok() {
                changed = true;
            }
        }
        changed
    }

    fn rebuild_rules(&mut self, config: &Config, undo: &mut Vec<Undo>) -> Result<(), RibError> {
        let old: Vec<(ItemId, RuleId)> = self.rules.iter().map(|(k, v)| (*k, *v)).collect();
        for (item, id) in old {
            let spec = self.rule_spec_of(id)?;
            self.rib.remove_rule(id)?;
            self.rules.remove(&item);
            // Undone by rebuilding the old rules in order: pushed as "changed" entries that
            // re-add them (see `revert`).
            undo.push(Undo::RuleChanged(item, spec));
        }
        for rule in config.routing_rules.iter() {
            let id = self.rib.add_rule(self.rule_spec(&self.rib, rule))?;
            self.rules.insert(rule.id, id);
            undo.push(Undo::RuleAdded(rule.id));
        }
        Ok(())
    }

    /// Takes back the changes in `undo`, newest first. Each step restores a state the RIB
    /// held before, so none of them can fail on a limit.
    fn revert(&mut self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            match step {
                Undo::RouteAdded(item) => {
                    if let Some(id) = self.routes.remove(&item) {
                        let _ = self.rib.remove_route(id);
                        self.route_items.remove(&id);
                    }
                }
                Undo::RouteChanged(item, spec) => {
                    if let Some(&id) = self.routes.get(&item) {
                        let _ = self.rib.set_route(id, spec);
                    }
                }
                Undo::RouteRemoved(item, spec) => {
                    if let Ok(id) = self.rib.add_route(spec) {
                        self.routes.insert(item, id);
                        self.route_items.insert(id, item);
                    }
                }
                Undo::RuleAdded(item) => {
                    if let Some(id) = self.rules.remove(&item) {
                        let _ = self.rib.remove_rule(id);
                    }
                }
                Undo::RuleChanged(item, spec) => match self.rules.get(&item) {
                    Some(&id) => {
                        let _ = self.rib.set_rule(id, spec);
                    }
                    None => {
                        if let Ok(id) = self.rib.add_rule(spec) {
                            self.rules.insert(item, id);
                        }
                    }
                },
                Undo::AddressAdded(item) => {
                    if let Some(id) = self.addresses.remove(&item) {
                        let _ = self.rib.remove_address(id);
                    }
                }
                Undo::AddressChanged(item, spec) => {
                    if let Some(&id) = self.addresses.get(&item) {
                        let _ = self.rib.set_address(id, spec);
                    }
                }
                Undo::AddressRemoved(item, spec) => {
                    if let Ok(id) = self.rib.add_address(spec) {
                        self.addresses.insert(item, id);
                    }
                }
                Undo::Interface(id, before) => {
                    let _ = match before {
                        Some(state) => self.rib.set_interface(id, state),
                        None => self.rib.remove_interface(id),
                    };
                }
            }
        }
    }

    /// The RIB id of `iface`, giving a bridge or vif seen for the first time the next free id.
    fn if_id_or_new(&mut self, iface: IfaceRef) -> IfId {
        if let Some(&id) = self.if_ids.get(&iface) {
            return id;
        }
        let id = match iface {
            IfaceRef::Ether(port) => IfId(port),
            IfaceRef::Gone(_) => return GONE,
            IfaceRef::Bridge(_) | IfaceRef::Vif(_) | IfaceRef::Vlan(_) => {
                // Ids above the ports, never reused, GONE excluded.
                while self.next_if == GONE.0 || self.if_refs.contains_key(&IfId(self.next_if)) {
                    self.next_if = self.next_if.wrapping_add(1);
                }
                let id = IfId(self.next_if);
                self.next_if = self.next_if.wrapping_add(1);
                id
            }
        };
        self.if_ids.insert(iface, id);
        self.if_refs.insert(id, iface);
        id
    }

    /// The RIB id of a reference (a gone or unknown interface is [`GONE`]).
    fn if_id(&self, iface: IfaceRef) -> IfId {
        self.if_ids.get(&iface).copied().unwrap_or(GONE)
    }

    fn address_spec(&self, (address, prefix_len, iface, disabled): AddressParts) -> AddressSpec {
        let mut spec = AddressSpec::new(ip_addr(address), prefix_len, self.if_id(iface));
        spec.disabled = disabled;
        spec
    }

    fn address_spec_of(&self, id: AddressId) -> AddressSpec {
        self.rib
            .address(id)
            .map(|a| a.spec.clone())
            .unwrap_or_else(|| AddressSpec::new(ip_addr(IpAddress::V4([0; 4])), 32, GONE))
    }

    fn rule_spec_of(&self, id: RuleId) -> Result<RuleSpec, RibError> {
        self.rib
            .rules()
            .find(|r| r.id == id)
            .map(|r| r.spec.clone())
            .ok_or(RibError::NoSuchRule)
    }

    fn route_spec(&self, rib: &Rib, route: &StaticRoute) -> RouteSpec {
        let dst = Prefix::new(ip_addr(route.dst), route.dst_len)
            .unwrap_or_else(|_| Prefix::host(ip_addr(route.dst)));
        let mut spec = RouteSpec::new(dst);
        spec.route_type = match route.route_type {
            "blackhole" => RouteType::Blackhole,
            "unreachable" => RouteType::Unreachable,
            "prohibit" => RouteType::Prohibit,
            _ => RouteType::Unicast,
        };
        if spec.route_type == RouteType::Unicast {
            spec.gateways = route
                .gateways
                .iter()
                .map(|g| match *g {
                    Gateway::Address(a) => routing::Gateway::Address(ip_addr(a)),
                    Gateway::Interface(i) => routing::Gateway::Interface(self.if_id(i)),
                    Gateway::AddressOnInterface(a, i) => {
                        routing::Gateway::AddressOnInterface(ip_addr(a), self.if_id(i))
                    }
                })
                .collect();
        }
        spec.distance = route.distance;
        spec.scope = route.scope;
        spec.target_scope = route.target_scope;
        spec.table = rib.table_by_name(&route.table).unwrap_or(TableId::MAIN);
        spec.pref_src = route.pref_src.map(ip_addr);
        spec.disabled = route.disabled;
        spec
    }

    fn rule_spec(&self, rib: &Rib, rule: &RoutingRule) -> RuleSpec {
        let prefix =
            |p: Option<(IpAddress, u8)>| p.and_then(|(a, l)| Prefix::new(ip_addr(a), l).ok());
        let table_id = |name: &str| rib.table_by_name(name).unwrap_or(TableId::MAIN);
        let table = table_id(&rule.table);
        let action = match rule.action {
            "lookup-only-in-table" => RuleAction::LookupOnlyInTable(table),
            "drop" => RuleAction::Drop,
            "unreachable" => RuleAction::Unreachable,
            _ => RuleAction::Lookup(table),
        };
        let mut spec = RuleSpec::new(action);
        spec.src = prefix(rule.src);
        spec.dst = prefix(rule.dst);
        spec.interface = rule.interface.map(|i| self.if_id(i));
        spec.routing_mark = rule.routing_mark.as_deref().map(table_id);
        spec.disabled = rule.disabled;
        spec
    }
}

/// What the RIB needs of an address item: address, length, interface, disabled.
type AddressParts = (IpAddress, u8, IfaceRef, bool);

fn address_parts<A: Copy + Into<IpAddressOf>>(a: &Address<A>) -> (ItemId, AddressParts) {
    (
        a.id,
        (a.address.into().0, a.prefix_len, a.interface, a.disabled),
    )
}

/// An address of either family as [`IpAddress`] (for [`address_parts`]).
struct IpAddressOf(IpAddress);

impl From<[u8; 4]> for IpAddressOf {
    fn from(a: [u8; 4]) -> Self {
        IpAddressOf(IpAddress::V4(a))
    }
}

impl From<[u8; 16]> for IpAddressOf {
    fn from(a: [u8; 16]) -> Self {
        IpAddressOf(IpAddress::V6(a))
    }
}

/// The RIB's view of an interface: running when enabled and its link (port, guest) is up.
fn link_state(config: &Config, platform: &dyn Platform, iface: IfaceRef) -> InterfaceState {
    InterfaceState {
        running: crate::menus::interface::running(config, platform, iface),
        point_to_point: false,
    }
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
