//! Images: an import archive checked step by step with progress, then booted from; archives
//! that are bad or too big for the disk quota are refused and change nothing; a guest whose
//! image file is gone does not boot and says why.

mod common;

use common::*;
use guest_loader::fuzz::gzip_stored;
use guest_loader::fuzz::samples::{mips_kernel_at, ustar_image};
use vmm::lifecycle::State;
use vmm::{GuestError, GuestId, GuestSpec, ImportStatus};

/// An archive with a kernel linked at 0xC020_0000 and a tree of `tree_bytes` bytes.
fn archive(tree_bytes: usize) -> Vec<u8> {
    let kernel = mips_kernel_at(0xC020_0000, 0x2000, 0x100, 0x100);
    let data = vec![7u8; tree_bytes];
    let tar = ustar_image(&[
        ("./", b'5', "", b""),
        ("./kernel", b'0', "", &kernel),
        ("./big", b'0', "", &data),
    ]);
    gzip_stored(&tar)
}

fn import(m: &mut vmm::Manager<FakeMachine>, id: u8, file: &str) -> Vec<ImportStatus> {
    m.import_start(GuestId(id), file).unwrap();
    let mut seen = Vec::new();
    loop {
        let status = m.import_poll(GuestId(id));
        seen.push(status);
        if !matches!(status, ImportStatus::Working(_)) {
            return seen;
        }
    }
}

#[test]
fn an_imported_image_is_checked_with_progress_then_booted_from() {
    let image = archive(300_000);
    let mut m = manager(Some(store(&[("guest.tgz", &image)])));
    m.define(GuestId(0), &spec("mr1")).unwrap();
    let seen = import(&mut m, 0, "guest.tgz");
    assert_eq!(seen.last(), Some(&ImportStatus::Done));
    let percents: Vec<u8> = seen
        .iter()
        .filter_map(|s| {
            if let ImportStatus::Working(p) = s {
                Some(*p)
            } else {
                None
            }
        })
        .collect();
    assert!(percents.len() >= 4, "several steps: {percents:?}");
    assert!(percents.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(m.status(GuestId(0)).unwrap().used_disk_kib, 293);
    m.start(GuestId(0)).unwrap();
    assert_eq!(
        last_cpu().borrow().entry.pc,
        0xC020_0000,
        "booted from the archive's kernel"
    );
}

#[test]
fn a_bad_archive_is_refused_and_the_guest_keeps_its_image() {
    let mut bad = archive(1000);
    let at = bad.len() - 12;
    bad[at] ^= 0xFF;
    let mut m = manager(Some(store(&[("bad.tgz", &bad)])));
    m.define(GuestId(0), &spec("mr1")).unwrap();
    assert_eq!(
        import(&mut m, 0, "bad.tgz").last(),
        Some(&ImportStatus::Failed(GuestError::BadImage))
    );
    assert!(m.machine().log.borrow()[0].starts_with("mr1: import failed: "));
    m.start(GuestId(0)).unwrap();
    assert_eq!(
        last_cpu().borrow().entry.pc,
        0xC010_0000,
        "still the built-in guest"
    );
}

#[test]
fn an_image_larger_than_the_disk_quota_is_refused() {
    let image = archive(300_000);
    let mut m = manager(Some(store(&[("guest.tgz", &image)])));
    m.define(
        GuestId(0),
        &GuestSpec {
            disk_limit_kib: Some(200),
            ..spec("mr1")
        },
    )
    .unwrap();
    assert_eq!(
        import(&mut m, 0, "guest.tgz").last(),
        Some(&ImportStatus::Failed(GuestError::DiskFull))
    );
    assert_eq!(m.status(GuestId(0)).unwrap().used_disk_kib, 0);
}

#[test]
fn importing_a_file_that_is_not_there_fails_at_once() {
    let mut m = manager(Some(store(&[])));
    m.define(GuestId(0), &spec("mr1")).unwrap();
    assert_eq!(
        m.import_start(GuestId(0), "nope.tgz"),
        Err(GuestError::NoSuchFile)
    );
    assert_eq!(
        m.import_poll(GuestId(0)),
        ImportStatus::Failed(GuestError::WrongState)
    );
}

#[test]
fn a_guest_whose_image_file_is_gone_does_not_boot_and_says_why() {
    let mut m = manager(Some(store(&[])));
    m.define(
        GuestId(0),
        &GuestSpec {
            image: Some("gone.tgz".into()),
            ..spec("mr1")
        },
    )
    .unwrap();
    assert_eq!(m.start(GuestId(0)), Err(GuestError::NoSuchFile));
    let report = m.status(GuestId(0)).unwrap();
    assert_eq!(report.state, State::Stopped);
    assert_eq!(
        report.last_message.as_deref(),
        Some("cannot boot: image file gone.tgz is not in the file store")
    );
    assert_eq!(
        m.machine().log.borrow().as_slice(),
        ["mr1: cannot boot: image file gone.tgz is not in the file store"]
    );
    assert_eq!(
        m.machine().ram.free_bytes(),
        60 * MIB,
        "the partition went back"
    );
}

#[test]
fn a_kernel_that_does_not_fit_the_guests_ram_is_refused() {
    let mut m = manager(None);
    // The built-in kernel links at 0xC010_0000: a 1 MiB guest cannot hold it.
    m.define(
        GuestId(0),
        &GuestSpec {
            memory_mib: 1,
            ..spec("tiny")
        },
    )
    .unwrap();
    assert_eq!(m.start(GuestId(0)), Err(GuestError::BadImage));
    let why = m.status(GuestId(0)).unwrap().last_message.unwrap();
    assert!(why.starts_with("cannot boot: kernel: segment 0"), "{why}");
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB);
}
