//! The forwarding path (`forward::Forwarder::receive`) per 64-byte packet, the scenario of the
//! host benchmark (`benches/forward/src/main.rs`): two interfaces, the table routes through one
//! of 64 resolved gateways on the uplink (`--ecmp` there: two each, picked by the path's flow
//! hash), UDP frames from a client to destinations drawn uniformly from the table's prefixes.
//!
//! Here the routing decision comes from the full-table FIBs through [`FibRoutes`], a small
//! adapter: the FIB's next-hop index `i` is gateway `i` (and `i + 64`, its ECMP twin). It
//! skips what `routing::Rib::decide_ecmp` does around its FIB lookup: the router's own
//! addresses (a binary search), IPv6 link-local destinations, the routing mark and the policy
//! rules, the choice of table, and the map from the FIB's next-hop id to the route's action
//! (ECMP set, blackhole, unreachable, prohibit). [`crate::rib`] measures the RIB itself.

use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt::Write;
use core::hint::black_box;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use forward::{Config, Forwarder, Interface, Mac, Neighbors, Outcome, RouteSource, Sink};
use routing::{Decision, EcmpChoice, EcmpMode, IfId, NextHop, Packet};

use crate::lookup::Fibs;
use crate::table::{Random, Tables};
use crate::{Clock, Uart};

pub const NEXT_HOPS: u16 = 64;
pub const CLIENT: IfId = IfId(1);
pub const UPLINK: IfId = IfId(2);
const MAC1: Mac = [2, 0x4d, 0x52, 0, 0, 1];
const MAC2: Mac = [2, 0x4d, 0x52, 0, 0, 2];
/// Distinct destinations (frames) per run.
pub const TEMPLATES: usize = 1 << 14;
/// Packets per run.
const PACKETS: usize = 1 << 16;

/// Gateway `i` of the uplink, in the family of `v6`.
pub fn gateway(v6: bool, i: u16) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1 + i))
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 0, (i >> 8) as u8, 1 + i as u8))
    }
}

/// The neighbour table: the gateways and their ECMP twins, all resolved.
struct Gateways;

impl Neighbors for Gateways {
    fn lookup(&mut self, interface: IfId, addr: IpAddr) -> Option<Mac> {
        if interface != UPLINK {
            return None;
        }
        let last = match addr {
            IpAddr::V4(a) => u16::from_be_bytes([a.octets()[2], a.octets()[3]]),
            IpAddr::V6(a) => a.segments()[7],
        };
        (1..=2 * NEXT_HOPS)
            .contains(&last)
            .then(|| [2, 0, 0, 0, ((last - 1) >> 8) as u8, (last - 1) as u8])
    }
    fn resolve(&mut self, _: IfId, _: IpAddr) {}
}

/// Routing decisions from the full-table FIBs (see the module's docs for what it leaves out).
pub struct FibRoutes<'a> {
    pub fibs: &'a Fibs,
    pub ecmp: bool,
    pub turn: Cell<u16>,
}

impl RouteSource for FibRoutes<'_> {
    fn decide(&self, packet: &Packet, choice: EcmpChoice) -> Decision {
        let (hop, v6) = match packet.dst {
            IpAddr::V4(a) => (self.fibs.v4.lookup(u32::from(a)), false),
            IpAddr::V6(a) => (self.fibs.v6.lookup(u128::from(a)), true),
        };
        let Some(hop) = hop.map(NextHop::get) else {
            return Decision::NetworkUnreachable;
        };
        let twin = match choice {
            _ if !self.ecmp => 0,
            EcmpChoice::Flow(hash) => (hash % 2) as u16,
            EcmpChoice::RoundRobin => {
                self.turn.set(self.turn.get() ^ 1);
                self.turn.get()
            }
        };
        Decision::Forward {
            next_hop: gateway(v6, hop + twin * NEXT_HOPS),
            interface: UPLINK,
        }
    }
}

/// Always the same next hop: what the path costs without a table.
struct Fixed(Decision);

impl RouteSource for Fixed {
    fn decide(&self, _: &Packet, _: EcmpChoice) -> Decision {
        self.0
    }
}

/// Counts what leaves.
#[derive(Default)]
struct Counter {
    frames: u64,
}

