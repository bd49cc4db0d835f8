//! Guests on qemu-malta: the built-in guest, imported images, console attach, life-cycle
//! states, networking between guests through the switch, and isolation.

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

/// Boot malta with the sample guests' archives in the file store, and log in.
fn boot_with_guests(memory_mib: u32) -> Session {
    let built = guests::build_once().expect("building the guests");
    let dir = std::env::temp_dir().join(format!("mr-guests-{}", std::process::id()));
    let store = dir.join("files.bin");
    let archives: Vec<_> = guests::NAMES.iter().map(|n| built.archive(n)).collect();
    build_store(&archives, &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.files = Some(store);
        c.memory_mib = memory_mib;
    });
    s.login(BOOT);
    s
}

/// Run `line` at the prompt and return its output.
fn cmd(s: &mut Session, line: &str) -> String {
    s.command(line, PROMPT)
}

/// Attach to `vm`'s console, type `line`, wait for `until`, detach.
fn on_console(s: &mut Session, vm: &str, line: &str, until: &str, timeout: Duration) -> String {
    s.send_line(&format!("/metarouter console {vm}"));
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line(line);
    let out = s.expect_within(until, timeout);
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    out
}

#[test]
fn two_netguests_ping_in_one_bridge() {
    let mut s = boot_with_guests(256);
    cmd(&mut s, "/interface bridge add name=br1");
    cmd(&mut s, "/metarouter import-image file-name=netguest.tgz name=n1");
    cmd(&mut s, "/metarouter import-image file-name=netguest.tgz name=n2");
    cmd(&mut s, "/metarouter interface add virtual-machine=n1 dynamic-bridge=br1");
    cmd(&mut s, "/metarouter interface add virtual-machine=n2 dynamic-bridge=br1");
    let print = cmd(&mut s, "/metarouter print");
    println!("{print}");
    on_console(&mut s, "n1", "ip 10.0.0.1/24", "netguest> ", Duration::from_secs(10));
    on_console(&mut s, "n2", "ip 10.0.0.2/24", "netguest> ", Duration::from_secs(10));
    let out = on_console(&mut s, "n2", "ping 10.0.0.1 3", "packet-loss", Duration::from_secs(20));
    println!("{}", s.transcript());
    assert!(out.contains("received=3"), "{out}");
}

