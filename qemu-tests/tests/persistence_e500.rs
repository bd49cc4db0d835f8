//! Persistence on qemu-ppce500: the configuration lives in the 512 KiB CFI flash QEMU puts at
//! the start of the platform bus (`-drive if=pflash`, a raw image in a temporary directory;
//! `./x run` keeps it in `target/qemu/`). The same store as malta's (two halves, snapshot and
//! journal; `persistence.rs` tests its format, power cuts and damage on malta): here that it is
//! wired on the e500 board. A guest defined on the box, a bridge, an address and the routing
//! settings survive `/system reboot`; a power cut right after a change boots with the old or the
//! new configuration, nothing else.

use std::path::PathBuf;
use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::qemu::{ensure_flash_image, PPCE500_FLASH_SIZE};
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

/// A flash image in a directory of its own, removed when dropped.
struct Flash {
    dir: PathBuf,
    path: PathBuf,
}

impl Flash {
    fn erased() -> Flash {
        let dir = std::env::temp_dir().join(format!(
            "qemu-tests-persistence-e500-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("flash.img");
        ensure_flash_image(&path, PPCE500_FLASH_SIZE).unwrap_or_else(|e| panic!("{e}"));
        Flash { dir, path }
    }

    fn boot(&self) -> Session {
        Session::boot_with(Board::QemuPpce500, |c| c.flash = Some(self.path.clone()))
    }

    fn erased_bytes(&self) -> usize {
        let bytes = std::fs::read(&self.path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            bytes.len() as u64,
            PPCE500_FLASH_SIZE,
            "QEMU resized the image"
        );
        bytes.iter().filter(|&&b| b == 0xFF).count()
    }
}

impl Drop for Flash {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const ROUTER1: &str = "[admin@router1] > ";

fn configure(s: &mut Session, line: &str, prompt: &str) {
    let out = s.command(line, prompt);
    assert!(
        out.is_empty(),
        "{line:?} printed {out:?}\n{}",
        s.transcript()
    );
}

#[test]
fn ppce500_configuration_survives_reboot_and_power_cut() {
    let flash = Flash::erased();
    let mut s = flash.boot();
    let boot = s.login(BOOT);
    assert!(
        !boot.contains("configuration:"),
        "an erased flash is not a corrupt configuration: {boot}"
    );
    for line in [
        "/interface bridge add name=br-lan",
        "/metarouter add name=vm1 memory-size=32 disabled=yes",
        "/ip address add address=192.168.88.1/24 interface=br-lan",
        "/ip settings set icmp-rate-limit=50",
    ] {
        configure(&mut s, line, PROMPT);
    }
    configure(&mut s, "/system identity set name=router1", ROUTER1);
    let before = s.command("/export", ROUTER1);
    assert!(before.contains("name=vm1"), "{before}");
    s.send_line("/system reboot");
    s.expect("Reboot, yes? [y/N]:");
    s.send("y");
    s.expect("Rebooting...");
    assert!(s.wait_exit(Duration::from_secs(20)).success());
    drop(s);
    let written = PPCE500_FLASH_SIZE as usize - flash.erased_bytes();
    assert!(written > 0, "nothing was written to the flash");
    println!("ppce500: the store holds the configuration in {written} programmed bytes");

    let mut s = flash.boot();
    let boot = s.login_as("admin", "", ROUTER1, BOOT);
    assert!(!boot.contains("configuration:"), "{boot}");
    assert_eq!(s.command("/export", ROUTER1), before, "{}", s.transcript());

    // A change, and the power cut at once: the old configuration or the new one.
    s.send_line("/interface bridge add name=br-late");
    s.power_cut();
    drop(s);
    let mut s = flash.boot();
    s.login_as("admin", "", ROUTER1, BOOT);
    let after = s.command("/export", ROUTER1);
    let old = after == before;
    let new = after.contains("add name=br-late")
        && after
            .lines()
            .filter(|l| !l.contains("br-late"))
            .eq(before.lines());
    assert!(
        old || new,
        "neither the old nor the new configuration:\n{after}\nbefore:\n{before}"
    );
    let kept = if new { "kept" } else { "lost whole" };
    println!("ppce500: after the power cut the change was {kept}");
}
