//! Physical Ethernet ports as switch ports, beside the guests' vifs.
//!
//! A board discovers its ports at boot and hands each over as an [`EtherPort`] (the board's
//! adapter over a driver in `drivers/`: e1000, eTSEC, AG71xx). The network ([`crate::net::Net`])
//! gives each port a switch port, so `/interface bridge port add interface=ether2` sits next to
//! `vif2` and learns, floods and keeps horizons the same way.
//!
//! The walk of a received frame ([`receive_from_ports`]): the port's receive ring lends the
//! frame as a slice of its DMA buffer; the switch decides (learning the source); for each
//! output the frame is copied once, into another port's transmit buffer or into a guest's
//! posted RX buffer, or handed to the host's own IP ([`crate::host_link::HostLink::receive`])
//! when the switch names the host's port in the bridge. A guest given frames gets its virq bit (one
//! read-modify-write of its virq word) and its interrupt once, at the end of the pass (it does
//! not run during the pass, so it finds what one raise per frame would have left). A port in no bridge is a
//! standalone interface: its frames go to the host when it is one of the host's interfaces (it
//! has an address), else nowhere. The host's answers wait in
//! its outbox and leave through `Ports::send` in `crate::host_link::host_frames`. After a
//! pass, each port that was given frames gets one doorbell. A frame that meets a full transmit
//! ring is counted by the driver and dropped, as on any switch.
//!
//! Polling and interrupts (NAPI-like): every pass takes at most [`RX_BUDGET`] frames from each
//! port; a port that had more is *busy*, and the main loop keeps polling (the board leaves its
//! interrupt masked) while guests and the console still get their turns between passes.

use alloc::boxed::Box;

use vswitch::{Forward, PortId, Seconds};

use crate::host_link::HostLink;
use crate::net::{deliver_to_guest_unraised, raise_deliveries, Net, Owner, SwitchedGuest};
use crate::vlan_port::{Parent, VlanBuf, VlanList, VlanPorts};
use crate::{GuestId, MAX_GUESTS};

/// Frames taken from one port per pass.
pub const RX_BUDGET: usize = 64;

type Mac = [u8; 6];

/// Counts of one port since boot: the driver's, with the frames the switch dropped at it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Received frames dropped (by the driver: runts, too long, bad descriptors; by the
    /// switch: the port disabled or its link down).
    pub rx_drops: u64,
    /// Frames for this port that were not sent (link down or port disabled).
    pub tx_drops: u64,
    /// Frames that met a full transmit ring.
    pub tx_queue_drops: u64,
    /// Received frames the device flagged (CRC, symbol, overrun).
    pub rx_errors: u64,
    /// Frames the device failed to send.
    pub tx_errors: u64,
}

/// A physical port as the network sees it (a board's adapter over its driver).
pub trait EtherPort {
    /// The port's address (from the device).
    fn mac(&self) -> Mac;
    /// Whether its link is up.
    fn link_up(&self) -> bool;
    /// Read and acknowledge the device's interrupt causes. Returns whether the link changed.
    fn take_events(&mut self) -> bool;
    /// Hand up to `budget` received frames to `deliver`; returns how many slots completed
    /// (less than `budget`: the ring is drained).
    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize;
    /// Queue `frame`; `false` if it was not queued (ring full even after reclaiming, or a
    /// length the device refuses; the driver counts it).
    fn transmit(&mut self, frame: &[u8]) -> bool;
    /// Queue the frame made of `head` followed by `rest`, gathered into one transmit buffer
    /// (the routed fast path: a rewritten header from a small buffer, the rest from the
    /// receive buffer); `false` as for [`EtherPort::transmit`].
    fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> bool;
    /// Tell the device about the frames queued since the last call.
    fn flush_tx(&mut self);
    /// Take back the transmit slots the device is done with.
    fn reclaim_tx(&mut self);
    /// The driver's counters.
    fn counters(&self) -> PortCounters;
}

/// A port in the network plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EtherPortPlan {
    /// The board's port (0 is ether1).
    pub port: usize,
    /// Index into [`crate::NetworkPlan::bridges`] when the port is in a bridge.
    pub bridge: Option<usize>,
    /// Split horizon in its bridge.
    pub horizon: Option<u16>,
    /// Disabled ports pass no frames.
    pub enabled: bool,
}

