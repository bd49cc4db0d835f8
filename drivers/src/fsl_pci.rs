//! The MPC85xx PCI controller's configuration mechanism (QEMU ppce500: the controller's block
//! at CCSR + 0x8000; its `e500-pcihost`), for PCI devices such as the e1000 on the e500 boards.
//!
//! CONFIG_ADDRESS (offset 0) is a big-endian register holding the PC-style address (enable,
//! bus, device, function, register); CONFIG_DATA (offset 4) is the PCI dword, little-endian
//! (QEMU: `pci_host_conf_be_ops` and `pci_host_data_le_ops`; Linux: `fsl_pci` sets up an
//! indirect bridge with a big-endian address register).

use crate::mmio::Registers;
use crate::pci::{PciConfig, PciFunction};

const CONFIG_ADDRESS: usize = 0x0;
const CONFIG_DATA: usize = 0x4;
const ENABLE: u32 = 1 << 31;
/// Bytes of the controller's register block.
pub const WINDOW_LEN: usize = 0x1000;
/// Where the controller sits in QEMU ppce500's CCSR.
pub const CCSR_OFFSET: usize = 0x8000;

/// Configuration-space access through an MPC85xx PCI controller (bus 0).
#[derive(Clone, Copy, Debug)]
pub struct FslPci<R> {
    regs: R,
}

impl<R: Registers> FslPci<R> {
    /// `regs` is the controller's block ([`WINDOW_LEN`] bytes).
    pub fn new(regs: R) -> Self {
        FslPci { regs }
    }

    fn select(&self, f: PciFunction, reg: u8) {
        let address = ENABLE
            | u32::from(f.device & 0x1F) << 11
            | u32::from(f.function & 7) << 8
            | u32::from(reg & 0xFC);
        self.regs.write_be32(CONFIG_ADDRESS, address);
    }
}

impl<R: Registers> PciConfig for FslPci<R> {
    fn read32(&self, f: PciFunction, reg: u8) -> u32 {
        self.select(f, reg);
        self.regs.read_le32(CONFIG_DATA)
    }

    fn write32(&self, f: PciFunction, reg: u8, value: u32) {
        self.select(f, reg);
        self.regs.write_le32(CONFIG_DATA, value);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use core::cell::Cell;

    use super::*;

    /// The controller as QEMU models it: a big-endian address latch and a little-endian data
    /// window onto one function's header (an e1000 at device 17).
    struct Controller {
        address: Cell<u32>,
        command: Cell<u32>,
    }

    impl Controller {
        fn dword(&self) -> Option<usize> {
            let a = self.address.get();
            let selected = a & ENABLE != 0 && (a >> 11) & 0x1F == 17 && (a >> 8) & 7 == 0;
            selected.then_some((a & 0xFC) as usize)
        }
    }

    impl Registers for Controller {
        fn read8(&self, _: usize) -> u8 {
            unreachable!()
        }
        fn write8(&self, _: usize, _: u8) {
            unreachable!()
        }
        fn read_be32(&self, _: usize) -> u32 {
            unreachable!("the data register is little-endian")
        }
        fn write_le32(&self, offset: usize, v: u32) {
            assert_eq!(offset, CONFIG_DATA, "the address register is big-endian");
            if self.dword() == Some(4) {
                self.command.set(v);
            }
        }
        fn write_be32(&self, offset: usize, v: u32) {
            assert_eq!(offset, CONFIG_ADDRESS, "the data register is little-endian");
            self.address.set(v);
        }
        fn read_le32(&self, offset: usize) -> u32 {
            assert_eq!(offset, CONFIG_DATA);
            match self.dword() {
                Some(0) => 0x100E_8086,
                Some(4) => self.command.get(),
                Some(_) => 0,
                None => u32::MAX,
            }
        }
    }

    #[test]
    fn functions_are_found_and_configured_through_the_two_registers() {
        let c = Controller {
            address: Cell::new(0),
            command: Cell::new(0),
        };
        let pci = FslPci::new(&c);
        let found: std::vec::Vec<_> = crate::e1000::find(&pci).collect();
        assert_eq!(
            found,
            [PciFunction {
                device: 17,
                function: 0
            }]
        );
        pci.write32(found[0], 0x04, 0x0006);
        assert_eq!(pci.read32(found[0], 0x04), 0x0006);
        assert_eq!(c.address.get(), ENABLE | 17 << 11 | 0x04);
    }
}
