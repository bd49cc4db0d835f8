//! The malta's Ethernet ports: every Intel 82540EM (QEMU `-device e1000`) on PCI bus 0, in
//! slot order (ether1 is the lowest slot).
//!
//! For each function: BAR 0 placed in the GT-64120's PCI memory window (bus address = CPU
//! physical address on malta) and seen uncached through kseg1; memory decoding and bus
//! mastering on; its INTx routed through malta's slot wiring and the PIIX4's PIRQ routing to an
//! ISA IRQ, which is made level-triggered in the ELCR (PCI lines are level-triggered and
//! shared). Rings: 256 receive and 224 transmit slots of 2,048 bytes, 990,720 bytes per port
//! in one 1 MiB granule taken from guest RAM.
//!
//! DMA (the 24Kc's caches do not snoop): descriptors are reached through kseg1 (uncached),
//! buffers through kseg0 (cached) with `cache` write-back / invalidate per line as the drivers'
//! rule says ([`MaltaDma`]). The whole area is written back and invalidated once before the
//! device gets it, so no line cached earlier can later be evicted over it.

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::dma::{DmaMemory, DmaOps};
use drivers::e1000::{self, E1000};
use drivers::gt64120::{Gt64120Pci, PciFunction};
use drivers::mmio::Mmio;
use drivers::nic::{Delay, EthernetPort, RingLayout, RingMemory};
use drivers::pci;
use hypervisor::arch::dcache;
use hypervisor::board::{EtherPort, PhysRange, PortCounters};

/// kseg0 (cached) and kseg1 (uncached) views of low physical memory.
const KSEG0: usize = 0x8000_0000;
const KSEG1: usize = 0xA000_0000;
/// What kseg0/kseg1 reach.
const KSEG_LIMIT: u64 = 0x2000_0000;
/// Where BARs go: the GT-64120's PCI memory window 0 (QEMU's boot stub leaves it at
/// 0x1000_0000, mapped one to one onto PCI memory addresses).
const PCI_MEMORY: u64 = 0x1000_0000;
/// The PIIX4 (bus 0, device 10, function 0): PIRQRC[A..D] at 0x60..0x63, an ISA IRQ each, bit 7
/// set when the PIRQ is not routed.
const PIIX4: PciFunction = PciFunction {
    device: 10,
    function: 0,
};
const PIRQRC: u8 = 0x60;
const PIRQ_DISABLED: u8 = 0x80;
/// What QEMU's PIIX4 reset routes PIRQA..D to (used when the routing is off).
const PIRQ_DEFAULT: [u8; 4] = [10, 10, 11, 11];

/// Slots and buffers per port.
pub const LAYOUT: RingLayout = RingLayout {
    rx_slots: 256,
    tx_slots: 224,
    buffer_size: 2048,
};

/// DMA on malta: bus address = physical address; cache maintenance through kseg0.
#[derive(Clone, Copy, Debug)]
pub struct MaltaDma;

impl DmaOps for MaltaDma {
    fn bus_address(&self, cpu: usize) -> Option<u64> {
        match cpu {
            KSEG0..KSEG1 => Some((cpu - KSEG0) as u64),
            KSEG1..=0xBFFF_FFFF => Some((cpu - KSEG1) as u64),
            _ => None,
        }
    }
    fn write_back(&self, cpu: usize, len: usize) {
        dcache::write_back(cpu, len);
    }
    fn invalidate(&self, cpu: usize, len: usize) {
        // SAFETY: the drivers invalidate only lines wholly inside one buffer the CPU has not
        // written since its last write-back (the `DmaOps` contract; buffers are whole lines).
        unsafe { dcache::invalidate(cpu, len) };
    }
    fn cache_line(&self) -> usize {
        dcache::line_size()
    }
}

/// Busy-waiting on the CPU counter (160 MHz on malta).
struct CounterDelay;

impl Delay for CounterDelay {
    fn delay_us(&self, us: u32) {
        let end = hypervisor::arch::counter() + u64::from(us) * 160;
        while hypervisor::arch::counter() < end {}
    }
}

/// The PIRQ (0 = A) that INTx `pin` of a device in `slot` drives, as QEMU's malta wires its
/// slots (`pci_slot_get_pirq` in `hw/mips/malta.c`).
fn pirq(slot: u8, pin: u8) -> u8 {
    match slot {
        10 => 3,
        11 => 1,
        12 => 2,
        18..=21 => (slot - 18 + pin) & 3,
        _ => pin & 3,
    }
}

