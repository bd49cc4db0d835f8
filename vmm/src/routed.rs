//! The routing step of the frame loop: the unicast IPv4 and IPv6 frames that reached the
//! host's MAC in this pass (waiting in the host's inbox, [`crate::host_link`]) go through the
//! forwarding path (`forward::Forwarder`), with the routing decision of the management
//! plane's RIB (a [`RouteSource`] lent for the pass). A frame for one of the host's own
//! addresses goes on to the host's IP endpoint; a routed one is rewritten in place (TTL,
//! MACs) and delivered at once out of its egress interface, the way the host's own frames are
//! (`host_link::Delivery`): out of an ether port, into a vif's guest, into a bridge
//! from the host's port, tagged onto a VLAN. ICMP errors leave the same way.
//!
//! The forwarder's interfaces are the host's: `IfId(n)` is `IfaceId(n)` (the index in the
//! management plane's interface list); the route source translates its own interface ids.
//! Next hops are looked up in the host IP's ARP and neighbour tables; an unknown one is asked
//! for once (the packet waits in the forwarder's bounded queue) and a `stale` one is confirmed
//! with one unicast request. Those requests are collected during the forwarder's call and sent
//! after it (`Asks`), as the tables are borrowed meanwhile.
//!
//! Without a route source (`None`: a machine whose management plane routes nothing) every
//! frame goes to the endpoint, as before routing existed.

use core::net::IpAddr;

use forward::{Forwarder, Interface, Neighbors, Outcome, RouteSource, Sink, MAX_MTU, MIN_MTU};
use hostip::{HostIp, IfaceId, Lookup, Mac, Micros};
use routing::IfId;
use vswitch::Seconds;

use crate::host_link::{Delivery, HostLink, HostPlan, Outbox, Routing};
use crate::net::{Net, SwitchedGuest};

/// Neighbour requests one forwarder call may make (one resolution per packet, a
/// confirmation per open wait queue when they are released).
const ASKS: usize = 16;

/// The forwarder's settings and interfaces from the host's plan: every interface of the host with its MAC,
/// MTU (clamped to what the forwarder takes), first IPv4 address and first IPv6 address that
/// is not link-local; interfaces no longer planned are forgotten.
pub(crate) fn configure(fwd: &mut Forwarder, plan: &HostPlan) {
    if *fwd.config() != plan.forwarding {
        fwd.set_config(plan.forwarding);
    }
    let gone: alloc::vec::Vec<IfId> = fwd
        .interfaces()
        .map(|i| i.id)
        .filter(|id| !plan.ifaces.iter().any(|i| i.id.0 == id.0))
        .collect();
    for id in gone {
        fwd.remove_interface(id);
    }
    for iface in &plan.ifaces {
        let addrs = plan.addrs.iter().filter(|a| a.iface == iface.id);
        let v4 = addrs.clone().find_map(|a| match a.addr {
            IpAddr::V4(v4) => Some((v4, a.prefix_len)),
            IpAddr::V6(_) => None,
        });
        let v6 = addrs.clone().find_map(|a| match a.addr {
            IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 != 0xfe80 => Some(v6),
            _ => None,
        });
        let _ = fwd.set_interface(Interface {
            id: IfId(iface.id.0),
            mac: iface.mac,
            mtu: iface.mtu.clamp(MIN_MTU, MAX_MTU),
            v4,
            v6,
            peer_mac: [0; 6],
        });
    }
}

