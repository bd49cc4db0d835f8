//! The network configuration handed to the platform (`apply_network`): what the hypervisor
//! programs its switch and router from.

use mgmt::network::{GuestLink, IpAddress, NetInterfaceKind};
use mgmt::GuestId;
use sim::driver::{Sim, SimOptions};

fn configured() -> Sim {
    let mut sim = Sim::new(SimOptions {
        login: false,
        ports: 3,
    });
    for line in [
        "/interface bridge add name=lan",
        "/interface bridge port add interface=ether2 bridge=lan horizon=5",
        "/metarouter add name=mr0",
        "/metarouter interface add virtual-machine=mr0 dynamic-bridge=lan vm-mac-address=02:00:00:00:00:10",
        "/metarouter interface add virtual-machine=mr0 type=static static-interface=ether3 vm-mac-address=02:00:00:00:00:11",
        "/ip address add address=10.0.0.1/24 interface=lan",
        "/ip route add dst-address=10.9.0.0/16 gateway=10.0.0.254",
        "/interface ethernet disable ether1",
    ] {
        sim.out.0.clear();
        sim.replay_line(format!("{line}\r").as_bytes());
        assert_eq!(String::from_utf8_lossy(&sim.out.0).matches('\n').count(), 1, "{line}");
    }
    sim
}

#[test]
fn network_config_describes_the_switch() {
    let sim = configured();
    let net = &sim.board.network;
    let names: Vec<&str> = net.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["ether1", "ether2", "ether3", "lan", "vif1"]);
    assert!(!net.interfaces[0].enabled && net.interfaces[1].enabled);
    let guest0 = GuestId(0);
    assert_eq!(
        net.interfaces[2].kind,
        NetInterfaceKind::Ethernet {
            port: 2,
            guest: Some(GuestLink {
                guest: guest0,
                interface_id: 2,
                guest_mac: [2, 0, 0, 0, 0, 0x11]
            })
        }
    );
    assert_eq!(
        net.interfaces[4].kind,
        NetInterfaceKind::Vif {
            link: GuestLink {
                guest: guest0,
                interface_id: 1,
                guest_mac: [2, 0, 0, 0, 0, 0x10]
            }
        }
    );
    // The bridge takes the MAC of its first port (ether2) with auto-mac.
    assert_eq!(net.interfaces[3].mac, net.interfaces[1].mac);
    let ports: Vec<(usize, usize, Option<u32>)> = net
        .bridge_ports
        .iter()
        .map(|p| (p.bridge, p.interface, p.horizon))
        .collect();
    assert_eq!(ports, [(3, 1, Some(5)), (3, 4, None)]);
    assert_eq!(net.addresses.len(), 1);
    assert_eq!(net.addresses[0].interface, 3);
    assert_eq!(net.addresses[0].address, IpAddress::V4([10, 0, 0, 1]));
    // Routes are not part of it: the shell's RIB holds them.
    let routes: Vec<String> = sim
        .shell
        .rib()
        .rib()
        .routes()
        .filter(|r| sim.shell.rib().route_item(r.id()).is_some())
        .map(|r| r.spec().dst.to_string())
        .collect();
    assert_eq!(routes, ["10.9.0.0/16"]);
}

#[test]
fn unchanged_network_is_not_reapplied_and_the_rib_follows() {
    let mut sim = configured();
    let applies = sim.board.network_applies;
    sim.replay_line(b"/system identity set name=x\r");
    sim.replay_line(b"/metarouter set mr0 memory-size=32\r");
    sim.replay_line(b"/ip route add dst-address=10.8.0.0/16 gateway=10.0.0.253 disabled=yes\r");
    assert_eq!(sim.board.network_applies, applies);
    sim.replay_line(b"/interface ethernet enable ether1\r");
    assert_eq!(sim.board.network_applies, applies + 1);
    let active: Vec<String> = sim
        .shell
        .rib()
        .rib()
        .routes()
        .filter(|r| r.flags().active)
        .map(|r| r.spec().dst.to_string())
        .collect();
    assert_eq!(active, ["10.0.0.0/24", "10.9.0.0/16"]);
}
