//! The RIB: interfaces, addresses (connected routes), static and dynamic routes, routing
//! tables and policy rules, with RouterOS semantics, and the FIBs it keeps in sync.
//!
//! The RIB is incremental: a change costs what it affects, not what the tables hold.
//! - Routes are grouped per (table, destination) in an ordered map that is also the print
//!   order (`index`); a change selects again only the destinations it touches (`select`).
//! - Every distinct gateway has one entry with its resolution, shared by the routes that use
//!   it (`gateways`); gateway addresses are ordered, so a change to a route of `main` finds
//!   the gateways it can affect by a range query over its destination and resolves again only
//!   those, level by level, as far as the change propagates (`propagate`, `resolve`); routes
//!   that resolve through each other are settled together (`cycles`).
//! - The FIBs receive only the prefixes whose forwarding action changed.
//! - A change is applied as a transaction (`txn`): routes changed inside it wait until it is
//!   committed, the rest of the configuration keeps how to undo it, so a change that cannot
//!   be installed (a FIB or the next-hop table is full) is undone by putting back what it
//!   replaced: the RIB is unchanged after any error. [`Rib::batch`] commits many changes at
//!   once.
//!
//! A RIB made with `RibConfig { fibs: false, .. }` allocates no FIB: it selects and resolves
//! routes exactly as one with FIBs and keeps what it would install with each destination,
//! which [`Rib::decide`] searches instead. That is what a management view needs (the route
//! menus), in memory proportional to the configuration.
//!
//! The full-recomputation RIB this one replaced is kept as [`reference::ReferenceRib`] (tests
//! and the `reference` feature): the fuzz bodies check that both agree after every step.

#[cfg(test)]
mod batch_tests;
mod cycles;
mod decide;
mod edit;
#[cfg(test)]
mod fib_full_tests;
mod gateways;
mod generation;
mod hops;
mod index;
mod link;
mod propagate;
#[cfg(any(test, feature = "reference"))]
pub mod reference;
mod resolve;
mod select;
#[cfg(any(test, feature = "reference"))]
pub(crate) mod snapshot;
mod sorted_map;
pub(crate) mod state;
mod store;
#[cfg(test)]
mod tests;
mod txn;
pub mod types;
mod view;

pub use state::GatewayState;
pub use view::{AddressView, FlagLetters, RouteFlags, RouteView, RuleView, TableView};

use crate::fib::{Fib4, Fib6, FibConfig};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use gateways::Gateways;
use hops::NextHopTable;
use index::Index;
use propagate::Work;
use sorted_map::SortedMap;
use store::{IdIndex, RouteEntry, Slab};
use txn::Txn;
use types::*;

/// Fixed limits and FIB sizes.
#[derive(Clone, Copy, Debug)]
pub struct RibConfig {
    pub max_routes: usize,
    pub max_addresses: usize,
    pub max_rules: usize,
    /// Including `main`.
    pub max_tables: usize,
    /// Capacity of each table's IPv4 FIB (allocated when the table's first destination is
    /// installed; a [`FibConfig::growing`] arena grows from there).
    pub fib_v4: FibConfig,
    /// Capacity of each table's IPv6 FIB.
    pub fib_v6: FibConfig,
    pub ecmp: EcmpMode,
    /// Whether tables with `fib` get their FIBs (the data plane). `false`: no FIB memory at
    /// all; the RIB keeps what it would install with each destination and [`Rib::decide`]
    /// answers from it by longest match (same decisions, slower): for views of a
    /// configuration.
    pub fibs: bool,
}

impl Default for RibConfig {
    fn default() -> Self {
        RibConfig {
            max_routes: 16384,
            max_addresses: 1024,
            max_rules: 256,
            max_tables: 16,
            fib_v4: FibConfig::ipv4_prefixes(16384),
            fib_v6: FibConfig::ipv6_prefixes(4096),
            ecmp: EcmpMode::RoundRobin,
            fibs: true,
        }
    }
}

/// A static or dynamic route as configured.
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
    /// Static and dynamic routes in it (committed or waiting in the transaction).
    routes: u32,
}

/// The user's configuration apart from the routes themselves (which live in the route store,
/// or in the open transaction until it commits).
#[derive(Debug, Default)]
struct Config {
    interfaces: SortedMap<IfId, InterfaceState>,
    /// Ids only grow, so new entries go at the end.
    addresses: SortedMap<AddressId, ConfiguredAddress>,
    tables: SortedMap<TableId, ConfiguredTable>,
    rules: Vec<(RuleId, RuleSpec)>,
    /// Static and dynamic routes (committed or waiting in the transaction).
    routes: usize,
    next_route: u32,
    next_address: u32,
    next_rule: u32,
    next_table: u16,
}

