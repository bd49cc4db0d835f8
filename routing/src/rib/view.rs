//! Read-only views for the management plane: everything `print` and `print detail` show for
//! routes, addresses, tables and rules.

use super::index;
use super::select::dest;
use super::state::GatewayState;
use super::store::{selection, RouteEntry, NONE};
use super::types::{
    AddressId, AddressSpec, Contribution, Hop, IfId, Origin, RouteId, RouteSpec, RouteType, RuleId,
    RuleSpec, TableId,
};
use super::Rib;
use crate::prefix::Prefix;
use core::fmt;

/// One route with its selection state.
#[derive(Clone, Copy)]
pub struct RouteView<'a> {
    rib: &'a Rib,
    record: &'a RouteEntry,
}

/// The flags of `/ip route print` and `/routing route print`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouteFlags {
    /// `D`: not configured by the user (connected, DHCP, ...).
    pub dynamic: bool,
    /// `X`
    pub disabled: bool,
    /// `A`: selected and installed in the FIB (a RIB without FIBs: selected).
    pub active: bool,
    /// `I`: enabled but unusable (no reachable gateway), or selected but not installed because
    /// its FIB is full. A usable route that lost selection is neither `A` nor `I`.
    pub inactive: bool,
    /// Unicast route none of whose gateways is reachable (`U` in `/routing route`).
    pub unreachable: bool,
    /// `+`: one of several equally good active routes to the destination.
    pub ecmp: bool,
    pub origin: Option<Origin>,
}

/// A few flag letters, printable.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FlagLetters {
    buf: [u8; 4],
    len: u8,
}

impl FlagLetters {
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Display for FlagLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for FlagLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl RouteFlags {
    /// `/ip route print` letters in four fixed columns (dynamic, status, protocol, ECMP), a
    /// space where a flag is absent: `"DAC "`, `" AS+"`, `" XS "`, `"D d "`.
    pub fn ip_route_flags(&self) -> FlagLetters {
        let status = if self.disabled {
            b'X'
        } else if self.active {
            b'A'
        } else if self.inactive {
            b'I'
        } else {
            b' '
        };
        let proto = self.origin.map_or(b' ', |o| match o {
            Origin::Connected => b'C',
            Origin::Static => b'S',
            Origin::Rip => b'r',
            Origin::Bgp => b'b',
            Origin::Ospf => b'o',
            Origin::Dhcp => b'd',
            Origin::Vpn => b'v',
        });
        FlagLetters {
            buf: [
                if self.dynamic { b'D' } else { b' ' },
                status,
                proto,
                if self.ecmp { b'+' } else { b' ' },
            ],
            len: 4,
        }
    }

    /// `/routing route print` letters, compact: status, lower-case protocol, ECMP
    /// (`"As"`, `"Xs"`, `"Ic"`, `"d"`, `"As+"`).
    pub fn routing_route_flags(&self) -> FlagLetters {
        let mut out = FlagLetters {
            buf: [0; 4],
            len: 0,
        };
        let mut push = |c: u8| {
            out.buf[usize::from(out.len)] = c;
            out.len += 1;
        };
        if self.disabled {
            push(b'X');
        } else if self.active {
            push(b'A');
        } else if self.inactive {
            push(b'I');
        }
        if let Some(o) = self.origin {
            push(match o {
                Origin::Connected => b'c',
                Origin::Static => b's',
                Origin::Rip => b'r',
                Origin::Bgp => b'b',
                Origin::Ospf => b'o',
                Origin::Dhcp => b'd',
                Origin::Vpn => b'v',
            });
        }
        if self.ecmp {
            push(b'+');
        }
        out
    }
}

impl<'a> RouteView<'a> {
    pub fn id(&self) -> RouteId {
        self.record.id
    }

    pub fn origin(&self) -> Origin {
        self.record.origin
    }

    /// Destination, gateways, type, distance, scope, target-scope, table, pref-src, comment,
    /// disabled (for connected routes: derived from the address; target-scope is 0 there).
    pub fn spec(&self) -> &'a RouteSpec {
        &self.record.spec
    }

    pub fn is_dynamic(&self) -> bool {
        self.record.origin != Origin::Static
    }

    /// `A` when selected and installed; a selected route whose FIB had no room for it is
    /// `I` instead (see [`RouteView::waits_for_fib`]), and not `+`.
    pub fn flags(&self) -> RouteFlags {
        let spec = &self.record.spec;
        let bits = self.record.selection;
        let waits = self.waits_for_fib();
        RouteFlags {
            dynamic: self.is_dynamic(),
            disabled: spec.disabled,
            active: bits & selection::ACTIVE != 0 && !waits,
            inactive: (!spec.disabled && !self.rib.is_candidate(self.record)) || waits,
            unreachable: !spec.disabled
                && spec.route_type == RouteType::Unicast
                && self.immediate_gw().is_empty(),
            ecmp: bits & selection::ECMP != 0 && !waits,
            origin: Some(self.record.origin),
        }
    }

    /// Whether the RIB selected this route (it would be active) but its table's FIB had no
    /// room for its destination: it is not installed, `decide` does not use it, and it is
    /// installed when a later change makes room (see the crate README, "A full FIB").
    pub fn waits_for_fib(&self) -> bool {
        self.record.selection & selection::ACTIVE != 0
            && self.rib.waits_for_fib(&index::dest_key(
                self.record.spec.table,
                &self.record.spec.dst,
                self.record.dst_interface,
            ))
    }

