//! The box's `/interface vlan` against VLAN peers in Linux network namespaces on qemu-malta
//! (taps, namespaces and the peers' VLAN interfaces made by the test, removed when it ends,
//! also on failure; needs root, as CI runs). Each peer is a Linux 802.1Q interface
//! (`ip link add link TAP name v10 type vlan id 10`) where the kernel has them, else the
//! user-space peer that tags its ARP and ping on a packet socket (`qemu_tests::vlanlab`).
//!
//! - Two VLANs and the port's own address on ether2: the VLAN 10 and VLAN 11 peers and the
//!   host's `vlan10` and `vlan11` ping each other both ways, each ARP entry on its own VLAN;
//!   untagged traffic reaches ether2's own address and not the VLANs'; a VLAN 10 peer does not
//!   reach `vlan11`'s address, nor a VLAN 11 peer `vlan10`'s.
//! - A VLAN on a bridge that carries tagged ether ports and a guest's vif: ether1, ether2 and
//!   the `netguest` guest's vif in `bridge1`, `vlan20` on `bridge1`. Untagged traffic passes
//!   between ether1 and the guest; tagged VLAN 20 frames pass between ether2 and ether1 and
//!   reach the host's `vlan20`, which pings back; the guest (untagged, knowing no VLANs) does
//!   not reach `vlan20`'s address in its own subnet, and the VLAN 20 peer does not reach it;
//!   after that unanswered ping the guest's `ping` works again.

use std::path::PathBuf;
use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::netlab::{ping, NetLab};
use qemu_tests::qemu::Nic;
use qemu_tests::session::{Session, PROMPT};
use qemu_tests::vlanlab::{host_pings, ip, mac_of, VlanPeer, SETUP};

const BOOT: Duration = Duration::from_secs(60);
const NETPEER: &str = env!("CARGO_BIN_EXE_netpeer");

/// The `/ip arp print` row of `address`.
fn arp_row(s: &mut Session, address: &str) -> String {
    let arp = s.command("/ip arp print", PROMPT);
    arp.lines()
        .find(|l| l.split_whitespace().any(|w| w == address))
        .unwrap_or_else(|| panic!("no ARP entry for {address}:\n{arp}"))
        .to_string()
}

#[test]
fn malta_two_vlans_and_the_ports_own_address_on_ether2_stay_apart() {
    let mut lab = NetLab::new(11);
    let tap = lab.tap("tv").expect(SETUP);
    let ns = lab.namespace("nv").expect(SETUP);
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Unplugged, Nic::Tap(tap.clone())];
    });
    s.login(BOOT);
    lab.move_into(&tap, &ns, "192.168.99.2/24").expect(SETUP);
    for line in [
        "/ip address add address=192.168.99.1/24 interface=ether2",
        "/interface vlan add name=vlan10 vlan-id=10 interface=ether2",
        "/interface vlan add name=vlan11 vlan-id=11 interface=ether2",
        "/ip address add address=10.10.0.1/24 interface=vlan10",
        "/ip address add address=10.11.0.1/24 interface=vlan11",
    ] {
        s.checked(line);
    }
    let peer10 = VlanPeer::new(NETPEER, &ns, &tap, 10, "10.10.0.2");
    let peer11 = VlanPeer::new(NETPEER, &ns, &tap, 11, "10.11.0.2");

    // Each VLAN reaches its own address, both ways, and its ARP entry is on that VLAN.
    for (peer, host, vlan) in [
        (&peer10, "10.10.0.1", "vlan10"),
        (&peer11, "10.11.0.1", "vlan11"),
    ] {
        assert_eq!(peer.ping(host), 3, "{vlan}\n{}", s.transcript());
        assert_eq!(peer.pinged_by(&mut s), 3, "{vlan}\n{}", s.transcript());
        let row = arp_row(&mut s, &peer.ip);
        println!("{row}");
        assert!(
            row.contains(vlan) && row.contains(&peer.mac()) && row.contains("DC"),
            "{row}"
        );
    }
    // Untagged traffic reaches ether2's own address, and the host reaches the namespace.
    assert_eq!(ping(&ns, "192.168.99.1", 3), 3, "{}", s.transcript());
    assert_eq!(host_pings(&mut s, "192.168.99.2"), 3, "{}", s.transcript());
    let row = arp_row(&mut s, "192.168.99.2");
    assert!(
        row.contains("ether2") && row.contains(&mac_of(&ns, &tap)),
        "{row}"
    );

    // A VLAN does not reach the other VLAN's address.
    peer10.route("10.11.0.1/32");
    peer11.route("10.10.0.1/32");
    assert_eq!(peer10.ping("10.11.0.1"), 0, "{}", s.transcript());
    assert_eq!(peer11.ping("10.10.0.1"), 0, "{}", s.transcript());
    // Untagged frames do not reach a VLAN's address.
    let linux = peer10.linux.is_some();
    for peer in [&peer10, &peer11] {
        if let Some(name) = &peer.linux {
            ip(&ns, &["link", "del", name]);
        }
    }
    let untagged = VlanPeer::untagged(NETPEER, &ns, &tap, "10.10.0.2", linux);
    assert_eq!(untagged.ping("10.10.0.1"), 0, "{}", s.transcript());
    // While the port's own address still answers.
    assert_eq!(ping(&ns, "192.168.99.1", 3), 3, "{}", s.transcript());
}

