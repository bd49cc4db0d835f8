//! The forwarding path's rules beyond the routing decision, against frames built with
//! smoltcp: header validation, martians, broadcasts and multicasts, TTL and hop limit with
//! time exceeded, the MTU (fragmentation needed, fragments, packet too big), when ICMP errors
//! are not sent, the rate limit, and the wait queues of unresolved next hops.

mod common;

use common::*;
use forward::checksum;
use forward::pending::{WAIT_PACKETS, WAIT_QUEUES, WAIT_TIMEOUT_US};
use forward::{Drop, Outcome};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::*;

/// Rewrites the IPv4 header checksum after a test edited the header.
fn fix_checksum(frame: &mut [u8]) {
    let hl = usize::from(frame[14] & 0x0f) * 4;
    frame[24..26].fill(0);
    let c = checksum::of(&frame[14..14 + hl]);
    frame[24..26].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn ttl_is_decremented_with_a_valid_checksum_for_every_ttl() {
    let mut b = Bench::new();
    for ttl in 2..=255u8 {
        let mut p = Udp4::new("10.0.1.2", "10.0.2.7");
        p.ttl = ttl;
        p.sport = u16::from(ttl) * 251;
        let frame = udp4_frame(p);
        assert_eq!(
            b.rx(ETHER1, &frame),
            Outcome::Forwarded { interface: ETHER2 }
        );
        let out = b.sent.take().pop().unwrap().1;
        // smoltcp verifies the incrementally updated checksum.
        assert_eq!(check_v4(&out).hop_limit, ttl - 1);
    }
}

#[test]
fn ttl_1_and_0_get_time_exceeded_from_the_ingress_address() {
    for ttl in [0u8, 1] {
        let mut b = Bench::new();
        let mut p = Udp4::new("10.0.1.2", "192.168.2.10");
        p.ttl = ttl;
        let frame = udp4_frame(p);
        assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::TtlExpired));
        let sent = b.sent.take();
        assert_eq!(sent.len(), 1);
        let (ip, t, c, _, quote) = icmp4_error(&sent[0].1);
        assert_eq!((t, c), (11, 0));
        assert_eq!(ip.src_addr, v4("10.0.1.1"));
        assert_eq!(ip.dst_addr, v4("10.0.1.2"));
        assert_eq!(
            quote,
            frame[14..14 + 28],
            "the original header (TTL {ttl}) + 8 bytes"
        );
    }
}

#[test]
fn a_ttl_1_packet_for_the_box_is_delivered() {
    let mut b = Bench::new();
    let mut p = Udp4::new("10.0.1.2", "10.0.1.1");
    p.ttl = 1;
    assert_eq!(b.rx(ETHER1, &udp4_frame(p)), Outcome::ToHost);
}

#[test]
fn hop_limit_1_gets_icmpv6_time_exceeded() {
    let mut b = Bench::new();
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:99::5", 1, 10);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::TtlExpired));
    let (ip, t, c, _, quote) = icmp6_error(&b.sent.take()[0].1);
    assert_eq!((t, c), (3, 0));
    assert_eq!(ip.src_addr, v6("2001:db8:1::1"));
    assert_eq!(quote, frame[14..]);
}

#[test]
fn an_icmpv6_error_quotes_at_most_what_fits_in_1280_bytes() {
    let mut b = Bench::new();
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:99::5", 1, 1400);
    b.rx(ETHER1, &frame);
    let out = b.sent.take().pop().unwrap().1;
    assert_eq!(out.len(), 14 + 1280);
    let (_, _, _, _, quote) = icmp6_error(&out);
    assert_eq!(quote, frame[14..14 + 1280 - 48]);
}

#[test]
fn df_over_the_mtu_gets_fragmentation_needed_with_the_mtu() {
    let mut b = Bench::new();
    let mut p = Udp4::new("10.0.1.2", "198.51.100.7");
    p.payload = 1000;
    let frame = udp4_frame(p);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::FragmentationNeeded)
    );
    let (_, t, c, rest, quote) = icmp4_error(&b.sent.take()[0].1);
    assert_eq!((t, c), (3, 4));
    assert_eq!(rest & 0xffff, 576, "next-hop MTU");
    assert_eq!(quote, frame[14..14 + 28]);
}

