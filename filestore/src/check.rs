//! The boot check (fsck): run by every mount. It walks the whole tree (`tree_walk`),
//! rebuilds free space, recounts every area, and checks the file-system rules:
//!
//! - every node reads back with the CRC its parent recorded, at its level, with its keys
//!   inside its parent's bounds, and no block is used twice;
//! - every item decodes; every area has its record and a root directory;
//! - every directory entry names a live inode of the type it says, has its readdir index
//!   and the index its entry; a directory has one entry, and its parent field is that entry's
//!   directory; link counts match the entries (directories: 2 + subdirectories);
//! - no item belongs to a missing inode, no page lies past its file's size, each inode's page
//!   count is right; with `verify_data`, every page's block matches its CRC.
//!
//! Repairs (with `MountOptions::repair`), in one transaction: a damaged subtree is cut out and
//! the tree rebuilt from the good items; damaged items, items of missing inodes, pages past a
//! size and entries naming missing inodes are removed; missing area records and roots are
//! recreated; missing indexes are rebuilt and stray ones removed; an inode no entry names is
//! linked into its area's root as `lost+found-<ino>`; link counts, parents and page counts are
//! set right. What cannot be repaired is reported: a data page whose CRC fails (reading it
//! gives [`Error::Corrupt`]). Copy-on-write commits make all of this the result of damage
//! (bad sectors, a device that lies about flushes, bugs), never of a power cut.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::device::{BlockDevice, BLOCK_SIZE};
use crate::error::Error;
use crate::key::{Key, Kind};
use crate::node::Ptr;
use crate::records::{
    decode_entries, decode_index, encode_entries, encode_index, name_hash, AreaRecord, FileType,
    InodeRecord, PagePtr, S_IFDIR,
};
use crate::store::{AreaState, MountOptions, Store};
use crate::tree_walk::{rewalk, walk, BadWhy};
use crate::{AreaId, Ino, ROOT_INO};

/// One thing the check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A node failed its CRC or could not be read: its subtree's items are lost.
    NodeDamaged { block: u32 },
    /// A node whose level or keys do not fit its place: its subtree is dropped.
    NodeMisplaced { block: u32 },
    /// A node block reached twice, or outside the device.
    NodeBlockInvalid { block: u32 },
    /// A page pointer to a block outside the device or used twice: the page becomes a hole.
    PageBlockInvalid { area: u16, ino: Ino, page: u64 },
    /// An item that does not decode: removed.
    ItemDamaged { area: u16, ino: Ino },
    /// Items of an area with no record: the record is recreated (`recovered-<id>`).
    AreaRecordMissing { area: u16 },
    /// An area without its root directory: an empty one is made.
    RootMissing { area: u16 },
    /// Items of an inode that does not exist: removed.
    ItemWithoutInode { area: u16, ino: Ino },
    /// A directory entry naming a missing inode: removed.
    EntryDangling { area: u16, dir: Ino, ino: Ino },
    /// A directory entry with the wrong type, or a second entry for a directory: removed or
    /// fixed.
    EntryWrong { area: u16, dir: Ino, ino: Ino },
    /// An entry without its readdir index, or an index without its entry: rebuilt/removed.
    IndexMismatch { area: u16, dir: Ino },
    /// An inode no entry names: linked into the root as `lost+found-<ino>`.
    Orphan { area: u16, ino: Ino },
    /// A link count, parent or page count that disagrees with the tree: set right.
    CountWrong { area: u16, ino: Ino },
    /// A page past its file's size: removed.
    PageBeyondSize { area: u16, ino: Ino, page: u64 },
    /// A data page whose block does not match its CRC (not repaired; reads give EIO).
    DataDamaged { area: u16, ino: Ino, page: u64 },
}

/// What the check found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The commit mounted.
    pub generation: u64,
    pub nodes: u64,
    pub items: u64,
    pub areas: u64,
    pub inodes: u64,
    pub pages: u64,
    /// The first problems found (at most [`MAX_LISTED`]).
    pub problems: Vec<Problem>,
    /// How many problems there were in all.
    pub problem_count: u64,
    /// The repairs were written.
    pub repaired: bool,
    /// The newest commit could not be used: the one before it was mounted.
    pub rolled_back: bool,
    /// One superblock failed its check (the normal trace of a power cut during a commit).
    pub torn_superblock: bool,
}

