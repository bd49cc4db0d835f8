//! virtio block devices over PCI, the modern (virtio 1.x) interface: QEMU's `virtio-blk-pci`
//! (vendor 0x1AF4, device 0x1042, or the transitional 0x1001 driven through its modern
//! interface). Polled, one request at a time, the device's interrupts suppressed.
//!
//! Setup (virtio 1.2, 3.1.1): reset (status 0, read back), ACKNOWLEDGE | DRIVER, the features
//! (VERSION_1 required; FLUSH taken when offered, RO noted), FEATURES_OK read back, queue 0 with
//! [`QUEUE_SIZE`] descriptors, DRIVER_OK. The device's capacity is read from its configuration
//! (read twice around `config_generation`).
//!
//! A request is the split virtqueue's three-descriptor chain: the 16-byte header (type,
//! sector) the device reads, the data (read or written by the device), the status byte it
//! writes. The driver puts the chain's head in the available ring, bumps its index, notifies
//! queue 0 and waits (bounded) until the used ring's index moves.
//!
//! Byte order: a modern device is little-endian throughout (registers, configuration, rings,
//! request header), whatever the CPU: on the big-endian e500 every field goes through the
//! `_le` accessors ([`VirtioRegisters`], `DmaMemory`). The registers are reached through the
//! BARs the PCI capabilities name ([`pci::locate`]); the board places the BARs.
//!
//! DMA (the rule in `drivers/README.md`): the rings, the header and the status byte live in
//! [`RingMemory::descriptors`] (memory the CPU sees coherently; no cache operation on it); the
//! data page in [`RingMemory::buffers`]: written back before the device reads it, invalidated
//! after the device wrote it and before the CPU reads it. Fences order the ring writes before
//! the index, and the index before the notification.
//!
//! `tests.rs` runs the driver against `model.rs`, a model of the device's common configuration,
//! queue and request handling after QEMU's `virtio-blk` over the non-coherent cache model.

pub mod pci;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

use core::sync::atomic::{fence, Ordering};

use crate::dma::DmaOps;
use crate::nic::{Delay, RingMemory};

/// Bytes per sector (the unit of the header's `sector` and of the capacity).
pub const SECTOR: u64 = 512;
/// Bytes moved per request.
pub const PAGE: usize = 4096;
/// Descriptors in queue 0 (a request takes three).
pub const QUEUE_SIZE: u16 = 4;
/// Descriptor memory the driver needs ([`RingMemory::descriptors`]).
pub const DESCRIPTOR_BYTES: usize = 512;
/// Buffer memory the driver needs ([`RingMemory::buffers`]).
pub const BUFFER_BYTES: usize = PAGE;

// Common configuration structure (virtio 1.2, 4.1.4.3).
pub(crate) const DEVICE_FEATURE_SELECT: usize = 0x00;
pub(crate) const DEVICE_FEATURE: usize = 0x04;
pub(crate) const DRIVER_FEATURE_SELECT: usize = 0x08;
pub(crate) const DRIVER_FEATURE: usize = 0x0C;
pub(crate) const DEVICE_STATUS: usize = 0x14;
pub(crate) const CONFIG_GENERATION: usize = 0x15;
pub(crate) const QUEUE_SELECT: usize = 0x16;
pub(crate) const QUEUE_SIZE_REG: usize = 0x18;
pub(crate) const QUEUE_ENABLE: usize = 0x1C;
pub(crate) const QUEUE_NOTIFY_OFF: usize = 0x1E;
pub(crate) const QUEUE_DESC: usize = 0x20;
pub(crate) const QUEUE_DRIVER: usize = 0x28;
pub(crate) const QUEUE_DEVICE: usize = 0x30;

pub(crate) const STATUS_ACKNOWLEDGE: u8 = 1;
pub(crate) const STATUS_DRIVER: u8 = 2;
pub(crate) const STATUS_DRIVER_OK: u8 = 4;
pub(crate) const STATUS_FEATURES_OK: u8 = 8;
pub(crate) const STATUS_FAILED: u8 = 0x80;

/// Feature bits (virtio 1.2, 5.2.3 and 6).
pub(crate) const F_RO: u64 = 1 << 5;
pub(crate) const F_FLUSH: u64 = 1 << 9;
pub(crate) const F_VERSION_1: u64 = 1 << 32;

// Request types and status (5.2.6).
pub(crate) const T_IN: u32 = 0;
pub(crate) const T_OUT: u32 = 1;
pub(crate) const T_FLUSH: u32 = 4;
pub(crate) const S_OK: u8 = 0;
/// What the driver leaves in the status byte, which the device overwrites.
pub(crate) const S_PENDING: u8 = 0xFF;

