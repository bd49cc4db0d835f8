//! The disk on qemu-malta: the PIIX4 IDE disk (`-drive if=ide`, a raw image in a temporary
//! directory) holds the file store. A fresh image is formatted at boot; files preloaded with
//! QEMU's loader are copied in, stay across boots without the preload, and `/file remove` takes
//! them away for good; the image is read on the host with the `filestore` crate to check what
//! the box wrote, byte for byte; a damaged image is reported and repaired at boot; guests boot
//! from an image file that only the disk holds.
//!
//! Figures are printed (`-- --nocapture`): boot check, copy-in and read-back rates.

#[path = "disk/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use filestore::key::{Key, Kind};
use filestore::{AreaId, ROOT_INO};
use qemu_tests::guests;

#[test]
fn a_preloaded_file_survives_reboots_and_remove_is_for_good() {
    let disk = Disk::new("survive");
    let data = pattern(200_000, 7);
    let other = pattern(5_000, 8);
    let files = [disk.file("data.bin", &data), disk.file("other.bin", &other)];

    let mut s = disk.boot(&files);
    s.expect_within(FORMATTED, BOOT);
    s.expect_within("disk: 2 preloaded files copied in (201 KiB)", BOOT);
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(
        list.contains("data.bin") && list.contains("195.3KiB"),
        "{list}"
    );
    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(
        host_file(&mut store, "data.bin").as_deref(),
        Some(&data[..])
    );
    assert_eq!(
        host_file(&mut store, "other.bin").as_deref(),
        Some(&other[..])
    );
    drop(store);

    // No preload now: the files come from the disk.
    let mut s = disk.boot(&[]);
    let check = s.expect_within(CHECKED, BOOT);
    assert!(!check.contains(FORMATTED), "{check}");
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(
        list.contains("data.bin") && list.contains("other.bin"),
        "{list}"
    );
    let out = cmd(&mut s, "/file remove data.bin");
    assert!(
        !out.contains("failure") && !out.contains("no such"),
        "{out}"
    );
    let list = cmd(&mut s, "/file print");
    assert!(
        !list.contains("data.bin") && list.contains("other.bin"),
        "{list}"
    );
    let out = cmd(&mut s, "/file remove data.bin");
    assert!(out.contains("no such item"), "{out}");
    shutdown(&mut s);

    let mut s = disk.boot(&[]);
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(
        !list.contains("data.bin") && list.contains("other.bin"),
        "{list}"
    );
    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(host_file(&mut store, "data.bin"), None);
    assert_eq!(
        host_file(&mut store, "other.bin").as_deref(),
        Some(&other[..])
    );
}

#[test]
fn a_damaged_store_is_reported_and_repaired_at_boot() {
    let disk = Disk::new("damage");
    let files = [disk.file("a.bin", &pattern(10_000, 1))];
    let mut s = disk.boot(&files);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    shutdown(&mut s);
    // Take a file's inode away under its directory entry and its pages: the check removes the
    // dangling entry and the pages without an inode.
    let mut store = disk.host_store();
    let ino = store.lookup(AreaId::HOST, ROOT_INO, b"a.bin").unwrap().ino;
    let inode_key = Key::new(AreaId::HOST.0, ino, Kind::Inode, 0);
    assert!(store.raw_del(&inode_key).unwrap());
    store.sync().unwrap();
    drop(store);

    let mut s = disk.boot(&[]);
    let report = s.expect_within("repaired", BOOT);
    assert!(report.contains("problems found"), "{report}");
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(!list.contains("a.bin"), "{list}");
    shutdown(&mut s);
    let mut s = disk.boot(&[]);
    let check = s.expect_within(CHECKED, BOOT);
    s.expect_within("guests:", BOOT);
    assert!(!s.transcript().contains("problems found"), "{check}");
}

#[test]
fn a_guest_boots_from_an_image_only_the_disk_holds() {
    let built = guests::build_once().expect("building the guests");
    let disk = Disk::new("guest");
    let mut s = disk.boot(&[built.archive("hello")]);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    shutdown(&mut s);

    let mut s = disk.boot(&[]);
    s.login(BOOT);
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello.tgz name=h1",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = cmd(&mut s, "/metarouter print");
        if out
            .lines()
            .any(|l| l.contains("h1") && l.ends_with("running"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "h1 does not run:\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    shutdown(&mut s);
}

#[test]
fn figures_copy_in_and_read_back_through_the_ide_driver() {
    let disk = Disk::new("figures");
    let mib = 16;
    let files = [disk.file("big.bin", &pattern(mib << 20, 3))];
    let mut s = disk.boot(&files);
    let write = between(&mut s, FORMATTED, "copied in");
    s.login(BOOT);
    shutdown(&mut s);
    // The next boot checks the store, then reads every file into RAM for guest images.
    let mut s = disk.boot(&[]);
    let read = between(&mut s, CHECKED, "guests:");
    let check = s
        .transcript()
        .lines()
        .find(|l| l.contains(CHECKED))
        .unwrap_or_default()
        .to_string();
    s.login(BOOT);
    shutdown(&mut s);
    println!(
        "disk: {mib} MiB copied in at {:.1} MiB/s, read back at {:.1} MiB/s (file store over PIO IDE, QEMU TCG); {}",
        mib as f64 / write,
        mib as f64 / read,
        check.trim()
    );
    assert!(host_file(&mut disk.host_store(), "big.bin").is_some());
}
