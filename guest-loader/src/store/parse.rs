//! Reading a store: every rule of the format is checked once, up front, by [`FileStore::parse`];
//! after that lookups and iteration cannot fail.

use super::{
    data_start, is_valid_name, ENTRY_LEN, HEADER_LEN, MAGIC, MAX_ENTRIES, MAX_NAME, VERSION,
};
use crate::bytes::{be16, be32, be64};
use crate::crc32::crc32;
use core::fmt;

/// Why a store was refused. Indexes count entries from 0; offsets are from the store's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// No store magic: nothing was preloaded (a board treats this as an empty store).
    NotAStore,
    /// The store is longer than the memory region holding it.
    Truncated {
        /// Bytes the store needs.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// The header CRC does not match.
    HeaderCrcMismatch,
    /// A version this build does not read.
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// Header length or reserved field wrong.
    BadHeader,
    /// More entries than [`MAX_ENTRIES`], or a table longer than the store.
    BadEntryCount {
        /// The count found.
        count: u32,
    },
    /// The entry table CRC does not match.
    TableCrcMismatch,
    /// An entry's name is empty, too long, not NUL-padded or uses a forbidden byte.
    BadName {
        /// Entry index.
        index: u32,
    },
    /// Names are not strictly ascending (unsorted or duplicated).
    NotSorted {
        /// Index of the first entry out of order.
        index: u32,
    },
    /// An entry's reserved field is not zero.
    BadEntry {
        /// Entry index.
        index: u32,
    },
    /// An entry's data is not where the canonical layout puts it, or runs past the store.
    BadLayout {
        /// Entry index.
        index: u32,
    },
    /// An entry's data does not match its CRC.
    DataCrcMismatch {
        /// Entry index.
        index: u32,
    },
    /// A padding byte is not zero.
    PaddingNotZero {
        /// Offset of the byte.
        offset: u32,
    },
    /// The total length is not the end of the last file rounded up to 16.
    BadTotalLength {
        /// Length in the header.
        total_len: u32,
        /// Length the layout gives.
        expected: u64,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("file store: ")?;
        match *self {
            Self::NotAStore => f.write_str("no store magic (nothing preloaded)"),
            Self::Truncated { needed, available } => {
                write!(f, "needs {needed} bytes but its region holds {available}")
            }
            Self::HeaderCrcMismatch => f.write_str("header CRC mismatch"),
            Self::UnsupportedVersion { version } => write!(f, "unsupported version {version}"),
            Self::BadHeader => f.write_str("bad header length or reserved field"),
            Self::BadEntryCount { count } => write!(f, "bad entry count {count}"),
            Self::TableCrcMismatch => f.write_str("entry table CRC mismatch"),
            Self::BadName { index } => write!(f, "entry {index} has an invalid name"),
            Self::NotSorted { index } => write!(f, "entry {index} is out of order or duplicated"),
            Self::BadEntry { index } => write!(f, "entry {index} has a non-zero reserved field"),
            Self::BadLayout { index } => write!(f, "entry {index} data is misplaced"),
            Self::DataCrcMismatch { index } => write!(f, "entry {index} data CRC mismatch"),
            Self::PaddingNotZero { offset } => write!(f, "non-zero padding at offset {offset}"),
            Self::BadTotalLength {
                total_len,
                expected,
            } => {
                write!(f, "total length {total_len} should be {expected}")
            }
        }
    }
}

/// One preloaded file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredFile<'a> {
    /// Its name (printable ASCII, no `/`).
    pub name: &'a str,
    /// Creation time, seconds since 1970 (0 = unknown).
    pub created: u64,
    /// Its bytes.
    pub data: &'a [u8],
}

/// A validated store, borrowing the memory it lives in.
#[derive(Clone, Copy, Debug)]
pub struct FileStore<'a> {
    blob: &'a [u8],
    count: usize,
}

