//! The eTSEC registers and buffer descriptor fields the driver uses (MPC8544E reference manual,
//! chapter "Enhanced Three-Speed Ethernet Controllers"; the same names as Linux's `gianfar.h`
//! and QEMU's `hw/net/fsl_etsec/registers.h`). Registers are 32-bit big-endian, in a 4 KiB
//! block; bit masks are written LSB = bit 0 (the manual numbers bits from the MSB).

use crate::mmio::Registers;

/// A register's offset in the controller's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub usize);

pub const IEVENT: Reg = Reg(0x010);
pub const IMASK: Reg = Reg(0x014);
pub const ECNTRL: Reg = Reg(0x020);
pub const DMACTRL: Reg = Reg(0x02C);
pub const TCTRL: Reg = Reg(0x100);
pub const TSTAT: Reg = Reg(0x104);
pub const TQUEUE: Reg = Reg(0x114);
pub const TBASEH: Reg = Reg(0x200);
pub const TBASE0: Reg = Reg(0x204);
pub const RCTRL: Reg = Reg(0x300);
pub const RSTAT: Reg = Reg(0x304);
pub const RQUEUE: Reg = Reg(0x314);
/// The receive descriptor the controller will fill next (read-only here).
pub const RBPTR0: Reg = Reg(0x384);
pub const MRBLR: Reg = Reg(0x340);
pub const RBASEH: Reg = Reg(0x400);
pub const RBASE0: Reg = Reg(0x404);
pub const MACCFG1: Reg = Reg(0x500);
pub const MACCFG2: Reg = Reg(0x504);
pub const MAXFRM: Reg = Reg(0x510);
pub const MIIMCFG: Reg = Reg(0x520);
pub const MIIMCOM: Reg = Reg(0x524);
pub const MIIMADD: Reg = Reg(0x528);
pub const MIIMCON: Reg = Reg(0x52C);
pub const MIIMSTAT: Reg = Reg(0x530);
pub const MIIMIND: Reg = Reg(0x534);
pub const MACSTNADDR1: Reg = Reg(0x540);
pub const MACSTNADDR2: Reg = Reg(0x544);
pub const ATTR: Reg = Reg(0xBF8);
// RMON counters (auto-zeroed on read with `ECNTRL[AUTOZ]`).
pub const RBYT: Reg = Reg(0x69C);
pub const RPKT: Reg = Reg(0x6A0);
pub const RFCS: Reg = Reg(0x6A4);
pub const RUND: Reg = Reg(0x6CC);
pub const ROVR: Reg = Reg(0x6D0);
pub const RDRP: Reg = Reg(0x6DC);
pub const TBYT: Reg = Reg(0x6E0);
pub const TPKT: Reg = Reg(0x6E4);
pub const TDRP: Reg = Reg(0x714);
pub const TNCL: Reg = Reg(0x70C);

pub const IEVENT_BABR: u32 = 1 << 31;
pub const IEVENT_BSY: u32 = 1 << 29;
pub const IEVENT_EBERR: u32 = 1 << 28;
pub const IEVENT_MSRO: u32 = 1 << 26;
pub const IEVENT_GTSC: u32 = 1 << 25;
pub const IEVENT_BABT: u32 = 1 << 24;
pub const IEVENT_TXE: u32 = 1 << 22;
pub const IEVENT_TXB: u32 = 1 << 21;
pub const IEVENT_TXF: u32 = 1 << 20;
pub const IEVENT_LC: u32 = 1 << 18;
pub const IEVENT_CRL: u32 = 1 << 17;
pub const IEVENT_XFUN: u32 = 1 << 16;
pub const IEVENT_RXB: u32 = 1 << 15;
pub const IEVENT_GRSC: u32 = 1 << 8;
pub const IEVENT_RXF: u32 = 1 << 7;
pub const IEVENT_RX: u32 = IEVENT_RXF | IEVENT_RXB;
pub const IEVENT_TX: u32 = IEVENT_TXF | IEVENT_TXB;
pub const IEVENT_ERRORS: u32 = IEVENT_BABR
    | IEVENT_EBERR
    | IEVENT_MSRO
    | IEVENT_BABT
    | IEVENT_TXE
    | IEVENT_LC
    | IEVENT_CRL
    | IEVENT_XFUN;
