//! [`MetafsStore`] for the reference store: POSIX semantics, plainly.

use super::{
    entry_cost, ino, Body, Entry, Node, ReferenceStore, INODE_COST, MAX_FILE_SIZE, MAX_LINKS, PAGE,
};
use crate::metafs::store::{
    Attr, DirEntry, DirSink, FileType, FsError, Ino, MetafsStore, Name, NewNode, SetAttr, Space,
    Timestamp, Volume,
};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

impl Node {
    fn attr(&self, n: u32) -> Attr {
        let (size, blocks) = match &self.body {
            Body::File { size, pages } => (*size, pages.len() as u64 * PAGE / 512),
            Body::Dir { .. } => (PAGE, PAGE / 512),
            Body::Symlink(target) => (target.len() as u64, 0),
            Body::Special => (0, 0),
        };
        Attr {
            ino: ino(n),
            kind: self.kind,
            perm: self.perm,
            nlink: self.nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: self.rdev,
            size,
            blocks,
            atime: self.atime,
            mtime: self.mtime,
            ctime: self.ctime,
        }
    }
}

impl ReferenceStore {
    fn attr(&self, volume: Volume, n: Ino) -> Result<Attr, FsError> {
        Ok(self.node(volume, n)?.attr(n.get()))
    }

    /// Adds `name -> child` to directory `dir` (the caller charged the entry); touches `dir`.
    fn add_entry(&mut self, volume: Volume, dir: Ino, name: &[u8], child: u32, now: Timestamp) {
        let node = self.node_mut(volume, dir).expect("checked directory");
        if let Body::Dir {
            entries,
            order,
            next_cookie,
            ..
        } = &mut node.body
        {
            let cookie = *next_cookie;
            *next_cookie += 1;
            entries.insert(name.to_vec(), Entry { ino: child, cookie });
            order.insert(cookie, name.to_vec());
        }
        node.mtime = now;
        node.ctime = now;
    }

    /// Removes `name` from directory `dir` (refunding the entry); touches `dir`.
    fn remove_entry(&mut self, volume: Volume, dir: Ino, name: &[u8], now: Timestamp) {
        let node = self.node_mut(volume, dir).expect("checked directory");
        if let Body::Dir { entries, order, .. } = &mut node.body {
            if let Some(entry) = entries.remove(name) {
                order.remove(&entry.cookie);
            }
        }
        node.mtime = now;
        node.ctime = now;
        self.refund(volume, entry_cost(name));
    }

    /// Adds `delta` to the link count of `n`.
    fn relink(&mut self, n: u32, delta: i32, now: Timestamp) {
        let node = self.nodes.get_mut(&n).expect("linked inode");
        node.nlink = node.nlink.wrapping_add_signed(delta);
        node.ctime = now;
    }

    /// A new named node in `dir`.
    fn make(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        node: NewNode,
        body: Body,
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        let NewNode { kind, perm, rdev } = node;
        if self.entries(volume, dir)?.contains_key(name.as_bytes()) {
            return Err(FsError::Exists);
        }
        self.check_open_dir(volume, dir)?;
        self.charge(volume, entry_cost(name.as_bytes()))?;
        let child = match self.insert_node(volume, kind, perm, rdev, body, now) {
            Ok(child) => child,
            Err(e) => {
                self.refund(volume, entry_cost(name.as_bytes()));
                return Err(e);
            }
        };
        self.add_entry(volume, dir, name.as_bytes(), child.get(), now);
        if kind == FileType::Directory {
            self.relink(dir.get(), 1, now);
        }
        self.attr(volume, child)
    }

    /// New names may go into directory `dir`: it has not been removed (NotFound, as Linux
    /// answers for a deleted working directory).
    fn check_open_dir(&self, volume: Volume, dir: Ino) -> Result<(), FsError> {
        match self.node(volume, dir)?.nlink {
            0 => Err(FsError::NotFound),
            _ => Ok(()),
        }
    }