/// What the committed state holds for an address: its connected route's id and the address
/// it contributes to the router's own addresses.
#[derive(Clone, Copy, Debug)]
struct CommittedAddress {
    route: RouteId,
    local: Option<IpAddr>,
}

/// A table's FIBs: none in a RIB without FIBs, and none before the table's first
/// destination is installed in a RIB with FIBs. What is installed is kept with each
/// destination.
struct TableFib {
    fib: Option<Box<Fibs>>,
}

struct Fibs {
    v4: Fib4,
    v6: Fib6,
}

/// The routing information base. See the crate README for the API in brief.
pub struct Rib {
    limits: RibConfig,
    config: Config,
    /// Every committed route, connected ones included.
    routes: Slab<RouteEntry>,
    ids: IdIndex,
    /// Destinations (table, prefix, destination interface) in print order, each with the
    /// list of its routes by id and what its table's FIB holds for it (`select::Dest`).
    dests: Index,
    /// Number of non-empty destinations of `main` per family and prefix length: the lengths
    /// a longest match must try.
    main_lengths: [[u32; 129]; 2],
    gateways: Gateways,
    /// Groups of routes that resolved through each other, by group id (`cycles`).
    pub(crate) groups: Slab<Vec<u32>>,
    committed: SortedMap<AddressId, CommittedAddress>,
    /// The router's own addresses (enabled ones), sorted, with how many addresses give each.
    local: Vec<(IpAddr, u32)>,
    /// One per table with `fib`.
    fibs: SortedMap<TableId, TableFib>,
    /// Destinations whose FIB holds something else than their routes want, because the FIB
    /// had no room (`select`): their routes are not active. Retried in key order (table,
    /// family, address, length) whenever their table's FIB changes.
    waiting: Index,
    hops: NextHopTable,
    work: Work,
    txn: Txn,
    /// Inside [`Rib::batch`]: changes wait for the end of the batch.
    deferred: bool,
    /// Changes with every change ([`Rib::generation`]).
    generation: generation::Generation,
}

impl Rib {
    /// An empty RIB with the `main` table (FIBs are allocated when a table's first
    /// destination is installed).
    pub fn new(limits: RibConfig) -> Rib {
        let mut config = Config {
            next_table: 1,
            ..Config::default()
        };
        config.tables.insert(
            TableId::MAIN,
            ConfiguredTable {
                name: String::from("main"),
                fib: true,
                routes: 0,
            },
        );
        let mut rib = Rib {
            limits,
            config,
            routes: Slab::default(),
            ids: IdIndex::default(),
            dests: Index::default(),
            main_lengths: [[0; 129]; 2],
            gateways: Gateways::default(),
            groups: Slab::default(),
            committed: SortedMap::default(),
            local: Vec::new(),
            fibs: SortedMap::default(),
            waiting: Index::default(),
            hops: NextHopTable::default(),
            work: Work::default(),
            txn: Txn::default(),
            deferred: false,
            generation: generation::Generation::new(),
        };
        rib.match_tables();
        rib
    }

    pub fn interface(&self, id: IfId) -> Option<InterfaceState> {
        self.config.interfaces.get(&id).copied()
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

    /// Gives every table with `fib` its forwarding state and drops that of tables that no
    /// longer exist (their destinations were withdrawn before).
    fn match_tables(&mut self) {
        let tables = &self.config.tables;
        let mut gone: Vec<TableId> = Vec::new();
        self.fibs.retain(|id, _| {
            let keep = tables.get(&id).is_some_and(|t| t.fib);
            if !keep {
                gone.push(id);
            }
            keep
        });
        for table in gone {
            self.forget_waiting(table);
        }
        for (id, t) in self.config.tables.iter() {
            if t.fib && !self.fibs.contains_key(&id) {
                self.fibs.insert(id, TableFib::new(&self.limits));
            }
        }
    }
}

impl TableFib {
    /// A table's forwarding state: no FIB yet (a RIB with FIBs makes them when the table's
    /// first destination is installed, `select::install`).
    fn new(_limits: &RibConfig) -> TableFib {
        TableFib { fib: None }
    }
}

impl Fibs {
    /// Kept out of line: the two `Fib` values are built on the stack (a few KiB) before they
    /// move to the heap, and a RIB without FIBs should not pay for that frame. `None` when
    /// the heap has no room for them.
    #[inline(never)]
    fn try_new(limits: &RibConfig) -> Option<Box<Fibs>> {
        Some(Box::new(Fibs {
            v4: Fib4::try_new(limits.fib_v4)?,
            v6: Fib6::try_new(limits.fib_v6)?,
        }))
    }
}
