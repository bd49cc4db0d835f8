//! Memory shared with a DMA device, and what the platform does to share it.
//!
//! A [`DmaMemory`] is a block of RAM the CPU reaches at a virtual address and a device reaches at a
//! bus address. Creating one is the only unsafe step (the caller vouches that the block belongs
//! to one driver and its device); after that every access is at a checked offset, volatile for
//! the fields both sides write (descriptors), with its byte order named.
//!
//! [`DmaOps`] is what differs per CPU and board: virtual to bus address translation, cache
//! maintenance where DMA is not coherent, and draining a write buffer between device and RAM.
//! The drivers call it at fixed moments, the same in all three (the rule, also in
//! `drivers/README.md`):
//!
//! - **Descriptor rings live in memory the CPU sees coherently**: an uncached view on a CPU whose
//!   caches do not snoop DMA (kseg1 on the MIPS 24Kc), ordinary memory where DMA is coherent (the
//!   e500). No cache operation is ever applied to a descriptor: a 32-byte line holds two e1000
//!   descriptors or four eTSEC ones, and writing back a line the CPU re-armed would overwrite the
//!   neighbour the device just completed. Order between descriptor fields, and between a
//!   descriptor and a doorbell register, comes from fences (`core::sync::atomic::fence`, a `sync`
//!   on both CPUs).
//! - **Buffers are ordinary cached memory**, each starting on a cache line and a whole number of
//!   lines long, so no line is shared between two owners.
//! - **Transmit**: the CPU copies the frame into the buffer, then [`DmaOps::write_back`] over the
//!   frame, then writes the descriptor, then a fence, then the doorbell: the device never reads a
//!   byte that is still only in the CPU's cache.
//! - **Receive**: at setup, [`DmaOps::write_back`] then [`DmaOps::invalidate`] over every receive
//!   buffer, so no dirty line can later be evicted over what the device wrote; the CPU never
//!   writes a receive buffer after that. When a descriptor says a frame is complete:
//!   [`DmaOps::drain_device_writes`] (once per poll, before the descriptors are read), then
//!   [`DmaOps::invalidate`] over the frame, then the frame is read: the CPU never reads a line it
//!   cached before the device wrote it.

/// A block of memory shared between the CPU (at `base`) and a DMA device.
#[derive(Clone, Copy, Debug)]
pub struct DmaMemory {
    base: usize,
    len: usize,
}

impl DmaMemory {
    /// # Safety
    /// `base .. base + len` must be RAM mapped for the lifetime of the program, reserved for one
    /// driver and the device it programs: no Rust reference to it exists, and nothing else reads
    /// or writes it. For descriptor rings on a CPU whose caches do not snoop DMA, the mapping
    /// must be uncached.
    pub const unsafe fn new(base: usize, len: usize) -> Self {
        Self { base, len }
    }

    /// The CPU (virtual) address of the block.
    pub const fn base(&self) -> usize {
        self.base
    }

    /// The block's length in bytes.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the block is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `len` bytes at `offset`, as a block of their own. `None` if they do not fit.
    pub fn window(&self, offset: usize, len: usize) -> Option<DmaMemory> {
        let end = offset.checked_add(len)?;
        // The constructor's caller vouched for the whole block, so for any part of it.
        (end <= self.len).then_some(DmaMemory {
            base: self.base + offset,
            len,
        })
    }

    /// The CPU address of the `width`-byte field at `offset`, checked to lie inside the block
    /// and be aligned. Inlined into every accessor: the check is two compares on the frame path,
    /// the panic's formatting stays out of line.
    #[inline(always)]
    fn addr(&self, offset: usize, width: usize) -> usize {
        let inside = offset.checked_add(width).is_some_and(|end| end <= self.len);
        if !inside || offset & (width - 1) != 0 {
            self.bad_access(offset, width);
        }
        self.base + offset
    }

    #[cold]
    #[inline(never)]
    fn bad_access(&self, offset: usize, width: usize) -> ! {
        panic!(
            "DMA access at {:#x}+{offset:#x} (width {width}) outside its {:#x}-byte block or misaligned",
            self.base, self.len
        )
    }

    /// A byte (byte order does not apply).
    #[inline]
    pub fn read8(&self, offset: usize) -> u8 {
        let a = self.addr(offset, 1);
        // SAFETY: `a` lies inside the block the constructor's caller vouched for.
        unsafe { (a as *const u8).read_volatile() }
    }

