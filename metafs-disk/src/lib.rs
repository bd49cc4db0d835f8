//! The guests' disks on the disk's file store: [`TreeIntoArea`] unpacks an imported image's
//! tree into a guest's area, and [`DiskVolumes`] implements vdevices' [`MetafsStore`] on a
//! [`filestore::Store`], so the metafs server serves each guest its own area of the disk.
//!
//! A metafs [`Volume`] `n` is filestore area `n`. Volume 0 would be the host's area (`/file`:
//! imported archives, preloaded files); it is never served, whatever export table a guest has:
//! every call on it answers [`FsError::Stale`], as does any volume with no area, so a guest can
//! reach nothing but the areas the host exported to it. Inode numbers, names and cookies are the
//! store's own, which already keeps areas apart (an inode number of one area means nothing in
//! another).
//!
//! Mapping of the contract (vdevices' README, "metafs: the store contract"):
//! - `readdir` skips the store's own `.` and `..` (cookies 1 and 2; the server adds its own), and
//!   hands out the store's cookies (3 and up, stable for an entry's life).
//! - `parent` is the store's lookup of `..`.
//! - `setattr` passes the length only for regular files, and only when it changes (SETINODE
//!   carries all four fields, the unchanged ones at their current value).
//! - `statfs`: `used` is the area's charge (`used-disk`), `total` its quota or, unlimited, what
//!   it uses plus what the store has free.
//! - Every change commits before it returns (the store's default durability): a write the guest
//!   saw acknowledged survives a power cut. `fsync` commits too (nothing is left to commit).
//! - An unlinked inode goes with its last name: its number then answers ESTALE. The store keeps
//!   no open-but-unlinked files (metafs has no RELEASE_INODE to say when a guest closed one), so
//!   `release_unlinked` has nothing to free.
//! - Times: the server's `now` is stamped on what changes; times past 2106 read as the largest
//!   32-bit second.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod fuzz;
pub mod unpack;

pub use unpack::{TreeIntoArea, UnpackState};

use filestore::{AreaId, BlockDevice, Error, Store, Time, ROOT_INO};
use vdevices::metafs::store::{
    Attr, DirEntry, DirSink, FileType, Ino, Name, NewNode, SetAttr, Space, PERM_MASK,
};
use vdevices::{FsError, MetafsStore, Timestamp, Volume};

/// The disk's file store as a metafs store: volume `n` is area `n` (never area 0).
pub struct DiskVolumes<'s, D: BlockDevice> {
    store: &'s mut Store<D>,
}

impl<'s, D: BlockDevice> DiskVolumes<'s, D> {
    /// Serve the areas of `store`.
    pub fn new(store: &'s mut Store<D>) -> Self {
        Self { store }
    }
}

/// The area of `volume`; the host's area and numbers past the store's ids are no volume.
pub fn area_of(volume: Volume) -> Result<AreaId, FsError> {
    match u16::try_from(volume.0) {
        Ok(0) | Err(_) => Err(FsError::Stale),
        Ok(n) => Ok(AreaId(n)),
    }
}

/// The volume that serves `area` (`None` for the host's area).
pub fn volume_of(area: AreaId) -> Option<Volume> {
    (area != AreaId::HOST).then_some(Volume(u32::from(area.0)))
}

/// The metafs error for a store error.
pub fn fs_error(e: Error) -> FsError {
    match e {
        Error::NotFound => FsError::NotFound,
        Error::Stale | Error::NoArea => FsError::Stale,
        Error::Exists => FsError::Exists,
        Error::NotDir => FsError::NotDir,
        Error::IsDir => FsError::IsDir,
        Error::NotEmpty => FsError::NotEmpty,
        Error::NameTooLong | Error::TargetTooLong => FsError::NameTooLong,
        Error::BadName | Error::Invalid | Error::AreaExists | Error::TooManyAreas => {
            FsError::Invalid
        }
        Error::NotPermitted => FsError::NotPermitted,
        Error::FileTooLarge => FsError::FileTooBig,
        Error::TooManyLinks => FsError::TooManyLinks,
        Error::QuotaExceeded | Error::NoSpace => FsError::NoSpace,
        Error::Io(_) | Error::Corrupt | Error::Failed => FsError::Io,
    }
}

