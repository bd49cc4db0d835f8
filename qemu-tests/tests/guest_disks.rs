//! Guests' disks on qemu-malta: each guest has an area of the disk named as it; `import-image`
//! unpacks the image's tree into it (its `./kernel` stays out), `used-disk` is what the tree
//! takes and survives a host reboot, a `disk-size` too small is refused with nothing written,
//! and removing the guest deletes its disk. What the box wrote is read back on the host.
//!
//! Figures are printed (`-- --nocapture`): the import time of a 7 MiB image.

#[path = "disk/common.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use qemu_tests::guests;
use qemu_tests::session::Session;

/// A MetaROUTER import archive: `kernel` as `./kernel`, then a small tree with `big` bytes in
/// `usr/lib/big.bin`.
fn image(kernel: &Path, big: &[u8], out: &Path) {
    let kernel = std::fs::read(kernel).unwrap();
    let file = std::fs::File::create(out).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_entry_type(kind);
        if let Some(link) = link {
            h.set_link_name(link).unwrap();
        }
        tar.append_data(&mut h, path, data).unwrap();
    };
    add("./kernel", tar::EntryType::Regular, 0o755, &kernel, None);
    add("./etc/", tar::EntryType::Directory, 0o755, b"", None);
    add(
        "./etc/hostname",
        tar::EntryType::Regular,
        0o644,
        b"guest\n",
        None,
    );
    add(
        "./usr/lib/big.bin",
        tar::EntryType::Regular,
        0o644,
        big,
        None,
    );
    add(
        "./bin/sh",
        tar::EntryType::Symlink,
        0o777,
        b"",
        Some("busybox"),
    );
    tar.into_inner().unwrap().finish().unwrap();
}

/// The USED-DISK of `name` in `/metarouter print`, in KiB.
fn used_disk_kib(s: &mut Session, name: &str) -> u64 {
    let out = cmd(s, "/metarouter print detail");
    let at = out
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
    let used = out[at..].split("used-disk=").nth(1).unwrap();
    let digits: String = used.chars().take_while(char::is_ascii_digit).collect();
    assert!(used[digits.len()..].starts_with("kiB"), "{used}");
    digits.parse().unwrap()
}

fn import(s: &mut Session, line: &str) -> (String, Duration) {
    s.send_line(line);
    let t0 = Instant::now();
    let out = s.expect_within(qemu_tests::session::PROMPT, Duration::from_secs(120));
    (out, t0.elapsed())
}

#[test]
fn import_unpacks_the_tree_into_the_guests_disk_within_its_size() {
    let built = guests::build_once().expect("building the guests");
    let disk = Disk::new("import");
    let big = pattern(300_000, 5);
    let archive = disk.dir.join("tree.tgz");
    image(&built.elf("hello"), &big, &archive);
    let mut s = disk.boot(&[archive]);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);

    // 300 KB of files do not fit 256 KiB: refused, no guest, no area left behind.
    let (out, _) = import(
        &mut s,
        "/metarouter import-image file-name=tree.tgz name=small disk-size=256",
    );
    assert!(out.contains("image does not fit the disk size"), "{out}");
    assert!(!cmd(&mut s, "/metarouter print").contains("small"));

    let (out, _) = import(
        &mut s,
        "/metarouter import-image file-name=tree.tgz name=g1",
    );
    assert!(out.contains("imported: 100%"), "{out}");
    let used = used_disk_kib(&mut s, "g1");
    // The tree's pages (74 of 4 KiB for big.bin, 1 for hostname) and its metadata.
    assert!((300..320).contains(&used), "used-disk {used} KiB");
    shutdown(&mut s);

    let mut store = disk.host_store();
    assert_eq!(
        area_file(&mut store, "g1", &["usr", "lib", "big.bin"]),
        Some(big)
    );
    assert_eq!(
        area_file(&mut store, "g1", &["etc", "hostname"]).as_deref(),
        Some(&b"guest\n"[..])
    );
    assert_eq!(area_file(&mut store, "g1", &["kernel"]), None);
    assert!(
        store.find_area(b"small").is_none(),
        "the refused import left an area"
    );
    drop(store);

    // No preload: the guest, its disk and used-disk come back from flash and disk.
    let mut s = disk.boot(&[]);
    s.login(BOOT);
    // The configuration was not saved to a flash in this test: define the guest again under
    // the same name; it finds its disk.
    let _ = cmd(&mut s, "/metarouter add name=g1");
    assert_eq!(used_disk_kib(&mut s, "g1"), used);
    cmd(&mut s, "/metarouter remove g1");
    shutdown(&mut s);
    let store = disk.host_store();
    assert!(
        store.find_area(b"g1").is_none(),
        "the removed guest's disk is still there"
    );
}

#[test]
fn figures_import_of_a_7_mib_image() {
    let built = guests::build_once().expect("building the guests");
    let disk = Disk::new("import7");
    let archive = disk.dir.join("big.tgz");
    image(&built.elf("hello"), &pattern(7 << 20, 9), &archive);
    let size = std::fs::metadata(&archive).unwrap().len();
    let mut s = disk.boot(&[archive]);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    let (out, took) = import(
        &mut s,
        "/metarouter import-image file-name=big.tgz name=big",
    );
    assert!(out.contains("imported: 100%"), "{out}");
    let used = used_disk_kib(&mut s, "big");
    shutdown(&mut s);
    println!(
        "import: a {:.1} MiB image (7 MiB tree) unpacked into a guest's disk in {:.1} s; used-disk {used} KiB",
        size as f64 / (1 << 20) as f64,
        took.as_secs_f64()
    );
}

