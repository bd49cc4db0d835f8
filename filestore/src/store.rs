//! The store: format, mount (with the boot check), transactions and commits, areas.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::check::{self, CheckReport};
use crate::device::{BlockDevice, DeviceError, BLOCK_SIZE};
use crate::error::Error;
use crate::key::{Key, Kind};
use crate::node::Ptr;
use crate::pager::Pager;
use crate::records::{AreaRecord, InodeRecord, S_IFDIR};
use crate::space::Space;
use crate::superblock::{Superblock, SUPERBLOCKS};
use crate::{
    AreaId, AreaInfo, Ino, StoreStat, Time, MAX_AREA_NAME, METADATA_CHARGE, PAGE_SIZE, ROOT_INO,
};

/// When changes become durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Every operation commits before it returns (the metafs server's mode).
    EachOperation,
    /// Operations commit together at [`Store::sync`] (an image import: all or nothing).
    Deferred,
}

/// How to mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountOptions {
    /// Clean nodes kept in RAM (changed ones stay until the commit regardless).
    pub cache_nodes: usize,
    /// Write the check's repairs (else only report them and mount read-only).
    pub repair: bool,
    /// Also read every data page and check its CRC (slow: reads the whole device).
    pub verify_data: bool,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            cache_nodes: 64,
            repair: true,
            verify_data: false,
        }
    }
}

/// Why a device could not be mounted or formatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountError {
    /// Neither superblock is valid: the device holds no store (format it).
    NotFormatted,
    /// Both superblocks are valid but neither one's root node can be read: the store is lost.
    Unreadable,
    /// The device is smaller than the store it holds.
    DeviceShrunk,
    /// The device is too small (fewer than 16 blocks) or too large (2^32 blocks or more).
    BadSize,
    /// The device failed.
    Io(DeviceError),
    /// Writing the repairs or the first commit failed.
    Store(Error),
}

/// Per-area state in RAM: the record's fields and counts rebuilt by the mount walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AreaState {
    pub name: Vec<u8>,
    pub quota: Option<u64>,
    pub pages: u64,
    pub inodes: u64,
    pub entries: u64,
    pub next_ino: Ino,
    /// The record's [`AreaRecord::ino_limit`].
    pub ino_limit: Ino,
    pub reads: u64,
    pub writes: u64,
}

impl AreaState {
    pub fn used(&self) -> u64 {
        self.pages * PAGE_SIZE as u64 + (self.inodes + self.entries) * METADATA_CHARGE
    }
}

/// A mounted store on device `D`.
pub struct Store<D: BlockDevice> {
    pub(crate) pager: Pager<D>,
    pub(crate) root: Ptr,
    committed_root: Ptr,
    generation: u64,
    pub(crate) areas: BTreeMap<u16, AreaState>,
    committed_areas: BTreeMap<u16, AreaState>,
    pub(crate) now: Time,
    durability: Durability,
    failed: bool,
    read_only: bool,
    /// Blocks kept back from growth so that removals can always run.
    reserve: u32,
    /// Set by every tree change of the running operation.
    pub(crate) touched: bool,
}

fn reserve_for(blocks: u32) -> u32 {
    (blocks / 100).clamp(8, 256)
}

impl<D: BlockDevice> Store<D> {
    fn empty(dev: D, blocks: u32, options: &MountOptions) -> Self {
        Store {
            pager: Pager::new(dev, Space::new(blocks, SUPERBLOCKS), options.cache_nodes),
            root: Ptr { block: 0, crc: 0 },
            committed_root: Ptr { block: 0, crc: 0 },
            generation: 0,
            areas: BTreeMap::new(),
            committed_areas: BTreeMap::new(),
            now: Time::ZERO,
            durability: Durability::EachOperation,
            failed: false,
            read_only: false,
            reserve: reserve_for(blocks),
            touched: false,
        }
    }

    fn device_blocks(dev: &D) -> Result<u32, MountError> {
        let n = dev.block_count();
        if !(16..u64::from(u32::MAX)).contains(&n) {
            return Err(MountError::BadSize);
        }
        Ok(n as u32)
    }

