//! Routing through the product's frame loop (`Manager::service_routing`), against fake NICs and
//! a real RIB: ether1 (10.1.0.1/24) and ether2 (10.2.0.1/24) in no bridge, a peer on each. A
//! packet from one peer to the other resolves the next hop (an ARP request out of ether2),
//! waits, and leaves with its TTL decremented once the answer is in; the next one goes at
//! once; a packet with TTL 1 is answered with time exceeded from ether1's address; a packet
//! for the host itself is answered by the host; a destination without a route gets network
//! unreachable; and `service` (no route source) routes nothing. A bridge with an address and a
//! VLAN interface route as a port does (the VLAN's frames untagged out of ether2, tagged back).

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::nic::*;
use common::packets::*;
use common::BROADCAST;
use vmm::hostip::{AddrConfig, IfaceConfig, IfaceId};
use vmm::{HostAttach, HostPlan, NetworkPlan};

use routing::{AddressSpec, FibConfig, IfId, InterfaceState, Rib, RibConfig};

const MAC1: [u8; 6] = [0x02, 0x4D, 0x52, 0, 0, 0x11];
const MAC2: [u8; 6] = [0x02, 0x4D, 0x52, 0, 0, 0x12];
const ADDR1: [u8; 4] = [10, 1, 0, 1];
const ADDR2: [u8; 4] = [10, 2, 0, 1];
const PEER1: [u8; 4] = [10, 1, 0, 2];
const PEER2: [u8; 4] = [10, 2, 0, 2];

fn plan() -> NetworkPlan {
    let mut plan = bridge_plan();
    plan.ports.clear();
    for e in &mut plan.ethers {
        e.bridge = None;
    }
    let iface = |n: u16, mac| IfaceConfig {
        id: IfaceId(n),
        mac,
        arp: vmm::hostip::ArpMode::Enabled,
        mtu: 1500,
    };
    let addr = |n: u16, a: [u8; 4]| AddrConfig {
        iface: IfaceId(n),
        addr: IpAddr::V4(Ipv4Addr::from(a)),
        prefix_len: 24,
    };
    plan.host = HostPlan {
        ifaces: vec![iface(0, MAC1), iface(1, MAC2)],
        addrs: vec![addr(0, ADDR1), addr(1, ADDR2)],
        links: vec![
            (IfaceId(0), HostAttach::Ether(0)),
            (IfaceId(1), HostAttach::Ether(1)),
        ],
        static_arp: Vec::new(),
        forwarding: Default::default(),
    };
    plan
}

/// The RIB of the plan: the two connected networks (its interface ids are the host's).
fn rib() -> Rib {
    let mut rib = Rib::new(RibConfig {
        fib_v4: FibConfig::ipv4_prefixes(64),
        fib_v6: FibConfig::ipv6_prefixes(64),
        ..RibConfig::default()
    });
    let up = InterfaceState {
        running: true,
        point_to_point: false,
    };
    for (i, a) in [ADDR1, ADDR2].into_iter().enumerate() {
        let id = IfId(i as u16);
        rib.set_interface(id, up).unwrap();
        rib.add_address(AddressSpec::new(IpAddr::V4(Ipv4Addr::from(a)), 24, id))
            .unwrap();
    }
    rib
}

/// An ICMP echo request from peer 1 (behind ether1) to `to`, with `ttl`.
fn from_peer1(to: [u8; 4], ttl: u8, seq: u16) -> Vec<u8> {
    let mut f = echo(8, (peer(1), PEER1), (MAC1, to), 7, seq, b"routed");
    f[22] = ttl;
    f[24..26].copy_from_slice(&[0, 0]);
    let c = checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f
}

fn is_arp_request(f: &[u8], target: [u8; 4]) -> bool {
    f[12..14] == [0x08, 0x06] && f[20..22] == [0, 1] && f[38..42] == target
}

