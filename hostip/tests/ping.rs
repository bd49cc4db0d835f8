//! The ping engine: neighbour resolution first, echo requests every interval, replies matched,
//! timeouts, the summary; errors for what cannot be pinged.

mod common;

use std::net::IpAddr;

use common::*;
use hostip::{PingError, PingEvent, PingRequest, PingSummary};
use smoltcp::wire::*;

fn events(host: &mut hostip::HostIp) -> Vec<PingEvent> {
    std::iter::from_fn(|| host.ping_next_event()).collect()
}

/// Answers the echo request in `frame` as the peer would, with `ttl`.
fn answer(frame: &[u8], ttl: u8) -> Vec<u8> {
    let (ip, icmp) = parse_icmpv4(frame);
    let Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    } = icmp
    else {
        panic!("not an echo request: {icmp:?}");
    };
    let reply = Icmpv4Repr::EchoReply {
        ident,
        seq_no,
        data,
    };
    icmpv4(ip.dst_addr, ip.src_addr, ttl, &reply, (HOST_MAC, PEER_MAC))
}

#[test]
fn pings_a_neighbor_three_times_with_one_lost() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let mut req = PingRequest::new(IpAddr::V4(PEER_V4));
    req.count = Some(3);
    host.ping_start(0, &req).unwrap();
    host.poll(0, &mut out);
    // First the neighbour: a broadcast who-has.
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    let ArpRepr::EthernetIpv4 {
        operation,
        target_protocol_addr,
        source_protocol_addr,
        ..
    } = parse_arp(&sent[0].1)
    else {
        panic!("not ARP over Ethernet/IPv4");
    };
    assert_eq!(
        (operation, source_protocol_addr, target_protocol_addr),
        (ArpOperation::Request, HOST_V4, PEER_V4)
    );
    assert_eq!(sent[0].1[..6], [0xFF; 6]);
    // The answer lets the echo request go at once.
    let reply = arp(
        ArpOperation::Reply,
        (PEER_MAC, PEER_V4),
        (HOST_MAC, HOST_V4),
        HOST_MAC,
    );
    host.receive(2_000, VIF, &reply, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1, "the waiting echo request");
    let (ip, icmp) = parse_icmpv4(&sent[0].1);
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.hop_limit),
        (HOST_V4, PEER_V4, 64)
    );
    assert_eq!(
        usize::from(ip.payload_len as u16) + 20,
        56,
        "size 56: the whole IP packet"
    );
    assert!(matches!(icmp, Icmpv4Repr::EchoRequest { seq_no: 0, .. }));
    host.receive(3_500, VIF, &answer(&sent[0].1, 63), &mut out);
    assert_eq!(
        events(&mut host),
        [PingEvent::Reply {
            seq: 0,
            host: IpAddr::V4(PEER_V4),
            size: 56,
            ttl: 63,
            rtt_us: 1_500
        }]
    );
    // Second: answered after 700 us.
    host.poll(1_000_000, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    host.receive(1_000_700, VIF, &answer(&sent[0].1, 64), &mut out);
    // Third: never answered; a duplicate of the second's reply changes nothing.
    host.poll(2_000_000, &mut out);
    assert_eq!(out.take().len(), 1);
    host.receive(2_000_100, VIF, &answer(&sent[0].1, 64), &mut out);
    host.poll(2_999_999, &mut out);
    host.poll(3_000_000, &mut out);
    let ev = events(&mut host);
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(matches!(
        ev[0],
        PingEvent::Reply {
            seq: 1,
            rtt_us: 700,
            ..
        }
    ));
    assert_eq!(
        ev[1],
        PingEvent::Timeout {
            seq: 2,
            host: IpAddr::V4(PEER_V4)
        }
    );
    let PingEvent::Done(summary) = ev[2] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        summary,
        PingSummary {
            sent: 3,
            received: 2,
            rtt_us: Some((700, 1_100, 1_500))
        }
    );
    assert_eq!(summary.loss_percent(), 33);
    assert!(!host.ping_running());
}

#[test]
fn an_unanswered_neighbor_request_gives_timeouts() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let mut req = PingRequest::new(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 77)));
    req.count = Some(2);
    host.ping_start(0, &req).unwrap();
    let mut t = 0;
    let mut all = Vec::new();
    while host.ping_running() && t < 10_000_000 {
        host.poll(t, &mut out);
        all.extend(events(&mut host));
        t += 10_000;
    }
    let arps = out
        .take()
        .iter()
        .filter(|(_, f)| f[12..14] == [0x08, 0x06])
        .count();
    assert!(arps >= 2, "the request is repeated: {arps}");
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(matches!(all[0], PingEvent::Timeout { seq: 0, .. }));
    assert!(matches!(all[1], PingEvent::Timeout { seq: 1, .. }));
    assert_eq!(
        all[2],
        PingEvent::Done(PingSummary {
            sent: 2,
            received: 0,
            rtt_us: None
        })
    );
    let e: Vec<_> = host.arp_entries().collect();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].mac, None);
}

