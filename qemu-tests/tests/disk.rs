//! The disk on qemu-malta: the PIIX4 IDE disk (`-drive if=ide`, a raw image in a temporary
//! directory) holds the file store. A fresh image is formatted at boot; files preloaded with
//! QEMU's loader are copied in, stay across boots without the preload, and `/file remove` takes
//! them away for good; the image is read on the host with the `filestore` crate to check what
//! the box wrote, byte for byte; a damaged image is reported and repaired at boot; guests boot
//! from an image file that only the disk holds.
//!
//! Figures are printed (`-- --nocapture`): boot check, copy-in and read-back rates.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use filestore::key::{Key, Kind};
use filestore::{AreaId, BlockDevice, DeviceError, MountOptions, Store, BLOCK_SIZE, ROOT_INO};
use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::qemu::ensure_disk_image;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);
const DISK_SIZE: u64 = 64 << 20;
const FORMATTED: &str = "no file store on it: formatted an empty one";
const CHECKED: &str = "file store checked in";

/// A disk image (and files to preload) in a directory of its own, removed when dropped.
struct Disk {
    dir: PathBuf,
    image: PathBuf,
}

impl Disk {
    fn new(tag: &str) -> Disk {
        let dir =
            std::env::temp_dir().join(format!("qemu-tests-disk-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let image = dir.join("disk.img");
        ensure_disk_image(&image, DISK_SIZE).unwrap_or_else(|e| panic!("{e}"));
        Disk { dir, image }
    }

    /// Boot with this disk and, if given, `files` preloaded.
    fn boot(&self, files: &[PathBuf]) -> Session {
        let store = (!files.is_empty()).then(|| {
            let store = self.dir.join("files.bin");
            build_store(files, &store).expect("packing the file store");
            store
        });
        Session::boot_with(Board::QemuMalta, |c| {
            c.disk = Some(self.image.clone());
            c.files = store;
        })
    }

    /// Write `data` as `name` in this disk's directory (a file to preload).
    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    /// The store in the image, mounted on the host (after QEMU has exited).
    fn host_store(&self) -> Store<ImageFile> {
        let file = File::options()
            .read(true)
            .write(true)
            .open(&self.image)
            .unwrap();
        let (store, report) = Store::mount(
            ImageFile(file),
            MountOptions {
                repair: false,
                verify_data: true,
                ..MountOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("the host cannot mount the disk image: {e:?}"));
        assert!(
            report.is_clean(),
            "the box left a damaged store: {report:?}"
        );
        store
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The raw image as a block device on the host.
struct ImageFile(File);

impl BlockDevice for ImageFile {
    fn block_count(&self) -> u64 {
        self.0.metadata().unwrap().len() / BLOCK_SIZE as u64
    }
    fn read(&mut self, block: u64, buf: &mut [u8; BLOCK_SIZE]) -> Result<(), DeviceError> {
        self.0
            .read_exact_at(buf, block * BLOCK_SIZE as u64)
            .map_err(|_| DeviceError::Failed)
    }
    fn write(&mut self, block: u64, data: &[u8; BLOCK_SIZE]) -> Result<(), DeviceError> {
        self.0
            .write_all_at(data, block * BLOCK_SIZE as u64)
            .map_err(|_| DeviceError::Failed)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        self.0.sync_data().map_err(|_| DeviceError::Failed)
    }
}

/// The bytes of host file `name` in the store, if it is there.
fn host_file(store: &mut Store<ImageFile>, name: &str) -> Option<Vec<u8>> {
    let attr = store.lookup(AreaId::HOST, ROOT_INO, name.as_bytes()).ok()?;
    let mut data = vec![0; attr.size as usize];
    let n = store.read(AreaId::HOST, attr.ino, 0, &mut data).unwrap();
    assert_eq!(n, data.len());
    Some(data)
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn shutdown(s: &mut Session) {
    s.send_line("/system shutdown");
    s.expect("[y/N]: ");
    s.send("y");
    s.wait_exit(Duration::from_secs(30));
}

fn cmd(s: &mut Session, line: &str) -> String {
    s.command(line, PROMPT)
}

/// Seconds between two console markers, the second after the first.
fn between(s: &mut Session, first: &str, second: &str) -> f64 {
    s.expect_within(first, BOOT);
    let t0 = Instant::now();
    s.expect_within(second, BOOT);
    t0.elapsed().as_secs_f64()
}

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
