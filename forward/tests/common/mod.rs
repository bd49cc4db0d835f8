//! The box the forwarding tests route through: a RIB with the seed's kinds of routes and
//! rules, the forwarder's interfaces, a neighbour table that records requests, a sink that
//! keeps what is sent; and IPv4/IPv6 frames built and checked with smoltcp's `wire` module
//! (checksums verified by smoltcp, independently of the crate's own code).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use forward::{Config, Forwarder, Interface, Mac, Neighbors, Outcome, Sink};
use routing::*;
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::*;

pub const ETHER1: IfId = IfId(1);
pub const ETHER2: IfId = IfId(2);
/// A 576-byte MTU link.
pub const ETHER3: IfId = IfId(3);
/// A point-to-point link.
pub const PPP: IfId = IfId(4);

pub const MAC1: Mac = [0x02, 0x4d, 0x52, 0, 0, 1];
pub const MAC2: Mac = [0x02, 0x4d, 0x52, 0, 0, 2];
pub const MAC3: Mac = [0x02, 0x4d, 0x52, 0, 0, 3];
pub const MAC4: Mac = [0x02, 0x4d, 0x52, 0, 0, 4];
pub const PPP_PEER: Mac = [0x02, 0x50, 0x50, 0, 0, 1];
/// The station on ether1 that sends the test packets.
pub const CLIENT_MAC: Mac = [0x02, 0, 0, 0, 1, 0x22];
/// Neighbours on ether2 (gateways) and ether3.
pub const GW2_MAC: Mac = [0x02, 0, 0, 0, 2, 0x02];
pub const GW3_MAC: Mac = [0x02, 0, 0, 0, 2, 0x03];
pub const HOST7_MAC: Mac = [0x02, 0, 0, 0, 2, 0x07];
pub const SMALL_GW_MAC: Mac = [0x02, 0, 0, 0, 3, 0x02];
pub const GW6_MAC: Mac = [0x02, 0, 0, 0, 6, 0x02];

pub fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
pub fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn net(s: &str) -> Prefix {
    s.parse().unwrap()
}

