//! The 82540EM's registers and descriptor fields used by the driver (Intel PCI/PCI-X Family of
//! Gigabit Ethernet Controllers Software Developer's Manual, "8254x SDM": chapter 13 for
//! registers, 3.2.3 and 3.3.3 for descriptors). Every register is 32 bits, little-endian (PCI),
//! in BAR 0 (128 KiB of memory space); [`Regs`] is the one place they are read and written.

use crate::mmio::Registers;

/// A register's offset in BAR 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub usize);

pub const CTRL: Reg = Reg(0x0000);
pub const STATUS: Reg = Reg(0x0008);
pub const EERD: Reg = Reg(0x0014);
pub const ICR: Reg = Reg(0x00C0);
pub const ITR: Reg = Reg(0x00C4);
pub const IMS: Reg = Reg(0x00D0);
pub const IMC: Reg = Reg(0x00D8);
pub const RCTL: Reg = Reg(0x0100);
pub const TCTL: Reg = Reg(0x0400);
pub const TIPG: Reg = Reg(0x0410);
pub const RDBAL: Reg = Reg(0x2800);
pub const RDBAH: Reg = Reg(0x2804);
pub const RDLEN: Reg = Reg(0x2808);
pub const RDH: Reg = Reg(0x2810);
pub const RDT: Reg = Reg(0x2818);
pub const TDBAL: Reg = Reg(0x3800);
pub const TDBAH: Reg = Reg(0x3804);
pub const TDLEN: Reg = Reg(0x3808);
pub const TDH: Reg = Reg(0x3810);
pub const TDT: Reg = Reg(0x3818);
/// Multicast table array: 128 registers.
pub const MTA: Reg = Reg(0x5200);
pub const MTA_COUNT: usize = 128;
/// Receive address 0, low and high halves.
pub const RAL0: Reg = Reg(0x5400);
pub const RAH0: Reg = Reg(0x5404);

// Statistics (clear on read, 8254x SDM 13.7).
pub const CRCERRS: Reg = Reg(0x4000);
pub const RXERRC: Reg = Reg(0x400C);
pub const MPC: Reg = Reg(0x4010);
pub const COLC: Reg = Reg(0x4028);
pub const GPRC: Reg = Reg(0x4074);
pub const BPRC: Reg = Reg(0x4078);
pub const MPRC: Reg = Reg(0x407C);
pub const GPTC: Reg = Reg(0x4080);
pub const GORCL: Reg = Reg(0x4088);
pub const GORCH: Reg = Reg(0x408C);
pub const GOTCL: Reg = Reg(0x4090);
pub const GOTCH: Reg = Reg(0x4094);
pub const RNBC: Reg = Reg(0x40A0);
pub const RUC: Reg = Reg(0x40A4);
pub const ROC: Reg = Reg(0x40AC);

pub const CTRL_LRST: u32 = 1 << 3;
pub const CTRL_ASDE: u32 = 1 << 5;
pub const CTRL_SLU: u32 = 1 << 6;
pub const CTRL_ILOS: u32 = 1 << 7;
pub const CTRL_RST: u32 = 1 << 26;
pub const CTRL_VME: u32 = 1 << 30;
pub const CTRL_PHY_RST: u32 = 1 << 31;

pub const STATUS_FD: u32 = 1 << 0;
pub const STATUS_LU: u32 = 1 << 1;
pub const STATUS_SPEED_SHIFT: u32 = 6;

pub const EERD_START: u32 = 1 << 0;
pub const EERD_DONE: u32 = 1 << 4;
pub const EERD_ADDR_SHIFT: u32 = 8;
pub const EERD_DATA_SHIFT: u32 = 16;

// Interrupt causes (ICR, IMS, IMC).
pub const INT_TXDW: u32 = 1 << 0;
pub const INT_TXQE: u32 = 1 << 1;
pub const INT_LSC: u32 = 1 << 2;
pub const INT_RXSEQ: u32 = 1 << 3;
pub const INT_RXDMT0: u32 = 1 << 4;
pub const INT_RXO: u32 = 1 << 6;
pub const INT_RXT0: u32 = 1 << 7;
/// The causes NAPI polling turns off and on.
pub const INT_RX_TX: u32 = INT_TXDW | INT_RXDMT0 | INT_RXO | INT_RXT0;
pub const INT_ALL: u32 = u32::MAX;

