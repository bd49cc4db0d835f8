//! The kernel heap, for the management plane (configuration, CLI). Never used on the packet
//! or trap paths. Its region is reserved by the linker script (`.heap`, sized by the board).

use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

extern "C" {
    static mut __heap_start: u8;
    static __heap_end: u8;
}

/// Hand the linker-reserved region to the allocator. Called once, at boot.
pub(crate) fn init() {
    let start = core::ptr::addr_of_mut!(__heap_start);
    let end = core::ptr::addr_of!(__heap_end) as usize;
    let size = end - start as usize;
    // SAFETY: the linker script reserves `__heap_start..__heap_end` for the heap alone
    // (NOLOAD, not overlapping any other section); `init` runs once, before any allocation.
    unsafe { HEAP.lock().init(start, size) };
}

/// Bytes in the heap region.
pub fn size() -> usize {
    HEAP.lock().size()
}

/// Bytes currently free in the heap.
pub fn free() -> usize {
    HEAP.lock().free()
}