    /// Whether the RIB selected this route for its destination, installed or not
    /// ([`RouteFlags::active`] also needs the FIB to hold it).
    pub fn selected(&self) -> bool {
        self.record.selection & selection::ACTIVE != 0
    }

    pub fn contribution(&self) -> Option<Contribution> {
        match self.record.selection >> selection::CONTRIBUTION_SHIFT {
            1 => Some(Contribution::Active),
            2 => Some(Contribution::BestCandidate),
            3 => Some(Contribution::Candidate),
            _ => None,
        }
    }

    /// Per configured gateway: whether it is reachable and the hops it resolves to.
    pub fn gateway_states(&self) -> &'a [GatewayState] {
        self.rib.gateway_states(self.record)
    }

    /// `immediate-gw`: the directly reachable next hops of the reachable gateways.
    pub fn immediate_gw(&self) -> &'a [Hop] {
        self.rib.immediate(self.record)
    }

    /// `belongs-to`.
    pub fn belongs_to(&self) -> &'static str {
        self.record.origin.belongs_to()
    }

    /// `routing-table` name.
    pub fn table_name(&self) -> &'a str {
        self.rib.table_name(self.record.spec.table).unwrap_or("")
    }

    /// For IPv6 link-local connected routes, the interface of the destination
    /// (`fe80::%ether2/64`).
    pub fn dst_interface(&self) -> Option<IfId> {
        self.record.dst_interface
    }

    /// The address a connected route comes from.
    pub fn address(&self) -> Option<AddressId> {
        if self.record.origin != Origin::Connected {
            return None;
        }
        self.rib
            .config
            .addresses
            .iter()
            .find(|(_, a)| a.route == self.record.id)
            .map(|(id, _)| id)
    }
}

/// The iterator of [`Rib::routes`]: destinations in order, and each one's list. One type
/// (rather than adapters instantiated for each caller), small in the image.
struct Routes<'a, I> {
    rib: &'a Rib,
    dests: I,
    slot: u32,
}

impl<'a, I: Iterator<Item = (index::Key, u64)>> Iterator for Routes<'a, I> {
    type Item = RouteView<'a>;

    fn next(&mut self) -> Option<RouteView<'a>> {
        while self.slot == NONE {
            self.slot = dest::head(self.dests.next()?.1);
        }
        let record = &self.rib.routes[self.slot];
        self.slot = record.next;
        Some(RouteView {
            rib: self.rib,
            record,
        })
    }
}

/// An interface address.
#[derive(Clone, Copy, Debug)]
pub struct AddressView<'a> {
    pub id: AddressId,
    pub spec: &'a AddressSpec,
    /// The network of the address (`network=` in RouterOS).
    pub network: Prefix,
    /// `I`: its interface is unknown to the RIB.
    pub invalid: bool,
    /// The id of its connected route (present while the address is enabled and valid).
    pub route: RouteId,
}

/// A routing table.
#[derive(Clone, Copy, Debug)]
pub struct TableView<'a> {
    pub id: TableId,
    pub name: &'a str,
    pub fib: bool,
    /// `main`, which always exists.
    pub builtin: bool,
}

/// A policy rule, in evaluation order.
#[derive(Clone, Copy, Debug)]
pub struct RuleView<'a> {
    pub id: RuleId,
    pub spec: &'a RuleSpec,
}

impl Rib {
    /// Every route of both families, connected ones included, active or not, ordered by
    /// table, destination and id. (Allocates nothing: destinations are kept in this order.)
    pub fn routes(&self) -> impl Iterator<Item = RouteView<'_>> + '_ {
        Routes {
            rib: self,
            dests: self.dests.range(index::everything()),
            slot: NONE,
        }
    }

    /// The routes to `dst` in `table` (whatever their destination interface), in print order:
    /// O(log n) to find, then what it returns.
    pub fn routes_to(
        &self,
        table: TableId,
        dst: Prefix,
    ) -> impl Iterator<Item = RouteView<'_>> + '_ {
        let first = index::dest_key(table, &dst, None);
        let last = index::dest_key(table, &dst, Some(IfId(u16::MAX)));
        Routes {
            rib: self,
            dests: self.dests.range(first..=last),
            slot: NONE,
        }
    }

    pub fn route(&self, id: RouteId) -> Option<RouteView<'_>> {
        Some(RouteView {
            rib: self,
            record: &self.routes[self.ids.get(id)?],
        })
    }

    pub fn addresses(&self) -> impl Iterator<Item = AddressView<'_>> + '_ {
        self.config
            .addresses
            .iter()
            .map(move |(id, a)| AddressView {
                id,
                spec: &a.spec,
                network: Prefix::new(a.spec.address, a.spec.prefix_len)
                    .unwrap_or_else(|_| Prefix::host(a.spec.address)),
                invalid: !self.config.interfaces.contains_key(&a.spec.interface),
                route: a.route,
            })
    }

    pub fn address(&self, id: AddressId) -> Option<AddressView<'_>> {
        self.addresses().find(|a| a.id == id)
    }

    pub fn tables(&self) -> impl Iterator<Item = TableView<'_>> + '_ {
        self.config.tables.iter().map(|(id, t)| TableView {
            id,
            name: &t.name,
            fib: t.fib,
            builtin: id == TableId::MAIN,
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = RuleView<'_>> + '_ {
        self.config
            .rules
            .iter()
            .map(|(id, spec)| RuleView { id: *id, spec })
    }

    /// Distinct forwarding actions installed in the FIBs (ECMP sets, blackholes, ...).
    pub fn next_hop_count(&self) -> usize {
        self.hops.len()
    }
}
