//! Writing a store (host side, `alloc` only): collect files, then emit the canonical blob.

use super::{
    data_start, is_valid_name, ENTRY_LEN, HEADER_LEN, MAGIC, MAX_ENTRIES, MAX_NAME, VERSION,
};
use crate::crc32::crc32;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a file could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreBuildError {
    /// The name is empty, longer than 63 bytes, `.`/`..`, or uses a byte other than printable
    /// ASCII without `/` and `\`.
    BadName,
    /// A file of that name is already in the store.
    DuplicateName,
    /// The store would hold more than [`MAX_ENTRIES`] files.
    TooManyFiles,
    /// The store would exceed 4 GiB.
    TooLarge,
}

impl fmt::Display for StoreBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadName => "file name must be 1..=63 printable ASCII bytes without '/' or '\\'",
            Self::DuplicateName => "a file of that name is already in the store",
            Self::TooManyFiles => "too many files for one store",
            Self::TooLarge => "the store would exceed 4 GiB",
        })
    }
}

/// Collects files for a store.
#[derive(Clone, Debug, Default)]
pub struct StoreBuilder {
    files: BTreeMap<String, (u64, Vec<u8>)>,
    data_len: u64,
}

impl StoreBuilder {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file called `name`, created at `created` (seconds since 1970, 0 if unknown).
    pub fn add(&mut self, name: &str, created: u64, data: &[u8]) -> Result<(), StoreBuildError> {
        if !is_valid_name(name.as_bytes()) {
            return Err(StoreBuildError::BadName);
        }
        if self.files.contains_key(name) {
            return Err(StoreBuildError::DuplicateName);
        }
        if self.files.len() == MAX_ENTRIES {
            return Err(StoreBuildError::TooManyFiles);
        }
        let table = (HEADER_LEN + (self.files.len() + 1) * ENTRY_LEN) as u64;
        let data_len = self.data_len + data.len() as u64 + 16;
        if table + data_len > u64::from(u32::MAX) {
            return Err(StoreBuildError::TooLarge);
        }
        self.data_len = data_len;
        self.files.insert(name.into(), (created, data.to_vec()));
        Ok(())
    }

    /// Number of files added.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True if no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The store blob.
    pub fn build(&self) -> Vec<u8> {
        let table_end = HEADER_LEN + self.files.len() * ENTRY_LEN;
        let mut table = Vec::with_capacity(table_end - HEADER_LEN);
        let mut data = Vec::new();
        let mut at = data_start(table_end);
        for (name, (created, bytes)) in &self.files {
            let mut name_field = [0u8; MAX_NAME + 1];
            name_field[..name.len()].copy_from_slice(name.as_bytes());
            table.extend_from_slice(&name_field);
            table.extend_from_slice(&created.to_be_bytes());
            for v in [within_store(at), within_store(bytes.len()), crc32(bytes), 0] {
                table.extend_from_slice(&v.to_be_bytes());
            }
            data.resize(at - data_start(table_end), 0);
            data.extend_from_slice(bytes);
            at = data_start(at + bytes.len());
        }
        let total = data_start(table_end) + data.len();
        let total = data_start(total.max(table_end));
        let mut blob = Vec::with_capacity(total);
        blob.extend_from_slice(&MAGIC);
        blob.extend_from_slice(&VERSION.to_be_bytes());
        // A constant: 32.
        #[allow(clippy::cast_possible_truncation)]
        blob.extend_from_slice(&(HEADER_LEN as u16).to_be_bytes());
        for v in [
            within_store(self.files.len()),
            within_store(total),
            crc32(&table),
            0,
        ] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
        let header_crc = crc32(&blob);
        blob.extend_from_slice(&header_crc.to_be_bytes());
        blob.extend_from_slice(&table);
        blob.resize(data_start(table_end), 0);
        blob.extend_from_slice(&data);
        blob.resize(total, 0);
        blob
    }
}

/// An offset, length or count in a store [`StoreBuilder::add`] kept below 4 GiB (with at most
/// [`MAX_ENTRIES`] files), as its 32-bit field.
#[allow(clippy::cast_possible_truncation)] // fits: `add` refuses what would not
fn within_store(n: usize) -> u32 {
    n as u32
}