#[test]
fn stop_ends_a_ping_with_its_summary() {
    let mut host = endpoint();
    let mut out = Sent::default();
    host.ping_start(0, &PingRequest::new(IpAddr::V4(PEER_V4)))
        .unwrap();
    host.poll(0, &mut out);
    host.ping_stop();
    assert_eq!(
        events(&mut host),
        [PingEvent::Done(PingSummary {
            sent: 1,
            received: 0,
            rtt_us: None
        })]
    );
}

#[test]
fn pings_over_ipv6_after_neighbor_discovery() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let mut req = PingRequest::new(IpAddr::V6(PEER_V6));
    req.count = Some(1);
    host.ping_start(0, &req).unwrap();
    host.poll(0, &mut out);
    let sent = out.take();
    let (ip, icmp) = parse_icmpv6(&sent[0].1);
    assert_eq!(
        ip.dst_addr,
        "ff02::1:ff00:2".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert!(ip.src_addr.is_unicast_link_local());
    assert!(matches!(
        icmp,
        Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { .. })
    ));
    let na = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
        flags: NdiscNeighborFlags::SOLICITED | NdiscNeighborFlags::ROUTER,
        target_addr: PEER_V6,
        lladdr: Some(RawHardwareAddress::from_bytes(&PEER_MAC)),
    });
    host.receive(
        100,
        VIF,
        &icmpv6(PEER_V6, ip.src_addr, 255, &na, (HOST_MAC, PEER_MAC)),
        &mut out,
    );
    let sent = out.take();
    assert_eq!(sent.len(), 1);
    let (ip, icmp) = parse_icmpv6(&sent[0].1);
    assert_eq!((ip.src_addr, ip.dst_addr), (HOST_V6, PEER_V6));
    let Icmpv6Repr::EchoRequest {
        ident,
        seq_no,
        data,
    } = icmp
    else {
        panic!()
    };
    let reply = Icmpv6Repr::EchoReply {
        ident,
        seq_no,
        data,
    };
    host.receive(
        900,
        VIF,
        &icmpv6(PEER_V6, HOST_V6, 64, &reply, (HOST_MAC, PEER_MAC)),
        &mut out,
    );
    let ev = events(&mut host);
    assert_eq!(
        ev[0],
        PingEvent::Reply {
            seq: 0,
            host: IpAddr::V6(PEER_V6),
            size: 56,
            ttl: 64,
            rtt_us: 800
        }
    );
    assert!(matches!(
        ev[1],
        PingEvent::Done(PingSummary {
            sent: 1,
            received: 1,
            ..
        })
    ));
    let n: Vec<_> = host.nd_entries().collect();
    assert!(n[0].router);
    assert_eq!(n[0].state, hostip::NeighborState::Reachable);
}

#[test]
fn refuses_what_cannot_be_pinged() {
    let mut host = endpoint();
    let far = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 9, 9));
    assert_eq!(
        host.ping_start(0, &PingRequest::new(far)),
        Err(PingError::NoRoute)
    );
    let mut req = PingRequest::new(IpAddr::V4(PEER_V4));
    req.size = 27;
    assert_eq!(host.ping_start(0, &req), Err(PingError::SizeTooSmall(28)));
    req.size = 1501;
    assert_eq!(host.ping_start(0, &req), Err(PingError::SizeTooLarge(1500)));
    let mut req = PingRequest::new(IpAddr::V6(PEER_V6));
    req.size = 47;
    assert_eq!(host.ping_start(0, &req), Err(PingError::SizeTooSmall(48)));
    let ll = IpAddr::V6("fe80::1".parse().unwrap());
    assert_eq!(
        host.ping_start(0, &PingRequest::new(ll)),
        Err(PingError::NoRoute)
    );
    let mut req = PingRequest::new(ll);
    req.interface = Some(VIF);
    assert_eq!(host.ping_start(0, &req), Ok(()));
}

#[test]
fn replies_that_do_not_match_are_ignored() {
    let mut host = endpoint();
    let mut out = Sent::default();
    let reply = arp(
        ArpOperation::Request,
        (PEER_MAC, PEER_V4),
        ([0; 6], HOST_V4),
        [0xFF; 6],
    );
    host.receive(0, VIF, &reply, &mut out);
    out.take();
    let mut req = PingRequest::new(IpAddr::V4(PEER_V4));
    req.count = Some(1);
    host.ping_start(0, &req).unwrap();
    host.poll(0, &mut out);
    let sent = out.take();
    assert_eq!(sent.len(), 1, "the neighbour is known: no ARP");
    let (_, icmp) = parse_icmpv4(&sent[0].1);
    let Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    } = icmp
    else {
        panic!()
    };
    let mut wrong = |ident, seq_no, data: &[u8]| {
        let r = Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data,
        };
        host.receive(
            10,
            VIF,
            &icmpv4(PEER_V4, HOST_V4, 64, &r, (HOST_MAC, PEER_MAC)),
            &mut out,
        );
    };
    wrong(ident.wrapping_add(1), seq_no, data);
    wrong(ident, seq_no + 1, data);
    wrong(ident, seq_no, &data[1..]);
    assert!(events(&mut host).is_empty());
}
