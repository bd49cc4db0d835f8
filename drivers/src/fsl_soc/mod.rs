//! The Freescale MPC85xx (e500) SoC platform shared by the e500 boards (QEMU ppce500, RB1100):
//! the console on the SoC's DUART, the MPIC, reset through the global utilities, power-off
//! through a GPIO line when the device tree has one.
//!
//! A board maps CCSR, reads the device tree into a [`SocDescription`] and builds an [`FslSoc`]
//! from the two ([`probe`]); its `Board` implementation then only delegates here, and is written
//! once for all of them in the shared board crate (`boards/e500`). Everything is located
//! through the tree, with two MPC85xx facts as fallbacks: the DUART's first channel at
//! CCSR + 0x4500 (for [`early_console`], before the tree is read) and the global utilities at
//! CCSR + 0xE_0000 (old trees have no node for them).

mod ethernet;
mod nor;
mod pci_irq;
#[cfg(test)]
mod tests;
mod tree;

use core::fmt;

use fdt::{Fdt, FdtError};

pub use ethernet::{EthernetController, EthernetPhy, ETHERNET_INTERRUPTS, MAX_ETHERNET};
pub use nor::NorFlash;
pub use pci_irq::{PciInterruptMap, MAX_PCI_INTERRUPT_ROWS};
pub use tree::{
    GpioLine, Interrupt, RamBank, SerialPort, SocDescription, TreeError, MAX_RAM_BANKS,
};

use crate::fsl_guts::{self, Guts};
use crate::mmio::Mmio;
use crate::mpc8xxx_gpio::{self, Mpc8xxxGpio};
use crate::mpic::{self, Mpic, MpicError, SourceConfig};
use crate::uart16550::{RegLayout, Uart16550};

/// Bytes of the CCSR window (the whole MPC85xx register block).
pub const CCSR_LEN: usize = 1 << 20;
/// The CPU the hypervisor runs on (the MPIC's CPU 0).
pub const BOOT_CPU: usize = 0;
/// Console line rate (RouterBOOT's, and what QEMU's stdio ignores).
pub const CONSOLE_BAUD: u32 = 115_200;
/// MPIC priority of the console interrupt.
const CONSOLE_PRIORITY: u8 = 8;
/// The DUART's first channel on every MPC85xx.
const DUART0_OFFSET: usize = 0x4500;

/// The console UART at its fixed MPC85xx place, with the boot loader's line settings, for
/// messages before the device tree has been read.
pub fn early_console(ccsr: Mmio) -> Uart16550 {
    Uart16550::new(
        ccsr.window(DUART0_OFFSET, RegLayout::Bytes.window_len()),
        RegLayout::Bytes,
    )
}

/// Why an e500 board cannot start (all of them the boot loader's doing, or a board built for
/// another machine).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BootError {
    /// r3 does not point at a block in the RAM the hypervisor maps, outside its image.
    NoDeviceTree,
    /// r3 points at something that is not a flattened device tree.
    BadDeviceTree(FdtError),
    /// The tree lacks something the platform needs.
    Tree(TreeError),
    /// The tree puts CCSR somewhere else than the image was built to map it (wrong board).
    CcsrMismatch { tree: u64, mapped: u64 },
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::NoDeviceTree => {
                write!(f, "r3 holds no device tree in mapped RAM outside the hypervisor image")
            }
            BootError::BadDeviceTree(e) => write!(f, "r3 does not point at a device tree ({e:?})"),
            BootError::Tree(e) => write!(f, "device tree: {e:?}"),
            BootError::CcsrMismatch { tree, mapped } => write!(
                f,
                "device tree has CCSR at {tree:#x} but this image maps {mapped:#x}: built for another board"
            ),
        }
    }
}

/// Read the device tree (`None`: r3 held no usable address), check that it places CCSR where
/// this image maps it (`mapped_ccsr_phys`), and build the drivers.
pub fn probe<'a>(
    ccsr: Mmio,
    tree: Option<Result<Fdt<'a>, FdtError>>,
    mapped_ccsr_phys: u64,
) -> Result<(SocDescription<'a>, FslSoc), BootError> {
    let tree = tree
        .ok_or(BootError::NoDeviceTree)?
        .map_err(BootError::BadDeviceTree)?;
    let desc = SocDescription::from_tree(&tree).map_err(BootError::Tree)?;
    if desc.ccsr_phys != mapped_ccsr_phys {
        return Err(BootError::CcsrMismatch {
            tree: desc.ccsr_phys,
            mapped: mapped_ccsr_phys,
        });
    }
    let soc = FslSoc::new(ccsr, &desc);
    Ok((desc, soc))
}

