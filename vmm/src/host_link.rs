//! Where the host's own IP endpoint (`hostip`) meets the frame switch and the ports: the host's
//! switch port in each bridge with an address (`Owner::Host` in `crate::net`), which vif or
//! ether port in no bridge is one of the host's L3 interfaces, and the outbox the endpoint's
//! frames wait in until they are delivered.
//!
//! Two calls are all a frame source needs: [`HostLink::receive`] ("a frame for the host arrived
//! on interface X") while it moves frames (`crate::net::switch_frames` for guests,
//! `crate::ether::receive_from_ports` for ports), and the frames the endpoint sends come out of
//! the outbox ("send this frame out of interface X"), which [`host_frames`] delivers once no
//! guest's RAM is open (the answer to a guest's ping goes back into that guest, whose RAM is
//! open while its ring is drained): into a vif's guest, out of an ether port, or into a bridge
//! from the host's port there (and on to guests and ports as the switch decides).
//!
//! Fixed capacity: [`OUTBOX`] frames wait at most; more in one pass are dropped and counted.

use alloc::boxed::Box;
use alloc::vec::Vec;

use hostip::{AddrConfig, FrameSink, HostIp, IfaceConfig, IfaceId, Micros, FRAME_MAX};
use vswitch::{Forward, PortId, Seconds};

use crate::ether::Ports;
use crate::net::{deliver_to_guest, Net, Owner, SwitchedGuest, IFACES};
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
    /// A physical port that is in no bridge (index into `NetworkPlan::ethers`). A port in a
    /// bridge is not a host interface: the host reaches it through its port in that bridge.
    Ether(usize),
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
    /// Out of physical port `0` (0 is ether1).
    Ether(usize),
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
    /// The host interface of each guest interface that is one (a vif in no bridge).
    vif_iface: [[Option<IfaceId>; IFACES]; MAX_GUESTS],
    /// The host interface of each physical port that is one (in no bridge), in board order.
    ether_iface: Vec<Option<IfaceId>>,
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
            vif_iface: [[None; IFACES]; MAX_GUESTS],
            ether_iface: Vec::new(),
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
        self.vif_iface = [[None; IFACES]; MAX_GUESTS];
        self.ether_iface.clear();
        self.egress.clear();
    }

    /// Host interface `iface` is switch port `port` of a bridge (the switch's owner table
    /// names it, so frames for it reach [`HostLink::receive`]).
    pub(crate) fn bridge_port(&mut self, iface: IfaceId, port: PortId) {
        self.egress.push((iface, Egress::Bridge(port)));
    }

    /// Host interface `iface` is the host side of guest `guest`'s interface `id`.
    pub(crate) fn vif(&mut self, iface: IfaceId, guest: GuestId, id: u16) {
        if let Some(slot) = self.vif_iface[guest.index()].get_mut(usize::from(id)) {
            *slot = Some(iface);
            self.egress.push((iface, Egress::Vif(guest, id)));
        }
    }

    /// Host interface `iface` is physical port `port` (0 is ether1), which is in no bridge.
    pub(crate) fn ether(&mut self, iface: IfaceId, port: usize) {
        if self.ether_iface.len() <= port {
            self.ether_iface.resize(port + 1, None);
        }
        self.ether_iface[port] = Some(iface);
        self.egress.push((iface, Egress::Ether(port)));
    }

    /// The endpoint's configuration.
    pub(crate) fn configure(&mut self, plan: &HostPlan) {
        let _ = self.ip.configure(&plan.ifaces, &plan.addrs);
    }

    /// The host interface of guest `guest`'s interface `id`, if it is one.
    pub(crate) fn vif_iface(&self, guest: usize, id: u16) -> Option<IfaceId> {
        *self.vif_iface.get(guest)?.get(usize::from(id))?
    }

    /// The host interface of physical port `port`, if it is one.
    pub(crate) fn ether_iface(&self, port: usize) -> Option<IfaceId> {
        *self.ether_iface.get(port)?
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

/// The host's own IP at time `now`: its endpoint is ticked (ageing, ping), and the frames it
/// sent are delivered: into a vif's guest, out of an ether port, or into a bridge from the
/// host's port (then to the guests and ports the switch names). One doorbell per port.
pub fn host_frames<G: SwitchedGuest>(net: &mut Net, guests: &mut [Option<G>], now: Seconds) {
    let Net {
        switch,
        owner,
        ports,
        host,
        ..
    } = net;
    host.poll();
    let sent = host.outbox.len();
    for k in 0..sent {
        let Some((iface, frame)) = host.outbox.get(k) else {
            break;
        };
        match host.egress(iface) {
            Some(Egress::Vif(guest, id)) => deliver_to_guest(guests, guest, id, frame),
            Some(Egress::Ether(j)) => {
                Ports::send(&mut ports.drivers, &mut ports.state, j, frame);
            }
            Some(Egress::Bridge(port)) => {
                let mut deliver = |out: PortId| match owner[out.index()] {
                    Some(Owner::Vif(guest, id)) => deliver_to_guest(guests, guest, id, frame),
                    Some(Owner::Ether(j)) => {
                        Ports::send(&mut ports.drivers, &mut ports.state, j, frame);
                    }
                    Some(Owner::Host(_)) | None => {}
                };
                match switch.forward(now, port, frame) {
                    Forward::Unicast(out) => deliver(out),
                    Forward::Flood(set) => set.iter().for_each(deliver),
                    Forward::Drop(_) => {}
                }
            }
            None => {}
        }
    }
    host.outbox.clear();
    if sent > 0 {
        ports.flush();
    }
}
