//! A model of the 82540EM for the host tests: a register file over a byte array that reacts to
//! accesses as the device does (8254x SDM; QEMU's `hw/net/e1000.c` for the details it settles:
//! a reset clears RST at once and loads receive address 0 from the EEPROM, writing TDT or TCTL
//! transmits synchronously, DD is written back only with RS), DMA through the
//! [`DmaModel`], and a hook to make it receive frames or write garbage descriptors.
//!
//! Any access that is not a 32-bit little-endian one panics: the 82540EM has no other.

extern crate std;

use std::cell::{Cell, RefCell};
use std::vec;
use std::vec::Vec;

use super::regs::*;
use super::REGISTER_WINDOW;
use crate::mmio::Registers;
use crate::nic::MacAddress;
use crate::testing::dma_model::DmaModel;

pub struct E1000Model<'m> {
    mem: &'m DmaModel,
    regs: RefCell<Vec<u8>>,
    mac: MacAddress,
    /// What the EEPROM holds in words 0..2 (the MAC), and whether reset loads it into RA0.
    pub ra_loaded_at_reset: Cell<bool>,
    /// A device whose reset never completes.
    pub reset_stuck: Cell<bool>,
    /// Mark the next completed transmit descriptor with a late collision.
    pub tx_error_next: Cell<bool>,
    pub sent: RefCell<Vec<Vec<u8>>>,
    pending_tx: RefCell<Vec<u8>>,
}

impl<'m> E1000Model<'m> {
    pub fn new(mem: &'m DmaModel, mac: MacAddress) -> Self {
        let m = E1000Model {
            mem,
            regs: RefCell::new(vec![0; REGISTER_WINDOW]),
            mac,
            ra_loaded_at_reset: Cell::new(true),
            reset_stuck: Cell::new(false),
            tx_error_next: Cell::new(false),
            sent: RefCell::new(Vec::new()),
            pending_tx: RefCell::new(Vec::new()),
        };
        m.reset();
        // The state firmware leaves: a stale RA0 the reset will replace, link up.
        m.set(STATUS, STATUS_LU | STATUS_FD | (2 << STATUS_SPEED_SHIFT));
        m
    }

    pub fn get(&self, r: Reg) -> u32 {
        let b = self.regs.borrow();
        u32::from_le_bytes(b[r.0..r.0 + 4].try_into().unwrap())
    }

