//! The metafs budgets measured on qemu-malta and qemu-ppce500: a guest's 4 KiB page reads and writes (hello's
//! `disk-bench`, one request at a time as MikroTik's driver makes them) under `-icount
//! shift=0`, where the guest's clock counts instructions (one per nanosecond), so a request's
//! time is the instructions the machine ran for it: the guest's client, the trap, the
//! hypervisor's metafs server and file store, and the disk driver (malta: the IDE driver's port
//! I/O; ppce500: the virtio requests).
//!
//! Figures are printed (`-- --nocapture`).

#[path = "disk/common.rs"]
mod common;

use std::time::Duration;

use common::*;
use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const PAGES: u64 = 256;

/// `disk-bench`'s milliseconds for the writes and the reads.
fn bench_ms(line: &str) -> (u64, u64) {
    let number_before = |marker: &str| -> u64 {
        let at = line
            .find(marker)
            .unwrap_or_else(|| panic!("{marker:?} in {line:?}"));
        line[..at]
            .trim_end()
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a number before {marker:?} in {line:?}"))
    };
    let written = number_before(" ms (");
    let read_part = &line[line.find("read in").expect("read in")..];
    let read: u64 = read_part["read in ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("read ms");
    (written, read)
}

#[test]
fn figures_metafs_instructions_per_4_kib_request_under_icount() {
    let built = guests::build_once().expect("building the guests");
    measure(
        Board::QemuMalta,
        built.archive("hello"),
        "/metarouter import-image file-name=hello.tgz name=h1",
    );
}

/// The same on qemu-ppce500: an e500 guest, the virtio disk.
#[test]
fn figures_metafs_instructions_per_4_kib_request_under_icount_on_ppce500() {
    let built = guests::build_e500_sdk_once().expect("building the e500 guests");
    measure(
        Board::QemuPpce500,
        built.e500_archive("hello"),
        "/metarouter import-image file-name=hello-ppc.tgz name=h1 memory-size=32",
    );
}

fn measure(board: Board, archive: std::path::PathBuf, import: &str) {
    let disk = Disk::on(board, &format!("icount-{board}"));
    let files = disk.dir.join("files.bin");
    build_store(&[archive], &files).expect("packing the file store");
    let mut s = Session::boot_with(board, |c| {
        c.disk = Some(disk.image.clone());
        c.files = Some(files.clone());
        c.extra = vec!["-icount".into(), "shift=0".into()];
    });
    s.expect_within("copied in", BOOT);
    s.login(BOOT);
    cmd(&mut s, import);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !cmd(&mut s, "/metarouter print detail").contains("state=running") {
        assert!(std::time::Instant::now() < deadline, "h1 does not run");
        std::thread::sleep(Duration::from_millis(300));
    }
    s.send_line("/metarouter console h1");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line(&format!("disk-bench {PAGES}"));
    s.expect_within("disk-bench: ", Duration::from_secs(120));
    let line = s.expect_within("\n", Duration::from_secs(5));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    shutdown(&mut s);
    let (written, read) = bench_ms(&line);
    assert!(written > 0 && read > 0, "{line}");
    // 1 ms of the guest's clock = 1,000,000 instructions.
    let per = |ms: u64| ms * 1_000_000 / PAGES;
    println!("{board}, disk-bench under -icount shift=0: {}", line.trim());
    println!(
        "{board}, instructions per 4 KiB request (guest + hypervisor + disk driver): write {}, read {}",
        per(written),
        per(read)
    );
}
