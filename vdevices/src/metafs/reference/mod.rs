//! A reference file store in memory: the [`MetafsStore`] contract written as plainly as
//! possible, for tests, the fuzz target and the host figures (feature `reference-store`; it
//! allocates, so the hypervisor never links it).
//!
//! Inode numbers are global to the store and never reused, so an inode number of one volume is
//! a real, live number that every other volume must refuse (ESTALE): the isolation tests rely on
//! that. Space is counted per volume: [`INODE_COST`] per inode, [`PAGE`] per data page written
//! (holes are free), [`ENTRY_COST`] plus the name per directory entry; a volume's quota and the
//! store's capacity both bound it. [`ReferenceStore::check`] verifies every invariant (links,
//! parents, no cycles, cookies, space) and [`ReferenceStore::tree`] dumps a volume.

mod check;
mod ops;

use super::store::{FileType, FsError, Ino, Timestamp, Volume};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub use check::{DumpNode, Tree};

/// Bytes an inode takes.
pub const INODE_COST: u64 = 512;
/// Bytes a data page takes.
pub const PAGE: u64 = 4096;
/// Bytes a directory entry takes, besides its name.
pub const ENTRY_COST: u64 = 16;
/// Largest file: 4 GiB.
pub const MAX_FILE_SIZE: u64 = 1 << 32;
/// Most names one inode may have.
pub const MAX_LINKS: u32 = 65_000;

/// One volume's root, quota and space used.
#[derive(Clone, Debug)]
struct VolumeInfo {
    root: u32,
    quota: Option<u64>,
    used: u64,
}

/// A directory entry: the inode and the entry's cookie.
#[derive(Clone, Copy, Debug)]
struct Entry {
    ino: u32,
    cookie: u64,
}

#[derive(Clone, Debug)]
enum Body {
    File {
        size: u64,
        pages: BTreeMap<u64, Box<[u8; PAGE as usize]>>,
    },
    Dir {
        /// The directory holding it (the root: itself).
        parent: u32,
        entries: BTreeMap<Vec<u8>, Entry>,
        /// Names by cookie: the listing order.
        order: BTreeMap<u64, Vec<u8>>,
        next_cookie: u64,
    },
    Symlink(Vec<u8>),
    Special,
}

#[derive(Clone, Debug)]
struct Node {
    volume: Volume,
    kind: FileType,
    perm: u16,
    uid: u32,
    gid: u32,
    rdev: u32,
    /// 0: no name left (kept until `release_unlinked`).
    nlink: u32,
    atime: Timestamp,
    mtime: Timestamp,
    ctime: Timestamp,
    body: Body,
}

/// The reference store: volumes of inodes in memory.
#[derive(Clone, Debug)]
pub struct ReferenceStore {
    capacity: u64,
    used: u64,
    volumes: BTreeMap<Volume, VolumeInfo>,
    nodes: BTreeMap<u32, Node>,
    next_ino: u32,
    /// After this many more store calls, fail one with the error (fault injection).
    fail: Option<(u32, FsError)>,
    /// FSYNC calls taken.
    pub syncs: u64,
}

impl ReferenceStore {
    /// An empty store that holds at most `capacity` bytes.
    pub fn new(capacity: u64) -> Self {
        Self {
            capacity,
            used: 0,
            volumes: BTreeMap::new(),
            nodes: BTreeMap::new(),
            next_ino: 1,
            fail: None,
            syncs: 0,
        }
    }

    /// Adds volume `volume` (a guest's disk) with an empty root directory (mode 0755) and at
    /// most `quota` bytes (`None`: bounded by the store only); returns the root.
    pub fn add_volume(
        &mut self,
        volume: Volume,
        quota: Option<u64>,
        now: Timestamp,
    ) -> Result<Ino, FsError> {
        if self.volumes.contains_key(&volume) {
            return Err(FsError::Exists);
        }
        if self.used + INODE_COST > self.capacity || quota.is_some_and(|q| q < INODE_COST) {
            return Err(FsError::NoSpace);
        }
        let root = self.next_ino;
        self.volumes.insert(
            volume,
            VolumeInfo {
                root,
                quota,
                used: 0,
            },
        );
        let body = Body::Dir {
            parent: root,
            entries: BTreeMap::new(),
            order: BTreeMap::new(),
            next_cookie: 1,
        };
        let ino = self.insert_node(volume, FileType::Directory, 0o755, 0, body, now)?;
        Ok(ino)
    }

