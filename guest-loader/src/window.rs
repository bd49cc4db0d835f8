//! The guest RAM window: the range of guest addresses that is backed by the guest's partition,
//! and how an ELF program header's addresses are mapped into it.
//!
//! Offsets into the window are guest-physical addresses (guest RAM starts at guest-physical 0),
//! and index the `&mut [u8]` that the caller hands over as the guest's RAM.

use crate::hex::Hex;
use core::fmt;

/// Page granularity of a guest window (4 KiB: the guests' `PAGE_SIZE`).
pub const WINDOW_GRANULE: u32 = 4096;

/// A guest RAM window: guest-virtual `base .. base + size` maps one to one onto guest-physical
/// `0 .. size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestWindow {
    base: u32,
    size: u32,
}

/// Which ELF program header address field places a segment in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressField {
    /// `p_vaddr` is used: the segment occupies window offsets `p_vaddr - base ..`. `p_paddr` is
    /// ignored. This is the MIPS MetaROUTER case (kernels linked at 0xC000_0000 + offset).
    Virtual,
    /// `p_paddr` is the guest-physical address (the window offset), and `p_vaddr` must equal
    /// `base + p_paddr` (a linear kernel mapping). This is the PowerPC RouterOS case: kernels
    /// linked at PAGE_OFFSET 0x8000_0000 with `p_paddr` = physical offset.
    Physical,
}

/// Why a window could not be described.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowError {
    /// The caller asked for a window of zero bytes or not a multiple of 4 KiB.
    BadSize {
        /// The requested size.
        size: u32,
    },
    /// The window would run past the end of the 32-bit address space.
    BeyondAddressSpace {
        /// The requested base.
        base: u32,
        /// The requested size.
        size: u32,
    },
    /// The window is larger than the guest kind allows.
    TooLarge {
        /// The requested size.
        size: u32,
        /// The largest size this kind of guest can address.
        max: u32,
    },
}

impl fmt::Display for WindowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadSize { size } => write!(
                f,
                "guest window size {} is not a non-zero multiple of 4 KiB",
                Hex(size.into())
            ),
            Self::BeyondAddressSpace { base, size } => write!(
                f,
                "guest window {}..{} runs past the 32-bit address space",
                Hex(base.into()),
                Hex(u64::from(base) + u64::from(size))
            ),
            Self::TooLarge { size, max } => write!(
                f,
                "guest window size {} exceeds the {} this guest kind can address",
                Hex(size.into()),
                Hex(max.into())
            ),
        }
    }
}

impl GuestWindow {
    /// Base of the MIPS MetaROUTER guest window (kseg2; guest-physical 0).
    pub const MIPS_BASE: u32 = 0xC000_0000;
    /// Largest MIPS guest window: 0xC000_0000..0xD000_0000 (0xD000_0000.. is the guest's vmalloc).
    pub const MIPS_MAX_SIZE: u32 = 0x1000_0000;
    /// PAGE_OFFSET of RouterOS PowerPC guest kernels.
    pub const POWERPC_BASE: u32 = 0x8000_0000;

    /// A window of `size` bytes at guest-virtual `base`.
    pub const fn new(base: u32, size: u32) -> Result<Self, WindowError> {
        if size == 0 || size & (WINDOW_GRANULE - 1) != 0 {
            return Err(WindowError::BadSize { size });
        }
        if base as u64 + size as u64 > 1 << 32 {
            return Err(WindowError::BeyondAddressSpace { base, size });
        }
        Ok(Self { base, size })
    }

    /// The window of a MIPS guest with `size` bytes of RAM.
    pub const fn mips(size: u32) -> Result<Self, WindowError> {
        if size > Self::MIPS_MAX_SIZE {
            return Err(WindowError::TooLarge {
                size,
                max: Self::MIPS_MAX_SIZE,
            });
        }
        Self::new(Self::MIPS_BASE, size)
    }

    /// The window of a PowerPC RouterOS guest with `size` bytes of RAM.
    pub const fn powerpc(size: u32) -> Result<Self, WindowError> {
        Self::new(Self::POWERPC_BASE, size)
    }

    /// First guest-virtual address of the window.
    pub const fn base(&self) -> u32 {
        self.base
    }

    /// Size in bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// One past the last guest-virtual address (may be 2^32).
    pub const fn end(&self) -> u64 {
        self.base as u64 + self.size as u64
    }

    /// The window offset of guest-virtual `addr` if `addr .. addr + len` lies inside the window.
    pub fn offset_of(&self, addr: u32, len: u64) -> Option<u32> {
        let end = u64::from(addr).checked_add(len)?;
        if addr >= self.base && end <= self.end() {
            Some(addr - self.base)
        } else {
            None
        }
    }

    /// The guest-virtual address of window offset `offset` (which must be `<= size`).
    pub const fn address_of(&self, offset: u32) -> u64 {
        self.base as u64 + offset as u64
    }
}

impl fmt::Display for GuestWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", Hex(self.base.into()), Hex(self.end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mips_window_limits() {
        let w = GuestWindow::mips(0x0800_0000).unwrap();
        assert_eq!(w.end(), 0xC800_0000);
        assert_eq!(
            GuestWindow::mips(0x1000_1000),
            Err(WindowError::TooLarge {
                size: 0x1000_1000,
                max: 0x1000_0000
            })
        );
        assert_eq!(
            GuestWindow::mips(100),
            Err(WindowError::BadSize { size: 100 })
        );
        assert_eq!(
            GuestWindow::new(0, 0),
            Err(WindowError::BadSize { size: 0 })
        );
    }

    #[test]
    fn window_may_end_exactly_at_four_gib_but_not_beyond() {
        assert!(GuestWindow::new(0xF000_0000, 0x1000_0000).is_ok());
        assert!(matches!(
            GuestWindow::new(0xF000_1000, 0x1000_0000),
            Err(WindowError::BeyondAddressSpace { .. })
        ));
    }

    #[test]
    fn offsets() {
        let w = GuestWindow::mips(0x10_0000).unwrap();
        assert_eq!(w.offset_of(0xC000_0000, 0x10_0000), Some(0));
        assert_eq!(w.offset_of(0xC00F_FFFF, 1), Some(0xF_FFFF));
        assert_eq!(w.offset_of(0xC00F_FFFF, 2), None);
        assert_eq!(w.offset_of(0xBFFF_FFFF, 1), None);
        assert_eq!(w.offset_of(0xFFFF_FFFF, u64::MAX), None);
    }
}