fn kind_of(t: filestore::FileType) -> FileType {
    use filestore::FileType as T;
    match t {
        T::Regular => FileType::Regular,
        T::Directory => FileType::Directory,
        T::Symlink => FileType::Symlink,
        T::CharDevice => FileType::CharDevice,
        T::BlockDevice => FileType::BlockDevice,
        T::Fifo => FileType::Fifo,
        T::Socket => FileType::Socket,
    }
}

fn timestamp(t: Time) -> Timestamp {
    Timestamp {
        sec: u32::try_from(t.secs).unwrap_or(u32::MAX),
        nsec: t.nanos,
    }
}

fn time(t: Timestamp) -> Time {
    Time {
        secs: u64::from(t.sec),
        nanos: t.nsec,
    }
}

fn ino(n: filestore::Ino) -> Result<Ino, FsError> {
    Ino::new(n).ok_or(FsError::Io)
}

fn attr(a: &filestore::Attr) -> Result<Attr, FsError> {
    Ok(Attr {
        ino: ino(a.ino)?,
        kind: kind_of(a.file_type),
        perm: (a.mode & PERM_MASK) as u16,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: a.rdev,
        size: a.size,
        blocks: a.blocks,
        atime: timestamp(a.atime),
        mtime: timestamp(a.mtime),
        ctime: timestamp(a.ctime),
    })
}

impl<D: BlockDevice> DiskVolumes<'_, D> {
    /// The area of `volume`, if the store has it.
    fn area(&self, volume: Volume) -> Result<AreaId, FsError> {
        let area = area_of(volume)?;
        self.store.area_info(area).map_err(|_| FsError::Stale)?;
        Ok(area)
    }

    fn changing(&mut self, volume: Volume, now: Timestamp) -> Result<AreaId, FsError> {
        let area = self.area(volume)?;
        self.store.set_time(time(now));
        Ok(area)
    }
}