/// Problems listed in a report (the rest are only counted).
pub const MAX_LISTED: usize = 64;

impl CheckReport {
    fn add(&mut self, p: Problem) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(p);
        }
    }

    /// No problem found.
    pub fn is_clean(&self) -> bool {
        self.problem_count == 0
    }
}

#[derive(Clone, Copy)]
struct InodeInfo {
    rec: InodeRecord,
    links: u32,
    subdirs: u32,
    entry_dir: Option<Ino>,
    pages: u64,
}

#[derive(Clone)]
struct NameEntry {
    area: u16,
    dir: Ino,
    hash: u64,
    cookie: u64,
    ino: Ino,
    file_type: FileType,
}

/// What the first walk gathered.
#[derive(Default)]
struct Gathered {
    areas: BTreeMap<u16, Option<AreaRecord>>,
    inodes: BTreeMap<(u16, Ino), InodeInfo>,
    names: Vec<NameEntry>,
    index: BTreeMap<(u16, Ino, u64), (Ino, FileType, u64)>,
    /// Items to remove.
    drop: BTreeSet<Key>,
    pages: Vec<(Key, PagePtr)>,
}

fn gather(g: &mut Gathered, report: &mut CheckReport, k: &Key, v: &[u8], keep_pages: bool) {
    g.areas.entry(k.area).or_insert(None);
    let damaged = |g: &mut Gathered, report: &mut CheckReport| {
        report.add(Problem::ItemDamaged {
            area: k.area,
            ino: k.ino,
        });
        g.drop.insert(*k);
    };
    if k.kind == Kind::Area {
        match AreaRecord::decode(v) {
            Some(r) if k.ino == 0 && k.sub == 0 => {
                g.areas.insert(k.area, Some(r));
            }
            _ => damaged(g, report),
        }
        return;
    }
    if k.kind == Kind::Inode {
        match InodeRecord::decode(v) {
            Some(rec) if k.ino != 0 && k.ino < u32::MAX - 1 && k.sub == 0 => {
                g.inodes.insert(
                    (k.area, k.ino),
                    InodeInfo {
                        rec,
                        links: 0,
                        subdirs: 0,
                        entry_dir: None,
                        pages: 0,
                    },
                );
            }
            _ => damaged(g, report),
        }
        return;
    }
    // Every other item follows its inode's record in key order.
    let Some(info) = g.inodes.get_mut(&(k.area, k.ino)) else {
        report.add(Problem::ItemWithoutInode {
            area: k.area,
            ino: k.ino,
        });
        g.drop.insert(*k);
        return;
    };
    let t = info.rec.file_type();
    match k.kind {
        Kind::DirName if t == Some(FileType::Directory) => match decode_entries(v) {
            Some(list) if list.iter().all(|e| name_hash(&e.name) == k.sub) => {
                for e in list {
                    g.names.push(NameEntry {
                        area: k.area,
                        dir: k.ino,
                        hash: k.sub,
                        cookie: e.cookie,
                        ino: e.ino,
                        file_type: e.file_type,
                    });
                }
            }
            _ => damaged(g, report),
        },
        Kind::DirIndex if t == Some(FileType::Directory) => match decode_index(v) {
            Some((ino, ft, name)) => {
                g.index
                    .insert((k.area, k.ino, k.sub), (ino, ft, name_hash(name)));
            }
            None => damaged(g, report),
        },
        Kind::Page if t == Some(FileType::Regular) => match PagePtr::decode(v) {
            Some(p) => {
                if k.sub >= info.rec.size.div_ceil(BLOCK_SIZE as u64) {
                    report.add(Problem::PageBeyondSize {
                        area: k.area,
                        ino: k.ino,
                        page: k.sub,
                    });
                    g.drop.insert(*k);
                } else {
                    info.pages += 1;
                    if keep_pages {
                        g.pages.push((*k, p));
                    }
                }
            }
            None => damaged(g, report),
        },
        Kind::Symlink if t == Some(FileType::Symlink) && k.sub == 0 && !v.is_empty() => {}
        _ => damaged(g, report),
    }
}

