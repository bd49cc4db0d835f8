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
//! lies in the RAM the hypervisor maps one to one. The disk, where the board has one: a virtio
//! block device on the PCI controller (`disk.rs`; QEMU ppce500's `virtio-blk-pci`). The
//! configuration store, where the board allows it: the CFI NOR flash the tree lists
//! (`config_flash.rs`; QEMU ppce500's `-drive if=pflash`).
//!
//! A board crate is then its `memory.ld` and two lines:
//!
//! ```ignore
//! fn main(regs: hypervisor::arch::BootRegs) -> ! {
//!     board_e500::start("rb1100", regs, FixedLinks::AsTheTreeSays, DiskSetup::None, ConfigSetup::None)
//! }
//! hypervisor::board_entry!(main);
//! ```
#![no_std]

extern crate alloc;

mod config_flash;
mod device_window;
mod disk;
mod ether;

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::fsl_soc::{self, EthernetController, FslSoc, Interrupt, MAX_ETHERNET};
use drivers::mmio::Mmio;
use hypervisor::arch::{self, mmu, BootRegs};
use hypervisor::board::{
    drain_console, Board, BoardInfo, ConfigFlash, EtherPort, EventSink, PhysRange,
};

use config_flash::ConfigNor;
pub use config_flash::ConfigSetup;

pub use disk::{PciWindows, QEMU_PPCE500_PCI};
pub use ether::FixedLinks;

/// What a board's disk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskSetup {
    /// None (the board's own storage has no driver yet).
    None,
    /// A virtio block device on the PCI controller, reached through these windows.
    VirtioPci(PciWindows),
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
    disk: DiskSetup,
    /// The configuration store's flash, when the board has one the hypervisor owns.
    config: Option<ConfigNor>,
}

impl FslSocBoard {
    fn ether_interrupts(&self) -> &[Interrupt] {
        self.ether_interrupts.get().map_or(&[], |v| v.as_slice())
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
        let (ports, interrupts) = ether::start_ports(
            &self.ethernet,
            ether::PortSetup {
                ccsr: self.ccsr,
                ccsr_phys: self.ccsr_phys,
                timebase_hz: self.info.timer_hz,
                fixed_links: self.fixed_links,
                dma_ram,
            },
        );
        self.ether_interrupts.call_once(|| interrupts);
        ports
    }

    fn ethernet_interrupts(&self) {
        for interrupt in self.ether_interrupts() {
            let _ = self.soc.mpic().unmask(interrupt.source);
        }
    }

    fn disk(&self) -> Option<Box<dyn filestore::BlockDevice>> {
        match self.disk {
            DiskSetup::None => None,
            DiskSetup::VirtioPci(windows) => disk::probe(&self.ccsr, windows, self.info.timer_hz),
        }
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
/// `fixed_links`: how its `fixed-link` Ethernet ports learn their link; `disk`: where its disk
/// is; `config`: where its configuration is kept.
pub fn start(
    name: &'static str,
    regs: BootRegs,
    fixed_links: FixedLinks,
    disk: DiskSetup,
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
        disk,
        config: match config {
            ConfigSetup::None => None,
            ConfigSetup::TreeNorFlash => desc.nor_flash.and_then(ConfigNor::probe),
        },
    });
    hypervisor::kernel::run(board)
}
