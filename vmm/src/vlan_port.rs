//! VLAN interfaces that are bridge ports: VLAN `vid` of a physical port or of a guest's vif,
//! either in no bridge itself, as a switch port of its own (`Owner::Vlan` in `crate::net`).
//!
//! A frame arriving on the parent tagged `vid` enters the bridge from the VLAN's switch port,
//! untagged (copied once into `VlanPorts`'s receive buffer); a frame the switch sends to the
//! VLAN's port leaves the parent tagged (copied once, with the tag, into its transmit buffer,
//! then into the port's ring or the guest's RX buffer). Frames of the parent that carry no tag
//! of such a VLAN go where they went before (to the host, if the parent is one of its
//! interfaces, else nowhere). Not carried: a frame from a VLAN port back out of the same
//! parent (a hairpin between two VLANs of one port or one guest) — the parent's ring is the
//! one being read.

use alloc::boxed::Box;
use alloc::vec::Vec;

use vswitch::vlan::{tag_into, tagged_vid, untag_into};
use vswitch::PortId;

use crate::GuestId;

/// The largest frame a VLAN port takes or gives (the ports' and rings' buffers are 2 KiB).
const BUF: usize = 2048;

/// A VLAN interface in a bridge, in the network plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VlanPortPlan {
    /// The interface it is a VLAN of (which is in no bridge).
    pub parent: VlanParent,
    /// Its VLAN id (1..=4094).
    pub vid: u16,
    /// Index into [`crate::NetworkPlan::bridges`].
    pub bridge: usize,
    /// Split horizon in its bridge.
    pub horizon: Option<u16>,
}

/// The parent of a VLAN port, in the network plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlanParent {
    /// A board's port (0 is ether1).
    Ether(usize),
    /// Index into [`crate::NetworkPlan::vifs`].
    Vif(usize),
}

/// The parent of a VLAN port, as the frame loop meets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parent {
    /// Physical port `0`.
    Ether(usize),
    /// Guest `0`'s interface `1`.
    Vif(GuestId, u16),
}

/// The largest frame a VLAN port's buffers hold.
pub(crate) type VlanBuf = [u8; BUF];

/// The VLAN ports and the buffers their frames are untagged (`rx`) and tagged (`tx`) in; the
/// frame loop borrows the three apart.
pub(crate) struct VlanPorts {
    pub(crate) list: VlanList,
    pub(crate) rx: Box<VlanBuf>,
    pub(crate) tx: Box<VlanBuf>,
}

impl Default for VlanPorts {
    fn default() -> Self {
        VlanPorts {
            list: VlanList(Vec::new()),
            rx: Box::new([0; BUF]),
            tx: Box::new([0; BUF]),
        }
    }
}

/// Each VLAN port: its parent, VLAN id and switch port (`Owner::Vlan(k)` is entry `k`).
pub(crate) struct VlanList(Vec<(Parent, u16, PortId)>);

impl VlanList {
    /// No VLAN ports.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// VLAN `vid` of `parent` is switch port `port`; its index for `Owner::Vlan`.
    pub(crate) fn add(&mut self, parent: Parent, vid: u16, port: PortId) -> Option<u16> {
        let k = u16::try_from(self.0.len()).ok()?;
        self.0.push((parent, vid, port));
        Some(k)
    }

    /// Whether `parent` has VLAN ports (checked once per pass, not per frame).
    pub(crate) fn on(&self, parent: Parent) -> bool {
        self.0.iter().any(|(p, _, _)| *p == parent)
    }

    /// If `frame`, arriving on `parent`, is tagged with one of its VLAN ports' ids: that switch
    /// port and the frame untagged, in `rx`.
    pub(crate) fn ingress<'b>(
        &self,
        parent: Parent,
        frame: &[u8],
        rx: &'b mut VlanBuf,
    ) -> Option<(PortId, &'b [u8])> {
        if self.0.is_empty() {
            return None;
        }
        let vid = tagged_vid(frame)?;
        let &(_, _, port) = self.0.iter().find(|(p, v, _)| *p == parent && *v == vid)?;
        let len = untag_into(frame, rx)?;
        Some((port, &rx[..len]))
    }

    /// Where VLAN port `k`'s frames leave, and `frame` tagged for it, in `tx`.
    pub(crate) fn egress<'b>(
        &self,
        k: u16,
        frame: &[u8],
        tx: &'b mut VlanBuf,
    ) -> Option<(Parent, &'b [u8])> {
        let &(parent, vid, _) = self.0.get(usize::from(k))?;
        let len = tag_into(frame, vid, tx)?;
        Some((parent, &tx[..len]))
    }
}
