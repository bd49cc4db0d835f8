//! The `INRD` initial ramdisk that MetaROUTER guest kernels look for after themselves.
//!
//! The guest (`plat_mem_setup` in `arch/mips/rb/prom.c`) reads an 8-byte header
//! `{ u32 0x494E5244 ("INRD"), u32 size }` (big-endian) at
//! `PAGE_ALIGN(__pa(_end) + 8) - 8`: the header ends at the first page boundary at or after the
//! kernel's end + 8, and the ramdisk's `size` bytes start on that page. Addresses here are window
//! offsets (guest-physical); the kernel's end is [`LoadedImage::end_offset`](crate::elf::LoadedImage).
//!
//! An image file may also carry the ramdisk after its ELF contents (see [`split_appended`]).
//! That packaging is this product's convention: how MetaROUTER's host packaged an initrd is
//! not public.

use crate::bytes::{align_up, be32, index};
use core::fmt;
use guest_mem::Hex;

/// `"INRD"` as a big-endian word.
pub const INRD_MAGIC: u32 = 0x494E_5244;
/// Size of the header before the ramdisk data.
pub const HEADER_LEN: u32 = 8;
/// The guests' page size.
pub const GUEST_PAGE_SIZE: u32 = 4096;

/// Where an initrd sits in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitrdPlacement {
    /// Window offset of the 8-byte header.
    pub header_offset: u32,
    /// Window offset of the first data byte (page aligned).
    pub data_offset: u32,
    /// Data bytes.
    pub size: u32,
}

impl InitrdPlacement {
    /// One past the last data byte.
    pub const fn data_end(&self) -> u64 {
        self.data_offset as u64 + self.size as u64
    }
}

/// Why an initrd could not be placed, found or split off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitrdError {
    /// Caller error: the page size is not a power of two of at least 16 bytes.
    BadPageSize {
        /// The page size given.
        page_size: u32,
    },
    /// The kernel end, or the header after it, lies outside guest RAM.
    KernelEndOutsideRam {
        /// Window offset of the kernel's end.
        kernel_end: u32,
        /// Guest RAM size.
        ram_size: u64,
    },
    /// The ramdisk data would run past the end of guest RAM.
    DoesNotFit {
        /// Where the data would end.
        data_end: u64,
        /// Guest RAM size.
        ram_size: u64,
    },
    /// Bytes after the ELF contents of an image are not an `INRD` block.
    TrailingBytesNotInitrd {
        /// File offset where they start.
        offset: u64,
    },
    /// An appended `INRD` block announces more bytes than the file holds, or is followed by
    /// something other than zero padding.
    AppendedSizeWrong {
        /// File offset of the header.
        offset: u64,
        /// The size the header announces.
        size: u32,
        /// Bytes in the file after the header.
        available: u64,
    },
}

impl fmt::Display for InitrdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadPageSize { page_size } => {
                write!(
                    f,
                    "page size {page_size} is not a power of two of at least 16"
                )
            }
            Self::KernelEndOutsideRam {
                kernel_end,
                ram_size,
            } => write!(
                f,
                "kernel end {} leaves no room for an initrd header in {} of guest RAM",
                Hex(kernel_end.into()),
                Hex(ram_size)
            ),
            Self::DoesNotFit { data_end, ram_size } => write!(
                f,
                "initrd would end at {}, past the end of guest RAM {}",
                Hex(data_end),
                Hex(ram_size)
            ),
            Self::TrailingBytesNotInitrd { offset } => write!(
                f,
                "bytes after the kernel's ELF contents (file offset {}) are not an INRD block",
                Hex(offset)
            ),
            Self::AppendedSizeWrong {
                offset,
                size,
                available,
            } => write!(
                f,
                "INRD block at file offset {} announces {size} bytes but {available} follow",
                Hex(offset)
            ),
        }
    }
}

