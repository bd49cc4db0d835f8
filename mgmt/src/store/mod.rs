//! The power-cut-safe configuration store on raw flash: a snapshot of the whole configuration
//! followed by a journal of changes, so that saving one change costs one small append, not a
//! rewrite of the configuration.
//!
//! The region is split in two halves, A and B. Each half holds one generation: a snapshot and
//! the journal records appended after it.
//!
//! ```text
//! offset 0:  snapshot header: magic "MGC2" | generation u32 | length u32 | payload CRC-32
//!            | 0 u32 | header CRC-32
//! offset 24: snapshot payload (length bytes), padded with 0xFF to a multiple of 8
//! then, one after the other, journal records:
//!            header:  magic "MGJ1" | length u32 | 0 u32 | header CRC-32      (16 bytes)
//!            payload: length bytes, padded with 0xFF to a multiple of 8
//!            trailer: payload CRC-32 | "DONE"                                 (8 bytes)
//! then erased flash (0xFF) to the end of the half
//! ```
//!
//! (all big-endian). Every record starts on an 8-byte boundary and no flash word is ever
//! programmed twice: some flash models (QEMU's CFI flash among them) overwrite rather than AND
//! a second program of the same word, so a shared word would corrupt its first record.
//!
//! Writing a new generation (compaction) goes to the half that does not hold the newest one:
//! erase the whole half, program the snapshot payload, then its header last. The header is the
//! commit: until its last byte is programmed the half fails its checks and the other half still
//! holds the previous generation untouched. Appending a record programs its header, then the
//! payload, then the trailer; a record counts only once its trailer matches. A power cut during
//! an append leaves a torn record that loading skips (its header gives its length) or, if the
//! header itself is torn, the end of the readable journal; either way every record before it
//! is intact, and the store writes a fresh generation before it appends again. So a power cut
//! at any step leaves either the configuration before the change or the one after it.
//!
//! Loading takes the good half with the newer generation and returns its snapshot and the
//! journal records in order; the shell replays them. A half in the first format of this store
//! ("MGC1": a snapshot without a journal) loads as a snapshot; the next save writes a new
//! generation.

pub mod crc32;
pub mod mem_flash;
#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::platform::{Flash, FlashError};
use crc32::crc32;

const SNAPSHOT_MAGIC: [u8; 4] = *b"MGC2";
const FIRST_FORMAT_MAGIC: [u8; 4] = *b"MGC1";
const RECORD_MAGIC: [u8; 4] = *b"MGJ1";
const TRAILER_MARK: [u8; 4] = *b"DONE";
const SNAPSHOT_HEADER: u32 = 24;
const RECORD_HEADER: u32 = 16;
const RECORD_TRAILER: u32 = 8;
/// Records and snapshots are padded to this, so no flash word holds parts of two of them.
const ALIGN: u32 = 8;
/// Payloads are programmed in pieces of this size (bounded stack use, steady progress).
const CHUNK: usize = 256;

/// Why a save failed. What was saved before is intact in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The flash region is smaller than two erase blocks (platform's configuration).
    RegionTooSmall,
    /// The configuration does not fit in half the region (the user's configuration is too big).
    TooLarge,
    /// The journal cannot take this record: write a new generation with
    /// [`ConfigStore::compact`] (the record's change goes into its snapshot).
    NeedsCompaction,
    /// The flash failed.
    Flash(FlashError),
}

impl From<FlashError> for StoreError {
    fn from(error: FlashError) -> StoreError {
        StoreError::Flash(error)
    }
}

/// What loading found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// Nothing was ever saved (both halves erased).
    Empty,
    /// A good generation: the snapshot and the journal records after it, oldest first.
    Config {
        snapshot: String,
        journal: Vec<String>,
        generation: u32,
        /// The other half held a generation that failed its checks (an interrupted
        /// compaction, or corruption of an older generation).
        damaged_other: bool,
        /// The journal ended in a record that an interrupted append left incomplete (it is
        /// not part of the configuration).
        torn_tail: bool,
        /// A record in the middle of the journal failed its checks (damaged flash): the
        /// configuration is what the records before it give; later records are lost.
        damaged_journal: bool,
        /// Found where an earlier layout of the region kept it ([`Flash::earlier_copies`]);
        /// the next save writes it where it belongs now.
        moved: bool,
    },
    /// No good generation, but the region is not blank: the store is corrupt.
    Corrupt,
    /// The flash could not be read.
    Unreadable(FlashError),
}

