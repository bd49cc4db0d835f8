//! The namespace operations metafs serves: lookup, getattr, readdir, create (files,
//! directories, device nodes), symlink, readlink, unlink (and rmdir), rename, link, setattr,
//! statfs; the data operations are in [`file`](crate::file) (`read`, `write`, truncation).
//!
//! Each checks everything first (names, types, emptiness, quota, space) and only then changes
//! the tree, so a refused operation changes nothing.

use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::error::Error;
use crate::key::{Key, Kind};
use crate::records::{
    decode_entries, decode_index, encode_entries, encode_index, name_hash, Entry, FileType,
    InodeRecord, S_IFLNK, S_IFMT,
};
use crate::store::Store;
use crate::{
    valid_name, AreaId, AreaStat, Attr, DirEntry, Ino, SetAttr, BLOCK_SIZE, MAX_LINKS, MAX_SYMLINK,
    METADATA_CHARGE, ROOT_INO,
};

/// Cookies 1 and 2 are "." and ".."; entries get 3 and up.
pub(crate) const FIRST_COOKIE: u64 = 3;
/// Names sharing one 64-bit hash in one directory (a guest crafting collisions gets NoSpace).
const MAX_COLLISIONS: usize = 8;

pub(crate) fn attr_of(ino: Ino, r: &InodeRecord) -> Attr {
    Attr {
        ino,
        file_type: r.file_type().unwrap_or(FileType::Regular),
        mode: r.mode,
        nlink: r.nlink,
        uid: r.uid,
        gid: r.gid,
        rdev: r.rdev,
        size: r.size,
        blocks: r.pages * (BLOCK_SIZE as u64 / 512),
        atime: r.atime,
        mtime: r.mtime,
        ctime: r.ctime,
    }
}

impl<D: BlockDevice> Store<D> {
    /// An area's root directory.
    pub fn root(&self, area: AreaId) -> Result<Ino, Error> {
        self.area(area)?;
        Ok(ROOT_INO)
    }

    /// An inode's attributes.
    pub fn getattr(&mut self, area: AreaId, ino: Ino) -> Result<Attr, Error> {
        let r = self.get_inode(area, ino)?;
        Ok(attr_of(ino, &r))
    }

    pub(crate) fn get_dir(&mut self, area: AreaId, dir: Ino) -> Result<InodeRecord, Error> {
        let r = self.get_inode(area, dir)?;
        if r.file_type() != Some(FileType::Directory) {
            return Err(Error::NotDir);
        }
        Ok(r)
    }

    fn dir_entries(&mut self, area: AreaId, dir: Ino, hash: u64) -> Result<Vec<Entry>, Error> {
        match self.get(&Key::new(area.0, dir, Kind::DirName, hash))? {
            None => Ok(Vec::new()),
            Some(v) => decode_entries(&v).ok_or(Error::Corrupt),
        }
    }

    pub(crate) fn dir_lookup(
        &mut self,
        area: AreaId,
        dir: Ino,
        name: &[u8],
    ) -> Result<Option<Entry>, Error> {
        let list = self.dir_entries(area, dir, name_hash(name))?;
        Ok(list.into_iter().find(|e| e.name == name))
    }

    /// Add an entry to a directory (its cookie, mtime and ctime updated).
    pub(crate) fn dir_add(
        &mut self,
        area: AreaId,
        dir: Ino,
        name: &[u8],
        ino: Ino,
        t: FileType,
    ) -> Result<(), Error> {
        let mut d = self.get_dir(area, dir)?;
        let hash = name_hash(name);
        let mut list = self.dir_entries(area, dir, hash)?;
        if list.len() >= MAX_COLLISIONS {
            return Err(Error::NoSpace);
        }
        let cookie = d.next_cookie;
        d.next_cookie += 1;
        d.mtime = self.now;
        d.ctime = self.now;
        list.push(Entry {
            cookie,
            ino,
            file_type: t,
            name: name.to_vec(),
        });
        self.put(
            Key::new(area.0, dir, Kind::DirName, hash),
            &encode_entries(&list),
        )?;
        self.put(
            Key::new(area.0, dir, Kind::DirIndex, cookie),
            &encode_index(ino, t, name),
        )?;
        self.put_inode(area, dir, &d)?;
        self.area_mut(area)?.entries += 1;
        Ok(())
    }

