//! Ethernet ports on an e500 board's PCI bus: every Intel 82540EM (QEMU `-device e1000`) on
//! bus 0, in bus order, numbered after the SoC's eTSECs (`ether.rs`).
//!
//! - Registers: BAR 0 (128 KiB) as `pci_bus.rs` placed it, through the device window;
//!   little-endian as on every PCI device (the driver reads them so).
//! - Interrupts: the function's INTx pin through the PCI controller's `interrupt-map` in the
//!   device tree (`drivers::fsl_soc::PciInterruptMap`) to an MPIC source, level-sensitive and
//!   shared by the slots QEMU wires to it: the board masks the source when it fires and
//!   unmasks it once the main loop has polled every port (a device still asserting its line
//!   then interrupts again). A function the map does not cover is said on the console and
//!   polled only when something else wakes the main loop.
//! - DMA: coherent through the snooped inbound window (bus address = physical address = the
//!   hypervisor's virtual address), as for the eTSEC: no cache maintenance.
//! - Rings: 256 receive and 224 transmit slots of 2,048 bytes, as on malta: 983,040 bytes of
//!   buffers and 7,680 of descriptors, one 1 MiB granule per port taken from guest RAM.

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::dma::CoherentDma;
use drivers::e1000::{self, E1000};
use drivers::fsl_soc::{Interrupt, PciInterruptMap};
use drivers::mmio::Mmio;
use drivers::nic::{EthernetPort, RingLayout};
use drivers::pci::{self, Enable};
use hypervisor::arch::mmu;
use hypervisor::board::{EtherPort, PhysRange};
use hypervisor::nic_port::{DeviceLink, NicPort};

use crate::ether::{ring_memory, DMA};
use crate::pci_bus::PciBus;
use crate::TimebaseDelay;

/// Slots and buffers per port.
pub const LAYOUT: RingLayout = RingLayout {
    rx_slots: 256,
    tx_slots: 224,
    buffer_size: 2048,
};

type Nic = E1000<Mmio, CoherentDma>;

/// Start every e1000 on `bus`, appending the ports to `ports` (named from `ports.len() + 1`)
/// and their MPIC sources to `interrupts`.
pub fn start_ports(
    bus: &PciBus,
    map: Option<&PciInterruptMap>,
    timebase_hz: u64,
    dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
    ports: &mut Vec<Box<dyn EtherPort>>,
    interrupts: &mut Vec<Interrupt>,
) {
    let pci = bus.config();
    let delay = TimebaseDelay { hz: timebase_hz };
    let buffers = Nic::buffer_bytes(LAYOUT);
    let descriptors = Nic::descriptor_bytes(LAYOUT);
    for f in e1000::find(pci) {
        let name = ports.len() + 1;
        let slot = f.device;
        let Some(regs) = bus.bar_registers(f, 0, 0, e1000::REGISTER_WINDOW) else {
            hypervisor::println!("ether{name}: PCI device {slot}: its registers are out of reach");
            continue;
        };
        let Some(memory) = dma_ram((buffers + descriptors) as u64, mmu::RAM_MAPPED as u64)
            .and_then(|ram| ring_memory(ram, buffers, descriptors))
        else {
            hypervisor::println!("ether{name}: no RAM for its rings");
            break;
        };
        pci::enable(
            pci,
            f,
            Enable {
                memory: true,
                io: false,
                bus_master: true,
            },
        );
        let mut nic = match Nic::new(regs, DMA, memory, LAYOUT, &delay) {
            Ok(nic) => nic,
            Err(e) => {
                hypervisor::println!("ether{name}: PCI device {slot}: {e:?}");
                continue;
            }
        };
        // Bridge ports see every frame; the receive mode is set once (QEMU holds received
        // frames for a second after each receive-control write).
        nic.set_promiscuous(true);
        nic.set_interrupts(true);
        let pin = pci::interrupt_pin(pci, f);
        match pin.and_then(|p| map?.lookup(f.device, f.function, p.index() + 1)) {
            Some(interrupt) if !interrupts.contains(&interrupt) => interrupts.push(interrupt),
            Some(_) => {}
            None => hypervisor::println!(
                "ether{name}: PCI device {slot}: no interrupt in the device tree's PCI map"
            ),
        }
        ports.push(Box::new(NicPort::new(nic, DeviceLink)));
    }
}
