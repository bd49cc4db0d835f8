//! Boot on each QEMU machine: banner and prompt, `/system resource print`, an unknown command,
//! and `/system shutdown` ending QEMU.

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::golden;
use qemu_tests::session::{Session, PROMPT};

const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

fn boot_to_prompt(board: Board) -> (Session, String) {
    let mut s = Session::boot(board);
    let banner = s.login(BOOT_TIMEOUT);
    (s, banner)
}

fn banner_and_prompt(board: Board) {
    let (s, banner) = boot_to_prompt(board);
    assert!(
        banner.contains("MetaROUTER hypervisor"),
        "no banner in {banner:?}"
    );
    assert!(
        banner.contains(&format!("board {}", board.name())),
        "banner names the wrong board: {banner:?}"
    );
    assert!(!s.transcript().contains("panic"), "{}", s.transcript());
}

fn resource_print(board: Board) {
    let (mut s, _) = boot_to_prompt(board);
    let out = s.command("/system resource print", PROMPT);
    golden::check(&format!("{}-system-resource-print", board.name()), &out);
}

fn unknown_command(board: Board) {
    let (mut s, _) = boot_to_prompt(board);
    let out = s.command("/system frobnicate", PROMPT);
    golden::check(&format!("{}-unknown-command", board.name()), &out);
    let out = s.command("/nosuchmenu print", PROMPT);
    golden::check(&format!("{}-unknown-menu", board.name()), &out);
}

fn shutdown_ends_qemu(board: Board) {
    let (mut s, _) = boot_to_prompt(board);
    s.send_line("/system shutdown");
    s.expect("Shutdown, yes? [y/N]:");
    s.send("y");
    let status = s.wait_exit(Duration::from_secs(20));
    assert!(
        status.success(),
        "QEMU ended with {status}\n{}",
        s.transcript()
    );
}

#[test]
fn malta_banner_and_prompt() {
    banner_and_prompt(Board::QemuMalta);
}

#[test]
fn malta_resource_print() {
    resource_print(Board::QemuMalta);
}

#[test]
fn malta_unknown_command() {
    unknown_command(Board::QemuMalta);
}

#[test]
fn malta_shutdown_ends_qemu() {
    shutdown_ends_qemu(Board::QemuMalta);
}

#[test]
fn ppce500_banner_and_prompt() {
    banner_and_prompt(Board::QemuPpce500);
}

#[test]
fn ppce500_resource_print() {
    resource_print(Board::QemuPpce500);
}

#[test]
fn ppce500_unknown_command() {
    unknown_command(Board::QemuPpce500);
}

#[test]
fn ppce500_shutdown_ends_qemu() {
    shutdown_ends_qemu(Board::QemuPpce500);
}