/// Run the check on a store whose `root` is set; fills its free space and areas.
pub(crate) fn run<D: BlockDevice>(
    store: &mut Store<D>,
    options: &MountOptions,
) -> Result<CheckReport, Error> {
    let mut report = CheckReport::default();
    let mut g = Gathered::default();
    let root = store.root;
    let walked = walk(&mut store.pager, root, &mut |k, v| {
        gather(&mut g, &mut report, k, v, options.verify_data)
    })?;
    for b in &walked.bad {
        report.add(match b.why {
            BadWhy::Damaged => Problem::NodeDamaged { block: b.block },
            BadWhy::Misplaced => Problem::NodeMisplaced { block: b.block },
            BadWhy::Shared | BadWhy::OutOfRange => Problem::NodeBlockInvalid { block: b.block },
        });
    }
    for k in &walked.bad_pages {
        report.add(Problem::PageBlockInvalid {
            area: k.area,
            ino: k.ino,
            page: k.sub,
        });
    }
    report.nodes = walked.nodes;
    report.items = walked.items;
    let mut fixes = Fixes::default();
    analyse(&mut g, &mut report, &mut fixes);
    for (k, p) in core::mem::take(&mut g.pages) {
        let mut buf = [0u8; BLOCK_SIZE];
        if store.read_page(p, &mut buf).is_err() {
            report.add(Problem::DataDamaged {
                area: k.area,
                ino: k.ino,
                page: k.sub,
            });
        }
    }
    // The areas as the tree says, once repaired.
    let mut areas = BTreeMap::new();
    for (&id, rec) in &g.areas {
        let rec = rec.clone().unwrap_or_else(|| recovered_record(id));
        areas.insert(
            id,
            AreaState {
                name: rec.name,
                quota: rec.quota,
                pages: 0,
                inodes: 0,
                entries: 0,
                next_ino: rec.ino_limit.max(ROOT_INO + 1),
                ino_limit: rec.ino_limit,
                reads: 0,
                writes: 0,
            },
        );
    }
    for (&(area, ino), info) in &g.inodes {
        if let Some(a) = areas.get_mut(&area) {
            a.inodes += 1;
            a.pages += info.pages;
            a.next_ino = a.next_ino.max(ino + 1);
        }
    }
    for n in &g.names {
        if let Some(a) = areas.get_mut(&n.area) {
            a.entries += 1;
        }
    }
    for rec in &fixes.roots {
        if let Some(a) = areas.get_mut(rec) {
            a.inodes += 1;
        }
    }
    store.set_generation_state(areas);
    report.areas = store.areas.len() as u64;
    report.inodes = store.areas.values().map(|a| a.inodes).sum();
    report.pages = store.areas.values().map(|a| a.pages).sum();
    if report.is_clean() || !options.repair {
        return Ok(report);
    }
    repair(store, &walked, root, &g, &fixes)?;
    report.repaired = true;
    Ok(report)
}

fn recovered_record(id: u16) -> AreaRecord {
    let mut name = Vec::from(&b"recovered-"[..]);
    let digits = alloc::format!("{id}");
    name.extend_from_slice(digits.as_bytes());
    AreaRecord {
        name,
        quota: None,
        ino_limit: 0,
    }
}

/// The semantic repairs decided by [`analyse`].
#[derive(Default)]
struct Fixes {
    area_records: Vec<u16>,
    roots: Vec<u16>,
    /// Entries to remove: (area, dir, hash, cookie).
    remove_entries: Vec<(u16, Ino, u64, u64)>,
    /// Entries whose type to set: (area, dir, hash, cookie, type).
    retype: Vec<(u16, Ino, u64, u64, FileType)>,
    /// Indexes to rebuild from the name entry: (area, dir, hash, cookie).
    add_index: Vec<(u16, Ino, u64, u64)>,
    remove_index: Vec<(u16, Ino, u64)>,
    orphans: Vec<(u16, Ino)>,
    /// Inodes whose record to rewrite (nlink, parent, pages).
    records: Vec<(u16, Ino, InodeRecord)>,
}