/// Reassembles IPv4 fragments (checked by smoltcp) into the original datagram's payload.
fn reassemble(frames: &[Vec<u8>], mtu: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut data = Vec::new();
    let mut headers = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        check_v4(f);
        let pkt = Ipv4Packet::new_checked(&f[14..]).unwrap();
        assert!(usize::from(pkt.total_len()) <= mtu);
        assert_eq!(usize::from(pkt.frag_offset()), data.len(), "offsets follow");
        assert_eq!(pkt.more_frags(), i + 1 < frames.len());
        assert!(!pkt.dont_frag());
        data.extend_from_slice(pkt.payload());
        headers.push(f[14..14 + usize::from(pkt.header_len())].to_vec());
    }
    (data, headers)
}

#[test]
fn without_df_a_packet_over_the_mtu_is_fragmented() {
    let mut b = Bench::new();
    let mut p = Udp4::new("10.0.1.2", "198.51.100.7");
    p.payload = 1400;
    p.dont_fragment = false;
    let frame = udp4_frame(p);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER3 }
    );
    let sent: Vec<Vec<u8>> = b
        .sent
        .take()
        .into_iter()
        .map(|(i, f)| {
            assert_eq!(i, ETHER3);
            assert_eq!(f[..6], SMALL_GW_MAC);
            f
        })
        .collect();
    // 1408 bytes of data, 552 per fragment: three fragments.
    assert_eq!(sent.len(), 3);
    assert_eq!(b.fwd.stats().fragments, 3);
    let (data, _) = reassemble(&sent, 576);
    assert_eq!(data, frame[14 + 20..], "the datagram reassembles");
    assert!(sent.iter().all(|f| check_v4(f).hop_limit == 63));
}

#[test]
fn fragments_copy_only_the_options_with_the_copy_flag() {
    let mut b = Bench::new();
    let mut p = Udp4::new("10.0.1.2", "198.51.100.7");
    p.payload = 800;
    p.dont_fragment = false;
    let plain = udp4_frame(p);
    // Insert 8 bytes of options: a copied one (type 0x88, stream id, 4 bytes) and a record
    // route (type 7, not copied, 3 + 0 bytes... here length 3 with pointer 4) + end of list.
    let options = [0x88, 4, 0xab, 0xcd, 7, 3, 4, 0];
    let mut frame = plain[..34].to_vec();
    frame.extend_from_slice(&options);
    frame.extend_from_slice(&plain[34..]);
    frame[14] = 0x47;
    let total = u16::from_be_bytes([frame[16], frame[17]]) + 8;
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    fix_checksum(&mut frame);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER3 }
    );
    let sent: Vec<Vec<u8>> = b.sent.take().into_iter().map(|s| s.1).collect();
    assert_eq!(sent.len(), 2);
    let (data, headers) = reassemble(&sent, 576);
    assert_eq!(data, frame[14 + 28..]);
    assert_eq!(
        headers[0][20..],
        options,
        "the first fragment keeps all options"
    );
    assert_eq!(headers[1][20..], [0x88, 4, 0xab, 0xcd, 1, 1, 1, 0]);
}

#[test]
fn ipv6_over_the_mtu_gets_packet_too_big() {
    let mut b = Bench::new();
    b.fwd
        .set_interface(forward::Interface {
            mtu: 1280,
            ..*b.fwd.interface(ETHER2).unwrap()
        })
        .unwrap();
    let frame = udp6_frame("2001:db8:1::2", "2001:db8:99::5", 64, 1300);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::PacketTooBig));
    let (_, t, c, rest, _) = icmp6_error(&b.sent.take()[0].1);
    assert_eq!((t, c, rest), (2, 0, 1280));
}

#[test]
fn options_are_forwarded_as_they_are() {
    let mut b = Bench::new();
    let plain = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.7"));
    let mut frame = plain[..34].to_vec();
    frame.extend_from_slice(&[1, 1, 1, 0]);
    frame.extend_from_slice(&plain[34..]);
    frame[14] = 0x46;
    let total = u16::from_be_bytes([frame[16], frame[17]]) + 4;
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    fix_checksum(&mut frame);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Forwarded { interface: ETHER2 }
    );
    let out = b.sent.take().pop().unwrap().1;
    check_v4(&out);
    assert_eq!(out[14 + 20..14 + 24], [1, 1, 1, 0]);
}

