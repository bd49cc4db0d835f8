//! A reference file system in plain maps, with the same rules and the same errors as the
//! store, and a dump of either as a sorted list of paths: what the model-based test, the
//! power-cut tests and the fuzz bodies compare.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::{
    valid_name, AreaId, Error, FileType, Ino, SetAttr, Store, MAX_FILE_SIZE, MAX_LINKS,
    MAX_SYMLINK, ROOT_INO, S_IFDIR, S_IFLNK, S_IFMT,
};

/// One inode of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInode {
    pub file_type: FileType,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub data: Vec<u8>,
    pub entries: BTreeMap<Vec<u8>, Ino>,
    pub parent: Ino,
}

/// The reference file system of one area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub inodes: BTreeMap<Ino, ModelInode>,
    pub next_ino: Ino,
}

/// One path of a dump: (path, ino, type, mode, uid, gid, nlink, size, content).
pub type DumpEntry = (Vec<u8>, Ino, FileType, u32, u32, u32, u32, u64, Vec<u8>);

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    /// An empty root directory.
    pub fn new() -> Model {
        let mut inodes = BTreeMap::new();
        inodes.insert(
            ROOT_INO,
            ModelInode {
                file_type: FileType::Directory,
                mode: S_IFDIR | 0o755,
                uid: 0,
                gid: 0,
                nlink: 2,
                data: Vec::new(),
                entries: BTreeMap::new(),
                parent: ROOT_INO,
            },
        );
        Model {
            inodes,
            next_ino: ROOT_INO + 1,
        }
    }

    fn inode(&self, ino: Ino) -> Result<&ModelInode, Error> {
        if ino == 0 {
            return Err(Error::NotFound);
        }
        self.inodes.get(&ino).ok_or(if ino < self.next_ino {
            Error::Stale
        } else {
            Error::NotFound
        })
    }

    fn dir(&self, ino: Ino) -> Result<&ModelInode, Error> {
        let i = self.inode(ino)?;
        if i.file_type != FileType::Directory {
            return Err(Error::NotDir);
        }
        Ok(i)
    }

    fn mut_inode(&mut self, ino: Ino) -> &mut ModelInode {
        self.inodes.get_mut(&ino).expect("checked by the caller")
    }

    pub fn create(&mut self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino, Error> {
        let t = FileType::from_mode(mode).ok_or(Error::Invalid)?;
        if t == FileType::Symlink {
            return Err(Error::Invalid);
        }
        self.new_node(dir, name, mode, t, Vec::new())
    }

    pub fn symlink(&mut self, dir: Ino, name: &[u8], target: &[u8]) -> Result<Ino, Error> {
        if target.len() > MAX_SYMLINK {
            return Err(Error::TargetTooLong);
        }
        if target.is_empty() {
            return Err(Error::Invalid);
        }
        self.new_node(
            dir,
            name,
            S_IFLNK | 0o777,
            FileType::Symlink,
            target.to_vec(),
        )
    }

    fn new_node(
        &mut self,
        dir: Ino,
        name: &[u8],
        mode: u32,
        t: FileType,
        data: Vec<u8>,
    ) -> Result<Ino, Error> {
        valid_name(name)?;
        let d = self.dir(dir)?;
        if d.entries.contains_key(name) {
            return Err(Error::Exists);
        }
        let is_dir = t == FileType::Directory;
        if is_dir && d.nlink >= MAX_LINKS {
            return Err(Error::TooManyLinks);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(
            ino,
            ModelInode {
                file_type: t,
                mode,
                uid: 0,
                gid: 0,
                nlink: if is_dir { 2 } else { 1 },
                data,
                entries: BTreeMap::new(),
                parent: if is_dir { dir } else { 0 },
            },
        );
        let d = self.mut_inode(dir);
        d.entries.insert(name.to_vec(), ino);
        if is_dir {
            d.nlink += 1;
        }
        Ok(ino)
    }

    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize, Error> {
        let i = self.inode(ino)?;
        match i.file_type {
            FileType::Regular => {}
            FileType::Directory => return Err(Error::IsDir),
            _ => return Err(Error::Invalid),
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(Error::FileTooLarge)?;
        if end > MAX_FILE_SIZE {
            return Err(Error::FileTooLarge);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let f = self.mut_inode(ino);
        if f.data.len() < end as usize {
            f.data.resize(end as usize, 0);
        }
        f.data[offset as usize..end as usize].copy_from_slice(data);
        Ok(data.len())
    }

    pub fn read(&self, ino: Ino, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
        let i = self.inode(ino)?;
        match i.file_type {
            FileType::Regular => {}
            FileType::Directory => return Err(Error::IsDir),
            _ => return Err(Error::Invalid),
        }
        let start = (offset as usize).min(i.data.len());
        let end = start.saturating_add(len).min(i.data.len());
        Ok(i.data[start..end].to_vec())
    }

    pub fn setattr(&mut self, ino: Ino, set: SetAttr) -> Result<(), Error> {
        let i = self.inode(ino)?;
        if let Some(size) = set.size {
            if size != i.data.len() as u64 {
                match i.file_type {
                    FileType::Regular => {}
                    FileType::Directory => return Err(Error::IsDir),
                    _ => return Err(Error::Invalid),
                }
                if size > MAX_FILE_SIZE {
                    return Err(Error::FileTooLarge);
                }
                self.mut_inode(ino).data.resize(size as usize, 0);
            }
        }
        let f = self.mut_inode(ino);
        if let Some(m) = set.mode {
            f.mode = (f.mode & S_IFMT) | (m & 0o7777);
        }
        f.uid = set.uid.unwrap_or(f.uid);
        f.gid = set.gid.unwrap_or(f.gid);
        Ok(())
    }

    fn drop_link(&mut self, ino: Ino) {
        let f = self.mut_inode(ino);
        if f.file_type == FileType::Directory || f.nlink <= 1 {
            self.inodes.remove(&ino);
        } else {
            f.nlink -= 1;
        }
    }

    pub fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Error> {
        valid_name(name)?;
        let d = self.dir(dir)?;
        let &ino = d.entries.get(name).ok_or(Error::NotFound)?;
        let is_dir = self.inodes[&ino].file_type == FileType::Directory;
        if is_dir && !self.inodes[&ino].entries.is_empty() {
            return Err(Error::NotEmpty);
        }
        self.mut_inode(dir).entries.remove(name);
        self.drop_link(ino);
        if is_dir {
            self.mut_inode(dir).nlink -= 1;
        }
        Ok(())
    }

    pub fn link(&mut self, ino: Ino, dir: Ino, name: &[u8]) -> Result<(), Error> {
        valid_name(name)?;
        let i = self.inode(ino)?;
        if i.file_type == FileType::Directory {
            return Err(Error::NotPermitted);
        }
        if i.nlink >= MAX_LINKS {
            return Err(Error::TooManyLinks);
        }
        if self.dir(dir)?.entries.contains_key(name) {
            return Err(Error::Exists);
        }
        self.mut_inode(dir).entries.insert(name.to_vec(), ino);
        self.mut_inode(ino).nlink += 1;
        Ok(())
    }

    pub fn rename(&mut self, od: Ino, on: &[u8], nd: Ino, nn: &[u8]) -> Result<(), Error> {
        valid_name(on)?;
        valid_name(nn)?;
        self.dir(od)?;
        self.dir(nd)?;
        let &src = self.inodes[&od].entries.get(on).ok_or(Error::NotFound)?;
        if od == nd && on == nn {
            return Ok(());
        }
        let src_is_dir = self.inodes[&src].file_type == FileType::Directory;
        if src_is_dir && od != nd {
            let mut at = nd;
            loop {
                if at == src {
                    return Err(Error::Invalid);
                }
                if at == ROOT_INO {
                    break;
                }
                at = self.inodes[&at].parent;
            }
        }
        let target = self.inodes[&nd].entries.get(nn).copied();
        if let Some(t) = target {
            if t == src {
                return Ok(());
            }
            let t_is_dir = self.inodes[&t].file_type == FileType::Directory;
            match (src_is_dir, t_is_dir) {
                (true, false) => return Err(Error::NotDir),
                (false, true) => return Err(Error::IsDir),
                (true, true) if !self.inodes[&t].entries.is_empty() => return Err(Error::NotEmpty),
                _ => {}
            }
            self.mut_inode(nd).entries.remove(nn);
            self.drop_link(t);
            if t_is_dir {
                self.mut_inode(nd).nlink -= 1;
            }
        }
        self.mut_inode(od).entries.remove(on);
        self.mut_inode(nd).entries.insert(nn.to_vec(), src);
        if src_is_dir && od != nd {
            self.mut_inode(src).parent = nd;
            self.mut_inode(od).nlink -= 1;
            self.mut_inode(nd).nlink += 1;
        }
        Ok(())
    }

    /// Every path (directories first, then their contents, by name).
    pub fn dump(&self) -> Vec<DumpEntry> {
        let mut out = Vec::new();
        self.dump_dir(ROOT_INO, &mut vec![b'/'], &mut out);
        out
    }

    fn dump_dir(&self, dir: Ino, path: &mut Vec<u8>, out: &mut Vec<DumpEntry>) {
        let d = &self.inodes[&dir];
        out.push((
            path.clone(),
            dir,
            d.file_type,
            d.mode,
            d.uid,
            d.gid,
            d.nlink,
            0,
            Vec::new(),
        ));
        for (name, &ino) in &d.entries {
            let len = path.len();
            path.extend_from_slice(name);
            let i = &self.inodes[&ino];
            if i.file_type == FileType::Directory {
                path.push(b'/');
                self.dump_dir(ino, path, out);
            } else {
                out.push((
                    path.clone(),
                    ino,
                    i.file_type,
                    i.mode,
                    i.uid,
                    i.gid,
                    i.nlink,
                    i.data.len() as u64,
                    i.data.clone(),
                ));
            }
            path.truncate(len);
        }
    }
}

/// The same dump of a store's area, read through the store's API (readdir, lookup, getattr,
/// read, readlink). Directory sizes are reported as 0 (the store's are 0 too).
pub fn dump_store<D: BlockDevice>(
    store: &mut Store<D>,
    area: AreaId,
) -> Result<Vec<DumpEntry>, Error> {
    let mut out = Vec::new();
    let root = store.root(area)?;
    dump_store_dir(store, area, root, &mut vec![b'/'], &mut out, 0)?;
    Ok(out)
}

fn dump_store_dir<D: BlockDevice>(
    store: &mut Store<D>,
    area: AreaId,
    dir: Ino,
    path: &mut Vec<u8>,
    out: &mut Vec<DumpEntry>,
    depth: usize,
) -> Result<(), Error> {
    if depth > 64 {
        return Err(Error::Corrupt);
    }
    let a = store.getattr(area, dir)?;
    out.push((
        path.clone(),
        dir,
        a.file_type,
        a.mode,
        a.uid,
        a.gid,
        a.nlink,
        a.size,
        Vec::new(),
    ));
    let mut entries = Vec::new();
    store.readdir(area, dir, 0, &mut |e| {
        if e.name != b"." && e.name != b".." {
            entries.push(e.clone());
        }
        true
    })?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    for e in entries {
        let len = path.len();
        path.extend_from_slice(&e.name);
        let looked = store.lookup(area, dir, &e.name)?;
        if looked.ino != e.ino || looked.file_type != e.file_type {
            return Err(Error::Corrupt);
        }
        if e.file_type == FileType::Directory {
            path.push(b'/');
            dump_store_dir(store, area, e.ino, path, out, depth + 1)?;
        } else {
            let content = match e.file_type {
                FileType::Regular => {
                    let mut buf = vec![0u8; looked.size as usize];
                    let n = store.read(area, e.ino, 0, &mut buf)?;
                    buf.truncate(n);
                    buf
                }
                FileType::Symlink => store.readlink(area, e.ino)?,
                _ => Vec::new(),
            };
            out.push((
                path.clone(),
                e.ino,
                looked.file_type,
                looked.mode,
                looked.uid,
                looked.gid,
                looked.nlink,
                looked.size,
                content,
            ));
        }
        path.truncate(len);
    }
    Ok(())
}
