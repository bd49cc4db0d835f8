//! The host's own IP on 802.1Q VLAN interfaces, through the product's frame loop, against a
//! fake NIC: frames of the parent (a port in no bridge, or the host's port in a bridge) tagged
//! with the VLAN's id are the VLAN interface's; the answers and the host's own requests leave
//! tagged, by the parent's way. Untagged frames and other VLANs do not reach its address.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::nic::*;
use common::packets::*;
use common::*;
use vmm::hostip::{IfaceConfig, IfaceId, PingRequest};
use vmm::{HostAttach, NetworkPlan};

const PEER_IP: [u8; 4] = [10, 0, 1, 9];
/// The parent interface (no address of its own).
const PARENT: IfaceId = IfaceId(1);
const VID: u16 = 10;

/// `frame` with an 802.1Q tag of VLAN `vid` after its addresses.
fn tagged(frame: &[u8], vid: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00]);
    f.extend_from_slice(&vid.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

/// The host's address on VLAN 10 of `parent`, which meets the switch at `attach`.
fn vlan_plan(mut plan: NetworkPlan, attach: HostAttach) -> NetworkPlan {
    let mut host = host_plan(HostAttach::Vlan {
        parent: PARENT,
        vid: VID,
    });
    host.ifaces.push(IfaceConfig {
        id: PARENT,
        ..host.ifaces[0]
    });
    host.links.insert(0, (PARENT, attach));
    plan.host = host;
    plan
}

/// ether1 and ether2 in no bridge; VLAN 10 on ether1 has the host's address.
fn standalone() -> NetworkPlan {
    let mut plan = bridge_plan();
    plan.ports.clear();
    for e in &mut plan.ethers {
        e.bridge = None;
    }
    vlan_plan(plan, HostAttach::Ether(0))
}

/// ether1, ether2 and a vif in a bridge; VLAN 10 on the bridge has the host's address.
fn on_bridge() -> NetworkPlan {
    vlan_plan(bridge_plan(), HostAttach::Bridge(0))
}

fn who_has() -> Vec<u8> {
    arp(1, (peer(1), PEER_IP), ([0; 6], HOST_IP), BROADCAST)
}

/// A peer behind `port` on VLAN 10 asks for the host's address and pings it: both answers
/// leave `port` tagged with VLAN 10.
fn a_tagged_peer_reaches_the_host(plan: &NetworkPlan, port: usize) {
    let mut n = Net::new(2, 1, plan);
    n.arrive(port, &tagged(&who_has(), VID));
    n.m.service();
    let sent = take_sent(&n.wires[port]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let reply = &sent[0];
    assert_eq!((&reply[..6], &reply[6..12]), (&peer(1)[..], &HOST_MAC[..]));
    assert_eq!(
        reply[12..16],
        [0x81, 0x00, 0x00, 0x0A],
        "tagged with VLAN 10"
    );
    assert_eq!(reply[16..18], [0x08, 0x06]);
    assert_eq!(reply[24..26], [0, 2], "an ARP reply");
    assert_eq!(reply[32..36], HOST_IP);
    let request = echo(8, (peer(1), PEER_IP), (HOST_MAC, HOST_IP), 7, 1, b"ping me");
    n.arrive(port, &tagged(&request, VID));
    n.m.service();
    let sent = take_sent(&n.wires[port]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let reply = &sent[0];
    assert_eq!(reply[12..16], [0x81, 0x00, 0x00, 0x0A]);
    assert_eq!((reply[27], reply[38]), (1, 0), "ICMP echo reply");
    assert_eq!(reply[46..], *b"ping me");
}

#[test]
fn a_peer_on_vlan_10_of_a_port_reaches_the_hosts_vlan_address() {
    a_tagged_peer_reaches_the_host(&standalone(), 0);
}

#[test]
fn a_peer_on_vlan_10_behind_a_bridged_port_reaches_the_hosts_vlan_address() {
    a_tagged_peer_reaches_the_host(&on_bridge(), 1);
}

#[test]
fn untagged_frames_and_other_vlans_do_not_reach_the_vlans_address() {
    for plan in [standalone(), on_bridge()] {
        let mut n = Net::new(2, 1, &plan);
        n.arrive(0, &who_has());
        n.arrive(0, &tagged(&who_has(), 20));
        n.m.service();
        let from_host = |n: &Net, p: usize| {
            take_sent(&n.wires[p])
                .into_iter()
                .filter(|f| f[6..12] == HOST_MAC)
                .count()
        };
        assert_eq!(from_host(&n, 0) + from_host(&n, 1), 0);
        let drops = n.m.host_ip().stats().rx_frames;
        assert_eq!(drops, 2, "both reached the endpoint, on the parent");
    }
}

#[test]
fn the_hosts_ping_on_a_vlan_asks_and_sends_tagged() {
    let mut n = Net::new(2, 1, &standalone());
    let mut request = PingRequest::new(IpAddr::V4(Ipv4Addr::from(PEER_IP)));
    request.count = Some(1);
    let now = n.m.now_us();
    n.m.host_ip_mut().ping_start(now, &request).unwrap();
    n.m.service();
    let sent = take_sent(&n.wires[0]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0][..6], BROADCAST);
    assert_eq!(
        sent[0][12..18],
        [0x81, 0x00, 0x00, 0x0A, 0x08, 0x06],
        "a tagged who-has"
    );
    assert_eq!(take_sent(&n.wires[1]), Vec::<Vec<u8>>::new());
    let is_at = arp(2, (peer(1), PEER_IP), (HOST_MAC, HOST_IP), HOST_MAC);
    n.arrive(0, &tagged(&is_at, VID));
    n.m.service();
    let sent = take_sent(&n.wires[0]);
    assert_eq!(sent.len(), 1, "the echo request: {sent:?}");
    assert_eq!(sent[0][..6], peer(1));
    assert_eq!(sent[0][12..18], [0x81, 0x00, 0x00, 0x0A, 0x08, 0x00]);
}

#[test]
fn a_vlan_whose_parent_has_no_place_is_not_attached() {
    // The parent is listed after the VLAN's link is tried against a plan without it.
    let mut plan = standalone();
    plan.host.links.remove(0);
    let mut n = Net::new(2, 1, &plan);
    n.arrive(0, &tagged(&who_has(), VID));
    n.m.service();
    assert_eq!(take_sent(&n.wires[0]), Vec::<Vec<u8>>::new());
}

/// A neighbour solicitation from `src` (`src_mac`) for `target`, to its solicited-node group.
fn neighbor_solicitation(src_mac: [u8; 6], src: [u8; 16], target: [u8; 16]) -> Vec<u8> {
    let mut group = [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0, 0, 0];
    group[13..].copy_from_slice(&target[13..]);
    let mut icmp = vec![135, 0, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&target);
    icmp.extend_from_slice(&[1, 1]);
    icmp.extend_from_slice(&src_mac);
    let mut pseudo = src.to_vec();
    pseudo.extend_from_slice(&group);
    pseudo.extend_from_slice(&(icmp.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 58]);
    pseudo.extend_from_slice(&icmp);
    icmp[2..4].copy_from_slice(&checksum(&pseudo).to_be_bytes());
    let mut f = vec![0x33, 0x33, group[12], group[13], group[14], group[15]];
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x86, 0xDD, 0x60, 0, 0, 0]);
    f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[58, 255]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&group);
    f.extend_from_slice(&icmp);
    f
}