#[test]
fn source_routed_packets_are_dropped() {
    let mut b = Bench::new();
    let plain = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.7"));
    // A loose source route through 10.0.2.7 (type 131, length 7, pointer 4) + end of list.
    let mut frame = plain[..34].to_vec();
    frame.extend_from_slice(&[131, 7, 4, 10, 0, 2, 7, 0]);
    frame.extend_from_slice(&plain[34..]);
    frame[14] = 0x47;
    let total = u16::from_be_bytes([frame[16], frame[17]]) + 8;
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    fix_checksum(&mut frame);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::SourceRouted));
    assert!(b.sent.take().is_empty());
}

#[test]
fn malformed_headers_are_dropped_and_counted() {
    let mut b = Bench::new();
    let good = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.7"));
    let mut bad_sum = good.clone();
    bad_sum[24] ^= 1;
    assert_eq!(b.rx(ETHER1, &bad_sum), Outcome::Dropped(Drop::BadChecksum));
    let mut bad_version = good.clone();
    bad_version[14] = 0x55;
    fix_checksum(&mut bad_version);
    assert_eq!(
        b.rx(ETHER1, &bad_version),
        Outcome::Dropped(Drop::BadVersion)
    );
    let mut short_ihl = good.clone();
    short_ihl[14] = 0x44;
    assert_eq!(
        b.rx(ETHER1, &short_ihl),
        Outcome::Dropped(Drop::BadHeaderLength)
    );
    let mut long = good.clone();
    long[16..18].copy_from_slice(&2000u16.to_be_bytes());
    fix_checksum(&mut long);
    assert_eq!(b.rx(ETHER1, &long), Outcome::Dropped(Drop::Truncated));
    let mut bad_opts = good[..34].to_vec();
    bad_opts.extend_from_slice(&[7, 9, 0, 0]);
    bad_opts.extend_from_slice(&good[34..]);
    bad_opts[14] = 0x46;
    let total = u16::from_be_bytes([bad_opts[16], bad_opts[17]]) + 4;
    bad_opts[16..18].copy_from_slice(&total.to_be_bytes());
    fix_checksum(&mut bad_opts);
    assert_eq!(b.rx(ETHER1, &bad_opts), Outcome::Dropped(Drop::BadOptions));
    assert_eq!(b.rx(ETHER1, &good[..13]), Outcome::Dropped(Drop::Runt));
    assert_eq!(b.rx(ETHER1, &good[..30]), Outcome::Dropped(Drop::Truncated));
    let v6 = udp6_frame("2001:db8:1::2", "2001:db8:99::5", 64, 10);
    assert_eq!(b.rx(ETHER1, &v6[..60]), Outcome::Dropped(Drop::Truncated));
    let mut jumbo = v6.clone();
    jumbo[18..20].fill(0);
    jumbo[20] = 0;
    assert_eq!(
        b.rx(ETHER1, &jumbo),
        Outcome::Dropped(Drop::BadPayloadLength)
    );
    assert!(b.sent.take().is_empty(), "no answer to a malformed packet");
    assert_eq!(b.fwd.stats().dropped_total(), 9);
    // Padding after the packet (a minimum-size Ethernet frame) is fine and not forwarded.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 12]);
    assert_eq!(
        b.rx(ETHER1, &padded),
        Outcome::Forwarded { interface: ETHER2 }
    );
    assert_eq!(b.sent.take()[0].1.len(), good.len());
}

#[test]
fn martians_are_dropped_and_counted() {
    let mut b = Bench::new();
    for src in ["0.1.2.3", "127.0.0.1", "224.0.0.5", "255.255.255.255"] {
        let frame = udp4_frame(Udp4::new(src, "10.0.2.7"));
        assert_eq!(
            b.rx(ETHER1, &frame),
            Outcome::Dropped(Drop::MartianSource),
            "{src}"
        );
    }
    for dst in ["0.0.0.1", "127.1.2.3"] {
        let frame = udp4_frame(Udp4::new("10.0.1.2", dst));
        assert_eq!(
            b.rx(ETHER1, &frame),
            Outcome::Dropped(Drop::MartianDestination),
            "{dst}"
        );
    }
    for src in ["::", "::1", "ff02::1"] {
        let frame = udp6_frame(src, "2001:db8:99::5", 64, 10);
        assert_eq!(
            b.rx(ETHER1, &frame),
            Outcome::Dropped(Drop::MartianSource),
            "{src}"
        );
    }
    let frame = udp6_frame("2001:db8:1::2", "::1", 64, 10);
    assert_eq!(
        b.rx(ETHER1, &frame),
        Outcome::Dropped(Drop::MartianDestination)
    );
    assert!(b.sent.take().is_empty());
    assert_eq!(b.fwd.stats().dropped(Drop::MartianSource), 7);
    assert_eq!(b.fwd.stats().dropped(Drop::MartianDestination), 3);
}

