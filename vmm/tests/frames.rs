//! Frames between guests through the product's frame loop: interfaces announced to guests,
//! flooding until the switch has learned, unicast after, a hairpin between two interfaces of
//! one guest, the per-pass TX budget, bridges and horizons that keep frames apart.

mod common;

use common::*;
use vdevices::{control_message, CMD_NEWIFACE};
use vmm::net::TX_BUDGET;
use vmm::{BridgePortPlan, GuestId, NetworkPlan, VifPlan};
use vswitch::BridgeConfig;

/// Guests `0..n`, each with interface 1 in bridge 0, brought up.
fn bridged(
    n: u8,
) -> (
    vmm::Manager<FakeMachine>,
    Vec<std::rc::Rc<std::cell::RefCell<CpuState>>>,
) {
    let mut m = manager(None);
    let mut plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        ..Default::default()
    };
    for g in 0..n {
        plan.vifs.push(VifPlan {
            guest: GuestId(g),
            interface: 1,
            mac: mac(g, 1),
        });
        plan.ports.push(BridgePortPlan {
            vif: g as usize,
            bridge: 0,
            horizon: None,
        });
    }
    m.apply_network(&plan);
    let cpus = (0..n)
        .map(|g| {
            let cpu = started(&mut m, g, &format!("g{g}"));
            bring_up(&mut m, g, &cpu);
            cpu
        })
        .collect();
    (m, cpus)
}

#[test]
fn a_guest_is_told_its_interfaces_when_it_creates_its_queue() {
    let mut m = manager(None);
    let plan = NetworkPlan {
        vifs: vec![VifPlan {
            guest: GuestId(0),
            interface: 2,
            mac: mac(0, 2),
        }],
        ..Default::default()
    };
    m.apply_network(&plan);
    let cpu = started(&mut m, 0, "g0");
    lay_out(&mut m.guest_ram(GuestId(0)).unwrap());
    cpu.borrow_mut().script.extend(setup_steps());
    round(&mut m);
    let announced = received(&mut m, 0);
    let message = control_message(CMD_NEWIFACE, 2, mac(0, 2));
    assert_eq!(announced, [(0, message[2..].to_vec())]);
    assert!(
        cpu.borrow().taken > 0,
        "the announcement raised its interrupt"
    );
    // Its kernel was told the MAC of its first interface (`kmac=`, the fourth argument).
    let argv = cpu.borrow().entry.args[1];
    let ram = m.guest_ram(GuestId(0)).unwrap();
    let kmac = ram.read_u32(guest_mem::Gva::new(argv + 12)).unwrap();
    assert_eq!(
        ram.bytes(guest_mem::Gva::new(kmac), 22).unwrap(),
        b"kmac=02:00:00:00:00:02"
    );
}

#[test]
fn unknown_destinations_flood_then_the_switch_learns() {
    let (mut m, _) = bridged(3);
    // A broadcast from guest 0 reaches 1 and 2, not 0.
    let hello = frame(BROADCAST, mac(0, 1), 60, 0x11);
    send(&mut m, 0, 0, 1, &hello);
    round(&mut m);
    assert!(tx_done(&mut m, 0, 0), "the descriptor was handed back");
    assert_eq!(received(&mut m, 0), []);
    assert_eq!(received(&mut m, 1), [(1, hello.clone())]);
    assert_eq!(received(&mut m, 2), [(1, hello)]);
    // An answer to guest 0's MAC is unicast: the switch learned where it is.
    let answer = frame(mac(0, 1), mac(2, 1), 100, 0x22);
    send(&mut m, 2, 0, 1, &answer);
    round(&mut m);
    assert_eq!(received(&mut m, 0), [(1, answer)]);
    assert_eq!(received(&mut m, 1), []);
    // Unknown unicast floods.
    let unknown = frame([2, 9, 9, 9, 9, 9], mac(1, 1), 64, 0x33);
    send(&mut m, 1, 0, 1, &unknown);
    round(&mut m);
    assert_eq!(received(&mut m, 0), [(1, unknown.clone())]);
    assert_eq!(received(&mut m, 2), [(1, unknown)]);
}

#[test]
fn a_delivery_raises_the_receivers_interrupt_and_frees_the_senders_ring() {
    let (mut m, cpus) = bridged(2);
    let before = (cpus[0].borrow().wakes, cpus[1].borrow().injected);
    send(&mut m, 0, 0, 1, &frame(BROADCAST, mac(0, 1), 60, 0));
    m.service();
    assert!(cpus[1].borrow().injected > before.1, "receiver's interrupt");
    assert!(
        cpus[0].borrow().wakes > before.0,
        "sender woken for ring space"
    );
}

#[test]
fn a_hairpin_between_two_interfaces_of_one_guest_is_delivered_back_into_it() {
    let mut m = manager(None);
    let plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        vifs: vec![
            VifPlan {
                guest: GuestId(0),
                interface: 1,
                mac: mac(0, 1),
            },
            VifPlan {
                guest: GuestId(0),
                interface: 2,
                mac: mac(0, 2),
            },
        ],
        ports: vec![
            BridgePortPlan {
                vif: 0,
                bridge: 0,
                horizon: None,
            },
            BridgePortPlan {
                vif: 1,
                bridge: 0,
                horizon: None,
            },
        ],
        ethers: vec![],
        host: Default::default(),
        vlan_ports: Vec::new(),
    };
    m.apply_network(&plan);
    let cpu = started(&mut m, 0, "g0");
    bring_up(&mut m, 0, &cpu);
    let f = frame(BROADCAST, mac(0, 1), 80, 0x44);
    send(&mut m, 0, 0, 1, &f);
    let injected = cpu.borrow().injected;
    m.service();
    assert!(
        cpu.borrow().injected > injected,
        "the delivery raised its interrupt"
    );
    assert_eq!(
        received(&mut m, 0),
        [(2, f)],
        "out of interface 1, into interface 2"
    );
    assert!(tx_done(&mut m, 0, 0));
}

