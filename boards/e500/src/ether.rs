//! The e500 boards' Ethernet ports: every eTSEC the device tree lists (`drivers::fsl_soc`'s
//! `EthernetController`s, by physical address: ether1 first).
//!
//! - Registers: inside CCSR (the MPC8544's eTSECs at CCSR + 0x2_4000 and up) through the CCSR
//!   window; elsewhere (QEMU ppce500's platform bus at 0xF_0000_0000) through the
//!   [`DeviceWindow`].
//! - Interrupts: the tree's three MPIC sources per controller (transmit, receive, error), all
//!   level-sensitive; the board masks a source when it fires and unmasks it once the main loop
//!   has polled the ports (see `hypervisor::board`).
//! - DMA: the e500 snoops the eTSEC's accesses (the driver sets the snoop bits; see
//!   `drivers/README.md`, "DMA and caches"), so no cache maintenance: rings and buffers are in
//!   low RAM, which the hypervisor maps one to one and cacheable, and bus address = physical
//!   address = virtual address ([`CoherentDma`]). The core's pages need no M bit for this: M
//!   makes the core's own accesses global for other masters' caches (SMP), while the core snoops
//!   the device's global accesses whatever its pages say (Linux sets M only on SMP). QEMU models
//!   no cache, so QEMU cannot tell either way.
//! - Rings: 1,024 receive and 256 transmit slots of 1,536 bytes: 1,966,080 bytes of buffers
//!   and 10,240 of descriptors, two 1 MiB granules per port taken from guest RAM. The receive
//!   ring is that long for QEMU 10's model, which must never find it full: it then holds the
//!   frame, and restarting the halted ring makes it read the held frame from 4 GiB past its
//!   buffer (`etsec_walk_rx_ring`: `rx_buffer_len - rx_remaining_data` in 32 bits, where the
//!   remaining count includes the four FCS bytes), which ends QEMU with a segmentation fault.
//!   A burst shorter than the ring cannot fill it; long transfers at full rate can (seen with
//!   64 MiB of TCP between two namespaces).
//! - Link: a `phy-handle` PHY over the controller's own MDIO, read at most every
//!   [`LINK_POLL_MS`] ms when the ports are polled; a `fixed-link` as the board says
//!   ([`FixedLinks`]).

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::dma::{CoherentDma, DmaMemory};
use drivers::etsec::{self, Etsec, PhyLink};
use drivers::fsl_soc::{EthernetController, EthernetPhy, Interrupt, CCSR_LEN};
use drivers::mmio::Mmio;
use drivers::nic::{EthernetPort, Link, MacAddress, RingLayout, RingMemory, Speed};
use hypervisor::arch::{self, mmu};
use hypervisor::board::{EtherPort, PhysRange, PortCounters};

use crate::device_window::DeviceWindow;
use crate::TimebaseDelay;

/// Slots and buffers per port.
pub const LAYOUT: RingLayout = RingLayout {
    rx_slots: 1024,
    tx_slots: 256,
    buffer_size: 1536,
};
/// How often a port's PHY is asked for its link while the ports are polled.
pub const LINK_POLL_MS: u64 = 100;

/// How a board's `fixed-link` controllers learn their link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedLinks {
    /// As the tree says: always up (a real fixed link, e.g. to a switch chip).
    AsTheTreeSays,
    /// From the PHY at this address on the controller's own MDIO: QEMU's tree says
    /// `fixed-link`, but its eTSEC model has a PHY (answering at every address) whose link bit
    /// follows the monitor's `set_link`.
    FromPhyAt(u8),
}

/// DMA on the e500: coherent, bus address = physical = virtual over the RAM mapped one to one.
const DMA: CoherentDma = CoherentDma {
    cpu_base: 0,
    bus_base: 0,
    len: mmu::RAM_MAPPED,
};

/// One eTSEC port, as the network sees it.
pub struct Port {
    nic: Etsec<Mmio, CoherentDma>,
    /// Ring-full refusals followed by a second try (`EthernetPort::transmit_reclaiming`).
    retried: u64,
    /// Whether the link is read from a PHY (else it never changes).
    phy: bool,
    link: Link,
    /// Time base ticks between PHY reads, and when the next is due.
    link_period: u64,
    next_link_check: u64,
}

impl EtherPort for Port {
    fn mac(&self) -> [u8; 6] {
        self.nic.mac_address().0
    }
    fn link_up(&self) -> bool {
        self.link.up
    }
    fn take_events(&mut self) -> bool {
        // The eTSEC has no link interrupt: the PHY is asked now and then.
        let _ = self.nic.take_events();
        let now = arch::counter();
        if !self.phy || now < self.next_link_check {
            return false;
        }
        self.next_link_check = now + self.link_period;
        let link = self.nic.link();
        let changed = link.up != self.link.up;
        if changed && link.up {
            self.nic.configure_for(link);
        }
        self.link = link;
        changed
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
        let c = self.nic.counters();
        PortCounters {
            rx_frames: c.rx_frames,
            rx_bytes: c.rx_bytes,
            tx_frames: c.tx_frames,
            tx_bytes: c.tx_bytes,
            rx_drops: c.rx_dropped(),
            tx_drops: c.tx_rejected,
            tx_queue_drops: c.tx_queue_drops(self.retried),
            rx_errors: c.rx_errors,
            tx_errors: c.tx_errors,
        }
    }
}