pub const RCTL_EN: u32 = 1 << 1;
pub const RCTL_UPE: u32 = 1 << 3;
pub const RCTL_MPE: u32 = 1 << 4;
pub const RCTL_BAM: u32 = 1 << 15;
pub const RCTL_BSIZE_SHIFT: u32 = 16;
pub const RCTL_BSEX: u32 = 1 << 25;
pub const RCTL_SECRC: u32 = 1 << 26;

pub const TCTL_EN: u32 = 1 << 1;
pub const TCTL_PSP: u32 = 1 << 3;
/// Collision threshold 15 and full-duplex collision distance 64 (8254x SDM 13.4.33).
pub const TCTL_CT: u32 = 0x0F << 4;
pub const TCTL_COLD: u32 = 0x40 << 12;
/// IPGT 10, IPGR1 8, IPGR2 6: the copper values for the 82540 (8254x SDM 13.4.34).
pub const TIPG_COPPER: u32 = 10 | (8 << 10) | (6 << 20);

pub const RAH_AV: u32 = 1 << 31;

/// Descriptors: 16 bytes, little-endian. Receive: buffer address (64), length (16), checksum
/// (16), status (8), errors (8), special (16). Legacy transmit: buffer address (64), then a
/// word of length (16), CSO (8), command (8), then status (8), CSS (8), special (16).
pub const DESCRIPTOR_SIZE: usize = 16;
pub const DESC_ADDR_LO: usize = 0;
pub const DESC_ADDR_HI: usize = 4;
/// Receive: length | checksum << 16. Transmit: length | CSO << 16 | command << 24.
pub const DESC_WORD2: usize = 8;
/// Receive: status | errors << 8 | special << 16. Transmit: status | CSS << 8 | special << 16.
pub const DESC_WORD3: usize = 12;

pub const RXD_STAT_DD: u32 = 1 << 0;
pub const RXD_STAT_EOP: u32 = 1 << 1;
/// Receive errors: CRC/alignment, symbol, sequence, carrier extension, RX data error.
pub const RXD_ERR_FRAME: u32 = 0x01 | 0x02 | 0x04 | 0x10 | 0x80;

pub const TXD_CMD_EOP: u32 = 1 << 24;
pub const TXD_CMD_IFCS: u32 = 1 << 25;
pub const TXD_CMD_RS: u32 = 1 << 27;
pub const TXD_STAT_DD: u32 = 1 << 0;
/// Excess collisions, late collision, underrun.
pub const TXD_STAT_ERRORS: u32 = (1 << 1) | (1 << 2) | (1 << 3);
/// The longest buffer one transmit descriptor may carry (8254x SDM 3.3.3).
pub const TX_MAX_LENGTH: usize = 16288;

/// The register block, read and written little-endian.
#[derive(Clone, Copy, Debug)]
pub struct Regs<R>(pub R);

impl<R: Registers> Regs<R> {
    pub fn read(&self, reg: Reg) -> u32 {
        self.0.read_le32(reg.0)
    }

    pub fn write(&self, reg: Reg, value: u32) {
        self.0.write_le32(reg.0, value)
    }

    /// Register `index` of the array starting at `base` (MTA).
    pub fn write_array(&self, base: Reg, index: usize, value: u32) {
        self.0.write_le32(base.0 + 4 * index, value)
    }
}

/// RCTL.BSIZE/BSEX for a buffer size the device supports (8254x SDM 13.4.22).
pub fn rctl_buffer_size(bytes: usize) -> Option<u32> {
    let (bsize, bsex) = match bytes {
        2048 => (0, false),
        1024 => (1, false),
        512 => (2, false),
        256 => (3, false),
        16384 => (1, true),
        8192 => (2, true),
        4096 => (3, true),
        _ => return None,
    };
    Some((bsize << RCTL_BSIZE_SHIFT) | if bsex { RCTL_BSEX } else { 0 })
}
