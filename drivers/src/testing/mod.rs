//! Host-test support shared by the drivers' tests: the DMA memory model, frames, a small
//! deterministic random source, and a delay that only counts.

extern crate std;

pub mod dma_model;

use std::cell::Cell;
use std::vec::Vec;

use crate::nic::Delay;

/// A delay that returns at once and counts the microseconds asked for.
#[derive(Default)]
pub struct CountingDelay {
    pub total_us: Cell<u64>,
}

impl Delay for CountingDelay {
    fn delay_us(&self, us: u32) {
        self.total_us.set(self.total_us.get() + u64::from(us));
    }
}

/// A frame of `len` bytes (at least a header): locally administered addresses, EtherType
/// 0x88B5 (local experimental), then bytes derived from `seed`.
pub fn frame(len: usize, seed: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x88, 0xB5]);
    f.extend((0..len.saturating_sub(14)).map(|i| seed.wrapping_add(i as u8).wrapping_mul(7)));
    f.truncate(len);
    f
}

/// xorshift64*: deterministic pseudo-random numbers for the fuzz-style tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}