/// What [`start_ports`] needs from the board.
pub struct PortSetup<'a> {
    /// The CCSR window and its physical base.
    pub ccsr: Mmio,
    pub ccsr_phys: u64,
    pub timebase_hz: u64,
    pub fixed_links: FixedLinks,
    pub dma_ram: &'a mut dyn FnMut(u64, u64) -> Option<PhysRange>,
}

/// Start every controller of `controllers`. Returns the ports (ether1 first) and the MPIC
/// interrupts they raise. A controller that fails to start is reported and skipped.
pub fn start_ports(
    controllers: &[Option<EthernetController>],
    setup: PortSetup<'_>,
) -> (Vec<Box<dyn EtherPort>>, Vec<Interrupt>) {
    let mut ports: Vec<Box<dyn EtherPort>> = Vec::new();
    let mut interrupts = Vec::new();
    let delay = TimebaseDelay {
        hz: setup.timebase_hz,
    };
    let area = (Etsec::<Mmio, CoherentDma>::buffer_bytes(LAYOUT)
        + Etsec::<Mmio, CoherentDma>::descriptor_bytes(LAYOUT)) as u64;
    for c in controllers.iter().flatten() {
        let name = ports.len() + 1;
        let Some(regs) = registers(c.phys, &setup) else {
            hypervisor::println!("ether{name}: registers at {:#x} out of reach", c.phys);
            continue;
        };
        let Some(memory) = (setup.dma_ram)(area, mmu::RAM_MAPPED as u64).and_then(ring_memory)
        else {
            hypervisor::println!("ether{name}: no RAM for its rings");
            break;
        };
        let (phy, link) = link_source(c.phy, setup.fixed_links);
        // The tree's address, else the boot loader's, else a locally administered one.
        let mac = c.mac.map(MacAddress);
        let mut nic = match Etsec::new(regs, DMA, memory, LAYOUT, mac, phy, &delay) {
            Ok(nic) => nic,
            Err(e) => {
                hypervisor::println!("ether{name}: {e:?}");
                continue;
            }
        };
        if nic.mac_address().0 == [0; 6] {
            #[allow(clippy::cast_possible_truncation)]
            nic.set_mac_address(MacAddress([0x02, 0, 0, 0, 0, name as u8]));
        }
        let from_phy = matches!(phy, PhyLink::Mdio { .. });
        let link = if from_phy { nic.link() } else { link };
        nic.configure_for(link);
        nic.set_promiscuous(true);
        nic.set_interrupts(true);
        interrupts.extend(c.interrupts.iter().flatten().copied());
        let link_period = setup.timebase_hz * LINK_POLL_MS / 1000;
        ports.push(Box::new(Port {
            nic,
            retried: 0,
            phy: from_phy,
            link,
            link_period,
            next_link_check: arch::counter() + link_period,
        }));
    }
    (ports, interrupts)
}

/// The controller's 4 KiB of registers: in CCSR, or through the device window (mapped at the
/// first device outside CCSR; every other one must lie in the same 1 MiB).
fn registers(phys: u64, setup: &PortSetup<'_>) -> Option<Mmio> {
    let len = etsec::REGISTER_WINDOW;
    if let Some(offset) = phys.checked_sub(setup.ccsr_phys) {
        if offset + len as u64 <= CCSR_LEN as u64 {
            return Some(setup.ccsr.window(usize::try_from(offset).ok()?, len));
        }
    }
    DeviceWindow::shared(phys)?.registers(phys, len)
}

/// Where the driver reads the link, and the link to assume when it is fixed.
fn link_source(phy: EthernetPhy, fixed_links: FixedLinks) -> (PhyLink, Link) {
    match (phy, fixed_links) {
        (EthernetPhy::Mdio { address }, _)
        | (EthernetPhy::Fixed { .. }, FixedLinks::FromPhyAt(address)) => {
            (PhyLink::Mdio { address }, Link::DOWN)
        }
        (EthernetPhy::Fixed { mbps, full_duplex }, FixedLinks::AsTheTreeSays) => {
            let link = Link {
                up: true,
                speed: match mbps {
                    10 => Some(Speed::Mbps10),
                    100 => Some(Speed::Mbps100),
                    1000 => Some(Speed::Mbps1000),
                    _ => None,
                },
                full_duplex,
            };
            (PhyLink::Fixed(link), link)
        }
        // No word on the link: a PHY at address 0 is the usual guess; none answering reads as
        // down.
        (EthernetPhy::Unknown, _) => (PhyLink::Mdio { address: 0 }, Link::DOWN),
    }
}

/// Buffers first, descriptors after them, in `ram` (low RAM, seen one to one).
fn ring_memory(ram: PhysRange) -> Option<RingMemory> {
    if ram.base.checked_add(ram.size)? > mmu::RAM_MAPPED as u64 {
        return None;
    }
    let base = usize::try_from(ram.base).ok()?;
    let buffers = Etsec::<Mmio, CoherentDma>::buffer_bytes(LAYOUT);
    let descriptors = Etsec::<Mmio, CoherentDma>::descriptor_bytes(LAYOUT);
    if buffers + descriptors > usize::try_from(ram.size).ok()? {
        return None;
    }
    // SAFETY: `ram` was just taken from the RAM allocator for good (never handed to a guest or
    // the heap) and is given to this one port; low RAM is mapped one to one.
    let memory = unsafe {
        RingMemory {
            buffers: DmaMemory::new(base, buffers),
            descriptors: DmaMemory::new(base + buffers, descriptors),
        }
    };
    Some(memory)
}
