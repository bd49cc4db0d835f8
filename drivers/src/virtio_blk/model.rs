//! A model of a modern virtio block device for the driver's host tests, after QEMU's
//! `virtio-pci` common configuration and `virtio-blk` request handling: feature selection
//! windows, FEATURES_OK refused when the driver takes a bit not offered, queue 0 with a
//! maximum size, and on a notification every new chain of the available ring processed
//! through the DMA model (little-endian rings, header, status). Writes land in a write cache
//! that only FLUSH (or [`BlkModel::cache_survives`]) makes durable; the model panics on a
//! register access of the wrong width or a notification before DRIVER_OK.

extern crate std;

use std::cell::{Cell, RefCell};
use std::vec;
use std::vec::Vec;

use super::*;
use crate::testing::dma_model::DmaModel;

pub struct BlkModel<'a> {
    pub dma: &'a DmaModel,
    pub offered: u64,
    pub queue_max: u16,
    /// The medium, and the sectors written but not flushed (sector, bytes).
    pub medium: RefCell<Vec<u8>>,
    pub cache: RefCell<Vec<(u64, Vec<u8>)>>,
    status: Cell<u8>,
    device_select: Cell<u32>,
    driver_select: Cell<u32>,
    pub accepted: Cell<u64>,
    queue_size: Cell<u16>,
    queue_enabled: Cell<bool>,
    addrs: [Cell<u64>; 3],
    last_avail: Cell<u16>,
    used_idx: Cell<u16>,
    /// Requests seen: (type, sector).
    pub requests: RefCell<Vec<(u32, u64)>>,
    /// Answer every request with this status instead of doing it.
    pub fail_with: Cell<Option<u8>>,
    /// Ignore notifications (a hung device).
    pub hung: Cell<bool>,
}

impl<'a> BlkModel<'a> {
    pub fn new(dma: &'a DmaModel, sectors: usize) -> Self {
        BlkModel {
            dma,
            offered: F_VERSION_1 | F_FLUSH | (1 << 1) | (1 << 2),
            queue_max: 256,
            medium: RefCell::new(vec![0; sectors * SECTOR as usize]),
            cache: RefCell::new(Vec::new()),
            status: Cell::new(0x0F),
            device_select: Cell::new(0),
            driver_select: Cell::new(0),
            accepted: Cell::new(0),
            queue_size: Cell::new(256),
            queue_enabled: Cell::new(false),
            addrs: [Cell::new(0), Cell::new(0), Cell::new(0)],
            last_avail: Cell::new(0),
            used_idx: Cell::new(0),
            requests: RefCell::new(Vec::new()),
            fail_with: Cell::new(None),
            hung: Cell::new(false),
        }
    }

    /// What a power cut leaves: the medium without the unflushed writes.
    pub fn power_cut(&self) -> Vec<u8> {
        self.medium.borrow().clone()
    }

    /// What the disk reads now (the cache over the medium).
    pub fn contents(&self) -> Vec<u8> {
        let mut m = self.medium.borrow().clone();
        for (sector, data) in self.cache.borrow().iter() {
            let at = (*sector * SECTOR) as usize;
            m[at..at + data.len()].copy_from_slice(data);
        }
        m
    }

    pub fn status(&self) -> u8 {
        self.status.get()
    }

    fn read_u16(&self, bus: u64) -> u16 {
        let mut b = [0; 2];
        self.dma.device_read(bus, &mut b);
        u16::from_le_bytes(b)
    }

    fn read_u64(&self, bus: u64) -> u64 {
        let mut b = [0; 8];
        self.dma.device_read(bus, &mut b);
        u64::from_le_bytes(b)
    }

    fn process(&self) {
        let [desc, avail, used] = [0, 1, 2].map(|i| self.addrs[i].get());
        let size = self.queue_size.get();
        let avail_idx = self.read_u16(avail + 2);
        while self.last_avail.get() != avail_idx {
            let slot = u64::from(self.last_avail.get() % size);
            let head = self.read_u16(avail + 4 + 2 * slot);
            let mut chain = Vec::new();
            let mut i = head;
            loop {
                let at = desc + 16 * u64::from(i);
                let addr = self.read_u64(at);
                let len = self.dma.device_read_le32(at + 8);
                let flags = self.read_u16(at + 12);
                chain.push((addr, len, flags));
                if flags & DESC_F_NEXT == 0 {
                    break;
                }
                i = self.read_u16(at + 14);
                assert!(chain.len() <= usize::from(size), "a descriptor loop");
            }
            let written = self.serve(&chain);
            let u = self.used_idx.get();
            let elem = used + 4 + 8 * u64::from(u % size);
            self.dma.device_write_le32(elem, u32::from(head));
            self.dma.device_write_le32(elem + 4, written);
            self.used_idx.set(u.wrapping_add(1));
            self.dma
                .device_write(used + 2, &self.used_idx.get().to_le_bytes());
            self.last_avail.set(self.last_avail.get().wrapping_add(1));
        }
    }