#[test]
fn malta_a_vlan_of_a_bridge_with_tagged_ether_ports_and_a_guests_vif() {
    let mut lab = NetLab::new(12);
    let tap_a = lab.tap("ta").expect(SETUP);
    let tap_b = lab.tap("tb").expect(SETUP);
    let ns_a = lab.namespace("na").expect(SETUP);
    let ns_b = lab.namespace("nb").expect(SETUP);
    let built = guests::build_once().expect("building the guests");
    let dir: PathBuf = std::env::temp_dir().join(format!("mr-vlan-peer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
        c.files = Some(store.clone());
    });
    s.login(BOOT);
    // A: untagged (10.30.0.9) and a VLAN 20 peer (10.20.0.3); B: a VLAN 20 peer (10.20.0.2).
    lab.move_into(&tap_a, &ns_a, "10.30.0.9/24").expect(SETUP);
    lab.move_into(&tap_b, &ns_b, "10.31.0.9/24").expect(SETUP);
    for line in [
        "/interface bridge add name=bridge1",
        "/interface bridge port add interface=ether1 bridge=bridge1",
        "/interface bridge port add interface=ether2 bridge=bridge1",
        "/metarouter import-image file-name=netguest.tgz name=n1",
        "/metarouter interface add virtual-machine=n1 dynamic-bridge=bridge1",
        "/interface vlan add name=vlan20 vlan-id=20 interface=bridge1",
        "/ip address add address=10.20.0.1/24 interface=vlan20",
    ] {
        s.checked(line);
    }
    s.wait_running("n1");
    let guest = |s: &mut Session, line: &str, until: &str| {
        s.on_console("n1", line, until, Duration::from_secs(20))
    };
    guest(&mut s, "ip 10.30.0.5/24", "address=10.30.0.5/24");

    // Untagged: ether1 and the guest's vif, both ways.
    assert_eq!(ping(&ns_a, "10.30.0.5", 3), 3, "{}", s.transcript());
    let out = guest(&mut s, "ping 10.30.0.9 3", "packet-loss=");
    assert!(out.contains("received=3"), "{out}\n{}", s.transcript());

    // Tagged: ether2 to the host's vlan20 and back, and across the bridge to ether1.
    let peer_b = VlanPeer::new(NETPEER, &ns_b, &tap_b, 20, "10.20.0.2");
    let peer_a = VlanPeer::new(NETPEER, &ns_a, &tap_a, 20, "10.20.0.3");
    assert_eq!(peer_b.ping("10.20.0.1"), 3, "{}", s.transcript());
    assert_eq!(peer_b.pinged_by(&mut s), 3, "{}", s.transcript());
    let row = arp_row(&mut s, "10.20.0.2");
    assert!(row.contains("vlan20"), "{row}");
    assert_eq!(peer_a.pinged_by(&mut s), 3, "{}", s.transcript());
    // Between the two ether ports the tag passes the bridge (the peer on A answers B).
    let answering_a = peer_a.serve();
    assert_eq!(peer_b.ping("10.20.0.3"), 3, "{}", s.transcript());
    drop(answering_a);

    // The guest knows no VLANs: the tagged peer does not reach it, nor the host over vlan20,
    // and from its untagged vif it does not reach vlan20's address in its own subnet.
    guest(&mut s, "ip 10.20.0.5/24", "address=10.20.0.5/24");
    assert_eq!(peer_b.ping("10.20.0.5"), 0, "{}", s.transcript());
    assert_eq!(host_pings(&mut s, "10.20.0.5"), 0, "{}", s.transcript());
    let out = guest(&mut s, "ping 10.20.0.1 3", "packet-loss=");
    assert!(out.contains("received=0"), "{out}\n{}", s.transcript());
    // Untagged traffic still passes: the guest back in 10.30.0.0/24 and A reach each other.
    // The guest's own ping works again after one nobody answered (its first echo may go to
    // finding A's MAC).
    guest(&mut s, "ip 10.30.0.5/24", "address=10.30.0.5/24");
    let out = guest(&mut s, "ping 10.30.0.9 3", "packet-loss=");
    assert!(!out.contains("received=0"), "{out}\n{}", s.transcript());
    assert_eq!(ping(&ns_a, "10.30.0.5", 3), 3, "{}", s.transcript());
    let _ = std::fs::remove_dir_all(&dir);
}
