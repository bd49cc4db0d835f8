//! Items and their rules: names (length, case, a repeated argument), routes that cannot be
//! (unusable gateways, exact duplicates), MACs (per-box identity, kept across a reboot, no group
//! addresses), a routing table that is in use, guests a board refuses to start, and what the
//! network derivation leaves out when an interface is gone. Each refusal is checked to change
//! nothing.

use mgmt::config::IfaceRef;
use mgmt::{GuestId, Platform, PlatformError};
use sim::board::SimBoard;
use sim::driver::{Sim, SimOptions};

fn sim_with(seed: u64, setup: &[&str]) -> Sim {
    let options = SimOptions::default();
    let mut board = SimBoard::new(options.ports);
    board.entropy_seed = seed;
    let mut sim = Sim::with_board(options, board);
    for line in setup {
        sim.replay_line(format!("{line}\r").as_bytes());
    }
    sim
}

/// Runs `line` and returns what it printed before the next prompt.
fn run(sim: &mut Sim, line: &str) -> String {
    sim.out.0.clear();
    sim.replay_line(format!("{line}\r").as_bytes());
    let out = String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n");
    let body = out.strip_prefix(&format!("{line}\n")).unwrap_or(&out);
    body.trim_end_matches("[admin@MikroTik] > ").to_string()
}

/// Checks that each line is refused with its message and changes neither the configuration
/// nor the network.
fn refused(sim: &mut Sim, cases: &[(&str, &str)]) {
    for (line, message) in cases {
        let config = sim.shell.config().clone();
        let network = sim.board.network.clone();
        let flash = sim.board.flash.steps();
        assert_eq!(run(sim, line), format!("{message}\n"), "output of {line:?}");
        assert!(
            sim.shell.config() == &config,
            "{line:?} changed the configuration"
        );
        assert_eq!(sim.board.network, network, "{line:?} changed the network");
        assert_eq!(sim.board.flash.steps(), flash, "{line:?} saved something");
    }
}

#[test]
fn names_are_limited_unique_in_any_case_and_given_once() {
    let mut sim = sim_with(
        0,
        &[
            "/interface bridge add name=dup",
            "/metarouter add name=vm",
            "/routing table add name=vpn",
        ],
    );
    let long = "x".repeat(64);
    let max = "y".repeat(63);
    refused(
        &mut sim,
        &[
            (
                "/interface bridge add name=DUP",
                "failure: already have interface with such name",
            ),
            (
                "/interface ethernet set ether1 name=Dup",
                "failure: already have interface with such name",
            ),
            (
                "/metarouter add name=VM",
                "failure: item with such name already exists",
            ),
            (
                "/routing table add name=VPN",
                "failure: already have routing table with such name",
            ),
            (
                "/routing table add name=Main",
                "failure: already have routing table with such name",
            ),
            (
                "/user add name=ADMIN group=read",
                "failure: user with the same name already exists",
            ),
            (
                &format!("/metarouter add name={long}"),
                "value of name too long (at most 63 characters)",
            ),
            (
                &format!("/interface bridge add name={long}"),
                "value of name too long (at most 63 characters)",
            ),
            (
                "/interface bridge add name=a name=b",
                "argument name given more than once (line 1 column 30)",
            ),
            (
                "/ip address add address=10.0.0.1/24 interface=ether1 address=10.0.0.2/24",
                "argument address given more than once (line 1 column 54)",
            ),
            (
                "/routing table add fib name=t fib",
                "argument fib given more than once (line 1 column 31)",
            ),
        ],
    );
    assert_eq!(run(&mut sim, &format!("/metarouter add name={max}")), "");
    // The router's identity is not an item name: it may be longer.
    let identity = "z".repeat(100);
    run(&mut sim, &format!("/system identity set name={identity}"));
    assert_eq!(sim.shell.config().identity, identity);
}