    /// One request chain: header, data (if any), status. Returns the bytes written.
    fn serve(&self, chain: &[(u64, u32, u16)]) -> u32 {
        let (header, hlen, hflags) = chain[0];
        assert_eq!((hlen, hflags & DESC_F_WRITE), (16, 0), "the header");
        let kind = self.dma.device_read_le32(header);
        let sector = self.read_u64(header + 8);
        self.requests.borrow_mut().push((kind, sector));
        let &(status, slen, sflags) = chain.last().unwrap();
        assert_eq!(
            (slen, sflags & DESC_F_WRITE),
            (1, DESC_F_WRITE),
            "the status"
        );
        if let Some(s) = self.fail_with.get() {
            self.dma.device_write(status, &[s]);
            return 1;
        }
        let data = &chain[1..chain.len() - 1];
        let mut written = 1;
        match kind {
            T_IN => {
                let &[(addr, len, flags)] = data else {
                    panic!("one data descriptor")
                };
                assert_ne!(
                    flags & DESC_F_WRITE,
                    0,
                    "a read's data is written by the device"
                );
                let m = self.contents();
                let at = (sector * SECTOR) as usize;
                self.dma.device_write(addr, &m[at..at + len as usize]);
                written += len;
            }
            T_OUT => {
                let &[(addr, len, flags)] = data else {
                    panic!("one data descriptor")
                };
                assert_eq!(
                    flags & DESC_F_WRITE,
                    0,
                    "a write's data is read by the device"
                );
                let mut bytes = vec![0; len as usize];
                self.dma.device_read(addr, &mut bytes);
                self.cache.borrow_mut().push((sector, bytes));
            }
            T_FLUSH => {
                assert!(data.is_empty(), "a flush carries no data");
                let cached = self.cache.take();
                let mut m = self.medium.borrow_mut();
                for (sector, bytes) in cached {
                    let at = (sector * SECTOR) as usize;
                    m[at..at + bytes.len()].copy_from_slice(&bytes);
                }
            }
            _ => {
                self.dma.device_write(status, &[2]);
                return 1;
            }
        }
        self.dma.device_write(status, &[S_OK]);
        written
    }
}

impl VirtioRegisters for &BlkModel<'_> {
    fn common_read8(&self, offset: usize) -> u8 {
        match offset {
            DEVICE_STATUS => self.status.get(),
            CONFIG_GENERATION => 0,
            _ => panic!("8-bit read of common register {offset:#x}"),
        }
    }
    fn common_write8(&self, offset: usize, value: u8) {
        assert_eq!(offset, DEVICE_STATUS, "8-bit write of {offset:#x}");
        if value == 0 {
            self.status.set(0);
            self.queue_enabled.set(false);
            self.queue_size.set(self.queue_max);
            self.last_avail.set(0);
            self.used_idx.set(0);
            return;
        }
        let mut value = value;
        if value & STATUS_FEATURES_OK != 0 && self.status.get() & STATUS_FEATURES_OK == 0 {
            let accepted = self.accepted.get();
            if accepted & !self.offered != 0 || accepted & F_VERSION_1 == 0 {
                value &= !STATUS_FEATURES_OK;
            }
        }
        self.status.set(value);
    }
    fn common_read16(&self, offset: usize) -> u16 {
        match offset {
            QUEUE_SIZE_REG => self.queue_size.get(),
            QUEUE_NOTIFY_OFF => 3,
            _ => panic!("16-bit read of common register {offset:#x}"),
        }
    }
    fn common_write16(&self, offset: usize, value: u16) {
        match offset {
            QUEUE_SELECT => assert_eq!(value, 0, "only queue 0"),
            QUEUE_SIZE_REG => {
                assert!(value.is_power_of_two() && value <= self.queue_max);
                self.queue_size.set(value);
            }
            QUEUE_ENABLE => self.queue_enabled.set(value == 1),
            _ => panic!("16-bit write of common register {offset:#x}"),
        }
    }
    fn common_read32(&self, offset: usize) -> u32 {
        match offset {
            DEVICE_FEATURE => (self.offered >> (32 * self.device_select.get())) as u32,
            _ => panic!("32-bit read of common register {offset:#x}"),
        }
    }
    fn common_write32(&self, offset: usize, value: u32) {
        let set_half = |cell: &Cell<u64>, high: bool| {
            let v = u64::from(value);
            let old = cell.get();
            cell.set(if high {
                old & 0xFFFF_FFFF | v << 32
            } else {
                old & !0xFFFF_FFFF | v
            });
        };
        match offset {
            DEVICE_FEATURE_SELECT => self.device_select.set(value),
            DRIVER_FEATURE_SELECT => self.driver_select.set(value),
            DRIVER_FEATURE => set_half(&self.accepted, self.driver_select.get() == 1),
            QUEUE_DESC | QUEUE_DRIVER | QUEUE_DEVICE => {
                set_half(&self.addrs[(offset - QUEUE_DESC) / 8], false)
            }
            o if [QUEUE_DESC + 4, QUEUE_DRIVER + 4, QUEUE_DEVICE + 4].contains(&o) => {
                set_half(&self.addrs[(o - QUEUE_DESC) / 8], true)
            }
            _ => panic!("32-bit write of common register {offset:#x}"),
        }
    }
    fn notify(&self, queue_notify_off: u16, queue: u16) {
        assert_eq!(
            (queue_notify_off, queue),
            (3, 0),
            "the notification of queue 0"
        );
        assert_ne!(
            self.status.get() & STATUS_DRIVER_OK,
            0,
            "notified before DRIVER_OK"
        );
        assert!(self.queue_enabled.get(), "notified a disabled queue");
        if !self.hung.get() {
            self.process();
        }
    }
    fn device_read32(&self, offset: usize) -> u32 {
        let sectors = self.medium.borrow().len() as u64 / SECTOR;
        match offset {
            0 => sectors as u32,
            4 => (sectors >> 32) as u32,
            _ => panic!("device configuration read at {offset:#x}"),
        }
    }
}