    /// Remove an entry from a directory; returns it.
    pub(crate) fn dir_remove(
        &mut self,
        area: AreaId,
        dir: Ino,
        name: &[u8],
    ) -> Result<Entry, Error> {
        let mut d = self.get_dir(area, dir)?;
        let hash = name_hash(name);
        let mut list = self.dir_entries(area, dir, hash)?;
        let at = list
            .iter()
            .position(|e| e.name == name)
            .ok_or(Error::NotFound)?;
        let entry = list.remove(at);
        let key = Key::new(area.0, dir, Kind::DirName, hash);
        if list.is_empty() {
            self.del(&key)?;
        } else {
            self.put(key, &encode_entries(&list))?;
        }
        self.del(&Key::new(area.0, dir, Kind::DirIndex, entry.cookie))?;
        d.mtime = self.now;
        d.ctime = self.now;
        self.put_inode(area, dir, &d)?;
        let a = self.area_mut(area)?;
        a.entries = a.entries.saturating_sub(1);
        Ok(entry)
    }

    pub(crate) fn dir_is_empty(&mut self, area: AreaId, dir: Ino) -> Result<bool, Error> {
        let from = Key::new(area.0, dir, Kind::DirIndex, 0);
        let to = Key::new(area.0, dir, Kind::Page, 0);
        Ok(self.pager.collect(self.root, &from, &to, 1)?.is_empty())
    }

    fn adjust_nlink(&mut self, area: AreaId, ino: Ino, delta: i32) -> Result<(), Error> {
        let mut r = self.get_inode(area, ino)?;
        r.nlink = r.nlink.saturating_add_signed(delta);
        r.ctime = self.now;
        self.put_inode(area, ino, &r)
    }

    /// Remove an inode and everything it holds.
    pub(crate) fn destroy(&mut self, area: AreaId, ino: Ino) -> Result<(), Error> {
        let r = self.get_inode(area, ino)?;
        let from = Key::new(area.0, ino, crate::key::Kind::Area, 0);
        let to = Key::new(area.0, ino + 1, crate::key::Kind::Area, 0);
        self.remove_range(&from, &to, true)?;
        let a = self.area_mut(area)?;
        a.inodes = a.inodes.saturating_sub(1);
        a.pages = a.pages.saturating_sub(r.pages);
        Ok(())
    }

    /// One link fewer; the inode goes with its last one.
    fn drop_link(&mut self, area: AreaId, ino: Ino, is_dir: bool) -> Result<(), Error> {
        let r = self.get_inode(area, ino)?;
        if is_dir || r.nlink <= 1 {
            self.destroy(area, ino)
        } else {
            self.adjust_nlink(area, ino, -1)
        }
    }

    /// The entry `name` in directory `dir`: its inode's attributes. ".." is the parent.
    pub fn lookup(&mut self, area: AreaId, dir: Ino, name: &[u8]) -> Result<Attr, Error> {
        let d = self.get_dir(area, dir)?;
        match name {
            b"." => return Ok(attr_of(dir, &d)),
            b".." => return self.getattr(area, d.parent),
            _ => valid_name(name)?,
        }
        let e = self.dir_lookup(area, dir, name)?.ok_or(Error::NotFound)?;
        self.getattr(area, e.ino)
            .map_err(|e| if e == Error::Stale { Error::Corrupt } else { e })
    }

