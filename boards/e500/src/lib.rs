//! The board every MPC85xx (e500) board shares (Tock's split between boards and chips: the
//! controllers are `drivers::fsl_soc`, the board glue is here): [`FslSocBoard`], the hypervisor's
//! [`Board`] over [`FslSoc`], and [`start`], the boot path a board's entry calls with its name.
//!
//! What [`start`] does: map the CCSR window the entry code set up, read the device tree from r3
//! (`BootRegs::device_tree` checks where it lies), check its CCSR base against the one the
//! image was linked for (`drivers::fsl_soc::probe`), report a failure on the early console and
//! halt, else hand the board to the kernel. `BoardInfo` comes from the tree (model, clocks, RAM
//! banks); cpu "e500v2", architecture "powerpc", the time base as the timer. The preloaded file
//! store (`./x run --file`) is the initial RAM disk the tree names (QEMU's `-initrd`), when it
//! lies in the RAM the hypervisor maps one to one. The PCI bus, where the board opens one
//! (`pci_bus.rs`): its disk, a virtio block device (`disk.rs`; QEMU ppce500's
//! `virtio-blk-pci`), and Ethernet ports besides the eTSECs (`pci_ports.rs`: e1000). The
//! configuration store, where the board allows it: the CFI NOR flash the tree lists
//! (`config_flash.rs`; QEMU ppce500's `-drive if=pflash`).
//!
//! A board crate is then its `memory.ld` and two lines:
//!
//! ```ignore
//! fn main(regs: hypervisor::arch::BootRegs) -> ! {
//!     board_e500::start("rb1100", regs, FixedLinks::AsTheTreeSays, PciSetup::None, ConfigSetup::None)
//! }
//! hypervisor::board_entry!(main);
//! ```
#![no_std]

extern crate alloc;

mod config_flash;
mod device_window;
mod disk;
mod ether;
mod pci_bus;
mod pci_ports;

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::fsl_soc::{
    self, EthernetController, FslSoc, Interrupt, PciInterruptMap, MAX_ETHERNET,
};
use drivers::mmio::Mmio;
use hypervisor::arch::{self, mmu, BootRegs};
use hypervisor::board::{
    drain_console, Board, BoardInfo, ConfigFlash, EtherPort, EventSink, PhysRange,
};

use config_flash::ConfigNor;
pub use config_flash::ConfigSetup;

pub use ether::FixedLinks;
pub use pci_bus::{PciWindows, QEMU_PPCE500_PCI};

/// Whether the hypervisor drives devices on the board's PCI bus (a virtio disk, e1000 ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PciSetup {
    /// No (the boot loader's PCI set-up is left alone; the board's storage and ports are the
    /// SoC's).
    None,
    /// Yes, through these windows, which the board opens (`pci_bus.rs`).
    Windows(PciWindows),
}

/// MPIC priority of the Ethernet ports' interrupts (the console's is 8).
const ETHER_PRIORITY: u8 = 7;

/// An MPC85xx board: facts from the device tree and the SoC's drivers.
pub struct FslSocBoard {
    info: BoardInfo,
    soc: FslSoc,
    /// The initial RAM disk the boot loader loaded, where the file store may be.
    preload: Option<PhysRange>,
    ccsr: Mmio,
    ccsr_phys: u64,
    /// The eTSECs the tree lists, and how their fixed links are read.
    ethernet: [Option<EthernetController>; MAX_ETHERNET],
    fixed_links: FixedLinks,
    /// The MPIC sources of the ports that started.
    ether_interrupts: spin::Once<Vec<Interrupt>>,
    pci: PciSetup,
    /// Which MPIC source each PCI slot's pins drive, from the tree.
    pci_interrupts: Option<PciInterruptMap>,
    /// The configuration store's flash, when the board has one the hypervisor owns.
    config: Option<ConfigNor>,
}

impl FslSocBoard {
    fn ether_interrupts(&self) -> &[Interrupt] {
        self.ether_interrupts.get().map_or(&[], |v| v.as_slice())
    }

    /// The PCI bus, set up on first use, when the board has the hypervisor drive it.
    fn pci_bus(&self) -> Option<&'static pci_bus::PciBus> {
        match self.pci {
            PciSetup::None => None,
            PciSetup::Windows(windows) => pci_bus::bus(&self.ccsr, windows),
        }
    }
}

impl Board for FslSocBoard {
    fn info(&self) -> &BoardInfo {
        &self.info
    }