#[test]
fn routes_through_no_next_hop_and_duplicates_are_refused() {
    let mut sim = sim_with(
        0,
        &[
            "/ip address add address=10.0.0.2/24 interface=ether1",
            "/ip route add dst-address=10.1.0.0/16 gateway=10.0.0.1",
            "/ipv6 route add dst-address=2001:db8::/32 gateway=ether1",
        ],
    );
    refused(
        &mut sim,
        &[
            (
                "/ip route add dst-address=10.2.0.0/16 gateway=0.0.0.0",
                "invalid value for argument gateway",
            ),
            (
                "/ip route add gateway=255.255.255.255",
                "invalid value for argument gateway",
            ),
            (
                "/ip route add gateway=224.0.0.5",
                "invalid value for argument gateway",
            ),
            (
                "/ip route add gateway=10.0.0.1,0.0.0.0",
                "invalid value for argument gateway",
            ),
            (
                "/ip route add gateway=0.0.0.0%ether1",
                "invalid value for argument gateway",
            ),
            (
                "/ipv6 route add gateway=::",
                "invalid value for argument gateway",
            ),
            (
                "/ipv6 route add gateway=ff02::1%ether1",
                "invalid value for argument gateway",
            ),
            (
                "/ip route add dst-address=10.1.0.0/16 gateway=10.0.0.1",
                "failure: already have such route",
            ),
            (
                "/ip route add dst-address=10.1.2.3/16 gateway=10.0.0.1 comment=again",
                "failure: already have such route",
            ),
            (
                "/ipv6 route add dst-address=2001:db8::/32 gateway=ether1",
                "failure: already have such route",
            ),
        ],
    );
    // What differs in anything that routes is another route; a host-bits prefix is its network.
    assert_eq!(
        run(
            &mut sim,
            "/ip route add dst-address=10.1.0.0/16 gateway=10.0.0.1 distance=2"
        ),
        ""
    );
    assert_eq!(
        run(
            &mut sim,
            "/ip route add dst-address=10.0.0.1/8 gateway=10.0.0.1"
        ),
        ""
    );
    assert_eq!(
        run(&mut sim, "/ip route print count-only where static"),
        "3\n"
    );
    let first = sim.shell.config().routes.first().unwrap().id;
    refused(
        &mut sim,
        &[
            (
                "/ip route add dst-address=10.0.0.0/8 gateway=10.0.0.1",
                "failure: already have such route",
            ),
            (
                &format!("/ip route set *{first:X} distance=2"),
                "failure: already have such route",
            ),
        ],
    );
}

#[test]
fn a_routing_table_in_use_names_its_user() {
    let mut sim = sim_with(
        0,
        &[
            "/routing table add name=vpn fib",
            "/routing table add name=lab",
            "/ip route add dst-address=10.4.0.0/16 gateway=10.0.0.1 routing-table=vpn",
            "/routing rule add src-address=10.9.0.0/16 action=lookup table=lab",
        ],
    );
    let rule = sim.shell.config().routing_rules.first().unwrap().id;
    refused(
        &mut sim,
        &[
            (
                "/routing table remove vpn",
                "failure: routing table vpn is used by route 10.4.0.0/16",
            ),
            (
                "/routing table remove lab",
                &format!("failure: routing table lab is used by routing rule *{rule:X}"),
            ),
        ],
    );
}

/// Every MAC the box made up: host and guest sides of its guest interfaces, and the MAC each
/// guest's kernel is told.
fn macs(sim: &Sim) -> Vec<[u8; 6]> {
    let config = sim.shell.config();
    let mut out: Vec<[u8; 6]> = config
        .vm_ifaces
        .iter()
        .flat_map(|i| [i.dynamic_mac, i.vm_mac])
        .collect();
    out.extend(
        config
            .vms
            .iter()
            .map(|vm| mgmt::menus::guest_config(config, vm).mac),
    );
    out
}

const GUESTS: &[&str] = &[
    "/metarouter add name=mr1",
    "/metarouter add name=mr2",
    "/metarouter interface add virtual-machine=mr1",
    "/metarouter interface add virtual-machine=mr2",
];

#[test]
fn two_boxes_make_different_macs_and_keep_them_across_a_reboot() {
    let mut a = sim_with(1, GUESTS);
    let b = sim_with(2, GUESTS);
    let (macs_a, macs_b) = (macs(&a), macs(&b));
    assert_eq!(macs_a.len(), 6);
    for mac in &macs_a {
        assert!(!macs_b.contains(mac), "{mac:02X?} on both boxes");
        assert_eq!(mac[0], 0x02, "locally administered unicast: {mac:02X?}");
    }
    // The seed is saved but never exported.
    let seed = a.shell.config().mac_seed.expect("a seed was made");
    assert!(a
        .shell
        .saved_configuration()
        .contains(&format!("set mac-seed={seed:016X}")));
    assert!(!run(&mut a, "/export").contains("mac-seed"));
    run(&mut a, "/system reboot");
    run(&mut a, "y");
    assert_eq!(a.shell.config().mac_seed, Some(seed));
    assert_eq!(macs(&a), macs_a);
    // Interfaces added after the reboot get MACs of the same identity, not a new one.
    run(&mut a, "/metarouter interface add virtual-machine=mr1");
    assert_eq!(a.shell.config().mac_seed, Some(seed));
}