impl<D: BlockDevice> MetafsStore for DiskVolumes<'_, D> {
    fn root(&mut self, volume: Volume) -> Result<Ino, FsError> {
        let area = self.area(volume)?;
        ino(self.store.root(area).map_err(fs_error)?)
    }

    fn getattr(&mut self, volume: Volume, n: Ino) -> Result<Attr, FsError> {
        let area = self.area(volume)?;
        attr(&self.store.getattr(area, n.get()).map_err(fs_error)?)
    }

    fn lookup(&mut self, volume: Volume, dir: Ino, name: Name<'_>) -> Result<Attr, FsError> {
        let area = self.area(volume)?;
        let found = self.store.lookup(area, dir.get(), name.as_bytes());
        attr(&found.map_err(fs_error)?)
    }

    fn parent(&mut self, volume: Volume, dir: Ino) -> Result<Ino, FsError> {
        let area = self.area(volume)?;
        let up = self
            .store
            .lookup(area, dir.get(), b"..")
            .map_err(fs_error)?;
        ino(up.ino)
    }

    fn read(
        &mut self,
        volume: Volume,
        n: Ino,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, FsError> {
        let area = self.area(volume)?;
        self.store
            .read(area, n.get(), offset, buf)
            .map_err(fs_error)
    }

    fn write(
        &mut self,
        volume: Volume,
        n: Ino,
        offset: u64,
        data: &[u8],
        now: Timestamp,
    ) -> Result<(), FsError> {
        let area = self.changing(volume, now)?;
        let written = self
            .store
            .write(area, n.get(), offset, data)
            .map_err(fs_error)?;
        if written == data.len() {
            Ok(())
        } else {
            Err(FsError::Io)
        }
    }

    fn readdir(
        &mut self,
        volume: Volume,
        dir: Ino,
        after: u64,
        sink: &mut DirSink<'_>,
    ) -> Result<(), FsError> {
        let area = self.area(volume)?;
        // The store's cookies 1 and 2 are its "." and "..", which the server makes itself.
        let after = after.max(2);
        let mut bad_ino = false;
        self.store
            .readdir(area, dir.get(), after, &mut |e| {
                let Some(n) = Ino::new(e.ino) else {
                    bad_ino = true;
                    return false;
                };
                sink(DirEntry {
                    ino: n,
                    kind: kind_of(e.file_type),
                    name: &e.name,
                    cookie: e.cookie,
                })
            })
            .map_err(fs_error)?;
        if bad_ino {
            return Err(FsError::Io);
        }
        Ok(())
    }

    fn readlink(&mut self, volume: Volume, n: Ino, buf: &mut [u8]) -> Result<usize, FsError> {
        let area = self.area(volume)?;
        let target = self.store.readlink(area, n.get()).map_err(fs_error)?;
        let len = target.len().min(buf.len());
        buf[..len].copy_from_slice(&target[..len]);
        Ok(target.len())
    }

    fn create(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        node: NewNode,
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        let area = self.changing(volume, now)?;
        let mode = node.kind.mode_bits() | (u32::from(node.perm) & PERM_MASK);
        let made = self
            .store
            .create(area, dir.get(), name.as_bytes(), mode, node.rdev);
        attr(&made.map_err(fs_error)?)
    }

    fn symlink(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        target: &[u8],
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        let area = self.changing(volume, now)?;
        let made = self.store.symlink(area, dir.get(), name.as_bytes(), target);
        attr(&made.map_err(fs_error)?)
    }

    fn link(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        n: Ino,
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        let area = self.changing(volume, now)?;
        let linked = self.store.link(area, n.get(), dir.get(), name.as_bytes());
        attr(&linked.map_err(fs_error)?)
    }

    fn unlink(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        now: Timestamp,
    ) -> Result<(), FsError> {
        let area = self.changing(volume, now)?;
        self.store
            .unlink(area, dir.get(), name.as_bytes())
            .map_err(fs_error)
    }

    fn rename(
        &mut self,
        volume: Volume,
        from_dir: Ino,
        from: Name<'_>,
        to_dir: Ino,
        to: Name<'_>,
        now: Timestamp,
    ) -> Result<(), FsError> {
        let area = self.changing(volume, now)?;
        self.store
            .rename(
                area,
                from_dir.get(),
                from.as_bytes(),
                to_dir.get(),
                to.as_bytes(),
            )
            .map_err(fs_error)
    }

    fn setattr(
        &mut self,
        volume: Volume,
        n: Ino,
        set: SetAttr,
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        let area = self.changing(volume, now)?;
        let current = self.store.getattr(area, n.get()).map_err(fs_error)?;
        let size = (set.size != current.size).then_some(set.size);
        if size.is_some() && current.file_type != filestore::FileType::Regular {
            return Err(FsError::Invalid);
        }
        let changed = self.store.setattr(
            area,
            n.get(),
            filestore::SetAttr {
                mode: Some(u32::from(set.perm) & PERM_MASK),
                uid: Some(set.uid),
                gid: Some(set.gid),
                size,
                atime: None,
                mtime: size.map(|_| time(now)),
            },
        );
        attr(&changed.map_err(fs_error)?)
    }

    fn statfs(&mut self, volume: Volume) -> Result<Space, FsError> {
        let area = self.area(volume)?;
        let info = self.store.area_info(area).map_err(fs_error)?;
        let stat = self.store.statfs(area).map_err(fs_error)?;
        let total = info.quota.unwrap_or(info.used + stat.free);
        Ok(Space {
            total,
            free: stat.free.min(total.saturating_sub(info.used)),
            used: info.used,
        })
    }

    fn fsync(&mut self, volume: Volume, n: Ino) -> Result<(), FsError> {
        let area = self.area(volume)?;
        self.store.fsync(area, n.get()).map_err(fs_error)
    }

    fn release_unlinked(&mut self, volume: Volume) -> Result<(), FsError> {
        self.area(volume).map(|_| ())
    }
}

/// `ROOT_INO` as the guest sees it (the root of every area).
pub const ROOT: Ino = match Ino::new(ROOT_INO) {
    Some(n) => n,
    None => panic!("the root's number is not 0"),
};
