//! A model of one eTSEC for the host tests, after QEMU 10's (`hw/net/fsl_etsec/`): big-endian
//! registers with IEVENT, TSTAT and RSTAT write-one-to-clear; TBASE0/RBASE0 also set the ring
//! pointers; a `TSTAT[THLT0]` write walks the transmit ring from its base (padding frames to 64
//! bytes); a frame is stored with four zero bytes in place of its FCS, held when the ring is
//! full (`RSTAT[QHLT0]` set) and resumed by a QHLT0 write while the bit is clear; frames arriving
//! meanwhile wait in a queue; SH marks frames under 60 bytes; interrupts only from
//! descriptors with I set; one PHY at every MDIO address; optionally (`skips_full_descriptor`)
//! QEMU's step past the full descriptor that halts the ring. Unlike QEMU it counts frames and
//! bytes in RPKT/RBYT/TPKT/TBYT (clear on read), as the hardware does, and can mark a sent
//! frame with a late collision.

extern crate std;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

use super::regs::*;
use super::REGISTER_WINDOW;
use crate::mmio::Registers;
use crate::testing::dma_model::DmaModel;

const TBPTR0: Reg = Reg(0x184);
const BMSR_LINK: u16 = 1 << 2;
const RXBD_FIRST: u32 = 1 << 10;
const RXBD_SH: u32 = 1 << 3;
const RXBD_LG: u32 = 1 << 5;

pub struct EtsecModel<'m> {
    mem: &'m DmaModel,
    regs: RefCell<Vec<u8>>,
    phy_control: Cell<u16>,
    phy_status: Cell<u16>,
    /// The frame (with its four FCS bytes) being stored, and how much of it is stored.
    held: RefCell<Option<(Vec<u8>, usize)>>,
    queue: RefCell<VecDeque<Vec<u8>>>,
    pub tx_error_next: Cell<bool>,
    pub sent: RefCell<Vec<Vec<u8>>>,
    /// QEMU 10's walk of the receive ring: when it meets a full descriptor it has already
    /// moved its pointer past it, so after a restart it fills the ring from the next one.
    pub skips_full_descriptor: Cell<bool>,
}

impl<'m> EtsecModel<'m> {
    pub fn new(mem: &'m DmaModel) -> Self {
        let m = EtsecModel {
            mem,
            regs: RefCell::new(vec![0; REGISTER_WINDOW]),
            phy_control: Cell::new(0),
            // Link up, auto-negotiation complete, the abilities QEMU reports.
            phy_status: Cell::new(0x7969 | BMSR_LINK),
            held: RefCell::new(None),
            queue: RefCell::new(VecDeque::new()),
            tx_error_next: Cell::new(false),
            sent: RefCell::new(Vec::new()),
            skips_full_descriptor: Cell::new(false),
        };
        m.set(MAXFRM, 0x600);
        m.set(MIIMCFG, 7);
        m
    }

    pub fn get(&self, r: Reg) -> u32 {
        let b = self.regs.borrow();
        u32::from_be_bytes(b[r.0..r.0 + 4].try_into().unwrap())
    }

    pub fn set(&self, r: Reg, v: u32) {
        self.regs.borrow_mut()[r.0..r.0 + 4].copy_from_slice(&v.to_be_bytes());
    }

    fn bump(&self, r: Reg, by: usize) {
        self.set(r, self.get(r).wrapping_add(by as u32));
    }

    fn event(&self, bits: u32) {
        self.set(IEVENT, self.get(IEVENT) | bits);
    }

    pub fn irq_rx(&self) -> bool {
        self.get(IEVENT) & self.get(IMASK) & (IEVENT_RX | IEVENT_BSY) != 0
    }

    pub fn irq_tx(&self) -> bool {
        self.get(IEVENT) & self.get(IMASK) & IEVENT_TX != 0
    }

    pub fn set_link(&self, up: bool) {
        let s = self.phy_status.get();
        self.phy_status
            .set(if up { s | BMSR_LINK } else { s & !BMSR_LINK });
    }

    /// Whether a frame is held for lack of an empty descriptor.
    pub fn holding(&self) -> bool {
        self.held.borrow().is_some()
    }

    fn read_bd(&self, addr: u64) -> (u32, u32) {
        (
            self.mem.device_read_be32(addr),
            self.mem.device_read_be32(addr + 4),
        )
    }

