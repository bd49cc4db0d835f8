//! The MPC85xx PCI controller's configuration mechanism (QEMU ppce500: the controller's block
//! at CCSR + 0x8000; its `e500-pcihost`), for PCI devices such as the e1000 on the e500 boards.
//!
//! CONFIG_ADDRESS (offset 0) is a big-endian register holding the PC-style address (enable,
//! bus, device, function, register); CONFIG_DATA (offset 4) is the PCI dword, little-endian
//! (QEMU: `pci_host_conf_be_ops` and `pci_host_data_le_ops`; Linux: `fsl_pci` sets up an
//! indirect bridge with a big-endian address register).
//!
//! The address translation and mapping unit (ATMU, MPC8544 reference manual 18.3.1.3, QEMU's
//! `e500_update_pow`/`e500_update_piw`): an outbound window makes CPU physical addresses
//! reach PCI memory, an inbound window lets PCI bus masters reach local memory. Nothing is
//! mapped either way until a window is enabled (QEMU 10 maps none at reset): a board with a
//! PCI device sets one of each ([`FslPci::set_outbound`], [`FslPci::set_inbound`]). Inbound
//! windows are set to snoop the core's cache on reads and writes: with that the e500 sees DMA
//! coherently, as Linux's `setup_pci_atmu` (PIWAR_READ_SNOOP | PIWAR_WRITE_SNOOP) relies on.

use crate::mmio::Registers;
use crate::pci::{PciConfig, PciFunction};

const CONFIG_ADDRESS: usize = 0x0;
const CONFIG_DATA: usize = 0x4;
const ENABLE: u32 = 1 << 31;
/// Bytes of the controller's register block.
pub const WINDOW_LEN: usize = 0x1000;
/// Where the controller sits in QEMU ppce500's CCSR.
pub const CCSR_OFFSET: usize = 0x8000;

/// Outbound window 1 (window 0 is the default one, which QEMU does not model).
const OUTBOUND_1: usize = 0xC20;
const POTAR: usize = 0x0;
const POTEAR: usize = 0x4;
const POWBAR: usize = 0x8;
const POWAR: usize = 0x10;
/// Inbound window 1.
const INBOUND_1: usize = 0xDE0;
const PITAR: usize = 0x0;
const PIWBAR: usize = 0x8;
const PIWBEAR: usize = 0xC;
const PIWAR: usize = 0x10;
const WAR_ENABLE: u32 = 1 << 31;
/// POWAR: memory read and memory write transactions.
const POWAR_MEMORY: u32 = 0x4 << 16 | 0x4 << 12;
/// PIWAR: prefetchable, target local memory, reads and writes snooped.
const PIWAR_LOCAL_SNOOPED: u32 = 1 << 29 | 0xF << 20 | 0x5 << 16 | 0x5 << 12;

/// Why a window cannot be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowError {
    /// Size not a power of two of at least 4 KiB, or a base not aligned to it.
    BadWindow,
}

/// The window-size field of a window of `size` bytes (2^(field + 1)).
fn size_field(size: u64, bases: &[u64]) -> Result<u32, WindowError> {
    let aligned = bases.iter().all(|b| b.is_multiple_of(size));
    if !size.is_power_of_two() || size < 4096 || !aligned {
        return Err(WindowError::BadWindow);
    }
    Ok(size.trailing_zeros() - 1)
}

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

impl<R: Registers> FslPci<R> {
    /// Outbound window 1: CPU physical `cpu .. cpu + size` reaches PCI memory at `bus`.
    pub fn set_outbound(&self, cpu: u64, bus: u64, size: u64) -> Result<(), WindowError> {
        let field = size_field(size, &[cpu, bus])?;
        let r = &self.regs;
        r.write_be32(OUTBOUND_1 + POWAR, 0);
        r.write_be32(OUTBOUND_1 + POTAR, (bus >> 12) as u32);
        r.write_be32(OUTBOUND_1 + POTEAR, (bus >> 44) as u32);
        r.write_be32(OUTBOUND_1 + POWBAR, (cpu >> 12) as u32);
        r.write_be32(OUTBOUND_1 + POWAR, WAR_ENABLE | POWAR_MEMORY | field);
        Ok(())
    }

    /// Inbound window 1: PCI bus masters reach local memory at `local` through PCI memory
    /// addresses `bus .. bus + size`, snooped.
    pub fn set_inbound(&self, bus: u64, local: u64, size: u64) -> Result<(), WindowError> {
        let field = size_field(size, &[bus, local])?;
        let r = &self.regs;
        r.write_be32(INBOUND_1 + PIWAR, 0);
        r.write_be32(INBOUND_1 + PITAR, (local >> 12) as u32);
        r.write_be32(INBOUND_1 + PIWBAR, (bus >> 12) as u32);
        r.write_be32(INBOUND_1 + PIWBEAR, (bus >> 44) as u32);
        r.write_be32(INBOUND_1 + PIWAR, WAR_ENABLE | PIWAR_LOCAL_SNOOPED | field);
        Ok(())
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

    /// The ATMU registers as written, big-endian.
    struct Atmu(core::cell::RefCell<std::vec::Vec<(usize, u32)>>);

    impl Registers for Atmu {
        fn read8(&self, _: usize) -> u8 {
            unreachable!()
        }
        fn write8(&self, _: usize, _: u8) {
            unreachable!()
        }
        fn read_le32(&self, _: usize) -> u32 {
            unreachable!("the ATMU registers are big-endian")
        }
        fn write_le32(&self, _: usize, _: u32) {
            unreachable!("the ATMU registers are big-endian")
        }
        fn read_be32(&self, _: usize) -> u32 {
            unreachable!()
        }
        fn write_be32(&self, offset: usize, v: u32) {
            self.0.borrow_mut().push((offset, v));
        }
    }

    #[test]
    fn windows_are_written_disabled_first_and_enabled_last() {
        let atmu = Atmu(Default::default());
        let pci = FslPci::new(&atmu);
        pci.set_outbound(0xF_000F_0000, 0xE000_0000, 0x1_0000)
            .unwrap();
        pci.set_inbound(0, 0, 0x8000_0000).unwrap();
        assert_eq!(
            *atmu.0.borrow(),
            [
                (0xC30, 0),
                (0xC20, 0xE_0000),
                (0xC24, 0),
                (0xC28, 0xF0_00F0),
                (0xC30, 0x8004_400F),
                (0xDF0, 0),
                (0xDE0, 0),
                (0xDE8, 0),
                (0xDEC, 0),
                (0xDF0, 0xA0F5_501E),
            ]
        );
        assert_eq!(
            pci.set_outbound(0xF_000F_8000, 0xE000_0000, 0x1_0000),
            Err(WindowError::BadWindow)
        );
        assert_eq!(pci.set_inbound(0, 0, 3 << 20), Err(WindowError::BadWindow));
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
