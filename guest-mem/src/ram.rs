//! [`GuestRam`]: a checked view of one guest's RAM, addressed by guest-virtual address.
//!
//! The hypervisor maps a guest's partition and hands its bytes over as a `&mut [u8]`; everything
//! else (the device layer, the switch path) reads and writes guest memory only through this type.
//! Multi-byte values are big-endian (both supported guest CPUs are), and the typed accessors
//! demand natural alignment, as the guest's own loads and stores do. Distinct guests are distinct
//! `GuestRam`s over disjoint slices, so a frame can be copied from one guest's RAM into another's
//! with a single `copy_from_slice`.

use crate::{Gpa, GuestWindow, Gva, LayoutError, MemError};

/// A guest's RAM as seen through its guest-virtual window.
#[derive(Debug)]
pub struct GuestRam<'a> {
    bytes: &'a mut [u8],
    window: GuestWindow,
}

impl<'a> GuestRam<'a> {
    /// A view of `bytes`, which the guest sees at guest-virtual `base`.
    pub fn new(bytes: &'a mut [u8], base: Gva) -> Result<Self, LayoutError> {
        let size = u32::try_from(bytes.len()).map_err(|_| LayoutError::WindowPastAddressSpace {
            base,
            size: bytes.len() as u64,
        })?;
        let window = GuestWindow::new(base, size)?;
        Ok(Self { bytes, window })
    }

    /// The window this RAM is seen through.
    pub fn window(&self) -> GuestWindow {
        self.window
    }

