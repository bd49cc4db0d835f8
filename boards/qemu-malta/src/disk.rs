//! The disk: the PIIX4's IDE function (PCI bus 0, device 10, function 1), its primary channel
//! at the legacy ISA ports 0x1F0..0x1F7 and 0x3F6, device 0 (QEMU: `-drive if=ide,index=0`).
//! The ATA driver moves sectors by PIO; [`MaltaDisk`] gives the file store its 4 KiB blocks
//! (eight sectors each) and maps FLUSH CACHE to the store's flush.

extern crate alloc;

use alloc::boxed::Box;

use drivers::ata::{AtaDisk, AtaError, IsaChannel};
use drivers::gt64120::{Gt64120Pci, PciFunction};
use drivers::mmio::Mmio;
use drivers::nic::Delay;
use filestore::{BlockDevice, DeviceError, BLOCK_SIZE};

const IDE_FUNCTION: PciFunction = PciFunction {
    device: 10,
    function: 1,
};
const PIIX4_IDE_ID: u32 = 0x7111_8086;
/// PCI command register: bit 0 enables I/O space decoding.
const CFG_COMMAND: u8 = 0x04;
/// IDETIM of the primary channel (low half of dword 0x40): bit 15 enables its decoding of the
/// legacy ports.
const CFG_IDETIM: u8 = 0x40;
const IDETIM_DECODE: u32 = 1 << 15;
const PRIMARY_COMMAND_PORT: usize = 0x1F0;
const PRIMARY_CONTROL_PORT: usize = 0x3F6;
/// CP0 Count ticks per microsecond.
const COUNT_PER_US: u64 = 160;
const SECTORS_PER_BLOCK: u64 = (BLOCK_SIZE / 512) as u64;

/// Busy-waits on CP0 Count.
struct CountDelay;

impl Delay for CountDelay {
    fn delay_us(&self, us: u32) {
        let end = hypervisor::arch::counter() + u64::from(us) * COUNT_PER_US;
        while hypervisor::arch::counter() < end {}
    }
}

/// The IDE disk as the file store's block device.
pub struct MaltaDisk {
    ata: AtaDisk<IsaChannel, CountDelay>,
    blocks: u64,
}

/// Enable the IDE function's primary channel and identify its first disk; `None` when the
/// function or the disk is not there.
pub fn probe(pci: &Gt64120Pci, isa_io: &Mmio) -> Option<Box<dyn BlockDevice>> {
    if pci.read32(IDE_FUNCTION, 0) != PIIX4_IDE_ID {
        return None;
    }
    let command = pci.read32(IDE_FUNCTION, CFG_COMMAND);
    pci.write32(IDE_FUNCTION, CFG_COMMAND, command | 1);
    let timing = pci.read32(IDE_FUNCTION, CFG_IDETIM);
    pci.write32(IDE_FUNCTION, CFG_IDETIM, timing | IDETIM_DECODE);
    let channel = IsaChannel::new(
        isa_io.window(PRIMARY_COMMAND_PORT, 8),
        isa_io.window(PRIMARY_CONTROL_PORT, 1),
    );
    let ata = match AtaDisk::probe(channel, CountDelay) {
        Ok(ata) => ata,
        Err(AtaError::NoDevice) => return None,
        Err(e) => {
            hypervisor::println!("disk: the IDE disk does not answer as it should: {e:?}");
            return None;
        }
    };
    let blocks = ata.sectors() / SECTORS_PER_BLOCK;
    Some(Box::new(MaltaDisk { ata, blocks }))
}

fn device_error(e: AtaError) -> DeviceError {
    match e {
        AtaError::OutOfRange => DeviceError::OutOfRange,
        AtaError::Timeout => DeviceError::Timeout,
        _ => DeviceError::Failed,
    }
}

impl MaltaDisk {
    fn first_sector(&self, block: u64) -> Result<u64, DeviceError> {
        if block >= self.blocks {
            return Err(DeviceError::OutOfRange);
        }
        Ok(block * SECTORS_PER_BLOCK)
    }
}

impl BlockDevice for MaltaDisk {
    fn block_count(&self) -> u64 {
        self.blocks
    }
    fn read(&mut self, block: u64, buf: &mut [u8; BLOCK_SIZE]) -> Result<(), DeviceError> {
        let lba = self.first_sector(block)?;
        self.ata.read(lba, buf).map_err(device_error)
    }
    fn write(&mut self, block: u64, data: &[u8; BLOCK_SIZE]) -> Result<(), DeviceError> {
        let lba = self.first_sector(block)?;
        self.ata.write(lba, data).map_err(device_error)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        self.ata.flush().map_err(device_error)
    }
}