fn analyse(g: &mut Gathered, report: &mut CheckReport, fixes: &mut Fixes) {
    for (&area, rec) in &g.areas {
        if rec.is_none() {
            report.add(Problem::AreaRecordMissing { area });
            fixes.area_records.push(area);
        }
        let root_ok = g
            .inodes
            .get(&(area, ROOT_INO))
            .is_some_and(|i| i.rec.file_type() == Some(FileType::Directory));
        if !root_ok {
            report.add(Problem::RootMissing { area });
            fixes.roots.push(area);
            g.inodes.remove(&(area, ROOT_INO));
        }
    }
    let mut matched_index = BTreeSet::new();
    let names = core::mem::take(&mut g.names);
    let mut kept = Vec::new();
    for n in names {
        let target = g.inodes.get(&(n.area, n.ino)).map(|i| i.rec.file_type());
        let Some(Some(t)) = target else {
            report.add(Problem::EntryDangling {
                area: n.area,
                dir: n.dir,
                ino: n.ino,
            });
            fixes.remove_entries.push((n.area, n.dir, n.hash, n.cookie));
            continue;
        };
        let is_dir = t == FileType::Directory;
        if is_dir && (n.ino == ROOT_INO || g.inodes[&(n.area, n.ino)].entry_dir.is_some()) {
            report.add(Problem::EntryWrong {
                area: n.area,
                dir: n.dir,
                ino: n.ino,
            });
            fixes.remove_entries.push((n.area, n.dir, n.hash, n.cookie));
            continue;
        }
        if t != n.file_type {
            report.add(Problem::EntryWrong {
                area: n.area,
                dir: n.dir,
                ino: n.ino,
            });
            fixes.retype.push((n.area, n.dir, n.hash, n.cookie, t));
        }
        let index = g.index.get(&(n.area, n.dir, n.cookie));
        if index == Some(&(n.ino, t, n.hash)) {
            matched_index.insert((n.area, n.dir, n.cookie));
        } else {
            report.add(Problem::IndexMismatch {
                area: n.area,
                dir: n.dir,
            });
            fixes.add_index.push((n.area, n.dir, n.hash, n.cookie));
            matched_index.insert((n.area, n.dir, n.cookie));
        }
        let info = g.inodes.get_mut(&(n.area, n.ino)).expect("checked above");
        info.links += 1;
        if is_dir {
            info.entry_dir = Some(n.dir);
            if let Some(d) = g.inodes.get_mut(&(n.area, n.dir)) {
                d.subdirs += 1;
            }
        }
        kept.push(n);
    }
    g.names = kept;
    for &(area, dir, cookie) in g.index.keys() {
        if !matched_index.contains(&(area, dir, cookie)) {
            report.add(Problem::IndexMismatch { area, dir });
            fixes.remove_index.push((area, dir, cookie));
        }
    }
    let orphans: Vec<(u16, Ino)> = g
        .inodes
        .iter()
        .filter(|(&(_, ino), info)| ino != ROOT_INO && info.links == 0)
        .map(|(&k, _)| k)
        .collect();
    for (area, ino) in orphans {
        report.add(Problem::Orphan { area, ino });
        fixes.orphans.push((area, ino));
        let info = g.inodes.get_mut(&(area, ino)).expect("listed above");
        info.links = 1;
        if info.rec.file_type() == Some(FileType::Directory) {
            info.entry_dir = Some(ROOT_INO);
            if let Some(root) = g.inodes.get_mut(&(area, ROOT_INO)) {
                root.subdirs += 1;
            }
        }
    }
    for (&(area, ino), info) in &g.inodes {
        let mut rec = info.rec;
        if rec.file_type() == Some(FileType::Directory) {
            rec.nlink = 2 + info.subdirs;
            rec.parent = if ino == ROOT_INO {
                ROOT_INO
            } else {
                info.entry_dir.unwrap_or(ROOT_INO)
            };
        } else {
            rec.nlink = info.links;
        }
        rec.pages = info.pages;
        if rec != info.rec {
            report.add(Problem::CountWrong { area, ino });
            fixes.records.push((area, ino, rec));
        }
    }
}

