//! MDIO through an eTSEC's MII management registers (MIIMCFG..MIIMIND). On the MPC8544 the
//! MDIO pins belong to eTSEC1's block (the device tree's `mdio@24520`); QEMU's model gives every
//! eTSEC its own, with one PHY that answers at any address.

use super::regs::*;
use crate::mii::{Mdio, MdioError};
use crate::mmio::Registers;

/// How many times MIIMIND is read before an exchange is declared stuck (an exchange takes
/// 64 MDC clocks, about 25 us at 2.5 MHz; a register read takes well over 25 ns).
const BUSY_POLLS: u32 = 10_000;

/// The MII management interface of one eTSEC block.
#[derive(Clone, Copy, Debug)]
pub struct EtsecMdio<R> {
    regs: Regs<R>,
}

impl<R: Registers> EtsecMdio<R> {
    /// `regs` is the eTSEC block whose MDIO pins reach the PHYs.
    pub fn new(regs: R) -> Self {
        EtsecMdio { regs: Regs(regs) }
    }

    /// Reset the management interface and set its clock.
    pub fn reset(&self) {
        self.regs.write(MIIMCFG, MIIMCFG_RESET);
        self.regs.write(MIIMCFG, MIIMCFG_CLOCK);
    }

    fn wait(&self) -> Result<u32, MdioError> {
        (0..BUSY_POLLS)
            .map(|_| self.regs.read(MIIMIND))
            .find(|ind| ind & MIIMIND_BUSY == 0)
            .ok_or(MdioError::Timeout)
    }
}

impl<R: Registers> Mdio for EtsecMdio<R> {
    fn read(&self, phy: u8, reg: u8) -> Result<u16, MdioError> {
        self.wait()?;
        self.regs
            .write(MIIMADD, u32::from(phy & 0x1F) << 8 | u32::from(reg & 0x1F));
        // A read cycle starts on `MIIMCOM[READ]` going from 0 to 1.
        self.regs.write(MIIMCOM, 0);
        self.regs.write(MIIMCOM, MIIMCOM_READ);
        let ind = self.wait()?;
        let value = self.regs.read(MIIMSTAT) as u16;
        self.regs.write(MIIMCOM, 0);
        if ind & MIIMIND_NOT_VALID != 0 {
            return Err(MdioError::NoResponse);
        }
        Ok(value)
    }

    fn write(&self, phy: u8, reg: u8, value: u16) -> Result<(), MdioError> {
        self.wait()?;
        self.regs
            .write(MIIMADD, u32::from(phy & 0x1F) << 8 | u32::from(reg & 0x1F));
        self.regs.write(MIIMCON, u32::from(value));
        self.wait().map(|_| ())
    }
}