#[test]
fn at_most_the_tx_budget_is_taken_from_a_guest_per_pass() {
    let (mut m, _) = bridged(2);
    // Guest 1 learns nothing; guest 0's frames go to a MAC nobody has: they flood to guest 1,
    // whose 32 RX buffers take the first 32; the rest are dropped there, but all are taken.
    let frames = TX_BUDGET as u32 + 20;
    for n in 0..frames {
        send(
            &mut m,
            0,
            n,
            1,
            &frame([2, 8, 8, 8, 8, 8], mac(0, 1), 60, n as u8),
        );
    }
    m.service();
    let taken = (0..frames).filter(|&n| tx_done(&mut m, 0, n)).count();
    assert_eq!(taken, TX_BUDGET);
    assert!(!tx_done(&mut m, 0, TX_BUDGET as u32));
    m.service();
    let taken = (0..frames).filter(|&n| tx_done(&mut m, 0, n)).count();
    assert_eq!(taken, frames as usize);
    let got = received(&mut m, 1);
    // The first 32 frames, one per buffer.
    let mut fills: Vec<u8> = got.iter().map(|(_, f)| f[14]).collect();
    fills.sort();
    assert_eq!(fills, (0..RX_COUNT as u8).collect::<Vec<_>>());
}

#[test]
fn bridges_and_horizons_keep_frames_apart() {
    let mut m = manager(None);
    let vif = |g: u8| VifPlan {
        guest: GuestId(g),
        interface: 1,
        mac: mac(g, 1),
    };
    let plan = NetworkPlan {
        bridges: vec![BridgeConfig::default(), BridgeConfig::default()],
        vifs: vec![vif(0), vif(1), vif(2), vif(3)],
        ports: vec![
            BridgePortPlan {
                vif: 0,
                bridge: 0,
                horizon: Some(7),
            },
            BridgePortPlan {
                vif: 1,
                bridge: 0,
                horizon: Some(7),
            },
            BridgePortPlan {
                vif: 2,
                bridge: 0,
                horizon: None,
            },
            BridgePortPlan {
                vif: 3,
                bridge: 1,
                horizon: None,
            },
        ],
        ethers: vec![],
        host: Default::default(),
        vlan_ports: Vec::new(),
    };
    m.apply_network(&plan);
    for g in 0..4 {
        let cpu = started(&mut m, g, &format!("g{g}"));
        bring_up(&mut m, g, &cpu);
    }
    let f = frame(BROADCAST, mac(0, 1), 60, 0x55);
    send(&mut m, 0, 0, 1, &f);
    round(&mut m);
    assert_eq!(received(&mut m, 1), [], "same horizon");
    assert_eq!(received(&mut m, 2), [(1, f)]);
    assert_eq!(received(&mut m, 3), [], "another bridge");
}

#[test]
fn vifs_naming_no_guest_or_interface_are_left_out() {
    let mut m = manager(None);
    let plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        vifs: vec![
            VifPlan {
                guest: GuestId(0),
                interface: 0,
                mac: mac(0, 0),
            },
            VifPlan {
                guest: GuestId(0),
                interface: 8,
                mac: mac(0, 8),
            },
            VifPlan {
                guest: GuestId(200),
                interface: 1,
                mac: mac(200, 1),
            },
            VifPlan {
                guest: GuestId(0),
                interface: 1,
                mac: mac(0, 1),
            },
        ],
        ports: vec![
            BridgePortPlan {
                vif: 3,
                bridge: 0,
                horizon: None,
            },
            BridgePortPlan {
                vif: 1,
                bridge: 5,
                horizon: None,
            },
        ],
        ethers: vec![],
        host: Default::default(),
        vlan_ports: Vec::new(),
    };
    m.apply_network(&plan);
    let cpu = started(&mut m, 0, "g0");
    lay_out(&mut m.guest_ram(GuestId(0)).unwrap());
    cpu.borrow_mut().script.extend(setup_steps());
    round(&mut m);
    let announced: Vec<u16> = received(&mut m, 0)
        .iter()
        .map(|(_, msg)| u16::from_be_bytes([msg[4], msg[5]]))
        .collect();
    assert_eq!(announced, [1], "only interface 1 exists");
}

#[test]
fn a_new_plan_tells_running_guests_about_their_changed_interfaces() {
    let (mut m, _) = bridged(2);
    let plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        vifs: vec![
            VifPlan {
                guest: GuestId(0),
                interface: 1,
                mac: mac(0, 1),
            },
            VifPlan {
                guest: GuestId(0),
                interface: 3,
                mac: mac(0, 3),
            },
        ],
        ports: vec![],
        ethers: vec![],
        host: Default::default(),
        vlan_ports: Vec::new(),
    };
    m.apply_network(&plan);
    round(&mut m);
    let news: Vec<(u32, u16)> = received(&mut m, 0)
        .iter()
        .map(|(_, msg)| {
            (
                u32::from_be_bytes(msg[0..4].try_into().unwrap()),
                u16::from_be_bytes([msg[4], msg[5]]),
            )
        })
        .collect();
    assert_eq!(news, [(CMD_NEWIFACE, 3)]);
    let gone: Vec<(u32, u16)> = received(&mut m, 1)
        .iter()
        .map(|(_, msg)| {
            (
                u32::from_be_bytes(msg[0..4].try_into().unwrap()),
                u16::from_be_bytes([msg[4], msg[5]]),
            )
        })
        .collect();
    assert_eq!(gone, [(vdevices::CMD_DELIFACE, 1)]);
}
