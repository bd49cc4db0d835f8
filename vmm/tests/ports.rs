//! Physical ports as switch ports, through the product's frame loop, against a fake NIC:
//! ether to ether and ether to vif (and back) in one bridge, learning and flooding, horizons,
//! link down and disabled ports, a port in no bridge that is no host interface, the receive
//! budget per pass, one doorbell per pass, counters.

mod common;

use common::nic::*;
use common::*;
use vmm::ether::RX_BUDGET;

#[test]
fn a_broadcast_from_a_port_floods_to_the_other_port_and_the_guest() {
    let mut n = Net::new(2, 1, &bridge_plan());
    let hello = frame(BROADCAST, peer(1), 60, 0x11);
    n.arrive(0, &hello);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), std::slice::from_ref(&hello));
    assert_eq!(
        take_sent(&n.wires[0]),
        Vec::<Vec<u8>>::new(),
        "not back out"
    );
    assert_eq!(received(&mut n.m, 0), [(1, hello)]);
}

#[test]
fn frames_from_a_port_to_a_guest_raise_its_interrupt_once_a_pass() {
    let mut n = Net::new(2, 1, &bridge_plan());
    let frames: Vec<_> = (0..3).map(|i| frame(BROADCAST, peer(1), 60, i)).collect();
    for f in &frames {
        n.arrive(0, f);
    }
    let before = n.cpus[0].borrow().injected;
    n.m.service();
    let got: Vec<_> = received(&mut n.m, 0).into_iter().map(|(_, f)| f).collect();
    assert_eq!(got, frames, "all three delivered in the pass");
    assert_eq!(
        n.cpus[0].borrow().injected - before,
        1,
        "one interrupt for the pass's frames"
    );
}

#[test]
fn the_switch_learns_wire_addresses_and_answers_go_out_of_one_port() {
    let mut n = Net::new(2, 1, &bridge_plan());
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 1));
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    take_sent(&n.wires[0]);
    take_sent(&n.wires[1]);
    received(&mut n.m, 0);
    // Port to port, unicast: only ether2 sends it.
    let to_peer2 = frame(peer(2), peer(1), 1514, 3);
    n.arrive(0, &to_peer2);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), [to_peer2]);
    assert_eq!(received(&mut n.m, 0), []);
    // Guest to wire, unicast: only ether1 sends it.
    let to_peer1 = frame(peer(1), mac(0, 1), 100, 4);
    send(&mut n.m, 0, 0, 1, &to_peer1);
    round(&mut n.m);
    assert_eq!(take_sent(&n.wires[0]), [to_peer1]);
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    // Wire to guest, unicast.
    let to_guest = frame(mac(0, 1), peer(2), 64, 5);
    n.arrive(1, &to_guest);
    n.m.service();
    assert_eq!(received(&mut n.m, 0), [(1, to_guest)]);
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
}

#[test]
fn ports_with_one_horizon_do_not_forward_to_each_other() {
    let mut plan = bridge_plan();
    plan.ethers[0].horizon = Some(1);
    plan.ethers[1].horizon = Some(1);
    let mut n = Net::new(2, 1, &plan);
    let hello = frame(BROADCAST, peer(1), 60, 1);
    n.arrive(0, &hello);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    assert_eq!(
        received(&mut n.m, 0),
        [(1, hello)],
        "the vif has no horizon"
    );
}

#[test]
fn a_port_whose_link_is_down_sends_nothing_and_counts_it() {
    let mut n = Net::new(2, 1, &bridge_plan());
    {
        let mut w = n.wires[1].borrow_mut();
        w.link_down = true;
        w.link_changed = true;
    }
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 1));
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    assert_eq!(n.m.net().port_counters(1).unwrap().tx_drops, 1);
    // What arrives on it while down is dropped too (a device may still hand it up).
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
    assert_eq!(n.m.net().port_counters(1).unwrap().rx_drops, 1);
    // Link up again: traffic flows.
    {
        let mut w = n.wires[1].borrow_mut();
        w.link_down = false;
        w.link_changed = true;
    }
    let again = frame(BROADCAST, peer(1), 60, 3);
    n.arrive(0, &again);
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), [again]);
}

#[test]
fn a_disabled_port_passes_nothing() {
    let mut plan = bridge_plan();
    plan.ethers[1].enabled = false;
    let mut n = Net::new(2, 1, &plan);
    n.arrive(0, &frame(BROADCAST, peer(1), 60, 1));
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
    assert_eq!(received(&mut n.m, 0).len(), 1, "only ether1's frame");
}

#[test]
fn a_port_in_no_bridge_that_is_no_host_interface_passes_its_frames_nowhere() {
    let mut plan = bridge_plan();
    plan.ethers[1].bridge = None;
    let mut n = Net::new(2, 1, &plan);
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 7));
    n.m.service();
    assert_eq!(received(&mut n.m, 0), []);
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
}

#[test]
fn a_port_not_in_the_plan_passes_nothing() {
    let mut plan = bridge_plan();
    plan.ethers.truncate(1);
    let mut n = Net::new(2, 1, &plan);
    n.arrive(1, &frame(BROADCAST, peer(2), 60, 2));
    n.m.service();
    assert_eq!(received(&mut n.m, 0), []);
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
}

#[test]
fn a_pass_takes_a_budget_of_frames_per_port_and_rings_one_doorbell() {
    let mut n = Net::new(2, 0, &bridge_plan());
    for i in 0..RX_BUDGET + 10 {
        n.arrive(0, &frame(BROADCAST, peer(1), 60, i as u8));
    }
    n.m.service();
    assert!(n.m.ports_busy(), "frames are left: poll again soon");
    assert_eq!(take_sent(&n.wires[1]).len(), RX_BUDGET);
    assert_eq!(
        n.wires[1].borrow().doorbells,
        1,
        "one doorbell for the pass"
    );
    n.m.service();
    assert!(!n.m.ports_busy());
    assert_eq!(take_sent(&n.wires[1]).len(), 10);
    n.m.service();
    assert_eq!(
        n.wires[1].borrow().doorbells,
        2,
        "no doorbell for an empty pass"
    );
}

#[test]
fn a_full_transmit_ring_drops_and_counts_without_stopping_the_others() {
    let mut n = Net::new(2, 1, &bridge_plan());
    n.wires[1].borrow_mut().tx_slots = Some(3);
    for i in 0..5 {
        n.arrive(0, &frame(BROADCAST, peer(1), 60, i));
    }
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]).len(), 3);
    assert_eq!(n.m.net().port_counters(1).unwrap().tx_queue_drops, 2);
    assert_eq!(received(&mut n.m, 0).len(), 5, "the guest got every one");
    let c = n.m.net().port_counters(0).unwrap();
    assert_eq!((c.rx_frames, c.rx_bytes), (5, 300));
}