#[test]
fn broadcasts_and_multicasts_are_not_forwarded() {
    let mut b = Bench::new();
    for dst in ["255.255.255.255", "224.0.0.251", "10.0.2.255"] {
        let frame = udp4_frame(Udp4::new("10.0.1.2", dst));
        assert_eq!(b.rx(ETHER1, &frame), Outcome::ToHost, "{dst}");
    }
    let frame = udp6_frame("2001:db8:1::2", "ff0e::1", 64, 10);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::ToHost);
    // A frame to the broadcast MAC is not routed even with a unicast destination.
    let mut frame = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.7"));
    frame[..6].fill(0xff);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::ToHost);
    // Nor is a frame for another station's MAC.
    frame[..6].copy_from_slice(&[2, 9, 9, 9, 9, 9]);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::OtherHost));
    assert!(b.sent.take().is_empty());
    assert_eq!(b.fwd.stats().to_host, 5);
}

#[test]
fn no_error_about_an_icmp_error_or_a_later_fragment() {
    let mut b = Bench::new();
    // A time-exceeded message passing through with TTL 1: dropped, not answered.
    let inner = udp4_frame(Udp4::new("10.0.2.7", "10.0.1.2"));
    let header = Ipv4Packet::new_checked(&inner[14..]).unwrap();
    let repr = Ipv4Repr::parse(&header, &ChecksumCapabilities::default()).unwrap();
    let err = Icmpv4Repr::TimeExceeded {
        reason: Icmpv4TimeExceeded::TtlExpired,
        header: repr,
        data: &inner[34..42],
    };
    let frame = icmp4_frame("10.0.1.2", "192.168.2.10", 1, err);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::TtlExpired));
    assert!(b.sent.take().is_empty());
    // An echo request with TTL 1 is answered.
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 1,
        data: b"traceroute",
    };
    let frame = icmp4_frame("10.0.1.2", "192.168.2.10", 1, echo);
    assert_eq!(b.rx(ETHER1, &frame), Outcome::Dropped(Drop::TtlExpired));
    assert_eq!(b.sent.take().len(), 1);
    // A later fragment to nowhere: dropped, not answered; the first fragment is answered.
    let mut frag = udp4_frame(Udp4::new("10.0.1.2", "8.8.8.8"));
    frag[20..22].copy_from_slice(&0x2001u16.to_be_bytes());
    fix_checksum(&mut frag);
    assert_eq!(
        b.rx(ETHER1, &frag),
        Outcome::Dropped(Drop::NetworkUnreachable)
    );
    assert!(b.sent.take().is_empty());
    frag[20..22].copy_from_slice(&0x2000u16.to_be_bytes());
    fix_checksum(&mut frag);
    assert_eq!(
        b.rx(ETHER1, &frag),
        Outcome::Dropped(Drop::NetworkUnreachable)
    );
    assert_eq!(b.sent.take().len(), 1);
    assert_eq!(b.fwd.stats().icmp_suppressed, 2);
    assert_eq!(b.fwd.stats().icmp_sent, 2);
}

#[test]
fn icmp_errors_are_rate_limited_per_box() {
    // The per-destination stage off: the global bucket alone.
    let mut b = Bench::with(forward::Config {
        icmp_peer_interval_ms: 0,
        ..Default::default()
    });
    let mut p = Udp4::new("10.0.1.2", "8.8.8.8");
    let mut answered = 0;
    // A flood of 1000 packets to nowhere in 100 ms (v4 and v6 share the bucket).
    for i in 0..1000u64 {
        b.now = 1_000_000 + i * 100;
        p.sport = i as u16;
        let frame = if i % 2 == 0 {
            udp4_frame(p)
        } else {
            udp6_frame("2001:db8:1::2", "2001:db8:55::1", 64, 10)
        };
        b.rx(ETHER1, &frame);
        answered += b.sent.take().len();
    }
    // A burst of 50, then 1000 a second: 50 + 100 (the last refill may fall either side).
    assert!((149..=150).contains(&answered), "{answered}");
    assert_eq!(b.fwd.stats().icmp_rate_limited as usize, 1000 - answered);
    assert_eq!(b.fwd.stats().dropped(Drop::NetworkUnreachable), 1000);
}

