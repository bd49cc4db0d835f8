//! ATA disks by programmed I/O: the PIIX4 IDE channels of QEMU's malta (and any legacy IDE
//! channel): IDENTIFY, READ/WRITE SECTORS (EXT), FLUSH CACHE (EXT), software reset. Polled, with
//! the channel's interrupt off (nIEN); one device (device 0, "master") per [`AtaDisk`].
//!
//! The protocol is ATA/ATAPI-6's PIO data-in and data-out classes: wait until BSY clears, select
//! the device, write the address registers (LBA48: the high-order bytes first), write the
//! command; then per sector wait for BSY to clear, read the status (which also clears the
//! interrupt), stop on ERR or DF, and move 256 words through the data register once DRQ is set.
//! Status is polled through the alternate status register, which does not disturb the device.
//! Every wait is bounded ([`AtaError::Timeout`]).
//!
//! Byte order: the data register carries a sector's bytes two at a time, the byte at the even
//! offset in the word's low half ([`AtaChannel::read_data`] returns the word's value), so a
//! sector reads as `word.to_le_bytes()` in order on any CPU. Sectors move 32 bits at a time
//! (32-bit PIO: two words per access, the first in the low half), which halves the accesses. IDENTIFY's strings have the first
//! character of each pair in the high half.
//!
//! Register knowledge only: the board says where the channel's two register blocks are
//! ([`IsaChannel`]) and gives the disk to its block-device layer. `tests.rs` runs this driver
//! against `model.rs`, a register-level model of an ATA device with a write cache.

pub mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

use crate::mmio::Mmio;
use crate::nic::Delay;
use regs::*;

/// The registers of one ATA channel: the command block (eight byte registers, the first, the
/// data register, 16 bits wide) and the control block's alternate status / device control.
pub trait AtaChannel {
    /// Command-block register `reg` (1..=7).
    fn read_reg(&self, reg: usize) -> u8;
    /// Write command-block register `reg` (1..=7).
    fn write_reg(&self, reg: usize, value: u8);
    /// One word from the data register (the byte at the even offset in the low half).
    fn read_data(&self) -> u16;
    /// One word to the data register.
    fn write_data(&self, word: u16);
    /// Two words at once (32-bit PIO, which the PIIX4 and QEMU take): the first in the low half.
    fn read_data32(&self) -> u32 {
        let low = self.read_data();
        u32::from(low) | u32::from(self.read_data()) << 16
    }
    /// Two words at once, the first in the low half.
    fn write_data32(&self, pair: u32) {
        self.write_data(pair as u16);
        self.write_data((pair >> 16) as u16);
    }
    /// The alternate status register (status without clearing the interrupt).
    fn alt_status(&self) -> u8;
    /// Write the device control register.
    fn write_control(&self, value: u8);
}

/// A legacy channel in the ISA I/O space: its command block (8 ports, e.g. 0x1F0) and control
/// block (1 port, e.g. 0x3F6). The ports are little-endian, as every PCI/ISA device here.
#[derive(Clone, Copy, Debug)]
pub struct IsaChannel {
    command: Mmio,
    control: Mmio,
}

impl IsaChannel {
    /// `command` is the 8-byte command block, `control` the 1-byte control block.
    pub fn new(command: Mmio, control: Mmio) -> Self {
        Self { command, control }
    }
}

impl AtaChannel for IsaChannel {
    fn read_reg(&self, reg: usize) -> u8 {
        self.command.read8(reg)
    }
    fn write_reg(&self, reg: usize, value: u8) {
        self.command.write8(reg, value)
    }
    fn read_data(&self) -> u16 {
        self.command.read_le16(DATA)
    }
    fn write_data(&self, word: u16) {
        self.command.write_le16(DATA, word)
    }
    fn read_data32(&self) -> u32 {
        self.command.read_le32(DATA)
    }
    fn write_data32(&self, pair: u32) {
        self.command.write_le32(DATA, pair)
    }
    fn alt_status(&self) -> u8 {
        self.control.read8(0)
    }
    fn write_control(&self, value: u8) {
        self.control.write8(0, value)
    }
}

