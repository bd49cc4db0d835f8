//! Persistence through the whole stack: the saved configuration survives a simulated reboot, a
//! power cut at every flash erase/program step of a save leaves the old or the new
//! configuration, and a corrupt store is reported while the box still comes up.

use mgmt::MemFlash;
use sim::board::{SimBoard, FLASH_BLOCK};
use sim::driver::{Sim, SimOptions};

const SETUP: &[&str] = &[
    "/system identity set name=Box",
    "/interface bridge add name=lan",
    "/metarouter add name=mr0 memory-size=32",
    "/metarouter interface add virtual-machine=mr0 dynamic-bridge=lan",
    "/ip address add address=10.0.0.1/24 interface=lan",
    "/user set admin password=pw",
];
const CHANGE: &str = "/interface bridge port add interface=ether3 bridge=lan horizon=2\r";

fn configured() -> Sim {
    let mut sim = Sim::new(SimOptions::default());
    for line in SETUP {
        sim.replay_line(format!("{line}\r").as_bytes());
    }
    sim
}

/// Boots a fresh board whose flash holds `flash`, returns the loaded configuration and output.
fn boot_from(flash: &MemFlash) -> (String, String) {
    let mut board = SimBoard::new(5);
    board.flash = MemFlash::from_bytes(FLASH_BLOCK, flash.bytes().to_vec());
    let sim = Sim::with_board(SimOptions::default(), board);
    let out = String::from_utf8_lossy(&sim.out.0).into_owned();
    (sim.shell.saved_configuration(), out)
}

#[test]
fn configuration_survives_reboot() {
    let sim = configured();
    let saved = sim.shell.saved_configuration();
    assert!(saved.contains("set name=Box") && saved.contains("password-hash="));
    let (loaded, out) = boot_from(&sim.board.flash);
    assert_eq!(loaded, saved);
    assert!(
        !out.contains("configuration"),
        "unexpected boot message: {out}"
    );
}

#[test]
fn power_cut_at_every_step_keeps_old_or_new() {
    let mut probe = configured();
    let old = probe.shell.saved_configuration();
    let before = probe.board.flash.steps();
    probe.replay_line(CHANGE.as_bytes());
    let new = probe.shell.saved_configuration();
    let steps = probe.board.flash.steps() - before;
    assert_ne!(old, new);
    assert!(
        steps >= 3,
        "a save takes erase + program steps, saw {steps}"
    );
    let (mut saw_old, mut saw_new) = (false, false);
    for cut in 0..steps {
        let mut sim = configured();
        sim.board.flash.cut_power_at(cut);
        sim.replay_line(CHANGE.as_bytes());
        let out = String::from_utf8_lossy(&sim.out.0).into_owned();
        assert!(
            out.contains("configuration not saved"),
            "cut {cut}: save failure not reported"
        );
        sim.board.flash.power_on();
        let (loaded, _) = boot_from(&sim.board.flash);
        assert!(
            loaded == old || loaded == new,
            "cut at step {cut} of {steps}: loaded\n{loaded}"
        );
        saw_old |= loaded == old;
        saw_new |= loaded == new;
    }
    assert!(saw_old, "some cut must leave the old configuration");
    // The header is programmed last, so a cut during any step keeps the old one.
    assert!(!saw_new);
    // And a save that completes gives the new one.
    let (loaded, _) = boot_from(&probe.board.flash);
    assert_eq!(loaded, new);
}

#[test]
fn corrupt_store_is_reported_and_box_comes_up() {
    let sim = configured();
    let mut flash = sim.board.flash.clone();
    // Flip a bit in every copy's payload.
    let half = flash.bytes().len() / 2;
    flash.bytes_mut()[30] ^= 0x04;
    flash.bytes_mut()[half + 30] ^= 0x04;
    let (loaded, out) = boot_from(&flash);
    assert!(out.contains("saved configuration is corrupt"), "{out}");
    assert!(
        out.contains("[admin@MikroTik] > "),
        "the box must still come up: {out}"
    );
    let default = Sim::new(SimOptions::default()).shell.saved_configuration();
    assert_eq!(loaded, default);
}

#[test]
fn damaged_newer_copy_falls_back_to_older() {
    let mut sim = configured();
    let older = sim.shell.saved_configuration();
    sim.replay_line(CHANGE.as_bytes());
    let mut flash = sim.board.flash.clone();
    // Damage the newest copy: find the half that holds it by loading with each half damaged.
    let half = flash.bytes().len() / 2;
    let newest_half = {
        let (loaded_a, _) = {
            let mut f = flash.clone();
            f.bytes_mut()[30] ^= 0x01;
            boot_from(&f)
        };
        if loaded_a == older {
            0
        } else {
            half
        }
    };
    flash.bytes_mut()[newest_half + 30] ^= 0x01;
    let (loaded, out) = boot_from(&flash);
    assert_eq!(loaded, older);
    assert!(out.contains("ignored a damaged copy"), "{out}");
}

#[test]
fn imported_image_survives_reboot_but_is_never_exported() {
    let mut sim = configured();
    sim.replay_line(b"/metarouter import-image file-name=openwrt-mr-mips-rootfs.tgz name=owrt\r");
    let out = String::from_utf8_lossy(&sim.out.0).into_owned();
    assert!(out.contains("imported: 100%"), "{out}");
    let saved = sim.shell.saved_configuration();
    assert!(
        saved.contains("/metarouter\nset owrt image-file=openwrt-mr-mips-rootfs.tgz\n"),
        "{saved}"
    );
    // A machine added without an image has none to remember.
    assert!(!saved.contains("set mr0 image-file"), "{saved}");
    sim.replay_line(b"/export\r");
    let out = String::from_utf8_lossy(&sim.out.0).into_owned();
    assert!(!out.contains("image-file"), "export shows the image file:\n{out}");
    let (loaded, _) = boot_from(&sim.board.flash);
    assert_eq!(loaded, saved);
}
