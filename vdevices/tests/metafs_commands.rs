//! Every metafs command, sent byte for byte as MikroTik's guest driver sends it, served from the
//! reference store: the mount, lookups, pages, directories, links, attributes, space.

mod common;

use common::metafs::{records, req, Disk};
use vdevices::MetafsStore;

const MIB: u64 = 1 << 20;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

#[test]
fn mount_getinode_zero_gives_the_root() {
    let mut d = Disk::new(64 * MIB, None);
    let r = d.getinode(0);
    assert_eq!(r.bytes.len(), 76, "mfs_getinode needs the whole inode_rep");
    let root = r.inode();
    assert_ne!(
        root.ino, 0,
        "the root's number is not 0 (readdir users skip d_ino 0)"
    );
    assert_eq!(root.mode, S_IFDIR | 0o755);
    assert_eq!(root.nlink, 2);
    assert_eq!(root.blksize, 4096);
    // The number it gave works as the root's, and so does 0 again.
    assert_eq!(d.getinode(root.ino).inode(), root);
    assert_eq!(d.getinode(0).inode(), root);
}

#[test]
fn lookup_finds_children_and_misses_with_enoent() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let etc = d.mkdir(root, b"etc");
    let f = d.mkfile(etc, b"passwd", b"root:x:0:0\n");
    let found = d.lookup(etc, b"passwd").inode();
    assert_eq!(found.ino, f);
    assert_eq!(found.size, 11);
    assert_eq!(found.mode, S_IFREG | 0o644);
    assert_eq!(found.blocks, 8, "one 4 KiB page in 512-byte units");
    assert_eq!(d.lookup(root, b"etc").inode().ino, etc);
    assert_eq!(d.lookup(etc, b"shadow").errno(), 2);
    // A file is not a directory.
    assert_eq!(d.lookup(f, b"x").errno(), 20);
}

#[test]
fn pages_are_written_and_read_back() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    let f = d.mkfile(root, b"blob", &data);
    assert_eq!(d.getinode(f).inode().size, 10_000);
    for page in 0..3u64 {
        let (status, body) = d.readpage(f, page * 4096);
        assert_eq!(status.bytes, [0, 0, 0, 0]);
        let end = ((page + 1) * 4096).min(10_000) as usize;
        assert_eq!(body.bytes, data[page as usize * 4096..end], "page {page}");
    }
    // At and past the end: status 0 and no bytes (the guest zero-fills).
    let (status, body) = d.readpage(f, 3 * 4096);
    assert_eq!((status.status(), body.bytes.len()), (0, 0));
    let (status, body) = d.readpage(f, 1 << 40);
    assert_eq!((status.status(), body.bytes.len()), (0, 0));
}

#[test]
fn writepage_at_any_offset_extends_and_fills_holes_with_zeroes() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let f = d.create(root, S_IFREG | 0o600, b"sparse").inode().ino;
    // mfs_write_end: offset = pos (any alignment), size = the bytes within that page.
    assert_eq!(d.writepage(f, 4096 * 5 + 100, b"hello").status(), 5);
    assert_eq!(d.getinode(f).inode().size, 4096 * 5 + 105);
    let (_, hole) = d.readpage(f, 4096 * 2);
    assert_eq!(hole.bytes, vec![0; 4096]);
    let (_, page) = d.readpage(f, 4096 * 5);
    assert_eq!(&page.bytes[..100], &[0; 100][..]);
    assert_eq!(&page.bytes[100..], b"hello");
    // Overwrite in the middle; the size stays.
    assert_eq!(d.writepage(f, 4096 * 5 + 101, b"EL").status(), 2);
    let (_, page) = d.readpage(f, 4096 * 5);
    assert_eq!(&page.bytes[100..], b"hELlo");
    // A write that ends exactly at a page boundary is allowed; one byte more is not.
    assert_eq!(d.writepage(f, 4095, b"x").status(), 1);
    assert_eq!(d.writepage(f, 4095, b"xy").errno(), 22);
    assert_eq!(d.writepage(f, 0, &[1; 4096]).status(), 4096);
}