/// The window offsets the guest will look at, for a kernel ending at `kernel_end` (before any
/// check against RAM size). Refused if the page size is bad or the offsets leave 32 bits.
pub fn placement_for(
    kernel_end: u32,
    page_size: u32,
    size: u32,
) -> Result<InitrdPlacement, InitrdError> {
    if !page_size.is_power_of_two() || page_size < 16 {
        return Err(InitrdError::BadPageSize { page_size });
    }
    let data = align_up(
        u64::from(kernel_end) + u64::from(HEADER_LEN),
        page_size.into(),
    )
    .and_then(|d| u32::try_from(d).ok())
    .ok_or(InitrdError::KernelEndOutsideRam {
        kernel_end,
        ram_size: 1 << 32,
    })?;
    Ok(InitrdPlacement {
        header_offset: data - 8,
        data_offset: data,
        size,
    })
}

/// Writes the header and `initrd` where a guest whose kernel ends at `kernel_end` will find
/// them. Checks everything before writing.
pub fn place_initrd(
    guest_ram: &mut [u8],
    kernel_end: u32,
    initrd: &[u8],
    page_size: u32,
) -> Result<InitrdPlacement, InitrdError> {
    let ram_size = guest_ram.len() as u64;
    let size = u32::try_from(initrd.len()).map_err(|_| InitrdError::DoesNotFit {
        data_end: u64::MAX,
        ram_size,
    })?;
    let p = placement_for(kernel_end, page_size, size)?;
    if u64::from(kernel_end) > ram_size || u64::from(p.data_offset) > ram_size {
        return Err(InitrdError::KernelEndOutsideRam {
            kernel_end,
            ram_size,
        });
    }
    if p.data_end() > ram_size {
        return Err(InitrdError::DoesNotFit {
            data_end: p.data_end(),
            ram_size,
        });
    }
    let h = p.header_offset as usize;
    guest_ram[h..h + 4].copy_from_slice(&INRD_MAGIC.to_be_bytes());
    guest_ram[h + 4..h + 8].copy_from_slice(&size.to_be_bytes());
    let d = p.data_offset as usize;
    guest_ram[d..d + initrd.len()].copy_from_slice(initrd);
    Ok(p)
}

/// Looks where the guest looks: `Ok(None)` if there is no `INRD` header after a kernel ending
/// at `kernel_end`, the placement if there is one that fits in guest RAM.
pub fn find_initrd(
    guest_ram: &[u8],
    kernel_end: u32,
    page_size: u32,
) -> Result<Option<InitrdPlacement>, InitrdError> {
    let ram_size = guest_ram.len() as u64;
    let p = placement_for(kernel_end, page_size, 0)?;
    if u64::from(kernel_end) > ram_size || u64::from(p.data_offset) > ram_size {
        return Err(InitrdError::KernelEndOutsideRam {
            kernel_end,
            ram_size,
        });
    }
    let h = p.header_offset as usize;
    if be32(guest_ram, h) != Some(INRD_MAGIC) {
        return Ok(None);
    }
    let size = be32(guest_ram, h + 4).unwrap_or(0);
    let p = InitrdPlacement { size, ..p };
    if p.data_end() > ram_size {
        return Err(InitrdError::DoesNotFit {
            data_end: p.data_end(),
            ram_size,
        });
    }
    Ok(Some(p))
}

