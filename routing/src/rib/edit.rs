//! The changes of the public API: each is checked, then made to the configuration inside a
//! transaction (`txn`), which commits it at once outside a batch. A change that is refused
//! changes nothing.

use super::txn::Undo;
use super::types::*;
use super::{ConfiguredAddress, ConfiguredRoute, ConfiguredTable, Rib, TableFib};
use crate::prefix::{Afi, Prefix};
use alloc::string::String;

impl Rib {
    // ---- interfaces ----

    /// Adds or updates an interface; connected routes follow its `running` state.
    pub fn set_interface(&mut self, id: IfId, state: InterfaceState) -> Result<(), RibError> {
        self.change(|rib| {
            let old = rib.config.interfaces.insert(id, state);
            rib.note(Undo::Interface(id, old));
            rib.note_interface(id);
            Ok(())
        })
    }

    /// Forgets an interface: its addresses become invalid and routes through it unreachable.
    pub fn remove_interface(&mut self, id: IfId) -> Result<(), RibError> {
        self.change(|rib| {
            let old = rib
                .config
                .interfaces
                .remove(&id)
                .ok_or(RibError::NoSuchInterface)?;
            rib.note(Undo::Interface(id, Some(old)));
            rib.note_interface(id);
            Ok(())
        })
    }

    // ---- addresses ----

    /// `/ip address add`: also creates the connected route (`DAC`) for its network.
    pub fn add_address(&mut self, spec: AddressSpec) -> Result<AddressId, RibError> {
        check_address(&spec)?;
        if self.config.addresses.len() >= self.limits.max_addresses {
            return Err(RibError::Full(Resource::Addresses));
        }
        self.change(|rib| {
            rib.check_route_room()?;
            let c = &mut rib.config;
            let id = AddressId(c.next_address);
            c.next_address += 1;
            let route = RouteId(c.next_route);
            c.next_route += 1;
            c.addresses.insert(id, ConfiguredAddress { spec, route });
            rib.note(Undo::Address(id, None));
            rib.note_address(id);
            Ok(id)
        })
    }

    pub fn set_address(&mut self, id: AddressId, spec: AddressSpec) -> Result<(), RibError> {
        check_address(&spec)?;
        self.edit_address(id, |a| a.spec = spec)
    }

    pub fn set_address_disabled(&mut self, id: AddressId, disabled: bool) -> Result<(), RibError> {
        self.edit_address(id, |a| a.spec.disabled = disabled)
    }

    pub fn remove_address(&mut self, id: AddressId) -> Result<(), RibError> {
        self.change(|rib| {
            let old = rib
                .config
                .addresses
                .remove(&id)
                .ok_or(RibError::NoSuchAddress)?;
            rib.note(Undo::Address(id, Some(old)));
            rib.note_address(id);
            Ok(())
        })
    }

    fn edit_address(
        &mut self,
        id: AddressId,
        edit: impl FnOnce(&mut ConfiguredAddress),
    ) -> Result<(), RibError> {
        self.change(|rib| {
            let a = rib
                .config
                .addresses
                .get_mut(&id)
                .ok_or(RibError::NoSuchAddress)?;
            let old = a.clone();
            edit(a);
            rib.note(Undo::Address(id, Some(old)));
            rib.note_address(id);
            Ok(())
        })
    }

    // ---- routes ----

    /// `/ip route add` (a static route).
    pub fn add_route(&mut self, spec: RouteSpec) -> Result<RouteId, RibError> {
        self.add_dynamic_route(Origin::Static, spec)
    }