#[test]
fn readdir_lists_dot_dotdot_and_entries_with_resumable_cookies() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let dir = d.mkdir(root, b"d");
    let a = d.mkfile(dir, b"a", b"1");
    let sub = d.mkdir(dir, b"sub");
    let link = d.symlink(dir, b"l", b"a").inode().ino;
    let fifo = d.create(dir, 0o010_644, b"p").inode().ino;
    let listing = d.readdir_all(dir);
    let names: Vec<(u64, u8, &[u8])> = listing
        .iter()
        .map(|(ino, _, t, n)| (*ino, *t, n.as_slice()))
        .collect();
    assert_eq!(
        names,
        [
            (dir, 4, &b"."[..]),
            (root, 4, b".."),
            (a, 8, b"a"),
            (sub, 4, b"sub"),
            (link, 10, b"l"),
            (fifo, 1, b"p"),
        ]
    );
    // Each record's offset resumes after it.
    for (i, (_, cookie, _, _)) in listing.iter().enumerate() {
        let rest = d.readdir_once(dir, *cookie);
        let after: Vec<Vec<u8>> = if rest.bytes.len() <= 12 {
            vec![]
        } else {
            records(&rest.bytes).into_iter().map(|r| r.3).collect()
        };
        let expected: Vec<Vec<u8>> = listing[i + 1..].iter().map(|r| r.3.clone()).collect();
        assert_eq!(after, expected, "after cookie {cookie}");
    }
    // The root's ".." is the root itself: nothing above an export.
    let top = d.readdir_all(root);
    assert_eq!((top[0].0, top[1].0), (root, root));
    // The end: status 0, next offset unchanged, no records.
    let last = listing.last().unwrap().1;
    let end = d.readdir_once(dir, last);
    assert_eq!(end.bytes.len(), 12);
    assert_eq!(&end.bytes[..4], &[0; 4]);
    assert_eq!(&end.bytes[4..], &last.to_be_bytes());
    // Not a directory.
    assert_eq!(d.readdir_once(a, 0).errno(), 20);
}

#[test]
fn readdir_of_a_large_directory_takes_several_replies_within_musls_buffer() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let dir = d.mkdir(root, b"many");
    let mut expected = vec![b".".to_vec(), b"..".to_vec()];
    for i in 0..300 {
        let name = format!("entry-with-a-longish-name-{i:04}");
        d.create(dir, S_IFREG | 0o644, name.as_bytes()).inode();
        expected.push(name.into_bytes());
    }
    let mut pos = 0;
    let mut seen = Vec::new();
    let mut replies = 0;
    loop {
        let r = d.readdir_once(dir, pos);
        if r.bytes.len() <= 12 {
            break;
        }
        replies += 1;
        let recs = records(&r.bytes);
        // What musl's 2048-byte getdents buffer takes as linux_dirent64 records.
        let dirents: usize = recs
            .iter()
            .map(|r| (19 + r.3.len() + 1).div_ceil(8) * 8)
            .sum();
        assert!(
            dirents <= 2048,
            "reply {replies} needs {dirents} bytes of dirents"
        );
        seen.extend(recs.iter().map(|r| r.3.clone()));
        pos = u64::from_be_bytes(r.bytes[4..12].try_into().unwrap());
    }
    assert_eq!(seen, expected);
    assert!(replies >= 6, "{replies} replies");
    // Entries removed between two replies disappear; the others still come once.
    let r = d.readdir_once(dir, 0);
    let first = records(&r.bytes);
    let resume = first.last().unwrap().1;
    let next_name = d.readdir_once(dir, resume);
    let victim = records(&next_name.bytes)[0].3.clone();
    assert_eq!(d.unlink(dir, &victim).status(), 0);
    let after = d.readdir_once(dir, resume);
    assert_ne!(records(&after.bytes)[0].3, victim);
}