/// The box's RIB:
/// - ether1 10.0.1.1/24, 2001:db8:1::1/64; ether2 10.0.2.1/24, 2001:db8:2::1/64; ether3
///   10.0.3.1/24 (MTU 576); ppp 10.0.4.1/30 (point-to-point);
/// - 192.168.2.0/24 via 10.0.2.2 and 10.0.2.3 (ECMP); 172.16.0.0/16 via 10.0.2.9 (a
///   neighbour that never answers); 198.51.100.0/24 via 10.0.3.2; 10.50.0.0/16 via ppp;
/// - 10.99.0.0/16 blackhole, 10.98.0.0/16 prohibit, 10.97.0.0/16 unreachable;
/// - table `other` with 0.0.0.0/0 via 10.0.3.2, looked up for sources in 10.0.1.128/25;
///   rules: dst 10.96.0.0/16 drop, dst 10.95.0.0/16 unreachable;
/// - 2001:db8:99::/48 via 2001:db8:2::2, 2001:db8:98::/48 prohibit, 2001:db8:97::/48
///   unreachable, 2001:db8:96::/48 blackhole.
pub fn rib() -> Rib {
    let mut rib = Rib::new(RibConfig {
        fib_v4: FibConfig::ipv4_prefixes(1024),
        fib_v6: FibConfig::ipv6_prefixes(1024),
        ..RibConfig::default()
    });
    let up = InterfaceState {
        running: true,
        point_to_point: false,
    };
    for i in [ETHER1, ETHER2, ETHER3] {
        rib.set_interface(i, up).unwrap();
    }
    rib.set_interface(
        PPP,
        InterfaceState {
            running: true,
            point_to_point: true,
        },
    )
    .unwrap();
    for (a, len, i) in [
        ("10.0.1.1", 24, ETHER1),
        ("2001:db8:1::1", 64, ETHER1),
        ("10.0.2.1", 24, ETHER2),
        ("2001:db8:2::1", 64, ETHER2),
        ("10.0.3.1", 24, ETHER3),
        ("10.0.4.1", 30, PPP),
    ] {
        rib.add_address(AddressSpec::new(ip(a), len, i)).unwrap();
    }
    let via = |dst: &str, gw: &str| RouteSpec::new(net(dst)).via(Gateway::Address(ip(gw)));
    rib.add_route(via("192.168.2.0/24", "10.0.2.2").via(Gateway::Address(ip("10.0.2.3"))))
        .unwrap();
    rib.add_route(via("172.16.0.0/16", "10.0.2.9")).unwrap();
    rib.add_route(via("198.51.100.0/24", "10.0.3.2")).unwrap();
    rib.add_route(RouteSpec::new(net("10.50.0.0/16")).via(Gateway::Interface(PPP)))
        .unwrap();
    rib.add_route(via("2001:db8:99::/48", "2001:db8:2::2"))
        .unwrap();
    for (dst, t) in [
        ("10.99.0.0/16", RouteType::Blackhole),
        ("10.98.0.0/16", RouteType::Prohibit),
        ("10.97.0.0/16", RouteType::Unreachable),
        ("2001:db8:98::/48", RouteType::Prohibit),
        ("2001:db8:97::/48", RouteType::Unreachable),
        ("2001:db8:96::/48", RouteType::Blackhole),
    ] {
        let mut spec = RouteSpec::new(net(dst));
        spec.route_type = t;
        rib.add_route(spec).unwrap();
    }
    let other = rib.add_table("other", true).unwrap();
    let mut spec = via("0.0.0.0/0", "10.0.3.2");
    spec.table = other;
    rib.add_route(spec).unwrap();
    let mut rule = RuleSpec::new(RuleAction::Lookup(other));
    rule.src = Some(net("10.0.1.128/25"));
    rib.add_rule(rule).unwrap();
    let mut rule = RuleSpec::new(RuleAction::Drop);
    rule.dst = Some(net("10.96.0.0/16"));
    rib.add_rule(rule).unwrap();
    let mut rule = RuleSpec::new(RuleAction::Unreachable);
    rule.dst = Some(net("10.95.0.0/16"));
    rib.add_rule(rule).unwrap();
    rib
}

/// The forwarder with the same four interfaces.
pub fn forwarder(config: Config) -> Forwarder {
    let mut f = Forwarder::new(config);
    let iface = |id, mac, mtu, a: Option<(&str, u8)>, b: Option<&str>| Interface {
        id,
        mac,
        mtu,
        v4: a.map(|(a, l)| (v4(a), l)),
        v6: b.map(v6),
        peer_mac: [0; 6],
    };
    f.set_interface(iface(
        ETHER1,
        MAC1,
        1500,
        Some(("10.0.1.1", 24)),
        Some("2001:db8:1::1"),
    ))
    .unwrap();
    f.set_interface(iface(
        ETHER2,
        MAC2,
        1500,
        Some(("10.0.2.1", 24)),
        Some("2001:db8:2::1"),
    ))
    .unwrap();
    f.set_interface(iface(ETHER3, MAC3, 576, Some(("10.0.3.1", 24)), None))
        .unwrap();
    let mut ppp = iface(PPP, MAC4, 1500, Some(("10.0.4.1", 30)), None);
    ppp.peer_mac = PPP_PEER;
    f.set_interface(ppp).unwrap();
    f
}

/// A neighbour table: known entries, and the resolution requests made.
#[derive(Default)]
pub struct Table {
    pub known: Vec<(IfId, IpAddr, Mac)>,
    pub requests: Vec<(IfId, IpAddr)>,
}

impl Table {
    /// The gateways and hosts the tests expect to be resolved (10.0.2.9 is not).
    pub fn usual() -> Self {
        let mut t = Table::default();
        for (i, a, m) in [
            (ETHER2, "10.0.2.2", GW2_MAC),
            (ETHER2, "10.0.2.3", GW3_MAC),
            (ETHER2, "10.0.2.7", HOST7_MAC),
            (ETHER3, "10.0.3.2", SMALL_GW_MAC),
            (ETHER2, "2001:db8:2::2", GW6_MAC),
            (ETHER1, "10.0.1.2", CLIENT_MAC),
        ] {
            t.known.push((i, ip(a), m));
        }
        t
    }
}

