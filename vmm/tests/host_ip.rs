//! The host's own IP in the product's frame loop: a guest on a vif in no bridge, and one in a
//! bridge with an address, reach the host's endpoint (ARP and echo answered back into the
//! guest); the host's ping resolves the guest, sends echo requests into it and matches its
//! replies.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::packets::*;
use common::*;
use vmm::hostip::{PingEvent, PingRequest};
use vmm::{BridgePortPlan, GuestId, HostAttach, NetworkPlan, VifPlan};
use vswitch::BridgeConfig;

const GUEST_IP: [u8; 4] = [10, 0, 1, 2];

/// Guest 0 with interface 1, in a bridge with the host or alone with the host's address on it.
fn network(
    bridged: bool,
) -> (
    vmm::Manager<FakeMachine>,
    std::rc::Rc<std::cell::RefCell<CpuState>>,
) {
    let mut m = manager(None);
    let attach = if bridged {
        HostAttach::Bridge(0)
    } else {
        HostAttach::Vif(0)
    };
    let plan = NetworkPlan {
        bridges: if bridged {
            vec![BridgeConfig::default()]
        } else {
            vec![]
        },
        vifs: vec![VifPlan {
            guest: GuestId(0),
            interface: 1,
            mac: mac(0, 1),
        }],
        ports: if bridged {
            vec![BridgePortPlan {
                vif: 0,
                bridge: 0,
                horizon: None,
            }]
        } else {
            vec![]
        },
        ethers: vec![],
        host: host_plan(attach),
        vlan_ports: Vec::new(),
    };
    m.apply_network(&plan);
    let cpu = started(&mut m, 0, "g0");
    bring_up(&mut m, 0, &cpu);
    (m, cpu)
}

fn guest_pings_the_host(bridged: bool) {
    let (mut m, _) = network(bridged);
    let who_has = arp(1, (mac(0, 1), GUEST_IP), ([0; 6], HOST_IP), BROADCAST);
    send(&mut m, 0, 0, 1, &who_has);
    round(&mut m);
    let got = received(&mut m, 0);
    assert_eq!(got.len(), 1, "{got:?}");
    let (iface, reply) = &got[0];
    assert_eq!(*iface, 1);
    assert_eq!(reply[..6], mac(0, 1));
    assert_eq!(reply[6..12], HOST_MAC);
    assert_eq!(reply[20..22], [0, 2], "an ARP reply");
    assert_eq!(reply[28..32], HOST_IP);
    let request = echo(
        8,
        (mac(0, 1), GUEST_IP),
        (HOST_MAC, HOST_IP),
        7,
        1,
        b"ping me",
    );
    send(&mut m, 0, 1, 1, &request);
    round(&mut m);
    let got = received(&mut m, 0);
    assert_eq!(got.len(), 1, "{got:?}");
    let expected = echo(
        0,
        (HOST_MAC, HOST_IP),
        (mac(0, 1), GUEST_IP),
        7,
        1,
        b"ping me",
    );
    let mut reply = got[0].1.clone();
    // The reply's IP identification, flags (don't fragment) and checksum are the endpoint's own.
    reply[18..22].copy_from_slice(&[0, 0, 0, 0]);
    reply[24..26].copy_from_slice(&expected[24..26]);
    assert_eq!(reply, expected);
}

#[test]
fn a_guest_on_a_vif_pings_the_host() {
    guest_pings_the_host(false);
}

#[test]
fn a_guest_in_a_bridge_pings_the_hosts_bridge_address() {
    guest_pings_the_host(true);
}

#[test]
fn the_host_pings_a_guest() {
    let (mut m, _) = network(false);
    let mut request = PingRequest::new(IpAddr::V4(Ipv4Addr::from(GUEST_IP)));
    request.count = Some(1);
    let now = m.now_us();
    m.host_ip_mut().ping_start(now, &request).unwrap();
    m.service();
    let got = received(&mut m, 0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1[20..22], [0, 1], "who-has");
    assert_eq!(got[0].1[38..42], GUEST_IP);
    let is_at = arp(2, (mac(0, 1), GUEST_IP), (HOST_MAC, HOST_IP), HOST_MAC);
    send(&mut m, 0, 0, 1, &is_at);
    round(&mut m);
    let got = received(&mut m, 0);
    assert_eq!(got.len(), 1, "the echo request: {got:?}");
    let req = &got[0].1;
    assert_eq!((req[23], req[34]), (1, 8), "ICMP echo request");
    let (ident, seq) = (
        u16::from_be_bytes([req[38], req[39]]),
        u16::from_be_bytes([req[40], req[41]]),
    );
    m.machine().advance_ms(3);
    let reply = echo(
        0,
        (mac(0, 1), GUEST_IP),
        (HOST_MAC, HOST_IP),
        ident,
        seq,
        &req[42..],
    );
    send(&mut m, 0, 1, 1, &reply);
    round(&mut m);
    let events: Vec<_> = std::iter::from_fn(|| m.host_ip_mut().ping_next_event()).collect();
    let PingEvent::Reply {
        seq: 0,
        ttl: 64,
        size: 56,
        rtt_us,
        ..
    } = events[0]
    else {
        panic!("{events:?}");
    };
    assert!(rtt_us >= 3_000, "{rtt_us}");
    assert!(matches!(events[1], PingEvent::Done(s) if s.received == 1));
    assert_eq!(m.host_ip().arp_entries().count(), 1);
}