    /// Changes a volume's quota (`disk-size`); what it holds already stays.
    pub fn set_quota(&mut self, volume: Volume, quota: Option<u64>) -> Result<(), FsError> {
        self.volumes.get_mut(&volume).ok_or(FsError::Stale)?.quota = quota;
        Ok(())
    }

    /// Bytes the whole store holds.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// After `calls` more store calls succeed, the next one fails with `error`.
    pub fn fail_after(&mut self, calls: u32, error: FsError) {
        self.fail = Some((calls, error));
    }

    /// Counts a store call down to an injected failure.
    fn gate(&mut self) -> Result<(), FsError> {
        match self.fail {
            Some((0, error)) => {
                self.fail = None;
                Err(error)
            }
            Some((n, error)) => {
                self.fail = Some((n - 1, error));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Takes `bytes` of `volume`'s quota and of the store, or nothing (NoSpace).
    fn charge(&mut self, volume: Volume, bytes: u64) -> Result<(), FsError> {
        let info = self.volumes.get_mut(&volume).ok_or(FsError::Stale)?;
        let within_quota = info.quota.is_none_or(|q| info.used + bytes <= q);
        if !within_quota || self.used + bytes > self.capacity {
            return Err(FsError::NoSpace);
        }
        info.used += bytes;
        self.used += bytes;
        Ok(())
    }

    /// Gives `bytes` back.
    fn refund(&mut self, volume: Volume, bytes: u64) {
        if let Some(info) = self.volumes.get_mut(&volume) {
            info.used -= bytes;
        }
        self.used -= bytes;
    }

    /// Makes a new inode (charging it) with nlink 1 (directories 2).
    fn insert_node(
        &mut self,
        volume: Volume,
        kind: FileType,
        perm: u16,
        rdev: u32,
        body: Body,
        now: Timestamp,
    ) -> Result<Ino, FsError> {
        let ino = Ino::new(self.next_ino).ok_or(FsError::NoSpace)?;
        self.charge(volume, INODE_COST)?;
        self.next_ino = self.next_ino.checked_add(1).ok_or(FsError::NoSpace)?;
        let nlink = if kind == FileType::Directory { 2 } else { 1 };
        self.nodes.insert(
            ino.get(),
            Node {
                volume,
                kind,
                perm,
                uid: 0,
                gid: 0,
                rdev,
                nlink,
                atime: now,
                mtime: now,
                ctime: now,
                body,
            },
        );
        Ok(ino)
    }

    /// The live inode `ino` of `volume` (one without names included: it may still be open).
    fn node(&self, volume: Volume, ino: Ino) -> Result<&Node, FsError> {
        match self.nodes.get(&ino.get()) {
            Some(node) if node.volume == volume => Ok(node),
            _ => Err(FsError::Stale),
        }
    }

    fn node_mut(&mut self, volume: Volume, ino: Ino) -> Result<&mut Node, FsError> {
        match self.nodes.get_mut(&ino.get()) {
            Some(node) if node.volume == volume => Ok(node),
            _ => Err(FsError::Stale),
        }
    }

    /// The entries of directory `dir`.
    fn entries(&self, volume: Volume, dir: Ino) -> Result<&BTreeMap<Vec<u8>, Entry>, FsError> {
        match &self.node(volume, dir)?.body {
            Body::Dir { entries, .. } => Ok(entries),
            _ => Err(FsError::NotDir),
        }
    }
}

fn ino(n: u32) -> Ino {
    Ino::new(n).expect("the reference store never makes inode 0")
}

fn entry_cost(name: &[u8]) -> u64 {
    ENTRY_COST + name.len() as u64
}
