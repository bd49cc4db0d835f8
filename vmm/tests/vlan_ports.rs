//! VLAN interfaces as bridge ports, through the product's frame loop, against a fake NIC and a
//! fake guest: VLAN 10 of a port (or of a guest's vif) in no bridge is a port of a bridge;
//! frames tagged 10 on the parent enter the bridge untagged, frames the bridge sends to the
//! VLAN leave the parent tagged 10; untagged frames and other VLANs of the parent stay out.

mod common;

use common::nic::*;
use common::*;
use vmm::{NetworkPlan, VlanParent, VlanPortPlan};

const VID: u16 = 10;

fn tagged(frame: &[u8], vid: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00]);
    f.extend_from_slice(&vid.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

fn nothing() -> Vec<Vec<u8>> {
    Vec::new()
}

/// Bridge 0 holds ether2 and VLAN 10 of `parent`; ether1 and the guest's vif are in no bridge.
fn plan(parent: VlanParent) -> NetworkPlan {
    let mut plan = bridge_plan();
    plan.ports.clear();
    plan.ethers[0].bridge = None;
    plan.vlan_ports = vec![VlanPortPlan {
        parent,
        vid: VID,
        bridge: 0,
        horizon: None,
    }];
    plan
}

#[test]
fn vlan_10_of_ether1_bridged_with_ether2_carries_tagged_frames_both_ways() {
    let mut n = Net::new(2, 1, &plan(VlanParent::Ether(0)));
    let hello = frame(BROADCAST, peer(1), 60, 1);
    n.arrive(0, &tagged(&hello, VID));
    n.m.service();
    assert_eq!(
        take_sent(&n.wires[1]),
        std::slice::from_ref(&hello),
        "untagged into the bridge"
    );
    assert_eq!(take_sent(&n.wires[0]), nothing(), "not back out");
    // The answer, unicast to the learned peer: out of ether1, tagged.
    let answer = frame(peer(1), peer(2), 1514, 2);
    n.arrive(1, &answer);
    n.m.service();
    assert_eq!(take_sent(&n.wires[0]), [tagged(&answer, VID)]);
    assert_eq!(take_sent(&n.wires[1]), nothing());
    // Untagged, or of another VLAN: not the bridge's.
    n.arrive(0, &hello);
    n.arrive(0, &tagged(&hello, 20));
    n.m.service();
    assert_eq!(take_sent(&n.wires[1]), nothing());
    assert_eq!(received(&mut n.m, 0), []);
}

#[test]
fn vlan_10_of_a_guests_vif_bridged_with_ether2_carries_tagged_frames_both_ways() {
    let mut n = Net::new(2, 1, &plan(VlanParent::Vif(0)));
    let inner = [0x02, 0, 0, 0, 0, 0x10];
    let hello = frame(BROADCAST, inner, 60, 3);
    send(&mut n.m, 0, 0, 1, &tagged(&hello, VID));
    round(&mut n.m);
    assert_eq!(
        take_sent(&n.wires[1]),
        std::slice::from_ref(&hello),
        "untagged into the bridge"
    );
    assert_eq!(take_sent(&n.wires[0]), nothing(), "ether1 is in no bridge");
    let answer = frame(inner, peer(2), 100, 4);
    n.arrive(1, &answer);
    n.m.service();
    assert_eq!(
        received(&mut n.m, 0),
        [(1, tagged(&answer, VID))],
        "tagged into the guest"
    );
    // Untagged from the guest: its vif is in no bridge, so nowhere.
    send(&mut n.m, 0, 1, 1, &hello);
    round(&mut n.m);
    assert_eq!(take_sent(&n.wires[1]), nothing());
}

#[test]
fn a_vlan_of_a_port_that_is_in_a_bridge_is_not_switched() {
    let mut p = plan(VlanParent::Ether(0));
    p.ethers[0].bridge = Some(0);
    let mut n = Net::new(2, 1, &p);
    let hello = frame(BROADCAST, peer(1), 60, 1);
    n.arrive(0, &tagged(&hello, VID));
    n.m.service();
    // The bridge (VLAN-transparent) takes the port's frames as they are.
    assert_eq!(take_sent(&n.wires[1]), [tagged(&hello, VID)]);
}
