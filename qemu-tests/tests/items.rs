//! Items on the real hypervisor: two fresh boxes make up different MAC addresses (qemu-malta:
//! the box identity comes from the CPU counter at the moment a command runs).

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

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