impl Neighbors for Table {
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac> {
        self.known
            .iter()
            .find(|(i, a, _)| *i == interface && *a == addr)
            .map(|e| e.2)
    }
    fn resolve(&mut self, interface: IfId, addr: IpAddr) {
        self.requests.push((interface, addr));
    }
}

#[derive(Default)]
pub struct Sent(pub Vec<(IfId, Vec<u8>)>);

impl Sink for Sent {
    fn send(&mut self, interface: IfId, frame: &[u8]) {
        self.0.push((interface, frame.to_vec()));
    }
}

impl Sent {
    pub fn take(&mut self) -> Vec<(IfId, Vec<u8>)> {
        std::mem::take(&mut self.0)
    }
}

/// Everything a test drives: the RIB, the forwarder, neighbours, what was sent, the time.
pub struct Bench {
    pub rib: Rib,
    pub fwd: Forwarder,
    pub nbrs: Table,
    pub sent: Sent,
    pub now: u64,
}

impl Bench {
    pub fn new() -> Self {
        Self::with(Config::default())
    }
    pub fn with(config: Config) -> Self {
        Bench {
            rib: rib(),
            fwd: forwarder(config),
            nbrs: Table::usual(),
            sent: Sent::default(),
            now: 1_000_000,
        }
    }
    /// `frame` arrives on `on`.
    pub fn rx(&mut self, on: IfId, frame: &[u8]) -> Outcome {
        let mut f = frame.to_vec();
        self.fwd.receive(
            self.now,
            on,
            &mut f,
            &self.rib,
            &mut self.nbrs,
            &mut self.sent,
        )
    }
}

/// A UDP datagram's IPv4 packet fields.
#[derive(Clone, Copy)]
pub struct Udp4 {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub sport: u16,
    pub dport: u16,
    pub payload: usize,
    pub dont_fragment: bool,
}

impl Udp4 {
    pub fn new(src: &str, dst: &str) -> Self {
        Udp4 {
            src: v4(src),
            dst: v4(dst),
            ttl: 64,
            sport: 40000,
            dport: 53,
            payload: 18,
            dont_fragment: true,
        }
    }
}

/// An Ethernet frame from the client to the box's ether1 carrying `p` (smoltcp builds it).
pub fn udp4_frame(p: Udp4) -> Vec<u8> {
    let data: Vec<u8> = (0..p.payload).map(|i| i as u8).collect();
    let udp = UdpRepr {
        src_port: p.sport,
        dst_port: p.dport,
    };
    let ip = Ipv4Repr {
        src_addr: p.src,
        dst_addr: p.dst,
        next_header: IpProtocol::Udp,
        payload_len: 8 + data.len(),
        hop_limit: p.ttl,
    };
    let mut bytes = vec![0u8; 14 + ip.buffer_len() + 8 + data.len()];
    let mut eth = EthernetFrame::new_unchecked(&mut bytes);
    eth.set_dst_addr(EthernetAddress(MAC1));
    eth.set_src_addr(EthernetAddress(CLIENT_MAC));
    eth.set_ethertype(EthernetProtocol::Ipv4);
    let caps = ChecksumCapabilities::default();
    let mut pkt = Ipv4Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut pkt, &caps);
    pkt.set_dont_frag(p.dont_fragment);
    pkt.fill_checksum();
    let mut u = UdpPacket::new_unchecked(pkt.payload_mut());
    udp.emit(
        &mut u,
        &IpAddress::Ipv4(p.src),
        &IpAddress::Ipv4(p.dst),
        data.len(),
        |b| b.copy_from_slice(&data),
        &caps,
    );
    bytes
}

