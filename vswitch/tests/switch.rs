//! Switching rules: learning, flooding, isolation, horizon, ageing, removal, VLANs, table full.

use vswitch::{
    BridgeConfig, DropReason, EgressEdit, Forward, MacAddr, PortId, PortSet, PortSettings,
    PortVlan, Seconds, Switch, SwitchError, VlanList,
};

type Sw = Switch<32, 4, 256>;

fn mac(n: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, n]
}

fn frame(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.resize(60, 0xAB);
    f
}

fn tagged(dst: [u8; 6], src: [u8; 6], tci: u16) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x81, 0x00]);
    f.extend_from_slice(&tci.to_be_bytes());
    f.extend_from_slice(&[0x08, 0x00]);
    f.resize(64, 0xAB);
    f
}

fn set(ports: &[PortId]) -> PortSet {
    let mut s = PortSet::EMPTY;
    ports.iter().for_each(|&p| s.insert(p));
    s
}

const BCAST: [u8; 6] = [0xFF; 6];
const T0: Seconds = Seconds(1000);

/// One bridge with `n` plain ports.
fn bridge_with(n: usize) -> (Sw, Vec<PortId>) {
    let mut sw = Sw::new();
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let ports = (0..n)
        .map(|_| {
            let p = sw.add_port().unwrap();
            sw.attach(p, br, PortSettings::default()).unwrap();
            p
        })
        .collect();
    (sw, ports)
}

#[test]
fn learns_floods_and_forwards() {
    let (mut sw, p) = bridge_with(4);
    assert_eq!(
        sw.forward(T0, p[0], &frame(BCAST, mac(1))),
        Forward::Flood(set(&[p[1], p[2], p[3]]))
    );
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(9), mac(2))),
        Forward::Flood(set(&[p[0], p[2], p[3]])),
        "unknown unicast floods"
    );
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(1), mac(2))),
        Forward::Unicast(p[0])
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(mac(2), mac(1))),
        Forward::Unicast(p[1])
    );
    let multicast = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
    assert_eq!(
        sw.forward(T0, p[2], &frame(multicast, mac(3))),
        Forward::Flood(set(&[p[0], p[1], p[3]]))
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(mac(1), mac(1))),
        Forward::Drop(DropReason::SamePort)
    );
    assert_eq!(sw.stats().learned, 3);
}

#[test]
fn bad_frames_and_ports() {
    let (mut sw, p) = bridge_with(2);
    let lone = sw.add_port().unwrap();
    assert_eq!(
        sw.forward(T0, lone, &frame(BCAST, mac(1))),
        Forward::Drop(DropReason::NotInBridge)
    );
    assert_eq!(
        sw.forward(T0, PortId::new(31), &frame(BCAST, mac(1))),
        Forward::Drop(DropReason::UnknownPort)
    );
    assert_eq!(
        sw.forward(T0, PortId::new(300), &frame(BCAST, mac(1))),
        Forward::Drop(DropReason::UnknownPort)
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(BCAST, mac(1))[..13]),
        Forward::Drop(DropReason::Runt)
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(mac(2), BCAST)),
        Forward::Drop(DropReason::InvalidSource)
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(mac(2), [0; 6])),
        Forward::Drop(DropReason::InvalidSource)
    );
    let stp = [0x01, 0x80, 0xC2, 0, 0, 0];
    assert_eq!(
        sw.forward(T0, p[0], &frame(stp, mac(5))),
        Forward::Drop(DropReason::ReservedDestination)
    );
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(5), mac(6))),
        Forward::Unicast(p[0]),
        "source of the BPDU was learned"
    );
    let (mut single, q) = bridge_with(1);
    assert_eq!(
        single.forward(T0, q[0], &frame(BCAST, mac(1))),
        Forward::Drop(DropReason::NoEgressPort)
    );
}