/// Where the newest generation is and how far its journal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Current {
    half: u32,
    generation: u32,
    snapshot_bytes: u32,
    /// Offset (in the half) where the next record goes.
    end: u32,
    journal_bytes: u32,
    /// Appending is not safe (torn header, first format, or a failed append): the next save
    /// writes a new generation.
    sealed: bool,
}

/// The store: remembers the newest generation and the end of its journal.
#[derive(Clone, Debug)]
pub struct ConfigStore {
    current: Option<Current>,
    /// A new generation should be written soon: the other half failed its checks at load (a
    /// compaction overwrites it, so the damage is not reported at every boot), or the
    /// configuration was found where an earlier layout kept it.
    rewrite_soon: bool,
}

fn half_size(flash: &dyn Flash) -> Result<u32, StoreError> {
    let block = flash.erase_block_size().max(1);
    let blocks = flash.size() / block;
    if blocks < 2 {
        return Err(StoreError::RegionTooSmall);
    }
    Ok(blocks / 2 * block)
}

fn align(n: u32) -> u32 {
    n.div_ceil(ALIGN) * ALIGN
}

fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// A half as read from flash.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Half {
    Blank,
    Bad,
    Good(Generation),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Generation {
    generation: u32,
    snapshot: Vec<u8>,
    journal: Vec<Vec<u8>>,
    journal_bytes: u32,
    end: u32,
    torn_tail: bool,
    damaged: bool,
    sealed: bool,
}

fn read_half(flash: &mut dyn Flash, base: u32, size: u32) -> Result<Half, FlashError> {
    let mut header = [0u8; SNAPSHOT_HEADER as usize];
    flash.read(base, &mut header)?;
    if header.iter().all(|&b| b == 0xFF) {
        return Ok(Half::Blank);
    }
    let first_format = header[..4] == FIRST_FORMAT_MAGIC;
    if (header[..4] != SNAPSHOT_MAGIC && !first_format)
        || word(&header, 20) != crc32(0, &header[..20])
    {
        return Ok(Half::Bad);
    }
    let (generation, length, payload_crc) = (word(&header, 4), word(&header, 8), word(&header, 12));
    if length > size - SNAPSHOT_HEADER {
        return Ok(Half::Bad);
    }
    let mut snapshot = vec![0u8; length as usize];
    flash.read(base + SNAPSHOT_HEADER, &mut snapshot)?;
    if crc32(0, &snapshot) != payload_crc {
        return Ok(Half::Bad);
    }
    let mut found = Generation {
        generation,
        snapshot,
        journal: Vec::new(),
        journal_bytes: 0,
        end: align(SNAPSHOT_HEADER + length),
        torn_tail: false,
        damaged: false,
        // The first format erased only the blocks its copy used: the rest may hold old data.
        sealed: first_format,
    };
    if !first_format {
        read_journal(flash, base, size, &mut found)?;
    }
    Ok(Half::Good(found))
}

/// Reads the journal records after the snapshot, up to the first blank header or the first
/// record that fails its checks.
fn read_journal(
    flash: &mut dyn Flash,
    base: u32,
    size: u32,
    found: &mut Generation,
) -> Result<(), FlashError> {
    let mut at = found.end;
    while at + RECORD_HEADER + RECORD_TRAILER <= size {
        let mut header = [0u8; RECORD_HEADER as usize];
        flash.read(base + at, &mut header)?;
        if header.iter().all(|&b| b == 0xFF) {
            break;
        }
        let length = word(&header, 4);
        let fits =
            u64::from(at) + u64::from(RECORD_HEADER + RECORD_TRAILER) + u64::from(align(length))
                <= u64::from(size);
        let mut good =
            header[..4] == RECORD_MAGIC && word(&header, 12) == crc32(0, &header[..12]) && fits;
        let mut next = at;
        if good {
            let mut payload = vec![0u8; length as usize];
            flash.read(base + at + RECORD_HEADER, &mut payload)?;
            let mut trailer = [0u8; RECORD_TRAILER as usize];
            flash.read(base + at + RECORD_HEADER + align(length), &mut trailer)?;
            next = at + RECORD_HEADER + align(length) + RECORD_TRAILER;
            good = trailer[4..] == TRAILER_MARK && word(&trailer, 0) == crc32(0, &payload);
            if good {
                found.journal.push(payload);
                found.journal_bytes += next - at;
                at = next;
                continue;
            }
        }
        // A record an interrupted append left incomplete: the journal ends before it, and
        // nothing after it can be trusted to be erased, so the next save starts a new
        // generation. Complete records after it mean damage, not a power cut.
        found.torn_tail = true;
        found.sealed = true;
        if good_header_follows(flash, base, size, next)? {
            found.damaged = true;
        }
        break;
    }
    found.end = at;
    Ok(())
}