/// An archive with `kernel` and a tree of `files` small files in 20 directories.
fn rootfs(kernel: &Path, files: usize, out: &Path) {
    let kernel = std::fs::read(kernel).unwrap();
    let file = std::fs::File::create(out).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_mtime(1_600_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, path, data).unwrap();
    };
    add("./kernel", &kernel);
    for i in 0..files {
        let data = pattern(500 + (i * 37) % 3000, i as u32);
        add(&format!("./usr/d{}/f{i}", i % 20), &data);
    }
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn figures_boot_check_of_eight_guests_trees() {
    let built = guests::build_once().expect("building the guests");
    let disk = Disk::new("eight");
    let archive = disk.dir.join("rootfs.tgz");
    rootfs(&built.elf("hello"), 500, &archive);
    let mut s = disk.boot(&[archive]);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    for n in 1..=8 {
        let (out, _) = import(
            &mut s,
            &format!("/metarouter import-image file-name=rootfs.tgz name=r{n} memory-size=16"),
        );
        assert!(out.contains("imported: 100%"), "{out}");
    }
    shutdown(&mut s);
    let mut s = disk.boot(&[]);
    let line = s.expect_within("guests:", BOOT);
    s.login(BOOT);
    shutdown(&mut s);
    let check = line
        .lines()
        .find(|l| l.contains(CHECKED))
        .unwrap_or_else(|| panic!("no check line:\n{line}"));
    assert!(check.contains("9 areas"), "{check}");
    println!("boot check, 8 guests' trees of 500 files: {}", check.trim());
}

fn counter(s: &mut Session, name: &str, field: &str) -> u64 {
    let out = cmd(s, "/metarouter print detail");
    let at = out.find(&format!("name=\"{name}\"")).unwrap();
    let rest = out[at..].split(&format!("{field}=")).nth(1).unwrap();
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[test]
fn a_guest_writes_its_disk_over_metafs_and_finds_it_after_a_host_reboot() {
    let built = guests::build_once().expect("building the guests");
    let disk = Disk::new("metafs");
    let mut s = disk.boot(&[built.archive("hello")]);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello.tgz name=h1",
    );
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello.tgz name=h2 disk-size=8",
    );
    wait_running_detail(&mut s, "h1");
    wait_running_detail(&mut s, "h2");
    let out = hello_console(
        &mut s,
        "h1",
        "write /greeting hello from the disk",
        "write: ",
    );
    assert!(!out.contains("errno"), "{out}");
    hello_console(&mut s, "h1", "write /greeting second line", "write: ");
    let out = hello_console(&mut s, "h1", "cat /greeting", "hello from");
    assert!(
        out.contains("hello from the disk") && out.contains("second line"),
        "{out}"
    );
    assert!(out.contains("cat: 32 bytes"), "{out}");
    // h2 sees its own, empty disk: not h1's file.
    let out = hello_console(&mut s, "h2", "cat /greeting", "cat: ");
    assert!(out.contains("cat: errno 2"), "{out}");
    // 8 KiB of disk-size: the second page of a file does not fit (ENOSPC, 28).
    let mut last = String::new();
    for _ in 0..80 {
        last = hello_console(
            &mut s,
            "h2",
            &format!("write /fill {}", "0123456789".repeat(10)),
            "write: ",
        );
        if last.contains("errno") {
            break;
        }
    }
    assert!(last.contains("write: errno 28"), "{last}");
    assert!(counter(&mut s, "h1", "disk-writes") >= 3);
    assert!(counter(&mut s, "h1", "disk-reads") >= 1);
    let used = used_disk_kib(&mut s, "h2");
    assert!(used <= 8, "h2 uses {used} KiB of its 8");
    shutdown(&mut s);

    // What the guest wrote is in its area of the disk image.
    let mut store = disk.host_store();
    assert_eq!(
        area_file(&mut store, "h1", &["greeting"]).as_deref(),
        Some(&b"hello from the disk\nsecond line\n"[..])
    );
    drop(store);

    // A host reboot (the configuration in a fresh flash is gone: the guest is defined again
    // under its name and finds its disk).
    let mut s = disk.boot(&[]);
    s.login(BOOT);
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello.tgz name=h1",
    );
    wait_running_detail(&mut s, "h1");
    let out = hello_console(&mut s, "h1", "cat /greeting", "hello from");
    assert!(
        out.contains("hello from the disk") && out.contains("cat: 32 bytes"),
        "{out}"
    );
    shutdown(&mut s);
}

#[test]
fn figures_metafs_4_kib_pages_as_a_guest_sees_them() {
    let built = guests::build_once().expect("building the guests");
    let disk = Disk::new("bench");
    let mut s = disk.boot(&[built.archive("hello")]);
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello.tgz name=h1",
    );
    wait_running_detail(&mut s, "h1");
    let out = hello_console(&mut s, "h1", "disk-bench 256", "disk-bench: ");
    assert!(out.contains("1024 KiB written in"), "{out}");
    shutdown(&mut s);
    println!(
        "metafs (hello's disk-bench, one request at a time, each write committed): {}",
        out.lines().next().unwrap_or("").trim()
    );
}

#[test]
fn a_power_cut_while_a_guest_writes_leaves_a_clean_store_with_whole_pages() {
    let built = guests::build_once().expect("building the guests");
    power_cuts_while_a_guest_writes(
        qemu_tests::boards::Board::QemuMalta,
        built.archive("hello"),
        "/metarouter import-image file-name=hello.tgz name=h1",
    );
}
