//! `/export` run on an empty box recreates the configuration.

use sim::driver::{Sim, SimOptions};

const SETUP: &[&str] = &[
    "/system identity set name=\"Edge Router\"",
    "/interface ethernet set ether1 name=wan comment=\"to ISP\"",
    "/interface ethernet set ether4 arp=reply-only mtu=1400 disabled=yes",
    "/interface bridge add name=lan protocol-mode=rstp ageing-time=10m",
    "/interface bridge add name=dmz auto-mac=no admin-mac=02:00:00:00:00:09 disabled=yes",
    "/interface bridge port add interface=ether2 bridge=lan horizon=3",
    "/interface bridge port add interface=ether3 bridge=dmz path-cost=50 priority=0x20 comment=dmz",
    "/metarouter add name=mr0 memory-size=64 disk-size=100000",
    "/metarouter add name=\"guest two\" disabled=yes comment=\"spare\"",
    "/metarouter interface add virtual-machine=mr0 dynamic-bridge=lan",
    "/metarouter interface add virtual-machine=mr0",
    "/metarouter interface add virtual-machine=\"guest two\" type=static static-interface=ether5",
    "/metarouter interface add copy-from=1 disabled=yes",
    "/metarouter interface remove 0",
    "/interface bridge port add interface=vif2 bridge=dmz",
    "/ip address add address=192.168.88.1/24 interface=lan",
    "/ip address add address=10.0.0.2/30 interface=wan comment=uplink disabled=yes",
    "/ipv6 address add address=2001:db8::1/64 interface=lan",
    "/routing table add name=vpn fib",
    "/ip route add dst-address=10.8.0.0/16 gateway=10.0.0.1,lan routing-table=vpn distance=7 comment=tunnel",
    "/ip route add gateway=192.168.88.254%lan scope=40 target-scope=20",
    "/ip route add dst-address=10.66.0.0/16 type=unreachable disabled=yes",
    "/ipv6 route add gateway=2001:db8::fe",
    "/ipv6 route add dst-address=2001:db8:9::/48 gateway=lan",
    "/routing rule add src-address=192.168.88.0/24 table=vpn",
    "/routing rule add interface=wan routing-mark=vpn action=lookup-only-in-table table=vpn",
    "/routing rule add dst-address=2001:db8:66::/48 action=unreachable disabled=yes",
];

#[test]
fn export_recreates_configuration() {
    let mut sim = Sim::new(SimOptions::default());
    for line in SETUP {
        sim.out.0.clear();
        sim.replay_line(format!("{line}\r").as_bytes());
        let out = String::from_utf8_lossy(&sim.out.0).into_owned();
        assert_eq!(
            out.matches('\n').count(),
            1,
            "{line} printed more than its echo: {out}"
        );
    }
    let export = mgmt::export::export_menu(&[], sim.shell.config(), "x");
    let mut fresh = Sim::new(SimOptions::default());
    for line in export.lines().filter(|l| !l.starts_with('#')) {
        fresh.out.0.clear();
        fresh.replay_line(format!("{line}\r").as_bytes());
        let out = String::from_utf8_lossy(&fresh.out.0).into_owned();
        assert!(out.matches('\n').count() <= 1, "{line}: {out}");
    }
    fresh.replay_line(b"/\r");
    let again = mgmt::export::export_menu(&[], fresh.shell.config(), "x");
    assert_eq!(export, again);
    assert!(export.contains("host-interface=vif2"));
    assert!(export.contains("/routing rule"));
}
