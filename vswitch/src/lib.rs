//! The hypervisor's L2 switch, portable: bridges (like RouterOS `/interface bridge`), ports in
//! at most one bridge with a horizon and optional VLAN membership, MAC learning per bridge and
//! VLAN with ageing, flooding of broadcast / multicast / unknown unicast, isolation between
//! bridges. It decides where a frame goes; the caller moves the bytes (for guests, with
//! `vdevices`, one copy per egress port).
//!
//! Fixed capacity throughout (`Switch<PORTS, BRIDGES, MACS>`), no allocation. Time is passed
//! in by the caller as [`Seconds`].
//!
//! Modules: `mac` (addresses), `frame` (header parsing), `portset` (port sets), [`table`]
//! (the MAC table), [`vlan`] (port VLAN membership and egress tag edits), `types` (ids,
//! settings, decisions), `switch` (configuration and the decision), and [`fuzzing`] (the fuzz
//! target's body, also run by `cargo test`).
#![no_std]
#![forbid(unsafe_code)]

mod frame;
pub mod fuzzing;
mod mac;
mod portset;
mod switch;
pub mod table;
mod types;
pub mod vlan;

pub use frame::{Header, HEADER_LEN, TAG_LEN, TPID_8021Q};
pub use mac::MacAddr;
pub use portset::{PortSet, MAX_PORTS};
pub use switch::{Ingress, Switch};
pub use types::{
    BridgeConfig, BridgeId, DropReason, Forward, Host, PortId, PortSettings, Seconds, SwitchError,
    SwitchStats, DEFAULT_AGEING,
};
pub use vlan::{EgressEdit, PortVlan, VlanList};
