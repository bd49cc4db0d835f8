//! IEEE 802.3 clause 22 PHY registers over an MDIO bus: link state, speed and duplex.
//!
//! The MDIO masters (the eTSEC's MII management registers, the AG71xx's MII block) implement
//! [`Mdio`]; [`link`] reads the PHY the same way for both.

use crate::nic::{Link, Speed};

/// Control: speed select (LSB), auto-negotiation enable, duplex, speed select (MSB).
pub const BMCR: u8 = 0;
/// Status: link (latched low), auto-negotiation complete.
pub const BMSR: u8 = 1;
pub const PHYID1: u8 = 2;
pub const PHYID2: u8 = 3;
/// Our advertisement and the link partner's abilities.
pub const ANAR: u8 = 4;
pub const ANLPAR: u8 = 5;
/// 1000BASE-T control (our 1000 advertisement) and status (the partner's).
pub const CTRL1000: u8 = 9;
pub const STAT1000: u8 = 10;

const BMCR_SPEED_LSB: u16 = 1 << 13;
const BMCR_ANENABLE: u16 = 1 << 12;
const BMCR_FULL_DUPLEX: u16 = 1 << 8;
const BMCR_SPEED_MSB: u16 = 1 << 6;
const BMSR_LINK: u16 = 1 << 2;
const BMSR_ANEG_COMPLETE: u16 = 1 << 5;
const ADV_100_FULL: u16 = 1 << 8;
const ADV_100_HALF: u16 = 1 << 7;
const ADV_10_FULL: u16 = 1 << 6;
const ADV_10_HALF: u16 = 1 << 5;
const CTRL1000_FULL: u16 = 1 << 9;
const CTRL1000_HALF: u16 = 1 << 8;
const STAT1000_FULL: u16 = 1 << 11;
const STAT1000_HALF: u16 = 1 << 10;

/// Why an MDIO exchange failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdioError {
    /// The MDIO master stayed busy.
    Timeout,
    /// The master says the read data is not valid (no PHY answered).
    NoResponse,
}

/// An MDIO bus master.
pub trait Mdio {
    fn read(&self, phy: u8, reg: u8) -> Result<u16, MdioError>;
    fn write(&self, phy: u8, reg: u8, value: u16) -> Result<(), MdioError>;
}

/// The link as PHY `phy` reports it. The link bit latches low, so it is read twice (the
/// second read is the current state). Speed and duplex: the best ability both ends advertise
/// once auto-negotiation is complete, else what the control register forces; `None` if the
/// PHY does not tell (QEMU's eTSEC PHY, which reports no abilities).
pub fn link(mdio: &impl Mdio, phy: u8) -> Result<Link, MdioError> {
    mdio.read(phy, BMSR)?;
    let bmsr = mdio.read(phy, BMSR)?;
    if bmsr & BMSR_LINK == 0 {
        return Ok(Link::DOWN);
    }
    let bmcr = mdio.read(phy, BMCR)?;
    let negotiated = bmcr & BMCR_ANENABLE != 0 || bmsr & BMSR_ANEG_COMPLETE != 0;
    let (speed, full_duplex) = if negotiated {
        resolve(mdio, phy)?
    } else {
        let speed = match (bmcr & BMCR_SPEED_MSB != 0, bmcr & BMCR_SPEED_LSB != 0) {
            (true, _) => Speed::Mbps1000,
            (false, true) => Speed::Mbps100,
            (false, false) => Speed::Mbps10,
        };
        (Some(speed), bmcr & BMCR_FULL_DUPLEX != 0)
    };
    Ok(Link {
        up: true,
        speed,
        full_duplex,
    })
}

fn resolve(mdio: &impl Mdio, phy: u8) -> Result<(Option<Speed>, bool), MdioError> {
    let ours_1000 = mdio.read(phy, CTRL1000)?;
    let theirs_1000 = mdio.read(phy, STAT1000)?;
    if ours_1000 & CTRL1000_FULL != 0 && theirs_1000 & STAT1000_FULL != 0 {
        return Ok((Some(Speed::Mbps1000), true));
    }
    if ours_1000 & CTRL1000_HALF != 0 && theirs_1000 & STAT1000_HALF != 0 {
        return Ok((Some(Speed::Mbps1000), false));
    }
    let common = mdio.read(phy, ANAR)? & mdio.read(phy, ANLPAR)?;
    Ok(if common & ADV_100_FULL != 0 {
        (Some(Speed::Mbps100), true)
    } else if common & ADV_100_HALF != 0 {
        (Some(Speed::Mbps100), false)
    } else if common & ADV_10_FULL != 0 {
        (Some(Speed::Mbps10), true)
    } else if common & ADV_10_HALF != 0 {
        (Some(Speed::Mbps10), false)
    } else {
        (None, false)
    })
}
