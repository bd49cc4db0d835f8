//! The preloaded file store: the files a board hands the hypervisor at boot (in QEMU,
//! `./x run --file PATH...` packs them into one blob that QEMU's `-device loader` places at an
//! address the board reserves). The hypervisor lists them in `/file print` and reads them for
//! `/metarouter import-image`.
//!
//! # Format (version 1, all integers big-endian)
//!
//! ```text
//! offset  size  header
//!      0     8  magic "MRSTORE\0"
//!      8     2  version = 1
//!     10     2  header length = 32
//!     12     4  entry count (at most MAX_ENTRIES)
//!     16     4  total length of the store in bytes
//!     20     4  CRC-32 of the entry table
//!     24     4  reserved, 0
//!     28     4  CRC-32 of header bytes 0..28
//!     32        entry table: count entries of 88 bytes
//!
//! offset  size  entry
//!      0    64  name: 1..=63 bytes, NUL-padded (printable ASCII 0x21..0x7E, not '/' or '\',
//!               not "." or "..")
//!     64     8  creation time, seconds since 1970 (0 = unknown)
//!     72     4  offset of the file's data from the start of the store
//!     76     4  size in bytes
//!     80     4  CRC-32 of the data
//!     84     4  reserved, 0
//! ```
//!
//! Entries are sorted by name (bytewise, strictly ascending: names are unique). The data of
//! entry 0 starts at the first 16-byte boundary after the table, each next one at the first
//! 16-byte boundary after the previous file, padding bytes are zero, and the total length is the
//! end of the last file rounded up to 16. The layout is thus canonical: one set of files has
//! exactly one encoding, and the parser refuses anything else (including any bit flip, through
//! the three kinds of CRC). CRC-32 is the IEEE/gzip one ([`crate::crc32`]).
//!
//! The parsed [`FileStore`] borrows the blob (no copy, no allocation), finds a file by name
//! with a binary search, and iterates in name order, which is stable.

mod build;
#[cfg(feature = "std")]
mod host;
mod parse;

pub use build::{StoreBuildError, StoreBuilder};
#[cfg(feature = "std")]
pub use host::AddFileError;
pub use parse::{FileStore, StoreError, StoredFile};

/// The first 8 bytes of a store.
pub const MAGIC: [u8; 8] = *b"MRSTORE\0";
/// The format version this crate reads and writes.
pub const VERSION: u16 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 32;
/// Entry length in bytes.
pub const ENTRY_LEN: usize = 88;
/// Longest file name in bytes.
pub const MAX_NAME: usize = 63;
/// Most files in one store.
pub const MAX_ENTRIES: usize = 1024;
/// Alignment of each file's data.
pub const DATA_ALIGN: usize = 16;

/// True if `name` is acceptable as a stored file name.
pub fn is_valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name != b"."
        && name != b".."
        && name
            .iter()
            .all(|&b| (0x21..=0x7E).contains(&b) && b != b'/' && b != b'\\')
}

/// Where the data of the next file starts, after a file (or the table) ending at `end`.
pub(crate) const fn data_start(end: usize) -> usize {
    (end + DATA_ALIGN - 1) & !(DATA_ALIGN - 1)
}

#[cfg(test)]
mod tests;
