//! Board: QEMU `malta` with a MIPS 24Kc (big-endian), the test stand-in for the RB400.
//!
//! Devices: COM1 16550 at ISA port 0x3F8 (IRQ 4 on the PIIX4 i8259 pair, which drives CPU
//! interrupt line IP2); CP0 Count at 160 MHz; reset through the FPGA's SOFTRES register;
//! power-off through the PIIX4 power-management function; Ethernet ports on the e1000s on PCI
//! (`ether`), their shared PCI interrupts level-triggered on the i8259 pair; the disk on the
//! PIIX4's IDE channel (`disk`). RAM size comes from the boot stub's environment (`memsize`,
//! `ememsize`) or, failing that, from `a3`.
#![no_std]
#![no_main]

extern crate alloc;

mod bootenv;
mod disk;
mod ether;
mod piix4;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU16, Ordering};

use drivers::cfi_flash::CfiFlash;
use drivers::gt64120::Gt64120Pci;
use drivers::i8259::I8259Pair;
use drivers::mmio::Mmio;
use drivers::uart16550::{RegLayout, Uart16550};
use hypervisor::arch::BootRegs;
use hypervisor::board::{
    Board, BoardInfo, ConfigFlash, EtherPort, EventSink, FlashFailure, PhysRange,
};
use spin::Once;

/// kseg1 (uncached) view of physical address `pa`.
const fn kseg1(pa: usize) -> usize {
    0xA000_0000 + pa
}

const ISA_IO_PHYS: usize = 0x1800_0000;
const ISA_IO_LEN: usize = 0x1_0000;
const COM1_PORT: usize = 0x3F8;
const COM1_IRQ: u8 = 4;
/// Where QEMU's boot stub (like YAMON) moves the GT-64120's registers.
const GT64120_PHYS: usize = 0x1BE0_0000;
const SOFTRES_PHYS: usize = 0x1F00_0500;
const SOFTRES_RESET: u32 = 0x42;
/// The i8259 pair's output reaches the CPU on Cause.IP2.
const PIC_CPU_LINE: u32 = 2;
/// The 4 MiB boot flash (CFI, Intel command set, 32-bit bus); QEMU's boot stub lives in its
/// first kilobytes, the configuration store in its last 3 MiB (two generations of 1.5 MiB:
/// a snapshot of ten thousand routes and the journal after it fit in one).
const FLASH_PHYS: usize = 0x1E00_0000;
const FLASH_LEN: usize = 4 << 20;
const CONFIG_LEN: u32 = 3 << 20;
/// The earlier layout: two 128 KiB copies in the flash's last 256 KiB (region offsets).
const EARLIER_COPIES: [(u32, u32); 2] = [
    (CONFIG_LEN - (256 << 10), 128 << 10),
    (CONFIG_LEN - (128 << 10), 128 << 10),
];
/// Where `./x run --file` has QEMU preload the file store: above the hypervisor's 1 + 2 MiB
/// (memory.ld), so the RAM guests get above it stays in one piece (the heap borrows the gap
/// below it first).
const PRELOAD: PhysRange = PhysRange {
    base: 0x0040_0000,
    size: 32 << 20,
};
const COUNT_HZ: u64 = 160_000_000;
const CPU_HZ: u64 = 320_000_000;
/// Low RAM (aliased at physical 0) is at most 256 MiB; the rest sits above 0x9000_0000.
const LOW_RAM_MAX: u64 = 256 << 20;
const HIGH_RAM_BASE: u64 = 0x9000_0000;

struct Malta {
    info: BoardInfo,
    uart: Uart16550,
    pic: I8259Pair,
    isa_io: Mmio,
    pci: Gt64120Pci,
    config: Option<ConfigRegion>,
    /// The Ethernet ports' ISA IRQs (bit n = IRQ n).
    ether_irqs: AtomicU16,
}

/// The configuration store's part of the boot flash.
struct ConfigRegion {
    flash: CfiFlash,
    base: u32,
}

impl ConfigFlash for ConfigRegion {
    fn size(&self) -> u32 {
        CONFIG_LEN
    }
    fn erase_block_size(&self) -> u32 {
        self.flash.geometry().erase_block
    }
    fn earlier_copies(&self) -> &'static [(u32, u32)] {
        &EARLIER_COPIES
    }
    fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), FlashFailure> {
        self.check(offset, buf.len())?;
        self.flash
            .read(self.base + offset, buf)
            .map_err(|_| FlashFailure)
    }
    fn erase(&self, offset: u32) -> Result<(), FlashFailure> {
        self.check(offset, 1)?;
        self.flash
            .erase(self.base + offset)
            .map_err(|_| FlashFailure)
    }
    fn program(&self, offset: u32, data: &[u8]) -> Result<(), FlashFailure> {
        self.check(offset, data.len())?;
        self.flash
            .program(self.base + offset, data)
            .map_err(|_| FlashFailure)
    }
}

impl ConfigRegion {
    fn check(&self, offset: u32, len: usize) -> Result<(), FlashFailure> {
        let end = u64::from(offset) + len as u64;
        if end > u64::from(CONFIG_LEN) {
            return Err(FlashFailure);
        }
        Ok(())
    }

    fn probe() -> Option<Self> {
        // SAFETY: the malta boot flash, seen uncached through kseg1; only this driver uses it.
        let window = unsafe { Mmio::new(kseg1(FLASH_PHYS), FLASH_LEN) };
        // QEMU's malta flash reports the whole 32-bit bank in its CFI query.
        let flash = CfiFlash::probe(window, 4, 1).ok()?;
        let g = flash.geometry();
        if g.size < CONFIG_LEN || !CONFIG_LEN.is_multiple_of(g.erase_block) {
            return None;
        }
        Some(ConfigRegion {
            base: g.size - CONFIG_LEN,
            flash,
        })
    }
}

