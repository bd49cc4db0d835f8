//! A register model of one AG71xx MAC, written from what OpenWrt's driver expects of the
//! hardware (there is no QEMU model, and this one is not checked against a real AR7161):
//! big-endian registers; a transmit engine started by `TX_CTRL[TXE]` that follows the `next`
//! chain from TX_DESC, sends pieces until one without MORE, sets EMPTY on each descriptor it
//! is done with, counts them in `TX_STATUS[PS]` and stops at an EMPTY one; a receive engine that
//! stores a frame with its FCS in the descriptor at RX_DESC if it is EMPTY, clears EMPTY, counts
//! it in `RX_STATUS[PR]`, and on a full descriptor sets `RX_STATUS[OF]` and stops; status counts
//! decremented by writing their bit; INT_STATUS derived from the status registers; and one PHY
//! on the MII registers. It also checks the AR7100's transmit rules: no piece over 512 bytes
//! or of 4 bytes or less.

extern crate std;

use std::cell::{Cell, RefCell};
use std::vec;
use std::vec::Vec;

use super::regs::*;
use super::REGISTER_WINDOW;
use crate::mmio::Registers;
use crate::testing::dma_model::DmaModel;

const BMSR_LINK: u16 = 1 << 2;

pub struct Ag71xxModel<'m> {
    mem: &'m DmaModel,
    regs: RefCell<Vec<u8>>,
    rx_count: Cell<u32>,
    tx_count: Cell<u32>,
    link: Cell<bool>,
    pub sent: RefCell<Vec<Vec<u8>>>,
}

impl<'m> Ag71xxModel<'m> {
    pub fn new(mem: &'m DmaModel) -> Self {
        Ag71xxModel {
            mem,
            regs: RefCell::new(vec![0; REGISTER_WINDOW]),
            rx_count: Cell::new(0),
            tx_count: Cell::new(0),
            link: Cell::new(true),
            sent: RefCell::new(Vec::new()),
        }
    }

    pub fn get(&self, r: Reg) -> u32 {
        let b = self.regs.borrow();
        u32::from_be_bytes(b[r.0..r.0 + 4].try_into().unwrap())
    }

    pub fn set(&self, r: Reg, v: u32) {
        self.regs.borrow_mut()[r.0..r.0 + 4].copy_from_slice(&v.to_be_bytes());
    }

    pub fn status(&self) -> u32 {
        let tx = self.get(TX_STATUS);
        let rx = self.get(RX_STATUS);
        let mut s = 0;
        if self.tx_count.get() > 0 {
            s |= INT_TX_PS;
        }
        if self.rx_count.get() > 0 {
            s |= INT_RX_PR;
        }
        s |= if tx & TX_STATUS_UR != 0 { INT_TX_UR } else { 0 };
        s |= if tx & TX_STATUS_BE != 0 { INT_TX_BE } else { 0 };
        s |= if rx & RX_STATUS_OF != 0 { INT_RX_OF } else { 0 };
        s |= if rx & RX_STATUS_BE != 0 { INT_RX_BE } else { 0 };
        s
    }

    pub fn irq(&self) -> bool {
        self.status() & self.get(INT_ENABLE) != 0
    }

    pub fn set_link(&self, up: bool) {
        self.link.set(up);
    }

    pub fn set_status_bits(&self, r: Reg, bits: u32) {
        self.set(r, self.get(r) | bits);
    }

    fn count_up(c: &Cell<u32>) {
        c.set((c.get() + 1).min(255));
    }

    /// A frame arrives. Returns whether it was stored.
    pub fn receive(&self, frame: &[u8]) -> bool {
        let len = frame.len() + 4;
        if self.get(RX_CTRL) & RX_CTRL_RXE == 0 || len > self.get(MAC_MFL) as usize {
            return false;
        }
        let mut data = frame.to_vec();
        data.extend_from_slice(&[0xFC; 4]);
        self.store(&data, len as u32)
    }

    /// The device completes the next receive descriptor with `data` and a control word of the
    /// test's choosing (garbage included; EMPTY is cleared so the driver sees it done).
    pub fn complete_raw(&self, data: &[u8], ctrl: u32) -> bool {
        self.get(RX_CTRL) & RX_CTRL_RXE != 0 && self.store(data, ctrl & !DESC_EMPTY)
    }

