//! The body of the `forward` fuzz target: frames (arbitrary bytes, and valid IPv4/IPv6
//! packets with fuzzed fields and an optional corrupted byte) into a forwarder with four
//! interfaces and a RIB with every kind of route and rule, with time passing and neighbours
//! becoming known. A plain function, so that `cargo test` runs it too; it panics only when a
//! rule is broken:
//! - every frame sent is a whole Ethernet frame of at most [`FRAME_MAX`] bytes, from the MAC
//!   of the known interface it leaves by, carrying a valid IPv4 header (checksum included) or
//!   an IPv6 header, with a TTL / hop limit of at least 1 and no longer than that
//!   interface's MTU;
//! - every packet is accounted for once: handed to the host, forwarded, queued (then
//!   released, dropped or still waiting) or dropped with a reason;
//! - ICMP errors never exceed the rate limit's burst plus its rate over the time passed;
//! - the flow cache ([`crate::fastpath`]) changes nothing: a twin forwarder whose route source
//!   gives no generation (so it never keeps a decision) gets the same frames, gives the same
//!   outcomes, sends the same bytes and counts the same.
//!
//! Input: records of one opcode byte: `0..=3` a raw frame follows (one length byte, then the
//! bytes) on interface 1 or 2, sent to its MAC; `4` time passes (one byte of 10 ms steps) and
//! the forwarder polls; `5` a neighbour becomes known (one byte picks it); `6..=255` a valid
//! packet (bytes: destination, TTL, size, flags, corruption offset, corruption value).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use routing::{
    AddressSpec, Decision, EcmpChoice, Gateway, IfId, InterfaceState, Packet, Prefix, Rib,
    RibConfig, RouteSpec, RouteType, RuleAction, RuleSpec,
};

use crate::parse::{self, ETH_LEN};
use crate::{
    checksum, Config, Forwarder, Interface, Mac, Neighbors, Outcome, RouteSource, Sink, FRAME_MAX,
};

const MACS: [Mac; 4] = [
    [2, 0, 0, 0, 0, 1],
    [2, 0, 0, 0, 0, 2],
    [2, 0, 0, 0, 0, 3],
    [2, 0, 0, 0, 0, 4],
];
const MTUS: [u16; 4] = [1500, 1500, 576, 1280];
const PEER: Mac = [2, 0, 0, 0, 9, 9];

/// Addresses the fuzzer may make known as neighbours (interface, address).
const NEIGHBORS: [(u16, IpAddr); 6] = [
    (2, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2))),
    (2, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 3))),
    (3, IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2))),
    (2, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 7))),
    (
        2,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 2)),
    ),
    (1, IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2))),
];

/// Destinations of the valid packets: every kind of decision.
const DESTINATIONS: [IpAddr; 14] = [
    IpAddr::V4(Ipv4Addr::new(10, 0, 2, 7)),
    IpAddr::V4(Ipv4Addr::new(192, 168, 2, 10)),
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
    IpAddr::V4(Ipv4Addr::new(10, 50, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 98, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 97, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
    IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1)),
    IpAddr::V4(Ipv4Addr::new(172, 16, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 0, 2, 255)),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 5)),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x98, 0, 0, 0, 0, 5)),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x55, 0, 0, 0, 0, 5)),
];

#[derive(Clone)]
struct Table {
    known: [bool; NEIGHBORS.len()],
    /// Neighbours learnt (the table's generation).
    changes: u64,
}

impl Neighbors for Table {
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac> {
        let i = NEIGHBORS
            .iter()
            .position(|n| n.0 == interface.0 && n.1 == addr)?;
        self.known[i].then_some(PEER)
    }
    fn resolve(&mut self, _: IfId, _: IpAddr) {}
    fn generation(&self) -> Option<u64> {
        Some(self.changes)
    }
}

/// The RIB without a generation: the twin that never keeps a decision.
struct Uncached<'a>(&'a Rib);

