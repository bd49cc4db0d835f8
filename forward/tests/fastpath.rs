//! The flow cache is exact: a forwarder with it and one without it (its route source gives
//! no generation, so nothing is ever kept), fed the same random packets (flows that repeat,
//! TTL 0-3, options, fragments, sizes about the MTUs, bad checksums, another MAC, UDP too
//! short for its ports) between random changes of routes, rules, neighbours (new MAC, gone,
//! stale), interfaces (MTU, MAC) and settings (ECMP mode, forwarding off), send the same bytes
//! out of the same interfaces, give the same outcomes, ask the same neighbour requests and
//! confirmations and count the same.

mod common;

use std::net::IpAddr;

use common::*;
use forward::{Config, Forwarder, Interface, Mac, Neighbors, RouteSource};
use proptest::prelude::*;
use routing::{
    Decision, EcmpChoice, EcmpMode, Gateway, IfId, Packet, Prefix, Rib, RouteId, RouteSpec,
    RuleAction, RuleSpec,
};

/// The RIB without a generation: the forwarder never keeps a decision.
struct Uncached<'a>(&'a Rib);

impl RouteSource for Uncached<'_> {
    fn decide(&self, packet: &Packet, ecmp: EcmpChoice) -> Decision {
        self.0.decide_ecmp(packet, ecmp)
    }
}

/// A neighbour table with a generation, `stale` entries confirmed once (as the host IP's).
#[derive(Clone, Default)]
struct Nbrs {
    /// (interface, address, MAC, stale and not yet asked to confirm)
    known: Vec<(IfId, IpAddr, Mac, bool)>,
    asks: Vec<(IfId, IpAddr, bool)>,
    changes: u64,
}

impl Neighbors for Nbrs {
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac> {
        let e = self
            .known
            .iter_mut()
            .find(|e| e.0 == interface && e.1 == addr)?;
        if e.3 {
            e.3 = false;
            self.changes += 1;
            self.asks.push((interface, addr, true));
        }
        Some(e.2)
    }
    fn resolve(&mut self, interface: IfId, addr: IpAddr) {
        self.asks.push((interface, addr, false));
    }
    fn generation(&self) -> Option<u64> {
        Some(self.changes)
    }
}

impl Nbrs {
    fn usual() -> Self {
        let t = Table::usual();
        Nbrs {
            known: t
                .known
                .into_iter()
                .map(|(i, a, m)| (i, a, m, false))
                .collect(),
            ..Nbrs::default()
        }
    }
}

const SOURCES: [&str; 4] = ["10.0.1.2", "10.0.1.200", "10.0.2.5", "0.1.2.3"];
const DESTINATIONS: [&str; 10] = [
    "192.168.2.10",
    "192.168.2.77",
    "10.0.2.7",
    "198.51.100.7",
    "10.50.0.1",
    "172.16.0.1",
    "10.99.0.1",
    "10.97.0.1",
    "10.0.2.1",
    "10.0.2.255",
];

#[derive(Clone, Copy, Debug)]
enum Shape {
    Plain,
    Options,
    MoreFragments,
    LaterFragment,
    BadChecksum,
    OtherMac,
    ShortUdp,
}

#[derive(Clone, Debug)]
enum Op {
    Packet {
        src: usize,
        dst: usize,
        on2: bool,
        protocol: u8,
        sport: u16,
        ttl: u8,
        payload: usize,
        df: bool,
        shape: Shape,
    },
    /// Add (or take back) 192.168.2.0/25 through the point-to-point link.
    Route,
    /// Add (or take back) a rule: sources in 10.0.1.0/24 look up table `other`.
    Rule,
    NeighborMac(usize, u8),
    NeighborGone(usize),
    NeighborStale(usize),
    Mtu(u16),
    IngressMac(u8),
    Ecmp(bool),
    Forwarding(bool),
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        6 => Just(Shape::Plain),
        1 => Just(Shape::Options),
        1 => Just(Shape::MoreFragments),
        1 => Just(Shape::LaterFragment),
        1 => Just(Shape::BadChecksum),
        1 => Just(Shape::OtherMac),
        1 => Just(Shape::ShortUdp),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let packet = (
        0..SOURCES.len(),
        0..DESTINATIONS.len(),
        proptest::bool::weighted(0.1),
        prop_oneof![Just(17u8), Just(6), Just(1)],
        0u16..3,
        prop_oneof![0u8..=3, Just(64)],
        prop_oneof![0usize..64, 520usize..580, 1440usize..1480],
        any::<bool>(),
        shape(),
    )
        .prop_map(
            |(src, dst, on2, protocol, sport, ttl, payload, df, shape)| Op::Packet {
                src,
                dst,
                on2,
                protocol,
                sport,
                ttl,
                payload,
                df,
                shape,
            },
        );
    prop_oneof![
        40 => packet,
        1 => Just(Op::Route),
        1 => Just(Op::Rule),
        1 => (0usize..6, 1u8..4).prop_map(|(n, m)| Op::NeighborMac(n, m)),
        1 => (0usize..6).prop_map(Op::NeighborGone),
        1 => (0usize..6).prop_map(Op::NeighborStale),
        1 => prop_oneof![Just(576u16), Just(1500), Just(600)].prop_map(Op::Mtu),
        1 => (0u8..2).prop_map(Op::IngressMac),
        1 => any::<bool>().prop_map(Op::Ecmp),
        1 => proptest::bool::weighted(0.8).prop_map(Op::Forwarding),
    ]
}

