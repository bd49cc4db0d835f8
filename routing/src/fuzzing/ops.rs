//! The changes of the oracle fuzz body: decoded once from fuzzer bytes, applied the same way
//! to the incremental RIB and to the full-recomputation reference (both implement
//! [`Subject`]). Addresses come from a crowded space so that gateways fall inside
//! destinations, destinations nest, and routes resolve through each other.

use crate::prefix::Prefix;
use crate::rib::reference::ReferenceRib;
use crate::rib::snapshot::Snapshot;
use crate::rib::types::*;
use crate::rib::Rib;
use alloc::vec::Vec;
use core::net::IpAddr;

/// What the oracle needs from a RIB: the whole public change API, its picture, decisions.
pub(super) trait Subject {
    fn set_interface(&mut self, id: IfId, state: InterfaceState) -> Result<(), RibError>;
    fn remove_interface(&mut self, id: IfId) -> Result<(), RibError>;
    fn add_address(&mut self, spec: AddressSpec) -> Result<AddressId, RibError>;
    fn set_address(&mut self, id: AddressId, spec: AddressSpec) -> Result<(), RibError>;
    fn set_address_disabled(&mut self, id: AddressId, disabled: bool) -> Result<(), RibError>;
    fn remove_address(&mut self, id: AddressId) -> Result<(), RibError>;
    fn add_dynamic_route(&mut self, origin: Origin, spec: RouteSpec) -> Result<RouteId, RibError>;
    fn set_route(&mut self, id: RouteId, spec: RouteSpec) -> Result<(), RibError>;
    fn set_route_disabled(&mut self, id: RouteId, disabled: bool) -> Result<(), RibError>;
    fn remove_route(&mut self, id: RouteId) -> Result<(), RibError>;
    fn route_spec(&self, id: RouteId) -> Option<&RouteSpec>;
    fn add_table(&mut self, name: &str, fib: bool) -> Result<TableId, RibError>;
    fn remove_table(&mut self, id: TableId) -> Result<(), RibError>;
    fn add_rule(&mut self, spec: RuleSpec) -> Result<RuleId, RibError>;
    fn set_rule(&mut self, id: RuleId, spec: RuleSpec) -> Result<(), RibError>;
    fn set_rule_disabled(&mut self, id: RuleId, disabled: bool) -> Result<(), RibError>;
    fn move_rule(&mut self, id: RuleId, before: Option<RuleId>) -> Result<(), RibError>;
    fn remove_rule(&mut self, id: RuleId) -> Result<(), RibError>;
    fn snapshot(&self) -> Snapshot;
    fn decide(&self, packet: &Packet) -> Decision;
    /// Runs `f` as one batch.
    fn batch_with(
        &mut self,
        f: &mut dyn FnMut(&mut Self) -> Result<(), RibError>,
    ) -> Result<(), RibError>;
}

macro_rules! subject {
    ($t:ty) => {
        impl Subject for $t {
            fn set_interface(&mut self, id: IfId, s: InterfaceState) -> Result<(), RibError> {
                <$t>::set_interface(self, id, s)
            }
            fn remove_interface(&mut self, id: IfId) -> Result<(), RibError> {
                <$t>::remove_interface(self, id)
            }
            fn add_address(&mut self, spec: AddressSpec) -> Result<AddressId, RibError> {
                <$t>::add_address(self, spec)
            }
            fn set_address(&mut self, id: AddressId, spec: AddressSpec) -> Result<(), RibError> {
                <$t>::set_address(self, id, spec)
            }
            fn set_address_disabled(&mut self, id: AddressId, d: bool) -> Result<(), RibError> {
                <$t>::set_address_disabled(self, id, d)
            }
            fn remove_address(&mut self, id: AddressId) -> Result<(), RibError> {
                <$t>::remove_address(self, id)
            }
            fn add_dynamic_route(
                &mut self,
                origin: Origin,
                spec: RouteSpec,
            ) -> Result<RouteId, RibError> {
                if origin == Origin::Static {
                    <$t>::add_route(self, spec)
                } else {
                    <$t>::add_dynamic_route(self, origin, spec)
                }
            }
            fn set_route(&mut self, id: RouteId, spec: RouteSpec) -> Result<(), RibError> {
                <$t>::set_route(self, id, spec)
            }
            fn set_route_disabled(&mut self, id: RouteId, d: bool) -> Result<(), RibError> {
                <$t>::set_route_disabled(self, id, d)
            }
            fn remove_route(&mut self, id: RouteId) -> Result<(), RibError> {
                <$t>::remove_route(self, id)
            }
            fn route_spec(&self, id: RouteId) -> Option<&RouteSpec> {
                <$t>::route_spec(self, id)
            }
            fn add_table(&mut self, name: &str, fib: bool) -> Result<TableId, RibError> {
                <$t>::add_table(self, name, fib)
            }
            fn remove_table(&mut self, id: TableId) -> Result<(), RibError> {
                <$t>::remove_table(self, id)
            }
            fn add_rule(&mut self, spec: RuleSpec) -> Result<RuleId, RibError> {
                <$t>::add_rule(self, spec)
            }
            fn set_rule(&mut self, id: RuleId, spec: RuleSpec) -> Result<(), RibError> {
                <$t>::set_rule(self, id, spec)
            }
            fn set_rule_disabled(&mut self, id: RuleId, d: bool) -> Result<(), RibError> {
                <$t>::set_rule_disabled(self, id, d)
            }
            fn move_rule(&mut self, id: RuleId, before: Option<RuleId>) -> Result<(), RibError> {
                <$t>::move_rule(self, id, before)
            }
            fn remove_rule(&mut self, id: RuleId) -> Result<(), RibError> {
                <$t>::remove_rule(self, id)
            }
            fn snapshot(&self) -> Snapshot {
                <$t>::snapshot(self)
            }
            fn decide(&self, packet: &Packet) -> Decision {
                <$t>::decide(self, packet)
            }
            fn batch_with(
                &mut self,
                f: &mut dyn FnMut(&mut Self) -> Result<(), RibError>,
            ) -> Result<(), RibError> {
                <$t>::batch(self, |rib| f(rib))
            }
        }
    };
}

