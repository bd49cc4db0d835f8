//! The configuration store as the host reads it in a flash image, decoded from the format's
//! description (the module docs of `mgmt/src/store`), not with mgmt's code: the tests use it to
//! check what the machine wrote, to tell how far a save had come when the power was cut, and to
//! find the bytes to damage.
//!
//! The region is two halves; each holds a generation, big-endian:
//!
//! ```text
//! snapshot header  "MGC2" | generation | length | CRC-32(payload) | 0 | CRC-32(header)   24 bytes
//! snapshot payload length bytes, padded with 0xFF to a multiple of 8
//! journal records  "MGJ1" | length | 0 | CRC-32(header)                                   16 bytes
//!                  payload, padded with 0xFF to a multiple of 8
//!                  CRC-32(payload) | "DONE"                                               8 bytes
//! erased flash (0xFF) to the end of the half
//! ```
//!
//! A record counts once its trailer matches. A record that fails its checks ends the journal:
//! at its end it is the trace of an append the power cut short (a torn record); followed by a
//! good record it is damage. The newest good generation (wrapping comparison) is the
//! configuration; a half in the first format ("MGC1", a snapshot with no journal) loads as a
//! snapshot.

use std::fmt;

/// The region: the last 3 MiB of the 4 MiB flash, two halves of 1.5 MiB.
pub const REGION_LEN: usize = 3 << 20;
pub const HALF_LEN: usize = REGION_LEN / 2;
pub const SNAPSHOT_HEADER_LEN: usize = 24;
pub const RECORD_HEADER_LEN: usize = 16;
pub const RECORD_TRAILER_LEN: usize = 8;
const ALIGN: usize = 8;
/// A journal is folded into a new snapshot, while the console is idle, once it has grown past
/// this and past its snapshot.
pub const IDLE_COMPACTION_MIN: usize = 64 << 10;

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

pub fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn erased(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xFF)
}

/// What sits at a place where a journal record may start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// Erased: the journal ends here.
    Erased,
    /// Something that is not a complete record. `size` is the room it takes when its header
    /// is good (its length is known), else `None`.
    Bad { size: Option<usize> },
    /// A complete record: its payload, and the room it takes (header, padded payload, trailer).
    Complete { payload: Vec<u8>, size: usize },
}

/// Reads the record at the start of `bytes` (the rest of the half).
pub fn read_record(bytes: &[u8]) -> Record {
    if bytes.len() < RECORD_HEADER_LEN + RECORD_TRAILER_LEN {
        return Record::Erased;
    }
    let header = &bytes[..RECORD_HEADER_LEN];
    if erased(header) {
        return Record::Erased;
    }
    let length = word(header, 4) as usize;
    let size = RECORD_HEADER_LEN + align(length) + RECORD_TRAILER_LEN;
    if &header[..4] != b"MGJ1" || word(header, 12) != crc32(&header[..12]) || size > bytes.len() {
        return Record::Bad { size: None };
    }
    let payload = &bytes[RECORD_HEADER_LEN..RECORD_HEADER_LEN + length];
    let trailer = &bytes[size - RECORD_TRAILER_LEN..size];
    if &trailer[4..] != b"DONE" || word(trailer, 0) != crc32(payload) {
        return Record::Bad { size: Some(size) };
    }
    Record::Complete {
        payload: payload.to_vec(),
        size,
    }
}

/// A good generation.
#[derive(Clone, PartialEq, Eq)]
pub struct Generation {
    pub generation: u32,
    pub snapshot: Vec<u8>,
    /// The complete records of the journal, oldest first.
    pub records: Vec<Vec<u8>>,
    /// Bytes the complete records take (headers, padded payloads, trailers).
    pub journal_len: usize,
    /// Offset in the half where the readable journal ends: where the next record goes.
    pub end: usize,
    /// The journal ends in a record an append left incomplete.
    pub torn: bool,
    /// A record in the middle of the journal fails its checks (later records are lost).
    pub damaged: bool,
    pub first_format: bool,
}

impl Generation {
    /// Whether the next save writes a new generation instead of appending a record.
    pub fn sealed(&self) -> bool {
        self.torn || self.damaged || self.first_format
    }

