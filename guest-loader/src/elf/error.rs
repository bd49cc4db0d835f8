//! Why an ELF image was refused. Every variant but the last two blames the image; those two blame
//! the caller (a window buffer of the wrong size, or more bytes pushed than announced).

use super::Machine;
use core::fmt;
use guest_mem::Hex;
use guest_mem::{AddressField, GuestWindow};

/// An ELF image refused by [`parse_elf`](super::parse_elf), [`load_elf`](super::load_elf) or
/// [`ElfStream`](super::ElfStream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the 52-byte ELF32 header.
    TooShort {
        /// Length of the file.
        len: u64,
    },
    /// Does not start with `\x7FELF`.
    NotElf,
    /// `EI_CLASS` is not ELFCLASS32 (1).
    NotElf32 {
        /// The class byte found.
        class: u8,
    },
    /// `EI_DATA` is not ELFDATA2MSB (2, big-endian).
    NotBigEndian {
        /// The data-encoding byte found.
        data: u8,
    },
    /// `EI_VERSION` or `e_version` is not 1.
    BadVersion {
        /// The version found.
        version: u32,
    },
    /// `e_machine` is not the one the guest runs.
    WrongMachine {
        /// The machine number found.
        found: u16,
        /// The machine the guest needs.
        expected: Machine,
    },
    /// `e_type` is not ET_EXEC (2).
    NotExecutable {
        /// The type found (1 relocatable, 3 shared object, 4 core).
        e_type: u16,
    },
    /// MIPS `e_flags` name an architecture or ABI a MIPS32r2 (24Kc) guest cannot run.
    UnsupportedMipsFlags {
        /// The flags found.
        flags: u32,
    },
    /// `e_ehsize` is smaller than 52 or `e_phentsize` is not 32.
    BadHeaderSizes {
        /// `e_ehsize`.
        ehsize: u16,
        /// `e_phentsize`.
        phentsize: u16,
    },
    /// `e_phnum` is 0 or above the supported maximum.
    BadProgramHeaderCount {
        /// `e_phnum`.
        phnum: u16,
    },
    /// The program header table does not lie within the file, or not within its first 4 KiB.
    ProgramHeadersOutOfBounds {
        /// Table start (`e_phoff`).
        start: u64,
        /// Table end.
        end: u64,
        /// Bytes available: the file length or the 4 KiB header limit, whichever is smaller.
        limit: u64,
    },
    /// The section header table does not lie within the file.
    SectionHeadersOutOfBounds {
        /// Table start (`e_shoff`).
        start: u64,
        /// Table end.
        end: u64,
        /// File length.
        file_len: u64,
    },
    /// A PT_INTERP or PT_DYNAMIC header: the image needs a dynamic linker.
    DynamicallyLinked {
        /// Index of the program header.
        index: u16,
    },
    /// More PT_LOAD segments than the loader keeps.
    TooManyLoadSegments {
        /// The loader's limit.
        max: u16,
    },
    /// No PT_LOAD segment with a non-zero memory size.
    NoLoadSegments,
    /// `p_filesz > p_memsz`.
    FileSizeExceedsMemSize {
        /// Index of the program header.
        index: u16,
        /// `p_filesz`.
        file_size: u32,
        /// `p_memsz`.
        mem_size: u32,
    },
    /// `p_offset + p_filesz` runs past the end of the file.
    SegmentDataOutsideFile {
        /// Index of the program header.
        index: u16,
        /// `p_offset`.
        offset: u32,
        /// End of the segment's bytes in the file.
        end: u64,
        /// File length.
        file_len: u64,
    },
    /// The segment's memory range is not inside the guest window.
    SegmentOutsideWindow {
        /// Index of the program header.
        index: u16,
        /// First address of the segment (in the placing address field).
        start: u64,
        /// One past its last address.
        end: u64,
        /// The guest window.
        window: GuestWindow,
        /// The address field that placed it (physical: `start`/`end` are window offsets).
        field: AddressField,
    },
    /// With physical placement, `p_vaddr` is not `window base + p_paddr`.
    AddressFieldsDisagree {
        /// Index of the program header.
        index: u16,
        /// `p_vaddr`.
        vaddr: u32,
        /// `p_paddr`.
        paddr: u32,
        /// The virtual address `p_paddr` maps to through the window.
        expected_vaddr: u64,
    },
    /// Two PT_LOAD segments overlap in guest memory.
    SegmentsOverlap {
        /// Index of the first program header.
        first: u16,
        /// Index of the second program header.
        second: u16,
    },
    /// `e_entry` is not 4-byte aligned.
    EntryMisaligned {
        /// `e_entry`.
        entry: u32,
    },
    /// `e_entry` is not inside the file-backed bytes of an executable PT_LOAD segment.
    EntryNotInExecutableSegment {
        /// `e_entry`.
        entry: u32,
    },
    /// The input ended before the announced file length.
    Truncated {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// Caller error: the guest RAM buffer is not exactly the window's size.
    WindowBufferMismatch {
        /// Length of the buffer handed over.
        buffer_len: u64,
        /// Size of the window.
        window_size: u32,
    },
    /// Caller error: more bytes were pushed than the file length announced.
    ExcessInput {
        /// The announced file length.
        expected: u64,
    },
}

