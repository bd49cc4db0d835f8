//! A driver from `drivers` as one of the network's ports: [`NicPort`] adapts any
//! [`drivers::nic::EthernetPort`] whose link the device itself reports (the e1000 on malta's and
//! on the e500's PCI bus) to the network's [`EtherPort`]; [`port_counters`] is the one mapping
//! of a driver's counters onto the network's, for adapters with their own link handling (the
//! eTSEC, whose link comes from an MDIO PHY read now and then).

use drivers::nic::{Counters, EthernetPort};

use crate::board::{EtherPort, PortCounters};

/// A driver as a port.
pub struct NicPort<N> {
    nic: N,
    /// Ring-full refusals followed by a second try (`EthernetPort::transmit_reclaiming`).
    retried: u64,
}

impl<N: EthernetPort> NicPort<N> {
    pub fn new(nic: N) -> Self {
        NicPort { nic, retried: 0 }
    }
}

impl<N: EthernetPort> EtherPort for NicPort<N> {
    fn mac(&self) -> [u8; 6] {
        self.nic.mac_address().0
    }
    fn link_up(&self) -> bool {
        self.nic.link().up
    }
    fn take_events(&mut self) -> bool {
        self.nic.take_events().link
    }
    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize {
        self.nic.poll_rx(budget, deliver)
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        self.nic.transmit_reclaiming(frame, &mut self.retried)
    }
    fn flush_tx(&mut self) {
        self.nic.flush_tx();
    }
    fn reclaim_tx(&mut self) {
        self.nic.reclaim_tx();
    }
    fn counters(&self) -> PortCounters {
        port_counters(&self.nic.counters(), self.retried)
    }
}

/// A driver's counters as the network counts them; `retried` as [`NicPort`] keeps it.
pub fn port_counters(c: &Counters, retried: u64) -> PortCounters {
    PortCounters {
        rx_frames: c.rx_frames,
        rx_bytes: c.rx_bytes,
        tx_frames: c.tx_frames,
        tx_bytes: c.tx_bytes,
        rx_drops: c.rx_dropped(),
        tx_drops: c.tx_rejected,
        tx_queue_drops: c.tx_queue_drops(retried),
        rx_errors: c.rx_errors,
        tx_errors: c.tx_errors,
    }
}
