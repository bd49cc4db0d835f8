//! Host-only: adding files from disk to a store under their base names (feature `std`), as
//! `./x run --file PATH` does.

use super::{StoreBuildError, StoreBuilder};
use core::fmt;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// Why a file on disk could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddFileError {
    /// The file could not be read.
    Io(std::io::ErrorKind),
    /// The path has no base name that is valid UTF-8.
    NoBaseName,
    /// The store refused it.
    Store(StoreBuildError),
}

impl fmt::Display for AddFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(kind) => write!(f, "cannot read the file: {kind}"),
            Self::NoBaseName => f.write_str("the path has no UTF-8 base name"),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AddFileError {}

impl StoreBuilder {
    /// Adds the file at `path` under its base name, with its modification time as creation time
    /// (0 if the platform cannot tell).
    pub fn add_file(&mut self, path: &Path) -> Result<(), AddFileError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or(AddFileError::NoBaseName)?;
        let data = std::fs::read(path).map_err(|e| AddFileError::Io(e.kind()))?;
        let created = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        self.add(name, created, &data).map_err(AddFileError::Store)
    }
}