    /// A shorter-lived view of the same RAM (to pass on without giving this one away).
    pub fn reborrow(&mut self) -> GuestRam<'_> {
        GuestRam {
            bytes: self.bytes,
            window: self.window,
        }
    }

    /// The whole RAM, indexed by guest-physical address.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
    }

    #[inline]
    fn span(start: Gpa, len: u32) -> core::ops::Range<usize> {
        let start = start.get() as usize;
        start..start + len as usize
    }

    /// The fast form of the window check, for non-empty ranges: where `[addr, addr + len)` starts
    /// in `bytes`, or `None` if it is not entirely inside (or `len` is 0). For `len > 0` it
    /// accepts exactly what [`GuestWindow::range`] accepts: `start` wraps to a value at or above
    /// the window size when `addr` is below the base (the window ends at or below 4 GiB), and
    /// `start < end` rejects ranges that wrap around. Callers fall back to the full check,
    /// which also says what was wrong.
    #[inline(always)]
    fn fast_start(&self, addr: Gva, len: u32) -> Option<u32> {
        let start = addr.get().wrapping_sub(self.window.base().get());
        let end = start.wrapping_add(len);
        // Non-short-circuit `&`: one branch instead of two.
        if (start < end) & (end as usize <= self.bytes.len()) {
            Some(start)
        } else {
            None
        }
    }

    /// [`GuestRam::fast_start`] as the range of `bytes` it covers.
    #[inline(always)]
    fn fast_span(&self, addr: Gva, len: u32) -> Option<core::ops::Range<usize>> {
        self.fast_start(addr, len)
            .map(|start| Self::span(Gpa::new(start), len))
    }

    /// The `len` bytes at `addr`, or `None` if [`GuestRam::bytes`] would refuse them or `len`
    /// is 0. The fast form, for paths that hand anything unusual to a full path which then
    /// reports what was wrong: one comparison, and no call (so a caller can stay a leaf
    /// function, without a stack frame).
    #[inline(always)]
    pub fn get(&self, addr: Gva, len: u32) -> Option<&[u8]> {
        let span = self.fast_span(addr, len)?;
        Some(&self.bytes[span])
    }

    /// [`GuestRam::get`], writable.
    #[inline(always)]
    pub fn get_mut(&mut self, addr: Gva, len: u32) -> Option<&mut [u8]> {
        let span = self.fast_span(addr, len)?;
        Some(&mut self.bytes[span])
    }

    /// Where `[addr, addr + len)` starts in the guest's RAM, or `None` if
    /// [`GuestRam::range`] would refuse it or `len` is 0 (the fast form, as [`GuestRam::get`]).
    #[inline(always)]
    pub fn get_range(&self, addr: Gva, len: u32) -> Option<Gpa> {
        self.fast_start(addr, len).map(Gpa::new)
    }

    /// [`GuestRam::array_ref`] in the fast form (as [`GuestRam::get`]): `None` for a
    /// misaligned or outside address.
    #[inline(always)]
    pub fn get_array<const N: usize>(&self, addr: Gva, align: u32) -> Option<&[u8; N]> {
        if !addr.is_aligned(align) {
            return None;
        }
        let span = self.fast_span(addr, const { array_len::<N>() })?;
        <&[u8; N]>::try_from(&self.bytes[span]).ok()
    }

    /// [`GuestRam::get_array`], writable.
    #[inline(always)]
    pub fn get_array_mut<const N: usize>(&mut self, addr: Gva, align: u32) -> Option<&mut [u8; N]> {
        if !addr.is_aligned(align) {
            return None;
        }
        let span = self.fast_span(addr, const { array_len::<N>() })?;
        <&mut [u8; N]>::try_from(&mut self.bytes[span]).ok()
    }

    /// The `len` bytes at `addr`.
    #[inline]
    pub fn bytes(&self, addr: Gva, len: u32) -> Result<&[u8], MemError> {
        if let Some(span) = self.fast_span(addr, len) {
            return Ok(&self.bytes[span]);
        }
        self.bytes_checked(addr, len)
    }

    #[cold]
    #[inline(never)]
    fn bytes_checked(&self, addr: Gva, len: u32) -> Result<&[u8], MemError> {
        let start = self.window.range(addr, len)?;
        Ok(&self.bytes[Self::span(start, len)])
    }

    /// The `len` bytes at `addr`, writable.
    #[inline]
    pub fn bytes_mut(&mut self, addr: Gva, len: u32) -> Result<&mut [u8], MemError> {
        if let Some(span) = self.fast_span(addr, len) {
            return Ok(&mut self.bytes[span]);
        }
        self.bytes_mut_checked(addr, len)
    }

    #[cold]
    #[inline(never)]
    fn bytes_mut_checked(&mut self, addr: Gva, len: u32) -> Result<&mut [u8], MemError> {
        let start = self.window.range(addr, len)?;
        Ok(&mut self.bytes[Self::span(start, len)])
    }

    /// The `len` bytes at `addr`, which must be `align`-byte aligned.
    #[inline]
    pub fn aligned_bytes(&self, addr: Gva, len: u32, align: u32) -> Result<&[u8], MemError> {
        if addr.is_aligned(align) {
            if let Some(span) = self.fast_span(addr, len) {
                return Ok(&self.bytes[span]);
            }
        }
        self.aligned_bytes_checked(addr, len, align)
    }

    #[cold]
    #[inline(never)]
    fn aligned_bytes_checked(&self, addr: Gva, len: u32, align: u32) -> Result<&[u8], MemError> {
        let start = self.window.aligned_range(addr, len, align)?;
        Ok(&self.bytes[Self::span(start, len)])
    }

    /// The `len` bytes at `addr`, which must be `align`-byte aligned, writable.
    #[inline]
    pub fn aligned_bytes_mut(
        &mut self,
        addr: Gva,
        len: u32,
        align: u32,
    ) -> Result<&mut [u8], MemError> {
        if addr.is_aligned(align) {
            if let Some(span) = self.fast_span(addr, len) {
                return Ok(&mut self.bytes[span]);
            }
        }
        self.aligned_bytes_mut_checked(addr, len, align)
    }

    #[cold]
    #[inline(never)]
    fn aligned_bytes_mut_checked(
        &mut self,
        addr: Gva,
        len: u32,
        align: u32,
    ) -> Result<&mut [u8], MemError> {
        let start = self.window.aligned_range(addr, len, align)?;
        Ok(&mut self.bytes[Self::span(start, len)])
    }

    /// Checks that `[addr, addr + len)` is inside the RAM and returns where it starts: the same
    /// answer as [`GuestWindow::range`] for every range, with one comparison on the fast path.
    #[inline]
    pub fn range(&self, addr: Gva, len: u32) -> Result<Gpa, MemError> {
        match self.fast_start(addr, len) {
            Some(start) => Ok(Gpa::new(start)),
            None => self.window.range(addr, len),
        }
    }

    /// The `N` bytes at `addr`, which must be `align`-byte aligned, as an array (one check for
    /// a whole structure, such as a descriptor).
    #[inline]
    pub fn array_ref<const N: usize>(&self, addr: Gva, align: u32) -> Result<&[u8; N], MemError> {
        if addr.is_aligned(align) {
            if let Some(span) = self.fast_span(addr, const { array_len::<N>() }) {
                return <&[u8; N]>::try_from(&self.bytes[span])
                    .map_err(|_| Self::not_n(addr, const { array_len::<N>() }));
            }
        }
        let bytes = self.aligned_bytes_checked(addr, const { array_len::<N>() }, align)?;
        <&[u8; N]>::try_from(bytes).map_err(|_| Self::not_n(addr, const { array_len::<N>() }))
    }

    /// The `N` bytes at `addr`, which must be `align`-byte aligned, as a writable array.
    #[inline]
    pub fn array_mut<const N: usize>(
        &mut self,
        addr: Gva,
        align: u32,
    ) -> Result<&mut [u8; N], MemError> {
        if addr.is_aligned(align) {
            if let Some(span) = self.fast_span(addr, const { array_len::<N>() }) {
                return <&mut [u8; N]>::try_from(&mut self.bytes[span])
                    .map_err(|_| Self::not_n(addr, const { array_len::<N>() }));
            }
        }
        let bytes = self.aligned_bytes_mut_checked(addr, const { array_len::<N>() }, align)?;
        <&mut [u8; N]>::try_from(bytes).map_err(|_| Self::not_n(addr, const { array_len::<N>() }))
    }

    /// The error for a checked slice that is not `N` bytes long (cannot happen: a checked
    /// range of `N` bytes is `N` bytes long; this only avoids a panic path).
    #[cold]
    fn not_n(addr: Gva, len: u32) -> MemError {
        MemError::OutOfWindow { addr, len }
    }

    #[inline]
    fn array<const N: usize>(&self, addr: Gva) -> Result<[u8; N], MemError> {
        let len = const { array_len::<N>() };
        let mut out = [0; N];
        out.copy_from_slice(self.aligned_bytes(addr, len, len)?);
        Ok(out)
    }

    /// Reads a big-endian `u16` at a 2-byte aligned `addr`.
    #[inline]
    pub fn read_u16(&self, addr: Gva) -> Result<u16, MemError> {
        self.array(addr).map(u16::from_be_bytes)
    }

    /// Reads a big-endian `u32` at a 4-byte aligned `addr`.
    #[inline]
    pub fn read_u32(&self, addr: Gva) -> Result<u32, MemError> {
        self.array(addr).map(u32::from_be_bytes)
    }

    /// Writes a big-endian `u16` at a 2-byte aligned `addr`.
    #[inline]
    pub fn write_u16(&mut self, addr: Gva, value: u16) -> Result<(), MemError> {
        self.write_aligned(addr, &value.to_be_bytes())
    }

    /// Writes a big-endian `u32` at a 4-byte aligned `addr`.
    #[inline]
    pub fn write_u32(&mut self, addr: Gva, value: u32) -> Result<(), MemError> {
        self.write_aligned(addr, &value.to_be_bytes())
    }

    #[inline]
    fn write_aligned<const N: usize>(
        &mut self,
        addr: Gva,
        value: &[u8; N],
    ) -> Result<(), MemError> {
        let len = const { array_len::<N>() };
        self.aligned_bytes_mut(addr, len, len)?
            .copy_from_slice(value);
        Ok(())
    }

    /// Copies guest memory at `addr` into `dst` (which gives the length).
    pub fn read_into(&self, addr: Gva, dst: &mut [u8]) -> Result<(), MemError> {
        let len = length(addr, dst.len())?;
        dst.copy_from_slice(self.bytes(addr, len)?);
        Ok(())
    }

    /// Copies `src` into guest memory at `addr`.
    pub fn write_from(&mut self, addr: Gva, src: &[u8]) -> Result<(), MemError> {
        let len = length(addr, src.len())?;
        self.bytes_mut(addr, len)?.copy_from_slice(src);
        Ok(())
    }

    /// Copies `len` bytes from `src` to `dst` inside this guest's RAM (ranges may overlap).
    pub fn copy_within(&mut self, src: Gva, len: u32, dst: Gva) -> Result<(), MemError> {
        let from = self.window.range(src, len)?;
        let to = self.window.range(dst, len)?;
        self.bytes
            .copy_within(Self::span(from, len), to.get() as usize);
        Ok(())
    }
}

