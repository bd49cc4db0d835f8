//! Every way a frame reaches a guest sets virq 3 (its virtual ethernet's bit) in the guest's
//! virq word and asserts its interrupt, before the guest runs again: from a physical port
//! through a bridge, from a port through a VLAN of the guest's vif, from another guest, from
//! the host's own IP, and back into the sending guest (a hairpin). A frame that finds no
//! buffer posted sets nothing.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::nic::*;
use common::packets::*;
use common::*;
use guest_mem::Gva;
use vmm::hostip::PingRequest;
use vmm::{BridgePortPlan, GuestId, HostAttach, NetworkPlan, VifPlan, VlanParent, VlanPortPlan};
use vswitch::BridgeConfig;

/// Virtual ethernet's bit in the virq word (`setup_steps` opens queue 3 with irq 3).
const VETH_BIT: u32 = 1 << 3;

/// The guest's virq word as it would read it now.
fn virq_word(m: &mut vmm::Manager<FakeMachine>, id: u8) -> u32 {
    let ram = m.guest_ram(GuestId(id)).unwrap();
    ram.read_u32(Gva::new(VIRQ)).unwrap()
}

/// What one step must leave: the frames in the guest's RX ring, its virq word with bit 3 only,
/// and one more interrupt asserted.
fn assert_raised(
    m: &mut vmm::Manager<FakeMachine>,
    cpu: &std::rc::Rc<std::cell::RefCell<CpuState>>,
    injected_before: u32,
    frames: usize,
) {
    assert_eq!(virq_word(m, 0), VETH_BIT, "virq 3 set, nothing else");
    assert_eq!(
        cpu.borrow().injected - injected_before,
        1,
        "one interrupt asserted"
    );
    assert_eq!(received(m, 0).len(), frames);
}

fn injected(cpu: &std::rc::Rc<std::cell::RefCell<CpuState>>) -> u32 {
    cpu.borrow().injected
}

#[test]
fn frames_from_a_port_through_a_bridge_set_virq_3() {
    let mut n = Net::new(2, 1, &bridge_plan());
    let cpu = n.cpus[0].clone();
    assert_eq!(virq_word(&mut n.m, 0), 0);
    let before = injected(&cpu);
    for i in 0..3 {
        n.arrive(0, &frame(BROADCAST, peer(1), 60, i));
    }
    n.m.service();
    assert_raised(&mut n.m, &cpu, before, 3);
    // A unicast frame to the learned guest, in a pass of its own: raised again.
    let before = injected(&cpu);
    n.arrive(1, &frame(mac(0, 1), peer(2), 60, 9));
    n.m.service();
    assert_raised(&mut n.m, &cpu, before, 1);
}

#[test]
fn a_frame_that_finds_no_buffer_sets_nothing() {
    let mut n = Net::new(2, 1, &bridge_plan());
    let cpu = n.cpus[0].clone();
    // The guest has not taken back any buffer: the ring's 32 fill, the rest find none.
    for i in 0..32 {
        n.arrive(0, &frame(BROADCAST, peer(1), 60, i));
    }
    n.m.service();
    assert_eq!(virq_word(&mut n.m, 0), VETH_BIT);
    // Clear the word as the guest's handler would, leaving the buffers filled.
    let mut ram = n.m.guest_ram(GuestId(0)).unwrap();
    ram.write_u32(Gva::new(VIRQ), 0).unwrap();
    let before = injected(&cpu);
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 99));
    n.m.service();
    assert_eq!(virq_word(&mut n.m, 0), 0, "dropped: no bit set");
    assert_eq!(injected(&cpu), before, "dropped: no interrupt");
    assert_eq!(received(&mut n.m, 0).len(), 32);
}

#[test]
fn a_frame_from_a_port_through_a_vlan_of_the_vif_sets_virq_3() {
    let mut plan = bridge_plan();
    plan.ports.clear();
    plan.ethers[0].bridge = None;
    plan.vlan_ports = vec![VlanPortPlan {
        parent: VlanParent::Vif(0),
        vid: 10,
        bridge: 0,
        horizon: None,
    }];
    let mut n = Net::new(2, 1, &plan);
    let cpu = n.cpus[0].clone();
    let before = injected(&cpu);
    n.arrive(1, &frame(BROADCAST, peer(2), 100, 4));
    n.m.service();
    assert_raised(&mut n.m, &cpu, before, 1);
}

/// Guests `0..2`, interface 1 each, in one bridge.
fn two_guests() -> (
    vmm::Manager<FakeMachine>,
    Vec<std::rc::Rc<std::cell::RefCell<CpuState>>>,
) {
    let mut m = manager(None);
    let mut plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        ..Default::default()
    };
    for g in 0..2 {
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
    let cpus = (0..2)
        .map(|g| {
            let cpu = started(&mut m, g, &format!("g{g}"));
            bring_up(&mut m, g, &cpu);
            cpu
        })
        .collect();
    (m, cpus)
}

#[test]
fn a_frame_from_another_guest_sets_virq_3() {
    let (mut m, cpus) = two_guests();
    let before = injected(&cpus[0]);
    send(&mut m, 1, 0, 1, &frame(BROADCAST, mac(1, 1), 60, 0));
    m.service();
    assert_raised(&mut m, &cpus[0], before, 1);
}

#[test]
fn a_frame_between_two_interfaces_of_one_guest_sets_virq_3() {
    let mut m = manager(None);
    let mut plan = NetworkPlan {
        bridges: vec![BridgeConfig::default()],
        ..Default::default()
    };
    for iface in 1..=2 {
        plan.vifs.push(VifPlan {
            guest: GuestId(0),
            interface: iface,
            mac: mac(0, iface),
        });
        plan.ports.push(BridgePortPlan {
            vif: usize::from(iface - 1),
            bridge: 0,
            horizon: None,
        });
    }
    m.apply_network(&plan);
    let cpu = started(&mut m, 0, "g0");
    bring_up(&mut m, 0, &cpu);
    let before = injected(&cpu);
    send(&mut m, 0, 0, 1, &frame(BROADCAST, mac(0, 1), 60, 0));
    m.service();
    assert_raised(&mut m, &cpu, before, 1);
}

#[test]
fn a_frame_from_the_hosts_ip_sets_virq_3() {
    let mut m = manager(None);
    let plan = NetworkPlan {
        vifs: vec![VifPlan {
            guest: GuestId(0),
            interface: 1,
            mac: mac(0, 1),
        }],
        host: host_plan(HostAttach::Vif(0)),
        ..Default::default()
    };
    m.apply_network(&plan);
    let cpu = started(&mut m, 0, "g0");
    bring_up(&mut m, 0, &cpu);
    let before = injected(&cpu);
    let mut request = PingRequest::new(IpAddr::V4(Ipv4Addr::from([10, 0, 1, 2])));
    request.count = Some(1);
    let now = m.now_us();
    m.host_ip_mut().ping_start(now, &request).unwrap();
    m.service();
    assert_raised(&mut m, &cpu, before, 1);
}