/// The ISA IRQ a PIRQ reaches, routing it as QEMU's reset does if the PIIX4 leaves it off.
fn pirq_irq(pci: &Gt64120Pci, pirq: u8) -> u8 {
    let routes = pci.read32(PIIX4, PIRQRC).to_le_bytes();
    let irq = routes[usize::from(pirq)];
    if irq & PIRQ_DISABLED == 0 && irq < 16 {
        return irq;
    }
    let mut fixed = routes;
    fixed[usize::from(pirq)] = PIRQ_DEFAULT[usize::from(pirq)];
    pci.write32(PIIX4, PIRQRC, u32::from_le_bytes(fixed));
    PIRQ_DEFAULT[usize::from(pirq)]
}

/// One e1000 port, as the network sees it.
pub struct Port {
    nic: E1000<Mmio, MaltaDma>,
    /// Ring-full refusals followed by a second try (`EthernetPort::transmit_reclaiming`).
    retried: u64,
}

impl EtherPort for Port {
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

/// Find, place and start every e1000. Returns the ports (slot order) and their IRQs (bit n =
/// IRQ n). A function that fails to start is reported and skipped.
pub fn start_ports(
    pci: &Gt64120Pci,
    dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
) -> (Vec<Box<dyn EtherPort>>, u16) {
    let functions: Vec<PciFunction> = e1000::find(pci).collect();
    let mut ports: Vec<Box<dyn EtherPort>> = Vec::new();
    let mut irqs = 0u16;
    let area = (E1000::<Mmio, MaltaDma>::buffer_bytes(LAYOUT)
        + E1000::<Mmio, MaltaDma>::descriptor_bytes(LAYOUT)) as u64;
    for (n, f) in (0u64..).zip(functions) {
        let name = ports.len() + 1;
        let bar = PCI_MEMORY + n * e1000::REGISTER_WINDOW as u64;
        if e1000::enable_pci(pci, f, bar).is_err() {
            hypervisor::println!("ether{name}: PCI slot {}: BAR 0 refused", f.device);
            continue;
        }
        let Some(ram) = dma_ram(area, KSEG_LIMIT) else {
            hypervisor::println!("ether{name}: no RAM for its rings");
            break;
        };
        let Some(memory) = ring_memory(ram) else {
            hypervisor::println!("ether{name}: its rings are out of reach");
            break;
        };
        // SAFETY: BAR 0 was just placed at `bar` in the PCI memory window, which the CPU sees
        // uncached at kseg1; only this port's driver uses the window.
        let regs = unsafe { Mmio::new(KSEG1 + bar as usize, e1000::REGISTER_WINDOW) };
        let mut nic = match E1000::new(regs, MaltaDma, memory, LAYOUT, &CounterDelay) {
            Ok(nic) => nic,
            Err(e) => {
                hypervisor::println!("ether{name}: PCI slot {}: {e:?}", f.device);
                continue;
            }
        };
        // Bridge ports see every frame; the receive mode is set once (QEMU holds received
        // frames for a second after each receive-control write).
        nic.set_promiscuous(true);
        nic.set_interrupts(true);
        if let Some(pin) = pci::interrupt_pin(pci, f) {
            let irq = pirq_irq(pci, pirq(f.device, pin.index()));
            pci::set_interrupt_line(pci, f, irq);
            irqs |= 1 << irq;
        }
        ports.push(Box::new(Port { nic, retried: 0 }));
    }
    (ports, irqs)
}

/// Buffers at the start of `ram` (cached, kseg0), descriptors after them (uncached, kseg1),
/// after writing back and invalidating every line of it.
fn ring_memory(ram: PhysRange) -> Option<RingMemory> {
    let end = ram.base.checked_add(ram.size)?;
    if end > KSEG_LIMIT {
        return None;
    }
    let base = usize::try_from(ram.base).ok()?;
    let len = usize::try_from(ram.size).ok()?;
    let buffers = E1000::<Mmio, MaltaDma>::buffer_bytes(LAYOUT);
    let descriptors = E1000::<Mmio, MaltaDma>::descriptor_bytes(LAYOUT);
    if buffers + descriptors > len {
        return None;
    }
    MaltaDma.write_back(KSEG0 + base, len);
    MaltaDma.invalidate(KSEG0 + base, len);
    // SAFETY: `ram` was just taken from the RAM allocator for good (never handed to a guest or
    // the heap) and is given to this one port; the buffers are reached cached through kseg0,
    // the descriptors uncached through kseg1, and no line of either is cached now.
    let memory = unsafe {
        RingMemory {
            buffers: DmaMemory::new(KSEG0 + base, buffers),
            descriptors: DmaMemory::new(KSEG1 + base + buffers, descriptors),
        }
    };
    Some(memory)
}
