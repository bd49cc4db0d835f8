//! The RIB's vocabulary: identifiers, configuration records with RouterOS defaults, packets
//! and routing decisions.

use crate::prefix::Prefix;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

/// An interface. The management plane maps names to ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfId(pub u16);

/// A routing table. [`TableId::MAIN`] always exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableId(pub u16);

impl TableId {
    /// The `main` table.
    pub const MAIN: TableId = TableId(0);
}

/// A route (static, dynamic or connected). Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteId(pub u32);

/// An interface address. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressId(pub u32);

/// A policy rule. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(pub u32);

/// State of an interface as the RIB needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct InterfaceState {
    /// Link up and enabled: connected routes through it are active.
    pub running: bool,
    /// No link-layer next hop (PPP, tunnels): packets go out as [`Decision::PointToPoint`].
    pub point_to_point: bool,
}

/// One gateway of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gateway {
    /// A next-hop address, resolved through routes whose scope is at most the route's
    /// target-scope (recursively).
    Address(IpAddr),
    /// Send out of this interface, to the packet's destination address.
    Interface(IfId),
    /// A next-hop address directly on this interface (`10.0.0.1%ether1`).
    AddressOnInterface(IpAddr, IfId),
}

/// A resolved next hop: the address to send to (`None`: the packet's own destination) and
/// the interface. Shown as `10.155.101.1%ether12` or `ether12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hop {
    pub address: Option<IpAddr>,
    pub interface: IfId,
}

/// What a route does with matching packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum RouteType {
    /// Forward through the gateways.
    #[default]
    Unicast,
    /// Drop silently.
    Blackhole,
    /// Drop and answer ICMP host unreachable.
    Unreachable,
    /// Drop and answer ICMP administratively prohibited.
    Prohibit,
}

/// Where a route comes from: its protocol flag and `belongs-to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    Connected,
    Static,
    Rip,
    Bgp,
    Ospf,
    Dhcp,
    Vpn,
}

impl Origin {
    /// The `belongs-to` text of `/routing route print detail`.
    pub const fn belongs_to(self) -> &'static str {
        match self {
            Origin::Connected => "Connected route",
            Origin::Static => "Static route",
            Origin::Rip => "RIP route",
            Origin::Bgp => "BGP route",
            Origin::Ospf => "OSPF route",
            Origin::Dhcp => "DHCP route",
            Origin::Vpn => "VPN route",
        }
    }
}

/// A route as configured (`/ip route add ...`). `RouteSpec::new` gives RouterOS defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: Prefix,
    /// One or more gateways (ECMP) for unicast routes; none for the other types.
    pub gateways: Vec<Gateway>,
    pub route_type: RouteType,
    /// Default 1 (connected routes: 0). Lower wins.
    pub distance: u8,
    /// Default 30 (connected routes: 10).
    pub scope: u8,
    /// Default 10: gateways resolve through routes with scope <= this.
    pub target_scope: u8,
    pub table: TableId,
    pub pref_src: Option<IpAddr>,
    pub disabled: bool,
    pub comment: Option<String>,
}

impl RouteSpec {
    /// A unicast route to `dst` in `main` with distance 1, scope 30, target-scope 10 and no
    /// gateway yet.
    pub fn new(dst: Prefix) -> RouteSpec {
        RouteSpec {
            dst,
            gateways: Vec::new(),
            route_type: RouteType::Unicast,
            distance: 1,
            scope: 30,
            target_scope: 10,
            table: TableId::MAIN,
            pref_src: None,
            disabled: false,
            comment: None,
        }
    }

    /// Builder: adds a gateway.
    pub fn via(mut self, gateway: Gateway) -> RouteSpec {
        self.gateways.push(gateway);
        self
    }
}

/// An interface address (`/ip address add address=10.1.1.2/24 interface=ether1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSpec {
    pub address: IpAddr,
    pub prefix_len: u8,
    pub interface: IfId,
    pub disabled: bool,
    pub comment: Option<String>,
}

impl AddressSpec {
    pub fn new(address: IpAddr, prefix_len: u8, interface: IfId) -> AddressSpec {
        AddressSpec {
            address,
            prefix_len,
            interface,
            disabled: false,
            comment: None,
        }
    }
}