    /// A frame arrives. Returns false if it was dropped (halted ring, receiver off); a frame
    /// that meets a held one waits in the queue.
    pub fn receive(&self, frame: &[u8]) -> bool {
        if self.held.borrow().is_some() {
            self.queue.borrow_mut().push_back(frame.to_vec());
            return true;
        }
        if self.get(RSTAT) & RSTAT_QHLT0 != 0
            || self.get(DMACTRL) & DMACTRL_GRS != 0
            || self.get(MACCFG1) & MACCFG1_RX_EN == 0
        {
            return false;
        }
        let mut data = frame.to_vec();
        data.extend_from_slice(&[0; 4]);
        *self.held.borrow_mut() = Some((data, 0));
        self.walk_rx();
        true
    }

    fn walk_rx(&self) {
        let Some((data, mut done)) = self.held.borrow_mut().take() else {
            return;
        };
        let base = u64::from(self.get(RBASE0));
        let start = u64::from(self.get(RBPTR0));
        let mut at = start;
        let mrblr = self.get(MRBLR) as usize;
        loop {
            let (word, pointer) = self.read_bd(at);
            let flags = word >> 16;
            if flags & RXBD_EMPTY == 0 {
                if self.skips_full_descriptor.get() {
                    at = if flags & BD_WRAP != 0 {
                        base
                    } else {
                        at + BD_SIZE as u64
                    };
                }
                break;
            }
            let chunk = (data.len() - done).min(mrblr);
            self.mem
                .device_write(u64::from(pointer), &data[done..done + chunk]);
            let mut new = (flags & !RXBD_EMPTY) | if done == 0 { RXBD_FIRST } else { 0 };
            done += chunk;
            let finished = done == data.len();
            if finished {
                new = (new & !0x7FF) | BD_LAST;
                if data.len() >= self.get(MAXFRM) as usize {
                    new |= RXBD_LG;
                }
                if data.len() < 64 {
                    new |= RXBD_SH;
                }
                if new & BD_INTERRUPT != 0 {
                    self.event(IEVENT_RXF);
                }
                self.bump(RPKT, 1);
                self.bump(RBYT, data.len());
            } else if new & BD_INTERRUPT != 0 {
                self.event(IEVENT_RXB);
            }
            self.mem.device_write_be32(at, new << 16 | chunk as u32);
            at = if flags & BD_WRAP != 0 {
                base
            } else {
                at + BD_SIZE as u64
            };
            if finished || at == start {
                break;
            }
        }
        self.set(RBPTR0, at as u32);
        if done < data.len() {
            self.set(RSTAT, self.get(RSTAT) | RSTAT_QHLT0);
            *self.held.borrow_mut() = Some((data, done));
        } else {
            let next = self.queue.borrow_mut().pop_front();
            if let Some(next) = next {
                self.receive(&next);
            }
        }
    }

    /// The controller completes the next receive descriptor with `data` and a status word of
    /// the test's choosing, garbage included (but the descriptor's WRAP bit, the ring's shape,
    /// is kept). Returns false if that descriptor is not empty.
    pub fn complete_raw(&self, data: &[u8], word: u32) -> bool {
        let at = u64::from(self.get(RBPTR0));
        let (old, pointer) = self.read_bd(at);
        if old >> 16 & RXBD_EMPTY == 0 {
            return false;
        }
        let data = &data[..data.len().min(self.get(MRBLR) as usize)];
        self.mem.device_write(u64::from(pointer), data);
        let wrap = BD_WRAP << 16;
        self.mem
            .device_write_be32(at, (word & !wrap) | (old & wrap));
        let base = u64::from(self.get(RBASE0));
        let next = if old >> 16 & BD_WRAP != 0 {
            base
        } else {
            at + BD_SIZE as u64
        };
        self.set(RBPTR0, next as u32);
        self.event(IEVENT_RXF);
        true
    }