impl<T: AtaChannel + ?Sized> AtaChannel for &T {
    fn read_reg(&self, reg: usize) -> u8 {
        (**self).read_reg(reg)
    }
    fn write_reg(&self, reg: usize, value: u8) {
        (**self).write_reg(reg, value)
    }
    fn read_data(&self) -> u16 {
        (**self).read_data()
    }
    fn write_data(&self, word: u16) {
        (**self).write_data(word)
    }
    fn read_data32(&self) -> u32 {
        (**self).read_data32()
    }
    fn write_data32(&self, pair: u32) {
        (**self).write_data32(pair)
    }
    fn alt_status(&self) -> u8 {
        (**self).alt_status()
    }
    fn write_control(&self, value: u8) {
        (**self).write_control(value)
    }
}

/// Why a disk request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtaError {
    /// No ATA device answers on the channel (an empty channel, or an ATAPI device).
    NoDevice,
    /// The device cannot address by LBA.
    NoLba,
    /// The device stayed busy, or never asked for data, past the time allowed.
    Timeout,
    /// The device ended the command with ERR or DF set: its status and error registers.
    Device { status: u8, error: u8 },
    /// The device finished a data transfer in a state the protocol does not allow (DRQ missing
    /// or left set).
    Protocol { status: u8 },
    /// The address range is past the end of the disk.
    OutOfRange,
    /// The buffer is empty or not a whole number of sectors.
    BadLength,
}

/// How long a command may keep the device busy, in microseconds (a spin-up takes the longest).
const COMMAND_TIMEOUT_US: u32 = 10_000_000;
/// How long a cache flush may take (ATA allows it to be long), in microseconds.
const FLUSH_TIMEOUT_US: u32 = 30_000_000;
/// Pause between two looks at a busy device.
const POLL_US: u32 = 1;
/// Fast looks before the first pause: an emulated device often finishes within them.
const FAST_POLLS: u32 = 64;

/// An ATA disk (device 0 of its channel) after IDENTIFY.
pub struct AtaDisk<C: AtaChannel, D: Delay> {
    channel: C,
    delay: D,
    sectors: u64,
    lba48: bool,
    model: [u8; 40],
}

impl<C: AtaChannel, D: Delay> AtaDisk<C, D> {
    /// Reset the channel, turn its interrupt off, and identify device 0.
    pub fn probe(channel: C, delay: D) -> Result<Self, AtaError> {
        // A floating bus (no controller, or no device pulling the lines) reads all ones.
        if channel.alt_status() == 0xFF {
            return Err(AtaError::NoDevice);
        }
        channel.write_control(CTL_SRST | CTL_NIEN);
        delay.delay_us(5);
        channel.write_control(CTL_NIEN);
        delay.delay_us(2_000);
        let mut disk = AtaDisk {
            channel,
            delay,
            sectors: 0,
            lba48: false,
            model: [b' '; 40],
        };
        disk.wait_idle(COMMAND_TIMEOUT_US)?;
        disk.identify()?;
        Ok(disk)
    }

    /// Sectors of [`SECTOR_SIZE`] bytes on the disk.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Whether the disk takes 48-bit addresses (the driver uses them only past LBA28's reach).
    pub fn lba48(&self) -> bool {
        self.lba48
    }

    /// The model string from IDENTIFY, trailing spaces removed.
    pub fn model(&self) -> &str {
        let end = self
            .model
            .iter()
            .rposition(|&b| b != b' ')
            .map_or(0, |i| i + 1);
        core::str::from_utf8(&self.model[..end]).unwrap_or("?")
    }

    /// The register blocks (tests look at the model through it).
    pub fn channel(&self) -> &C {
        &self.channel
    }