    fn store(&self, data: &[u8], ctrl: u32) -> bool {
        let at = u64::from(self.get(RX_DESC));
        let old = self.mem.device_read_be32(at + DESC_CTRL as u64);
        if old & DESC_EMPTY == 0 {
            self.set_status_bits(RX_STATUS, RX_STATUS_OF);
            self.set(RX_CTRL, 0);
            return false;
        }
        let buffer = u64::from(self.mem.device_read_be32(at + DESC_DATA as u64));
        let next = self.mem.device_read_be32(at + DESC_NEXT as u64);
        self.mem.device_write(buffer, &data[..data.len().min(4096)]);
        self.mem.device_write_be32(at + DESC_CTRL as u64, ctrl);
        self.set(RX_DESC, next);
        Self::count_up(&self.rx_count);
        true
    }

    fn transmit(&self) {
        let mut frame = Vec::new();
        loop {
            let at = u64::from(self.get(TX_DESC));
            let ctrl = self.mem.device_read_be32(at + DESC_CTRL as u64);
            if ctrl & DESC_EMPTY != 0 {
                self.set(TX_CTRL, 0);
                assert!(frame.is_empty(), "the engine stopped inside a frame");
                return;
            }
            let len = (ctrl & DESC_PKTLEN) as usize;
            assert!(
                len > 4 && len <= TX_SPLIT,
                "a {len}-byte piece hangs the AR7100"
            );
            let buffer = u64::from(self.mem.device_read_be32(at + DESC_DATA as u64));
            let mut piece = vec![0; len];
            self.mem.device_read(buffer, &mut piece);
            frame.extend_from_slice(&piece);
            if ctrl & DESC_MORE == 0 {
                self.sent.borrow_mut().push(core::mem::take(&mut frame));
            }
            self.mem
                .device_write_be32(at + DESC_CTRL as u64, ctrl | DESC_EMPTY);
            Self::count_up(&self.tx_count);
            self.set(TX_DESC, self.mem.device_read_be32(at + DESC_NEXT as u64));
        }
    }

    fn phy_read(&self, reg: u32) -> u32 {
        match reg {
            0 => 0x1140,
            1 => {
                0x7969
                    | if self.link.get() {
                        u32::from(BMSR_LINK)
                    } else {
                        0
                    }
            }
            9 => 0x0200,
            10 => 0x0800,
            _ => 0,
        }
    }
}

impl Registers for Ag71xxModel<'_> {
    fn read8(&self, offset: usize) -> u8 {
        panic!("8-bit read at {offset:#x}: the AG71xx's registers are 32-bit big-endian")
    }
    fn write8(&self, offset: usize, _: u8) {
        panic!("8-bit write at {offset:#x}: the AG71xx's registers are 32-bit big-endian")
    }
    fn read_le32(&self, offset: usize) -> u32 {
        panic!("little-endian read at {offset:#x}: the AG71xx's registers are big-endian")
    }
    fn write_le32(&self, offset: usize, _: u32) {
        panic!("little-endian write at {offset:#x}: the AG71xx's registers are big-endian")
    }

    fn read_be32(&self, offset: usize) -> u32 {
        assert!(offset.is_multiple_of(4) && offset < REGISTER_WINDOW);
        match Reg(offset) {
            INT_STATUS => self.status(),
            TX_STATUS => self.get(TX_STATUS) | u32::from(self.tx_count.get() > 0),
            RX_STATUS => self.get(RX_STATUS) | u32::from(self.rx_count.get() > 0),
            MII_IND => 0,
            r => self.get(r),
        }
    }

    fn write_be32(&self, offset: usize, v: u32) {
        assert!(offset.is_multiple_of(4) && offset < REGISTER_WINDOW);
        let r = Reg(offset);
        match r {
            TX_STATUS => {
                if v & TX_STATUS_PS != 0 {
                    self.tx_count.set(self.tx_count.get().saturating_sub(1));
                }
                self.set(r, self.get(r) & !(v & (TX_STATUS_UR | TX_STATUS_BE)));
            }
            RX_STATUS => {
                if v & RX_STATUS_PR != 0 {
                    self.rx_count.set(self.rx_count.get().saturating_sub(1));
                }
                self.set(r, self.get(r) & !(v & (RX_STATUS_OF | RX_STATUS_BE)));
            }
            TX_CTRL => {
                self.set(r, v);
                if v & TX_CTRL_TXE != 0 {
                    self.transmit();
                }
            }
            MII_CMD => {
                if self.get(MII_CMD) & MII_CMD_READ == 0 && v & MII_CMD_READ != 0 {
                    self.set(MII_STATUS, self.phy_read(self.get(MII_ADDR) & 0x1F));
                }
                self.set(r, v);
            }
            _ => self.set(r, v),
        }
    }
}
