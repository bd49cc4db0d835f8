//! The Galileo GT-64120 system controller's PCI configuration mechanism (malta).
//!
//! The controller's own registers are little-endian; its configuration-data register swaps
//! bytes for devices other than the controller itself, so a native (big-endian) access yields
//! the configuration dword's value. Checked on QEMU 10 malta: reading bus 0 device 10
//! function 0 gives 0x7110_8086 (PIIX4 ISA bridge).

use crate::mmio::Mmio;
use crate::pci::PciConfig;
pub use crate::pci::PciFunction;

const CFG_ADDR: usize = 0xCF8;
const CFG_DATA: usize = 0xCFC;
const CFG_ENABLE: u32 = 1 << 31;

/// PCI configuration space access through a GT-64120.
#[derive(Clone, Copy, Debug)]
pub struct Gt64120Pci {
    regs: Mmio,
}

impl Gt64120Pci {
    /// `regs` is the controller's 4 KiB register block.
    pub fn new(regs: Mmio) -> Self {
        Self { regs }
    }

    fn select(&self, f: PciFunction, reg: u8) {
        let addr = CFG_ENABLE
            | u32::from(f.device & 0x1F) << 11
            | u32::from(f.function & 7) << 8
            | u32::from(reg & 0xFC);
        self.regs.write_le32(CFG_ADDR, addr);
    }

    /// Read the configuration dword at `reg` (rounded down to a multiple of 4).
    pub fn read32(&self, f: PciFunction, reg: u8) -> u32 {
        self.select(f, reg);
        self.regs.read_be32(CFG_DATA)
    }

    /// Write the configuration dword at `reg` (rounded down to a multiple of 4).
    pub fn write32(&self, f: PciFunction, reg: u8, value: u32) {
        self.select(f, reg);
        self.regs.write_be32(CFG_DATA, value);
    }
}

impl PciConfig for Gt64120Pci {
    fn read32(&self, f: PciFunction, reg: u8) -> u32 {
        Gt64120Pci::read32(self, f, reg)
    }
    fn write32(&self, f: PciFunction, reg: u8, value: u32) {
        Gt64120Pci::write32(self, f, reg, value)
    }
}
