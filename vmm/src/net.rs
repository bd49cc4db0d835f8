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
//! Physical ports are switch ports too ([`crate::ether`]): a guest's frame for one is copied
//! into the port's transmit ring. The host's own IP ([`crate::host_link`]) is behind a switch
//! port of its own in each bridge with an address, and behind each vif or ether port in no
//! bridge that has one: a frame the switch sends to the host's port, or one from such a vif or
//! port, goes to the host's endpoint; what the endpoint sends waits in its outbox and is delivered by
//! [`crate::host_link::host_frames`] after every guest's ring was drained.

use alloc::boxed::Box;
use alloc::vec::Vec;

use guest_mem::GuestRam;
use hostip::IfaceId;
use vdevices::{Delivery, GuestDevices};
use vswitch::{BridgeConfig, BridgeId, DropReason, Forward, PortId, PortSettings, Seconds, Switch};

use crate::ether::{EtherPort, EtherPortPlan, PortState, Ports};
use crate::host_link::{HostAttach, HostLink, HostPlan};
use crate::vlan_port::{Parent, VlanBuf, VlanList, VlanParent, VlanPortPlan, VlanPorts};
use crate::{GuestId, MAX_GUESTS};

/// Interface ids a guest can have (1..=7; 0 carries control messages).
pub const IFACES: usize = 8;
/// Switch ports (one per vif and physical port).
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
    /// The physical ports the configuration knows (a port left out passes no frames).
    pub ethers: Vec<EtherPortPlan>,
    /// The host's own IP: its interfaces, addresses and places in the switch.
    pub host: HostPlan,
    /// VLAN interfaces of ports and vifs (in no bridge) that are bridge ports.
    pub vlan_ports: Vec<VlanPortPlan>,
}

/// Who is behind a switch port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Guest `0`'s virtual interface `1`.
    Vif(GuestId, u16),
    /// Physical port `0` (0 is ether1).
    Ether(usize),
    /// The host's own IP, on its interface `0` (the bridge's address).
    Host(IfaceId),
    /// A VLAN interface of a port or vif (entry `0` of `Net::vlans`).
    Vlan(u16),
}