/// The length of an `N`-byte array as a guest length. Evaluated at compile time (callers use
/// `const { .. }`), where the assertion makes an array of 4 GiB or more a build error; the
/// arrays are words and descriptors.
#[allow(clippy::cast_possible_truncation)] // `N` fits: asserted above the cast
const fn array_len<const N: usize>() -> u32 {
    assert!(
        N <= u32::MAX as usize,
        "an array this long cannot fit a guest window"
    );
    N as u32
}

/// A host-side length as a guest length; anything above 4 GiB cannot fit any window.
fn length(addr: Gva, len: usize) -> Result<u32, MemError> {
    u32::try_from(len).map_err(|_| MemError::Overflow {
        addr,
        len: u32::MAX,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MIPS_RAM_WINDOW;

    const BASE: u32 = 0xC000_0000;

    #[test]
    fn big_endian_accessors() {
        let mut mem = [0u8; 64];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        ram.write_u32(Gva::new(BASE + 8), 0x8000_0640).unwrap();
        ram.write_u16(Gva::new(BASE + 2), 0x0003).unwrap();
        assert_eq!(ram.read_u32(Gva::new(BASE + 8)), Ok(0x8000_0640));
        assert_eq!(ram.read_u16(Gva::new(BASE + 2)), Ok(3));
        assert_eq!(&mem[0..4], &[0, 0, 0, 3]);
        assert_eq!(&mem[8..12], &[0x80, 0, 0x06, 0x40]);
    }

    #[test]
    fn typed_accessors_demand_natural_alignment() {
        let mut mem = [0u8; 64];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let odd = Gva::new(BASE + 2);
        assert_eq!(
            ram.read_u32(odd),
            Err(MemError::Misaligned {
                addr: odd,
                align: 4
            })
        );
        assert_eq!(
            ram.write_u32(odd, 1),
            Err(MemError::Misaligned {
                addr: odd,
                align: 4
            })
        );
        let odd = Gva::new(BASE + 1);
        assert_eq!(
            ram.read_u16(odd),
            Err(MemError::Misaligned {
                addr: odd,
                align: 2
            })
        );
        // Byte slices carry no alignment requirement.
        assert!(ram.bytes(odd, 3).is_ok());
    }

    #[test]
    fn accesses_outside_the_window_fail_without_touching_memory() {
        let mut mem = [0xAAu8; 64];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let last = Gva::new(BASE + 60);
        assert_eq!(ram.write_u32(last, 7), Ok(()));
        let past = Gva::new(BASE + 64);
        assert_eq!(
            ram.write_u32(past, 7),
            Err(MemError::OutOfWindow { addr: past, len: 4 })
        );
        assert_eq!(
            ram.write_from(Gva::new(BASE + 62), &[1, 2, 3]),
            Err(MemError::OutOfWindow {
                addr: Gva::new(BASE + 62),
                len: 3
            })
        );
        let below = Gva::new(BASE - 4);
        assert_eq!(
            ram.read_u32(below),
            Err(MemError::OutOfWindow {
                addr: below,
                len: 4
            })
        );
        assert!(mem[..60].iter().all(|&b| b == 0xAA));
        assert_eq!(&mem[60..], &[0, 0, 0, 7]);
    }

    #[test]
    fn copy_within_handles_overlap_and_checks_both_ends() {
        let mut mem: [u8; 16] = core::array::from_fn(|i| i as u8);
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        ram.copy_within(Gva::new(BASE), 8, Gva::new(BASE + 4))
            .unwrap();
        assert!(ram
            .copy_within(Gva::new(BASE), 8, Gva::new(BASE + 9))
            .is_err());
        assert_eq!(&mem[..12], &[0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn read_into_and_reborrow() {
        let mut mem = [0u8; 32];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        {
            let mut inner = ram.reborrow();
            inner.write_from(Gva::new(BASE + 3), b"abc").unwrap();
        }
        let mut out = [0u8; 3];
        ram.read_into(Gva::new(BASE + 3), &mut out).unwrap();
        assert_eq!(&out, b"abc");
        assert_eq!(&ram.as_bytes()[3..6], b"abc");
    }
}