/// What the network knows of a port besides its driver.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PortState {
    /// Its switch port while it is in the plan.
    pub switch_port: Option<vswitch::PortId>,
    /// In a bridge (else its frames go to the host, if it is one of the host's interfaces).
    pub bridged: bool,
    pub enabled: bool,
    pub link_up: bool,
    /// Frames dropped at this port by the network (not the driver).
    pub rx_drops: u64,
    pub tx_drops: u64,
    /// Frames queued since the last doorbell.
    pub unflushed: bool,
}

impl PortState {
    /// Whether frames may go out of this port.
    pub fn passes(&self) -> bool {
        self.enabled && self.link_up
    }
}

/// The ports and their state, in board order.
#[derive(Default)]
pub(crate) struct Ports {
    pub drivers: alloc::vec::Vec<Box<dyn EtherPort>>,
    pub state: alloc::vec::Vec<PortState>,
}

impl Ports {
    /// Queue `frame` on port `j`, counting what is not sent.
    #[inline(always)]
    pub fn send(
        drivers: &mut [Box<dyn EtherPort>],
        state: &mut [PortState],
        j: usize,
        frame: &[u8],
    ) -> bool {
        let (Some(port), Some(st)) = (drivers.get_mut(j), state.get_mut(j)) else {
            return false;
        };
        if !st.passes() {
            st.tx_drops += 1;
            return false;
        }
        let queued = port.transmit(frame);
        st.unflushed |= queued;
        queued
    }

    /// [`Ports::send`] of the frame `head` then `rest` ([`EtherPort::transmit_parts`]).
    #[inline(always)]
    pub fn send_parts(
        drivers: &mut [Box<dyn EtherPort>],
        state: &mut [PortState],
        j: usize,
        head: &[u8],
        rest: &[u8],
    ) -> bool {
        let (Some(port), Some(st)) = (drivers.get_mut(j), state.get_mut(j)) else {
            return false;
        };
        if !st.passes() {
            st.tx_drops += 1;
            return false;
        }
        let queued = port.transmit_parts(head, rest);
        st.unflushed |= queued;
        queued
    }

    /// One doorbell for each port given frames in this pass; take back finished slots.
    pub fn flush(&mut self) {
        for (port, st) in self.drivers.iter_mut().zip(self.state.iter_mut()) {
            if core::mem::take(&mut st.unflushed) {
                port.flush_tx();
            }
            port.reclaim_tx();
        }
    }

    /// Counters of port `i`: the driver's and the network's.
    pub fn counters(&self, i: usize) -> Option<PortCounters> {
        let mut c = self.drivers.get(i)?.counters();
        let st = self.state.get(i)?;
        c.rx_drops += st.rx_drops;
        c.tx_drops += st.tx_drops;
        Some(c)
    }
}

/// What one receive pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Frames taken from the ports (dropped ones included).
    pub frames: usize,
    /// A port had more than its budget: poll again soon instead of waiting for an interrupt.
    pub busy: bool,
}

