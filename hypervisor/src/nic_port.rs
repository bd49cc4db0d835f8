//! A driver from `drivers` as one of the network's ports: [`NicPort`] adapts any
//! [`drivers::nic::EthernetPort`] to the network's [`EtherPort`], with the way it learns its
//! link as a [`LinkWatch`]: from the device itself ([`DeviceLink`]: the e1000's status register
//! and link interrupt), from a PHY read now and then ([`PolledLink`]: the eTSEC, the AG71xx,
//! which have no link interrupt), or fixed ([`FixedLink`]: a `fixed-link` to a switch chip).

use drivers::nic::{Counters, EthernetPort, Link};

use crate::board::{EtherPort, PortCounters};

/// How a port learns its link.
pub trait LinkWatch<N> {
    /// Whether the link is up, as last learnt.
    fn up(&self, nic: &N) -> bool;
    /// Called after the device's events were taken (`link_event`: the device said its link
    /// changed); whether the link changed.
    fn check(&mut self, nic: &mut N, link_event: bool) -> bool;
}

/// The device reports its link and its changes.
pub struct DeviceLink;

impl<N: EthernetPort> LinkWatch<N> for DeviceLink {
    fn up(&self, nic: &N) -> bool {
        nic.link().up
    }
    fn check(&mut self, _nic: &mut N, link_event: bool) -> bool {
        link_event
    }
}

/// A link that never changes.
pub struct FixedLink(pub Link);

impl<N> LinkWatch<N> for FixedLink {
    fn up(&self, _nic: &N) -> bool {
        self.0.up
    }
    fn check(&mut self, _nic: &mut N, _link_event: bool) -> bool {
        false
    }
}

/// A port's PHY, for [`PolledLink`].
pub trait Phy<N> {
    /// The link now (an MDIO exchange).
    fn read(&mut self, nic: &mut N) -> Link;
    /// Set the MAC up for `link`, which has just come up or changed.
    fn configure(&mut self, nic: &mut N, link: Link);
}

/// A link read from a PHY at most once a period of the CPU counter, when the ports are polled.
pub struct PolledLink<P> {
    phy: P,
    link: Link,
    period: u64,
    next_check: u64,
}

impl<P> PolledLink<P> {
    /// `link` as read at start; the next read after `period` counter ticks.
    pub fn new(phy: P, link: Link, period: u64) -> Self {
        PolledLink {
            phy,
            link,
            period,
            next_check: crate::arch::counter() + period,
        }
    }
}

impl<N, P: Phy<N>> LinkWatch<N> for PolledLink<P> {
    fn up(&self, _nic: &N) -> bool {
        self.link.up
    }
    fn check(&mut self, nic: &mut N, _link_event: bool) -> bool {
        let now = crate::arch::counter();
        if now < self.next_check {
            return false;
        }
        self.next_check = now + self.period;
        let link = self.phy.read(nic);
        let changed = link != self.link;
        if changed && link.up {
            self.phy.configure(nic, link);
        }
        self.link = link;
        changed
    }
}

/// A driver as a port.
pub struct NicPort<N, W> {
    nic: N,
    link: W,
    /// Ring-full refusals followed by a second try (`EthernetPort::transmit_reclaiming`).
    retried: u64,
}

impl<N: EthernetPort, W: LinkWatch<N>> NicPort<N, W> {
    pub fn new(nic: N, link: W) -> Self {
        NicPort {
            nic,
            link,
            retried: 0,
        }
    }
}

impl<N: EthernetPort, W: LinkWatch<N>> EtherPort for NicPort<N, W> {
    fn mac(&self) -> [u8; 6] {
        self.nic.mac_address().0
    }
    fn link_up(&self) -> bool {
        self.link.up(&self.nic)
    }
    fn take_events(&mut self) -> bool {
        let events = self.nic.take_events();
        self.link.check(&mut self.nic, events.link)
    }
    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize {
        self.nic.poll_rx(budget, deliver)
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        self.nic.transmit_reclaiming(frame, &mut self.retried)
    }
    fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> bool {
        self.nic
            .transmit_parts_reclaiming(head, rest, &mut self.retried)
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
fn port_counters(c: &Counters, retried: u64) -> PortCounters {
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