    /// Write an empty store on `dev` (erasing what it held): the host area with an empty root
    /// directory, committed as generation 1 (both superblocks are written, the second empty).
    pub fn format(dev: D, now: Time) -> Result<Store<D>, MountError> {
        let blocks = Self::device_blocks(&dev)?;
        let mut s = Self::empty(dev, blocks, &MountOptions::default());
        s.now = now;
        let fail = MountError::Store;
        // An invalid superblock in slot 0 so that an old store's generation cannot win.
        s.pager.write_block(0, &[0u8; BLOCK_SIZE]).map_err(fail)?;
        s.root = s.pager.new_root().map_err(fail)?;
        s.add_area(AreaId::HOST.0, b"host", None).map_err(fail)?;
        s.commit().map_err(fail)?;
        Ok(s)
    }

    /// Mount the store on `dev`: find the newest good commit, walk and check the whole tree,
    /// rebuild free space, and (with `options.repair`) write the repairs. The report says what
    /// the check found.
    pub fn mount(mut dev: D, options: MountOptions) -> Result<(Store<D>, CheckReport), MountError> {
        let blocks = Self::device_blocks(&dev)?;
        let mut candidates = Vec::new();
        let mut bad_slots = 0;
        for slot in 0..SUPERBLOCKS {
            let mut buf = [0u8; BLOCK_SIZE];
            dev.read(u64::from(slot), &mut buf)
                .map_err(MountError::Io)?;
            match Superblock::decode(&buf) {
                Some(sb) if sb.slot() == slot => candidates.push(sb),
                _ => bad_slots += 1,
            }
        }
        if candidates.is_empty() {
            return Err(MountError::NotFormatted);
        }
        candidates.sort_by_key(|sb| core::cmp::Reverse(sb.generation));
        if candidates[0].block_count > u64::from(blocks) {
            return Err(MountError::DeviceShrunk);
        }
        let blocks = candidates[0].block_count as u32;
        let mut store = Self::empty(dev, blocks, &options);
        for (i, sb) in candidates.iter().enumerate() {
            if store.pager.node(sb.root).is_err() {
                continue;
            }
            store.root = sb.root;
            store.committed_root = sb.root;
            store.generation = sb.generation;
            let mut report = check::run(&mut store, &options).map_err(MountError::Store)?;
            report.rolled_back = i > 0;
            report.generation = sb.generation;
            report.torn_superblock = bad_slots > 0 && i == 0;
            store.read_only = !options.repair && !report.problems.is_empty();
            return Ok((store, report));
        }
        Err(MountError::Unreadable)
    }

