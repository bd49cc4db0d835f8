//! The kernel heap, for the management plane (configuration, CLI, the configuration's RIB).
//! Never used on the packet or trap paths.
//!
//! It starts as the region the linker reserves (`.heap`, sized by the board for boot and an idle
//! shell). When an allocation does not fit, the heap borrows whole granules of guest RAM
//! (`crate::ram`: the smallest free run that holds them, at its top, so gaps guests could not use
//! go first and the rest comes from the top of RAM, away from the contiguous partitions guests
//! need), in steps that grow with the heap, so a configuration of ten thousand routes fits on a
//! board whose fixed heap is small, and what it takes shows as RAM guests no longer have. A
//! borrowed region that is entirely free again goes back to guest RAM ([`release_unused`], from
//! the main loop). [`peak`] reports the most ever in use (what the fixed region is sized from).
//!
//! Each region is a `linked_list_allocator::Heap`; a block is freed into the region whose
//! address range holds it.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::{AtomicUsize, Ordering};

use linked_list_allocator::Heap;
use spin::Mutex;
use vmm::partition::{PhysRange, GRANULE};

use crate::arch;

/// Regions at most: the linker's and the borrowed ones.
const MAX_REGIONS: usize = 16;

struct Region {
    heap: Heap,
    /// The guest RAM partition behind a borrowed region (`None`: the linker's region).
    borrowed: Option<PhysRange>,
}

impl Region {
    fn holds(&self, ptr: *mut u8) -> bool {
        (self.heap.bottom()..self.heap.top()).contains(&ptr)
    }
}

struct Regions {
    regions: [Option<Region>; MAX_REGIONS],
}

// SAFETY: the regions hold pointers into memory that only this allocator hands out; every
// access goes through the `HEAP` mutex.
unsafe impl Send for Regions {}

static HEAP: Mutex<Regions> = Mutex::new(Regions {
    regions: [const { None }; MAX_REGIONS],
});

impl Regions {
    fn allocate(&mut self, layout: Layout) -> Option<*mut u8> {
        self.regions
            .iter_mut()
            .flatten()
            .find_map(|r| r.heap.allocate_first_fit(layout).ok())
            .map(NonNull::as_ptr)
    }

    fn size(&self) -> usize {
        self.regions.iter().flatten().map(|r| r.heap.size()).sum()
    }

    /// Borrows a region of guest RAM big enough for `layout`: at least a granule, at least a
    /// quarter of the heap so far (few regions for a large configuration).
    fn grow(&mut self, layout: Layout) -> bool {
        let Some(slot) = self.regions.iter().position(Option::is_none) else {
            return false;
        };
        let need = (layout.size() + layout.align() + 64) as u64;
        let step = need.max(self.size() as u64 / 4).max(GRANULE);
        let size = step.div_ceil(GRANULE) * GRANULE;
        let Ok(len) = usize::try_from(size) else {
            return false;
        };
        let Some(Ok(part)) = crate::ram::with(|p| p.allocate_high(size)) else {
            return false;
        };
        // SAFETY: the RAM allocator just handed this partition to the heap alone; nothing
        // else reads or writes it until `release_unused` gives it back, after its last block
        // was freed.
        let bytes = unsafe { arch::guest_ram(part.base, len) };
        let mut heap = Heap::empty();
        // SAFETY: `bytes` is memory this heap owns from now on (see above), valid for the
        // program's lifetime while borrowed.
        unsafe { heap.init(bytes.as_mut_ptr(), bytes.len()) };
        self.regions[slot] = Some(Region {
            heap,
            borrowed: Some(part),
        });
        true
    }
}

/// The most heap bytes ever in use at once since boot, all regions together (what the fixed
/// region in each board's `memory.ld` is sized from; read by `peak`, and by the memory test
/// through the QEMU monitor).
#[no_mangle]
static __hv_heap_peak: AtomicUsize = AtomicUsize::new(0);
/// The most bytes ever borrowed from guest RAM at once.
#[no_mangle]
static __hv_heap_borrowed_peak: AtomicUsize = AtomicUsize::new(0);