impl RouteSource for Uncached<'_> {
    fn decide(&self, packet: &Packet, ecmp: EcmpChoice) -> Decision {
        self.0.decide_ecmp(packet, ecmp)
    }
}

struct Checker {
    sent: u64,
    /// FNV-1a over every frame sent and its interface.
    digest: u64,
}

impl Sink for Checker {
    fn send(&mut self, interface: IfId, frame: &[u8]) {
        let i = usize::from(interface.0)
            .checked_sub(1)
            .filter(|i| *i < MACS.len())
            .expect("sent on an unknown interface");
        assert!(
            frame.len() > ETH_LEN && frame.len() <= FRAME_MAX,
            "frame length"
        );
        assert_eq!(frame[6..12], MACS[i], "source MAC");
        let ip = &frame[ETH_LEN..];
        assert!(ip.len() <= usize::from(MTUS[i]), "longer than the MTU");
        match parse::ethertype(frame) {
            parse::ETHERTYPE_IPV4 => {
                let h = parse::ipv4(ip).expect("a valid IPv4 header");
                assert_eq!(h.total_len, ip.len(), "length field");
                assert!(h.ttl >= 1);
            }
            parse::ETHERTYPE_IPV6 => {
                let h = parse::ipv6(ip).expect("a valid IPv6 header");
                assert_eq!(h.total_len, ip.len(), "payload length field");
                assert!(h.hop_limit >= 1);
            }
            other => panic!("sent ethertype {other:#x}"),
        }
        self.sent += 1;
        for b in interface.0.to_be_bytes().iter().chain(frame) {
            self.digest = (self.digest ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn prefix(s: &str) -> Prefix {
    s.parse().expect("prefix")
}

/// The RIB the body routes with (the same shape as the host tests' box).
pub fn rib() -> Rib {
    let mut rib = Rib::new(RibConfig {
        fibs: false,
        ..RibConfig::default()
    });
    for id in 1..=4 {
        let state = InterfaceState {
            running: true,
            point_to_point: id == 4,
        };
        rib.set_interface(IfId(id), state).expect("interface");
    }
    for (a, len, i) in [
        ("10.0.1.1", 24, 1),
        ("2001:db8:1::1", 64, 1),
        ("10.0.2.1", 24, 2),
        ("2001:db8:2::1", 64, 2),
        ("10.0.3.1", 24, 3),
        ("10.0.4.1", 30, 4),
    ] {
        rib.add_address(AddressSpec::new(ip(a), len, IfId(i)))
            .expect("address");
    }
    let via = |d: &str, g: &str| RouteSpec::new(prefix(d)).via(Gateway::Address(ip(g)));
    let routes = [
        via("192.168.2.0/24", "10.0.2.2").via(Gateway::Address(ip("10.0.2.3"))),
        via("172.16.0.0/16", "10.0.2.9"),
        via("198.51.100.0/24", "10.0.3.2"),
        RouteSpec::new(prefix("10.50.0.0/16")).via(Gateway::Interface(IfId(4))),
        via("2001:db8:99::/48", "2001:db8:2::2"),
    ];
    for r in routes {
        rib.add_route(r).expect("route");
    }
    for (d, t) in [
        ("10.99.0.0/16", RouteType::Blackhole),
        ("10.98.0.0/16", RouteType::Prohibit),
        ("10.97.0.0/16", RouteType::Unreachable),
        ("2001:db8:98::/48", RouteType::Prohibit),
    ] {
        let mut spec = RouteSpec::new(prefix(d));
        spec.route_type = t;
        rib.add_route(spec).expect("route");
    }
    let mut rule = RuleSpec::new(RuleAction::Unreachable);
    rule.dst = Some(prefix("10.95.0.0/16"));
    rib.add_rule(rule).expect("rule");
    rib
}

/// The forwarder the body drives: interfaces 1..=4 with MTUs 1500, 1500, 576 and 1280.
pub fn forwarder() -> Forwarder {
    let mut f = Forwarder::new(Config::default());
    let v4 = [(10, 0, 1, 1), (10, 0, 2, 1), (10, 0, 3, 1), (10, 0, 4, 1)];
    for i in 0..4 {
        let (a, b, c, d) = v4[i];
        f.set_interface(Interface {
            id: IfId(i as u16 + 1),
            mac: MACS[i],
            mtu: MTUS[i],
            v4: Some((Ipv4Addr::new(a, b, c, d), 24)),
            v6: (i < 2).then(|| Ipv6Addr::new(0x2001, 0xdb8, i as u16 + 1, 0, 0, 0, 0, 1)),
            peer_mac: PEER,
        })
        .expect("interface");
    }
    f
}

/// Writes a valid packet to `dst` into `buf` (Ethernet header to interface 1's MAC);
/// returns its length.
fn valid_packet(buf: &mut [u8], dst: IpAddr, ttl: u8, size: usize, flags: u8) -> usize {
    buf[..6].copy_from_slice(&MACS[0]);
    buf[6..12].copy_from_slice(&[2, 0, 0, 0, 1, 2]);
    let protocol = [17, 6, 1, 58][usize::from(flags >> 6)];
    match dst {
        IpAddr::V4(d) => {
            let total = 20 + 8 + size;
            buf[12..14].copy_from_slice(&parse::ETHERTYPE_IPV4.to_be_bytes());
            let ip = &mut buf[ETH_LEN..ETH_LEN + total];
            ip.fill(flags);
            ip[0] = 0x45;
            ip[1] = 0;
            ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            let frag =
                u16::from(flags & 0x40) << 8 | u16::from(flags & 0x21) << 8 | u16::from(flags & 3);
            ip[6..8].copy_from_slice(&frag.to_be_bytes());
            ip[8] = ttl;
            ip[9] = protocol;
            ip[10..12].fill(0);
            ip[12..16].copy_from_slice(&[10, 0, 1, 2 + (flags & 0x80)]);
            ip[16..20].copy_from_slice(&d.octets());
            let c = checksum::of(&ip[..20]);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            ip[20] = flags & 0x0f;
            ETH_LEN + total
        }
        IpAddr::V6(d) => {
            let payload = 8 + size;
            buf[12..14].copy_from_slice(&parse::ETHERTYPE_IPV6.to_be_bytes());
            let ip = &mut buf[ETH_LEN..ETH_LEN + 40 + payload];
            ip.fill(flags);
            ip[..4].copy_from_slice(&[0x60, 0, 0, 0]);
            ip[4..6].copy_from_slice(&(payload as u16).to_be_bytes());
            ip[6] = if flags & 0x10 != 0 { 44 } else { protocol };
            ip[7] = ttl;
            let src = if flags & 0x20 != 0 {
                Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2)
            } else {
                Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2)
            };
            ip[8..24].copy_from_slice(&src.octets());
            ip[24..40].copy_from_slice(&d.octets());
            ip[40] = protocol;
            ETH_LEN + 40 + payload
        }
    }
}

/// What one input did: receive outcomes by kind, and the frames sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub to_host: u64,
    pub forwarded: u64,
    pub queued: u64,
    pub dropped: u64,
    pub released: u64,
    pub icmp_sent: u64,
    pub fragments: u64,
}

/// Runs one input. Panics when a rule above is broken.
pub fn run(data: &[u8]) {
    run_counting(data);
}

/// [`run`], telling what happened (for the tests that check the body reaches every path).
pub fn run_counting(data: &[u8]) -> Summary {
    let rib = rib();
    let mut fwd = forwarder();
    let mut table = Table {
        known: [false; NEIGHBORS.len()],
        changes: 0,
    };
    let mut out = Checker { sent: 0, digest: 0 };
    let mut twin = forwarder();
    let mut twin_table = table.clone();
    let mut twin_out = Checker { sent: 0, digest: 0 };
    let mut buf = [0u8; 1600];
    let mut twin_buf = [0u8; 1600];
    let start = 1_000_000u64;
    let mut now = start;
    let (mut to_host, mut forwarded, mut queued, mut dropped) = (0u64, 0u64, 0u64, 0u64);
    let mut input = data;
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        let (len, on) = match op {
            0..=3 => {
                let Some((&n, rest)) = input.split_first() else {
                    break;
                };
                let n = usize::from(n).min(rest.len());
                let on = IfId(u16::from(op & 1) + 1);
                buf[..n].copy_from_slice(&rest[..n]);
                if n >= 6 && op & 2 == 0 {
                    buf[..6].copy_from_slice(&MACS[usize::from(op & 1)]);
                }
                input = &rest[n..];
                (n, on)
            }
            4 => {
                let Some((&steps, rest)) = input.split_first() else {
                    break;
                };
                input = rest;
                now += u64::from(steps) * 10_000;
                fwd.poll(now, &mut table, &mut out);
                twin.poll(now, &mut twin_table, &mut twin_out);
                continue;
            }
            5 => {
                let Some((&pick, rest)) = input.split_first() else {
                    break;
                };
                input = rest;
                for t in [&mut table, &mut twin_table] {
                    t.known[usize::from(pick) % NEIGHBORS.len()] = true;
                    t.changes += 1;
                }
                fwd.poll(now, &mut table, &mut out);
                twin.poll(now, &mut twin_table, &mut twin_out);
                continue;
            }
            _ => {
                let Some((fields, rest)) = input.split_first_chunk::<6>() else {
                    break;
                };
                input = rest;
                let [dst, ttl, size, flags, at, value] = *fields;
                let dst = DESTINATIONS[usize::from(dst) % DESTINATIONS.len()];
                let size = usize::from(size) * 6;
                let n = valid_packet(&mut buf, dst, ttl % 4, size, flags);
                let n = if op & 1 == 0 {
                    n
                } else {
                    n.saturating_sub(usize::from(at) % 4)
                };
                if op & 2 != 0 {
                    buf[usize::from(at) % n] ^= value;
                }
                (n, IfId(1))
            }
        };
        twin_buf[..len].copy_from_slice(&buf[..len]);
        let outcome = fwd.receive(now, on, &mut buf[..len], &rib, &mut table, &mut out);
        let twin_outcome = twin.receive(
            now,
            on,
            &mut twin_buf[..len],
            &Uncached(&rib),
            &mut twin_table,
            &mut twin_out,
        );
        assert_eq!(outcome, twin_outcome, "the flow cache changed an outcome");
        assert_eq!(
            out.digest, twin_out.digest,
            "the flow cache changed a frame"
        );
        assert_eq!(fwd.stats(), twin.stats(), "the flow cache changed a count");
        match outcome {
            Outcome::ToHost => to_host += 1,
            Outcome::Forwarded { .. } => forwarded += 1,
            Outcome::Queued { .. } => queued += 1,
            Outcome::Dropped(_) => dropped += 1,
        }
    }
    let s = fwd.stats();
    assert_eq!(s.to_host, to_host, "to-host count");
    assert_eq!(s.queued, queued, "queued count");
    assert_eq!(
        s.forwarded_v4 + s.forwarded_v6,
        forwarded + s.released,
        "forwarded count"
    );
    let waiting = fwd.waiting_packets() as u64;
    let left_queues = queued - s.released - waiting;
    assert_eq!(s.dropped_total(), dropped + left_queues, "drop count");
    let seconds = (now - start) / 1_000_000 + 1;
    assert!(
        s.icmp_sent <= u64::from(crate::ratelimit::DEFAULT_BURST) + seconds * 1000,
        "rate limit"
    );
    let errors_and_frames = s.icmp_sent + s.fragments + forwarded + s.released;
    assert!(
        out.sent <= errors_and_frames,
        "every frame sent is accounted for"
    );
    Summary {
        to_host,
        forwarded,
        queued,
        dropped,
        released: s.released,
        icmp_sent: s.icmp_sent,
        fragments: s.fragments,
    }
}