#[test]
fn bridges_are_isolated() {
    let mut sw = Sw::new();
    let (b1, b2) = (
        sw.add_bridge(BridgeConfig::default()).unwrap(),
        sw.add_bridge(BridgeConfig::default()).unwrap(),
    );
    let p: Vec<PortId> = (0..4).map(|_| sw.add_port().unwrap()).collect();
    sw.attach(p[0], b1, PortSettings::default()).unwrap();
    sw.attach(p[1], b1, PortSettings::default()).unwrap();
    sw.attach(p[2], b2, PortSettings::default()).unwrap();
    sw.attach(p[3], b2, PortSettings::default()).unwrap();
    assert_eq!(
        sw.forward(T0, p[0], &frame(BCAST, mac(1))),
        Forward::Flood(set(&[p[1]]))
    );
    assert_eq!(
        sw.forward(T0, p[2], &frame(BCAST, mac(3))),
        Forward::Flood(set(&[p[3]]))
    );
    // mac(3) is known in bridge 2 only: from bridge 1 it is unknown.
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(3), mac(2))),
        Forward::Flood(set(&[p[0]]))
    );
    assert_eq!(
        sw.attach(p[0], b2, PortSettings::default()),
        Err(SwitchError::PortInOtherBridge)
    );
}

#[test]
fn horizon() {
    let mut sw = Sw::new();
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let p: Vec<PortId> = (0..4).map(|_| sw.add_port().unwrap()).collect();
    let h = |horizon| PortSettings {
        horizon,
        ..Default::default()
    };
    sw.attach(p[0], br, h(Some(1))).unwrap();
    sw.attach(p[1], br, h(Some(1))).unwrap();
    sw.attach(p[2], br, h(Some(2))).unwrap();
    sw.attach(p[3], br, h(None)).unwrap();
    assert_eq!(
        sw.forward(T0, p[0], &frame(BCAST, mac(1))),
        Forward::Flood(set(&[p[2], p[3]]))
    );
    assert_eq!(
        sw.forward(T0, p[1], &frame(BCAST, mac(2))),
        Forward::Flood(set(&[p[2], p[3]]))
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(mac(2), mac(1))),
        Forward::Drop(DropReason::Horizon)
    );
    assert_eq!(
        sw.forward(T0, p[2], &frame(mac(1), mac(3))),
        Forward::Unicast(p[0])
    );
    assert_eq!(
        sw.forward(T0, p[3], &frame(BCAST, mac(4))),
        Forward::Flood(set(&[p[0], p[1], p[2]]))
    );
}

#[test]
fn ageing() {
    let mut sw = Sw::new();
    let br = sw
        .add_bridge(BridgeConfig {
            ageing_time: 60,
            ..Default::default()
        })
        .unwrap();
    let p: Vec<PortId> = (0..3).map(|_| sw.add_port().unwrap()).collect();
    p.iter()
        .for_each(|&q| sw.attach(q, br, PortSettings::default()).unwrap());
    sw.forward(Seconds(0), p[0], &frame(BCAST, mac(1)));
    assert_eq!(
        sw.forward(Seconds(59), p[1], &frame(mac(1), mac(2))),
        Forward::Unicast(p[0])
    );
    assert_eq!(
        sw.forward(Seconds(60), p[1], &frame(mac(1), mac(2))),
        Forward::Flood(set(&[p[0], p[2]]))
    );
    // Default ageing is 5 minutes.
    let (mut sw, p) = bridge_with(2);
    sw.forward(Seconds(10), p[0], &frame(BCAST, mac(1)));
    assert_eq!(
        sw.forward(Seconds(309), p[1], &frame(mac(1), mac(2))),
        Forward::Unicast(p[0])
    );
    assert_eq!(sw.hosts(Seconds(309)).count(), 2);
    sw.age_out(Seconds(310));
    let hosts: Vec<_> = sw.hosts(Seconds(310)).collect();
    assert_eq!(hosts.len(), 1, "mac(1) swept, mac(2) seen at 309 stays");
    assert_eq!(
        (hosts[0].mac, hosts[0].port, hosts[0].age),
        (MacAddr(mac(2)), p[1], 1)
    );
    // Wrapping clock.
    let (mut sw, p) = bridge_with(2);
    sw.forward(Seconds(u32::MAX - 5), p[0], &frame(BCAST, mac(1)));
    assert_eq!(
        sw.forward(Seconds(100), p[1], &frame(mac(1), mac(2))),
        Forward::Unicast(p[0])
    );
}

#[test]
fn station_moves() {
    let (mut sw, p) = bridge_with(3);
    sw.forward(T0, p[0], &frame(BCAST, mac(1)));
    sw.forward(T0, p[2], &frame(BCAST, mac(1)));
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(1), mac(2))),
        Forward::Unicast(p[2])
    );
    assert_eq!(sw.stats().moved, 1);
}