/// Route the frames in the host's inbox (see the module's doc), at time `now`. Returns
/// whether there was anything to do.
pub fn route_frames<G: SwitchedGuest>(
    net: &mut Net,
    guests: &mut [Option<G>],
    now: Seconds,
    routes: Option<&dyn RouteSource>,
) -> bool {
    let Net {
        switch,
        owner,
        ports,
        host,
        vlans,
        ..
    } = net;
    let HostLink {
        ip,
        outbox,
        routing,
        places,
        now: now_us,
        ..
    } = host;
    let now_us = *now_us;
    let Some(routing) = routing.as_deref_mut() else {
        return false;
    };
    let Routing { inbox, fwd } = routing;
    if inbox.is_empty() && fwd.waiting_next_hops() == 0 {
        return false;
    }
    let mut sink = DeliverySink {
        to: Delivery {
            switch,
            owner,
            ports: &mut ports.drivers,
            state: &mut ports.state,
            vlans,
            places,
            now,
        },
        guests,
    };
    let mut asks = Asks::default();
    for k in 0..inbox.len() {
        let Some((iface, frame)) = inbox.get_mut(k) else {
            break;
        };
        let Some(routes) = routes else {
            ip.receive(now_us, iface, frame, &mut **outbox);
            continue;
        };
        let mut neighbors = Tables {
            ip,
            asks: &mut asks,
        };
        let outcome = fwd.receive(
            now_us,
            IfId(iface.0),
            frame,
            routes,
            &mut neighbors,
            &mut sink,
        );
        if outcome == Outcome::ToHost {
            ip.receive(now_us, iface, frame, &mut **outbox);
        }
        asks.send(ip, now_us, outbox);
    }
    inbox.clear();
    if fwd.waiting_next_hops() > 0 {
        let mut neighbors = Tables {
            ip,
            asks: &mut asks,
        };
        fwd.poll(now_us, &mut neighbors, &mut sink);
        asks.send(ip, now_us, outbox);
    }
    ports.flush();
    true
}

/// A neighbour request the forwarder made during a call.
#[derive(Clone, Copy)]
enum Ask {
    /// Resolve an unknown next hop (broadcast request, incomplete entry).
    Resolve(IfaceId, IpAddr),
    /// Confirm a stale one (unicast request).
    Confirm(IfaceId, IpAddr, Mac),
}

/// The requests of one forwarder call, sent after it.
#[derive(Default)]
struct Asks {
    list: [Option<Ask>; ASKS],
    len: usize,
}

impl Asks {
    fn push(&mut self, ask: Ask) {
        if let Some(slot) = self.list.get_mut(self.len) {
            *slot = Some(ask);
            self.len += 1;
        }
    }

    #[inline(always)]
    fn send(&mut self, ip: &mut HostIp, now: Micros, out: &mut Outbox) {
        if self.len == 0 {
            return;
        }
        self.send_all(ip, now, out);
    }

    fn send_all(&mut self, ip: &mut HostIp, now: Micros, out: &mut Outbox) {
        for ask in self.list[..self.len].iter_mut().filter_map(Option::take) {
            match ask {
                Ask::Resolve(iface, addr) => {
                    let _ = ip.resolve(now, iface, addr, out);
                }
                Ask::Confirm(iface, addr, mac) => ip.confirm(iface, addr, mac, out),
            }
        }
        self.len = 0;
    }
}

/// The host IP's neighbour tables as the forwarder sees them.
struct Tables<'a> {
    ip: &'a HostIp,
    asks: &'a mut Asks,
}

impl Neighbors for Tables<'_> {
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac> {
        let iface = IfaceId(interface.0);
        match self.ip.neighbor_for_forwarding(iface, addr) {
            Lookup::Known(mac) => Some(mac),
            Lookup::Confirm(mac) => {
                self.asks.push(Ask::Confirm(iface, addr, mac));
                Some(mac)
            }
            Lookup::Unknown => None,
        }
    }

    fn resolve(&mut self, interface: IfId, addr: IpAddr) {
        self.asks.push(Ask::Resolve(IfaceId(interface.0), addr));
    }

    /// The host IP's; `None` while a request made during this call waits to be sent (a
    /// lookup that asked for a confirmation is not one to keep).
    fn generation(&self) -> Option<u64> {
        (self.asks.len == 0).then(|| self.ip.neighbor_generation())
    }
}

/// The forwarder's frames, delivered at once.
struct DeliverySink<'a, 'g, G> {
    to: Delivery<'a>,
    guests: &'g mut [Option<G>],
}

impl<G: SwitchedGuest> Sink for DeliverySink<'_, '_, G> {
    fn send(&mut self, interface: IfId, frame: &[u8]) {
        self.to.deliver(self.guests, IfaceId(interface.0), frame);
    }
}