impl Malta {
    fn new(regs: BootRegs) -> Self {
        // SAFETY: on malta, physical 0x1800_0000.. is the PCI/ISA I/O window (the boot stub set
        // it up), seen uncached through kseg1; nothing else in the program maps it.
        let isa_io = unsafe { Mmio::new(kseg1(ISA_IO_PHYS), ISA_IO_LEN) };
        // SAFETY: COM1's eight byte registers, inside the ISA I/O window above.
        let com1 = unsafe {
            Mmio::new(
                kseg1(ISA_IO_PHYS + COM1_PORT),
                RegLayout::Bytes.window_len(),
            )
        };
        let uart = Uart16550::new(com1, RegLayout::Bytes);
        // SAFETY: the GT-64120's 4 KiB register block, uncached through kseg1.
        let gt = unsafe { Mmio::new(kseg1(GT64120_PHYS), 0x1000) };
        uart.init(None, 115_200);
        let ram_bytes = bootenv::ram_size(&regs);
        let low = ram_bytes.min(LOW_RAM_MAX);
        let high = ram_bytes - low;
        let mut ram = [None; 4];
        ram[0] = Some(PhysRange { base: 0, size: low });
        if high > 0 {
            ram[1] = Some(PhysRange {
                base: HIGH_RAM_BASE,
                size: high,
            });
        }
        Malta {
            info: BoardInfo {
                name: "qemu-malta",
                model: "QEMU malta",
                cpu: "MIPS 24Kc V0.0",
                architecture: "mipsbe",
                cpu_hz: Some(CPU_HZ),
                timer_hz: COUNT_HZ,
                ram,
                irq_lines: 1 << PIC_CPU_LINE,
            },
            uart,
            pic: I8259Pair::new(isa_io),
            isa_io,
            pci: Gt64120Pci::new(gt),
            config: ConfigRegion::probe(),
            ether_irqs: AtomicU16::new(0),
        }
    }
}

impl Board for Malta {
    fn info(&self) -> &BoardInfo {
        &self.info
    }

    fn console_write(&self, bytes: &[u8]) {
        for &b in bytes {
            self.uart.write_byte(b);
        }
    }

    fn console_read(&self) -> Option<u8> {
        self.uart.read_byte()
    }

    fn init_interrupts(&self) {
        self.pic.init();
        // PCI interrupts are level-triggered and shared: an edge-triggered input would lose a
        // second device's request while the first holds the line.
        let ether = self.ether_irqs.load(Ordering::Relaxed);
        if let Err(e) = self.pic.set_level_triggered(ether) {
            hypervisor::println!("ether: interrupt lines not made level-triggered: {e:?}");
        }
        self.pic.unmask(COM1_IRQ);
        self.ethernet_interrupts();
        self.uart.set_rx_interrupt(true);
    }

    fn handle_interrupt(&self, line: u32, events: &mut dyn EventSink) {
        if line != PIC_CPU_LINE {
            return;
        }
        let ether = self.ether_irqs.load(Ordering::Relaxed);
        while let Some(irq) = self.pic.poll() {
            if irq == COM1_IRQ
                && !hypervisor::board::drain_console(|| self.uart.receive().into(), events)
            {
                self.uart.set_rx_interrupt(false);
            }
            if ether & (1 << irq) != 0 {
                // The main loop polls the ports (reading their causes lowers the line) and
                // unmasks it when they are drained.
                self.pic.mask(irq);
                events.ethernet();
            }
            self.pic.eoi(irq);
        }
    }

    fn ethernet_ports(
        &self,
        dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
    ) -> Vec<Box<dyn EtherPort>> {
        let (ports, irqs) = ether::start_ports(&self.pci, dma_ram);
        self.ether_irqs.store(irqs, Ordering::Relaxed);
        ports
    }

    fn ethernet_interrupts(&self) {
        let ether = self.ether_irqs.load(Ordering::Relaxed);
        (0..16)
            .filter(|irq| ether & (1 << irq) != 0)
            .for_each(|irq| self.pic.unmask(irq));
    }

    fn console_rx_interrupt(&self, enable: bool) {
        self.uart.set_rx_interrupt(enable);
    }

    fn preload_area(&self) -> Option<PhysRange> {
        Some(PRELOAD)
    }

    fn disk(&self) -> Option<alloc::boxed::Box<dyn filestore::BlockDevice>> {
        disk::probe(&self.pci, &self.isa_io)
    }

    fn config_flash(&self) -> Option<&dyn ConfigFlash> {
        self.config.as_ref().map(|c| c as &dyn ConfigFlash)
    }

    fn reset(&self) -> ! {
        // SAFETY: SOFTRES is the malta FPGA's 32-bit software reset register.
        let softres = unsafe { Mmio::new(kseg1(SOFTRES_PHYS), 4) };
        softres.write_be32(0, SOFTRES_RESET);
        hypervisor::arch::halt()
    }

    fn power_off(&self) -> ! {
        piix4::power_off(&self.pci, &self.isa_io);
        hypervisor::arch::halt()
    }
}

static MALTA: Once<Malta> = Once::new();

fn main(regs: BootRegs) -> ! {
    hypervisor::kernel::run(MALTA.call_once(|| Malta::new(regs)))
}

hypervisor::board_entry!(main);
