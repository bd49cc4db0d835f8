//! `disk-size` quotas and a full store show as ENOSPC with nothing half done; `used-disk`,
//! `disk-reads` and `disk-writes` follow what the guest does.

mod common;

use common::metafs::{Disk, VOLUME};
use vdevices::metafs::reference::{ENTRY_COST, INODE_COST, PAGE};
use vdevices::metafs::store::{MetafsStore, Timestamp};
use vdevices::{MetafsStats, Volume};

const MIB: u64 = 1 << 20;
const ENOSPC: i32 = 28;

fn statfs(d: &mut Disk) -> (u32, u32) {
    let r = d.statfs();
    let word = |at: usize| u32::from_be_bytes(r.bytes[at..at + 4].try_into().unwrap());
    assert_eq!(word(0), 0);
    (word(4), word(8))
}

#[test]
fn the_disk_size_quota_is_enospc_and_the_last_write_changes_nothing() {
    let quota = 64 * 1024;
    let mut d = Disk::new(64 * MIB, Some(quota));
    let root = d.root();
    let f = d.create(root, 0o100_644, b"fill").inode().ino;
    let used = INODE_COST * 2 + ENTRY_COST + 4;
    let pages = (quota - used) / PAGE;
    for page in 0..pages {
        assert_eq!(
            d.writepage(f, page * PAGE, &[page as u8; 4096]).status(),
            4096
        );
    }
    assert_eq!(d.writepage(f, pages * PAGE, &[0xFF; 4096]).errno(), ENOSPC);
    assert_eq!(d.writepage(f, pages * PAGE + 10, b"x").errno(), ENOSPC);
    let attr = d.getinode(f).inode();
    assert_eq!(
        attr.size,
        pages * PAGE,
        "the refused write did not extend the file"
    );
    // Rewriting pages it has still works; a sparse extension takes no space.
    assert_eq!(d.writepage(f, 0, &[0xAB; 100]).status(), 100);
    assert_eq!(d.setinode(f, 1 << 30, 0o644, 0, 0).inode().size, 1 << 30);
    let (blocks, free) = statfs(&mut d);
    assert_eq!(blocks, (quota / 512) as u32);
    assert_eq!(u64::from(free), (quota - used - pages * PAGE) / 512);
    // The last bytes take a few more inodes, then nothing.
    let mut made = 0;
    while d
        .create(root, 0o100_644, format!("m{made}").as_bytes())
        .bytes
        .len()
        == 76
    {
        made += 1;
    }
    assert_eq!(
        made,
        (quota - used - pages * PAGE) / (INODE_COST + ENTRY_COST + 2)
    );
    let last = format!("m{made}");
    assert_eq!(d.create(root, 0o100_644, last.as_bytes()).errno(), ENOSPC);
    assert_eq!(d.create(root, 0o040_755, b"dir").errno(), ENOSPC);
    assert_eq!(d.symlink(root, b"l", b"target").errno(), ENOSPC);
    assert_eq!(d.lookup(root, last.as_bytes()).errno(), 2);
    // Freeing space (truncating) lets the guest write again.
    assert_eq!(d.setinode(f, 4096, 0o644, 0, 0).inode().blocks, 8);
    assert_eq!(d.writepage(f, 4096, &[1; 4096]).status(), 4096);
    let (_, free) = statfs(&mut d);
    assert!(u64::from(free) * 512 > quota / 2);
    // Every page written before the quota was reached reads back.
    let (_, page0) = d.readpage(f, 0);
    assert_eq!(&page0.bytes[..100], &[0xAB; 100][..]);
    assert_eq!(&page0.bytes[100..], &[0; 3996][..]);
    d.store.check().unwrap();
}