    /// Whether `ancestor` is `dir` or one of the directories above it.
    fn is_within(&self, dir: u32, ancestor: u32) -> bool {
        let mut at = dir;
        for _ in 0..=self.nodes.len() {
            if at == ancestor {
                return true;
            }
            match self.nodes.get(&at).map(|n| &n.body) {
                Some(Body::Dir { parent, .. }) if *parent != at => at = *parent,
                _ => return false,
            }
        }
        false
    }

    /// Whether directory `n` has no entries.
    fn is_empty_dir(&self, n: u32) -> bool {
        matches!(self.nodes.get(&n).map(|n| &n.body), Some(Body::Dir { entries, .. }) if entries.is_empty())
    }

    /// `name` in `dir` loses its name: `n` loses a link (a directory loses all, and its parent
    /// one); a removed directory no longer has a parent to go back to (it points at itself).
    fn drop_name(&mut self, volume: Volume, dir: Ino, name: &[u8], n: u32, now: Timestamp) {
        self.remove_entry(volume, dir, name, now);
        let is_dir = self.nodes[&n].kind == FileType::Directory;
        if is_dir {
            self.relink(dir.get(), -1, now);
            let node = self.nodes.get_mut(&n).expect("named inode");
            node.nlink = 0;
            node.ctime = now;
            if let Body::Dir { parent, .. } = &mut node.body {
                *parent = n;
            }
        } else {
            self.relink(n, -1, now);
        }
    }
}

impl MetafsStore for ReferenceStore {
    fn root(&mut self, volume: Volume) -> Result<Ino, FsError> {
        self.gate()?;
        Ok(ino(self.volumes.get(&volume).ok_or(FsError::Stale)?.root))
    }

    fn getattr(&mut self, volume: Volume, n: Ino) -> Result<Attr, FsError> {
        self.gate()?;
        self.attr(volume, n)
    }

    fn lookup(&mut self, volume: Volume, dir: Ino, name: Name<'_>) -> Result<Attr, FsError> {
        self.gate()?;
        let entry = *self
            .entries(volume, dir)?
            .get(name.as_bytes())
            .ok_or(FsError::NotFound)?;
        self.attr(volume, ino(entry.ino))
    }

    fn parent(&mut self, volume: Volume, dir: Ino) -> Result<Ino, FsError> {
        self.gate()?;
        match self.node(volume, dir)?.body {
            Body::Dir { parent, .. } => Ok(ino(parent)),
            _ => Err(FsError::NotDir),
        }
    }

