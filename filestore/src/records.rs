//! The values of the tree's items: inode attributes, directory entries, area records, page
//! pointers. Decoders never panic: a damaged value gives `None`, which the store reports as
//! corruption.

use alloc::vec::Vec;

use crate::key::{Reader, Writer};
use crate::{Time, MAX_NAME};

/// `st_mode` type bits.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

/// What an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl FileType {
    /// The type named by a mode's `S_IFMT` bits.
    pub fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & S_IFMT {
            S_IFREG => FileType::Regular,
            S_IFDIR => FileType::Directory,
            S_IFLNK => FileType::Symlink,
            S_IFCHR => FileType::CharDevice,
            S_IFBLK => FileType::BlockDevice,
            S_IFIFO => FileType::Fifo,
            S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }

    /// Linux's `DT_*` number (readdir's type byte).
    pub fn dirent_type(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }

    pub(crate) fn from_dirent_type(t: u8) -> Option<FileType> {
        Some(match t {
            1 => FileType::Fifo,
            2 => FileType::CharDevice,
            4 => FileType::Directory,
            6 => FileType::BlockDevice,
            8 => FileType::Regular,
            10 => FileType::Symlink,
            12 => FileType::Socket,
            _ => return None,
        })
    }
}

/// An inode's attributes as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InodeRecord {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub rdev: u32,
    pub size: u64,
    /// Data pages the file holds (holes not counted).
    pub pages: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
    /// Directories: the parent's inode (the root's is itself). Others: 0.
    pub parent: u32,
    /// Directories: the next readdir cookie to hand out.
    pub next_cookie: u64,
}

pub(crate) const INODE_RECORD_LEN: usize = 4 * 6 + 8 * 3 + 12 * 3;

impl InodeRecord {
    pub fn file_type(&self) -> Option<FileType> {
        FileType::from_mode(self.mode)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(INODE_RECORD_LEN);
        let mut w = Writer(&mut v);
        w.u32(self.mode)
            .u32(self.uid)
            .u32(self.gid)
            .u32(self.nlink)
            .u32(self.rdev);
        w.u64(self.size).u64(self.pages);
        for t in [self.atime, self.mtime, self.ctime] {
            w.u64(t.secs).u32(t.nanos);
        }
        w.u32(self.parent).u64(self.next_cookie);
        v
    }

    pub fn decode(b: &[u8]) -> Option<InodeRecord> {
        let mut r = Reader(b);
        let (mode, uid, gid, nlink, rdev) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let size = r.u64()?;
        let pages = r.u64()?;
        let mut t = [Time::ZERO; 3];
        for slot in &mut t {
            *slot = Time {
                secs: r.u64()?,
                nanos: r.u32()?,
            };
        }
        let rec = InodeRecord {
            mode,
            uid,
            gid,
            nlink,
            rdev,
            size,
            pages,
            atime: t[0],
            mtime: t[1],
            ctime: t[2],
            parent: r.u32()?,
            next_cookie: r.u64()?,
        };
        (r.is_empty() && rec.file_type().is_some()).then_some(rec)
    }
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub cookie: u64,
    pub ino: u32,
    pub file_type: FileType,
    pub name: Vec<u8>,
}

/// The entries whose names share one hash (normally one), as a `DirName` value.
pub(crate) fn encode_entries(entries: &[Entry]) -> Vec<u8> {
    let mut v = Vec::new();
    let mut w = Writer(&mut v);
    for e in entries {
        w.u64(e.cookie)
            .u32(e.ino)
            .u8(e.file_type.dirent_type())
            .u8(e.name.len() as u8)
            .bytes(&e.name);
    }
    v
}

pub(crate) fn decode_entries(b: &[u8]) -> Option<Vec<Entry>> {
    let mut r = Reader(b);
    let mut out = Vec::new();
    while !r.is_empty() {
        let cookie = r.u64()?;
        let ino = r.u32()?;
        let file_type = FileType::from_dirent_type(r.u8()?)?;
        let len = usize::from(r.u8()?);
        let name = r.take(len)?.to_vec();
        if crate::valid_name(&name).is_err() {
            return None;
        }
        out.push(Entry {
            cookie,
            ino,
            file_type,
            name,
        });
    }
    (!out.is_empty()).then_some(out)
}

/// A `DirIndex` value: the entry without its cookie (the key's `sub` is the cookie).
pub(crate) fn encode_index(ino: u32, file_type: FileType, name: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + name.len());
    Writer(&mut v)
        .u32(ino)
        .u8(file_type.dirent_type())
        .bytes(name);
    v
}

pub(crate) fn decode_index(b: &[u8]) -> Option<(u32, FileType, &[u8])> {
    let mut r = Reader(b);
    let ino = r.u32()?;
    let t = FileType::from_dirent_type(r.u8()?)?;
    let name = r.0;
    (!name.is_empty() && name.len() <= MAX_NAME).then_some((ino, t, name))
}

/// An area record: name and quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AreaRecord {
    pub name: Vec<u8>,
    /// Bytes the area may use; `None`: bounded by the store only.
    pub quota: Option<u64>,
    /// Inode numbers below this may have been handed out: after a mount, numbering goes on
    /// from here, so a number is never used twice in an area. Raised in steps of
    /// [`INO_STEP`], in the transaction that hands out the first number past it.
    pub ino_limit: u32,
}

/// How far [`AreaRecord::ino_limit`] moves at a time (one record write per this many creates).
pub(crate) const INO_STEP: u32 = 1024;

impl AreaRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        Writer(&mut v)
            .u64(self.quota.unwrap_or(u64::MAX))
            .u32(self.ino_limit)
            .u8(self.name.len() as u8)
            .bytes(&self.name);
        v
    }

    pub fn decode(b: &[u8]) -> Option<AreaRecord> {
        let mut r = Reader(b);
        let quota = r.u64()?;
        let ino_limit = r.u32()?;
        let len = usize::from(r.u8()?);
        let name = r.take(len)?.to_vec();
        (r.is_empty() && !name.is_empty() && len <= crate::MAX_AREA_NAME).then_some(AreaRecord {
            name,
            quota: (quota != u64::MAX).then_some(quota),
            ino_limit,
        })
    }
}

/// Where a data page is and what it must hash to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PagePtr {
    pub block: u32,
    pub crc: u32,
}

impl PagePtr {
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.block.to_be_bytes());
        b[4..].copy_from_slice(&self.crc.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<PagePtr> {
        let mut r = Reader(b);
        let p = PagePtr {
            block: r.u32()?,
            crc: r.u32()?,
        };
        r.is_empty().then_some(p)
    }
}

/// The 64-bit FNV-1a hash of a name (the `DirName` key).
pub(crate) fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}