impl<'a> FileStore<'a> {
    /// Validates the store at the start of `region` (which may be longer than the store).
    pub fn parse(region: &'a [u8]) -> Result<Self, StoreError> {
        if region.len() < MAGIC.len() || region[..MAGIC.len()] != MAGIC {
            return Err(StoreError::NotAStore);
        }
        let available = region.len() as u64;
        if region.len() < HEADER_LEN {
            return Err(StoreError::Truncated {
                needed: HEADER_LEN as u64,
                available,
            });
        }
        if be32(region, 28) != Some(crc32(&region[..28])) {
            return Err(StoreError::HeaderCrcMismatch);
        }
        let field32 = |at| be32(region, at).unwrap_or(0);
        let version = be16(region, 8).unwrap_or(0);
        if version != VERSION {
            return Err(StoreError::UnsupportedVersion { version });
        }
        if usize::from(be16(region, 10).unwrap_or(0)) != HEADER_LEN || field32(24) != 0 {
            return Err(StoreError::BadHeader);
        }
        let (count, total_len) = (field32(12), field32(16));
        if u64::from(total_len) > available {
            return Err(StoreError::Truncated {
                needed: total_len.into(),
                available,
            });
        }
        let blob = &region[..total_len as usize];
        let table_end = HEADER_LEN as u64 + u64::from(count) * ENTRY_LEN as u64;
        if count as usize > MAX_ENTRIES || table_end > u64::from(total_len) {
            return Err(StoreError::BadEntryCount { count });
        }
        // At most `total_len`, a 32-bit length.
        let table_end =
            usize::try_from(table_end).map_err(|_| StoreError::BadEntryCount { count })?;
        if field32(20) != crc32(&blob[HEADER_LEN..table_end]) {
            return Err(StoreError::TableCrcMismatch);
        }
        let store = Self {
            blob,
            count: count as usize,
        };
        let mut expected_at = data_start(table_end);
        let mut previous: Option<&[u8]> = None;
        let mut padding_from = table_end;
        for (i, index) in (0..store.count).zip(0u32..) {
            let e = &blob[HEADER_LEN + i * ENTRY_LEN..HEADER_LEN + (i + 1) * ENTRY_LEN];
            let name_field = &e[..MAX_NAME + 1];
            let name_len = name_field
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_field.len());
            let name = &name_field[..name_len];
            if !is_valid_name(name) || name_field[name_len..].iter().any(|&b| b != 0) {
                return Err(StoreError::BadName { index });
            }
            if previous.is_some_and(|p| p >= name) {
                return Err(StoreError::NotSorted { index });
            }
            previous = Some(name);
            if be32(e, 84) != Some(0) {
                return Err(StoreError::BadEntry { index });
            }
            let (offset, size) = (
                be32(e, 72).unwrap_or(0) as usize,
                be32(e, 76).unwrap_or(0) as usize,
            );
            if offset != expected_at || offset as u64 + size as u64 > u64::from(total_len) {
                return Err(StoreError::BadLayout { index });
            }
            check_zero(&blob[padding_from..offset], padding_from)?;
            if be32(e, 80) != Some(crc32(&blob[offset..offset + size])) {
                return Err(StoreError::DataCrcMismatch { index });
            }
            padding_from = offset + size;
            expected_at = data_start(padding_from);
        }
        let expected = data_start(padding_from) as u64;
        if u64::from(total_len) != expected {
            return Err(StoreError::BadTotalLength {
                total_len,
                expected,
            });
        }
        check_zero(&blob[padding_from..], padding_from)?;
        Ok(store)
    }

    /// Number of files.
    pub const fn len(&self) -> usize {
        self.count
    }

    /// True if the store holds no file.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the store occupies.
    pub const fn total_len(&self) -> usize {
        self.blob.len()
    }

    /// The file at `index` in name order.
    pub fn get(&self, index: usize) -> Option<StoredFile<'a>> {
        if index >= self.count {
            return None;
        }
        let blob = self.blob;
        let e = &blob[HEADER_LEN + index * ENTRY_LEN..HEADER_LEN + (index + 1) * ENTRY_LEN];
        let name_len = e[..MAX_NAME + 1]
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(MAX_NAME);
        let (offset, size) = (
            be32(e, 72).unwrap_or(0) as usize,
            be32(e, 76).unwrap_or(0) as usize,
        );
        Some(StoredFile {
            // Checked in `parse`: printable ASCII.
            name: core::str::from_utf8(&e[..name_len]).unwrap_or(""),
            created: be64(e, 64).unwrap_or(0),
            data: &blob[offset..offset + size],
        })
    }

    /// The file called `name`.
    pub fn find(&self, name: &str) -> Option<StoredFile<'a>> {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let file = self.get(mid)?;
            match file.name.as_bytes().cmp(name.as_bytes()) {
                core::cmp::Ordering::Equal => return Some(file),
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// All files, in name order.
    pub fn iter(&self) -> impl Iterator<Item = StoredFile<'a>> + 'a {
        let store = *self;
        (0..store.count).filter_map(move |i| store.get(i))
    }
}

fn check_zero(bytes: &[u8], start: usize) -> Result<(), StoreError> {
    match bytes.iter().position(|&b| b != 0) {
        Some(i) => Err(StoreError::PaddingNotZero {
            // Inside the store, whose length is a 32-bit field.
            offset: u32::try_from(start + i).unwrap_or(u32::MAX),
        }),
        None => Ok(()),
    }
}