    /// Commit the running transaction: dirty nodes, flush, superblock, flush.
    pub(crate) fn commit(&mut self) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        if !self.pager.has_dirty()
            && self.pager.space.pending() == 0
            && self.root == self.committed_root
        {
            return Ok(());
        }
        let generation = self.generation + 1;
        let result = (|| {
            let root = self.pager.write_tree(self.root, generation)?;
            self.pager.flush()?;
            let sb = Superblock {
                block_count: u64::from(self.pager.space.total()),
                generation,
                root,
            };
            let mut buf = [0u8; BLOCK_SIZE];
            sb.encode(&mut buf);
            self.pager.write_block(sb.slot(), &buf)?;
            self.pager.flush()?;
            Ok(root)
        })();
        match result {
            Ok(root) => {
                self.root = root;
                self.committed_root = root;
                self.generation = generation;
                self.pager.space.committed();
                self.committed_areas = self.areas.clone();
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Drop the running transaction.
    pub(crate) fn abort(&mut self) {
        self.pager.abort();
        self.root = self.committed_root;
        self.areas = self.committed_areas.clone();
    }

    /// Run one operation as (part of) a transaction: refused before any change, it changes
    /// nothing; failed after changes began, its transaction is dropped; done, it commits in
    /// [`Durability::EachOperation`].
    pub(crate) fn mutate<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        if self.read_only {
            return Err(Error::Corrupt);
        }
        self.touched = false;
        match f(self) {
            Ok(v) => {
                if self.durability == Durability::EachOperation {
                    self.commit()?;
                }
                Ok(v)
            }
            Err(e) => {
                if self.touched || e.dropped_changes() {
                    self.abort();
                }
                Err(e)
            }
        }
    }

    /// Make every change so far durable (the metafs FSYNC; the end of a deferred job).
    pub fn sync(&mut self) -> Result<(), Error> {
        self.commit()
    }

    /// Choose when changes become durable; switching to [`Durability::EachOperation`] commits.
    pub fn set_durability(&mut self, d: Durability) -> Result<(), Error> {
        self.durability = d;
        if d == Durability::EachOperation {
            self.commit()?;
        }
        Ok(())
    }

    /// Drop the changes made since the last commit (a deferred job given up: an import
    /// refused half-way, a transfer aborted).
    pub fn discard(&mut self) {
        self.abort();
    }

    /// The time stamped on what changes from now on.
    pub fn set_time(&mut self, now: Time) {
        self.now = now;
    }

    /// The device as a whole.
    pub fn stat(&self) -> StoreStat {
        StoreStat {
            block_count: self.pager.space.total(),
            free_blocks: self.pager.space.free(),
            generation: self.generation,
            io: self.pager.io,
        }
    }

    /// Whether a check at mount found damage it was told not to repair (nothing is written).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The device (to inspect it in tests, or hand it back).
    pub fn device(&mut self) -> &mut D {
        &mut self.pager.dev
    }

    /// Unmount: commit and give the device back.
    pub fn into_device(mut self) -> Result<D, (Error, D)> {
        match self.commit() {
            Ok(()) => Ok(self.pager.dev),
            Err(e) => Err((e, self.pager.dev)),
        }
    }

    /// RAM the store holds now, in bytes: the free-space bitmap, the node cache, the areas.
    pub fn ram_bytes(&self) -> usize {
        self.pager.space.ram_bytes()
            + self.pager.cache_bytes()
            + self
                .areas
                .values()
                .map(|a| core::mem::size_of::<AreaState>() + a.name.len() + 32)
                .sum::<usize>()
    }

    /// RAM one area's state takes (its share beyond the store's bitmap and cache).
    pub fn area_ram_bytes(&self, area: AreaId) -> usize {
        self.areas
            .get(&area.0)
            .map_or(0, |a| core::mem::size_of::<AreaState>() + a.name.len() + 32)
    }

    // ---- areas ----

    pub(crate) fn area_mut(&mut self, area: AreaId) -> Result<&mut AreaState, Error> {
        self.areas.get_mut(&area.0).ok_or(Error::NoArea)
    }

    pub(crate) fn area(&self, area: AreaId) -> Result<&AreaState, Error> {
        self.areas.get(&area.0).ok_or(Error::NoArea)
    }

    fn add_area(&mut self, id: u16, name: &[u8], quota: Option<u64>) -> Result<(), Error> {
        let record = AreaRecord {
            name: name.to_vec(),
            quota,
            ino_limit: ROOT_INO + 1,
        };
        self.put(Key::new(id, 0, Kind::Area, 0), &record.encode())?;
        let root = InodeRecord {
            mode: S_IFDIR | 0o755,
            uid: 0,
            gid: 0,
            nlink: 2,
            rdev: 0,
            size: 0,
            pages: 0,
            atime: self.now,
            mtime: self.now,
            ctime: self.now,
            parent: ROOT_INO,
            next_cookie: crate::ops::FIRST_COOKIE,
        };
        self.put_inode(AreaId(id), ROOT_INO, &root)?;
        self.areas.insert(
            id,
            AreaState {
                name: name.to_vec(),
                quota,
                pages: 0,
                inodes: 1,
                entries: 0,
                next_ino: ROOT_INO + 1,
                ino_limit: ROOT_INO + 1,
                reads: 0,
                writes: 0,
            },
        );
        Ok(())
    }

    /// A new area (a guest's disk) with an empty root directory.
    pub fn create_area(&mut self, name: &[u8], quota: Option<u64>) -> Result<AreaId, Error> {
        if name.is_empty() || name.len() > MAX_AREA_NAME {
            return Err(Error::BadName);
        }
        if self.find_area(name).is_some() {
            return Err(Error::AreaExists);
        }
        let id = (1..u16::MAX)
            .find(|id| !self.areas.contains_key(id))
            .ok_or(Error::TooManyAreas)?;
        self.need_space(2, true)?;
        self.mutate(|s| s.add_area(id, name, quota))?;
        Ok(AreaId(id))
    }

    /// The area named `name`.
    pub fn find_area(&self, name: &[u8]) -> Option<AreaId> {
        self.areas
            .iter()
            .find(|(_, a)| a.name == name)
            .map(|(id, _)| AreaId(*id))
    }

    /// Every area, by id.
    pub fn areas(&self) -> Vec<AreaInfo> {
        self.areas
            .keys()
            .filter_map(|&id| self.area_info(AreaId(id)).ok())
            .collect()
    }

    /// One area's figures.
    pub fn area_info(&self, area: AreaId) -> Result<AreaInfo, Error> {
        let a = self.area(area)?;
        Ok(AreaInfo {
            id: area,
            name: a.name.clone(),
            quota: a.quota,
            used: a.used(),
            inodes: a.inodes,
            pages: a.pages,
            next_ino: a.next_ino,
            reads: a.reads,
            writes: a.writes,
        })
    }

    /// Change an area's quota (`disk-size`); below what it uses, it can only shrink.
    pub fn set_quota(&mut self, area: AreaId, quota: Option<u64>) -> Result<(), Error> {
        self.area(area)?;
        self.need_space(1, false)?;
        self.mutate(|s| {
            s.area_mut(area)?.quota = quota;
            s.put_area_record(area)
        })
    }

    /// Rename an area.
    pub fn rename_area(&mut self, area: AreaId, name: &[u8]) -> Result<(), Error> {
        if name.is_empty() || name.len() > MAX_AREA_NAME {
            return Err(Error::BadName);
        }
        self.area(area)?;
        if self.find_area(name).is_some_and(|a| a != area) {
            return Err(Error::AreaExists);
        }
        self.need_space(1, false)?;
        self.mutate(|s| {
            s.area_mut(area)?.name = name.to_vec();
            s.put_area_record(area)
        })
    }

    /// Remove an area and everything in it (not the host area).
    pub fn remove_area(&mut self, area: AreaId) -> Result<(), Error> {
        if area == AreaId::HOST {
            return Err(Error::NotPermitted);
        }
        self.area(area)?;
        self.need_space(2, false)?;
        self.mutate(|s| {
            let from = Key::new(area.0, 0, Kind::Area, 0);
            let to = Key::new(area.0 + 1, 0, Kind::Area, 0);
            s.remove_range(&from, &to, true)?;
            s.areas.remove(&area.0);
            Ok(())
        })
    }

    // ---- tree helpers for the operations ----

    pub(crate) fn get(&mut self, key: &Key) -> Result<Option<Vec<u8>>, Error> {
        self.pager.get(self.root, key)
    }

    pub(crate) fn put(&mut self, key: Key, value: &[u8]) -> Result<(), Error> {
        self.touched = true;
        self.root = self.pager.insert(self.root, key, value)?;
        Ok(())
    }

    pub(crate) fn del(&mut self, key: &Key) -> Result<bool, Error> {
        self.touched = true;
        let (root, was) = self.pager.remove(self.root, key)?;
        self.root = root;
        Ok(was)
    }

    /// Remove every item with `from <= key < to`; data pages' blocks are released.
    pub(crate) fn remove_range(
        &mut self,
        from: &Key,
        to: &Key,
        release_pages: bool,
    ) -> Result<u64, Error> {
        let mut removed = 0;
        loop {
            let batch = self.pager.collect(self.root, from, to, 256)?;
            if batch.is_empty() {
                return Ok(removed);
            }
            for (k, v) in batch {
                if release_pages && k.kind == Kind::Page {
                    if let Some(p) = crate::records::PagePtr::decode(&v) {
                        self.pager.space.release(p.block);
                    }
                }
                self.del(&k)?;
                removed += 1;
            }
        }
    }

    /// Blocks a tree change of `items` items may need at most (path copies and splits).
    pub(crate) fn tree_need(&mut self, items: u64) -> u32 {
        let height = self
            .pager
            .node(self.root)
            .map(|n| u32::from(n.level()) + 1)
            .unwrap_or(4);
        let leaves = (items / 16 + 1).min(u64::from(u32::MAX / 64)) as u32;
        leaves * (height + 1) * 2
    }

    /// Fail with [`Error::NoSpace`] unless `blocks` are free (beyond the reserve for growth).
    pub(crate) fn ensure_space(&self, blocks: u32, growth: bool) -> Result<(), Error> {
        let reserve = if growth { self.reserve } else { 0 };
        if self.pager.space.free() < blocks.saturating_add(reserve) {
            return Err(Error::NoSpace);
        }
        Ok(())
    }

    /// Fail with [`Error::QuotaExceeded`] if the area would use more than its quota after
    /// adding `bytes`, or [`Error::NoSpace`] if the device cannot hold `pages` more pages.
    pub(crate) fn ensure_quota(&self, area: AreaId, bytes: u64) -> Result<(), Error> {
        let a = self.area(area)?;
        if let Some(q) = a.quota {
            if a.used().saturating_add(bytes) > q {
                return Err(Error::QuotaExceeded);
            }
        }
        Ok(())
    }

    /// Write an area's record from its state.
    pub(crate) fn put_area_record(&mut self, area: AreaId) -> Result<(), Error> {
        let a = self.area(area)?;
        let record = AreaRecord {
            name: a.name.clone(),
            quota: a.quota,
            ino_limit: a.ino_limit,
        };
        self.put(Key::new(area.0, 0, Kind::Area, 0), &record.encode())
    }

    pub(crate) fn get_inode(&mut self, area: AreaId, ino: Ino) -> Result<InodeRecord, Error> {
        self.area(area)?;
        if ino == 0 {
            return Err(Error::NotFound);
        }
        let v = self.get(&Key::new(area.0, ino, Kind::Inode, 0))?;
        match v {
            None => Err(if ino < self.area(area)?.next_ino {
                Error::Stale
            } else {
                Error::NotFound
            }),
            Some(v) => InodeRecord::decode(&v).ok_or(Error::Corrupt),
        }
    }

    pub(crate) fn put_inode(
        &mut self,
        area: AreaId,
        ino: Ino,
        rec: &InodeRecord,
    ) -> Result<(), Error> {
        self.put(Key::new(area.0, ino, Kind::Inode, 0), &rec.encode())
    }

    pub(crate) fn set_generation_state(&mut self, areas: BTreeMap<u16, AreaState>) {
        self.areas = areas.clone();
        self.committed_areas = areas;
    }

    pub(crate) fn mark_failed(&mut self) {
        self.failed = true;
    }
}

impl<D: BlockDevice> Store<D> {
    pub(crate) fn reserve_blocks(&self) -> u32 {
        self.reserve
    }

