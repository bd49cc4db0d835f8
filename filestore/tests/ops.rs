//! The store's operations through its API: namespace, data, attributes, areas, errors.

use filestore::sim::MemDevice;
use filestore::{
    AreaId, Error, FileType, MountOptions, SetAttr, Store, Time, ROOT_INO, S_IFDIR, S_IFIFO,
    S_IFREG,
};

fn store(blocks: u64) -> (Store<MemDevice>, AreaId) {
    let mut s = Store::format(
        MemDevice::new(blocks),
        Time {
            secs: 100,
            nanos: 0,
        },
    )
    .unwrap();
    let a = s.create_area(b"mr1", None).unwrap();
    (s, a)
}

fn names(s: &mut Store<MemDevice>, a: AreaId, dir: u32) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    s.readdir(a, dir, 0, &mut |e| {
        out.push((e.cookie, e.name.clone()));
        true
    })
    .unwrap();
    out
}

#[test]
fn files_directories_and_data_survive_a_remount() {
    let (mut s, a) = store(512);
    let etc = s.create(a, ROOT_INO, b"etc", S_IFDIR | 0o755, 0).unwrap();
    assert_eq!(etc.file_type, FileType::Directory);
    assert_eq!(s.getattr(a, ROOT_INO).unwrap().nlink, 3);
    let f = s.create(a, etc.ino, b"passwd", S_IFREG | 0o644, 0).unwrap();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(s.write(a, f.ino, 0, &data), Ok(10_000));
    s.write(a, f.ino, 5000, b"HELLO").unwrap();
    let dev = s.into_device().map_err(|(e, _)| e).unwrap();
    let (mut s, report) = Store::mount(dev, MountOptions::default()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    let got = s.lookup(a, etc.ino, b"passwd").unwrap();
    assert_eq!(got.ino, f.ino);
    assert_eq!(got.size, 10_000);
    assert_eq!(got.blocks, 3 * 8);
    let mut buf = vec![0u8; 12_000];
    assert_eq!(s.read(a, f.ino, 0, &mut buf), Ok(10_000));
    let mut want = data.clone();
    want[5000..5005].copy_from_slice(b"HELLO");
    assert_eq!(&buf[..10_000], &want[..]);
    assert_eq!(s.lookup(a, etc.ino, b".."), s.getattr(a, ROOT_INO));
    let info = s.area_info(a).unwrap();
    assert_eq!(info.pages, 3);
    assert_eq!(info.used, 3 * 4096 + (3 + 2) * 256);
}

#[test]
fn readdir_cookies_are_stable_and_resume_where_asked() {
    let (mut s, a) = store(512);
    for n in [b"c".as_slice(), b"a", b"b"] {
        s.create(a, ROOT_INO, n, S_IFREG | 0o644, 0).unwrap();
    }
    let all = names(&mut s, a, ROOT_INO);
    let listed: Vec<&[u8]> = all.iter().map(|(_, n)| n.as_slice()).collect();
    assert_eq!(listed, [b".".as_slice(), b"..", b"c", b"a", b"b"]);
    s.unlink(a, ROOT_INO, b"a").unwrap();
    s.create(a, ROOT_INO, b"d", S_IFREG, 0).unwrap();
    // Resuming after "c" gives what follows it, whatever changed before.
    let mut after = Vec::new();
    s.readdir(a, ROOT_INO, all[2].0, &mut |e| {
        after.push(e.name.clone());
        after.is_empty()
    })
    .unwrap();
    assert_eq!(after, [b"b".to_vec()]);
}

#[test]
fn errors_are_the_posix_ones_and_change_nothing() {
    let (mut s, a) = store(512);
    let d = s.create(a, ROOT_INO, b"d", S_IFDIR | 0o755, 0).unwrap().ino;
    let f = s.create(a, d, b"f", S_IFREG | 0o644, 0).unwrap().ino;
    assert_eq!(s.create(a, d, b"f", S_IFREG, 0), Err(Error::Exists));
    assert_eq!(s.create(a, f, b"x", S_IFREG, 0), Err(Error::NotDir));
    assert_eq!(s.create(a, d, b"", S_IFREG, 0), Err(Error::BadName));
    assert_eq!(s.create(a, d, b"..", S_IFREG, 0), Err(Error::BadName));
    assert_eq!(s.create(a, d, b"a/b", S_IFREG, 0), Err(Error::BadName));
    assert_eq!(s.create(a, d, b"a\0b", S_IFREG, 0), Err(Error::BadName));
    assert_eq!(
        s.create(a, d, &[b'n'; 256], S_IFREG, 0),
        Err(Error::NameTooLong)
    );
    assert!(s.create(a, d, &[b'n'; 255], S_IFREG, 0).is_ok());
    assert_eq!(s.unlink(a, ROOT_INO, b"d"), Err(Error::NotEmpty));
    assert_eq!(s.rename(a, ROOT_INO, b"d", d, b"sub"), Err(Error::Invalid));
    assert_eq!(s.link(a, d, ROOT_INO, b"dlink"), Err(Error::NotPermitted));
    assert_eq!(s.read(a, d, 0, &mut [0; 4]), Err(Error::IsDir));
    assert_eq!(s.getattr(a, 0), Err(Error::NotFound));
    assert_eq!(s.getattr(a, 999), Err(Error::NotFound));
    assert_eq!(s.readlink(a, f), Err(Error::Invalid));
    assert_eq!(
        s.symlink(a, d, b"l", &[b't'; 1001]),
        Err(Error::TargetTooLong)
    );
    assert_eq!(
        s.write(a, f, u64::from(u32::MAX), b"x"),
        Err(Error::FileTooLarge)
    );
    s.unlink(a, d, b"f").unwrap();
    assert_eq!(s.getattr(a, f), Err(Error::Stale));
    assert_eq!(s.getattr(AreaId(77), ROOT_INO), Err(Error::NoArea));
}

#[test]
fn hard_links_symlinks_rename_and_setattr() {
    let (mut s, a) = store(512);
    let f = s.create(a, ROOT_INO, b"f", S_IFREG | 0o644, 0).unwrap().ino;
    s.write(a, f, 0, b"data").unwrap();
    let l = s.link(a, f, ROOT_INO, b"g").unwrap();
    assert_eq!((l.ino, l.nlink), (f, 2));
    s.unlink(a, ROOT_INO, b"f").unwrap();
    assert_eq!(s.getattr(a, f).unwrap().nlink, 1);
    let sl = s.symlink(a, ROOT_INO, b"sl", b"/etc/passwd").unwrap();
    assert_eq!(sl.size, 11);
    assert_eq!(s.readlink(a, sl.ino).unwrap(), b"/etc/passwd");
    let d1 = s
        .create(a, ROOT_INO, b"d1", S_IFDIR | 0o700, 0)
        .unwrap()
        .ino;
    let d2 = s
        .create(a, ROOT_INO, b"d2", S_IFDIR | 0o700, 0)
        .unwrap()
        .ino;
    s.rename(a, ROOT_INO, b"d1", d2, b"inner").unwrap();
    assert_eq!(s.lookup(a, d2, b"..").unwrap().ino, ROOT_INO);
    assert_eq!(s.lookup(a, d1, b"..").unwrap().ino, d2);
    assert_eq!(s.getattr(a, ROOT_INO).unwrap().nlink, 3);
    assert_eq!(s.getattr(a, d2).unwrap().nlink, 3);
    // A file replaces a file; the replaced inode goes.
    let h = s.create(a, ROOT_INO, b"h", S_IFIFO | 0o600, 0).unwrap().ino;
    s.rename(a, ROOT_INO, b"g", ROOT_INO, b"h").unwrap();
    assert_eq!(s.getattr(a, h), Err(Error::Stale));
    assert_eq!(s.lookup(a, ROOT_INO, b"h").unwrap().ino, f);
    s.set_time(Time {
        secs: 200,
        nanos: 5,
    });
    let after = s
        .setattr(
            a,
            f,
            SetAttr {
                mode: Some(0o4755),
                uid: Some(1000),
                gid: Some(100),
                size: Some(2),
                ..SetAttr::default()
            },
        )
        .unwrap();
    assert_eq!(
        (after.mode, after.uid, after.gid, after.size),
        (S_IFREG | 0o4755, 1000, 100, 2)
    );
    assert_eq!(
        after.ctime,
        Time {
            secs: 200,
            nanos: 5
        }
    );
    s.setattr(
        a,
        f,
        SetAttr {
            size: Some(6000),
            ..SetAttr::default()
        },
    )
    .unwrap();
    let mut buf = [9u8; 6000];
    assert_eq!(s.read(a, f, 0, &mut buf), Ok(6000));
    assert_eq!(&buf[..2], b"da");
    assert!(
        buf[2..].iter().all(|&b| b == 0),
        "an extended file reads zeros past its old end"
    );
}

#[test]
fn quotas_and_a_full_device_refuse_before_changing_anything() {
    let mut s = Store::format(MemDevice::new(256), Time::ZERO).unwrap();
    let a = s.create_area(b"small", Some(64 * 1024)).unwrap();
    let f = s.create(a, ROOT_INO, b"f", S_IFREG | 0o644, 0).unwrap().ino;
    let page = [0x55u8; 4096];
    let mut written = 0;
    while s.write(a, f, written * 4096, &page).is_ok() {
        written += 1;
    }
    assert_eq!(
        s.write(a, f, written * 4096, &page),
        Err(Error::QuotaExceeded)
    );
    assert_eq!(
        written, 15,
        "64 KiB less the root's, the file's and its entry's 768 bytes"
    );
    assert_eq!(s.getattr(a, f).unwrap().size, written * 4096);
    // Overwriting in place needs no more quota.
    assert!(s.write(a, f, 0, &page).is_ok());
    let st = s.statfs(a).unwrap();
    assert_eq!(st.total, 64 * 1024);
    assert!(st.free < 4096);
    // Unlimited: bounded by the device, with a reserve kept for removals.
    let b = s.create_area(b"big", None).unwrap();
    let g = s.create(b, ROOT_INO, b"g", S_IFREG, 0).unwrap().ino;
    let mut n = 0;
    loop {
        match s.write(b, g, n * 4096, &page) {
            Ok(_) => n += 1,
            Err(e) => {
                assert_eq!(e, Error::NoSpace);
                break;
            }
        }
    }
    let before = s.stat().free_blocks;
    assert!(before > 0, "the reserve is kept");
    // Removing still works on a full device, and gives the space back.
    s.unlink(b, ROOT_INO, b"g").unwrap();
    assert!(s.stat().free_blocks > before + n as u32 - 8);
    assert_eq!(s.area_info(b).unwrap().pages, 0);
}

#[test]
fn areas_are_separate_and_removable() {
    let (mut s, a) = store(512);
    let b = s.create_area(b"mr2", Some(1 << 20)).unwrap();
    assert_eq!(s.create_area(b"mr2", None), Err(Error::AreaExists));
    let fa = s.create(a, ROOT_INO, b"only-in-a", S_IFREG, 0).unwrap().ino;
    s.write(a, fa, 0, &[1; 9000]).unwrap();
    assert_eq!(s.lookup(b, ROOT_INO, b"only-in-a"), Err(Error::NotFound));
    assert_eq!(s.getattr(b, fa), Err(Error::NotFound));
    assert_eq!(s.read(b, fa, 0, &mut [0; 4]), Err(Error::NotFound));
    let free = s.stat().free_blocks;
    s.remove_area(a).unwrap();
    assert!(s.stat().free_blocks >= free + 3);
    assert_eq!(s.remove_area(AreaId::HOST), Err(Error::NotPermitted));
    let dev = s.into_device().map_err(|(e, _)| e).unwrap();
    let (s, report) = Store::mount(dev, MountOptions::default()).unwrap();
    assert!(report.is_clean());
    let names: Vec<Vec<u8>> = s.areas().into_iter().map(|i| i.name).collect();
    assert_eq!(names, [b"host".to_vec(), b"mr2".to_vec()]);
}

#[test]
fn many_files_grow_the_tree_and_shrink_it_again() {
    let (mut s, a) = store(4096);
    for i in 0..600u32 {
        let name = format!("file-{i:04}");
        let f = s
            .create(a, ROOT_INO, name.as_bytes(), S_IFREG | 0o644, 0)
            .unwrap()
            .ino;
        s.write(a, f, 0, &i.to_be_bytes()).unwrap();
    }
    let dev = s.into_device().map_err(|(e, _)| e).unwrap();
    let (mut s, report) = Store::mount(dev, MountOptions::default()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.nodes > 10, "{} nodes", report.nodes);
    for i in (0..600u32).rev() {
        let name = format!("file-{i:04}");
        let f = s.lookup(a, ROOT_INO, name.as_bytes()).unwrap().ino;
        let mut b = [0u8; 4];
        s.read(a, f, 0, &mut b).unwrap();
        assert_eq!(u32::from_be_bytes(b), i);
        s.unlink(a, ROOT_INO, name.as_bytes()).unwrap();
    }
    let dev = s.into_device().map_err(|(e, _)| e).unwrap();
    let (s, report) = Store::mount(dev, MountOptions::default()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.nodes <= 2, "{} nodes left", report.nodes);
    assert_eq!(s.area_info(a).unwrap().inodes, 1);
}
