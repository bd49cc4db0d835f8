//! The network between guests: the vifs of `/metarouter interface`, the bridges of
//! `/interface bridge`, and moving frames through the switch.
//!
//! On every configuration change the switch is rebuilt from the management plane's snapshot
//! (its MAC tables start empty, as RouterOS's do after a bridge change), and each running
//! guest is told which virtual interfaces it has (NEWIFACE / DELIFACE). Frames move in
//! [`switch_frames`]: each guest's TX ring is drained, every frame goes through the switch's
//! decision, and is copied once, straight from the sender's RAM into each receiver's posted
//! buffer.

use alloc::boxed::Box;

use mgmt::network::NetInterfaceKind;
use mgmt::{GuestId, NetworkConfig, MAX_GUESTS};
use vdevices::Delivery;
use vswitch::{BridgeConfig, Forward, PortId, PortSettings, Seconds, Switch};

use super::Guest;

/// Interface ids a guest can have (1..=7; 0 carries control messages).
const IFACES: usize = 8;
const PORTS: usize = 128;
const BRIDGES: usize = 32;
const MACS: usize = 1024;
/// Frames taken from one guest per pass.
const TX_BUDGET: usize = 64;

type Mac = [u8; 6];

pub struct Net {
    switch: Box<Switch<PORTS, BRIDGES, MACS>>,
    /// The guest interface behind each switch port.
    owner: [Option<(GuestId, u16)>; PORTS],
    /// Each guest's interfaces: MAC and switch port.
    ifaces: [[Option<(Mac, PortId)>; IFACES]; MAX_GUESTS],
}

impl Net {
    pub fn new() -> Self {
        Net { switch: Box::new(Switch::new()), owner: [None; PORTS], ifaces: [[None; IFACES]; MAX_GUESTS] }
    }

    /// The MAC of a guest's first interface, if it has one (what its kernel is told, `kmac=`;
    /// otherwise the MAC its configuration carries, derived from the box's identity).
    pub fn guest_mac(&self, id: GuestId) -> Option<Mac> {
        self.ifaces[usize::from(id.0)].iter().flatten().map(|(mac, _)| *mac).next()
    }

    /// Tell a guest that just booted about its interfaces (they are announced once it creates
    /// its virtual-ethernet queue).
    pub fn attach_guest(&self, id: GuestId, guest: &mut Guest) {
        let Some(mut ram) = guest.ram() else { return };
        for (i, iface) in self.ifaces[usize::from(id.0)].iter().enumerate() {
            let _ = guest.devices.set_veth_interface(&mut ram, i as u16, iface.map(|(mac, _)| mac));
        }
    }

    pub fn forget_guest(&mut self, id: GuestId) {
        self.ifaces[usize::from(id.0)] = [None; IFACES];
    }

    /// Rebuild the switch from `config` and update every running guest's interfaces.
    pub fn apply(&mut self, config: &NetworkConfig, guests: &mut [Option<Box<Guest>>; MAX_GUESTS]) {
        let mut switch = Box::new(Switch::new());
        let mut owner = [None; PORTS];
        let mut ifaces = [[None; IFACES]; MAX_GUESTS];
        let mut bridge_of = alloc::vec![None; config.interfaces.len()];
        let mut port_of = alloc::vec![None; config.interfaces.len()];
        for (i, iface) in config.interfaces.iter().enumerate() {
            match &iface.kind {
                NetInterfaceKind::Bridge { ageing_time_s, .. } => {
                    let cfg = BridgeConfig { ageing_time: *ageing_time_s, vlan_filtering: false };
                    bridge_of[i] = switch.add_bridge(cfg).ok();
                }
                NetInterfaceKind::Vif { link } => {
                    let (g, id) = (usize::from(link.guest.0), usize::from(link.interface_id));
                    if g >= MAX_GUESTS || id == 0 || id >= IFACES {
                        continue;
                    }
                    let Ok(port) = switch.add_port() else { continue };
                    owner[port.index()] = Some((link.guest, id as u16));
                    ifaces[g][id] = Some((link.guest_mac, port));
                    port_of[i] = Some(port);
                }
                // Physical ports join the switch once their NIC drivers exist.
                NetInterfaceKind::Ethernet { .. } => {}
            }
        }
        for bp in &config.bridge_ports {
            let (Some(Some(bridge)), Some(Some(port))) = (bridge_of.get(bp.bridge), port_of.get(bp.interface)) else {
                continue;
            };
            let horizon = bp.horizon.and_then(|h| u16::try_from(h).ok());
            let _ = switch.attach(*port, *bridge, PortSettings { horizon, ..Default::default() });
        }
        self.switch = switch;
        self.owner = owner;
        let changed: [bool; MAX_GUESTS] = core::array::from_fn(|g| ifaces[g] != self.ifaces[g]);
        self.ifaces = ifaces;
        for (g, guest) in guests.iter_mut().enumerate() {
            if let Some(guest) = guest.as_deref_mut() {
                if changed[g] {
                    self.attach_guest(GuestId(g as u8), guest);
                }
            }
        }
    }
}

/// Move the frames every guest has sent through the switch.
pub fn switch_frames(net: &mut Net, guests: &mut [Option<Box<Guest>>; MAX_GUESTS]) {
    let now = Seconds((crate::time::uptime_ms() / 1000) as u32);
    for i in 0..MAX_GUESTS {
        let Some(mut ram_i) = guests[i].as_deref().and_then(Guest::ram) else { continue };
        let mut sent = 0;
        for _ in 0..TX_BUDGET {
            let Some(g) = guests[i].as_deref_mut() else { break };
            let tx = match g.devices.veth_next_tx(&mut ram_i) {
                Ok(Some(tx)) => tx,
                _ => break,
            };
            let (iface, token) = (tx.iface, tx.token);
            let own_frame = token.frame_location();
            let mut to_self: Option<u16> = None;
            if let Some(&Some((_, port))) = net.ifaces[i].get(usize::from(iface)) {
                let decision = net.switch.forward(now, port, tx.frame);
                let mut deliver = |out: PortId, guests: &mut [Option<Box<Guest>>; MAX_GUESTS]| {
                    let Some((dst, dst_iface)) = net.owner[out.index()] else { return };
                    let j = usize::from(dst.0);
                    if j == i {
                        to_self = Some(dst_iface);
                        return;
                    }
                    let Some(h) = guests[j].as_deref_mut() else { return };
                    let Some(mut ram_j) = h.ram() else { return };
                    if let Ok(Delivery::Delivered) = h.devices.veth_deliver(&mut ram_j, dst_iface, tx.frame) {
                        h.note_delivery();
                    }
                };
                match decision {
                    Forward::Unicast(out) => deliver(out, guests),
                    Forward::Flood(set) => set.iter().for_each(|out| deliver(out, guests)),
                    Forward::Drop(_) => {}
                }
            }
            let Some(g) = guests[i].as_deref_mut() else { break };
            if let Some(dst_iface) = to_self {
                if let Ok(Delivery::Delivered) = g.devices.veth_deliver_own(&mut ram_i, dst_iface, own_frame) {
                    g.note_delivery();
                }
            }
            let _ = g.devices.veth_complete_tx(&mut ram_i, token);
            sent += 1;
        }
        if sent > 0 {
            if let Some(g) = guests[i].as_deref_mut() {
                g.ring_space_freed();
            }
        }
    }
}