#[test]
fn an_unlimited_disk_is_bounded_by_the_store_and_a_full_store_stops_every_guest() {
    // The store holds 256 KiB; this guest has no quota, another guest shares the store.
    let mut d = Disk::new(256 * 1024, None);
    let other = Volume(99);
    let now = Timestamp::default();
    d.store.add_volume(other, None, now).unwrap();
    let other_root = d.store.root(other).unwrap();
    let node = vdevices::metafs::store::NewNode {
        kind: vdevices::metafs::store::FileType::Regular,
        perm: 0o644,
        rdev: 0,
    };
    let name = vdevices::metafs::store::Name::new(b"x").unwrap();
    let other_file = d
        .store
        .create(other, other_root, name, node, now)
        .unwrap()
        .ino;
    let root = d.root();
    let f = d.create(root, 0o100_644, b"hog").inode().ino;
    let mut page = 0;
    while d.writepage(f, page * PAGE, &[7; 4096]).status() > 0 {
        page += 1;
    }
    assert!(page > 50, "{page} pages");
    let (blocks, free) = statfs(&mut d);
    assert!(u64::from(free) * 512 < PAGE, "{free} sectors free");
    let other_used = d.store.statfs(other).unwrap().used;
    assert_eq!(u64::from(blocks), (256 * 1024 - other_used) / 512);
    // The other guest's writes fail too, with ENOSPC and nothing changed.
    assert_eq!(
        d.store.write(other, other_file, 0, &[1; 4096], now),
        Err(vdevices::FsError::NoSpace)
    );
    assert_eq!(d.store.getattr(other, other_file).unwrap().size, 0);
    // Removing the hog (once the guest let go of it) frees the store for everyone.
    assert_eq!(d.unlink(root, b"hog").status(), 0);
    d.store.release_unlinked(VOLUME).unwrap();
    assert_eq!(d.store.write(other, other_file, 0, &[1; 4096], now), Ok(()));
    d.store.check().unwrap();
}

#[test]
fn quotas_of_two_guests_are_independent() {
    let mut d = Disk::new(64 * MIB, Some(16 * 1024));
    let other = Volume(2);
    d.store.add_volume(other, Some(MIB), d.now).unwrap();
    let root = d.root();
    let f = d.create(root, 0o100_644, b"f").inode().ino;
    let mut page = 0;
    while d.writepage(f, page * PAGE, &[1; 4096]).status() > 0 {
        page += 1;
    }
    assert_eq!(page, (16 * 1024 - 2 * INODE_COST - ENTRY_COST - 1) / PAGE);
    let space = d.store.statfs(other).unwrap();
    assert_eq!((space.total, space.used), (MIB, INODE_COST));
}

#[test]
fn used_disk_reads_and_writes_follow_the_guest() {
    let mut d = Disk::new(64 * MIB, None);
    let used = |d: &mut Disk| d.dev.metafs_disk_space(&mut d.store).unwrap().used;
    assert_eq!(used(&mut d), INODE_COST);
    let root = d.root();
    let f = d.mkfile(root, b"f", &[1; 10_000]); // CREATE + 3 WRITEPAGE
    assert_eq!(used(&mut d), 2 * INODE_COST + ENTRY_COST + 1 + 3 * PAGE);
    d.readpage(f, 0);
    d.readpage(f, 4096);
    d.readdir_all(root); // 2 READDIR (records, then the end)
    d.symlink(root, b"l", b"f"); // a write
    let l = d.lookup(root, b"l").inode().ino;
    d.readlink(l); // a read
    d.rename(root, b"l", root, b"m"); // a write
    d.setinode(f, 5, 0o600, 0, 0); // a write (frees two pages)
    d.hlink(root, f, b"g"); // a write
    d.unlink(root, b"g"); // a write
    d.statfs();
    d.fsync(f);
    d.getinode(f);
    // Errors are not disk operations.
    d.readpage(root, 0);
    d.writepage(root, 0, b"x");
    let stats = d.dev.metafs_stats();
    assert_eq!(
        stats,
        MetafsStats {
            requests: 21,
            errors: 2,
            malformed: 0,
            disk_reads: 2 + 2 + 1,
            disk_writes: 1 + 3 + 1 + 1 + 1 + 1 + 1,
            bytes_read: 4096 + 4096,
            bytes_written: 10_000,
            refused: 0,
            skipped_entries: 0,
        }
    );
    assert_eq!(d.dev.stats().metafs, stats);
    // The root, f (one page left) and m, with their two names.
    assert_eq!(used(&mut d), 3 * INODE_COST + 2 * (ENTRY_COST + 1) + PAGE);
}
