//! Import archives unpacked into a guest's area: the tree (directories, files over several
//! pages, symlinks, hard links, parents the archive does not list), modes and times, the kernel
//! kept out, `used-disk` after it; all or nothing with a `disk-size` quota too small, and the
//! area as it was after a refusal.

use filestore::sim::MemDevice;
use filestore::{AreaId, Durability, FileType, Store, Time, ROOT_INO};
use guest_loader::archive::{ArchiveImporter, ImportError, SinkError};
use guest_loader::elf::ElfSpec;
use guest_loader::fuzz::gzip_stored;
use guest_loader::fuzz::samples::{mips_kernel, ustar_image};
use guest_mem::GuestArch;
use metafs_disk::{TreeIntoArea, UnpackState};

fn archive(big: &[u8]) -> Vec<u8> {
    let kernel = mips_kernel(4096, 512, 1024);
    gzip_stored(&ustar_image(&[
        ("./kernel", b'0', "", &kernel),
        ("etc/", b'5', "", b""),
        ("etc/passwd", b'0', "", b"root:x:0:0::/root:/bin/sh\n"),
        ("usr/lib/libbig.so", b'0', "", big),
        ("bin/sh", b'2', "busybox", b""),
        ("bin/ash", b'1', "etc/passwd", b""),
    ]))
}

fn spec() -> ElfSpec {
    ElfSpec::for_guest(&GuestArch::MIPS32, 16 << 20).unwrap()
}

fn store(quota: Option<u64>) -> (Store<MemDevice>, AreaId) {
    let mut s = Store::format(MemDevice::new(4096), Time::ZERO).unwrap();
    let area = s.create_area(b"mr1", quota).unwrap();
    (s, area)
}

fn unpack(s: &mut Store<MemDevice>, area: AreaId, data: &[u8]) -> Result<(), ImportError> {
    s.set_durability(Durability::Deferred).unwrap();
    // Fed in small pieces, each with a sink of its own, as the hypervisor does a step at a time.
    let mut state = UnpackState::default();
    let mut importer = ArchiveImporter::new(spec(), data.len() as u64);
    let mut result = Ok(());
    for piece in data.chunks(1000) {
        result = importer.push(piece, &mut TreeIntoArea::new(s, area, &mut state));
        if result.is_err() {
            break;
        }
    }
    let result = result.and_then(|()| importer.finish(&mut TreeIntoArea::new(s, area, &mut state)));
    match result {
        Ok(_) => s.sync().unwrap(),
        Err(_) => s.discard(),
    }
    s.set_durability(Durability::EachOperation).unwrap();
    result.map(|_| ())
}

fn read(s: &mut Store<MemDevice>, area: AreaId, path: &[&[u8]]) -> Vec<u8> {
    let mut ino = ROOT_INO;
    for part in path {
        ino = s.lookup(area, ino, part).unwrap().ino;
    }
    let size = s.getattr(area, ino).unwrap().size as usize;
    let mut buf = vec![0; size];
    assert_eq!(s.read(area, ino, 0, &mut buf).unwrap(), size);
    buf
}

#[test]
fn the_tree_lands_in_the_area_without_the_kernel() {
    let big: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let (mut s, area) = store(None);
    unpack(&mut s, area, &archive(&big)).unwrap();
    assert_eq!(read(&mut s, area, &[b"usr", b"lib", b"libbig.so"]), big);
    assert_eq!(
        read(&mut s, area, &[b"etc", b"passwd"]),
        b"root:x:0:0::/root:/bin/sh\n"
    );
    assert_eq!(
        s.lookup(area, ROOT_INO, b"kernel").err(),
        Some(filestore::Error::NotFound)
    );
    let bin = s.lookup(area, ROOT_INO, b"bin").unwrap();
    assert_eq!(bin.file_type, FileType::Directory);
    let sh = s.lookup(area, bin.ino, b"sh").unwrap();
    assert_eq!(s.readlink(area, sh.ino).unwrap(), b"busybox");
    let ash = s.lookup(area, bin.ino, b"ash").unwrap();
    let etc = s.lookup(area, ROOT_INO, b"etc").unwrap();
    let passwd = s.lookup(area, etc.ino, b"passwd").unwrap();
    assert_eq!((ash.ino, passwd.nlink), (passwd.ino, 2));
    assert_eq!(passwd.mode & 0o7777, 0o644);
    assert_eq!(etc.mode & 0o7777, 0o755);
    // used-disk: the pages of the two files and the metadata of the inodes and entries.
    let used = s.area_info(area).unwrap().used;
    assert!((14 * 4096..20 * 4096).contains(&used), "{used}");
    // A remount finds it all; the check is clean.
    let dev = s.into_device().unwrap_or_else(|_| panic!("unmount"));
    let (mut s, report) = Store::mount(dev, Default::default()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(read(&mut s, area, &[b"usr", b"lib", b"libbig.so"]), big);
}

#[test]
fn a_tree_past_the_quota_is_refused_and_leaves_the_area_as_it_was() {
    let big = vec![7u8; 200_000];
    let (mut s, area) = store(Some(64 << 10));
    let before = s.area_info(area).unwrap();
    let got = unpack(&mut s, area, &archive(&big));
    assert!(
        matches!(
            got,
            Err(ImportError::Sink {
                error: SinkError::NoSpace,
                ..
            })
        ),
        "{got:?}"
    );
    let after = s.area_info(area).unwrap();
    assert_eq!((after.used, after.inodes), (before.used, before.inodes));
    let mut names = 0;
    s.readdir(area, ROOT_INO, 2, &mut |_| {
        names += 1;
        true
    })
    .unwrap();
    assert_eq!(names, 0, "nothing of the tree is left");
    // It fits once the quota allows it.
    s.set_quota(area, Some(1 << 20)).unwrap();
    unpack(&mut s, area, &archive(&big)).unwrap();
    assert_eq!(read(&mut s, area, &[b"usr", b"lib", b"libbig.so"]), big);
}

#[test]
fn a_damaged_archive_leaves_nothing() {
    let (mut s, area) = store(None);
    let mut data = archive(&[1u8; 10_000]);
    let at = data.len() - 12;
    data[at] ^= 0xFF;
    assert!(unpack(&mut s, area, &data).is_err());
    assert_eq!(s.area_info(area).unwrap().inodes, 1, "only the root");
}
