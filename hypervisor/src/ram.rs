//! The RAM the hypervisor hands out in partitions: guests get theirs from the bottom (aligned as
//! their architecture needs), the heap borrows the smallest gaps and the top when the management
//! plane needs more (`crate::heap`). One allocator,
//! behind a lock, so that both draw from the same granules and never overlap.
//!
//! The lock is held only inside [`with`], for a partition allocation or release, which never
//! allocates heap memory: the heap can take it while growing, from inside an allocation.

use spin::Mutex;
use vmm::partition::PartitionAllocator;

static RAM: Mutex<Option<PartitionAllocator>> = Mutex::new(None);

/// Installs the allocator over the machine's RAM (once, at boot).
pub fn install(partitions: PartitionAllocator) {
    *RAM.lock() = Some(partitions);
}

/// Runs `f` on the allocator; `None` before [`install`].
pub fn with<R>(f: impl FnOnce(&mut PartitionAllocator) -> R) -> Option<R> {
    RAM.lock().as_mut().map(f)
}