impl ElfError {
    /// True when the caller, not the image, is at fault.
    pub const fn is_caller_error(&self) -> bool {
        matches!(
            self,
            Self::WindowBufferMismatch { .. } | Self::ExcessInput { .. }
        )
    }
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { len } => {
                write!(
                    f,
                    "file of {len} bytes is shorter than an ELF32 header (52 bytes)"
                )
            }
            Self::NotElf => f.write_str("not an ELF file (no \\x7FELF magic)"),
            Self::NotElf32 { class } => write!(f, "ELF class {class} is not ELF32 (1)"),
            Self::NotBigEndian { data } => {
                write!(f, "ELF data encoding {data} is not big-endian (2)")
            }
            Self::BadVersion { version } => write!(f, "ELF version {version} is not 1"),
            Self::WrongMachine { found, expected } => write!(
                f,
                "ELF machine {found} is not {} ({})",
                expected.name(),
                expected as u16
            ),
            Self::NotExecutable { e_type } => {
                write!(f, "ELF type {e_type} is not an executable (ET_EXEC = 2)")
            }
            Self::UnsupportedMipsFlags { flags } => write!(
                f,
                "MIPS e_flags {} name an ISA or ABI a MIPS32r2 guest cannot run",
                Hex(flags.into())
            ),
            Self::BadHeaderSizes { ehsize, phentsize } => write!(
                f,
                "ELF header size {ehsize} / program header size {phentsize} are not 52 / 32"
            ),
            Self::BadProgramHeaderCount { phnum } => write!(
                f,
                "{phnum} program headers (must be 1..={})",
                super::MAX_PROGRAM_HEADERS
            ),
            Self::ProgramHeadersOutOfBounds { start, end, limit } => write!(
                f,
                "program header table {}..{} does not fit in the first {limit} bytes",
                Hex(start),
                Hex(end)
            ),
            Self::SectionHeadersOutOfBounds {
                start,
                end,
                file_len,
            } => write!(
                f,
                "section header table {}..{} runs past the end of the {file_len}-byte file",
                Hex(start),
                Hex(end)
            ),
            Self::DynamicallyLinked { index } => write!(
                f,
                "program header {index} asks for dynamic linking (PT_INTERP/PT_DYNAMIC)"
            ),
            Self::TooManyLoadSegments { max } => {
                write!(f, "more than {max} PT_LOAD segments")
            }
            Self::NoLoadSegments => f.write_str("no PT_LOAD segment to load"),
            Self::FileSizeExceedsMemSize {
                index,
                file_size,
                mem_size,
            } => write!(
                f,
                "segment {index} has file size {} above its memory size {}",
                Hex(file_size.into()),
                Hex(mem_size.into())
            ),
            Self::SegmentDataOutsideFile {
                index,
                offset,
                end,
                file_len,
            } => write!(
                f,
                "segment {index} data {}..{} runs past the end of the {file_len}-byte file",
                Hex(offset.into()),
                Hex(end)
            ),
            Self::SegmentOutsideWindow {
                index,
                start,
                end,
                window,
                field,
            } => match field {
                AddressField::Virtual => write!(
                    f,
                    "segment {index} at {}..{} lies outside the guest window {window}",
                    Hex(start),
                    Hex(end)
                ),
                AddressField::Physical => write!(
                    f,
                    "segment {index} at physical {}..{} lies outside the guest RAM {}..{}",
                    Hex(start),
                    Hex(end),
                    Hex(0),
                    Hex(window.size().into())
                ),
            },
            Self::AddressFieldsDisagree {
                index,
                vaddr,
                paddr,
                expected_vaddr,
            } => write!(
                f,
                "segment {index} virtual address {} does not match its physical address {} \
                 (expected virtual {})",
                Hex(vaddr.into()),
                Hex(paddr.into()),
                Hex(expected_vaddr)
            ),
            Self::SegmentsOverlap { first, second } => {
                write!(f, "segments {first} and {second} overlap in guest memory")
            }
            Self::EntryMisaligned { entry } => {
                write!(f, "entry point {} is not 4-byte aligned", Hex(entry.into()))
            }
            Self::EntryNotInExecutableSegment { entry } => write!(
                f,
                "entry point {} is not inside the loaded bytes of an executable segment",
                Hex(entry.into())
            ),
            Self::Truncated { received, expected } => {
                write!(f, "image ends after {received} of its {expected} bytes")
            }
            Self::WindowBufferMismatch {
                buffer_len,
                window_size,
            } => write!(
                f,
                "guest RAM buffer of {buffer_len} bytes does not match the window size {}",
                Hex(window_size.into())
            ),
            Self::ExcessInput { expected } => {
                write!(f, "more bytes pushed than the announced {expected}")
            }
        }
    }
}