/// IMASK bits sit where their IEVENT bits do.
pub const IMASK_RX_TX: u32 = IEVENT_RXF | IEVENT_TXF | IEVENT_BSY;

pub const ECNTRL_CLRCNT: u32 = 1 << 14;
pub const ECNTRL_AUTOZ: u32 = 1 << 13;
pub const ECNTRL_STEN: u32 = 1 << 12;

pub const DMACTRL_TDSEN: u32 = 1 << 7;
pub const DMACTRL_TBDSEN: u32 = 1 << 6;
pub const DMACTRL_GRS: u32 = 1 << 4;
pub const DMACTRL_GTS: u32 = 1 << 3;
pub const DMACTRL_WWR: u32 = 1 << 1;
/// Wait for software (`TSTAT[THLT0]` = 1) rather than poll transmit descriptors.
pub const DMACTRL_WOP: u32 = 1 << 0;

pub const TSTAT_THLT0: u32 = 1 << 31;
pub const TQUEUE_EN0: u32 = 1 << 15;
pub const RSTAT_QHLT0: u32 = 1 << 23;
pub const RQUEUE_EX0: u32 = 1 << 23;
pub const RQUEUE_EN0: u32 = 1 << 7;
pub const RCTRL_PROM: u32 = 1 << 3;

pub const MACCFG1_SOFT_RESET: u32 = 1 << 31;
pub const MACCFG1_RX_EN: u32 = 1 << 2;
pub const MACCFG1_TX_EN: u32 = 1 << 0;
/// Preamble length 7, byte mode (GMII), pad and CRC appended, full duplex.
pub const MACCFG2_INIT: u32 = (7 << 12) | (2 << 8) | (1 << 2) | (1 << 0);
pub const MACCFG2_FULL_DUPLEX: u32 = 1 << 0;
pub const MACCFG2_IF_MASK: u32 = 3 << 8;
pub const MACCFG2_IF_NIBBLE: u32 = 1 << 8;
pub const MACCFG2_IF_BYTE: u32 = 2 << 8;

/// Snoop receive data and receive descriptors (makes the e500's caches see what the eTSEC
/// writes).
pub const ATTR_RDSEN: u32 = 1 << 7;
pub const ATTR_RBDSEN: u32 = 1 << 6;

pub const MIIMCFG_RESET: u32 = 1 << 31;
/// Management clock: the source clock / 28 (what U-Boot and Linux use on the MPC85xx).
pub const MIIMCFG_CLOCK: u32 = 0x7;
pub const MIIMCOM_READ: u32 = 1 << 0;
pub const MIIMIND_BUSY: u32 = 1 << 0;
pub const MIIMIND_NOT_VALID: u32 = 1 << 2;

/// Buffer descriptors: 8 bytes, big-endian: flags (16) | length (16), then the buffer pointer.
pub const BD_SIZE: usize = 8;
pub const BD_STATUS: usize = 0;
pub const BD_POINTER: usize = 4;
pub const BD_WRAP: u32 = 1 << 13;
pub const BD_INTERRUPT: u32 = 1 << 12;
pub const BD_LAST: u32 = 1 << 11;
pub const TXBD_READY: u32 = 1 << 15;
pub const TXBD_PADCRC: u32 = 1 << 14;
/// Late collision, retransmission limit, underrun.
pub const TXBD_ERRORS: u32 = (1 << 7) | (1 << 6) | (1 << 1);
pub const RXBD_EMPTY: u32 = 1 << 15;
/// Too long, not a whole number of bytes, CRC error, overrun, truncated. (Short frames, SH,
/// are not errors here: see the module docs.)
pub const RXBD_ERRORS: u32 = (1 << 5) | (1 << 4) | (1 << 2) | (1 << 1) | (1 << 0);

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