#[test]
fn create_makes_files_directories_and_device_nodes() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let dir = d.create(root, S_IFDIR | 0o700, b"dir").inode();
    assert_eq!(
        (dir.mode, dir.nlink, dir.uid, dir.gid),
        (S_IFDIR | 0o700, 2, 0, 0)
    );
    assert_eq!(
        d.getinode(root).inode().nlink,
        3,
        "a subdirectory links its parent"
    );
    let dev = (1 << 20) | 3; // major 1, minor 3 as the guest kernel encodes dev_t
    let null = d
        .call(&req::create(0, root, S_IFCHR | 0o666, dev, b"null"), 76)
        .inode();
    assert_eq!((null.mode, null.rdev), (S_IFCHR | 0o666, dev));
    // Set-uid and sticky bits survive; the type decides the node.
    let f = d.create(root, S_IFREG | 0o4755, b"suid").inode();
    assert_eq!(f.mode, S_IFREG | 0o4755);
    // The times are the host's: those of the service pass that created it.
    assert_eq!([f.times[0], f.times[2], f.times[4]], [d.now.sec; 3]);
    assert_eq!(d.create(root, S_IFREG | 0o644, b"suid").errno(), 17);
}

#[test]
fn unlink_removes_files_and_empty_directories_only() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let dir = d.mkdir(root, b"dir");
    let f = d.mkfile(dir, b"f", b"data");
    assert_eq!(
        d.unlink(root, b"dir").errno(),
        93,
        "ENOTEMPTY as MIPS numbers it"
    );
    assert_eq!(d.unlink(dir, b"f").status(), 0);
    assert_eq!(d.lookup(dir, b"f").errno(), 2);
    assert_eq!(d.unlink(dir, b"f").errno(), 2);
    // The unlinked file stays readable by number while the guest may hold it open.
    let (status, body) = d.readpage(f, 0);
    assert_eq!((status.status(), body.bytes.as_slice()), (0, &b"data"[..]));
    assert_eq!(d.getinode(f).inode().nlink, 0);
    assert_eq!(d.unlink(root, b"dir").status(), 0, "rmdir");
    assert_eq!(d.getinode(root).inode().nlink, 2);
    // Once the guest restarts, the host releases it.
    d.store.release_unlinked(d.volume).unwrap();
    assert_eq!(d.getinode(f).errno(), 151, "ESTALE as MIPS numbers it");
}

#[test]
fn symlinks_and_readlink() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let l = d.symlink(root, b"sh", b"/bin/busybox").inode();
    assert_eq!((l.mode, l.size), (S_IFLNK | 0o777, 12));
    let r = d.readlink(l.ino);
    assert_eq!(r.bytes, [&[0, 0, 0, 0][..], b"/bin/busybox"].concat());
    // The longest target a guest can read back (255 - 4 bytes) is accepted; longer is not.
    let longest = vec![b'x'; 251];
    let ok = d.symlink(root, b"long", &longest).inode();
    assert_eq!(d.readlink(ok.ino).bytes.len(), 255);
    assert_eq!(d.symlink(root, b"longer", &[b'x'; 252]).errno(), 78);
    assert_eq!(d.symlink(root, b"empty", b"").errno(), 2);
    assert_eq!(d.symlink(root, b"nul", b"a\0b").errno(), 22);
    assert_eq!(d.symlink(root, b"sh", b"x").errno(), 17);
    // READLINK of something else.
    assert_eq!(d.readlink(root).errno(), 22);
}

#[test]
fn rename_moves_replaces_and_refuses_what_posix_refuses() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let a = d.mkdir(root, b"a");
    let b = d.mkdir(root, b"b");
    let f = d.mkfile(a, b"f", b"one");
    let g = d.mkfile(b, b"g", b"two");
    // Move across directories.
    assert_eq!(d.rename(a, b"f", b, b"f2").status(), 0);
    assert_eq!(d.lookup(b, b"f2").inode().ino, f);
    assert_eq!(d.lookup(a, b"f").errno(), 2);
    // Replace an existing file: the old one loses its name.
    assert_eq!(d.rename(b, b"f2", b, b"g").status(), 0);
    assert_eq!(d.lookup(b, b"g").inode().ino, f);
    assert_eq!(d.getinode(g).inode().nlink, 0);
    // A directory into its own subtree: EINVAL.
    let deep = d.mkdir(a, b"deep");
    assert_eq!(d.rename(root, b"a", deep, b"x").errno(), 22);
    assert_eq!(d.rename(root, b"a", a, b"x").errno(), 22);
    // A directory over a non-empty one, a file over a directory, a directory over a file.
    assert_eq!(d.rename(root, b"b", root, b"a").errno(), 93);
    assert_eq!(d.rename(b, b"g", root, b"a").errno(), 21);
    assert_eq!(d.rename(a, b"deep", b, b"g").errno(), 20);
    // A directory over an empty one moves, and the link counts follow.
    let empty = d.mkdir(root, b"empty");
    assert_eq!(d.rename(a, b"deep", root, b"empty").status(), 0);
    assert_eq!(d.lookup(root, b"empty").inode().ino, deep);
    assert_eq!(d.getinode(empty).inode().nlink, 0);
    assert_eq!(d.getinode(a).inode().nlink, 2);
    assert_eq!(d.getinode(root).inode().nlink, 5);
    let listing = d.readdir_all(deep);
    assert_eq!(listing[1].0, root, "the moved directory's .. follows it");
    // Missing source; renaming onto itself.
    assert_eq!(d.rename(a, b"nothing", b, b"x").errno(), 2);
    assert_eq!(d.rename(b, b"g", b, b"g").status(), 0);
    d.store.check().unwrap();
}

