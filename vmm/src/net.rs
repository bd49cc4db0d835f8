//! The network between guests: the vifs of `/metarouter interface`, the bridges of
//! `/interface bridge`, and moving frames through the switch.
//!
//! On every configuration change the switch is rebuilt from a [`NetworkPlan`] (its MAC tables
//! start empty, as RouterOS's do after a bridge change), and each running guest is told which
//! virtual interfaces it has (NEWIFACE / DELIFACE). Frames move in [`switch_frames`]: each
//! guest's TX ring is drained (at most [`TX_BUDGET`] frames per pass), every frame goes through
//! the switch's decision, and is copied once, straight from the sender's RAM into each
//! receiver's posted buffer. The sender's and a receiver's RAM are open at once, as views of
//! two different guests of one table split apart ([`Others`]).
//!
//! The frame loop works on any [`SwitchedGuest`], so the benchmarks (`benches/frames`) measure
//! this code, not a copy of it.
//!
//! The host's own IP (`crate::host_link`): frames the switch sends to the host's port in a
//! bridge, and frames from a vif in no bridge that is one of the host's interfaces, go to the
//! host's endpoint; what it sends waits in its outbox and is delivered by [`host_frames`] after
//! every guest's ring was drained.

use alloc::boxed::Box;
use alloc::vec::Vec;

use guest_mem::GuestRam;
use vdevices::{Delivery, GuestDevices};
use vswitch::{BridgeConfig, DropReason, Forward, PortId, PortSettings, Seconds, Switch};

use crate::host_link::{Egress, HostAttach, HostLink, HostPlan};
use crate::{GuestId, MAX_GUESTS};

/// Interface ids a guest can have (1..=7; 0 carries control messages).
pub const IFACES: usize = 8;
/// Switch ports (one per vif).
pub const PORTS: usize = 128;
/// Bridges.
pub const BRIDGES: usize = 32;
/// Learned MAC addresses, all bridges together.
pub const MACS: usize = 1024;
/// Frames taken from one guest per pass.
pub const TX_BUDGET: usize = 64;

type Mac = [u8; 6];

/// A guest as the frame switch sees it.
pub trait SwitchedGuest {
    /// Its devices and its RAM, borrowed together; `None` when it holds no RAM.
    fn devices_and_ram(&mut self) -> Option<(&mut GuestDevices, GuestRam<'_>)>;
    /// Frames were delivered into its RAM: raise its interrupt.
    fn note_delivery(&mut self);
    /// The switch consumed some of its TX descriptors: it may go on if it waited for room.
    fn ring_space_freed(&mut self);
}

impl<G: SwitchedGuest + ?Sized> SwitchedGuest for Box<G> {
    fn devices_and_ram(&mut self) -> Option<(&mut GuestDevices, GuestRam<'_>)> {
        (**self).devices_and_ram()
    }
    fn note_delivery(&mut self) {
        (**self).note_delivery();
    }
    fn ring_space_freed(&mut self) {
        (**self).ring_space_freed();
    }
}

/// Every guest of a table but one (the sender): mutable access to the others while the
/// sender's RAM is open.
pub struct Others<'a, G> {
    before: &'a mut [Option<G>],
    after: &'a mut [Option<G>],
    at: usize,
}

impl<'a, G> Others<'a, G> {
    /// Split `guests` into guest `at` and the others.
    pub fn split(guests: &'a mut [Option<G>], at: usize) -> Option<(&'a mut Option<G>, Self)> {
        let (before, rest) = guests.split_at_mut(at);
        let (own, after) = rest.split_first_mut()?;
        Some((own, Others { before, after, at }))
    }

    /// Guest `index`, unless it is the one split off (or there is none).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut G> {
        let slot = if index < self.at {
            self.before.get_mut(index)?
        } else if index > self.at {
            self.after.get_mut(index - self.at - 1)?
        } else {
            return None;
        };
        slot.as_mut()
    }
}

/// A bridge's vif: guest `guest`'s virtual interface `interface` (1..=7) with MAC `mac`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VifPlan {
    /// The guest.
    pub guest: GuestId,
    /// Its interface id (the NEWIFACE id).
    pub interface: u16,
    /// The MAC the guest sees.
    pub mac: Mac,
}

/// A vif in a bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BridgePortPlan {
    /// Index into [`NetworkPlan::vifs`].
    pub vif: usize,
    /// Index into [`NetworkPlan::bridges`].
    pub bridge: usize,
    /// Split horizon; ports with the same horizon do not forward to each other.
    pub horizon: Option<u16>,
}

/// The whole network, as the management plane configured it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkPlan {
    /// The bridges.
    pub bridges: Vec<BridgeConfig>,
    /// The guests' virtual interfaces (those naming no valid guest or interface id are left
    /// out of the switch).
    pub vifs: Vec<VifPlan>,
    /// Which vif is in which bridge.
    pub ports: Vec<BridgePortPlan>,
    /// The host's own IP: its interfaces, addresses and places in the switch.
    pub host: HostPlan,
}

