//! Physical ports as switch ports, through the product's frame loop, against a fake NIC:
//! ether to ether and ether to vif (and back) in one bridge, learning and flooding, horizons,
//! link down and disabled ports, a port in no bridge handing its frames to the host, the
//! receive budget per pass, one doorbell per pass, counters.

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use common::*;
use vmm::ether::{EtherPort, EtherPortPlan, HostFrames, PortCounters, RX_BUDGET};
use vmm::{BridgePortPlan, GuestId, NetworkPlan, VifPlan};
use vswitch::BridgeConfig;

/// What a fake NIC holds: frames the wire brought in, frames sent, doorbells, link.
#[derive(Default)]
struct Wire {
    incoming: VecDeque<Vec<u8>>,
    queued: Vec<Vec<u8>>,
    sent: Vec<Vec<u8>>,
    doorbells: usize,
    link_down: bool,
    link_changed: bool,
    tx_slots: Option<usize>,
    counters: PortCounters,
}

struct FakeNic(Rc<RefCell<Wire>>);

impl EtherPort for FakeNic {
    fn mac(&self) -> [u8; 6] {
        [0x52, 0x54, 0, 0, 0, 1]
    }
    fn link_up(&self) -> bool {
        !self.0.borrow().link_down
    }
    fn take_events(&mut self) -> bool {
        std::mem::take(&mut self.0.borrow_mut().link_changed)
    }
    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize {
        let mut n = 0;
        while n < budget {
            let Some(frame) = self.0.borrow_mut().incoming.pop_front() else {
                break;
            };
            {
                let mut w = self.0.borrow_mut();
                w.counters.rx_frames += 1;
                w.counters.rx_bytes += frame.len() as u64;
            }
            deliver(&frame);
            n += 1;
        }
        n
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        let mut w = self.0.borrow_mut();
        if w.tx_slots.is_some_and(|slots| w.queued.len() >= slots) {
            w.counters.tx_queue_drops += 1;
            return false;
        }
        w.queued.push(frame.to_vec());
        true
    }
    fn flush_tx(&mut self) {
        let mut w = self.0.borrow_mut();
        w.doorbells += 1;
        let queued = std::mem::take(&mut w.queued);
        for f in &queued {
            w.counters.tx_frames += 1;
            w.counters.tx_bytes += f.len() as u64;
        }
        w.sent.extend(queued);
    }
    fn reclaim_tx(&mut self) {}
    fn counters(&self) -> PortCounters {
        self.0.borrow().counters
    }
}

/// Frames the host was given: `(port, frame)`.
type Received = Rc<RefCell<Vec<(usize, Vec<u8>)>>>;

struct HostLog(Received);

impl HostFrames for HostLog {
    fn receive(&mut self, port: usize, frame: &[u8]) {
        self.0.borrow_mut().push((port, frame.to_vec()));
    }
}

/// A wire-side MAC.
fn peer(n: u8) -> [u8; 6] {
    [0x0E, 0, 0, 0, 0, n]
}

fn take_sent(wire: &Rc<RefCell<Wire>>) -> Vec<Vec<u8>> {
    std::mem::take(&mut wire.borrow_mut().sent)
}

/// A manager with `ports` fake NICs and guests `0..guests` (interface 1 each, brought up).
struct Net {
    m: vmm::Manager<FakeMachine>,
    wires: Vec<Rc<RefCell<Wire>>>,
    host: Received,
}

impl Net {
    fn new(ports: usize, guests: u8, plan: &NetworkPlan) -> Self {
        let mut m = manager(None);
        let wires: Vec<_> = (0..ports)
            .map(|_| Rc::new(RefCell::new(Wire::default())))
            .collect();
        for w in &wires {
            m.net_mut().add_port(Box::new(FakeNic(w.clone())));
        }
        let host = Rc::new(RefCell::new(Vec::new()));
        m.net_mut().set_host(Box::new(HostLog(host.clone())));
        m.apply_network(plan);
        for g in 0..guests {
            let cpu = started(&mut m, g, &format!("g{g}"));
            bring_up(&mut m, g, &cpu);
        }
        Net { m, wires, host }
    }

    fn arrive(&self, port: usize, frame: &[u8]) {
        self.wires[port]
            .borrow_mut()
            .incoming
            .push_back(frame.to_vec());
    }
}

fn ether(port: usize, bridge: Option<usize>) -> EtherPortPlan {
    EtherPortPlan {
        port,
        bridge,
        horizon: None,
        enabled: true,
    }
}

/// One bridge with ether1, ether2 and guest 0's vif.
fn bridge_plan() -> NetworkPlan {
    NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        vifs: vec![VifPlan {
            guest: GuestId(0),
            interface: 1,
            mac: mac(0, 1),
        }],
        ports: vec![BridgePortPlan {
            vif: 0,
            bridge: 0,
            horizon: None,
        }],
        ethers: vec![ether(0, Some(0)), ether(1, Some(0))],
    }
}

#[test]
fn a_broadcast_from_a_port_floods_to_the_other_port_and_the_guest() {
    let mut n = Net::new(2, 1, &bridge_plan());
    let hello = frame(BROADCAST, peer(1), 60, 0x11);
    n.arrive(0, &hello);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), std::slice::from_ref(&hello));
    assert_eq!(
        take_sent(&n.wires[0]),
        Vec::<Vec<u8>>::new(),
        "not back out"
    );
    assert_eq!(received(&mut n.m, 0), [(1, hello)]);
}

