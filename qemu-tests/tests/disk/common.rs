//! Shared by the disk tests: a disk image in a temporary directory, booting with it, reading
//! the file store in it on the host.
#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use filestore::{AreaId, BlockDevice, DeviceError, MountOptions, Store, BLOCK_SIZE, ROOT_INO};
use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::qemu::ensure_disk_image;
use qemu_tests::session::{Session, PROMPT};

pub const BOOT: Duration = Duration::from_secs(60);
pub const DISK_SIZE: u64 = 64 << 20;
pub const FORMATTED: &str = "no file store on it: formatted an empty one";
pub const CHECKED: &str = "file store checked in";

/// A disk image (and files to preload) in a directory of its own, removed when dropped.
pub struct Disk {
    pub dir: PathBuf,
    pub image: PathBuf,
    pub board: Board,
}

impl Disk {
    /// A disk for qemu-malta.
    pub fn new(tag: &str) -> Disk {
        Disk::on(Board::QemuMalta, tag)
    }

    /// A disk for `board` (qemu-malta: its IDE disk; qemu-ppce500: a virtio disk on PCI).
    pub fn on(board: Board, tag: &str) -> Disk {
        let dir =
            std::env::temp_dir().join(format!("qemu-tests-disk-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let image = dir.join("disk.img");
        ensure_disk_image(&image, DISK_SIZE).unwrap_or_else(|e| panic!("{e}"));
        Disk { dir, image, board }
    }

    /// Boot with this disk and, if given, `files` preloaded.
    pub fn boot(&self, files: &[PathBuf]) -> Session {
        let store = (!files.is_empty()).then(|| {
            let store = self.dir.join("files.bin");
            build_store(files, &store).expect("packing the file store");
            store
        });
        Session::boot_with(self.board, |c| {
            c.disk = Some(self.image.clone());
            c.files = store;
        })
    }

    /// Write `data` as `name` in this disk's directory (a file to preload).
    pub fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, data).unwrap();
        path
    }

    /// The store in the image, mounted on the host (after QEMU has exited).
    pub fn host_store(&self) -> Store<ImageFile> {
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
pub struct ImageFile(File);

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
pub fn host_file(store: &mut Store<ImageFile>, name: &str) -> Option<Vec<u8>> {
    let attr = store.lookup(AreaId::HOST, ROOT_INO, name.as_bytes()).ok()?;
    let mut data = vec![0; attr.size as usize];
    let n = store.read(AreaId::HOST, attr.ino, 0, &mut data).unwrap();
    assert_eq!(n, data.len());
    Some(data)
}

pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
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

pub fn shutdown(s: &mut Session) {
    s.send_line("/system shutdown");
    s.expect("[y/N]: ");
    s.send("y");
    s.wait_exit(Duration::from_secs(30));
}

pub fn cmd(s: &mut Session, line: &str) -> String {
    s.command(line, PROMPT)
}

/// Seconds between two console markers, the second after the first.
pub fn between(s: &mut Session, first: &str, second: &str) -> f64 {
    s.expect_within(first, BOOT);
    let t0 = Instant::now();
    s.expect_within(second, BOOT);
    t0.elapsed().as_secs_f64()
}

/// Attach to `vm`'s console (an SDK `hello` guest), type `line`, wait for `until` and the
/// guest's prompt after it; detach. What came from `until` to the prompt.
pub fn hello_console(s: &mut Session, vm: &str, line: &str, until: &str) -> String {
    s.send_line(&format!("/metarouter console {vm}"));
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line(line);
    s.expect_within(until, Duration::from_secs(30));
    let out = format!(
        "{until}{}",
        s.expect_within("hello> ", Duration::from_secs(30))
    );
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    out
}

/// Poll `/metarouter print detail` until `name` runs (60 s at most).
pub fn wait_running_detail(s: &mut Session, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cmd(s, "/metarouter print detail")
        .split(&format!("name=\"{name}\""))
        .nth(1)
        .is_some_and(|rest| {
            rest.split("name=")
                .next()
                .unwrap_or("")
                .contains("state=running")
        })
    {
        assert!(
            Instant::now() < deadline,
            "{name} does not run:\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The bytes of `path` in the area `area` of the store in the image.
pub fn area_file(store: &mut Store<ImageFile>, area: &str, path: &[&str]) -> Option<Vec<u8>> {
    let area = store.find_area(area.as_bytes())?;
    let mut ino = ROOT_INO;
    for part in path {
        ino = store.lookup(area, ino, part.as_bytes()).ok()?.ino;
    }
    let size = store.getattr(area, ino).ok()?.size as usize;
    let mut data = vec![0; size];
    store.read(area, ino, 0, &mut data).ok()?;
    Some(data)
}

/// Power cuts while guest `h1` (the SDK's `hello`, imported from `archive` by `import`) runs
/// `disk-bench`, after 300, 900 and 1700 ms on a fresh disk of `board` each time: the host's
/// check finds nothing to repair (`Disk::host_store` asserts it, data pages included), and
/// the guest's file holds only whole pages it wrote.
pub fn power_cuts_while_a_guest_writes(board: Board, archive: PathBuf, import: &str) {
    for (n, cut_after_ms) in [300u64, 900, 1700].into_iter().enumerate() {
        let disk = Disk::on(board, &format!("cut{n}"));
        let mut s = disk.boot(std::slice::from_ref(&archive));
        s.expect_within("copied in", BOOT);
        s.login(BOOT);
        let out = cmd(&mut s, import);
        assert!(!out.contains("failure"), "{out}");
        wait_running_detail(&mut s, "h1");
        s.send_line("/metarouter console h1");
        s.expect("[Ctrl-A is the prefix key]");
        s.send_line("disk-bench 2000");
        std::thread::sleep(Duration::from_millis(cut_after_ms));
        s.power_cut();
        let mut store = disk.host_store();
        let data = area_file(&mut store, "h1", &["bench"]).unwrap_or_default();
        assert!(
            data.len().is_multiple_of(4096),
            "{board}, cut {n}: a file of {} bytes",
            data.len()
        );
        assert!(
            data.iter().all(|&b| b == 0x5A),
            "{board}, cut {n}: bytes the guest never wrote"
        );
        println!(
            "{board}: cut after {cut_after_ms} ms: {} pages on disk",
            data.len() / 4096
        );
    }
}
