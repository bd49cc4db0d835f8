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
//! VLAN interfaces ([`HostAttach::Vlan`]) live here too: a frame for the host on a parent
//! (a vif or port in no bridge, or the host's port in a bridge) tagged with a VLAN of the
//! host's is given to the endpoint untagged, as that VLAN interface's; what the endpoint sends
//! on a VLAN interface is tagged and leaves by its parent's way.
//!
//! Routing: a unicast IPv4 or IPv6 frame for the host's MAC may be for another network. It
//! waits in the inbox until the routing step of the frame loop ([`crate::routed::route_frames`])
//! hands it to the forwarding path (`forward::Forwarder`), which delivers it to the endpoint
//! when it is for one of the host's own addresses and routes it otherwise; every other frame
//! (ARP, neighbour discovery, broadcasts, multicasts) goes to the endpoint at once.
//!
//! Fixed capacity: the outbox and the inbox hold [`QUEUE_FRAMES`] frames each, in
//! [`OUTBOX_BYTES`] and [`INBOX_BYTES`]; more in one pass are dropped and counted.

use alloc::boxed::Box;
use alloc::vec::Vec;

use forward::Forwarder;
use hostip::{AddrConfig, HostIp, IfaceConfig, IfaceId, Micros, StaticArp, FRAME_MAX};
use vswitch::{Forward, PortId, Seconds, Switch};

use crate::ether::{EtherPort, PortState, Ports};
use crate::frame_queue::FrameQueue;
use crate::net::{deliver_to_guest, Net, Owner, SwitchedGuest, BRIDGES, IFACES, MACS, PORTS};
use crate::vlan_port::{Parent, VlanPorts};
use crate::{GuestId, MAX_GUESTS};

/// Frames the outbox or the inbox holds: two ports' receive budget.
pub const QUEUE_FRAMES: usize = 2 * crate::ether::RX_BUDGET;
/// Bytes the outbox holds (what the host's own IP sends in a pass: answers, requests).
pub const OUTBOX_BYTES: usize = 16 * 1024;
/// Bytes the inbox holds: two ports' receive budget of full-size frames (a pass of routed
/// traffic is never dropped for room).
pub const INBOX_BYTES: usize = QUEUE_FRAMES * FRAME_MAX;

/// The frames the endpoint sent, waiting to be delivered.
pub type Outbox = FrameQueue<QUEUE_FRAMES, OUTBOX_BYTES>;
/// The frames for the host's MAC that may be routed, waiting for the routing step.
pub type Inbox = FrameQueue<QUEUE_FRAMES, INBOX_BYTES>;

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
    /// An 802.1Q VLAN interface: frames of host interface `parent` (itself attached) tagged
    /// `vid`. Listed after its parent.
    Vlan { parent: IfaceId, vid: u16 },
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
    /// The static ARP entries (`/ip arp add`).
    pub static_arp: Vec<StaticArp>,
    /// The forwarding path's settings (`/ip settings`, `/ipv6 settings`).
    pub forwarding: forward::Config,
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
    /// Tagged with VLAN id `1`, out of host interface `0` (never itself a VLAN).
    Vlan(IfaceId, u16),
}

/// A tagged frame: the largest untagged one and its 802.1Q tag.
const TAGGED_MAX: usize = FRAME_MAX + vswitch::TAG_LEN;

/// The endpoint, its outbox and its places in the switch.
pub struct HostLink {
    pub(crate) ip: Box<HostIp>,
    pub(crate) outbox: Box<Outbox>,
    /// The routing state, made when the host first has an interface (a box that is no
    /// router pays nothing for it).
    pub(crate) routing: Option<Box<Routing>>,
    /// Where each host interface meets the switch.
    pub(crate) places: Places,
    /// A received tagged frame, untagged.
    untagged: Box<[u8; TAGGED_MAX]>,
    pub(crate) now: Micros,
}

/// What routing needs beside the endpoint.
pub(crate) struct Routing {
    /// Unicast IP frames for the host's MAC, waiting for the routing step.
    pub(crate) inbox: Inbox,
    /// The forwarding path; its interfaces are the host's (`IfId(n)` is `IfaceId(n)`).
    pub(crate) fwd: Forwarder,
}

/// Where the host's interfaces meet the switch and the ports.
#[derive(Default)]
pub(crate) struct Places {
    /// The host interface of each guest interface that is one (a vif in no bridge).
    vif_iface: [[Option<IfaceId>; IFACES]; MAX_GUESTS],
    /// The host interface of each physical port that is one (in no bridge), in board order.
    ether_iface: Vec<Option<IfaceId>>,
    /// The physical port of each host interface that is one, by interface index (the routed
    /// fast path's egress, found without a search).
    iface_ether: Vec<Option<usize>>,
    egress: Vec<(IfaceId, Egress)>,
    /// The VLAN interfaces: (parent, VLAN id, the VLAN's interface).
    vlans: Vec<(IfaceId, u16, IfaceId)>,
}

impl Places {
    /// The physical port host interface `iface` is, when it is one (in no bridge, not a VLAN).
    #[inline(always)]
    pub(crate) fn ether_port(&self, iface: IfaceId) -> Option<usize> {
        *self.iface_ether.get(usize::from(iface.0))?
    }