/// The IPv4 packet of `frame` (after its Ethernet header), its header checksum made right.
fn fix_checksum(frame: &mut [u8]) {
    let ihl = usize::from(frame[14] & 0xf) * 4;
    frame[24..26].copy_from_slice(&[0, 0]);
    let c = forward::checksum::of(&frame[14..14 + ihl]);
    frame[24..26].copy_from_slice(&c.to_be_bytes());
}

#[allow(clippy::too_many_arguments)]
fn frame(
    src: usize,
    dst: usize,
    on2: bool,
    protocol: u8,
    sport: u16,
    ttl: u8,
    payload: usize,
    df: bool,
    shape: Shape,
) -> Vec<u8> {
    let mut p = Udp4::new(SOURCES[src], DESTINATIONS[dst]);
    p.ttl = ttl;
    p.sport = 40000 + sport;
    p.payload = payload;
    p.dont_fragment = df;
    let mut f = udp4_frame(p);
    f[23] = protocol;
    if on2 {
        f[..6].copy_from_slice(&MAC2);
    }
    match shape {
        Shape::Plain => {}
        Shape::Options => {
            // Four no-operations: a 24-byte header.
            f.splice(34..34, [1u8, 1, 1, 1]);
            f[14] = 0x46;
            let len = u16::from_be_bytes([f[16], f[17]]) + 4;
            f[16..18].copy_from_slice(&len.to_be_bytes());
        }
        Shape::MoreFragments => f[20] |= 0x20,
        Shape::LaterFragment => f[21] = 0x10,
        Shape::BadChecksum => {}
        Shape::OtherMac => f[5] ^= 0x40,
        Shape::ShortUdp => {
            f[16..18].copy_from_slice(&20u16.to_be_bytes());
        }
    }
    fix_checksum(&mut f);
    if let Shape::BadChecksum = shape {
        f[25] ^= 0x01;
    }
    f
}

/// One side of the comparison: each has its own RIB (a shared one would hand out its round
/// robin turns to the two sides in turn).
struct Side {
    rib: Rib,
    route: Option<RouteId>,
    rule: Option<routing::RuleId>,
    fwd: Forwarder,
    nbrs: Nbrs,
    sent: Sent,
}

struct Pair {
    cached: Side,
    plain: Side,
    now: u64,
    hits: usize,
}

impl Pair {
    fn new() -> Self {
        let side = || Side {
            rib: rib(),
            route: None,
            rule: None,
            fwd: forwarder(Config::default()),
            nbrs: Nbrs::usual(),
            sent: Sent::default(),
        };
        Pair {
            cached: side(),
            plain: side(),
            now: 1_000_000,
            hits: 0,
        }
    }

    fn both(&mut self, f: impl Fn(&mut Side)) {
        f(&mut self.cached);
        f(&mut self.plain);
    }

    fn packet(&mut self, on: IfId, bytes: &[u8]) {
        let generation = Forwarder::generation(&self.cached.rib, &self.cached.nbrs);
        if let Some(g) = generation {
            let mut head = forward::fastpath::Head::default();
            let hit = self.cached.fwd.cached(g, on, bytes, &mut head).is_some();
            self.hits += usize::from(hit);
        }
        let mut a = bytes.to_vec();
        let c = &mut self.cached;
        let got = c
            .fwd
            .receive(self.now, on, &mut a, &c.rib, &mut c.nbrs, &mut c.sent);
        let mut b = bytes.to_vec();
        let p = &mut self.plain;
        let want = p.fwd.receive(
            self.now,
            on,
            &mut b,
            &Uncached(&p.rib),
            &mut p.nbrs,
            &mut p.sent,
        );
        assert_eq!(got, want, "outcome");
        self.check();
    }