    /// The snapshot, then the records, as text.
    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.snapshot).into_owned();
        for record in &self.records {
            text.push_str(&String::from_utf8_lossy(record));
        }
        text
    }

    /// Where each complete record starts (offsets in the half).
    pub fn record_offsets(&self) -> Vec<usize> {
        let mut at = align(SNAPSHOT_HEADER_LEN + self.snapshot.len());
        let mut offsets = Vec::new();
        for record in &self.records {
            offsets.push(at);
            at += RECORD_HEADER_LEN + align(record.len()) + RECORD_TRAILER_LEN;
        }
        offsets
    }

    /// Whether the box should fold the journal into a new snapshot as soon as it is idle.
    pub fn compaction_due(&self) -> bool {
        self.journal_len > IDLE_COMPACTION_MIN.max(self.snapshot.len())
    }

    /// What the machine should have written in `half` (this generation's bytes): padding of
    /// 0xFF, the reserved words 0, and nothing after the journal but erased flash.
    pub fn check_layout(&self, half: &[u8]) -> Result<(), String> {
        let header = &half[..SNAPSHOT_HEADER_LEN];
        if word(header, 16) != 0 {
            return Err(format!(
                "snapshot header's reserved word is {:#x}",
                word(header, 16)
            ));
        }
        let snapshot_end = SNAPSHOT_HEADER_LEN + self.snapshot.len();
        if !erased(&half[snapshot_end..align(snapshot_end)]) {
            return Err("the snapshot's padding is not 0xFF".into());
        }
        let mut at = align(snapshot_end);
        for (n, record) in self.records.iter().enumerate() {
            if word(&half[at..], 8) != 0 {
                return Err(format!("record {n}: the reserved word is not 0"));
            }
            let payload_end = at + RECORD_HEADER_LEN + record.len();
            if !erased(&half[payload_end..align(payload_end)]) {
                return Err(format!("record {n}: the padding is not 0xFF"));
            }
            at = align(payload_end) + RECORD_TRAILER_LEN;
        }
        if at != self.end {
            return Err(format!(
                "the journal ends at {at:#x}, decoded up to {:#x}",
                self.end
            ));
        }
        match half[at..].iter().position(|&b| b != 0xFF) {
            Some(p) => Err(format!(
                "byte {:#x} of the half, after the journal, is not erased",
                at + p
            )),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "generation {} (snapshot {} bytes, {} records, journal {} bytes, ends at {:#x}{}{}{})",
            self.generation,
            self.snapshot.len(),
            self.records.len(),
            self.journal_len,
            self.end,
            if self.torn { ", torn record" } else { "" },
            if self.damaged { ", damaged record" } else { "" },
            if self.first_format {
                ", first format"
            } else {
                ""
            },
        )
    }
}

/// One half of the region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Half {
    Blank,
    Damaged,
    Good(Generation),
}

pub fn decode_half(half: &[u8]) -> Half {
    let header = &half[..SNAPSHOT_HEADER_LEN];
    if erased(header) {
        return Half::Blank;
    }
    let first_format = &header[..4] == b"MGC1";
    if (&header[..4] != b"MGC2" && !first_format) || word(header, 20) != crc32(&header[..20]) {
        return Half::Damaged;
    }
    let length = word(header, 8) as usize;
    if length > half.len() - SNAPSHOT_HEADER_LEN {
        return Half::Damaged;
    }
    let snapshot = &half[SNAPSHOT_HEADER_LEN..SNAPSHOT_HEADER_LEN + length];
    if crc32(snapshot) != word(header, 12) {
        return Half::Damaged;
    }
    let mut g = Generation {
        generation: word(header, 4),
        snapshot: snapshot.to_vec(),
        records: Vec::new(),
        journal_len: 0,
        end: align(SNAPSHOT_HEADER_LEN + length),
        torn: false,
        damaged: false,
        first_format,
    };
    // The first format has no journal.
    while !g.first_format {
        match read_record(&half[g.end..]) {
            Record::Erased => break,
            Record::Complete { payload, size } => {
                g.records.push(payload);
                g.journal_len += size;
                g.end += size;
            }
            Record::Bad { size } => {
                let later = size
                    .map(|size| g.end + size)
                    .filter(|&next| next < half.len());
                g.damaged = later.is_some_and(|next| {
                    matches!(read_record(&half[next..]), Record::Complete { .. })
                });
                g.torn = !g.damaged;
                break;
            }
        }
    }
    Half::Good(g)
}

/// Both halves of a configuration region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    pub halves: [Half; 2],
}

impl Store {
    pub fn decode(region: &[u8]) -> Store {
        assert_eq!(region.len(), REGION_LEN, "not a whole configuration region");
        Store {
            halves: [
                decode_half(&region[..HALF_LEN]),
                decode_half(&region[HALF_LEN..]),
            ],
        }
    }

    /// The newest good generation and its half.
    pub fn newest(&self) -> Option<(usize, &Generation)> {
        let good = |i: usize| match &self.halves[i] {
            Half::Good(g) => Some((i, g)),
            _ => None,
        };
        match (good(0), good(1)) {
            (Some(a), Some(b)) => Some(
                if (b.1.generation.wrapping_sub(a.1.generation) as i32) > 0 {
                    b
                } else {
                    a
                },
            ),
            (a, b) => a.or(b),
        }
    }

    /// How far saving has come: the newest generation and how many records it holds.
    pub fn progress(&self) -> Option<(u32, usize)> {
        self.newest().map(|(_, g)| (g.generation, g.records.len()))
    }

    /// Whether booting should say it ignored a damaged copy: a good generation next to a
    /// damaged half.
    pub fn reports_damaged_copy(&self) -> bool {
        self.newest().is_some() && self.halves.contains(&Half::Damaged)
    }
}