    fn read(
        &mut self,
        volume: Volume,
        n: Ino,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, FsError> {
        self.gate()?;
        let Body::File { size, pages } = &self.node(volume, n)?.body else {
            return Err(match self.node(volume, n)?.kind {
                FileType::Directory => FsError::IsDir,
                _ => FsError::Invalid,
            });
        };
        let len = size.saturating_sub(offset).min(buf.len() as u64) as usize;
        for (i, b) in buf[..len].iter_mut().enumerate() {
            let at = offset + i as u64;
            *b = pages
                .get(&(at / PAGE))
                .map_or(0, |p| p[(at % PAGE) as usize]);
        }
        Ok(len)
    }

    fn write(
        &mut self,
        volume: Volume,
        n: Ino,
        offset: u64,
        data: &[u8],
        now: Timestamp,
    ) -> Result<(), FsError> {
        self.gate()?;
        let node = self.node(volume, n)?;
        let Body::File { pages, .. } = &node.body else {
            return Err(match node.kind {
                FileType::Directory => FsError::IsDir,
                _ => FsError::Invalid,
            });
        };
        if data.is_empty() {
            return Ok(());
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(FsError::FileTooBig)?;
        if end > MAX_FILE_SIZE {
            return Err(FsError::FileTooBig);
        }
        let new_pages = (offset / PAGE..=(end - 1) / PAGE)
            .filter(|p| !pages.contains_key(p))
            .count() as u64;
        self.charge(volume, new_pages * PAGE)?;
        let node = self.node_mut(volume, n)?;
        if let Body::File { size, pages } = &mut node.body {
            for (i, &b) in data.iter().enumerate() {
                let at = offset + i as u64;
                let page = pages
                    .entry(at / PAGE)
                    .or_insert_with(|| Box::new([0; PAGE as usize]));
                page[(at % PAGE) as usize] = b;
            }
            *size = (*size).max(end);
        }
        node.mtime = now;
        node.ctime = now;
        Ok(())
    }

    fn readdir(
        &mut self,
        volume: Volume,
        dir: Ino,
        after: u64,
        sink: &mut DirSink<'_>,
    ) -> Result<(), FsError> {
        self.gate()?;
        let Body::Dir { entries, order, .. } = &self.node(volume, dir)?.body else {
            return Err(FsError::NotDir);
        };
        for (&cookie, name) in order.range(after.saturating_add(1)..) {
            let entry = entries[name];
            let kind = self.nodes[&entry.ino].kind;
            let taken = sink(DirEntry {
                ino: ino(entry.ino),
                kind,
                name,
                cookie,
            });
            if !taken {
                break;
            }
        }
        Ok(())
    }

    fn readlink(&mut self, volume: Volume, n: Ino, buf: &mut [u8]) -> Result<usize, FsError> {
        self.gate()?;
        let Body::Symlink(target) = &self.node(volume, n)?.body else {
            return Err(FsError::Invalid);
        };
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
        self.gate()?;
        let body = match node.kind {
            FileType::Regular => Body::File {
                size: 0,
                pages: BTreeMap::new(),
            },
            FileType::Directory => Body::Dir {
                parent: dir.get(),
                entries: BTreeMap::new(),
                order: BTreeMap::new(),
                next_cookie: 1,
            },
            FileType::Symlink => return Err(FsError::Invalid),
            _ => Body::Special,
        };
        self.make(volume, dir, name, node, body, now)
    }

    fn symlink(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        target: &[u8],
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        self.gate()?;
        let body = Body::Symlink(target.to_vec());
        let node = NewNode {
            kind: FileType::Symlink,
            perm: 0o777,
            rdev: 0,
        };
        self.make(volume, dir, name, node, body, now)
    }

    fn link(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        n: Ino,
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        self.gate()?;
        let node = self.node(volume, n)?;
        if node.kind == FileType::Directory {
            return Err(FsError::NotPermitted);
        }
        if node.nlink == 0 {
            return Err(FsError::NotFound);
        }
        if node.nlink >= MAX_LINKS {
            return Err(FsError::TooManyLinks);
        }
        if self.entries(volume, dir)?.contains_key(name.as_bytes()) {
            return Err(FsError::Exists);
        }
        self.check_open_dir(volume, dir)?;
        self.charge(volume, entry_cost(name.as_bytes()))?;
        self.add_entry(volume, dir, name.as_bytes(), n.get(), now);
        self.relink(n.get(), 1, now);
        self.attr(volume, n)
    }

    fn unlink(
        &mut self,
        volume: Volume,
        dir: Ino,
        name: Name<'_>,
        now: Timestamp,
    ) -> Result<(), FsError> {
        self.gate()?;
        let entry = *self
            .entries(volume, dir)?
            .get(name.as_bytes())
            .ok_or(FsError::NotFound)?;
        if self.nodes[&entry.ino].kind == FileType::Directory && !self.is_empty_dir(entry.ino) {
            return Err(FsError::NotEmpty);
        }
        self.drop_name(volume, dir, name.as_bytes(), entry.ino, now);
        Ok(())
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
        self.gate()?;
        let source = *self
            .entries(volume, from_dir)?
            .get(from.as_bytes())
            .ok_or(FsError::NotFound)?;
        let target = self.entries(volume, to_dir)?.get(to.as_bytes()).copied();
        let moving_dir = self.nodes[&source.ino].kind == FileType::Directory;
        if let Some(target) = target {
            if target.ino == source.ino {
                return Ok(());
            }
            let target_is_dir = self.nodes[&target.ino].kind == FileType::Directory;
            match (moving_dir, target_is_dir) {
                (true, false) => return Err(FsError::NotDir),
                (false, true) => return Err(FsError::IsDir),
                (true, true) if !self.is_empty_dir(target.ino) => return Err(FsError::NotEmpty),
                _ => {}
            }
        }
        if moving_dir && self.is_within(to_dir.get(), source.ino) {
            return Err(FsError::Invalid);
        }
        self.check_open_dir(volume, to_dir)?;
        if target.is_none() {
            self.charge(volume, entry_cost(to.as_bytes()))?;
        }
        if let Some(target) = target {
            self.drop_name(volume, to_dir, to.as_bytes(), target.ino, now);
            self.charge(volume, entry_cost(to.as_bytes()))
                .expect("the replaced entry's space was just given back");
        }
        self.remove_entry(volume, from_dir, from.as_bytes(), now);
        self.add_entry(volume, to_dir, to.as_bytes(), source.ino, now);
        let node = self.nodes.get_mut(&source.ino).expect("renamed inode");
        node.ctime = now;
        if moving_dir {
            if let Body::Dir { parent, .. } = &mut node.body {
                *parent = to_dir.get();
            }
            self.relink(from_dir.get(), -1, now);
            self.relink(to_dir.get(), 1, now);
        }
        Ok(())
    }

    fn setattr(
        &mut self,
        volume: Volume,
        n: Ino,
        attr: SetAttr,
        now: Timestamp,
    ) -> Result<Attr, FsError> {
        self.gate()?;
        let node = self.node(volume, n)?;
        let current = node.attr(n.get()).size;
        let mut freed = 0u64;
        if attr.size != current {
            match &node.body {
                Body::File { pages, .. } => {
                    if attr.size > MAX_FILE_SIZE {
                        return Err(FsError::FileTooBig);
                    }
                    let keep = attr.size.div_ceil(PAGE);
                    freed = pages.range(keep..).count() as u64 * PAGE;
                }
                Body::Dir { .. } => return Err(FsError::IsDir),
                _ => return Err(FsError::Invalid),
            }
        }
        let node = self.node_mut(volume, n)?;
        if let Body::File { size, pages } = &mut node.body {
            if attr.size != *size {
                let keep = attr.size.div_ceil(PAGE);
                pages.retain(|&p, _| p < keep);
                // Bytes past the new end in the last page read as zeroes if the file grows again.
                if let Some(last) = pages.get_mut(&(attr.size / PAGE)) {
                    last[(attr.size % PAGE) as usize..].fill(0);
                }
                *size = attr.size;
                node.mtime = now;
            }
        }
        node.perm = attr.perm;
        node.uid = attr.uid;
        node.gid = attr.gid;
        node.ctime = now;
        self.refund(volume, freed);
        self.attr(volume, n)
    }

    fn statfs(&mut self, volume: Volume) -> Result<Space, FsError> {
        self.gate()?;
        let info = self.volumes.get(&volume).ok_or(FsError::Stale)?;
        let store_free = self.capacity - self.used;
        let (total, free) = match info.quota {
            Some(q) => (q, q.saturating_sub(info.used).min(store_free)),
            None => (info.used + store_free, store_free),
        };
        Ok(Space {
            total,
            free,
            used: info.used,
        })
    }

    fn fsync(&mut self, volume: Volume, n: Ino) -> Result<(), FsError> {
        self.gate()?;
        self.node(volume, n)?;
        self.syncs += 1;
        Ok(())
    }

    fn release_unlinked(&mut self, volume: Volume) -> Result<(), FsError> {
        self.gate()?;
        let orphans: Vec<u32> = self
            .nodes
            .iter()
            .filter(|(_, node)| node.volume == volume && node.nlink == 0)
            .map(|(&n, _)| n)
            .collect();
        for n in orphans {
            let node = self.nodes.remove(&n).expect("listed");
            let pages = match &node.body {
                Body::File { pages, .. } => pages.len() as u64,
                _ => 0,
            };
            self.refund(volume, INODE_COST + pages * PAGE);
        }
        Ok(())
    }
}
