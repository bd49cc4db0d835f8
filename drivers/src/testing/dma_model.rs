//! A model of DMA memory on a CPU whose data cache does not snoop DMA (the MIPS 24Kc), for the
//! drivers' host tests.
//!
//! Descriptor memory is one array both sides see (an uncached mapping). Buffer memory is three
//! arrays: what the CPU sees (its cache), what RAM holds (what the device sees), and the
//! content of each line at its last synchronisation. A line whose CPU view differs from that is
//! dirty; the model evicts dirty lines over the range the device has just written (the worst
//! moment an eviction can happen), so a driver that leaves a receive buffer dirty sees its
//! frame overwritten. [`DmaOps::write_back`] copies lines CPU -> RAM; [`DmaOps::invalidate`]
//! copies RAM -> CPU (dropping the CPU's writes, as the 24Kc's Hit_Invalidate does). A driver
//! that forgets to write a transmit buffer back sends stale bytes; one that forgets to
//! invalidate before reading sees the previous frame.

extern crate std;

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::Cell;

use crate::dma::{DmaMemory, DmaOps};
use crate::nic::RingMemory;

/// Where the model's device sees the two areas.
pub const DESC_BUS: u64 = 0x1000_0000;
pub const BUF_BUS: u64 = 0x4000_0000;

/// A zeroed, 4 KiB-aligned heap block, accessed only through raw pointers.
struct Block {
    ptr: *mut u8,
    layout: Layout,
}