impl Sink for Counter {
    fn send(&mut self, _: IfId, frame: &[u8]) {
        self.frames += 1;
        black_box(frame);
    }
}

/// A 60-byte (IPv4) or 80-byte (IPv6) frame from the client to `dst`, UDP with 18 data bytes;
/// the frame and its length.
pub fn frame(dst: IpAddr, sport: u16) -> ([u8; 80], usize) {
    let mut f = [0u8; 80];
    f[..6].copy_from_slice(&MAC1);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 1, 2]);
    let udp_len = 8 + 18u16;
    let ip_len = match dst {
        IpAddr::V4(d) => {
            f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
            let ip = &mut f[14..34];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&(20 + udp_len).to_be_bytes());
            ip[6] = 0x40;
            ip[8] = 64;
            ip[9] = 17;
            ip[12..16].copy_from_slice(&[192, 0, 2, 2]);
            ip[16..20].copy_from_slice(&d.octets());
            let c = forward::checksum::of(ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            20
        }
        IpAddr::V6(d) => {
            f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
            let ip = &mut f[14..54];
            ip[0] = 0x60;
            ip[4..6].copy_from_slice(&udp_len.to_be_bytes());
            ip[6] = 17;
            ip[7] = 64;
            ip[8..24].copy_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0xc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            ip[24..40].copy_from_slice(&d.octets());
            40
        }
    };
    let u = 14 + ip_len;
    f[u..u + 2].copy_from_slice(&sport.to_be_bytes());
    f[u + 2..u + 4].copy_from_slice(&53u16.to_be_bytes());
    f[u + 4..u + 6].copy_from_slice(&udp_len.to_be_bytes());
    (f, u + usize::from(udp_len))
}

/// Frames to destinations drawn uniformly from `tables` (the first `v4`/`v6` entries of
/// each), kept when `routes` forwards them to the uplink.
pub fn templates<R: RouteSource>(
    routes: &R,
    tables: &Tables,
    counts: (usize, usize),
    v6: bool,
    rng: &mut Random,
) -> Vec<([u8; 80], usize)> {
    let mut out = Vec::with_capacity(TEMPLATES);
    while out.len() < TEMPLATES {
        let dst: IpAddr = if v6 {
            Ipv6Addr::from(rng.v6_in(&tables.v6[..counts.1])).into()
        } else {
            Ipv4Addr::from(rng.v4_in(&tables.v4[..counts.0])).into()
        };
        // A table may hold a default route: leave out what is not a unicast destination.
        let martian = match dst {
            IpAddr::V4(a) => matches!(a.octets()[0], 0 | 127 | 224..=255),
            IpAddr::V6(a) => a.is_multicast() || a.is_loopback() || a.is_unspecified(),
        };
        let packet = Packet {
            src: dst,
            dst,
            in_interface: Some(CLIENT),
            routing_mark: None,
        };
        if !martian
            && matches!(
                routes.decide(&packet, EcmpChoice::Flow(0)),
                Decision::Forward { interface, .. } if interface == UPLINK
            )
        {
            out.push(frame(dst, rng.next() as u16));
        }
    }
    out
}

/// A forwarder with the client and uplink interfaces (ECMP by flow hash, as configured by
/// default).
pub fn forwarder() -> Forwarder {
    let mut fwd = Forwarder::new(Config {
        ecmp: EcmpMode::PerFlowHash,
        ..Config::default()
    });
    for (id, mac, v4, v6) in [
        (
            CLIENT,
            MAC1,
            [192, 0, 2, 1],
            0x2001_0db8_000c_u128 << 80 | 1,
        ),
        (UPLINK, MAC2, [10, 0, 0, 254], 0xfd00_u128 << 112 | 0xfe),
    ] {
        let interface = Interface {
            id,
            mac,
            mtu: 1500,
            v4: Some((Ipv4Addr::from(v4), 24)),
            v6: Some(Ipv6Addr::from(v6)),
            peer_mac: [0; 6],
        };
        if fwd.set_interface(interface).is_err() {
            panic!("interface {id:?} refused");
        }
    }
    fwd
}

