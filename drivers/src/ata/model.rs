//! A register-level model of an ATA disk on a legacy channel, for the host tests (ATA/ATAPI-6
//! PIO protocol; QEMU's `hw/ide/core.c` for what it settles: IDENTIFY words, registers latched
//! as "previous" for LBA48, status 0 from an empty channel). It has a write cache: reads see
//! every write, `durable` only what a FLUSH CACHE covered.
//!
//! It panics on what a real device would silently mishandle: a register written or a command
//! issued while BSY or DRQ is set, a data-register access outside a data phase, a command it
//! does not know.

extern crate std;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::vec;
use std::vec::Vec;

use super::regs::*;
use super::AtaChannel;

/// What the device is in the middle of.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Words still to hand out for the current sector, and sectors after it.
    DataIn {
        lba: u64,
        left: u32,
        words: Vec<u16>,
        at: usize,
    },
    DataOut {
        lba: u64,
        left: u32,
        words: Vec<u16>,
    },
}

/// One command as the device saw it: (command, LBA, sector count).
pub type Issued = (u8, u64, u32);

pub struct AtaModel {
    sectors: u64,
    /// Sectors written (absent ones read as zeros), as reads see them and as flushed.
    cache: RefCell<BTreeMap<u64, Vec<u8>>>,
    durable: RefCell<BTreeMap<u64, Vec<u8>>>,
    pub lba48: bool,
    /// No device on the channel: status reads 0.
    pub empty: bool,
    /// BSY stays set forever after the next command.
    pub stuck: Cell<bool>,
    /// Looks at the status that see BSY after each command and between sectors.
    pub busy_looks: Cell<u32>,
    /// A sector that fails reads and writes with UNC.
    pub bad_sector: Cell<Option<u64>>,
    pub issued: RefCell<Vec<Issued>>,
    phase: RefCell<Phase>,
    status: Cell<u8>,
    error: Cell<u8>,
    busy_left: Cell<u32>,
    /// Register values: current and previous (LBA48's high-order bytes).
    regs: RefCell<[(u8, u8); 8]>,
    device: Cell<u8>,
    nien: Cell<bool>,
}

impl AtaModel {
    pub fn new(sectors: u64, lba48: bool) -> Self {
        AtaModel {
            sectors,
            cache: RefCell::default(),
            durable: RefCell::default(),
            lba48,
            empty: false,
            stuck: Cell::new(false),
            busy_looks: Cell::new(0),
            bad_sector: Cell::new(None),
            issued: RefCell::new(Vec::new()),
            phase: RefCell::new(Phase::Idle),
            status: Cell::new(ST_DRDY),
            error: Cell::new(0),
            busy_left: Cell::new(0),
            regs: RefCell::new([(0, 0); 8]),
            device: Cell::new(0),
            nien: Cell::new(false),
        }
    }

    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    fn bytes(map: &BTreeMap<u64, Vec<u8>>, lba: u64, count: u64) -> Vec<u8> {
        (lba..lba + count)
            .flat_map(|s| map.get(&s).cloned().unwrap_or_else(|| vec![0; SECTOR_SIZE]))
            .collect()
    }

    /// `count` sectors from `lba` as reads see them.
    pub fn cached(&self, lba: u64, count: u64) -> Vec<u8> {
        Self::bytes(&self.cache.borrow(), lba, count)
    }

    /// `count` sectors from `lba` as a power cut would leave them.
    pub fn durable(&self, lba: u64, count: u64) -> Vec<u8> {
        Self::bytes(&self.durable.borrow(), lba, count)
    }

    /// Whether the driver turned the channel's interrupt off.
    pub fn interrupt_disabled(&self) -> bool {
        self.nien.get()
    }

    fn busy(&self) -> bool {
        self.stuck.get() || self.busy_left.get() > 0
    }

    fn look(&self) -> u8 {
        if self.empty {
            return 0;
        }
        if self.busy() {
            if !self.stuck.get() {
                self.busy_left.set(self.busy_left.get() - 1);
            }
            return ST_BSY;
        }
        self.status.get()
    }

    fn assert_ready(&self, what: &str) {
        assert!(
            !self.busy() && self.status.get() & ST_DRQ == 0,
            "{what} while the device is busy or in a data phase (status {:#x})",
            self.status.get()
        );
    }

    fn fail(&self, error: u8) {
        *self.phase.borrow_mut() = Phase::Idle;
        self.error.set(error);
        self.status.set(ST_DRDY | ST_ERR);
    }

    fn sector_words(&self, lba: u64) -> Vec<u16> {
        self.cached(lba, 1)
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect()
    }

    fn identify_words(&self) -> Vec<u16> {
        let mut w = vec![0u16; SECTOR_WORDS];
        let model = b"MODEL ATA DISK                          ";
        for (i, pair) in model.chunks_exact(2).enumerate() {
            w[ID_MODEL + i] = u16::from_be_bytes([pair[0], pair[1]]);
        }
        w[ID_CAPABILITIES] = ID_CAP_LBA;
        let n = self.sectors();
        let lba28 = n.min(LBA28_LIMIT - 1);
        w[ID_LBA28_SECTORS] = lba28 as u16;
        w[ID_LBA28_SECTORS + 1] = (lba28 >> 16) as u16;
        if self.lba48 {
            w[ID_COMMAND_SET_2] = ID_CMD2_LBA48;
            for i in 0..4 {
                w[ID_LBA48_SECTORS + i] = (n >> (16 * i)) as u16;
            }
        }
        w
    }