    /// Where frames the host sends on `iface` go.
    pub(crate) fn egress(&self, iface: IfaceId) -> Option<Egress> {
        self.egress
            .iter()
            .find(|(i, _)| *i == iface)
            .map(|(_, e)| *e)
    }
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
            outbox: Box::new(Outbox::new()),
            routing: None,
            places: Places::default(),
            untagged: Box::new([0; TAGGED_MAX]),
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
        self.places = Places::default();
    }

    /// Host interface `iface` is VLAN `vid` of host interface `parent`, which has a place
    /// already (else the VLAN has none either).
    pub(crate) fn vlan(&mut self, iface: IfaceId, parent: IfaceId, vid: u16) {
        if matches!(self.places.egress(parent), Some(Egress::Vlan(..)) | None) {
            return;
        }
        self.places.vlans.push((parent, vid, iface));
        self.places.egress.push((iface, Egress::Vlan(parent, vid)));
    }

    /// Host interface `iface` is switch port `port` of a bridge (the switch's owner table
    /// names it, so frames for it reach [`HostLink::receive`]).
    pub(crate) fn bridge_port(&mut self, iface: IfaceId, port: PortId) {
        self.places.egress.push((iface, Egress::Bridge(port)));
    }

    /// Host interface `iface` is the host side of guest `guest`'s interface `id`.
    pub(crate) fn vif(&mut self, iface: IfaceId, guest: GuestId, id: u16) {
        if let Some(slot) = self.places.vif_iface[guest.index()].get_mut(usize::from(id)) {
            *slot = Some(iface);
            self.places.egress.push((iface, Egress::Vif(guest, id)));
        }
    }

    /// Host interface `iface` is physical port `port` (0 is ether1), which is in no bridge.
    pub(crate) fn ether(&mut self, iface: IfaceId, port: usize) {
        if self.places.ether_iface.len() <= port {
            self.places.ether_iface.resize(port + 1, None);
        }
        self.places.ether_iface[port] = Some(iface);
        let at = usize::from(iface.0);
        if self.places.iface_ether.len() <= at {
            self.places.iface_ether.resize(at + 1, None);
        }
        self.places.iface_ether[at] = Some(port);
        self.places.egress.push((iface, Egress::Ether(port)));
    }

    /// The endpoint's configuration, and the forwarding path's interfaces: each of the
    /// host's interfaces with its MAC, MTU and first IPv4 and (not link-local) IPv6 address
    /// (the sources of the ICMP errors sent there).
    pub(crate) fn configure(&mut self, plan: &HostPlan) {
        let _ = self.ip.configure(&plan.ifaces, &plan.addrs);
        self.ip.set_static_arp(&plan.static_arp);
        if self.routing.is_none() && !plan.ifaces.is_empty() {
            self.routing = Some(Box::new(Routing {
                inbox: Inbox::new(),
                fwd: Forwarder::new(plan.forwarding),
            }));
        }
        if let Some(routing) = &mut self.routing {
            crate::routed::configure(&mut routing.fwd, plan);
        }
    }

    /// The forwarding path's counters and wait queues (none before the host had an
    /// interface).
    pub fn forwarder(&self) -> Option<&Forwarder> {
        self.routing.as_ref().map(|r| &r.fwd)
    }

    /// Frames for the host's MAC dropped because the inbox was full.
    pub fn inbox_dropped(&self) -> u64 {
        self.routing.as_ref().map_or(0, |r| r.inbox.dropped)
    }

    /// The host interface of guest `guest`'s interface `id`, if it is one.
    pub(crate) fn vif_iface(&self, guest: usize, id: u16) -> Option<IfaceId> {
        *self.places.vif_iface.get(guest)?.get(usize::from(id))?
    }

    /// The host interface of physical port `port`, if it is one.
    pub(crate) fn ether_iface(&self, port: usize) -> Option<IfaceId> {
        *self.places.ether_iface.get(port)?
    }

    /// A frame for the host arrived on `iface`: tagged with one of the host's VLANs on
    /// `iface`, it is that VLAN interface's, untagged; otherwise `iface`'s (the endpoint drops
    /// and counts tagged frames it has no VLAN for).
    pub fn receive(&mut self, iface: IfaceId, frame: &[u8]) {
        if !self.places.vlans.is_empty() {
            if let Some(vid) = vswitch::vlan::tagged_vid(frame) {
                let vlan = self
                    .places
                    .vlans
                    .iter()
                    .find(|(parent, id, _)| *parent == iface && *id == vid);
                if let Some(&(_, _, vlan)) = vlan {
                    if let Some(len) = vswitch::vlan::untag_into(frame, &mut *self.untagged) {
                        let frame = &self.untagged[..len];
                        Self::take(
                            &mut self.ip,
                            self.routing.as_deref_mut(),
                            &mut self.outbox,
                            self.now,
                            vlan,
                            frame,
                        );
                        return;
                    }
                }
            }
        }
        Self::take(
            &mut self.ip,
            self.routing.as_deref_mut(),
            &mut self.outbox,
            self.now,
            iface,
            frame,
        );
    }

    /// A frame for the host on `iface`: a unicast IPv4 or IPv6 frame waits in the inbox for
    /// the routing step (it may be for another network); the rest go to the endpoint now.
    fn take(
        ip: &mut HostIp,
        routing: Option<&mut Routing>,
        outbox: &mut Outbox,
        now: Micros,
        iface: IfaceId,
        frame: &[u8],
    ) {
        match routing {
            Some(r) if forward::parse::may_route(frame) => {
                r.inbox.push(iface, frame);
            }
            _ => ip.receive(now, iface, frame, outbox),
        }
    }

    /// Time passed: the endpoint's ageing and ping.
    pub fn poll(&mut self) {
        self.ip.poll(self.now, &mut *self.outbox);
    }
}