    fn identify(&mut self) -> Result<(), AtaError> {
        self.select(0)?;
        self.channel.write_reg(COMMAND, CMD_IDENTIFY);
        self.settle();
        if self.channel.read_reg(STATUS) == 0 {
            return Err(AtaError::NoDevice);
        }
        let mut words = [0u16; SECTOR_WORDS];
        match self.data_in_sector(&mut |i, w| words[i] = w) {
            // An ATAPI device aborts IDENTIFY (it answers IDENTIFY PACKET DEVICE).
            Err(AtaError::Device { .. }) => return Err(AtaError::NoDevice),
            other => other?,
        }
        self.finish()?;
        if words[ID_CAPABILITIES] & ID_CAP_LBA == 0 {
            return Err(AtaError::NoLba);
        }
        for (pair, w) in self
            .model
            .chunks_exact_mut(2)
            .zip(&words[ID_MODEL..ID_MODEL + 20])
        {
            pair.copy_from_slice(&w.to_be_bytes());
        }
        self.lba48 = words[ID_COMMAND_SET_2] & ID_CMD2_LBA48 != 0;
        let lba28 =
            u64::from(words[ID_LBA28_SECTORS]) | u64::from(words[ID_LBA28_SECTORS + 1]) << 16;
        self.sectors = if self.lba48 {
            let n = (0..4).fold(0u64, |n, i| {
                n | u64::from(words[ID_LBA48_SECTORS + i]) << (16 * i)
            });
            n.max(lba28)
        } else {
            lba28
        };
        Ok(())
    }

    /// Read `buf.len() / 512` sectors from `lba` on.
    pub fn read(&mut self, lba: u64, buf: &mut [u8]) -> Result<(), AtaError> {
        self.check_range(lba, buf.len())?;
        for (i, chunk) in buf
            .chunks_mut(LBA28_MAX_SECTORS as usize * SECTOR_SIZE)
            .enumerate()
        {
            let start = lba + (i as u64) * u64::from(LBA28_MAX_SECTORS);
            self.command(start, chunk.len() / SECTOR_SIZE, false)?;
            for sector in chunk.chunks_exact_mut(SECTOR_SIZE) {
                self.wait_data_request()?;
                for four in sector.chunks_exact_mut(4) {
                    four.copy_from_slice(&self.channel.read_data32().to_le_bytes());
                }
            }
            self.finish()?;
        }
        Ok(())
    }