#[test]
fn icmp_errors_are_rate_limited_per_destination() {
    let mut b = Bench::new();
    let mut answered = [0usize; 2];
    // 100 offending packets in 100 ms from each of two sources on the same link.
    for i in 0..100u64 {
        b.now = 1_000_000 + i * 1000;
        for (n, src) in ["10.0.1.2", "10.0.1.3"].into_iter().enumerate() {
            let mut p = Udp4::new(src, "8.8.8.8");
            p.sport = i as u16;
            b.rx(ETHER1, &udp4_frame(p));
            answered[n] += b.sent.take().len();
        }
    }
    // RouterOS's default icmp-rate-limit=10: a burst of 6, then one per 10 ms, for each
    // source alike (the global bucket, 50 and 1000/s, is not what stops them).
    for n in answered {
        assert!((15..=16).contains(&n), "{answered:?}");
    }
    let limited = b.fwd.stats().icmp_rate_limited as usize;
    assert_eq!(limited, 200 - answered[0] - answered[1]);
    // Fragmentation needed is never limited (path MTU discovery).
    b.fwd.set_config(forward::Config {
        icmp_peer_interval_ms: 1000,
        ..Default::default()
    });
    let mut p = Udp4::new("10.0.1.2", "198.51.100.7");
    p.payload = 1000;
    let frag_needed = (0..20)
        .filter(|_| {
            b.rx(ETHER1, &udp4_frame(p));
            !b.sent.take().is_empty()
        })
        .count();
    assert_eq!(frag_needed, 20);
}

#[test]
fn with_forwarding_off_only_the_box_s_own_packets_arrive() {
    let mut b = Bench::with(forward::Config {
        forward_v4: false,
        ..Default::default()
    });
    let routed = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.2"));
    assert_eq!(
        b.rx(ETHER1, &routed),
        Outcome::Dropped(Drop::ForwardingDisabled)
    );
    // Silent, as Linux with forwarding off; no route needed for the box's own addresses.
    assert!(b.sent.take().is_empty());
    let own = udp4_frame(Udp4::new("10.0.1.2", "10.0.2.1"));
    assert_eq!(b.rx(ETHER1, &own), Outcome::ToHost);
    // IPv6 has its own switch.
    let v6 = udp6_frame("2001:db8:1::2", "2001:db8:2::2", 64, 10);
    assert!(matches!(
        b.rx(ETHER1, &v6),
        Outcome::Forwarded { .. } | Outcome::Queued { .. }
    ));
    b.fwd.set_config(forward::Config {
        forward_v6: false,
        ..Default::default()
    });
    assert!(matches!(
        b.rx(ETHER1, &routed),
        Outcome::Forwarded { .. } | Outcome::Queued { .. }
    ));
    assert_eq!(
        b.rx(ETHER1, &v6),
        Outcome::Dropped(Drop::ForwardingDisabled)
    );
    assert_eq!(b.fwd.stats().dropped(Drop::ForwardingDisabled), 2);
}