/// Take up to [`RX_BUDGET`] frames from every port and move them through the switch (to other
/// ports, into guests, to the host's port) or, from a port in no bridge, to the host, at time
/// `now`. `routes` is the generation of the route source the routing step of this pass will
/// use (`forward::RouteSource::generation`; `None`: no routing, or nothing may be kept): a
/// frame from a port in no bridge that the forwarder's flow cache knows under it, routed out
/// of another such port, is sent from here, without waiting in the host's inbox.
pub fn receive_from_ports<G: SwitchedGuest>(
    net: &mut Net,
    guests: &mut [Option<G>],
    now: Seconds,
    routes: Option<u64>,
) -> Pass {
    let Net {
        switch,
        owner,
        ports,
        host,
        vlans,
        ..
    } = net;
    let VlanPorts {
        list: vlans,
        rx: vlan_rx,
        tx: vlan_tx,
    } = vlans;
    // Link changes first, so no frame of this pass goes to a port whose link just went down.
    for (port, state) in ports.drivers.iter_mut().zip(ports.state.iter_mut()) {
        if port.take_events() {
            state.link_up = port.link_up();
        }
    }
    let mut pass = Pass::default();
    // The guests given frames in this pass (bit n: guest slot n), whose virq bits and
    // interrupts are raised once at its end rather than once a frame.
    let mut delivered = 0u32;
    for i in 0..ports.drivers.len() {
        let (before, rest) = ports.drivers.split_at_mut(i);
        let Some((port, after)) = rest.split_first_mut() else {
            break;
        };
        let (state_before, state_rest) = ports.state.split_at_mut(i);
        let Some((me, state_after)) = state_rest.split_first_mut() else {
            break;
        };
        // What the port's frames go through is the same for the whole pass (nothing in it
        // changes a port's state but the drop counts): decided once, not per frame.
        let taken = if !me.passes() {
            let mut dropped = 0;
            let taken = port.poll_rx(RX_BUDGET, &mut |_| dropped += 1);
            me.rx_drops += dropped;
            taken
        } else if let Some(in_port) = me.switch_port.filter(|_| me.bridged) {
            let mut out = Outputs {
                before,
                state_before,
                after,
                state_after,
                i,
                delivered: 0,
            };
            // A poll's frames come from one port at one time: a frame with the header of the
            // one before it is decided without probing the MAC table again.
            let mut ingress = switch.ingress(now, in_port);
            let taken = port.poll_rx(RX_BUDGET, &mut |frame| match ingress.forward(frame) {
                Forward::Unicast(to) => out.deliver(owner, guests, host, vlans, vlan_tx, to, frame),
                Forward::Flood(set) => set
                    .iter()
                    .for_each(|to| out.deliver(owner, guests, host, vlans, vlan_tx, to, frame)),
                Forward::Drop(_) => {}
            });
            delivered |= out.delivered;
            taken
        } else if me.switch_port.is_some() && vlans.on(Parent::Ether(i)) {
            // A port in no bridge with VLANs in bridges: a frame tagged with one of them
            // enters its bridge untagged; the rest go to the host if the port is its.
            let host_iface = host.ether_iface(i);
            let mut out = Outputs {
                before,
                state_before,
                after,
                state_after,
                i,
                delivered: 0,
            };
            let taken = port.poll_rx(RX_BUDGET, &mut |frame| {
                if let Some((in_port, untagged)) = vlans.ingress(Parent::Ether(i), frame, vlan_rx) {
                    let mut to = |to| {
                        out.deliver(owner, guests, host, vlans, vlan_tx, to, untagged);
                    };
                    match switch.forward(now, in_port, untagged) {
                        Forward::Unicast(port) => to(port),
                        Forward::Flood(set) => set.iter().for_each(to),
                        Forward::Drop(_) => {}
                    }
                } else if let Some(iface) = host_iface {
                    host.receive(iface, frame);
                }
            });
            delivered |= out.delivered;
            taken
        } else if let Some(iface) = host.ether_iface(i) {
            // A port in no bridge with an address of the host's: an interface of the host. A
            // frame the flow cache routes out of another such port leaves from the receive
            // buffer; the rest go to the host (routed frames by way of its inbox).
            match routes.filter(|_| host.routing.is_some()) {
                Some(routes) => {
                    let mut out = Outputs {
                        before,
                        state_before,
                        after,
                        state_after,
                        i,
                        delivered: 0,
                    };
                    // The rewritten head of a frame the flow cache routes.
                    let mut head = forward::fastpath::Head::default();
                    port.poll_rx(RX_BUDGET, &mut |frame| {
                        if !out.route_cached(host, routes, iface, frame, &mut head) {
                            host.receive(iface, frame);
                        }
                    })
                }
                None => port.poll_rx(RX_BUDGET, &mut |frame| host.receive(iface, frame)),
            }
        } else {
            // A port in no bridge and with no address: its frames go nowhere.
            port.poll_rx(RX_BUDGET, &mut |_| {})
        };
        pass.busy |= taken >= RX_BUDGET;
        pass.frames += taken;
    }
    ports.flush();
    for (n, guest) in guests.iter_mut().enumerate().take(MAX_GUESTS) {
        if delivered & 1 << n != 0 {
            if let Some(guest) = guest {
                raise_deliveries(guest);
            }
        }
    }
    pass
}

