//! The `/metarouter import-image` archive: a gzip'd tar whose `kernel` (or `./kernel`) is the
//! guest's ELF kernel and whose other entries are the guest's root file tree.
//!
//! Decoding is streaming with fixed memory (about 60 KiB, allocated once when the importer is
//! made, whatever the archive's size): the gzip layer inflates into a 32 KiB window, the tar
//! layer keeps one header block and bounded name buffers, and every byte is passed on to the
//! caller's [`ImportSink`] as soon as it is decoded. The kernel is checked as an ELF image for
//! the caller's [`ElfSpec`] while it streams through.
//!
//! # The no-half-import contract
//!
//! Errors can only be known once the bytes that show them are decoded (a bad CRC at the very end
//! of the file, a truncated upload), so the sink may have received entries when an import fails.
//! A caller therefore either:
//! - writes what the sink receives into a scratch area and commits it only when [`import_archive`]
//!   (or [`ArchiveImporter::finish`]) returns `Ok` — discarding the scratch area on `Err`; or
//! - first runs [`check_archive`] (the same decoding with a sink that keeps nothing), and only if
//!   it succeeds runs [`import_archive`] on the same, unchanged bytes. The second pass meets no
//!   archive error; only the sink's own errors remain possible.
//!
//! The kernel is not part of the file tree: it goes to [`ImportSink::kernel_data`] only.

mod error;
mod gzip;
mod importer;
mod path;
mod tar;
mod tar_fields;

pub use error::{GzipError, ImportError, SinkError, TarError};
pub use importer::{ArchiveImporter, ImportSummary};

use crate::elf::ElfSpec;

/// Longest path or link target accepted, in bytes.
pub const MAX_PATH: usize = 1024;
/// Largest pax extended header accepted, in bytes.
pub const MAX_PAX: usize = 4096;

/// What a tree entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind<'a> {
    /// A regular file; its bytes follow through [`ImportSink::file_data`].
    File,
    /// A directory.
    Directory,
    /// A symbolic link to `target` (kept as written: it is resolved by the guest).
    Symlink {
        /// The link's text.
        target: &'a [u8],
    },
    /// A hard link to the earlier entry at `target` (a normalized tree path).
    HardLink {
        /// The tree path of the linked entry.
        target: &'a [u8],
    },
}

/// One entry of the guest's root file tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeEntry<'a> {
    /// Path from the guest's root: `/`-separated, no leading `/` or `./`, no `.`/`..`/empty
    /// components, no trailing `/`. Bytes, as in the archive (usually UTF-8).
    pub path: &'a [u8],
    /// What it is.
    pub kind: EntryKind<'a>,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time, seconds since 1970.
    pub mtime: u64,
    /// Bytes that follow for a regular file; 0 for everything else.
    pub size: u64,
}

/// Receives an import as it is decoded. Every method may refuse with a [`SinkError`], which
/// stops the import.
pub trait ImportSink {
    /// The kernel starts; `size` bytes follow through [`kernel_data`](Self::kernel_data).
    fn kernel_start(&mut self, size: u64) -> Result<(), SinkError>;
    /// The next piece of the kernel file.
    fn kernel_data(&mut self, data: &[u8]) -> Result<(), SinkError>;
    /// A tree entry starts; for a regular file `entry.size` bytes follow through
    /// [`file_data`](Self::file_data), then [`entry_end`](Self::entry_end) is called (for every
    /// kind of entry).
    fn entry_start(&mut self, entry: &TreeEntry<'_>) -> Result<(), SinkError>;
    /// The next piece of the current regular file.
    fn file_data(&mut self, data: &[u8]) -> Result<(), SinkError>;
    /// The current entry (or the kernel) is complete.
    fn entry_end(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A sink that keeps nothing: for validating an archive.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl ImportSink for NullSink {
    fn kernel_start(&mut self, _: u64) -> Result<(), SinkError> {
        Ok(())
    }
    fn kernel_data(&mut self, _: &[u8]) -> Result<(), SinkError> {
        Ok(())
    }
    fn entry_start(&mut self, _: &TreeEntry<'_>) -> Result<(), SinkError> {
        Ok(())
    }
    fn file_data(&mut self, _: &[u8]) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Compressed bytes fed to the importer at a time by [`import_archive`].
const FEED_CHUNK: usize = 16 * 1024;

/// Imports a whole archive held in memory. `progress` is called with the percentage of the
/// compressed input consumed each time it grows: up to 99 while decoding, and 100 only once the
/// archive has been fully checked (so a printed `imported: 100%` means success).
pub fn import_archive<S: ImportSink>(
    archive: &[u8],
    spec: &ElfSpec,
    sink: &mut S,
    progress: &mut dyn FnMut(u8),
) -> Result<ImportSummary, ImportError> {
    let mut importer = ArchiveImporter::new(*spec, archive.len() as u64);
    let mut shown = None;
    for chunk in archive.chunks(FEED_CHUNK) {
        importer.push(chunk, sink)?;
        let p = importer.percent();
        if shown != Some(p) {
            shown = Some(p);
            progress(p);
        }
    }
    let summary = importer.finish(sink)?;
    progress(100);
    Ok(summary)
}

/// Decodes and checks a whole archive without keeping anything (the first pass of the
/// two-pass import described in the module documentation).
pub fn check_archive(archive: &[u8], spec: &ElfSpec) -> Result<ImportSummary, ImportError> {
    import_archive(archive, spec, &mut NullSink, &mut |_| {})
}

#[cfg(test)]
pub(crate) mod tests;
