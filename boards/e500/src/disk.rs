//! The disk of an e500 board with a PCI controller: a virtio block device on PCI bus 0 (QEMU:
//! `-device virtio-blk-pci`), driven through its modern interface (`drivers::virtio_blk`).
//!
//! - PCI: the MPC85xx controller at CCSR + 0x8000 (`drivers::fsl_pci`). Nothing is mapped at
//!   reset (no boot loader ran): the board opens outbound window 1 from the CPU's
//!   [`PciWindows::cpu`] to PCI memory at [`PciWindows::bus`] and inbound window 1 from PCI
//!   addresses 0 .. [`INBOUND_SIZE`] to local memory at 0, and places the device's memory BARs
//!   in the outbound window (QEMU leaves them unassigned).
//! - Registers: the outbound window lies in the device window (`device_window.rs`, one 1 MiB
//!   TLB1 page, cache-inhibited and guarded); all little-endian.
//! - DMA: the queue and one 4 KiB page, 8 KiB taken from the heap once and kept (in the RAM
//!   the hypervisor maps one to one, so CPU address = physical = PCI bus address through the
//!   inbound window). The inbound window snoops (see `drivers::fsl_pci`), so the e500 sees
//!   DMA coherently: `CoherentDma`, no cache maintenance. QEMU models no cache, so QEMU
//!   cannot tell either way.
//! - Interrupts: none (the driver suppresses them and polls).

extern crate alloc;

use alloc::boxed::Box;

use drivers::dma::{CoherentDma, DmaMemory};
use drivers::fsl_pci::{self, FslPci};
use drivers::mmio::Mmio;
use drivers::nic::RingMemory;
use drivers::pci::{self, Bar, Enable};
use drivers::virtio_blk::{self, pci::Region, MmioVirtio, VirtioBlk, VirtioError};
use filestore::{BlockDevice, DeviceError, BLOCK_SIZE};
use hypervisor::arch::mmu;

use crate::device_window::DeviceWindow;
use crate::TimebaseDelay;

/// Where a board's PCI memory window is: `size` bytes of CPU physical address space at
/// `cpu` reaching PCI memory at `bus` (both aligned to `size`, a power of two); it must lie
/// in the device window's megabyte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciWindows {
    pub cpu: u64,
    pub bus: u64,
    pub size: u64,
}

/// QEMU ppce500: 64 KiB at the top of the platform bus's first megabyte (QEMU places
/// platform devices from the bottom: the eTSECs at 0xF_0000_0000 and up), reaching the PCI
/// memory addresses its device tree gives the bus (0xE000_0000).
pub const QEMU_PPCE500_PCI: PciWindows = PciWindows {
    cpu: 0xF_000F_0000,
    bus: 0xE000_0000,
    size: 0x1_0000,
};

/// PCI addresses that reach local memory (from 0): the RAM the hypervisor maps, and more.
const INBOUND_SIZE: u64 = 0x8000_0000;
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

/// Find the first virtio block device on `ccsr`'s PCI controller, open the windows, place
/// its BARs and set it up; `None` (and a line saying why, when there was a device) otherwise.
pub fn probe(ccsr: &Mmio, windows: PciWindows, timebase_hz: u64) -> Option<Box<dyn BlockDevice>> {
    let pci = FslPci::new(ccsr.window(fsl_pci::CCSR_OFFSET, fsl_pci::WINDOW_LEN));
    let f = virtio_blk::pci::find(&pci).next()?;
    let Some(layout) = virtio_blk::pci::locate(&pci, f) else {
        hypervisor::println!("disk: the virtio disk has no modern interface");
        return None;
    };
    let opened = pci
        .set_outbound(windows.cpu, windows.bus, windows.size)
        .and_then(|()| pci.set_inbound(0, 0, INBOUND_SIZE));
    if opened.is_err() {
        hypervisor::println!("disk: the PCI windows cannot be set: {windows:?}");
        return None;
    }
    let window = DeviceWindow::shared(windows.cpu)?;
    let mut next = windows.bus;
    for index in 0..pci::BAR_COUNT {
        let Ok(size) = pci::bar_size(&pci, f, index) else {
            continue;
        };
        if !matches!(pci::read_bar(&pci, f, index), Ok(Bar::Memory { .. })) {
            continue;
        }
        let base = next.next_multiple_of(size);
        if base + size > windows.bus + windows.size || pci::set_bar(&pci, f, index, base).is_err() {
            hypervisor::println!("disk: the virtio disk's BAR {index} does not fit the window");
            return None;
        }
        next = base + size;
    }
    pci::enable(
        &pci,
        f,
        Enable {
            memory: true,
            io: false,
            bus_master: true,
        },
    );
    let region = |r: Region| -> Option<Mmio> {
        let Ok(Bar::Memory { base, .. }) = pci::read_bar(&pci, f, r.bar) else {
            return None;
        };
        let cpu = windows.cpu + (base.checked_sub(windows.bus)?) + u64::from(r.offset);
        window.registers(cpu, r.len as usize)
    };
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
