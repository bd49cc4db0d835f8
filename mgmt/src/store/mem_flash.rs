//! A NOR flash in RAM, for the simulator and tests: erase sets a block to 0xFF, program can only
//! clear bits, and a power cut can be scheduled at any erase or program step (that step is left
//! half done, every later one fails).
//!
//! [`MemFlash::with_word`] models a flash programmed in whole words by a driver that pads a
//! partial word with 0xFF, on a device that overwrites rather than ANDs a word programmed twice
//! (QEMU's CFI flash does): a store that lets two writes share a word loses data on it.

use alloc::vec;
use alloc::vec::Vec;

use crate::platform::{Flash, FlashError};

/// Flash contents in memory with optional power-cut injection.
#[derive(Clone, Debug)]
pub struct MemFlash {
    data: Vec<u8>,
    block: u32,
    /// Erase/program steps done so far.
    steps: u64,
    /// The step at which power is lost, if scheduled.
    cut_at: Option<u64>,
    powered: bool,
    /// Program granularity in bytes (1: NOR semantics per byte).
    word: usize,
    /// Where an earlier layout kept first-format copies ([`Flash::earlier_copies`]).
    earlier: &'static [(u32, u32)],
}

impl MemFlash {
    /// An erased flash of `blocks` blocks of `block` bytes.
    pub fn new(block: u32, blocks: u32) -> MemFlash {
        MemFlash {
            data: vec![0xFF; (block * blocks) as usize],
            block,
            steps: 0,
            cut_at: None,
            powered: true,
            word: 1,
            earlier: &[],
        }
    }

    /// The same flash programmed in words of `word` bytes that overwrite (see the module docs).
    pub fn with_word(mut self, word: usize) -> MemFlash {
        self.word = word.max(1);
        self
    }

    /// The same flash, with first-format copies of an earlier layout at `earlier`.
    pub fn with_earlier_copies(mut self, earlier: &'static [(u32, u32)]) -> MemFlash {
        self.earlier = earlier;
        self
    }

    /// Flash with the given contents (size must be a multiple of `block`).
    pub fn from_bytes(block: u32, data: Vec<u8>) -> MemFlash {
        MemFlash {
            data,
            block,
            steps: 0,
            cut_at: None,
            powered: true,
            word: 1,
            earlier: &[],
        }
    }

    /// The raw contents.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Mutable raw contents (to simulate corruption).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Loses power during erase/program step `step` (0-based, counted from now on).
    pub fn cut_power_at(&mut self, step: u64) {
        self.cut_at = Some(self.steps + step);
    }

    /// Erase/program steps done so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Power back on (after a cut): later steps work again.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.cut_at = None;
    }

    fn check(&self, offset: u32, len: usize) -> Result<(), FlashError> {
        if !self.powered {
            return Err(FlashError::PowerLost);
        }
        let end = offset as usize + len;
        if end > self.data.len() {
            return Err(FlashError::OutOfRange);
        }
        Ok(())
    }

    /// Counts a step; returns true if power is lost during it.
    fn step(&mut self) -> bool {
        let cut = self.cut_at == Some(self.steps);
        self.steps += 1;
        if cut {
            self.powered = false;
        }
        cut
    }
}

impl Flash for MemFlash {
    fn size(&self) -> u32 {
        self.data.len() as u32
    }

    fn erase_block_size(&self) -> u32 {
        self.block
    }

    fn earlier_copies(&self) -> &'static [(u32, u32)] {
        self.earlier
    }

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        self.check(offset, buf.len())?;
        buf.copy_from_slice(&self.data[offset as usize..offset as usize + buf.len()]);
        Ok(())
    }

    fn erase(&mut self, offset: u32) -> Result<(), FlashError> {
        self.check(offset, self.block as usize)?;
        if offset.checked_rem(self.block) != Some(0) {
            return Err(FlashError::OutOfRange);
        }
        let start = offset as usize;
        let block = self.block as usize;
        if self.step() {
            // Half erased: a prefix is 0xFF, the rest keeps old data with some bits set.
            for (i, byte) in self.data[start..start + block].iter_mut().enumerate() {
                if i < block / 2 {
                    *byte = 0xFF;
                } else if i % 3 == 0 {
                    *byte |= 0x5A;
                }
            }
            return Err(FlashError::PowerLost);
        }
        self.data[start..start + block].fill(0xFF);
        Ok(())
    }

    fn program(&mut self, offset: u32, data: &[u8]) -> Result<(), FlashError> {
        self.check(offset, data.len())?;
        let start = offset as usize;
        if self.step() {
            // Half programmed: the first half lands, one more byte gets some of its bits.
            let half = data.len() / 2;
            for (i, byte) in data[..half].iter().enumerate() {
                self.data[start + i] &= byte;
            }
            if let Some(byte) = data.get(half) {
                self.data[start + half] &= byte | 0x0F;
            }
            return Err(FlashError::PowerLost);
        }
        if self.word > 1 {
            // Whole words, padding bytes 0xFF, overwriting what the word held.
            let first = start - start % self.word;
            let end = (start + data.len()).div_ceil(self.word) * self.word;
            for at in first..end.min(self.data.len()) {
                self.data[at] = if at >= start && at < start + data.len() {
                    data[at - start]
                } else {
                    0xFF
                };
            }
            return Ok(());
        }
        for (i, byte) in data.iter().enumerate() {
            self.data[start + i] &= byte;
        }
        Ok(())
    }
}
