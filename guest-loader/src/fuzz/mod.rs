//! The bodies of the fuzz targets (`fuzz/` holds the cargo-fuzz project that calls them), kept
//! here so that `cargo test` runs them too, over generated inputs. Each body must never panic on
//! any input; it panics only when an invariant of the parsed result is broken, which is a bug.
//!
//! - [`elf`]: validation, one-shot loading and streamed loading must agree, and a loaded image
//!   must hold exactly the file's bytes where the layout says.
//! - [`archive`]: any bytes as a gzip'd archive; what reaches the sink must be well-formed, and
//!   feeding in small pieces must give the same result as in one piece.
//! - [`tar_stream`]: any bytes as the *tar* stream, wrapped in a valid gzip container first, so
//!   the tar and ELF layers are reached without the fuzzer having to forge CRCs.
//! - [`store`]: a parsed store must answer lookups consistently and re-encode to the same bytes.

// Synthetic inputs, as the tests': byte patterns and the fields of small samples narrow on
// purpose (gzip's ISIZE is the length modulo 2^32).
#![allow(clippy::cast_possible_truncation)]

pub mod samples;

use crate::archive::{
    ArchiveImporter, EntryKind, GzipError, ImportError, ImportSink, ImportSummary, SinkError,
    TreeEntry,
};
use crate::crc32::{crc32, Crc32};
use crate::elf::{load_elf, parse_elf, ElfSpec, ElfStream, Machine};
use crate::store::{FileStore, StoreBuilder};
use alloc::vec;
use alloc::vec::Vec;
use guest_mem::{AddressField, GuestArch, GuestWindow, MIPS_RAM_WINDOW, PPC_RAM_WINDOW};

/// The spec and window a fuzz input asks for with its first byte.
fn elf_spec(selector: u8) -> ElfSpec {
    let size = (u32::from(selector >> 2) % 16 + 1) * 0x1_0000;
    let (machine, base, address) = match selector & 3 {
        0 => (Machine::Mips, MIPS_RAM_WINDOW, AddressField::Virtual),
        1 => (Machine::PowerPc, PPC_RAM_WINDOW, AddressField::Physical),
        2 => (Machine::Mips, MIPS_RAM_WINDOW, AddressField::Physical),
        _ => (Machine::PowerPc, PPC_RAM_WINDOW, AddressField::Virtual),
    };
    let window = GuestWindow::new(base, size)
        .unwrap_or(GuestWindow::new(base, 0x1_0000).unwrap_or_else(|_| unreachable!()));
    ElfSpec {
        machine,
        window,
        address,
    }
}

/// Fuzz body for the ELF loader. Input: `[spec selector, chunk size, image...]`; the selector
/// picks the machine, the placing address field and a window of 64 KiB..1 MiB.
pub fn elf(input: &[u8]) {
    let (Some(&selector), Some(&chunk)) = (input.first(), input.get(1)) else {
        return;
    };
    let image = &input[2..];
    let spec = elf_spec(selector);
    let chunk = usize::from(chunk).max(1);
    let parsed = parse_elf(image, &spec);
    // Validate-only streaming must reach the same verdict, for the same reason.
    let mut check = ElfStream::new(spec, image.len() as u64);
    let checked = image
        .chunks(chunk)
        .try_for_each(|piece| check.push(piece, None))
        .and_then(|()| check.finish(None));
    let layout = match (&parsed, &checked) {
        (Ok(layout), Ok(_)) => layout,
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "stream and one-shot disagree on the reason");
            return;
        }
        _ => panic!("parse {parsed:?} and stream {checked:?} disagree"),
    };
    let mut ram = vec![0xA5u8; spec.window.size() as usize];
    let loaded =
        load_elf(image, &spec, &mut ram).unwrap_or_else(|e| panic!("valid image not loaded: {e}"));
    assert_eq!(Ok(loaded), checked);
    let mut streamed_ram = vec![0xA5u8; spec.window.size() as usize];
    let mut stream = ElfStream::new(spec, image.len() as u64);
    for piece in image.chunks(chunk) {
        stream
            .push(piece, Some(&mut streamed_ram))
            .unwrap_or_else(|e| panic!("stream refused: {e}"));
    }
    assert_eq!(stream.finish(Some(&mut streamed_ram)), Ok(loaded));
    assert!(
        ram == streamed_ram,
        "streamed load differs from one-shot load"
    );
    for s in layout.segments() {
        assert!(s.window_end() <= u64::from(spec.window.size()));
        let (w, f) = (s.window_offset as usize, s.file_offset as usize);
        assert_eq!(
            &ram[w..w + s.file_size as usize],
            &image[f..f + s.file_size as usize]
        );
        assert!(ram[w + s.file_size as usize..w + s.mem_size as usize]
            .iter()
            .all(|&b| b == 0));
    }
    assert!(loaded.entry_offset < spec.window.size());
    assert!(u64::from(loaded.end_offset) <= u64::from(spec.window.size()));
}

