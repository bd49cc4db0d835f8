//! Window arithmetic: guest-virtual to guest-physical to host-physical, with range checks.
//!
//! A guest's RAM is `size` bytes that the guest sees at guest-virtual `base .. base + size` and
//! that are guest-physical `0 .. size`. [`GuestWindow::range`] is the single check every device
//! access goes through: overflow first (the range must not wrap around 4 GiB), then containment.

use core::fmt;

use crate::{Gpa, Gva, Hex, Hpa, LayoutError, MemError, PhysRange};

/// Where a guest sees its RAM: `size` bytes starting at guest-virtual `base`, which are
/// guest-physical `0 .. size`. [`crate::GuestArch::window`] gives a guest's window with its
/// architecture's rules (base, page granule, largest size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestWindow {
    base: Gva,
    size: u32,
}

impl GuestWindow {
    /// A window of `size` bytes at `base`; it must end at or below 4 GiB.
    pub const fn new(base: Gva, size: u32) -> Result<Self, LayoutError> {
        if base.get() as u64 + size as u64 > 1 << 32 {
            return Err(LayoutError::WindowPastAddressSpace {
                base,
                size: size as u64,
            });
        }
        Ok(Self { base, size })
    }

    /// First guest-virtual address of the window.
    pub const fn base(&self) -> Gva {
        self.base
    }

    /// Size of the guest's RAM in bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// One past the last guest-virtual address (may be 2^32).
    pub const fn end(&self) -> u64 {
        self.base.get() as u64 + self.size as u64
    }

    /// The window offset (guest-physical address) of guest-virtual `addr` if
    /// `addr .. addr + len` lies inside the window (`len` may be a 64-bit size, as ELF segment
    /// extents are).
    pub const fn offset_of(&self, addr: u32, len: u64) -> Option<u32> {
        match (addr as u64).checked_add(len) {
            Some(end) if addr >= self.base.get() && end <= self.end() => {
                Some(addr - self.base.get())
            }
            _ => None,
        }
    }

    /// The guest-virtual address of window offset `offset` (which must be `<= size`), as a
    /// 64-bit value (the end of a window may be 2^32).
    pub const fn address_of(&self, offset: u32) -> u64 {
        self.base.get() as u64 + offset as u64
    }

    /// Checks that `[addr, addr + len)` lies in the window and returns where it starts in the
    /// guest's RAM. A zero-length range is valid anywhere from `base` to `base + size` inclusive.
    #[inline]
    pub const fn range(&self, addr: Gva, len: u32) -> Result<Gpa, MemError> {
        // 32-bit arithmetic only (this runs several times per frame on a 32-bit CPU). A range
        // may end exactly at 4 GiB, but not past it: `addr + len - 1` must not wrap.
        if len != 0 && len - 1 > u32::MAX - addr.get() {
            return Err(MemError::Overflow { addr, len });
        }
        let offset = addr.get().wrapping_sub(self.base.get());
        // `addr < base` makes `offset` wrap to a value above any possible `size`.
        if addr.get() < self.base.get() || offset > self.size || len > self.size - offset {
            return Err(MemError::OutOfWindow { addr, len });
        }
        Ok(Gpa::new(offset))
    }

    /// Like [`GuestWindow::range`], and also requires `addr` to be `align`-byte aligned
    /// (`align` a power of two). Misalignment is reported before containment.
    #[inline]
    pub const fn aligned_range(&self, addr: Gva, len: u32, align: u32) -> Result<Gpa, MemError> {
        if !addr.is_aligned(align) {
            return Err(MemError::Misaligned { addr, align });
        }
        self.range(addr, len)
    }

    /// Translates one guest-virtual byte address.
    pub const fn to_gpa(&self, addr: Gva) -> Result<Gpa, MemError> {
        self.range(addr, 1)
    }

    /// The guest-virtual address of a guest-physical one, if it is inside the guest's RAM.
    pub const fn to_gva(&self, gpa: Gpa) -> Option<Gva> {
        if gpa.get() < self.size {
            Some(Gva::new(self.base.get() + gpa.get()))
        } else {
            None
        }
    }
}

