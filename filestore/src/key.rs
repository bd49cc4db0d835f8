//! The keys of the store's one tree, and the byte codec the records use.
//!
//! Everything the store keeps is an item of one copy-on-write B+tree, ordered by
//! `(area, ino, kind, sub)` (big-endian, so the byte order of the encoding is the key order):
//! an area's items sit together, and inside it an inode's items.
//!
//! | kind | sub | value |
//! |---|---|---|
//! | [`Kind::Area`] (ino 0) | 0 | the area's name and quota |
//! | [`Kind::Inode`] | 0 | the attributes (`records::InodeRecord`) |
//! | [`Kind::DirName`] | hash of the name | the entries with that hash (lookup by name) |
//! | [`Kind::DirIndex`] | cookie | one entry (readdir order, stable cookies) |
//! | [`Kind::Page`] | page number | block and CRC-32C of a 4 KiB data page |
//! | [`Kind::Symlink`] | 0 | the link's target |

/// What an item is (the third key field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Area = 0,
    Inode = 1,
    DirName = 2,
    DirIndex = 3,
    Page = 4,
    Symlink = 5,
}

impl Kind {
    pub(crate) fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            0 => Kind::Area,
            1 => Kind::Inode,
            2 => Kind::DirName,
            3 => Kind::DirIndex,
            4 => Kind::Page,
            5 => Kind::Symlink,
            _ => return None,
        })
    }
}

/// A tree key. Field order is the sort order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub area: u16,
    pub ino: u32,
    pub kind: Kind,
    pub sub: u64,
}

/// Encoded key length.
pub const KEY_LEN: usize = 15;

impl Key {
    pub const MIN: Key = Key {
        area: 0,
        ino: 0,
        kind: Kind::Area,
        sub: 0,
    };

    pub const fn new(area: u16, ino: u32, kind: Kind, sub: u64) -> Key {
        Key {
            area,
            ino,
            kind,
            sub,
        }
    }

    pub(crate) fn encode(&self, out: &mut [u8]) {
        out[0..2].copy_from_slice(&self.area.to_be_bytes());
        out[2..6].copy_from_slice(&self.ino.to_be_bytes());
        out[6] = self.kind as u8;
        out[7..15].copy_from_slice(&self.sub.to_be_bytes());
    }

    pub(crate) fn decode(b: &[u8]) -> Option<Key> {
        let b = b.get(..KEY_LEN)?;
        Some(Key {
            area: u16::from_be_bytes([b[0], b[1]]),
            ino: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
            kind: Kind::from_u8(b[6])?,
            sub: u64::from_be_bytes([b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14]]),
        })
    }
}

/// Appends big-endian fields to a byte vector.
pub(crate) struct Writer<'a>(pub &'a mut alloc::vec::Vec<u8>);

impl Writer<'_> {
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
}

/// Reads big-endian fields from a byte slice; every read is checked (a damaged record gives
/// `None`, never a panic).
pub(crate) struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