/// A sink that checks what it receives is well-formed and keeps a digest of it.
#[derive(Default, Debug)]
struct CheckingSink {
    kernel_expected: u64,
    kernel_seen: u64,
    file_expected: u64,
    file_seen: u64,
    in_entry: bool,
    entries: u32,
    /// CRC of everything received, in order: independent of how it was cut.
    digest: u32,
    running: Crc32,
}

impl CheckingSink {
    fn mix(&mut self, bytes: &[u8]) {
        self.running.update(bytes);
        self.digest = self.running.value();
    }
}

impl ImportSink for CheckingSink {
    fn kernel_start(&mut self, size: u64) -> Result<(), SinkError> {
        assert!(!self.in_entry);
        self.in_entry = true;
        self.kernel_expected = size;
        Ok(())
    }
    fn kernel_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.kernel_seen += data.len() as u64;
        assert!(self.kernel_seen <= self.kernel_expected);
        self.mix(data);
        Ok(())
    }
    fn entry_start(&mut self, e: &TreeEntry<'_>) -> Result<(), SinkError> {
        assert!(!self.in_entry);
        self.in_entry = true;
        let p = e.path;
        assert!(!p.is_empty() && p != b"kernel" && !p.starts_with(b"/") && !p.ends_with(b"/"));
        assert!(p
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b".."));
        assert!(!p.contains(&0) && p.len() <= crate::archive::MAX_PATH);
        if let EntryKind::HardLink { target } = e.kind {
            assert!(!target.is_empty() && !target.starts_with(b"/"));
        }
        if e.kind != EntryKind::File {
            assert_eq!(e.size, 0);
        }
        assert!(e.mode <= 0o7777);
        self.file_expected = e.size;
        self.file_seen = 0;
        self.entries += 1;
        self.mix(p);
        Ok(())
    }
    fn file_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.file_seen += data.len() as u64;
        assert!(self.file_seen <= self.file_expected);
        self.mix(data);
        Ok(())
    }
    fn entry_end(&mut self) -> Result<(), SinkError> {
        assert!(self.in_entry);
        self.in_entry = false;
        Ok(())
    }
}

fn import_in_pieces(
    archive: &[u8],
    piece: usize,
) -> (Result<ImportSummary, ImportError>, CheckingSink) {
    let spec =
        ElfSpec::for_guest(&GuestArch::MIPS32, 0x100_0000).unwrap_or_else(|_| unreachable!());
    let mut sink = CheckingSink::default();
    let mut importer = ArchiveImporter::new(spec, archive.len() as u64);
    let mut last = 0;
    for chunk in archive.chunks(piece.max(1)) {
        if importer.push(chunk, &mut sink).is_err() {
            break;
        }
        assert!(importer.percent() >= last && importer.percent() <= 99);
        last = importer.percent();
    }
    let result = importer.finish(&mut sink);
    if result.is_ok() {
        assert_eq!(sink.kernel_seen, sink.kernel_expected);
        assert!(!sink.in_entry);
    }
    (result, sink)
}

/// Fuzz body for the archive importer: `input` is the compressed archive.
pub fn archive(input: &[u8]) {
    let (whole, whole_sink) = import_in_pieces(input, usize::MAX);
    let piece = input.first().map_or(1, |&b| usize::from(b % 61) + 1);
    let (pieces, pieces_sink) = import_in_pieces(input, piece);
    assert_eq!(
        comparable(whole),
        comparable(pieces),
        "result depends on how the input is cut"
    );
    if whole.is_ok() {
        assert_eq!(
            (
                whole_sink.entries,
                whole_sink.kernel_seen,
                whole_sink.digest
            ),
            (
                pieces_sink.entries,
                pieces_sink.kernel_seen,
                pieces_sink.digest
            )
        );
    }
}

/// The inflater may read ahead by a few bytes before it notices corruption, so the reported
/// position of corrupt DEFLATE data can depend on how the input was cut; nothing else may.
fn comparable(r: Result<ImportSummary, ImportError>) -> Result<ImportSummary, ImportError> {
    match r {
        Err(ImportError::Gzip(GzipError::CorruptData { .. })) => {
            Err(ImportError::Gzip(GzipError::CorruptData { at: 0 }))
        }
        other => other,
    }
}

/// Wraps `data` in a gzip member using stored (uncompressed) DEFLATE blocks.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3];
    let mut blocks = data.chunks(0xFFFF).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// Fuzz body for the tar and kernel layers: `input` is the uncompressed tar stream.
pub fn tar_stream(input: &[u8]) {
    archive(&gzip_stored(input));
}

/// Fuzz body for the file store parser.
pub fn store(input: &[u8]) {
    let Ok(store) = FileStore::parse(input) else {
        return;
    };
    let mut again = StoreBuilder::new();
    let mut previous: Option<&str> = None;
    for (i, f) in store.iter().enumerate() {
        assert!(previous.is_none_or(|p| p < f.name));
        previous = Some(f.name);
        assert_eq!(store.get(i), Some(f));
        assert_eq!(store.find(f.name), Some(f));
        assert!(again.add(f.name, f.created, f.data).is_ok());
    }
    assert_eq!(store.iter().count(), store.len());
    assert_eq!(
        again.build(),
        &input[..store.total_len()],
        "a valid store is not canonical"
    );
}

#[cfg(test)]
mod tests;
