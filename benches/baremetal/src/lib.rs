//! What the bare-metal benchmark programs share (`benches/frames/mips`, `benches/frames/e500`,
//! `benches/forward/mips`): a bump allocator over a static arena ([`Bump`]: the scenarios
//! allocate a few boxes and vectors once), a 64-bit clock over a 32-bit hardware counter
//! ([`Clock64`]), and each machine's console, exit and instruction counter: `malta` (MIPS:
//! COM1, SOFTRES, CP0 Count) and `ppce500` (e500: the DUART and RSTCR through the CCSR window
//! the program's entry maps, the time base). Each program keeps its start-up code (its stack
//! and, on e500, that mapping) and its panic handler.
#![no_std]
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]

#[cfg(target_arch = "mips")]
pub mod malta;
#[cfg(target_arch = "powerpc")]
pub mod ppce500;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, UnsafeCell};

/// Bytes the allocator hands out in all.
pub const ARENA: usize = 1 << 20;

/// A bump allocator: blocks in increasing order from a static arena, never reused.
pub struct Bump {
    next: Cell<usize>,
    arena: UnsafeCell<[u8; ARENA]>,
}

// SAFETY: the programs are single-threaded and take no interrupts.
unsafe impl Sync for Bump {}

impl Bump {
    /// An empty arena (for a `#[global_allocator]` static).
    pub const fn new() -> Self {
        Bump {
            next: Cell::new(0),
            arena: UnsafeCell::new([0; ARENA]),
        }
    }
}

impl Default for Bump {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: blocks are carved from the arena in increasing order, never overlap, and are never
// reused (dealloc does nothing); out of space is a null pointer.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.arena.get() as usize;
        let start = (base + self.next.get()).next_multiple_of(layout.align());
        let end = start + layout.size();
        if end > base + ARENA {
            return core::ptr::null_mut();
        }
        self.next.set(end - base);
        start as *mut u8
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

/// A 32-bit counter extended to 64 bits, as long as it is read at least once per wrap.
pub struct Clock64<F: FnMut() -> u32> {
    read: F,
    last: u32,
    high: u64,
}

impl<F: FnMut() -> u32> Clock64<F> {
    pub fn new(mut read: F) -> Self {
        let last = read();
        Clock64 {
            read,
            last,
            high: 0,
        }
    }

    /// The counter now.
    pub fn now(&mut self) -> u64 {
        let now = (self.read)();
        if now < self.last {
            self.high += 1 << 32;
        }
        self.last = now;
        self.high | u64::from(now)
    }
}