/// Whether a well-formed record header sits at `at` (after a bad record whose length is known).
fn good_header_follows(
    flash: &mut dyn Flash,
    base: u32,
    size: u32,
    at: u32,
) -> Result<bool, FlashError> {
    if at + RECORD_HEADER > size {
        return Ok(false);
    }
    let mut header = [0u8; RECORD_HEADER as usize];
    flash.read(base + at, &mut header)?;
    Ok(header[..4] == RECORD_MAGIC && word(&header, 12) == crc32(0, &header[..12]))
}

/// Whether generation `a` is newer than `b` (wrapping).
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl ConfigStore {
    /// Reads both halves and returns the newest good generation.
    pub fn load(flash: &mut dyn Flash) -> (ConfigStore, Loaded) {
        let mut store = ConfigStore {
            current: None,
            rewrite_soon: false,
        };
        let Ok(size) = half_size(flash) else {
            return (store, Loaded::Corrupt);
        };
        let mut halves = Vec::with_capacity(2);
        for index in 0..2u32 {
            match read_half(flash, index * size, size) {
                Ok(half) => halves.push(half),
                Err(error) => return (store, Loaded::Unreadable(error)),
            }
        }
        let best = (0..2usize)
            .filter_map(|i| match &halves[i] {
                Half::Good(g) => Some((i, g.generation)),
                _ => None,
            })
            .reduce(|a, b| if newer(b.1, a.1) { b } else { a });
        let Some((index, _)) = best else {
            let blank = halves.iter().all(|h| *h == Half::Blank);
            if blank {
                if let Some(loaded) = earlier_copy(flash) {
                    store.rewrite_soon = true;
                    return (store, loaded);
                }
            }
            return (
                store,
                if blank {
                    Loaded::Empty
                } else {
                    Loaded::Corrupt
                },
            );
        };
        let damaged_other = halves[1 - index] == Half::Bad;
        store.rewrite_soon = damaged_other;
        let Half::Good(found) = halves.swap_remove(index) else {
            return (store, Loaded::Corrupt);
        };
        let Ok(snapshot) = String::from_utf8(found.snapshot) else {
            return (store, Loaded::Corrupt);
        };
        let mut journal = Vec::with_capacity(found.journal.len());
        for record in found.journal {
            match String::from_utf8(record) {
                Ok(text) => journal.push(text),
                Err(_) => return (store, Loaded::Corrupt),
            }
        }
        store.current = Some(Current {
            half: index as u32,
            generation: found.generation,
            snapshot_bytes: snapshot.len() as u32,
            end: found.end,
            journal_bytes: found.journal_bytes,
            sealed: found.sealed,
        });
        let loaded = Loaded::Config {
            snapshot,
            journal,
            generation: found.generation,
            damaged_other,
            torn_tail: found.torn_tail && !found.damaged,
            damaged_journal: found.damaged,
            moved: false,
        };
        (store, loaded)
    }

    /// Appends one journal record (a change) after the newest generation.
    /// `Err(NeedsCompaction)`: nothing was written; save the whole configuration with
    /// [`ConfigStore::compact`] instead. After a flash error the record may be torn; it is then
    /// not part of the configuration, and the next save writes a new generation.
    pub fn append(&mut self, flash: &mut dyn Flash, record: &[u8]) -> Result<(), StoreError> {
        let size = half_size(flash)?;
        let Some(current) = self.current.as_mut() else {
            return Err(StoreError::NeedsCompaction);
        };
        let length = u32::try_from(record.len()).map_err(|_| StoreError::NeedsCompaction)?;
        let total = u64::from(RECORD_HEADER) + u64::from(align(length)) + u64::from(RECORD_TRAILER);
        if current.sealed || u64::from(current.end) + total > u64::from(size) {
            return Err(StoreError::NeedsCompaction);
        }
        let base = current.half * size + current.end;
        // Whatever happens below, this place is used: a failure leaves a torn record.
        current.sealed = true;
        let mut header = [0u8; RECORD_HEADER as usize];
        header[..4].copy_from_slice(&RECORD_MAGIC);
        header[4..8].copy_from_slice(&length.to_be_bytes());
        let crc = crc32(0, &header[..12]);
        header[12..].copy_from_slice(&crc.to_be_bytes());
        flash.program(base, &header)?;
        program_padded(flash, base + RECORD_HEADER, record)?;
        let mut trailer = [0u8; RECORD_TRAILER as usize];
        trailer[..4].copy_from_slice(&crc32(0, record).to_be_bytes());
        trailer[4..].copy_from_slice(&TRAILER_MARK);
        flash.program(base + RECORD_HEADER + align(length), &trailer)?;
        current.sealed = false;
        current.end += total as u32;
        current.journal_bytes += total as u32;
        Ok(())
    }

    /// Writes a new generation holding `snapshot` (the whole configuration) and an empty
    /// journal, in the half that does not hold the newest generation.
    pub fn compact(&mut self, flash: &mut dyn Flash, snapshot: &[u8]) -> Result<(), StoreError> {
        let size = half_size(flash)?;
        let length = u32::try_from(snapshot.len()).map_err(|_| StoreError::TooLarge)?;
        if u64::from(SNAPSHOT_HEADER) + u64::from(align(length)) > u64::from(size) {
            return Err(StoreError::TooLarge);
        }
        let (half, generation) = match self.current {
            Some(c) => (1 - c.half, c.generation.wrapping_add(1)),
            None => (0, 1),
        };
        let base = half * size;
        let block = flash.erase_block_size().max(1);
        // The whole half: the journal that follows goes into erased flash.
        let mut offset = 0;
        while offset < size {
            flash.erase(base + offset)?;
            offset += block;
        }
        program_padded(flash, base + SNAPSHOT_HEADER, snapshot)?;
        let mut header = [0u8; SNAPSHOT_HEADER as usize];
        header[..4].copy_from_slice(&SNAPSHOT_MAGIC);
        header[4..8].copy_from_slice(&generation.to_be_bytes());
        header[8..12].copy_from_slice(&length.to_be_bytes());
        header[12..16].copy_from_slice(&crc32(0, snapshot).to_be_bytes());
        let header_crc = crc32(0, &header[..20]);
        header[20..24].copy_from_slice(&header_crc.to_be_bytes());
        flash.program(base, &header)?;
        self.current = Some(Current {
            half,
            generation,
            snapshot_bytes: length,
            end: align(SNAPSHOT_HEADER + length),
            journal_bytes: 0,
            sealed: false,
        });
        self.rewrite_soon = false;
        Ok(())
    }

    /// Bytes of the newest snapshot and of the journal after it (0, 0 when nothing is saved).
    pub fn sizes(&self) -> (u32, u32) {
        self.current
            .map_or((0, 0), |c| (c.snapshot_bytes, c.journal_bytes))
    }

    /// Whether a new generation should be written when convenient: the older half failed its
    /// checks at load (writing the new generation there ends the damage report), or the
    /// configuration came from an earlier layout.
    pub fn wants_compaction(&self) -> bool {
        self.rewrite_soon
    }

    /// Whether the next save must write a new generation (nothing saved yet, a torn journal,
    /// the first format).
    pub fn sealed(&self) -> bool {
        self.current.is_none_or(|c| c.sealed)
    }
}

