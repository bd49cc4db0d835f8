//! The metafs server over the disk's file store, driven by the model guest of vdevices' tests
//! (MikroTik's driver transcribed, every request byte for byte): the mount, files and pages,
//! directories, symlinks, hard links, rename, SETINODE, the `disk-size` quota as ENOSPC,
//! `used-disk` and the counters, what survives a remount and a power cut, and that a guest
//! reaches neither the host's files nor another guest's area whatever numbers it sends.

#[path = "../../vdevices/tests/common/mod.rs"]
mod common;

use common::metafs::Disk;
use filestore::sim::{MemDevice, Survival};
use filestore::{AreaId, MountOptions, Store, Time, ROOT_INO, S_IFREG};
use metafs_disk::{volume_of, DiskVolumes};
use vdevices::metafs::store::{MetafsStore, Timestamp};
use vdevices::{ErrnoTable, Volume};

const ENOENT: i32 = 2;
const ENOSPC: i32 = 28;
const ESTALE: i32 = 151;
const EEXIST: i32 = 17;
const ENOTEMPTY: i32 = 93;
const PAGE: u64 = 4096;
const NOW: Timestamp = Timestamp {
    sec: 1_700_000_000,
    nsec: 0,
};

/// A store on a RAM disk of `blocks` blocks with one guest area (quota `quota`).
fn store(blocks: u64, quota: Option<u64>) -> (Store<MemDevice>, Volume) {
    let mut store = Store::format(MemDevice::new(blocks), Time::ZERO).unwrap();
    let area = store.create_area(b"mr1", quota).unwrap();
    (store, volume_of(area).unwrap())
}

fn disk(store: &mut Store<MemDevice>, volume: Volume) -> Disk<DiskVolumes<'_, MemDevice>> {
    Disk::with_store(DiskVolumes::new(store), volume, ErrnoTable::Mips, NOW)
}

#[test]
fn files_directories_and_links_through_the_wire() {
    let (mut s, vol) = store(4096, None);
    let mut d = disk(&mut s, vol);
    let root = d.root();
    assert_eq!(root, u64::from(ROOT_INO));
    let etc = d.mkdir(root, b"etc");
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    let f = d.mkfile(etc, b"passwd", &data);
    assert_eq!(d.lookup(etc, b"passwd").inode().ino, f);
    assert_eq!(d.getinode(f).inode().size, 10_000);
    let (status, page) = d.readpage(f, 8192);
    assert_eq!(status.status(), 0);
    assert_eq!(page.bytes, &data[8192..]);
    assert_eq!(d.lookup(etc, b"nothing").errno(), ENOENT);
    assert_eq!(d.create(etc, 0o100_644, b"passwd").errno(), EEXIST);
    // Symlink, hard link, rename.
    let l = d.symlink(root, b"pw", b"etc/passwd").inode().ino;
    assert_eq!(&d.readlink(l).bytes[4..], b"etc/passwd");
    assert_eq!(d.hlink(root, f, b"hard").inode().nlink, 2);
    assert_eq!(d.rename(root, b"hard", etc, b"passwd2").status(), 0);
    let names: Vec<Vec<u8>> = d.readdir_all(etc).into_iter().map(|r| r.3).collect();
    assert_eq!(names, [&b"."[..], b"..", b"passwd", b"passwd2"]);
    assert_eq!(d.unlink(root, b"etc").errno(), ENOTEMPTY);
    // SETINODE: truncate, mode, owner.
    let rep = d.setinode(f, 100, 0o100_600, 5, 6).inode();
    assert_eq!(
        (rep.size, rep.mode, rep.uid, rep.gid),
        (100, 0o100_600, 5, 6)
    );
    // An unlinked file's number is stale once its last name goes.
    assert_eq!(d.unlink(etc, b"passwd").status(), 0);
    assert_eq!(d.unlink(etc, b"passwd2").status(), 0);
    assert_eq!(d.getinode(f).errno(), ESTALE);
    assert_eq!(d.unlink(root, b"etc").status(), 0);
    assert_eq!(d.fsync(l).status(), 0);
}

