//! The FIB's only memory: one byte buffer, handed out as 8-byte aligned blocks in size classes
//! (exact up to 256 bytes, then eight classes per doubling) with one free list per class. The
//! buffer is allocated at construction, either whole or (a growing arena) in part: when no
//! block fits, a growing arena doubles its buffer up to its limit (blocks are offsets, so they
//! stay valid). When the limit is reached, or the heap has no room for a larger buffer, and no
//! free block fits, allocation fails and the FIB reports `TableFull`.

use alloc::vec::Vec;

/// Allocation granule in bytes; every block starts on a multiple of it.
pub(crate) const UNIT: usize = 8;
const EXACT_UNITS: usize = 32;
const CLASSES: usize = 256;
/// Largest arena: block offsets (with flag bits) must fit in 31 bits.
pub(crate) const MAX_BYTES: usize = 1 << 31;

/// Bytes reserved at the start: offset 0 means "no block".
const RESERVED: usize = UNIT;
/// Bytes never handed out at the end, so a lookup may read a little past the last block
/// (see `chunk::leaf`).
pub(crate) const READ_SLACK: usize = super::chunk::WINDOW.next_multiple_of(UNIT);
/// The smallest arena: the reserved areas and one unit.
const MIN_BYTES: usize = RESERVED + READ_SLACK + UNIT;

/// `len` zero bytes, or `None` when the heap has no room for them (never an allocation
/// failure that stops the machine).
pub(crate) fn zeroed<T: Copy + Default>(len: usize) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, T::default());
    Some(v)
}

pub(crate) struct Arena {
    pub(crate) bytes: Vec<u8>,
    /// The most `bytes` may grow to.
    limit: usize,
    /// Bump pointer: everything at or after it has never been handed out.
    top: usize,
    /// Head of each class's free list (byte offset; 0 = empty, offset 0 is never a block).
    free: [u32; CLASSES],
    /// Bytes in live blocks, counted at class size.
    live: usize,
}

/// Class index and class size (in units) for a request of `units` units.
pub(crate) fn class_of(units: usize) -> (usize, usize) {
    let units = units.max(1);
    if units <= EXACT_UNITS {
        return (units, units);
    }
    let p = (usize::BITS - 1 - (units - 1).leading_zeros()) as usize; // 2^p < units <= 2^(p+1)
    let step = 1usize << (p - 3);
    let size = units.div_ceil(step) * step;
    let k = (size - (1 << p)) / step; // 1..=8
    (EXACT_UNITS + (p - 5) * 8 + k, size)
}

/// Bytes a block of `len` bytes really occupies.
pub(crate) fn block_bytes(len: usize) -> usize {
    class_of(len.div_ceil(UNIT)).1 * UNIT
}

impl Arena {
    /// An arena of up to `limit` bytes plus the read slack (rounded down to whole units; at
    /// least room for the reserved areas and one unit), of which `initial` (plus the slack)
    /// are allocated now. `None` when the heap has no room for them.
    pub(crate) fn try_new(limit: usize, initial: usize) -> Option<Self> {
        let slack = |n: usize| n.saturating_add(READ_SLACK);
        let limit = (slack(limit).clamp(MIN_BYTES, MAX_BYTES - UNIT) / UNIT) * UNIT;
        let initial = (slack(initial).clamp(MIN_BYTES, limit) / UNIT) * UNIT;
        Some(Arena {
            bytes: zeroed(initial)?,
            limit,
            top: RESERVED,
            free: [0; CLASSES],
            live: 0,
        })
    }

    #[cfg(test)]
    pub(crate) fn new(capacity: usize) -> Self {
        Arena::try_new(capacity, capacity).expect("memory for a test arena")
    }

    /// Bytes allocated now (a growing arena can take up to [`Arena::limit`]).
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn live_bytes(&self) -> usize {
        self.live
    }

    pub(crate) fn clear(&mut self) {
        self.top = RESERVED;
        self.free = [0; CLASSES];
        self.live = 0;
    }