#[test]
fn setinode_changes_mode_owner_and_size() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let f = d.mkfile(root, b"f", &[7; 9000]);
    // mfs_setattr sends the full i_mode; only the permission bits are applied.
    let r = d.setinode(f, 9000, S_IFDIR | 0o1640, 1000, 100).inode();
    assert_eq!(
        (r.mode, r.uid, r.gid, r.size),
        (S_IFREG | 0o1640, 1000, 100, 9000)
    );
    // Truncate: pages past the end go, and bytes past it read as zeroes when it grows again.
    let r = d.setinode(f, 5000, 0o644, 0, 0).inode();
    assert_eq!((r.size, r.blocks), (5000, 16));
    let r = d.setinode(f, 8192, 0o644, 0, 0).inode();
    assert_eq!(r.size, 8192);
    let (_, page) = d.readpage(f, 4096);
    assert_eq!(&page.bytes[..904], &[7; 904][..]);
    assert!(page.bytes[904..].iter().all(|&b| b == 0));
    // A directory's size cannot change; the same value is accepted (chmod of a directory).
    let dir = d.getinode(root).inode();
    assert_eq!(
        d.setinode(root, dir.size, 0o700, 0, 0).inode().mode,
        S_IFDIR | 0o700
    );
    assert_eq!(d.setinode(root, 1, 0o700, 0, 0).errno(), 21);
    // Beyond the store's largest file.
    assert_eq!(d.setinode(f, 1 << 40, 0o644, 0, 0).errno(), 27);
}

#[test]
fn hlink_adds_names_to_one_inode() {
    let mut d = Disk::new(64 * MIB, None);
    let root = d.root();
    let dir = d.mkdir(root, b"dir");
    let f = d.mkfile(root, b"f", b"shared");
    let r = d.hlink(dir, f, b"also").inode();
    assert_eq!((r.ino, r.nlink), (f, 2));
    assert_eq!(d.lookup(dir, b"also").inode().ino, f);
    assert_eq!(d.writepage(f, 0, b"SH").status(), 2);
    let also = d.lookup(dir, b"also").inode().ino;
    let (_, page) = d.readpage(also, 0);
    assert_eq!(page.bytes, b"SHared");
    assert_eq!(
        d.hlink(dir, dir, b"loop").errno(),
        1,
        "no hard links to directories"
    );
    assert_eq!(d.hlink(dir, f, b"also").errno(), 17);
    assert_eq!(d.unlink(root, b"f").status(), 0);
    assert_eq!(d.getinode(f).inode().nlink, 1);
}

#[test]
fn statfs_and_fsync() {
    let mut d = Disk::new(64 * MIB, Some(MIB));
    let r = d.statfs();
    assert_eq!(r.bytes.len(), 12);
    let blocks = u32::from_be_bytes(r.bytes[4..8].try_into().unwrap());
    let free = u32::from_be_bytes(r.bytes[8..12].try_into().unwrap());
    assert_eq!(blocks, 2048, "1 MiB in 512-byte units");
    assert_eq!(free, 2048 - 1, "the root's inode takes 512 bytes");
    let root = d.root();
    let f = d.mkfile(root, b"f", &[1; 4096]);
    assert_eq!(d.fsync(f).bytes, [0; 4]);
    assert_eq!(d.store.syncs, 1);
    assert_eq!(d.fsync(12345).errno(), 151);
}