    /// A route from another source (a DHCP client's default route, a VPN): shown with `D` and
    /// its protocol flag, not editable through [`Rib::set_route`]. `Origin::Connected` is
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
        self.change(|rib| {
            rib.check_route_room()?;
            let id = RouteId(rib.config.next_route);
            rib.config.next_route += 1;
            rib.config.routes += 1;
            rib.count_in_table(spec.table, 1);
            rib.set_pending(id, Some(ConfiguredRoute { origin, spec }));
            Ok(id)
        })
    }

    /// Replaces a static route's whole configuration (read it with [`Rib::route_spec`]).
    pub fn set_route(&mut self, id: RouteId, spec: RouteSpec) -> Result<(), RibError> {
        self.check_route(&spec)?;
        self.change(|rib| {
            let table = rib.static_route(id)?.table;
            rib.count_in_table(table, -1);
            rib.count_in_table(spec.table, 1);
            let origin = Origin::Static;
            rib.set_pending(id, Some(ConfiguredRoute { origin, spec }));
            Ok(())
        })
    }

    /// Disables or enables a static route.
    pub fn set_route_disabled(&mut self, id: RouteId, disabled: bool) -> Result<(), RibError> {
        self.change(|rib| {
            let mut spec = rib.static_route(id)?.clone();
            spec.disabled = disabled;
            let origin = Origin::Static;
            rib.set_pending(id, Some(ConfiguredRoute { origin, spec }));
            Ok(())
        })
    }

    /// Removes a static or dynamic route (connected routes go with their address).
    pub fn remove_route(&mut self, id: RouteId) -> Result<(), RibError> {
        self.change(|rib| {
            let table = match rib.configured(id) {
                Some((_, spec)) => spec.table,
                None => return Err(rib.not_a_route(id)),
            };
            rib.count_in_table(table, -1);
            rib.config.routes -= 1;
            rib.set_pending(id, None);
            Ok(())
        })
    }

    /// The configuration of a static or dynamic route.
    pub fn route_spec(&self, id: RouteId) -> Option<&RouteSpec> {
        self.configured(id).map(|(_, spec)| spec)
    }

    fn static_route(&self, id: RouteId) -> Result<&RouteSpec, RibError> {
        match self.configured(id) {
            Some((Origin::Static, spec)) => Ok(spec),
            Some(_) => Err(RibError::NotEditable),
            None => Err(self.not_a_route(id)),
        }
    }

    fn not_a_route(&self, id: RouteId) -> RibError {
        if self.config.addresses.values().any(|a| a.route == id) {
            RibError::NotEditable
        } else {
            RibError::NoSuchRoute
        }
    }

    fn check_route_room(&self) -> Result<(), RibError> {
        if self.config.routes + self.config.addresses.len() >= self.limits.max_routes {
            return Err(RibError::Full(Resource::Routes));
        }
        Ok(())
    }

    fn count_in_table(&mut self, table: TableId, delta: i32) {
        if let Some(t) = self.config.tables.get_mut(&table) {
            t.routes = t.routes.wrapping_add_signed(delta);
        }
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
        self.change(|rib| {
            let id = TableId(rib.config.next_table);
            rib.config.next_table += 1;
            let name = String::from(name);
            let table = ConfiguredTable {
                name,
                fib,
                routes: 0,
            };
            rib.config.tables.insert(id, table);
            rib.note(Undo::Table(id, None));
            if fib {
                rib.fibs.insert(id, TableFib::new(&rib.limits));
            }
            Ok(id)
        })
    }

    /// Removes a table no route or rule uses (`main` stays).
    pub fn remove_table(&mut self, id: TableId) -> Result<(), RibError> {
        if id == TableId::MAIN {
            return Err(RibError::TableInUse);
        }
        let table = self.config.tables.get(&id).ok_or(RibError::NoSuchTable)?;
        let used_by_rule = self
            .config
            .rules
            .iter()
            .any(|(_, r)| rule_table(r) == Some(id) || r.routing_mark == Some(id));
        if table.routes > 0 || used_by_rule {
            return Err(RibError::TableInUse);
        }
        self.change(|rib| {
            let old = rib.config.tables.remove(&id);
            rib.note(Undo::Table(id, old));
            Ok(())
        })
    }

    // ---- rules ----

    /// `/routing rule add`: appended after the existing rules.
    pub fn add_rule(&mut self, spec: RuleSpec) -> Result<RuleId, RibError> {
        self.check_rule(&spec)?;
        if self.config.rules.len() >= self.limits.max_rules {
            return Err(RibError::Full(Resource::Rules));
        }
        self.change(|rib| {
            rib.note_rules();
            let id = RuleId(rib.config.next_rule);
            rib.config.next_rule += 1;
            rib.config.rules.push((id, spec));
            Ok(id)
        })
    }

    pub fn set_rule(&mut self, id: RuleId, spec: RuleSpec) -> Result<(), RibError> {
        self.check_rule(&spec)?;
        let at = self.rule_position(id)?;
        self.change(|rib| {
            rib.note_rules();
            rib.config.rules[at].1 = spec;
            Ok(())
        })
    }

    pub fn set_rule_disabled(&mut self, id: RuleId, disabled: bool) -> Result<(), RibError> {
        let at = self.rule_position(id)?;
        self.change(|rib| {
            rib.note_rules();
            rib.config.rules[at].1.disabled = disabled;
            Ok(())
        })
    }

    /// Moves a rule before `before` (`None`: to the end).
    pub fn move_rule(&mut self, id: RuleId, before: Option<RuleId>) -> Result<(), RibError> {
        let from = self.rule_position(id)?;
        if let Some(b) = before {
            self.rule_position(b)?;
        }
        self.change(|rib| {
            rib.note_rules();
            let rules = &mut rib.config.rules;
            let rule = rules.remove(from);
            let to = before
                .and_then(|b| rules.iter().position(|(i, _)| *i == b))
                .unwrap_or(rules.len());
            rules.insert(to, rule);
            Ok(())
        })
    }

    pub fn remove_rule(&mut self, id: RuleId) -> Result<(), RibError> {
        let at = self.rule_position(id)?;
        self.change(|rib| {
            rib.note_rules();
            rib.config.rules.remove(at);
            Ok(())
        })
    }

    fn rule_position(&self, id: RuleId) -> Result<usize, RibError> {
        self.config
            .rules
            .iter()
            .position(|(i, _)| *i == id)
            .ok_or(RibError::NoSuchRule)
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

fn check_address(spec: &AddressSpec) -> Result<(), RibError> {
    Prefix::new(spec.address, spec.prefix_len)
        .map(|_| ())
        .map_err(|_| RibError::InvalidPrefix)
}

pub(super) fn rule_table(r: &RuleSpec) -> Option<TableId> {
    match r.action {
        RuleAction::Lookup(t) | RuleAction::LookupOnlyInTable(t) => Some(t),
        RuleAction::Drop | RuleAction::Unreachable => None,
    }
}
