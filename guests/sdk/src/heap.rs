//! The global allocator (feature `alloc`): a first-fit linked-list heap over the RAM between
//! the end of the image (stack included) and the end of guest RAM (`mem=`; without it,
//! [`crate::boot::DEFAULT_HEAP_BYTES`]). Allocation runs with interrupts off, so interrupt
//! handlers must not allocate (the runtime's never do).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use linked_list_allocator::Heap;

use crate::boot::{self, Boot};
use crate::cell::IrqCell;

struct GuestHeap(IrqCell<Heap>);

// SAFETY: every access goes through the IrqCell (interrupts off, no re-entry).
unsafe impl GlobalAlloc for GuestHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.with(|h| {
            h.allocate_first_fit(layout)
                .map_or(core::ptr::null_mut(), NonNull::as_ptr)
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with this layout (GlobalAlloc contract).
            self.0.with(|h| unsafe { h.deallocate(p, layout) });
        }
    }
}

#[global_allocator]
static HEAP: GuestHeap = GuestHeap(IrqCell::new(Heap::empty()));

/// Give the heap its memory.
pub(crate) fn init(boot: &Boot) {
    let start = boot::image_end();
    let end = boot.ram_end().unwrap_or(start + boot::DEFAULT_HEAP_BYTES);
    if end > start {
        // SAFETY: [start, end) is guest RAM past the image that nothing else uses (argv has been
        // copied out), and `init` runs once.
        HEAP.0
            .with(|h| unsafe { h.init(start as *mut u8, (end - start) as usize) });
    }
}

/// Bytes free and bytes in use.
pub fn usage() -> (usize, usize) {
    HEAP.0.with(|h| (h.free(), h.used()))
}