#[test]
fn a_packet_is_routed_between_two_ports_after_its_next_hop_is_resolved() {
    let mut n = Net::new(2, 0, &plan());
    let rib = rib();
    n.arrive(0, &from_peer1(PEER2, 64, 1));
    n.m.service_routing(&rib);
    let out2 = take_sent(&n.wires[1]);
    assert_eq!(out2.len(), 1, "{out2:?}");
    assert!(
        is_arp_request(&out2[0], PEER2),
        "who-has 10.2.0.2: {:?}",
        out2[0]
    );
    assert_eq!(&out2[0][6..12], &MAC2, "from ether2's MAC");
    assert!(take_sent(&n.wires[0]).is_empty());
    // The answer releases the waiting packet.
    n.arrive(1, &arp(2, (peer(2), PEER2), (MAC2, ADDR2), MAC2));
    n.m.service_routing(&rib);
    let out2 = take_sent(&n.wires[1]);
    assert_eq!(out2.len(), 1, "{out2:?}");
    let f = &out2[0];
    assert_eq!((&f[..6], &f[6..12]), (&peer(2)[..], &MAC2[..]));
    assert_eq!(f[22], 63, "TTL decremented");
    assert_eq!(checksum(&f[14..34]), 0, "header checksum still right");
    assert_eq!(&f[42..], b"routed");
    // The next packet goes at once.
    n.arrive(0, &from_peer1(PEER2, 64, 2));
    n.m.service_routing(&rib);
    assert_eq!(take_sent(&n.wires[1]).len(), 1);
    assert_eq!(
        n.m.net().host().forwarder().unwrap().stats().forwarded_v4,
        2
    );
}

#[test]
fn ttl_one_gets_time_exceeded_and_the_hosts_own_address_is_answered() {
    let mut n = Net::new(2, 0, &plan());
    let rib = rib();
    // Peer 1's MAC is known to the host after its ARP request.
    n.arrive(0, &arp(1, (peer(1), PEER1), ([0; 6], ADDR1), BROADCAST));
    n.m.service_routing(&rib);
    take_sent(&n.wires[0]);
    n.arrive(0, &from_peer1(PEER2, 1, 1));
    n.m.service_routing(&rib);
    let out1 = take_sent(&n.wires[0]);
    assert_eq!(out1.len(), 1, "{out1:?}");
    let f = &out1[0];
    assert_eq!(&f[..6], &peer(1), "back to the sender");
    assert_eq!((f[23], f[34], f[35]), (1, 11, 0), "ICMP time exceeded");
    assert_eq!(&f[26..30], &ADDR1, "from ether1's address");
    assert!(take_sent(&n.wires[1]).is_empty());
    // An echo to ether2's address (the host's, through ether1) is the host's to answer.
    n.arrive(0, &from_peer1(ADDR2, 64, 2));
    n.m.service_routing(&rib);
    let out1 = take_sent(&n.wires[0]);
    assert_eq!(out1.len(), 1, "{out1:?}");
    assert_eq!((out1[0][23], out1[0][34]), (1, 0), "echo reply");
    assert_eq!(&out1[0][26..30], &ADDR2);
    // No route: network unreachable.
    n.arrive(0, &from_peer1([192, 0, 2, 1], 64, 3));
    n.m.service_routing(&rib);
    let out1 = take_sent(&n.wires[0]);
    assert_eq!(out1.len(), 1, "{out1:?}");
    assert_eq!((out1[0][34], out1[0][35]), (3, 0), "net unreachable");
}

#[test]
fn without_a_route_source_nothing_is_routed() {
    let mut n = Net::new(2, 0, &plan());
    n.arrive(0, &from_peer1(PEER2, 64, 1));
    n.m.service();
    assert!(take_sent(&n.wires[1]).is_empty());
    assert!(take_sent(&n.wires[0]).is_empty());
}

