//! One `struct vdma_descr { u32 addr; u32 size; u32 next; }`, read and written in guest RAM.
//!
//! All three fields are big-endian guest words; `addr` and `next` are guest-virtual. The host
//! only ever writes `size` (to hand a descriptor back); `addr` and `next` belong to the guest.

use crate::abi::{
    DESCRIPTOR_ALIGN, DESCRIPTOR_LEN, DESCRIPTOR_NEXT_OFFSET, DESCRIPTOR_SIZE_OFFSET, DONE,
};
use guest_mem::{GuestRam, Gva, MemError};

/// A descriptor as read from guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// Guest-virtual address of the buffer.
    pub addr: Gva,
    /// Length or capacity, with [`DONE`] in bit 31.
    pub size: u32,
    /// Guest-virtual address of the next descriptor in the ring.
    pub next: Gva,
}

impl Descriptor {
    /// Reads the descriptor at `at`, which must be 16-byte aligned and inside the window.
    #[inline]
    pub fn read(ram: &GuestRam<'_>, at: Gva) -> Result<Self, MemError> {
        let b = ram.array_ref::<LEN>(at, DESCRIPTOR_ALIGN)?;
        Ok(Self {
            addr: Gva::new(word(b, 0)),
            size: word(b, SIZE),
            next: Gva::new(word(b, DESCRIPTOR_NEXT_OFFSET as usize)),
        })
    }

    /// Writes all three fields at `at` (what a guest does; the host only writes `size`).
    pub fn write(&self, ram: &mut GuestRam<'_>, at: Gva) -> Result<(), MemError> {
        let b = ram.array_mut::<LEN>(at, DESCRIPTOR_ALIGN)?;
        b[0..4].copy_from_slice(&self.addr.get().to_be_bytes());
        b[4..8].copy_from_slice(&self.size.to_be_bytes());
        b[8..12].copy_from_slice(&self.next.get().to_be_bytes());
        Ok(())
    }

    /// Writes only the `size` field of the descriptor at `at` (one check for the whole
    /// descriptor, which must be 16-byte aligned and inside the window).
    #[inline]
    pub fn write_size(ram: &mut GuestRam<'_>, at: Gva, size: u32) -> Result<(), MemError> {
        let b = ram.array_mut::<LEN>(at, DESCRIPTOR_ALIGN)?;
        b[SIZE..SIZE + 4].copy_from_slice(&size.to_be_bytes());
        Ok(())
    }

    /// [`Descriptor::read`] in the fast form ([`GuestRam::get_array`]: `None` where `read`
    /// fails, and no call), for an address already known to be 16-byte aligned (a ring's
    /// cursor: the head and every link are checked before the cursor moves there), so that
    /// only the window is checked.
    #[inline(always)]
    pub(crate) fn get_at_cursor(ram: &GuestRam<'_>, at: Gva) -> Option<Self> {
        debug_assert!(at.is_aligned(DESCRIPTOR_ALIGN));
        let b = ram.get_array::<LEN>(at, 1)?;
        Some(Self {
            addr: Gva::new(word(b, 0)),
            size: word(b, SIZE),
            next: Gva::new(word(b, DESCRIPTOR_NEXT_OFFSET as usize)),
        })
    }

    /// [`Descriptor::write_size`] in the fast form, for an address already known to be 16-byte
    /// aligned (see [`Descriptor::get_at_cursor`]): `false`, with nothing written, where
    /// `write_size` fails.
    #[inline(always)]
    pub(crate) fn put_size_at_cursor(ram: &mut GuestRam<'_>, at: Gva, size: u32) -> bool {
        debug_assert!(at.is_aligned(DESCRIPTOR_ALIGN));
        let Some(b) = ram.get_array_mut::<LEN>(at, 1) else {
            return false;
        };
        b[SIZE..SIZE + 4].copy_from_slice(&size.to_be_bytes());
        true
    }

    /// Whether bit 31 (DONE) is set.
    #[inline]
    pub const fn done(&self) -> bool {
        self.size & DONE != 0
    }

    /// `size` without the DONE bit: the length (TX, or RX once filled) or the capacity (posted RX).
    #[inline]
    pub const fn length(&self) -> u32 {
        self.size & !DONE
    }
}

const LEN: usize = DESCRIPTOR_LEN as usize;
const SIZE: usize = DESCRIPTOR_SIZE_OFFSET as usize;

/// The big-endian word at byte `at` of a descriptor (one unaligned load where the CPU has one;
/// the descriptor is aligned, but the compiler cannot know that the RAM slice is).
#[inline(always)]
fn word(b: &[u8; LEN], at: usize) -> u32 {
    let mut w = [0; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use guest_mem::MIPS_RAM_WINDOW;

    #[test]
    fn layout_is_big_endian_addr_size_next() {
        let mut mem = [0u8; 64];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let d = Descriptor {
            addr: Gva::new(0xC000_1000),
            size: 1600 | DONE,
            next: Gva::new(0xC000_0020),
        };
        d.write(&mut ram, Gva::new(0xC000_0010)).unwrap();
        assert_eq!(Descriptor::read(&ram, Gva::new(0xC000_0010)), Ok(d));
        assert!(d.done());
        assert_eq!(d.length(), 1600);
        assert_eq!(
            &mem[16..28],
            &[0xC0, 0, 0x10, 0, 0x80, 0, 0x06, 0x40, 0xC0, 0, 0, 0x20]
        );
    }

    #[test]
    fn descriptors_must_be_16_byte_aligned_and_inside() {
        let mut mem = [0u8; 64];
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let at = Gva::new(0xC000_0014);
        assert_eq!(
            Descriptor::read(&ram, at),
            Err(MemError::Misaligned {
                addr: at,
                align: 16
            })
        );
        assert_eq!(
            Descriptor::write_size(&mut ram, at, 0),
            Err(MemError::Misaligned {
                addr: at,
                align: 16
            })
        );
        // The last 16-byte slot of a 64-byte RAM holds a whole descriptor; one past it does not.
        assert!(Descriptor::read(&ram, Gva::new(0xC000_0030)).is_ok());
        let past = Gva::new(0xC000_0040);
        assert_eq!(
            Descriptor::read(&ram, past),
            Err(MemError::OutOfWindow {
                addr: past,
                len: 12
            })
        );
    }
}
