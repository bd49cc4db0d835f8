//! CFI NOR flash with the Intel/Sharp command set (command set 0x0001), as on malta's
//! 4 MiB boot flash (QEMU `pflash_cfi01`).
//!
//! The device is `width` bytes wide (1, 2 or 4 chips/bytes in parallel): commands are written
//! replicated across the width. Programming uses the chip's write buffer when the CFI query
//! reports one ("write to buffer", up to the buffer's size per command, never across a
//! buffer-aligned boundary), else one bus word at a time. Reads are plain array reads. Geometry
//! (size, erase block size, write buffer) comes from the CFI query, never from a table.
//!
//! The write buffer matters on QEMU: its `pflash_cfi01` writes its backing file once per
//! program command, so a word at a time costs a file write per four bytes, a buffer one per
//! buffer.

use crate::mmio::Mmio;

const CMD_READ_ARRAY: u8 = 0xFF;
const CMD_READ_STATUS: u8 = 0x70;
const CMD_CLEAR_STATUS: u8 = 0x50;
const CMD_PROGRAM: u8 = 0x40;
const CMD_WRITE_BUFFER: u8 = 0xE8;
const CMD_ERASE_SETUP: u8 = 0x20;
const CMD_CONFIRM: u8 = 0xD0;
const CMD_UNLOCK_SETUP: u8 = 0x60;
const CMD_CFI_QUERY: u8 = 0x98;
const STATUS_READY: u8 = 1 << 7;
const STATUS_ERASE_ERROR: u8 = 1 << 5;
const STATUS_PROGRAM_ERROR: u8 = 1 << 4;
const STATUS_LOCKED: u8 = 1 << 1;
/// Status polls before a command counts as hung.
const POLL_LIMIT: u32 = 50_000_000;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// No CFI flash answers at this address (or not the Intel command set).
    NotFound,
    /// Offset/length outside the device or not aligned as the operation requires.
    OutOfRange,
    /// The chip reported an erase/program failure, a locked block, or never became ready.
    Device,
}

/// Geometry read from the CFI query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub size: u32,
    pub erase_block: u32,
    /// Bytes one "write to buffer" command takes (0: the chip has no write buffer).
    pub write_buffer: u32,
}

/// A CFI flash in a memory window.
pub struct CfiFlash {
    mem: Mmio,
    width: usize,
    /// Chips side by side on the bus (a buffered write's count goes to each).
    interleave: u32,
    geometry: Geometry,
}

