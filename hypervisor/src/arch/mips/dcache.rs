//! Data cache maintenance for DMA: the 24Kc's caches do not snoop device accesses, so the
//! Ethernet drivers' `DmaOps` (a board's) write back what the CPU wrote before a device reads
//! it and drop what the CPU cached before a device wrote it (`drivers/README.md`, "DMA and
//! caches"). The addresses are kseg0 (cached) addresses.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::cp0;

/// The line size, read from Config1 once (0 until then).
static LINE: AtomicUsize = AtomicUsize::new(0);

/// Bytes per data cache line (Config1.DL: 2 << DL; 0 means no cache, given as 1).
#[inline]
pub fn line_size() -> usize {
    match LINE.load(Ordering::Relaxed) {
        0 => {
            let line = match (cp0::read_config1() >> 10) & 7 {
                0 => 1,
                dl => 2 << dl,
            };
            LINE.store(line, Ordering::Relaxed);
            line
        }
        line => line,
    }
}

/// Run `op` on the line-aligned address of every line covering `va .. va + len` (a plain loop:
/// four instructions a line, where an iterator adapter cost ten times that at `opt-level=z`).
#[inline(always)]
fn each_line(va: usize, len: usize, line: usize, mut op: impl FnMut(usize)) {
    let end = va.saturating_add(len);
    let mut a = va & !(line - 1);
    while a < end {
        op(a);
        a += line;
    }
}

/// Write the cache lines covering `va .. va + len` back to memory (they stay valid), then
/// `sync`: a device reading the range afterwards sees what the CPU wrote.
#[inline]
pub fn write_back(va: usize, len: usize) {
    let line = line_size();
    if line == 1 {
        return;
    }
    each_line(va, len, line, |a| {
        // SAFETY: Hit_Writeback_D (op 0x19) changes no data: it copies a dirty line to memory
        // when the address hits, and does nothing otherwise.
        unsafe { asm!("cache 0x19, 0({0})", in(reg) a, options(nostack)) };
    });
    // SAFETY: `sync` orders memory accesses; it has no other effect.
    unsafe { asm!("sync", options(nostack)) };
}

/// Drop the cache lines covering `va .. va + len` without writing them back: the CPU's next
/// reads come from memory (what a device wrote).
///
/// # Safety
/// Every line covering the range must hold nothing the CPU wrote and still needs (the lines lie
/// wholly inside one DMA buffer the CPU has not written since its last [`write_back`]).
#[inline]
pub unsafe fn invalidate(va: usize, len: usize) {
    let line = line_size();
    if line == 1 {
        return;
    }
    each_line(va, len, line, |a| {
        // SAFETY: Hit_Invalidate_D (op 0x11) drops the line if the address hits; the caller
        // vouches that nothing in it is needed.
        unsafe { asm!("cache 0x11, 0({0})", in(reg) a, options(nostack)) };
    });
    // SAFETY: `sync` orders memory accesses; it has no other effect.
    unsafe { asm!("sync", options(nostack)) };
}