impl fmt::Display for GuestWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", Hex(self.base.get().into()), Hex(self.end()))
    }
}

/// Where a guest's RAM really lives: `size` bytes of host-physical memory from `host_base`.
/// Whether a guest CPU can use it is its architecture's question
/// ([`crate::GuestArch::check_partition`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    host_base: Hpa,
    size: u32,
}

impl Partition {
    /// A partition of `size` bytes at `host_base`.
    pub const fn new(host_base: Hpa, size: u32) -> Result<Self, LayoutError> {
        match host_base.checked_add(size as u64) {
            Some(_) => Ok(Self { host_base, size }),
            None => Err(LayoutError::PartitionPastAddressSpace),
        }
    }

    /// First host-physical byte of the partition.
    pub const fn host_base(&self) -> Hpa {
        self.host_base
    }

    /// Size of the partition in bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// The host-physical range it covers.
    pub const fn range(&self) -> PhysRange {
        PhysRange {
            base: self.host_base.get(),
            size: self.size as u64,
        }
    }

    /// Whether guest-physical `gpa` is guest RAM.
    pub const fn contains(&self, gpa: Gpa) -> bool {
        gpa.get() < self.size
    }

    /// Translate a guest-physical address; `None` when it is not guest RAM.
    pub const fn to_host(&self, gpa: Gpa) -> Option<Hpa> {
        if gpa.get() < self.size {
            Some(Hpa::new(self.host_base.get() + gpa.get() as u64))
        } else {
            None
        }
    }

    /// Whether the host-physical range `[start, start + len)` lies inside this partition.
    pub fn holds_host_range(&self, start: impl Into<u64>, len: impl Into<u64>) -> bool {
        let (start, len) = (start.into(), len.into());
        let base = self.host_base.get();
        start >= base && len <= self.size as u64 && start - base <= self.size as u64 - len
    }