    fn check(&mut self) {
        assert_eq!(
            self.cached.sent.take(),
            self.plain.sent.take(),
            "frames sent"
        );
        assert_eq!(self.cached.fwd.stats(), self.plain.fwd.stats(), "counters");
        assert_eq!(self.cached.nbrs.asks, self.plain.nbrs.asks, "requests");
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Packet {
                src,
                dst,
                on2,
                protocol,
                sport,
                ttl,
                payload,
                df,
                shape,
            } => {
                let on = if on2 { ETHER2 } else { ETHER1 };
                let f = frame(src, dst, on2, protocol, sport, ttl, payload, df, shape);
                self.packet(on, &f);
            }
            Op::Route => self.both(|s| match s.route.take() {
                Some(id) => s.rib.remove_route(id).unwrap(),
                None => {
                    let dst: Prefix = "192.168.2.0/25".parse().unwrap();
                    let spec = RouteSpec::new(dst).via(Gateway::Interface(PPP));
                    s.route = Some(s.rib.add_route(spec).unwrap());
                }
            }),
            Op::Rule => self.both(|s| match s.rule.take() {
                Some(id) => s.rib.remove_rule(id).unwrap(),
                None => {
                    let other = s.rib.table_by_name("other").unwrap();
                    let mut rule = RuleSpec::new(RuleAction::Lookup(other));
                    rule.src = Some("10.0.1.0/24".parse().unwrap());
                    s.rule = Some(s.rib.add_rule(rule).unwrap());
                }
            }),
            Op::NeighborMac(n, m) => self.both(|s| {
                if let Some(e) = s.nbrs.known.get_mut(n) {
                    e.2[5] = e.2[5].wrapping_add(m);
                    s.nbrs.changes += 1;
                }
            }),
            Op::NeighborGone(n) => self.both(|s| {
                if n < s.nbrs.known.len() {
                    s.nbrs.known.remove(n);
                    s.nbrs.changes += 1;
                }
            }),
            Op::NeighborStale(n) => self.both(|s| {
                if let Some(e) = s.nbrs.known.get_mut(n) {
                    e.3 = true;
                    s.nbrs.changes += 1;
                }
            }),
            Op::Mtu(mtu) => self.both(|s| {
                let mut i = *s.fwd.interface(ETHER3).unwrap();
                i.mtu = mtu;
                s.fwd.set_interface(i).unwrap();
            }),
            Op::IngressMac(m) => self.both(|s| {
                let mut i: Interface = *s.fwd.interface(ETHER2).unwrap();
                i.mac[5] = 2 + m;
                s.fwd.set_interface(i).unwrap();
            }),
            Op::Ecmp(hash) => self.both(|s| {
                let mut c = *s.fwd.config();
                c.ecmp = if hash {
                    EcmpMode::PerFlowHash
                } else {
                    EcmpMode::RoundRobin
                };
                s.fwd.set_config(c);
            }),
            Op::Forwarding(on) => self.both(|s| {
                let mut c = *s.fwd.config();
                c.forward_v4 = on;
                s.fwd.set_config(c);
            }),
        }
        // Time passes and the wait queues are polled (queued packets released or given up).
        self.now += 400_000;
        let now = self.now;
        self.both(|s| s.fwd.poll(now, &mut s.nbrs, &mut s.sent));
        self.check();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_cache_changes_nothing_but_the_cost(ops in proptest::collection::vec(op(), 1..160)) {
        let mut pair = Pair::new();
        for op in &ops {
            pair.apply(op);
        }
    }
}

/// The property above is not vacuous: a flow's packets after its first are hits, and a
/// change of any kind sends the next packet the whole way.
#[test]
fn repeated_flows_hit_and_every_change_drops_the_cache() {
    let mut pair = Pair::new();
    let packet = Op::Packet {
        src: 0,
        dst: 0,
        on2: false,
        protocol: 17,
        sport: 1,
        ttl: 64,
        payload: 18,
        df: true,
        shape: Shape::Plain,
    };
    for _ in 0..10 {
        pair.apply(&packet);
    }
    assert_eq!(pair.hits, 9, "the first packet fills, the other nine hit");
    assert_eq!(pair.cached.fwd.stats().forwarded_v4, 10);
    for change in [
        Op::Route,
        Op::Rule,
        Op::NeighborMac(0, 1),
        Op::NeighborStale(1),
        Op::Mtu(1500),
        Op::IngressMac(1),
        Op::Forwarding(true),
    ] {
        pair.apply(&change);
        let before = pair.hits;
        pair.apply(&packet);
        pair.apply(&packet);
        assert_eq!(
            pair.hits,
            before + 1,
            "after {change:?}: a miss, then a hit"
        );
    }
    // Round robin: never kept.
    pair.apply(&Op::Ecmp(false));
    let before = pair.hits;
    for _ in 0..4 {
        pair.apply(&packet);
    }
    assert_eq!(pair.hits, before);
    assert!(pair.cached.fwd.flow_cache().is_empty());
}
