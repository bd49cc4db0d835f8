//! The import pipeline: compressed bytes → [`GzipDecoder`] → [`TarReader`] → entry routing:
//! `kernel` through an [`ElfStream`] check to [`ImportSink::kernel_data`], everything else to the
//! tree side of the sink.

use super::error::{ImportError, SinkError};
use super::gzip::GzipDecoder;
use super::tar::{TarReader, TarVisitor};
use super::{EntryKind, ImportSink, TreeEntry};
use crate::elf::{ElfSpec, ElfStream, LoadedImage};
use alloc::boxed::Box;

/// What an import found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    /// Where the kernel will sit in the guest window.
    pub kernel: LoadedImage,
    /// Size of the kernel file in bytes.
    pub kernel_size: u64,
    /// Regular files in the tree.
    pub files: u32,
    /// Directories in the tree (the root itself not counted).
    pub directories: u32,
    /// Symbolic links.
    pub symlinks: u32,
    /// Hard links.
    pub hard_links: u32,
    /// Device nodes and FIFOs, which are skipped.
    pub skipped_special: u32,
    /// Bytes of regular file data in the tree.
    pub file_bytes: u64,
    /// Length of the compressed archive.
    pub compressed_len: u64,
    /// Length of the decompressed tar stream.
    pub tar_len: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Current {
    None,
    Kernel,
    Tree,
}

/// Routes tar entries: the kernel to its ELF check, the rest to the tree.
struct Router {
    spec: ElfSpec,
    kernel: Option<Box<ElfStream>>,
    kernel_image: Option<LoadedImage>,
    kernel_size: u64,
    current: Current,
    current_at: u64,
    counts: ImportSummary,
}

struct Visit<'a, S: ImportSink> {
    router: &'a mut Router,
    sink: &'a mut S,
}

impl<S: ImportSink> Visit<'_, S> {
    fn sink_result(&self, r: Result<(), SinkError>) -> Result<(), ImportError> {
        r.map_err(|error| ImportError::Sink {
            error,
            at: self.router.current_at,
        })
    }
}

impl<S: ImportSink> TarVisitor for Visit<'_, S> {
    fn entry(&mut self, entry: &TreeEntry<'_>, at: u64) -> Result<(), ImportError> {
        let r = &mut *self.router;
        r.current_at = at;
        if entry.path == b"kernel" {
            if r.kernel.is_some() {
                return Err(ImportError::DuplicateKernel { at });
            }
            if entry.kind != EntryKind::File {
                return Err(ImportError::KernelNotRegularFile { at });
            }
            r.kernel = Some(Box::new(ElfStream::new(r.spec, entry.size)));
            r.kernel_size = entry.size;
            r.current = Current::Kernel;
            let res = self.sink.kernel_start(entry.size);
            return self.sink_result(res);
        }
        let c = &mut r.counts;
        match entry.kind {
            EntryKind::File => c.files += 1,
            EntryKind::Directory => c.directories += 1,
            EntryKind::Symlink { .. } => c.symlinks += 1,
            EntryKind::HardLink { .. } => c.hard_links += 1,
        }
        r.current = Current::Tree;
        let res = self.sink.entry_start(entry);
        self.sink_result(res)
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), ImportError> {
        let res = match self.router.current {
            Current::Kernel => {
                if let Some(elf) = self.router.kernel.as_mut() {
                    elf.push(bytes, None).map_err(ImportError::Kernel)?;
                }
                self.sink.kernel_data(bytes)
            }
            Current::Tree => {
                self.router.counts.file_bytes += bytes.len() as u64;
                self.sink.file_data(bytes)
            }
            Current::None => Ok(()),
        };
        self.sink_result(res)
    }

    fn entry_end(&mut self) -> Result<(), ImportError> {
        if self.router.current == Current::Kernel {
            if let Some(elf) = self.router.kernel.as_ref() {
                self.router.kernel_image = Some(elf.finish(None).map_err(ImportError::Kernel)?);
            }
        }
        self.router.current = Current::None;
        let res = self.sink.entry_end();
        self.sink_result(res)
    }

    fn skipped(&mut self) {
        self.router.counts.skipped_special += 1;
    }
}

/// A push-based importer: feed the compressed archive in pieces of any size with
/// [`push`](Self::push), then call [`finish`](Self::finish). After an error every later call
/// returns that error again.
pub struct ArchiveImporter {
    gzip: GzipDecoder,
    tar: TarReader,
    router: Router,
    total_len: u64,
    consumed: u64,
    failed: Option<ImportError>,
}

impl ArchiveImporter {
    /// An importer for an archive of `total_len` compressed bytes (used for progress only)
    /// whose kernel must satisfy `spec`. Allocates all its memory here.
    pub fn new(spec: ElfSpec, total_len: u64) -> Self {
        let empty = LoadedImage {
            entry: 0,
            entry_offset: 0,
            start_offset: 0,
            end_offset: 0,
            end: 0,
            file_extent: 0,
        };
        Self {
            gzip: GzipDecoder::new(),
            tar: TarReader::new(),
            router: Router {
                spec,
                kernel: None,
                kernel_image: None,
                kernel_size: 0,
                current: Current::None,
                current_at: 0,
                counts: ImportSummary {
                    kernel: empty,
                    kernel_size: 0,
                    files: 0,
                    directories: 0,
                    symlinks: 0,
                    hard_links: 0,
                    skipped_special: 0,
                    file_bytes: 0,
                    compressed_len: 0,
                    tar_len: 0,
                },
            },
            total_len,
            consumed: 0,
            failed: None,
        }
    }

    /// Percentage of the compressed input consumed, at most 99 until [`finish`](Self::finish)
    /// succeeds.
    pub fn percent(&self) -> u8 {
        match (self.total_len, self.failed) {
            (0, _) | (_, Some(_)) => 0,
            (total, None) => (self.consumed.saturating_mul(100) / total).min(99) as u8,
        }
    }

    /// Feeds the next compressed bytes; decoded entries go to `sink` right away.
    pub fn push<S: ImportSink>(&mut self, chunk: &[u8], sink: &mut S) -> Result<(), ImportError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let Self {
            gzip, tar, router, ..
        } = self;
        let mut visit = Visit { router, sink };
        let r = gzip.push(chunk, &mut |out| tar.push(out, &mut visit));
        self.consumed += chunk.len() as u64;
        r.map_err(|e| *self.failed.insert(e))
    }

    /// Ends the input: checks the gzip trailer, the tar end marker and that a kernel was found.
    pub fn finish<S: ImportSink>(&mut self, sink: &mut S) -> Result<ImportSummary, ImportError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.finish_inner(sink);
        r.map_err(|e| *self.failed.insert(e))
    }

    fn finish_inner<S: ImportSink>(&mut self, sink: &mut S) -> Result<ImportSummary, ImportError> {
        let Self {
            gzip, tar, router, ..
        } = self;
        let mut visit = Visit { router, sink };
        gzip.finish(&mut |out| tar.push(out, &mut visit))?;
        tar.finish()?;
        let kernel = self.router.kernel_image.ok_or(ImportError::MissingKernel)?;
        Ok(ImportSummary {
            kernel,
            kernel_size: self.router.kernel_size,
            compressed_len: self.consumed,
            tar_len: self.gzip.output_len(),
            ..self.router.counts
        })
    }
}