/// The host's own IP at time `now`: its endpoint is ticked (ageing, ping), and the frames it
/// sent are delivered (`Delivery::deliver`). One doorbell per port.
pub fn host_frames<G: SwitchedGuest>(net: &mut Net, guests: &mut [Option<G>], now: Seconds) {
    net.host.poll();
    let sent = net.host.outbox.len();
    for k in 0..sent {
        let Net {
            switch,
            owner,
            ports,
            host,
            vlans,
            ..
        } = &mut *net;
        let Some((iface, frame)) = host.outbox.get(k) else {
            break;
        };
        let mut to = Delivery {
            switch,
            owner,
            ports: &mut ports.drivers,
            state: &mut ports.state,
            vlans,
            places: &host.places,
            now,
        };
        to.deliver(guests, iface, frame);
    }
    net.host.outbox.clear();
    if sent > 0 {
        net.ports.flush();
    }
}

/// What a frame the host sends needs to reach its interface: the switch, who is behind each
/// switch port, the ports, the VLAN ports and the host's places.
pub(crate) struct Delivery<'a> {
    pub(crate) switch: &'a mut Switch<PORTS, BRIDGES, MACS>,
    pub(crate) owner: &'a [Option<Owner>; PORTS],
    pub(crate) ports: &'a mut [Box<dyn EtherPort>],
    pub(crate) state: &'a mut [PortState],
    pub(crate) vlans: &'a mut VlanPorts,
    pub(crate) places: &'a Places,
    pub(crate) now: Seconds,
}

impl Delivery<'_> {
    /// Send `frame` out of host interface `iface`: into a vif's guest, out of an ether port,
    /// or into a bridge from the host's port (then to the guests and ports the switch names);
    /// a VLAN interface's frame is tagged first and leaves by its parent's way.
    pub(crate) fn deliver<G: SwitchedGuest>(
        &mut self,
        guests: &mut [Option<G>],
        iface: IfaceId,
        frame: &[u8],
    ) {
        match self.places.egress(iface) {
            Some(Egress::Vlan(parent, vid)) => {
                // The tag buffer only on this path: a frame that is not tagged costs no
                // clearing of it.
                let mut tagged = [0u8; TAGGED_MAX];
                if let Some(len) = vswitch::vlan::tag_into(frame, vid, &mut tagged) {
                    let egress = self.places.egress(parent);
                    self.deliver_by(guests, egress, &tagged[..len]);
                }
            }
            egress => self.deliver_by(guests, egress, frame),
        }
    }

    /// Send `frame` by `egress` (never [`Egress::Vlan`]: its frame was tagged for its parent's).
    #[inline(always)]
    fn deliver_by<G: SwitchedGuest>(
        &mut self,
        guests: &mut [Option<G>],
        egress: Option<Egress>,
        frame: &[u8],
    ) {
        match egress {
            Some(Egress::Vif(guest, id)) => deliver_to_guest(guests, guest, id, frame),
            Some(Egress::Ether(j)) => {
                Ports::send(self.ports, self.state, j, frame);
            }
            Some(Egress::Bridge(port)) => {
                let VlanPorts { list, tx, .. } = &mut *self.vlans;
                let (ports, state, owner) = (&mut *self.ports, &mut *self.state, self.owner);
                let mut deliver = |out: PortId| match owner[out.index()] {
                    Some(Owner::Vif(guest, id)) => deliver_to_guest(guests, guest, id, frame),
                    Some(Owner::Ether(j)) => {
                        Ports::send(ports, state, j, frame);
                    }
                    Some(Owner::Vlan(k)) => match list.egress(k, frame, tx) {
                        Some((Parent::Ether(j), tagged)) => {
                            Ports::send(ports, state, j, tagged);
                        }
                        Some((Parent::Vif(guest, id), tagged)) => {
                            deliver_to_guest(guests, guest, id, tagged)
                        }
                        None => {}
                    },
                    Some(Owner::Host(_)) | None => {}
                };
                match self.switch.forward(self.now, port, frame) {
                    Forward::Unicast(out) => deliver(out),
                    Forward::Flood(set) => set.iter().for_each(deliver),
                    Forward::Drop(_) => {}
                }
            }
            Some(Egress::Vlan(..)) | None => {}
        }
    }
}