impl Regions {
    fn used(&self) -> usize {
        self.regions.iter().flatten().map(|r| r.heap.used()).sum()
    }

    fn borrowed(&self) -> usize {
        self.regions
            .iter()
            .flatten()
            // Each fits: `grow` borrowed it as a `usize` length.
            .filter_map(|r| {
                r.borrowed
                    .map(|p| usize::try_from(p.size).unwrap_or(usize::MAX))
            })
            .sum()
    }
}

struct Allocator;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

// SAFETY: every block comes from one region's `Heap` and goes back to the region whose range
// holds it; regions never overlap (the linker's region and partitions of guest RAM the RAM
// allocator hands out once) and the mutex serialises all access.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut heap = HEAP.lock();
        let mut ptr = heap.allocate(layout);
        if ptr.is_none() && heap.grow(layout) {
            __hv_heap_borrowed_peak.fetch_max(heap.borrowed(), Ordering::Relaxed);
            ptr = heap.allocate(layout);
        }
        if ptr.is_some() {
            __hv_heap_peak.fetch_max(heap.used(), Ordering::Relaxed);
        }
        // Null tells the caller the allocation failed.
        ptr.unwrap_or_else(null_mut)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut heap = HEAP.lock();
        if let (Some(region), Some(block)) = (
            heap.regions.iter_mut().flatten().find(|r| r.holds(ptr)),
            NonNull::new(ptr),
        ) {
            // SAFETY: `block` was allocated from this region with `layout` (the caller's
            // contract for `dealloc`; regions are told apart by address).
            unsafe { region.heap.deallocate(block, layout) };
        }
    }
}

extern "C" {
    static mut __heap_start: u8;
    static __heap_end: u8;
}

/// Hand the linker-reserved region to the allocator. Called once, at boot.
pub(crate) fn init() {
    let start = core::ptr::addr_of_mut!(__heap_start);
    let end = core::ptr::addr_of!(__heap_end) as usize;
    let size = end - start as usize;
    let mut heap = Heap::empty();
    // SAFETY: the linker script reserves `__heap_start..__heap_end` for the heap alone
    // (NOLOAD, not overlapping any other section); `init` runs once, before any allocation.
    unsafe { heap.init(start, size) };
    HEAP.lock().regions[0] = Some(Region {
        heap,
        borrowed: None,
    });
}

/// Gives borrowed regions that hold no block back to guest RAM, keeping one spare when the
/// rest of the heap has little room (so that a workload at the edge does not borrow and give
/// back on every command).
pub fn release_unused() {
    let mut heap = HEAP.lock();
    let free: usize = heap.regions.iter().flatten().map(|r| r.heap.free()).sum();
    for slot in heap.regions.iter_mut() {
        let Some(region) = slot else { continue };
        let (Some(part), true) = (region.borrowed, region.heap.used() == 0) else {
            continue;
        };
        let others_free = free - region.heap.size();
        if others_free < region.heap.size() {
            continue;
        }
        *slot = None;
        crate::ram::with(|p| p.free(part));
        break;
    }
}

/// Bytes in the heap (the linker's region and the borrowed ones).
pub fn size() -> usize {
    HEAP.lock().size()
}

/// Bytes of guest RAM the heap borrows now.
pub fn borrowed() -> usize {
    HEAP.lock().borrowed()
}

/// The most heap bytes in use at once since boot, and the most bytes borrowed from guest RAM
/// at once.
pub fn peak() -> (usize, usize) {
    (
        __hv_heap_peak.load(Ordering::Relaxed),
        __hv_heap_borrowed_peak.load(Ordering::Relaxed),
    )
}

/// Bytes currently free in the heap.
pub fn free() -> usize {
    HEAP.lock()
        .regions
        .iter()
        .flatten()
        .map(|r| r.heap.free())
        .sum()
}
