//! Files over the serial console with lrzsz's real `sz` and `rz` (Debian's `lrzsz`, which
//! `tools/ensure-toolchain.sh` installs), connected to qemu-malta's console as a terminal
//! program connects them: `/file receive` takes a file `sz` sends into the file store,
//! `/file send` gives one to `rz`, byte for byte both ways (on qemu-ppce500 too); a file larger than the store's
//! free space is refused before any data moves; a transfer cancelled half-way (`sz`
//! interrupted) leaves nothing, neither in `/file print` nor in the store on the disk image; Ctrl-C on the
//! box while it waits for a sender gets the prompt back; a power cut in the middle of a
//! transfer leaves nothing after the next boot. The same with YMODEM (`protocol=ymodem`) and
//! lrzsz's `sb` and `rb`: a file holding every byte value in and out, compared byte for byte,
//! and an oversized and a cancelled transfer that leave nothing.
//!
//! Figures are printed (`-- --nocapture`): the closing lines with each transfer's rate.

#[path = "disk/common.rs"]
mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use filestore::{AreaId, ROOT_INO};
use qemu_tests::boards::Board;
use qemu_tests::session::PROMPT;

const TRANSFER: Duration = Duration::from_secs(120);

fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{name}` is missing: install Debian's lrzsz (tools/ensure-toolchain.sh does)"
    );
    Command::new(name)
}

#[test]
fn sz_to_the_store_and_back_with_rz() {
    round_trip(Board::QemuMalta, "zmodem");
}

/// The same on qemu-ppce500, whose store is on its virtio disk.
#[test]
fn sz_to_the_store_and_back_with_rz_on_ppce500() {
    round_trip(Board::QemuPpce500, "zmodem-ppce500");
}

fn round_trip(board: Board, tag: &str) {
    let disk = Disk::on(board, tag);
    let data = pattern(400_000, 11);
    disk.file("data.bin", &data);
    let mut s = disk.boot(&[]);
    s.login(BOOT);

    s.send_line("/file receive");
    s.expect("start the sender now (sz FILE); Ctrl-C cancels");
    let mut sz = tool("sz");
    sz.current_dir(&disk.dir).arg("data.bin");
    let (status, errors) = s.relay(sz, TRANSFER);
    assert!(status.success(), "sz failed: {errors}");
    let closing = s.expect(PROMPT);
    println!("{closing}");
    assert!(
        closing.contains("received: data.bin 390.6KiB in"),
        "{closing}"
    );
    let list = cmd(&mut s, "/file print");
    assert!(
        list.contains("data.bin") && list.contains("390.6KiB"),
        "{list}"
    );
    assert!(!list.contains(".receiving"), "{list}");

    let back = disk.dir.join("back");
    std::fs::create_dir_all(&back).unwrap();
    s.send_line("/file send data.bin");
    s.expect("start the receiver now (rz); Ctrl-C cancels");
    let mut rz = tool("rz");
    rz.current_dir(&back);
    let (status, errors) = s.relay(rz, TRANSFER);
    assert!(status.success(), "rz failed: {errors}");
    let closing = s.expect(PROMPT);
    println!("{closing}");
    assert!(closing.contains("sent: data.bin 390.6KiB in"), "{closing}");
    let got = std::fs::read(back.join("data.bin")).expect("rz wrote no file");
    assert!(got == data, "the file came back different");

    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(
        host_file(&mut store, "data.bin").as_deref(),
        Some(&data[..])
    );
}

/// Every byte value (YMODEM passes them raw: Ctrl-C, XON, XOFF, SOH ... in the data), then a
/// pattern.
fn every_byte(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..=255u8).cycle().take(8192).collect();
    data.extend(pattern(len - data.len(), 14));
    data
}

#[test]
fn sb_to_the_store_and_back_with_rb() {
    let disk = Disk::new("ymodem");
    let data = every_byte(300_001);
    disk.file("all.bin", &data);
    let mut s = disk.boot(&[]);
    s.login(BOOT);

    s.send_line("/file receive protocol=ymodem");
    s.expect("start the sender now (sb FILE); Ctrl-C cancels");
    let mut sb = tool("sb");
    sb.current_dir(&disk.dir).args(["-k", "all.bin"]);
    let (status, errors) = s.relay(sb, TRANSFER);
    assert!(status.success(), "sb failed: {errors}");
    let closing = s.expect(PROMPT);
    println!("{closing}");
    assert!(
        closing.contains("received: all.bin 292.9KiB in"),
        "{closing}"
    );
    let list = cmd(&mut s, "/file print");
    assert!(
        list.contains("all.bin") && list.contains("292.9KiB"),
        "{list}"
    );

    let back = disk.dir.join("back");
    std::fs::create_dir_all(&back).unwrap();
    s.send_line("/file send all.bin protocol=ymodem");
    s.expect("start the receiver now (rb); Ctrl-C cancels");
    let mut rb = tool("rb");
    rb.current_dir(&back);
    let (status, errors) = s.relay(rb, TRANSFER);
    assert!(status.success(), "rb failed: {errors}");
    let closing = s.expect(PROMPT);
    println!("{closing}");
    assert!(closing.contains("sent: all.bin 292.9KiB in"), "{closing}");
    let got = std::fs::read(back.join("all.bin")).expect("rb wrote no file");
    assert!(got == data, "the file came back different");

    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(host_file(&mut store, "all.bin").as_deref(), Some(&data[..]));
}

/// How one protocol's transfers are started in [`oversized_and_cancelled`].
struct Protocol {
    /// The box's receive command.
    receive: &'static str,
    /// The sender program and its arguments before the file name.
    sender: &'static [&'static str],
    /// Whether the sender exits with failure when the box refuses the offer (sb does: YMODEM
    /// can only cancel the batch).
    refusal_fails_sender: bool,
    /// Seconds before the sender of the big file is interrupted (half-way through it).
    interrupt_after: &'static str,
    /// The disk's name and the big file's contents.
    disk: &'static str,
    big: fn() -> Vec<u8>,
}

#[test]
fn oversized_and_cancelled_ymodem_transfers_leave_nothing() {
    oversized_and_cancelled(&Protocol {
        receive: "/file receive protocol=ymodem",
        sender: &["sb", "-k"],
        refusal_fails_sender: true,
        interrupt_after: "2",
        disk: "ymodem-abort",
        big: || every_byte(1 << 20),
    });
}

#[test]
fn oversized_and_cancelled_transfers_leave_nothing() {
    oversized_and_cancelled(&Protocol {
        receive: "/file receive",
        sender: &["sz"],
        refusal_fails_sender: false,
        interrupt_after: "1",
        disk: "zmodem-abort",
        big: || pattern(1 << 20, 12),
    });
}

/// An offer larger than the 64 MiB disk is refused, a sender interrupted half-way (SIGTERM: a
/// background program ignores SIGINT; lrzsz answers both, as Ctrl-C, with its cancel, ten
/// CANs) and Ctrl-C on the box while it waits each end the transfer, and nothing of either
/// file is left, in `/file print` or in the store's receiving directory.
fn oversized_and_cancelled(p: &Protocol) {
    let disk = Disk::new(p.disk);
    // Larger than the disk (sparse on the host).
    let huge = std::fs::File::create(disk.dir.join("huge.bin")).unwrap();
    huge.set_len(80 << 20).unwrap();
    drop(huge);
    disk.file("big.bin", &(p.big)());
    let mut s = disk.boot(&[]);
    s.login(BOOT);

    s.send_line(p.receive);
    s.expect("Ctrl-C cancels");
    let mut sender = tool(p.sender[0]);
    sender
        .current_dir(&disk.dir)
        .args(&p.sender[1..])
        .arg("huge.bin");
    let (status, errors) = s.relay(sender, TRANSFER);
    if p.refusal_fails_sender {
        assert!(
            !status.success(),
            "the sender did not see the refusal: {errors}"
        );
    }
    let closing = s.expect(PROMPT);
    assert!(
        closing.contains("failure: huge.bin (80.0MiB): not enough free space on the disk"),
        "{closing}\n{errors}"
    );

    s.send_line(p.receive);
    s.expect("Ctrl-C cancels");
    let mut sender = tool("timeout");
    sender
        .current_dir(&disk.dir)
        .args(["-s", "TERM", p.interrupt_after])
        .args(p.sender)
        .arg("big.bin");
    let (status, errors) = s.relay(sender, TRANSFER);
    assert!(
        !status.success(),
        "the sender was not interrupted: {errors}"
    );
    let closing = s.expect(PROMPT);
    println!("{closing}");
    assert!(
        closing.contains("failure: transfer cancelled by the other side"),
        "{closing}\n{errors}"
    );

    s.send_line(p.receive);
    s.expect("Ctrl-C cancels");
    s.send_bytes(b"\x03");
    let closing = s.expect(PROMPT);
    assert!(
        closing.contains("failure: transfer interrupted"),
        "{closing}"
    );

    let list = cmd(&mut s, "/file print");
    assert!(
        !list.contains("big.bin") && !list.contains("huge.bin"),
        "{list}"
    );
    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(host_file(&mut store, "big.bin"), None);
    let dir = store
        .lookup(AreaId::HOST, ROOT_INO, b".receiving")
        .expect("the receiving directory");
    let mut left = Vec::new();
    store
        .readdir(AreaId::HOST, dir.ino, 2, &mut |e| {
            left.push(String::from_utf8_lossy(&e.name).into_owned());
            true
        })
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_power_cut_during_a_transfer_leaves_nothing_after_the_next_boot() {
    let disk = Disk::new("zmodem-cut");
    disk.file("big.bin", &pattern(1 << 20, 13));
    let mut s = disk.boot(&[]);
    s.login(BOOT);
    s.send_line("/file receive");
    s.expect("Ctrl-C cancels");
    // sz dies without a word after three seconds; the box is still receiving when the power
    // goes.
    let mut sz = tool("timeout");
    sz.current_dir(&disk.dir)
        .args(["-s", "KILL", "3", "sz", "big.bin"]);
    let (status, _) = s.relay(sz, TRANSFER);
    assert!(!status.success(), "sz was not killed");
    s.power_cut();

    let mut s = disk.boot(&[]);
    s.expect_within("disk: 1 unfinished received files removed", BOOT);
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(!list.contains("big.bin"), "{list}");
    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(host_file(&mut store, "big.bin"), None);
}
