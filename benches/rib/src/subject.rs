//! The two RIBs measured, behind one trait, and how a benchmark table is loaded into them:
//! interfaces, a connected network holding every gateway, the table's routes (next hop
//! `hash(origin AS) mod N` as a gateway address in that network), and a small separate
//! interface with a few routes of its own (the one that flaps).

use bench_common::table::Table;
use routing::rib::reference::ReferenceRib;
use routing::{
    AddressSpec, Afi, Gateway, IfId, InterfaceState, Prefix, Rib, RibConfig, RibError, RouteId,
    RouteSpec,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the benchmark does to a RIB.
pub trait Subject {
    fn make(limits: RibConfig) -> Self;
    fn add_route(&mut self, spec: RouteSpec) -> Result<RouteId, RibError>;
    fn set_route(&mut self, id: RouteId, spec: RouteSpec) -> Result<(), RibError>;
    fn remove_route(&mut self, id: RouteId) -> Result<(), RibError>;
    fn set_interface(&mut self, id: IfId, state: InterfaceState) -> Result<(), RibError>;
    fn add_address(&mut self, spec: AddressSpec) -> Result<(), RibError>;
    fn load(
        &mut self,
        f: &mut dyn FnMut(&mut Self) -> Result<(), RibError>,
    ) -> Result<(), RibError>;
    /// Routes waiting for room in a full FIB.
    fn waiting(&self) -> usize;
}

macro_rules! subject {
    ($t:ty, $waiting:expr) => {
        impl Subject for $t {
            fn make(limits: RibConfig) -> Self {
                <$t>::new(limits)
            }
            fn add_route(&mut self, spec: RouteSpec) -> Result<RouteId, RibError> {
                <$t>::add_route(self, spec)
            }
            fn set_route(&mut self, id: RouteId, spec: RouteSpec) -> Result<(), RibError> {
                <$t>::set_route(self, id, spec)
            }
            fn remove_route(&mut self, id: RouteId) -> Result<(), RibError> {
                <$t>::remove_route(self, id)
            }
            fn set_interface(&mut self, id: IfId, state: InterfaceState) -> Result<(), RibError> {
                <$t>::set_interface(self, id, state)
            }
            fn add_address(&mut self, spec: AddressSpec) -> Result<(), RibError> {
                <$t>::add_address(self, spec).map(|_| ())
            }
            fn load(
                &mut self,
                f: &mut dyn FnMut(&mut Self) -> Result<(), RibError>,
            ) -> Result<(), RibError> {
                <$t>::batch(self, |rib| f(rib))
            }
            fn waiting(&self) -> usize {
                $waiting(self)
            }
        }
    };
}

subject!(Rib, |rib: &Rib| rib
    .routes()
    .filter(|v| v.waits_for_fib())
    .count());
// The reference refuses what its FIB cannot take: nothing waits.
subject!(ReferenceRib, |_: &ReferenceRib| 0);

/// The interface all table routes leave by.
pub const UPLINK: IfId = IfId(1);
/// A small interface with `SIDE_ROUTES` routes through it.
pub const SIDE: IfId = IfId(5);
pub const SIDE_ROUTES: u16 = 16;

pub const UP: InterfaceState = InterfaceState {
    running: true,
    point_to_point: false,
};
pub const DOWN: InterfaceState = InterfaceState {
    running: false,
    point_to_point: false,
};

/// Routes of one family: prefixes with next-hop numbers.
pub struct Routes {
    pub afi: Afi,
    pub prefixes: Vec<(Prefix, u16)>,
}

impl Routes {
    /// Every `step`-th prefix of `t`, at most `count` of them (the whole table in order with
    /// step 1).
    pub fn sample_v4(t: &Table<u32>, count: usize) -> Routes {
        let step = (t.entries.len() / count.max(1)).max(1);
        let prefixes = t
            .entries
            .iter()
            .step_by(step)
            .take(count)
            .map(|&(a, len, hop)| (prefix(IpAddr::V4(Ipv4Addr::from(a)), len), hop))
            .collect();
        Routes {
            afi: Afi::Ipv4,
            prefixes,
        }
    }

    pub fn all_v6(t: &Table<u128>) -> Routes {
        let prefixes = t
            .entries
            .iter()
            .map(|&(a, len, hop)| (prefix(IpAddr::V6(Ipv6Addr::from(a)), len), hop))
            .collect();
        Routes {
            afi: Afi::Ipv6,
            prefixes,
        }
    }

    pub fn len(&self) -> usize {
        self.prefixes.len()
    }
}

fn prefix(a: IpAddr, len: u8) -> Prefix {
    Prefix::new(a, len).expect("the loader checks lengths")
}

/// The gateway of next hop `hop`: an address in the uplink's connected network
/// (10.0.0.0/16 or fd00::/48).
pub fn gateway(afi: Afi, hop: u16) -> IpAddr {
    match afi {
        Afi::Ipv4 => IpAddr::V4(Ipv4Addr::new(10, 0, 1 + (hop >> 8) as u8, hop as u8)),
        Afi::Ipv6 => IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, hop, 0, 0, 0, 1)),
    }
}