    /// Write a byte.
    #[inline]
    pub fn write8(&self, offset: usize, value: u8) {
        let a = self.addr(offset, 1);
        // SAFETY: as in `read8`.
        unsafe { (a as *mut u8).write_volatile(value) }
    }

    /// A little-endian 16-bit field (PCI devices' descriptors).
    #[inline]
    pub fn read_le16(&self, offset: usize) -> u16 {
        let a = self.addr(offset, 2);
        // SAFETY: as in `read8`; `addr` checked 2-byte alignment.
        u16::from_le(unsafe { (a as *const u16).read_volatile() })
    }

    /// Write a little-endian 16-bit field.
    #[inline]
    pub fn write_le16(&self, offset: usize, value: u16) {
        let a = self.addr(offset, 2);
        // SAFETY: as in `read_le16`.
        unsafe { (a as *mut u16).write_volatile(value.to_le()) }
    }

    /// A little-endian 32-bit field.
    #[inline]
    pub fn read_le32(&self, offset: usize) -> u32 {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read8`; `addr` checked 4-byte alignment.
        u32::from_le(unsafe { (a as *const u32).read_volatile() })
    }

    /// Write a little-endian 32-bit field.
    #[inline]
    pub fn write_le32(&self, offset: usize, value: u32) {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read_le32`.
        unsafe { (a as *mut u32).write_volatile(value.to_le()) }
    }

    /// A big-endian 32-bit field (the SoCs' own devices' descriptors).
    #[inline]
    pub fn read_be32(&self, offset: usize) -> u32 {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read_le32`.
        u32::from_be(unsafe { (a as *const u32).read_volatile() })
    }

    /// Write a big-endian 32-bit field.
    #[inline]
    pub fn write_be32(&self, offset: usize, value: u32) {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read_le32`.
        unsafe { (a as *mut u32).write_volatile(value.to_be()) }
    }

    /// Copy `src` into the block at `offset` (a frame into a transmit buffer).
    #[inline]
    pub fn copy_from(&self, offset: usize, src: &[u8]) {
        let a = self.span(offset, src.len());
        // SAFETY: the span lies inside the block; `src` is a Rust slice, which cannot overlap
        // memory no Rust reference may point to (the constructor's contract).
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), a as *mut u8, src.len()) }
    }

    #[inline(always)]
    fn span(&self, offset: usize, len: usize) -> usize {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            self.bad_span(offset, len);
        }
        self.base + offset
    }

    #[cold]
    #[inline(never)]
    fn bad_span(&self, offset: usize, len: usize) -> ! {
        panic!(
            "DMA span {offset:#x}+{len:#x} outside its {:#x}-byte block",
            self.len
        )
    }

    /// The `len` bytes at `offset` as a slice (a received frame, handed to the caller).
    ///
    /// # Safety
    /// Nothing writes the range (the CPU through any `DmaMemory`, or a device) while the slice
    /// lives: the driver has not given the buffer back to the device.
    #[inline]
    pub unsafe fn bytes(&self, offset: usize, len: usize) -> &[u8] {
        let a = self.span(offset, len);
        // SAFETY: inside the block; the caller guarantees no concurrent write.
        unsafe { core::slice::from_raw_parts(a as *const u8, len) }
    }

    /// The `len` bytes at `offset` as a mutable slice (a transmit buffer being filled).
    ///
    /// # Safety
    /// Nothing else reads or writes the range while the slice lives: the buffer is not owned by
    /// the device and no other slice of it exists.
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub unsafe fn bytes_mut(&self, offset: usize, len: usize) -> &mut [u8] {
        let a = self.span(offset, len);
        // SAFETY: inside the block; the caller guarantees exclusive access.
        unsafe { core::slice::from_raw_parts_mut(a as *mut u8, len) }
    }
}

