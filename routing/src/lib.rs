//! RouterOS-semantics routing core, portable and host-tested.
//!
//! - [`fib`]: the data plane's longest-prefix-match table: fixed capacity, `&self` lookups with
//!   no allocation and no locks, incremental updates.
//! - [`rib`]: the control plane: interfaces, addresses, static routes, tables, rules, route
//!   selection and next-hop resolution with RouterOS semantics, and the routing decision.
//! - [`prefix`]: IP networks as the RIB and the CLI see them.
//! - [`fuzzing`]: fuzz-target bodies, also run by `cargo test`.
//! - [`reference`](mod@reference): a brute-force LPM used as the oracle in tests, fuzzing and
//!   the benchmark.
//! - [`index_sort`]: the one sort routine of the RIB (and the management plane), small on the
//!   target.
//!
//! See `README.md` for the API in brief and the measured figures.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod fib;
pub mod fuzzing;
pub mod index_sort;
pub mod prefix;
pub mod reference;
pub mod rib;

pub use addr::Address;
pub use fib::{Fib, Fib4, Fib6, FibConfig, FibError, NextHop};
pub use prefix::{Afi, Prefix, PrefixError};
pub use reference::ReferenceLpm;
pub use rib::types::*;
pub use rib::{AddressView, FlagLetters, RouteFlags, RouteView, RuleView, TableView};
pub use rib::{GatewayState, Rib, RibConfig};