    /// The entries of `dir` after cookie `after` (0: from the start, "." and ".." first), in
    /// cookie order, until `f` returns false (that entry was not taken: resume after the last
    /// one taken). Cookies are stable: an entry keeps its cookie for life.
    pub fn readdir(
        &mut self,
        area: AreaId,
        dir: Ino,
        after: u64,
        f: &mut dyn FnMut(&DirEntry) -> bool,
    ) -> Result<(), Error> {
        let d = self.get_dir(area, dir)?;
        let dots = [
            (1u64, dir, b".".as_slice()),
            (2, d.parent, b"..".as_slice()),
        ];
        for (cookie, ino, name) in dots {
            if after < cookie {
                let e = DirEntry {
                    cookie,
                    ino,
                    file_type: FileType::Directory,
                    name: name.to_vec(),
                };
                if !f(&e) {
                    return Ok(());
                }
            }
        }
        let from = Key::new(
            area.0,
            dir,
            Kind::DirIndex,
            after.max(FIRST_COOKIE - 1).saturating_add(1),
        );
        let to = Key::new(area.0, dir, Kind::Page, 0);
        let mut bad = false;
        self.pager
            .scan(self.root, &from, &to, &mut |k, v| match decode_index(v) {
                Some((ino, file_type, name)) => f(&DirEntry {
                    cookie: k.sub,
                    ino,
                    file_type,
                    name: name.to_vec(),
                }),
                None => {
                    bad = true;
                    false
                }
            })?;
        if bad {
            return Err(Error::Corrupt);
        }
        Ok(())
    }

    /// Create a file, directory or device node (`mode` holds the type bits; not a symlink).
    pub fn create(
        &mut self,
        area: AreaId,
        dir: Ino,
        name: &[u8],
        mode: u32,
        rdev: u32,
    ) -> Result<Attr, Error> {
        let t = FileType::from_mode(mode).ok_or(Error::Invalid)?;
        if t == FileType::Symlink {
            return Err(Error::Invalid);
        }
        self.mutate(|s| s.new_node(area, dir, name, mode, rdev, None))
    }

    /// Create a symlink to `target` (1..=[`MAX_SYMLINK`] bytes).
    pub fn symlink(
        &mut self,
        area: AreaId,
        dir: Ino,
        name: &[u8],
        target: &[u8],
    ) -> Result<Attr, Error> {
        if target.len() > MAX_SYMLINK {
            return Err(Error::TargetTooLong);
        }
        if target.is_empty() {
            return Err(Error::Invalid);
        }
        self.mutate(|s| s.new_node(area, dir, name, S_IFLNK | 0o777, 0, Some(target)))
    }

    fn new_node(
        &mut self,
        area: AreaId,
        dir: Ino,
        name: &[u8],
        mode: u32,
        rdev: u32,
        target: Option<&[u8]>,
    ) -> Result<Attr, Error> {
        valid_name(name)?;
        let d = self.get_dir(area, dir)?;
        if self.dir_lookup(area, dir, name)?.is_some() {
            return Err(Error::Exists);
        }
        let is_dir = mode & S_IFMT == crate::S_IFDIR;
        if is_dir && d.nlink >= MAX_LINKS {
            return Err(Error::TooManyLinks);
        }
        self.ensure_quota(area, 2 * METADATA_CHARGE)?;
        let need = self.tree_need(6);
        self.ensure_space(need, true)?;
        let (ino, limit) = {
            let a = self.area(area)?;
            (a.next_ino, a.ino_limit)
        };
        if ino >= u32::MAX - crate::records::INO_STEP {
            return Err(Error::NoSpace);
        }
        if ino >= limit {
            self.area_mut(area)?.ino_limit = ino + crate::records::INO_STEP;
            self.put_area_record(area)?;
        }
        let rec = InodeRecord {
            mode,
            uid: 0,
            gid: 0,
            nlink: if is_dir { 2 } else { 1 },
            rdev,
            size: target.map_or(0, |t| t.len() as u64),
            pages: 0,
            atime: self.now,
            mtime: self.now,
            ctime: self.now,
            parent: if is_dir { dir } else { 0 },
            next_cookie: FIRST_COOKIE,
        };
        self.put_inode(area, ino, &rec)?;
        if let Some(t) = target {
            self.put(Key::new(area.0, ino, Kind::Symlink, 0), t)?;
        }
        let t = rec.file_type().ok_or(Error::Invalid)?;
        self.dir_add(area, dir, name, ino, t)?;
        if is_dir {
            self.adjust_nlink(area, dir, 1)?;
        }
        let a = self.area_mut(area)?;
        a.next_ino = ino + 1;
        a.inodes += 1;
        Ok(attr_of(ino, &rec))
    }

