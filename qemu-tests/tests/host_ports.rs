//! The host's own IP on the Ethernet ports of qemu-malta (and, for the first test, of
//! qemu-ppce500's eTSECs), with real peers: Linux network namespaces holding the host end of
//! the tap each port is plugged into (made by the test,
//! removed when it ends, also on failure; needs root, as CI runs).
//!
//! - ether1 in no bridge with `/ip address` and `/ipv6 address`: a namespace pings the host,
//!   the host `/ping`s the namespace, over IPv4 and IPv6, and the tables list the peer.
//! - The MetaROUTER manual's WISP example: ether2 and a guest's vif in `bridge1`; a namespace on
//!   ether2 (the customer) reaches that guest (`netguest`: ping and UDP echo), the host reaches
//!   a guest over `vif1` at 10.0.1.1/24; and with an address on `bridge1` the host and the
//!   customer ping each other through the bridge. (`netguest` has an address on its first
//!   interface only, so the manual's one guest with two interfaces is two guests here: the host
//!   side of each is as in the manual.)

use std::path::PathBuf;
use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::netlab::{ping, run_for, NetLab};
use qemu_tests::qemu::Nic;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);
const SETUP: &str = "creating taps and network namespaces (the test needs root and iproute2)";

/// `/ping to count=3` from the host: all three answered.
fn host_pings(s: &mut Session, to: &str) {
    let out = s.command(&format!("/ping {to} count=3"), PROMPT);
    println!("{out}");
    assert!(
        out.contains("sent=3 received=3 packet-loss=0%"),
        "{out}\n{}",
        s.transcript()
    );
}

/// The line of `table` that lists `address`, which must also name `iface`.
fn row<'a>(table: &'a str, address: &str, iface: &str) -> &'a str {
    let line = table
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == address))
        .unwrap_or_else(|| panic!("{address} not listed:\n{table}"));
    assert!(line.contains(iface), "{line}");
    line
}

#[test]
fn malta_a_namespace_on_ether1_and_the_hosts_address_there_ping_each_other_v4_and_v6() {
    host_address_on_ether1(Board::QemuMalta, 3);
}

#[test]
fn ppce500_a_namespace_on_ether1_and_the_hosts_address_there_ping_each_other_v4_and_v6() {
    host_address_on_ether1(Board::QemuPpce500, 5);
}

/// The test on `board`; `lab` tells its taps and namespaces from the other tests'.
fn host_address_on_ether1(board: Board, lab: u8) {
    let mut lab = NetLab::new(lab);
    let tap = lab.tap("ta").expect(SETUP);
    let ns = lab.namespace("na").expect(SETUP);
    let mut s = Session::boot_with(board, |c| {
        c.nics = vec![Nic::Tap(tap.clone()), Nic::Unplugged];
    });
    s.login(BOOT);
    lab.move_into(&tap, &ns, "192.168.88.2/24").expect(SETUP);
    lab.add_ipv6(&ns, &tap, "fd00:88::2/64").expect(SETUP);
    s.checked("/ip address add address=192.168.88.1/24 interface=ether1");
    s.checked("/ipv6 address add address=fd00:88::1/64 interface=ether1");

    assert_eq!(ping(&ns, "192.168.88.1", 3), 3, "{}", s.transcript());
    host_pings(&mut s, "192.168.88.2");
    assert_eq!(ping(&ns, "fd00:88::1", 3), 3, "{}", s.transcript());
    host_pings(&mut s, "fd00:88::2");

    let arp = s.command("/ip arp print", PROMPT);
    println!("{arp}");
    row(&arp, "192.168.88.2", "ether1");
    let nd = s.command("/ipv6 neighbor print", PROMPT);
    println!("{nd}");
    row(&nd, "fd00:88::2", "ether1");
}

#[test]
fn malta_the_wisp_example_a_customer_on_ether2_reaches_its_guest_and_the_host_through_bridge1() {
    let mut lab = NetLab::new(4);
    let tap = lab.tap("tb").expect(SETUP);
    let ns = lab.namespace("nb").expect(SETUP);
    let built = guests::build_once().expect("building the guests");
    let dir: PathBuf = std::env::temp_dir().join(format!("mr-host-ports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Unplugged, Nic::Tap(tap.clone())];
        c.files = Some(store.clone());
        c.memory_mib = 256;
    });
    s.login(BOOT);
    lab.move_into(&tap, &ns, "10.0.2.2/24").expect(SETUP);

    // The host's link to a guest: vif1, 10.0.1.1/24, as in the manual.
    s.checked("/metarouter import-image file-name=netguest.tgz name=client1");
    s.checked("/metarouter interface add virtual-machine=client1 type=dynamic");
    s.checked("/ip address add address=10.0.1.1/24 interface=vif1");
    // The customer's port and the customer's guest in bridge1.
    s.checked("/interface bridge add name=bridge1");
    s.checked("/interface bridge port add interface=ether2 bridge=bridge1");
    s.checked("/metarouter import-image file-name=netguest.tgz name=client1lan");
    s.checked("/metarouter interface add virtual-machine=client1lan dynamic-bridge=bridge1");
    for (vm, address) in [("client1", "10.0.1.2/24"), ("client1lan", "10.0.2.1/24")] {
        s.wait_running(vm);
        s.on_console(
            vm,
            &format!("ip {address}"),
            &format!("address={address}"),
            Duration::from_secs(10),
        );
    }

    // The customer reaches its guest through bridge1: ping and UDP echo.
    assert_eq!(ping(&ns, "10.0.2.1", 3), 3, "{}", s.transcript());
    let mut echo = NetLab::command(&ns, env!("CARGO_BIN_EXE_netpeer"));
    echo.args(["echo", "10.0.2.1:7", "hello-from-ether2"]);
    let out = run_for(echo, Duration::from_secs(15));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("echoed hello-from-ether2"),
        "{}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.transcript()
    );
    // The host reaches the guest over vif1.
    host_pings(&mut s, "10.0.1.2");

    // With an address on bridge1, the host is a port of the bridge: the customer and the host
    // ping each other through it.
    s.checked("/ip address add address=10.0.2.254/24 interface=bridge1");
    assert_eq!(ping(&ns, "10.0.2.254", 3), 3, "{}", s.transcript());
    host_pings(&mut s, "10.0.2.2");
    host_pings(&mut s, "10.0.2.1");
    let arp = s.command("/ip arp print", PROMPT);
    println!("{arp}");
    row(&arp, "10.0.2.2", "bridge1");
    row(&arp, "10.0.1.2", "vif1");
    let _ = std::fs::remove_dir_all(&dir);
}