/// Instructions per packet through `Forwarder::receive` with `routes`, with a fixed decision,
/// the decision alone and the copy of the frame alone; prints one line.
pub fn measure<R: RouteSource>(
    routes: &R,
    templates: &[([u8; 80], usize)],
    label: (&str, &str, &str),
    clock: &mut Clock,
) {
    let mut fwd = forwarder();
    let mut buf = [0u8; 128];
    let (mut out, mut nbrs) = (Counter::default(), Gateways);
    let n = templates.len();
    let t0 = clock.now();
    for i in 0..PACKETS {
        let (t, len) = &templates[i % n];
        buf[..*len].copy_from_slice(&t[..*len]);
        black_box(&mut buf);
    }
    let copy = clock.per(t0, PACKETS);
    let t0 = clock.now();
    for i in 0..PACKETS {
        let t = &templates[i % n].0;
        let dst = if label.0 == "ipv6" {
            let mut a = [0u8; 16];
            a.copy_from_slice(&t[38..54]);
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            IpAddr::V4(Ipv4Addr::new(t[30], t[31], t[32], t[33]))
        };
        let p = Packet {
            src: dst,
            dst,
            in_interface: Some(CLIENT),
            routing_mark: None,
        };
        black_box(routes.decide(black_box(&p), EcmpChoice::Flow(i as u32)));
    }
    let decide = clock.per(t0, PACKETS);
    let mut not_forwarded = 0u32;
    let t0 = clock.now();
    for i in 0..PACKETS {
        let (t, len) = &templates[i % n];
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        let r = fwd.receive(0, CLIENT, f, routes, &mut nbrs, &mut out);
        if !matches!(r, Outcome::Forwarded { .. }) {
            not_forwarded += 1;
        }
    }
    let whole = clock.per(t0, PACKETS);
    let v6 = label.0 == "ipv6";
    let fixed = Fixed(Decision::Forward {
        next_hop: gateway(v6, 0),
        interface: UPLINK,
    });
    let t0 = clock.now();
    for i in 0..PACKETS {
        let (t, len) = &templates[i % n];
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        black_box(fwd.receive(0, CLIENT, f, &fixed, &mut nbrs, &mut out));
    }
    let own = clock.per(t0, PACKETS);
    let _ = writeln!(
        Uart,
        "forward afi={} routes={} mode={} frame_bytes={} packets={PACKETS} instructions={whole:.0} \
         decide={decide:.0} fixed_decision={own:.0} copy={copy:.0} not_forwarded={not_forwarded} sent={}",
        label.0,
        label.1,
        label.2,
        templates[0].1,
        out.frames
    );
}

/// The path with the full-table FIBs, IPv4 and IPv6, one gateway and ECMP.
pub fn run(tables: &Tables, fibs: &Fibs, clock: &mut Clock) {
    let mut rng = Random(0x2545_f491_4f6c_dd1d);
    let counts = (tables.v4.len(), tables.v6.len());
    for (afi, v6) in [("ipv4", false), ("ipv6", true)] {
        for (mode, ecmp) in [("single", false), ("ecmp-flow", true)] {
            let routes = FibRoutes {
                fibs,
                ecmp,
                turn: Cell::new(0),
            };
            let t = templates(&routes, tables, counts, v6, &mut rng);
            measure(&routes, &t, (afi, "fib", mode), clock);
        }
    }
}

/// `packets` IPv4 packets to random unicast destinations through the path with a fixed
/// decision, nothing else (for a trace of where the path's own instructions go).
pub fn trace(packets: usize) {
    let mut rng = Random(0x2545_f491_4f6c_dd1d);
    let templates: Vec<_> = (0..256)
        .map(|_| {
            let dst = Ipv4Addr::from(rng.next() as u32 % 0x6000_0000 + 0x0100_0000);
            frame(dst.into(), rng.next() as u16)
        })
        .collect();
    let fixed = Fixed(Decision::Forward {
        next_hop: gateway(false, 0),
        interface: UPLINK,
    });
    let mut fwd = forwarder();
    let (mut out, mut nbrs, mut buf) = (Counter::default(), Gateways, [0u8; 128]);
    for i in 0..packets {
        let (t, len) = &templates[i % templates.len()];
        let f = &mut buf[..*len];
        f.copy_from_slice(&t[..*len]);
        black_box(fwd.receive(0, CLIENT, f, &fixed, &mut nbrs, &mut out));
    }
    let _ = writeln!(Uart, "trace packets={packets} sent={}", out.frames);
}