/// The switch and who is behind each of its ports.
pub struct Net {
    switch: Box<Switch<PORTS, BRIDGES, MACS>>,
    /// The guest interface behind each switch port.
    owner: [Option<(GuestId, u16)>; PORTS],
    /// Each guest's interfaces: MAC and switch port.
    ifaces: [[Option<(Mac, PortId)>; IFACES]; MAX_GUESTS],
    /// The host's own IP endpoint and its places in the switch.
    host: HostLink,
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

impl Net {
    /// No bridges, no vifs.
    pub fn new() -> Self {
        Net {
            switch: Box::new(Switch::new()),
            owner: [None; PORTS],
            ifaces: [[None; IFACES]; MAX_GUESTS],
            host: HostLink::new(),
        }
    }

    /// The host's own IP endpoint.
    pub fn host(&self) -> &HostLink {
        &self.host
    }

    /// The host's own IP endpoint, to ping from or to give frames (ether ports).
    pub fn host_mut(&mut self) -> &mut HostLink {
        &mut self.host
    }

    /// The MAC of a guest's first interface, if it has one (what its kernel is told, `kmac=`;
    /// otherwise the MAC its definition carries, derived from the box's identity).
    pub fn guest_mac(&self, id: GuestId) -> Option<Mac> {
        self.ifaces[id.index()]
            .iter()
            .flatten()
            .map(|(mac, _)| *mac)
            .next()
    }

    /// Tell a guest that just booted about its interfaces (they are announced once it creates
    /// its virtual-ethernet queue).
    pub fn attach_guest(&self, id: GuestId, guest: &mut impl SwitchedGuest) {
        let Some((devices, mut ram)) = guest.devices_and_ram() else {
            return;
        };
        for (i, iface) in (0u16..).zip(self.ifaces[id.index()].iter()) {
            let _ = devices.set_veth_interface(&mut ram, i, iface.map(|(mac, _)| mac));
        }
    }

    /// Forget a guest's interfaces (it was removed).
    pub fn forget_guest(&mut self, id: GuestId) {
        self.ifaces[id.index()] = [None; IFACES];
    }