subject!(Rib);
subject!(ReferenceRib);

/// Everything the sequence has been given back (ids of removed things stay: changes to them
/// must be refused the same way).
#[derive(Clone, Default)]
pub(super) struct Ids {
    /// Routes resolve at their own scope, through each other (loops are common).
    pub loops: bool,
    pub routes: Vec<RouteId>,
    pub addresses: Vec<AddressId>,
    pub tables: Vec<TableId>,
    pub rules: Vec<RuleId>,
}

/// One change.
#[derive(Clone, Debug)]
pub(super) enum Op {
    Interface(IfId, InterfaceState),
    RemoveInterface(IfId),
    AddAddress(AddressSpec),
    SetAddress(u8, AddressSpec),
    DisableAddress(u8, bool),
    RemoveAddress(u8),
    AddRoute(Origin, RouteSpec),
    SetRoute(u8, RouteSpec),
    /// A route's distance, target-scope and disabled flag, the rest unchanged.
    EditRoute(u8, u8, u8, bool),
    DisableRoute(u8, bool),
    RemoveRoute(u8),
    AddTable(u8),
    RemoveTable(u8),
    AddRule(RuleSpec),
    SetRule(u8, RuleSpec),
    DisableRule(u8, bool),
    MoveRule(u8, Option<u8>),
    RemoveRule(u8),
    /// The next changes (this many) as one batch; refused at its end if `fail`.
    Batch(u8, bool),
}

/// What a change gave back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Done,
    Route(RouteId),
    Address(AddressId),
    Table(TableId),
    Rule(RuleId),
    Refused(RibError),
}

fn v4(x: u8, y: u8, z: u8) -> IpAddr {
    IpAddr::from([10, x % 4, y % 4, z % 8])
}

fn v6(x: u8, y: u8, z: u8) -> IpAddr {
    if x % 8 == 7 {
        return IpAddr::from([0xfe80, 0, 0, 0, 0, 0, 0, u16::from(z % 4)]);
    }
    IpAddr::from([
        0x2001,
        0xdb8,
        u16::from(x % 4),
        u16::from(y % 4),
        0,
        0,
        0,
        u16::from(z % 8),
    ])
}

/// An address of family `six` from three bytes of a crowded space.
pub(super) fn address(six: bool, x: u8, y: u8, z: u8) -> IpAddr {
    if six {
        v6(x, y, z)
    } else {
        v4(x, y, z)
    }
}

fn prefix(six: bool, x: u8, y: u8, z: u8, len: u8) -> Prefix {
    let lens: &[u8] = if six {
        &[0, 16, 32, 48, 64, 64, 120, 128]
    } else {
        &[0, 8, 16, 16, 24, 24, 29, 32]
    };
    let len = lens[usize::from(len % 8)];
    Prefix::new(address(six, x, y, z), len).unwrap_or_else(|_| Prefix::host(address(six, x, y, z)))
}

fn interface(x: u8) -> IfId {
    IfId(u16::from(x % 4))
}

