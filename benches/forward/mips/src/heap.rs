//! The heap: everything between the stack's top and the table blob, handed out by size class
//! with a free list per class, so the RIB's many small records and its growing vectors are
//! reused once freed. Small blocks (up to 512 bytes) come in steps of 8 bytes, larger ones in
//! powers of two. It also counts the bytes the program asked for and still holds (`live`),
//! which is what a RIB's memory per route is computed from.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

/// Classes 0..SMALL are 8, 16, .. 512 bytes; classes SMALL.. are 1 KiB, 2 KiB, ...
const SMALL: usize = 64;
const CLASSES: usize = SMALL + 22;

pub struct Heap {
    next: Cell<usize>,
    end: Cell<usize>,
    free: [Cell<usize>; CLASSES],
    live: Cell<usize>,
    peak: Cell<usize>,
}

// SAFETY: the program is single-threaded and takes no interrupts.
unsafe impl Sync for Heap {}

#[global_allocator]
pub static HEAP: Heap = Heap {
    next: Cell::new(0),
    end: Cell::new(0),
    free: [const { Cell::new(0) }; CLASSES],
    live: Cell::new(0),
    peak: Cell::new(0),
};

/// The class of a block for `layout` and its size; `None` when too large.
fn class(layout: Layout) -> Option<(usize, usize)> {
    let size = layout.size().max(8);
    if layout.align() <= 8 && size <= SMALL * 8 {
        let c = size.div_ceil(8) - 1;
        return Some((c, (c + 1) * 8));
    }
    let block = size
        .max(layout.align())
        .max(1024)
        .checked_next_power_of_two()?;
    let c = SMALL + (block.trailing_zeros() - 10) as usize;
    (c < CLASSES).then_some((c, block))
}

impl Heap {
    /// Hands `start..end` to the heap (once, before the first allocation).
    pub fn init(&self, start: usize, end: usize) {
        self.next.set(start.next_multiple_of(8));
        self.end.set(end);
    }

    /// Bytes asked for and not freed yet.
    pub fn live(&self) -> usize {
        self.live.get()
    }

    /// The most bytes ever live at once.
    pub fn peak(&self) -> usize {
        self.peak.get()
    }

    /// Bytes never handed out yet (freed blocks not included).
    pub fn untouched(&self) -> usize {
        self.end.get() - self.next.get()
    }
}

// SAFETY: a block is carved from the untouched region once (aligned to its class size up to
// 4 KiB, which covers the layout's alignment: larger alignments are refused) or taken from its
// class's free list, where only blocks of that class are put back; blocks never overlap.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 4096 {
            return core::ptr::null_mut();
        }
        let Some((c, block)) = class(layout) else {
            return core::ptr::null_mut();
        };
        let head = self.free[c].get();
        let ptr = if head != 0 {
            // SAFETY: a free block holds the address of the next free block of its class.
            self.free[c].set(unsafe { *(head as *const usize) });
            head
        } else {
            let start = self.next.get().next_multiple_of(block.min(4096));
            if start + block > self.end.get() {
                return core::ptr::null_mut();
            }
            self.next.set(start + block);
            start
        };
        self.live.set(self.live.get() + layout.size());
        self.peak.set(self.peak.get().max(self.live.get()));
        ptr as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((c, _)) = class(layout) else { return };
        // SAFETY: `ptr` is a block of class `c` (at least 8 bytes, 8-aligned) that the caller
        // no longer uses; it now holds the free list's link.
        unsafe { *(ptr as *mut usize) = self.free[c].get() };
        self.free[c].set(ptr as usize);
        self.live.set(self.live.get() - layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        if class(layout).map(|c| c.0) == class(new).map(|c| c.0) {
            self.live.set(self.live.get() - layout.size() + new_size);
            self.peak.set(self.peak.get().max(self.live.get()));
            return ptr;
        }
        // SAFETY: as `alloc`; the old block is valid for `layout.size()` bytes and the new one
        // for `new_size`; the old block is freed once copied.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            p
        }
    }
}
