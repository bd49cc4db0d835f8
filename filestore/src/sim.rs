//! A block device in RAM for tests, the simulator and benchmarks, with a volatile write cache
//! and power cuts.
//!
//! Writes land in a cache that reads see at once; [`BlockDevice::flush`] makes them durable.
//! A power cut can be scheduled at any request ([`MemDevice::cut_power_at`]): that request
//! fails, and of the writes not yet flushed each is kept, lost or torn (its first half new,
//! the rest old) as the cut's [`Survival`] pattern says, in any order: exactly the freedom a
//! real disk with a write cache has. Every request after the cut fails until
//! [`MemDevice::power_on`], after which reads see what survived.

use alloc::vec;
use alloc::vec::Vec;

use crate::device::{Block, BlockDevice, DeviceError, BLOCK_SIZE};

/// What happens at a power cut to the writes issued since the last flush.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Survival {
    /// All of them are lost.
    NoneSurvive,
    /// All of them reached the medium.
    AllSurvive,
    /// Every other one survives (odd ones from the newest backwards), in the cache's order.
    Alternate,
    /// The newest one is torn (half written), the others survive.
    TornLast,
    /// Only the newest one survives (a cache that writes back newest first).
    NewestOnly,
    /// Pseudo-random per write, from this seed: kept, lost or torn.
    Random(u64),
}

/// A RAM disk with a write cache and scheduled power cuts.
#[derive(Clone, Debug)]
pub struct MemDevice {
    durable: Vec<u8>,
    /// Unflushed writes, oldest first (block, content).
    cache: Vec<(u64, Vec<u8>)>,
    blocks: u64,
    steps: u64,
    cut_at: Option<(u64, Survival)>,
    powered: bool,
    /// Requests served (reads, writes, flushes).
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
}

impl MemDevice {
    /// A device of `blocks` zeroed blocks.
    pub fn new(blocks: u64) -> MemDevice {
        MemDevice {
            durable: vec![0; blocks as usize * BLOCK_SIZE],
            cache: Vec::new(),
            blocks,
            steps: 0,
            cut_at: None,
            powered: true,
            reads: 0,
            writes: 0,
            flushes: 0,
        }
    }

    /// A device holding `image` (whole blocks; a partial last block is padded with zeros).
    pub fn from_image(image: &[u8]) -> MemDevice {
        let blocks = image.len().div_ceil(BLOCK_SIZE) as u64;
        let mut d = MemDevice::new(blocks);
        d.durable[..image.len()].copy_from_slice(image);
        d
    }

    /// What a read would see now (the durable image with the cache over it).
    pub fn image(&self) -> Vec<u8> {
        let mut img = self.durable.clone();
        for (b, data) in &self.cache {
            let at = *b as usize * BLOCK_SIZE;
            img[at..at + BLOCK_SIZE].copy_from_slice(data);
        }
        img
    }

    /// The medium's bytes (to damage them in tests); unflushed writes are not included.
    pub fn durable_mut(&mut self) -> &mut [u8] {
        &mut self.durable
    }

    /// Write requests and flushes issued so far: the steps a cut can be scheduled at.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Lose power during the write or flush `step` requests from now (0: the next one).
    pub fn cut_power_at(&mut self, step: u64, survival: Survival) {
        self.cut_at = Some((self.steps + step, survival));
    }

    /// Forget a scheduled cut that has not happened.
    pub fn cancel_cut(&mut self) {
        self.cut_at = None;
    }

    /// Whether power is on.
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Power back on: the cache is gone, reads see what reached the medium.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.cut_at = None;
        self.cache.clear();
    }

    fn cut(&mut self, survival: Survival) {
        let cache = core::mem::take(&mut self.cache);
        let n = cache.len();
        let mut rng = match survival {
            Survival::Random(seed) => seed | 1,
            _ => 1,
        };
        for (i, (b, data)) in cache.into_iter().enumerate() {
            // 0: lost, 1: kept, 2: torn.
            let fate = match survival {
                Survival::NoneSurvive => 0,
                Survival::AllSurvive => 1,
                Survival::Alternate => u8::from((n - i) % 2 == 1),
                Survival::NewestOnly => u8::from(i + 1 == n),
                Survival::TornLast => {
                    if i + 1 == n {
                        2
                    } else {
                        1
                    }
                }
                Survival::Random(_) => {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    (rng % 3) as u8
                }
            };
            let at = b as usize * BLOCK_SIZE;
            match fate {
                1 => self.durable[at..at + BLOCK_SIZE].copy_from_slice(&data),
                2 => self.durable[at..at + BLOCK_SIZE / 2].copy_from_slice(&data[..BLOCK_SIZE / 2]),
                _ => {}
            }
        }
        self.powered = false;
    }

    /// Count a write or flush; cut power if it is the scheduled one.
    fn step(&mut self) -> Result<(), DeviceError> {
        if !self.powered {
            return Err(DeviceError::PowerLost);
        }
        let now = self.steps;
        self.steps += 1;
        if let Some((at, survival)) = self.cut_at {
            if at == now {
                self.cut(survival);
                return Err(DeviceError::PowerLost);
            }
        }
        Ok(())
    }
}

impl BlockDevice for MemDevice {
    fn block_count(&self) -> u64 {
        self.blocks
    }

    fn read(&mut self, block: u64, buf: &mut Block) -> Result<(), DeviceError> {
        if !self.powered {
            return Err(DeviceError::PowerLost);
        }
        if block >= self.blocks {
            return Err(DeviceError::OutOfRange);
        }
        self.reads += 1;
        if let Some((_, data)) = self.cache.iter().rev().find(|(b, _)| *b == block) {
            buf.copy_from_slice(data);
            return Ok(());
        }
        let at = block as usize * BLOCK_SIZE;
        buf.copy_from_slice(&self.durable[at..at + BLOCK_SIZE]);
        Ok(())
    }

    fn write(&mut self, block: u64, data: &Block) -> Result<(), DeviceError> {
        if block >= self.blocks {
            return Err(DeviceError::OutOfRange);
        }
        self.step()?;
        self.writes += 1;
        self.cache.push((block, data.to_vec()));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeviceError> {
        self.step()?;
        self.flushes += 1;
        for (b, data) in core::mem::take(&mut self.cache) {
            let at = b as usize * BLOCK_SIZE;
            self.durable[at..at + BLOCK_SIZE].copy_from_slice(&data);
        }
        Ok(())
    }
}