/// Tell the early console why the board cannot start.
pub fn report_boot_failure(ccsr: Mmio, error: &BootError) {
    struct Early(Uart16550);
    impl fmt::Write for Early {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            s.bytes().for_each(|b| self.0.write_byte(b));
            Ok(())
        }
    }
    let _ = fmt::Write::write_fmt(
        &mut Early(early_console(ccsr)),
        format_args!("\r\nboot failed: {error}\r\n"),
    );
}

/// The SoC's devices the hypervisor drives.
#[derive(Clone, Copy, Debug)]
pub struct FslSoc {
    console: Uart16550,
    console_interrupt: Interrupt,
    mpic: Mpic,
    guts: Guts,
    power_off: Option<(Mpc8xxxGpio, GpioLine)>,
}

impl FslSoc {
    /// Build the drivers for the devices `desc` describes inside `ccsr` (the CCSR window,
    /// [`CCSR_LEN`] bytes), and set the console to 8N1 at [`CONSOLE_BAUD`] (keeping the boot
    /// loader's divisor when the tree gives no UART clock).
    pub fn new(ccsr: Mmio, desc: &SocDescription<'_>) -> Self {
        let console = Uart16550::new(
            ccsr.window(desc.console.ccsr_offset, RegLayout::Bytes.window_len()),
            RegLayout::Bytes,
        );
        console.init(desc.console.clock_hz, CONSOLE_BAUD);
        let guts_offset = desc.guts_offset.unwrap_or(fsl_guts::CCSR_OFFSET);
        FslSoc {
            console,
            console_interrupt: desc.console.interrupt,
            mpic: Mpic::new(ccsr.window(desc.mpic_offset, mpic::WINDOW_LEN)),
            guts: Guts::new(ccsr.window(guts_offset, fsl_guts::WINDOW_LEN)),
            power_off: desc.power_off.map(|line| {
                let gpio = ccsr.window(line.controller_offset, mpc8xxx_gpio::WINDOW_LEN);
                (Mpc8xxxGpio::new(gpio), line)
            }),
        }
    }

    /// The console UART.
    pub fn console(&self) -> &Uart16550 {
        &self.console
    }

    /// The interrupt controller.
    pub fn mpic(&self) -> &Mpic {
        &self.mpic
    }

    /// Reset the MPIC, route the console's receive interrupt to the boot CPU's External Input
    /// (vector = source number) and open the CPU to it.
    pub fn init_interrupts(&self) -> Result<(), MpicError> {
        let source = self.console_interrupt.source;
        self.mpic.reset(BOOT_CPU)?;
        self.mpic.configure(
            source,
            SourceConfig {
                vector: source.0,
                priority: CONSOLE_PRIORITY,
                sense: self.console_interrupt.sense,
                cpus: 1 << BOOT_CPU,
            },
        )?;
        self.mpic.unmask(source)?;
        self.mpic.set_task_priority(BOOT_CPU, 0)?;
        self.console.set_rx_interrupt(true);
        Ok(())
    }

    /// Route `interrupt` (a device's, besides the console) to the boot CPU at `priority`,
    /// vector = source number, and unmask it. Call after [`Self::init_interrupts`].
    pub fn enable_interrupt(&self, interrupt: Interrupt, priority: u8) -> Result<(), MpicError> {
        self.mpic.configure(
            interrupt.source,
            SourceConfig {
                vector: interrupt.source.0,
                priority,
                sense: interrupt.sense,
                cpus: 1 << BOOT_CPU,
            },
        )?;
        self.mpic.unmask(interrupt.source)
    }

    /// Serve every pending MPIC interrupt of the boot CPU (call on External Input). For the
    /// console, `console_rx` drains the UART and returns `false` when its queue is full; the
    /// receive interrupt is then turned off until the caller turns it on again. Any other
    /// source is masked and handed to `device`: one the caller polls (an Ethernet port) is
    /// unmasked by it once polled; one nobody configured stays masked, so it cannot storm.
    pub fn service_interrupts(
        &self,
        mut console_rx: impl FnMut(&Uart16550) -> bool,
        mut device: impl FnMut(mpic::Source),
    ) {
        while let Some(vector) = self.mpic.acknowledge(BOOT_CPU) {
            if vector == self.console_interrupt.source.0 {
                if !console_rx(&self.console) {
                    self.console.set_rx_interrupt(false);
                }
            } else {
                // Vectors are source numbers (see `init_interrupts`).
                let _ = self.mpic.mask(mpic::Source(vector));
                device(mpic::Source(vector));
            }
            self.mpic.end_of_interrupt(BOOT_CPU);
        }
    }

    /// Request a hard reset of the SoC. Returns if nothing happened.
    pub fn reset(&self) {
        self.guts.request_reset();
    }

    /// Drive the power-off line, if the machine has one. Returns if nothing happened (then
    /// `false`: the machine has no power control).
    pub fn power_off(&self) -> bool {
        let Some((gpio, line)) = self.power_off else {
            return false;
        };
        gpio.drive(line.pin, !line.active_low);
        true
    }
}
