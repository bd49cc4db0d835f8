//! The host's own IP on qemu-malta, with netguest guests as the peers: the seed's example
//! (`/ip address add address=10.0.1.1/24 interface=vif1`, a guest at 10.0.1.2 on its vif) in
//! both directions, the same through a bridge with the host's address on it, and the ARP
//! table afterwards.

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

fn boot_with_guests() -> Session {
    let built = guests::build_once().expect("building the guests");
    let dir = std::env::temp_dir().join(format!("mr-hostip-{}", std::process::id()));
    let store = dir.join("files.bin");
    let archives: Vec<_> = guests::NAMES.iter().map(|n| built.archive(n)).collect();
    build_store(&archives, &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.files = Some(store);
        c.memory_mib = 256;
    });
    s.login(BOOT);
    s
}

fn cmd(s: &mut Session, line: &str) -> String {
    s.command(line, PROMPT)
}

#[test]
fn the_host_and_guests_ping_each_other_on_a_vif_and_through_a_bridge() {
    let mut s = boot_with_guests();
    // n1 on its own vif1 (the seed's example); n2 on vif2 in br1, the host's address on br1.
    cmd(&mut s, "/interface bridge add name=br1");
    cmd(
        &mut s,
        "/metarouter import-image file-name=netguest.tgz name=n1",
    );
    cmd(
        &mut s,
        "/metarouter interface add virtual-machine=n1 type=dynamic",
    );
    cmd(
        &mut s,
        "/metarouter import-image file-name=netguest.tgz name=n2",
    );
    cmd(
        &mut s,
        "/metarouter interface add virtual-machine=n2 dynamic-bridge=br1",
    );
    cmd(&mut s, "/ip address add address=10.0.1.1/24 interface=vif1");
    cmd(&mut s, "/ip address add address=10.0.2.1/24 interface=br1");
    for (vm, address) in [("n1", "10.0.1.2/24"), ("n2", "10.0.2.2/24")] {
        s.wait_running(vm);
        s.on_console(
            vm,
            &format!("ip {address}"),
            &format!("address={address}"),
            Duration::from_secs(10),
        );
    }

    let out = cmd(&mut s, "/ping 10.0.1.2 count=3");
    println!("{out}");
    assert!(out.contains("  SEQ HOST"), "{out}");
    assert!(
        out.contains("sent=3 received=3 packet-loss=0%"),
        "{out}\n{}",
        s.transcript()
    );
    assert!(out.contains("min-rtt="), "{out}");

    let out = s.on_console(
        "n1",
        "ping 10.0.1.1 3",
        "packet-loss",
        Duration::from_secs(20),
    );
    assert!(out.contains("received=3"), "{out}\n{}", s.transcript());

    let out = cmd(&mut s, "/ping 10.0.2.2 count=3 interval=200ms");
    println!("{out}");
    assert!(
        out.contains("sent=3 received=3"),
        "{out}\n{}",
        s.transcript()
    );
    let out = s.on_console(
        "n2",
        "ping 10.0.2.1 3",
        "packet-loss",
        Duration::from_secs(20),
    );
    assert!(out.contains("received=3"), "{out}\n{}", s.transcript());

    // Nobody at 10.0.1.9: the rows say timeout, the ARP entry stays incomplete.
    let out = cmd(&mut s, "/ping 10.0.1.9 count=2");
    assert!(out.contains("timeout"), "{out}");
    assert!(out.contains("sent=2 received=0 packet-loss=100%"), "{out}");

    let arp = cmd(&mut s, "/ip arp print");
    println!("{arp}");
    for (address, iface) in [("10.0.1.2", "vif1"), ("10.0.2.2", "br1")] {
        let line = arp
            .lines()
            .find(|l| l.contains(&format!(" {address} ")))
            .unwrap_or_else(|| panic!("{address} not in /ip arp print:\n{arp}"));
        assert!(line.contains("DC"), "{line}");
        assert!(line.contains(iface), "{line}");
    }
    assert!(arp.contains("10.0.1.9"), "{arp}");

    // A ping running can be stopped with Ctrl-C; the console goes on.
    s.send_line("/ping 10.0.1.2");
    s.expect_within("    1 10.0.1.2", Duration::from_secs(10));
    s.send("\x03");
    let out = s.expect_within(PROMPT, Duration::from_secs(10));
    assert!(out.contains("sent="), "{out}");
    let out = cmd(&mut s, "/system resource print");
    assert!(out.contains("uptime"), "{out}");
}