/// The newest good first-format copy where an earlier layout kept them, as a loaded
/// configuration (its next save writes a generation in the region's own layout).
fn earlier_copy(flash: &mut dyn Flash) -> Option<Loaded> {
    let mut best: Option<Generation> = None;
    for &(offset, size) in flash.earlier_copies() {
        if let Ok(Half::Good(found)) = read_half(flash, offset, size) {
            if found.sealed
                && best
                    .as_ref()
                    .is_none_or(|b| newer(found.generation, b.generation))
            {
                best = Some(found);
            }
        }
    }
    let found = best?;
    Some(Loaded::Config {
        snapshot: String::from_utf8(found.snapshot).ok()?,
        journal: Vec::new(),
        generation: found.generation,
        damaged_other: false,
        torn_tail: false,
        damaged_journal: false,
        moved: true,
    })
}

/// Programs `data` in chunks, the last one padded with 0xFF to the alignment (so the word
/// holding its end is programmed once, completely).
fn program_padded(flash: &mut dyn Flash, base: u32, data: &[u8]) -> Result<(), FlashError> {
    let mut chunks = data.chunks(CHUNK).peekable();
    let mut at = base;
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_none() && !chunk.len().is_multiple_of(ALIGN as usize) {
            let mut last = Vec::with_capacity(align(chunk.len() as u32) as usize);
            last.extend_from_slice(chunk);
            last.resize(align(chunk.len() as u32) as usize, 0xFF);
            flash.program(at, &last)?;
        } else {
            flash.program(at, chunk)?;
        }
        at += chunk.len() as u32;
    }
    Ok(())
}

const _: () = assert!(SNAPSHOT_HEADER.is_multiple_of(ALIGN));
const _: () = assert!(RECORD_HEADER.is_multiple_of(ALIGN) && RECORD_TRAILER.is_multiple_of(ALIGN));
const _: () = assert!((CHUNK as u32).is_multiple_of(ALIGN));