// Split virtqueue (2.7).
pub(crate) const DESC_F_NEXT: u16 = 1;
pub(crate) const DESC_F_WRITE: u16 = 2;
pub(crate) const AVAIL_F_NO_INTERRUPT: u16 = 1;

// The layout of the descriptor memory.
pub(crate) const DESC_TABLE: usize = 0;
pub(crate) const AVAIL_RING: usize = 64;
pub(crate) const USED_RING: usize = 128;
pub(crate) const HEADER: usize = 256;
pub(crate) const STATUS: usize = 272;

/// Polls of the used ring before a request times out, [`POLL_US`] apart (10 s).
const POLL_LIMIT: u32 = 1_000_000;
const POLL_US: u32 = 10;
/// Reads of the status register before a reset counts as failed.
const RESET_POLLS: u32 = 10_000;

/// The device's three register regions, each at offsets from its own start, all
/// little-endian: the common configuration, the notification register of queue 0 (its
/// `queue_notify_off` times the multiplier, already applied by the board: [`pci::Layout`]),
/// and the device configuration.
pub trait VirtioRegisters {
    fn common_read8(&self, offset: usize) -> u8;
    fn common_write8(&self, offset: usize, value: u8);
    fn common_read16(&self, offset: usize) -> u16;
    fn common_write16(&self, offset: usize, value: u16);
    fn common_read32(&self, offset: usize) -> u32;
    fn common_write32(&self, offset: usize, value: u32);
    /// Notify queue `queue` (`queue_notify_off` is the offset the device gave for it).
    fn notify(&self, queue_notify_off: u16, queue: u16);
    fn device_read32(&self, offset: usize) -> u32;
}

/// Why the disk cannot be used or a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VirtioError {
    /// The device did not come out of reset.
    ResetTimeout,
    /// The device offers no VERSION_1 (a legacy-only device).
    NotModern,
    /// The device refused the features the driver took.
    FeaturesRefused,
    /// Queue 0 is missing or smaller than a request needs.
    NoQueue,
    /// The memory given is too small, or the device cannot reach it.
    Memory,
    /// The request lies past the end of the disk.
    OutOfRange,
    /// A write to a read-only disk.
    ReadOnly,
    /// The device answered with this status (1: I/O error, 2: unsupported).
    Status(u8),
    /// The device did not complete the request in time.
    Timeout,
    /// The device answered a request that was not the one pending.
    BadCompletion,
    /// An earlier request timed out or completed wrongly: the device may still use the
    /// queue, so no request is made any more (until the device is set up again).
    Stopped,
}

/// One virtio block device, ready for requests.
pub struct VirtioBlk<R, D, T> {
    regs: R,
    dma: D,
    delay: T,
    memory: RingMemory,
    notify_off: u16,
    /// The disk's size in sectors.
    sectors: u64,
    features: u64,
    /// The available ring's index the driver publishes next, and the used one it waits for.
    avail_idx: u16,
    used_idx: u16,
    /// Set by a timeout or a wrong completion (see [`VirtioError::Stopped`]).
    stopped: bool,
}