impl Block {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1), 4096).unwrap();
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        Block { ptr, layout }
    }
    fn len(&self) -> usize {
        self.layout.size()
    }
    fn addr(&self) -> usize {
        self.ptr as usize
    }
    fn get(&self, i: usize) -> u8 {
        assert!(i < self.len());
        // SAFETY: in bounds of the live allocation; single-threaded test.
        unsafe { self.ptr.add(i).read_volatile() }
    }
    fn set(&self, i: usize, v: u8) {
        assert!(i < self.len());
        // SAFETY: as in `get`.
        unsafe { self.ptr.add(i).write_volatile(v) }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// The memory of one port (descriptors and buffers) and the CPU cache over its buffers.
pub struct DmaModel {
    line: usize,
    desc: Block,
    cpu: Block,
    ram: Block,
    synced: Block,
    pub write_backs: Cell<usize>,
    pub invalidates: Cell<usize>,
    pub drains: Cell<usize>,
}

impl DmaModel {
    /// `desc_len` bytes of descriptor memory and `buf_len` of buffers, 32-byte cache lines.
    pub fn new(desc_len: usize, buf_len: usize) -> Self {
        DmaModel {
            line: 32,
            desc: Block::new(desc_len),
            cpu: Block::new(buf_len),
            ram: Block::new(buf_len),
            synced: Block::new(buf_len),
            write_backs: Cell::new(0),
            invalidates: Cell::new(0),
            drains: Cell::new(0),
        }
    }

    /// The ring memory a driver gets.
    pub fn ring_memory(&self) -> RingMemory {
        // SAFETY: both blocks live as long as the model, which every test keeps alive longer
        // than the driver; only the driver (through these) and the model touch them.
        unsafe {
            RingMemory {
                descriptors: DmaMemory::new(self.desc.addr(), self.desc.len()),
                buffers: DmaMemory::new(self.cpu.addr(), self.cpu.len()),
            }
        }
    }

    /// Scribble on every buffer through the CPU's cache (the lines become dirty), as zeroing
    /// or earlier use of the memory would.
    pub fn dirty_buffers(&self, byte: u8) {
        (0..self.cpu.len()).for_each(|i| self.cpu.set(i, byte));
    }

    /// Whether `slice` lies inside the buffers the CPU sees.
    pub fn contains(&self, slice: &[u8]) -> bool {
        let start = slice.as_ptr() as usize;
        start >= self.cpu.addr() && start + slice.len() <= self.cpu.addr() + self.cpu.len()
    }

    fn lines(&self, start: usize, len: usize) -> core::ops::Range<usize> {
        let first = start / self.line;
        let end = (start + len).div_ceil(self.line);
        first..end
    }

    fn buffer_offset(&self, cpu: usize, len: usize, what: &str) -> usize {
        let base = self.cpu.addr();
        assert!(
            cpu >= base && cpu + len <= base + self.cpu.len(),
            "{what} of {cpu:#x}+{len:#x}: not buffer memory (descriptors are never cached)"
        );
        cpu - base
    }

    fn copy_line(&self, line: usize, from: &Block, to: &[&Block]) {
        for i in line * self.line..((line + 1) * self.line).min(from.len()) {
            let v = from.get(i);
            to.iter().for_each(|b| b.set(i, v));
        }
    }

    fn is_dirty(&self, line: usize) -> bool {
        (line * self.line..((line + 1) * self.line).min(self.cpu.len()))
            .any(|i| self.cpu.get(i) != self.synced.get(i))
    }

    /// The device reads `out.len()` bytes at bus address `bus`. Panics on an address outside
    /// the port's memory (the driver programmed a wrong address).
    pub fn device_read(&self, bus: u64, out: &mut [u8]) {
        let (block, offset) = self.resolve(bus, out.len());
        out.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = block.get(offset + i));
    }

    /// The device writes `data` at bus address `bus`; then any dirty CPU line over the written
    /// buffer range is evicted (written back over it).
    pub fn device_write(&self, bus: u64, data: &[u8]) {
        let (block, offset) = self.resolve(bus, data.len());
        data.iter()
            .enumerate()
            .for_each(|(i, &b)| block.set(offset + i, b));
        if core::ptr::eq(block, &self.ram) {
            for line in self.lines(offset, data.len()) {
                if self.is_dirty(line) {
                    self.copy_line(line, &self.cpu, &[&self.ram, &self.synced]);
                }
            }
        }
    }

    pub fn device_read_le32(&self, bus: u64) -> u32 {
        let mut b = [0; 4];
        self.device_read(bus, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn device_write_le32(&self, bus: u64, v: u32) {
        self.device_write(bus, &v.to_le_bytes());
    }

    pub fn device_read_be32(&self, bus: u64) -> u32 {
        let mut b = [0; 4];
        self.device_read(bus, &mut b);
        u32::from_be_bytes(b)
    }

    pub fn device_write_be32(&self, bus: u64, v: u32) {
        self.device_write(bus, &v.to_be_bytes());
    }

    fn resolve(&self, bus: u64, len: usize) -> (&Block, usize) {
        let inside = |base: u64, block: &Block| {
            bus.checked_sub(base)
                .map(|o| o as usize)
                .filter(|&o| o + len <= block.len())
        };
        if let Some(o) = inside(DESC_BUS, &self.desc) {
            (&self.desc, o)
        } else if let Some(o) = inside(BUF_BUS, &self.ram) {
            (&self.ram, o)
        } else {
            panic!("device DMA at bus {bus:#x}+{len:#x}: outside the port's memory")
        }
    }
}

impl DmaOps for DmaModel {
    fn bus_address(&self, cpu: usize) -> Option<u64> {
        let d = self.desc.addr();
        let c = self.cpu.addr();
        if (d..d + self.desc.len()).contains(&cpu) {
            Some(DESC_BUS + (cpu - d) as u64)
        } else if (c..c + self.cpu.len()).contains(&cpu) {
            Some(BUF_BUS + (cpu - c) as u64)
        } else {
            None
        }
    }

    fn write_back(&self, cpu: usize, len: usize) {
        let offset = self.buffer_offset(cpu, len, "write-back");
        self.write_backs.set(self.write_backs.get() + 1);
        for line in self.lines(offset, len) {
            self.copy_line(line, &self.cpu, &[&self.ram, &self.synced]);
        }
    }

    fn invalidate(&self, cpu: usize, len: usize) {
        let offset = self.buffer_offset(cpu, len, "invalidate");
        self.invalidates.set(self.invalidates.get() + 1);
        for line in self.lines(offset, len) {
            self.copy_line(line, &self.ram, &[&self.cpu, &self.synced]);
        }
    }

    fn cache_line(&self) -> usize {
        self.line
    }

    fn drain_device_writes(&self) {
        self.drains.set(self.drains.get() + 1);
    }
}