    /// Rebuild the switch from `plan` and update every running guest's interfaces. The switch
    /// is rebuilt in place (it is tens of KiB: no second one is made).
    pub fn apply<G: SwitchedGuest>(&mut self, plan: &NetworkPlan, guests: &mut [Option<G>]) {
        let switch = &mut *self.switch;
        switch.clear();
        self.owner = [None; PORTS];
        let mut ifaces = [[None; IFACES]; MAX_GUESTS];
        let bridge_of: Vec<_> = plan
            .bridges
            .iter()
            .map(|cfg| switch.add_bridge(*cfg).ok())
            .collect();
        let mut port_of = alloc::vec![None; plan.vifs.len()];
        for (i, vif) in plan.vifs.iter().enumerate() {
            let (g, id) = (vif.guest.index(), usize::from(vif.interface));
            if g >= MAX_GUESTS || id == 0 || id >= IFACES {
                continue;
            }
            let Ok(port) = switch.add_port() else {
                continue;
            };
            self.owner[port.index()] = Some((vif.guest, vif.interface));
            ifaces[g][id] = Some((vif.mac, port));
            port_of[i] = Some(port);
        }
        for bp in &plan.ports {
            let (Some(Some(bridge)), Some(Some(port))) =
                (bridge_of.get(bp.bridge), port_of.get(bp.vif))
            else {
                continue;
            };
            let _ = switch.attach(
                *port,
                *bridge,
                PortSettings {
                    horizon: bp.horizon,
                    ..Default::default()
                },
            );
        }
        self.host.clear();
        for &(iface, attach) in &plan.host.links {
            match attach {
                HostAttach::Bridge(b) => {
                    let Some(Some(bridge)) = bridge_of.get(b) else {
                        continue;
                    };
                    let Ok(port) = switch.add_port() else {
                        continue;
                    };
                    if switch
                        .attach(port, *bridge, PortSettings::default())
                        .is_ok()
                    {
                        self.host.bridge_port(iface, port);
                    }
                }
                HostAttach::Vif(v) => {
                    if let (Some(vif), Some(Some(_))) = (plan.vifs.get(v), port_of.get(v)) {
                        self.host.vif(iface, vif.guest, vif.interface);
                    }
                }
            }
        }
        self.host.configure(&plan.host);
        let changed: [bool; MAX_GUESTS] = core::array::from_fn(|g| ifaces[g] != self.ifaces[g]);
        self.ifaces = ifaces;
        for (id, guest) in GuestId::all().zip(guests.iter_mut()) {
            if let Some(guest) = guest.as_mut() {
                if changed[id.index()] {
                    self.attach_guest(id, guest);
                }
            }
        }
    }
}

/// Move the frames every guest has sent through the switch, at time `now`.
pub fn switch_frames<G: SwitchedGuest>(net: &mut Net, guests: &mut [Option<G>], now: Seconds) {
    for i in 0..guests.len().min(MAX_GUESTS) {
        let Some((own, mut others)) = Others::split(guests, i) else {
            break;
        };
        let Some(sender) = own.as_mut() else { continue };
        let (sent, to_self) = drain_tx(net, i, sender, &mut others, now);
        if to_self {
            sender.note_delivery();
        }
        if sent > 0 {
            sender.ring_space_freed();
        }
    }
}

/// Take up to [`TX_BUDGET`] frames from guest `i`'s TX ring and deliver them. Returns how many
/// were taken, and whether one was delivered back into the sender (a hairpin between two of
/// its own interfaces).
fn drain_tx<G: SwitchedGuest>(
    net: &mut Net,
    i: usize,
    sender: &mut G,
    others: &mut Others<'_, G>,
    now: Seconds,
) -> (usize, bool) {
    let Some((devices, mut ram)) = sender.devices_and_ram() else {
        return (0, false);
    };
    let mut sent = 0;
    let mut to_self_delivered = false;
    for _ in 0..TX_BUDGET {
        let tx = match devices.veth_next_tx(&mut ram) {
            Ok(Some(tx)) => tx,
            _ => break,
        };
        let (iface, token) = (tx.iface, tx.token);
        let own_frame = token.frame_location();
        let mut to_self: Option<u16> = None;
        if let Some(&Some((_, port))) = net.ifaces[i].get(usize::from(iface)) {
            let decision = net.switch.forward(now, port, tx.frame);
            let host = &mut net.host;
            let mut deliver = |out: PortId| {
                let Some((dst, dst_iface)) = net.owner[out.index()] else {
                    if let Some(host_iface) = host.port_iface(out) {
                        host.receive(host_iface, tx.frame);
                    }
                    return;
                };
                if dst.index() == i {
                    to_self = Some(dst_iface);
                    return;
                }
                let Some(receiver) = others.get_mut(dst.index()) else {
                    return;
                };
                let Some((rx_devices, mut rx_ram)) = receiver.devices_and_ram() else {
                    return;
                };
                if let Ok(Delivery::Delivered) =
                    rx_devices.veth_deliver(&mut rx_ram, dst_iface, tx.frame)
                {
                    receiver.note_delivery();
                }
            };
            match decision {
                Forward::Unicast(out) => deliver(out),
                Forward::Flood(set) => set.iter().for_each(deliver),
                Forward::Drop(DropReason::NotInBridge) => {
                    if let Some(host_iface) = net.host.vif_iface(i, iface) {
                        net.host.receive(host_iface, tx.frame);
                    }
                }
                Forward::Drop(_) => {}
            }
        }
        if let Some(dst_iface) = to_self {
            if let Ok(Delivery::Delivered) =
                devices.veth_deliver_own(&mut ram, dst_iface, own_frame)
            {
                to_self_delivered = true;
            }
        }
        let _ = devices.veth_complete_tx(&mut ram, token);
        sent += 1;
    }
    (sent, to_self_delivered)
}

/// The host's own IP at time `now`: its endpoint is ticked (ageing, ping), and the frames it
/// sent are delivered: into a vif's guest, or into a bridge from the host's port.
pub fn host_frames<G: SwitchedGuest>(net: &mut Net, guests: &mut [Option<G>], now: Seconds) {
    net.host.poll();
    for k in 0..net.host.outbox.len() {
        let Some((iface, frame)) = net.host.outbox.get(k) else {
            break;
        };
        match net.host.egress(iface) {
            Some(Egress::Vif(guest, id)) => deliver_to(guests, guest, id, frame),
            Some(Egress::Bridge(port)) => {
                let owner = &net.owner;
                let mut deliver = |out: PortId| {
                    if let Some((guest, id)) = owner[out.index()] {
                        deliver_to(guests, guest, id, frame);
                    }
                };
                match net.switch.forward(now, port, frame) {
                    Forward::Unicast(out) => deliver(out),
                    Forward::Flood(set) => set.iter().for_each(deliver),
                    Forward::Drop(_) => {}
                }
            }
            None => {}
        }
    }
    net.host.outbox.clear();
}

/// Copies `frame` into guest `guest`'s interface `id` and raises its interrupt.
fn deliver_to<G: SwitchedGuest>(guests: &mut [Option<G>], guest: GuestId, id: u16, frame: &[u8]) {
    let Some(Some(receiver)) = guests.get_mut(guest.index()) else {
        return;
    };
    let Some((devices, mut ram)) = receiver.devices_and_ram() else {
        return;
    };
    if let Ok(Delivery::Delivered) = devices.veth_deliver(&mut ram, id, frame) {
        receiver.note_delivery();
    }
}