/// A RIB with `addrs` ((host interface, address)/24), each interface up.
fn rib_of(addrs: &[(u16, [u8; 4])]) -> Rib {
    let mut rib = Rib::new(RibConfig {
        fib_v4: FibConfig::ipv4_prefixes(64),
        fib_v6: FibConfig::ipv6_prefixes(64),
        ..RibConfig::default()
    });
    let up = InterfaceState {
        running: true,
        point_to_point: false,
    };
    for &(i, a) in addrs {
        rib.set_interface(IfId(i), up).unwrap();
        rib.add_address(AddressSpec::new(IpAddr::V4(Ipv4Addr::from(a)), 24, IfId(i)))
            .unwrap();
    }
    rib
}

/// `frame` with an 802.1Q tag of VLAN `vid` after its addresses.
fn tagged(frame: &[u8], vid: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00]);
    f.extend_from_slice(&vid.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

/// Peer 2 (behind ether2) answers the box's ARP request for it.
fn peer2_answers(n: &mut Net, rib: &Rib) {
    n.arrive(1, &arp(2, (peer(2), PEER2), (MAC2, ADDR2), MAC2));
    n.m.service_routing(rib);
}

#[test]
fn a_bridge_with_an_address_routes_to_a_port() {
    // ether1 in bridge 0, whose address (10.1.0.1/24) is the host's interface 0; ether2 in
    // no bridge, interface 1.
    let mut plan = plan();
    plan.ethers[0].bridge = Some(0);
    plan.host.links[0] = (IfaceId(0), HostAttach::Bridge(0));
    let mut n = Net::new(2, 0, &plan);
    let rib = rib_of(&[(0, ADDR1), (1, ADDR2)]);
    n.arrive(0, &from_peer1(PEER2, 64, 1));
    n.m.service_routing(&rib);
    let out2 = take_sent(&n.wires[1]);
    assert!(is_arp_request(&out2[0], PEER2), "{out2:?}");
    peer2_answers(&mut n, &rib);
    let out2 = take_sent(&n.wires[1]);
    assert_eq!(out2.len(), 1, "{out2:?}");
    assert_eq!((&out2[0][..6], out2[0][22]), (&peer(2)[..], 63));
}

#[test]
fn a_vlan_routes_both_ways_untagged_out_of_a_port_and_tagged_back() {
    // ether1 (interface 0, no address) carries VLAN 10 (interface 2, 10.1.0.1/24); ether2 is
    // interface 1.
    let mut plan = plan();
    plan.host.addrs.retain(|a| a.iface != IfaceId(0));
    plan.host.ifaces.push(IfaceConfig {
        id: IfaceId(2),
        ..plan.host.ifaces[0]
    });
    plan.host.addrs.push(AddrConfig {
        iface: IfaceId(2),
        addr: IpAddr::V4(Ipv4Addr::from(ADDR1)),
        prefix_len: 24,
    });
    plan.host.links.push((
        IfaceId(2),
        HostAttach::Vlan {
            parent: IfaceId(0),
            vid: 10,
        },
    ));
    let mut n = Net::new(2, 0, &plan);
    let rib = rib_of(&[(2, ADDR1), (1, ADDR2)]);
    n.arrive(0, &tagged(&from_peer1(PEER2, 64, 1), 10));
    n.m.service_routing(&rib);
    take_sent(&n.wires[1]);
    peer2_answers(&mut n, &rib);
    let out2 = take_sent(&n.wires[1]);
    assert_eq!(out2.len(), 1, "{out2:?}");
    assert_eq!(out2[0][12..14], [0x08, 0x00], "untagged out of ether2");
    assert_eq!(out2[0][22], 63);
    // Back: peer 2 to peer 1 leaves ether1 tagged with VLAN 10 (after the ARP, tagged too).
    let mut back = echo(0, (peer(2), PEER2), (MAC2, PEER1), 7, 1, b"back");
    back[22] = 64;
    n.arrive(1, &back);
    n.m.service_routing(&rib);
    let out1 = take_sent(&n.wires[0]);
    assert_eq!(out1.len(), 1, "{out1:?}");
    assert_eq!(
        out1[0][12..18],
        [0x81, 0x00, 0x00, 0x0A, 0x08, 0x06],
        "a tagged ARP request"
    );
    n.arrive(
        0,
        &tagged(&arp(2, (peer(1), PEER1), (MAC1, ADDR1), MAC1), 10),
    );
    n.m.service_routing(&rib);
    let out1 = take_sent(&n.wires[0]);
    assert_eq!(out1.len(), 1, "{out1:?}");
    assert_eq!(&out1[0][..6], &peer(1));
    assert_eq!(
        out1[0][12..16],
        [0x81, 0x00, 0x00, 0x0A],
        "tagged with VLAN 10"
    );
    assert_eq!(out1[0][26], 63, "TTL decremented");
}

/// Once a flow's decision is in the forwarder's flow cache, its next packets leave from the
/// receive pass in two pieces (the rewritten header, the rest of the receive buffer), byte for
/// byte what the routing step sent, counted alike; a change of the RIB takes effect on the
/// very next packet, and the cache fills again after it.
#[test]
fn a_flows_next_packets_leave_from_the_receive_pass_until_the_rib_changes() {
    let mut n = Net::new(2, 0, &plan());
    let mut rib = rib();
    n.arrive(0, &from_peer1(PEER2, 64, 1));
    n.m.service_routing(&rib);
    take_sent(&n.wires[1]);
    peer2_answers(&mut n, &rib);
    assert_eq!(
        take_sent(&n.wires[1]).len(),
        1,
        "the first packet, released"
    );
    // The whole way, filling the cache.
    n.arrive(0, &from_peer1(PEER2, 64, 2));
    n.m.service_routing(&rib);
    let slow = take_sent(&n.wires[1]);
    assert_eq!((slow.len(), n.wires[1].borrow().gathered), (1, 0));
    // From the cache: the same bytes.
    n.arrive(0, &from_peer1(PEER2, 64, 2));
    n.m.service_routing(&rib);
    let fast = take_sent(&n.wires[1]);
    assert_eq!(
        n.wires[1].borrow().gathered,
        1,
        "sent from the receive pass"
    );
    assert_eq!(fast, slow);
    let fwd = n.m.net().host().forwarder().unwrap();
    assert_eq!(fwd.stats().forwarded_v4, 3);
    // A blackhole for peer 2: the next packet is dropped, not sent by an old decision.
    let mut blackhole = routing::RouteSpec::new("10.2.0.2/32".parse().unwrap());
    blackhole.route_type = routing::RouteType::Blackhole;
    let id = rib.add_route(blackhole).unwrap();
    n.arrive(0, &from_peer1(PEER2, 64, 3));
    n.m.service_routing(&rib);
    assert!(
        take_sent(&n.wires[1]).is_empty(),
        "the route change holds at once"
    );
    let fwd = n.m.net().host().forwarder().unwrap();
    assert_eq!(fwd.stats().dropped(forward::Drop::Blackhole), 1);
    // Taken back: the whole way once, then the cache again.
    rib.remove_route(id).unwrap();
    for seq in [4, 5] {
        n.arrive(0, &from_peer1(PEER2, 64, seq));
        n.m.service_routing(&rib);
        assert_eq!(take_sent(&n.wires[1]).len(), 1);
    }
    assert_eq!(n.wires[1].borrow().gathered, 2);
    // A new MAC for peer 2 (its ARP announcement, in a pass before): the next packet goes
    // there. (Within one pass, a frame polled from ether1 before the announcement is polled
    // from ether2 still goes to the old MAC: it is decided as it arrives.)
    let moved = [0x02, 0, 0, 0, 0x22, 0x22];
    n.arrive(1, &arp(2, (moved, PEER2), (MAC2, ADDR2), MAC2));
    n.m.service_routing(&rib);
    n.arrive(0, &from_peer1(PEER2, 64, 6));
    n.m.service_routing(&rib);
    let out = take_sent(&n.wires[1]);
    assert_eq!(out.len(), 1);
    assert_eq!(&out[0][..6], &moved);
}