    /// A symlink's target.
    pub fn readlink(&mut self, area: AreaId, ino: Ino) -> Result<Vec<u8>, Error> {
        let r = self.get_inode(area, ino)?;
        if r.file_type() != Some(FileType::Symlink) {
            return Err(Error::Invalid);
        }
        self.get(&Key::new(area.0, ino, Kind::Symlink, 0))?
            .ok_or(Error::Corrupt)
    }

    /// Remove the entry `name` from `dir`: a file's link (the inode goes with its last one) or
    /// an empty directory.
    pub fn unlink(&mut self, area: AreaId, dir: Ino, name: &[u8]) -> Result<(), Error> {
        self.mutate(|s| {
            valid_name(name)?;
            s.get_dir(area, dir)?;
            let e = s.dir_lookup(area, dir, name)?.ok_or(Error::NotFound)?;
            let is_dir = e.file_type == FileType::Directory;
            if is_dir && !s.dir_is_empty(area, e.ino)? {
                return Err(Error::NotEmpty);
            }
            let need = s.tree_need(6);
            s.ensure_space(need, false)?;
            s.dir_remove(area, dir, name)?;
            s.drop_link(area, e.ino, is_dir)?;
            if is_dir {
                s.adjust_nlink(area, dir, -1)?;
            }
            Ok(())
        })
    }

    /// Another name for a non-directory inode.
    pub fn link(&mut self, area: AreaId, ino: Ino, dir: Ino, name: &[u8]) -> Result<Attr, Error> {
        self.mutate(|s| {
            valid_name(name)?;
            let r = s.get_inode(area, ino)?;
            let t = r.file_type().ok_or(Error::Corrupt)?;
            if t == FileType::Directory {
                return Err(Error::NotPermitted);
            }
            if r.nlink >= MAX_LINKS {
                return Err(Error::TooManyLinks);
            }
            s.get_dir(area, dir)?;
            if s.dir_lookup(area, dir, name)?.is_some() {
                return Err(Error::Exists);
            }
            s.ensure_quota(area, METADATA_CHARGE)?;
            let need = s.tree_need(4);
            s.ensure_space(need, true)?;
            s.dir_add(area, dir, name, ino, t)?;
            s.adjust_nlink(area, ino, 1)?;
            s.getattr(area, ino)
        })
    }