/// An ICMPv4 message from the client: `repr` inside IPv4 from `src` to `dst`.
pub fn icmp4_frame(src: &str, dst: &str, ttl: u8, repr: Icmpv4Repr) -> Vec<u8> {
    let ip = Ipv4Repr {
        src_addr: v4(src),
        dst_addr: v4(dst),
        next_header: IpProtocol::Icmp,
        payload_len: repr.buffer_len(),
        hop_limit: ttl,
    };
    let mut bytes = vec![0u8; 14 + ip.buffer_len() + repr.buffer_len()];
    let mut eth = EthernetFrame::new_unchecked(&mut bytes);
    eth.set_dst_addr(EthernetAddress(MAC1));
    eth.set_src_addr(EthernetAddress(CLIENT_MAC));
    eth.set_ethertype(EthernetProtocol::Ipv4);
    let caps = ChecksumCapabilities::default();
    let mut pkt = Ipv4Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut pkt, &caps);
    repr.emit(&mut Icmpv4Packet::new_unchecked(pkt.payload_mut()), &caps);
    bytes
}

/// A UDP datagram over IPv6 from the client to ether1.
pub fn udp6_frame(src: &str, dst: &str, hop_limit: u8, payload: usize) -> Vec<u8> {
    let (s, d) = (v6(src), v6(dst));
    let data: Vec<u8> = (0..payload).map(|i| i as u8).collect();
    let ip = Ipv6Repr {
        src_addr: s,
        dst_addr: d,
        next_header: IpProtocol::Udp,
        payload_len: 8 + data.len(),
        hop_limit,
    };
    let mut bytes = vec![0u8; 14 + ip.buffer_len() + 8 + data.len()];
    let mut eth = EthernetFrame::new_unchecked(&mut bytes);
    eth.set_dst_addr(EthernetAddress(MAC1));
    eth.set_src_addr(EthernetAddress(CLIENT_MAC));
    eth.set_ethertype(EthernetProtocol::Ipv6);
    let mut pkt = Ipv6Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut pkt);
    let mut u = UdpPacket::new_unchecked(pkt.payload_mut());
    UdpRepr {
        src_port: 40000,
        dst_port: 53,
    }
    .emit(
        &mut u,
        &IpAddress::Ipv6(s),
        &IpAddress::Ipv6(d),
        data.len(),
        |b| b.copy_from_slice(&data),
        &ChecksumCapabilities::default(),
    );
    bytes
}

/// Checks an IPv4 frame with smoltcp (header checksum verified) and returns its header.
pub fn check_v4(frame: &[u8]) -> Ipv4Repr {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv4);
    let pkt = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert!(pkt.verify_checksum(), "IPv4 header checksum");
    Ipv4Repr::parse(&pkt, &ChecksumCapabilities::default()).unwrap()
}

/// The ICMPv4 error in `frame` (checksums verified by smoltcp): its IP header, type, code,
/// the four bytes after the checksum and the quoted bytes.
pub fn icmp4_error(frame: &[u8]) -> (Ipv4Repr, u8, u8, u32, Vec<u8>) {
    let ip = check_v4(frame);
    assert_eq!(ip.next_header, IpProtocol::Icmp);
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let pkt = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let icmp = Icmpv4Packet::new_checked(pkt.payload()).unwrap();
    assert!(icmp.verify_checksum(), "ICMP checksum");
    let b = pkt.payload();
    let rest = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    (ip, b[0], b[1], rest, b[8..].to_vec())
}

/// The ICMPv6 error in `frame` (checksum verified by smoltcp): its IP header, type, code,
/// the four bytes after the checksum and the quote.
pub fn icmp6_error(frame: &[u8]) -> (Ipv6Repr, u8, u8, u32, Vec<u8>) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv6);
    let pkt = Ipv6Packet::new_checked(eth.payload()).unwrap();
    let ip = Ipv6Repr::parse(&pkt).unwrap();
    assert_eq!(ip.next_header, IpProtocol::Icmpv6);
    let icmp = Icmpv6Packet::new_checked(pkt.payload()).unwrap();
    assert!(
        icmp.verify_checksum(&ip.src_addr, &ip.dst_addr),
        "ICMPv6 checksum"
    );
    let b = pkt.payload();
    let rest = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    (ip, b[0], b[1], rest, b[8..].to_vec())
}