/// What a matching policy rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// Look the destination up in the table; on no match, continue with the next rule.
    Lookup(TableId),
    /// Look the destination up in the table; on no match, the packet is unreachable.
    LookupOnlyInTable(TableId),
    /// Drop the packet.
    Drop,
    /// Drop the packet and answer ICMP network unreachable.
    Unreachable,
}

/// A policy rule (`/routing rule add ...`); `None` fields match anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    pub src: Option<Prefix>,
    pub dst: Option<Prefix>,
    /// Incoming interface.
    pub interface: Option<IfId>,
    pub routing_mark: Option<TableId>,
    pub action: RuleAction,
    pub disabled: bool,
    pub comment: Option<String>,
}

impl RuleSpec {
    /// A rule matching every packet.
    pub fn new(action: RuleAction) -> RuleSpec {
        RuleSpec {
            src: None,
            dst: None,
            interface: None,
            routing_mark: None,
            action,
            disabled: false,
            comment: None,
        }
    }
}

/// What the routing decision needs from a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub in_interface: Option<IfId>,
    /// Set by firewall mangle: a routing table to look the packet up in first.
    pub routing_mark: Option<TableId>,
}

/// The result of a routing decision (the seed's list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The destination is one of the router's addresses.
    Local,
    /// Send to `next_hop` on `interface` (for a connected network, `next_hop` is the
    /// destination itself).
    Forward { next_hop: IpAddr, interface: IfId },
    /// Send out of a point-to-point interface.
    PointToPoint { interface: IfId },
    /// Drop silently (blackhole route, or a rule with action drop).
    Discard,
    /// Drop and send ICMP administratively prohibited (prohibit route).
    Prohibited,
    /// Drop and send ICMP host unreachable (unreachable route).
    HostUnreachable,
    /// Drop and send ICMP network unreachable (no route, or a rule with action unreachable).
    NetworkUnreachable,
}

/// How a packet picks one of several ECMP next hops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EcmpMode {
    /// Each decision takes the next hop after the previous one (the seed's behaviour).
    #[default]
    RoundRobin,
    /// A hash of (source, destination): a flow keeps its next hop.
    PerFlowHash,
}

/// How one decision picks among ECMP next hops ([`crate::Rib::decide_ecmp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcmpChoice {
    /// The next hop after the one the previous decision for this route took.
    RoundRobin,
    /// The next hop this flow hash selects (hash modulo the number of next hops): equal
    /// hashes, equal next hops.
    Flow(u32),
}

/// How far a route got in selection (`contribution=` in `/routing route print detail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contribution {
    /// Selected and installed in the FIB.
    Active,
    /// The best of the candidates that were not selected.
    BestCandidate,
    /// Could be selected, but a better route exists.
    Candidate,
}

impl Contribution {
    pub const fn as_str(self) -> &'static str {
        match self {
            Contribution::Active => "active",
            Contribution::BestCandidate => "best-candidate",
            Contribution::Candidate => "candidate",
        }
    }
}

/// A resource whose fixed limit was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Routes,
    Addresses,
    Rules,
    Tables,
    /// A table's FIB memory (`RibConfig::fib_v4` / `fib_v6` too small).
    Fib,
    /// Distinct forwarding actions (next-hop sets), at most `NextHop::MAX + 1`.
    NextHops,
}

/// Why a RIB operation was refused; the RIB is unchanged after an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RibError {
    NoSuchRoute,
    NoSuchAddress,
    NoSuchRule,
    NoSuchTable,
    NoSuchInterface,
    /// Connected and dynamic routes are not edited through the static-route API.
    NotEditable,
    /// The gateways, `pref_src` or rule prefixes are of a different family than the route.
    AfiMismatch,
    /// The address length exceeds the family's width.
    InvalidPrefix,
    /// A unicast route needs at least one gateway; other types take none.
    BadGateways,
    /// A table with this name exists.
    DuplicateName,
    /// The table is used by routes or rules, or is `main`.
    TableInUse,
    /// A fixed limit was reached.
    Full(Resource),
}