#[test]
fn removal_flushes() {
    let mut sw = Sw::new();
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let p: Vec<PortId> = (0..3).map(|_| sw.add_port().unwrap()).collect();
    p.iter()
        .for_each(|&q| sw.attach(q, br, PortSettings::default()).unwrap());
    sw.forward(T0, p[0], &frame(BCAST, mac(1)));
    sw.forward(T0, p[1], &frame(BCAST, mac(2)));
    sw.detach(p[0]).unwrap();
    assert!(sw.hosts(T0).all(|h| h.port != p[0]));
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(1), mac(2))),
        Forward::Flood(set(&[p[2]]))
    );
    assert_eq!(
        sw.forward(T0, p[0], &frame(mac(2), mac(1))),
        Forward::Drop(DropReason::NotInBridge)
    );
    sw.remove_port(p[2]).unwrap();
    assert_eq!(
        sw.forward(T0, p[1], &frame(BCAST, mac(2))),
        Forward::Drop(DropReason::NoEgressPort)
    );
    assert_eq!(sw.add_port(), Ok(p[2]), "slot reused");
    sw.remove_bridge(br).unwrap();
    assert_eq!(sw.hosts(T0).count(), 0);
    assert_eq!(sw.port_bridge(p[1]), Ok(None));
    assert_eq!(
        sw.forward(T0, p[1], &frame(BCAST, mac(2))),
        Forward::Drop(DropReason::NotInBridge)
    );
    assert_eq!(sw.remove_bridge(br), Err(SwitchError::UnknownBridge));
}

#[test]
fn full_table_floods_new_stations_and_keeps_known_ones() {
    let mut sw = Switch::<8, 1, 16>::new();
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let p: Vec<PortId> = (0..3).map(|_| sw.add_port().unwrap()).collect();
    p.iter()
        .for_each(|&q| sw.attach(q, br, PortSettings::default()).unwrap());
    for n in 0..14 {
        sw.forward(T0, p[0], &frame(BCAST, mac(n)));
    }
    sw.forward(T0, p[1], &frame(BCAST, mac(100)));
    assert_eq!(sw.stats().table_full, 1);
    assert_eq!(
        sw.forward(T0, p[2], &frame(mac(100), mac(0))),
        Forward::Flood(set(&[p[0], p[1]])),
        "not learned: flooded"
    );
    assert_eq!(
        sw.forward(T0, p[2], &frame(mac(13), mac(0))),
        Forward::Unicast(p[0]),
        "known stations stay"
    );
}

fn vlan_port(pvid: Option<u16>, tagged: &[u16]) -> PortSettings {
    PortSettings {
        horizon: None,
        vlan: PortVlan {
            pvid,
            tagged: VlanList::of(tagged).unwrap(),
        },
    }
}