    fn walk_tx(&self) {
        if self.get(MACCFG1) & MACCFG1_TX_EN == 0 {
            return;
        }
        let base = u64::from(self.get(TBASE0));
        let mut at = u64::from(self.get(TBPTR0));
        let mut pending = Vec::new();
        loop {
            let (word, pointer) = self.read_bd(at);
            let flags = word >> 16;
            if flags & TXBD_READY != 0 {
                let mut data = vec![0; (word & 0xFFFF) as usize];
                self.mem.device_read(u64::from(pointer), &mut data);
                pending.extend_from_slice(&data);
                if flags & BD_LAST != 0 {
                    if flags & TXBD_PADCRC != 0 && pending.len() < 64 {
                        pending.resize(64, 0);
                    }
                    self.bump(TPKT, 1);
                    self.bump(TBYT, pending.len());
                    self.sent.borrow_mut().push(core::mem::take(&mut pending));
                    if flags & BD_INTERRUPT != 0 {
                        self.event(IEVENT_TXF);
                    }
                }
                let error = if self.tx_error_next.replace(false) {
                    1 << 7
                } else {
                    0
                };
                let done = (flags & !(TXBD_READY | TXBD_ERRORS)) | error;
                self.mem.device_write_be32(at, done << 16 | (word & 0xFFFF));
            }
            at = if flags & BD_WRAP != 0 {
                base
            } else {
                at + BD_SIZE as u64
            };
            if at == base {
                break;
            }
        }
        self.set(TBPTR0, base as u32);
        self.set(TSTAT, self.get(TSTAT) | TSTAT_THLT0);
    }

    fn phy_read(&self, reg: u32) -> u32 {
        u32::from(match reg {
            0 => self.phy_control.get(),
            1 => self.phy_status.get(),
            10 => 0x1800,
            _ => 0,
        })
    }
}

const AUTOZ_COUNTERS: [Reg; 4] = [RPKT, RBYT, TPKT, TBYT];

impl Registers for EtsecModel<'_> {
    fn read8(&self, offset: usize) -> u8 {
        panic!("8-bit read at {offset:#x}: the eTSEC's registers are 32-bit big-endian")
    }
    fn write8(&self, offset: usize, _: u8) {
        panic!("8-bit write at {offset:#x}: the eTSEC's registers are 32-bit big-endian")
    }
    fn read_le32(&self, offset: usize) -> u32 {
        panic!("little-endian read at {offset:#x}: the eTSEC's registers are big-endian")
    }
    fn write_le32(&self, offset: usize, _: u32) {
        panic!("little-endian write at {offset:#x}: the eTSEC's registers are big-endian")
    }

    fn read_be32(&self, offset: usize) -> u32 {
        assert!(offset.is_multiple_of(4) && offset < REGISTER_WINDOW);
        let r = Reg(offset);
        let v = self.get(r);
        if AUTOZ_COUNTERS.contains(&r) && self.get(ECNTRL) & ECNTRL_AUTOZ != 0 {
            self.set(r, 0);
        }
        v
    }

    fn write_be32(&self, offset: usize, v: u32) {
        assert!(offset.is_multiple_of(4) && offset < REGISTER_WINDOW);
        let r = Reg(offset);
        match r {
            IEVENT => self.set(IEVENT, self.get(IEVENT) & !v),
            TSTAT => {
                if v & TSTAT_THLT0 != 0 {
                    self.walk_tx();
                }
                self.set(TSTAT, self.get(TSTAT) & !v);
            }
            RSTAT => {
                let halted = self.get(RSTAT) & RSTAT_QHLT0 != 0;
                if v & RSTAT_QHLT0 != 0 && !halted {
                    self.walk_rx();
                }
                self.set(RSTAT, self.get(RSTAT) & !v);
            }
            TBASE0 => {
                self.set(TBASE0, v & !7);
                self.set(TBPTR0, v & !7);
            }
            RBASE0 => {
                self.set(RBASE0, v & !7);
                self.set(RBPTR0, v & !7);
            }
            DMACTRL => {
                self.set(DMACTRL, v);
                if v & DMACTRL_GRS != 0 && self.held.borrow().is_none() {
                    self.event(IEVENT_GRSC);
                }
                if v & DMACTRL_GTS != 0 {
                    self.event(IEVENT_GTSC);
                }
            }
            MIIMCOM => {
                if self.get(MIIMCOM) & MIIMCOM_READ == 0 && v & MIIMCOM_READ != 0 {
                    self.set(MIIMSTAT, self.phy_read(self.get(MIIMADD) & 0x1F));
                }
                self.set(MIIMCOM, v);
            }
            MIIMCON => {
                if self.get(MIIMADD) & 0x1F == 0 {
                    self.phy_control.set(v as u16 & !0x8100);
                }
            }
            ECNTRL if v & ECNTRL_CLRCNT != 0 => {
                AUTOZ_COUNTERS.iter().for_each(|&c| self.set(c, 0));
                self.set(ECNTRL, v & !ECNTRL_CLRCNT);
            }
            MIIMSTAT | MIIMIND => {}
            _ => self.set(r, v),
        }
    }
}
