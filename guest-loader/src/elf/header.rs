//! The ELF32 header and program header rules, checked against the guest window. Produces an
//! [`ElfLayout`]: the PT_LOAD segments placed in the window, the entry point, and the file extent.
//!
//! The header and the whole program header table must lie in the first [`HEADER_LIMIT`] bytes of
//! the file (every linker puts them right after the 52-byte header), so a streaming loader needs
//! only that much buffer.

use super::{ElfError, ElfSpec, Machine};
use crate::bytes::{be16, be32, index};
use guest_mem::AddressField;

/// Bytes of the file that may hold the ELF header and the program header table.
pub const HEADER_LIMIT: usize = 4096;
/// Most program headers accepted (of any type).
pub const MAX_PROGRAM_HEADERS: u16 = 64;
/// Most PT_LOAD segments accepted.
pub const MAX_LOAD_SEGMENTS: usize = 16;
/// Size of the ELF32 file header.
pub const EHDR_SIZE: usize = 52;

const PHDR_SIZE: u16 = 32;
const SHDR_SIZE: u16 = 40;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PF_X: u32 = 1;

/// The fields of the ELF header the loader uses, already checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileHeader {
    pub entry: u32,
    pub phoff: u32,
    pub phnum: u16,
    /// End of the program header table (within [`HEADER_LIMIT`]).
    pub phdr_end: usize,
    /// End of the section header table, 0 if there is none.
    pub shdr_end: u64,
}

/// One PT_LOAD segment, placed in the guest window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Index of its program header.
    pub index: u16,
    /// `p_offset`.
    pub file_offset: u32,
    /// `p_filesz`: bytes copied from the file.
    pub file_size: u32,
    /// `p_memsz`: bytes occupied in memory (the rest after `file_size` is zeroed).
    pub mem_size: u32,
    /// `p_vaddr`.
    pub vaddr: u32,
    /// Where it starts in the window (guest-physical).
    pub window_offset: u32,
    /// `p_flags` (1 = X, 2 = W, 4 = R).
    pub flags: u32,
}

impl Segment {
    /// True if the segment is executable.
    pub const fn is_executable(&self) -> bool {
        self.flags & PF_X != 0
    }

    /// One past its last window offset.
    pub const fn window_end(&self) -> u64 {
        self.window_offset as u64 + self.mem_size as u64
    }
}

/// A validated ELF image: where each segment goes, where execution starts, how far the file goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfLayout {
    segments: [Segment; MAX_LOAD_SEGMENTS],
    count: usize,
    entry: u32,
    entry_offset: u32,
    file_extent: u64,
}

impl ElfLayout {
    /// The PT_LOAD segments with a non-zero memory size, in program header order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.count]
    }

    /// `e_entry`, a guest-virtual address.
    pub const fn entry(&self) -> u32 {
        self.entry
    }

    /// The window offset (guest-physical address) of the entry point.
    pub const fn entry_offset(&self) -> u32 {
        self.entry_offset
    }

    /// Lowest window offset used by a segment.
    pub fn start_offset(&self) -> u32 {
        self.segments()
            .iter()
            .map(|s| s.window_offset)
            .min()
            .unwrap_or(0)
    }

    /// One past the highest window offset used by a segment (the kernel's `_end`, physical).
    pub fn end_offset(&self) -> u32 {
        // Every segment ends inside the window, whose size fits in a u32.
        let end = self
            .segments()
            .iter()
            .map(Segment::window_end)
            .max()
            .unwrap_or(0);
        u32::try_from(end).unwrap_or(u32::MAX)
    }

    /// Bytes of the file covered by ELF structures: headers, segment data and section headers.
    /// Anything after this is not part of the ELF image.
    pub const fn file_extent(&self) -> u64 {
        self.file_extent
    }
}

