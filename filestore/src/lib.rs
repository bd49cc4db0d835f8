//! A power-cut-safe file store over a block device: per-guest areas holding trees of
//! directories, files, symlinks and hard links, with quotas, checksums on every block, and a
//! check at mount that repairs what it can and reports the rest.
//!
//! # Design
//!
//! Everything (areas, inodes, directory entries, page pointers, symlink targets) is an item of
//! one copy-on-write B+tree of 4 KiB nodes ([`key`] has the item kinds). File data lives in
//! 4 KiB pages, each in a block of its own, pointed to by a `Page` item that also holds the
//! page's CRC-32C. A change never overwrites a block the committed tree reaches: the changed
//! nodes are copied to free blocks up to a new root, and the commit writes them, flushes,
//! writes the superblock naming the new root (the two superblocks alternate), and flushes
//! again. A power cut at any moment therefore leaves the tree of the last commit whole: every
//! file is as it was before the operation or as it is after it, never a mix and never a broken
//! tree. Parents hold the CRCs of their children (the superblock that of the root), so a torn,
//! stale or misdirected block is always detected.
//!
//! Free space is a bitmap in RAM rebuilt by the walk of the tree at mount, which is also the
//! boot check ([`check`]): it verifies every node and item, and the file-system rules (entries
//! name live inodes, link counts, directory parents, pages within sizes), repairs what it can
//! and reports what it found.
//!
//! Operations commit one by one ([`Durability::EachOperation`]) or, for a bulk job such as
//! unpacking an image, together at [`Store::sync`] ([`Durability::Deferred`]), which makes the
//! whole job one all-or-nothing transaction. Limits are checked before anything changes, so a
//! refused operation (quota, full device, bad name...) changes nothing. An I/O error or a
//! checksum failure in the middle of an operation drops the uncommitted changes; a commit that
//! fails part-way stops all writes until the store is mounted again ([`Error::Failed`]).
//!
//! `README.md` has the API as the metafs server and `/file` use it, and the figures.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod check;
pub mod crc;
pub mod device;
mod error;
mod file;
pub mod fuzz;
pub mod key;
mod node;
mod ops;
mod pager;
mod records;
pub mod sim;
mod space;
mod store;
mod superblock;
mod tree_walk;

pub use check::{CheckReport, Problem};
pub use device::{BlockDevice, DeviceError, BLOCK_SIZE};
pub use error::Error;
pub use node::MAX_VALUE;
pub use pager::IoCounters;
pub use records::{
    FileType, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
pub use store::{Durability, MountError, MountOptions, Store};

use alloc::vec::Vec;

/// Longest name in a directory, in bytes.
pub const MAX_NAME: usize = 255;
/// Longest symlink target, in bytes.
pub const MAX_SYMLINK: usize = 1000;
/// Longest area name, in bytes.
pub const MAX_AREA_NAME: usize = 64;
/// Largest file: 4 GiB - 1.
pub const MAX_FILE_SIZE: u64 = u32::MAX as u64;
/// Most links one inode may have.
pub const MAX_LINKS: u32 = 65_000;
/// Bytes of a page.
pub const PAGE_SIZE: usize = BLOCK_SIZE;
/// Quota charge of one inode and of one directory entry, in bytes (what its metadata costs,
/// roughly); each data page is charged [`PAGE_SIZE`].
pub const METADATA_CHARGE: u64 = 256;
/// Every area's root directory.
pub const ROOT_INO: Ino = 1;

/// An inode number, stable for the inode's life, unique in its area, never 0.
pub type Ino = u32;

/// An area: one guest's disk, or the host's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AreaId(pub u16);

impl AreaId {
    /// The host's area (`/file`), made by [`Store::format`].
    pub const HOST: AreaId = AreaId(0);
}

/// A time: seconds and nanoseconds since 1970.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    pub secs: u64,
    pub nanos: u32,
}

impl Time {
    pub const ZERO: Time = Time { secs: 0, nanos: 0 };
}

/// An inode's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    pub ino: Ino,
    pub file_type: FileType,
    /// The full `st_mode`: type bits and permissions.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    /// Device number of a device node (as the guest gave it).
    pub rdev: u32,
    /// Bytes (a symlink: its target's length).
    pub size: u64,
    /// Space the data takes, in 512-byte units (holes take none).
    pub blocks: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

/// What [`Store::setattr`] changes; `None` keeps the current value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// Permission bits (`& 0o7777`; the type bits are kept).
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Truncate or extend (regular files only).
    pub size: Option<u64>,
    pub atime: Option<Time>,
    pub mtime: Option<Time>,
}

/// One directory entry as [`Store::readdir`] hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Pass this back to continue after this entry.
    pub cookie: u64,
    pub ino: Ino,
    pub file_type: FileType,
    pub name: Vec<u8>,
}

/// An area as the management plane shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaInfo {
    pub id: AreaId,
    pub name: Vec<u8>,
    /// Bytes the area may use (`disk-size`); `None`: unlimited (bounded by the device).
    pub quota: Option<u64>,
    /// Bytes charged to the area (`used-disk`): pages x 4096 + (inodes + entries) x 256.
    pub used: u64,
    pub inodes: u64,
    pub pages: u64,
    /// The number the next new inode gets (numbers are never reused in an area).
    pub next_ino: Ino,
    /// Pages read and written since mount (`disk-reads`, `disk-writes`).
    pub reads: u64,
    pub writes: u64,
}

/// What `statfs` says of an area, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AreaStat {
    /// The quota, or the device's data capacity when unlimited.
    pub total: u64,
    /// What the area may still use: the least of its quota's rest and the device's free space.
    pub free: u64,
    pub inodes: u64,
}

/// The device as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreStat {
    pub block_count: u32,
    pub free_blocks: u32,
    /// The last commit's number.
    pub generation: u64,
    pub io: IoCounters,
}

/// Checks a directory entry's name: 1..=255 bytes, no '/' or NUL, not "." or "..".
pub fn valid_name(name: &[u8]) -> Result<(), Error> {
    if name.len() > MAX_NAME {
        return Err(Error::NameTooLong);
    }
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&b| b == b'/' || b == 0)
    {
        return Err(Error::BadName);
    }
    Ok(())
}
