//! One `struct vdma_descr { u32 addr; u32 size; u32 next; }`, read and written in guest RAM.
//!
//! All three fields are big-endian guest words; `addr` and `next` are guest-virtual. The host
//! only ever writes `size` (to hand a descriptor back); `addr` and `next` belong to the guest.

use crate::abi::{DESCRIPTOR_ALIGN, DESCRIPTOR_LEN, DESCRIPTOR_SIZE_OFFSET, DONE};
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
        let b = ram.aligned_bytes(at, DESCRIPTOR_LEN, DESCRIPTOR_ALIGN)?;
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ok(Self {
            addr: Gva::new(word(0)),
            size: word(4),
            next: Gva::new(word(8)),
        })
    }

    /// Writes all three fields at `at` (what a guest does; the host only writes `size`).
    pub fn write(&self, ram: &mut GuestRam<'_>, at: Gva) -> Result<(), MemError> {
        ram.window()
            .aligned_range(at, DESCRIPTOR_LEN, DESCRIPTOR_ALIGN)?;
        let b = ram.bytes_mut(at, DESCRIPTOR_LEN)?;
        b[0..4].copy_from_slice(&self.addr.get().to_be_bytes());
        b[4..8].copy_from_slice(&self.size.to_be_bytes());
        b[8..12].copy_from_slice(&self.next.get().to_be_bytes());
        Ok(())
    }

    /// Writes only the `size` field of the descriptor at `at`.
    #[inline]
    pub fn write_size(ram: &mut GuestRam<'_>, at: Gva, size: u32) -> Result<(), MemError> {
        ram.window()
            .aligned_range(at, DESCRIPTOR_LEN, DESCRIPTOR_ALIGN)?;
        ram.write_u32(Gva::new(at.get() + DESCRIPTOR_SIZE_OFFSET), size)
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