    /// Write `data` (whole sectors) from `lba` on. Durable only after [`flush`](Self::flush):
    /// the disk may hold it in its write cache.
    pub fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), AtaError> {
        self.check_range(lba, data.len())?;
        for (i, chunk) in data
            .chunks(LBA28_MAX_SECTORS as usize * SECTOR_SIZE)
            .enumerate()
        {
            let start = lba + (i as u64) * u64::from(LBA28_MAX_SECTORS);
            self.command(start, chunk.len() / SECTOR_SIZE, true)?;
            for sector in chunk.chunks_exact(SECTOR_SIZE) {
                self.wait_data_request()?;
                for four in sector.chunks_exact(4) {
                    let pair = u32::from_le_bytes([four[0], four[1], four[2], four[3]]);
                    self.channel.write_data32(pair);
                }
            }
            self.finish()?;
        }
        Ok(())
    }

    /// Make every write so far durable (FLUSH CACHE).
    pub fn flush(&mut self) -> Result<(), AtaError> {
        self.select(0)?;
        let cmd = if self.lba48 {
            CMD_FLUSH_CACHE_EXT
        } else {
            CMD_FLUSH_CACHE
        };
        self.channel.write_reg(COMMAND, cmd);
        self.settle();
        self.wait_not_busy(FLUSH_TIMEOUT_US)?;
        self.finish()
    }

    fn check_range(&self, lba: u64, len: usize) -> Result<(), AtaError> {
        if len == 0 || !len.is_multiple_of(SECTOR_SIZE) {
            return Err(AtaError::BadLength);
        }
        let count = (len / SECTOR_SIZE) as u64;
        match lba.checked_add(count) {
            Some(end) if end <= self.sectors => Ok(()),
            _ => Err(AtaError::OutOfRange),
        }
    }

    /// Issue a read or write of `count` (1..=256) sectors at `lba`.
    fn command(&mut self, lba: u64, count: usize, write: bool) -> Result<(), AtaError> {
        debug_assert!((1..=LBA28_MAX_SECTORS as usize).contains(&count));
        let end = lba + count as u64;
        let long = end > LBA28_LIMIT;
        if long && !self.lba48 {
            return Err(AtaError::OutOfRange);
        }
        let bytes = lba.to_le_bytes();
        // A count of 256 is written as 0 in both forms (LBA48's high byte is then 0 too).
        let count = (count % 256) as u8;
        let (device, cmd) = match (long, write) {
            (true, true) => (DEV_LBA, CMD_WRITE_SECTORS_EXT),
            (true, false) => (DEV_LBA, CMD_READ_SECTORS_EXT),
            (false, true) => (DEV_LBA | (bytes[3] & 0x0F), CMD_WRITE_SECTORS),
            (false, false) => (DEV_LBA | (bytes[3] & 0x0F), CMD_READ_SECTORS),
        };
        self.select(device)?;
        let c = &self.channel;
        if long {
            // The high-order bytes first: each register keeps the previous value it was
            // given as its "high order byte" (HOB).
            c.write_reg(ERROR, 0);
            c.write_reg(SECTOR_COUNT, 0);
            c.write_reg(LBA_LOW, bytes[3]);
            c.write_reg(LBA_MID, bytes[4]);
            c.write_reg(LBA_HIGH, bytes[5]);
        }
        c.write_reg(ERROR, 0);
        c.write_reg(SECTOR_COUNT, count);
        c.write_reg(LBA_LOW, bytes[0]);
        c.write_reg(LBA_MID, bytes[1]);
        c.write_reg(LBA_HIGH, bytes[2]);
        c.write_reg(COMMAND, cmd);
        self.settle();
        Ok(())
    }

    /// Select device 0 with `device` bits (LBA, LBA28's top nibble) once the channel is idle.
    fn select(&mut self, device: u8) -> Result<(), AtaError> {
        self.wait_idle(COMMAND_TIMEOUT_US)?;
        self.channel.write_reg(DEVICE, DEV_OBSOLETE | device);
        self.settle();
        self.wait_idle(COMMAND_TIMEOUT_US)
    }

    /// 400 ns for the status to become valid after a command or a device selection: four
    /// reads of the alternate status, as the standard suggests.
    fn settle(&self) {
        for _ in 0..4 {
            self.channel.alt_status();
        }
    }

    /// Wait until neither BSY nor DRQ is set (the channel takes a new command).
    fn wait_idle(&mut self, timeout_us: u32) -> Result<(), AtaError> {
        let status = self.wait_not_busy(timeout_us)?;
        if status & ST_DRQ != 0 {
            return Err(AtaError::Protocol { status });
        }
        Ok(())
    }

    /// Poll the alternate status until BSY clears; the status then.
    fn wait_not_busy(&mut self, timeout_us: u32) -> Result<u8, AtaError> {
        let mut waited = 0u32;
        let mut looks = 0u32;
        loop {
            let status = self.channel.alt_status();
            if status & ST_BSY == 0 {
                return Ok(status);
            }
            looks += 1;
            if looks > FAST_POLLS {
                if waited >= timeout_us {
                    return Err(AtaError::Timeout);
                }
                self.delay.delay_us(POLL_US);
                waited += POLL_US;
            }
        }
    }

    /// Wait for the device to ask for the next sector: BSY clear, no error, DRQ set.
    fn wait_data_request(&mut self) -> Result<(), AtaError> {
        self.wait_not_busy(COMMAND_TIMEOUT_US)?;
        let status = self.channel.read_reg(STATUS);
        if status & (ST_ERR | ST_DF) != 0 {
            return Err(AtaError::Device {
                status,
                error: self.channel.read_reg(ERROR),
            });
        }
        if status & ST_DRQ == 0 {
            return Err(AtaError::Protocol { status });
        }
        Ok(())
    }

    /// Take one sector of a data-in command, word by word.
    fn data_in_sector(&mut self, take: &mut dyn FnMut(usize, u16)) -> Result<(), AtaError> {
        self.wait_data_request()?;
        for i in 0..SECTOR_WORDS {
            take(i, self.channel.read_data());
        }
        Ok(())
    }

    /// After a command's last sector (or a non-data command): wait, then ERR, DF and DRQ clear.
    fn finish(&mut self) -> Result<(), AtaError> {
        self.settle();
        self.wait_not_busy(COMMAND_TIMEOUT_US)?;
        let status = self.channel.read_reg(STATUS);
        if status & (ST_ERR | ST_DF) != 0 {
            return Err(AtaError::Device {
                status,
                error: self.channel.read_reg(ERROR),
            });
        }
        if status & ST_DRQ != 0 {
            return Err(AtaError::Protocol { status });
        }
        Ok(())
    }
}