fn table(ids: &Ids, x: u8) -> TableId {
    ids.tables[usize::from(x) % ids.tables.len()]
}

/// A route configuration from five bytes.
fn route_spec(ids: &Ids, b: &[u8]) -> RouteSpec {
    let six = b[4] & 1 != 0;
    let mut spec = RouteSpec::new(prefix(six, b[0], b[1], b[2], b[3] >> 5));
    spec.distance = (b[3] >> 3) % 4;
    spec.scope = [10, 30, 30, 40][usize::from(b[4] >> 1) % 4];
    spec.target_scope = [10, 30, 40, 254, 10, 20, 30, 0][usize::from(b[4] >> 3) % 8];
    spec.table = table(ids, b[0] >> 5);
    spec.disabled = b[1] >> 5 == 7;
    if ids.loops {
        spec.scope = [30, 30, 30, 40][usize::from(b[4] >> 1) % 4];
        spec.target_scope = [30, 40, 254, 10][usize::from(b[4] >> 3) % 4];
        spec.table = TableId::MAIN;
    }
    if b[3] & 7 == 7 {
        spec.route_type = [
            RouteType::Blackhole,
            RouteType::Unreachable,
            RouteType::Prohibit,
        ][usize::from(b[2] >> 6) % 3];
        return spec;
    }
    let count = if b[4] >> 6 == 3 { 2 } else { 1 };
    for k in 0..count {
        let (x, y, z) = (b[1].wrapping_add(k), b[2] >> 3, b[0].wrapping_mul(3 + k));
        let gw = address(six, x, y, z);
        spec.gateways.push(match (b[3] & 7, k) {
            (6, 0) => Gateway::Interface(interface(x)),
            (5, _) => Gateway::AddressOnInterface(gw, interface(z)),
            _ => Gateway::Address(gw),
        });
    }
    if b[2] & 0x38 == 0x38 {
        spec.comment = Some(alloc::string::String::from("c"));
    }
    spec
}

fn address_spec(b: &[u8]) -> AddressSpec {
    let six = b[3] & 1 != 0;
    let len = if six {
        [64, 48, 120, 128][usize::from(b[3] >> 1) % 4]
    } else {
        [24, 16, 29, 32][usize::from(b[3] >> 1) % 4]
    };
    let mut spec = AddressSpec::new(address(six, b[0], b[1], b[2]), len, interface(b[3] >> 3));
    spec.disabled = b[3] >> 6 == 3;
    spec
}

fn rule_spec(ids: &Ids, b: &[u8]) -> RuleSpec {
    let action = match b[0] % 4 {
        0 => RuleAction::Lookup(table(ids, b[1])),
        1 => RuleAction::LookupOnlyInTable(table(ids, b[1])),
        2 => RuleAction::Drop,
        _ => RuleAction::Unreachable,
    };
    let mut spec = RuleSpec::new(action);
    let six = b[2] & 1 != 0;
    if b[2] & 2 != 0 {
        spec.src = Some(prefix(six, b[1], b[2] >> 2, b[3], b[3] >> 3));
    }
    if b[2] & 4 != 0 {
        spec.dst = Some(prefix(six, b[3], b[1], b[2] >> 3, b[1] >> 5));
    }
    if b[2] & 8 != 0 {
        spec.interface = Some(interface(b[3]));
    }
    if b[2] & 16 != 0 {
        spec.routing_mark = Some(table(ids, b[3] >> 2));
    }
    spec.disabled = b[2] >> 5 == 7;
    spec
}

impl Op {
    /// Decodes one change from `b` (6 bytes).
    pub(super) fn read(ids: &Ids, b: &[u8]) -> Op {
        let rest = &b[1..];
        match b[0] % 32 {
            0 | 1 => Op::Interface(
                interface(b[1]),
                InterfaceState {
                    running: b[2] & 3 != 0,
                    point_to_point: b[2] & 4 != 0,
                },
            ),
            2 => Op::RemoveInterface(interface(b[1])),
            3 | 4 => Op::AddAddress(address_spec(rest)),
            5 => Op::SetAddress(b[1], address_spec(&b[2..])),
            6 => Op::DisableAddress(b[1], b[2] & 1 != 0),
            7 => Op::RemoveAddress(b[1]),
            8..=17 => {
                let origin = match b[0] >> 5 {
                    6 => Origin::Dhcp,
                    7 => Origin::Bgp,
                    _ => Origin::Static,
                };
                Op::AddRoute(origin, route_spec(ids, rest))
            }
            18 | 19 => Op::SetRoute(b[5], route_spec(ids, rest)),
            20 | 21 => Op::EditRoute(b[1], b[2] % 4, b[3], b[4] & 1 != 0),
            22 => Op::DisableRoute(b[1], b[2] & 1 != 0),
            23 | 24 => Op::RemoveRoute(b[1]),
            25 => Op::AddTable(b[1]),
            26 => Op::RemoveTable(b[1]),
            27 => Op::AddRule(rule_spec(ids, rest)),
            28 if b[5] & 1 == 0 => Op::SetRule(b[5], rule_spec(ids, rest)),
            28 => Op::DisableRule(b[1], b[2] & 1 != 0),
            29 if b[5] & 1 == 0 => Op::MoveRule(b[1], (b[2] & 1 != 0).then_some(b[3])),
            29 => Op::RemoveRule(b[1]),
            _ => Op::Batch(1 + b[1] % 8, b[2] & 3 == 0),
        }
    }