fn repair<D: BlockDevice>(
    store: &mut Store<D>,
    walked: &crate::tree_walk::WalkResult,
    old_root: Ptr,
    g: &Gathered,
    fixes: &Fixes,
) -> Result<(), Error> {
    store.touched = false;
    let result = (|| {
        if !walked.bad.is_empty() || !walked.bad_pages.is_empty() {
            // Rebuild the tree from the good items into fresh blocks.
            let mut new_root = store.pager.new_root()?;
            let mut failed = Ok(());
            let mut items = Vec::new();
            rewalk(&mut store.pager, old_root, walked, &mut |k, v| {
                items.push((*k, v.to_vec()))
            })?;
            for (k, v) in items {
                match store.pager.insert(new_root, k, &v) {
                    Ok(r) => new_root = r,
                    Err(e) => {
                        failed = Err(e);
                        break;
                    }
                }
            }
            failed?;
            for &b in &walked.node_blocks {
                store.pager.space.release(b);
            }
            store.root = new_root;
        }
        for k in &g.drop {
            if k.kind == Kind::Page {
                if let Some(p) = store.get(k)?.and_then(|v| PagePtr::decode(&v)) {
                    store.pager.space.release(p.block);
                }
            }
            store.del(k)?;
        }
        for &area in &fixes.area_records {
            if let Ok(a) = store.area_mut(AreaId(area)) {
                a.ino_limit = a.next_ino;
            }
            store.put_area_record(AreaId(area))?;
        }
        let now = store.now;
        for &area in &fixes.roots {
            let rec = InodeRecord {
                mode: S_IFDIR | 0o755,
                uid: 0,
                gid: 0,
                nlink: 2,
                rdev: 0,
                size: 0,
                pages: 0,
                atime: now,
                mtime: now,
                ctime: now,
                parent: ROOT_INO,
                next_cookie: crate::ops::FIRST_COOKIE,
            };
            store.put_inode(AreaId(area), ROOT_INO, &rec)?;
        }
        for &(area, dir, hash, cookie) in &fixes.remove_entries {
            edit_entries(store, area, dir, hash, |list| {
                list.retain(|e| e.cookie != cookie)
            })?;
            store.del(&Key::new(area, dir, Kind::DirIndex, cookie))?;
        }
        for &(area, dir, hash, cookie, t) in &fixes.retype {
            edit_entries(store, area, dir, hash, |list| {
                list.iter_mut()
                    .filter(|e| e.cookie == cookie)
                    .for_each(|e| e.file_type = t)
            })?;
        }
        let reindex = fixes
            .add_index
            .iter()
            .copied()
            .chain(fixes.retype.iter().map(|r| (r.0, r.1, r.2, r.3)));
        for (area, dir, hash, cookie) in reindex.collect::<Vec<_>>() {
            let list = store.get(&Key::new(area, dir, Kind::DirName, hash))?;
            if let Some(e) = list
                .and_then(|v| decode_entries(&v))
                .and_then(|l| l.into_iter().find(|e| e.cookie == cookie))
            {
                store.put(
                    Key::new(area, dir, Kind::DirIndex, cookie),
                    &encode_index(e.ino, e.file_type, &e.name),
                )?;
            }
        }
        for &(area, dir, cookie) in &fixes.remove_index {
            store.del(&Key::new(area, dir, Kind::DirIndex, cookie))?;
        }
        for &(area, ino, ref rec) in &fixes.records {
            if !fixes.roots.contains(&area) || ino != ROOT_INO {
                store.put_inode(AreaId(area), ino, rec)?;
            }
        }
        for &(area, ino) in &fixes.orphans {
            let t = g.inodes[&(area, ino)]
                .rec
                .file_type()
                .unwrap_or(FileType::Regular);
            let name = alloc::format!("lost+found-{ino}");
            store.dir_add(AreaId(area), ROOT_INO, name.as_bytes(), ino, t)?;
        }
        for &area in &fixes.roots {
            let dirs = fixes
                .orphans
                .iter()
                .filter(|&&(a, ino)| {
                    a == area && g.inodes[&(a, ino)].rec.file_type() == Some(FileType::Directory)
                })
                .count() as u32;
            let mut root = store.get_inode(AreaId(area), ROOT_INO)?;
            root.nlink = 2 + dirs;
            store.put_inode(AreaId(area), ROOT_INO, &root)?;
        }
        Ok(())
    })();
    match result.and_then(|()| store.commit()) {
        Ok(()) => Ok(()),
        Err(e) => {
            store.mark_failed();
            Err(e)
        }
    }
}

fn edit_entries<D: BlockDevice>(
    store: &mut Store<D>,
    area: u16,
    dir: Ino,
    hash: u64,
    edit: impl FnOnce(&mut Vec<crate::records::Entry>),
) -> Result<(), Error> {
    let key = Key::new(area, dir, Kind::DirName, hash);
    let Some(mut list) = store.get(&key)?.and_then(|v| decode_entries(&v)) else {
        return Ok(());
    };
    edit(&mut list);
    if list.is_empty() {
        store.del(&key)?;
    } else {
        store.put(key, &encode_entries(&list))?;
    }
    Ok(())
}