    /// Move `old_name` in `old_dir` to `new_name` in `new_dir`, replacing what is there (POSIX
    /// rename: a directory only replaces an empty directory, a non-directory only a
    /// non-directory; a directory never moves into itself).
    pub fn rename(
        &mut self,
        area: AreaId,
        old_dir: Ino,
        old_name: &[u8],
        new_dir: Ino,
        new_name: &[u8],
    ) -> Result<(), Error> {
        self.mutate(|s| {
            valid_name(old_name)?;
            valid_name(new_name)?;
            s.get_dir(area, old_dir)?;
            s.get_dir(area, new_dir)?;
            let src = s
                .dir_lookup(area, old_dir, old_name)?
                .ok_or(Error::NotFound)?;
            if old_dir == new_dir && old_name == new_name {
                return Ok(());
            }
            let src_is_dir = src.file_type == FileType::Directory;
            if src_is_dir && old_dir != new_dir {
                s.check_not_inside(area, new_dir, src.ino)?;
            }
            let target = s.dir_lookup(area, new_dir, new_name)?;
            if let Some(t) = &target {
                if t.ino == src.ino {
                    return Ok(());
                }
                let t_is_dir = t.file_type == FileType::Directory;
                match (src_is_dir, t_is_dir) {
                    (true, false) => return Err(Error::NotDir),
                    (false, true) => return Err(Error::IsDir),
                    (true, true) if !s.dir_is_empty(area, t.ino)? => return Err(Error::NotEmpty),
                    _ => {}
                }
            }
            let need = s.tree_need(12);
            s.ensure_space(need, false)?;
            if let Some(t) = target {
                let t_is_dir = t.file_type == FileType::Directory;
                s.dir_remove(area, new_dir, new_name)?;
                s.drop_link(area, t.ino, t_is_dir)?;
                if t_is_dir {
                    s.adjust_nlink(area, new_dir, -1)?;
                }
            }
            s.dir_remove(area, old_dir, old_name)?;
            s.dir_add(area, new_dir, new_name, src.ino, src.file_type)?;
            let mut r = s.get_inode(area, src.ino)?;
            r.ctime = s.now;
            if src_is_dir && old_dir != new_dir {
                r.parent = new_dir;
                s.put_inode(area, src.ino, &r)?;
                s.adjust_nlink(area, old_dir, -1)?;
                s.adjust_nlink(area, new_dir, 1)?;
            } else {
                s.put_inode(area, src.ino, &r)?;
            }
            Ok(())
        })
    }

    /// Fail with [`Error::Invalid`] if `dir` is `moved` or lies below it.
    fn check_not_inside(&mut self, area: AreaId, dir: Ino, moved: Ino) -> Result<(), Error> {
        let mut at = dir;
        for _ in 0..4096 {
            if at == moved {
                return Err(Error::Invalid);
            }
            if at == ROOT_INO {
                return Ok(());
            }
            at = self.get_dir(area, at)?.parent;
        }
        Err(Error::Corrupt)
    }

    /// Change attributes (SETINODE): permissions, owner, size, times; ctime becomes now.
    pub fn setattr(&mut self, area: AreaId, ino: Ino, set: SetAttr) -> Result<Attr, Error> {
        self.mutate(|s| {
            let mut r = s.get_inode(area, ino)?;
            if let Some(size) = set.size {
                if size != r.size {
                    match r.file_type() {
                        Some(FileType::Regular) => {}
                        Some(FileType::Directory) => return Err(Error::IsDir),
                        _ => return Err(Error::Invalid),
                    }
                    s.truncate(area, ino, size)?;
                    r = s.get_inode(area, ino)?;
                }
            }
            if let Some(m) = set.mode {
                r.mode = (r.mode & S_IFMT) | (m & 0o7777);
            }
            r.uid = set.uid.unwrap_or(r.uid);
            r.gid = set.gid.unwrap_or(r.gid);
            r.atime = set.atime.unwrap_or(r.atime);
            r.mtime = set.mtime.unwrap_or(r.mtime);
            r.ctime = s.now;
            let need = s.tree_need(1);
            s.ensure_space(need, false)?;
            s.put_inode(area, ino, &r)?;
            Ok(attr_of(ino, &r))
        })
    }

    /// What the area holds and may still hold (STATFS).
    pub fn statfs(&self, area: AreaId) -> Result<AreaStat, Error> {
        let a = self.area(area)?;
        let device_free = u64::from(
            self.pager
                .space
                .free()
                .saturating_sub(self.reserve_blocks()),
        ) * BLOCK_SIZE as u64;
        let device_total = u64::from(self.pager.space.total()) * BLOCK_SIZE as u64;
        let (total, free) = match a.quota {
            Some(q) => (q, q.saturating_sub(a.used()).min(device_free)),
            None => (device_total, device_free),
        };
        Ok(AreaStat {
            total,
            free,
            inodes: a.inodes,
        })
    }
}
