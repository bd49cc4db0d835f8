//! Items on the real hypervisor: a machine that cannot run guests refuses `/metarouter add`
//! and keeps nothing (qemu-ppce500), and two fresh boxes make up different MAC addresses
//! (qemu-malta: the box identity comes from the CPU counter at the moment a command runs).

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

#[test]
fn ppce500_metarouter_add_fails_and_keeps_nothing() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.login(BOOT);
    let out = s.command("/metarouter add name=mr1", PROMPT);
    assert!(
        out.contains("failure: cannot start mr1: not supported on this machine"),
        "{out}"
    );
    let out = s.command("/metarouter print", PROMPT);
    assert!(!out.contains("mr1"), "the machine was kept: {out}");
    let out = s.command("/export", PROMPT);
    assert!(!out.contains("/metarouter"), "{out}");
}

/// The guest-side MACs of two guest interfaces on a fresh box.
fn fresh_box_macs() -> Vec<String> {
    let mut s = Session::boot(Board::QemuMalta);
    s.login(BOOT);
    s.command("/metarouter add name=mr1", PROMPT);
    s.command("/metarouter interface add virtual-machine=mr1", PROMPT);
    s.command("/metarouter interface add virtual-machine=mr1", PROMPT);
    let out = s.command("/metarouter interface print", PROMPT);
    let macs: Vec<String> = out
        .split_whitespace()
        .filter(|w| w.len() == 17 && w.matches(':').count() == 5)
        .map(String::from)
        .collect();
    assert_eq!(macs.len(), 2, "{out}");
    macs
}

#[test]
fn malta_two_fresh_boxes_make_different_macs() {
    let (a, b) = (fresh_box_macs(), fresh_box_macs());
    for mac in &a {
        assert!(
            mac.starts_with("02:"),
            "not locally administered unicast: {mac}"
        );
        assert!(!b.contains(mac), "{mac} on both boxes: {a:?} {b:?}");
    }
}