impl CfiFlash {
    /// Probe the flash at `mem` (its whole window, uncached) with bus width `width` bytes made
    /// of `interleave` chips side by side (the CFI query describes one chip). QEMU's
    /// `pflash_cfi01` without a device width (malta) describes the whole bank: interleave 1.
    pub fn probe(mem: Mmio, width: usize, interleave: u32) -> Result<Self, FlashError> {
        if !matches!(width, 1 | 2 | 4) || !matches!(interleave, 1 | 2 | 4) {
            return Err(FlashError::NotFound);
        }
        let mut f = CfiFlash {
            mem,
            width,
            interleave,
            geometry: Geometry {
                size: 0,
                erase_block: 0,
                write_buffer: 0,
            },
        };
        f.command(0x55, CMD_CFI_QUERY);
        let q = |f: &CfiFlash, i: usize| f.query_byte(i);
        let found = q(&f, 0x10) == b'Q' && q(&f, 0x11) == b'R' && q(&f, 0x12) == b'Y';
        let command_set = u16::from(q(&f, 0x13)) | u16::from(q(&f, 0x14)) << 8;
        let size_log2 = q(&f, 0x27);
        // First erase-block region: blocks - 1 (16 bits), block size / 256 (16 bits).
        let block_units = u32::from(q(&f, 0x2F)) | u32::from(q(&f, 0x30)) << 8;
        // Largest multi-byte program: 2^n bytes per chip (0: none).
        let buffer_log2 = u32::from(q(&f, 0x2A)) | u32::from(q(&f, 0x2B)) << 8;
        f.command(0, CMD_READ_ARRAY);
        if !found || command_set != 1 || size_log2 == 0 || size_log2 > 31 {
            return Err(FlashError::NotFound);
        }
        let write_buffer = match buffer_log2 {
            // Only a buffer of whole bus words, and not beyond what a count register holds.
            n @ 2..=11 if (1u32 << n) * interleave >= width as u32 => (1u32 << n) * interleave,
            _ => 0,
        };
        f.geometry = Geometry {
            size: (1u32 << size_log2) * interleave,
            erase_block: block_units * 256 * interleave,
            write_buffer,
        };
        if f.geometry.size as usize > f.mem.len() || f.geometry.erase_block == 0 {
            return Err(FlashError::NotFound);
        }
        Ok(f)
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Write command `cmd` at bus word `word_index`, replicated across the bus width.
    fn command(&self, word_index: usize, cmd: u8) {
        let offset = word_index * self.width;
        match self.width {
            1 => self.mem.write8(offset, cmd),
            2 => self.mem.write_be16(offset, u16::from_be_bytes([cmd; 2])),
            _ => self.mem.write_be32(offset, u32::from_be_bytes([cmd; 4])),
        }
    }

    /// Byte `i` of the CFI query table (from the least significant chip).
    fn query_byte(&self, i: usize) -> u8 {
        self.mem.read8(i * self.width + (self.width - 1))
    }

    fn status(&self, at: usize) -> u8 {
        self.command(at / self.width, CMD_READ_STATUS);
        self.mem.read8(at - at % self.width + self.width - 1)
    }

    fn wait_ready(&self, at: usize) -> Result<(), FlashError> {
        for _ in 0..POLL_LIMIT {
            let s = self.status(at);
            if s & STATUS_READY != 0 {
                let failed = s & (STATUS_ERASE_ERROR | STATUS_PROGRAM_ERROR | STATUS_LOCKED) != 0;
                self.command(at / self.width, CMD_CLEAR_STATUS);
                self.command(at / self.width, CMD_READ_ARRAY);
                return if failed {
                    Err(FlashError::Device)
                } else {
                    Ok(())
                };
            }
        }
        self.command(at / self.width, CMD_READ_ARRAY);
        Err(FlashError::Device)
    }

    fn check(&self, offset: u32, len: usize) -> Result<usize, FlashError> {
        let end = (offset as usize)
            .checked_add(len)
            .ok_or(FlashError::OutOfRange)?;
        if end > self.geometry.size as usize {
            return Err(FlashError::OutOfRange);
        }
        Ok(offset as usize)
    }

    /// Read `buf.len()` bytes at `offset`.
    pub fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        let start = self.check(offset, buf.len())?;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.mem.read8(start + i);
        }
        Ok(())
    }

    /// Erase the block starting at `offset` (block aligned).
    pub fn erase(&self, offset: u32) -> Result<(), FlashError> {
        let at = self.check(offset, self.geometry.erase_block as usize)?;
        if !offset.is_multiple_of(self.geometry.erase_block) {
            return Err(FlashError::OutOfRange);
        }
        let word = at / self.width;
        self.command(word, CMD_CLEAR_STATUS);
        self.command(word, CMD_UNLOCK_SETUP);
        self.command(word, CMD_CONFIRM);
        self.command(word, CMD_ERASE_SETUP);
        self.command(word, CMD_CONFIRM);
        self.wait_ready(at)
    }

    /// Program `data` at `offset` (any alignment: partial bus words are padded with 0xFF,
    /// which leaves those bytes as they are).
    pub fn program(&self, offset: u32, data: &[u8]) -> Result<(), FlashError> {
        let start = self.check(offset, data.len())?;
        let w = self.width;
        let first = start - start % w;
        let end = start + data.len();
        // The bus word at `at`, from `data` where it covers it, 0xFF elsewhere.
        let word_at = |at: usize| {
            let mut word = [0xFFu8; 4];
            for (k, byte) in word.iter_mut().enumerate().take(w) {
                let pos = at + k;
                if pos >= start && pos < end {
                    *byte = data[pos - start];
                }
            }
            word
        };
        let buffer = self.geometry.write_buffer as usize;
        let mut at = first;
        while at < end {
            if buffer == 0 {
                self.command(at / w, CMD_PROGRAM);
                self.write_word(at, word_at(at));
                self.wait_ready(at)?;
                at += w;
                continue;
            }
            // One buffered write: up to the end of the data or of the buffer-aligned block.
            let stop = end.min(at - at % buffer + buffer);
            let words = (stop - at).div_ceil(w);
            self.command(at / w, CMD_WRITE_BUFFER);
            self.wait_buffer(at)?;
            self.write_count(at, words - 1);
            for k in 0..words {
                self.write_word(at + k * w, word_at(at + k * w));
            }
            self.command(at / w, CMD_CONFIRM);
            self.wait_ready(at)?;
            at += words * w;
        }
        Ok(())
    }

    fn write_word(&self, at: usize, word: [u8; 4]) {
        match self.width {
            1 => self.mem.write8(at, word[0]),
            2 => self
                .mem
                .write_be16(at, u16::from_be_bytes([word[0], word[1]])),
            _ => self.mem.write_be32(at, u32::from_be_bytes(word)),
        }
    }

    /// The word count of a buffered write (count - 1, per chip): replicated across
    /// interleaved chips, the whole bus word for one chip as wide as the bus.
    fn write_count(&self, at: usize, count_minus_one: usize) {
        let n = count_minus_one as u32;
        match (self.width, self.interleave) {
            (1, _) => self.mem.write8(at, n as u8),
            (2, 1) => self.mem.write_be16(at, n as u16),
            (2, _) => self.mem.write_be16(at, u16::from_be_bytes([n as u8; 2])),
            (_, 1) => self.mem.write_be32(at, n),
            (_, 2) => self.mem.write_be32(at, (n << 16) | n),
            _ => self.mem.write_be32(at, u32::from_be_bytes([n as u8; 4])),
        }
    }

    /// After "write to buffer": the extended status (read at the block) says when the buffer
    /// takes data.
    fn wait_buffer(&self, at: usize) -> Result<(), FlashError> {
        for _ in 0..POLL_LIMIT {
            if self.mem.read8(at - at % self.width + self.width - 1) & STATUS_READY != 0 {
                return Ok(());
            }
        }
        self.command(at / self.width, CMD_READ_ARRAY);
        Err(FlashError::Device)
    }
}
