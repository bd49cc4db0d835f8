//! 802.1Q VLAN interfaces, static ARP and IPv6 through a bridge on qemu-malta, with real peers:
//! Linux network namespaces holding the host end of the tap each e1000 is plugged into (made by
//! the test, removed when it ends, also on failure; needs root, as CI runs). The VLAN peer is a
//! Linux VLAN interface (`ip link add link TAP name v10 type vlan id 10`) where the kernel has
//! them (`8021q`), else `netpeer vlan-ping` / `vlan-serve`, a user-space peer that tags its ARP
//! and ping on a packet socket (`qemu_tests::vlanpeer`).
//!
//! - `vlan10` on ether2 (in no bridge): the namespace's VLAN 10 peer and the host's address on
//!   `vlan10` ping each other; a static ARP entry with a wrong MAC makes the host's ping fail
//!   and the right one makes it work; untagged traffic on ether2 does not reach `vlan10`'s
//!   address.
//! - ether1 and ether2 in `bridge1`: two namespaces ping each other over IPv6 through the
//!   bridge, and one of them reaches the host's address on `vlan20`, a VLAN of `bridge1`.

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::netlab::{ping, NetLab};
use qemu_tests::qemu::Nic;
use qemu_tests::session::Session;
use qemu_tests::vlanlab::{ip, VlanPeer, SETUP};

const BOOT: Duration = Duration::from_secs(60);
const NETPEER: &str = env!("CARGO_BIN_EXE_netpeer");

#[test]
fn malta_a_namespaces_vlan_10_on_ether2_and_the_hosts_vlan10_ping_each_other() {
    let mut lab = NetLab::new(5);
    let tap = lab.tap("tv").expect(SETUP);
    let ns = lab.namespace("nv").expect(SETUP);
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Unplugged, Nic::Tap(tap.clone())];
    });
    s.login(BOOT);
    lab.move_into(&tap, &ns, "192.168.99.2/24").expect(SETUP);
    let peer = VlanPeer::new(NETPEER, &ns, &tap, 10, "10.10.0.2");

    s.checked("/interface vlan add name=vlan10 vlan-id=10 interface=ether2");
    s.checked("/ip address add address=10.10.0.1/24 interface=vlan10");
    let list = s.checked("/interface print");
    println!("{list}");
    let line = list
        .lines()
        .find(|l| l.contains("vlan10"))
        .unwrap_or_else(|| panic!("vlan10 not listed:\n{list}"));
    assert!(line.contains(" vlan ") && line.contains('R'), "{line}");

    assert_eq!(peer.ping("10.10.0.1"), 3, "{}", s.transcript());
    assert_eq!(peer.pinged_by(&mut s), 3, "{}", s.transcript());
    let arp = s.checked("/ip arp print");
    println!("{arp}");
    assert!(
        arp.lines()
            .any(|l| l.contains("10.10.0.2") && l.contains("vlan10") && l.contains("DC")),
        "{arp}"
    );

    // A static entry is what the host uses: a wrong MAC loses the pings, the right one not.
    s.checked("/ip arp add address=10.10.0.2 mac-address=02:00:00:00:00:99 interface=vlan10");
    assert_eq!(peer.pinged_by(&mut s), 0, "{}", s.transcript());
    let mac = peer.mac();
    s.checked(&format!(
        "/ip arp set [ find mac-address=02:00:00:00:00:99 ] mac-address={mac}"
    ));
    let arp = s.checked("/ip arp print");
    println!("{arp}");
    assert!(
        arp.lines()
            .any(|l| l.contains("10.10.0.2") && l.contains(&mac) && l.contains("permanent")),
        "{arp}"
    );
    assert_eq!(peer.pinged_by(&mut s), 3, "{}", s.transcript());

    // Untagged: the same peer on ether2 without the tag reaches nothing.
    if let Some(name) = &peer.linux {
        ip(&ns, &["link", "del", name]);
    }
    let untagged = VlanPeer::untagged(NETPEER, &ns, &tap, "10.10.0.2", peer.linux.is_some());
    assert_eq!(untagged.ping("10.10.0.1"), 0, "{}", s.transcript());
}

#[test]
fn malta_two_namespaces_ping_over_ipv6_through_bridge1_and_reach_the_hosts_vlan_on_it() {
    let mut lab = NetLab::new(6);
    let tap_a = lab.tap("ta").expect(SETUP);
    let tap_b = lab.tap("tb").expect(SETUP);
    let ns_a = lab.namespace("na").expect(SETUP);
    let ns_b = lab.namespace("nb").expect(SETUP);
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
    });
    s.login(BOOT);
    lab.move_into(&tap_a, &ns_a, "10.77.0.1/24").expect(SETUP);
    lab.move_into(&tap_b, &ns_b, "10.77.0.2/24").expect(SETUP);
    lab.add_ipv6(&ns_a, &tap_a, "fd00:77::1/64").expect(SETUP);
    lab.add_ipv6(&ns_b, &tap_b, "fd00:77::2/64").expect(SETUP);

    s.checked("/interface bridge add name=bridge1");
    for port in ["ether1", "ether2"] {
        s.checked(&format!(
            "/interface bridge port add interface={port} bridge=bridge1"
        ));
    }
    assert_eq!(ping(&ns_a, "fd00:77::2", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&ns_b, "fd00:77::1", 3), 3, "{}", s.transcript());

    // A VLAN of the bridge: tagged frames from ether2 reach the host's address on it.
    s.checked("/interface vlan add name=vlan20 vlan-id=20 interface=bridge1");
    s.checked("/ip address add address=10.20.0.1/24 interface=vlan20");
    let peer = VlanPeer::new(NETPEER, &ns_b, &tap_b, 20, "10.20.0.2");
    assert_eq!(peer.ping("10.20.0.1"), 3, "{}", s.transcript());
    assert_eq!(peer.pinged_by(&mut s), 3, "{}", s.transcript());
    // The bridge still carries the untagged traffic between the namespaces.
    assert_eq!(ping(&ns_a, "10.77.0.2", 3), 3, "{}", s.transcript());
}