    pub fn set(&self, r: Reg, v: u32) {
        self.regs.borrow_mut()[r.0..r.0 + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn bump(&self, r: Reg, by: u32) {
        self.set(r, self.get(r).wrapping_add(by));
    }

    fn reset(&self) {
        let link = self.get(STATUS) & (STATUS_LU | STATUS_FD | (3 << STATUS_SPEED_SHIFT));
        self.regs.borrow_mut().fill(0);
        self.set(STATUS, link);
        if self.ra_loaded_at_reset.get() {
            let m = self.mac.0;
            self.set(RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
            self.set(RAH0, u32::from_le_bytes([m[4], m[5], 0, 0]) | RAH_AV);
        }
        if self.reset_stuck.get() {
            self.set(CTRL, CTRL_RST);
        }
    }

    /// Whether the device asserts its INTx line.
    pub fn irq(&self) -> bool {
        self.get(ICR) & self.get(IMS) != 0
    }

    fn raise(&self, cause: u32) {
        self.set(ICR, self.get(ICR) | cause);
    }

    pub fn set_link(&self, up: bool) {
        let s = self.get(STATUS);
        self.set(STATUS, if up { s | STATUS_LU } else { s & !STATUS_LU });
        self.raise(INT_LSC);
    }

    fn ring(&self, base_lo: Reg, base_hi: Reg, len: Reg) -> (u64, u32) {
        let base = (u64::from(self.get(base_hi)) << 32) | u64::from(self.get(base_lo) & !0xF);
        (base, self.get(len) / DESCRIPTOR_SIZE as u32)
    }

    fn rx_buffer_size(&self) -> usize {
        let rctl = self.get(RCTL);
        let bsize = (rctl >> RCTL_BSIZE_SHIFT) & 3;
        let base = [2048, 1024, 512, 256][bsize as usize];
        if rctl & RCTL_BSEX != 0 {
            base * 16
        } else {
            base
        }
    }

    fn accepts(&self, frame: &[u8]) -> bool {
        let rctl = self.get(RCTL);
        let dst = &frame[..6];
        let own = self.get(RAH0) & RAH_AV != 0 && {
            let l = self.get(RAL0).to_le_bytes();
            let h = self.get(RAH0).to_le_bytes();
            dst == [l[0], l[1], l[2], l[3], h[0], h[1]]
        };
        let broadcast = dst == [0xFF; 6];
        let multicast = dst[0] & 1 != 0 && !broadcast;
        own || rctl & RCTL_UPE != 0
            || (broadcast && rctl & RCTL_BAM != 0)
            || (multicast && rctl & RCTL_MPE != 0)
    }

    /// A frame arrives from the wire. Returns whether it was stored in the ring.
    pub fn receive(&self, frame: &[u8]) -> bool {
        if self.get(RCTL) & RCTL_EN == 0 || self.get(STATUS) & STATUS_LU == 0 {
            return false;
        }
        if !self.accepts(frame) {
            return false;
        }
        let (base, count) = self.ring(RDBAL, RDBAH, RDLEN);
        let bufsize = self.rx_buffer_size();
        let needed = frame.len().div_ceil(bufsize).max(1) as u32;
        let free = (self.get(RDT) + count - self.get(RDH)) % count;
        if free < needed {
            self.bump(MPC, 1);
            self.bump(RNBC, 1);
            self.raise(INT_RXO);
            return false;
        }
        let chunks: Vec<&[u8]> = frame.chunks(bufsize).collect();
        for (n, chunk) in chunks.iter().enumerate() {
            let last = n + 1 == chunks.len();
            let status = RXD_STAT_DD | if last { RXD_STAT_EOP } else { 0 };
            self.fill_next(base, count, chunk, chunk.len() as u32, status);
        }
        self.bump(GPRC, 1);
        self.bump(GORCL, frame.len() as u32);
        self.raise(INT_RXT0);
        true
    }

    /// The device completes the next receive descriptor with whatever the test says: `data`
    /// written to its buffer (clamped to the buffer), then `length`, `status` and `errors` as
    /// given, garbage included. Returns false if the device owns no descriptor.
    pub fn complete_raw(&self, data: &[u8], length: u16, status: u8, errors: u8) -> bool {
        let (base, count) = self.ring(RDBAL, RDBAH, RDLEN);
        if self.get(RDH) == self.get(RDT) {
            return false;
        }
        let data = &data[..data.len().min(self.rx_buffer_size())];
        let word3 = u32::from(status) | u32::from(errors) << 8;
        self.fill_next(base, count, data, u32::from(length), word3);
        self.raise(INT_RXT0);
        true
    }

    fn fill_next(&self, base: u64, count: u32, data: &[u8], length: u32, word3: u32) {
        let head = self.get(RDH);
        let d = base + u64::from(head) * DESCRIPTOR_SIZE as u64;
        let addr = (u64::from(self.mem.device_read_le32(d + 4)) << 32)
            | u64::from(self.mem.device_read_le32(d));
        self.mem.device_write(addr, data);
        self.mem.device_write_le32(d + DESC_WORD2 as u64, length);
        self.mem.device_write_le32(d + DESC_WORD3 as u64, word3);
        self.set(RDH, (head + 1) % count);
    }

    fn transmit(&self) {
        if self.get(TCTL) & TCTL_EN == 0 {
            return;
        }
        let (base, count) = self.ring(TDBAL, TDBAH, TDLEN);
        if count == 0 {
            return;
        }
        while self.get(TDH) != self.get(TDT) {
            let d = base + u64::from(self.get(TDH)) * DESCRIPTOR_SIZE as u64;
            let addr = (u64::from(self.mem.device_read_le32(d + 4)) << 32)
                | u64::from(self.mem.device_read_le32(d));
            let word2 = self.mem.device_read_le32(d + DESC_WORD2 as u64);
            let mut data = vec![0; (word2 & 0xFFFF) as usize];
            self.mem.device_read(addr, &mut data);
            self.pending_tx.borrow_mut().extend_from_slice(&data);
            if word2 & TXD_CMD_RS != 0 {
                let error = if self.tx_error_next.replace(false) {
                    1 << 2
                } else {
                    0
                };
                self.mem
                    .device_write_le32(d + DESC_WORD3 as u64, TXD_STAT_DD | error);
            }
            if word2 & TXD_CMD_EOP != 0 {
                let frame = self.pending_tx.take();
                self.bump(GPTC, 1);
                self.bump(GOTCL, frame.len() as u32);
                self.sent.borrow_mut().push(frame);
            }
            self.set(TDH, (self.get(TDH) + 1) % count);
        }
        self.raise(INT_TXDW | INT_TXQE);
    }

    fn read_eerd(&self) -> u32 {
        let v = self.get(EERD);
        if v & EERD_START == 0 {
            return v;
        }
        let word = (v >> EERD_ADDR_SHIFT) & 0xFF;
        let m = self.mac.0;
        let data = match word {
            0..=2 => u32::from(u16::from_le_bytes([
                m[2 * word as usize],
                m[2 * word as usize + 1],
            ])),
            _ => 0,
        };
        (v & !EERD_START) | EERD_DONE | data << EERD_DATA_SHIFT
    }
}

const CLEAR_ON_READ: [Reg; 13] = [
    GPRC, GPTC, BPRC, MPRC, MPC, RNBC, CRCERRS, RXERRC, RUC, ROC, COLC, GORCH, GOTCH,
];

impl Registers for E1000Model<'_> {
    fn read8(&self, offset: usize) -> u8 {
        panic!("8-bit read at {offset:#x}: the 82540EM's registers are 32-bit little-endian")
    }
    fn write8(&self, offset: usize, _: u8) {
        panic!("8-bit write at {offset:#x}: the 82540EM's registers are 32-bit little-endian")
    }
    fn read_be32(&self, offset: usize) -> u32 {
        panic!("big-endian read at {offset:#x}: the 82540EM's registers are little-endian")
    }
    fn write_be32(&self, offset: usize, _: u32) {
        panic!("big-endian write at {offset:#x}: the 82540EM's registers are little-endian")
    }

    fn read_le32(&self, offset: usize) -> u32 {
        assert!(offset.is_multiple_of(4) && offset < REGISTER_WINDOW);
        let r = Reg(offset);
        match r {
            ICR => {
                let v = self.get(ICR);
                self.set(ICR, 0);
                v
            }
            EERD => self.read_eerd(),
            _ if CLEAR_ON_READ.contains(&r) => {
                let v = self.get(r);
                self.set(r, 0);
                if r == GORCH || r == GOTCH {
                    self.set(Reg(offset - 4), 0);
                }
                v
            }
            _ => self.get(r),
        }
    }

    fn write_le32(&self, offset: usize, v: u32) {
        assert!(offset.is_multiple_of(4) && offset < REGISTER_WINDOW);
        let r = Reg(offset);
        match r {
            CTRL if v & CTRL_RST != 0 => self.reset(),
            ICR => self.set(ICR, self.get(ICR) & !v),
            IMS => self.set(IMS, self.get(IMS) | v),
            IMC => self.set(IMS, self.get(IMS) & !v),
            RDLEN | TDLEN => self.set(r, v & 0xF_FF80),
            RDT | RDH | TDH => self.set(r, v & 0xFFFF),
            TDT | TCTL => {
                self.set(r, if r == TDT { v & 0xFFFF } else { v });
                self.transmit();
            }
            _ => self.set(r, v),
        }
    }
}
