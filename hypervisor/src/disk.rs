//! The host's disk: the file store on the board's block device, mounted at boot.
//!
//! Boot: the board's driver is probed, the store mounted (its check walks the whole tree and
//! repairs what it can; what it found is printed), or formatted when the device holds none.
//! Files preloaded into RAM (`./x run --file`) that the host area does not hold yet are copied
//! in, each in one transaction, so a later boot finds them on disk. `/file` lists the host
//! area's files and removes them from it.
//!
//! Each guest has an area of its own, named as the guest (`disk-size` is its quota): its root
//! file system, served over metafs ([`HostDisk::serve`], through `metafs-disk`), into which
//! `import-image` unpacks the image's tree ([`HostDisk::import_sink`], one transaction).
//!
//! Guests still boot from their image file as a whole in RAM (its `./kernel`): without a
//! preload, the host area's files are read into one RAM store at boot (see
//! [`HostDisk::ram_store`]).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use filestore::{
    AreaId, BlockDevice, CheckReport, Durability, Error, FileType, MountError, MountOptions,
    SetAttr, Store, Time, BLOCK_SIZE, ROOT_INO, S_IFREG,
};
use guest_loader::store::{FileStore, StoreBuilder};
use metafs_disk::{DiskVolumes, TreeIntoArea, UnpackState};
use vdevices::{Timestamp, Volume};

mod transfer;

pub use transfer::TransferError;

use crate::board::Board;
use crate::vm::Manager;
use crate::{println, time};

/// The largest RAM copy of the host's files made for guest images (as much as a preload);
/// files past it (in name order) stay on disk only.
pub(crate) const RAM_STORE_MAX: u64 = 32 << 20;
/// Bytes copied per store call.
const CHUNK: usize = 64 << 10;

/// A file in the host area, as `/file print` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFile {
    pub name: String,
    pub size: u64,
    /// Seconds since 1970 (0: unknown).
    pub created: u64,
}

/// The mounted store and the host area's listing.
pub struct HostDisk {
    store: Store<Box<dyn BlockDevice>>,
    files: Vec<HostFile>,
    /// Where the import being unpacked stands between steps.
    unpack: UnpackState,
    /// The file `/file receive` is writing.
    receiving: Option<transfer::Receiving>,
}

/// Why `/file remove` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveError {
    NoSuchFile,
    Store(Error),
}

/// Mount (or format) the store on the board's disk and copy `preloaded` files in.
pub fn mount(board: &dyn Board, preloaded: Option<&FileStore<'static>>) -> Option<HostDisk> {
    let dev = board.disk()?;
    let mib = (dev.block_count() * BLOCK_SIZE as u64) >> 20;
    let start = time::uptime_ms();
    let store = match Store::mount(dev, MountOptions::default()) {
        Ok((store, report)) => {
            print_check(mib, &report, time::uptime_ms() - start);
            store
        }
        Err(MountError::NotFormatted) => {
            let formatted = board
                .disk()
                .ok_or(MountError::NotFormatted)
                .and_then(|dev| Store::format(dev, Time::ZERO));
            match formatted {
                Ok(store) => {
                    println!("disk: {mib} MiB, no file store on it: formatted an empty one");
                    store
                }
                Err(e) => {
                    println!("disk: {mib} MiB, cannot be formatted ({e:?}); files stay in RAM");
                    return None;
                }
            }
        }
        Err(e) => {
            println!(
                "disk: {mib} MiB, the file store cannot be mounted ({e:?}); files stay in RAM"
            );
            return None;
        }
    };
    let mut disk = HostDisk {
        store,
        files: Vec::new(),
        unpack: UnpackState::default(),
        receiving: None,
    };
    disk.clear_receiving();
    if let Some(preloaded) = preloaded {
        disk.copy_in(preloaded);
    }
    disk.refresh();
    Some(disk)
}

fn print_check(mib: u64, report: &CheckReport, ms: u64) {
    println!(
        "disk: {mib} MiB, file store checked in {ms} ms: {} areas, {} inodes, {} pages, {} nodes",
        report.areas, report.inodes, report.pages, report.nodes
    );
    if report.rolled_back {
        println!("disk: the newest commit was unreadable; the one before it was mounted");
    }
    if report.problem_count > 0 {
        let action = if report.repaired {
            "repaired"
        } else {
            "not repaired: the store is read-only"
        };
        println!("disk: {} problems found, {action}", report.problem_count);
        for p in report.problems.iter().take(8) {
            println!("disk:   {p:?}");
        }
    }
}