#[test]
fn the_switch_learns_wire_addresses_and_answers_go_out_of_one_port() {
    let mut n = Net::new(2, 1, &bridge_plan());
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 1));
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    take_sent(&n.wires[0]);
    take_sent(&n.wires[1]);
    received(&mut n.m, 0);
    // Port to port, unicast: only ether2 sends it.
    let to_peer2 = frame(peer(2), peer(1), 1514, 3);
    n.arrive(0, &to_peer2);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), [to_peer2]);
    assert_eq!(received(&mut n.m, 0), []);
    // Guest to wire, unicast: only ether1 sends it.
    let to_peer1 = frame(peer(1), mac(0, 1), 100, 4);
    send(&mut n.m, 0, 0, 1, &to_peer1);
    round(&mut n.m);
    assert_eq!(take_sent(&n.wires[0]), [to_peer1]);
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    // Wire to guest, unicast.
    let to_guest = frame(mac(0, 1), peer(2), 64, 5);
    n.arrive(1, &to_guest);
    n.m.service();
    assert_eq!(received(&mut n.m, 0), [(1, to_guest)]);
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
}

#[test]
fn ports_with_one_horizon_do_not_forward_to_each_other() {
    let mut plan = bridge_plan();
    plan.ethers[0].horizon = Some(1);
    plan.ethers[1].horizon = Some(1);
    let mut n = Net::new(2, 1, &plan);
    let hello = frame(BROADCAST, peer(1), 60, 1);
    n.arrive(0, &hello);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    assert_eq!(
        received(&mut n.m, 0),
        [(1, hello)],
        "the vif has no horizon"
    );
}

#[test]
fn a_port_whose_link_is_down_sends_nothing_and_counts_it() {
    let mut n = Net::new(2, 1, &bridge_plan());
    {
        let mut w = n.wires[1].borrow_mut();
        w.link_down = true;
        w.link_changed = true;
    }
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 1));
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    assert_eq!(n.m.net().port_counters(1).unwrap().tx_drops, 1);
    // What arrives on it while down is dropped too (a device may still hand it up).
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
    assert_eq!(n.m.net().port_counters(1).unwrap().rx_drops, 1);
    // Link up again: traffic flows.
    {
        let mut w = n.wires[1].borrow_mut();
        w.link_down = false;
        w.link_changed = true;
    }
    let again = frame(BROADCAST, peer(1), 60, 3);
    n.arrive(0, &again);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), [again]);
}

#[test]
fn a_disabled_port_passes_nothing() {
    let mut plan = bridge_plan();
    plan.ethers[1].enabled = false;
    let mut n = Net::new(2, 1, &plan);
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 1));
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
    assert_eq!(received(&mut n.m, 0).len(), 1, "only ether1's frame");
}

#[test]
fn a_port_in_no_bridge_hands_its_frames_to_the_host() {
    let mut plan = bridge_plan();
    plan.ethers[1].bridge = None;
    let mut n = Net::new(2, 1, &plan);
    let for_host = frame(BROADCAST, peer(2), 60, 7);
    n.arrive(1, &for_host);
    n.m.service();
    assert_eq!(*n.host.borrow(), [(1, for_host)]);
    assert_eq!(received(&mut n.m, 0), []);
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
    // The host answers out of that port.
    let answer = frame(peer(2), [2, 0, 0, 0, 0, 0xAA], 60, 8);
    assert!(n.m.net_mut().send_from_host(1, &answer));
    assert_eq!(take_sent(&n.wires[1]), [answer]);
}

#[test]
fn a_port_not_in_the_plan_passes_nothing() {
    let mut plan = bridge_plan();
    plan.ethers.truncate(1);
    let mut n = Net::new(2, 1, &plan);
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    assert_eq!(received(&mut n.m, 0), []);
    assert!(n.host.borrow().is_empty());
}

#[test]
fn a_pass_takes_a_budget_of_frames_per_port_and_rings_one_doorbell() {
    let mut n = Net::new(2, 0, &bridge_plan());
    for i in 0..RX_BUDGET + 10 {
        n.arrive(0, &frame(BROADCAST, peer(1), 60, i as u8));
    }
    n.m.service();
    assert!(n.m.ports_busy(), "frames are left: poll again soon");
    assert_eq!(take_sent(&n.wires[1]).len(), RX_BUDGET);
    assert_eq!(
        n.wires[1].borrow().doorbells,
        1,
        "one doorbell for the pass"
    );
    n.m.service();
    assert!(!n.m.ports_busy());
    assert_eq!(take_sent(&n.wires[1]).len(), 10);
    n.m.service();
    assert_eq!(
        n.wires[1].borrow().doorbells,
        2,
        "no doorbell for an empty pass"
    );
}

#[test]
fn a_full_transmit_ring_drops_and_counts_without_stopping_the_others() {
    let mut n = Net::new(2, 1, &bridge_plan());
    n.wires[1].borrow_mut().tx_slots = Some(3);
    for i in 0..5 {
        n.arrive(0, &frame(BROADCAST, peer(1), 60, i));
    }
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]).len(), 3);
    assert_eq!(n.m.net().port_counters(1).unwrap().tx_queue_drops, 2);
    assert_eq!(received(&mut n.m, 0).len(), 5, "the guest got every one");
    let c = n.m.net().port_counters(0).unwrap();
    assert_eq!((c.rx_frames, c.rx_bytes), (5, 300));
}
