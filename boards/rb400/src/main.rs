//! Board: MikroTik RB400 series (RB411/433/450/493...): Atheros AR7130/AR7161, MIPS 24Kc
//! big-endian, 32..256 MiB.
//!
//! Devices (see README.md for sources): the AR71xx UART (16550 with one register per 32-bit
//! word) at 0x1802_0000 on the misc interrupt controller (0x1806_0010, CPU line IP6); clocks
//! from the PLL block at 0x1805_0000 (CP0 Count runs at half the CPU clock); full-chip reset in
//! the reset block (0x1806_0024). RAM size from RouterBOOT's `mem=` kernel argument. Ethernet
//! ports on the two AG71xx MACs (`ether`: GE1 is ether1, GE0 ether2; CPU lines IP5 and IP4).
//!
//! Not verified on hardware: nobody can run these boards here. It builds and links at the
//! addresses platforms.md gives.
#![no_std]
#![no_main]

extern crate alloc;

mod argv;
mod ether;

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::mmio::Mmio;
use drivers::uart16550::{RegLayout, Uart16550};
use hypervisor::arch::BootRegs;
use hypervisor::board::{Board, BoardInfo, EtherPort, EventSink, PhysRange};
use spin::Once;

const fn kseg1(pa: usize) -> usize {
    0xA000_0000 + pa
}

const UART_PHYS: usize = 0x1802_0000;
const PLL_PHYS: usize = 0x1805_0000;
const RESET_PHYS: usize = 0x1806_0000;
/// Misc interrupt status/enable registers in the reset block.
const MISC_INT_STATUS: usize = 0x10;
const MISC_INT_ENABLE: usize = 0x14;
const MISC_IRQ_UART: u32 = 1 << 3;
/// Reset register and its full-chip reset bit.
const RESET_REG: usize = 0x24;
const RESET_FULL_CHIP: u32 = 1 << 24;
/// The misc interrupt controller drives CPU line IP6.
const MISC_CPU_LINE: u32 = 6;
/// GE0 and GE1 interrupt the CPU on lines IP4 and IP5.
const ETHER_CPU_LINES: u32 = 1 << 4 | 1 << 5;
/// AR71xx PLL: reference clock and the CPU_CONFIG register's fields.
const REF_CLOCK_HZ: u64 = 40_000_000;
const PLL_CPU_CONFIG: usize = 0x00;
/// RouterBOOT's default when `mem=` is missing: the smallest RB400 model.
const DEFAULT_RAM: u64 = 32 << 20;

/// CPU and AHB clocks from the PLL's CPU_CONFIG register (as OpenWrt's ath79 computes them).
fn clocks(pll: &Mmio) -> (u64, u64) {
    let cfg = pll.read_be32(PLL_CPU_CONFIG);
    let vco = REF_CLOCK_HZ * (u64::from((cfg >> 3) & 0x1F) + 1);
    let cpu = vco / (u64::from((cfg >> 16) & 0x3) + 1);
    let ahb = cpu / ((u64::from((cfg >> 20) & 0x7) + 1) * 2);
    (cpu, ahb)
}

struct Rb400 {
    info: BoardInfo,
    uart: Uart16550,
    reset: Mmio,
    /// RouterBOOT's `kmac=`: ether1's address (ether2's is the next).
    kmac: Option<[u8; 6]>,
    /// The started ports' interrupts.
    ether: Once<Vec<ether::PortInterrupt>>,
}

impl Rb400 {
    fn ether_interrupts(&self) -> &[ether::PortInterrupt] {
        self.ether.get().map_or(&[], |v| v.as_slice())
    }
}

impl Rb400 {
    fn new(regs: BootRegs) -> Self {
        // SAFETY: the AR71xx UART's eight 32-bit registers, uncached through kseg1.
        let uart_regs = unsafe { Mmio::new(kseg1(UART_PHYS), RegLayout::Words32.window_len()) };
        // SAFETY: the AR71xx PLL control block.
        let pll = unsafe { Mmio::new(kseg1(PLL_PHYS), 0x100) };
        // SAFETY: the AR71xx reset/misc-interrupt block.
        let reset = unsafe { Mmio::new(kseg1(RESET_PHYS), 0x100) };
        let uart = Uart16550::new(uart_regs, RegLayout::Words32);
        // RouterBOOT programmed the baud rate for its own console: keep it.
        uart.init(None, 115_200);
        let (cpu_hz, _ahb_hz) = clocks(&pll);
        let ram_size = argv::mem_size(&regs).unwrap_or(DEFAULT_RAM);
        let mut ram = [None; 4];
        ram[0] = Some(PhysRange {
            base: 0,
            size: ram_size,
        });
        Rb400 {
            info: BoardInfo {
                name: "rb400",
                model: "RB400",
                cpu: "MIPS 24Kc V7.4",
                architecture: "mipsbe",
                cpu_hz: Some(cpu_hz),
                timer_hz: cpu_hz / 2,
                ram,
                irq_lines: 1 << MISC_CPU_LINE | ETHER_CPU_LINES,
            },
            uart,
            reset,
            kmac: argv::kmac(&regs),
            ether: Once::new(),
        }
    }
}

impl Board for Rb400 {
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
        let enabled = self.reset.read_be32(MISC_INT_ENABLE);
        self.reset
            .write_be32(MISC_INT_ENABLE, enabled | MISC_IRQ_UART);
        self.uart.set_rx_interrupt(true);
    }

    fn handle_interrupt(&self, line: u32, events: &mut dyn EventSink) {
        if ETHER_CPU_LINES & (1 << line) != 0 {
            // Masked at the MAC until the main loop has polled the ports.
            let mut ours = false;
            for port in self
                .ether_interrupts()
                .iter()
                .filter(|p| p.cpu_line == line)
            {
                port.mask();
                ours = true;
            }
            if ours {
                events.ethernet();
            }
            return;
        }
        if line != MISC_CPU_LINE {
            return;
        }
        let pending = self.reset.read_be32(MISC_INT_STATUS) & self.reset.read_be32(MISC_INT_ENABLE);
        if pending & MISC_IRQ_UART != 0
            && !hypervisor::board::drain_console(|| self.uart.receive().into(), events)
        {
            self.uart.set_rx_interrupt(false);
        }
    }

    fn ethernet_ports(
        &self,
        dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
    ) -> Vec<Box<dyn EtherPort>> {
        let (ports, interrupts) =
            ether::start_ports(&self.reset, self.kmac, self.info.timer_hz, dma_ram);
        self.ether.call_once(|| interrupts);
        ports
    }

    fn ethernet_interrupts(&self) {
        self.ether_interrupts().iter().for_each(|p| p.unmask());
    }

    fn console_rx_interrupt(&self, enable: bool) {
        self.uart.set_rx_interrupt(enable);
    }

    fn reset(&self) -> ! {
        self.reset.write_be32(RESET_REG, RESET_FULL_CHIP);
        hypervisor::arch::halt()
    }

    fn power_off(&self) -> ! {
        // RouterBOARDs cannot switch their own power off: stop, as RouterOS does.
        hypervisor::println!("system halted: power can be removed");
        hypervisor::arch::halt()
    }
}

static RB400: Once<Rb400> = Once::new();

fn main(regs: BootRegs) -> ! {
    hypervisor::kernel::run(RB400.call_once(|| Rb400::new(regs)))
}

hypervisor::board_entry!(main);
