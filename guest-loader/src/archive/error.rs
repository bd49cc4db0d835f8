//! Why an import failed: the gzip layer, the tar layer, the kernel inside, or the sink that
//! received the entries. Offsets are byte offsets in the compressed file (gzip) or in the
//! uncompressed tar stream (tar), so a user can find the spot with standard tools.

use crate::elf::ElfError;
use core::fmt;
use guest_mem::Hex;

/// The gzip container or the DEFLATE data inside it is bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GzipError {
    /// The file does not start with the gzip magic 1F 8B.
    NotGzip,
    /// Compression method other than 8 (DEFLATE).
    UnsupportedMethod {
        /// The method byte.
        method: u8,
    },
    /// Reserved header flag bits are set.
    ReservedFlags {
        /// The flag byte.
        flags: u8,
    },
    /// The optional header CRC16 does not match.
    HeaderCrcMismatch,
    /// The DEFLATE data is corrupt.
    CorruptData {
        /// Compressed bytes consumed when the decoder gave up.
        at: u64,
    },
    /// The CRC-32 in the trailer does not match the data.
    CrcMismatch {
        /// CRC stored in the trailer.
        stored: u32,
        /// CRC of the decompressed data.
        computed: u32,
    },
    /// The length in the trailer does not match the data (modulo 2^32).
    LengthMismatch {
        /// Length stored in the trailer.
        stored: u32,
        /// Decompressed length modulo 2^32.
        computed: u32,
    },
    /// The file ends inside the gzip stream.
    Truncated,
    /// Non-zero bytes follow the gzip stream (a second member is not supported).
    TrailingData {
        /// Offset of the first such byte in the file.
        at: u64,
    },
}

/// The tar stream inside is bad or uses something not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TarError {
    /// The header checksum does not match.
    BadChecksum {
        /// Offset of the header.
        at: u64,
    },
    /// The magic is neither POSIX ustar, GNU, nor the old all-zero form.
    BadMagic {
        /// Offset of the header.
        at: u64,
    },
    /// A numeric field is not valid octal / base-256.
    BadNumber {
        /// Offset of the header.
        at: u64,
        /// Which field.
        field: &'static str,
    },
    /// An entry type this importer does not handle (GNU sparse, multi-volume...).
    UnsupportedType {
        /// Offset of the header.
        at: u64,
        /// The typeflag byte.
        typeflag: u8,
    },
    /// A path or link target longer than [`MAX_PATH`](super::MAX_PATH) bytes.
    PathTooLong {
        /// Offset of the header.
        at: u64,
    },
    /// A path with a `..` component, an empty path for a non-directory, or a NUL inside.
    BadPath {
        /// Offset of the header.
        at: u64,
    },
    /// A pax extended header larger than [`MAX_PAX`](super::MAX_PAX) or malformed.
    BadPaxHeader {
        /// Offset of the header.
        at: u64,
    },
    /// Non-zero bytes after the end-of-archive marker.
    DataAfterEnd {
        /// Offset of the first such byte.
        at: u64,
    },
    /// The stream ends inside an entry or without the end-of-archive marker.
    Truncated {
        /// Bytes of tar stream received.
        at: u64,
    },
}

/// Who refused the entries: the caller's storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkError {
    /// The guest's disk quota or the store's space is exhausted.
    NoSpace,
    /// The store cannot hold more entries.
    TooManyEntries,
    /// The store refuses this name (for example an existing entry of another kind).
    NameRefused,
    /// The storage failed to write.
    WriteFailed,
}

/// An import that failed, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The gzip layer.
    Gzip(GzipError),
    /// The tar layer.
    Tar(TarError),
    /// The archive has no `kernel` (or `./kernel`) regular file.
    MissingKernel,
    /// More than one `kernel` entry.
    DuplicateKernel {
        /// Offset of the second one's header.
        at: u64,
    },
    /// `kernel` is not a regular file.
    KernelNotRegularFile {
        /// Offset of its header.
        at: u64,
    },
    /// The kernel is not an acceptable ELF image.
    Kernel(ElfError),
    /// The caller's sink refused an entry.
    Sink {
        /// What the sink said.
        error: SinkError,
        /// Offset of the entry's header in the tar stream.
        at: u64,
    },
}

impl From<GzipError> for ImportError {
    fn from(e: GzipError) -> Self {
        Self::Gzip(e)
    }
}

impl From<TarError> for ImportError {
    fn from(e: TarError) -> Self {
        Self::Tar(e)
    }
}

impl fmt::Display for GzipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotGzip => f.write_str("not a gzip file (no 1F 8B magic)"),
            Self::UnsupportedMethod { method } => {
                write!(f, "gzip compression method {method} is not DEFLATE (8)")
            }
            Self::ReservedFlags { flags } => {
                write!(f, "gzip header flags {flags:#04x} use reserved bits")
            }
            Self::HeaderCrcMismatch => f.write_str("gzip header CRC mismatch"),
            Self::CorruptData { at } => write!(f, "corrupt compressed data near byte {at}"),
            Self::CrcMismatch { stored, computed } => write!(
                f,
                "gzip CRC mismatch: trailer says {}, data gives {}",
                Hex(stored.into()),
                Hex(computed.into())
            ),
            Self::LengthMismatch { stored, computed } => write!(
                f,
                "gzip length mismatch: trailer says {stored} bytes, data has {computed}"
            ),
            Self::Truncated => f.write_str("file ends inside the gzip stream (truncated upload?)"),
            Self::TrailingData { at } => {
                write!(f, "unexpected data after the gzip stream at byte {at}")
            }
        }
    }
}

impl fmt::Display for TarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadChecksum { at } => write!(f, "tar header at {at}: checksum mismatch"),
            Self::BadMagic { at } => write!(f, "tar header at {at}: not a ustar/GNU header"),
            Self::BadNumber { at, field } => write!(f, "tar header at {at}: bad {field} field"),
            Self::UnsupportedType { at, typeflag } => write!(
                f,
                "tar header at {at}: unsupported entry type '{}'",
                char::from(typeflag).escape_default()
            ),
            Self::PathTooLong { at } => write!(
                f,
                "tar header at {at}: path or link longer than {} bytes",
                super::MAX_PATH
            ),
            Self::BadPath { at } => write!(
                f,
                "tar header at {at}: path is empty, contains NUL, or leaves the root with '..'"
            ),
            Self::BadPaxHeader { at } => write!(f, "tar header at {at}: bad pax extended header"),
            Self::DataAfterEnd { at } => {
                write!(f, "tar data after the end-of-archive marker at {at}")
            }
            Self::Truncated { at } => write!(
                f,
                "tar stream ends at {at} inside an entry or before its end marker"
            ),
        }
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSpace => "no space left for the guest's files",
            Self::TooManyEntries => "too many files for the guest's store",
            Self::NameRefused => "the store refused the name",
            Self::WriteFailed => "the store failed to write",
        })
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Gzip(e) => write!(f, "{e}"),
            Self::Tar(e) => write!(f, "{e}"),
            Self::MissingKernel => f.write_str("image has no ./kernel file"),
            Self::DuplicateKernel { at } => write!(f, "second ./kernel entry at tar offset {at}"),
            Self::KernelNotRegularFile { at } => {
                write!(f, "./kernel at tar offset {at} is not a regular file")
            }
            Self::Kernel(e) => write!(f, "kernel: {e}"),
            Self::Sink { error, at } => write!(f, "entry at tar offset {at}: {error}"),
        }
    }
}
