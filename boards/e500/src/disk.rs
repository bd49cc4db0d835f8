//! The disk of an e500 board with a PCI controller: a virtio block device on PCI bus 0 (QEMU:
//! `-device virtio-blk-pci`), driven through its modern interface (`drivers::virtio_blk`).
//!
//! - PCI: the bus as `pci_bus.rs` sets it up (windows opened, BARs placed); the device's
//!   registers are in its BARs, seen through the device window; all little-endian.
//! - DMA: the queue and one 4 KiB page, 8 KiB taken from the heap once and kept (in the RAM
//!   the hypervisor maps one to one, so CPU address = physical = PCI bus address through the
//!   inbound window). The inbound window snoops (see `drivers::fsl_pci`), so the e500 sees
//!   DMA coherently: `CoherentDma`, no cache maintenance. QEMU models no cache, so QEMU
//!   cannot tell either way.
//! - Interrupts: none (the driver suppresses them and polls).

extern crate alloc;

use alloc::boxed::Box;

use drivers::dma::{CoherentDma, DmaMemory};
use drivers::nic::RingMemory;
use drivers::pci::{self, Enable};
use drivers::virtio_blk::{self, pci::Region, MmioVirtio, VirtioBlk, VirtioError};
use filestore::{BlockDevice, DeviceError, BLOCK_SIZE};
use hypervisor::arch::mmu;

use crate::pci_bus::PciBus;
use crate::TimebaseDelay;

const SECTORS_PER_BLOCK: u64 = (BLOCK_SIZE as u64) / virtio_blk::SECTOR;

/// The virtio disk as the file store's block device.
pub struct VirtioDisk {
    blk: VirtioBlk<MmioVirtio, CoherentDma, TimebaseDelay>,
    blocks: u64,
}

/// The driver's memory, taken once (each probe resets the device and reuses it).
static MEMORY: spin::Once<Option<RingMemory>> = spin::Once::new();

fn memory() -> Option<RingMemory> {
    *MEMORY.call_once(|| {
        // The queue in the first page, the data page after it.
        let descriptors = virtio_blk::DESCRIPTOR_BYTES.next_multiple_of(4096);
        let bytes = descriptors + virtio_blk::BUFFER_BYTES;
        let layout = core::alloc::Layout::from_size_align(bytes, 4096).ok()?;
        // SAFETY: a non-zero size; the block is never freed.
        let base = unsafe { alloc::alloc::alloc_zeroed(layout) } as usize;
        if base == 0 || base + bytes > mmu::mapped_end() as usize {
            return None;
        }
        // SAFETY: the block was just allocated and is kept for good, given only to the disk
        // driver (one device at a time: a new probe resets the device before reusing it);
        // no Rust reference to it exists; it lies in RAM mapped one to one.
        Some(unsafe {
            RingMemory {
                descriptors: DmaMemory::new(base, virtio_blk::DESCRIPTOR_BYTES),
                buffers: DmaMemory::new(base + descriptors, virtio_blk::BUFFER_BYTES),
            }
        })
    })
}

/// Find the first virtio block device on the PCI bus and set it up; `None` (and a line saying
/// why, when there was a device) otherwise.
pub fn probe(bus: &PciBus, timebase_hz: u64) -> Option<Box<dyn BlockDevice>> {
    let pci = bus.config();
    let f = virtio_blk::pci::find(pci).next()?;
    let Some(layout) = virtio_blk::pci::locate(pci, f) else {
        hypervisor::println!("disk: the virtio disk has no modern interface");
        return None;
    };
    pci::enable(
        pci,
        f,
        Enable {
            memory: true,
            io: false,
            bus_master: true,
        },
    );
    let region = |r: Region| bus.bar_registers(f, r.bar, u64::from(r.offset), r.len as usize);
    let Some(regs) = (|| {
        Some(MmioVirtio {
            common: region(layout.common)?,
            notify: region(layout.notify)?,
            notify_multiplier: layout.notify_multiplier,
            device: region(layout.device)?,
        })
    })() else {
        hypervisor::println!("disk: the virtio disk's registers are out of reach");
        return None;
    };
    let dma = CoherentDma {
        cpu_base: 0,
        bus_base: 0,
        len: mmu::mapped_end() as usize,
    };
    let delay = TimebaseDelay { hz: timebase_hz };
    match VirtioBlk::new(regs, dma, memory()?, delay) {
        Ok(blk) => {
            let blocks = blk.sectors() / SECTORS_PER_BLOCK;
            Some(Box::new(VirtioDisk { blk, blocks }))
        }
        Err(e) => {
            hypervisor::println!("disk: the virtio disk does not answer as it should: {e:?}");
            None
        }
    }
}

fn device_error(e: VirtioError) -> DeviceError {
    match e {
        VirtioError::OutOfRange => DeviceError::OutOfRange,
        VirtioError::Timeout => DeviceError::Timeout,
        _ => DeviceError::Failed,
    }
}

impl VirtioDisk {
    fn first_sector(&self, block: u64) -> Result<u64, DeviceError> {
        if block >= self.blocks {
            return Err(DeviceError::OutOfRange);
        }
        Ok(block * SECTORS_PER_BLOCK)
    }
}

impl BlockDevice for VirtioDisk {
    fn block_count(&self) -> u64 {
        self.blocks
    }
    fn read(&mut self, block: u64, buf: &mut [u8; BLOCK_SIZE]) -> Result<(), DeviceError> {
        let sector = self.first_sector(block)?;
        self.blk.read(sector, buf).map_err(device_error)
    }
    fn write(&mut self, block: u64, data: &[u8; BLOCK_SIZE]) -> Result<(), DeviceError> {
        let sector = self.first_sector(block)?;
        self.blk.write(sector, data).map_err(device_error)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        self.blk.flush().map_err(device_error)
    }
}
