//! vdma descriptors and DMA buffers in guest memory.
//!
//! [`Descriptor`] is the ABI's `{ u32 addr; u32 size; u32 next; }`, 16-byte aligned,
//! big-endian (native). Its words are atomics because the host changes them behind the
//! compiler's back; `size` is read with acquire and written with release ordering so buffer
//! contents and ownership travel together. [`DescriptorRing`] adapts a slice of descriptors to
//! the portable ring logic in [`mr_proto::descriptor`].

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

use mr_proto::descriptor::DescriptorTable;

/// One vdma descriptor.
#[repr(C, align(16))]
#[derive(Debug)]
pub struct Descriptor {
    /// Guest-virtual address of the buffer.
    pub addr: AtomicU32,
    /// Length or capacity, bit 31 = DONE.
    pub size: AtomicU32,
    /// Guest-virtual address of the next descriptor.
    pub next: AtomicU32,
}

const _: () = assert!(core::mem::size_of::<Descriptor>() == 16);

impl Descriptor {
    /// A zeroed descriptor (no buffer, not linked).
    pub const fn new() -> Self {
        Self {
            addr: AtomicU32::new(0),
            size: AtomicU32::new(0),
            next: AtomicU32::new(0),
        }
    }

    /// Guest-virtual address of this descriptor.
    pub fn address(&self) -> u32 {
        self as *const Self as u32
    }
}

impl Default for Descriptor {
    fn default() -> Self {
        Self::new()
    }
}

/// A slice of descriptors seen as a ring table.
pub struct DescriptorRing<'a>(pub &'a [Descriptor]);

impl DescriptorTable for DescriptorRing<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn address_of(&self, i: usize) -> u32 {
        self.0[i].address()
    }
    fn addr(&self, i: usize) -> u32 {
        self.0[i].addr.load(Ordering::Relaxed)
    }
    fn size(&self, i: usize) -> u32 {
        self.0[i].size.load(Ordering::Acquire)
    }
    fn next(&self, i: usize) -> u32 {
        self.0[i].next.load(Ordering::Relaxed)
    }
    fn set_addr(&self, i: usize, value: u32) {
        self.0[i].addr.store(value, Ordering::Relaxed)
    }
    fn set_size(&self, i: usize, value: u32) {
        self.0[i].size.store(value, Ordering::Release)
    }
    fn set_next(&self, i: usize, value: u32) {
        self.0[i].next.store(value, Ordering::Relaxed)
    }
}

/// A DMA buffer of `N` bytes the host reads or writes while it owns the descriptor.
#[repr(C, align(16))]
pub struct DmaBuffer<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: access to the bytes is only through raw pointers handed out by `as_ptr`, whose users
// follow the descriptor ownership protocol (and run with interrupts off where shared).
unsafe impl<const N: usize> Sync for DmaBuffer<N> {}

impl<const N: usize> DmaBuffer<N> {
    /// A zeroed buffer.
    pub const fn new() -> Self {
        Self(UnsafeCell::new([0; N]))
    }

    /// Pointer to the first byte.
    pub fn as_ptr(&self) -> *mut u8 {
        self.0.get().cast()
    }

    /// Guest-virtual address of the first byte.
    pub fn address(&self) -> u32 {
        self.as_ptr() as u32
    }

    /// Capacity in bytes.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The bytes, for reading.
    ///
    /// # Safety
    /// The guest must own the buffer (its descriptor's DONE says so) and nobody may write it
    /// while the slice lives.
    pub unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: as the caller guarantees.
        unsafe { &*self.0.get() }
    }

    /// The bytes, for writing.
    ///
    /// # Safety
    /// The guest must own the buffer and hold the only reference to it while the slice lives.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: as the caller guarantees.
        unsafe { &mut *self.0.get() }
    }
}

impl<const N: usize> Default for DmaBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}