    /// The address and count the registers hold for a 28- or 48-bit command.
    fn address(&self, long: bool) -> (u64, u32) {
        let r = self.regs.borrow();
        if long {
            let lba = (0..3).fold(0u64, |a, i| {
                a | u64::from(r[LBA_LOW + i].0) << (8 * i)
                    | u64::from(r[LBA_LOW + i].1) << (8 * i + 24)
            });
            let count = u32::from(r[SECTOR_COUNT].0) | u32::from(r[SECTOR_COUNT].1) << 8;
            (lba, if count == 0 { 65_536 } else { count })
        } else {
            let lba = u64::from(r[LBA_LOW].0)
                | u64::from(r[LBA_MID].0) << 8
                | u64::from(r[LBA_HIGH].0) << 16
                | u64::from(self.device.get() & 0x0F) << 24;
            let count = u32::from(r[SECTOR_COUNT].0);
            (lba, if count == 0 { 256 } else { count })
        }
    }

    fn start_sector(&self, lba: u64, left: u32, write: bool) {
        if self.bad_sector.get() == Some(lba) {
            return self.fail(ERR_UNC);
        }
        self.busy_left.set(self.busy_looks.get());
        self.status.set(ST_DRDY | ST_DRQ);
        *self.phase.borrow_mut() = if write {
            Phase::DataOut {
                lba,
                left,
                words: Vec::new(),
            }
        } else {
            Phase::DataIn {
                lba,
                left,
                words: self.sector_words(lba),
                at: 0,
            }
        };
    }

    fn command(&self, cmd: u8) {
        self.assert_ready("command");
        assert!(self.device.get() & 0x10 == 0, "device 1 selected");
        self.error.set(0);
        self.busy_left.set(self.busy_looks.get());
        let long = matches!(cmd, CMD_READ_SECTORS_EXT | CMD_WRITE_SECTORS_EXT);
        let (lba, count) = self.address(long);
        self.issued.borrow_mut().push((cmd, lba, count));
        match cmd {
            CMD_IDENTIFY => {
                self.status.set(ST_DRDY | ST_DRQ);
                *self.phase.borrow_mut() = Phase::DataIn {
                    lba: 0,
                    left: 1,
                    words: self.identify_words(),
                    at: 0,
                };
            }
            CMD_READ_SECTORS | CMD_READ_SECTORS_EXT | CMD_WRITE_SECTORS | CMD_WRITE_SECTORS_EXT => {
                let write = matches!(cmd, CMD_WRITE_SECTORS | CMD_WRITE_SECTORS_EXT);
                if long && !self.lba48 {
                    return self.fail(ERR_ABRT);
                }
                assert!(self.device.get() & DEV_LBA != 0, "CHS addressing");
                if lba + u64::from(count) > self.sectors() {
                    return self.fail(ERR_IDNF);
                }
                self.start_sector(lba, count, write);
            }
            CMD_FLUSH_CACHE | CMD_FLUSH_CACHE_EXT => {
                if cmd == CMD_FLUSH_CACHE_EXT && !self.lba48 {
                    return self.fail(ERR_ABRT);
                }
                self.durable.replace(self.cache.borrow().clone());
                self.status.set(ST_DRDY);
            }
            other => panic!("unknown ATA command {other:#x}"),
        }
    }

    /// The current sector is done: the next one, or the end of the command.
    fn next_sector(&self, lba: u64, left: u32, write: bool) {
        if left > 1 {
            self.start_sector(lba + 1, left - 1, write);
        } else {
            *self.phase.borrow_mut() = Phase::Idle;
            self.busy_left.set(self.busy_looks.get());
            self.status.set(ST_DRDY);
        }
    }
}

impl AtaChannel for AtaModel {
    fn read_reg(&self, reg: usize) -> u8 {
        match reg {
            STATUS => self.look(),
            ERROR => self.error.get(),
            DEVICE => self.device.get(),
            2..=5 => self.regs.borrow()[reg].0,
            _ => panic!("read of ATA register {reg}"),
        }
    }

    fn write_reg(&self, reg: usize, value: u8) {
        match reg {
            COMMAND => self.command(value),
            DEVICE => {
                assert!(!self.busy(), "device selected while busy");
                self.device.set(value);
            }
            1..=5 => {
                self.assert_ready("register write");
                let mut r = self.regs.borrow_mut();
                r[reg] = (value, r[reg].0);
            }
            _ => panic!("write of ATA register {reg}"),
        }
    }

    fn read_data(&self) -> u16 {
        assert!(!self.busy(), "data read while busy");
        let mut phase = self.phase.borrow_mut();
        let Phase::DataIn {
            lba,
            left,
            words,
            at,
        } = &mut *phase
        else {
            panic!("data read outside a data-in phase");
        };
        let w = words[*at];
        *at += 1;
        if *at == SECTOR_WORDS {
            let (lba, left) = (*lba, *left);
            drop(phase);
            self.next_sector(lba, left, false);
        }
        w
    }

    fn write_data(&self, word: u16) {
        assert!(!self.busy(), "data write while busy");
        let mut phase = self.phase.borrow_mut();
        let Phase::DataOut { lba, left, words } = &mut *phase else {
            panic!("data write outside a data-out phase");
        };
        words.push(word);
        if words.len() == SECTOR_WORDS {
            let bytes = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            self.cache.borrow_mut().insert(*lba, bytes);
            let (lba, left) = (*lba, *left);
            drop(phase);
            self.next_sector(lba, left, true);
        }
    }

    fn alt_status(&self) -> u8 {
        self.look()
    }

    fn write_control(&self, value: u8) {
        self.nien.set(value & CTL_NIEN != 0);
        if value & CTL_SRST != 0 {
            *self.phase.borrow_mut() = Phase::Idle;
            self.status.set(ST_DRDY);
            self.error.set(0);
            self.busy_left.set(self.busy_looks.get());
        }
    }
}