    /// The host-physical address of `[gpa, gpa + len)`, if that range is inside the partition.
    pub const fn to_hpa(&self, gpa: Gpa, len: u32) -> Option<Hpa> {
        let end = gpa.get() as u64 + len as u64;
        if end > self.size as u64 {
            return None;
        }
        Some(Hpa::new(self.host_base.get() + gpa.get() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MIPS_RAM_WINDOW, PPC_RAM_WINDOW};

    fn mips_16m() -> GuestWindow {
        GuestWindow::new(MIPS_RAM_WINDOW, 16 << 20).unwrap()
    }

    #[test]
    fn window_must_fit_below_4g() {
        assert!(GuestWindow::new(MIPS_RAM_WINDOW, 0x4000_0000).is_ok());
        assert_eq!(
            GuestWindow::new(MIPS_RAM_WINDOW, 0x4000_0001),
            Err(LayoutError::WindowPastAddressSpace {
                base: MIPS_RAM_WINDOW,
                size: 0x4000_0001
            })
        );
    }

    #[test]
    fn range_edges() {
        let w = mips_16m();
        let end = 0xC000_0000u32 + (16 << 20);
        assert_eq!(w.range(Gva::new(0xC000_0000), 16 << 20), Ok(Gpa::new(0)));
        assert_eq!(w.range(Gva::new(end - 4), 4), Ok(Gpa::new((16 << 20) - 4)));
        assert_eq!(w.range(Gva::new(end), 0), Ok(Gpa::new(16 << 20)));
        assert_eq!(
            w.range(Gva::new(end - 4), 5),
            Err(MemError::OutOfWindow {
                addr: Gva::new(end - 4),
                len: 5
            })
        );
        assert_eq!(
            w.range(Gva::new(0xBFFF_FFFF), 1),
            Err(MemError::OutOfWindow {
                addr: Gva::new(0xBFFF_FFFF),
                len: 1
            })
        );
        assert_eq!(
            w.range(Gva::new(0x0000_0010), 4),
            Err(MemError::OutOfWindow {
                addr: Gva::new(0x10),
                len: 4
            })
        );
    }

    #[test]
    fn range_wrapping_is_overflow_not_out_of_window() {
        let w = GuestWindow::new(Gva::new(0xF000_0000), 0x1000_0000).unwrap();
        assert_eq!(
            w.range(Gva::new(0xFFFF_FFF0), 0x20),
            Err(MemError::Overflow {
                addr: Gva::new(0xFFFF_FFF0),
                len: 0x20
            })
        );
        assert_eq!(
            w.range(Gva::new(0xFFFF_FFF0), 0x10),
            Ok(Gpa::new(0x0FFF_FFF0))
        );
        assert_eq!(w.range(Gva::new(0xFFFF_FFFF), 1), Ok(Gpa::new(0x0FFF_FFFF)));
    }

    #[test]
    fn alignment_reported_first() {
        let w = mips_16m();
        assert_eq!(
            w.aligned_range(Gva::new(0x1234), 12, 16),
            Err(MemError::Misaligned {
                addr: Gva::new(0x1234),
                align: 16
            })
        );
        assert_eq!(
            w.aligned_range(Gva::new(0xC000_1230), 12, 16),
            Ok(Gpa::new(0x1230))
        );
    }

    #[test]
    fn translations_round_trip() {
        let w = GuestWindow::new(PPC_RAM_WINDOW, 0x100_0000).unwrap();
        assert_eq!(w.to_gpa(Gva::new(0x8000_1000)), Ok(Gpa::new(0x1000)));
        assert_eq!(w.to_gva(Gpa::new(0x1000)), Some(Gva::new(0x8000_1000)));
        assert_eq!(w.to_gva(Gpa::new(0x100_0000)), None);
        let p = Partition::new(Hpa::new(0x0400_0000), 0x100_0000).unwrap();
        assert_eq!(
            p.to_hpa(Gpa::new(0x1000), 0x1000),
            Some(Hpa::new(0x0400_1000))
        );
        assert_eq!(p.to_hpa(Gpa::new(0xFF_F000), 0x1001), None);
        assert_eq!(
            Partition::new(Hpa::new(u64::MAX - 10), 0x100),
            Err(LayoutError::PartitionPastAddressSpace)
        );
        assert!(p.contains(Gpa::new(0xFF_FFFF)) && !p.contains(Gpa::new(0x100_0000)));
        assert_eq!(p.to_host(Gpa::new(0x10)), Some(Hpa::new(0x0400_0010)));
        assert_eq!(p.to_host(Gpa::new(0x100_0000)), None);
        assert!(p.holds_host_range(0x0400_0000u32, 0x100_0000u32));
        assert!(!p.holds_host_range(0x03FF_FFFFu32, 2u32));
        assert!(!p.holds_host_range(0x04FF_FFFFu32, 2u32));
        assert_eq!(
            p.range(),
            PhysRange {
                base: 0x0400_0000,
                size: 0x100_0000
            }
        );
    }

    #[test]
    fn offsets_and_display() {
        extern crate std;
        let w = GuestWindow::new(MIPS_RAM_WINDOW, 0x10_0000).unwrap();
        assert_eq!(w.offset_of(0xC000_0000, 0x10_0000), Some(0));
        assert_eq!(w.offset_of(0xC00F_FFFF, 1), Some(0xF_FFFF));
        assert_eq!(w.offset_of(0xC00F_FFFF, 2), None);
        assert_eq!(w.offset_of(0xBFFF_FFFF, 1), None);
        assert_eq!(w.offset_of(0xFFFF_FFFF, u64::MAX), None);
        assert_eq!(w.address_of(0x10_0000), 0xC010_0000);
        assert_eq!(std::format!("{w}"), "0xC000_0000..0xC010_0000");
        let top = GuestWindow::new(Gva::new(0xF000_0000), 0x1000_0000).unwrap();
        assert_eq!(std::format!("{top}"), "0xF000_0000..0x1_0000_0000");
    }
}
