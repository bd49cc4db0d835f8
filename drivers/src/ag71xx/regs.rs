//! The AG71xx registers and descriptor fields the driver uses, as OpenWrt's ath79 driver names
//! them (`target/linux/ath79/files/drivers/net/ethernet/atheros/ag71xx/ag71xx.h`). Registers are
//! 32-bit big-endian (the AR71xx is big-endian), in a 0x200-byte block per MAC: GE0 at
//! 0x1900_0000, GE1 at 0x1A00_0000.

use crate::mmio::Registers;

/// A register's offset in the MAC's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub usize);

pub const MAC_CFG1: Reg = Reg(0x000);
pub const MAC_CFG2: Reg = Reg(0x004);
pub const MAC_MFL: Reg = Reg(0x010);
pub const MII_CFG: Reg = Reg(0x020);
pub const MII_CMD: Reg = Reg(0x024);
pub const MII_ADDR: Reg = Reg(0x028);
pub const MII_CTRL: Reg = Reg(0x02C);
pub const MII_STATUS: Reg = Reg(0x030);
pub const MII_IND: Reg = Reg(0x034);
pub const MAC_IFCTL: Reg = Reg(0x038);
pub const MAC_ADDR1: Reg = Reg(0x040);
pub const MAC_ADDR2: Reg = Reg(0x044);
pub const FIFO_CFG0: Reg = Reg(0x048);
pub const FIFO_CFG1: Reg = Reg(0x04C);
pub const FIFO_CFG2: Reg = Reg(0x050);
pub const FIFO_CFG3: Reg = Reg(0x054);
pub const FIFO_CFG4: Reg = Reg(0x058);
pub const FIFO_CFG5: Reg = Reg(0x05C);
pub const TX_CTRL: Reg = Reg(0x180);
pub const TX_DESC: Reg = Reg(0x184);
pub const TX_STATUS: Reg = Reg(0x188);
pub const RX_CTRL: Reg = Reg(0x18C);
pub const RX_DESC: Reg = Reg(0x190);
pub const RX_STATUS: Reg = Reg(0x194);
pub const INT_ENABLE: Reg = Reg(0x198);
pub const INT_STATUS: Reg = Reg(0x19C);

pub const MAC_CFG1_TXE: u32 = 1 << 0;
pub const MAC_CFG1_STX: u32 = 1 << 1;
pub const MAC_CFG1_RXE: u32 = 1 << 2;
pub const MAC_CFG1_SRX: u32 = 1 << 3;
pub const MAC_CFG1_SR: u32 = 1 << 31;
pub const MAC_CFG1_INIT: u32 = MAC_CFG1_RXE | MAC_CFG1_TXE | MAC_CFG1_SRX | MAC_CFG1_STX;

pub const MAC_CFG2_FDX: u32 = 1 << 0;
pub const MAC_CFG2_PAD_CRC_EN: u32 = 1 << 2;
pub const MAC_CFG2_LEN_CHECK: u32 = 1 << 4;
pub const MAC_CFG2_IF_10_100: u32 = 1 << 8;
pub const MAC_CFG2_IF_1000: u32 = 1 << 9;

pub const MAC_IFCTL_SPEED: u32 = 1 << 16;

/// FIFO set-up, OpenWrt's values for "qca,ar7100-eth": all five FIFO modules on; FIFO_CFG1
/// and FIFO_CFG2 as `fifodata[0..1]`; FIFO_CFG3 with the transmit split (2048 - 512) / 4 in
/// its high half; FIFO_CFG4 and FIFO_CFG5 the receive filter (FIFO_CFG4_INIT/FIFO_CFG5_INIT).
pub const FIFO_CFG0_INIT: u32 = 0x1F << 8;
pub const FIFO_CFG1_INIT: u32 = 0x0FFF_0000;
pub const FIFO_CFG2_INIT: u32 = 0x0000_1FFF;
pub const FIFO_CFG3_INIT: u32 = ((2048 - TX_SPLIT as u32) / 4) << 16 | 0x01FF;
pub const FIFO_CFG4_INIT: u32 = 0xFFFF;
pub const FIFO_CFG5_INIT: u32 = 0x7_EFEF;
/// Byte mode, set at 1000 Mb/s.
pub const FIFO_CFG5_BM: u32 = 1 << 19;

pub const TX_CTRL_TXE: u32 = 1 << 0;
pub const RX_CTRL_RXE: u32 = 1 << 0;
/// TX_STATUS: packet sent (a count: one write decrements it), underrun, bus error.
pub const TX_STATUS_PS: u32 = 1 << 0;
pub const TX_STATUS_UR: u32 = 1 << 1;
pub const TX_STATUS_BE: u32 = 1 << 3;
/// RX_STATUS: packet received (a count: one write decrements it), overflow, bus error.
pub const RX_STATUS_PR: u32 = 1 << 0;
pub const RX_STATUS_OF: u32 = 1 << 2;
pub const RX_STATUS_BE: u32 = 1 << 3;

pub const INT_TX_PS: u32 = 1 << 0;
pub const INT_TX_UR: u32 = 1 << 1;
pub const INT_TX_BE: u32 = 1 << 3;
pub const INT_RX_PR: u32 = 1 << 4;
pub const INT_RX_OF: u32 = 1 << 6;
pub const INT_RX_BE: u32 = 1 << 7;
pub const INT_ERRORS: u32 = INT_TX_BE | INT_RX_BE | INT_TX_UR;
pub const INT_POLL: u32 = INT_TX_PS | INT_RX_PR | INT_RX_OF;

pub const MII_CFG_RESET: u32 = 1 << 31;
/// MDC = the AHB clock / 28: OpenWrt's divider for a bus of external PHYs.
pub const MII_CFG_CLK_DIV_28: u32 = 7;
pub const MII_CMD_READ: u32 = 1;
pub const MII_IND_BUSY: u32 = 1 << 0;

/// Descriptors: four big-endian words (buffer, control, next descriptor, padding), each padded
/// to a 32-byte cache line as OpenWrt does.
pub const DESC_STRIDE: usize = 32;
pub const DESC_DATA: usize = 0;
pub const DESC_CTRL: usize = 4;
pub const DESC_NEXT: usize = 8;
/// Set: the descriptor is empty (receive: waiting for a frame; transmit: sent, or not ready).
pub const DESC_EMPTY: u32 = 1 << 31;
/// Set: the frame continues in the next descriptor.
pub const DESC_MORE: u32 = 1 << 24;
pub const DESC_PKTLEN: u32 = 0xFFF;
/// The AR7100 sends a frame in pieces of at most 512 bytes (OpenWrt's
/// `AG71XX_TX_RING_SPLIT`), none of 4 bytes or less.
pub const TX_SPLIT: usize = 512;
/// The longest frame sent (OpenWrt's `AG71XX_TX_MTU_LEN`).
pub const TX_MAX_FRAME: usize = 1540;
/// Descriptors one frame takes at most.
pub const TX_PIECES_MAX: usize = TX_MAX_FRAME.div_ceil(TX_SPLIT);

/// The register block, read and written big-endian.
#[derive(Clone, Copy, Debug)]
pub struct Regs<R>(pub R);

impl<R: Registers> Regs<R> {
    pub fn read(&self, reg: Reg) -> u32 {
        self.0.read_be32(reg.0)
    }

    pub fn write(&self, reg: Reg, value: u32) {
        self.0.write_be32(reg.0, value)
    }
}