#[test]
fn the_quota_is_enospc_with_nothing_changed_and_used_disk_follows() {
    let quota = 64 * 1024;
    let (mut s, vol) = store(4096, Some(quota));
    let mut d = disk(&mut s, vol);
    let root = d.root();
    let f = d.create(root, 0o100_644, b"fill").inode().ino;
    let mut pages = 0;
    loop {
        let r = d.writepage(f, pages * PAGE, &[pages as u8; 4096]);
        if r.status() != 4096 {
            assert_eq!(r.errno(), ENOSPC);
            break;
        }
        pages += 1;
    }
    assert!(pages >= 10, "{pages} pages");
    assert_eq!(
        d.getinode(f).inode().size,
        pages * PAGE,
        "nothing half done"
    );
    let space = d.store.statfs(vol).unwrap();
    assert_eq!(space.total, quota);
    assert!(
        space.used <= quota && space.used + PAGE > quota,
        "{space:?}"
    );
    // CREATE and the pages written (the refused one is an error, not a write).
    assert_eq!(d.dev.metafs_stats().disk_writes, 1 + pages);
    let (_, _) = d.readpage(f, 0);
    assert_eq!(d.dev.metafs_stats().disk_reads, 1);
    // Removing the file gives the space back.
    assert_eq!(d.unlink(root, b"fill").status(), 0);
    assert!(d.store.statfs(vol).unwrap().used < 2 * PAGE);
}

#[test]
fn a_guest_reaches_neither_the_host_files_nor_another_guests_area() {
    let (mut s, vol) = store(4096, None);
    let other = s.create_area(b"mr2", None).unwrap();
    let host_file = s
        .create(AreaId::HOST, ROOT_INO, b"secret.tgz", S_IFREG | 0o644, 0)
        .unwrap()
        .ino;
    s.write(AreaId::HOST, host_file, 0, b"host").unwrap();
    let theirs = s
        .create(other, ROOT_INO, b"theirs", S_IFREG | 0o644, 0)
        .unwrap()
        .ino;
    let mut d = disk(&mut s, vol);
    let root = d.root();
    let mine = d.mkfile(root, b"mine", b"x");
    assert_eq!(d.lookup(root, b"secret.tgz").errno(), ENOENT);
    assert_eq!(d.lookup(root, b"theirs").errno(), ENOENT);
    // Inode numbers of the other areas name nothing here (or this area's own inode).
    for n in [host_file, theirs, 1000, u32::MAX] {
        let got = d.getinode(u64::from(n));
        assert!(
            got.bytes.len() == 4 || got.inode().ino == mine,
            "{n}: {:?}",
            got.bytes
        );
    }
    // A volume the host never made, and the host's area itself, are stale.
    assert_eq!(d.store.root(Volume(0)), Err(vdevices::FsError::Stale));
    assert_eq!(d.store.root(Volume(99)), Err(vdevices::FsError::Stale));
    assert_eq!(d.store.root(Volume(1 << 20)), Err(vdevices::FsError::Stale));
    drop(d);
    let mut buf = [0u8; 4];
    s.read(AreaId::HOST, host_file, 0, &mut buf).unwrap();
    assert_eq!(&buf, b"host");
}

#[test]
fn what_a_guest_wrote_survives_a_remount_and_a_power_cut_keeps_old_or_new() {
    let (mut s, vol) = store(4096, None);
    let f;
    {
        let mut d = disk(&mut s, vol);
        let root = d.root();
        f = d.mkfile(root, b"log", &[1u8; 8192]);
    }
    let image = s.into_device().map_err(|(e, _)| e).unwrap().image();
    let (mut s, report) =
        Store::mount(MemDevice::from_image(&image), MountOptions::default()).unwrap();
    assert!(report.is_clean());
    let mut d = disk(&mut s, vol);
    let (status, page) = d.readpage(f, 4096);
    assert_eq!(status.status(), 0);
    assert_eq!(page.bytes, [1u8; 4096]);
    // Cut the power at each step of one WRITEPAGE: the page is all old or all new after it.
    drop(d);
    let (mut old, mut new) = (0, 0);
    for step in 1..40 {
        let (mut s, _) =
            Store::mount(MemDevice::from_image(&image), MountOptions::default()).unwrap();
        s.device().cut_power_at(step, Survival::NoneSurvive);
        {
            let mut d = disk(&mut s, vol);
            let _ = d.writepage(f, 0, &[2u8; 4096]);
        }
        let mut dev = match s.into_device() {
            Ok(dev) | Err((_, dev)) => dev,
        };
        dev.power_on();
        let (mut s, report) = Store::mount(dev, MountOptions::default()).unwrap();
        assert!(report.is_clean(), "step {step}: {report:?}");
        let mut buf = [0u8; 4096];
        s.read(AreaId(vol.0 as u16), f as u32, 0, &mut buf).unwrap();
        if buf.iter().all(|&b| b == 1) {
            old += 1;
        } else if buf.iter().all(|&b| b == 2) {
            new += 1;
        } else {
            panic!("step {step}: a mix of old and new");
        }
    }
    assert!(
        old > 0 && new > 0,
        "the cuts fell before ({old}) and after ({new}) the commit"
    );
}