    /// FSYNC of one inode: everything is made durable (the store has one transaction).
    pub fn fsync(&mut self, area: AreaId, ino: Ino) -> Result<(), Error> {
        self.get_inode(area, ino)?;
        self.commit()
    }
}

impl<D: BlockDevice> Store<D> {
    /// [`Store::ensure_space`] for a tree change of `items` items.
    pub(crate) fn need_space(&mut self, items: u64, growth: bool) -> Result<(), Error> {
        let need = self.tree_need(items);
        self.ensure_space(need, growth)
    }
}

/// Raw access to the tree's items, committed at once: for tests that inject damage a checksum
/// cannot see (a wrong link count, a dangling entry), as a bug or a bad repair would leave it.
#[doc(hidden)]
impl<D: BlockDevice> Store<D> {
    pub fn raw_get(&mut self, key: &Key) -> Result<Option<Vec<u8>>, Error> {
        self.get(key)
    }

    pub fn raw_put(&mut self, key: Key, value: &[u8]) -> Result<(), Error> {
        self.mutate(|s| s.put(key, value))
    }

    pub fn raw_del(&mut self, key: &Key) -> Result<bool, Error> {
        self.mutate(|s| s.del(key))
    }

    /// The block of the root node and of every page of `ino` (to damage them).
    pub fn raw_blocks(&mut self, area: AreaId, ino: Ino) -> Result<(u32, Vec<u32>), Error> {
        let from = Key::new(area.0, ino, Kind::Page, 0);
        let to = Key::new(area.0, ino, Kind::Symlink, 0);
        let pages = self.pager.collect(self.root, &from, &to, usize::MAX)?;
        let blocks = pages
            .iter()
            .filter_map(|(_, v)| crate::records::PagePtr::decode(v).map(|p| p.block))
            .collect();
        Ok((self.root.block, blocks))
    }
}