/// The `i`-th prefix outside the global table (240.0.0.0/4, 2001:db8::/32), for additions.
pub fn outside(afi: Afi, i: u32) -> Prefix {
    match afi {
        Afi::Ipv4 => prefix(IpAddr::V4(Ipv4Addr::from(0xf000_0000 | (i << 8))), 24),
        Afi::Ipv6 => prefix(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, i as u16, 0, 0, 0, 0, 0)),
            48,
        ),
    }
}

pub fn via(dst: Prefix, gw: IpAddr) -> RouteSpec {
    RouteSpec::new(dst).via(Gateway::Address(gw))
}

/// Limits with room for `routes` and FIBs sized for them (or none). A sampled table is
/// scattered (a lone /24 under its /16 takes a chunk of its own), so the arenas get 48 and 64
/// bytes per route, well above a whole table's 3.9 and 11.1.
///
/// `fib_bytes_per_route` sizes both arenas at that many bytes per route instead: below a
/// table's need (3.9 and 11.1 for the global tables), the FIBs fill up and routes wait.
pub fn limits(routes: usize, fibs: bool, fib_bytes_per_route: Option<usize>) -> RibConfig {
    let (v4, v6) = match fib_bytes_per_route {
        Some(b) => (routes * b, routes * b),
        None => (routes * 48 + (1 << 20), routes * 64 + (1 << 20)),
    };
    RibConfig {
        max_routes: routes + 1024,
        fib_v4: routing::FibConfig::with_arena_bytes(v4),
        fib_v6: routing::FibConfig::with_arena_bytes(v6),
        fibs,
        ..RibConfig::default()
    }
}

/// Loads `routes` in one batch; returns the ids of the table routes, in order.
pub fn populate<S: Subject>(rib: &mut S, routes: &Routes) -> Result<Vec<RouteId>, RibError> {
    let mut ids = Vec::with_capacity(routes.len());
    rib.load(&mut |rib| {
        rib.set_interface(UPLINK, UP)?;
        rib.set_interface(SIDE, UP)?;
        let (uplink, side): (IpAddr, IpAddr) = match routes.afi {
            Afi::Ipv4 => (
                "10.0.0.254".parse().unwrap(),
                "192.168.77.254".parse().unwrap(),
            ),
            Afi::Ipv6 => ("fd00::fe".parse().unwrap(), "fd00:77::fe".parse().unwrap()),
        };
        let (up_len, side_len) = if routes.afi == Afi::Ipv4 {
            (16, 24)
        } else {
            (48, 64)
        };
        rib.add_address(AddressSpec::new(uplink, up_len, UPLINK))?;
        rib.add_address(AddressSpec::new(side, side_len, SIDE))?;
        for i in 0..SIDE_ROUTES {
            let gw = match routes.afi {
                Afi::Ipv4 => IpAddr::V4(Ipv4Addr::new(192, 168, 77, 1 + i as u8)),
                Afi::Ipv6 => IpAddr::V6(Ipv6Addr::new(0xfd00, 0x77, 0, 0, 0, 0, 0, 1 + i)),
            };
            rib.add_route(via(outside(routes.afi, 60_000 + u32::from(i)), gw))?;
        }
        for &(dst, hop) in &routes.prefixes {
            ids.push(rib.add_route(via(dst, gateway(routes.afi, hop)))?);
        }
        Ok(())
    })?;
    Ok(ids)
}