    /// A block of at least `len` bytes, or `None` when the arena is full.
    pub(crate) fn alloc(&mut self, len: usize) -> Option<usize> {
        let (class, units) = class_of(len.div_ceil(UNIT));
        let size = units * UNIT;
        let head = self.free[class] as usize;
        let off = if head != 0 {
            self.free[class] = rd_u32(&self.bytes, head);
            head
        } else if self.top + size + READ_SLACK <= self.bytes.len() {
            self.top += size;
            self.top - size
        } else if let Some(off) = self.split_larger(class, size) {
            off
        } else {
            self.grow(size)?;
            self.top += size;
            self.top - size
        };
        self.live += size;
        Some(off)
    }

    /// Makes room for `size` more bytes at the bump pointer: doubles the buffer (at least),
    /// up to the limit. `None` when the limit is reached or the heap has no room.
    fn grow(&mut self, size: usize) -> Option<()> {
        let need = self.top + size + READ_SLACK;
        if need > self.limit {
            return None;
        }
        let len = (self.bytes.len() * 2).clamp(need, self.limit) / UNIT * UNIT;
        let len = len.max(need.div_ceil(UNIT) * UNIT);
        self.bytes.try_reserve_exact(len - self.bytes.len()).ok()?;
        self.bytes.resize(len, 0);
        Some(())
    }

    /// Last resort when the bump area is exhausted: carve the block out of a larger free one.
    fn split_larger(&mut self, class: usize, size: usize) -> Option<usize> {
        let bigger = (class + 1..CLASSES).find(|&c| self.free[c] != 0)?;
        let off = self.free[bigger] as usize;
        self.free[bigger] = rd_u32(&self.bytes, off);
        let rest = class_size(bigger) - size / UNIT;
        if rest > 0 {
            // Keep the remainder under the largest class that fits in it.
            let mut c = class_of(rest).0;
            while class_size(c) > rest {
                c -= 1;
            }
            self.push_free(c, off + size);
        }
        Some(off)
    }

    pub(crate) fn free(&mut self, off: usize, len: usize) {
        let (class, units) = class_of(len.div_ceil(UNIT));
        self.live -= units * UNIT;
        self.push_free(class, off);
    }

    fn push_free(&mut self, class: usize, off: usize) {
        wr_u32(&mut self.bytes, off, self.free[class]);
        self.free[class] = off as u32;
    }
}

fn class_size(class: usize) -> usize {
    if class <= EXACT_UNITS {
        return class;
    }
    let p = (class - EXACT_UNITS - 1) / 8 + 5;
    let k = (class - EXACT_UNITS - 1) % 8 + 1;
    (1 << p) + k * (1 << (p - 3))
}

#[inline(always)]
pub(crate) fn rd_u16(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}
#[inline(always)]
pub(crate) fn rd_u32(b: &[u8], off: usize) -> u32 {
    let s: [u8; 4] = b[off..off + 4].try_into().unwrap_or([0; 4]);
    u32::from_ne_bytes(s)
}
#[inline]
pub(crate) fn wr_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_ne_bytes());
}
#[inline]
pub(crate) fn wr_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_monotonic_and_cover_the_request() {
        let mut last = (0, 0);
        for units in 1..100_000 {
            let (c, size) = class_of(units);
            assert!(
                size >= units && size <= units + units / 8 + 1,
                "{units} -> {size}"
            );
            assert_eq!(class_size(c), size);
            assert!(c >= last.0 && size >= last.1);
            last = (c, size);
        }
    }

    #[test]
    fn blocks_are_reused_and_exhaustion_is_reported() {
        let mut a = Arena::new(1024 + RESERVED);
        let x = a.alloc(100).unwrap();
        let y = a.alloc(100).unwrap();
        assert_ne!(x, y);
        a.free(x, 100);
        assert_eq!(a.alloc(97), Some(x));
        while a.alloc(64).is_some() {}
        assert!(a.alloc(8).is_none() || a.live_bytes() <= a.capacity());
        assert!(a.live_bytes() <= a.capacity());
    }

    #[test]
    fn a_large_free_block_is_split_when_the_bump_area_is_gone() {
        let mut a = Arena::new(8 * 100 + RESERVED);
        let big = a.alloc(8 * 90).unwrap();
        assert!(a.alloc(8 * 20).is_none());
        a.free(big, 8 * 90);
        let s = a.alloc(8 * 20).unwrap();
        assert_eq!(s, big);
        assert!(big >= RESERVED);
        assert!(a.alloc(8 * 60).is_some());
    }
}
