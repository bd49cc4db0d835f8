//! Soft power-off through the PIIX4's power-management function (PCI bus 0, device 10,
//! function 3): give its I/O block a base, enable it, and write SLP_EN with sleep type 0
//! (soft off) to PM1_CNT. Checked on QEMU 10 malta: QEMU exits.

use drivers::gt64120::{Gt64120Pci, PciFunction};
use drivers::mmio::Mmio;

const PM_FUNCTION: PciFunction = PciFunction {
    device: 10,
    function: 3,
};
const PIIX4_PM_ID: u32 = 0x7113_8086;
/// PMBA: power-management I/O base (bits 15:6), bit 0 says "I/O space".
const CFG_PMBA: u8 = 0x40;
/// PMREGMISC: bit 0 enables the PM I/O block.
const CFG_PMREGMISC: u8 = 0x80;
/// An ISA I/O range nothing else on malta decodes.
const PM_IO_BASE: u16 = 0x1000;
const PM1_CNT: usize = 0x04;
const PM1_CNT_SLP_EN: u16 = 1 << 13;

/// Power off, if the PIIX4 PM function answers; returns if it did not.
pub fn power_off(pci: &Gt64120Pci, isa_io: &Mmio) {
    if pci.read32(PM_FUNCTION, 0) != PIIX4_PM_ID {
        return;
    }
    pci.write32(PM_FUNCTION, CFG_PMBA, u32::from(PM_IO_BASE) | 1);
    let misc = pci.read32(PM_FUNCTION, CFG_PMREGMISC);
    pci.write32(PM_FUNCTION, CFG_PMREGMISC, misc | 1);
    isa_io.write_le16(usize::from(PM_IO_BASE) + PM1_CNT, PM1_CNT_SLP_EN);
}