#[test]
fn group_macs_are_refused() {
    let mut sim = sim_with(0, &["/metarouter add name=mr1"]);
    refused(
        &mut sim,
        &[
            (
                "/metarouter interface add virtual-machine=mr1 vm-mac-address=FF:FF:FF:FF:FF:FF",
                "failure: vm-mac-address FF:FF:FF:FF:FF:FF is not a unicast address",
            ),
            (
                "/metarouter interface add virtual-machine=mr1 dynamic-mac-address=01:00:5E:00:00:01",
                "failure: dynamic-mac-address 01:00:5E:00:00:01 is not a unicast address",
            ),
            (
                "/metarouter interface add virtual-machine=mr1 vm-mac-address=33:33:00:00:00:01",
                "failure: vm-mac-address 33:33:00:00:00:01 is not a unicast address",
            ),
        ],
    );
    assert_eq!(
        run(
            &mut sim,
            "/metarouter interface add virtual-machine=mr1 vm-mac-address=02:00:00:00:00:01"
        ),
        ""
    );
}

#[test]
fn a_board_that_cannot_run_guests_refuses_the_command_and_keeps_nothing() {
    let mut sim = sim_with(0, &[]);
    sim.board.refuse_start = Some(PlatformError::Unsupported);
    refused(
        &mut sim,
        &[(
            "/metarouter add name=mr1",
            "failure: cannot start mr1: not supported on this machine",
        )],
    );
    assert!(sim.shell.config().vms.is_empty());
    assert_eq!(
        sim.board.guest_status(GuestId(0)),
        None,
        "the guest was left defined"
    );
    assert!(
        sim.board.disks.is_empty(),
        "a disk was left behind: {:?}",
        sim.board.disks
    );
}

#[test]
fn at_boot_a_guest_that_cannot_start_stays_configured_and_is_reported() {
    let mut sim = sim_with(0, &["/metarouter add name=mr1"]);
    sim.board.refuse_start = Some(PlatformError::Unsupported);
    sim.out.0.clear();
    run(&mut sim, "/system reboot");
    run(&mut sim, "y");
    let out = String::from_utf8_lossy(&sim.out.0).into_owned();
    assert!(
        out.contains("metarouter: mr1 was not started: not supported on this machine"),
        "{out}"
    );
    assert_eq!(sim.shell.config().vms.len(), 1);
    assert!(run(&mut sim, "/metarouter print").contains("mr1"));
}

#[test]
fn items_on_a_gone_interface_are_not_programmed() {
    let mut sim = sim_with(
        0,
        &[
            "/interface bridge add name=br1",
            "/interface bridge port add bridge=br1 interface=ether2",
            "/ip address add address=10.1.0.1/24 interface=br1",
            "/ip address add address=10.2.0.1/24 interface=ether3",
            "/ip route add dst-address=10.5.0.0/16 gateway=br1",
        ],
    );
    run(&mut sim, "/interface bridge remove br1");
    let net = &sim.board.network;
    assert!(net.bridge_ports.is_empty(), "{:?}", net.bridge_ports);
    assert_eq!(net.addresses.len(), 1, "{:?}", net.addresses);
    assert_eq!(net.interfaces[net.addresses[0].interface].name, "ether3");
    let rib = sim.shell.rib();
    let route = rib
        .rib()
        .routes()
        .find(|r| rib.route_item(r.id()).is_some())
        .unwrap();
    assert_eq!(
        format!("{:?}", route.spec().gateways),
        format!("[Interface({:?})]", mgmt::rib_state::GONE)
    );
    assert!(!route.flags().active);
    let config = sim.shell.config();
    assert!(matches!(
        config.ipv4_addresses.first().unwrap().interface,
        IfaceRef::Gone(_)
    ));
    assert!(matches!(
        config.bridge_ports.first().unwrap().bridge,
        IfaceRef::Gone(_)
    ));
    // Re-created, they are programmed again.
    run(&mut sim, "/interface bridge add name=br1");
    let net = &sim.board.network;
    assert_eq!(net.bridge_ports.len(), 1);
    assert_eq!(net.addresses.len(), 2);
}