    /// Applies the change to `rib`.
    pub(super) fn apply<S: Subject>(&self, rib: &mut S, ids: &Ids) -> Outcome {
        fn pick<T: Copy>(v: &[T], i: u8, none: T) -> T {
            if v.is_empty() {
                none
            } else {
                v[usize::from(i) % v.len()]
            }
        }
        let route = |i| pick(&ids.routes, i, RouteId(999_999));
        let address = |i| pick(&ids.addresses, i, AddressId(999_999));
        let rule = |i| pick(&ids.rules, i, RuleId(999_999));
        let done = |r: Result<(), RibError>| r.map_or_else(Outcome::Refused, |()| Outcome::Done);
        match self {
            Op::Interface(i, s) => done(rib.set_interface(*i, *s)),
            Op::RemoveInterface(i) => done(rib.remove_interface(*i)),
            Op::AddAddress(spec) => rib
                .add_address(spec.clone())
                .map_or_else(Outcome::Refused, Outcome::Address),
            Op::SetAddress(i, spec) => done(rib.set_address(address(*i), spec.clone())),
            Op::DisableAddress(i, d) => done(rib.set_address_disabled(address(*i), *d)),
            Op::RemoveAddress(i) => done(rib.remove_address(address(*i))),
            Op::AddRoute(origin, spec) => rib
                .add_dynamic_route(*origin, spec.clone())
                .map_or_else(Outcome::Refused, Outcome::Route),
            Op::SetRoute(i, spec) => done(rib.set_route(route(*i), spec.clone())),
            Op::EditRoute(i, distance, target_scope, disabled) => {
                let id = route(*i);
                let Some(mut spec) = rib.route_spec(id).cloned() else {
                    return done(rib.set_route_disabled(id, *disabled));
                };
                spec.distance = *distance;
                spec.target_scope = [10, 30, 40, 254][usize::from(*target_scope) % 4];
                spec.disabled = *disabled;
                done(rib.set_route(id, spec))
            }
            Op::DisableRoute(i, d) => done(rib.set_route_disabled(route(*i), *d)),
            Op::RemoveRoute(i) => done(rib.remove_route(route(*i))),
            Op::AddTable(x) => {
                let name = ["red", "blue", "green", "red"][usize::from(*x) % 4];
                rib.add_table(name, x & 4 == 0)
                    .map_or_else(Outcome::Refused, Outcome::Table)
            }
            Op::RemoveTable(i) => done(rib.remove_table(pick(&ids.tables, *i, TableId(99)))),
            Op::AddRule(spec) => rib
                .add_rule(spec.clone())
                .map_or_else(Outcome::Refused, Outcome::Rule),
            Op::SetRule(i, spec) => done(rib.set_rule(rule(*i), spec.clone())),
            Op::DisableRule(i, d) => done(rib.set_rule_disabled(rule(*i), *d)),
            Op::MoveRule(i, before) => done(rib.move_rule(rule(*i), before.map(rule))),
            Op::RemoveRule(i) => done(rib.remove_rule(rule(*i))),
            Op::Batch(..) => Outcome::Done,
        }
    }
}

impl Ids {
    /// Notes what a change created (and a new address's connected route id).
    pub(super) fn record(&mut self, outcome: Outcome, snapshot: &Snapshot) {
        match outcome {
            Outcome::Route(id) => self.routes.push(id),
            Outcome::Address(id) => {
                self.addresses.push(id);
                if let Some(a) = snapshot.addresses.iter().find(|a| a.0 == id) {
                    self.routes.push(a.4);
                }
            }
            Outcome::Table(id) => self.tables.push(id),
            Outcome::Rule(id) => self.rules.push(id),
            Outcome::Done | Outcome::Refused(_) => {}
        }
    }
}
