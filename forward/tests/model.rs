//! The forwarder against a reference model of what the box must do with an IPv4 packet, over
//! random packets: the model takes the RIB's decision (`Rib::decide`, the seed's order) and
//! applies the forwarding rules written out plainly (local and broadcast to the host, the
//! route type's silence or ICMP code, TTL expiry, DF over the MTU, fragment count, an
//! unresolved next hop queued); what the forwarder returns and sends must match, and every
//! frame sent is checked by smoltcp.

mod common;

use common::*;
use forward::{Drop, Outcome};
use proptest::prelude::*;
use routing::{Decision, IfId, Packet};
use std::net::IpAddr;

const DESTINATIONS: [&str; 16] = [
    "10.0.2.7",
    "10.0.2.1",
    "10.0.1.1",
    "10.0.2.255",
    "192.168.2.10",
    "198.51.100.7",
    "10.50.0.1",
    "10.99.0.1",
    "10.98.0.1",
    "10.97.0.1",
    "10.96.0.1",
    "10.95.0.1",
    "8.8.8.8",
    "172.16.0.1",
    "10.0.3.77",
    "255.255.255.255",
];
const SOURCES: [&str; 3] = ["10.0.1.2", "10.0.1.200", "10.0.1.77"];

/// What the model expects: the outcome, the ICMP error (type, code) sent back if any, and
/// how many frames leave by the egress interface.
fn model(b: &Bench, p: &Udp4) -> (Outcome, Option<(u8, u8)>, usize) {
    let dst = IpAddr::V4(p.dst);
    if p.dst.is_broadcast() {
        return (Outcome::ToHost, None, 0);
    }
    let decision = b.rib.decide(&Packet {
        src: IpAddr::V4(p.src),
        dst,
        in_interface: Some(ETHER1),
        routing_mark: None,
    });
    let (interface, hop) = match decision {
        Decision::Local => return (Outcome::ToHost, None, 0),
        Decision::Discard => return (Outcome::Dropped(Drop::Blackhole), None, 0),
        Decision::Prohibited => return (Outcome::Dropped(Drop::Prohibited), Some((3, 13)), 0),
        Decision::HostUnreachable => {
            return (Outcome::Dropped(Drop::HostUnreachable), Some((3, 1)), 0)
        }
        Decision::NetworkUnreachable => {
            return (Outcome::Dropped(Drop::NetworkUnreachable), Some((3, 0)), 0)
        }
        Decision::Forward {
            next_hop,
            interface,
        } => (interface, Some(next_hop)),
        Decision::PointToPoint { interface } => (interface, None),
    };
    if interface == ETHER2 && p.dst.octets()[3] == 255 {
        return (Outcome::ToHost, None, 0);
    }
    if p.ttl <= 1 {
        return (Outcome::Dropped(Drop::TtlExpired), Some((11, 0)), 0);
    }
    let mtu = if interface == ETHER3 { 576 } else { 1500 };
    let ip_len = 20 + 8 + p.payload;
    if ip_len > mtu && p.dont_fragment {
        return (Outcome::Dropped(Drop::FragmentationNeeded), Some((3, 4)), 0);
    }
    if let Some(hop) = hop {
        let known = Table::usual()
            .known
            .iter()
            .any(|e| e.0 == interface && e.1 == hop);
        if !known {
            return (
                Outcome::Queued {
                    interface,
                    next_hop: hop,
                },
                None,
                0,
            );
        }
    }
    let frames = if ip_len > mtu {
        (ip_len - 20).div_ceil((mtu - 20) & !7)
    } else {
        1
    };
    (Outcome::Forwarded { interface }, None, frames)
}

fn egress_mac(i: IfId) -> forward::Mac {
    match i.0 {
        1 => MAC1,
        2 => MAC2,
        3 => MAC3,
        _ => MAC4,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_forwarder_does_what_the_model_says(
        src in 0usize..SOURCES.len(),
        dst in 0usize..DESTINATIONS.len(),
        ttl in 0u8..4,
        payload in prop_oneof![Just(18usize), Just(540), 0usize..1472],
        dont_fragment in any::<bool>(),
        sport in any::<u16>(),
    ) {
        let mut b = Bench::new();
        let mut p = Udp4::new(SOURCES[src], DESTINATIONS[dst]);
        p.ttl = ttl;
        p.payload = payload;
        p.dont_fragment = dont_fragment;
        p.sport = sport;
        let frame = udp4_frame(p);
        let (outcome, error, frames) = model(&b, &p);
        prop_assert_eq!(b.rx(ETHER1, &frame), outcome);
        let sent = b.sent.take();
        match error {
            Some((t, c)) => {
                prop_assert_eq!(sent.len(), 1);
                prop_assert_eq!(sent[0].0, ETHER1);
                let (ip, ty, code, _, quote) = icmp4_error(&sent[0].1);
                prop_assert_eq!((ty, code), (t, c));
                prop_assert_eq!(ip.dst_addr, p.src);
                prop_assert_eq!(&quote[..], &frame[14..14 + 28]);
            }
            None => {
                prop_assert_eq!(sent.len(), frames);
                let mut data = 0;
                for (on, f) in &sent {
                    let Outcome::Forwarded { interface } = outcome else { unreachable!() };
                    prop_assert_eq!(*on, interface);
                    prop_assert_eq!(&f[6..12], &egress_mac(interface)[..]);
                    let ip = check_v4(f);
                    prop_assert_eq!(ip.hop_limit, ttl - 1);
                    prop_assert_eq!(ip.dst_addr, p.dst);
                    data += ip.payload_len;
                }
                if frames > 0 {
                    prop_assert_eq!(data, 8 + payload, "the fragments carry the datagram");
                }
            }
        }
    }
}