impl<R: VirtioRegisters, D: DmaOps, T: Delay> VirtioBlk<R, D, T> {
    /// Reset and set up the device with `memory` ([`DESCRIPTOR_BYTES`] and [`BUFFER_BYTES`]).
    pub fn new(regs: R, dma: D, memory: RingMemory, delay: T) -> Result<Self, VirtioError> {
        let fits = memory.descriptors.len() >= DESCRIPTOR_BYTES
            && memory.buffers.len() >= BUFFER_BYTES
            && memory.buffers.base().is_multiple_of(dma.cache_line());
        let reachable = [memory.descriptors.base(), memory.buffers.base()]
            .iter()
            .all(|&a| dma.bus_address(a).is_some());
        if !fits || !reachable {
            return Err(VirtioError::Memory);
        }
        reset(&regs)?;
        regs.common_write8(DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        let offered = read_features(&regs);
        if offered & F_VERSION_1 == 0 {
            fail(&regs);
            return Err(VirtioError::NotModern);
        }
        let features = offered & (F_VERSION_1 | F_FLUSH | F_RO);
        for half in 0..2u32 {
            regs.common_write32(DRIVER_FEATURE_SELECT, half);
            regs.common_write32(DRIVER_FEATURE, (features >> (32 * half)) as u32);
        }
        let status = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
        regs.common_write8(DEVICE_STATUS, status);
        if regs.common_read8(DEVICE_STATUS) & STATUS_FEATURES_OK == 0 {
            fail(&regs);
            return Err(VirtioError::FeaturesRefused);
        }
        let mut blk = VirtioBlk {
            regs,
            dma,
            delay,
            memory,
            notify_off: 0,
            sectors: 0,
            features,
            avail_idx: 0,
            used_idx: 0,
            stopped: false,
        };
        if let Err(e) = blk.set_up_queue() {
            fail(&blk.regs);
            return Err(e);
        }
        blk.sectors = blk.read_capacity();
        blk.regs
            .common_write8(DEVICE_STATUS, status | STATUS_DRIVER_OK);
        Ok(blk)
    }

    /// The disk's size in sectors of [`SECTOR`] bytes.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Whether the device keeps a write cache that [`VirtioBlk::flush`] empties (else flush
    /// has nothing to do: the device writes through).
    pub fn has_flush(&self) -> bool {
        self.features & F_FLUSH != 0
    }

    /// Whether the device refuses writes.
    pub fn read_only(&self) -> bool {
        self.features & F_RO != 0
    }

    /// Read the [`PAGE`] bytes from sector `sector` on.
    pub fn read(&mut self, sector: u64, buf: &mut [u8; PAGE]) -> Result<(), VirtioError> {
        self.check_range(sector)?;
        self.request(T_IN, sector, true)?;
        let data = self.memory.buffers;
        self.dma.invalidate(data.base(), PAGE);
        // SAFETY: the device has completed the request and holds no descriptor naming the
        // buffer; nothing else references it while the driver is borrowed mutably.
        buf.copy_from_slice(unsafe { data.bytes(0, PAGE) });
        Ok(())
    }

    /// Write `data` to the [`PAGE`] bytes from sector `sector` on.
    pub fn write(&mut self, sector: u64, data: &[u8; PAGE]) -> Result<(), VirtioError> {
        self.check_range(sector)?;
        if self.read_only() {
            return Err(VirtioError::ReadOnly);
        }
        let buffer = self.memory.buffers;
        buffer.copy_from(0, data);
        self.dma.write_back(buffer.base(), PAGE);
        self.request(T_OUT, sector, false)
    }

    /// Empty the device's write cache to the medium (nothing when it offers no FLUSH).
    pub fn flush(&mut self) -> Result<(), VirtioError> {
        if !self.has_flush() {
            return Ok(());
        }
        self.request(T_FLUSH, 0, false)
    }

    fn check_range(&self, sector: u64) -> Result<(), VirtioError> {
        if self.stopped {
            return Err(VirtioError::Stopped);
        }
        let end = sector.checked_add(PAGE as u64 / SECTOR);
        match end {
            Some(end) if end <= self.sectors => Ok(()),
            _ => Err(VirtioError::OutOfRange),
        }
    }

    fn set_up_queue(&mut self) -> Result<(), VirtioError> {
        let r = &self.regs;
        r.common_write16(QUEUE_SELECT, 0);
        let max = r.common_read16(QUEUE_SIZE_REG);
        if max < QUEUE_SIZE {
            return Err(VirtioError::NoQueue);
        }
        r.common_write16(QUEUE_SIZE_REG, QUEUE_SIZE);
        let d = self.memory.descriptors;
        (0..DESCRIPTOR_BYTES).for_each(|i| d.write8(i, 0));
        d.write_le16(AVAIL_RING, AVAIL_F_NO_INTERRUPT);
        for (reg, offset) in [
            (QUEUE_DESC, DESC_TABLE),
            (QUEUE_DRIVER, AVAIL_RING),
            (QUEUE_DEVICE, USED_RING),
        ] {
            let bus = self
                .dma
                .bus_address(d.base() + offset)
                .ok_or(VirtioError::Memory)?;
            r.common_write32(reg, bus as u32);
            r.common_write32(reg + 4, (bus >> 32) as u32);
        }
        self.notify_off = r.common_read16(QUEUE_NOTIFY_OFF);
        fence(Ordering::SeqCst);
        r.common_write16(QUEUE_ENABLE, 1);
        Ok(())
    }

    fn read_capacity(&self) -> u64 {
        loop {
            let before = self.regs.common_read8(CONFIG_GENERATION);
            let low = self.regs.device_read32(0);
            let high = self.regs.device_read32(4);
            if self.regs.common_read8(CONFIG_GENERATION) == before {
                return u64::from(high) << 32 | u64::from(low);
            }
        }
    }

    /// One request of `kind` at `sector` with the data page (written by the device when
    /// `device_writes`); waits for its completion.
    fn request(&mut self, kind: u32, sector: u64, device_writes: bool) -> Result<(), VirtioError> {
        if self.stopped {
            return Err(VirtioError::Stopped);
        }
        let d = self.memory.descriptors;
        d.write_le32(HEADER, kind);
        d.write_le32(HEADER + 4, 0);
        d.write_le32(HEADER + 8, sector as u32);
        d.write_le32(HEADER + 12, (sector >> 32) as u32);
        d.write8(STATUS, S_PENDING);
        let bus = |a: usize| self.dma.bus_address(a).ok_or(VirtioError::Memory);
        let header = bus(d.base() + HEADER)?;
        let status = bus(d.base() + STATUS)?;
        let data = bus(self.memory.buffers.base())?;
        let data_flags = if device_writes { DESC_F_WRITE } else { 0 };
        let mut chain: [(u64, u32, u16); 3] = [
            (header, 16, 0),
            (data, PAGE as u32, data_flags),
            (status, 1, DESC_F_WRITE),
        ];
        let mut len = 3;
        if kind == T_FLUSH {
            // A flush carries no data.
            chain[1] = chain[2];
            len = 2;
        }
        for (i, &(addr, size, flags)) in chain[..len].iter().enumerate() {
            let at = DESC_TABLE + 16 * i;
            let last = i + 1 == len;
            d.write_le32(at, addr as u32);
            d.write_le32(at + 4, (addr >> 32) as u32);
            d.write_le32(at + 8, size);
            d.write_le16(at + 12, if last { flags } else { flags | DESC_F_NEXT });
            d.write_le16(at + 14, if last { 0 } else { i as u16 + 1 });
        }
        let slot = usize::from(self.avail_idx % QUEUE_SIZE);
        d.write_le16(AVAIL_RING + 4 + 2 * slot, 0);
        // The descriptors and the ring entry before the index; the index before the doorbell.
        fence(Ordering::SeqCst);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        d.write_le16(AVAIL_RING + 2, self.avail_idx);
        fence(Ordering::SeqCst);
        self.regs.notify(self.notify_off, 0);
        if let Err(e) = self.wait_used() {
            self.stopped = true;
            return Err(e);
        }
        match d.read8(STATUS) {
            S_OK => Ok(()),
            s => Err(VirtioError::Status(s)),
        }
    }

    /// Wait until the device has used the pending chain (head 0).
    fn wait_used(&mut self) -> Result<(), VirtioError> {
        let d = self.memory.descriptors;
        let mut polls = 0;
        while d.read_le16(USED_RING + 2) == self.used_idx {
            polls += 1;
            if polls > POLL_LIMIT {
                return Err(VirtioError::Timeout);
            }
            self.delay.delay_us(POLL_US);
        }
        // The used element is read only after its index says it is there.
        fence(Ordering::SeqCst);
        let slot = usize::from(self.used_idx % QUEUE_SIZE);
        let head = d.read_le32(USED_RING + 4 + 8 * slot);
        self.used_idx = self.used_idx.wrapping_add(1);
        if head != 0 || d.read_le16(USED_RING + 2) != self.used_idx {
            return Err(VirtioError::BadCompletion);
        }
        Ok(())
    }
}

fn reset(regs: &impl VirtioRegisters) -> Result<(), VirtioError> {
    regs.common_write8(DEVICE_STATUS, 0);
    for _ in 0..RESET_POLLS {
        if regs.common_read8(DEVICE_STATUS) == 0 {
            return Ok(());
        }
    }
    Err(VirtioError::ResetTimeout)
}

fn fail(regs: &impl VirtioRegisters) {
    let status = regs.common_read8(DEVICE_STATUS);
    regs.common_write8(DEVICE_STATUS, status | STATUS_FAILED);
}

fn read_features(regs: &impl VirtioRegisters) -> u64 {
    let mut features = 0;
    for half in 0..2u32 {
        regs.common_write32(DEVICE_FEATURE_SELECT, half);
        features |= u64::from(regs.common_read32(DEVICE_FEATURE)) << (32 * half);
    }
    features
}

/// The registers as the machine maps them: three windows onto the device's BARs.
pub struct MmioVirtio {
    pub common: crate::mmio::Mmio,
    pub notify: crate::mmio::Mmio,
    pub notify_multiplier: u32,
    pub device: crate::mmio::Mmio,
}

impl VirtioRegisters for MmioVirtio {
    fn common_read8(&self, offset: usize) -> u8 {
        self.common.read8(offset)
    }
    fn common_write8(&self, offset: usize, value: u8) {
        self.common.write8(offset, value)
    }
    fn common_read16(&self, offset: usize) -> u16 {
        self.common.read_le16(offset)
    }
    fn common_write16(&self, offset: usize, value: u16) {
        self.common.write_le16(offset, value)
    }
    fn common_read32(&self, offset: usize) -> u32 {
        self.common.read_le32(offset)
    }
    fn common_write32(&self, offset: usize, value: u32) {
        self.common.write_le32(offset, value)
    }
    fn notify(&self, queue_notify_off: u16, queue: u16) {
        let at = usize::from(queue_notify_off) * self.notify_multiplier as usize;
        self.notify.write_le16(at, queue)
    }
    fn device_read32(&self, offset: usize) -> u32 {
        self.device.read_le32(offset)
    }
}