#[test]
fn an_unknown_next_hop_queues_then_releases() {
    let mut b = Bench::new();
    let frames: Vec<Vec<u8>> = (0..WAIT_PACKETS as u16 + 1)
        .map(|i| {
            let mut p = Udp4::new("10.0.1.2", "172.16.0.1");
            p.sport = i;
            udp4_frame(p)
        })
        .collect();
    let hop = "10.0.2.9".parse().unwrap();
    for f in &frames[..WAIT_PACKETS] {
        assert_eq!(
            b.rx(ETHER1, f),
            Outcome::Queued {
                interface: ETHER2,
                next_hop: hop
            }
        );
    }
    assert_eq!(
        b.nbrs.requests,
        vec![(ETHER2, hop)],
        "one request per next hop"
    );
    assert_eq!(
        b.rx(ETHER1, &frames[WAIT_PACKETS]),
        Outcome::Dropped(Drop::NeighborQueueFull)
    );
    assert!(b.sent.take().is_empty());
    // Nothing known yet: poll keeps waiting.
    b.fwd.poll(b.now + 1000, &mut b.nbrs, &mut b.sent);
    assert!(b.sent.take().is_empty());
    // The neighbour answers: the queue goes in order, rewritten.
    let mac = [2, 0, 0, 0, 2, 9];
    b.nbrs.known.push((ETHER2, hop, mac));
    b.fwd.poll(b.now + 2000, &mut b.nbrs, &mut b.sent);
    let sent = b.sent.take();
    assert_eq!(sent.len(), WAIT_PACKETS);
    for (i, (on, f)) in sent.iter().enumerate() {
        assert_eq!(*on, ETHER2);
        assert_eq!(f[..6], mac);
        assert_eq!(f[6..12], MAC2);
        assert_eq!(check_v4(f).hop_limit, 63);
        assert_eq!(f[34..36], (i as u16).to_be_bytes(), "in arrival order");
    }
    assert_eq!(b.fwd.stats().released, WAIT_PACKETS as u64);
    assert_eq!(b.fwd.waiting_next_hops(), 0);
    // Now known: forwarded at once.
    assert_eq!(
        b.rx(ETHER1, &frames[0]),
        Outcome::Forwarded { interface: ETHER2 }
    );
}

#[test]
fn an_unanswered_next_hop_times_out_with_host_unreachable() {
    let mut b = Bench::new();
    let frame = udp4_frame(Udp4::new("10.0.1.2", "172.16.0.1"));
    b.rx(ETHER1, &frame);
    b.rx(ETHER1, &frame);
    b.fwd
        .poll(b.now + WAIT_TIMEOUT_US - 1, &mut b.nbrs, &mut b.sent);
    assert!(b.sent.take().is_empty());
    b.fwd
        .poll(b.now + WAIT_TIMEOUT_US, &mut b.nbrs, &mut b.sent);
    let sent = b.sent.take();
    assert_eq!(sent.len(), 2);
    let (ip, t, c, _, quote) = icmp4_error(&sent[0].1);
    assert_eq!((t, c), (3, 1));
    assert_eq!(ip.dst_addr, v4("10.0.1.2"));
    assert_eq!(sent[0].1[..6], CLIENT_MAC);
    // The quote is the packet as it waited (TTL already decremented, as Linux quotes it).
    assert_eq!(quote[8], 63);
    assert_eq!(b.fwd.stats().dropped(Drop::NeighborTimeout), 2);
    assert_eq!(b.fwd.waiting_next_hops(), 0);
}

#[test]
fn the_wait_queues_are_bounded() {
    let mut b = Bench::new();
    // Every next hop in 10.0.2.0/24 but the known ones waits: connected destinations.
    let mut opened = 0;
    for host in 100..100 + WAIT_QUEUES as u8 + 3 {
        let frame = udp4_frame(Udp4::new("10.0.1.2", &format!("10.0.2.{host}")));
        match b.rx(ETHER1, &frame) {
            Outcome::Queued { .. } => opened += 1,
            other => assert_eq!(other, Outcome::Dropped(Drop::NeighborQueueFull)),
        }
    }
    assert_eq!(opened, WAIT_QUEUES);
    assert_eq!(b.fwd.stats().dropped(Drop::NeighborQueueFull), 3);
    assert_eq!(b.nbrs.requests.len(), WAIT_QUEUES);
}

#[test]
fn a_ttl_expiry_answers_traceroute_from_each_ingress() {
    // The same TTL-1 probe arriving on ether2 is answered from ether2's address.
    let mut b = Bench::new();
    let mut p = Udp4::new("10.0.2.7", "198.51.100.7");
    p.ttl = 1;
    let mut frame = udp4_frame(p);
    frame[..6].copy_from_slice(&MAC2);
    assert_eq!(b.rx(ETHER2, &frame), Outcome::Dropped(Drop::TtlExpired));
    let sent = b.sent.take();
    assert_eq!(sent[0].0, ETHER2);
    let (ip, _, _, _, _) = icmp4_error(&sent[0].1);
    assert_eq!(ip.src_addr, v4("10.0.2.1"));
}