#[test]
fn the_hosts_ipv6_address_on_a_vlan_answers_neighbor_discovery_tagged() {
    let host_v6: [u8; 16] = "2001:db8:10::1"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let peer_v6: [u8; 16] = "2001:db8:10::2"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let mut plan = standalone();
    plan.host.addrs.push(vmm::hostip::AddrConfig {
        iface: HOST_IFACE,
        addr: IpAddr::from(host_v6),
        prefix_len: 64,
    });
    let mut n = Net::new(2, 1, &plan);
    let ns = neighbor_solicitation(peer(1), peer_v6, host_v6);
    n.arrive(0, &ns);
    n.m.service();
    assert_eq!(
        take_sent(&n.wires[0]),
        Vec::<Vec<u8>>::new(),
        "untagged: not the VLAN's"
    );
    n.arrive(0, &tagged(&ns, VID));
    n.m.service();
    let sent = take_sent(&n.wires[0]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let na = &sent[0];
    assert_eq!(na[..6], peer(1));
    assert_eq!(
        na[12..18],
        [0x81, 0x00, 0x00, 0x0A, 0x86, 0xDD],
        "tagged IPv6"
    );
    assert_eq!(na[18 + 40], 136, "a neighbour advertisement");
    assert_eq!(na[18 + 48..18 + 64], host_v6);
}