/// Checks the 52-byte file header; `ehdr` must hold at least [`EHDR_SIZE`] bytes.
pub(crate) fn parse_file_header(
    ehdr: &[u8],
    file_len: u64,
    spec: &ElfSpec,
) -> Result<FileHeader, ElfError> {
    if file_len < EHDR_SIZE as u64 || ehdr.len() < EHDR_SIZE {
        return Err(ElfError::TooShort {
            len: file_len.min(ehdr.len() as u64),
        });
    }
    if ehdr[..4] != *b"\x7FELF" {
        return Err(ElfError::NotElf);
    }
    if ehdr[4] != 1 {
        return Err(ElfError::NotElf32 { class: ehdr[4] });
    }
    if ehdr[5] != 2 {
        return Err(ElfError::NotBigEndian { data: ehdr[5] });
    }
    if ehdr[6] != 1 {
        return Err(ElfError::BadVersion {
            version: ehdr[6].into(),
        });
    }
    let field16 = |at| be16(ehdr, at).unwrap_or(0);
    let field32 = |at| be32(ehdr, at).unwrap_or(0);
    let e_type = field16(16);
    if e_type != 2 {
        return Err(ElfError::NotExecutable { e_type });
    }
    let machine = field16(18);
    if machine != spec.machine as u16 {
        return Err(ElfError::WrongMachine {
            found: machine,
            expected: spec.machine,
        });
    }
    let version = field32(20);
    if version != 1 {
        return Err(ElfError::BadVersion { version });
    }
    let flags = field32(36);
    if spec.machine == Machine::Mips && !mips_flags_supported(flags) {
        return Err(ElfError::UnsupportedMipsFlags { flags });
    }
    let (ehsize, phentsize) = (field16(40), field16(42));
    if usize::from(ehsize) < EHDR_SIZE || phentsize != PHDR_SIZE {
        return Err(ElfError::BadHeaderSizes { ehsize, phentsize });
    }
    let phnum = field16(44);
    if phnum == 0 || phnum > MAX_PROGRAM_HEADERS {
        return Err(ElfError::BadProgramHeaderCount { phnum });
    }
    let phoff = field32(28);
    let phdr_end = u64::from(phoff) + u64::from(phnum) * u64::from(PHDR_SIZE);
    let limit = file_len.min(HEADER_LIMIT as u64);
    if u64::from(phoff) < EHDR_SIZE as u64 || phdr_end > limit {
        return Err(ElfError::ProgramHeadersOutOfBounds {
            start: phoff.into(),
            end: phdr_end,
            limit,
        });
    }
    let (shoff, shentsize, shnum) = (field32(32), field16(46), field16(48));
    let mut shdr_end = 0;
    if shnum != 0 {
        let end = u64::from(shoff) + u64::from(shnum) * u64::from(shentsize);
        if shentsize != SHDR_SIZE || end > file_len {
            return Err(ElfError::SectionHeadersOutOfBounds {
                start: shoff.into(),
                end,
                file_len,
            });
        }
        shdr_end = end;
    }
    Ok(FileHeader {
        entry: field32(24),
        phoff,
        phnum,
        // At most `HEADER_LIMIT` (checked above).
        phdr_end: index(phdr_end),
        shdr_end,
    })
}

/// MIPS32 release 1/2 (or MIPS I/II) with the o32 ABI, no microMIPS: what a 24Kc runs.
fn mips_flags_supported(flags: u32) -> bool {
    const EF_MIPS_ABI2: u32 = 0x20;
    const EF_MIPS_MICROMIPS: u32 = 0x0200_0000;
    let arch = flags >> 28;
    matches!(arch, 0x0 | 0x1 | 0x5 | 0x7) && flags & (EF_MIPS_ABI2 | EF_MIPS_MICROMIPS) == 0
}