/// The switch and who is behind each of its ports.
pub struct Net {
    pub(crate) switch: Box<Switch<PORTS, BRIDGES, MACS>>,
    /// The guest interface or physical port behind each switch port.
    pub(crate) owner: [Option<Owner>; PORTS],
    /// Each guest's interfaces: MAC and switch port.
    ifaces: [[Option<(Mac, PortId)>; IFACES]; MAX_GUESTS],
    /// The physical ports, in board order.
    pub(crate) ports: Ports,
    /// The host's own IP endpoint and its places in the switch.
    pub(crate) host: HostLink,
    /// The VLAN interfaces that are bridge ports.
    pub(crate) vlans: VlanPorts,
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
            ports: Ports::default(),
            host: HostLink::new(),
            vlans: VlanPorts::default(),
        }
    }

    /// Add the board's next physical port (ether1 first). It passes no frames until a plan
    /// names it.
    pub fn add_port(&mut self, port: Box<dyn EtherPort>) {
        let link_up = port.link_up();
        self.ports.drivers.push(port);
        self.ports.state.push(PortState {
            link_up,
            ..PortState::default()
        });
    }

    /// Physical port `i` (0 is ether1).
    pub fn port(&self, i: usize) -> Option<&dyn EtherPort> {
        self.ports.drivers.get(i).map(|p| &**p)
    }

    /// How many physical ports there are.
    pub fn port_count(&self) -> usize {
        self.ports.drivers.len()
    }

    /// Counters of physical port `i`.
    pub fn port_counters(&self, i: usize) -> Option<crate::ether::PortCounters> {
        self.ports.counters(i)
    }

    /// The host's own IP endpoint.
    pub fn host(&self) -> &HostLink {
        &self.host
    }

    /// The host's own IP endpoint, to ping from.
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
            self.owner[port.index()] = Some(Owner::Vif(vif.guest, vif.interface));
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
        for st in &mut self.ports.state {
            *st = PortState {
                link_up: st.link_up,
                rx_drops: st.rx_drops,
                tx_drops: st.tx_drops,
                ..PortState::default()
            };
        }
        for ether in &plan.ethers {
            let Some(st) = self.ports.state.get_mut(ether.port) else {
                continue;
            };
            let Ok(port) = switch.add_port() else {
                continue;
            };
            self.owner[port.index()] = Some(Owner::Ether(ether.port));
            st.switch_port = Some(port);
            st.enabled = ether.enabled;
            if let Some(Some(bridge)) = ether.bridge.and_then(|b| bridge_of.get(b)) {
                let settings = PortSettings {
                    horizon: ether.horizon,
                    ..Default::default()
                };
                st.bridged = switch.attach(port, *bridge, settings).is_ok();
            }
        }
        self.attach_vlans(plan, &bridge_of, &port_of);
        self.attach_host(plan, &bridge_of, &port_of);
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

    /// Give each VLAN port of `plan.vlan_ports` a switch port in its bridge, if its parent (a
    /// port or vif) is in the switch and in no bridge.
    fn attach_vlans(
        &mut self,
        plan: &NetworkPlan,
        bridge_of: &[Option<BridgeId>],
        port_of: &[Option<PortId>],
    ) {
        let switch = &mut *self.switch;
        self.vlans.list.clear();
        for vp in &plan.vlan_ports {
            let parent = match vp.parent {
                VlanParent::Ether(e) => {
                    let st = self.ports.state.get(e);
                    if !st.is_some_and(|st| st.switch_port.is_some() && !st.bridged) {
                        continue;
                    }
                    Parent::Ether(e)
                }
                VlanParent::Vif(v) => {
                    let (Some(vif), Some(Some(port))) = (plan.vifs.get(v), port_of.get(v)) else {
                        continue;
                    };
                    if !matches!(switch.port_bridge(*port), Ok(None)) {
                        continue;
                    }
                    Parent::Vif(vif.guest, vif.interface)
                }
            };
            let Some(Some(bridge)) = bridge_of.get(vp.bridge) else {
                continue;
            };
            let Ok(port) = switch.add_port() else {
                continue;
            };
            let settings = PortSettings {
                horizon: vp.horizon,
                ..Default::default()
            };
            if switch.attach(port, *bridge, settings).is_ok() {
                if let Some(k) = self.vlans.list.add(parent, vp.vid, port) {
                    self.owner[port.index()] = Some(Owner::Vlan(k));
                }
            }
        }
    }

    /// Give the host its places from `plan.host`: a switch port in each bridge with an address
    /// (`bridge_of`: the switch's bridge for each planned one), and the vifs (`port_of`: the
    /// switch port of each planned vif) and ether ports in no bridge that carry one. A port in
    /// a bridge is not a host interface: it reaches the host through the host's port there.
    fn attach_host(
        &mut self,
        plan: &NetworkPlan,
        bridge_of: &[Option<BridgeId>],
        port_of: &[Option<PortId>],
    ) {
        self.host.clear();
        for &(iface, attach) in &plan.host.links {
            match attach {
                HostAttach::Bridge(b) => {
                    let Some(Some(bridge)) = bridge_of.get(b) else {
                        continue;
                    };
                    let Ok(port) = self.switch.add_port() else {
                        continue;
                    };
                    if self
                        .switch
                        .attach(port, *bridge, PortSettings::default())
                        .is_ok()
                    {
                        self.owner[port.index()] = Some(Owner::Host(iface));
                        self.host.bridge_port(iface, port);
                    }
                }
                HostAttach::Vif(v) => {
                    if let (Some(vif), Some(Some(_))) = (plan.vifs.get(v), port_of.get(v)) {
                        self.host.vif(iface, vif.guest, vif.interface);
                    }
                }
                HostAttach::Ether(e) => {
                    let Some(ether) = plan.ethers.get(e) else {
                        continue;
                    };
                    let state = self.ports.state.get(ether.port);
                    if state.is_some_and(|st| st.switch_port.is_some() && !st.bridged) {
                        self.host.ether(iface, ether.port);
                    }
                }
                // After every parent, below.
                HostAttach::Vlan { .. } => {}
            }
        }
        for &(iface, attach) in &plan.host.links {
            if let HostAttach::Vlan { parent, vid } = attach {
                self.host.vlan(iface, parent, vid);
            }
        }
        self.host.configure(&plan.host);
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
    net.ports.flush();
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
    let VlanPorts {
        list: vlans,
        rx: vlan_rx,
        tx: vlan_tx,
    } = &mut net.vlans;
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
                let (dst, dst_iface) = match net.owner[out.index()] {
                    Some(Owner::Vif(dst, dst_iface)) => (dst, dst_iface),
                    Some(Owner::Ether(j)) => {
                        Ports::send(&mut net.ports.drivers, &mut net.ports.state, j, tx.frame);
                        return;
                    }
                    Some(Owner::Host(host_iface)) => {
                        host.receive(host_iface, tx.frame);
                        return;
                    }
                    vlan @ Some(Owner::Vlan(_)) => {
                        let to = (&mut net.ports, &mut *host, &*vlans, &mut **vlan_tx);
                        deliver_copy(vlan, tx.frame, i, to, others);
                        return;
                    }
                    None => return,
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
                    let parent = u8::try_from(i).map(|g| Parent::Vif(GuestId(g), iface));
                    let vlan = parent
                        .ok()
                        .and_then(|parent| vlans.ingress(parent, tx.frame, vlan_rx));
                    if let Some((vport, untagged)) = vlan {
                        let mut to = |out: PortId| {
                            let to = (&mut net.ports, &mut *host, &*vlans, &mut **vlan_tx);
                            deliver_copy(net.owner[out.index()], untagged, i, to, others);
                        };
                        match net.switch.forward(now, vport, untagged) {
                            Forward::Unicast(out) => to(out),
                            Forward::Flood(set) => set.iter().for_each(to),
                            Forward::Drop(_) => {}
                        }
                    } else if let Some(host_iface) = host.vif_iface(i, iface) {
                        host.receive(host_iface, tx.frame);
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

/// Deliver `frame` (a VLAN port's copy, or a frame for a VLAN port) from guest `i`'s loop to
/// the switch port owned by `owner`: a VLAN port's frames are tagged and leave its parent. A
/// copy into guest `i` itself (a hairpin) is not made. Off the common path: not inlined.
#[cold]
#[inline(never)]
fn deliver_copy<G: SwitchedGuest>(
    owner: Option<Owner>,
    frame: &[u8],
    i: usize,
    (ports, host, vlans, vlan_tx): (&mut Ports, &mut HostLink, &VlanList, &mut VlanBuf),
    others: &mut Others<'_, G>,
) {
    let (dst, dst_iface, frame) = match owner {
        Some(Owner::Vif(dst, dst_iface)) => (dst, dst_iface, frame),
        Some(Owner::Ether(j)) => {
            Ports::send(&mut ports.drivers, &mut ports.state, j, frame);
            return;
        }
        Some(Owner::Host(host_iface)) => {
            host.receive(host_iface, frame);
            return;
        }
        Some(Owner::Vlan(k)) => match vlans.egress(k, frame, vlan_tx) {
            Some((Parent::Ether(j), tagged)) => {
                Ports::send(&mut ports.drivers, &mut ports.state, j, tagged);
                return;
            }
            Some((Parent::Vif(dst, dst_iface), tagged)) => (dst, dst_iface, tagged),
            None => return,
        },
        None => return,
    };
    if dst.index() == i {
        return;
    }
    let Some(receiver) = others.get_mut(dst.index()) else {
        return;
    };
    let Some((rx_devices, mut rx_ram)) = receiver.devices_and_ram() else {
        return;
    };
    if let Ok(Delivery::Delivered) = rx_devices.veth_deliver(&mut rx_ram, dst_iface, frame) {
        receiver.note_delivery();
    }
}

/// Copy `frame` into guest `guest`'s interface `iface` and raise its interrupt (a frame from a
/// port or from the host: no other guest's RAM is open).
pub(crate) fn deliver_to_guest<G: SwitchedGuest>(
    guests: &mut [Option<G>],
    guest: GuestId,
    iface: u16,
    frame: &[u8],
) {
    let Some(Some(receiver)) = guests.get_mut(guest.index()) else {
        return;
    };
    let Some((devices, mut ram)) = receiver.devices_and_ram() else {
        return;
    };
    if let Ok(Delivery::Delivered) = devices.veth_deliver(&mut ram, iface, frame) {
        receiver.note_delivery();
    }
}

/// [`deliver_to_guest`] for one frame of a batch (a receive pass over the ports), without
/// virq 3 or [`SwitchedGuest::note_delivery`]: whether the frame was delivered. The caller
/// ends the batch with [`raise_deliveries`] for each guest given frames, before the guest
/// runs again (it does not run during the batch, so it cannot tell the difference).
pub(crate) fn deliver_to_guest_unraised<G: SwitchedGuest>(
    guests: &mut [Option<G>],
    guest: GuestId,
    iface: u16,
    frame: &[u8],
) -> bool {
    let Some(Some(receiver)) = guests.get_mut(guest.index()) else {
        return false;
    };
    let Some((devices, mut ram)) = receiver.devices_and_ram() else {
        return false;
    };
    devices.veth_deliver_unraised(&mut ram, iface, frame)
}

/// The end of a batch of [`deliver_to_guest_unraised`] for `receiver`: virq 3 set once for the
/// batch's frames, and its interrupt noted.
pub(crate) fn raise_deliveries<G: SwitchedGuest>(receiver: &mut G) {
    if let Some((devices, mut ram)) = receiver.devices_and_ram() {
        devices.veth_raise_delivered(&mut ram);
    }
    receiver.note_delivery();
}