impl HostDisk {
    /// The host area's files, in name order.
    pub fn files(&self) -> &[HostFile] {
        &self.files
    }

    /// Total and free bytes of the host area.
    pub fn space(&self) -> Option<(u64, u64)> {
        let s = self.store.statfs(AreaId::HOST).ok()?;
        Some((s.total, s.free))
    }

    fn refresh(&mut self) {
        let mut entries = Vec::new();
        let _ = self.store.readdir(AreaId::HOST, ROOT_INO, 2, &mut |e| {
            if e.file_type == FileType::Regular {
                entries.push((e.ino, e.name.clone()));
            }
            true
        });
        self.files = entries
            .into_iter()
            .filter_map(|(ino, name)| {
                let attr = self.store.getattr(AreaId::HOST, ino).ok()?;
                Some(HostFile {
                    name: String::from_utf8(name).ok()?,
                    size: attr.size,
                    created: attr.mtime.secs,
                })
            })
            .collect();
        self.files.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Copy each preloaded file the host area does not hold (same name, size and time) in.
    fn copy_in(&mut self, preloaded: &FileStore<'static>) {
        let (mut copied, mut bytes) = (0usize, 0u64);
        for file in preloaded.iter() {
            let name = file.name.as_bytes();
            if let Ok(attr) = self.store.lookup(AreaId::HOST, ROOT_INO, name) {
                if attr.size == file.data.len() as u64 && attr.mtime.secs == file.created {
                    continue;
                }
            }
            match self.write_file(name, file.created, file.data) {
                Ok(()) => {
                    copied += 1;
                    bytes += file.data.len() as u64;
                }
                Err(e) => println!("disk: {} not copied in: {e:?}", file.name),
            }
        }
        if copied > 0 {
            println!(
                "disk: {copied} preloaded files copied in ({} KiB)",
                bytes.div_ceil(1024)
            );
        }
    }

    /// Replace (or create) host file `name` with `data`, all or nothing.
    fn write_file(&mut self, name: &[u8], created: u64, data: &[u8]) -> Result<(), Error> {
        let s = &mut self.store;
        s.set_durability(filestore::Durability::Deferred)?;
        let result = (|| {
            match s.unlink(AreaId::HOST, ROOT_INO, name) {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
            let ino = s
                .create(AreaId::HOST, ROOT_INO, name, S_IFREG | 0o644, 0)?
                .ino;
            for (i, chunk) in data.chunks(CHUNK).enumerate() {
                s.write(AreaId::HOST, ino, (i * CHUNK) as u64, chunk)?;
            }
            let at = Time {
                secs: created,
                nanos: 0,
            };
            s.setattr(
                AreaId::HOST,
                ino,
                SetAttr {
                    mtime: Some(at),
                    atime: Some(at),
                    ..SetAttr::default()
                },
            )?;
            s.sync()
        })();
        if result.is_err() {
            s.discard();
        }
        let restored = s.set_durability(filestore::Durability::EachOperation);
        result.and(restored)
    }

    /// `/file remove`: host file `name` goes for good.
    pub fn remove(&mut self, name: &str) -> Result<(), RemoveError> {
        if !self.files.iter().any(|f| f.name == name) {
            return Err(RemoveError::NoSuchFile);
        }
        let result = self
            .store
            .unlink(AreaId::HOST, ROOT_INO, name.as_bytes())
            .map_err(RemoveError::Store);
        self.refresh();
        result
    }

    /// The area of the guest `name` with quota `quota` (bytes; `None` unlimited): `area` when
    /// the guest had one (renamed if the guest was), else the one of that name, else a new one.
    pub fn guest_area(
        &mut self,
        area: Option<AreaId>,
        name: &str,
        quota: Option<u64>,
    ) -> Result<AreaId, Error> {
        let s = &mut self.store;
        let area = match area.filter(|a| s.area_info(*a).is_ok()) {
            Some(a) => {
                if s.area_info(a)?.name != name.as_bytes() {
                    s.rename_area(a, name.as_bytes())?;
                }
                a
            }
            None => match s.find_area(name.as_bytes()) {
                Some(a) => a,
                None => return s.create_area(name.as_bytes(), quota),
            },
        };
        if s.area_info(area)?.quota != quota {
            s.set_quota(area, quota)?;
        }
        Ok(area)
    }

    /// A guest's disk goes with it.
    pub fn remove_area(&mut self, area: AreaId) {
        if let Err(e) = self.store.remove_area(area) {
            println!("disk: a removed guest's disk could not be deleted: {e:?}");
        }
    }

    /// Bytes charged to `area` (`used-disk`).
    pub fn used(&self, area: AreaId) -> Option<u64> {
        self.store.area_info(area).ok().map(|i| i.used)
    }

    /// Answer the guests' pending metafs requests, each from its own area.
    pub fn serve(&mut self, vms: &mut Manager) -> u32 {
        let now = time::uptime_ms() / 1000;
        let now = Timestamp {
            sec: u32::try_from(now).unwrap_or(u32::MAX),
            nsec: 0,
        };
        vms.serve_disks(&mut DiskVolumes::new(&mut self.store), now)
    }

    /// Start an import: what follows is one transaction, kept by [`finish_import`]
    /// (`keep`) or dropped.
    ///
    /// [`finish_import`]: HostDisk::finish_import
    pub fn begin_import(&mut self) -> Result<(), Error> {
        self.unpack = UnpackState::default();
        self.store.set_durability(Durability::Deferred)
    }

    /// The sink that unpacks the next piece of an image's tree into `area`.
    pub fn import_sink(&mut self, area: AreaId) -> TreeIntoArea<'_, Box<dyn BlockDevice>> {
        TreeIntoArea::new(&mut self.store, area, &mut self.unpack)
    }

    /// End the import's transaction: commit it (`keep`) or drop it.
    pub fn finish_import(&mut self, keep: bool) -> Result<(), Error> {
        let result = if keep {
            self.store.sync()
        } else {
            self.store.discard();
            Ok(())
        };
        if result.is_err() {
            self.store.discard();
        }
        result.and(self.store.set_durability(Durability::EachOperation))
    }

    /// The host area's files read into one RAM store, for guest images when nothing was
    /// preloaded (leaked: it lives as long as the system, as a preload does).
    pub fn ram_store(&mut self) -> Option<FileStore<'static>> {
        if self.files.is_empty() {
            return None;
        }
        let mut builder = StoreBuilder::new();
        let mut taken = 0u64;
        for f in self.files.clone() {
            // Import archives first in mind: what does not fit the budget stays on disk only.
            if taken + f.size > RAM_STORE_MAX {
                println!(
                    "disk: {} ({} KiB) is past what images may take in RAM ({} KiB); guests cannot boot from it",
                    f.name,
                    f.size.div_ceil(1024),
                    RAM_STORE_MAX / 1024
                );
                continue;
            }
            match self.read_all(&f) {
                Some(data) => {
                    if builder.add(&f.name, f.created, &data).is_ok() {
                        taken += f.size;
                    }
                }
                None => println!("disk: {} cannot be read; not available to guests", f.name),
            }
        }
        let blob: &'static [u8] = Box::leak(builder.build().into_boxed_slice());
        FileStore::parse(blob).ok()
    }

    /// All of host file `f`, if it reads whole.
    fn read_all(&mut self, f: &HostFile) -> Option<Vec<u8>> {
        let attr = self
            .store
            .lookup(AreaId::HOST, ROOT_INO, f.name.as_bytes())
            .ok()?;
        let mut data = vec![0; usize::try_from(f.size).ok()?];
        let mut at = 0;
        while at < data.len() {
            let end = (at + CHUNK).min(data.len());
            match self
                .store
                .read(AreaId::HOST, attr.ino, at as u64, &mut data[at..end])
            {
                Ok(0) | Err(_) => return None,
                Ok(n) => at += n,
            }
        }
        Some(data)
    }
}

/// The metafs volume of a guest's area.
pub fn volume(area: AreaId) -> Option<Volume> {
    metafs_disk::volume_of(area)
}
