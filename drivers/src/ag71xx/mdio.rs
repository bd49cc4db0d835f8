//! MDIO through an AG71xx block's MII registers (MII_CFG..MII_IND), as OpenWrt's
//! `ag71xx_mdio.c` drives them. On the AR7161 the PHYs' MDIO bus is GE0's.

use super::regs::*;
use crate::mii::{Mdio, MdioError};
use crate::mmio::Registers;
use crate::nic::Delay;

/// MII_IND reads before an exchange counts as stuck (OpenWrt: 1000 tries 10 us apart).
const BUSY_POLLS: u32 = 100_000;

/// The MII management interface of one AG71xx block.
#[derive(Clone, Copy, Debug)]
pub struct Ag71xxMdio<R> {
    regs: Regs<R>,
}

impl<R: Registers> Ag71xxMdio<R> {
    /// `regs` is the MAC block whose MII registers drive the bus (GE0 on the AR7161).
    pub fn new(regs: R) -> Self {
        Ag71xxMdio { regs: Regs(regs) }
    }

    /// Reset the interface and set MDC to the AHB clock / 28 (100 us each, as OpenWrt).
    pub fn reset(&self, delay: &impl Delay) {
        self.regs.write(MII_CFG, MII_CFG_CLK_DIV_28 | MII_CFG_RESET);
        delay.delay_us(100);
        self.regs.write(MII_CFG, MII_CFG_CLK_DIV_28);
        delay.delay_us(100);
    }

    fn wait(&self) -> Result<u32, MdioError> {
        (0..BUSY_POLLS)
            .map(|_| self.regs.read(MII_IND))
            .find(|ind| ind & MII_IND_BUSY == 0)
            .ok_or(MdioError::Timeout)
    }

    fn select(&self, phy: u8, reg: u8) {
        self.regs
            .write(MII_ADDR, u32::from(phy & 0x1F) << 8 | u32::from(reg & 0x1F));
    }
}

impl<R: Registers> Mdio for Ag71xxMdio<R> {
    fn read(&self, phy: u8, reg: u8) -> Result<u16, MdioError> {
        self.wait()?;
        self.regs.write(MII_CMD, 0);
        self.select(phy, reg);
        self.regs.write(MII_CMD, MII_CMD_READ);
        self.wait()?;
        let value = self.regs.read(MII_STATUS) as u16;
        self.regs.write(MII_CMD, 0);
        Ok(value)
    }

    fn write(&self, phy: u8, reg: u8, value: u16) -> Result<(), MdioError> {
        self.select(phy, reg);
        self.regs.write(MII_CTRL, u32::from(value));
        self.wait().map(|_| ())
    }
}
