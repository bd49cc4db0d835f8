//! Memory-mapped register access.
//!
//! A [`Mmio`] is a window of device registers at a fixed virtual address. Creating one is the
//! only unsafe step (the caller vouches that the window is a device mapped uncached for the life
//! of the program); after that every access is a volatile load or store at a checked offset.
//!
//! Both CPUs here are big-endian. `read_be32`/`write_be32` are native accesses; the `_le`
//! variants byte-swap for little-endian devices such as PCI functions.
//!
//! Drivers that a host test runs against a model of its device take their registers as
//! [`Registers`], which [`Mmio`] implements on the machine and the model implements on the host;
//! every access names its width and byte order there too.

/// A block of device registers of `len` bytes at virtual address `base`.
#[derive(Clone, Copy, Debug)]
pub struct Mmio {
    base: usize,
    len: usize,
}

impl Mmio {
    /// # Safety
    /// `base .. base + len` must be device registers (or memory) mapped for the lifetime of the
    /// program, with no other Rust references to it, and accessing any naturally aligned offset
    /// inside it with a volatile load or store of the width used must have no effect beyond the
    /// device's documented register semantics.
    pub const unsafe fn new(base: usize, len: usize) -> Self {
        Self { base, len }
    }

    /// The virtual address of the window.
    pub const fn base(&self) -> usize {
        self.base
    }

    /// The `len` bytes at `offset` inside this window, as a window of their own (a device
    /// block inside a bus window such as the e500 CCSR). Panics if it does not fit.
    pub fn window(&self, offset: usize, len: usize) -> Mmio {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.len),
            "MMIO sub-window outside its parent window"
        );
        // The constructor's caller vouched for the whole parent window, so for any part of it.
        Mmio {
            base: self.base + offset,
            len,
        }
    }

    /// The window's length in bytes.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the window is empty.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn addr(&self, offset: usize, width: usize) -> usize {
        assert!(
            offset + width <= self.len && offset.is_multiple_of(width),
            "MMIO access at {:#x}+{offset:#x} (width {width}) outside its {:#x}-byte register block or misaligned",
            self.base,
            self.len
        );
        self.base + offset
    }

    pub fn read8(&self, offset: usize) -> u8 {
        let a = self.addr(offset, 1);
        // SAFETY: `a` lies inside the window the constructor's caller vouched for.
        unsafe { (a as *const u8).read_volatile() }
    }

    pub fn write8(&self, offset: usize, value: u8) {
        let a = self.addr(offset, 1);
        // SAFETY: as in `read8`.
        unsafe { (a as *mut u8).write_volatile(value) }
    }

    /// A 16-bit register in the CPU's (big-endian) byte order.
    pub fn write_be16(&self, offset: usize, value: u16) {
        let a = self.addr(offset, 2);
        // SAFETY: as in `read8`; `addr` checked 2-byte alignment.
        unsafe { (a as *mut u16).write_volatile(value.to_be()) }
    }

    /// A 16-bit little-endian register (PCI/ISA devices on these big-endian CPUs).
    pub fn read_le16(&self, offset: usize) -> u16 {
        let a = self.addr(offset, 2);
        // SAFETY: as in `read8`; `addr` checked 2-byte alignment.
        u16::from_le(unsafe { (a as *const u16).read_volatile() })
    }

    /// A 16-bit little-endian register (PCI/ISA devices on these big-endian CPUs).
    pub fn write_le16(&self, offset: usize, value: u16) {
        let a = self.addr(offset, 2);
        // SAFETY: as in `read8`; `addr` checked 2-byte alignment.
        unsafe { (a as *mut u16).write_volatile(value.to_le()) }
    }

    /// A 32-bit register in the CPU's (big-endian) byte order.
    pub fn read_be32(&self, offset: usize) -> u32 {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read8`; `addr` checked 4-byte alignment.
        u32::from_be(unsafe { (a as *const u32).read_volatile() })
    }

    pub fn write_be32(&self, offset: usize, value: u32) {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read_be32`.
        unsafe { (a as *mut u32).write_volatile(value.to_be()) }
    }

    /// A 32-bit little-endian register (PCI devices on these big-endian CPUs).
    pub fn read_le32(&self, offset: usize) -> u32 {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read_be32`.
        u32::from_le(unsafe { (a as *const u32).read_volatile() })
    }

    pub fn write_le32(&self, offset: usize, value: u32) {
        let a = self.addr(offset, 4);
        // SAFETY: as in `read_be32`.
        unsafe { (a as *mut u32).write_volatile(value.to_le()) }
    }
}

/// Register access as a driver sees it: a width and a byte order per access, at an offset in the
/// device's register block. [`Mmio`] implements it on the machine; the host tests implement it
/// with models of the devices (a register file over a byte array that reacts to accesses as the
/// device does), so a driver's register logic runs unchanged against both.
pub trait Registers {
    /// An 8-bit register.
    fn read8(&self, offset: usize) -> u8;
    /// Write an 8-bit register.
    fn write8(&self, offset: usize, value: u8);
    /// A 32-bit little-endian register (PCI devices).
    fn read_le32(&self, offset: usize) -> u32;
    /// Write a 32-bit little-endian register.
    fn write_le32(&self, offset: usize, value: u32);
    /// A 32-bit big-endian register (the SoCs' own devices).
    fn read_be32(&self, offset: usize) -> u32;
    /// Write a 32-bit big-endian register.
    fn write_be32(&self, offset: usize, value: u32);
}

impl Registers for Mmio {
    fn read8(&self, offset: usize) -> u8 {
        Mmio::read8(self, offset)
    }
    fn write8(&self, offset: usize, value: u8) {
        Mmio::write8(self, offset, value)
    }
    fn read_le32(&self, offset: usize) -> u32 {
        Mmio::read_le32(self, offset)
    }
    fn write_le32(&self, offset: usize, value: u32) {
        Mmio::write_le32(self, offset, value)
    }
    fn read_be32(&self, offset: usize) -> u32 {
        Mmio::read_be32(self, offset)
    }
    fn write_be32(&self, offset: usize, value: u32) {
        Mmio::write_be32(self, offset, value)
    }
}

impl<T: Registers + ?Sized> Registers for &T {
    fn read8(&self, offset: usize) -> u8 {
        (**self).read8(offset)
    }
    fn write8(&self, offset: usize, value: u8) {
        (**self).write8(offset, value)
    }
    fn read_le32(&self, offset: usize) -> u32 {
        (**self).read_le32(offset)
    }
    fn write_le32(&self, offset: usize, value: u32) {
        (**self).write_le32(offset, value)
    }
    fn read_be32(&self, offset: usize) -> u32 {
        (**self).read_be32(offset)
    }
    fn write_be32(&self, offset: usize, value: u32) {
        (**self).write_be32(offset, value)
    }
}