#[test]
fn vlan_filtering_access_and_trunk() {
    let mut sw = Sw::new();
    let br = sw
        .add_bridge(BridgeConfig {
            vlan_filtering: true,
            ..Default::default()
        })
        .unwrap();
    let p: Vec<PortId> = (0..5).map(|_| sw.add_port().unwrap()).collect();
    sw.attach(p[0], br, vlan_port(Some(10), &[])).unwrap(); // access 10
    sw.attach(p[1], br, vlan_port(Some(10), &[])).unwrap(); // access 10
    sw.attach(p[2], br, vlan_port(Some(20), &[])).unwrap(); // access 20
    sw.attach(p[3], br, vlan_port(None, &[10, 20])).unwrap(); // trunk
    sw.attach(p[4], br, vlan_port(Some(1), &[20])).unwrap(); // hybrid
    let f = frame(BCAST, mac(1));
    assert_eq!(sw.forward(T0, p[0], &f), Forward::Flood(set(&[p[1], p[3]])));
    assert_eq!(sw.egress_edit(p[0], p[1], &f), EgressEdit::Keep);
    assert_eq!(sw.egress_edit(p[0], p[3], &f), EgressEdit::InsertTag(10));
    let t20 = tagged(BCAST, mac(2), 20);
    assert_eq!(
        sw.forward(T0, p[3], &t20),
        Forward::Flood(set(&[p[2], p[4]]))
    );
    assert_eq!(sw.egress_edit(p[3], p[2], &t20), EgressEdit::StripTag);
    assert_eq!(sw.egress_edit(p[3], p[4], &t20), EgressEdit::Keep);
    // Ingress filtering.
    assert_eq!(
        sw.forward(T0, p[3], &frame(BCAST, mac(3))),
        Forward::Drop(DropReason::VlanNotAdmitted),
        "trunk: no pvid"
    );
    assert_eq!(
        sw.forward(T0, p[0], &tagged(BCAST, mac(3), 20)),
        Forward::Drop(DropReason::VlanNotAdmitted)
    );
    // Priority-tagged frames belong to the pvid; leaving tagged they get the VLAN id.
    let prio = tagged(BCAST, mac(4), 0xA000);
    assert_eq!(
        sw.forward(T0, p[0], &prio),
        Forward::Flood(set(&[p[1], p[3]]))
    );
    assert_eq!(
        sw.egress_edit(p[0], p[3], &prio),
        EgressEdit::SetTci(0xA00A)
    );
    assert_eq!(sw.egress_edit(p[0], p[1], &prio), EgressEdit::StripTag);
    // Learning is per VLAN: mac(1) known in 10, unknown in 20.
    assert_eq!(
        sw.forward(T0, p[3], &tagged(mac(1), mac(5), 10)),
        Forward::Unicast(p[0])
    );
    assert_eq!(
        sw.forward(T0, p[3], &tagged(mac(1), mac(5), 20)),
        Forward::Flood(set(&[p[2], p[4]]))
    );
}

#[test]
fn vlan_transparent_bridge_learns_per_vlan_and_keeps_tags() {
    let (mut sw, p) = bridge_with(3);
    let t = tagged(BCAST, mac(1), 10);
    assert_eq!(sw.forward(T0, p[0], &t), Forward::Flood(set(&[p[1], p[2]])));
    assert_eq!(sw.egress_edit(p[0], p[1], &t), EgressEdit::Keep);
    assert_eq!(
        sw.forward(T0, p[1], &tagged(mac(1), mac(2), 10)),
        Forward::Unicast(p[0])
    );
    assert_eq!(
        sw.forward(T0, p[1], &frame(mac(1), mac(2))),
        Forward::Flood(set(&[p[0], p[2]])),
        "VLAN 0 is another table"
    );
}

#[test]
fn changing_vlans_flushes_the_port() {
    let mut sw = Sw::new();
    let br = sw
        .add_bridge(BridgeConfig {
            vlan_filtering: true,
            ..Default::default()
        })
        .unwrap();
    let p: Vec<PortId> = (0..2).map(|_| sw.add_port().unwrap()).collect();
    sw.attach(p[0], br, vlan_port(Some(10), &[])).unwrap();
    sw.attach(p[1], br, vlan_port(Some(10), &[])).unwrap();
    sw.forward(T0, p[0], &frame(BCAST, mac(1)));
    assert_eq!(sw.hosts(T0).count(), 1);
    sw.attach(p[0], br, vlan_port(Some(10), &[])).unwrap();
    assert_eq!(sw.hosts(T0).count(), 1, "same settings: kept");
    sw.attach(p[0], br, vlan_port(Some(30), &[])).unwrap();
    assert_eq!(sw.hosts(T0).count(), 0);
}

#[test]
fn clear_makes_a_switch_as_new_in_place() {
    let (mut sw, p) = bridge_with(3);
    sw.forward(T0, p[0], &frame(BCAST, mac(1)));
    sw.forward(T0, p[1], &frame(mac(1), mac(2)));
    assert!(sw.stats().learned >= 2);
    sw.clear();
    assert_eq!(sw.stats(), Sw::new().stats());
    // Ids start over, and nothing learned before is known: a frame to mac(1) floods.
    let br = sw.add_bridge(BridgeConfig::default()).unwrap();
    let fresh: Vec<PortId> = (0..3)
        .map(|_| {
            let q = sw.add_port().unwrap();
            sw.attach(q, br, PortSettings::default()).unwrap();
            q
        })
        .collect();
    assert_eq!(fresh, p);
    assert_eq!(
        sw.forward(T0, p[2], &frame(mac(1), mac(3))),
        Forward::Flood(set(&[p[0], p[1]]))
    );
}
