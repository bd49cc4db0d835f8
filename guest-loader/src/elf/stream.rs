//! Loading an ELF image whose bytes arrive in pieces (from the archive inflater, a network
//! upload...). The first bytes, up to the end of the program header table (at most 4 KiB), are
//! buffered and checked before anything is written; after that every piece is copied straight to
//! the segments it belongs to, and [`ElfStream::finish`] zeroes the bss.
//!
//! With no guest RAM buffer (`None`), the stream only validates: this is how the archive importer
//! checks a kernel while passing its bytes on.

use super::header::{self, ElfLayout, FileHeader, EHDR_SIZE, HEADER_LIMIT};
use super::{check_window_buffer, ElfError, ElfSpec, LoadedImage};
use crate::bytes::index;

/// A push-based ELF loader/validator for a file of known length.
#[derive(Clone, Debug)]
pub struct ElfStream {
    spec: ElfSpec,
    file_len: u64,
    received: u64,
    prefix: [u8; HEADER_LIMIT],
    prefix_len: usize,
    file_header: Option<FileHeader>,
    layout: Option<ElfLayout>,
}

impl ElfStream {
    /// A stream for a `file_len`-byte image that must satisfy `spec`.
    pub fn new(spec: ElfSpec, file_len: u64) -> Self {
        Self {
            spec,
            file_len,
            received: 0,
            prefix: [0; HEADER_LIMIT],
            prefix_len: 0,
            file_header: None,
            layout: None,
        }
    }

    /// The validated layout, once the headers have arrived.
    pub fn layout(&self) -> Option<&ElfLayout> {
        self.layout.as_ref()
    }

    /// Bytes pushed so far.
    pub const fn received(&self) -> u64 {
        self.received
    }

    /// Feeds the next `chunk` of the file; with `guest_ram`, loads what it can.
    pub fn push(
        &mut self,
        mut chunk: &[u8],
        mut guest_ram: Option<&mut [u8]>,
    ) -> Result<(), ElfError> {
        if let Some(ram) = guest_ram.as_deref() {
            check_window_buffer(&self.spec, ram)?;
        }
        if chunk.len() as u64 > self.file_len - self.received {
            return Err(ElfError::ExcessInput {
                expected: self.file_len,
            });
        }
        if self.layout.is_none() {
            let taken = self.take_header_bytes(chunk)?;
            chunk = &chunk[taken..];
            if self.layout.is_none() {
                return Ok(());
            }
            // The headers just completed: the buffered bytes may belong to a segment too.
            if let Some(ram) = guest_ram.as_deref_mut() {
                self.copy_to_segments(0, &self.prefix[..self.prefix_len], ram);
            }
        }
        if let Some(ram) = guest_ram {
            self.copy_to_segments(self.received, chunk, ram);
        }
        self.received += chunk.len() as u64;
        Ok(())
    }

    /// Ends the stream: checks every announced byte arrived, zeroes the bss (with `guest_ram`),
    /// and tells where the image sits.
    pub fn finish(&self, guest_ram: Option<&mut [u8]>) -> Result<LoadedImage, ElfError> {
        if self.file_len < EHDR_SIZE as u64 {
            return Err(ElfError::TooShort { len: self.file_len });
        }
        let layout = match (&self.layout, self.received == self.file_len) {
            (Some(layout), true) => layout,
            _ => {
                return Err(ElfError::Truncated {
                    received: self.received,
                    expected: self.file_len,
                })
            }
        };
        if let Some(ram) = guest_ram {
            check_window_buffer(&self.spec, ram)?;
            for s in layout.segments() {
                let at = s.window_offset as usize;
                ram[at + s.file_size as usize..at + s.mem_size as usize].fill(0);
            }
        }
        Ok(LoadedImage::from_layout(layout, &self.spec.window))
    }

    /// Buffers header bytes from the front of `chunk`; returns how many it took. Parses the file
    /// header at 52 bytes and the layout once the program header table is complete.
    fn take_header_bytes(&mut self, chunk: &[u8]) -> Result<usize, ElfError> {
        let mut taken = 0;
        loop {
            let needed = match self.file_header {
                None => EHDR_SIZE.min(index(self.file_len)),
                Some(h) => h.phdr_end,
            };
            let n = (needed - self.prefix_len).min(chunk.len() - taken);
            self.prefix[self.prefix_len..self.prefix_len + n]
                .copy_from_slice(&chunk[taken..taken + n]);
            self.prefix_len += n;
            taken += n;
            self.received += n as u64;
            if self.prefix_len < needed {
                return Ok(taken);
            }
            match self.file_header {
                None => {
                    let h = header::parse_file_header(
                        &self.prefix[..self.prefix_len],
                        self.file_len,
                        &self.spec,
                    )?;
                    self.file_header = Some(h);
                }
                Some(h) => {
                    let layout = header::parse_program_headers(
                        &h,
                        &self.prefix[..self.prefix_len],
                        self.file_len,
                        &self.spec,
                    )?;
                    self.layout = Some(layout);
                    return Ok(taken);
                }
            }
        }
    }

    /// Copies the file bytes `data` (starting at file offset `at`) into the segments they belong to.
    fn copy_to_segments(&self, at: u64, data: &[u8], ram: &mut [u8]) {
        let Some(layout) = &self.layout else { return };
        let end = at + data.len() as u64;
        for s in layout.segments() {
            let seg_start = u64::from(s.file_offset);
            let seg_end = seg_start + u64::from(s.file_size);
            let from = at.max(seg_start);
            let to = end.min(seg_end);
            if from >= to {
                continue;
            }
            // Offsets inside a segment (32-bit sizes) and inside `data`.
            let dst = s.window_offset as usize + index(from - seg_start);
            let src = index(from - at);
            let len = index(to - from);
            ram[dst..dst + len].copy_from_slice(&data[src..src + len]);
        }
    }
}