/// The ports other than the receiving one (`i`), split around it, as one pass sees them.
struct Outputs<'a> {
    before: &'a mut [Box<dyn EtherPort>],
    state_before: &'a mut [PortState],
    after: &'a mut [Box<dyn EtherPort>],
    state_after: &'a mut [PortState],
    i: usize,
    /// The guests given frames (bit n: guest slot n), to be noted after the poll.
    delivered: u32,
}

// A guest slot's bit fits `Outputs::delivered`.
const _: () = assert!(MAX_GUESTS <= u32::BITS as usize);

impl Outputs<'_> {
    /// Send `frame` out of switch port `to`: another physical port, a guest's vif, the host's
    /// port in the bridge, or a VLAN port (tagged, out of its parent; not back out of the
    /// receiving port). Inlined into the unicast case, so a unicast frame costs no call here.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn deliver<G: SwitchedGuest>(
        &mut self,
        owner: &[Option<Owner>],
        guests: &mut [Option<G>],
        host: &mut HostLink,
        vlans: &VlanList,
        vlan_tx: &mut VlanBuf,
        to: PortId,
        frame: &[u8],
    ) {
        match owner.get(to.index()) {
            Some(Some(Owner::Ether(j))) => self.send(*j, frame),
            Some(Some(Owner::Vif(guest, iface))) => {
                self.deliver_to_guest(guests, *guest, *iface, frame);
            }
            Some(Some(Owner::Host(iface))) => host.receive(*iface, frame),
            Some(Some(Owner::Vlan(k))) => match vlans.egress(*k, frame, vlan_tx) {
                Some((Parent::Ether(j), tagged)) => self.send(j, tagged),
                Some((Parent::Vif(guest, iface), tagged)) => {
                    self.deliver_to_guest(guests, guest, iface, tagged);
                }
                None => {}
            },
            _ => {}
        }
    }

    /// Copy `frame` into a guest's interface; its virq bit and interrupt are raised after the
    /// pass.
    #[inline(always)]
    fn deliver_to_guest<G: SwitchedGuest>(
        &mut self,
        guests: &mut [Option<G>],
        guest: GuestId,
        iface: u16,
        frame: &[u8],
    ) {
        if deliver_to_guest_unraised(guests, guest, iface, frame) {
            self.delivered |= 1u32.checked_shl(u32::from(guest.0)).unwrap_or(0);
        }
    }

    /// The routed fast path: `frame`, received on host interface `iface` (this port), when
    /// the forwarder's flow cache has its decision under the route source's generation
    /// `routes` and the host IP's neighbour generation, and the decision's egress is another
    /// port in no bridge: sent out of it, rewritten (its first `forward::fastpath::HEAD_LEN`
    /// bytes from `head`, which the cache writes), and counted as the routing step would. Returns whether
    /// it was; otherwise nothing happened and the frame goes the whole way.
    #[inline(always)]
    fn route_cached(
        &mut self,
        host: &mut HostLink,
        routes: u64,
        iface: hostip::IfaceId,
        frame: &[u8],
        head: &mut forward::fastpath::Head,
    ) -> bool {
        let Some(routing) = host.routing.as_deref_mut() else {
            return false;
        };
        let generation = forward::fastpath::Generation {
            routes,
            neighbors: host.ip.neighbor_generation(),
        };
        let Some(hit) = routing
            .fwd
            .cached(generation, routing::IfId(iface.0), frame, head)
        else {
            return false;
        };
        let j = host.places.ether_port(hostip::IfaceId(hit.interface.0));
        let Some(j) = j.filter(|j| *j != self.i) else {
            return false;
        };
        routing.fwd.sent_cached(&hit);
        let rest = &frame[forward::fastpath::HEAD_LEN..hit.len];
        let head = head.bytes();
        if j < self.i {
            Ports::send_parts(self.before, self.state_before, j, head, rest);
        } else {
            Ports::send_parts(self.after, self.state_after, j - self.i - 1, head, rest);
        }
        true
    }

    /// Queue `frame` on physical port `j`, unless it is the receiving port.
    #[inline(always)]
    fn send(&mut self, j: usize, frame: &[u8]) {
        let i = self.i;
        if j < i {
            Ports::send(self.before, self.state_before, j, frame);
        } else if j > i {
            Ports::send(self.after, self.state_after, j - i - 1, frame);
        }
    }
}