    fn console_write(&self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.soc.console().write_byte(b));
    }

    fn console_read(&self) -> Option<u8> {
        self.soc.console().read_byte()
    }

    fn init_interrupts(&self) {
        self.soc
            .init_interrupts()
            .expect("MPIC setup for the console interrupt");
        for &interrupt in self.ether_interrupts() {
            if let Err(e) = self.soc.enable_interrupt(interrupt, ETHER_PRIORITY) {
                hypervisor::println!("ether: MPIC source {}: {e:?}", interrupt.source.0);
            }
        }
    }

    fn handle_interrupt(&self, _line: u32, events: &mut dyn EventSink) {
        let mut ether = false;
        self.soc.service_interrupts(
            |uart| drain_console(|| uart.receive().into(), events),
            // Masked by the SoC; unmasked in `ethernet_interrupts` once the ports are polled.
            |source| ether |= self.ether_interrupts().iter().any(|i| i.source == source),
        );
        if ether {
            events.ethernet();
        }
    }

    fn ethernet_ports(
        &self,
        dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
    ) -> Vec<Box<dyn EtherPort>> {
        let (mut ports, mut interrupts) = ether::start_ports(
            &self.ethernet,
            ether::PortSetup {
                ccsr: self.ccsr,
                ccsr_phys: self.ccsr_phys,
                timebase_hz: self.info.timer_hz,
                fixed_links: self.fixed_links,
                dma_ram,
            },
        );
        if let Some(bus) = self.pci_bus() {
            pci_ports::start_ports(
                bus,
                self.pci_interrupts.as_ref(),
                self.info.timer_hz,
                dma_ram,
                &mut ports,
                &mut interrupts,
            );
        }
        self.ether_interrupts.call_once(|| interrupts);
        ports
    }

    fn ethernet_interrupts(&self) {
        for interrupt in self.ether_interrupts() {
            let _ = self.soc.mpic().unmask(interrupt.source);
        }
    }

    fn disk(&self) -> Option<Box<dyn filestore::BlockDevice>> {
        disk::probe(self.pci_bus()?, self.info.timer_hz)
    }

    fn config_flash(&self) -> Option<&dyn ConfigFlash> {
        self.config.as_ref().map(|c| c as &dyn ConfigFlash)
    }

    fn console_rx_interrupt(&self, enable: bool) {
        self.soc.console().set_rx_interrupt(enable);
    }

    fn preload_area(&self) -> Option<PhysRange> {
        self.preload
    }

    fn reset(&self) -> ! {
        self.soc.reset();
        arch::halt()
    }

    fn power_off(&self) -> ! {
        // Boards without a power-off line have no software power switch: halt.
        self.soc.power_off();
        arch::halt()
    }
}

/// Busy-waiting on the time base (the drivers' `Delay`).
pub(crate) struct TimebaseDelay {
    pub hz: u64,
}

impl drivers::nic::Delay for TimebaseDelay {
    fn delay_us(&self, us: u32) {
        let end = arch::counter() + u64::from(us) * self.hz / 1_000_000;
        while arch::counter() < end {}
    }
}

static BOARD: spin::Once<FslSocBoard> = spin::Once::new();

/// Boot the MPC85xx board called `name` (as `./x build --board` knows it) from the registers
/// the boot loader left: find the machine through the device tree and run the kernel on it.
/// `fixed_links`: how its `fixed-link` Ethernet ports learn their link; `pci`: whether the
/// hypervisor drives the PCI bus (its disk and more ports are there); `config`: where its
/// configuration is kept.
pub fn start(
    name: &'static str,
    regs: BootRegs,
    fixed_links: FixedLinks,
    pci: PciSetup,
    config: ConfigSetup,
) -> ! {
    // SAFETY: the entry code mapped CCSR at `CCSR_VIRT` (cache-inhibited, guarded, `CCSR_SIZE`
    // bytes) for the life of the program; only the drivers built from this window touch it.
    let ccsr = unsafe { Mmio::new(mmu::CCSR_VIRT, mmu::CCSR_SIZE) };
    let tree = regs.device_tree().map(fdt::Fdt::new);
    let (desc, soc) = match fsl_soc::probe(ccsr, tree, mmu::ccsr_phys()) {
        Ok(found) => found,
        Err(e) => {
            fsl_soc::report_boot_failure(ccsr, &e);
            arch::halt()
        }
    };
    let board = BOARD.call_once(|| FslSocBoard {
        info: BoardInfo {
            name,
            model: desc.model,
            cpu: "e500v2",
            architecture: "powerpc",
            cpu_hz: desc.cpu_hz,
            timer_hz: desc.timebase_hz,
            ram: desc.ram.map(|bank| {
                bank.map(|b| PhysRange {
                    base: b.base,
                    size: b.size,
                })
            }),
            irq_lines: 1 << arch::EXTERNAL_INPUT,
        },
        soc,
        // Only RAM the hypervisor maps one to one can be read in place.
        preload: desc
            .initrd
            .filter(|r| r.base.saturating_add(r.size) <= mmu::RAM_MAPPED as u64)
            .map(|r| PhysRange {
                base: r.base,
                size: r.size,
            }),
        ccsr,
        ccsr_phys: desc.ccsr_phys,
        ethernet: desc.ethernet,
        fixed_links,
        ether_interrupts: spin::Once::new(),
        pci,
        pci_interrupts: desc.pci_interrupts,
        config: match config {
            ConfigSetup::None => None,
            ConfigSetup::TreeNorFlash => desc.nor_flash.and_then(ConfigNor::probe),
        },
    });
    hypervisor::kernel::run(board)
}