/// Splits a ramdisk off an image file: after the ELF contents (`elf_extent` bytes, from
/// [`ElfLayout::file_extent`](crate::elf::ElfLayout::file_extent)) there may be zero padding to a
/// 4-byte boundary, then `{ "INRD", u32 size }` and `size` bytes, then only zero padding.
/// Returns `Ok(None)` when nothing but zero padding follows the ELF contents.
pub fn split_appended(image: &[u8], elf_extent: u64) -> Result<Option<&[u8]>, InitrdError> {
    let len = image.len() as u64;
    let start = index(elf_extent.min(len));
    let trailing = &image[start..];
    if trailing.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let header = align_up(elf_extent, 4).unwrap_or(u64::MAX);
    let padding_ok = header <= len && image[start..index(header)].iter().all(|&b| b == 0);
    if !padding_ok || be32(image, index(header)) != Some(INRD_MAGIC) {
        return Err(InitrdError::TrailingBytesNotInitrd { offset: elf_extent });
    }
    // From here `header <= len`.
    let size = be32(image, index(header) + 4).unwrap_or(0);
    let data = index(header) + 8;
    let available = len.saturating_sub(data as u64);
    let end = data as u64 + u64::from(size);
    if end > len || image[index(end)..].iter().any(|&b| b != 0) {
        return Err(InitrdError::AppendedSizeWrong {
            offset: header,
            size,
            available,
        });
    }
    Ok(Some(&image[data..index(end)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn header_ends_at_the_first_page_boundary_after_end_plus_8() {
        // end + 8 exactly on a page: the header sits in the last 8 bytes before it.
        assert_eq!(
            placement_for(0x1FF8, 4096, 0).unwrap().header_offset,
            0x1FF8
        );
        assert_eq!(placement_for(0x1FF9, 4096, 0).unwrap().data_offset, 0x3000);
        assert_eq!(placement_for(0x1000, 4096, 0).unwrap().data_offset, 0x2000);
        assert_eq!(placement_for(0, 4096, 0).unwrap().data_offset, 0x1000);
        assert_eq!(
            placement_for(0x1000, 3000, 0),
            Err(InitrdError::BadPageSize { page_size: 3000 })
        );
        assert!(matches!(
            placement_for(u32::MAX - 4, 4096, 0),
            Err(InitrdError::KernelEndOutsideRam { .. })
        ));
    }

    #[test]
    fn place_then_find_round_trips() {
        let mut ram = vec![0u8; 0x10000];
        let rd: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let p = place_initrd(&mut ram, 0x2345, &rd, 4096).unwrap();
        assert_eq!(
            p,
            InitrdPlacement {
                header_offset: 0x2FF8,
                data_offset: 0x3000,
                size: 5000
            }
        );
        assert_eq!(&ram[0x2FF8..0x3000], b"INRD\x00\x00\x13\x88");
        assert_eq!(&ram[0x3000..0x3000 + 5000], &rd[..]);
        assert_eq!(find_initrd(&ram, 0x2345, 4096), Ok(Some(p)));
        assert_eq!(find_initrd(&ram, 0x3345, 4096), Ok(None));
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let mut ram = vec![0u8; 0x4000];
        assert_eq!(
            place_initrd(&mut ram, 0x2000, &[1; 0x1001], 4096),
            Err(InitrdError::DoesNotFit {
                data_end: 0x4001,
                ram_size: 0x4000
            })
        );
        assert!(ram.iter().all(|&b| b == 0), "nothing written on refusal");
        assert!(place_initrd(&mut ram, 0x2000, &[1; 0x1000], 4096).is_ok());
        assert_eq!(
            place_initrd(&mut ram, 0x3FF9, &[], 4096),
            Err(InitrdError::KernelEndOutsideRam {
                kernel_end: 0x3FF9,
                ram_size: 0x4000
            })
        );
        // A header announcing more than RAM holds is refused when found.
        ram[0x2FF8..0x3000].copy_from_slice(b"INRD\x00\x01\x00\x00");
        assert_eq!(
            find_initrd(&ram, 0x2F00, 4096),
            Err(InitrdError::DoesNotFit {
                data_end: 0x13000,
                ram_size: 0x4000
            })
        );
    }

    #[test]
    fn appended_block_is_split_off() {
        let mut img = vec![7u8; 101];
        assert_eq!(split_appended(&img, 101), Ok(None));
        img.extend_from_slice(&[0, 0, 0]);
        assert_eq!(split_appended(&img, 101), Ok(None), "zero padding only");
        img.extend_from_slice(b"INRD\x00\x00\x00\x03abc\0");
        assert_eq!(split_appended(&img, 101), Ok(Some(&b"abc"[..])));
        let mut bad = img.clone();
        bad[102] = 1;
        assert_eq!(
            split_appended(&bad, 101),
            Err(InitrdError::TrailingBytesNotInitrd { offset: 101 })
        );
        let mut long = img.clone();
        long[111] = 9;
        assert_eq!(
            split_appended(&long, 101),
            Err(InitrdError::AppendedSizeWrong {
                offset: 104,
                size: 9,
                available: 4
            })
        );
        let mut junk = img.clone();
        junk.push(1);
        assert!(matches!(
            split_appended(&junk, 101),
            Err(InitrdError::AppendedSizeWrong { .. })
        ));
    }
}
