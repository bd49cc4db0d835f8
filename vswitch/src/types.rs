//! The switch's vocabulary: port and bridge ids, time, settings, decisions, errors, counters.

use crate::mac::MacAddr;
use crate::portset::PortSet;
use crate::vlan::PortVlan;

/// Time as the caller keeps it: seconds since some fixed point (wrapping is fine).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seconds(pub u32);

/// A port of the switch (a guest's virtual interface, later a physical NIC port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub(crate) u16);

impl PortId {
    /// The port with this index.
    pub const fn new(index: u16) -> Self {
        Self(index)
    }
    /// Its index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BridgeId(pub(crate) u16);

impl BridgeId {
    /// Its index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// RouterOS's default `ageing-time`: 5 minutes.
pub const DEFAULT_AGEING: u32 = 300;

/// Settings of a bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    /// Seconds after which an address not seen again is forgotten.
    pub ageing_time: u32,
    /// Honour the ports' VLAN membership (see [`crate::vlan`]).
    pub vlan_filtering: bool,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            ageing_time: DEFAULT_AGEING,
            vlan_filtering: false,
        }
    }
}

/// Settings of a port in its bridge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortSettings {
    /// Ports with the same horizon value never forward to each other (split horizon).
    pub horizon: Option<u16>,
    /// VLAN membership, used when the bridge filters VLANs.
    pub vlan: PortVlan,
}

/// Why a frame goes nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The ingress port does not exist.
    UnknownPort,
    /// The ingress port is not in a bridge.
    NotInBridge,
    /// Shorter than an Ethernet header (or its VLAN tag).
    Runt,
    /// The source address is a group address or all-zero.
    InvalidSource,
    /// The ingress port is not a member of the frame's VLAN (or does not admit untagged frames).
    VlanNotAdmitted,
    /// IEEE 802.1D reserved link-local destination.
    ReservedDestination,
    /// The destination was learned on the ingress port.
    SamePort,
    /// The destination's port has the ingress port's horizon.
    Horizon,
    /// Nothing else in the bridge (and VLAN, and outside the horizon) to flood to.
    NoEgressPort,
}

/// The decision for one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// Goes nowhere.
    Drop(DropReason),
    /// Goes to one port.
    Unicast(PortId),
    /// Goes to each of these ports (never the ingress port).
    Flood(PortSet),
}

/// Why a configuration change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchError {
    /// No such port.
    UnknownPort,
    /// No such bridge.
    UnknownBridge,
    /// All port slots are used.
    TooManyPorts,
    /// All bridge slots are used.
    TooManyBridges,
    /// The port is already in another bridge (detach it first).
    PortInOtherBridge,
}

/// Learning and forwarding counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwitchStats {
    /// Addresses learned.
    pub learned: u64,
    /// Addresses that moved to another port.
    pub moved: u64,
    /// Addresses not learned because the table was full.
    pub table_full: u64,
}

/// An address in a bridge's MAC table, for `/interface bridge host print`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    /// The bridge.
    pub bridge: BridgeId,
    /// VLAN id (0 when the bridge does not filter and the frame was untagged).
    pub vid: u16,
    /// The station.
    pub mac: MacAddr,
    /// Where it was last seen.
    pub port: PortId,
    /// Seconds since it was last seen.
    pub age: u32,
}