/// Checks the program header table (`headers` = the file's first `header.phdr_end` bytes or more)
/// and places every PT_LOAD segment in the window.
pub(crate) fn parse_program_headers(
    header: &FileHeader,
    headers: &[u8],
    file_len: u64,
    spec: &ElfSpec,
) -> Result<ElfLayout, ElfError> {
    let mut layout = ElfLayout {
        segments: [Segment::default(); MAX_LOAD_SEGMENTS],
        count: 0,
        entry: header.entry,
        entry_offset: 0,
        file_extent: (header.phdr_end as u64).max(header.shdr_end),
    };
    for index in 0..header.phnum {
        let at = header.phoff as usize + usize::from(index) * usize::from(PHDR_SIZE);
        let word = |n: usize| be32(headers, at + 4 * n).unwrap_or(0);
        let p_type = word(0);
        if p_type == PT_INTERP || p_type == PT_DYNAMIC {
            return Err(ElfError::DynamicallyLinked { index });
        }
        if p_type != PT_LOAD {
            continue;
        }
        let (offset, vaddr, paddr) = (word(1), word(2), word(3));
        let (file_size, mem_size, flags) = (word(4), word(5), word(6));
        if file_size > mem_size {
            return Err(ElfError::FileSizeExceedsMemSize {
                index,
                file_size,
                mem_size,
            });
        }
        let data_end = u64::from(offset) + u64::from(file_size);
        if data_end > file_len {
            return Err(ElfError::SegmentDataOutsideFile {
                index,
                offset,
                end: data_end,
                file_len,
            });
        }
        if mem_size == 0 {
            continue;
        }
        let window_offset = place(spec, index, vaddr, paddr, mem_size)?;
        if layout.count == MAX_LOAD_SEGMENTS {
            return Err(ElfError::TooManyLoadSegments {
                // A small constant.
                #[allow(clippy::cast_possible_truncation)]
                max: MAX_LOAD_SEGMENTS as u16,
            });
        }
        let segment = Segment {
            index,
            file_offset: offset,
            file_size,
            mem_size,
            vaddr,
            window_offset,
            flags,
        };
        if let Some(other) = layout.segments().iter().find(|s| overlap(s, &segment)) {
            return Err(ElfError::SegmentsOverlap {
                first: other.index,
                second: index,
            });
        }
        layout.segments[layout.count] = segment;
        layout.count += 1;
        layout.file_extent = layout.file_extent.max(data_end);
    }
    if layout.count == 0 {
        return Err(ElfError::NoLoadSegments);
    }
    let entry = header.entry;
    if entry & 3 != 0 {
        return Err(ElfError::EntryMisaligned { entry });
    }
    let home = layout.segments().iter().find(|s| {
        s.is_executable()
            && entry >= s.vaddr
            && u64::from(entry) < u64::from(s.vaddr) + u64::from(s.file_size)
    });
    match home {
        Some(s) => layout.entry_offset = s.window_offset + (entry - s.vaddr),
        None => return Err(ElfError::EntryNotInExecutableSegment { entry }),
    }
    Ok(layout)
}

/// The window offset of a segment, by the address field the spec names.
fn place(
    spec: &ElfSpec,
    index: u16,
    vaddr: u32,
    paddr: u32,
    mem_size: u32,
) -> Result<u32, ElfError> {
    let window = spec.window;
    let len = u64::from(mem_size);
    match spec.address {
        AddressField::Virtual => {
            window
                .offset_of(vaddr, len)
                .ok_or(ElfError::SegmentOutsideWindow {
                    index,
                    start: vaddr.into(),
                    end: u64::from(vaddr) + len,
                    window,
                    field: AddressField::Virtual,
                })
        }
        AddressField::Physical => {
            if u64::from(paddr) + len > u64::from(window.size()) {
                return Err(ElfError::SegmentOutsideWindow {
                    index,
                    start: paddr.into(),
                    end: u64::from(paddr) + len,
                    window,
                    field: AddressField::Physical,
                });
            }
            let expected_vaddr = window.address_of(paddr);
            if u64::from(vaddr) != expected_vaddr {
                return Err(ElfError::AddressFieldsDisagree {
                    index,
                    vaddr,
                    paddr,
                    expected_vaddr,
                });
            }
            Ok(paddr)
        }
    }
}

fn overlap(a: &Segment, b: &Segment) -> bool {
    u64::from(a.window_offset) < b.window_end() && u64::from(b.window_offset) < a.window_end()
}
