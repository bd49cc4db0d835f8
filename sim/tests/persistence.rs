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
    // A new generation (snapshot) in the other half; the change goes into its journal.
    sim.shell.compact_configuration(&mut sim.board);
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
    let owrt = sim.shell.config().vm_by_name("owrt").expect("owrt").id;
    assert!(
        saved.contains(&format!(
            "\nset *{owrt:X} image-file=openwrt-mr-mips-rootfs.tgz\n"
        )),
        "{saved}"
    );
    // A machine added without an image has none to remember.
    assert_eq!(saved.matches("image-file").count(), 1, "{saved}");
    sim.replay_line(b"/export\r");
    let out = String::from_utf8_lossy(&sim.out.0).into_owned();
    assert!(
        !out.contains("image-file"),
        "export shows the image file:\n{out}"
    );
    let (loaded, _) = boot_from(&sim.board.flash);
    assert_eq!(loaded, saved);
}

/// Flash bytes that hold data (not erased).
fn used_bytes(flash: &MemFlash) -> usize {
    flash.bytes().iter().filter(|&&b| b != 0xFF).count()
}

/// A change costs one small journal record, whatever the size of the configuration.
#[test]
fn a_change_is_one_small_record_whatever_the_configuration_size() {
    let mut sim = configured();
    let mut record_bytes = Vec::new();
    for round in 0..3 {
        let before = used_bytes(&sim.board.flash);
        let steps = sim.board.flash.steps();
        sim.replay_line(
            format!("/ip route add dst-address=10.99.{round}.0/24 gateway=10.0.0.2\r").as_bytes(),
        );
        record_bytes.push(used_bytes(&sim.board.flash) - before);
        // Header, payload, trailer: three programs, no erase.
        assert!(sim.board.flash.steps() - steps <= 4, "round {round}");
        for i in 0..500 {
            sim.replay_line(
                format!(
                    "/ip route add dst-address=172.{round}.{}.{}/32 gateway=10.0.0.2\r",
                    i / 256,
                    i % 256
                )
                .as_bytes(),
            );
        }
    }
    for bytes in &record_bytes {
        assert!(*bytes < 160, "a route add wrote {bytes} bytes");
    }
    let spread = record_bytes.iter().max().unwrap() - record_bytes.iter().min().unwrap();
    assert!(spread <= 8, "{record_bytes:?}");
}

/// Every kind of change, saved as journal records, comes back after a reboot exactly.
#[test]
fn the_journal_replays_to_the_same_configuration() {
    let mut sim = configured();
    for line in [
        "/routing table add name=vpn fib",
        "/ip route add dst-address=10.1.0.0/16 gateway=10.0.0.2 comment=\"to b\"",
        "/ip route add dst-address=10.2.0.0/16 gateway=10.0.0.3 routing-table=vpn",
        "/ip route add dst-address=10.3.0.0/16 gateway=10.0.0.4 disabled=yes",
        "/ip route set [find comment=\"to b\"] distance=7",
        "/ip route remove [find dst-address=10.3.0.0/16]",
        "/ipv6 address add address=2001:db8::1/64 interface=ether2",
        "/ipv6 route add dst-address=2001:db8:9::/48 gateway=2001:db8::2",
        "/routing rule add src-address=10.9.0.0/16 action=lookup table=vpn",
        "/interface bridge add name=br2",
        "/ip address add address=10.7.0.1/24 interface=br2",
        "/interface bridge remove br2",
        "/interface ethernet set ether2 mtu=1400 comment=uplink",
        "/interface ethernet set ether2 mtu=1500",
        "/user add name=ops group=write password=secret",
        "/system identity set name=Router2",
        "/routing table set vpn name=vpn2",
    ] {
        sim.out.0.clear();
        sim.replay_line(format!("{line}\r").as_bytes());
        let out = String::from_utf8_lossy(&sim.out.0).into_owned();
        assert!(
            !out.contains("failure") && !out.contains("bad") && !out.contains("expected"),
            "{line}: {out}"
        );
    }
    let saved = sim.shell.saved_configuration();
    let (loaded, out) = boot_from(&sim.board.flash);
    assert_eq!(loaded, saved);
    assert!(
        !out.contains("configuration"),
        "unexpected boot message: {out}"
    );
}

/// A journal that has grown past its snapshot is folded into a new snapshot while the console
/// is idle, and the configuration stays the same.
#[test]
fn an_idle_console_folds_a_long_journal_into_a_snapshot() {
    let mut sim = configured();
    for i in 0..1200 {
        sim.input(
            format!(
                "/ip route add dst-address=172.16.{}.{}/32 gateway=10.0.0.2\r",
                i / 256,
                i % 256
            )
            .as_bytes(),
        );
    }
    let saved = sim.shell.saved_configuration();
    let erases_before = used_bytes(&sim.board.flash);
    sim.advance(1000);
    // The old generation's half stays until the next compaction: more bytes are in use now,
    // and a fresh boot reads the new snapshot with an empty journal.
    assert!(used_bytes(&sim.board.flash) > erases_before);
    let (loaded, _) = boot_from(&sim.board.flash);
    assert_eq!(loaded, saved);
    let mut flash = sim.board.flash.clone();
    let (store, _) = mgmt::store::ConfigStore::load(&mut flash);
    let (snapshot, journal) = store.sizes();
    assert_eq!(journal, 0, "snapshot {snapshot}");
}
