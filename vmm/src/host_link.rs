//! Where the host's own IP endpoint (`hostip`) meets the frame switch: which switch port is the
//! host's in each bridge with an address, which vif not in a bridge is one of the host's L3
//! interfaces, and the outbox the endpoint's frames wait in until they are delivered.
//!
//! Two calls are all a frame source needs: [`HostLink::receive`] ("a frame for the host arrived
//! on interface X") while it moves frames, and the frames the endpoint sends come out of
//! the host link's outbox ("send this frame out of interface X"), which `crate::net` delivers
//! once no guest's RAM is open (the answer to a guest's ping goes back into that guest, whose
//! RAM is open while its ring is drained). Ether ports use the same two calls.
//!
//! Fixed capacity: [`OUTBOX`] frames wait at most; more in one pass are dropped and counted.

use alloc::boxed::Box;
use alloc::vec::Vec;

use hostip::{AddrConfig, FrameSink, HostIp, IfaceConfig, IfaceId, Micros, FRAME_MAX};
use vswitch::PortId;

use crate::net::{IFACES, PORTS};
use crate::{GuestId, MAX_GUESTS};

/// Frames the endpoint may send in one pass of the frame loop.
pub const OUTBOX: usize = 8;

/// Where a host interface meets the switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostAttach {
    /// The host side of a vif that is in no bridge (index into `NetworkPlan::vifs`).
    Vif(usize),
    /// A bridge (index into `NetworkPlan::bridges`): the host has a port in it.
    Bridge(usize),
}

/// The host's own IP, as the management plane configured it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostPlan {
    /// Its interfaces.
    pub ifaces: Vec<IfaceConfig>,
    /// Their addresses.
    pub addrs: Vec<AddrConfig>,
    /// Where each interface with an address meets the switch.
    pub links: Vec<(IfaceId, HostAttach)>,
}

/// Where a frame from the host goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Egress {
    /// Into guest `guest`'s interface `iface`.
    Vif(GuestId, u16),
    /// Into the switch from the host's port.
    Bridge(PortId),
}

/// Frames the endpoint sent, waiting to be delivered.
pub struct Outbox {
    frames: [[u8; FRAME_MAX]; OUTBOX],
    meta: [(IfaceId, usize); OUTBOX],
    len: usize,
    /// Frames dropped because the outbox was full.
    pub dropped: u64,
}

impl FrameSink for Outbox {
    fn send(&mut self, iface: IfaceId, frame: &[u8]) {
        if self.len == OUTBOX || frame.len() > FRAME_MAX {
            self.dropped += 1;
            return;
        }
        self.frames[self.len][..frame.len()].copy_from_slice(frame);
        self.meta[self.len] = (iface, frame.len());
        self.len += 1;
    }
}

impl Outbox {
    /// Frame `k` and its interface.
    pub(crate) fn get(&self, k: usize) -> Option<(IfaceId, &[u8])> {
        let (iface, len) = *self.meta.get(k).filter(|_| k < self.len)?;
        Some((iface, &self.frames[k][..len]))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }
}

/// The endpoint, its outbox and its places in the switch.
pub struct HostLink {
    ip: Box<HostIp>,
    pub(crate) outbox: Box<Outbox>,
    /// The host interface behind each switch port that is the host's.
    port_iface: [Option<IfaceId>; PORTS],
    /// The host interface of each guest interface that is one (a vif in no bridge).
    vif_iface: [[Option<IfaceId>; IFACES]; MAX_GUESTS],
    egress: Vec<(IfaceId, Egress)>,
    now: Micros,
}

impl Default for HostLink {
    fn default() -> Self {
        Self::new()
    }
}

impl HostLink {
    /// No interfaces.
    pub fn new() -> Self {
        HostLink {
            ip: Box::new(HostIp::new()),
            outbox: Box::new(Outbox {
                frames: [[0; FRAME_MAX]; OUTBOX],
                meta: [(IfaceId(0), 0); OUTBOX],
                len: 0,
                dropped: 0,
            }),
            port_iface: [None; PORTS],
            vif_iface: [[None; IFACES]; MAX_GUESTS],
            egress: Vec::new(),
            now: 0,
        }
    }

    /// The endpoint (tables, counters, the ping).
    pub fn ip(&self) -> &HostIp {
        &self.ip
    }

    /// The endpoint, to start or stop a ping.
    pub fn ip_mut(&mut self) -> &mut HostIp {
        &mut self.ip
    }

    /// The time the frame loop runs at (microseconds).
    pub fn set_time(&mut self, now: Micros) {
        self.now = now;
    }

    /// The time last set.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// Forget every place in the switch (it is being rebuilt).
    pub(crate) fn clear(&mut self) {
        self.port_iface = [None; PORTS];
        self.vif_iface = [[None; IFACES]; MAX_GUESTS];
        self.egress.clear();
    }

    /// Host interface `iface` is switch port `port` of a bridge.
    pub(crate) fn bridge_port(&mut self, iface: IfaceId, port: PortId) {
        if let Some(slot) = self.port_iface.get_mut(port.index()) {
            *slot = Some(iface);
            self.egress.push((iface, Egress::Bridge(port)));
        }
    }

    /// Host interface `iface` is the host side of guest `guest`'s interface `id`.
    pub(crate) fn vif(&mut self, iface: IfaceId, guest: GuestId, id: u16) {
        if let Some(slot) = self.vif_iface[guest.index()].get_mut(usize::from(id)) {
            *slot = Some(iface);
            self.egress.push((iface, Egress::Vif(guest, id)));
        }
    }

    /// The endpoint's configuration.
    pub(crate) fn configure(&mut self, plan: &HostPlan) {
        let _ = self.ip.configure(&plan.ifaces, &plan.addrs);
    }

    /// The host interface behind switch port `port`, if it is the host's.
    pub(crate) fn port_iface(&self, port: PortId) -> Option<IfaceId> {
        *self.port_iface.get(port.index())?
    }

    /// The host interface of guest `guest`'s interface `id`, if it is one.
    pub(crate) fn vif_iface(&self, guest: usize, id: u16) -> Option<IfaceId> {
        *self.vif_iface.get(guest)?.get(usize::from(id))?
    }

    /// Where frames the host sends on `iface` go.
    pub(crate) fn egress(&self, iface: IfaceId) -> Option<Egress> {
        self.egress
            .iter()
            .find(|(i, _)| *i == iface)
            .map(|(_, e)| *e)
    }

    /// A frame for the host arrived on `iface`.
    pub fn receive(&mut self, iface: IfaceId, frame: &[u8]) {
        self.ip.receive(self.now, iface, frame, &mut *self.outbox);
    }

    /// Time passed: the endpoint's ageing and ping.
    pub fn poll(&mut self) {
        self.ip.poll(self.now, &mut *self.outbox);
    }
}
