//! A fake NIC for the network tests: frames the wire brings in, frames sent, doorbells, link
//! state and a transmit ring that can be made small; a manager with such ports and guests.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use vmm::ether::{EtherPort, EtherPortPlan, PortCounters};
use vmm::{BridgePortPlan, GuestId, NetworkPlan, VifPlan};
use vswitch::BridgeConfig;

use super::{bring_up, mac, manager, started, CpuState, FakeMachine};

/// What a fake NIC holds: frames the wire brought in, frames sent, doorbells, link.
#[derive(Default)]
pub struct Wire {
    pub incoming: VecDeque<Vec<u8>>,
    pub queued: Vec<Vec<u8>>,
    pub sent: Vec<Vec<u8>>,
    pub doorbells: usize,
    pub link_down: bool,
    pub link_changed: bool,
    pub tx_slots: Option<usize>,
    pub counters: PortCounters,
    /// Frames queued in two pieces (`transmit_parts`: the routed fast path).
    pub gathered: usize,
}

/// A port whose wire is a [`Wire`] the test holds too.
pub struct FakeNic(pub Rc<RefCell<Wire>>);

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
    fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> bool {
        let frame = [head, rest].concat();
        let queued = self.transmit(&frame);
        self.0.borrow_mut().gathered += usize::from(queued);
        queued
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

/// A wire-side MAC.
pub fn peer(n: u8) -> [u8; 6] {
    [0x0E, 0, 0, 0, 0, n]
}

pub fn take_sent(wire: &Rc<RefCell<Wire>>) -> Vec<Vec<u8>> {
    std::mem::take(&mut wire.borrow_mut().sent)
}

/// A manager with `ports` fake NICs and guests `0..guests` (interface 1 each, brought up).
pub struct Net {
    pub m: vmm::Manager<FakeMachine>,
    pub wires: Vec<Rc<RefCell<Wire>>>,
    /// The guests' CPUs (guest n at n).
    pub cpus: Vec<Rc<RefCell<CpuState>>>,
}

impl Net {
    pub fn new(ports: usize, guests: u8, plan: &NetworkPlan) -> Self {
        let mut m = manager(None);
        let wires: Vec<_> = (0..ports)
            .map(|_| Rc::new(RefCell::new(Wire::default())))
            .collect();
        for w in &wires {
            m.net_mut().add_port(Box::new(FakeNic(w.clone())));
        }
        m.apply_network(plan);
        let mut cpus = Vec::new();
        for g in 0..guests {
            let cpu = started(&mut m, g, &format!("g{g}"));
            bring_up(&mut m, g, &cpu);
            cpus.push(cpu);
        }
        Net { m, wires, cpus }
    }

    /// Frame `frame` comes in on the wire of port `port`.
    pub fn arrive(&self, port: usize, frame: &[u8]) {
        self.wires[port]
            .borrow_mut()
            .incoming
            .push_back(frame.to_vec());
    }
}

/// Port `port` (0 is ether1), enabled, in bridge `bridge` or in none.
pub fn ether(port: usize, bridge: Option<usize>) -> EtherPortPlan {
    EtherPortPlan {
        port,
        bridge,
        horizon: None,
        enabled: true,
    }
}

/// One bridge with ether1, ether2 and guest 0's vif.
pub fn bridge_plan() -> NetworkPlan {
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
        host: Default::default(),
        vlan_ports: Vec::new(),
    }
}