/// What the platform provides for DMA; see the [module docs](self) for when drivers call what.
pub trait DmaOps {
    /// The address the device uses for the CPU address `cpu`, or `None` if the device cannot
    /// reach it.
    fn bus_address(&self, cpu: usize) -> Option<u64>;
    /// Make the CPU's writes to `cpu .. cpu + len` visible to the device (write back the cache
    /// lines; they may stay cached). Called before the device reads the range.
    fn write_back(&self, cpu: usize, len: usize);
    /// Make the CPU's next reads of `cpu .. cpu + len` come from memory: drop the cache lines
    /// that cover the range. Those lines lie wholly inside one buffer (buffers are whole,
    /// aligned lines) that the CPU has not written since its last `write_back`, so dropping a
    /// dirty line loses nothing. Called before the CPU reads what the device wrote.
    fn invalidate(&self, cpu: usize, len: usize);
    /// The alignment and granule that keeps buffers from sharing a cache line (1 when DMA is
    /// coherent and buffers may share lines).
    fn cache_line(&self) -> usize;
    /// Make every write the device has issued reach memory, where a write buffer sits between
    /// the device and RAM (the AR71xx DDR controller's per-device write buffers). Called once
    /// per poll, before the descriptors are read. Nothing by default.
    fn drain_device_writes(&self) {}
}

impl<T: DmaOps + ?Sized> DmaOps for &T {
    fn bus_address(&self, cpu: usize) -> Option<u64> {
        (**self).bus_address(cpu)
    }
    fn write_back(&self, cpu: usize, len: usize) {
        (**self).write_back(cpu, len)
    }
    fn invalidate(&self, cpu: usize, len: usize) {
        (**self).invalidate(cpu, len)
    }
    fn cache_line(&self) -> usize {
        (**self).cache_line()
    }
    fn drain_device_writes(&self) {
        (**self).drain_device_writes()
    }
}

/// DMA on a platform whose caches snoop device accesses (the e500 with snooping enabled: see
/// `drivers/README.md`): no cache maintenance, and bus address = CPU address - `cpu_base` +
/// `bus_base` over a window of `len` bytes.
#[derive(Clone, Copy, Debug)]
pub struct CoherentDma {
    pub cpu_base: usize,
    pub bus_base: u64,
    pub len: usize,
}

impl DmaOps for CoherentDma {
    fn bus_address(&self, cpu: usize) -> Option<u64> {
        let offset = cpu.checked_sub(self.cpu_base)?;
        (offset < self.len).then(|| self.bus_base + offset as u64)
    }
    fn write_back(&self, _cpu: usize, _len: usize) {}
    fn invalidate(&self, _cpu: usize, _len: usize) {}
    fn cache_line(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::DmaMemory;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// Whether `f` panics (a refused access) rather than returning.
    fn refused(f: impl FnOnce()) -> bool {
        catch_unwind(AssertUnwindSafe(f)).is_err()
    }

    /// Accesses inside the block pass, one byte beyond or an offset near `usize::MAX` (whose
    /// end would overflow) is refused, for fields and for spans.
    #[test]
    fn accesses_are_checked_at_the_edges() {
        let mut backing = [0u32; 8];
        let len = core::mem::size_of_val(&backing);
        // SAFETY: `backing` outlives `mem` and nothing else touches it meanwhile.
        let mem = unsafe { DmaMemory::new(backing.as_mut_ptr() as usize, len) };
        mem.write_le32(len - 4, 0x0102_0304);
        assert_eq!(mem.read_le32(len - 4), 0x0102_0304);
        assert_eq!(mem.read8(len - 1), 0x01);
        assert!(refused(|| {
            mem.read_le32(len);
        }));
        assert!(refused(|| {
            mem.read8(len);
        }));
        assert!(refused(|| {
            mem.read_le32(usize::MAX - 3);
        }));
        assert!(refused(|| {
            mem.read_le32(2);
        }));
        // SAFETY: inside `backing` (empty, at its end), no other slice of it lives.
        let empty = unsafe { mem.bytes(len, 0) };
        assert_eq!(empty.len(), 0);
        // SAFETY: inside `backing`, no other slice of it lives.
        let tail = unsafe { mem.bytes(4, len - 4) };
        assert_eq!(tail.len(), len - 4);
        assert!(refused(|| {
            // SAFETY: refused before any slice is made.
            unsafe { mem.bytes(4, len - 3) };
        }));
        assert!(refused(|| {
            // SAFETY: as above.
            unsafe { mem.bytes(len + 1, 0) };
        }));
        assert!(refused(|| {
            // SAFETY: as above.
            unsafe { mem.bytes(8, usize::MAX) };
        }));
    }
}
